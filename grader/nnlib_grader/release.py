"""``release``: solutions/ (source) → exercises/ (release), never overwriting a learner's edited notebook.

Each assignment's source is its MyST notebook ``solutions/<a>/<a>.md``: ``nnlib_grader.authoring.sync_sources``
first writes ``<a>.ipynb`` from it (only when it changed), then nbgrader generates the release from that.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

from nnlib_grader.authoring import sync_sources
from nnlib_grader.course import list_assignments, load_course, run_nbgrader

MANIFEST = ".release.json"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def as_jupyterlab_writes(path: Path) -> None:
    """Give the released notebook at ``path`` what JupyterLab writes into it on open, so that opening it does not
    mark it modified (and autosave does not rewrite it): the kernel's full ``language_info`` (JupyterLab 4 sets it
    from the kernel's ``kernel_info`` reply and skips the write only when it is deep-equal; ipykernel's
    ``IPythonKernel.language_info`` is exactly that reply), nbformat 4.5 and a cell ``id`` on every cell."""
    import nbformat
    from ipykernel.ipkernel import IPythonKernel

    nb = nbformat.read(str(path), as_version=4)
    if nb.metadata.get("kernelspec", {}).get("language", "python") == "python":
        nb.metadata["language_info"] = dict(IPythonKernel.language_info)
    nb.nbformat_minor = max(nb.nbformat_minor, 5)
    for c in nb.cells:
        c.setdefault("id", nbformat.corpus.words.generate_corpus_id())
    nbformat.write(nb, str(path))


def release(course_dir=".", assignments: list[str] | None = None, out=print) -> list[str]:
    """Write each source notebook from its .md; generate each assignment's release into a temp dir, then copy
    it into the course's release folder.

    A notebook there that differs from what the last release wrote (its hash in ``.release.json``) holds
    someone's work: it is moved aside to ``<name>.mine-<time>.ipynb`` first, and the message says so.
    """
    course = load_course(course_dir)
    names = assignments or list_assignments(course)
    sync_sources(course.source, names, out=out)
    for a in names:
        with tempfile.TemporaryDirectory(prefix="nnlib-release-") as tmp:
            run_nbgrader(["generate_assignment", a, "--force", "--log-level=WARN",
                          f"--CourseDirectory.release_directory={tmp}"], course.root)
            dest = course.release / a
            dest.mkdir(parents=True, exist_ok=True)
            mpath = dest / MANIFEST
            try:
                manifest = json.loads(mpath.read_text()) if mpath.exists() else {}
            except ValueError:
                manifest = {}
            new_manifest = {}
            for f in sorted((Path(tmp) / a).iterdir()):
                if not f.is_file():
                    continue
                if f.suffix == ".ipynb":
                    as_jupyterlab_writes(f)
                target = dest / f.name
                if target.exists() and _sha(target) != _sha(f) and manifest.get(f.name) != _sha(target):
                    kept = target.with_name(f"{target.stem}.mine-{time.strftime('%Y%m%d-%H%M%S')}{target.suffix}")
                    target.replace(kept)
                    out(f"kept your edited {target.relative_to(course.root)} as {kept.name}")
                shutil.copyfile(f, target)
                new_manifest[f.name] = _sha(target)
            mpath.write_text(json.dumps(new_manifest, indent=1, sort_keys=True) + "\n")
        out(f"released {a} -> {course.release / a}")
    return names
