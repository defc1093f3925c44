"""The grader's own memory ceiling (``python -m nnlib_grader grade --grader-memory-mb M``, default 4096).

The budgets of ``protocol.py`` keep each reply of a worker small; this is the backstop for what they do not
foresee (a bug, many large honest replies at once): past the ceiling an allocation in the grader raises
``MemoryError`` in the job that made it — that submission ends as an error, the batch goes on — instead of the
kernel's OOM killer ending the batch, the instructor's session or someone else's process.

``RLIMIT_DATA`` rather than ``RLIMIT_AS``: since Linux 4.7 it counts private writable memory (the heap and
anonymous mappings: Python objects, NumPy arrays), not address space that is only reserved (guard pages, the
Go runtime of podman in container mode), so the ceiling can sit close to what the grader really uses.  Only the
soft limit is set; the workers, started by the grader, inherit it as a ceiling above their own ``--memory-mb``.
"""

from __future__ import annotations

import resource

DEFAULT_MB = 4096


def limit_memory(mb: int) -> int | None:
    """Lower this process's soft ``RLIMIT_DATA`` to ``mb`` MiB (never raise it); 0 leaves it alone.  Returns the
    limit in bytes now in force (None: unlimited)."""
    if not isinstance(mb, int) or mb < 0:
        raise ValueError(f"the grader's memory limit must be a whole number of MiB ≥ 0 (0: none), got {mb!r}")
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if mb:
        want = mb * 2**20
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft == resource.RLIM_INFINITY or want < soft:
            resource.setrlimit(resource.RLIMIT_DATA, (want, hard))
            soft = want
    return None if soft == resource.RLIM_INFINITY else soft


def check(grader_mb: int, worker_mb: int) -> str | None:
    """Why these limits cannot work together (None: they can)."""
    if grader_mb < 0:
        return f"--grader-memory-mb must be ≥ 0 (0: no limit), got {grader_mb}"
    if grader_mb and grader_mb < worker_mb:
        return (f"--grader-memory-mb {grader_mb} is below --memory-mb {worker_mb}: the workers inherit the grader's "
                "limit as a ceiling, so it must be at least the memory of one job (or 0 for no limit)")
    return None
