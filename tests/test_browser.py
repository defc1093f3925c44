"""A real browser: JupyterLab in headless Chromium runs every lecture.

Starts JupyterLab on a free loopback port over a scratch copy of course/, opens each lecture,
checks that opening it does not mark it modified (its kernelspec is the installed kernel's), runs all
cells from the Run menu, and asserts: no error output, a plot image appeared; for the perceptron and
playground notebooks also that a widget rendered and a click on it redraws its figure.
Screenshots of every lecture are kept in artifacts/browser/ (CI artifacts).

Needs Debian's chromium (``apt-get install chromium``; run.sh does it when root) and the
``playwright`` Python package, launched with ``executable_path`` — never ``playwright install``.
Without chromium the tests skip locally but FAIL under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _browser import CHROMIUM, Server, free_port, require_chromium

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "browser"
NOTEBOOKS = ["01_perceptron.ipynb", "07_optimisers_regularisation.ipynb"]  # widget clicks tested too
LECTURES = sorted(p.name for p in (ROOT / "course").glob("[0-9][0-9]_*.ipynb"))
CLICK = {"01_perceptron.ipynb": "next", "07_optimisers_regularisation.ipynb": "train"}  # a button whose click redraws
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in front, not other restored tabs
IDLE = "() => [...document.querySelectorAll('span')].some(s => s.textContent.includes('Kernel status: Idle'))"
PROMPTS = """(PANEL) => {
    const prompts = [...document.querySelectorAll(PANEL + ' .jp-CodeCell .jp-InputArea-prompt')]
        .map(p => p.textContent.trim());
    return {n: prompts.length, pending: prompts.filter(t => t === '[*]:' || t === '[ ]:' || t === '').length};
}"""
KERNEL_DIALOG = "[...document.querySelectorAll('.jp-Dialog button')].some(b => b.textContent.trim() === 'Select')"
FINISHED = f"""(PANEL) => {{
    if ({KERNEL_DIALOG}) return true;
    if (document.querySelector(PANEL + " [data-mime-type='application/vnd.jupyter.error']")) return true;
    const state = ({PROMPTS})(PANEL);
    return state.n > 0 && state.pending === 0;
}}"""

pytestmark = pytest.mark.slow

require_chromium()
_free_port = free_port


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a scratch copy of course/."""
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "course", work / "course")
    # as a learner's clone has them after `bash run.sh lab`: each lecture through the git smudge filter
    # (tools/nb_smudge.py adds the kernel's language_info), its .md written after it
    for nb in sorted((work / "course").glob("[0-9][0-9]_*.ipynb")):
        nb.write_text(subprocess.run([sys.executable, str(ROOT / "tools" / "nb_smudge.py")], input=nb.read_text(),
                                     capture_output=True, text=True, check=True).stdout)
        nb.with_suffix(".md").touch()
    port, token = _free_port(), "nnlib-test-token"
    env = {**os.environ, "NNLIB_QUICK": "1", "JUPYTER_CONFIG_DIR": str(work / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(work / ".runtime"), "JUPYTERLAB_SETTINGS_DIR": str(work / ".lab-settings")}
    news = work / ".lab-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    tracker = work / ".lab-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    # render every cell (no virtual scrolling), so the DOM shows every cell's prompt and outputs
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env.pop("MPLBACKEND", None)  # the kernel must use the inline backend so plots appear
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work / 'course'}",
           "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
           "jupyterlab.NeverCheckForUpdate"]
    server = Server(cmd, f"http://127.0.0.1:{port}", token, work / "lab.log", env)
    yield server.url, token
    server.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync", "--no-first-run",
                                    "--disable-quic"])
        yield b
        b.close()


