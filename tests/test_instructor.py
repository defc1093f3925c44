"""The trusted grader (nnlib_grader): a hostile batch, one fixture per attack class, with honest controls.

One batch (module fixture) grades a good submission, a buggy one and every fixture in tests/hostile/ against a
tiny three-test assignment built in a temp course (a git repository holding its solutions, a root-only secret,
a loopback server listening).  The assertions then inspect the grades, the gradebook, the reports, every output
file, the process table and the untouched course files: no cheat gains a point, no secret appears anywhere.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from _active_content import active_content

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

import nnlib_grader as instructor  # noqa: E402
from nnlib_grader import batch, doctor, sandbox  # noqa: E402
from nnlib_grader.cli import main as cli  # noqa: E402
from nnlib_grader.course import run_nbgrader  # noqa: E402

HOSTILE = Path(__file__).parent / "hostile"
ASSIGNMENT = "a01_tiny"
LINUX_ROOT = sys.platform.startswith("linux") and os.geteuid() == 0
pytestmark = pytest.mark.slow


# ------------------------------------------------------------------------------------------------ course builder
def _code(source: str, grade_id: str | None = None, *, solution=False, grade=False, points=0):
    cell = nbformat.v4.new_code_cell(source)
    if grade_id:
        meta = {"grade_id": grade_id, "grade": grade, "solution": solution, "locked": not solution,
                "schema_version": 3}
        if grade:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
    return cell


SOLUTIONS = {
    "add": "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
    "mul": "def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION",
    "square_grad": "def square_grad(x):\n    \"\"\"d/dx of sum(x**2)\"\"\"\n    ### BEGIN SOLUTION\n"
                   "    return 2 * x\n    ### END SOLUTION",
}
TESTS = {
    "test_add": ("assert add(1, 2) == 3, 'add(1, 2) should be 3'", 1),
    "test_mul": ("assert mul(2, 3) == 6, f'mul(2, 3) returned {mul(2, 3)}, expected 6'", 2),
    "test_grad": ("import numpy as np\nfrom nnlib.gradcheck import assert_gradient, numerical_gradient\n"
                  "x = np.linspace(-1.0, 1.0, 7)\n"
                  "### BEGIN HIDDEN TESTS\n"
                  "assert_gradient(square_grad(x.copy()), numerical_gradient(lambda v: float((v ** 2).sum()), "
                  "x.copy()), 'd/dx sum(x**2)')\n### END HIDDEN TESTS", 1),
}


def make_source_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Tiny assignment")]
    for sol, test in [("add", "test_add"), ("mul", "test_mul"), ("square_grad", "test_grad")]:
        nb.cells.append(_code(SOLUTIONS[sol], sol, solution=True))
        src, pts = TESTS[test]
        nb.cells.append(_code(src, test, grade=True, points=pts))
    return nb


def make_course(root: Path, cell_timeout: int = 5, git: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "exchange").mkdir(exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'nnlib-test'\n"
        "c.CourseDirectory.source_directory = 'source'\n"
        "c.CourseDirectory.release_directory = 'release'\n"
        "c.HTMLExporter.sanitize_html = True\n"
        f"c.Execute.timeout = {cell_timeout}\n"
        f"c.Exchange.root = {str(root / 'exchange')!r}\n")
    src = root / "source" / ASSIGNMENT
    src.mkdir(parents=True, exist_ok=True)
    nbformat.write(make_source_notebook(), str(src / "tiny.ipynb"))
    if git:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@t"}
        subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
        subprocess.run(["git", "-C", str(root), "add", "source", "nbgrader_config.py"], check=True, env=env)
        subprocess.run(["git", "-C", str(root), "commit", "-qm", "course"], check=True, env=env)
    return root


def student_notebook(answers: dict[str, str] | None = None, edit: dict | None = None):
    """A submission: the source notebook with the given answer cells (default: the solutions)."""
    nb = make_source_notebook()
    answers = dict(answers or {})
    edit = edit or {}
    keep = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in SOLUTIONS:
            cell.source = answers.get(gid, re.sub(r"\n *### (BEGIN|END) SOLUTION", "", SOLUTIONS[gid]))
        if gid in edit.get("replace", {}):
            cell.source = edit["replace"][gid]
        if gid in edit.get("points", {}):
            cell.metadata["nbgrader"]["points"] = edit["points"][gid]
        if gid in edit.get("delete", []):
            continue
        keep.append(cell)
    if edit.get("markdown"):
        keep.append(nbformat.v4.new_markdown_cell(edit["markdown"]))
    nb.cells = keep
    return nb


def hostile_fixtures() -> dict[str, dict]:
    out = {}
    for p in sorted(HOSTILE.glob("*.py")):
        text = p.read_text()
        if text.startswith("# assignment:"):
            continue  # attacks a real assignment: tests/test_worker_boundary.py grades it
        m = re.search(r"# expect: ([\d.]+)/(\d+) (\w+)", text)
        out[p.stem] = {"add": text, "score": float(m.group(1)), "status": m.group(3)}
    for p in sorted(HOSTILE.glob("*.json")):
        spec = json.loads(p.read_text())
        m = re.match(r"([\d.]+)/(\d+) (\w+)", spec["expect"])
        out[p.stem] = {"add": spec.get("add"), "edit": spec, "score": float(m.group(1)), "status": m.group(3)}
    return out


def _fill(text: str, mapping: dict[str, str]) -> str:
    for k, v in mapping.items():
        text = text.replace("{{" + k + "}}", v)
    return text


def _tree_digest(*roots: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if any(s in p.parts for s in skip) or not p.is_file():
                continue
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _marker_pids(mark: str) -> list[int]:
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{d}/cmdline").read_bytes()
        except OSError:
            continue
        if mark.encode() in cmd:
            pids.append(int(d))
    return pids


class Listener:
    """A loopback TCP server that records every connection (none may come from a worker)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.seen: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                conn, addr = self.sock.accept()
                self.seen.append(str(addr))
                conn.close()
            except OSError:
                continue

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def _all_outputs(course: Path) -> dict[str, str]:
    """Every file the grader wrote that someone reads: autograded notebooks, feedback, reports, grades."""
    out = {}
    for sub in ("autograded", "feedback", "grading"):
        for p in (course / sub).rglob("*"):
            if p.is_file():
                out[str(p)] = p.read_text(errors="replace")
    return out


