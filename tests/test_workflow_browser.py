"""A real browser on a fresh clone: `bash run.sh lab` serves a formgrader that shows the assignments on first open,
renders a hostile submission without running its script (formgrader and feedback HTML), and `bash run.sh student`
has no formgrader and no Create Assignment panel.

Chromium is Debian's (``executable_path``, never ``playwright install``); without it the test skips locally but
fails under CI=true.  The clone reuses this interpreter's environment (NNLIB_VENV, NNLIB_SKIP_INSTALL): the pip
step of run.sh is the only part not exercised.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from _browser import CHROMIUM, Server, free_port, require_chromium

ROOT = Path(__file__).resolve().parent.parent
A = "a01_perceptron"
TOKEN = "nnlib-workflow-token"
PAYLOAD = ("xss-marker <img src=x onerror=\"document.title='PWNED';alert('PWNED')\"> "
           "<script>document.title='PWNED';console.log('PWNED');alert('PWNED')</script> "
           "[a markdown link](javascript:alert('PWNED'))")  # not a tag: only nbconvert's sanitiser removes it

pytestmark = pytest.mark.slow

require_chromium()
_free_port = free_port


def _env(work: Path, clone: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH"))}
    env.update(PYTHONPATH=str(clone), NNLIB_VENV=sys.prefix, NNLIB_SKIP_INSTALL="1", NNLIB_QUICK="1",
               JUPYTER_CONFIG_DIR=str(work / ".jupyter"), JUPYTER_RUNTIME_DIR=str(work / ".runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(work / ".lab-settings"), JUPYTER_DATA_DIR=str(work / ".data"),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["PATH"] = "/usr/bin:/bin"  # a fresh shell: run.sh must put the venv's bin on PATH itself
    return env


def server(work: Path, clone: Path, mode: str) -> Server:
    """``bash run.sh lab|student`` of the clone, serving on a free port."""
    port = _free_port()
    return Server(["bash", str(clone / "run.sh"), mode, "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                   f"--IdentityProvider.token={TOKEN}", "--LabApp.news_url=",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                  f"http://127.0.0.1:{port}", TOKEN, work / f"{mode}.log", _env(work, clone), cwd=str(work),
                  timeout=180, what=f"run.sh {mode}")


def status(server: Server, path: str) -> int:
    try:
        with urllib.request.urlopen(f"{server.url}{path}?token={TOKEN}", timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def hostile_submission(clone: Path) -> Path:
    """The solution (full marks) plus a markdown cell the learner added and a printed answer holding the payloads."""
    nb = nbformat.read(str(clone / "solutions" / A / f"{A}.ipynb"), as_version=4)
    for i, c in enumerate(nb.cells):
        if (c.metadata.get("nbgrader") or {}).get("grade_id") == "predict":
            c.source += f"\nprint({PAYLOAD!r})\n"
            nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell(PAYLOAD))
            break
    d = clone / "submitted" / "mallory" / A
    d.mkdir(parents=True)
    nbformat.write(nb, str(d / f"{A}.ipynb"))
    return d


def watch(page) -> list[str]:
    """Everything a script of the payload could leave: dialogs and console lines mentioning PWNED."""
    seen: list[str] = []

    def on_dialog(d):
        seen.append(f"dialog: {d.message}")
        d.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: "PWNED" in m.text and seen.append(f"console: {m.text}"))
    return seen


def test_fresh_clone_lab_formgrader_hostile_submission_and_student_mode(tmp_path):
    from playwright.sync_api import sync_playwright

    work = tmp_path
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    assert not (clone / "gradebook.db").exists() and not (clone / "exchange").exists()
    hostile_submission(clone)
    env = _env(work, clone)
    g = subprocess.run([sys.executable, "-m", "nnlib_grader", "grade", "--course", str(clone), "--assignment", A,
                        "--submissions", str(clone / "submitted"), "--jobs", "1"],
                       cwd=str(clone), env={**env, "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin"},
                       capture_output=True, text=True, timeout=600)
    assert g.returncode == 0, g.stdout + g.stderr
    feedback = clone / "feedback" / "mallory" / A / f"{A}.html"
    assert feedback.exists(), g.stderr
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{clone / 'gradebook.db'}") as gb:
        nb_id = gb.find_submission_notebook(A, A, "mallory").id
        assert gb.find_submission(A, "mallory").score == 9.0

    lab = server(work, clone, "lab")
    try:
        assert (clone / "exchange").is_dir(), "run.sh lab creates the exchange inside the course"
        assert status(lab, "/formgrader/manage_assignments") == 200
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                  args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                        "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            # the formgrader on first open: its assignment table, not "Loading"
            page.goto(f"{lab.url}/formgrader/manage_assignments?token={TOKEN}", timeout=90_000)
            for name in ("a01_perceptron", "a05_backprop", "a07_cnn"):
                page.wait_for_selector(f"text={name}", timeout=90_000)
            assert "Loading" not in page.inner_text("body")
            # the hostile submission in the formgrader, then its feedback HTML (file://, no server CSP to help)
            for where in (f"{lab.url}/formgrader/submissions/{nb_id}/?token={TOKEN}", feedback.as_uri()):
                page = b.new_page()
                seen = watch(page)
                page.goto(where, timeout=90_000)
                page.wait_for_selector("text=xss-marker", timeout=60_000)
                page.wait_for_load_state("networkidle", timeout=60_000)  # the payload's image has failed to load
                title = page.title()
                assert "PWNED" not in title, f"{where}: a learner's script ran (title {title!r})"
                assert not seen, f"{where}: a learner's script ran: {seen}"
                assert page.evaluate("[...document.querySelectorAll('img[onerror]')].length") == 0
                assert page.evaluate("[...document.scripts].filter(s => s.textContent.includes('PWNED')).length") == 0
                assert page.evaluate("[...document.querySelectorAll('a[href]')].filter(a => "
                                     "a.href.trim().toLowerCase().startsWith('javascript:')).length") == 0, where
                page.close()
            # instructor lab: the Create Assignment panel exists (so its absence below means something)
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{lab.url}/lab?reset&token={TOKEN}", timeout=90_000)
            page.wait_for_selector("#nbgrader-create_assignemnt", state="attached", timeout=90_000)
            page.close()
            lab.stop()
            lab = None

            student = server(work, clone, "student")
            try:
                assert status(student, "/formgrader/manage_assignments") == 404
                page = b.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{student.url}/lab?reset&token={TOKEN}", timeout=90_000)
                page.wait_for_selector(".jp-LabShell", timeout=90_000)
                page.wait_for_selector(".jp-Launcher", timeout=90_000)  # restored: every enabled plugin is active
                page.wait_for_load_state("networkidle", timeout=60_000)
                disabled = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent)"
                                         ".disabledExtensions")
                assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= set(disabled)
                assert page.locator("#nbgrader-create_assignemnt").count() == 0
                assert page.locator("#formgrader").count() == 0
                page.close()
            finally:
                student.stop()
            b.close()
    finally:
        if lab is not None:
            lab.stop()
