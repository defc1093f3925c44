"""Feedback reaches the student through nbgrader's own exchange (issue 20, item 1).

A scratch course with its exchange; with nbgrader's CLI two students (their own HOME, so their own nbgrader
cache, and ``--student``) fetch and submit, the instructor collects, ``python -m nnlib_grader grade --release-feedback``
grades and releases, and each student's ``nbgrader fetch_feedback`` puts *their* page into
``<A>/feedback/<timestamp>/<A>.html``.  A third submission copied into ``submitted/`` by hand (no secret) is
graded, and its feedback is named as not releasable instead of crashing ``release_feedback``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest
from test_workflow import MAX, A, env_for, make_course, notebook

from nnlib_grader.feedback_release import carry_submission_files

pytestmark = pytest.mark.slow


def nbgrader(args: list[str], cwd: Path, env: dict) -> str:
    boot = ("import sys; sys.modules.setdefault('rfc3987_syntax', None); sys.argv[0] = 'nbgrader'; "
            "from nbgrader.apps.nbgraderapp import main; main()")
    p = subprocess.run([sys.executable, "-c", boot, *args], cwd=str(cwd), env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{p.stdout[-2000:]}{p.stderr[-2000:]}"
    return p.stdout + p.stderr


def student_env(tmp: Path, name: str, exchange: Path) -> tuple[Path, dict, list[str]]:
    home = tmp / "home" / name
    (home / "work").mkdir(parents=True)
    env = {**env_for(tmp), "HOME": str(home), "USER": name, "LOGNAME": name}
    return home / "work", env, ["--course=nnlib", f"--Exchange.root={exchange}", f"--student={name}"]


HOSTILE_MATH = "Mine: $a^l = \\sigma(z^l)$ and $\\href{javascript:document.title='PWNED'}{click}$."


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """Release, two students fetch and submit (alice adds a markdown cell with math and a MathJax ``\\href``),
    collect, hand-copied carol, ``grade --release-feedback``, both students ``fetch_feedback``."""
    tmp_path = tmp_path_factory.mktemp("feedback")
    course = make_course(tmp_path)
    env = {**env_for(tmp_path), "HOME": str(tmp_path / "home" / "instructor")}
    exchange = course / "exchange"
    exchange.mkdir(mode=0o777)
    r = subprocess.run([sys.executable, "-m", "nnlib_grader", "release", "--course", str(course), "--assignment", A],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    nbgrader(["release_assignment", A, "--force"], course, env)

    work = {}
    for who, kind in KINDS.items():
        wd, senv, opts = student_env(tmp_path, who, exchange)
        nbgrader(["fetch_assignment", A, *opts], wd, senv)
        nb = notebook(kind)
        if who == "alice":
            nb.cells.append(nbformat.v4.new_markdown_cell(HOSTILE_MATH))
        nbformat.write(nb, str(wd / A / f"{A}.ipynb"))
        nbgrader(["submit", A, *opts], wd, senv)
        work[who] = (wd, senv, opts)
    nbgrader(["collect", A], course, env)
    for who in KINDS:
        assert (course / "submitted" / who / A / "submission_secret.txt").is_file()
    carol = course / "submitted" / "carol" / A  # copied in by hand: no secret, no timestamp
    carol.mkdir(parents=True)
    nbformat.write(notebook("good"), str(carol / f"{A}.ipynb"))

    graded = subprocess.run([sys.executable, "-m", "nnlib_grader", "grade", "--course", str(course), "--assignment",
                             A, "--submissions", str(course / "submitted"), "--jobs", "1", "--release-feedback"],
                            cwd=str(course), env=env, capture_output=True, text=True, timeout=600)
    wd, senv, opts = work["alice"]  # bob fetches his in JupyterLab's Assignment List (the browser test)
    nbgrader(["fetch_feedback", A, *opts], wd, senv)
    return course, exchange, work, graded, tmp_path


KINDS = {"alice": "good", "bob": "wrong"}


def test_grade_release_feedback_and_students_fetch_their_own(pipeline):
    course, exchange, work, r, _ = pipeline
    kinds = KINDS
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "released the feedback of a01_perceptron to 2 student(s): alice, bob" in r.stdout, r.stdout
    assert "feedback of carol not released" in r.stderr and "submission_secret.txt" in r.stderr, r.stderr
    for who in kinds:  # what release_feedback needs, next to the page
        fb = course / "feedback" / who / A
        assert (fb / f"{A}.html").is_file() and (fb / "submission_secret.txt").is_file()
        assert (fb / "timestamp.txt").read_text() == (course / "submitted" / who / A / "timestamp.txt").read_text()
        assert (fb / f"{A}.html").stat().st_mode & 0o044 == 0o044  # readable by the students it is copied to
    assert len(list((exchange / "nnlib" / "feedback").glob("*.html"))) == 2

    for who, kind in kinds.items():
        wd, senv, opts = work[who]
        if who == "bob":
            continue  # fetched in the browser: test_assignment_list_fetch_feedback_in_chromium
        pages = list((wd / A / "feedback").glob(f"*/{A}.html"))
        assert len(pages) == 1, pages
        ts = (course / "submitted" / who / A / "timestamp.txt").read_text().strip()
        assert pages[0].parent.name == ts  # filed under the submission it belongs to
        page = pages[0].read_text()
        want = f"{MAX:g} / {MAX:g}" if kind == "good" else f"/ {MAX:g}"
        assert want in page.replace("(Score: ", "").replace(".0", ""), (who, page[:2000])
        if kind == "wrong":  # bob's page is not alice's
            assert f"{MAX:g} / {MAX:g}" not in page.replace(".0", "")
        assert "cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config" in page  # only as the fallback
        assert "static/jupyter_server_mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe" in page

    # the student's Assignment List reads the same folder: nbgrader's list --cached shows the feedback as fetched
    wd, senv, opts = work["alice"]
    listed = nbgrader(["list", "--cached", *opts], wd, senv)
    assert f"nnlib alice {A}" in listed and "(feedback already fetched)" in listed, listed[-2000:]


def test_fetched_feedback_renders_math_offline_in_chromium(pipeline):
    """alice's fetched page, opened from her own Jupyter server with every non-loopback request refused: MathJax
    (jupyter-server-mathjax) typesets the math, no raw ``$`` is left, ``Safe`` is on and the ``\\href`` is dead."""
    from _browser import Server, free_port, require_chromium

    require_chromium()
    from _browser import CHROMIUM
    from playwright.sync_api import sync_playwright

    _, _, work, _, tmp_path = pipeline
    wd, senv, _ = work["alice"]
    page_path = next((wd / A / "feedback").glob(f"*/{A}.html")).relative_to(wd)
    port, token = free_port(), "nnlib-feedback-token"
    server = Server([sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
                     "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={wd}",
                     *(["--allow-root"] if os.geteuid() == 0 else [])],
                    f"http://127.0.0.1:{port}", token, tmp_path / "server.log", senv, cwd=str(wd),
                    what="jupyter server")
    outside: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()

            def route(r):
                if r.request.url.startswith(f"http://127.0.0.1:{port}/"):
                    return r.continue_()
                outside.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{server.url}/files/{quote(str(page_path))}?token={token}")
            page.wait_for_function("window.MathJax && window.MathJax.Hub && "
                                   "document.querySelectorAll('.MathJax, .MathJax_Display').length > 5",
                                   timeout=60_000)
            page.evaluate("new Promise(done => MathJax.Hub.Queue(() => done(true)))")  # typesetting finished
            text = page.inner_text("body")
            typeset = page.evaluate("document.querySelectorAll('.MathJax, .MathJax_Display').length")
            srcs = page.evaluate("[...document.querySelectorAll('script[src*=\"mathjax\" i]')].map(s => s.src)")
            links = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
            for a in page.query_selector_all(".MathJax a, .MathJax_Display a"):
                a.click()
            page.wait_for_timeout(300)
            title = page.title()
            page.screenshot(path=str(tmp_path / "feedback_offline.png"), full_page=False)
            browser.close()
    finally:
        server.stop()
    assert not outside, f"requests that left the machine: {outside}"
    assert typeset > 5, typeset
    assert not re.search(r"\$[^$\n]+\$", text), re.findall(r"\$[^$\n]+\$", text)[:5]  # no raw $...$ visible
    assert "\\mathrm" not in text and "\\sigma" not in text
    assert srcs and all("Safe" in s and s.startswith(server.url) for s in srcs), srcs
    assert not any((h or "").lower().startswith("javascript") for h in links), links
    assert title != "PWNED" and not dialogs


def test_carry_submission_files_removes_stale_and_refuses_links(tmp_path):
    sub, dest = tmp_path / "sub", tmp_path / "autograded"
    sub.mkdir()
    (sub / "timestamp.txt").write_text("2026-01-01 10:00:00.000000 UTC")
    (sub / "submission_secret.txt").write_text("s3cret")
    assert carry_submission_files(sub, dest) == ["timestamp.txt", "submission_secret.txt"]
    assert (dest / "submission_secret.txt").read_text() == "s3cret"
    os.unlink(sub / "submission_secret.txt")
    (sub / "submission_secret.txt").symlink_to(sub / "timestamp.txt")
    assert carry_submission_files(sub, dest) == ["timestamp.txt"]
    assert not (dest / "submission_secret.txt").exists()  # the older submission's secret is gone
    (sub / "timestamp.txt").write_text("x" * 5000)
    assert carry_submission_files(sub, dest) == []
    assert not (dest / "timestamp.txt").exists()


def test_assignment_list_fetch_feedback_in_chromium(pipeline):
    """bob's JupyterLab (his HOME, the exchange in his nbgrader_config.py, the course's page config): the Assignment
    List shows his submission, *Fetch Feedback* fetches his page and offers *(view feedback)*, which opens the
    folder holding it; the page holds his score, not alice's."""
    from _browser import CHROMIUM, Server, free_port, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    course, exchange, work, _, tmp_path = pipeline
    wd, senv, _ = work["bob"]
    (wd / "nbgrader_config.py").write_text(f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n"
                                           "c.CourseDirectory.course_id = 'nnlib'\n"
                                           "c.CourseDirectory.student_id = 'bob'\n")
    port, token = free_port(), "nnlib-feedback-token"
    env = {**senv, "JUPYTER_CONFIG_PATH": str(Path(__file__).resolve().parent.parent / "jupyter-course"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime-bob")}
    server = Server([sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                     f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={wd}", "--LabApp.news_url=",
                     *(["--allow-root"] if os.geteuid() == 0 else [])],
                    f"http://127.0.0.1:{port}", token, tmp_path / "lab-bob.log", env, cwd=str(wd), what="JupyterLab")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{server.url}/lab?token={token}")
            page.get_by_role("menuitem", name="Nbgrader").click(timeout=90_000)
            page.get_by_role("menuitem", name="Assignment List").click()
            button = page.get_by_role("button", name="Fetch Feedback")
            button.wait_for(timeout=60_000)
            button.click()
            view = page.get_by_text("(view feedback)")
            view.wait_for(timeout=60_000)
            view.click()
            page.locator(".jp-DirListing-item", has_text=f"{A}.html").first.wait_for(
                timeout=30_000)  # the file browser shows feedback/<timestamp>/, the page in it
            page.screenshot(path=str(tmp_path / "assignment_list_feedback.png"))
            browser.close()
    finally:
        server.stop()
    pages = list((wd / A / "feedback").glob(f"*/{A}.html"))
    assert len(pages) == 1, pages
    assert pages[0].parent.name == (course / "submitted" / "bob" / A / "timestamp.txt").read_text().strip()
    text = pages[0].read_text().replace(".0", "")
    assert f"/ {MAX:g})" in text and f"{MAX:g} / {MAX:g}" not in text  # bob's (wrong) score, not alice's
