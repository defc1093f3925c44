"""The trust boundary: start a grading worker that sees only what it must.

Policy (what the learner's code may see and do) — enforced here and nowhere else:

* **files**: a new root (tmpfs) holding read-only binds of the system libraries (/usr, /lib*, /bin), the Python
  installation and the virtualenv, and nothing else — no course, no ``.git``, no ``grading/``, no solutions,
  no ``/root``, no host ``/tmp``, no other job's scratch dir, and no nnlib source (nnlib's package dir is
  covered if it lies inside a mounted path).  ``/tmp`` (= ``$HOME``) is a small private tmpfs; ``/dev``
  holds null, zero, full, random, urandom;
* **processes**: its own PID namespace (it sees and signals only its own processes; when it exits all of
  them die), ``PR_SET_PDEATHSIG`` so it dies with the grader, a pids cgroup and a memory cgroup (v2, or v1 where
  that is what the host mounts) for the whole job, and rlimits (address space, CPU, file size, open files, no
  core dumps);
* **network**: its own network namespace (no interface but a down loopback): it talks to the grader only
  through the Unix socket on fd 3;
* **identity**: an unprivileged uid/gid of its own (no capabilities, ``no_new_privs``);
* **interpreter**: ``python -I -S`` (no environment variables, no site hooks, nothing from the working
  directory on ``sys.path``); the real nnlib is never imported (see ``worker.py``).

Without root (or where namespaces are refused) the worker still runs with the rlimits, ``-I -S`` and the nnlib
shim, but it can read whatever the grader's user can read and open network connections: ``isolation()``
lists exactly what is missing, and ``doctor`` shows it.  Use the container mode (docs/instructor.md) there.

This module is loaded by path inside the worker (``enter``) and imported by the grader (``spawn``); it imports
nothing from nnlib.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x20000000, \
    0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 32, 4096, 16384, \
    1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
UID_BASE = 61000  # job k runs as uid/gid UID_BASE + k (no entry in /etc/passwd needed)
CGROUP_NAME = "nnlib-grading"
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")

_libc = None
STOP = threading.Event()  # set on SIGINT: no new workers start; kill_all() ends the running ones
LIVE: set = set()
_LIVE_LOCK = threading.Lock()


def kill_all() -> None:
    with _LIVE_LOCK:
        workers = list(LIVE)
    for w in workers:
        w.kill()


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src, target, fstype, flags, data=None) -> None:
    def enc(s):
        return None if s is None else os.fsencode(s)

    _check(_lib().mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _prctl(option: int, arg: int) -> None:
    _check(_lib().prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


# ---------------------------------------------------------------- inside the worker (as root, before any learner code)


def _bind_ro(src: str, root: str) -> None:
    if not os.path.exists(src):
        return
    dst = root + src
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    _mount(src, dst, None, MS_BIND | MS_REC)
    _mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def enter(cfg: dict) -> None:
    """Isolate the current process (see the module doc).  Raises if any step fails: no half sandbox."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _check(_lib().unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    alive_r, alive_w = os.pipe()  # the child sees EOF on alive_r once this process is gone
    pid = os.fork()  # the child is PID 1 of the new PID namespace; this process only waits for it
    if pid:
        os.close(alive_r)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = cfg["root"]  # an empty directory made by the grader for this job
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    uid = int(cfg["uid"])
    # the private /tmp first: a virtualenv or Python that lives under the host's /tmp is bound on top of it
    os.makedirs(root + "/tmp", exist_ok=True)
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={cfg['tmp_mb']}m,mode=0700,uid={uid},gid={uid}")
    for path in cfg["binds"]:
        _bind_ro(path, root)
    for link in cfg.get("links", []):  # /lib -> usr/lib on merged-/usr systems
        if not os.path.lexists(root + link):
            os.symlink(os.readlink(link), root + link)
    for hide in cfg.get("hide", []):  # e.g. nnlib's own package dir when it sits inside site-packages
        if os.path.isdir(root + hide):
            _mount("tmpfs", root + hide, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
    os.makedirs(root + "/dev", exist_ok=True)
    _mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=16k,mode=0755")
    for name, major, minor in (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9)):
        os.mknod(f"{root}/dev/{name}", 0o666 | 0o020000, os.makedev(major, minor))
        os.chmod(f"{root}/dev/{name}", 0o666)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    for d in ("etc", "run", "var"):
        os.makedirs(f"{root}/{d}", exist_ok=True)
    _mount(None, root, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir("/tmp")
    _limits(cfg)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # the kernel clears the parent-death signal when the uid changes: set it again, then check that the parent
    # (which dies with the grader) did not go in between
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.close(alive_w)
    if select.select([alive_r], [], [], 0)[0]:
        os._exit(1)
    os.close(alive_r)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.environ.clear()
    os.environ.update(HOME="/tmp", TMPDIR="/tmp", MPLBACKEND="Agg", MPLCONFIGDIR="/tmp/.mpl", OMP_NUM_THREADS="1",
                      OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", LANG="C.UTF-8", PATH="/usr/bin:/bin")


def _limits(cfg: dict) -> None:
    import resource

    mem = int(cfg["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (int(cfg["cpu_s"]), int(cfg["cpu_s"]) + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(cfg["fsize_mb"]) * 2**20,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of killing


# ---------------------------------------------------------------- in the grader


def namespaces_available() -> tuple[bool, str]:
    """Can this process build the sandbox? (Linux, root, unshare + mount allowed)."""
    if not sys.platform.startswith("linux"):
        return False, "not Linux: no namespaces"
    if os.geteuid() != 0:
        return False, "not root: the sandbox needs root (or use the container mode)"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            _check(_lib().unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS),
                   "unshare")
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return True, "mount, PID, network, IPC and UTS namespaces available"
    return False, "unshare/mount refused (seccomp or missing CAP_SYS_ADMIN): use the container mode"


def cgroup_mode() -> str | None:
    """'v2' where /sys/fs/cgroup is cgroup2 with memory and pids, 'v1' where both v1 hierarchies exist."""
    try:
        ctrl = open("/sys/fs/cgroup/cgroup.controllers").read().split()
        if "memory" in ctrl and "pids" in ctrl:
            return "v2"
    except OSError:
        pass
    if os.path.isdir("/sys/fs/cgroup/memory") and os.path.isdir("/sys/fs/cgroup/pids"):
        return "v1"
    return None


class Cgroup:
    """A memory + pids cgroup for one job (v2 or v1); ``None`` paths where the host offers none."""

    def __init__(self, name: str, memory_mb: int, max_pids: int):
        self.paths: list[str] = []
        self.mode = cgroup_mode() if os.geteuid() == 0 else None
        try:
            if self.mode == "v2":
                base = f"/sys/fs/cgroup/{CGROUP_NAME}"
                os.makedirs(base, exist_ok=True)
                with contextlib.suppress(OSError), open(f"{base}/cgroup.subtree_control", "w") as fh:
                    fh.write("+memory +pids")
                p = f"{base}/{name}"
                os.makedirs(p, exist_ok=True)
                self._write(f"{p}/memory.max", memory_mb * 2**20)
                with contextlib.suppress(OSError):
                    self._write(f"{p}/memory.swap.max", 0)
                self._write(f"{p}/pids.max", max_pids)
                self.paths = [p]
            elif self.mode == "v1":
                m = f"/sys/fs/cgroup/memory/{CGROUP_NAME}/{name}"
                os.makedirs(m, exist_ok=True)
                self._write(f"{m}/memory.limit_in_bytes", memory_mb * 2**20)
                with contextlib.suppress(OSError):
                    self._write(f"{m}/memory.memsw.limit_in_bytes", memory_mb * 2**20)
                p = f"/sys/fs/cgroup/pids/{CGROUP_NAME}/{name}"
                os.makedirs(p, exist_ok=True)
                self._write(f"{p}/pids.max", max_pids)
                self.paths = [m, p]
        except OSError:
            self.destroy()
            self.paths, self.mode = [], None

    @staticmethod
    def _write(path: str, value) -> None:
        with open(path, "w") as fh:
            fh.write(str(value))

    def add(self, pid: int) -> None:
        for p in self.paths:
            self._write(f"{p}/cgroup.procs", pid)

    def pids(self) -> list[int]:
        out = []
        for p in self.paths:
            with contextlib.suppress(OSError), open(f"{p}/cgroup.procs") as fh:
                out += [int(x) for x in fh.read().split()]
        return out

    def peak_mb(self) -> float | None:
        """The job's peak memory (cgroup v2 memory.peak or v1 memory.max_usage_in_bytes), MiB."""
        for p in self.paths:
            for f in ("memory.peak", "memory.max_usage_in_bytes"):
                with contextlib.suppress(OSError, ValueError), open(f"{p}/{f}") as fh:
                    return int(fh.read().split()[0]) / 2**20
        return None

    def destroy(self) -> None:
        for _ in range(100):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        for p in self.paths:
            for _ in range(50):
                try:
                    os.rmdir(p)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def remove_stale_cgroups() -> None:
    """At start: kill and remove the cgroups a killed grader left behind (their jobs are orphans)."""
    for base in (f"/sys/fs/cgroup/{CGROUP_NAME}", f"/sys/fs/cgroup/memory/{CGROUP_NAME}",
                 f"/sys/fs/cgroup/pids/{CGROUP_NAME}"):
        with contextlib.suppress(OSError):
            for name in os.listdir(base):
                owner, _, job = name.partition("-")
                if not (owner.isdigit() and job.isdigit() and os.path.isdir(f"{base}/{name}")):
                    continue  # a control file of the cgroup itself
                if os.path.exists(f"/proc/{owner}"):
                    continue  # another live grader's job
                c = Cgroup.__new__(Cgroup)
                c.paths, c.mode = [f"{base}/{name}"], "stale"
                c.destroy()


def default_links() -> list[str]:
    return [p for p in ("/lib", "/lib64", "/lib32", "/bin", "/sbin") if os.path.islink(p)]


def default_binds() -> list[str]:
    """Read-only paths the worker needs: system libraries, the Python installation, the virtualenv's libraries."""
    paths = [p for p in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin") if os.path.exists(p)
             and not os.path.islink(p)]
    for prefix in {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}:
        if not any(prefix == p or prefix.startswith(p + "/") for p in paths):
            paths.append(prefix)
    return sorted(set(paths))


def library_dirs() -> list[str]:
    """Installed packages that would do an exercise for the learner (automatic differentiation, networks trained
    by a library): hidden in the worker's root, so popping the import guard off sys.meta_path finds nothing."""
    import importlib.util

    from nnlib_grader import worker

    out = []
    for name in worker.AUTODIFF + worker.LEARNING:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for loc in (spec.submodule_search_locations or []) if spec else []:
            if os.path.isdir(loc):
                out.append(os.path.realpath(loc))
    return sorted(set(out))


def grading_dir() -> str:
    """nnlib's ``grading`` folder: the worker loads what an exercise provides from it (``provided*.py``,
    ``fixtures.py``) by path, before it closes the sandbox."""
    import nnlib.grading

    return os.path.dirname(os.path.abspath(nnlib.grading.__file__))


def worker_sys_path(nnlib_parent: str) -> list[str]:
    """The worker's sys.path: the stdlib and site-packages, never the directory that holds nnlib's source."""
    import site
    import sysconfig

    out = [sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib"),
           os.path.join(sysconfig.get_path("stdlib"), "lib-dynload"), *site.getsitepackages()]
    seen, res = set(), []
    for p in out:
        if p and p not in seen and os.path.isdir(p) and os.path.realpath(p) != os.path.realpath(nnlib_parent):
            seen.add(p)
            res.append(p)
    return res


class Worker:
    """A running sandboxed worker: ``request(obj)`` sends one message and returns the reply."""

    def __init__(self, proc: subprocess.Popen, sock: socket.socket, cgroup: Cgroup | None, root: str | None,
                 isolation: list[str]):
        self.proc, self.sock, self.cgroup, self.root, self.isolation = proc, sock, cgroup, root, isolation
        self.peak: float | None = None
        self.container_name: str | None = None

    def request(self, obj: dict, timeout: float) -> dict:
        from nnlib_grader import protocol as P

        self.sock.settimeout(timeout)
        P.send(self.sock, obj)
        return P.recv(self.sock)

    def kill(self) -> None:
        with _LIVE_LOCK:
            LIVE.discard(self)
        if self.container_name:
            from nnlib_grader import container

            name, self.container_name = self.container_name, None
            container.kill(name)
        if self.cgroup and self.peak is None:
            self.peak = self.cgroup.peak_mb()
        with contextlib.suppress(Exception):
            self.sock.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        if self.cgroup:
            self.cgroup.destroy()
        if self.root:
            with contextlib.suppress(OSError):
                os.rmdir(self.root)


def spawn(policy: dict, *, sandbox: bool, scratch: str, job: int, memory_mb: int = 2048, cpu_s: int = 600,
          fsize_mb: int = 64, tmp_mb: int = 64, max_pids: int = 64, timeout: float = 60,
          container: bool = False) -> Worker:
    """Start a worker for one submission (``scratch``: a private dir of the grader, 0700).

    ``container``: run it in a podman container instead (see grader/nnlib_grader/container.py).
    """
    import nnlib  # the grader's own nnlib: only to find (and hide) its source

    if STOP.is_set():
        raise RuntimeError("grading was interrupted")
    if container:
        return _spawn_container(policy, scratch=scratch, job=job, memory_mb=memory_mb, cpu_s=cpu_s,
                                fsize_mb=fsize_mb, tmp_mb=tmp_mb, max_pids=max_pids, timeout=timeout)
    nnlib_dir = os.path.dirname(os.path.abspath(nnlib.__file__))
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    root = None
    isolation = []
    cfg = {"sys_path": worker_sys_path(os.path.dirname(nnlib_dir)), "policy": policy, "sandbox": bool(sandbox),
           "grading_dir": grading_dir(), "memory_mb": memory_mb, "cpu_s": cpu_s, "fsize_mb": fsize_mb,
           "tmp_mb": tmp_mb}
    if sandbox:
        root = os.path.join(scratch, f"root-{job}")
        os.makedirs(root, mode=0o700)
        cfg.update(root=root, binds=default_binds(), links=default_links(), hide=[nnlib_dir, os.path.dirname(WORKER), *library_dirs()],
                   uid=UID_BASE + job % 4000)
    else:
        isolation = ["no namespaces: the learner's code can read what the grader's user can read and use the network",
                     "same uid as the grader"]
    cgroup = Cgroup(f"{os.getpid()}-{job}", memory_mb, max_pids) if sandbox else None
    if sandbox and not (cgroup and cgroup.paths):
        isolation.append("no memory/pids cgroup on this host: only rlimits bound memory and processes")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if not sandbox:
        env.update(HOME=scratch, TMPDIR=scratch, MPLCONFIGDIR=os.path.join(scratch, ".mpl"))

    log = open(os.path.join(scratch, f"worker-{job}.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-I", "-S", WORKER, str(child.fileno())], pass_fds=(child.fileno(),),
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=scratch, env=env,
                            start_new_session=True)
    log.close()
    child.close()
    w = Worker(proc, parent, cgroup, root, isolation)
    with _LIVE_LOCK:
        LIVE.add(w)
    try:
        if cgroup and cgroup.paths:
            cgroup.add(proc.pid)
        hello = w.request(cfg, timeout)
        if not hello.get("ready"):
            raise RuntimeError(f"worker did not start: {hello}")
    except Exception as exc:
        err = b""
        w.kill()
        with contextlib.suppress(OSError):
            err = open(os.path.join(scratch, f"worker-{job}.log"), "rb").read()[-2000:]
        raise RuntimeError(f"the grading worker failed to start: {exc}\n{err.decode(errors='replace')}") from None
    return w




def _spawn_container(policy: dict, *, scratch: str, job: int, memory_mb: int, cpu_s: int, fsize_mb: int,
                     tmp_mb: int, max_pids: int, timeout: float) -> Worker:
    """The worker in a podman container from an empty root (container.py): the protocol on its stdin/stdout."""
    import nnlib
    from nnlib_grader import container
    from nnlib_grader import protocol as P

    nnlib_dir = os.path.dirname(os.path.abspath(nnlib.__file__))
    root = os.path.join(scratch, f"croot-{job}")
    container._make_root(root)
    os.chmod(scratch, 0o711)  # podman (as root) reaches the root dir through it; nothing else lives there
    name = f"{container.NAME_PREFIX}{os.getpid()}-{job}-{os.urandom(3).hex()}"
    cfg = {"sys_path": worker_sys_path(os.path.dirname(nnlib_dir)), "policy": policy, "sandbox": False,
           "grading_dir": grading_dir(), "memory_mb": memory_mb, "cpu_s": cpu_s, "fsize_mb": fsize_mb,
           "tmp_mb": tmp_mb}
    cmd = container.command(cfg, root=root, name=name, uid=UID_BASE + job % 4000, memory_mb=memory_mb,
                            max_pids=max_pids, tmp_mb=tmp_mb)
    for d in library_dirs():  # the same libraries the native sandbox hides
        cmd[cmd.index("--rootfs"):cmd.index("--rootfs")] = ["--tmpfs", f"{d}:ro,size=4k,notmpcopyup"]
    log = open(os.path.join(scratch, f"worker-{job}.log"), "wb")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=scratch,
                            start_new_session=True)
    log.close()
    chan = P.Pipe(os.dup(proc.stdout.fileno()), os.dup(proc.stdin.fileno()))
    proc.stdout.close()
    proc.stdin.close()
    w = Worker(proc, chan, None, None, ["container mode (podman): no network, read-only root, its own uid, "
                                         "memory and pids limits by the container runtime"])
    w.container_name = name
    with _LIVE_LOCK:
        LIVE.add(w)
    try:
        hello = w.request(cfg, max(timeout, 120))
        if not hello.get("ready"):
            raise RuntimeError(f"worker did not start: {hello}")
    except Exception as exc:
        w.kill()
        err = b""
        with contextlib.suppress(OSError):
            err = open(os.path.join(scratch, f"worker-{job}.log"), "rb").read()[-2000:]
        raise RuntimeError(f"the grading container failed to start: {exc}\n{err.decode(errors='replace')}") from None
    return w
