"""A real browser on a fresh clone: `bash run.sh lab` serves a formgrader that shows the assignments on first open,
renders a hostile submission without running its script (formgrader and feedback HTML: a generated corpus of XSS
vectors, every link clicked), and `bash run.sh student` has no formgrader and no Create Assignment panel.

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

from nnlib_grader.learner_html import markdown_cell_source

ROOT = Path(__file__).resolve().parent.parent
A = "a01_perceptron"
TOKEN = "nnlib-workflow-token"
PAYLOAD = ("xss-marker <img src=x onerror=\"document.title='PWNED';alert('PWNED')\"> "
           "<script>document.title='PWNED';console.log('PWNED');alert('PWNED')</script> "
           "[a markdown link](javascript:alert('PWNED'))")  # not a tag: only nbconvert's sanitiser removes it

JS = "document.title='PWNED';alert('PWNED')"
# scheme spellings a browser reads as a script URL (or a document of its own): escaped, entity-encoded, mixed case,
# whitespace and control characters inside and before the scheme, data: and vbscript:
SCHEMES = ["javascript:", "JaVaScRiPt:", "javascript\\:", "jav&#97;script:", "&#106;avascript&#58;",
           "&#x6A;avascript&colon;", "java\tscript:", "java&#x09;script:", "java&#10;script:", "\x01javascript:",
           " javascript:", "vbscript:"]
DATA = ["data:text/html,<script>alert('PWNED')</script>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgnUFdORUQnKTwvc2NyaXB0Pg==",
        "data:image/svg+xml,<svg onload=alert('PWNED')>"]
# where a learner can put a URL: markdown links, autolinks, reference links, images, raw HTML, SVG and MathML
FORMS = ["[link{i}]({url})", "<{url}>", "[link{i}][r{i}]\n\n[r{i}]: {url}\n", "![img{i}]({url})",
         '<a href="{url}">link{i}</a>', '<svg><a xlink:href="{url}"><text y="20">link{i}</text></a></svg>',
         '<math><mi xlink:href="{url}">link{i}</mi></math>', '<form action="{url}"><button>link{i}</button></form>',
         '<iframe src="{url}"></iframe>', '<img src="{url}">']
HANDLERS = ["<img src=x onerror=\"alert('PWNED')\">", "<details open ontoggle=\"alert('PWNED')\">d</details>",
            "<a href=\"https://example.org/\" onclick=\"alert('PWNED')\">onclick link</a>",
            "<div onmouseover=\"alert('PWNED')\">hover</div>", "<svg onload=\"alert('PWNED')\"></svg>",
            "<style>*{background:url(\"javascript:alert('PWNED')\")}</style>",
            "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('PWNED')\">",
            "<base href=\"javascript:alert('PWNED')//\">", "<div>\n<script>alert('PWNED')</script>\n</div>",
            "<object data=\"javascript:alert('PWNED')\"></object>", "<embed src=\"javascript:alert('PWNED')\">",
            "$\\href{javascript:alert('PWNED')}{mathjax link}$", "$$\\href{javascript:alert('PWNED')}{display}$$"]


def xss_corpus() -> list[str]:
    """One markdown cell per vector: every scheme spelling in every form, then the handlers and MathJax."""
    urls = [s + JS for s in SCHEMES] + DATA
    cells = [f.format(i=f"{k}.{j}", url=u) for k, f in enumerate(FORMS) for j, u in enumerate(urls)]
    return cells + HANDLERS


pytestmark = pytest.mark.slow

require_chromium()
_free_port = free_port


def _env(work: Path, clone: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH"))}
    path = os.pathsep.join([str(clone), str(clone / "grader")])  # the clone's grader, not an installed one
    env.update(PYTHONPATH=path, NNLIB_VENV=sys.prefix, NNLIB_SKIP_INSTALL="1", NNLIB_QUICK="1",
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
                  timeout=360, what=f"run.sh {mode}")  # a loaded 2-core machine can take minutes


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
            c.source += f"\nprint({PAYLOAD!r})\nprint({xss_corpus()!r})\n"
            extra = [nbformat.v4.new_markdown_cell(PAYLOAD), nbformat.v4.new_raw_cell("\n".join(HANDLERS))]
            nb.cells[i + 1:i + 1] = extra + [nbformat.v4.new_markdown_cell(v) for v in xss_corpus()]
            break
    d = clone / "submitted" / "mallory" / A
    d.mkdir(parents=True)
    nbformat.write(nb, str(d / f"{A}.ipynb"))
    return d


def watch(page, seen: list[str] | None = None) -> list[str]:
    """Everything a script of the payload could leave: dialogs and console lines mentioning PWNED."""
    seen = [] if seen is None else seen

    def on_dialog(d):
        seen.append(f"dialog: {d.message}")
        d.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: "PWNED" in m.text and seen.append(f"console: {m.text}"))
    return seen


def click_every_link(page, where: str, seen: list[str]) -> int:
    """Click each link of the notebook in turn, reloading when a click navigated away (a relative URL such as
    ``java%0Ascript:…`` is a harmless page of the server): no dialog, no console line, no title set by a payload
    may follow.  Popups get the same watch.  Returns how many links were clicked."""
    page.context.on("page", lambda p: watch(p, seen))
    sel = "#notebook-container a"
    page.wait_for_selector("text=xss-marker", timeout=60_000)
    n = page.locator(sel).count()

    def back_if_gone():  # a click may start a navigation a moment later: compare the URL and the links again
        from playwright.sync_api import Error

        for _ in range(5):
            try:
                page.wait_for_load_state("load")
                if page.url == where and page.locator(sel).count() == n:
                    return
                page.goto(where, timeout=90_000)
                page.wait_for_selector("text=xss-marker", timeout=60_000)
            except Error:  # the click's navigation interrupted ours: try again once it has settled
                page.wait_for_timeout(500)
        raise AssertionError(f"{where}: could not get back to the page after a click (now at {page.url})")

    for i in range(n):
        back_if_gone()
        link = page.locator(sel).nth(i)
        try:
            link.click(timeout=2_000, force=True, no_wait_after=True)
        except Exception:  # noqa: BLE001 - not clickable (hidden, zero size): dispatch the click instead
            link.dispatch_event("click", timeout=5_000)
        page.wait_for_timeout(300)
        back_if_gone()
        assert not seen, f"{where}: clicking link {i} ran a learner's script: {seen}"
        assert page.title() != "PWNED", f"{where}: link {i} ran the payload's document.title='PWNED'"
    return n


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
                handlers = page.evaluate("[...document.querySelectorAll('#notebook *')].filter(e => [...e.attributes]"
                                         ".some(a => a.name.toLowerCase().startsWith('on'))).map(e => e.outerHTML)")
                assert handlers == [], f"{where}: event-handler attributes in the notebook: {handlers}"
                # MathJax 2 keeps each formula's TeX in an inert <script type="math/tex"> (never run by the browser)
                assert page.evaluate("[...document.scripts].filter(s => !/^math\\//i.test(s.type) && "
                                     "s.textContent.includes('PWNED')).length") == 0
                # no such element from the learner's markup; MathJax's own output (the svg/math it typesets, inside
                # its MathJax* containers) is not the learner's: the sanitiser drops every class attribute, so no
                # learner element can pose as one
                assert page.evaluate("[...document.querySelectorAll('#notebook iframe, #notebook object, "
                                     "#notebook embed, #notebook form, #notebook svg, #notebook math')].filter(e => "
                                     "!e.closest('[class^=\"MathJax\"], [class*=\" MathJax\"], [id^=\"MathJax\"], "
                                     "mjx-container')).length") == 0, where
                bad = page.evaluate("[...document.querySelectorAll('#notebook [href], #notebook [src], "
                                    "#notebook [action]')].filter(e => !e.closest('[class^=\"MathJax\"], "
                                    "[class*=\" MathJax\"], [id^=\"MathJax\"], mjx-container'))"
                                    ".map(e => e.href || e.src || e.action || '').filter(u => "
                                    "!/^(https?|mailto|file|about):/i.test(u))")
                assert bad == [], f"{where}: URLs outside http/https/mailto: {bad}"
                mathjax = page.evaluate("[...document.scripts].map(s => s.src).filter(u => "
                                        "/mathjax.*\\/(MathJax|latest)\\.js/i.test(u))")
                assert mathjax and all("Safe" in u for u in mathjax), mathjax  # MathJax's \\href filter is on
                # where MathJax loaded (the Jupyter server's, offline: jupyter-server-mathjax), Safe is running
                assert page.evaluate("!window.MathJax || !MathJax.Hub || !!(MathJax.Extension && "
                                     "MathJax.Extension.Safe)"), where
                clicked = click_every_link(page, page.url, seen)
                built = sum(markdown_cell_source(v).count("<a ") for v in xss_corpus())  # the corpus's links
                assert clicked >= built, (where, clicked, built)
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


def test_click_every_link_catches_a_live_script_link(tmp_path):
    """The control of the check above: a page with one live script link among safe ones fails it."""
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "p.html"
    page_file.write_text('<div id="notebook"><div id="notebook-container"><p>xss-marker</p><a href="https://'
                         'example.invalid/">ok</a><a href="java&#x09;script:alert(\'PWNED\')">bad</a></div></div>')
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = b.new_page()
        seen = watch(page)
        page.goto(page_file.as_uri())
        with pytest.raises(AssertionError, match="clicking link 1 ran a learner's script"):
            click_every_link(page, page.url, seen)
        b.close()
