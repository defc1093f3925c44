"""Inside the worker, before the learner's first line: confine this process as the start-up message says.

The one file of the boundary that runs in the worker; standard library only, loaded by path by ``worker.py``
(never imports nnlib or the grader).  Everything it applies was decided by the grader (``isolation.py``) and arrives
in ``cfg``:

* :func:`enter` (native mode, as root): mount, PID, network, IPC and UTS namespaces; a new root of read-only binds
  with a private ``/tmp`` and a minimal ``/dev``; chroot; rlimits; an unprivileged uid/gid; ``no_new_privs``;
* :func:`limits`: the rlimits alone (container and unsandboxed modes; podman sets the rest);
* :func:`install_filter` (every mode): the seccomp program compiled by ``seccomp.py``, on every thread.

Any failed step raises: no half sandbox.
"""

from __future__ import annotations

import ctypes
import os
import resource
import select
import signal

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x20000000, \
    0x40000000
NAMESPACES = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 32, 4096, 16384, \
    1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC = 1, 1
SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}

_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src, target, fstype, flags, data=None) -> None:
    def enc(s):
        return None if s is None else os.fsencode(s)

    _check(_lib().mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def unshare(flags: int) -> None:
    _check(_lib().unshare(flags), "unshare")


def prctl(option: int, arg: int) -> None:
    _check(_lib().prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def _bind_ro(src: str, root: str) -> None:
    if not os.path.exists(src):
        return
    dst = root + src
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    mount(src, dst, None, MS_BIND | MS_REC)
    mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _new_root(cfg: dict) -> None:
    root, uid = cfg["root"], int(cfg["uid"])  # root: an empty directory made by the grader for this job
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    # the private /tmp first: a virtualenv or Python that lives under the host's /tmp is bound on top of it
    os.makedirs(root + "/tmp", exist_ok=True)
    mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={cfg['tmp_mb']}m,mode=0700,uid={uid},gid={uid}")
    for path in cfg["binds"]:
        _bind_ro(path, root)
    for link in cfg["links"]:  # /lib -> usr/lib on merged-/usr systems
        if not os.path.lexists(root + link):
            os.symlink(os.readlink(link), root + link)
    for hide in cfg["hide"]:  # nnlib's and the grader's dirs when they sit inside a bound path
        if os.path.isdir(root + hide):
            mount("tmpfs", root + hide, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
    os.makedirs(root + "/dev", exist_ok=True)
    mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=16k,mode=0755")
    for name, major, minor in cfg["dev_nodes"]:
        os.mknod(f"{root}/dev/{name}", 0o666 | 0o020000, os.makedev(major, minor))
        os.chmod(f"{root}/dev/{name}", 0o666)
    os.makedirs(root + "/proc", exist_ok=True)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    for d in ("etc", "run", "var"):
        os.makedirs(f"{root}/{d}", exist_ok=True)
    mount(None, root, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir("/tmp")


def enter(cfg: dict) -> None:
    """Isolate the current process (native mode, as root; see the module doc)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    unshare(NAMESPACES)
    alive_r, alive_w = os.pipe()  # the child sees EOF on alive_r once this process is gone
    pid = os.fork()  # the child is PID 1 of the new PID namespace; this process only waits for it
    if pid:
        os.close(alive_r)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _new_root(cfg)
    limits(cfg)
    uid = int(cfg["uid"])
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # the kernel clears the parent-death signal when the uid changes: set it again, then check that the parent
    # (which dies with the grader) did not go in between
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.close(alive_w)
    if select.select([alive_r], [], [], 0)[0]:
        os._exit(1)
    os.close(alive_r)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.environ.clear()
    os.environ.update(cfg["env"])


def limits(cfg: dict) -> None:
    mem = int(cfg["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (int(cfg["cpu_s"]), int(cfg["cpu_s"]) + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(cfg["fsize_mb"]) * 2**20,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(cfg["nofile"]),) * 2)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of killing


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_filter(program_hex: str) -> None:
    """Install the seccomp program (packed ``struct sock_filter`` entries, hex) on every thread of this process;
    it holds for every child too and cannot be removed."""
    code = bytes.fromhex(program_hex)
    if not code or len(code) % 8:
        raise ValueError(f"a seccomp program is a non-empty multiple of 8 bytes, not {len(code)}")
    buf = ctypes.create_string_buffer(code, len(code))
    prog = _Fprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    nr = SYS_SECCOMP[os.uname().machine]
    _check(_lib().syscall(ctypes.c_long(nr), ctypes.c_ulong(SECCOMP_SET_MODE_FILTER),
                          ctypes.c_ulong(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog)), "seccomp")
