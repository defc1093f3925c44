"""Atomic writes: a file appears whole or not at all.

The data goes to a temporary file in the same folder, is flushed and fsynced, then ``os.replace`` onto the
target (atomic on POSIX and Windows) and the folder is fsynced; on any exception the temporary file is removed
and the target is left as it was.  Used by training checkpoints (``nnlib.train``), downloads
(``nnlib.datasets``) and the instructor's grader (gradebook exports, reports, state).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename in ``folder`` durable (a no-op where the platform or file system cannot)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb", *, sync_dir: bool = True) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path`` (``mode``: ``"wb"`` or ``"w"``); on leaving the block without an
    exception it replaces ``path``, else it is removed.  ``sync_dir=False`` leaves the folder's fsync (which makes
    the rename durable) to the caller, e.g. once for many files (``fsync_dir``)."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_file: mode must be 'wb' or 'w', not {mode!r}")
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(folder)


def atomic_write(path: str | os.PathLike, data: str | bytes, *, make_dirs: bool = True) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically, creating its folder unless ``make_dirs`` is off."""
    if not isinstance(data, str | bytes):
        raise TypeError(f"atomic_write: data must be str or bytes, not {type(data).__name__}")
    path = Path(path)
    if make_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