# ------------------------------------------------------------------------------------------------ the batch
@pytest.fixture
def graded(_graded_once):
    """The class graded once for this module; a test that changes its folders fails at its teardown, by name (tests
    run in any order: the next one would otherwise read a changed class)."""
    folders = (_graded_once["course"], _graded_once["subs"])
    before = _tree_digest(*folders, skip=(".git",))
    yield _graded_once
    after = _tree_digest(*folders, skip=(".git",))
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"the test changed the shared graded class (work on a copy): {changed[:5]}"


@pytest.fixture(scope="module")
def _graded_once(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    course = make_course(tmp / "course", git=True)
    subs = tmp / "submissions"
    mark = str(31_000_000 + int(uuid.uuid4().int % 999_999))  # a unique number: `sleep <mark>`
    secret = f"SECRET-{uuid.uuid4().hex}"
    (course / "secret.txt").write_text(secret)
    os.chmod(course / "secret.txt", 0o600)
    listener = Listener()
    fixtures = hostile_fixtures()
    expected = {"good": (4.0, "ok"), "buggy": (1.0, "ok")}
    mapping = {"COURSE": str(course), "SUBMISSIONS": str(subs), "MARK": mark, "SECRET": secret,
               "PORT": str(listener.port)}
    for student, fx in fixtures.items():
        answers = {"add": _fill(fx["add"], mapping)} if fx.get("add") else {}
        d = subs / f"h_{student}" / ASSIGNMENT
        d.mkdir(parents=True)
        nbformat.write(student_notebook(answers, fx.get("edit")), str(d / "tiny.ipynb"))
        for rel, text in (fx.get("edit") or {}).get("files", {}).items():
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_text(_fill(text, mapping))
        expected[f"h_{student}"] = (fx["score"], fx["status"])
    d = subs / "buggy" / ASSIGNMENT
    d.mkdir(parents=True)
    nbformat.write(student_notebook({"mul": "def mul(a, b):\n    return a + b",
                                     "square_grad": f"def square_grad(x):\n    # OTHER-{mark}\n    return -2 * x"}),
                   str(d / "tiny.ipynb"))
    nbformat.write(student_notebook(), str(subs / "good.ipynb"))  # layout 2: FOLDER/<student>.ipynb
    # an earlier, already graded student in the main gradebook must survive the batch untouched
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=course)
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(course / "gradebook.db")) as gb:
        gb.update_or_create_student("earlier")
        sub = gb.add_submission(ASSIGNMENT, "earlier")
        for nb in sub.notebooks:
            for g in nb.grades:
                g.auto_score, g.needs_manual_grade = g.max_score, False
        gb.db.commit()
    protected = _tree_digest(course / "source", subs)
    protected.update(_tree_digest(course, skip=("grading", "autograded", "feedback", "release", "source", ".git")))
    protected.pop(str(course / "gradebook.db"))  # legitimately updated by the parent
    opts = instructor.Options(jobs=2, timeout=25, cell_timeout=5, memory_mb=700, progress=False)
    t0 = time.monotonic()
    results = instructor.grade(course, ASSIGNMENT, subs, opts)
    seconds = time.monotonic() - t0
    listener.close()
    print(f"\nbatch of {len(results)} submissions graded in {seconds:.1f}s (--jobs 2)")
    return {"course": course, "subs": subs, "results": {r.student: r for r in results}, "expected": expected,
            "mark": mark, "secret": secret, "protected": protected, "seconds": seconds, "opts": opts,
            "listener": listener}


