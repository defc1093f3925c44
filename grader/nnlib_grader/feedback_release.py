"""Feedback back to the student through nbgrader's own exchange (``nbgrader release_feedback`` / ``fetch_feedback``).

How nbgrader 0.9.6 matches feedback to a submission (``nbgrader/exchange/default/release_feedback.py`` and
``fetch_feedback.py``): ``nbgrader submit`` writes a random ``submission_secret.txt`` and the ``timestamp.txt``
of the submission into the exchange and into the student's own cache; ``collect`` copies both into
``submitted/<student>/<A>/``.  ``release_feedback`` reads them from ``feedback/<student>/<A>/`` (next to each
``<notebook>.html``) and publishes the page as ``exchange/<course>/feedback/<h>.html`` with
``h = notebook_hash(secret=secret, notebook_id=notebook_id)`` (the MD5 of ``secret + notebook_id``);
``fetch_feedback`` recomputes ``h`` from the secret in the student's cache and copies the page to
``<A>/feedback/<timestamp>/<notebook>.html``.

nbgrader's ``autograde`` copies every non-notebook file of the submission into ``autograded/``, from where
``generate_feedback`` copies them into ``feedback/``.  The sandboxed grader writes only the autograded notebook,
so :func:`carry_submission_files` copies these two small files the same way; :func:`release` then runs
``nbgrader release_feedback`` for the students whose feedback carries them (the others are named, not guessed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from nnlib.files import atomic_write
from nnlib_grader.course import load_course, run_nbgrader

CARRIED = ("timestamp.txt", "submission_secret.txt")
MAX_BYTES = 1000  # both files are one short line; anything larger is not nbgrader's


def carry_submission_files(folder: Path | None, dest: Path) -> list[str]:
    """Copy ``timestamp.txt`` and ``submission_secret.txt`` of the submission ``folder`` into ``dest`` (its
    autograded folder), atomically; a file the new submission lacks is removed from ``dest`` (it belonged to an
    older submission, and a stale secret would release this feedback under the old submission's hash).
    Symbolic links and oversized files are not copied.  Returns the names copied."""
    copied = []
    for name in CARRIED:
        src = None if folder is None else Path(folder) / name
        target = Path(dest) / name
        if src is not None and src.is_file() and not src.is_symlink() and src.stat().st_size <= MAX_BYTES:
            atomic_write(target, src.read_bytes())
            copied.append(name)
        elif target.exists():
            target.unlink()
    return copied


def releasable(course_dir, assignment: str) -> tuple[list[str], list[str]]:
    """(students whose ``feedback/<student>/<A>/`` holds HTML and both files, students with HTML but without)."""
    course = load_course(course_dir)
    ok, missing = [], []
    if not course.feedback.is_dir():
        return ok, missing
    for d in sorted(course.feedback.iterdir()):
        fb = d / assignment
        if not fb.is_dir() or not any(fb.glob("*.html")):
            continue
        (ok if all((fb / n).is_file() for n in CARRIED) else missing).append(d.name)
    return ok, missing


def release(course_dir, assignment: str, out=print) -> list[str]:
    """``nbgrader release_feedback ASSIGNMENT`` for every student whose feedback can be matched to a submission
    made through the exchange; each student whose feedback cannot (a submission not made with ``nbgrader submit``
    and ``collect``, so no secret) is named on stderr.  Returns the students released."""
    course = load_course(course_dir)
    ok, missing = releasable(course.root, assignment)
    for s in missing:
        print(f"warning: feedback of {s} not released: feedback/{s}/{assignment}/ lacks timestamp.txt or "
              "submission_secret.txt (the submission did not come through nbgrader submit + collect)",
              file=sys.stderr)
    if not ok:
        out(f"no feedback of {assignment} to release")
        return ok
    args = ["release_feedback", assignment, "--log-level=WARN"]
    if missing:
        args.append(f"--CourseDirectory.student_id_exclude={','.join(missing)}")
    run_nbgrader(args, course.root, env={**os.environ})
    out(f"released the feedback of {assignment} to {len(ok)} student(s): {', '.join(ok)}")
    return ok
