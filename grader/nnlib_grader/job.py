"""One grading job as a pure function of data: runs anywhere nnlib is installed (local pool, Dask worker)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

import nbformat

from nnlib_grader import autograded, procs, runner, sandbox

SCRATCH_PREFIX = "nnlib-grade-"


def scratch_dir() -> str:
    d = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
    os.chmod(d, 0o700)
    return d


def remove_stale_scratch() -> list[str]:
    """Remove scratch dirs of graders that are no longer running (a SIGKILLed run leaves them behind).

    Only dirs this code made (``nnlib-grade-<pid>-…``), owned by this user, whose grader process is gone: a dir
    of another format or another user, or of a live grader, is never touched."""
    removed = []
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        if not name.startswith(SCRATCH_PREFIX):
            continue
        owner, sep, _ = name[len(SCRATCH_PREFIX):].partition("-")
        path = os.path.join(base, name)
        if not (owner.isdigit() and sep) or int(owner) == os.getpid():
            continue
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if procs.running(int(owner), st.st_mtime):  # a zombie, or a pid since given to another process: gone
            continue
        if st.st_uid != os.geteuid() or not os.path.isdir(path) or os.path.islink(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(name)
    return removed


def grade_job(spec: dict) -> dict:
    """Grade one student's notebooks.  ``spec``: assignment, student, job, sandbox, limits, and per notebook
    the source and release notebooks as JSON dicts and the submitted one as its file's text (``submitted_text``),
    a JSON dict or an error string (``submitted``)."""
    t0 = time.monotonic()
    out: dict[str, Any] = {"student": spec["student"], "status": "ok", "message": "", "notebooks": {},
                           "autograded": {}, "isolation": []}
    scratch = scratch_dir()
    try:
        for name, nbs in spec["notebooks"].items():
            source = nbformat.from_dict(nbs["source"])
            release = nbformat.from_dict(nbs["release"])
            try:
                submitted = (runner.parse_notebook(nbs["submitted_text"], f"{name}.ipynb") if "submitted_text" in nbs
                             else nbs["submitted"])
            except runner.SubmissionError as exc:
                submitted = str(exc)
            if isinstance(submitted, str):
                out["status"], out["message"] = "error", submitted
                continue
            if not isinstance(submitted, nbformat.NotebookNode):
                submitted = nbformat.from_dict(submitted)
            if sandbox.STOP.is_set():
                out["status"] = "interrupted"
                break
            res = runner.grade_notebook(source, release, submitted, spec["assignment"], name,
                                        sandbox_on=spec["sandbox"], scratch=scratch, job=spec["job"],
                                        memory_mb=spec["memory_mb"], cell_timeout=spec["cell_timeout"],
                                        call_timeout=spec["call_timeout"], wall_timeout=spec["timeout"],
                                        container=bool(spec.get("container")))
            out["isolation"] = res.isolation
            if res.timed_out:
                out["status"] = "timeout"
                out["message"] = f"{name}: the answer cells did not finish in time: killed"
            out["notebooks"][name] = {
                "cells": [vars(c) for c in res.cells], "answer_errors": res.answer_errors,
                "seconds": res.seconds, "peak_mb": res.peak_mb}
            # as the file's text: made here, in parallel with the other jobs, not by the batch's single merger
            out["autograded"][name] = nbformat.writes(autograded.build(source, release, submitted, res))
    except Exception as exc:  # noqa: BLE001 - one broken submission never stops the batch
        out["status"], out["message"] = "error", f"{type(exc).__name__}: {exc}"[:4000]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if sandbox.STOP.is_set():
        out["status"] = "interrupted"
    out["seconds"] = time.monotonic() - t0
    return out
