"""The lectures' sources: each course/NN_topic.md (jupytext MyST Markdown) is paired with its committed .ipynb.

- a pair that drifts apart (an edit to one side without `jupytext --sync`) fails here, cell by cell;
- the committed notebooks carry the installed kernel's name and display name (opening one in JupyterLab does
  not mark it modified) and are a fixed point of the git filter `run.sh` installs;
- a learner who runs and saves a lecture can still `git pull` the next version without a conflict (the
  nbstripout filter, registered by `bash run.sh lab | test | git-filter`), and without the filter the same pull
  fails: the test proves the filter is what makes it work.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
NOTEBOOKS = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted(COURSE.glob("[0-9][0-9]_*.md"))
STRIP = "-m nbstripout --keep-id --extra-keys metadata.language_info"  # what run.sh's git filter runs
_spec = importlib.util.spec_from_file_location("nb_smudge", ROOT / "tools" / "nb_smudge.py")
SMUDGE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(SMUDGE)


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip("\n")) for c in nb.cells]


def test_every_lecture_has_both_files_and_no_builder_remains():
    assert NOTEBOOKS, "no lecture notebooks found"
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in SOURCES], \
        "every course/NN_topic.ipynb needs its course/NN_topic.md source and vice versa"
    assert not (COURSE / "build").exists(), "course/build/ builders are gone: the .md files are the sources"


@pytest.mark.parametrize("md", SOURCES, ids=lambda p: p.name)
def test_pair_in_step(md):
    text = jupytext.read(md)
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    a, b = _cells(text), _cells(nb)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, (f"{md.name} and its .ipynb differ at cell {i} ({x[0]}: {x[1][:60]!r} vs {y[0]}: "
                        f"{y[1][:60]!r}); run `jupytext --sync course/{md.name}`")
    assert len(a) == len(b), f"{md.name} has {len(a)} cells, its .ipynb {len(b)}; run `jupytext --sync`"
    assert nb.metadata.get("jupytext", {}).get("formats") == "ipynb,md:myst", "the .ipynb must name its pair"
    assert text.metadata["kernelspec"] == nb.metadata["kernelspec"]


def test_pair_check_catches_a_drift(tmp_path):
    """The comparison above sees a one-character edit made to the .md only."""
    md = SOURCES[0]
    edited = md.read_text().replace("perceptron", "perceptrons", 1)
    (tmp_path / md.name).write_text(edited)
    assert _cells(jupytext.read(tmp_path / md.name)) != _cells(nbformat.read(md.with_suffix(".ipynb"), 4))


def test_kernelspec_is_the_installed_kernel():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    for path in NOTEBOOKS:
        ks = json.loads(path.read_text())["metadata"]["kernelspec"]
        assert (ks["name"], ks["display_name"], ks["language"]) == ("python3", spec.display_name, spec.language), \
            f"{path.name}: kernelspec {ks} differs from the installed kernel ({spec.display_name!r})"


def _clean(path: Path) -> str:
    return subprocess.run([sys.executable, *STRIP.split(), "-t", str(path)], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.slow  # a kernel and nbstripout per lecture: 4–10 s each, ~80 s in all
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_a_fixed_point_of_the_git_filter(path, tmp_path):
    """What git stores is the clean filter's output: the committed form must come back unchanged from it.

    (A working copy checked out through run.sh's smudge filter also holds the kernel's language_info,
    which the clean filter removes again.)"""
    assert STRIP in (ROOT / "run.sh").read_text()
    text = path.read_text()
    nb = json.loads(text)
    if "language_info" in nb["metadata"]:  # smudged checkout: compare what git would store
        assert nb["metadata"]["language_info"] == SMUDGE.language_info()
        del nb["metadata"]["language_info"]
        assert json.loads(_clean(path)) == nb, f"{path.name}: the filter would change more than language_info"
        return
    assert _clean(path) == text, f"{path.name}: the nbstripout filter would change it; commit the stripped form"


def _committed(rel: str) -> str:
    """A file as git stores it (the clean side of the filter); the working tree may hold the smudged form."""
    p = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=ROOT, capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else (ROOT / rel).read_text()


@pytest.mark.slow  # starts ipykernel in a subprocess
def test_smudge_adds_exactly_what_the_kernel_reports(tmp_path):
    """tools/nb_smudge.py writes ipykernel's own language_info, so JupyterLab finds nothing to change on opening."""
    # in a subprocess: importing ipykernel here would change how later tests' progress bars write to stderr
    kernel_info = json.loads(subprocess.run(
        [sys.executable, "-c", "import json; from ipykernel.ipkernel import IPythonKernel as K; "
         "print(json.dumps(K.language_info))"], capture_output=True, text=True, check=True).stdout)
    assert SMUDGE.language_info() == kernel_info
    committed = _committed(str(NOTEBOOKS[0].relative_to(ROOT)))
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "nb_smudge.py")], input=committed,
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["metadata"]["language_info"] == kernel_info
    (tmp_path / "s.ipynb").write_text(out)
    assert _clean(tmp_path / "s.ipynb") == committed, "clean(smudge(x)) must give x back"
    assert SMUDGE.smudge("not json") == "not json"


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=check)


