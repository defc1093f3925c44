"""The isolation policy of a grading worker, as data: what it sees, its limits, the system calls it may not make.

One policy, two launchers that apply it (``sandbox.py``: namespaces built by ``confine.py`` as root;
``container.py``: podman, for hosts without root).  Nothing here runs inside the worker: the worker receives the
result (paths, numbers, the compiled filter) in its start-up message.

* **files**: a new root holding read-only binds of the system libraries, the Python installation and the
  virtualenv (``binds``/``links``), with nnlib's source, the grader and the libraries that would do an exercise
  for the learner covered by empty read-only tmpfs (``hidden``); a private ``/tmp`` (= ``$HOME``) of ``tmp_mb``;
  ``/dev`` with only ``DEV_NODES``;
* **limits**: ``LIMITS`` (memory, CPU, file size, processes, open files; no core dumps);
* **identity**: uid/gid ``UID_BASE + job``, no capabilities, ``no_new_privs``;
* **network**: none (an empty network namespace / ``--network none``);
* **system calls**: ``DENIED`` answer EPERM, ``clone`` with any ``CLONE_NS_FLAGS`` bit answers EPERM and
  ``clone3`` answers ENOSYS (its flags live in memory a filter cannot read; the C library then falls back to
  ``clone``, which is checked) — compiled by ``seccomp.py`` for both launchers.
"""

from __future__ import annotations

import importlib.util
import os
import site
import sys
import sysconfig

UID_BASE = 61000  # job k runs as uid/gid UID_BASE + k (no entry in /etc/passwd needed)
LIMITS = {"memory_mb": 2048, "cpu_s": 600, "fsize_mb": 64, "tmp_mb": 64, "max_pids": 64, "nofile": 64}
DEV_NODES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9))
ENV = {"HOME": "/tmp", "TMPDIR": "/tmp", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.mpl", "OMP_NUM_THREADS": "1",
       "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}

# System calls the worker never makes.  Grouped by what they would give the learner's code.
DENIED = (
    # new namespaces, mounts and roots: the precondition of most kernel-exploit escapes
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick",
    # other processes' memory and the kernel's attack surface most often exploited
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp", "pidfd_getfd", "bpf",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "io_pgetevents",
    "vmsplice", "migrate_pages", "move_pages",
    # keyrings
    "keyctl", "add_key", "request_key",
    # the kernel itself, modules, the machine
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
    "acct", "quotactl", "quotactl_fd", "syslog", "vhangup", "settimeofday", "clock_settime", "clock_adjtime",
    "adjtimex", "sethostname", "setdomainname", "personality", "lookup_dcookie", "fanotify_init",
    "open_by_handle_at", "name_to_handle_at", "nfsservctl", "sysfs", "ustat",
    # x86 only: raw I/O ports, descriptor tables, obsolete calls
    "iopl", "ioperm", "modify_ldt", "uselib", "create_module", "get_kernel_syms", "query_module", "_sysctl",
)
CLONE_NS_FLAGS = {"CLONE_NEWNS": 0x20000, "CLONE_NEWCGROUP": 0x2000000, "CLONE_NEWUTS": 0x4000000,
                  "CLONE_NEWIPC": 0x8000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
                  "CLONE_NEWNET": 0x40000000}  # (CLONE_NEWTIME only through unshare/clone3: refused whole)
ENOSYS_CALLS = ("clone3",)

GRADER_DIR = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(GRADER_DIR, "worker.py")


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
    from nnlib_grader.worker import AUTODIFF, LEARNING  # the worker's import guard refuses the same names

    out = []
    for name in AUTODIFF + LEARNING:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for loc in (spec.submodule_search_locations or []) if spec else []:
            if os.path.isdir(loc):
                out.append(os.path.realpath(loc))
    return sorted(set(out))


def nnlib_dir() -> str:
    """The grader's own nnlib package (never imported by the worker; hidden from it)."""
    return os.path.dirname(os.path.abspath(importlib.util.find_spec("nnlib").origin))


def grading_dir() -> str:
    """nnlib's ``grading`` folder: the worker loads what an exercise provides from it (``provided*.py``,
    ``fixtures.py``) by path, before it closes the sandbox."""
    return os.path.join(nnlib_dir(), "grading")


def hidden() -> list[str]:
    """Directories covered in the worker's root: nnlib's source, the grader, libraries that do exercises."""
    return [nnlib_dir(), GRADER_DIR, *library_dirs()]


def worker_sys_path() -> list[str]:
    """The worker's sys.path: the stdlib and site-packages, never the directory that holds nnlib's source."""
    parent = os.path.dirname(nnlib_dir())
    out = [sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib"),
           os.path.join(sysconfig.get_path("stdlib"), "lib-dynload"), *site.getsitepackages()]
    seen, res = set(), []
    for p in out:
        if p and p not in seen and os.path.isdir(p) and os.path.realpath(p) != os.path.realpath(parent):
            seen.add(p)
            res.append(p)
    return res
