"""The instructor workflow loses nothing (issue 11): each loss, through the real grading pipeline.

Every test grades real course assignments (a01_perceptron) in a scratch copy of the course (``solutions/`` and
``nbgrader_config.py``) with ``python -m nnlib_grader grade`` as a subprocess (interrupt, kill, concurrent
runs) or ``batch.grade`` in process.  The grader's scratch dirs live in a private TMPDIR per test so the checks on
"no scratch dir left" see only this test's grader.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
A = "a01_perceptron"
SOLVED = ROOT / "solutions" / A / f"{A}.ipynb"
RELEASED = ROOT / "exercises" / A / f"{A}.ipynb"
MAX = 9.0

pytestmark = pytest.mark.slow


# -- a scratch course and its submissions ------------------------------------------------------------------------
def make_course(tmp: Path, extra_config: str = "") -> Path:
    course = tmp / "course"
    course.mkdir()
    shutil.copytree(ROOT / "solutions", course / "solutions")
    cfg = (ROOT / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(cfg + "\n" + extra_config + "\n")
    (tmp / "tmp").mkdir()
    return course


def notebook(kind: str = "good"):
    """good: the solution; wrong: predict always 0; blank: the release (NotImplementedError); slow: sleeps."""
    nb = nbformat.read(str(RELEASED if kind == "blank" else SOLVED), as_version=4)
    for c in nb.cells:
        gid = (c.metadata.get("nbgrader") or {}).get("grade_id")
        if gid == "predict" and kind == "wrong":
            c.source = "def predict(w, X):\n    return np.zeros(len(X), dtype=int)\n"
        if gid == "predict" and kind == "slow":
            c.source = "import time\ntime.sleep(600)\n" + c.source
    return nb


def add_sub(subs: Path, student: str, kind: str = "good", timestamp: str | None = None) -> Path:
    d = subs / student / A
    d.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook(kind), str(d / f"{A}.ipynb"))
    if timestamp:
        (d / "timestamp.txt").write_text(timestamp + "\n")
    return d


def env_for(tmp: Path) -> dict:
    path = os.pathsep.join([str(ROOT), str(ROOT / "grader")])  # this tree's grader, not an installed one
    return {**os.environ, "PYTHONPATH": path, "TMPDIR": str(tmp / "tmp"), "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def start_cli(tmp: Path, course: Path, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "nnlib_grader", "grade", "--course", str(course), "--assignment", A,
           "--submissions", str(course / "subs"), "--no-feedback", *args]
    return subprocess.Popen(cmd, cwd=str(course), env=env_for(tmp), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def run_cli(tmp: Path, course: Path, *args: str, timeout: float = 400) -> tuple[int, str]:
    p = start_cli(tmp, course, *args)
    out, _ = p.communicate(timeout=timeout)
    return p.returncode, out


def grades(course: Path) -> dict[str, dict]:
    path = course / "grading" / A / "grades.csv"
    with open(path, newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def state(course: Path) -> dict:
    return json.loads((course / "grading" / A / "state.json").read_text())


def gradebook_scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.find_assignment(A).submissions}


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (through /proc's ppid links)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def alive(pids: set[int]) -> set[int]:
    live = set()
    for p in pids:
        try:
            st = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if st != "Z":
            live.add(p)
    return live


def wait_for(cond, timeout: float, what: str):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def n_state(course: Path) -> int:
    """Students marked graded so far, mid-run: state.json with the run's journal applied (nnlib_grader.index)."""
    from nnlib_grader import index

    return len(index.read(course / "grading" / A)[1])


def scratch_dirs(tmp: Path) -> list[str]:
    return sorted(n for n in os.listdir(tmp / "tmp") if n.startswith("nnlib-grade-"))


