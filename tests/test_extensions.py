"""Per-student extensions (``extensions.csv``) and late penalties recomputed when a date changes (issue 20, item 4).

The first test grades real submissions (a01_perceptron, as tests/test_workflow.py's late-penalty test does): a
student one day late with a 48-hour extension gets no penalty, one without gets nbgrader's 'zero' penalty; then
the extension row is removed and ``python -m nnlib_grader extensions apply`` gives the penalty back, and moving
the assignment's due date later removes it.  The rest run on a gradebook built with nbgrader's API.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from test_workflow import MAX, A, add_sub, env_for, grade_here, make_course

from nnlib_grader import extensions

DUE = dt.datetime(2026, 3, 1, 12, 0)
ZERO = 'c.LateSubmissionPlugin.penalty_method = "zero"'


def penalties(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        return {s.student.id: s.late_submission_penalty for s in gb.find_assignment(A).submissions}


def set_due(course: Path, due: dt.datetime) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment(A, duedate=due)


def apply_cli(tmp_path: Path, course: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nnlib_grader", "extensions", "apply", "--course", str(course)],
                          env=env_for(tmp_path), capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_extension_moves_one_students_due_date_and_penalties_follow_the_dates(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))  # alembic
    course = make_course(tmp_path, ZERO)
    set_due(course, DUE)
    for s in ("extended", "late"):
        add_sub(course / "subs", s, timestamp="2026-03-02 12:00:00.000000 UTC")  # one day late
    (course / "extensions.csv").write_text(f"student,assignment,due,hours\nextended,{A},,48\n")
    grade_here(course)
    assert penalties(course) == {"extended": 0.0, "late": MAX}

    (course / "extensions.csv").write_text(f"student,assignment,due,hours\nlate,{A},2026-03-03 12:00,\n")
    r = apply_cli(tmp_path, course)
    assert r.returncode == 0, r.stderr
    assert penalties(course) == {"extended": MAX, "late": 0.0}  # the removed row takes the extension away
    assert "late a01_perceptron: due 2026-03-03 12:00:00 UTC" in r.stdout, r.stdout

    set_due(course, DUE + dt.timedelta(days=2))  # the assignment's due date moves (formgrader)
    assert apply_cli(tmp_path, course).returncode == 0
    assert penalties(course) == {"extended": 0.0, "late": 0.0}


@pytest.mark.parametrize("text, words", [
    ("student,assignment,due,hours\nx,a,,\n", ["line 2", "exactly one of due"]),
    ("student,assignment,due,hours\nx,a,2026-03-01,5\n", ["line 2", "exactly one of due"]),
    ("student,assignment,due,hours\nx,a,,-3\n", ["line 2", "hours must be positive"]),
    ("student,assignment,due,hours\nx,a,,soon\n", ["line 2", "cannot read hours 'soon'"]),
    ("student,assignment,due,hours\nx,a,next week,\n", ["line 2", "cannot read due 'next week'"]),
    ("student,assignment,due,hours\nx,a,,5\nx,a,,6\n", ["line 3", "appears twice (line 2)"]),
    ("student,when\nx,y\n", ["the header must be student,assignment,due,hours"])])
def test_a_bad_extensions_file_is_named(text, words, tmp_path):
    path = tmp_path / "extensions.csv"
    path.write_text(text)
    with pytest.raises(extensions.ExtensionError) as err:
        extensions.read(path)
    assert str(path) in str(err.value) and all(w in str(err.value) for w in words), err.value


def test_due_dates_are_read_as_utc(tmp_path):
    path = tmp_path / "extensions.csv"
    path.write_text("student,assignment,due,hours\nx,a,2026-03-08 23:59:00-01:00,\ny,a,,1.5\n"
                    "z,a,2026-03-08 23:59:00 UTC,\nw,a,2026-03-08T23:59,\n")
    got = extensions.read(path)
    assert got[("x", "a")].due == dt.datetime(2026, 3, 9, 0, 59) and got[("y", "a")].hours == 1.5
    assert got[("z", "a")].due == got[("w", "a")].due == dt.datetime(2026, 3, 8, 23, 59)
    path.write_text("student,assignment,due,hours\nx,a,2026-03-08 23:59:00 -0100,\n")  # parse_utc: 00:00:40
    assert extensions.read(path)[("x", "a")].due == dt.datetime(2026, 3, 9, 0, 59)
    assert extensions.read(tmp_path / "none.csv") == {}


def test_an_extension_earlier_than_the_due_date_is_refused():
    ext = extensions.Extension("x", "a", due=DUE - dt.timedelta(hours=1), line=4)
    with pytest.raises(extensions.ExtensionError, match="line 4: due .* is before a's due date"):
        extensions._extension_of(ext, DUE)
    assert extensions._extension_of(extensions.Extension("x", "a", hours=36), DUE) == dt.timedelta(hours=36)
    assert extensions._extension_of(None, DUE) is None
