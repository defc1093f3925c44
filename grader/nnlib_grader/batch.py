"""Grade a folder of submissions: jobs on an executor, results merged by this process only.

Nothing is lost: the results that have finished are merged together as soon as the main thread is free, never
held back for more (:mod:`nnlib_grader.merge`: autograded notebooks, result records and reports, then one gradebook
transaction, then the batch's lines of the index's journal, :mod:`nnlib_grader.index`); jobs are submitted
through a window of a few per worker, so the grader's memory does not grow with the class; sandboxed workers fork
from one worker template per run (:mod:`nnlib_grader.zygote`); SIGINT cancels the queue, ends the running jobs
and keeps what finished;
a lock file stops a second run on the same assignment; re-grading keeps the manual grades and comments;
submission timestamps and the gradebook's due date give nbgrader's late penalty.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sys
import tempfile
import threading
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from nnlib.files import atomic_write
from nnlib.grading import policy
from nnlib_grader import executor as E
from nnlib_grader import job as J
from nnlib_grader import merge as M
from nnlib_grader import results as R
from nnlib_grader import runner, sandbox, workers
from nnlib_grader.course import Course, cfg_get, load_course, run_nbgrader
from nnlib_grader.index import Index
from nnlib_grader.results import Result, read_grades, write_grades
from nnlib_grader.submissions import Submission, discover

__all__ = ["BusyError", "Options", "Result", "Run", "atomic_write", "grade", "read_grades", "write_grades"]


@dataclass
class Options:
    jobs: int = 1
    timeout: float = 600.0           # wall clock per submission
    cell_timeout: float | None = None  # default: the course's Execute.timeout, else 60
    call_timeout: float = 30.0       # one call of a learner's function
    memory_mb: int = 2048            # the whole job (cgroup) and each process (RLIMIT_AS)
    force: bool = False
    retry_failed: bool = False
    sandbox: bool | None = None      # None: the namespace sandbox where available
    progress: bool = True
    dask: object = None              # a scheduler address (tls://, see executor.py) or a distributed.Client
    dask_tls: str | None = None      # the folder of ca.pem, client.pem, client-key.pem (python -m nnlib_grader certs)
    insecure: bool = False           # allow a Dask address other than tls:// (a network only the instructor reaches)
    feedback: bool = True
    container: bool = False          # workers in podman containers (container.py) instead of the native sandbox
    processes: bool | None = None    # local jobs in child processes (None: when jobs > 1; executor.py)
    executor: object = None          # an executor the caller made and keeps across runs (serve): this run neither
    #                                  closes it nor the worker templates (None: one per run)
    class_wide: bool = True          # after the run: report.md of every student, every late penalty recomputed
    #                                  (extensions.csv, due dates); serve's private work course needs neither


class Run(list):
    """The results of one ``grade`` run (a list of :class:`Result`), with what it did not grade: ``unchanged``
    (already graded, kept), ``skipped`` (lines naming what was refused and why) and ``interrupted``."""

    def __init__(self, results=(), unchanged: int = 0, skipped: list[str] | None = None, interrupted: bool = False):
        super().__init__(results)
        self.unchanged, self.skipped, self.interrupted = unchanged, list(skipped or []), interrupted
        self.merge_seconds, self.batches = 0.0, 0


class BusyError(RuntimeError):
    """Another grading run holds this assignment's lock."""


_LOCK_FDS: set[int] = set()  # the descriptors of the locks this process holds


