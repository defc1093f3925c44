"""Grading on submission (``python -m nnlib_grader serve``, issue 20): through nbgrader's own exchange.

A scratch course (a02_xor's source, the course's nbgrader_config.py) released with ``nbgrader
release_assignment`` into a scratch exchange; students fetch and submit with nbgrader (its CLI in the end-to-end
test, its exchange classes in process elsewhere — the same code the CLI runs, at a fraction of the start-up), the
service grades in the sandbox, and the students' ``fetch_feedback`` finds the pages.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from _course_fixture import ROOT, A, course_env, nbgrader, release

SOLVED = ROOT / "solutions" / A / f"{A}.ipynb"
RELEASED = ROOT / "exercises" / A / f"{A}.ipynb"

pytestmark = pytest.mark.slow


def env() -> dict:
    return course_env(PYTHONUNBUFFERED="1")


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """A course with a02 released into its exchange (once per module; each test copies it)."""
    base = tmp_path_factory.mktemp("serve-base")
    release(base, env())
    return base


@pytest.fixture
def site(released, tmp_path) -> Path:
    shutil.copytree(released, tmp_path / "site", symlinks=True)
    return tmp_path / "site"


def flags(site: Path, student: str) -> list[str]:
    return ["--course", "nnlib", "--student", student, f"--Exchange.root={site / 'exchange'}",
            f"--Exchange.cache={site / student / '.cache'}"]


def config(site: Path, student: str):
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.course_id = "nnlib"
    cfg.CourseDirectory.student_id = student
    cfg.CourseDirectory.assignment_id = A
    cfg.Exchange.root = str(site / "exchange")
    cfg.Exchange.cache = str(site / student / ".cache")
    cfg.Exchange.assignment_dir = str(site / student)
    return cfg


def exchange_run(site: Path, student: str, cls_name: str) -> None:
    """nbgrader's exchange step ``cls_name`` (ExchangeFetchAssignment, ExchangeSubmit, ExchangeFetchFeedback)
    for ``student``, in process."""
    import nbgrader.exchange.default as X
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    cfg = config(site, student)
    getattr(X, cls_name)(coursedir=CourseDirectory(config=cfg), authenticator=Authenticator(config=cfg),
                         config=cfg).start()


def answer(kind: str):
    return nbformat.read(str(SOLVED if kind == "good" else RELEASED), as_version=4)


def work_on(site: Path, student: str, kind: str) -> None:
    nbformat.write(answer(kind), str(site / student / A / f"{A}.ipynb"))


def submit(site: Path, student: str, kind: str = "good") -> None:
    if not (site / student / A).is_dir():
        (site / student).mkdir(exist_ok=True)
        exchange_run(site, student, "ExchangeFetchAssignment")
    work_on(site, student, kind)
    exchange_run(site, student, "ExchangeSubmit")
    time.sleep(0.01)  # distinct timestamps


def pages(site: Path, student: str) -> list[str]:
    """The feedback pages the student's fetch_feedback brought home, oldest submission first."""
    exchange_run(site, student, "ExchangeFetchFeedback")
    found = sorted((site / student / A / "feedback").glob(f"*/{A}.html"))
    return [p.read_text() for p in found]


def service(site: Path, settings: str = "", state: str = "state"):
    from nnlib_grader import batch, serve

    toml = site / f"{state}.toml"
    toml.write_text(settings)
    return serve.Service(site / "course", exchange=str(site / "exchange"), state_dir=str(site / state),
                         settings=str(toml), opts=batch.Options(jobs=2), log=lambda m: None)


def test_submit_in_nbgrader_cli_graded_by_serve_fetched_by_student(site):
    for student, kind in (("alice", "good"), ("bob", "blank")):
        (site / student).mkdir()
        nbgrader(["fetch_assignment", A, *flags(site, student)], site / student, env())
        work_on(site, student, kind)
        nbgrader(["submit", A, *flags(site, student)], site / student, env())
    p = subprocess.run([sys.executable, "-m", "nnlib_grader", "serve", "--course", str(site / "course"),
                        "--exchange", str(site / "exchange"), "--state", str(site / "state"), "--once"],
                       env=env(), capture_output=True, text=True, timeout=400)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "alice+a02_xor+" in p.stdout and "8/8 ok" in p.stdout, p.stdout
    got = {}
    for student in ("alice", "bob"):
        out = nbgrader(["fetch_feedback", A, *flags(site, student)], site / student, env())
        assert "Fetched feedback" in out, out
        (html,) = (site / student / A / "feedback").glob(f"*/{A}.html")
        got[student] = html.read_text()
    assert "Score of the tests shown here: 5 / 5" in got["alice"] and "failed" not in got["alice"]
    assert "Score of the tests shown here: 0 / 5" in got["bob"] and "NotImplementedError" in got["bob"]
    for text in got.values():  # public tests only (the default): the hidden ones are counted, never shown
        assert "2 hidden test(s) (3 points) count in your grade" in text and "(hidden test)" not in text
        assert "<script" not in text
    # the instructor's gradebook and grading/ are the service's to leave alone
    assert not (site / "course" / "gradebook.db").exists() and not (site / "course" / "grading").exists()
    state = json.loads((site / "state" / "state.json").read_text())["done"]
    assert sorted(r["student"] for r in state.values()) == ["alice", "bob"]


