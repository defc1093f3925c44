"""Grades out to an LMS: Canvas's gradebook import CSV and Moodle's grade import CSV (docs/workflow.md).

Scores come from nbgrader's gradebook exactly as ``nbgrader export`` computes them (``nbgrader/plugins/export.py``):
per student and assignment ``max(0, score - late_submission_penalty)``, and 0 for an assignment the student did
not submit.  What nbgrader does not know (the LMS's ids, sections, e-mail) comes from a *roster*, a CSV the
instructor downloads or writes once:

    student,name,canvas_id,sis_user_id,sis_login_id,section,email,idnumber

``student`` (nbgrader's student id) is required, the rest may be empty.  Every student of the gradebook must be in
the roster: one who is not is named in the error and nothing is written (no student is silently dropped); a
roster student who never submitted gets 0 like nbgrader's export.  Assignments are ordered by due date, then name.

Canvas (Grades → Import; the file Grades → Export writes): ``Student, ID, SIS User ID, SIS Login ID, Section``,
then one column per assignment titled ``<title> (<Canvas assignment id>)``, and a second row
``    Points Possible`` with each assignment's maximum, as Canvas exports it.  Canvas matches a row to a student by
ID, SIS User ID or SIS Login ID, and a column to an assignment by the id in parentheses; a column without one
(an assignment missing from ``--assignment-ids``) becomes a new assignment on import.
Moodle (Grades → Import → CSV file): ``First name, Last name, ID number, Email address``, then one column per
assignment (titled by ``--assignment-ids``' title or the assignment name); the import maps a user by ID number or
e-mail and each column to a grade item.

Written with the standard library's :mod:`csv` (the formats are plain RFC 4180 CSV) and
:func:`nnlib.files.atomic_write`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from nnlib.files import atomic_write
from nnlib_grader.course import load_course

ROSTER_COLUMNS = ("student", "name", "canvas_id", "sis_user_id", "sis_login_id", "section", "email", "idnumber")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_IDENTITY = ("First name", "Last name", "ID number", "Email address")
POINTS_POSSIBLE = "    Points Possible"


class ExportError(ValueError):
    """Bad roster or assignment-id file, or students the roster lacks (the message names them)."""


@dataclass
class Grades:
    assignments: list[str]                  # ordered by due date, then name
    max_scores: dict[str, float]
    scores: dict[str, dict[str, float]]     # student -> assignment -> score after the late penalty


def _read_csv(path, required: tuple[str, ...], what: str) -> list[dict[str, str]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is not part of the first header
    except OSError as exc:
        raise ExportError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in reader.fieldnames or []]
    missing = [c for c in required if c not in fields]
    if missing:
        raise ExportError(f"{what} {path}: no column {', '.join(missing)} (its header: {', '.join(fields) or 'none'})")
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def read_roster(path) -> dict[str, dict[str, str]]:
    """The roster (module doc) as ``{student: row}``; a duplicate or empty ``student`` is an error naming the line."""
    roster: dict[str, dict[str, str]] = {}
    for line, row in enumerate(_read_csv(path, ("student",), "roster"), start=2):
        sid = row.get("student", "")
        if not sid:
            raise ExportError(f"roster {path}, line {line}: empty student id")
        if sid in roster:
            raise ExportError(f"roster {path}, line {line}: student {sid!r} appears twice")
        roster[sid] = {c: row.get(c, "") for c in ROSTER_COLUMNS}
    return roster


def read_assignment_ids(path) -> dict[str, tuple[str, str]]:
    """``assignment,lms_id[,title]`` → ``{assignment: (lms_id, title)}`` (title defaults to the assignment)."""
    out = {}
    for line, row in enumerate(_read_csv(path, ("assignment", "lms_id"), "assignment ids"), start=2):
        if not row["assignment"]:
            raise ExportError(f"assignment ids {path}, line {line}: empty assignment")
        out[row["assignment"]] = (row["lms_id"], row.get("title") or row["assignment"])
    return out


def gradebook_grades(course_dir, assignments: list[str] | None = None) -> Grades:
    """Scores of every gradebook student on every (or the named) assignment, as ``nbgrader export`` computes them."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    course = load_course(course_dir)
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        known = {a.name: a for a in gb.assignments}
        unknown = [a for a in assignments or [] if a not in known]
        if unknown:
            raise ExportError(f"no assignment {', '.join(unknown)} in the gradebook ({course.db_url})")
        chosen = sorted((known[a] for a in (assignments or known)),
                        key=lambda a: (a.duedate is None, a.duedate or 0, a.name))
        names = [a.name for a in chosen]
        grades = Grades(names, {a.name: float(a.max_score) for a in chosen}, {})
        for s in gb.students:
            row = grades.scores.setdefault(s.id, {})
            for a in names:
                try:
                    sub = gb.find_submission(a, s.id)
                except MissingEntry:
                    row[a] = 0.0
                    continue
                row[a] = max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0.0))
    return grades