# -- SIGINT ------------------------------------------------------------------------------------------------------
def test_sigint_mid_batch_keeps_finished_results_and_leaves_nothing(tmp_path):
    course = make_course(tmp_path)
    subs = course / "subs"
    add_sub(subs, "s0", "slow")  # first in the queue: holds a worker until it is killed
    for i in range(1, 8):
        add_sub(subs, f"s{i}", "good" if i % 2 else "wrong")
    p = start_cli(tmp_path, course, "--jobs", "2", "--cell-timeout", "500")
    try:
        wait_for(lambda: n_state(course) >= 3, 300, "three graded submissions")
        workers = descendants(p.pid)
        assert alive(workers), "the slow submission's worker should be running"
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # where it is stuck: every thread's stack (python -m nnlib_grader's SIGUSR2)
            me = Path(f"/proc/{p.pid}/cmdline").read_bytes()
            for c in [p.pid, *descendants(p.pid)]:  # its job processes too (forked: the same command line)
                with contextlib.suppress(OSError):
                    if Path(f"/proc/{c}/cmdline").read_bytes() == me:
                        os.kill(c, signal.SIGUSR2)
            time.sleep(2)
            p.kill()
            out, _ = p.communicate()
            raise AssertionError(f"SIGINT did not stop the batch within 30 s:\n{out[-6000:]}") from None
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert took < 8, f"SIGINT took {took:.1f}s to stop the batch\n{out}"
    assert p.returncode == 130, out
    assert "interrupted" in out
    rows, st, gb = grades(course), state(course), gradebook_scores(course)
    assert len(rows) >= 3 and set(rows) == set(st), (rows, st)
    assert "s0" not in rows, "the killed slow job must not be recorded as graded"
    for s, r in rows.items():
        expect = MAX if int(s[1:]) % 2 else MAX - 3  # wrong predict loses its 3 points
        assert float(r["score"]) == expect and r["status"] == "ok", (s, r)
        assert gb[s] == expect, (s, gb)
    assert not alive(workers), f"orphan worker processes after SIGINT: {alive(workers)}"
    assert scratch_dirs(tmp_path) == [], "a scratch dir was left behind"

    # the next run grades only what was not finished: nothing twice
    first = set(rows)
    rc, out2 = run_cli(tmp_path, course, "--jobs", "2", "--cell-timeout", "3")
    assert rc == 0, out2
    assert f"{len(first)} unchanged (kept)" in out2
    assert f"graded {8 - len(first)} submission(s)" in out2
    rows2 = grades(course)
    assert set(rows2) == {f"s{i}" for i in range(8)}
    assert {s: rows2[s] for s in first} == {s: rows[s] for s in first}
    assert float(rows2["s0"]["score"]) < MAX


# -- SIGKILL -----------------------------------------------------------------------------------------------------
STEAL = """import glob
for _f in glob.glob('/tmp/nnlib-grade-*/*.py') + glob.glob('{tmp}/nnlib-grade-*/*.py'):
    exec(open(_f).read())
"""


@pytest.mark.parametrize("jobs", ["1", "2"])  # jobs in threads of the grader; in its child processes
def test_sigkill_leaves_no_orphans_and_stale_scratch_is_removed_unread(tmp_path, jobs):
    course = make_course(tmp_path)
    subs = course / "subs"
    for i in range(int(jobs)):  # one slow submission per job: with 2, both job processes hold one
        add_sub(subs, f"slow{i or ''}", "slow")
    p = start_cli(tmp_path, course, "--jobs", jobs, "--cell-timeout", "500")
    try:
        wait_for(lambda: len(scratch_dirs(tmp_path)) >= int(jobs) and len(alive(descendants(p.pid))) >= 1, 200,
                 "a running grading worker per job")
        time.sleep(1.0)
        workers = alive(descendants(p.pid))
        stale = scratch_dirs(tmp_path)
        p.kill()
        p.wait()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    wait_for(lambda: not alive(workers), 10, f"the workers {workers} to die with the grader (PDEATHSIG)")
    assert stale and scratch_dirs(tmp_path) == stale, "the killed grader's scratch dir is left (as the issue saw)"

    # plant a solution in the stale scratch dir, as a killed run would have: a later job must not read it
    sol = "def predict(w, X):\n    return (w[0] + X @ w[1:] > 0).astype(int)\n"
    (tmp_path / "tmp" / stale[0] / "solution.py").write_text(sol)
    for i in range(int(jobs)):
        shutil.rmtree(subs / f"slow{i or ''}")
    nb = notebook("blank")
    for c in nb.cells:
        if (c.metadata.get("nbgrader") or {}).get("grade_id") == "predict":
            c.source = STEAL.format(tmp=tmp_path / "tmp")
    d = subs / "thief" / A
    d.mkdir(parents=True)
    nbformat.write(nb, str(d / f"{A}.ipynb"))
    rc, out = run_cli(tmp_path, course, "--jobs", "1", "--cell-timeout", "20")
    assert rc == 0, out
    assert f"removed {stale[0]}" in out
    assert scratch_dirs(tmp_path) == []
    assert float(grades(course)["thief"]["score"]) == 0.0, out


