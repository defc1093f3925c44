"""What the grading worker holds and what comes back from hidden tests (issue 24, items 1, 3 and 4).

* **Nothing in the worker computes a graded answer.**  For every assignment a real worker is launched with the
  assignment's policy and its setup cells; then every function reachable in it (the garbage collector's functions
  that do not come from the standard library or site-packages — the worker's own code, the provisions, the
  fixtures, the setup cells — and every callable of the nnlib shim) is called with the arguments of every graded
  call of every test cell (in order: each one or two of them, all but one, all), and none may return the reference
  answer or leave it in an argument on every call (one case alone can have an answer equal to an input, e.g. a
  perceptron that makes no mistake keeps its weights).  The trusted side computes the references with the
  source's solutions.
* **Each observed attack** (``tests/hostile/worker_*.py``) is graded through the real pipeline beside the
  reference (the honest control): it gains nothing on the cells it targets.
* **Hidden means hidden.**  A submission that leaks hidden inputs every way it can is graded in a batch with
  feedback; no output file and nothing in the gradebook carries them.  Hypothesis drives the checks with learner
  behaviour (exception texts and type names, returned shapes and strings) on a hidden cell: its feedback is one of
  finitely many fixed sentences.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")

from nnlib.grading import _core as C  # noqa: E402
from nnlib.grading import provided  # noqa: E402
from nnlib_grader import hidden, runner, sandbox  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).parent / "hostile"
needs_root = pytest.mark.skipif(not (hasattr(os, "geteuid") and os.geteuid() == 0),
                                reason="the sandboxed worker needs root (namespaces, cgroups)")
pytestmark = pytest.mark.slow


def _nb(kind: str, assign: str):
    return runner.read_notebook(ROOT / kind / assign / f"{assign}.ipynb")


def _answer(src: str) -> str:
    return "\n".join(ln for ln in src.split("\n") if "### BEGIN SOLUTION" not in ln and "### END SOLUTION" not in ln)


def _gid(cell) -> str | None:
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")


def submission(assign: str, overrides: dict[str, str]):
    """The release with every answer cell filled from the source's solutions, then ``overrides``."""
    refs = {_gid(c): _answer(c.source) for c in _nb("solutions", assign).cells
            if (c.get("metadata", {}).get("nbgrader") or {}).get("solution")}
    sub = copy.deepcopy(_nb("exercises", assign))
    for c in sub.cells:
        if _gid(c) in refs:
            c.source = overrides.get(_gid(c), refs[_gid(c)])
    return sub


def source_with(assign: str, tests: tuple[str, ...]):
    """The source notebook keeping only the test cells ``tests`` (the others cost time, not evidence)."""
    src = copy.deepcopy(_nb("solutions", assign))
    src.cells = [c for c in src.cells if not runner.is_test(c) or _gid(c) in tests]
    return src


def grade(assign: str, sub, tests: tuple[str, ...]) -> dict[str, runner.CellResult]:
    with tempfile.TemporaryDirectory(prefix="wb-") as scratch:
        os.chmod(scratch, 0o700)
        res = runner.grade_notebook(source_with(assign, tests), _nb("exercises", assign), sub, assign, assign,
                                    sandbox_on=True, scratch=scratch, call_timeout=90, wall_timeout=400)
    return {c.grade_id: c for c in res.cells}


# ---------------------------------------------------------------- the observed attacks, with honest controls

def worker_fixtures() -> list[dict]:
    out = []
    for p in sorted(HOSTILE.glob("worker_*.py")):
        text = p.read_text()
        head = dict(re.findall(r"^# (assignment|cell|gains nothing on): (.+)$", text, re.M))
        out.append({"name": p.stem, "assignment": head["assignment"].strip(), "cells": head["cell"].split(),
                    "tests": tuple(head["gains nothing on"].split()), "body": text})
    return out


FIXTURES = worker_fixtures()


@functools.cache
def control(assign: str, tests: tuple[str, ...]) -> dict[str, runner.CellResult]:
    return grade(assign, submission(assign, {}), tests)


def test_every_observed_attack_has_a_fixture():
    names = {f["name"] for f in FIXTURES}
    assert {"worker_net_method_unlock", "worker_import_provided_sgd", "worker_sys_modules", "worker_gc_search",
            "worker_a04_sigma_prime", "worker_a03_fixture_gradient", "worker_lstsq_capstone",
            "worker_hidden_leak"} <= names, names