def test_restart_mid_queue_grades_each_once_and_what_came_while_down(site):
    for s in ("s1", "s2", "s3", "s4"):
        submit(site, s)
    results = site / "state" / "course" / "grading" / A / "results"
    cmd = [sys.executable, "-m", "nnlib_grader", "serve", "--course", str(site / "course"), "--exchange",
           str(site / "exchange"), "--state", str(site / "state"), "--jobs", "1", "--interval", "0.2"]
    p = subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (results.is_dir() and any(results.glob("*.json"))):
            assert p.poll() is None and time.monotonic() < deadline, p.stdout.read() if p.poll() is not None else ""
            time.sleep(0.05)
    finally:
        os.killpg(p.pid, signal.SIGKILL)  # mid-queue: one merged, none published
        p.wait()
    first = {f.name: f.stat().st_mtime_ns for f in results.glob("*.json")}  # merged before the kill
    state_file = site / "state" / "state.json"
    before = json.loads(state_file.read_text())["done"] if state_file.exists() else {}
    assert len(before) < 4, "the service finished the queue before it was killed: nothing was cut off"
    submit(site, "s5")  # arrives while the service is down
    log = []
    from nnlib_grader import batch, serve

    svc = serve.Service(site / "course", exchange=str(site / "exchange"), state_dir=str(site / "state"),
                        opts=batch.Options(jobs=2), log=log.append)
    svc.serve(once=True)
    done = json.loads(state_file.read_text())["done"]
    assert sorted(r["student"] for r in done.values()) == ["s1", "s2", "s3", "s4", "s5"]
    for key, rec in before.items():  # what was published before the kill is not redone
        assert done[key]["finished"] == rec["finished"]
    published = {r["student"] for r in before.values()}
    for name, mtime in first.items():  # a result merged before the kill is published, not graded again
        assert (results / name).stat().st_mtime_ns == mtime, f"{name} was graded twice"
        student = name.removesuffix(".json")
        assert student in published or any(m.startswith(f"serve: {student}/{A}: graded before the restart")
                                            for m in log), log
    for s in ("s1", "s2", "s3", "s4", "s5"):
        (text,) = pages(site, s)
        assert "Score of the tests shown here: 5 / 5" in text
    assert svc.round() == 0  # a further round finds nothing to do


def test_limit_per_day_then_a_page_that_says_so(site):
    for _ in range(4):
        submit(site, "alice")
    # the 4th claims another day (the folder name is the student's side's to write): it counts today all the same
    inbound = site / "exchange" / "nnlib" / "inbound"
    last = max(inbound.iterdir(), key=lambda d: d.name.split("+")[2])
    student, a, _, rand = last.name.split("+")
    last.rename(inbound / f"{student}+{a}+2099-01-01 00:00:00.000000 UTC+{rand}")
    svc = service(site, "[defaults]\nmax_feedback_submissions = 2\n")
    assert svc.round() == 4
    statuses = [r["status"] for _, r in sorted(svc.state.done.items(), key=lambda kv: kv[1]["timestamp"])]
    assert statuses == ["graded", "graded", "limited", "limited"]
    got = pages(site, "alice")
    assert len(got) == 4
    assert "Feedback runs today (UTC): 1 of 2" in got[0] and "Feedback runs today (UTC): 2 of 2" in got[1]
    for text in got[2:]:
        assert "used today's 2 feedback run(s)" in text and "Score" not in text


