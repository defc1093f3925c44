"""Tests for nnlib.instructor: sandboxed batch grading with hostile submissions, CSV/report, resume, doctor.

One batch (module fixture) grades a good submission, a buggy one and every fixture in tests/hostile/ against a
tiny three-test assignment built in a temp course; the assertions then inspect the grades, the gradebook,
the failure reports, the process table and the untouched course files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
import time
import uuid
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

from nnlib import instructor  # noqa: E402

HOSTILE = Path(__file__).parent / "hostile"
ASSIGNMENT = "a01_tiny"
LINUX_ROOT = sys.platform.startswith("linux") and os.geteuid() == 0


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
                  "assert_gradient(square_grad(x.copy()), numerical_gradient(lambda v: float((v ** 2).sum()), "
                  "x.copy()), 'd/dx sum(x**2)')", 1),
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


def make_course(root: Path, cell_timeout: int = 5) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "exchange").mkdir(exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'nnlib-test'\n"
        "c.CourseDirectory.source_directory = 'source'\n"
        "c.CourseDirectory.release_directory = 'release'\n"
        f"c.Execute.timeout = {cell_timeout}\n"
        f"c.Exchange.root = {str(root / 'exchange')!r}\n")
    src = root / "source" / ASSIGNMENT
    src.mkdir(parents=True, exist_ok=True)
    nbformat.write(make_source_notebook(), str(src / "tiny.ipynb"))
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
    nb.cells = keep
    return nb


def hostile_fixtures() -> dict[str, dict]:
    out = {}
    for p in sorted(HOSTILE.glob("*.py")):
        text = p.read_text()
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
            rel = str(p)
            if any(s in p.parts for s in skip) or not p.is_file():
                continue
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
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


# ------------------------------------------------------------------------------------------------ the batch
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    course = make_course(tmp / "course")
    subs = tmp / "submissions"
    mark = str(31_000_000 + int(uuid.uuid4().int % 999_999))  # a unique number: `sleep <mark>`
    fixtures = hostile_fixtures()
    expected = {"good": (4.0, "ok"), "buggy": (1.0, "ok")}
    # layout 1 for most students ...
    for student, fx in fixtures.items():
        answers = {"add": _fill(fx["add"], {"COURSE": str(course), "SUBMISSIONS": str(subs), "MARK": mark})} \
            if fx.get("add") else {}
        d = subs / f"h_{student}" / ASSIGNMENT
        d.mkdir(parents=True)
        nbformat.write(student_notebook(answers, fx.get("edit")), str(d / "tiny.ipynb"))
        expected[f"h_{student}"] = (fx["score"], fx["status"])
    d = subs / "buggy" / ASSIGNMENT
    d.mkdir(parents=True)
    nbformat.write(student_notebook({"mul": "def mul(a, b):\n    return a + b",
                                     "square_grad": "def square_grad(x):\n    return -2 * x"}), str(d / "tiny.ipynb"))
    # ... and layout 2 (FOLDER/<student>.ipynb) for the good one
    nbformat.write(student_notebook(), str(subs / "good.ipynb"))

    # an earlier, already graded student in the main gradebook must survive the batch untouched
    instructor.run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=course)
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(course / "gradebook.db")) as gb:
        gb.update_or_create_student("earlier")
        sub = gb.add_submission(ASSIGNMENT, "earlier")
        for nb in sub.notebooks:
            for g in nb.grades:
                g.auto_score, g.needs_manual_grade = g.max_score, False
        gb.db.commit()
    protected = _tree_digest(course / "source", subs)
    protected.update(_tree_digest(course, skip=("grading", "autograded", "feedback", "release", "source")))
    protected.pop(str(course / "gradebook.db"))  # legitimately updated by the parent
    opts = instructor.Options(jobs=2, timeout=25, cell_timeout=5, memory_mb=3072, progress=False)
    t0 = time.monotonic()
    results = instructor.grade(course, ASSIGNMENT, subs, opts)
    seconds = time.monotonic() - t0
    print(f"\nbatch of {len(results)} submissions graded in {seconds:.1f}s (--jobs 2)")
    return {"course": course, "subs": subs, "results": {r.student: r for r in results}, "expected": expected,
            "mark": mark, "protected": protected, "seconds": seconds, "opts": opts}


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
        assert by[s]["max_score"] == "4"


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
    assert "test_grad" in buggy and "GradientError" in buggy and "sign" in buggy.lower()  # gradcheck's diagnosis
    assert "test_add" not in buggy
    assert "all tests passed" in (out / "reports" / "good.md").read_text()
    loop = (out / "reports" / "h_infinite_loop.md").read_text()
    assert "test_add" in loop and "NameError" in loop
    stuck = (out / "reports" / "h_ignore_sigint_loop.md").read_text()
    assert "status: error" in stuck and "grading problem" in stuck
    summary = (out / "report.md").read_text()
    assert "buggy" in summary and "h_tamper" in summary


def test_feedback_html_written(graded):
    fb = graded["course"] / "feedback" / "good" / ASSIGNMENT / "tiny.html"
    assert fb.is_file() and "add" in fb.read_text()
    # 10**6 printed lines were cut down to the output limit
    ag = graded["course"] / "autograded" / "h_million_lines" / ASSIGNMENT / "tiny.ipynb"
    text = ag.read_text()
    assert len(text) < 200_000 and "999999" not in text


def test_background_processes_are_dead(graded):
    assert _marker_pids(graded["mark"]) == []


@pytest.mark.skipif(not LINUX_ROOT, reason="filesystem isolation needs the namespace sandbox (root on Linux)")
def test_nothing_outside_scratch_changed(graded):
    course, subs = graded["course"], graded["subs"]
    now = _tree_digest(course / "source", subs)
    now.update(_tree_digest(course, skip=("grading", "autograded", "feedback", "release", "source")))
    now.pop(str(course / "gradebook.db"))
    assert now == graded["protected"]
    assert not (course / "pwned.txt").exists()
    for p in (course / "grading").rglob("*"):
        assert not (p.is_file() and p.read_bytes() == b"pwned"), p


def test_memory_limit_refused_the_allocation(graded):
    ag = graded["course"] / "autograded" / "h_memory_hog" / ASSIGNMENT / "tiny.ipynb"
    nb = nbformat.read(str(ag), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "add")
    printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert "MemoryError as expected" in printed and "ALLOCATED" not in printed
    assert any(o.output_type == "error" and o.ename == "MemoryError" for o in cell.outputs)


def test_resume_skips_graded_and_regrades_changed(graded):
    course, subs = graded["course"], graded["subs"]
    opts = instructor.Options(**{**graded["opts"].__dict__, "jobs": 1})
    # change one submission: only that one is regraded, every other grade stays in the CSV
    nbformat.write(student_notebook({"mul": "def mul(a, b):\n    return 0"}), str(subs / "good.ipynb"))
    results = instructor.grade(course, ASSIGNMENT, subs, opts)
    regraded = {r.student for r in results}
    assert "good" in regraded
    assert regraded == {"good"}  # graded + unchanged (even errors/timeouts): skipped
    rows = instructor.read_grades(course / "grading" / ASSIGNMENT / "grades.csv")
    assert set(rows) == set(graded["expected"])
    assert rows["good"]["score"] == "2" and rows["buggy"]["score"] == "1"


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
    assert res.seconds < 7 + 5
    assert time.monotonic() - t0 < 40
    assert _marker_pids(mark) == []
    rows = instructor.read_grades(course / "grading" / ASSIGNMENT / "grades.csv")
    assert rows["slowpoke"]["status"] == "timeout" and rows["slowpoke"]["score"] == "0"
    assert "status: timeout" in (course / "grading" / ASSIGNMENT / "reports" / "slowpoke.md").read_text()


def test_cli_grade_and_release(tmp_path):
    course = make_course(tmp_path / "course")
    assert instructor.main(["release", "--course", str(course)]) == 0
    assert (course / "release" / ASSIGNMENT / "tiny.ipynb").is_file()
    released = (course / "release" / ASSIGNMENT / "tiny.ipynb").read_text()
    assert "return a + b" not in released and "YOUR CODE HERE" in released


# ------------------------------------------------------------------------------------------------ doctor
def test_check_version():
    assert instructor.check_version("nbgrader", "0.9.6", "0.9.6", exact=True).ok
    assert not instructor.check_version("nbgrader", "0.9.5", "0.9.6", exact=True).ok
    assert not instructor.check_version("nbgrader", None, "0.9.6", exact=True).ok
    assert instructor.check_version("jupyterlab", "4.4.0", "4.4", "5").ok
    assert not instructor.check_version("jupyterlab", "4.3.9", "4.4", "5").ok
    assert not instructor.check_version("notebook", "8.0.0", "7.4", "8").ok
    assert "pip install" in instructor.check_version("notebook", "6.5.0", "7.4", "8").line()


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
    assert instructor.check_labextension(LAB_OK).ok
    assert not instructor.check_labextension(LAB_OK.replace("enabled", "disabled")).ok
    assert not instructor.check_labextension("JupyterLab v4.4.3\n").ok
    assert not instructor.check_labextension(LAB_OK.replace("OK", "X is not compatible")).ok
    assert instructor.check_server_extension(SERVER_OK).ok
    broken = SERVER_OK.replace("formgrader \x1b[32menabled", "formgrader \x1b[31mdisabled")
    c = instructor.check_server_extension(broken)
    assert not c.ok and "formgrader" in c.detail and "fix:" in c.line()


def test_check_kernel():
    specs = {"kernelspecs": {"python3": {}, "nnlib": {}}}
    assert instructor.check_kernel("python3", specs).ok
    c = instructor.check_kernel("nnlib-gpu", specs)
    assert not c.ok and "ipykernel install" in c.fix and c.line().startswith("✗")


def test_doctor_on_broken_config(tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.Execute.timeout = 'soon' +\n")
    check, cfg = instructor.check_config_loads(tmp_path)
    assert not check.ok and cfg is None and "SyntaxError" in check.detail
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.Exchange.root = '/nonexistent/exchange'\nc.Execute.kernel_name = 'nope'\n")
    check, cfg = instructor.check_config_loads(tmp_path)
    assert check.ok
    assert not instructor.check_timeouts(cfg).ok
    ex = instructor.check_exchange(cfg)
    assert not ex.ok and "mkdir -p /nonexistent/exchange" in ex.fix
    assert not instructor.check_course_id(cfg).ok
    assert instructor.kernel_name_for(tmp_path, cfg) == "nope"
    # the whole doctor, as the CLI runs it: ✗ lines with fixes and a non-zero exit code
    assert instructor.main(["doctor", "--course", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "✗ kernel 'nope'" in out and "✗ exchange directory" in out and "fix: mkdir -p" in out
    assert "✓ nbgrader ==0.9.6" in out


def test_doctor_on_good_course(tmp_path):
    course = make_course(tmp_path / "course")
    _, cfg = instructor.check_config_loads(course)
    assert instructor.check_timeouts(cfg).ok and instructor.check_exchange(cfg).ok
    assert instructor.check_course_id(cfg).ok
    assert instructor.kernel_name_for(course, cfg) == "python3"


def test_doctor_reports_unloadable_config(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("raise RuntimeError('broken config')\n")
    check, cfg = instructor.check_config_loads(tmp_path)
    assert not check.ok and "broken config" in check.detail and cfg is None
