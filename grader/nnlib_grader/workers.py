"""A running grading worker, as the grader holds it: send a request, read the reply, kill it with everything it
started.  Shared by both launchers (``sandbox.py``, ``container.py``); ``kill_all`` ends every live one (SIGINT)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable

from nnlib_grader import isolation, seccomp
from nnlib_grader import protocol as P
from nnlib_grader.cgroups import Cgroup


class Flag:
    """A flag a signal handler may set.  ``threading.Event.set`` takes a lock: a second signal landing while the
    first handler holds it runs the handler again in the same thread, which then waits for ever on that lock (CI
    saw a job process hang so, the grader sending its SIGUSR1 every half second).  Here set, clear and read are
    single attribute operations, atomic under the interpreter lock."""

    def __init__(self) -> None:
        self._on = False

    def set(self) -> None:
        self._on = True

    def clear(self) -> None:
        self._on = False

    def is_set(self) -> bool:
        return self._on


STOP = Flag()  # set on SIGINT: no new workers start; kill_all() ends the running ones
LIVE: set = set()
_LIVE_LOCK = threading.Lock()


def kill_all() -> None:
    with _LIVE_LOCK:
        workers = list(LIVE)
    for w in workers:
        w.kill()


def signal_all() -> None:
    """SIGKILL every live worker's processes now, taking no lock and waiting for nothing, so that a signal handler
    may call it while its thread is anywhere (``kill_all`` there could wait on a lock that thread holds).  The
    thread that runs each job then reads the end of its worker and reaps it (``kill``)."""
    for w in list(LIVE):  # one C-level copy: atomic under the interpreter lock
        w.signal()


class Worker:
    """A running sandboxed worker: ``request(obj)`` sends one message and returns the reply."""

    def __init__(self, proc: subprocess.Popen, sock, cgroup: Cgroup | None, root: str | None, isolation: list[str],
                 on_kill: Callable[[], None] | None = None):
        self.proc, self.sock, self.cgroup, self.root, self.isolation = proc, sock, cgroup, root, isolation
        self.on_kill = on_kill  # container mode: podman kill/rm of the container
        self.peak: float | None = None
        with _LIVE_LOCK:
            LIVE.add(self)

    def request(self, obj: dict, timeout: float) -> dict:
        self.sock.settimeout(timeout)
        P.send(self.sock, obj)
        return P.recv(self.sock)

    def start(self, cfg: dict, timeout: float, log: str, what: str) -> Worker:
        """Send the start-up message; on any failure kill the worker and raise with the tail of its log."""
        try:
            hello = self.request(cfg, timeout)
            if not hello.get("ready"):
                raise RuntimeError(f"worker did not start: {hello}")
        except Exception as exc:
            self.kill()
            err = b""
            with contextlib.suppress(OSError), open(log, "rb") as fh:
                err = fh.read()[-2000:]
            raise RuntimeError(f"the {what} failed to start: {exc}\n{err.decode(errors='replace')}") from None
        return self

    def signal(self) -> None:
        """SIGKILL the worker's processes, nothing else (see :func:`signal_all`); a container's worker is ended by
        ``kill`` (podman), which the batch calls from its loop."""
        with contextlib.suppress(Exception):
            if getattr(self.proc, "forked", False):
                self.proc.kill()  # its pidfd: the job's sandbox dies with it (PR_SET_PDEATHSIG)
            else:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def kill(self) -> None:
        with _LIVE_LOCK:
            LIVE.discard(self)
        if self.on_kill:
            hook, self.on_kill = self.on_kill, None
            hook()
        if self.cgroup and self.peak is None:
            self.peak = self.cgroup.peak_mb()
        with contextlib.suppress(Exception):
            self.sock.close()
        if not getattr(self.proc, "forked", False):  # a forked job is killed by its pidfd (zygote.Forked)
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


def config(policy: dict, *, sandbox: bool, memory_mb: int, cpu_s: int, fsize_mb: int, tmp_mb: int) -> dict:
    """The worker's start-up message, the same in both modes: what it loads, its limits, its system-call filter."""
    arch = os.uname().machine
    from nnlib.grading.rules import answer_modules

    return {"sys_path": isolation.worker_sys_path(), "policy": policy, "sandbox": sandbox,
            "answer_packages": list(answer_modules()),
            "grading_dir": isolation.grading_dir(), "memory_mb": memory_mb, "cpu_s": cpu_s, "fsize_mb": fsize_mb,
            "tmp_mb": tmp_mb, "nofile": isolation.LIMITS["nofile"], "env": isolation.ENV,
            "dev_nodes": [list(d) for d in isolation.DEV_NODES],
            "seccomp": seccomp.program(arch).hex() if arch in seccomp.ARCHES else None}
