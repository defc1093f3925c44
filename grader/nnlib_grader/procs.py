"""Is the grading process that left something behind still running?

A killed grader leaves scratch dirs, cgroups and containers named after its pid (``nnlib-grade-<pid>-…``); the
next run removes those whose grader is gone.  "Gone" is more than "no ``/proc/<pid>``": a killed process stays a
zombie until its parent reaps it, and the kernel hands a freed pid to a new process.  :func:`running` says no to
both, so neither keeps a dead grader's leftovers alive (nor, through a recycled pid, lets them be taken for a live
one's).
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def _started(ticks: int) -> float:
    """A process's start (field 22 of /proc/<pid>/stat: clock ticks after boot) as epoch seconds, through
    /proc/uptime (1/100 s; /proc/stat's whole-second ``btime`` can be a second off)."""
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return time.time() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))


def running(pid: int, made_at: float | None = None) -> bool:
    """True while process ``pid`` runs: it exists, is not a zombie, and — given ``made_at``, the time (epoch s) the
    leftover was made — started no later than that (else the pid now names a newer process)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    if fields[0] in ("Z", "X"):  # zombie or dead: it only waits to be reaped
        return False
    if made_at is not None:
        try:
            started = _started(int(fields[19]))
        except (OSError, ValueError, IndexError):
            return True  # cannot tell: keep it (never remove a live grader's things)
        if started > made_at + 1.0:
            return False
    return True