def _accept_kernel_dialog(page) -> None:
    """JupyterLab may ask which kernel to start: take the notebook's own (python3)."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        button = dialog.get_by_role("button", name="Select")
        if button.count():
            button.first.click()
            dialog.first.wait_for(state="hidden", timeout=30_000)


def _wait_for_kernel(page, url: str, token: str, notebook: str, timeout: float = 120) -> None:
    """Until the notebook's kernel session exists and is idle (answering a kernel dialog if one opens)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        _accept_kernel_dialog(page)
        with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=5) as r:
            sessions = json.load(r)
        if any(s["path"].endswith(notebook) and s["kernel"]["execution_state"] == "idle" for s in sessions):
            page.wait_for_function(IDLE, timeout=30_000)  # and the notebook's status bar says so
            return
        time.sleep(1)  # the polling interval of the wait for the session
    page.screenshot(path=str(ARTIFACTS / f"{notebook.removesuffix('.ipynb')}-no-kernel.png"))
    raise AssertionError(f"{notebook}: the kernel did not start within {timeout} s: sessions {sessions}")


def _open_and_run(page, url: str, token: str, notebook: str) -> dict:
    """Open the notebook, check it is not marked modified, Run All Cells; the final prompt state."""
    page.goto(f"{url}/lab/tree/{notebook}?reset&token={token}", timeout=90_000)  # reset: no restored tabs
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    page.wait_for_function(IDLE, timeout=90_000)
    _wait_for_kernel(page, url, token, notebook)
    dirty = page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count()
    assert not dirty, f"{notebook}: opening it marked it modified (kernelspec or metadata differ from the kernel's)"
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # every code cell gets an execution count, none stays at [*] — or Run All stops at an error (reported by
    # _check_ran); a kernel dialog that opens meanwhile is answered and the wait goes on
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.time() + 420
    while True:
        try:
            page.wait_for_function(FINISHED, arg=PANEL, timeout=max(1.0, deadline - time.time()) * 1000)
        except PlaywrightTimeout:
            break  # _check_ran reports the cells that did not finish
        if not page.evaluate(f"() => {KERNEL_DIALOG}") or time.time() > deadline:
            break
        _accept_kernel_dialog(page)
    return page.evaluate(PROMPTS, PANEL)


def _check_ran(page, notebook: str, state: dict) -> None:
    error_texts = page.locator(f"{PANEL} [data-mime-type='application/vnd.jupyter.error']").all_inner_texts()
    assert not error_texts, f"{notebook}: error output:\n" + "\n".join(t[:800] for t in error_texts)
    assert state["n"] > 0 and state["pending"] == 0, f"{notebook}: cells did not finish: {state}"
    assert page.locator(f"{PANEL} .jp-RenderedImage img").count() > 0, f"{notebook}: no plot image appeared"


@pytest.mark.parametrize("notebook", [n for n in LECTURES if n not in NOTEBOOKS])
def test_lecture_runs_in_jupyterlab(lab, browser, notebook):
    url, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        state = _open_and_run(page, url, token, notebook)
        page.screenshot(path=str(ARTIFACTS / f"{notebook.removesuffix('.ipynb')}.png"), full_page=False)
        _check_ran(page, notebook, state)
    finally:
        page.close()
    assert not [e for e in errors if "widget" in e.lower()], errors


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(lab, browser, notebook):
    if not (ROOT / "course" / notebook).exists():
        pytest.fail(f"course/{notebook} is missing")
    url, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = notebook.removesuffix(".ipynb")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        state = _open_and_run(page, url, token, notebook)
        page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=False)
        _check_ran(page, notebook, state)
        assert page.locator(f"{PANEL} .jupyter-widgets, {PANEL} .widget-slider, {PANEL} .jupyter-button").count() > 0, \
            f"{notebook}: no widget rendered"
        widget = page.locator(f"{PANEL} .jupyter-widgets").first
        widget.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"{stem}-widget.png"))
        # the widget is live: pressing its button redraws its figure
        button = page.locator(f"{PANEL} button.jupyter-button", has_text=CLICK[notebook]).last
        cell = button.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' jp-CodeCell ')][1]")
        cell.evaluate("c => c.setAttribute('data-test-clicked', '1')")
        before = cell.locator("img").first.get_attribute("src")
        button.click()
        page.wait_for_function("old => { const img = document.querySelector('[data-test-clicked] img'); "
                               "return img && img.src !== old; }", arg=before, timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / f"{stem}-after-click.png"))
    finally:
        page.close()
    assert not [e for e in errors if "widget" in e.lower()], errors
