"""A memory + pids cgroup for each grading job (v2, or v1 where that is what the host mounts), on the grader's side.

The native launcher (``sandbox.py``) puts each worker in one; podman manages its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from nnlib_grader import procs

CGROUP_NAME = "nnlib-grading"


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
        """Kill what is left in the cgroup (cgroup v2's ``cgroup.kill`` where the kernel has it, else SIGKILL per
        pid) and remove it.  The kernel empties a cgroup within a few ms of the kill: it is polled from 1 ms,
        doubling to 20 ms (a fixed 20 ms sleep was most of a job's teardown), for at most ≈ 2 s."""
        for p in self.paths:
            with contextlib.suppress(OSError):
                self._write(f"{p}/cgroup.kill", 1)
        for wait in _backoff():
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(wait)
        for p in self.paths:
            for wait in _backoff(1.0):
                try:
                    os.rmdir(p)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(wait)


def _backoff(total: float = 2.0):
    """Sleeps of 1, 2, 4, … ms up to 20 ms each, ``total`` s in all."""
    wait, spent = 0.001, 0.0
    while spent < total:
        yield wait
        spent += wait
        wait = min(2 * wait, 0.02)


def remove_stale_cgroups() -> None:
    """At start: kill and remove the cgroups a killed grader left behind (their jobs are orphans)."""
    for base in (f"/sys/fs/cgroup/{CGROUP_NAME}", f"/sys/fs/cgroup/memory/{CGROUP_NAME}",
                 f"/sys/fs/cgroup/pids/{CGROUP_NAME}"):
        with contextlib.suppress(OSError):
            for name in os.listdir(base):
                owner, _, job = name.partition("-")
                if not (owner.isdigit() and job.isdigit() and os.path.isdir(f"{base}/{name}")):
                    continue  # a control file of the cgroup itself
                if procs.running(int(owner), os.stat(f"{base}/{name}").st_mtime):
                    continue  # another live grader's job
                c = Cgroup.__new__(Cgroup)
                c.paths, c.mode = [f"{base}/{name}"], "stale"
                c.destroy()