def _check_roster(grades: Grades, roster: dict[str, dict[str, str]], roster_path) -> None:
    absent = sorted(set(grades.scores) - set(roster))
    if absent:
        raise ExportError(f"{len(absent)} student(s) of the gradebook are not in the roster {roster_path}: "
                          f"{', '.join(absent)} (add a row for each; nothing was written)")


def _num(x: float) -> str:
    return f"{x:.2f}"


def _title(a: str, ids: dict[str, tuple[str, str]]) -> str:
    return ids[a][1] if a in ids else a


def canvas_rows(grades: Grades, roster: dict, ids: dict[str, tuple[str, str]]) -> list[list[str]]:
    head = [*CANVAS_IDENTITY, *(f"{_title(a, ids)} ({ids[a][0]})" if ids.get(a, ("",))[0] else _title(a, ids)
                                for a in grades.assignments)]
    rows = [head, [POINTS_POSSIBLE, "", "", "", "", *(_num(grades.max_scores[a]) for a in grades.assignments)]]
    for sid in sorted(roster, key=lambda s: (roster[s]["name"] or s).lower()):
        r = roster[sid]
        scores = grades.scores.get(sid, {})
        rows.append([r["name"] or sid, r["canvas_id"], r["sis_user_id"], r["sis_login_id"], r["section"],
                     *(_num(scores.get(a, 0.0)) for a in grades.assignments)])
    return rows


def moodle_rows(grades: Grades, roster: dict, ids: dict[str, tuple[str, str]]) -> list[list[str]]:
    rows = [[*MOODLE_IDENTITY, *(_title(a, ids) for a in grades.assignments)]]
    for sid in sorted(roster):
        r = roster[sid]
        first, _, last = (r["name"] or sid).rpartition(" ")  # "Jane Q. Doe" -> "Jane Q.", "Doe"
        scores = grades.scores.get(sid, {})
        rows.append([first, last, r["idnumber"] or sid, r["email"],
                     *(_num(scores.get(a, 0.0)) for a in grades.assignments)])
    return rows


def export(course_dir, fmt: str, roster_path, to=None, assignments: list[str] | None = None,
           assignment_ids=None) -> Path:
    """Write the ``fmt`` (``canvas`` or ``moodle``) CSV; returns its path (default ``grading/<fmt>.csv``)."""
    if fmt not in ("canvas", "moodle"):
        raise ExportError(f"--format {fmt!r}: one of csv, canvas, moodle")
    if roster_path is None:
        raise ExportError(f"--format {fmt} needs --roster FILE (student,name,canvas_id,sis_user_id,sis_login_id,"
                          "section,email,idnumber)")
    roster = read_roster(roster_path)
    ids = read_assignment_ids(assignment_ids) if assignment_ids else {}
    grades = gradebook_grades(course_dir, assignments)
    _check_roster(grades, roster, roster_path)
    rows = (canvas_rows if fmt == "canvas" else moodle_rows)(grades, roster, ids)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    dest = Path(to).resolve() if to else load_course(course_dir).root / "grading" / f"{fmt}.csv"
    atomic_write(dest, buf.getvalue())
    return dest