def test_forged_inbound_names_are_ignored(site):
    inbound = site / "exchange" / "nnlib" / "inbound"
    for name in ("..+a02_xor+2026-12-07 01:00:00.000000 UTC+x", "alice+..+2026-12-07 01:00:00.000000 UTC+x",
                 "alice+nope+2026-12-07 01:00:00.000000 UTC+x", ".hidden+a02_xor+2026-12-07 01:00:00.000000 UTC+x"):
        (inbound / name).mkdir()
        (inbound / name / "submission_secret.txt").write_text("s")
    submit(site, "alice")
    submit(site, "bob")
    bob = next(inbound.glob("bob+*"))
    nobody = pwd.getpwnam("nobody")
    os.chown(bob, nobody.pw_uid, nobody.pw_gid)  # "bob" submitted by the Unix user nobody: someone else
    svc = service(site)
    assert [p.student for p in svc.pending()] == ["alice"]
    (refused,) = svc.state.done.values()
    assert (refused["student"], refused["status"], refused["owner"]) == ("bob", "refused", "nobody")


def test_hidden_results_withheld_until_the_due_date(site):
    submit(site, "alice")
    future = service(site, "[defaults]\ntests = 'all'\ndue = 2999-01-01T00:00:00Z\n", state="before")
    assert future.round() == 1
    (text,) = pages(site, "alice")
    assert "2 hidden test(s) (3 points) are graded too; their results are shown after 2999-01-01 00:00 UTC" in text
    assert "(hidden test)" not in text and "Score of the tests shown here: 5 / 5" in text
    past = service(site, "[defaults]\ntests = 'all'\ndue = 2000-01-01T00:00:00Z\n", state="after")
    assert past.round() == 1
    (text,) = pages(site, "alice")
    assert text.count("(hidden test)</td>") == 2 and "Score of the tests shown here: 8 / 8" in text
    assert "shown after" not in text


@pytest.mark.parametrize("toml, named", [
    ("[defaults]\nmax_feedback = 2\n", "unknown key 'max_feedback'"),
    ("[defaults]\ntests = 'hidden'\n", "[defaults].tests"),
    ("[assignments.a02_xor]\nmax_feedback_submissions = -1\n", "[assignments.a02_xor].max_feedback_submissions"),
    ("[assignments.a02_xor]\ndue = 'tomorrow'\n", "[assignments.a02_xor].due"),
    ("[grading]\n", "unknown table [grading]"),
])
def test_bad_settings_name_the_file_and_key(tmp_path, toml, named):
    from nnlib_grader import serve

    path = tmp_path / "serve.toml"
    path.write_text(toml)
    with pytest.raises(serve.SettingsError) as exc:
        serve.load_settings(path)
    assert str(path) in str(exc.value) and named in str(exc.value)


def test_scan_waits_for_a_complete_submission(tmp_path):
    from nnlib_grader import serve

    d = tmp_path / "alice+a02_xor+2026-12-07 01:14:30.314006 UTC+abc"
    d.mkdir()
    (d / "a02_xor.ipynb").write_text("{}")
    assert serve.scan(tmp_path) == []  # submit has not written submission_secret.txt yet
    (d / "submission_secret.txt").write_text("s")
    (tmp_path / "not-a-submission").mkdir()
    (found,) = serve.scan(tmp_path)
    assert (found.student, found.assignment, found.when.isoformat()) == ("alice", A, "2026-12-07T01:14:30.314006+00:00")


def test_one_pool_serves_every_batch_and_ends_with_the_service(site):
    """The job processes are made once per service (not per batch: their fork and worker templates were most of a
    lone submission's wait), keep grading batch after batch, and end with it."""
    from nnlib_grader import zygote

    svc = service(site)
    with svc.pool() as ex:
        kids = list(ex.children)
        assert len(kids) == 2 and svc.opts.executor is ex
        for round_, students in enumerate((("p1", "p2"), ("p3",), ("p4", "p5"))):
            for i, s in enumerate(students):
                submit(site, s, "good" if (round_ + i) % 2 == 0 else "blank")
            assert svc.round() == len(students)
            assert ex.children == kids, "a batch started job processes of its own"
            for s in students:
                (text,) = pages(site, s)
                assert "Score of the tests shown here: " in text
        assert "5 / 5" in pages(site, "p1")[0] and "0 / 5" in pages(site, "p2")[0]
    assert svc.opts.executor is None and not zygote._TEMPLATES
    deadline = time.monotonic() + 30
    while any(os.path.exists(f"/proc/{k}") for k in kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{k}") for k in kids), "the service's job processes outlived it"
