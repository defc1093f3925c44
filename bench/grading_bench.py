"""Grading throughput of ``python -m nnlib.instructor grade`` (sandboxed nbgrader autograde + feedback).

Measures, on a throw-away copy of the course (nbgrader_config.py + solutions/), never the real repo:

1. seconds to autograde one student's whole course: every assignment in solutions/, the solution notebooks
   submitted as the student's work (so the expected score is full marks), one ``grade`` run per assignment;
2. serial vs parallel: 20 synthetic students on one assignment with --jobs 1 and then --jobs 2 (--force).

    .venv/bin/python bench/grading_bench.py [--assignment a05_backprop] [--students 20] [--skip-course]
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

from nnlib import instructor  # noqa: E402


def copy_course(dst: Path) -> Path:
    dst.mkdir(parents=True)
    shutil.copyfile(REPO / "nbgrader_config.py", dst / "nbgrader_config.py")
    course = instructor.load_course(REPO)
    shutil.copytree(course.source, dst / course.source.relative_to(REPO),
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dst


def submit(course: Path, folder: Path, assignment: str, students: list[str]) -> None:
    src = instructor.load_course(course).source / assignment
    for s in students:
        shutil.copytree(src, folder / s / assignment, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--assignment", default="a05_backprop")
    ap.add_argument("--students", type=int, default=20)
    ap.add_argument("--skip-course", action="store_true")
    ap.add_argument("--skip-parallel", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nnlib-grading-bench-"))
    ok, why = instructor.sandbox_support()
    print(f"cpus: {os.cpu_count()}  sandbox: {ok} ({why})")
    try:
        course = copy_course(tmp / "course")
        names = instructor.list_assignments(instructor.load_course(course))
        if not a.skip_course:
            subs = tmp / "one-student"
            total = 0.0
            print(f"\n1) one student, whole course ({len(names)} assignments, --jobs 1)")
            for name in names:
                submit(course, subs, name, ["alice"])
                t0 = time.monotonic()
                (r,) = instructor.grade(course, name, subs, instructor.Options(jobs=1, progress=False, force=True))
                dt = time.monotonic() - t0
                total += dt
                print(f"   {name:24s} {r.score:g}/{r.max_score:g} {r.status:8s} grading {r.seconds:5.1f}s "
                      f"(incl. release+template: {dt:5.1f}s)")
                shutil.rmtree(subs)
            print(f"   TOTAL: {total:.1f}s for one student's whole course")
        if not a.skip_parallel:
            subs = tmp / "class"
            students = [f"s{i:02d}" for i in range(a.students)]
            submit(course, subs, a.assignment, students)
            print(f"\n2) {len(students)} students x {a.assignment}")
            times = {}
            for jobs in (1, 2):
                t0 = time.monotonic()
                res = instructor.grade(course, a.assignment, subs,
                                       instructor.Options(jobs=jobs, progress=False, force=True))
                times[jobs] = time.monotonic() - t0
                bad = [r.student for r in res if r.status != "ok" or r.score != r.max_score]
                per = sum(r.seconds for r in res) / len(res)
                print(f"   --jobs {jobs}: {times[jobs]:6.1f}s wall ({times[jobs] / len(res):.2f}s/student, "
                      f"{per:.1f}s per grading job){'  NOT FULL MARKS: ' + ', '.join(bad) if bad else ''}")
            print(f"   speed-up --jobs 2 vs --jobs 1: {times[1] / times[2]:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