# -- a job process dies -------------------------------------------------------------------------------------------
def test_a_dead_job_process_costs_only_its_jobs_and_retry_failed_grades_them(tmp_path):
    course = make_course(tmp_path)
    subs = course / "subs"
    add_sub(subs, "s0", "slow")
    for i in range(1, 10):
        add_sub(subs, f"s{i}", "good" if i % 2 else "wrong")
    p = start_cli(tmp_path, course, "--jobs", "2", "--cell-timeout", "8")
    try:
        wait_for(lambda: n_state(course) >= 2, 300, "two graded submissions")
        me = Path(f"/proc/{p.pid}/cmdline").read_bytes()
        kids = {c for c in alive(descendants(p.pid)) if Path(f"/proc/{c}/cmdline").read_bytes() == me}
        assert len(kids) == 2, f"--jobs 2 runs its jobs in two forked children of the grader: {kids}"
        os.kill(min(kids), signal.SIGKILL)
        out, _ = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    rows = grades(course)
    assert set(rows) == {f"s{i}" for i in range(10)}, out  # every submission has a row: none silently dropped
    failed = {s for s, r in rows.items() if r["status"] == "error"}
    assert failed, "the killed child's jobs are recorded as errors"
    report = json.loads((course / "grading" / A / "results" / f"{sorted(failed)[0]}.json").read_text())
    assert "job process of the grader died" in json.dumps(report), report
    for s, r in rows.items():
        if s not in failed and s != "s0":
            assert float(r["score"]) == (MAX if int(s[1:]) % 2 else MAX - 3), (s, r)
    rc, out2 = run_cli(tmp_path, course, "--jobs", "2", "--cell-timeout", "3", "--retry-failed")
    assert rc == 0, out2
    rows2 = grades(course)
    for s, r in rows2.items():
        if s != "s0":
            assert r["status"] == "ok" and float(r["score"]) == (MAX if int(s[1:]) % 2 else MAX - 3), (s, r)


# -- two runs at once ---------------------------------------------------------------------------------------------
def test_second_concurrent_run_refuses_and_nothing_is_lost(tmp_path):
    course = make_course(tmp_path)
    subs = course / "subs"
    add_sub(subs, "a0", "slow")
    for i in range(1, 4):
        add_sub(subs, f"a{i}")
    first = start_cli(tmp_path, course, "--jobs", "2", "--cell-timeout", "25")
    try:
        wait_for(lambda: (course / "grading" / A / ".lock").exists()
                 and f"pid {first.pid}" in (course / "grading" / A / ".lock").read_text(), 200, "the first run's lock")
        rc, out = run_cli(tmp_path, course, "--jobs", "1", timeout=120)
        assert rc == 3, out
        assert "another grading run on a01_perceptron is in progress" in out and f"pid {first.pid}" in out
        out1, _ = first.communicate(timeout=400)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, out1
    rows = grades(course)
    assert set(rows) == set(state(course)) == {"a0", "a1", "a2", "a3"}
    assert [rows[f"a{i}"]["score"] for i in range(1, 4)] == ["9"] * 3
    assert rows["a0"]["status"] in ("ok", "timeout") and float(rows["a0"]["score"]) < MAX


# -- in-process runs ---------------------------------------------------------------------------------------------
def grade_here(course: Path, **kw):
    import nnlib_grader

    return nnlib_grader.grade(course, A, course / "subs", nnlib_grader.Options(progress=False, feedback=False, **kw))


