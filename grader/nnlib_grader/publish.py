"""``publish DIR``: the student distribution of the course — nothing hidden ships to students.

What goes in: the course's tracked files (``git ls-files`` when the course is a git checkout, else every file),
less what only the instructor has: ``solutions/`` (the sources, with solutions and hidden tests), ``grader/``
(this package), ``tests/``,
``.git`` (its history holds every solution ever committed), ``.ci/``, ``grading/``, the gradebook,
``submitted/``, ``autograded/``, ``feedback/``, ``release/``, ``source/``, the exchange.  ``exercises/`` is
generated afresh from ``solutions/`` by nbgrader (``generate_assignment --no-db``), so it is exactly what the
sources release, whatever the course's own ``exercises/`` holds.  ``run.sh`` and the README default to the
student mode (no formgrader, no Create Assignment panel).

Then every shipped file is checked: no nbgrader solution or hidden-test marker in any text file, and every
solution cell of every notebook holds nbgrader's stub (nothing filled in).  A check that fails removes the
distribution and raises :class:`PublishError` naming the file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from nnlib_grader.authoring import sync_sources
from nnlib_grader.course import list_assignments, load_course, run_nbgrader

EXCLUDED_TOP = {"solutions", "grader", "tests", ".git", ".ci", ".github", "grading", "submitted", "autograded",
                "feedback", "release", "source", "exchange", "artifacts", ".venv", "gradebook.db", ".nbgrader.log",
                "exercises"}
# nbgrader's markers, spelt so that this file does not hold them (it ships in the distribution and is checked too)
MARKERS = tuple(f"{edge} {what}" for what in ("SOLUTION", "HIDDEN TESTS") for edge in ("BEGIN", "END"))
STUBS = ("YOUR CODE HERE", "YOUR ANSWER HERE")
STUDENT_README = """# nnlib — the student distribution

This copy of the course holds the lecture notebooks (`course/`), the assignments to work on (`exercises/`) and
the `nnlib` library.  Start it with

```bash
bash run.sh            # install everything into .venv and open the course in JupyterLab (student mode)
```

Submit your assignments as your instructor tells you (nbgrader's Assignment List, or by sending the notebook).

---

"""


class PublishError(RuntimeError):
    """The distribution would ship something hidden (or could not be made)."""


def _files(root: Path) -> list[str]:
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]


def check(dest: Path) -> list[str]:
    """Problems of a distribution: files with a solution/hidden-test marker, notebooks with a solution filled in."""
    import nbformat

    problems = []
    for p in sorted(dest.rglob("*")):
        if not p.is_file() or p.is_symlink():
            continue
        rel = p.relative_to(dest)
        if rel.parts[0] in EXCLUDED_TOP - {"exercises"}:
            problems.append(f"{rel}: an instructor-only path")
        try:
            text = p.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        found = [m for m in MARKERS if m in text]
        if found:
            problems.append(f"{rel}: holds {found[0]!r}")
        if p.suffix == ".ipynb":
            try:
                nb = nbformat.reads(text, as_version=4)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{rel}: not a readable notebook ({exc})")
                continue
            for c in nb.cells:
                m = (c.get("metadata") or {}).get("nbgrader") or {}
                if m.get("solution") and not any(s in c.source for s in STUBS):
                    problems.append(f"{rel}: solution cell {m.get('grade_id')!r} is filled in")
    return problems


def _student_mode(dest: Path) -> None:
    run = dest / "run.sh"
    if run.exists():
        text = run.read_text()
        for key, value in (("DEFAULT_MODE", "student"), ("STUDENT_ONLY", "1")):
            old = f'{key}=""'
            if old not in text:
                raise PublishError(f"run.sh has no {old} line: cannot default it to the student mode")
            text = text.replace(old, f'{key}="{value}"', 1)
        run.write_text(text)
    readme = dest / "README.md"
    body = readme.read_text() if readme.exists() else ""
    readme.write_text(STUDENT_README + body)


def publish(course_dir=".", dest=None, *, force: bool = False, git: bool = False, out=print) -> Path:
    """Write the student distribution of ``course_dir`` to ``dest`` (see the module doc); returns ``dest``."""
    course = load_course(course_dir)
    root = course.root
    if dest is None:
        raise PublishError("publish needs a destination directory")
    dest = Path(dest).resolve()
    if dest == root or root in dest.parents:
        raise PublishError(f"{dest} lies inside the course: choose a directory outside {root}")
    if dest.exists() and any(dest.iterdir()):
        if not force:
            raise PublishError(f"{dest} is not empty (--force replaces it)")
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        n = 0
        for rel in _files(root):
            parts = Path(rel).parts
            if not parts or parts[0] in EXCLUDED_TOP or "__pycache__" in parts or ".ipynb_checkpoints" in parts:
                continue
            src = root / rel
            if not src.is_file() or src.is_symlink():
                continue
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
            n += 1
        names = list_assignments(course)
        sync_sources(course.source, names)  # the notebooks nbgrader reads are those of the current .md sources
        with tempfile.TemporaryDirectory(prefix="nnlib-publish-") as tmp:
            for a in names:
                run_nbgrader(["generate_assignment", a, "--no-db", "--force", "--log-level=WARN",
                              f"--CourseDirectory.release_directory={tmp}"], root)
            shutil.copytree(tmp, dest / "exercises", ignore=shutil.ignore_patterns(".*", "__pycache__"))
        _student_mode(dest)
        (dest / ".published.json").write_text(json.dumps({"assignments": names, "files": n}, indent=1) + "\n")
        problems = check(dest)
        if problems:
            raise PublishError("the distribution would ship hidden material:\n  " + "\n  ".join(problems[:20]))
        if git:
            for cmd in (["init", "-q"], ["add", "-A"],
                        ["-c", "user.name=nnlib publish", "-c", "user.email=publish@localhost", "commit", "-q", "-m",
                         "nnlib course: student distribution"]):
                subprocess.run(["git", "-C", str(dest), *cmd], check=True, capture_output=True)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    out(f"published {len(names)} assignment(s) and {n} course file(s) to {dest} (no solutions/, tests/, history, "
        "grades or submissions; checked: no solution or hidden test)")
    return dest
