"""Grade one submitted notebook on the trusted side: the learner's code runs in a sandboxed worker.

1. The cells to run are chosen from the *source* notebook's structure (by nbgrader ``grade_id``): its locked
   setup cells (source version), the learner's answer cells, and cells the learner added.  Test cells and the
   release's demo cells are not run there.
2. A fresh worker (:func:`nnlib_grader.sandbox.spawn`) runs them and reports, per cell, only whether it
   raised (type, message, line) and its capped text output.
3. Every test cell of the source notebook (hidden tests included) is executed **here**, with ``require``
   bound to the worker: the learner's functions are :class:`~nnlib.grading._core.Remote` proxies, so each
   call sends plain arrays and gets plain data back.  References, comparisons and messages never leave this
   process; the score of a cell is its points if its code raises nothing, else 0.
4. Visible tests run first, then the hidden ones; a hidden test's feedback is general words only
   (:mod:`nnlib_grader.hidden`): nothing the learner's code produced on a hidden case comes back.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnlib.grading import _core as C
from nnlib.grading import fixtures, policy, provided
from nnlib_grader import hidden, sandbox
from nnlib_grader import protocol as P

MAX_NOTEBOOK_BYTES = 20 * 2**20


def refused(exc: Exception) -> str:
    """What the learner reads when the grader refused a reply of their sandboxed process (never the grader's
    fault: only the learner's code writes what the worker sends)."""
    return (f"the grader refused what your code sent back ({str(exc)[:300]}): a reply that is not plain data "
            "within the limits in docs/instructor.md. Nothing after it was graded")


class SubmissionError(ValueError):
    """The submission cannot be graded (too large, not a notebook, ...): the message says why."""


@dataclass
class CellResult:
    grade_id: str
    points: float
    max_points: float
    message: str = ""      # what the learner reads: "✓ ..." or the check's message
    passed: bool = False
    kind: str = "test"     # "test" | "manual"


@dataclass
class NotebookResult:
    name: str
    cells: list[CellResult] = field(default_factory=list)
    answer_outputs: dict[str, str] = field(default_factory=dict)  # grade_id -> text output of the answer cell
    answer_errors: dict[str, dict] = field(default_factory=dict)
    isolation: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_mb: float | None = None  # the job's peak memory where a cgroup measured it
    timed_out: bool = False

    @property
    def score(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.cells)


def read_notebook(path, limit: int = MAX_NOTEBOOK_BYTES) -> Any:
    """Read a notebook as data, refusing files over ``limit`` bytes *before* reading them."""
    import os

    return parse_notebook(read_text(path, limit), os.path.basename(str(path)))


def read_text(path, limit: int = MAX_NOTEBOOK_BYTES) -> str:
    """A notebook file's text, refusing files over ``limit`` bytes *before* reading them (the batch reads it; the
    job, in parallel with the others, parses it: :func:`parse_notebook`)."""
    import os

    size = os.stat(path).st_size
    if size > limit:
        raise SubmissionError(f"{os.path.basename(str(path))} is {size / 2**20:.1f} MiB, over the "
                              f"{limit / 2**20:.0f} MiB limit for a notebook")
    with open(path, "rb") as fh:
        return fh.read(limit + 1).decode("utf-8", errors="replace")


def parse_notebook(text: str, name: str) -> Any:
    """``text`` as a notebook (nbformat 4, validated); any problem is the submission's, named by ``name``."""
    import nbformat

    try:
        return nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - any parse problem is the submission's
        raise SubmissionError(f"{name} is not a readable notebook: {type(exc).__name__}: {str(exc)[:200]}") from None


def _meta(cell: Any) -> dict:
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def _src(cell: Any) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else str(s)


def is_test(cell: Any) -> bool:
    m = _meta(cell)
    return bool(m.get("grade")) and not m.get("solution") and cell.get("cell_type") == "code"


def program(source: Any, release: Any, submitted: Any) -> tuple[list[dict], dict[str, str]]:
    """The cells the worker runs, in the submission's order, and {cell key: grade_id} of answer cells."""
    src = {(_meta(c).get("grade_id")): c for c in source.cells if _meta(c).get("grade_id")}
    release_ids = {c.get("id") for c in release.cells if c.get("id")}
    answers, locked = {}, {}
    for gid, c in src.items():
        if c.get("cell_type") != "code" or is_test(c):
            continue
        if _meta(c).get("solution"):
            answers[gid] = c
        elif _meta(c).get("locked"):
            locked[gid] = c
    cells, seen, keys = [], set(), {}
    for i, c in enumerate(submitted.cells):
        if c.get("cell_type") != "code":
            continue
        gid = _meta(c).get("grade_id")
        if gid in seen:
            continue  # a duplicated cell: the first copy counts
        if gid in src and is_test(src[gid]):
            continue
        if gid in locked:
            cells.append({"key": f"setup:{gid}", "source": _src(locked[gid])})
        elif gid in answers:
            cells.append({"key": gid, "source": _src(c)})
            keys[gid] = gid
        elif c.get("id") in release_ids:
            continue  # a demo cell of the release ("Try it"): not needed for grading
        else:
            cells.append({"key": f"added:{i}", "source": _src(c)})
        if gid:
            seen.add(gid)
    missing = [{"key": f"setup:{g}", "source": _src(c)} for g, c in locked.items() if g not in seen]
    return missing + cells, keys


class Session:
    """The trusted side of one worker: ``require`` and the learner's functions as Remote proxies."""

    def __init__(self, worker: sandbox.Worker, cell_errors: dict[str, dict], call_timeout: float,
                 deadline: float | None = None, sources: tuple[str, ...] = ()):
        self.worker, self.cell_errors, self.call_timeout = worker, cell_errors, call_timeout
        self.sources = sources  # the answer cells' text, for checks of rules on the source (nnlib.grading.rules)
        self.deadline = deadline  # time.monotonic() by which the whole submission must be done
        self.dead: str | None = None

    # -- data across the boundary (spelled in protocol.py; what is the grader's own is here)
    @staticmethod
    def _claim(obj: Any) -> Any:
        if isinstance(obj, provided.Net):
            return P.net_wire(obj.sizes, obj.weights, obj.biases, obj.methods)
        if callable(obj) and obj in fixtures.NAME:
            return {"__fn__": fixtures.NAME[obj]}
        return None

    @staticmethod
    def _encode(obj: Any) -> Any:
        return P.encode(obj, Session._claim)

    @staticmethod
    def _decoder(args: tuple):
        def special(kind: str, value: Any) -> Any:
            if kind == "__arg__":
                if value >= len(args):
                    raise P.ProtocolError("bad argument reference")
                return args[value]
            if kind == "__net__":
                return provided.Net(value.sizes, value.weights, value.biases, value.methods)
            if kind == "__repr__":
                return value
            raise P.ProtocolError(f"{kind} is not allowed from the worker")

        return special

    def _request(self, msg: dict, timeout: float) -> dict:
        if self.dead:
            raise C.StudentError("RuntimeError", self.dead)
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.dead = "not run: the submission used all of its time"
                self.worker.kill()
                raise C.StudentError("TimeoutError", self.dead)
            timeout = min(timeout, left)
        try:
            return self.worker.request(msg, timeout)
        except TimeoutError:
            self.dead = f"stopped: no answer within {timeout:g} s (an endless loop?) — the grader ended it"
            self.worker.kill()
            raise C.StudentError("TimeoutError", f"did not finish within {timeout:g} s (an endless loop?)") \
                from None
        except P.ProtocolError as exc:
            self._refuse(exc)
        except (EOFError, OSError) as exc:
            self.dead = f"the sandboxed process running your code stopped ({type(exc).__name__}: {exc})"
            self.worker.kill()
            raise C.StudentError("RuntimeError", self.dead) from None

    def call(self, name: str, args: tuple, kwargs: dict, timeout: float | None = None) -> Any:
        limit = self.call_timeout if timeout is None else float(timeout)
        msg = {"op": "call", "name": name, "args": self._encode(list(args)), "kwargs": self._encode(kwargs),
               "timeout": limit}
        reply = self._parse(P.call_reply, self._request(msg, limit + 5), len(args))
        if "error" in reply:
            e = reply["error"]
            raise C.StudentError(e["type"], e["message"], e["line"], e["lineno"])
        special, tally = self._decoder(args), P.Tally(P.FROM_WORKER)  # one budget for the whole reply
        after = {i: self._parse(P.decode, state, special, tally=tally) for i, state in reply["after"].items()}
        result = self._parse(P.decode, reply["result"], special, tally=tally)
        for i, new in after.items():
            if isinstance(args[i], np.ndarray) and isinstance(new, np.ndarray) and new.shape == args[i].shape:
                args[i][...] = new
            elif isinstance(args[i], provided.Net) and isinstance(new, provided.Net):
                args[i].weights, args[i].biases = new.weights, new.biases
        return result

    def _parse(self, read, *args, **kwargs) -> Any:
        """A reply read by protocol's ``read``; a refused one ends the session (the submission's, not the grader's
        fault)."""
        try:
            return read(*args, **kwargs)
        except P.ProtocolError as exc:
            self._refuse(exc)

    def _refuse(self, exc: P.ProtocolError):
        self.dead = refused(exc)
        self.worker.kill()
        raise C.StudentError("ProtocolError", self.dead) from None

    def run_cell(self, source: str) -> dict | None:
        """Run a trusted cell (a check's) in the learner's namespace; the error it raised, or None."""
        reply = self._request({"op": "run", "cells": [{"key": "grader", "source": source}], "cell_timeout": 10}, 20)
        cells = self._parse(P.cell_results, reply)
        return cells[0]["error"] if cells else {"type": "Error", "message": "no reply"}

    def require(self, name: Any, namespace: Any = None) -> Any:
        names = [name] if isinstance(name, str) else list(name)
        out = []
        for n in names:
            reply = self._parse(P.get_reply, self._request({"op": "get", "name": n}, 30))
            if not reply["defined"]:
                err = self.cell_errors.get(n)
                if err and C.NOT_ALLOWED in str(err.get("message", "")):
                    C.fail(str(err["message"]).replace(C.NOT_ALLOWED, "").strip().replace("{asks}", f"`{n}`"),
                           kind="not allowed")
                if err:
                    line = f" at `{err.get('line')}`" if err.get("line") else ""
                    meaning = C.explain(err["type"], err["message"])
                    C.fail(f"`{n}` is not defined: its cell raised {err.get('type')}{line}: {err.get('message')}"
                           + (f"\n  That means: {meaning}." if meaning else ""),
                           kind="not implemented" if err.get("type") == "NotImplementedError" else "not defined")
                C.fail(f"`{n}` is not defined: write it in its answer cell (keep the name `{n}`), run the cell, "
                       "then this test", kind="not defined")
            if reply["callable"]:
                out.append(C.Remote(n, self.call, sources=self.sources, run=self.run_cell))
            else:
                out.append(self._parse(P.decode, reply["value"], self._decoder(())))
        return out[0] if isinstance(name, str) else tuple(out)

    def lookup(self, name: str) -> Any:
        """A name a test cell uses directly (``assert add(1, 2) == 3``): the learner's object, or KeyError."""
        return self.require(name)  # an undefined name fails with require's message (which cell raised what)


class _Names(dict):
    """A test cell's local names: its own assignments, else (names not defined on the trusted side) the learner's."""

    def __init__(self, session: Session, trusted: dict):
        super().__init__()
        self.session, self.trusted = session, trusted

    def __missing__(self, name: str) -> Any:
        import builtins

        if name in self.trusted or hasattr(builtins, name):
            raise KeyError(name)
        value = self.session.lookup(name)
        self[name] = value
        return value


def _answer_owner(cell_results: list[dict], keys: dict[str, str], source: Any) -> dict[str, dict]:
    """{name defined by an answer cell: the error that cell raised} (best effort, by reading the source)."""
    import ast

    out = {}
    by_key = {r["key"]: r for r in cell_results}
    for c in source.cells:
        gid = _meta(c).get("grade_id")
        if gid not in keys or gid not in by_key or not by_key[gid].get("error"):
            continue
        try:
            tree = ast.parse(_src(c))
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # the learner's source: anything can fail
            continue
        for node in tree.body:
            names = []
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            for n in names:
                out[n] = by_key[gid]["error"]
    return out


def grade_notebook(source: Any, release: Any, submitted: Any, assignment: str, name: str, *, sandbox_on: bool,
                   scratch: str, job: int = 0, memory_mb: int = 2048, cell_timeout: float = 60,
                   call_timeout: float = 30, wall_timeout: float = 600, container: bool = False) -> NotebookResult:
    """Run the submission's code in a worker and the source's test cells here (see the module doc)."""
    t0 = time.monotonic()
    res = NotebookResult(name)
    cells, keys = program(source, release, submitted)
    tests = [c for c in source.cells if is_test(c)]
    manual = [c for c in source.cells if _meta(c).get("grade") and not is_test(c)]
    worker = None
    try:
        worker = sandbox.spawn(policy.for_assignment(assignment), sandbox=sandbox_on, scratch=scratch, job=job,
                               memory_mb=memory_mb, cpu_s=int(wall_timeout) + 5, container=container)
        res.isolation = worker.isolation
        try:
            results = P.cell_results(worker.request({"op": "run", "cells": cells, "cell_timeout": cell_timeout},
                                                    min(wall_timeout, cell_timeout * max(1, len(cells)) + 10)))
        except P.ProtocolError as exc:  # a forged or over-budget reply: this submission's cells count as not run
            results = []
            res.answer_errors["*"] = {"type": "ProtocolError", "message": refused(exc)}
        except Exception as exc:  # noqa: BLE001 - the learner's cells hung or killed the worker
            results = []
            res.timed_out = isinstance(exc, TimeoutError)
            res.answer_errors["*"] = {"type": type(exc).__name__, "message": "the cells did not finish: "
                                      f"{exc}"[:500]}
        for r in results:
            if r["key"] in keys:
                res.answer_outputs[r["key"]] = r["output"]
                if r["error"]:
                    res.answer_errors[r["key"]] = r["error"]
        session = Session(worker, _answer_owner(results, keys, source), call_timeout, deadline=t0 + wall_timeout,
                          sources=tuple(c["source"] for c in cells if c["key"] in keys))
        if "*" in res.answer_errors:
            session.dead = res.answer_errors["*"]["message"] if res.answer_errors["*"]["type"] == "ProtocolError" \
                else "your cells did not finish running (an endless loop, or the process was killed)"
        import nnlib.grading as grading

        order = sorted(range(len(tests)), key=lambda i: hidden.is_hidden(_src(tests[i])))  # visible first
        results_by_test: dict[int, CellResult] = {}
        for i in order:
            c = tests[i]
            m = _meta(c)
            pts = float(m.get("points") or 0)
            ns: dict[str, Any] = {"np": np, "require": session.require, "__name__": "__grader__"}
            ns.update({k: getattr(grading, k) for k in grading.__all__ if k != "require"})
            names = _Names(session, ns)
            buf = io.StringIO()
            cr = CellResult(m["grade_id"], 0.0, pts)
            if time.monotonic() - t0 > wall_timeout:
                cr.message = f"not run: the submission used its {wall_timeout:g} s"
                results_by_test[i] = cr
                continue
            ns["print"] = lambda *a, sep=" ", end="\n", _buf=buf, **_: _buf.write(sep.join(map(str, a)) + end)
            C.SINK.write = buf.write
            kind = "wrong"
            try:
                exec(compile(_src(c), f"<test {m['grade_id']}>", "exec"), ns, names)  # noqa: S102 - instructor's
                cr.points, cr.passed = pts, True
                cr.message = buf.getvalue().strip() or "✓ passed"
            except C.GradingError as exc:
                cr.message, kind = str(exc), getattr(exc, "kind", "wrong")
            except C.StudentError as exc:
                cr.message = f"{exc.type_name}: {exc.message}"
                kind = "timeout" if exc.type_name == "TimeoutError" else "error"
            except AssertionError as exc:
                cr.message = C.wrap(str(exc) or "a check failed")
                kind = getattr(getattr(exc, "diagnosis", None), "kind", "wrong")
            except Exception as exc:  # noqa: BLE001 - a problem of the grader, said as such
                cr.message, kind = f"grading problem ({type(exc).__name__}: {exc}); ask your instructor", "grader"
            finally:
                C.SINK.write = None
            if hidden.is_hidden(_src(c)):
                cr.message = hidden.message(_src(c), cr.passed, kind)
            results_by_test[i] = cr
        res.cells += [results_by_test[i] for i in range(len(tests)) if i in results_by_test]
        for c in manual:
            m = _meta(c)
            res.cells.append(CellResult(m["grade_id"], 0.0, float(m.get("points") or 0), "graded by hand",
                                        kind="manual"))
    finally:
        if worker is not None:
            worker.kill()
            res.peak_mb = worker.peak
    res.seconds = time.monotonic() - t0
    return res
