"""Where grading jobs run: a local pool (default) or a Dask cluster (``--dask ADDRESS``).

The local pool runs jobs in threads of this process when there is one (``--jobs 1``: nothing to share), and in
forked child processes when there are several (:class:`ProcessExecutor`): a job's trusted side (building the
checks' cases, comparing, naming the mistake, encoding messages) is Python work that holds the interpreter lock,
so threads of one process take turns on it while the merge waits too; processes use every core
(``bench/grading_bench.py`` measures both).

A job is :func:`nnlib_grader.job.grade_job` on a dict of plain data; it returns plain data.  The grader's
main process stays the only writer of the gradebook and the course: executors only compute.

A Dask cluster is reached over mutual TLS only (``tls://`` with the certificates of ``python -m nnlib_grader
certs DIR``): Dask's scheduler has no other authentication and unpickles what it receives, and the grading
workers run as root for the sandbox, so whoever reaches a plain ``tcp://`` port runs code as root on every
grading machine.  ``insecure=True`` (``--insecure``) allows another protocol, for a network the instructor
alone can reach.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed, wait
from pathlib import Path
from typing import Any

from nnlib_grader import workers


class LocalExecutor:
    """Jobs in threads of this process (each job's untrusted code runs in its own sandboxed worker process)."""

    name = "local"

    def __init__(self, jobs: int):
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade")

    def submit(self, fn: Callable, spec: dict) -> Future:
        return self.pool.submit(fn, spec)

    def as_completed(self, futures: list) -> Iterator:
        return as_completed(futures)

    def wait_first(self, futures: list, timeout: float | None = None) -> set:
        """The futures done now, or once the first one is (at most ``timeout`` s): every one that is done."""
        return wait(futures, timeout=timeout, return_when=FIRST_COMPLETED).done

    def cancel(self, futures: list) -> None:
        for f in futures:
            f.cancel()

    def interrupt(self) -> None:
        """SIGINT: end the running jobs' workers now (each job's thread then reaps its own; no lock, no wait, so
        a signal handler may call it)."""
        workers.STOP.set()
        workers.signal_all()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


FORK_LOCK = threading.Lock()  # held while the children are forked: another thread of the grader that holds it
# (serve's publisher) is never copied into a child in the middle of a write, a lock of its held for ever there


def _noop() -> int:
    return os.getpid()


_HANDLING = workers.Flag()


def _on_interrupt(signum, frame) -> None:
    """A child's SIGUSR1: its parent was interrupted (sent again every half second until the child is done).
    A signal that lands while this runs runs it again, nested in the same thread: the nested call returns at once,
    so a storm of signals costs a few bytecodes each and never waits on anything the outer call holds."""
    if _HANDLING.is_set():
        return
    _HANDLING.set()
    try:
        workers.STOP.set()
        workers.signal_all()
    finally:
        _HANDLING.clear()


def _child_init(parent: int) -> None:
    """In each child: die with the grader (SIGKILL included), leave ^C to it, end this child's workers on its
    word (SIGUSR1)."""
    from nnlib_grader import confine

    confine.prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the grader went before the line above took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, _on_interrupt)
    from multiprocessing.util import Finalize

    from nnlib_grader import zygote

    Finalize(None, zygote.close_all, exitpriority=10)  # the child's worker template ends (and is reaped) with it


