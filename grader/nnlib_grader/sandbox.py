"""The native launcher: start a grading worker as root in namespaces built by ``confine.py``.

The policy (what the worker sees, its limits, its system-call filter) is ``isolation.py``; this module only applies
it: a scratch root directory, a memory + pids cgroup (``cgroups.py``), and ``python -I -S worker.py`` with a Unix
socket on fd 3.  The worker confines itself (``confine.enter``, then ``confine.install_filter``) before it reads a
line of the learner's code.  ``spawn(container=True)`` hands over to the podman launcher (``container.py``) instead.

Without root (or where namespaces are refused) the worker still runs with the rlimits, the system-call filter,
``-I -S`` and the nnlib shim, but it can read whatever the grader's user can read and open network connections:
the worker's ``isolation`` list says exactly what is missing, and ``doctor`` shows it.  Use the container mode there.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from nnlib_grader import confine, container, isolation, seccomp
from nnlib_grader.cgroups import Cgroup, cgroup_mode, remove_stale_cgroups  # noqa: F401 - the batch's API
from nnlib_grader.isolation import UID_BASE  # noqa: F401 - the tests' API
from nnlib_grader.workers import LIVE, STOP, Worker, config, kill_all  # noqa: F401 - the batch's API

WORKER = isolation.WORKER


def namespaces_available() -> tuple[bool, str]:
    """Can this process build the sandbox? (Linux, root, unshare + mount allowed)."""
    if not sys.platform.startswith("linux"):
        return False, "not Linux: no namespaces"
    if os.geteuid() != 0:
        return False, "not root: the sandbox needs root (or use the container mode)"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            confine.unshare(confine.NAMESPACES)
            confine.mount(None, "/", None, confine.MS_REC | confine.MS_PRIVATE)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return True, "mount, PID, network, IPC and UTS namespaces available"
    return False, "unshare/mount refused (seccomp or missing CAP_SYS_ADMIN): use the container mode"


def filter_report(cfg: dict) -> list[str]:
    return [] if cfg["seccomp"] else [f"no system-call filter: {seccomp.describe()}"]


def spawn(policy: dict, *, sandbox: bool, scratch: str, job: int, memory_mb: int = 2048, cpu_s: int = 600,
          fsize_mb: int = 64, tmp_mb: int = 64, max_pids: int = 64, timeout: float = 60,
          container: bool = False, template: bool = True) -> Worker:
    """Start a worker for one submission (``scratch``: a private dir of the grader, 0700).

    ``container``: run it in a podman container instead (see grader/nnlib_grader/container.py).
    ``template`` (the sandboxed default): fork it from the run's worker template (``zygote.py``) instead of
    starting an interpreter; it then confines itself with the same start-up message, in its own cgroup.
    """
    if STOP.is_set():
        raise RuntimeError("grading was interrupted")
    limits = {"memory_mb": memory_mb, "cpu_s": cpu_s, "fsize_mb": fsize_mb, "tmp_mb": tmp_mb}
    if container:
        return _container_spawn(policy, scratch=scratch, job=job, max_pids=max_pids, timeout=timeout, **limits)
    cfg = config(policy, sandbox=bool(sandbox), **limits)
    root, isolation_report = None, filter_report(cfg)
    if sandbox:
        root = os.path.join(scratch, f"root-{job}")
        os.makedirs(root, mode=0o700)
        cfg.update(root=root, binds=isolation.default_binds(), links=isolation.default_links(),
                   hide=isolation.hidden(), uid=UID_BASE + job % 4000)
    else:
        isolation_report += ["no namespaces: the learner's code can read what the grader's user can read and use "
                             "the network", "same uid as the grader"]
    cgroup = Cgroup(f"{os.getpid()}-{job}", memory_mb, max_pids) if sandbox else None
    if sandbox and not (cgroup and cgroup.paths):
        isolation_report.append("no memory/pids cgroup on this host: only rlimits bound memory and processes")
    env = dict(isolation.ENV)  # confine.enter sets it again after the chroot; unsandboxed, /tmp is the scratch dir
    if not sandbox:
        env.update(HOME=scratch, TMPDIR=scratch, MPLCONFIGDIR=os.path.join(scratch, ".mpl"))
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    log = os.path.join(scratch, f"worker-{job}.log")
    with open(log, "wb") as fh:
        if sandbox and template:
            from nnlib_grader import zygote

            try:
                proc = zygote.fork(policy, child.fileno(), fh.fileno())
            except BaseException:
                parent.close()
                child.close()
                if cgroup:
                    cgroup.destroy()
                if root:
                    os.rmdir(root)
                raise
        else:
            proc = subprocess.Popen([sys.executable, "-I", "-S", WORKER, str(child.fileno())],
                                    pass_fds=(child.fileno(),),
                                    stdin=subprocess.DEVNULL, stdout=fh, stderr=fh, cwd=scratch, env=env,
                                    start_new_session=True)
    child.close()
    w = Worker(proc, parent, cgroup, root, isolation_report)
    try:
        if cgroup and cgroup.paths:
            cgroup.add(proc.pid)
    except OSError:
        w.kill()
        raise
    return w.start(cfg, timeout, log, "grading worker")


def _container_spawn(policy: dict, **kw) -> Worker:
    cfg = config(policy, sandbox=False, **{k: kw[k] for k in ("memory_mb", "cpu_s", "fsize_mb", "tmp_mb")})
    return container.spawn(cfg, filter_report(cfg), **kw)
