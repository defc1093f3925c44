"""Grading on submission: ``python -m nnlib_grader serve`` (docs/hub.md).

A long-running service (a JupyterHub service in ``hub/jupyterhub_config.py``) that polls nbgrader's exchange
inbound, ``<Exchange.root>/<course_id>/inbound/<student>+<assignment>+<timestamp>+<random>/``, grades each new
submission in the sandbox with the same entry as ``grade`` (:func:`nnlib_grader.batch.grade`, in a private work
course so the instructor's gradebook and ``grading/`` are never touched: the official grade stays
``nbgrader collect`` + ``grade``), and puts a feedback page where ``nbgrader fetch_feedback`` looks for it:
``<Exchange.root>/<course_id>/feedback/<notebook_hash(secret, notebook)>.html``, the name
``nbgrader release_feedback`` gives it, from the submission's ``submission_secret.txt`` (nbgrader 0.9's
exchange/default/release_feedback.py and fetch_feedback.py).

Settings per assignment, from ``serve.toml`` in the course root (all keys optional)::

    [defaults]
    tests = "public"                 # "public": visible tests only in the feedback; "all": hidden ones too
    withhold_hidden_until_due = true # with tests = "all": hidden outcomes only after the due date
    max_feedback_submissions = 3     # feedback runs per student, assignment and UTC day (0: none before the due)
    [assignments.a05_backprop]
    due = 2026-12-20T23:59:00Z       # else the course gradebook's due date, else none
    tests = "all"

A submission beyond the day's limit is not graded: its page says so.  After the due date the limit no longer
applies and nothing is withheld.  Days and the due date are the service's clock (UTC), never the timestamp in the
submission, which the student's side writes.

Restarts lose nothing: ``<state>/state.json`` (written atomically after every submission) records each finished
submission by its inbound folder name, so nothing is graded twice; anything in inbound it does not record —
arrived while the service was down, or cut off mid-batch — is graded by the next round.

Who submitted: nbgrader's ``submit --student NAME`` lets a student name anyone, and the limit per day is
per student.  With students as Unix users the inbound folder's owner is who really submitted: a submission whose
owner is not the student it names (``--unix-prefix`` + name; TLJH's users are ``jupyter-<name>``) is refused
and recorded, never graded (``--no-owner-check`` turns this off; a folder made by root is not checked).

A lock file stops a second service on the same state.  Polling (``--interval``, default 0.5 s) rather than
inotify: it works on the NFS volumes a Kubernetes exchange lives on, where inotify sees no other node's writes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import pwd
import shutil
import signal
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from nnlib.files import atomic_write
from nnlib_grader import batch, hidden
from nnlib_grader import serve_page as page
from nnlib_grader.course import cfg_get, load_course
from nnlib_grader.results import Result
from nnlib_grader.submissions import STUDENT_RE

STATE_VERSION = 1
TESTS = ("public", "all")


class SettingsError(ValueError):
    """serve.toml is malformed (the message names the file and the key)."""


@dataclass(frozen=True)
class Settings:
    tests: str = "public"
    withhold_hidden_until_due: bool = True
    max_feedback_submissions: int = 3
    due: dt.datetime | None = None


def _setting(raw: dict, where: str, base: Settings) -> Settings:
    known = {"tests", "withhold_hidden_until_due", "max_feedback_submissions", "due"}
    for k in raw:
        if k not in known:
            raise SettingsError(f"{where}: unknown key {k!r} (known: {', '.join(sorted(known))})")
    s = replace(base, **{k: v for k, v in raw.items()})
    if s.tests not in TESTS:
        raise SettingsError(f"{where}.tests: {s.tests!r} is not one of {TESTS}")
    if not isinstance(s.withhold_hidden_until_due, bool):
        raise SettingsError(f"{where}.withhold_hidden_until_due: must be true or false")
    n = s.max_feedback_submissions
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise SettingsError(f"{where}.max_feedback_submissions: must be an integer ≥ 0, not {n!r}")
    due = s.due
    if isinstance(due, str):
        try:
            due = dt.datetime.fromisoformat(due)
        except ValueError:
            raise SettingsError(f"{where}.due: {due!r} is not an ISO date-time") from None
    if due is not None and not isinstance(due, dt.datetime):
        raise SettingsError(f"{where}.due: must be a date-time (2026-12-20T23:59:00Z), not {due!r}")
    if due is not None and due.tzinfo is None:
        due = due.replace(tzinfo=dt.UTC)
    return replace(s, due=due)


def load_settings(path: Path) -> tuple[Settings, dict[str, Settings]]:
    """(defaults, {assignment: settings}) from ``serve.toml``; a missing file gives the defaults."""
    if not path.exists():
        return Settings(), {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    for k in data:
        if k not in ("defaults", "assignments"):
            raise SettingsError(f"{path}: unknown table [{k}] (known: [defaults], [assignments.<name>])")
    base = _setting(data.get("defaults", {}), f"{path} [defaults]", Settings())
    per = {a: _setting(raw, f"{path} [assignments.{a}]", base) for a, raw in data.get("assignments", {}).items()}
    return base, per


@dataclass
class Pending:
    key: str           # the inbound folder's name
    student: str
    assignment: str
    timestamp: str     # nbgrader's, as submitted
    path: Path
    when: dt.datetime = field(default=None)  # type: ignore[assignment]


def scan(inbound: Path) -> list[Pending]:
    """The complete submissions in ``inbound`` (submit writes submission_secret.txt last), oldest first."""
    from nbgrader.utils import parse_utc

    out = []
    with contextlib.suppress(FileNotFoundError):
        for d in os.scandir(inbound):
            parts = d.name.split("+")
            if len(parts) not in (3, 4) or not d.is_dir(follow_symlinks=False):
                continue
            if not os.path.isfile(os.path.join(d.path, "submission_secret.txt")):
                continue
            try:
                when = parse_utc(parts[2]).replace(tzinfo=dt.UTC)  # nbgrader's naive UTC
            except (ValueError, TypeError):
                continue
            out.append(Pending(d.name, parts[0], parts[1], parts[2], Path(d.path), when))
    return sorted(out, key=lambda p: (p.when, p.key))


class State:
    """``state.json``: {"version": 1, "done": {inbound name: record}}, rewritten atomically per submission."""

    def __init__(self, path: Path):
        self.path = path
        self.done: dict[str, dict] = {}
        if path.exists():
            data = json.loads(path.read_text())
            if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
                raise SystemExit(f"error: {path} is not a version-{STATE_VERSION} serve state file")
            self.done = data["done"]

    def record(self, p: Pending, now: dt.datetime, **rec) -> None:
        """``day``: the service's UTC day (never the submission's timestamp, which the student's side writes)."""
        self.done[p.key] = {"student": p.student, "assignment": p.assignment, "timestamp": p.timestamp,
                            "day": now.date().isoformat(), "finished": dt.datetime.now(dt.UTC)
                            .isoformat(timespec="seconds"), **rec}
        atomic_write(self.path, json.dumps({"version": STATE_VERSION, "done": self.done}, indent=1, sort_keys=True))

    def runs(self, student: str, assignment: str, day: str) -> int:
        return sum(1 for r in self.done.values() if r.get("status") == "graded" and r["student"] == student
                   and r["assignment"] == assignment and r["day"] == day)