def test_truncated_state_json_is_treated_as_empty(tmp_path, capsys):
    course = make_course(tmp_path)
    for s in ("t1", "t2"):
        add_sub(course / "subs", s)
    assert len(grade_here(course)) == 2
    sp = course / "grading" / A / "state.json"
    text = sp.read_text()
    sp.write_text(text[: len(text) // 2])  # a half-written file, as a crash mid-write would leave
    capsys.readouterr()
    res = grade_here(course)
    err = capsys.readouterr().err
    assert "unreadable" in err and "graded again" in err
    assert sorted(r.student for r in res) == ["t1", "t2"]
    assert state(course).keys() == {"t1", "t2"}
    assert list((course / "grading" / A).glob("state.unreadable-*")), "the unreadable file is kept aside"
    assert {s: r["score"] for s, r in grades(course).items()} == {"t1": "9", "t2": "9"}


def test_duplicate_ids_refused_and_uppercase_suffix_graded(tmp_path, capsys):
    course = make_course(tmp_path)
    subs = course / "subs"
    add_sub(subs, "X")
    nbformat.write(notebook("wrong"), str(subs / "X.ipynb"))
    nbformat.write(notebook("good"), str(subs / "Y.IPYNB"))
    (subs / "notes.txt").write_text("not a submission")
    res = grade_here(course)
    err = capsys.readouterr().err
    assert [r.student for r in res] == ["Y"] and res[0].score == MAX
    assert "X and X.ipynb: the same student id appears more than once" in err and "neither is graded" in err
    assert "skipped notes.txt: not a notebook" in err
    assert "X" not in grades(course)


def test_regrade_with_force_keeps_manual_grades_and_comments(tmp_path):
    from nbgrader.api import Gradebook

    course = make_course(tmp_path)
    add_sub(course / "subs", "m1", "wrong")
    grade_here(course)
    db = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db) as gb:
        g = gb.find_grade("test_predict", A, A, "m1")
        assert g.auto_score == 0.0
        g.manual_score = 1.5
        c = gb.find_comment("predict", A, A, "m1")
        c.manual_comment = "close: look at the threshold"
        gb.db.commit()
        assert gb.find_submission(A, "m1").score == MAX - 3 + 1.5
    res = grade_here(course, force=True)
    assert [r.student for r in res] == ["m1"]
    with Gradebook(db) as gb:
        g = gb.find_grade("test_predict", A, A, "m1")
        assert g.manual_score == 1.5 and g.auto_score == 0.0
        assert gb.find_comment("predict", A, A, "m1").manual_comment == "close: look at the threshold"
        assert gb.find_submission(A, "m1").score == MAX - 3 + 1.5


def test_late_submission_gets_nbgraders_penalty(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))  # alembic

    course = make_course(tmp_path, 'c.LateSubmissionPlugin.penalty_method = "zero"')
    db = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db) as gb:
        gb.update_or_create_assignment(A, duedate=dt.datetime(2026, 3, 1, 12, 0))
    add_sub(course / "subs", "early", timestamp="2026-03-01 11:00:00.000000 UTC")
    add_sub(course / "subs", "late", timestamp="2026-03-02 12:00:00.000000 UTC")
    grade_here(course)
    with Gradebook(db) as gb:
        late, early = gb.find_submission(A, "late"), gb.find_submission(A, "early")
        assert late.total_seconds_late == 86400 and early.total_seconds_late == 0
        assert late.score == MAX and late.late_submission_penalty == MAX  # nbgrader's 'zero': penalty = score
        assert late.notebooks[0].late_submission_penalty == MAX
        assert early.notebooks[0].late_submission_penalty is None and early.late_submission_penalty == 0.0
        assert gb.find_assignment(A).duedate == dt.datetime(2026, 3, 1, 12, 0)


