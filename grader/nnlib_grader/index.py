"""Who is graded, from which submission, with what score: ``grades.csv``, ``state.json`` and the journal between.

``grading/<A>/grades.csv`` (one row per student: score, max_score, status) is what an instructor opens;
``grading/<A>/state.json`` ({student: content hash of the graded submission}) is what the next run reads to keep
what is graded and unchanged.  Rewriting both whole after every batch cost time in proportion to the class (at
1,000 students most of the merge's CPU), so a batch appends its entries to ``journal.jsonl`` instead — one JSON
line per result, ``{"row": {...}, "sha": "..."}``, one ``fdatasync`` per batch — and the two files are rewritten
from memory at most :data:`COMPACT_SECONDS` after the first entry they lack (:meth:`Index.tick`, called by each record
and by the batch's loop every half second) and when the run ends, after which the journal is emptied.

Reading (:func:`read`) is the files, then the journal's lines in order over them. A line is whole or it is not
there: a SIGKILL in the middle of an append leaves a torn last line (no newline yet), which is skipped (that
student is graded again by the next run, overwriting the same grades). A kill between a compaction's rewrite and
the journal's truncation replays entries the files already hold: the same values again. Only the grading run that
holds the assignment's lock (``batch.assignment_lock``) writes here.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

from nnlib.files import atomic_write, fsync_dir
from nnlib_grader.results import CSV_FIELDS, read_grades, write_grades

JOURNAL = "journal.jsonl"
COMPACT_SECONDS = 5.0


def read_state(path: Path) -> dict[str, str]:
    """``state.json`` ({student: content hash}); an unreadable one is treated as empty (and kept aside)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items()}
        raise ValueError("not an object")
    except (OSError, ValueError) as exc:
        bad = path.with_suffix(f".unreadable-{int(time.time())}")
        with contextlib.suppress(OSError):
            os.replace(path, bad)
        print(f"warning: {path} was unreadable ({exc}); moved to {bad.name}, every submission is graded again",
              file=sys.stderr)
        return {}


def _entries(path: Path):
    """The journal's whole entries, in order: a line counts once its newline is written (what follows the last
    newline is a torn append); a foreign line is skipped."""
    try:
        data = path.read_bytes()
    except OSError:
        return
    for line in data.split(b"\n")[:-1]:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict) and isinstance(e.get("row"), dict) and isinstance(e.get("sha"), str) \
                and isinstance(e["row"].get("student"), str):
            yield {k: str(e["row"].get(k, "")) for k in CSV_FIELDS}, e["sha"]


def read(out: Path) -> tuple[dict[str, dict], dict[str, str]]:
    """(rows of grades.csv, state) of the assignment folder ``out``, the journal's entries applied."""
    rows, state = read_grades(out / "grades.csv"), read_state(out / "state.json")
    for row, sha in _entries(out / JOURNAL):
        rows[row["student"]], state[row["student"]] = row, sha
    return rows, state


class Index:
    """The index of one grading run (held under the assignment's lock): :meth:`record` per batch, :meth:`close`
    at the end."""

    def __init__(self, out: Path):
        self.out = out
        self.csv_path, self.state_path, self.journal_path = out / "grades.csv", out / "state.json", out / JOURNAL
        self.rows, self.state = read(out)
        self._fd: int | None = None
        self._last, self._dirty = time.monotonic(), False
        if self.journal_path.exists() and self.journal_path.stat().st_size:
            self.compact()  # a killed run's entries: into the files before anything new

    def record(self, entries: list[tuple[dict, str]]) -> None:
        """The batch's (row, sha) pairs, durable when this returns (one append, one fdatasync)."""
        if not entries:
            return
        lines = []
        for row, sha in entries:
            row = {k: str(row.get(k, "")) for k in CSV_FIELDS}
            self.rows[row["student"]], self.state[row["student"]] = row, sha
            lines.append(json.dumps({"row": row, "sha": sha}, sort_keys=True))
        if self._fd is None:
            new = not self.journal_path.exists()
            self._fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            if new:
                fsync_dir(self.out)  # the journal's own name durable before anything relies on it
        data = ("\n".join(lines) + "\n").encode()
        while data:
            data = data[os.write(self._fd, data):]
        os.fdatasync(self._fd)
        self._dirty = True
        self.tick()

    def tick(self) -> None:
        """Compact if something was recorded since the last compaction and it is :data:`COMPACT_SECONDS` old (the
        batch calls this from its loop too: the files are never further behind than that)."""
        if self._dirty and time.monotonic() - self._last >= COMPACT_SECONDS:
            self.compact()

    def compact(self) -> None:
        """Rewrite grades.csv and state.json from memory (each atomically, state.json last), then empty the
        journal."""
        write_grades(self.csv_path, self.rows)
        atomic_write(self.state_path, json.dumps(self.state, indent=1, sort_keys=True))
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.fdatasync(self._fd)
        elif self.journal_path.exists():
            with open(self.journal_path, "r+b") as fh:
                fh.truncate(0)
                os.fdatasync(fh.fileno())
        self._last, self._dirty = time.monotonic(), False

    def close(self) -> None:
        """The run's end: everything into the two files, the journal emptied and closed."""
        try:
            if self._fd is not None:  # something was recorded
                self.compact()
        finally:
            if self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)
