"""Grading throughput of a class (issue 19): a synthetic class of a05 submissions, three executors, nbgrader beside.

On a throw-away copy of the course (nbgrader_config.py + solutions/), never the real repo, a class of ``--n``
(default 1,000) a05_backprop submissions is made: 40 % correct, 40 % with one classic mistake (the entries of
``tests/mistakes/a05_backprop.py`` in turn), 18 % blank (the release as handed out), and about 2 % hostile (the
``tests/hostile`` attacks read_secrets, steal_solution, exits and output_flood as the backprop answer).  It is
graded by ``nnlib_grader.grade`` (sandboxed workers where available, no feedback HTML), each run in a fresh
process so that nothing one run computed or cached helps the next:

1. an untimed warm-up that creates the gradebook, then a run with nothing to grade (the fixed set-up);
2. ``force`` runs: the local pool with 1 worker (the baseline, a thread), with 2 workers in child processes (the
   default for more than one), with 2 workers as threads of the grader (how 2 workers ran before), and a Dask
   ``LocalCluster`` of 2 worker processes (1 thread each);
3. peak memory of the grader process (``ru_maxrss``; its sandboxed workers are other processes) on 100
   submissions and on all ``--n``: the same 1-worker run, on a class of 100 and on the whole class; and the
   largest child of the 2-process run (a job process);
4. nbgrader's own ``autograde`` (unsandboxed, so the hostile submissions are left out) on ``--nbgrader``
   (default 20) submissions, and ours on the same ones.

Printed: submissions/s per executor and the ratio to 1 worker, the mean job time (sandboxed worker start, the
learner's cells, the trusted checks; measured inside the job) and the merge's cost per submission and its share of
the wall time, memory at 100 and at n, the nbgrader ratio, the machine's load (``os.getloadavg``) before and after.

    PYTHONPATH=.:grader:tests .venv/bin/python bench/grading_bench.py [--n 1000] [--nbgrader 20] [--no-dask]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
A = "a05_backprop"
RECORDED_BEFORE = 1.58  # subs/s, 1 worker, before issue 19 (bench/RESULTS-grading.md): the code is gone
HOSTILE = ("read_secrets", "steal_solution", "exits", "output_flood")
PLACEHOLDERS = {"{{COURSE}}": "/nonexistent/course", "{{SUBMISSIONS}}": "/nonexistent/subs", "{{MARK}}": "77",
                "{{SECRET}}": "s3cret-bench", "{{PORT}}": "9"}


def _env() -> dict:
    paths = [str(REPO), str(REPO / "grader"), str(REPO / "tests")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, *filter(None, [os.environ.get("PYTHONPATH")])]),
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def make_class(root: Path, n: int) -> tuple[Path, dict[str, str]]:
    """The course copy and ``n`` submissions under ``course/subs``; {student: kind}."""
    import nbformat

    sys.path[:0] = [str(REPO / "tests")]
    import mistakes
    from mistakes import a05_backprop as M5

    course = root / "course"
    course.mkdir(parents=True)
    shutil.copyfile(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(REPO / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    wrong = list(M5.MISTAKES)
    kinds = {}
    for i in range(n):
        r = i % 50
        student = f"student{i:04d}"
        if r == 49:
            kind = f"hostile:{HOSTILE[(i // 50) % len(HOSTILE)]}"
            src = (REPO / "tests" / "hostile" / f"{kind.split(':')[1]}.py").read_text()
            for k, v in PLACEHOLDERS.items():
                src = src.replace(k, v)
            nb = mistakes.submission(A, {"backprop": src})
        elif r < 20:
            kind, nb = "correct", mistakes.submission(A, {})
        elif r < 40:
            e = wrong[i % len(wrong)]
            kind, nb = "mistake", mistakes.submission(A, {e.cell: e.source})
        else:
            kind, nb = "blank", mistakes.blank(A)
        d = course / "subs" / student / A
        d.mkdir(parents=True)
        nbformat.write(nb, str(d / f"{A}.ipynb"))
        kinds[student] = kind
    return course, kinds


def subset(course: Path, name: str, students: list[str]) -> Path:
    dest = course / name
    for s in students:
        shutil.copytree(course / "subs" / s, dest / s)
    return dest


# -- one run, in a fresh process --------------------------------------------------------------------------------
def child(course: Path, subs: Path, jobs: int, force: bool, dask: bool, processes: bool | None = None) -> dict:
    import resource

    from nnlib_grader import batch

    opts = batch.Options(progress=False, feedback=False, force=force, jobs=jobs, processes=processes)
    cluster = client = None
    if dask:
        import distributed

        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
        client.run(lambda: __import__("nnlib_grader.job"))  # import once per worker, outside the timing
        opts.dask = client
    try:
        t0 = time.perf_counter()
        res = batch.grade(course, A, subs, opts)
        wall = time.perf_counter() - t0
    finally:
        if client is not None:
            client.close()
            cluster.close()
    return {"wall": wall, "n": len(res), "scores": {r.student: [r.score, r.status] for r in res},
            "job_s": sum(r.seconds for r in res), "merge_s": res.merge_seconds, "batches": res.batches,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "child_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def run(course: Path, subs: Path, jobs: int = 1, force: bool = True, dask: bool = False,
        processes: bool | None = None) -> dict:
    args = json.dumps([str(course), str(subs), jobs, force, dask, processes])
    p = subprocess.run([sys.executable, __file__, "--child", args],
                       env=_env(), capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"a grading run failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def nbgrader_autograde(course: Path, students: list[str]) -> float:
    """Seconds for ``nbgrader autograde`` of ``students`` (copied into ``submitted/``), nbgrader's own CLI."""
    for s in students:
        shutil.copytree(course / "subs" / s, course / "submitted" / s, dirs_exist_ok=True)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", A, "--force", "--log-level=WARN"],
                       cwd=course, env=_env(), capture_output=True, text=True)
    took = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed:\n{p.stderr[-3000:]}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="submissions in the class")
    ap.add_argument("--small", type=int, default=100, help="the small class of the memory comparison")
    ap.add_argument("--nbgrader", type=int, default=20, help="submissions nbgrader autogrades (0: skip)")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        course, subs, jobs, force, dask, processes = json.loads(a.child)
        print(json.dumps(child(Path(course), Path(subs), jobs, force, dask, processes)))
        return 0
    from host import probe

    from nnlib_grader import sandbox

    load0, probe0 = os.getloadavg(), probe()
    tmp = Path(tempfile.mkdtemp(prefix="nnlib-gradebench-"))
    try:
        course, kinds = make_class(tmp, a.n)
        subs, n = course / "subs", len(kinds)
        count = {k: sum(v.split(":")[0] == k for v in kinds.values()) for k in ("correct", "mistake", "blank",
                                                                                  "hostile")}
        print(f"{A}: {n} submissions {count}; sandbox: {sandbox.namespaces_available()[0]}; {os.cpu_count()} CPUs; "
              f"load average before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; host probe {probe0:.1f} ms "
              "(bench/host.py: lower is faster)")
        run(course, subs, jobs=2)  # warm-up, not timed: creates the gradebook and its student rows
        fixed = run(course, subs, jobs=1, force=False)
        assert fixed["n"] == 0, "the unchanged class was graded again"
        runs = {"local pool, 1 worker": run(course, subs, jobs=1),
                "local, 2 worker processes": run(course, subs, jobs=2),
                "local, 2 threads (before)": run(course, subs, jobs=2, processes=False)}
        if not a.no_dask:
            runs["Dask LocalCluster, 2 workers"] = run(course, subs, dask=True)
        base = runs["local pool, 1 worker"]
        print(f"fixed set-up of a run (release regeneration, gradebook, class report): {fixed['wall']:.1f} s")
        print(f"{'executor':30s} {'wall s':>7s} {'subs/s':>7s} {'ratio':>6s} {'job s':>6s} {'merge s/sub':>11s} "
              f"{'batches':>7s} {'merge share':>11s}")
        for name, r in runs.items():
            assert r["scores"] == base["scores"], f"{name}: scores differ from the 1-worker pool"
            print(f"{name:30s} {r['wall']:7.1f} {n / r['wall']:7.2f} {base['wall'] / r['wall']:6.2f} "
                  f"{r['job_s'] / n:6.3f} {r['merge_s'] / n:11.4f} {r['batches']:7d} "
                  f"{r['merge_s'] / r['wall']:10.1%}")
        by_kind = {k: sorted({base["scores"][s][0] for s in kinds if kinds[s].startswith(k)})
                   for k in ("correct", "mistake", "blank", "hostile")}
        print(f"scores by kind (identical on every executor): {by_kind}")
        two = runs["local, 2 worker processes"]
        print(f"2 worker processes: {n / two['wall']:.2f} subs/s = {base['wall'] / two['wall']:.2f}x 1 worker, "
              f"{n / two['wall'] / RECORDED_BEFORE:.1f}x the {RECORDED_BEFORE} subs/s recorded before issue 19 "
              f"(bench/RESULTS-grading.md); largest child process {two['child_maxrss_mb']:.1f} MiB")
        small_subs = subset(course, "subs-small", sorted(kinds)[:a.small])
        small = run(course, small_subs, jobs=1)
        print(f"peak grader memory (1 worker): {small['maxrss_mb']:.1f} MiB for {a.small} submissions, "
              f"{base['maxrss_mb']:.1f} MiB for {n}: ratio {base['maxrss_mb'] / small['maxrss_mb']:.3f}")
        if a.nbgrader:
            some = [s for s in sorted(kinds) if not kinds[s].startswith("hostile")][:a.nbgrader]
            ours = run(course, subset(course, "subs-nbgrader", some), jobs=1)
            nbg = nbgrader_autograde(course, some)
            print(f"nbgrader autograde, {len(some)} submissions (no sandbox): {nbg:.1f} s = "
                  f"{len(some) / nbg:.2f} subs/s; ours on the same, 1 worker, end to end with the fixed set-up: "
                  f"{ours['wall']:.1f} s (ratio {nbg / ours['wall']:.1f}×); ours at class scale, 1 worker: "
                  f"{n / base['wall']:.2f} subs/s (ratio {n / base['wall'] / (len(some) / nbg):.1f}×)")
        load1 = os.getloadavg()
        print(f"load average after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}; host probe {probe():.1f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
