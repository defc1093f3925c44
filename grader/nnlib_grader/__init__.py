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
* ``submissions``, ``course``, ``release``, ``doctor``, ``cli``.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # nbformat's jsonschema compiles this grammar for ~1 s per process

from nnlib_grader.batch import BusyError, Options, Result, grade  # noqa: E402

__all__ = ["BusyError", "Options", "Result", "grade"]