def test_every_submission_graded_with_expected_score(graded):
    res, exp = graded["results"], graded["expected"]
    assert set(res) == set(exp)
    wrong = {s: (res[s].score, res[s].status, res[s].message[-300:]) for s in exp
             if (res[s].score, res[s].status) != exp[s]}
    assert not wrong, f"unexpected (score, status): {wrong}\nexpected {exp}"
    assert all(r.max_score == 4 for r in res.values())


def test_csv(graded):
    path = graded["course"] / "grading" / ASSIGNMENT / "grades.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["student", "assignment", "score", "max_score", "status"]
    by = {r["student"]: r for r in rows}
    assert set(by) == set(graded["expected"])
    for s, (score, status) in graded["expected"].items():
        assert float(by[s]["score"]) == score and by[s]["status"] == status and by[s]["assignment"] == ASSIGNMENT


def test_main_gradebook_merged_and_earlier_student_kept(graded):
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(graded["course"] / "gradebook.db")) as gb:
        assert gb.find_submission(ASSIGNMENT, "earlier").score == 4
        for s, (score, _) in graded["expected"].items():
            assert gb.find_submission(ASSIGNMENT, s).score == pytest.approx(score), s


def test_failure_report_names_failed_tests_and_messages(graded):
    out = graded["course"] / "grading" / ASSIGNMENT
    buggy = (out / "reports" / "buggy.md").read_text()
    assert "score: 1 / 4" in buggy
    assert "test_mul" in buggy and "mul(2, 3) returned 5, expected 6" in buggy
    assert "test_grad" in buggy and "sign" in buggy.lower()  # gradcheck's diagnosis, computed in the grader
    assert "test_add" not in buggy
    assert "all tests passed" in (out / "reports" / "good.md").read_text()
    loop = (out / "reports" / "h_infinite_loop.md").read_text()
    assert "test_add" in loop and "not defined" in loop and "TimeoutError" in loop
    assert "status: timeout" in (out / "reports" / "h_ignore_sigint_loop.md").read_text()
    summary = (out / "report.md").read_text()
    assert "buggy" in summary and "h_tamper" in summary


def test_feedback_and_autograded_written_and_capped(graded):
    course = graded["course"]
    fb = course / "feedback" / "good" / ASSIGNMENT / "tiny.html"
    assert fb.is_file() and "add" in fb.read_text()
    for student in ("h_million_lines", "h_output_flood"):
        ag = course / "autograded" / student / ASSIGNMENT / "tiny.ipynb"
        text = ag.read_text()
        assert len(text) < 100_000 and "99999" not in text, student
        assert (course / "feedback" / student / ASSIGNMENT / "tiny.html").stat().st_size < 2_000_000


