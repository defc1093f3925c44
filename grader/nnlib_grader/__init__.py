"""Instructor tools for the nnlib course: the trusted grader, release and a stack doctor.

One module per concern (docs/instructor.md has the trust model):

* ``sandbox`` — **the trust boundary**: starts a worker that sees only the interpreter and its libraries;
* ``worker`` — runs in that sandbox: the learner's cells, a shim instead of nnlib, plain data out;
* ``protocol`` — what crosses the boundary (JSON frames, typed arrays, nothing executable), under budgets;
* ``limits`` — the grader's own memory ceiling;
* ``runner`` — the trusted side of one notebook: test cells executed here against the worker;
* ``autograded`` — the autograded notebook (data, sanitised) the formgrader and the feedback show;
* ``job``, ``executor`` — one submission as a pure function of data; local pool or Dask;
* ``batch`` — the batch: discover, run, merge into the gradebook (the only writer), state, lock, SIGINT;
* ``results`` — each student's result as a record (JSON) and the reports rendered from records;
* ``report`` — the class report (from the records and the gradebook) and the LMS export;
* ``learner_html`` — the learner's markdown rendered, then cleaned by an allow-list (no active content);
* ``submissions``, ``course``, ``release``, ``doctor``, ``cli``.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # nbformat's jsonschema compiles this grammar for ~1 s per process

from nnlib_grader import batch, report  # noqa: E402
from nnlib_grader.batch import BusyError, Options, Result, Run  # noqa: E402


def grade(course_dir, assignment: str, submissions, opts: Options | None = None) -> Run:
    """``batch.grade`` (grade and merge), then the class report (``report.class_report``) of the assignment."""
    run = batch.grade(course_dir, assignment, submissions, opts)
    report.class_report_or_warn(course_dir, assignment)
    return run


__all__ = ["BusyError", "Options", "Result", "Run", "grade"]