@pytest.mark.slow
def test_run_save_then_pull_without_conflict(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    from nbclient import NotebookClient

    name = "01_perceptron"
    up = tmp_path / "upstream"
    (up / "course").mkdir(parents=True)
    (up / "tools").mkdir()
    files = ["run.sh", ".gitattributes", ".gitignore", "tools/nb_smudge.py", "course/jupytext.toml",
             f"course/{name}.md"]
    for f in [*files, f"course/{name}.ipynb"]:
        (up / f).write_text(_committed(f))
        shutil.copymode(ROOT / f, up / f)
    _git(up, "init", "-q", "-b", "main")
    _git(up, "add", "-A")
    _git(up, "commit", "-qm", "v1")

    def clone(where: str, with_filter: bool) -> Path:
        c = tmp_path / where
        _git(tmp_path, "clone", "-q", str(up), str(c))
        (c / ".venv").symlink_to(sys.prefix)  # the set-up command's .venv
        if with_filter:
            subprocess.run(["bash", "run.sh", "git-filter"], cwd=c, check=True, capture_output=True)
        return c

    learner, unfiltered = clone("learner", True), clone("unfiltered", False)
    path = learner / f"course/{name}.ipynb"
    # run.sh checked the unrun lecture out again through the smudge filter: it carries the kernel's language_info
    assert json.loads(path.read_text())["metadata"]["language_info"] == SMUDGE.language_info()
    assert _git(learner, "status", "--porcelain").stdout == ""
    # the learner runs the lecture, edits one code cell's comment and saves (outputs, execution counts, the
    # kernel's language_info; JupyterLab's save also rewrites the paired .md)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(learner / "course")}}).execute()
    assert any(c.get("outputs") for c in nb.cells) and "version" in nb.metadata["language_info"]
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    last.source += "\n# my note"
    nbformat.write(nb, path)
    subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(path)], cwd=learner, check=True,
                   capture_output=True)
    shutil.copy(path, unfiltered / f"course/{name}.ipynb")
    assert "# my note" in _git(learner, "diff").stdout, "the filter must keep a learner's own edit visible"
    assert '"outputs": []' in _git(learner, "show", f"HEAD:course/{name}.ipynb").stdout

    # the course publishes a new version of the lecture
    md = up / f"course/{name}.md"
    md.write_text(md.read_text().replace("# Lecture 1 · The perceptron", "# Lecture 1 · The perceptron (v2)", 1))
    subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(md)], cwd=up, check=True, capture_output=True)
    _git(up, "commit", "-qam", "v2")

    pulled = _git(learner, "pull", "-q", "--no-rebase", check=False)
    assert pulled.returncode == 0, pulled.stderr
    assert "(v2)" in (learner / f"course/{name}.ipynb").read_text()
    assert "(v2)" in (learner / f"course/{name}.md").read_text()
    assert json.loads(path.read_text())["metadata"]["language_info"] == SMUDGE.language_info()
    assert "# my note" in path.read_text() and "# my note" in (learner / f"course/{name}.md").read_text()
    assert _git(learner, "stash", "list").stdout == "", "the autostash was re-applied"
    # control: the same pull without the filter is refused (local changes would be overwritten)
    refused = _git(unfiltered, "pull", "-q", "--no-rebase", check=False)
    assert refused.returncode != 0 and "overwritten" in refused.stderr, refused.stderr