def test_hidden_tests_stay_hidden_in_feedback(graded):
    """Feedback shows each test's result, and the test cells as released: the hidden part is not revealed."""
    text = (graded["course"] / "feedback" / "buggy" / ASSIGNMENT / "tiny.html").read_text()
    assert "numerical_gradient(lambda v" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "opposite sign" in text or "sign" in text


def test_background_processes_are_dead(graded):
    assert _marker_pids(graded["mark"]) == []


def test_no_secret_or_solution_in_any_output(graded):
    """Secrets the worker must not see: a 0600 file of the course, other students' code, the solutions, .git."""
    secret, other = graded["secret"], f"OTHER-{graded['mark']}"
    outputs = _all_outputs(graded["course"])
    assert not [p for p, t in outputs.items() if secret in t]
    assert not [p for p, t in outputs.items() if other in t and "buggy" not in p and not p.endswith("report.md")]
    for p, t in _all_outputs(graded["course"]).items():
        if "/h_" in p or "reports/h_" in p:
            assert "BEGIN SOLUTION" not in t, p


@pytest.mark.skipif(not LINUX_ROOT, reason="the namespace sandbox needs root on Linux")
def test_worker_is_unprivileged_and_sees_nothing_of_the_host(graded):
    ag = graded["course"] / "autograded" / "h_read_secrets" / ASSIGNMENT / "tiny.ipynb"
    nb = nbformat.read(str(ag), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "add")
    printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    uid = int(re.search(r"uid (\d+)", printed).group(1))
    assert uid >= sandbox.UID_BASE
    assert "tiny.ipynb" not in printed and "gradebook" not in printed.replace("gradebook.db)", "")
    assert "nnlib-grade-" not in printed  # no other job's scratch dir
    git = nbformat.read(str(graded["course"] / "autograded" / "h_git_history" / ASSIGNMENT / "tiny.ipynb"),
                        as_version=4)
    shown = "".join(o.get("text", "") for c in git.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "BEGIN SOLUTION" not in shown and "return a + b" not in shown


@pytest.mark.skipif(not LINUX_ROOT, reason="the network namespace needs root on Linux")
def test_no_network_from_the_worker(graded):
    assert graded["listener"].seen == []
    nb = nbformat.read(str(graded["course"] / "autograded" / "h_network" / ASSIGNMENT / "tiny.ipynb"), as_version=4)
    shown = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "CONNECTED" not in shown and "no connection to 127.0.0.1" in shown


def test_markup_from_the_learner_is_text(graded):
    """Every learner's markdown in every autograded notebook, as the formgrader renders it (markdown2html, no
    sanitiser), and every feedback page: no active content (tests/_active_content.py), MathJax with Safe."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    course = graded["course"]
    nb = nbformat.read(str(course / "autograded" / "h_xss" / ASSIGNMENT / "tiny.ipynb"), as_version=4)
    md = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "<script" not in md and "onerror" not in md and "<iframe" not in md and "My answer" in md
    for c in nb.cells:
        for o in c.get("outputs", []):
            assert set(o.get("data", {})) <= {"text/plain"}, o  # only text, never HTML or JS outputs
    for path in sorted((course / "autograded").rglob("*.ipynb")):
        for c in nbformat.read(str(path), as_version=4).cells:
            if c.cell_type == "markdown":
                assert active_content(markdown2html_mistune(c.source)) == [], (path, c.source)
    for path in sorted((course / "feedback").rglob("*.html")):
        page = path.read_text()
        assert active_content(page, page_tags=True) == [], path
        assert "<img src=x onerror" not in page and "<script>document.title" not in page
        assert all("Safe" in src for src in re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, re.I)), path
        assert "jupyter_server_mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe'" in page, path  # offline
    shown = (course / "feedback" / "h_html_backslash_scheme" / ASSIGNMENT / "tiny.html").read_text()
    assert "click me" in shown and "math link" in shown  # the learner's text is there, as text


@pytest.mark.skipif(not LINUX_ROOT, reason="filesystem isolation needs the namespace sandbox (root on Linux)")
def test_nothing_outside_scratch_changed(graded):
    course, subs = graded["course"], graded["subs"]
    now = _tree_digest(course / "source", subs)
    now.update(_tree_digest(course, skip=("grading", "autograded", "feedback", "release", "source", ".git")))
    now.pop(str(course / "gradebook.db"))
    assert now == graded["protected"]
    assert not (course / "pwned.txt").exists()


def test_proto_hostile_replies_cost_only_their_submission(graded):
    """A cell error forged to 3 MB, a reply of 22 M empty lists and one nested 5 M deep (tests/hostile/proto_*):
    cut or refused by the one decoder (protocol.py), named to the learner, never a grading problem; quickly."""
    res = graded["results"]
    for s in ("h_proto_many_lists", "h_proto_deep_nesting"):
        msg = res[s].cells[("tiny", "test_add")]["message"]
        assert "ProtocolError: the grader refused what your code sent back" in msg, msg
        assert "grading problem" not in msg and not res[s].message and res[s].seconds < 20, (s, res[s].seconds)
    msg = res["h_proto_forged_error"].cells[("tiny", "test_add")]["message"]
    assert "is not defined: its cell raised ValueError" in msg and "shapes (shapes (" in msg, msg
    assert "cut by the grader" in msg
    assert len(msg) < 3000 and res["h_proto_forged_error"].seconds < 20
    print("\n" + ", ".join(f"{s}: {res[s].seconds:.1f}s" for s in sorted(res) if "proto" in s or s == "good"))


def test_memory_limit_refused_the_allocation(graded):
    ag = graded["course"] / "autograded" / "h_memory_hog" / ASSIGNMENT / "tiny.ipynb"
    nb = nbformat.read(str(ag), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "add")
    printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert "MemoryError as expected" in printed and "ALLOCATED" not in printed
    assert any(o.output_type == "error" and o.ename == "MemoryError" for o in cell.outputs)


@pytest.mark.skipif(not (LINUX_ROOT and sandbox.cgroup_mode()), reason="needs a memory cgroup (root, cgroup v1/v2)")
def test_children_together_stay_under_the_job_memory_limit(tmp_path):
    """4 children × 1.2 GB: the job's memory cgroup holds them all to the job's limit (rlimits alone would not)."""
    from nnlib_grader import runner

    src = make_source_notebook()
    sub = student_notebook({"add": (HOSTILE / "memory_children.py").read_text()})
    d = tmp_path / "scratch"
    d.mkdir(mode=0o700)
    res = runner.grade_notebook(src, src, sub, ASSIGNMENT, "tiny", sandbox_on=True, scratch=str(d),
                                memory_mb=600, cell_timeout=60, wall_timeout=90)
    assert res.peak_mb is not None and res.peak_mb <= 600 + 1, res.peak_mb
    assert res.score == 4


def test_sparse_huge_notebook_is_refused_unread(tmp_path):
    course = make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    (subs / "huge").mkdir(parents=True)
    with open(subs / "huge" / "tiny.ipynb", "wb") as fh:
        fh.truncate(3 * 2**30)  # 3 GiB, sparse: reading it would take 3 GB
    (subs / "fine").mkdir()
    nbformat.write(student_notebook(), str(subs / "fine" / "tiny.ipynb"))
    with open(subs / "fine" / "data.bin", "wb") as fh:  # a data file beside the notebook: never read
        fh.truncate(3 * 2**30)
    import resource

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = instructor.grade(course, ASSIGNMENT, subs, instructor.Options(progress=False))
    assert [r.student for r in results] == ["fine"] and results[0].score == 4
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    assert grown_mb < 500, f"the grader's memory grew by {grown_mb:.0f} MB: it read a sparse 3 GiB file"
    assert any("huge" in s and "MiB limit" in s for s in results.skipped)


def test_resume_skips_graded_and_regrades_changed(graded, tmp_path):
    course, subs = tmp_path / "course", tmp_path / "submissions"  # a copy: the graded class is shared
    shutil.copytree(graded["course"], course, symlinks=True)
    shutil.copytree(graded["subs"], subs, symlinks=True)
    opts = instructor.Options(**{**graded["opts"].__dict__, "jobs": 1, "feedback": False})
    nbformat.write(student_notebook({"mul": "def mul(a, b):\n    return 0"}), str(subs / "good.ipynb"))
    results = instructor.grade(course, ASSIGNMENT, subs, opts)
    assert {r.student for r in results} == {"good"}  # graded + unchanged (even errors/timeouts): kept
    rows = batch.read_grades(course / "grading" / ASSIGNMENT / "grades.csv")
    assert set(rows) == set(graded["expected"])
    assert rows["good"]["score"] == "2" and rows["buggy"]["score"] == "1"
    assert results.unchanged == len(graded["expected"]) - 1


def test_wall_clock_timeout_kills_everything(tmp_path):
    """Every cell stays under the cell timeout but the submission as a whole does not: killed at --timeout."""
    course = make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    subs.mkdir()
    mark = str(32_000_000 + int(uuid.uuid4().int % 999_999))
    slow = ("import subprocess, time\nsubprocess.Popen(['sleep', '{mark}'], start_new_session=True)\n"
            "time.sleep(4)\ndef {name}(a, b=0):\n    return a")
    nbformat.write(student_notebook({n: slow.format(mark=mark, name=n) for n in SOLUTIONS}),
                   str(subs / "slowpoke.ipynb"))
    opts = instructor.Options(jobs=1, timeout=7, cell_timeout=5, progress=False)
    t0 = time.monotonic()
    (res,) = instructor.grade(course, ASSIGNMENT, subs, opts)
    assert (res.status, res.score) == ("timeout", 0)
    assert time.monotonic() - t0 < 90  # a sanity bound: the submission itself was killed at 7 s
    assert _marker_pids(mark) == []
    rows = batch.read_grades(course / "grading" / ASSIGNMENT / "grades.csv")
    assert rows["slowpoke"]["status"] == "timeout" and rows["slowpoke"]["score"] == "0"


def test_cli_grade_and_release(tmp_path, capsys):
    course = make_course(tmp_path / "course")
    assert cli(["release", "--course", str(course)]) == 0
    released = (course / "release" / ASSIGNMENT / "tiny.ipynb").read_text()
    assert "return a + b" not in released and "YOUR CODE HERE" in released
    # a learner's edited copy in the release folder is kept, never overwritten
    edited = released.replace("YOUR CODE HERE", "MY OWN WORK")
    (course / "release" / ASSIGNMENT / "tiny.ipynb").write_text(edited)
    assert cli(["release", "--course", str(course)]) == 0
    kept = list((course / "release" / ASSIGNMENT).glob("tiny.mine-*.ipynb"))
    assert len(kept) == 1 and "MY OWN WORK" in kept[0].read_text()
    assert "kept your edited" in capsys.readouterr().out
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(student_notebook(), str(subs / "ann.ipynb"))
    assert cli(["grade", "--course", str(course), "--assignment", ASSIGNMENT, "--submissions", str(subs)]) == 0
    assert cli(["grade", "--course", str(course), "--assignment", ASSIGNMENT, "--submissions", str(subs)]) == 0
    out = capsys.readouterr().out
    assert "graded 0 submission(s)" in out and "1 unchanged (kept)" in out


# ------------------------------------------------------------------------------------------------ doctor
def test_check_version():
    assert doctor.check_version("nbgrader", "0.9.6", "0.9.6", exact=True).ok
    assert not doctor.check_version("nbgrader", "0.9.5", "0.9.6", exact=True).ok
    assert not doctor.check_version("nbgrader", None, "0.9.6", exact=True).ok
    assert doctor.check_version("jupyterlab", "4.4.0", "4.4", "5").ok
    assert not doctor.check_version("jupyterlab", "4.3.9", "4.4", "5").ok
    assert not doctor.check_version("notebook", "8.0.0", "7.4", "8").ok
    assert "pip install" in doctor.check_version("notebook", "6.5.0", "7.4", "8").line()


LAB_OK = """JupyterLab v4.4.3
/venv/share/jupyter/labextensions
        @jupyter/nbgrader v0.9.6 \x1b[32menabled\x1b[0m \x1b[32mOK\x1b[0m
"""
SERVER_OK = """Config dir: /venv/etc/jupyter
    nbgrader.server_extensions.formgrader \x1b[32menabled\x1b[0m
    - Validating nbgrader.server_extensions.formgrader...
      nbgrader.server_extensions.formgrader  \x1b[32mOK\x1b[0m
    nbgrader.server_extensions.assignment_list enabled
    - Validating nbgrader.server_extensions.assignment_list...
      nbgrader.server_extensions.assignment_list  OK
"""


def test_check_extensions_parse_listings():
    assert doctor.check_labextension(LAB_OK).ok
    assert not doctor.check_labextension(LAB_OK.replace("enabled", "disabled")).ok
    assert not doctor.check_labextension("JupyterLab v4.4.3\n").ok
    assert doctor.check_server_extension(SERVER_OK).ok
    broken = SERVER_OK.replace("formgrader \x1b[32menabled", "formgrader \x1b[31mdisabled")
    c = doctor.check_server_extension(broken)
    assert not c.ok and "formgrader" in c.detail and "fix:" in c.line()


def test_doctor_on_broken_config(tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.Execute.timeout = 'soon' +\n")
    check, cfg = doctor.check_config_loads(tmp_path)
    assert not check.ok and cfg is None and "SyntaxError" in check.detail
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.Exchange.root = '/nonexistent/exchange'\nc.Execute.kernel_name = 'nope'\n")
    check, cfg = doctor.check_config_loads(tmp_path)
    assert check.ok and not doctor.check_timeouts(cfg).ok
    ex = doctor.check_exchange(cfg)
    assert not ex.ok and "mkdir -p /nonexistent/exchange" in ex.fix
    assert not doctor.check_course_id(cfg).ok and not doctor.check_sanitize(cfg).ok
    assert cli(["doctor", "--course", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "✗ kernel 'nope'" in out and "✗ exchange directory" in out and "✓ nbgrader ==0.9.6" in out
    assert ("✓ grading sandbox" in out) == LINUX_ROOT


def test_doctor_uses_nbgraders_real_default_exchange(tmp_path):
    from nbgrader.exchange.default.exchange import Exchange

    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    _, cfg = doctor.check_config_loads(tmp_path)
    assert doctor.exchange_root(cfg) == Exchange.root.default_value


def test_doctor_on_good_course(tmp_path):
    course = make_course(tmp_path / "course")
    _, cfg = doctor.check_config_loads(course)
    assert doctor.check_timeouts(cfg).ok and doctor.check_exchange(cfg).ok
    assert doctor.check_course_id(cfg).ok and doctor.check_sanitize(cfg).ok


@pytest.mark.skipif(not LINUX_ROOT, reason="the namespace sandbox needs root on Linux")
def test_a_lookup_table_of_the_public_cases_earns_only_the_public_points(tmp_path):
    """The public cases are in the library (self-study needs them); the graded hidden ones are only in solutions/.
    An answer that memorised every public case's reference scores the public cells and nothing else."""
    import numpy as np

    from nnlib.grading import a05_backprop as A5
    from nnlib_grader import runner

    table = {}
    for sizes, seed, m in A5.BACKPROP_CASES + A5.SINGLE_CASES:
        ref = A5._reference_net(sizes, seed)
        x, y = A5._data(sizes, seed, m)
        nb, nw = ref.backprop(x, y)
        table[(tuple(x.shape), round(float(x[0, 0]), 12))] = ([b.tolist() for b in nb], [w.tolist() for w in nw])
    answer = ("import numpy as np\nTABLE = " + repr(table) + "\n"
              "def backprop(net, x, y):\n    nb, nw = TABLE[(tuple(x.shape), round(float(x[0, 0]), 12))]\n"
              "    return [np.array(b) for b in nb], [np.array(w) for w in nw]\n"
              "backprop_single = backprop\n")
    a = "a05_backprop"
    src = runner.read_notebook(Path(__file__).parents[1] / "solutions" / a / f"{a}.ipynb")
    rel = runner.read_notebook(Path(__file__).parents[1] / "exercises" / a / f"{a}.ipynb")
    sub = nbformat.from_dict(json.loads(json.dumps(rel)))
    for c in sub.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in ("backprop", "backprop_single"):
            c.source = answer
    d = tmp_path / "scratch"
    d.mkdir(mode=0o700)
    res = runner.grade_notebook(src, rel, sub, a, a, sandbox_on=True, scratch=str(d))
    got = {c.grade_id: c.points for c in res.cells}
    assert got["test_backprop"] == 4 and got["test_backprop_single"] == 3, got
    hidden = {k: v for k, v in got.items() if k.endswith("_hidden")}
    assert hidden and all(v == 0 for v in hidden.values()), got
    assert np.isclose(res.score, 7)
