"""Batched merges (grader/nnlib_grader/merge.py) lose nothing and count nothing twice when the grader is killed.

The grader runs in a forked child of the test and is SIGKILLed *inside* a merge — after a batch's gradebook
transaction has committed but before its entries in the index's journal say so (nnlib_grader/index.py), and in
the middle of a transaction — then a new run grades the same class.  Checked: every result that ``state.json`` and
the journal call merged is in the gradebook, the records and the index with its right score; the next run grades
exactly the others; the gradebook ends with one submission per student holding that student's score (a regrade
overwrites, never adds).
"""

from __future__ import annotations

import os
import signal

import pytest
from test_workflow import MAX, add_sub, grade_here, gradebook_scores, grades, make_course, state

pytestmark = pytest.mark.slow

KINDS = {f"k{i}": ("good" if i % 3 else "wrong") for i in range(8)}
EXPECT = {s: (MAX if k == "good" else MAX - 3) for s, k in KINDS.items()}


def _class(tmp_path):
    course = make_course(tmp_path)
    for s, kind in KINDS.items():
        add_sub(course / "subs", s, kind)
    return course


def _killed_run(course, patch) -> int:
    """Grade in a forked child with ``patch(Merger)`` applied there; returns the child's termination signal."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            from nnlib_grader import merge

            patch(merge.Merger)
            grade_here(course, jobs=2)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0


def _check_merged_so_far(course) -> set[str]:
    """What a killed run left marked graded (state.json and its journal, as the next run reads them)."""
    from nnlib_grader import index

    rows, st = index.read(course / "grading" / "a01_perceptron")
    merged = set(st)
    gb = gradebook_scores(course)
    assert set(rows) == merged, (rows, merged)
    for s in merged:
        assert float(rows[s]["score"]) == EXPECT[s] and gb[s] == EXPECT[s], (s, rows[s], gb.get(s))
        assert (course / "grading" / "a01_perceptron" / "results" / f"{s}.json").exists()
    return merged


def _finish_and_check(course, merged: set[str]) -> None:
    res = grade_here(course, jobs=2)
    assert sorted(r.student for r in res) == sorted(set(KINDS) - merged), "graded again what was merged, or missed one"
    assert res.unchanged == len(merged)
    rows, gb = grades(course), gradebook_scores(course)  # the files themselves: the finished run compacted them
    assert (course / "grading" / "a01_perceptron" / "journal.jsonl").stat().st_size == 0
    assert {s: float(r["score"]) for s, r in rows.items()} == EXPECT
    assert gb == EXPECT  # one submission per student, its score counted once
    assert set(state(course)) == set(KINDS)


def test_sigkill_after_a_batch_committed_before_its_index_entries(tmp_path):
    course = _class(tmp_path)

    def patch(merger):
        from nnlib_grader.index import Index

        real, calls = Index.record, []

        def record(self, entries):
            calls.append(len(entries))
            if len(calls) >= 2:  # the second batch: in the gradebook, its files written, not yet marked graded
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, entries)

        Index.record = record

    assert _killed_run(course, patch) == signal.SIGKILL
    merged = _check_merged_so_far(course)
    assert 0 < len(merged) < len(KINDS), merged  # the first batch was kept, the rest was not called merged
    gb = gradebook_scores(course)
    assert any(gb.get(s) == EXPECT[s] for s in set(KINDS) - merged)  # the killed batch did reach the gradebook
    _finish_and_check(course, merged)


def test_sigkill_in_the_middle_of_a_transaction(tmp_path):
    course = _class(tmp_path)

    def patch(merger):
        real = merger._penalty
        def penalty(self, gb, s):
            if self.flushes >= 1:  # a later batch: its grades are flushed to the database, not committed
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, gb, s)

        merger._penalty = penalty

    assert _killed_run(course, patch) == signal.SIGKILL
    merged = _check_merged_so_far(course)
    assert merged, "the first batch was merged before the kill"
    gb = gradebook_scores(course)  # the rolled-back batch left no score (its new students: nbgrader's empty rows)
    assert all(gb.get(s, 0.0) == 0.0 for s in set(KINDS) - merged), gb
    _finish_and_check(course, merged)


def test_one_batch_one_transaction_and_files_per_batch(tmp_path, monkeypatch):
    """A run merges in fewer batches than results when results arrive together, each batch one commit."""
    from nnlib_grader import merge

    course = _class(tmp_path)
    commits, flushes = [], []
    real_tx, real_flush = merge.Merger._transaction, merge.Merger.flush

    def tx(self, items):
        commits.append(len(items))
        return real_tx(self, items)

    def flush(self, items):
        if items:
            flushes.append(len(items))
        return real_flush(self, items)

    monkeypatch.setattr(merge.Merger, "_transaction", tx)
    monkeypatch.setattr(merge.Merger, "flush", flush)
    res = grade_here(course, jobs=2, force=True)
    assert sorted(r.student for r in res) == sorted(KINDS)
    assert sum(flushes) == len(KINDS) and commits == flushes  # one transaction per batch, none per result
    assert res.batches == len(flushes)
    assert gradebook_scores(course) == EXPECT


def test_a_forked_job_process_does_not_hold_the_assignment_lock(tmp_path):
    """An flock is shared by a fork: a job process that outlived a SIGKILLed grader would keep the next run out."""
    import signal as _signal
    import time as _time

    from nnlib_grader import batch

    with batch.assignment_lock(tmp_path / "grading" / "a01"):
        pid = os.fork()
        if pid == 0:  # the child: as a job process, it only waits
            _time.sleep(30)
            os._exit(0)
        try:
            _time.sleep(0.2)
            held = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            assert not [p for p in held if p.endswith("/.lock")], held
        finally:
            os.kill(pid, _signal.SIGKILL)
            os.waitpid(pid, 0)
    with batch.assignment_lock(tmp_path / "grading" / "a01"):  # free again once the grader let it go
        pass
