"""Per-worker start time of the grading sandbox: before and after a change, in the same run.

Starts ``--n`` sandboxed workers (root: native namespaces; ``--container``: podman) one after the other, each
until its "ready" reply, then kills it, and prints the mean.  With ``--before DIR`` (a checkout of an earlier
commit, e.g. ``git archive <commit> | tar -x -C DIR``) the two code bases alternate round by round in fresh
processes and the ratio after/before is printed.

    PYTHONPATH=. .venv/bin/python bench/worker_start.py --n 20 [--before /tmp/old] [--container]
    PYTHONPATH=. .venv/bin/python bench/worker_start.py --n 20 --template   # forked from the template vs started
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

ONE_ROUND = r"""
import json, sys, tempfile, time
from nnlib_grader import sandbox
from nnlib.grading import policy
n, container, template = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3] == "1"
times = []
for job in range(n):
    with tempfile.TemporaryDirectory() as scratch:
        t0 = time.perf_counter()
        w = sandbox.spawn(policy.for_assignment("a05_backprop"), sandbox=not container, scratch=scratch, job=job,
                          container=container, template=template)
        times.append(time.perf_counter() - t0)
        w.kill()
print(json.dumps(times))
"""


def round_of(code: Path, n: int, container: bool, template: bool = True) -> list[float]:
    env = {**os.environ, "PYTHONPATH": f"{code}{os.pathsep}{code / 'grader'}"}
    p = subprocess.run([sys.executable, "-c", ONE_ROUND, str(n), "1" if container else "0", "1" if template else "0"],
                       env=env, cwd=code,
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="workers per code base")
    ap.add_argument("--rounds", type=int, default=4, help="alternating rounds (n split among them)")
    ap.add_argument("--before", type=Path, help="a checkout of the earlier code")
    ap.add_argument("--container", action="store_true", help="podman workers instead of the native sandbox")
    ap.add_argument("--template", action="store_true", help="native workers forked from the worker template "
                    "(zygote.py) against started ones, alternating in the same run")
    a = ap.parse_args(argv)
    if a.template:
        got = {"started": [], "template": []}
        per = max(2, a.n // a.rounds)
        for _ in range(a.rounds):
            got["started"] += round_of(REPO, per, False, template=False)
            got["template"] += round_of(REPO, per, False, template=True)[1:]  # the first one starts the template
        for k, t in got.items():
            print(f"{k:8s} native: {len(t)} workers, mean start {1000 * sum(t) / len(t):.1f} ms")
        print(f"ratio started/template: {(sum(got['started']) / len(got['started'])) / (sum(got['template']) / len(got['template'])):.2f}")  # noqa: E501
        return
    bases = {"after": REPO, **({"before": a.before.resolve()} if a.before else {})}
    got: dict[str, list[float]] = {k: [] for k in bases}
    per = max(1, a.n // a.rounds)
    for _ in range(a.rounds):
        for k, code in bases.items():
            got[k] += round_of(code, per, a.container)
    mode = "podman" if a.container else "native"
    for k, t in got.items():
        print(f"{k:6s} {mode}: {len(t)} workers, mean start {1000 * sum(t) / len(t):.1f} ms")
    if a.before:
        ratio = (sum(got["after"]) / len(got["after"])) / (sum(got["before"]) / len(got["before"]))
        print(f"ratio after/before: {ratio:.2f}")


if __name__ == "__main__":
    main()
