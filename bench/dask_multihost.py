"""Grading throughput across two "machines" (network namespaces, TLS Dask) against the local pool, in one run.

A class of ``--students`` a05 submissions (correct, one of the classic mistakes of ``tests/mistakes``, blank)
on a throw-away copy of the course is graded by the real CLI (``python -m nnlib_grader grade --no-feedback``,
sandbox on where available) three ways, each on a fresh copy (so each run creates its gradebook):

1. the local pool, ``--jobs 1`` (the baseline) — in the caller's namespace;
2. the local pool, ``--jobs 2``;
3. ``--dask tls://10.77.0.1:8786``: the grader in its own namespace, a scheduler in another and two worker
   hosts of one worker (one thread) each (``tests/_netns.py``), all on a bridge, mutual TLS.

Printed per run: the wall time end to end (CLI start, release regeneration, every job, every merge, the class
report), the same minus the fixed cost of a run with nothing to grade (measured once per way, on the graded
copy: "grading only"), submissions/s of both, the ratio to (1), and whether the scores equal those of (1).
Cluster start-up is not in the Dask figure (a cluster outlives one grading run). Root only.

    PYTHONPATH=.:grader:tests python bench/dask_multihost.py [--students 24]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "grader"), str(REPO / "tests")]
A = "a05_backprop"


def make_class(course: Path, n: int) -> None:
    import nbformat

    import mistakes
    from mistakes import a05_backprop as m

    course.mkdir(parents=True)
    shutil.copytree(REPO / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    wrong = [e for e in m.MISTAKES if e.cell == "backprop"]
    for i in range(n):
        kind = i % 6
        nb = (mistakes.submission(A, {}) if kind < 3 else mistakes.blank(A) if kind == 5
              else mistakes.submission(A, {wrong[i % len(wrong)].cell: wrong[i % len(wrong)].source}))
        d = course / "subs" / f"s{i:03d}" / A
        d.mkdir(parents=True)
        nbformat.write(nb, str(d / f"{A}.ipynb"))


def env_for(tmp: Path) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "grader")]),
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "TMPDIR": str(tmp)}


def cmd(course: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "nnlib_grader", "grade", "--course", str(course), "--assignment", A,
            "--submissions", str(course / "subs"), "--no-feedback", *extra]


def timed(argv: list[str], env: dict, netns: str | None = None) -> float:
    full = ["ip", "netns", "exec", netns, *argv] if netns else argv
    t0 = time.perf_counter()
    p = subprocess.run(full, env=env, capture_output=True, text=True, timeout=3600)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({p.returncode}):\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return dt


def scores(course: Path) -> dict[str, tuple[str, str]]:
    rows = csv.DictReader((course / "grading" / A / "grades.csv").open())
    return {r["student"]: (r["score"], r["status"]) for r in rows}


def main() -> int:
    import _netns

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=24)
    a = ap.parse_args()
    ok, why = _netns.available()
    if not ok:
        raise SystemExit(f"needs network namespaces: {why}")
    with tempfile.TemporaryDirectory(prefix="nnlib-dask-multihost-") as d:
        root = Path(d)
        make_class(root / "template", a.students)
        tmp = root / "tmp"
        tmp.mkdir()
        env = env_for(tmp)
        from nnlib_grader.cli import main as cli

        with contextlib.redirect_stdout(io.StringIO()):  # the list of written files
            assert cli(["certs", str(root / "certs")]) == 0
        cluster = _netns.Cluster(root / "certs", root / "logs", workers=2, env=env)
        rows = []
        with cluster:
            cluster.wait_started()
            for label, extra, ns in (("local --jobs 1", ["--jobs", "1"], None),
                                     ("local --jobs 2", ["--jobs", "2"], None),
                                     ("dask, 2 netns hosts", ["--dask", cluster.address, "--dask-tls",
                                                              str(root / "certs")], cluster.ns("grader"))):
                course = root / label.replace(" ", "_").replace(",", "")
                shutil.copytree(root / "template", course)
                wall = timed(cmd(course, *extra), env, ns)
                fixed = timed(cmd(course, *extra), env, ns)  # everything unchanged: the run's fixed cost
                rows.append((label, wall, fixed, scores(course)))
        load = os.getloadavg()
    base = rows[0]
    print(f"a05, {a.students} submissions, sandbox on where available; load average {load[0]:.2f} "
          f"{load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs")
    print(f"{'run':22} {'wall s':>7} {'sub/s':>6} {'ratio':>6}   {'grading s':>9} {'sub/s':>6} {'ratio':>6}  same")
    for label, wall, fixed, sc in rows:
        g, gb = max(wall - fixed, 1e-9), max(base[1] - base[2], 1e-9)
        print(f"{label:22} {wall:7.1f} {a.students / wall:6.2f} {base[1] / wall:6.2f}x  {g:9.1f} "
              f"{a.students / g:6.2f} {gb / g:6.2f}x  {sc == base[3]}")
    return 0 if all(r[3] == base[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
