"""Per-student extensions (``extensions.csv``) and late penalties recomputed from the current due dates.

``extensions.csv`` (next to ``nbgrader_config.py``), one row per student and assignment:

    student,assignment,due,hours
    jdoe,a05_backprop,2026-03-08 23:59,
    cokafor,a05_backprop,,48

``due`` (ISO 8601, ``2026-03-08 23:59`` or ``2026-03-08T23:59-05:00``: UTC unless it names its offset; a trailing
`` UTC`` as in nbgrader's timestamps is accepted) or ``hours`` (extra hours
after the assignment's due date), exactly one of them.  The extension is stored where nbgrader keeps it, on the
student's submission (``SubmittedAssignment.extension``; the student's due date is the assignment's plus it, and
``total_seconds_late`` counts from there), so the formgrader and ``nbgrader export`` see the same due date.

:func:`apply` sets every submission's extension to what the file says (a row removed: the extension is removed)
and recomputes the late penalty of every submission of the assignment with nbgrader's own plugin and config
(``AssignLatePenalties``), so a changed assignment due date (formgrader, Manage Assignments) or a changed row takes
effect.  ``grade`` runs it after each run; ``python -m nnlib_grader extensions apply`` runs it on its own.
A row for a student who has not submitted waits: it is applied when that submission is graded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

FILE = "extensions.csv"


class ExtensionError(ValueError):
    """A bad row of extensions.csv (the message names the file and line)."""


@dataclass(frozen=True)
class Extension:
    student: str
    assignment: str
    due: dt.datetime | None = None   # naive UTC, as nbgrader stores due dates
    hours: float | None = None
    line: int = 0


def read(path) -> dict[tuple[str, str], Extension]:
    """``extensions.csv`` as ``{(student, assignment): Extension}``; a missing file is empty."""
    path = Path(path)
    if not path.exists():
        return {}
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    fields = [f.strip() for f in rows.fieldnames or []]
    missing = [c for c in ("student", "assignment") if c not in fields]
    if missing or not ({"due", "hours"} & set(fields)):
        raise ExtensionError(f"{path}: the header must be student,assignment,due,hours (it is: {', '.join(fields)})")
    out: dict[tuple[str, str], Extension] = {}
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        where = f"{path}, line {line}"
        student, assignment, due, hours = row["student"], row["assignment"], row.get("due", ""), row.get("hours", "")
        if not student or not assignment:
            raise ExtensionError(f"{where}: student and assignment are required")
        if bool(due) == bool(hours):
            raise ExtensionError(f"{where}: give exactly one of due (a date-time) and hours (extra hours)")
        if (student, assignment) in out:
            raise ExtensionError(f"{where}: {student} / {assignment} appears twice (line "
                                 f"{out[(student, assignment)].line})")
        try:
            ext = (Extension(student, assignment, due=_utc(due), line=line) if due
                   else Extension(student, assignment, hours=float(hours), line=line))
        except (ValueError, OverflowError) as exc:
            raise ExtensionError(f"{where}: cannot read {'due ' + repr(due) if due else 'hours ' + repr(hours)} "
                                 f"({exc})") from None
        if ext.hours is not None and not ext.hours > 0:
            raise ExtensionError(f"{where}: hours must be positive (got {hours})")
        out[(student, assignment)] = ext
    return out


def _utc(text: str) -> dt.datetime:
    """ISO 8601 → naive UTC (the standard library's parser: nbgrader's ``parse_utc`` reads ``23:59 -0100`` as
    ``00:00:40``); a form it refuses is an error, never a guess."""
    t = dt.datetime.fromisoformat(text.removesuffix(" UTC").removesuffix("Z").strip())
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def penalty_plugin(config):
    """nbgrader's late-penalty plugin as the course configures it (``AssignLatePenalties``), made once per run."""
    from nbgrader.preprocessors import AssignLatePenalties

    alp = AssignLatePenalties(config=config)
    return alp.plugin_class(parent=alp)


