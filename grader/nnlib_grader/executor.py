"""Where grading jobs run: a local pool (default) or a Dask cluster (``--dask ADDRESS``).

A job is :func:`nnlib_grader.job.grade_job` on a dict of plain data; it returns plain data.  The grader's
main process stays the only writer of the gradebook and the course: executors only compute.

A Dask cluster is reached over mutual TLS only (``tls://`` with the certificates of ``python -m nnlib_grader
certs DIR``): Dask's scheduler has no other authentication and unpickles what it receives, and the grading
workers run as root for the sandbox, so whoever reaches a plain ``tcp://`` port runs code as root on every
grading machine.  ``insecure=True`` (``--insecure``) allows another protocol, for a network the instructor
alone can reach.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from pathlib import Path
from typing import Any


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

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


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


class DaskExecutor:
    """Jobs on a Dask distributed cluster (a scheduler address, or a ``distributed.Client`` the caller made)."""

    name = "dask"

    def __init__(self, address: Any, tls_dir: str | os.PathLike | None = None, insecure: bool = False,
                 timeout: float = 30):
        from distributed import Client

        self.own = not hasattr(address, "submit")
        if self.own:
            sec = security(str(address), tls_dir, insecure)
            self.client = Client(str(address), security=sec, timeout=timeout) if sec else \
                Client(str(address), timeout=timeout)
        else:
            self.client = address

    def submit(self, fn: Callable, spec: dict) -> Any:
        return self.client.submit(fn, spec, pure=False)

    def as_completed(self, futures: list) -> Iterator:
        from distributed import as_completed

        return iter(as_completed(futures))

    def wait_first(self, futures: list, timeout: float | None = None) -> set:
        """As ``LocalExecutor.wait_first``, for Dask futures."""
        from distributed import wait
        from distributed.utils import TimeoutError as DaskTimeout

        try:
            return set(wait(futures, timeout=timeout, return_when="FIRST_COMPLETED").done)
        except (TimeoutError, DaskTimeout):
            return {f for f in futures if f.done()}

    def cancel(self, futures: list) -> None:
        self.client.cancel(futures)

    def close(self) -> None:
        if self.own:
            self.client.close()


def make(jobs: int, dask: Any = None, tls_dir: str | os.PathLike | None = None,
         insecure: bool = False) -> LocalExecutor | DaskExecutor:
    return DaskExecutor(dask, tls_dir, insecure) if dask else LocalExecutor(jobs)
