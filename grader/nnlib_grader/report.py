"""The class report of one assignment and the grade export for an LMS.

``class_report``: ``grading/<A>/class.csv`` (one row per student: total, status, one column per test with the
points the gradebook holds, manual overrides included) and ``grading/<A>/class.md`` (per-test pass rates and the
most common diagnosed mistakes across the class: the first line of each failed test's message, grouped, e.g.
"41 % (12/29) test_backprop: δ^L: forgot σ'(z^L) …").  Scores come from the gradebook, messages from the
per-student result records the batch writes (``grading/<A>/results/<student>.json``, :mod:`nnlib_grader.results`),
so students graded by earlier runs are in it too.  Built from data: nothing here parses a report.

``export``: nbgrader's own ``nbgrader export`` (its CSV plugin by default: one row per student and assignment with
raw score, late penalty, score and max score), the file an LMS imports.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from nnlib.files import atomic_write
from nnlib_grader import index
from nnlib_grader import results as R
from nnlib_grader.course import Course, load_course, run_nbgrader


def _short(msg: str, width: int = 160) -> str:
    msg = re.sub(r"\s+", " ", msg).strip()
    return msg if len(msg) <= width else msg[: width - 1] + "…"


def class_report(course_dir, assignment: str, top: int = 10) -> tuple[Path, Path]:
    """Write ``class.csv`` and ``class.md`` for ``assignment`` (see the module doc); returns their paths."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    course = course_dir if isinstance(course_dir, Course) else load_course(course_dir)
    out = course.root / "grading" / assignment
    rows, _ = index.read(out)  # grades.csv with a killed run's journal applied
    tests: list[tuple[str, str]] = []
    maxima: dict[tuple[str, str], float] = {}
    points: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    totals: dict[str, float] = {}
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        try:
            a = gb.find_assignment(assignment)
        except MissingEntry:
            a = None
        if a is not None:
            for nb in a.notebooks:
                for gc in nb.grade_cells:
                    tests.append((nb.name, gc.name))
                    maxima[(nb.name, gc.name)] = float(gc.max_score)
            for student in rows:
                try:
                    s = gb.find_submission(assignment, student)
                except MissingEntry:
                    continue
                totals[student] = float(s.score) - float(s.late_submission_penalty or 0)
                for snb in s.notebooks:
                    for g in snb.grades:
                        points[student][(snb.name, g.name)] = float(g.score)
    single_nb = len({nb for nb, _ in tests}) <= 1

    def col(t):
        return t[1] if single_nb else f"{t[0]}/{t[1]}"

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["student", "score", "max_score", "status", *[col(t) for t in tests]])
    for student in sorted(rows):
        r = rows[student]
        score = totals.get(student, r.get("score", ""))
        w.writerow([student, f"{score:g}" if isinstance(score, float) else score, r.get("max_score", ""),
                    r.get("status", ""), *[f"{points[student][t]:g}" if t in points[student] else "" for t in tests]])
    csv_path = out / "class.csv"
    atomic_write(csv_path, buf.getvalue())

    # the most common diagnosed mistakes: one message, the students who made it, the tests that caught it
    who: dict[str, set] = defaultdict(set)
    where: dict[str, set] = defaultdict(set)
    for student in rows:
        try:
            res = R.load(out, student)
        except ValueError as exc:
            print(f"warning: class report without {student}'s mistakes: {exc}", file=sys.stderr)
            continue
        for (nb, gid), c in res.failed() if res else []:
            msg = _short(R.first_line(c.get("message") or "") or "(no message)")
            who[msg].add(student)
            where[msg].add(col((nb, gid)))
    mistakes = Counter({m: len(s) for m, s in who.items()})
    n = len(rows)
    graded = [s for s in rows if rows[s].get("status") == "ok"]
    mean = sum(totals.get(s, 0.0) for s in graded) / len(graded) if graded else 0.0
    max_total = sum(maxima.values())
    lines = [f"# {assignment}: class report", "",
             f"{n} student(s); {len(graded)} graded without a problem; mean score {mean:.2f} / {max_total:g}", "",
             "## tests", "", "| test | points | passed | mean |", "|---|---|---|---|"]
    for t in tests:
        have = [points[s][t] for s in rows if t in points[s]]
        full = sum(1 for v in have if v >= maxima[t] - 1e-9)
        pct = 100 * full / len(have) if have else 0
        lines.append(f"| {col(t)} | {maxima[t]:g} | {full}/{len(have)} ({pct:.0f} %) | "
                     f"{(sum(have) / len(have)) if have else 0:.2f} |")
    lines += ["", "## most common mistakes", ""]
    if not mistakes:
        lines.append("(none: every test passed)" if n else "(no submissions)")
    for msg, k in mistakes.most_common(top):
        lines.append(f"- {100 * k / n:.0f} % ({k}/{n}): {msg}  [{', '.join(sorted(where[msg]))}]")
    md_path = out / "class.md"
    atomic_write(md_path, "\n".join(lines) + "\n")
    return csv_path, md_path


def class_report_or_warn(course_dir, assignment: str) -> None:
    """``class_report`` after a grading run: a report problem is a warning, never a lost grade."""
    try:
        class_report(course_dir, assignment)
    except Exception as exc:  # noqa: BLE001
        print(f"warning: no class report: {type(exc).__name__}: {exc}", file=sys.stderr)


def export(course_dir=".", to: str | None = None, assignments: list[str] | None = None,
           students: list[str] | None = None, plugin: str | None = None) -> Path:
    """``nbgrader export`` (CSV plugin unless ``plugin`` names another ``module.Class``) → the written file."""
    course = load_course(course_dir)
    dest = Path(to).resolve() if to else course.root / "grading" / "export.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    args = ["export", f"--to={dest}", "--log-level=WARN"]
    args += [f"--assignment={a}" for a in assignments or []]
    args += [f"--student={s}" for s in students or []]
    if plugin:
        args.append(f"--exporter={plugin}")
    run_nbgrader(args, course.root)
    if not dest.exists():
        raise RuntimeError(f"nbgrader export wrote no {dest}")
    return dest