class Service:
    def __init__(self, course_dir, *, exchange: str | None = None, state_dir: str | None = None,
                 settings: str | None = None, opts: batch.Options | None = None, log=print,
                 owner_check: bool = True, unix_prefix: str = ""):
        self.course = load_course(course_dir)
        cfg = self.course.config
        self.course_id = cfg_get(cfg, "CourseDirectory", "course_id") or ""
        if not self.course_id:
            raise SystemExit(f"error: {self.course.root}/nbgrader_config.py sets no CourseDirectory.course_id")
        root = exchange or cfg_get(cfg, "Exchange", "root") or "/srv/nbgrader/exchange"
        self.exchange = Path(root) / self.course_id
        self.state_dir = Path(state_dir) if state_dir else self.course.root / "grading" / "serve"
        self.defaults, self.per = load_settings(Path(settings) if settings else self.course.root / "serve.toml")
        self.opts = replace(opts or batch.Options(), force=True, feedback=False, progress=False,
                            class_wide=False)
        self.log = log
        self.owner_check, self.unix_prefix = owner_check, unix_prefix
        self.stop = threading.Event()
        self._hidden: dict[str, dict[str, set[str]]] = {}
        self._ignored: set[str] = set()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.work = self.state_dir / "course"
        self._make_work_course()
        self.state = State(self.state_dir / "state.json")

    # -- set-up ---------------------------------------------------------------------------------------------------
    def _make_work_course(self) -> None:
        """A private course: the instructor's config and source (a symbolic link), its own gradebook."""
        self.work.mkdir(exist_ok=True)
        link = self.work / self.course.source.name
        if not link.is_symlink():
            link.symlink_to(self.course.source, target_is_directory=True)
        cfg = (self.course.root / "nbgrader_config.py").read_text()
        atomic_write(self.work / "nbgrader_config.py", cfg + f"\nc.CourseDirectory.root = {str(self.work)!r}\n"
                     f"c.CourseDirectory.source_directory = {self.course.source.name!r}\n")

    def settings(self, assignment: str) -> Settings:
        s = self.per.get(assignment, self.defaults)
        if s.due is None:
            s = replace(s, due=self._gradebook_due(assignment))
        return s

    def _gradebook_due(self, assignment: str) -> dt.datetime | None:
        db = self.course.root / "gradebook.db"
        if not db.exists():
            return None
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.course.db_url) as gb:
            try:
                due = gb.find_assignment(assignment).duedate
            except MissingEntry:
                return None
        return due.replace(tzinfo=dt.UTC) if due is not None else None

    def hidden_ids(self, assignment: str) -> dict[str, set[str]]:
        """{notebook: grade ids of its hidden test cells}, read from the source notebooks."""
        import nbformat

        out = {}
        for nb_path in sorted((self.course.source / assignment).glob("*.ipynb")):
            nb = nbformat.read(str(nb_path), as_version=4)
            out[nb_path.stem] = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                                 if (c.get("metadata") or {}).get("nbgrader", {}).get("grade")
                                 and c.cell_type == "code" and hidden.is_hidden(c.source)}
        return out

    # -- feedback files -------------------------------------------------------------------------------------------
    def publish(self, p: Pending, pages: dict[str, str]) -> list[str]:
        """Write each notebook's page under the name fetch_feedback looks for; returns those names."""
        from nbgrader.utils import notebook_hash

        with open(p.path / "submission_secret.txt") as fh:
            secret = fh.read(1024)  # nbgrader's is a short token; the file is the student's
        dest = self.exchange / "feedback"
        if not dest.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            os.chmod(dest, 0o711)  # as release_feedback: students open their file by its hash, list nothing
        names = []
        for nb, text in pages.items():
            name = f"{notebook_hash(secret=secret, notebook_id=nb)}.html"
            atomic_write(dest / name, text)
            os.chmod(dest / name, 0o644)
            names.append(name)
        return names

    def _notebooks(self, p: Pending) -> list[str]:
        """The assignment's notebooks in the submission (each gets a page); a missing one is named on the others."""
        names = sorted(q.stem for q in p.path.glob("*.ipynb"))
        return [n for n in names if n in self.hidden_ids_cached(p.assignment)] or names

    def hidden_ids_cached(self, assignment: str) -> dict[str, set[str]]:
        if assignment not in self._hidden:
            self._hidden[assignment] = self.hidden_ids(assignment)
        return self._hidden[assignment]

    # -- one round ------------------------------------------------------------------------------------------------
    def pending(self) -> list[Pending]:
        """New submissions of known assignments.  The inbound folder's name is written by the student's side: a
        student id must be a valid one (:data:`~nnlib_grader.submissions.STUDENT_RE`, so never ``..``) and the
        assignment one of the source's folders, or the entry is ignored."""
        out = []
        known = {d.name for d in self.course.source.iterdir() if d.is_dir() and not d.name.startswith(".")}
        for p in scan(self.exchange / "inbound"):
            if p.key in self.state.done:
                continue
            if not STUDENT_RE.match(p.student):
                continue
            if self.owner_check and (owner := self._owner(p.path)) is not None \
                    and owner != self.unix_prefix + p.student:
                self.state.record(p, dt.datetime.now(dt.UTC), status="refused", owner=owner)
                self.log(f"serve: {p.key}: submitted by the Unix user {owner}, not {self.unix_prefix}{p.student}: "
                         "refused (nbgrader's --student lets anyone name anyone)")
                continue
            if p.assignment not in known:
                if p.assignment not in self._ignored:
                    self._ignored.add(p.assignment)
                    self.log(f"serve: {p.assignment} has no source in {self.course.source}: not graded on submission")
                continue
            out.append(p)
        return out

    @staticmethod
    def _owner(path: Path) -> str | None:
        """The Unix user who made the submission's folder; None for root (a server run as root, e.g.
        SimpleLocalProcessSpawner, makes every student's folder as root: nothing to check then)."""
        uid = path.stat().st_uid
        if uid == 0:
            return None
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return f"uid {uid}"

    def round(self, now: dt.datetime | None = None) -> int:
        """Handle what is pending now (limits first, then one batch per assignment, one submission per student);
        returns how many submissions it finished."""
        now = now or dt.datetime.now(dt.UTC)
        todo: dict[str, list[Pending]] = {}
        finished = 0
        for p in self.pending():
            s = self.settings(p.assignment)
            before_due = s.due is None or now <= s.due  # the service's clock, not the student's timestamp
            used = self.state.runs(p.student, p.assignment, now.date().isoformat())
            queued = sum(1 for q in todo.get(p.assignment, []) if q.student == p.student)
            if before_due and used + queued >= s.max_feedback_submissions:
                names = self.publish(p, {nb: page.limit_page(p.assignment, nb, p.timestamp,
                                                             s.max_feedback_submissions, s.due)
                                         for nb in self._notebooks(p)})
                self.state.record(p, now, status="limited", feedback=names)
                self.log(f"serve: {p.key}: over the day's {s.max_feedback_submissions} feedback run(s): not graded")
                finished += 1
                continue
            todo.setdefault(p.assignment, []).append(p)
        for assignment, subs in todo.items():
            while subs and not self.stop.is_set():
                first, seen = [], set()
                for p in subs:  # a batch folder holds one submission per student: the oldest first
                    if p.student not in seen:
                        seen.add(p.student)
                        first.append(p)
                finished += self.grade(assignment, first, now)
                if any(p.key not in self.state.done for p in first):
                    break  # cut off or failed: the next round takes them again
                subs = [p for p in subs if p.key not in self.state.done]
        return finished

    def grade(self, assignment: str, subs: list[Pending], now: dt.datetime) -> int:
        """One batch (one submission per student).  Each result is published as soon as the batch has merged it
        (a watcher reads the work course's result records while the batch runs), not when the whole batch ends."""
        published: set[str] = set()
        with tempfile.TemporaryDirectory(prefix="nnlib-serve-") as tmp:
            folder = Path(tmp)
            for p in subs:
                d = folder / p.student / assignment
                d.mkdir(parents=True)
                for f in p.path.iterdir():
                    if f.is_file() and not f.is_symlink() and (f.suffix == ".ipynb" or f.name == "timestamp.txt"):
                        shutil.copyfile(f, d / f.name)
            shas = self._shas(assignment, folder)

            def publish_merged(note: str = "") -> None:
                for p in subs:
                    if p.student not in published and (res := self._merged(assignment, p.student, shas)):
                        if note:
                            self.log(f"serve: {p.student}/{assignment}: {note}")
                        self._finish(p, res, now)
                        published.add(p.student)

            publish_merged("graded before the restart, published now")
            for student in published:
                shutil.rmtree(folder / student)
            if len(published) == len(subs):
                return len(published)
            stop_watch, t0 = threading.Event(), time.monotonic()

            def watch() -> None:
                from nnlib_grader.executor import FORK_LOCK

                while not stop_watch.wait(0.05):
                    with FORK_LOCK:  # never forked into a job process half-way through a write (executor.py)
                        publish_merged()

            watcher = threading.Thread(target=watch, name="serve-publish", daemon=True)
            watcher.start()
            try:
                run = batch.grade(self.work, assignment, tmp, self.opts)
            except (SystemExit, Exception) as exc:  # noqa: BLE001 - the service keeps running
                self.log(f"serve: grading {assignment} failed ({type(exc).__name__}: {exc}); retried next round")
                run = None
            finally:
                stop_watch.set()
                watcher.join()
        if run is None:
            time.sleep(1)
            return len(published)
        self.log(f"serve: {assignment}: a batch of {len(subs)} in {time.monotonic() - t0:.1f} s")
        if run.interrupted:
            self.stop.set()  # ^C: what finished is published, the rest is graded after a restart
        by_student = {r.student: r for r in run}
        for p in subs:
            if p.student in published:
                continue
            res = by_student.get(p.student)
            if res is None:
                if run.interrupted:
                    continue
                res = Result(p.student, assignment, status="error",
                             message="the submission could not be graded: " + "; ".join(run.skipped)[:500])
            self._finish(p, res, now)
            published.add(p.student)
        return len(published)

    def _finish(self, p: Pending, res: Result, now: dt.datetime) -> None:
        """The submission's feedback pages, published, and its record in the state."""
        s = self.settings(p.assignment)
        hid = self.hidden_ids_cached(p.assignment)
        past_due = s.due is not None and now > s.due
        show_hidden = s.tests == "all" and (past_due or not s.withhold_hidden_until_due)
        withheld = s.due if (s.tests == "all" and not show_hidden) else None
        runs = self.state.runs(p.student, p.assignment, now.date().isoformat()) + 1
        limit = None if past_due else s.max_feedback_submissions
        pages = {nb: page.result_page(res, nb, hid.get(nb, set()), show_hidden=show_hidden, withheld_until=withheld,
                                      submitted=p.timestamp, runs_today=runs, max_runs=limit)
                 for nb in self._notebooks(p)}
        names = self.publish(p, pages)
        self.state.record(p, now, status="graded", result=res.status, score=res.score, max_score=res.max_score,
                          feedback=names)
        self.log(f"serve: {p.key}: {res.score:g}/{res.max_score:g} {res.status}")

    def _shas(self, assignment: str, folder: Path) -> dict[str, str]:
        """{student: the batch's hash of that submission (its notebooks + its timestamp)}."""
        from nnlib_grader.submissions import discover

        subs, _ = discover(folder, assignment, list(self.hidden_ids_cached(assignment)))
        return {sub.student: sub.sha for sub in subs}

    def _merged(self, assignment: str, student: str, shas: dict[str, str]) -> Result | None:
        """The work course's result record of exactly this submission (its ``sha``), if the batch merged it —
        during this batch, or before a restart (a service killed before publishing it)."""
        rec = self.work / "grading" / assignment / "results" / f"{student}.json"
        try:
            res = Result.from_record(json.loads(rec.read_text()))
        except (OSError, ValueError, KeyError):
            return None
        return res if student in shas and res.sha == shas[student] else None

    # -- the loop -------------------------------------------------------------------------------------------------
    def serve(self, interval: float = 0.5, once: bool = False) -> None:
        with _lock(self.state_dir / ".lock"), self.pool():
            self.log(f"serve: watching {self.exchange / 'inbound'} (state {self.state.path}, every {interval:g} s)")
            while not self.stop.is_set():
                if self.round() and not once:
                    continue  # it found work: look again at once (more may have come while it graded)
                if once:
                    return
                self.stop.wait(interval)

    @contextlib.contextmanager
    def pool(self):
        """The service's executor and worker templates, made once and used by every batch: a batch no longer
        forks its job processes and starts a worker template first (≈ 0.3–1 s of each submission's wait).  With
        ``--jobs`` > 1 the jobs run in child processes (executor.py), even a batch of one."""
        from nnlib_grader import executor, zygote

        ex = executor.make(self.opts.jobs, processes=self.opts.jobs > 1)
        self.opts.executor = ex
        try:
            yield ex
        finally:
            self.opts.executor = None
            ex.close()
            zygote.close_all()


