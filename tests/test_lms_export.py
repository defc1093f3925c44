"""``python -m nnlib_grader export --format canvas|moodle`` against fixtures of the real formats (issue 20, item 4).

A gradebook built with nbgrader's API (two assignments with due dates, a late penalty, a missing submission);
a roster; the export read back by a reader written against ``tests/fixtures/canvas_gradebook_export.csv`` (what
Canvas's Grades → Export writes; its import reads the same layout) and ``moodle_grades_export.csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nnlib_grader import lms

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).resolve().parent / "fixtures"
TITLE_ID = re.compile(r"^(?P<title>.+) \((?P<id>\d+)\)$")  # Canvas's assignment column: "<title> (<id>)"


def canvas_read(path: Path) -> tuple[list[str], dict[str, float], dict[str, dict[str, str]]]:
    """The Canvas gradebook CSV as its import reads it: the identity columns, the assignment columns (titled
    ``title (id)``) up to the first read-only one, the Points Possible row, one row per student keyed by ID."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    head, points = rows[0], rows[1]
    assert head[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"], head
    assert points[0].strip() == "Points Possible" and points[0].startswith("    ") and points[1:5] == [""] * 4
    cols = [i for i in range(5, len(head)) if points[i] != "(read only)"]
    possible = {head[i]: float(points[i]) for i in cols}
    students = {r[1] or r[3]: {"name": r[0], "section": r[4], **{head[i]: r[i] for i in cols}} for r in rows[2:]}
    return [head[i] for i in cols], possible, students


def test_the_reader_reads_the_canvas_fixture():
    cols, possible, students = canvas_read(FIX / "canvas_gradebook_export.csv")
    assert cols == ["Perceptron (118204)", "XOR network (118205)"] and all(TITLE_ID.match(c) for c in cols)
    assert possible == {"Perceptron (118204)": 9.0, "XOR network (118205)": 6.0}
    assert students["48213"]["XOR network (118205)"] == "4.50"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The gradebook, built once (nbgrader creates it through alembic: seconds)."""
    import warnings

    from nbgrader.api import Gradebook

    warnings.simplefilter("ignore")
    root = tmp_path_factory.mktemp("lms") / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'nnlib'\n")
    due = dt.datetime(2026, 3, 1, 12)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for name, days, cells in (("a02_xor", 7, {"xor": 6.0}), ("a01_perceptron", 0, {"p1": 4.0, "p2": 5.0})):
            gb.add_assignment(name, duedate=due + dt.timedelta(days=days))
            gb.add_notebook(name, name)
            for cell, pts in cells.items():
                gb.add_grade_cell(cell, name, name, max_score=pts, cell_type="code")
        for sid, first, last in (("jdoe", "Jane", "Doe"), ("cokafor", "Chidi", "Okafor")):
            gb.add_student(sid, first_name=first, last_name=last)
        for sid, a, scores, penalty in (("jdoe", "a01_perceptron", {"p1": 4.0, "p2": 5.0}, 0.0),
                                        ("jdoe", "a02_xor", {"xor": 6.0}, 1.5),
                                        ("cokafor", "a01_perceptron", {"p1": 4.0, "p2": 2.0}, 0.0)):
            sub = gb.add_submission(a, sid)
            for nb in sub.notebooks:
                for g in nb.grades:
                    g.auto_score = scores[g.name]
                nb.late_submission_penalty = penalty
            gb.db.commit()
    return root


@pytest.fixture
def course(built, tmp_path):
    return Path(shutil.copytree(built, tmp_path / "course"))


ROSTER = ("student,name,canvas_id,sis_user_id,sis_login_id,section,email,idnumber\n"
          "jdoe,Jane Doe,48213,jd0001,jdoe,NN 2026 Section 01,jane.doe@example.edu,jd0001\n"
          "cokafor,Chidi Okafor,48217,co0042,cokafor,NN 2026 Section 02,chidi.okafor@example.edu,co0042\n"
          "tnew,Tess New,48230,tn0007,tnew,NN 2026 Section 01,tess.new@example.edu,tn0007\n")
IDS = "assignment,lms_id,title\na01_perceptron,118204,Perceptron\na02_xor,118205,XOR network\n"


def cli(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nnlib_grader", "export", "--course", str(course), *args],
                          capture_output=True, text=True, timeout=120)


def test_canvas_export_reads_back_as_canvas_reads_it(course, tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "ids.csv").write_text(IDS)
    r = cli(course, "--format", "canvas", "--roster", str(tmp_path / "roster.csv"),
            "--assignment-ids", str(tmp_path / "ids.csv"), "--to", str(tmp_path / "canvas.csv"))
    assert r.returncode == 0, r.stderr
    cols, possible, students = canvas_read(tmp_path / "canvas.csv")
    fixture_cols, *_ = canvas_read(FIX / "canvas_gradebook_export.csv")
    assert cols == fixture_cols  # due-date order, titled "<title> (<Canvas id>)" as Canvas names them
    assert possible == {"Perceptron (118204)": 9.0, "XOR network (118205)": 6.0}
    assert students["48213"] == {"name": "Jane Doe", "section": "NN 2026 Section 01", "Perceptron (118204)": "9.00",
                                 "XOR network (118205)": "4.50"}  # 6 minus the 1.5 late penalty
    assert students["48217"]["Perceptron (118204)"] == "6.00" and students["48217"]["XOR network (118205)"] == "0.00"
    assert students["48230"]["Perceptron (118204)"] == "0.00"  # on the roster, never submitted: 0 as in nbgrader


def test_moodle_export_has_moodles_columns(course, tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER)
    out = lms.export(course, "moodle", tmp_path / "roster.csv", tmp_path / "moodle.csv")
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(FIX / "moodle_grades_export.csv", newline="") as fh:
        moodle_head = next(csv.reader(fh))
    assert list(rows[0])[:4] == ["First name", "Last name", "ID number", "Email address"]
    assert set(list(rows[0])[:4]) <= set(moodle_head)  # spelt as Moodle spells them
    assert list(rows[0])[4:] == ["a01_perceptron", "a02_xor"]
    jane = next(r for r in rows if r["ID number"] == "jd0001")
    assert (jane["First name"], jane["Last name"], jane["Email address"]) == ("Jane", "Doe", "jane.doe@example.edu")
    assert (jane["a01_perceptron"], jane["a02_xor"]) == ("9.00", "4.50")


def test_students_missing_from_the_roster_are_named_and_nothing_written(course, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join(ROSTER.splitlines()[:2]) + "\n")  # cokafor is missing
    dest = tmp_path / "canvas.csv"
    r = cli(course, "--format", "canvas", "--roster", str(roster), "--to", str(dest))
    assert r.returncode == 2 and "cokafor" in r.stderr and str(roster) in r.stderr, r.stderr
    assert not dest.exists()


@pytest.mark.parametrize("text, words", [("name,email\nx,y\n", ["no column student"]),
                                         ("student,name\njdoe,A\njdoe,B\n", ["line 3", "'jdoe' appears twice"]),
                                         ("student,name\n,A\n", ["line 2", "empty student id"])])
def test_a_bad_roster_is_named(text, words, course, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(text)
    with pytest.raises(lms.ExportError) as err:
        lms.export(course, "canvas", roster, tmp_path / "out.csv")
    assert str(roster) in str(err.value) and all(w in str(err.value) for w in words), err.value
    assert not (tmp_path / "out.csv").exists()


def test_canvas_without_roster_is_refused(course):
    r = cli(course, "--format", "canvas")
    assert r.returncode == 2 and "--roster" in r.stderr, r.stderr