@needs_root
@pytest.mark.parametrize("fx", FIXTURES, ids=[f["name"] for f in FIXTURES])
def test_worker_attack_gains_nothing(fx):
    ref = control(fx["assignment"], fx["tests"])
    assert set(ref) == set(fx["tests"]) and all(c.passed and c.points == c.max_points > 0 for c in ref.values()), \
        {k: c.message for k, c in ref.items()}  # the honest control keeps full marks on the same cells
    cells = grade(fx["assignment"], submission(fx["assignment"], {c: fx["body"] for c in fx["cells"]}), fx["tests"])
    assert all(cells[t].points == 0 and not cells[t].passed for t in fx["tests"]), \
        {k: (c.points, c.message) for k, c in cells.items()}


# ---------------------------------------------------------------- hidden means hidden, through the batch

# what the fixture's runs would carry (its source, shown in the autograded notebook, has "LEAK" but none of these)
LEAKED = ("LEAK<0", "LEAK<[", "LEAK<-", "LEAK_1", "LEAK_3", "3000_2500", "-1.5, 4.0", "0.3, -0.8, 1.1",
          "1.0, -0.5, 0.25", "-3.0, 2.5", "1.2, 0.3",
          "-2.0, 1.0", "0.2, -0.4", "1.0, 2.0, 3.0")


@needs_root
def test_hidden_feedback_and_gradebook_carry_no_hidden_input(tmp_path):
    from nbgrader.api import Gradebook

    from nnlib_grader import batch

    assign = "a03_gradient_descent"
    course = tmp_path / "course"
    course.mkdir()
    shutil.copytree(ROOT / "solutions", course / "solutions")
    shutil.copytree(ROOT / "exercises", course / "exercises")
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    fx = next(f for f in FIXTURES if f["name"] == "worker_hidden_leak")
    subs = course / "subs"
    for student, nb in (("leak", submission(assign, {c: fx["body"] for c in fx["cells"]})),
                        ("honest", submission(assign, {}))):
        (subs / student / assign).mkdir(parents=True)
        nbformat.write(nb, str(subs / student / assign / f"{assign}.ipynb"))
    results = {r.student: r for r in batch.grade(course, assign, subs, batch.Options(progress=False))}
    assert results["honest"].score == results["honest"].max_score == 12, results["honest"]
    assert results["leak"].score == 8, results["leak"]  # the visible tests only: it answers the public cases
    texts = {}
    for sub in ("feedback", "autograded", "grading"):
        for p in (course / sub).rglob("*"):
            if p.is_file():
                texts[str(p)] = p.read_text(errors="replace")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for nb in gb.find_submission(assign, "leak").notebooks:
            texts["gradebook"] = "\n".join(f"{c.auto_comment} {c.manual_comment}" for c in nb.comments)
    feedback = next(t for p, t in texts.items() if "feedback/leak" in p)
    assert feedback.count("hidden test:") == 4 and "looks correct" in feedback  # general words; visible passed
    found = {(p, s) for p, t in texts.items() for s in LEAKED if s in t}
    assert not found, sorted(found)
    # the same answer does leak through a check's own message: the redaction is what stops it
    from nnlib.grading import a03_gradient_descent as A3

    ns: dict = {}
    exec(compile(fx["body"], "<leak>", "exec"), ns)  # noqa: S102 - the fixture, run here to see its raw message
    with pytest.raises(C.GradingError, match="LEAK"):
        A3.check_numerical_derivative(ns["numerical_derivative"], cases=[(A3.F.f_exp, 0.5, 1e-3)])


# ---------------------------------------------------------------- hidden feedback as a property (Hypothesis)

def test_hidden_feedback_is_one_of_finitely_many_sentences():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from nnlib.grading import a03_gradient_descent as A3

    src = 'check_gd_step(require("gd_step"), show_values=False, cases=[(F.z_bowl_grad, [-3.0, 2.5], 0.1)])'
    allowed = {hidden.message(src, False, k) for k in [*hidden.PHRASES, "wrong"]}
    text = st.text(min_size=6, max_size=60).filter(lambda s: s.strip() and s not in "".join(allowed))
    behaviour = st.one_of(
        st.tuples(st.just("raise"), st.from_regex(r"[A-Z][A-Za-z0-9_]{0,30}", fullmatch=True), text),
        st.tuples(st.just("shape"), st.lists(st.integers(1, 5), min_size=0, max_size=3), text),
        st.tuples(st.just("text"), st.just(""), text))

    @settings(max_examples=60, deadline=None)
    @given(behaviour)
    def run(b):
        kind_, arg, secret = b

        def call(name, args, kwargs, timeout=None):
            if kind_ == "raise":
                raise C.StudentError(arg, f"{secret} p={args[1].tolist()}", f"raise {secret}")
            if kind_ == "shape":
                return np.full(arg, float(len(secret)))
            return secret

        try:
            A3.check_gd_step(C.Remote("gd_step", call), cases=[(A3.F.z_bowl_grad, [-3.0, 2.5], 0.1)],
                             show_values=False)
        except C.GradingError as exc:
            msg = hidden.message(src, False, exc.kind)
        else:
            msg = hidden.message(src, True)
        assert msg in allowed | {hidden.message(src, True)}
        assert secret not in msg and "-3.0" not in msg and "2.5" not in msg

    run()