@contextlib.contextmanager
def _lock(path: Path):
    fh = open(path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise SystemExit(f"error: another serve holds {path}") from None
    try:
        yield
    finally:
        fh.close()


def add_arguments(p) -> None:
    p.add_argument("--course", default=".", help="course root (holds nbgrader_config.py and serve.toml)")
    p.add_argument("--exchange", default=None, help="nbgrader's exchange root (default: the config's Exchange.root)")
    p.add_argument("--state", default=None, help="state folder (default COURSE/grading/serve)")
    p.add_argument("--settings", default=None, help="per-assignment settings (default COURSE/serve.toml)")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between two looks at the inbound")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    p.add_argument("--timeout", type=float, default=600, help="wall-clock seconds per submission")
    p.add_argument("--memory-mb", type=int, default=2048, help="memory of one job (cgroup and RLIMIT_AS)")
    p.add_argument("--no-sandbox", action="store_true", help="no namespaces (rlimits and the nnlib shim only)")
    p.add_argument("--container", action="store_true", help="workers in podman containers")
    p.add_argument("--unix-prefix", default="", help="the Unix name of hub user NAME is PREFIX+NAME (TLJH: jupyter-)")
    p.add_argument("--no-owner-check", action="store_true",
                   help="grade a submission whatever Unix user made it (default: its folder's owner must be the "
                        "student it names, unless root made it)")


def main(a) -> int:
    opts = batch.Options(jobs=a.jobs, timeout=a.timeout, memory_mb=a.memory_mb,
                         sandbox=False if a.no_sandbox else None, container=a.container)
    try:
        svc = Service(a.course, exchange=a.exchange, state_dir=a.state, settings=a.settings, opts=opts,
                      log=lambda m: print(m, flush=True), owner_check=not a.no_owner_check,
                      unix_prefix=a.unix_prefix)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def on_term(signum, frame):
        svc.stop.set()

    signal.signal(signal.SIGTERM, on_term)
    try:
        svc.serve(a.interval, a.once)
    except KeyboardInterrupt:
        pass
    return 0
