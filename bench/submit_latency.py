"""Submit → fetchable feedback, through ``python -m nnlib_grader serve`` (issue 20): a burst of submissions.

On a throw-away site (a copy of the course's nbgrader_config.py and the sources of the assignments, released with
nbgrader's own ``ExchangeReleaseAssignment`` into a scratch exchange) the service runs as a subprocess, as it does
under JupyterHub.  Submissions go in with nbgrader's ``ExchangeSubmit`` (the code ``nbgrader submit`` and the
Assignment List's *Submit* run), in process so that the burst is a burst; for each one the time is taken when
``submit`` returns and again when its feedback page exists under the name ``fetch_feedback`` looks for
(``<exchange>/<course>/feedback/<notebook_hash(secret, notebook)>.html``, polled every 20 ms).

1. Baseline: one submission on an idle service (the floor: one round of the service, one job).
2. A burst per ``--rates`` entry: ``--n`` submissions (default 100) from as many students, the assignments mixed
   in turn (default a02_xor and a05_backprop) and alternately the solution and the blank release, submitted back
   to back (rate 0) or paced at that many per second (a class submitting over a minute rather than at once).

Printed per burst: its median, 95th percentile and maximum, each as a ratio to the baseline, how long it took to
submit, the throughput; the load average before and after, and the cores.  Targets (issue 20, a quiet
machine): median ≤ 2 s, 95th percentile ≤ 5 s.

    PYTHONPATH=.:grader .venv/bin/python bench/submit_latency.py [--n 100] [--jobs 2] [--rates 0,5]
        [--assignments a02_xor,a05_backprop]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COURSE_ID = "nnlib"


def _cfg(site: Path, student: str | None = None, assignment: str | None = None):
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.course_id = COURSE_ID
    cfg.CourseDirectory.root = str(site / "course")
    cfg.CourseDirectory.release_directory = "exercises"
    cfg.Exchange.root = str(site / "exchange")
    if student:
        cfg.CourseDirectory.student_id = student
        cfg.Exchange.cache = str(site / "students" / student / ".cache")
        cfg.Exchange.assignment_dir = str(site / "students" / student)
    if assignment:
        cfg.CourseDirectory.assignment_id = assignment
    return cfg


def _run(cls, cfg):
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    x = cls(coursedir=CourseDirectory(config=cfg), authenticator=Authenticator(config=cfg), config=cfg)
    x.log.setLevel("WARNING")
    x.start()
    return x


def make_site(site: Path, assignments: list[str]) -> None:
    from nbgrader.exchange.default import ExchangeReleaseAssignment

    for a in assignments:
        shutil.copytree(REPO / "solutions" / a, site / "course" / "solutions" / a)
        shutil.copytree(REPO / "exercises" / a, site / "course" / "exercises" / a)
    (site / "course" / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text())
    (site / "exchange").mkdir(mode=0o1777)
    for a in assignments:
        _run(ExchangeReleaseAssignment, _cfg(site, assignment=a))


def submit(site: Path, student: str, assignment: str, good: bool) -> tuple[float, list[Path]]:
    """Submit; returns (the time submit returned, the feedback files fetch_feedback will look for)."""
    from nbgrader.exchange.default import ExchangeSubmit
    from nbgrader.utils import notebook_hash

    d = site / "students" / student / assignment
    d.mkdir(parents=True, exist_ok=True)
    src = REPO / ("solutions" if good else "exercises") / assignment
    for nb in src.glob("*.ipynb"):
        shutil.copyfile(nb, d / nb.name)
    x = _run(ExchangeSubmit, _cfg(site, student, assignment))
    t = time.perf_counter()
    inbound = site / "exchange" / COURSE_ID / "inbound" / x.assignment_filename
    secret = (inbound / "submission_secret.txt").read_text()
    fb = site / "exchange" / COURSE_ID / "feedback"
    return t, [fb / f"{notebook_hash(secret=secret, notebook_id=nb.stem)}.html" for nb in src.glob("*.ipynb")]


class Watch:
    """Polls every 20 ms, in a thread, for the feedback files of each submission added so far: a paced burst's
    latencies are taken while later submissions are still being made."""

    def __init__(self):
        self.items: list[tuple[float, list[Path]]] = []
        self.lat: list[float | None] = []
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def add(self, item: tuple[float, list[Path]]) -> None:
        with self._lock:
            self.items.append(item)
            self.lat.append(None)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            now = time.perf_counter()
            with self._lock:
                todo = [(i, it) for i, it in enumerate(self.items) if self.lat[i] is None]
            for i, (t, files) in todo:
                if all(f.exists() for f in files):
                    self.lat[i] = now - t

    def wait(self, timeout: float) -> list[float]:
        """Every latency, once each submission has its feedback (SystemExit after ``timeout`` s)."""
        end = time.perf_counter() + timeout
        while any(v is None for v in self.lat):
            if time.perf_counter() > end:
                raise SystemExit(f"timed out: {sum(v is None for v in self.lat)} submission(s) got no feedback")
            time.sleep(0.05)
        self._stop.set()
        return list(self.lat)  # type: ignore[arg-type]


def wait_all(items: list[tuple[float, list[Path]]], timeout: float) -> list[float]:
    """Latency of each of ``items`` (already submitted): until every one of its feedback files exists."""
    w = Watch()
    for it in items:
        w.add(it)
    return w.wait(timeout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    ap.add_argument("--assignments", default="a02_xor,a05_backprop")
    ap.add_argument("--interval", type=float, default=0.2, help="the service's poll interval")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--rates", default="0", help="arrival rates of the bursts, submissions/s, comma-separated "
                    "(0: back to back, as fast as nbgrader's submit goes)")
    a = ap.parse_args()
    rates = [float(x) for x in a.rates.split(",")]
    assignments = a.assignments.split(",")
    from host import probe

    load0, probe0 = os.getloadavg(), probe()
    with tempfile.TemporaryDirectory(prefix="nnlib-latency-") as tmp:
        site = Path(tmp)
        make_site(site, assignments)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "grader")]),
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        log = open(site / "serve.log", "w")
        cmd = [sys.executable, "-m", "nnlib_grader", "serve", "--course", str(site / "course"), "--exchange",
               str(site / "exchange"), "--jobs", str(a.jobs), "--interval", str(a.interval)]
        svc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while "watching" not in (site / "serve.log").read_text():
                if svc.poll() is not None:
                    raise SystemExit("serve exited:\n" + (site / "serve.log").read_text())
                time.sleep(0.1)
            for a_ in assignments:  # warm-up: the service's first batch of each assignment (gradebook, imports)
                wait_all([submit(site, f"warm{a_}", a_, True)], a.timeout)
            base = [wait_all([submit(site, f"base{i}_{a_}", a_, True)], a.timeout)[0]
                    for i in range(2) for a_ in assignments]
            baseline = statistics.median(base)
            bursts = []
            for r, rate in enumerate(rates):
                watch = Watch()  # measuring from the first submission on, not after the last
                t0 = time.perf_counter()
                for i in range(a.n):
                    if rate > 0:  # paced: submission i at t0 + i / rate
                        time.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
                    watch.add(submit(site, f"r{r}s{i:03d}", assignments[i % len(assignments)],
                                     good=(i // 2) % 2 == 0))
                t_sub = time.perf_counter() - t0
                lat = sorted(watch.wait(a.timeout))
                bursts.append((rate, t_sub, lat, time.perf_counter() - t0))
        finally:
            svc.terminate()
            try:
                svc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                svc.kill()
            log.close()
    load1, probe1 = os.getloadavg(), probe()
    print(f"submit → fetchable feedback, bursts of {a.n} submissions ({', '.join(assignments)} mixed; half "
          f"solutions, half blank), serve --jobs {a.jobs} --interval {a.interval:g}")
    print(f"baseline (one submission, idle service): {baseline:.2f} s  (median of {len(base)}: "
          + " ".join(f"{b:.2f}" for b in base) + ")")
    print(f"{'arrivals':>22s} {'submitted in':>12s} {'median':>8s} {'p95':>8s} {'max':>8s} {'throughput':>11s}  "
          "(targets: median ≤ 2 s, p95 ≤ 5 s)")
    for rate, t_sub, lat, total in bursts:
        med, p95 = statistics.median(lat), lat[min(len(lat) - 1, int(round(0.95 * len(lat))) - 1)]
        what = "back to back" if rate <= 0 else f"{rate:g} per second"
        print(f"{what:>22s} {t_sub:10.1f} s {med:6.2f} s {p95:6.2f} s {lat[-1]:6.2f} s {a.n / total:7.2f} /s  "
              f"median {med / baseline:.1f}× baseline, p95 {p95 / baseline:.1f}×; "
              f"{'both targets hold' if med <= 2 and p95 <= 5 else 'targets not met'}")
    print(f"load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; after {load1[0]:.2f} {load1[1]:.2f} "
          f"{load1[2]:.2f}; {os.cpu_count()} cores; host probe {probe0:.1f} ms before, {probe1:.1f} ms after "
          "(bench/host.py: lower is faster)")


if __name__ == "__main__":
    main()
