"""Feedback reaches the student through nbgrader's own exchange (issue 20, item 1).

A scratch course with its exchange; with nbgrader's CLI two students (their own HOME, so their own nbgrader
cache, and ``--student``) fetch and submit, the instructor collects, ``python -m nnlib_grader grade --release-feedback``
grades and releases, and each student's ``nbgrader fetch_feedback`` puts *their* page into
``<A>/feedback/<timestamp>/<A>.html``.  A third submission copied into ``submitted/`` by hand (no secret) is
graded, and its feedback is named as not releasable instead of crashing ``release_feedback``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def test_grade_release_feedback_and_students_fetch_their_own(tmp_path):
    course = make_course(tmp_path)
    env = {**env_for(tmp_path), "HOME": str(tmp_path / "home" / "instructor")}
    exchange = course / "exchange"
    exchange.mkdir(mode=0o777)
    r = subprocess.run([sys.executable, "-m", "nnlib_grader", "release", "--course", str(course), "--assignment", A],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    nbgrader(["release_assignment", A, "--force"], course, env)

    kinds = {"alice": "good", "bob": "wrong"}
    work = {}
    for who, kind in kinds.items():
        wd, senv, opts = student_env(tmp_path, who, exchange)
        nbgrader(["fetch_assignment", A, *opts], wd, senv)
        nbformat.write(notebook(kind), str(wd / A / f"{A}.ipynb"))
        nbgrader(["submit", A, *opts], wd, senv)
        work[who] = (wd, senv, opts)
    nbgrader(["collect", A], course, env)
    for who in kinds:
        assert (course / "submitted" / who / A / "submission_secret.txt").is_file()
    carol = course / "submitted" / "carol" / A  # copied in by hand: no secret, no timestamp
    carol.mkdir(parents=True)
    nbformat.write(notebook("good"), str(carol / f"{A}.ipynb"))

    r = subprocess.run([sys.executable, "-m", "nnlib_grader", "grade", "--course", str(course), "--assignment", A,
                        "--submissions", str(course / "submitted"), "--jobs", "1", "--release-feedback"],
                       cwd=str(course), env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "released the feedback of a01_perceptron to 2 student(s): alice, bob" in r.stdout, r.stdout
    assert "feedback of carol not released" in r.stderr and "submission_secret.txt" in r.stderr, r.stderr
    for who in kinds:  # what release_feedback needs, next to the page
        fb = course / "feedback" / who / A
        assert (fb / f"{A}.html").is_file() and (fb / "submission_secret.txt").is_file()
        assert (fb / "timestamp.txt").read_text() == (course / "submitted" / who / A / "timestamp.txt").read_text()
    assert len(list((exchange / "nnlib" / "feedback").glob("*.html"))) == 2

    for who, kind in kinds.items():
        wd, senv, opts = work[who]
        nbgrader(["fetch_feedback", A, *opts], wd, senv)
        pages = list((wd / A / "feedback").glob(f"*/{A}.html"))
        assert len(pages) == 1, pages
        ts = (course / "submitted" / who / A / "timestamp.txt").read_text().strip()
        assert pages[0].parent.name == ts  # filed under the submission it belongs to
        page = pages[0].read_text()
        want = f"{MAX:g} / {MAX:g}" if kind == "good" else f"/ {MAX:g}"
        assert want in page.replace("(Score: ", "").replace(".0", ""), (who, page[:2000])
        if kind == "wrong":  # bob's page is not alice's
            assert f"{MAX:g} / {MAX:g}" not in page.replace(".0", "")

    # the student's Assignment List reads the same folder: nbgrader's list --cached shows the feedback as fetched
    wd, senv, opts = work["alice"]
    listed = nbgrader(["list", "--cached", *opts], wd, senv)
    assert f"nnlib alice {A}" in listed and "(feedback already fetched)" in listed, listed[-2000:]


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
