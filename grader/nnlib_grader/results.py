"""The results of a grading run as data, and the files that hold them.

``grading/<A>/results/<student>.json`` is the record of one student's last grading (score, status, each
test's points and message), written by the batch; every human-readable file is rendered from records:
``reports/<student>.md`` and ``report.md`` here, ``class.csv``/``class.md`` by :mod:`nnlib_grader.report`.
``grades.csv`` (one row per student) is the batch's own index.  Nothing here parses text it wrote.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnlib.files import atomic_write

CSV_FIELDS = ["student", "assignment", "score", "max_score", "status"]
RECORD_VERSION = 1


@dataclass
class Result:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "error"
    message: str = ""
    cells: dict = field(default_factory=dict)   # (notebook, grade_id) -> cell result dict
    seconds: float = 0.0
    sha: str = ""

    def failed(self) -> list[tuple[tuple[str, str], dict]]:
        """The automatically graded tests that failed, in order."""
        return [(k, c) for k, c in self.cells.items() if c.get("kind") != "manual" and not c.get("passed")]

    def to_record(self) -> dict[str, Any]:
        tests = [{"notebook": nb, "grade_id": gid, **{k: c.get(k) for k in ("kind", "passed", "points",
                                                                            "max_points", "message")}}
                 for (nb, gid), c in self.cells.items()]
        return {"version": RECORD_VERSION, "student": self.student, "assignment": self.assignment,
                "score": self.score, "max_score": self.max_score, "status": self.status, "message": self.message,
                "seconds": self.seconds, "sha": self.sha, "tests": tests}

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Result:
        if not isinstance(rec, dict) or rec.get("version") != RECORD_VERSION:
            raise ValueError(f"not a version-{RECORD_VERSION} result record")
        cells = {(t["notebook"], t["grade_id"]): {k: v for k, v in t.items() if k not in ("notebook", "grade_id")}
                 for t in rec.get("tests", [])}
        return cls(str(rec["student"]), str(rec["assignment"]), float(rec["score"]), float(rec["max_score"]),
                   str(rec["status"]), str(rec.get("message", "")), cells, float(rec.get("seconds", 0.0)),
                   str(rec.get("sha", "")))


def first_line(message: str) -> str:
    """A test message's first logical line: its first line with the wrapped continuation lines (indented by two)
    joined to it, up to the "(test case: …)" part, which names the case and not the mistake."""
    out: list[str] = []
    for line in str(message).splitlines():
        text = line.strip()
        if not out:
            if text:
                out.append(text)
            continue
        if not text or not line.startswith("  ") or text.startswith("(test case"):
            break
        out.append(text)
    return " ".join(out)


# -- files --------------------------------------------------------------------------------------------------------
def save(out: Path, res: Result) -> None:
    """Write the student's record and the per-student report rendered from it."""
    atomic_write(out / "results" / f"{res.student}.json", json.dumps(res.to_record(), indent=1))
    atomic_write(out / "reports" / f"{res.student}.md", render(res))


def load(out: Path, student: str) -> Result | None:
    """The student's last record, or None (never graded, or written by a grader older than records)."""
    path = out / "results" / f"{student}.json"
    try:
        return Result.from_record(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: unreadable result record ({type(exc).__name__}: {exc}); regrade with "
                         "--force to write it again") from None


def render(res: Result) -> str:
    """The per-student report (markdown) of one record."""
    lines = [f"# {res.student} — {res.assignment}", "",
             f"score: {res.score:g} / {res.max_score:g}   status: {res.status}   ({res.seconds:.1f}s)", ""]
    if res.message:
        lines += ["## grading problem", "", *[f"    {x}" for x in res.message.strip().splitlines()[-15:]], ""]
    failed = res.failed()
    if failed:
        lines += ["## failed tests", ""]
        for (nb, gid), c in failed:
            lines.append(f"- {nb} / {gid}  ({c['points']:g}/{c['max_points']:g})")
            lines += [f"      {x}" for x in str(c.get("message", "")).splitlines()[:12]]
    elif res.status == "ok":
        lines.append("all tests passed")
    return "\n".join(lines) + "\n"


def write_summary(out: Path, assignment: str, students: list[str]) -> None:
    """``report.md``: every student's report, one after the other, rendered from the records."""
    lines = [f"# {assignment}: failure report", ""]
    for student in sorted(students):
        try:
            res = load(out, student)
            body = render(res) if res else f"# {student}\n(no report)\n"
        except ValueError as exc:
            body = f"# {student}\n({exc})\n"
        lines += [body.replace("# ", "## ", 1), ""]
    atomic_write(out / "report.md", "\n".join(lines))


def read_grades(csv_path: Path) -> dict[str, dict]:
    if not csv_path.exists():
        return {}
    try:
        with open(csv_path, newline="") as fh:
            return {row["student"]: row for row in csv.DictReader(fh) if row.get("student")}
    except (OSError, csv.Error, KeyError):
        return {}


def write_grades(csv_path: Path, rows: dict[str, dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    w.writeheader()
    for student in sorted(rows):
        w.writerow({k: rows[student].get(k, "") for k in CSV_FIELDS})
    atomic_write(csv_path, buf.getvalue())
