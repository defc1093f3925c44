"""What a newcomer tripped on (issue 20): lecture headers rewritten by another jupytext, JupyterLab's news popup.

- ``course/jupytext.toml`` filters ``jupytext_version`` out of the lectures' headers: a ``jupytext --sync`` of each
  lecture (the .md newer, then the .ipynb newer and carrying the kernel's full ``language_info``, as a run and a
  save leave it) writes the committed .md byte for byte, and no header names a version.
- ``bash run.sh lab`` and ``bash run.sh student`` serve a JupyterLab whose page config disables the announcements
  plugin (the "official Jupyter news?" popup): the page config is read from the served /lab page itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from _browser import Server, free_port

ROOT = Path(__file__).resolve().parent.parent
LECTURES = sorted((ROOT / "course").glob("[0-9][0-9]_*.md"))
NEWS = "@jupyterlab/apputils-extension:announcements"


def test_no_lecture_header_names_a_jupytext_version():
    assert len(LECTURES) >= 12
    for md in LECTURES:
        header = md.read_text().split("\n---\n", 1)[0]
        assert "jupytext_version" not in header, md.name


@pytest.mark.slow
def test_jupytext_sync_leaves_every_lecture_byte_identical(tmp_path):
    from ipykernel.ipkernel import IPythonKernel

    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "course" / "jupytext.toml", course)
    for md in LECTURES:
        shutil.copy(md, course)
        nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
        nb.metadata["language_info"] = dict(IPythonKernel.language_info)  # what JupyterLab's save writes
        nbformat.write(nb, course / md.with_suffix(".ipynb").name)
    for newer in (".md", ".ipynb"):
        for md in LECTURES:
            os.utime(course / md.with_suffix(newer).name, (time.time() + 5, time.time() + 5))
        r = subprocess.run([sys.executable, "-m", "jupytext", "--sync", *[str(course / m.name) for m in LECTURES]],
                           cwd=course, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        for md in LECTURES:
            assert (course / md.name).read_bytes() == md.read_bytes(), f"{md.name} rewritten ({newer} newer)"


def _page_config(mode: str, tmp_path: Path) -> dict:
    """Start ``bash run.sh MODE`` on a copy of what it reads (no install: this interpreter's environment) and
    return the JupyterLab page config embedded in the served /lab page."""
    work = tmp_path / mode
    work.mkdir()
    for name in ("run.sh", "jupyter-course", "jupyter-student"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    (work / "course").mkdir()
    shutil.copy(ROOT / "course" / "01_perceptron.ipynb", work / "course")  # the notebook run.sh opens
    port, token = free_port(), "nnlib-newcomer"
    env = {**os.environ, "NNLIB_VENV": sys.prefix, "NNLIB_SKIP_INSTALL": "1", "JUPYTER_CONFIG_PATH": "",
           "HOME": str(tmp_path / "home"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    cmd = ["bash", "run.sh", mode, "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}"]
    server = Server(cmd, f"http://127.0.0.1:{port}", token, tmp_path / f"{mode}.log", env, cwd=str(work),
                    what=f"run.sh {mode}")
    try:
        page = urllib.request.urlopen(f"{server.url}/lab?token={token}", timeout=30).read().decode()
    finally:
        server.stop()
    m = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    assert m, page[:2000]
    return json.loads(m.group(1))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lab", "student"])
def test_run_sh_serves_jupyterlab_without_the_news_popup(mode, tmp_path):
    cfg = _page_config(mode, tmp_path)
    assert NEWS in cfg["disabledExtensions"], cfg["disabledExtensions"]
    if mode == "student":  # the student mode's own page config still applies
        assert "@jupyter/nbgrader:formgrader" in cfg["disabledExtensions"], cfg["disabledExtensions"]