def assign_penalty(gb, plugin, sub) -> None:
    """nbgrader's late penalty of each notebook of ``sub`` (a ``SubmittedAssignment``), from the notebook's
    current score (read again: the grades may have changed in this transaction) and the student's own due date
    (the assignment's plus any extension).  Nothing is committed: the caller's transaction holds it."""
    late = sub.total_seconds_late
    for nb in sub.notebooks:
        gb.db.expire(nb, ["score"])
        nb.late_submission_penalty = None
        if late > 0:
            penalty = plugin.late_submission_penalty(sub.student.id, nb.score, late)
            if penalty is not None:
                nb.late_submission_penalty = min(penalty, nb.score)


def _extension_of(ext: Extension | None, duedate: dt.datetime | None) -> dt.timedelta | None:
    if ext is None:
        return None
    if ext.hours is not None:
        if duedate is None:
            raise ExtensionError(f"{FILE}, line {ext.line}: {ext.assignment} has no due date to extend by hours "
                                 "(set it in the formgrader, or give due instead)")
        return dt.timedelta(hours=ext.hours)
    if duedate is None:
        raise ExtensionError(f"{FILE}, line {ext.line}: {ext.assignment} has no due date (set it in the formgrader)")
    if ext.due < duedate:
        raise ExtensionError(f"{FILE}, line {ext.line}: due {ext.due} is before {ext.assignment}'s due date "
                             f"{duedate} (an extension moves it later)")
    return ext.due - duedate


def apply(course_dir, assignment: str | None = None, out=print) -> list[str]:
    """Set each submission's extension from ``extensions.csv`` and recompute every late penalty of ``assignment``
    (all assignments when None).  Returns (and prints with ``out``) one line per submission that changed."""
    from nbgrader.api import Gradebook

    from nnlib_grader.course import load_course

    course = load_course(course_dir)
    exts = read(course.root / FILE)
    plugin = penalty_plugin(course.config)
    changed: list[str] = []
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        names = [assignment] if assignment else [a.name for a in gb.assignments]
        for name in names:  # one transaction per assignment, its submissions read in a few queries
            a = gb.find_assignment(name)
            subs = _submissions(gb, a)
            before = {s.id: (s.extension, _penalty(s)) for s in subs}
            try:
                for s in subs:
                    s.extension = _extension_of(exts.get((s.student.id, name)), a.duedate)
                gb.db.flush()
                for s in subs:
                    assign_penalty(gb, plugin, s)
                lines = [f"{s.student.id} {name}: due {f'{s.duedate} UTC' if s.duedate else 'no due date'}, late "
                         f"penalty {before[s.id][1]:g} -> {_penalty(s):g}"
                         for s in subs if (s.extension, _penalty(s)) != before[s.id]]  # read before the commit
                gb.db.commit()  # expires every row read: nothing of them is read after it
            except BaseException:
                gb.db.rollback()
                raise
            changed += lines
        pending = sorted(f"{s} {n}" for (s, n) in exts if n in names and not _has_submission(gb, n, s))
        known = {a.name for a in gb.assignments}
        unknown = sorted({f"line {e.line}: {n}" for (_, n), e in exts.items() if n not in known})
    for line in changed:
        out(line)
    if unknown:
        out(f"warning: {FILE} names assignments not in the gradebook: {'; '.join(unknown)}")
    if pending:
        out(f"waiting for a graded submission (applied when graded): {', '.join(pending)}")
    return changed


def _submissions(gb, a) -> list:
    """The submissions of assignment ``a`` with their students and notebooks (three queries, not one per row)."""
    from nbgrader.api import SubmittedAssignment
    from sqlalchemy.orm import joinedload, selectinload

    return (gb.db.query(SubmittedAssignment).filter(SubmittedAssignment.assignment_id == a.id)
            .options(joinedload(SubmittedAssignment.student), joinedload(SubmittedAssignment.assignment),
                     selectinload(SubmittedAssignment.notebooks)).all())


def _penalty(sub) -> float:
    """The submission's late penalty: the sum over its notebooks, as nbgrader's column of the same name."""
    return sum(nb.late_submission_penalty or 0.0 for nb in sub.notebooks)


def _has_submission(gb, assignment: str, student: str) -> bool:
    from nbgrader.api import MissingEntry

    try:
        gb.find_submission(assignment, student)
        return True
    except MissingEntry:
        return False
