"""Results into the course, a batch at a time: one gradebook transaction and one write of each class file per batch.

The batch's main thread (the only writer of the gradebook and the course) hands :meth:`Merger.flush` every result
that has finished since the last flush — never one that waits for more to come: a finished result is in no
buffer while the grader waits for a job, so a SIGKILL loses what it lost before batching (the results of jobs
still running) and nothing else.  A flush writes, in this order:

1. per student: the autograded notebook, the result record and its report (``results.py``), each replaced whole
   (temporary file, rename), their folders fsynced once per batch;
2. the gradebook: every student's grades of the batch, then nbgrader's late penalty from the updated scores, in
   **one** transaction (manual scores and comments are never written: a regrade leaves them as they were); a
   student new to the gradebook first gets nbgrader's empty submission (its API commits that, scored 0);
3. the batch's entries of the index (:mod:`nnlib_grader.index`: one line per student appended to the journal,
   one fdatasync; ``grades.csv`` and ``state.json`` rewritten from it every few seconds and at the end) — last:
   the entry is what marks a student graded, so a run killed before it grades that batch again (overwriting the
   same grades: nothing is counted twice) and a run killed after it keeps everything.

A batch whose transaction fails is rolled back and merged one student at a time, so that only the result that
cannot be merged is marked ``error``.  One :class:`nbgrader.api.Gradebook` session serves the whole run (opening
one per result cost most of a merge).
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnlib.files import atomic_file, fsync_dir
from nnlib_grader import extensions
from nnlib_grader import results as R
from nnlib_grader.feedback_release import carry_submission_files
from nnlib_grader.index import Index
from nnlib_grader.results import Result


@dataclass
class Item:
    """One finished job: its result, the worker's data (for the autograded notebook), its submission."""
    res: Result
    data: dict
    sub: Any


def replace(path: Path, data: str) -> Path:
    """``path`` replaced whole (:func:`nnlib.files.atomic_file`: temporary file, fsync, ``os.replace``; a SIGKILL or
    a crash leaves the old or the new file); the folder's fsync, which makes the rename durable, is left to
    :func:`sync`, once per folder and batch instead of once per file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "wb", sync_dir=False) as fh:
        fh.write(data.encode())
    return path


def sync(paths: list[Path]) -> None:
    """Make the renames of ``paths`` durable: one fsync per folder (not ``syncfs``, whose cost is every other
    writer's dirty data on a shared disk)."""
    for folder in dict.fromkeys(p.parent for p in paths):
        fsync_dir(folder)


class Merger:
    def __init__(self, course: Any, assignment: str, out: Path, index: Index):
        self.course, self.assignment, self.out, self.index = course, assignment, out, index
        self._gb = None
        self._plugin = None
        self.flushes, self.seconds = 0, 0.0  # batches merged, wall time spent merging them

    # -- the gradebook ------------------------------------------------------------------------------------
    def gradebook(self):
        if self._gb is None:
            from nbgrader.api import Gradebook

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._gb = Gradebook(self.course.db_url)
        return self._gb

    def plugin(self):
        if self._plugin is None:
            self._plugin = extensions.penalty_plugin(self.course.config)
        return self._plugin

    def close(self) -> None:
        try:
            self.index.close()
        finally:
            if self._gb is not None:
                gb, self._gb = self._gb, None
                gb.close()

    def _loaded(self, gb, students: list[str]) -> dict:
        """{student: submission} of those already in the gradebook, with their notebooks, grades and cells read in
        a few queries for the whole batch (read one attribute at a time, they cost a query per grade)."""
        from nbgrader.api import Assignment, Grade, Student, SubmittedAssignment, SubmittedNotebook
        from sqlalchemy.orm import joinedload, selectinload

        notebooks = selectinload(SubmittedAssignment.notebooks)
        rows = (gb.db.query(SubmittedAssignment).join(Assignment).join(Student)
                .filter(Assignment.name == self.assignment, Student.id.in_(students))
                .options(joinedload(SubmittedAssignment.student), joinedload(SubmittedAssignment.assignment),
                         notebooks.joinedload(SubmittedNotebook.notebook),
                         notebooks.selectinload(SubmittedNotebook.grades).joinedload(Grade.cell))
                .all())
        return {r.student.id: r for r in rows}

    def _submission(self, gb, student: str, loaded: dict | None = None):
        """The student's submission, created through nbgrader's API where it is new (``add_student`` and
        ``add_submission`` commit: an empty submission, scored 0, once per new student, before the batch's
        transaction)."""
        from nbgrader.api import MissingEntry

        if loaded and student in loaded:
            return loaded[student]
        try:
            return gb.find_submission(self.assignment, student)
        except MissingEntry:
            try:
                gb.find_student(student)
            except MissingEntry:
                gb.add_student(student)
            return gb.add_submission(self.assignment, student)

    def _grades(self, s, it: Item) -> None:
        res = it.res
        if it.sub.timestamp is not None:
            s.timestamp = it.sub.timestamp
        for nb in s.notebooks:
            for g in nb.grades:
                c = res.cells.get((nb.name, g.name))
                if c is not None and c.get("kind") == "manual":
                    g.needs_manual_grade = g.manual_score is None
                    continue
                g.auto_score = float(c["points"]) if (c and res.status in ("ok", "timeout")) else 0.0
                g.needs_manual_grade = False  # manual_score and comments are left exactly as they were

    def _penalty(self, gb, sub) -> None:
        extensions.assign_penalty(gb, self.plugin(), sub)

    def _transaction(self, items: list[Item]) -> None:
        gb = self.gradebook()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = self._loaded(gb, [it.res.student for it in items])
            subs = [(self._submission(gb, it.res.student, loaded), it) for it in items]
            try:
                for sub, it in subs:
                    self._grades(sub, it)
                gb.db.flush()
                for sub, _ in subs:
                    self._penalty(gb, sub)
                gb.db.commit()
            except BaseException:
                gb.db.rollback()
                raise

    # -- a batch ------------------------------------------------------------------------------------------
    def flush(self, items: list[Item]) -> None:
        """Merge ``items`` (finished results) as the module doc says; returns once all is on disk."""
        if not items:
            return
        t0 = time.perf_counter()

        written: list[Path] = []
        for it in items:
            for name, text in (it.data.get("autograded") or {}).items():  # the notebook's file, made by the job
                dest = self.course.autograded / it.res.student / self.assignment / f"{name}.ipynb"
                written.append(replace(dest, text))
            # timestamp.txt and submission_secret.txt beside it: nbgrader's release_feedback matches by them
            carry_submission_files(it.sub.folder, self.course.autograded / it.res.student / self.assignment)
        try:
            self._transaction(items)
        except Exception:  # noqa: BLE001 - find the one that cannot be merged
            for it in items:
                try:
                    self._transaction([it])
                except Exception as exc:  # noqa: BLE001
                    it.res.status, it.res.message = "error", f"merge failed: {type(exc).__name__}: {exc}"
        entries = []
        for it in items:
            res = it.res
            written.append(replace(self.out / "results" / f"{res.student}.json", json.dumps(res.to_record(), indent=1)))
            written.append(replace(self.out / "reports" / f"{res.student}.md", R.render(res)))
            entries.append(({"student": res.student, "assignment": self.assignment, "score": f"{res.score:g}",
                             "max_score": f"{res.max_score:g}", "status": res.status}, res.sha))
        sync(written)  # the batch's files on disk before the entries that say it is merged
        self.index.record(entries)
        self.flushes += 1
        self.seconds += time.perf_counter() - t0
