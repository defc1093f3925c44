"""Finding the submissions in a folder: one per student, every skipped entry named."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

STUDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")
MAX_FILE_BYTES = 20 * 2**20
MAX_SUBMISSION_BYTES = 100 * 2**20


@dataclass
class Submission:
    student: str
    notebooks: dict[str, Path]          # notebook name (no suffix) -> file
    timestamp: datetime | None = None   # from nbgrader's timestamp.txt
    sha: str = ""
    problems: list[str] = field(default_factory=list)
    folder: Path | None = None          # the submission's folder (nbgrader's timestamp.txt, submission_secret.txt)


def _timestamp(folder: Path) -> datetime | None:
    ts = folder / "timestamp.txt"
    if not ts.is_file() or ts.stat().st_size > 200:
        return None
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(ts.read_text().strip())
    except Exception:  # noqa: BLE001 - a bad timestamp is reported as missing
        return None


def _sha(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def discover(folder: Path, assignment: str, notebook_names: list[str]) -> tuple[list[Submission], list[str]]:
    """Layouts: FOLDER/<student>/<assignment>/*.ipynb (nbgrader's submitted/; FOLDER/<student>/*.ipynb too),
    or FOLDER/<student>.ipynb for a single-notebook assignment.  Returns (submissions, skipped: one line each)."""
    found: dict[str, list[tuple[str, Submission]]] = {}
    skipped: list[str] = []
    wanted = {n.lower(): n for n in notebook_names}
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith("."):
            skipped.append(f"{entry.name}: hidden entry, ignored")
            continue
        if entry.is_symlink():
            skipped.append(f"{entry.name}: a symbolic link, ignored")
            continue
        is_nb = entry.is_file() and entry.suffix.lower() == ".ipynb"
        name = entry.stem if is_nb else entry.name
        if entry.is_file() and not is_nb:
            skipped.append(f"{entry.name}: not a notebook (.ipynb) or a student folder")
            continue
        if not STUDENT_RE.match(name):
            skipped.append(f"{entry.name}: {name!r} is not a valid student id (letters, digits, _ . @ + -)")
            continue
        if entry.is_dir():
            base = entry / assignment if (entry / assignment).is_dir() else entry
            nbs, notes = {}, []
            for p in sorted(base.iterdir()):
                if p.is_file() and not p.is_symlink() and p.suffix.lower() == ".ipynb":
                    key = p.stem.lower()
                    if key in wanted:
                        nbs[wanted[key]] = p
                    else:
                        notes.append(f"{entry.name}/{p.name}: not a notebook of {assignment}, ignored")
            skipped += notes
            if not nbs:
                skipped.append(f"{entry.name}: no notebook of {assignment} ({', '.join(notebook_names)}) in {base}")
                continue
            sub = Submission(name, nbs, _timestamp(base), folder=base)
        else:
            if len(notebook_names) != 1:
                skipped.append(f"{entry.name}: FOLDER/<student>.ipynb needs a single-notebook assignment")
                continue
            sub = Submission(name, {notebook_names[0]: entry})
        found.setdefault(name.lower(), []).append((entry.name, sub))
    subs = []
    for _key, entries in sorted(found.items()):
        if len(entries) > 1:
            skipped.append(f"{' and '.join(e for e, _ in entries)}: the same student id appears more than once "
                           "(ids are compared without case); neither is graded — keep one")
            continue
        sub = entries[0][1]
        too_big = [p for p in sub.notebooks.values() if p.stat().st_size > MAX_FILE_BYTES]
        if too_big:
            skipped.append(f"{sub.student}: {too_big[0].name} is {too_big[0].stat().st_size / 2**20:.1f} MiB, over "
                           f"the {MAX_FILE_BYTES // 2**20} MiB limit for a notebook; not graded")
            continue
        sub.sha = _sha(list(sub.notebooks.values())) + (sub.timestamp.isoformat() if sub.timestamp else "")
        subs.append(sub)
    return subs, skipped