# -- class report, LMS export, Dask --------------------------------------------------------------------------------
def test_class_report_and_lms_export(tmp_path):
    course = make_course(tmp_path)
    for s, kind in (("c1", "good"), ("c2", "wrong"), ("c3", "blank"), ("c4", "wrong")):
        add_sub(course / "subs", s, kind)
    grade_here(course)
    out = course / "grading" / A
    with open(out / "class.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["student"] for r in table] == ["c1", "c2", "c3", "c4"]
    tests = ["test_predict", "test_predict_hidden", "test_perceptron_update", "test_perceptron_update_hidden",
             "test_train_perceptron", "test_train_perceptron_hidden"]
    assert list(table[0]) == ["student", "score", "max_score", "status", *tests]
    assert [r["test_predict"] for r in table] == ["2", "0", "0", "0"]
    assert [r["test_perceptron_update"] for r in table] == ["2", "2", "0", "2"]
    assert [r["score"] for r in table] == ["9", "6", "0", "6"]
    md = (out / "class.md").read_text()
    assert "| test_predict | 2 | 1/4 (25 %) |" in md
    mistakes = md.split("## most common mistakes", 1)[1].strip().splitlines()
    assert mistakes[0].startswith("- 50 % (2/4): ") and "test_predict" in mistakes[0], md  # c2 and c4's mistake
    assert any(line.startswith("- 25 % (1/4): `predict` is not implemented") for line in mistakes), md
    assert all("(test case" not in line for line in mistakes)

    dest = tmp_path / "lms.csv"
    r = subprocess.run([sys.executable, "-m", "nnlib_grader", "export", "--course", str(course), "--to", str(dest),
                        "--assignment", A], cwd=str(course), env=env_for(tmp_path), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(dest, newline="") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert set(rows) == {"c1", "c2", "c3", "c4"}
    assert [float(rows[s]["score"]) for s in ("c1", "c2", "c3", "c4")] == [9.0, 6.0, 0.0, 6.0]
    assert {float(row["max_score"]) for row in rows.values()} == {MAX}


def test_dask_localcluster_grades_like_the_local_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    from nnlib_grader import batch

    course = make_course(tmp_path)
    for s, kind in (("d1", "good"), ("d2", "wrong"), ("d3", "blank")):
        add_sub(course / "subs", s, kind)
    local = {r.student: (r.score, r.status, {k: c["points"] for k, c in r.cells.items()}) for r in grade_here(course)}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        res = batch.grade(course, A, course / "subs",
                          batch.Options(progress=False, feedback=False, force=True, dask=client))
    remote = {r.student: (r.score, r.status, {k: c["points"] for k, c in r.cells.items()}) for r in res}
    assert remote == local
    assert [local[s][0] for s in ("d1", "d2", "d3")] == [MAX, MAX - 3, 0.0]


def test_job_processes_grade_like_threads_and_message_for_message(tmp_path):
    from nnlib_grader import batch

    course = make_course(tmp_path)
    for s, kind in (("p1", "good"), ("p2", "wrong"), ("p3", "blank"), ("p4", "good")):
        add_sub(course / "subs", s, kind)

    def run(processes: bool) -> dict:
        res = batch.grade(course, A, course / "subs", batch.Options(progress=False, feedback=False, force=True,
                                                                   jobs=2, processes=processes))
        return {r.student: (r.score, r.status, {k: (c["points"], c["message"]) for k, c in r.cells.items()})
                for r in res}

    threads, processes = run(False), run(True)
    assert processes == threads
    assert [threads[s][0] for s in ("p1", "p2", "p3", "p4")] == [MAX, MAX - 3, 0.0, MAX]


# -- the student distribution --------------------------------------------------------------------------------------
def test_publish_ships_no_solution_hidden_test_or_history(tmp_path):
    from nnlib_grader import publish

    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "nnlib_grader", "publish", str(dist), "--course", str(ROOT)],
                       cwd=str(ROOT), env=env_for(tmp_path), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    top = {p.name for p in dist.iterdir()}
    for gone in ("solutions", "tests", ".git", "grading", "gradebook.db", "submitted", "autograded", "feedback",
                 "exchange", ".ci"):
        assert gone not in top, gone
    assert {"course", "exercises", "nnlib", "run.sh", "README.md", "nbgrader_config.py"} <= top
    grep = subprocess.run(["grep", "-rlE", "BEGIN SOLUTION|BEGIN HIDDEN TESTS|END SOLUTION", str(dist)],
                          capture_output=True, text=True)
    assert grep.stdout == "", grep.stdout
    assignments = sorted(p.name for p in (ROOT / "solutions").iterdir() if any(p.glob("*.ipynb")))
    assert sorted(p.name for p in (dist / "exercises").iterdir()) == assignments
    n_solution_cells = 0
    for a in assignments:
        src = nbformat.read(str(ROOT / "solutions" / a / f"{a}.ipynb"), as_version=4)
        pub = nbformat.read(str(dist / "exercises" / a / f"{a}.ipynb"), as_version=4)
        solved = {c.metadata["nbgrader"]["grade_id"]: c.source for c in src.cells
                  if (c.metadata.get("nbgrader") or {}).get("solution")}
        for c in pub.cells:
            m = c.metadata.get("nbgrader") or {}
            if m.get("solution"):
                n_solution_cells += 1
                assert "YOUR CODE HERE" in c.source or "YOUR ANSWER HERE" in c.source, (a, m["grade_id"])
                assert c.source != solved[m["grade_id"]]
            assert not c.get("outputs"), (a, "a published notebook carries outputs")
    assert n_solution_cells >= len(assignments)
    assert publish.check(dist) == []
    run = (dist / "run.sh").read_text()
    assert 'DEFAULT_MODE="student"' in run and 'STUDENT_ONLY="1"' in run
    assert (dist / "README.md").read_text().startswith("# nnlib — the student distribution")
    t = subprocess.run(["bash", str(dist / "run.sh"), "test"], env={**env_for(tmp_path), "NNLIB_VENV": sys.prefix,
                       "NNLIB_SKIP_INSTALL": "1"}, capture_output=True, text=True, timeout=60)
    assert t.returncode == 2 and "not part of the student distribution" in t.stderr


def test_publish_refuses_a_leak_and_leaves_nothing(tmp_path):
    from nnlib_grader import publish

    course = make_course(tmp_path)
    for f in ("run.sh", "README.md"):
        shutil.copy(ROOT / f, course / f)
    (course / "course").mkdir()
    (course / "course" / "notes.md").write_text("copied from the key:\n### BEGIN SOLUTION\nz = w @ x\n")
    dist = tmp_path / "dist"
    with pytest.raises(publish.PublishError, match=r"course/notes.md: holds 'BEGIN SOLUTION'"):
        publish.publish(course, dist, out=lambda *a: None)
    assert not dist.exists()
    with pytest.raises(publish.PublishError, match="inside the course"):
        publish.publish(course, course / "dist", out=lambda *a: None)


def test_stale_scratch_removal_touches_only_dead_graders_dirs(tmp_path, monkeypatch):
    import tempfile

    from nnlib_grader import job

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    names = {"dead": "nnlib-grade-99999999-abc", "live": f"nnlib-grade-{os.getppid()}-abc",
             "mine": f"nnlib-grade-{os.getpid()}-abc", "foreign": "nnlib-grade-y751ccf6", "other": "unrelated-1-x"}
    for n in names.values():
        (tmp_path / n).mkdir()
        (tmp_path / n / "solution.ipynb").write_text("{}")
    assert job.remove_stale_scratch() == [names["dead"]]
    assert sorted(os.listdir(tmp_path)) == sorted(n for k, n in names.items() if k != "dead")
    d = job.scratch_dir()
    assert os.path.basename(d).startswith(f"nnlib-grade-{os.getpid()}-") and os.stat(d).st_mode & 0o777 == 0o700


def test_release_never_overwrites_a_learners_edit(tmp_path):
    from nnlib_grader.release import release

    course = make_course(tmp_path)
    msgs: list[str] = []
    release(course, [A], out=msgs.append)
    assert msgs == [f"released {A} -> {course / 'exercises' / A}"]
    nb_path = course / "exercises" / A / f"{A}.ipynb"
    fresh = nb_path.read_text()
    release(course, [A], out=msgs.append)  # unchanged: nothing to keep
    assert not list(nb_path.parent.glob("*.mine-*")) and nb_path.read_text() == fresh
    nb = nbformat.reads(fresh, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("my notes, an hour of work"))
    nbformat.write(nb, str(nb_path))
    r = subprocess.run([sys.executable, "-m", "nnlib_grader", "release", "--course", str(course), "--assignment",
                        A], cwd=str(course), env=env_for(tmp_path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    kept = list(nb_path.parent.glob(f"{A}.mine-*.ipynb"))
    assert len(kept) == 1 and "an hour of work" in kept[0].read_text()
    assert nb_path.read_text() == fresh
    assert "kept your edited" in r.stdout and kept[0].name in r.stdout, r.stdout


def test_exchange_is_inside_the_course_for_nbgrader_and_doctor(tmp_path, monkeypatch):
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.exchange.default.exchange import Exchange

    from nnlib_grader.course import load_config
    from nnlib_grader.doctor import check_exchange, exchange_root

    course = make_course(tmp_path)
    monkeypatch.chdir(course)
    app = NbGrader()
    app.load_config_file()
    nbgraders = Exchange(config=app.config).root
    assert nbgraders == str(course / "exchange")
    assert exchange_root(load_config(course)) == nbgraders
    assert not check_exchange(load_config(course)).ok
    (course / "exchange").mkdir()
    assert check_exchange(load_config(course)).ok