def _drop_locks_in_child() -> None:
    """In a forked child (a job process): close its copies of the locks' descriptors.  An flock belongs to the open
    file, which a fork shares: a child that outlived a SIGKILLed grader would hold the lock until it died."""
    for fd in list(_LOCK_FDS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _LOCK_FDS.clear()


os.register_at_fork(after_in_child=_drop_locks_in_child)


@contextlib.contextmanager
def assignment_lock(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    fh = open(out / ".lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        who = fh.read().strip()
        fh.close()
        raise BusyError(f"another grading run on {out.name} is in progress ({who or 'pid unknown'}): wait for it to "
                   "finish (two runs would interleave their results)") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}")
    fh.flush()
    _LOCK_FDS.add(fh.fileno())
    try:
        yield
    finally:
        _LOCK_FDS.discard(fh.fileno())
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def _cell_timeout(course: Course, opts: Options) -> float:
    return float(opts.cell_timeout or cfg_get(course.config, "Execute", "timeout")
                 or cfg_get(course.config, "ExecutePreprocessor", "timeout") or 60)


class Batch:
    def __init__(self, course: Course, assignment: str, opts: Options):
        self.course, self.assignment, self.opts = course, assignment, opts
        if opts.container:
            opts.sandbox = False
        elif opts.sandbox is None:
            opts.sandbox = sandbox.namespaces_available()[0]
        self.out = course.root / "grading" / assignment
        self.notebooks: dict[str, dict] = {}   # name -> {"source": nb, "release": nb}
        self.max_scores: dict[tuple[str, str], float] = {}

    def prepare(self) -> None:
        """Put the assignment into the course gradebook (nbgrader, release written to a temp dir: the course's
        release folder is never touched here) and read the source and release notebooks.

        nbgrader's ``generate_assignment`` (a subprocess, ~3–5 s) runs only when something it reads changed: the
        release it made is kept in ``grading/<A>/release-cache.json`` under a key of the source notebooks, the
        course's nbgrader_config.py and nbgrader's version, and used again while the gradebook still holds the
        assignment with those notebooks (``serve`` grades every batch through here)."""
        import nbformat

        src = self.course.source / self.assignment
        if not src.is_dir():
            raise SystemExit(f"no source assignment {src}")
        paths = sorted(src.glob("*.ipynb"))
        cache, key = self.out / "release-cache.json", self._release_key(paths)
        released = self._cached_release(cache, key, [p.stem for p in paths])
        if released is None:
            with tempfile.TemporaryDirectory(prefix="nnlib-release-") as tmp:
                run_nbgrader(["generate_assignment", self.assignment, "--force", "--log-level=WARN",
                              f"--CourseDirectory.release_directory={tmp}"], self.course.root)
                released = {p.stem: (Path(tmp) / self.assignment / p.name).read_text(encoding="utf-8")
                            for p in paths}
            self.out.mkdir(parents=True, exist_ok=True)
            atomic_write(cache, json.dumps({"key": key, "release": released}))
        for path in paths:
            self.notebooks[path.stem] = {"source": nbformat.read(str(path), as_version=4),
                                         "release": nbformat.reads(released[path.stem], as_version=4)}
        for name, nbs in self.notebooks.items():
            for c in nbs["source"].cells:
                m = (c.get("metadata") or {}).get("nbgrader") or {}
                if m.get("grade"):
                    self.max_scores[(name, m["grade_id"])] = float(m.get("points") or 0)
        self.max_total = sum(self.max_scores.values())
        for d in ("reports",):
            (self.out / d).mkdir(parents=True, exist_ok=True)

    def _release_key(self, paths: list[Path]) -> str:
        import hashlib

        from nbgrader import __version__ as nbgrader_version

        h = hashlib.sha256(f"{nbgrader_version}\0{self.assignment}\0".encode())
        config = self.course.root / "nbgrader_config.py"
        for p in [*paths, config]:
            h.update(p.name.encode() + b"\0" + (p.read_bytes() if p.is_file() else b"") + b"\0")
        return h.hexdigest()

    def _cached_release(self, cache: Path, key: str, names: list[str]) -> dict | None:
        """The release notebooks kept for ``key``, if the gradebook still holds the assignment with ``names``."""
        try:
            kept = json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        release = kept.get("release") if isinstance(kept, dict) and kept.get("key") == key else None
        if not isinstance(release, dict) or sorted(release) != sorted(names):
            return None
        import warnings

        from nbgrader.api import Gradebook, MissingEntry

        try:
            with warnings.catch_warnings(), Gradebook(self.course.db_url) as gb:
                warnings.simplefilter("ignore")
                held = sorted(nb.name for nb in gb.find_assignment(self.assignment).notebooks)
        except MissingEntry:
            return None
        except Exception:  # noqa: BLE001 - a gradebook that cannot be read: nbgrader makes it again
            return None
        return release if held == sorted(names) else None

    def spec(self, sub: Submission, job: int) -> dict:
        nbs = {}
        for name, both in self.notebooks.items():
            entry = {"source": both["source"], "release": both["release"]}
            path = sub.notebooks.get(name)
            if path is None:
                entry["submitted"] = f"notebook {name}.ipynb is missing from the submission"
            else:
                try:
                    entry["submitted_text"] = runner.read_text(path)  # parsed by the job, beside the other jobs
                except runner.SubmissionError as exc:
                    entry["submitted"] = str(exc)
            nbs[name] = entry
        return {"assignment": self.assignment, "student": sub.student, "job": job, "sandbox": bool(self.opts.sandbox),
                "memory_mb": self.opts.memory_mb, "cell_timeout": _cell_timeout(self.course, self.opts),
                "call_timeout": self.opts.call_timeout, "timeout": self.opts.timeout, "notebooks": nbs,
                "container": bool(self.opts.container)}

    # -- merge (main thread only) --------------------------------------------------------------------------
    def result_of(self, data: dict, sub: Submission) -> Result:
        res = Result(sub.student, self.assignment, max_score=self.max_total, status=data.get("status", "error"),
                     message=data.get("message", ""), seconds=float(data.get("seconds", 0)), sha=sub.sha)
        total = 0.0
        for name, nb in data.get("notebooks", {}).items():
            for c in nb.get("cells", []):
                key = (name, c["grade_id"])
                if key not in self.max_scores:
                    continue
                c = dict(c)
                c["points"] = min(max(float(c.get("points", 0)), 0.0), self.max_scores[key])
                res.cells[key] = c
                total += c["points"]
        res.score = round(total, 4)
        return res

    def write_report(self, res: Result) -> None:
        """The student's result record and the report rendered from it (results.py)."""
        R.save(self.out, res)


def feedback(course: Course, assignment: str, students: list[str]) -> None:
    """nbgrader's feedback HTML for ``students``, always sanitised (no script from a notebook runs in a browser)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    cfg = Config()
    cfg.merge(course.config)
    cfg.HTMLExporter.sanitize_html = True
    cfg.CourseDirectory.root = str(course.root)
    api = NbGraderAPI(config=cfg)
    for s in students:
        r = api.generate_feedback(assignment, s, force=True)
        if not r.get("success"):
            print(f"warning: no feedback for {s}: {(r.get('error') or '')[-500:]}", file=sys.stderr)
    from nnlib_grader.offline_math import localise_feedback

    localise_feedback(course.feedback, assignment, students)  # MathJax from the Jupyter server, not a CDN


def _apply_extensions(course: Course, assignment: str) -> None:
    """extensions.csv and the current due dates → every late penalty of the assignment (extensions.py)."""
    from nnlib_grader import extensions

    try:
        extensions.apply(course.root, assignment, out=lambda line: print(line, file=sys.stderr))
    except extensions.ExtensionError as exc:
        print(f"error: {exc}; late penalties not recomputed (fix it, then: python -m nnlib_grader extensions "
              "apply)", file=sys.stderr)


def grade(course_dir, assignment: str, submissions, opts: Options | None = None) -> Run:
    """Grade every submission in ``submissions``; returns the results of this run (see the module doc).  The
    class report (``report.class_report``, a view of the records and the gradebook) is the caller's: the CLI's
    ``grade`` and ``nnlib_grader.grade`` write it after this."""
    opts = opts or Options()
    if opts.dask is not None and not hasattr(opts.dask, "submit"):  # refuse an unsafe address before any work
        E.security(str(opts.dask), opts.dask_tls, opts.insecure)
    course = load_course(course_dir)
    submissions = Path(submissions).resolve()
    batch = Batch(course, assignment, opts)
    results: list[Result] = []
    sandbox.STOP.clear()
    for name in J.remove_stale_scratch():
        print(f"removed {name}: scratch dir of a grading run that no longer runs", file=sys.stderr)
    if os.geteuid() == 0:
        sandbox.remove_stale_cgroups()
    if opts.container:
        from nnlib_grader import container

        for name in container.remove_stale():
            print(f"removed container {name}: a worker of a grading run that no longer runs", file=sys.stderr)
    with assignment_lock(batch.out):
        batch.prepare()
        subs, skipped = discover(submissions, assignment, list(batch.notebooks))
        for line in skipped:
            print(f"skipped {line}", file=sys.stderr)
        index = Index(batch.out)  # grades.csv, state.json and what a killed run's journal adds to them
        rows, state = index.rows, index.state

        def done(s: Submission) -> bool:
            status = rows.get(s.student, {}).get("status")
            ok_states = ("ok",) if opts.retry_failed else ("ok", "error", "timeout")
            return state.get(s.student) == s.sha and status in ok_states

        todo = [s for s in subs if opts.force or not done(s)]
        unchanged = len(subs) - len(todo)
        if unchanged:
            print(f"{unchanged} submission(s) already graded and unchanged: kept (--force regrades all, "
                  "--retry-failed regrades errors)", file=sys.stderr)
        own = opts.executor is None
        if own:
            jobs = max(1, min(opts.jobs, len(todo)))  # one submission: no process to start
            ex = E.make(jobs, opts.dask, opts.dask_tls, opts.insecure, opts.processes)
        else:
            ex = opts.executor
        interrupted = workers.Flag()  # set by the SIGINT handler: no lock (workers.Flag)

        def on_sigint(signum, frame):  # first ^C: stop; a second one interrupts for real
            interrupted.set()
            sandbox.STOP.set()
            ex.interrupt()  # now, without waiting: the main thread may be waiting on a job that would run for minutes
            signal.signal(signal.SIGINT, signal.default_int_handler)
            print("\ninterrupted: cancelling the queue, ending running jobs, keeping what finished …",
                  file=sys.stderr)

        old = signal.signal(signal.SIGINT, on_sigint) if threading.current_thread() is threading.main_thread() \
            else None
        bar = None
        try:
            from nnlib.progress import bar as progress_bar

            bar = progress_bar(total=len(todo), desc=f"grading {assignment}", unit="sub", disable=not opts.progress)
        except ImportError:  # pragma: no cover
            pass
        merger = M.Merger(course, assignment, batch.out, index)
        queue = iter(enumerate(todo))
        window = max(2 * opts.jobs + 2, 8) if opts.dask is None else 256  # specs in flight: memory flat in n
        by_future: dict = {}

        def refill() -> None:
            while len(by_future) < window and not interrupted.is_set():
                nxt = next(queue, None)
                if nxt is None:
                    return
                i, s = nxt
                by_future[ex.submit(J.grade_job, batch.spec(s, i))] = s

        try:
            if opts.sandbox and not opts.container and ex.name == "local":
                from nnlib_grader import zygote

                zygote.get(policy.for_assignment(assignment))  # the worker template, from this thread (its doc)
            refill()
            while by_future:
                if interrupted.is_set():
                    ex.cancel(list(by_future))
                    ex.interrupt()
                    sandbox.kill_all()  # and what a thread of this process still holds (podman's containers too)
                done = ex.wait_first(list(by_future), timeout=0.5)
                items = []
                for fut in done:
                    s = by_future.pop(fut)
                    if fut.cancelled():
                        continue
                    try:
                        data = fut.result()
                    except BrokenProcessPool:  # not the learner's doing: their code runs in the sandbox
                        data = {"status": "error", "message": "not graded: the job process of the grader died "
                                "(killed, or out of memory); `grade --retry-failed` grades it again"}
                    except Exception as exc:  # noqa: BLE001 - never abort the batch
                        data = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
                    if data.get("status") == "interrupted" or (interrupted.is_set() and data.get("status") != "ok"):
                        continue  # not graded: the next run grades it
                    items.append(M.Item(batch.result_of(data, s), data, s))
                refill()  # the next jobs start before this batch is merged
                merger.flush(items)
                index.tick()  # grades.csv and state.json at most a few seconds behind the journal
                for it in items:
                    results.append(it.res)
                    if bar:
                        bar.set_postfix_str(f"{it.res.student}: {it.res.score:g}/{it.res.max_score:g} "
                                            f"{it.res.status}")
                        bar.update(1)
        finally:
            merger.close()
            if opts.dask is None and own:
                from nnlib_grader import zygote

                zygote.close_all()
            if bar:
                bar.close()
            if interrupted.is_set():
                sandbox.kill_all()
            if own:
                ex.close()
            if old is not None:
                signal.signal(signal.SIGINT, old)
        if opts.class_wide:
            R.write_summary(batch.out, assignment, list(rows))
            _apply_extensions(course, assignment)
        if opts.feedback and results:
            feedback(course, assignment, [r.student for r in results])
    run = Run(results, unchanged, skipped, interrupted.is_set())
    run.merge_seconds, run.batches = merger.seconds, merger.flushes  # the merge's cost (bench/grading_bench.py)
    return run
