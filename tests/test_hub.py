"""The course on JupyterHub, in Chromium (issue 20): hub/jupyterhub_config.py started on 127.0.0.1.

Two students log in, open nbgrader's Assignment List, fetch a02, type an answer into the notebook, save and
submit; the hub's ``nnlib-grader`` service (``python -m nnlib_grader serve``) grades each submission in the
sandbox; the students press *Fetch Feedback* and open the page.  The instructor logs in to the formgrader; a
student's server has none (student mode).  Screenshots: artifacts/browser/hub/.

The hub runs the repository's own config; the command line overrides two things only:

* ``DummyAuthenticator`` with a password instead of PAM (no Unix passwords to set on the test machine);
* ``SimpleLocalProcessSpawner`` instead of ``LocalProcessSpawner``: every server runs as the hub's user (root)
  with its own home under the test's folder, and the student id comes from the hub user's name
  (hub/student/nbgrader_config.py).  Real Unix accounts would need the course's Python readable by them, and on
  this machine and in CI the virtualenv's interpreter lives under /root (mode 0700); adding accounts would also
  change the host's /etc/passwd for a test.  What the spawner does not exercise, the Unix modes of the exchange,
  is nbgrader's own code (it sets them; the service writes its pages 0644 in a 0711 folder, as
  ``release_feedback`` does).

Needs root (the sandbox), Chromium, jupyterhub (``pip install -e ".[hub]"``) and configurable-http-proxy (npm);
run.sh's test step installs them.  Under CI=true a missing one is an error, elsewhere a skip with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from _browser import CHROMIUM, free_port, require_chromium
from _course_fixture import ROOT, A, course_env, release

SHOTS = ROOT / "artifacts" / "browser" / "hub"
PASSWORD = "nnlib-hub-test-password"

pytestmark = pytest.mark.slow


def _need(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"CI=true but {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    require_chromium()
    _need(os.geteuid() == 0, "the hub test runs as root (the grading sandbox and the hub's spawner)")
    _need(shutil.which("jupyterhub", path=os.path.dirname(sys.executable)) is not None,
          "jupyterhub is not installed (pip install -e '.[hub]')")
    _need(shutil.which("configurable-http-proxy") is not None,
          "configurable-http-proxy is not installed (npm install -g configurable-http-proxy)")
    site = tmp_path_factory.mktemp("hub")
    course, exchange = site / "course", site / "exchange"
    env = course_env(NNLIB_COURSE=str(course), NNLIB_EXCHANGE=str(exchange), NNLIB_INSTRUCTORS="teacher",
                     NNLIB_SERVE_INTERVAL="0.2")
    for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH"):
        env.pop(k, None)
    release(site, env)  # the instructor releases a02 into the hub's exchange
    port, hub_port, api_port = free_port(), free_port(), free_port()
    homes = site / "home"
    homes.mkdir()
    cmd = [os.path.join(os.path.dirname(sys.executable), "jupyterhub"), "-f",
           str(ROOT / "hub" / "jupyterhub_config.py"),
           "--ip=127.0.0.1", f"--port={port}", f"--JupyterHub.hub_port={hub_port}",
           f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api_port}",
           "--JupyterHub.authenticator_class=dummy", f"--DummyAuthenticator.password={PASSWORD}",
           "--Authenticator.allow_all=True", "--JupyterHub.spawner_class=simple",
           f"--SimpleLocalProcessSpawner.home_dir_template={homes}/{{username}}"]
    log = open(site / "hub.log", "w")
    proc = subprocess.Popen(cmd, cwd=site, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/hub/api", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                os.killpg(proc.pid, 9)
                raise RuntimeError("the hub did not start:\n" + (site / "hub.log").read_text()[-4000:]) from None
            time.sleep(0.5)
    try:
        yield {"url": url, "site": site, "course": course, "exchange": exchange, "homes": homes}
    finally:
        try:
            os.killpg(proc.pid, 15)
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(site / "hub.log", SHOTS / "hub.log")


def login(context, url: str, user: str):
    page = context.new_page()
    page.goto(f"{url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    return page


def wait_lab(page, url: str, user: str):
    page.wait_for_url(f"{url}/user/{user}/lab**", timeout=240_000)
    page.wait_for_selector("#jp-MainMenu", timeout=180_000)


def assignment_list(page):
    page.locator("#jp-MainMenu").get_by_text("Nbgrader", exact=True).click()
    page.get_by_text("Assignment List", exact=True).click()
    page.wait_for_selector("#nbgrader-assignment-list", timeout=60_000)
    return page.locator("#nbgrader-assignment-list")


ANSWERS = {  # alice: the right weights; bob: OR's weights for AND (the AND check fails)
    "alice": "AND_w = np.array([-1.5, 1.0, 1.0])\nOR_w = np.array([-0.5, 1.0, 1.0])\n"
             "NAND_w = np.array([1.5, -1.0, -1.0])",
    "bob": "AND_w = np.array([-0.5, 1.0, 1.0])\nOR_w = np.array([-0.5, 1.0, 1.0])\n"
           "NAND_w = np.array([1.5, -1.0, -1.0])",
}


def work(page, hub, user: str) -> None:
    """Open the fetched notebook, type the answer into the first answer cell, save."""
    page.goto(f"{hub['url']}/user/{user}/lab/tree/{A}/{A}.ipynb")
    cell = page.locator(".jp-CodeCell").filter(has_text="raise NotImplementedError").first
    cell.wait_for(timeout=120_000)
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(ANSWERS[user])
    page.keyboard.press("Control+s")
    path = hub["homes"] / user / A / f"{A}.ipynb"
    deadline = time.time() + 60
    while "AND_w = np.array" not in path.read_text():
        assert time.time() < deadline, "the notebook was not saved"
        time.sleep(0.3)
    page.screenshot(path=str(SHOTS / f"{user}-2-answer.png"))


def graded(hub, user: str, timeout: float = 300) -> dict:
    state = hub["course"] / "grading" / "serve" / "state.json"
    deadline = time.time() + timeout
    while True:
        if state.exists():
            done = [r for r in json.loads(state.read_text())["done"].values() if r["student"] == user]
            if done:
                return done[0]
        assert time.time() < deadline, f"the service graded nothing of {user}:\n" + \
            (hub["site"] / "hub.log").read_text()[-3000:]
        time.sleep(0.3)


def test_two_students_fetch_work_submit_and_get_feedback_from_the_service(hub):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    url = hub["url"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            ctx = {u: b.new_context(viewport={"width": 1280, "height": 860}) for u in ("alice", "bob", "teacher")}
            pages = {u: login(ctx[u], url, u) for u in ("alice", "bob")}  # both servers spawn at once
            for user, page in pages.items():
                wait_lab(page, url, user)
                panel = assignment_list(page)
                panel.get_by_role("button", name="Fetch").first.click()
                panel.get_by_role("button", name="Submit").first.wait_for(timeout=60_000)
                page.screenshot(path=str(SHOTS / f"{user}-1-fetched.png"))
                assert (hub["homes"] / user / A / f"{A}.ipynb").exists()
            for user, page in pages.items():
                work(page, hub, user)
            for user, page in pages.items():
                panel = assignment_list(page)
                panel.get_by_role("button", name="Submit").first.click()
                panel.get_by_role("button", name="Fetch Feedback").first.wait_for(timeout=60_000)
                page.screenshot(path=str(SHOTS / f"{user}-3-submitted.png"))
            scores = {}
            for user, page in pages.items():
                rec = graded(hub, user)
                assert rec["status"] == "graded" and rec["result"] == "ok", rec
                scores[user] = rec["score"]
                page.reload()
                panel = assignment_list(page)
                panel.get_by_role("button", name="Fetch Feedback").first.click()
                link = panel.get_by_text("view feedback").first
                link.wait_for(timeout=60_000)
                page.screenshot(path=str(SHOTS / f"{user}-4-feedback-fetched.png"))
                link.click()  # the file browser goes to feedback/<timestamp>/; the student opens the page there
                item = page.locator(".jp-DirListing-item").filter(has_text=f"{A}.html").first
                try:
                    item.wait_for(timeout=30_000)
                    item.dblclick()
                except PlaywrightTimeout:  # headless JupyterLab left the listing row hidden: open the same file by
                    # its path, as the address bar would (what the student fetched is checked on disk first)
                    (page_file,) = (hub["homes"] / user).glob(f"{A}/feedback/*/{A}.html")
                    rel = page_file.relative_to(hub["homes"] / user).as_posix()
                    page.goto(f"{url}/user/{user}/lab/tree/{urllib.parse.quote(rel)}")
                body = page.frame_locator(".jp-HTMLViewer iframe").locator("body")
                body.get_by_text("Score of the tests shown here").wait_for(timeout=60_000)
                text = body.inner_text()
                page.screenshot(path=str(SHOTS / f"{user}-5-feedback.png"))
                assert "Feedback: a02_xor / a02_xor" in text
                assert ("Score of the tests shown here: 3 / 5" if user == "alice"
                        else "Score of the tests shown here: 0 / 5") in text, text
                # student mode: no formgrader on a student's server
                r = ctx[user].request.get(f"{url}/user/{user}/formgrader")
                assert r.status == 404, r.status
            assert scores["alice"] > scores["bob"]
            # the instructor's view: the formgrader, in the course
            t = login(ctx["teacher"], url, "teacher")
            t.wait_for_url(f"{url}/user/teacher/lab**", timeout=240_000)
            t.goto(f"{url}/user/teacher/formgrader")
            t.get_by_text(A).first.wait_for(timeout=120_000)
            t.screenshot(path=str(SHOTS / "teacher-formgrader.png"), full_page=True)
        finally:
            b.close()