def test_hidden_cells_run_after_every_visible_one():
    src = _nb("solutions", "a05_backprop")
    tests = [c for c in src.cells if runner.is_test(c)]
    assert any(hidden.is_hidden(c.source) for c in tests) and any(not hidden.is_hidden(c.source) for c in tests)
    order = sorted(range(len(tests)), key=lambda i: hidden.is_hidden(tests[i].source))
    assert all(not hidden.is_hidden(tests[i].source) for i in order[: sum(not hidden.is_hidden(c.source)
                                                                         for c in tests)])


# ---------------------------------------------------------------- nothing in the worker computes an answer

PROBE = r'''
import copy as _copy
import gc as _gc
import itertools as _it
import signal as _signal
import sys as _sys
import sysconfig as _sc
import types as _types

import numpy as _np

_LIB = tuple({_sc.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
             | {_np.__file__.rsplit("/", 2)[0]})


_LEFT = sorted(m for m in _sys.modules if m.startswith("nnlib_") or m.startswith("nnlib.grading."))
try:
    import nnlib_provided  # noqa: F401
    _LEFT.append("import nnlib_provided worked")
except ImportError:
    pass


# not probed: the worker's own boundary code (it holds no reference, and called with the probe's arguments it writes
# to or closes the worker's socket, ending the probe) and nnlib's data loaders (files, not answers)
_BOUNDARY = {"worker.py", "protocol.py", "confine.py", "seccomp.py"}
_LOADERS = ("nnlib.datasets", "nnlib.files", "nnlib.data")


def _candidates():
    out = {}
    for o in _gc.get_objects():
        if isinstance(o, _types.FunctionType):
            f = o.__code__.co_filename
            if not f.startswith(_LIB) and not f.startswith("<frozen") and f != "<cell probe>" \
                    and f.rsplit("/", 1)[-1] not in _BOUNDARY:
                out[id(o)] = (f"{o.__qualname__} ({f.rsplit('/', 1)[-1]})", o)
    for m in list(_sys.modules.values()):
        if getattr(m, "__name__", "").split(".")[0] == "nnlib" and not m.__name__.startswith(_LOADERS):
            for k, v in list(vars(m).items()):
                if callable(v) and not isinstance(v, _types.ModuleType):
                    out.setdefault(id(v), (f"{m.__name__}.{k}", v))
    return list(out.values())


def _same(a, b):
    if a is None or b is None:
        return False
    if isinstance(b, (list, tuple)):
        return isinstance(a, (list, tuple)) and len(a) == len(b) > 0 and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(b, "weights"):
        return _same(getattr(a, "weights", None), b.weights) and _same(getattr(a, "biases", None), b.biases)
    try:
        x, y = _np.asarray(a, dtype=float), _np.asarray(b, dtype=float)
        return x.shape == y.shape and x.size > 0 and bool(_np.allclose(x, y, rtol=1e-6, atol=1e-9))
    except Exception:
        return False


def _too_long(signum, frame):
    raise TimeoutError("a probed candidate ran past its second")


def __probe(ref, after, *args):
    hits, handler, timer = [], _signal.getsignal(_signal.SIGALRM), _signal.getitimer(_signal.ITIMER_REAL)
    for name, fn in _candidates():
        for r in sorted({1, 2, len(args) - 1, len(args)} - {0}):
            for idx in _it.combinations(range(len(args)), min(r, len(args))):
                try:
                    sub = [_copy.deepcopy(args[i]) for i in idx]
                    _signal.signal(_signal.SIGALRM, _too_long)  # a candidate that loops (a training function
                    _signal.setitimer(_signal.ITIMER_REAL, 1.0)  # given a huge count) must not end the probe
                    got = fn(*sub)
                except BaseException:
                    continue
                finally:
                    _signal.setitimer(_signal.ITIMER_REAL, 0)
                    _signal.signal(_signal.SIGALRM, handler)
                    _signal.setitimer(_signal.ITIMER_REAL, *timer)
                if _same(got, ref):
                    hits.append(f"{name} returns the answer from arguments {idx}")
                hits += [f"{name} leaves the answer in argument {i}" for j, i in enumerate(idx)
                         if after[i] is not None and _same(sub[j], after[i])]
    return sorted(set(hits))
'''

