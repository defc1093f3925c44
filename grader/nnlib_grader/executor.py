"""Where grading jobs run: a local pool (default) or a Dask cluster (``--dask ADDRESS``).

A job is :func:`nnlib_grader.job.grade_job` on a dict of plain data; it returns plain data.  The grader's
main process stays the only writer of the gradebook and the course: executors only compute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
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

    def cancel(self, futures: list) -> None:
        for f in futures:
            f.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Jobs on a Dask distributed cluster (a scheduler address, or a ``distributed.Client``)."""

    name = "dask"

    def __init__(self, address: Any):
        from distributed import Client

        self.own = not hasattr(address, "submit")
        self.client = Client(address) if self.own else address

    def submit(self, fn: Callable, spec: dict) -> Any:
        return self.client.submit(fn, spec, pure=False)

    def as_completed(self, futures: list) -> Iterator:
        from distributed import as_completed

        return iter(as_completed(futures))

    def cancel(self, futures: list) -> None:
        self.client.cancel(futures)

    def close(self) -> None:
        if self.own:
            self.client.close()


def make(jobs: int, dask: Any = None) -> LocalExecutor | DaskExecutor:
    return DaskExecutor(dask) if dask else LocalExecutor(jobs)
