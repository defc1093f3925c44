"""Grading throughput of a class: 100 synthetic submissions of one assignment on three executors.

On a throw-away copy of the course (nbgrader_config.py + solutions/), never the real repo, a class of ``--students``
submissions (half correct, a third with one of the assignment's classic mistakes, the rest blank — the release
notebook as handed out) is graded by ``nnlib_grader.grade`` (sandboxed workers where available, no feedback
HTML) three times with ``force``:

1. the local pool with 1 worker (the baseline),
2. the local pool with 2 workers,
3. a Dask ``LocalCluster`` of 2 worker processes (1 thread each): the jobs travel as data to Dask workers,
   the results come back as data and this process merges them (the only gradebook writer).

An untimed warm-up run creates the gradebook first.  Each timed run's wall time is end to end (release
regeneration, every job, every merge into the gradebook, the class report); the fixed set-up is measured by a run
with nothing to grade and subtracted for the "grading only" figures.  Printed:
submissions/s and the ratio to the 1-worker pool, plus a check that every executor gave the same scores.

    PYTHONPATH=. .venv/bin/python bench/grading_bench.py [--assignment a05_backprop] [--students 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# a classic mistake per assignment: (text in the solution, its replacement)
MISTAKES = {
    "a05_backprop": [("delta = (activations[-1] - y) * sigmoid_prime(zs[-1])", "delta = (activations[-1] - y)")],
    "a01_perceptron": [("    z = w[0]", "    z = 0 * w[0]")],
}


def make_class(root: Path, assignment: str, n: int) -> tuple[Path, dict[str, str]]:
    import nbformat

    course = root / "course"
    course.mkdir(parents=True)
    shutil.copyfile(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(REPO / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    solved = nbformat.read(str(REPO / "solutions" / assignment / f"{assignment}.ipynb"), as_version=4)
    blank = nbformat.read(str(REPO / "exercises" / assignment / f"{assignment}.ipynb"), as_version=4)
    wrong = nbformat.from_dict(solved)
    for c in wrong.cells:
        for old, new in MISTAKES.get(assignment, []):
            c.source = c.source.replace(old, new)
    kinds = {}
    for i in range(n):
        kind = "correct" if i % 6 < 3 else "wrong" if i % 6 < 5 else "blank"
        student = f"student{i:03d}"
        d = course / "subs" / student / assignment
        d.mkdir(parents=True)
        nbformat.write({"correct": solved, "wrong": wrong, "blank": blank}[kind], str(d / f"{assignment}.ipynb"))
        kinds[student] = kind
    return course, kinds


def run(course: Path, assignment: str, **kw) -> tuple[float, dict]:
    from nnlib_grader import batch

    opts = batch.Options(progress=False, feedback=False, force=kw.pop("force", True), **kw)
    t0 = time.perf_counter()
    res = batch.grade(course, assignment, course / "subs", opts)
    return time.perf_counter() - t0, {r.student: (r.score, r.status) for r in res}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="a05_backprop")
    ap.add_argument("--students", type=int, default=100)
    a = ap.parse_args()
    import distributed

    from nnlib_grader import sandbox

    tmp = Path(tempfile.mkdtemp(prefix="nnlib-gradebench-"))
    try:
        course, kinds = make_class(tmp, a.assignment, a.students)
        n = len(kinds)
        print(f"{a.assignment}: {n} submissions ({sum(k == 'correct' for k in kinds.values())} correct, "
              f"{sum(k == 'wrong' for k in kinds.values())} with a mistake, "
              f"{sum(k == 'blank' for k in kinds.values())} blank); sandbox: {sandbox.namespaces_available()[0]}; "
              f"{os.cpu_count()} CPUs")
        runs = {}
        run(course, a.assignment, jobs=2)  # warm-up, not timed: creates the gradebook and its student rows
        fixed, again = run(course, a.assignment, jobs=1, force=False)
        runs["local pool, 1 worker"] = run(course, a.assignment, jobs=1)
        assert not again, "the unchanged class was graded again"
        runs["local pool, 2 workers"] = run(course, a.assignment, jobs=2)
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
                as cluster, distributed.Client(cluster) as client:
            client.run(lambda: __import__("nnlib_grader.job"))  # import once per worker, outside the timing
            runs["Dask LocalCluster, 2 workers"] = run(course, a.assignment, dask=client)
        base_t, base_scores = runs["local pool, 1 worker"]
        print(f"fixed set-up of a run (release regeneration, gradebook, class report): {fixed:.1f} s")
        print(f"{'executor':32s} {'wall s':>8s} {'subs/s':>8s} {'ratio':>6s}   "
              f"{'grading-only subs/s':>20s} {'ratio':>6s}")
        for name, (t, scores) in runs.items():
            assert scores == base_scores, f"{name}: scores differ from the 1-worker pool"
            only, base_only = max(t - fixed, 1e-9), max(base_t - fixed, 1e-9)
            print(f"{name:32s} {t:8.1f} {n / t:8.2f} {base_t / t:6.2f}   {n / only:20.2f} {base_only / only:6.2f}")
        by_kind = {k: sorted({base_scores[s][0] for s in kinds if kinds[s] == k})
                   for k in ("correct", "wrong", "blank")}
        print(f"scores by kind (identical on every executor): {by_kind}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