# a provided function whose output *is* an answer, by the exercise's own derivation (the prompt provides it)
EXPECTED = {("a04_derivatives", "softplus_prime"): {"sigmoid"}}  # softplus′ = σ: the derivation a04 asks for


def _reference_namespace(assign: str) -> dict:
    ns: dict = {"__name__": "__reference__"}
    for c in _nb("solutions", assign).cells:
        meta = c.get("metadata", {}).get("nbgrader") or {}
        if c.cell_type == "code" and (meta.get("solution") or (meta.get("locked") and not meta.get("grade"))):
            exec(compile(_answer(c.source), f"<reference {_gid(c)}>", "exec"), ns)  # noqa: S102 - our solutions
    return ns


def _changed(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return not np.array_equal(a, b)
    if isinstance(a, provided.Net):
        return any(not np.array_equal(x, y) for x, y in zip(a.weights + a.biases, b.weights + b.biases))
    return False


def _state(a):
    return provided.Net(a.sizes, a.weights, a.biases) if isinstance(a, provided.Net) else np.array(a)


def _probe_assignment(assign: str) -> tuple[dict[str, set[str]], int]:
    import nnlib.grading as grading

    ref_ns = _reference_namespace(assign)
    src, rel = _nb("solutions", assign), _nb("exercises", assign)
    cells, _ = runner.program(src, rel, rel)
    hits: dict[str, set[str]] = {}  # graded function -> candidates that reproduced its answer on *every* call
    calls, probed = 0, {}
    with tempfile.TemporaryDirectory(prefix="wb-") as scratch:
        os.chmod(scratch, 0o700)
        from nnlib.grading import policy

        worker = sandbox.spawn(policy.for_assignment(assign), sandbox=True, scratch=scratch, job=0)
        try:
            reply = worker.request({"op": "run", "cells": [*cells, {"key": "probe", "source": PROBE}],
                                    "cell_timeout": 60}, 300)
            assert not reply["cells"][-1]["error"], reply["cells"][-1]
            left = worker.request({"op": "get", "name": "_LEFT"}, 30)
            assert left.get("value") == [], left  # no nnlib_* module in sys.modules, none importable
            session = runner.Session(worker, {}, call_timeout=300)

            def require(name, namespace=None):
                names = [name] if isinstance(name, str) else list(name)
                out = []
                for n in names:
                    ref = ref_ns[n]
                    if not callable(ref):
                        out.append(ref)
                        continue

                    def call(fname, args, kwargs, timeout=None, _ref=ref):
                        nonlocal calls
                        before = copy.deepcopy(list(args))
                        result = _ref(*args, **kwargs)
                        after = [_state(a) if _changed(a, b) else None for a, b in zip(args, before)]
                        if (result is not None or any(x is not None for x in after)) and \
                                probed.get(fname, 0) < PROBED_CALLS:
                            probed[fname] = probed.get(fname, 0) + 1
                            calls += 1
                            found = set(session.call("__probe", (result, after, *before), {}))
                            hits[fname] = found if fname not in hits else hits[fname] & found
                        return result

                    out.append(C.Remote(n, call, run=lambda _src: None))
                return out[0] if isinstance(name, str) else tuple(out)

            for c in src.cells:
                if not runner.is_test(c):
                    continue
                ns = {k: getattr(grading, k) for k in grading.__all__}
                ns.update(np=np, require=require, __name__="__probe__")
                try:
                    exec(compile(c.source, f"<test {_gid(c)}>", "exec"), ns)  # noqa: S102 - the source's tests
                except (AssertionError, C.GradingError):
                    pass  # the reference run through the renaming backprop (a08) fails here: not what is tested
            assert session.dead is None, f"the probe itself failed, so it proved nothing: {session.dead}"
        finally:
            worker.kill()
    return hits, calls


# the first calls of each graded function are probed: a candidate counts when it reproduces the answer on every
# probed call, so probing fewer calls can only find more, never less (the training checks call thousands of times)
PROBED_CALLS = 6

# a02's answers are weights (values, not functions): nothing is called, so nothing to probe
ASSIGNMENTS = ["a01_perceptron", "a03_gradient_descent", "a04_derivatives", "a05_backprop", "a06_sgd", "a07_cnn",
               "a08_capstone"]
ASSIGNMENTS += ["a10_layers"]


@needs_root
@pytest.mark.parametrize("assign", ASSIGNMENTS)
def test_no_function_in_the_worker_reproduces_an_answer(assign):
    hits, calls = _probe_assignment(assign)
    assert calls > 0, "no graded call was probed"
    unexpected = {fn: {h for h in found if h.split(" ")[0] not in EXPECTED.get((assign, fn), set())}
                  for fn, found in hits.items()}
    assert not any(unexpected.values()), unexpected
