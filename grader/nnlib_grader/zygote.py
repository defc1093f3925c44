"""A worker template per run: the interpreter, NumPy and the assignment's provisions loaded once, one fork per job.

Starting a sandboxed worker from nothing (``python -I -S worker.py``, ``import numpy``, the provisions parsed and
selected) cost ≈ 0.25–0.4 s of each ≈ 0.45 s job (``bench/grading_bench.py --profile``).  A template started once
per run (``python -I -S worker.py zygote FD``, the same file) does that work once; each job is a ``fork`` of it
that then runs exactly the code a freshly started worker runs after its start-up message: ``confine.enter`` (new
mount, PID, network, IPC and UTS namespaces, a new root with a private ``/tmp``, rlimits, the job's own uid,
``no_new_privs``), the seccomp filter of ``isolation.py``, the nnlib shim.  The grader puts the child in the
job's cgroup *before* it sends that start-up message, as it does for a started worker.  One policy
(``isolation.py``), one confinement (``confine.py``), two ways to reach its first line.

What the template holds is what every worker holds before its sandbox closes (NumPy; the provisions the policy
names, never a reference: ``worker.load_provisions``) and no learner's code ever runs in it: each child is forked
from the pristine template, never from another job.  It runs as root without a sandbox (it must build them), reads
only this module's requests, keeps no job's socket after the fork, and dies with the grader (``PR_SET_PDEATHSIG``;
its children die with it).  The kernel reaps the children (SIGCHLD ignored there); the grader holds each child by
a pidfd (``os.pidfd_open``, taken while the child still waits for its start-up message), so a kill never reaches
a recycled pid.  Known cost of forking: the jobs of one run share the template's address-space layout (ASLR) and
hash seed; NumPy's and ``random``'s global generators are re-seeded in each child.

Like ``PR_SET_PDEATHSIG`` itself, a template belongs to the *thread* that started it: :func:`get` is called from
the batch's main thread first (``start``), and a dead template is replaced on the next request.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading

from nnlib_grader import isolation
from nnlib_grader import protocol as P

_TEMPLATES: dict[str, Zygote] = {}
_LOCK = threading.Lock()


class Forked:
    """A job forked from the template, held by a pidfd: what :class:`~nnlib_grader.workers.Worker` needs of a
    ``Popen`` (``pid``, ``kill``, ``wait``, ``poll``)."""

    forked = True

    def __init__(self, pid: int):
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.returncode: int | None = None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.pidfd], [], [], 0)[0]:
            self.returncode = -9  # gone (reaped by the kernel: its status is not ours to read)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self.pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"job {self.pid}", timeout)
            self.returncode = -9
        with contextlib.suppress(OSError):
            os.close(self.pidfd)
        self.pidfd = -1
        return self.returncode


class Zygote:
    """One template process and its control socket (requests are serialised by a lock)."""

    def __init__(self, base: dict, log: str | None = None, timeout: float = 60):
        self.lock = threading.Lock()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out = open(log or os.devnull, "ab")
        try:
            self.proc = subprocess.Popen([sys.executable, "-I", "-S", isolation.WORKER, "zygote", str(child.fileno())],
                                         pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         cwd="/", env=dict(isolation.ENV), start_new_session=True)
        finally:
            out.close()
            child.close()
        self.ctrl = parent
        try:
            self.ctrl.settimeout(timeout)
            P.send(self.ctrl, base)
            if not P.recv(self.ctrl, P.FROM_GRADER).get("ready"):
                raise RuntimeError("the worker template did not start")
        except Exception:
            self.close()
            raise

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, sock_fd: int, log_fd: int, timeout: float = 30) -> Forked:
        """A new job: a child of the template waiting for its start-up message on ``sock_fd``."""
        with self.lock:
            self.ctrl.settimeout(timeout)
            socket.send_fds(self.ctrl, [b"fork"], [sock_fd, log_fd])
            reply = P.recv(self.ctrl, P.FROM_GRADER)
            pid = reply.get("pid")
            if not isinstance(pid, int) or pid <= 1:
                raise RuntimeError(f"the worker template answered {reply!r}")
            return Forked(pid)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.ctrl.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.wait(timeout=10)


def base_config(policy: dict) -> dict:
    """What the template loads: the same fields of the worker's start-up message (``workers.config``)."""
    return {"sys_path": isolation.worker_sys_path(), "policy": policy, "grading_dir": isolation.grading_dir()}


def get(policy: dict) -> Zygote:
    """The live template for ``policy`` (started on first use; a dead one is replaced)."""
    base = base_config(policy)
    key = json.dumps(base, sort_keys=True)
    with _LOCK:
        z = _TEMPLATES.get(key)
        if z is None or not z.alive():
            if z is not None:
                z.close()
            z = _TEMPLATES[key] = Zygote(base)
        return z


def fork(policy: dict, sock_fd: int, log_fd: int) -> Forked:
    """A job from the template for ``policy``; a template that died is started again once."""
    try:
        return get(policy).fork(sock_fd, log_fd)
    except (OSError, EOFError, RuntimeError, P.ProtocolError):
        with _LOCK:
            z = _TEMPLATES.pop(json.dumps(base_config(policy), sort_keys=True), None)
        if z is not None:
            z.close()
        return get(policy).fork(sock_fd, log_fd)


def close_all() -> None:
    """End every template of this process (the end of a run)."""
    with _LOCK:
        templates = list(_TEMPLATES.values())
        _TEMPLATES.clear()
    for z in templates:
        z.close()