class ProcessExecutor(LocalExecutor):
    """Jobs in ``jobs`` child processes forked from this one (nothing to import again; each starts its own worker
    template, :mod:`nnlib_grader.zygote`).  The children are started here, before the run starts any thread of
    its own (a fork copies only the thread that forks).  They die with this process (``PR_SET_PDEATHSIG``);
    :meth:`interrupt` passes a ^C on as SIGUSR1, on which each ends its running workers."""

    name = "processes"

    def __init__(self, jobs: int):
        self.jobs = jobs
        self._start()

    def submit(self, fn: Callable, spec: dict) -> Future:
        """As the thread pool's; a pool whose child died (the jobs it held fail: ``BrokenProcessPool``, an
        ``error`` that ``--retry-failed`` grades again) is replaced by a new one first."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self.pool.submit(fn, spec)
        except BrokenProcessPool:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self._start()
            return self.pool.submit(fn, spec)

    def _start(self) -> None:
        jobs = self.jobs
        ctx = multiprocessing.get_context("fork")
        with FORK_LOCK:
            before = {p.pid for p in multiprocessing.active_children()}
            self.pool = ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=ctx, initializer=_child_init,
                                            initargs=(os.getpid(),))
            self.pool.submit(_noop).result()  # forks every child now (the fork context starts them all at once)
            self.children = [p.pid for p in multiprocessing.active_children() if p.pid not in before]

    def interrupt(self) -> None:
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGUSR1)


class DaskError(ValueError):
    """A Dask address or its certificates are refused (the message says why and what to do)."""


def security(address: str, tls_dir: str | os.PathLike | None, insecure: bool = False) -> Any:
    """The ``distributed.security.Security`` of the grader's client for ``address`` (None: plain, if allowed).

    ``tls://`` needs ``tls_dir`` holding ``ca.pem``, ``client.pem`` and ``client-key.pem``; any other protocol
    (``tcp://``, or an address without one, which Dask reads as tcp) is refused unless ``insecure``."""
    scheme = address.split("://", 1)[0].lower() if "://" in address else "tcp"
    if scheme != "tls":
        if insecure:
            return None
        raise DaskError(f"refusing --dask {address}: {scheme}:// has no encryption and no authentication, and a "
                        "Dask scheduler runs what it receives on the grading workers (as root). Use "
                        "tls://HOST:PORT with --dask-tls DIR (certificates: python -m nnlib_grader certs DIR; "
                        "docs/workflow.md), or add --insecure on a network only you can reach")
    if tls_dir is None:
        raise DaskError(f"--dask {address} needs --dask-tls DIR: the folder with ca.pem, client.pem and "
                        "client-key.pem (python -m nnlib_grader certs DIR makes them)")
    files = {name: Path(tls_dir) / name for name in ("ca.pem", "client.pem", "client-key.pem")}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise DaskError(f"--dask-tls {tls_dir}: missing {', '.join(missing)} (python -m nnlib_grader certs DIR)")
    from distributed.security import Security

    return Security(tls_ca_file=str(files["ca.pem"]), tls_client_cert=str(files["client.pem"]),
                    tls_client_key=str(files["client-key.pem"]), require_encryption=True)


class DaskJob:
    """One submission's job on the cluster: the Dask future of its current attempt, and its outcome.

    It stands for a ``concurrent.futures.Future`` where ``batch.grade`` uses one (``result()``, ``cancelled()``),
    so the merge loop is the same for every executor.  :meth:`DaskExecutor.as_completed` yields each job exactly
    once, whatever happened to its attempts: the merge of a submission happens once per run."""

    def __init__(self, fn: Callable, spec: dict):
        self.fn, self.spec = fn, spec
        self.future: Any = None
        self.attempts = 0
        self.value: Any = None
        self.error: BaseException | None = None
        self.stopped = False

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value

    def cancelled(self) -> bool:
        return self.stopped


class DaskExecutor:
    """Jobs on a Dask distributed cluster (a scheduler address, or a ``distributed.Client`` the caller made).

    Faults, and who handles them:

    * a worker dies or is cut off mid-job: Dask's scheduler runs the job again elsewhere (a worker lost while
      processing a task makes it "suspicious"; ``distributed.scheduler.allowed-failures`` such losses are
      allowed before the job fails with ``KilledWorker``, which becomes that submission's error);
    * a job raises (not the learner's code, which ``grade_job`` contains: the worker itself, e.g. its disk):
      Dask retries it ``retries`` times (``Client.submit(retries=…)``), on any worker;
    * the scheduler is lost (restarted, or its link down for longer than ``distributed.comm.timeouts.tcp``):
      the client cancels every future with reason ``scheduler-connection-lost`` and reconnects; each job whose
      future was lost is submitted again once the scheduler answers (a new client if the old one gave up),
      at most ``attempts`` times.  If no scheduler answers at the address within ``reconnect`` seconds
      (Dask config ``nnlib-grader.reconnect``, e.g. ``DASK_NNLIB_GRADER__RECONNECT=300``; default 120), a
      :class:`DaskError` names the address; what was merged before stays merged and the next run grades
      the rest.

    Results come back as data and are merged by the caller, once per job (see :class:`DaskJob`); a job run
    twice (its first worker died after finishing it) is merged once.
    """

    name = "dask"

    def __init__(self, address: Any, tls_dir: str | os.PathLike | None = None, insecure: bool = False,
                 timeout: float = 30, reconnect: float | None = None, retries: int = 2, attempts: int = 5):
        import dask

        self.timeout, self.retries, self.attempts = timeout, retries, attempts
        self.resubmitted = 0  # jobs submitted again after the scheduler lost them
        self.reconnect = float(reconnect if reconnect is not None else dask.config.get("nnlib-grader.reconnect", 120))
        self.own = not hasattr(address, "submit")
        self._done: queue.Queue = queue.Queue()
        if self.own:
            self.address = str(address)
            self.sec = security(self.address, tls_dir, insecure)
            self.client = self._connect(timeout)
        else:
            self.client = address
            self.address = str(getattr(address.scheduler, "address", address))

    def _connect(self, timeout: float) -> Any:
        from distributed import Client

        kw = {"security": self.sec} if self.sec else {}
        try:
            return Client(self.address, timeout=timeout, set_as_default=False, **kw)
        except (OSError, TimeoutError) as exc:
            raise DaskError(f"no Dask scheduler answered at {self.address} within {timeout:g} s "
                            f"({type(exc).__name__}: {exc}); is it running, reachable from here, and are "
                            "its certificates signed by the same CA as --dask-tls?") from exc

    def submit(self, fn: Callable, spec: dict) -> DaskJob:
        job = DaskJob(fn, spec)
        self._send(job)
        return job

    def _send(self, job: DaskJob) -> None:
        job.attempts += 1
        key = f"grade-{job.spec.get('student', 'job')}-{job.attempts}-{uuid.uuid4().hex[:12]}"
        fut = self.client.submit(job.fn, job.spec, pure=False, key=key, retries=self.retries)
        job.future = fut
        fut.add_done_callback(lambda f, job=job: self._done.put((job, f)))

    def as_completed(self, jobs: list) -> Iterator[DaskJob]:
        """Yield each of ``jobs`` once, when it has a result, an error, or was cancelled by :meth:`cancel`."""
        left = list(jobs)
        while left:
            done = self.wait_first(left, timeout=None)
            left = [j for j in left if j not in done]
            yield from done

    def wait_first(self, jobs: list, timeout: float | None = None) -> set:
        """The jobs of ``jobs`` settled now, or once the first one is (at most ``timeout`` s; None: no limit).

        A job's lost attempt is submitted again here (:meth:`_settle`), so a job is returned once, when it has a
        result, an error, or was cancelled — never for an attempt the scheduler lost."""
        left = {id(j) for j in jobs}
        done: set = set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait_s = 5.0 if deadline is None else min(5.0, deadline - time.monotonic())
            if done or wait_s <= 0:
                wait_s = 0.0  # take what is there already, without waiting
            try:
                job, fut = self._done.get(timeout=wait_s) if wait_s > 0 else self._done.get_nowait()
            except queue.Empty:
                if done or (deadline is not None and time.monotonic() >= deadline):
                    return done
                if self.client.status in ("closing", "closed"):  # gave up reconnecting: try ourselves
                    self._reconnected()
                continue
            if id(job) not in left or fut is not job.future:
                continue  # an earlier attempt's future, or a job of another call
            if not job.stopped and self._settle(job, fut):
                continue  # submitted again
            left.discard(id(job))
            job.spec = {"student": job.spec.get("student")}  # the notebooks are no longer needed here
            done.add(job)

    def _settle(self, job: DaskJob, fut: Any) -> bool:
        """Record ``fut``'s outcome in ``job``; True when the future was lost and the job was submitted again."""
        import asyncio

        from distributed.utils import CancelledError  # FutureCancelledError's base

        try:
            if fut.status == "finished":
                job.value = fut.result(timeout=self.reconnect)
                return False
            if fut.status == "error":
                job.error = fut.exception(timeout=self.reconnect)
                return False
            why = getattr(getattr(fut, "_state", None), "exception", None)  # FutureCancelledError: its reason
            reason = f"{fut.status}: {getattr(why, 'reason', None) or 'no reason given'}"
        except (CancelledError, asyncio.CancelledError, OSError, TimeoutError) as exc:  # lost after finishing
            reason = f"{type(exc).__name__}: {exc}"
        if job.attempts >= self.attempts:
            job.error = DaskError(f"{job.spec.get('student')}: lost by the Dask scheduler {self.address} "
                                  f"{job.attempts} times ({reason})")
            return False
        self._reconnected()
        self._send(job)
        self.resubmitted += 1
        if self.resubmitted <= 5:
            print(f"warning: the Dask scheduler {self.address} lost the job of {job.spec.get('student')} "
                  f"({reason}): submitted again (attempt {job.attempts})"
                  + ("; further resubmissions are not shown" if self.resubmitted == 5 else ""), file=sys.stderr)
        return True

    def _reconnected(self) -> None:
        """Wait until the client talks to a scheduler again: Dask's own reconnection, else a new client — when the
        old one gave up (closing, closed) or has not reconnected within ``min(timeout, 20)`` s (its reconnection
        can die inside Dask and leave it "connecting" for ever: CI saw tornado's "IOStream is not idle; cannot
        convert to SSL" there, with the scheduler back)."""
        deadline = time.monotonic() + self.reconnect
        since = time.monotonic()
        while time.monotonic() < deadline:
            status = self.client.status
            if status == "running":
                return
            stuck = time.monotonic() - since > min(self.timeout, 20.0)
            if self.own and (status in ("closing", "closed") or stuck):
                since = time.monotonic()
                with contextlib.suppress(DaskError):
                    old, self.client = self.client, self._connect(max(1.0, min(self.timeout,
                                                                                deadline - time.monotonic())))
                    with contextlib.suppress(Exception):
                        old.close(timeout=1)
                    continue
            time.sleep(0.2)
        raise DaskError(f"the Dask scheduler {self.address} did not come back within {self.reconnect:g} s "
                        "(Dask config nnlib-grader.reconnect): the results merged so far are kept; start the "
                        "scheduler and its workers again and re-run the same grade command to grade the rest")

    def interrupt(self) -> None:
        """SIGINT: nothing runs here to end (``cancel`` asks the scheduler; a job already running finishes)."""

    def cancel(self, futures: list) -> None:
        for job in futures:
            job.stopped = True
            self._done.put((job, job.future))  # yielded now, even if the scheduler never confirms
        with contextlib.suppress(Exception):  # a lost scheduler has nothing left to cancel
            self.client.cancel([j.future for j in futures if j.future is not None])

    def close(self) -> None:
        if self.own:
            with contextlib.suppress(Exception):
                self.client.close(timeout=10)


def make(jobs: int, dask: Any = None, tls_dir: str | os.PathLike | None = None,
         insecure: bool = False, processes: bool | None = None) -> LocalExecutor | DaskExecutor:
    """The executor of a run: Dask where ``dask`` names a cluster, else the local pool — in child processes
    where ``processes`` (None: when ``jobs`` > 1), else in threads."""
    if dask:
        return DaskExecutor(dask, tls_dir, insecure)
    if processes if processes is not None else jobs > 1:
        return ProcessExecutor(jobs)
    return LocalExecutor(jobs)
