"""Plumbing shared by every exercise check: calling the learner's function, comparing, and the message.

A check calls the learner's code only through :func:`invoke`.  The same check runs in two places:

* **in the notebook** (self-check, self-study): ``fn`` is the learner's own function.  ``invoke`` watches
  the call (``sys.setprofile``) and refuses an answer that reaches nnlib's own implementation of what the
  exercise asks for, or an automatic-differentiation library;
* **in the trusted grader** (``nnlib_grader``): ``fn`` is a :class:`Remote` proxy; the learner's code
  runs in a sandboxed worker where those implementations do not exist at all, and only plain data comes
  back.  The scores that count are computed here, never in the learner's interpreter.

Either way a failure is a :class:`GradingError` whose text is the message the learner reads first.
Messages are plain Unicode (no LaTeX) wrapped to :data:`WIDTH` columns so they fit nbgrader's Validate
dialog, ``nbgrader validate`` and the feedback page.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from nnlib import gradcheck as G

WIDTH = 88
_NNLIB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_AUTODIFF = ("torch", "jax", "jaxlib", "tensorflow", "autograd", "mxnet", "paddle")
_LEARNING = ("sklearn", "keras", "xgboost", "lightgbm", "catboost", "skorch")  # train networks for the learner
NOT_ALLOWED = "[not allowed]"  # marks the worker's import/attribute errors for a name an answer may not use


class GradingError(AssertionError):
    """A check failed; the text says what is wrong and, where it can, why.

    ``kind``: the class of the failure in one word of ``nnlib_grader.hidden.PHRASES`` ("wrong", "type",
    "error", ...): all that the feedback of a *hidden* test says about it (its text may carry the learner's data).
    """

    def __init__(self, text: str = "", kind: str = "wrong"):
        super().__init__(text)
        self.kind = kind


def wrap(text: str) -> str:
    """Wrap every paragraph of ``text`` to WIDTH columns, keeping indentation of continuation lines."""
    out = []
    for line in text.split("\n"):
        if len(line) <= WIDTH:
            out.append(line)
            continue
        indent = re.match(r"\s*", line).group(0)
        out += textwrap.wrap(line, WIDTH, subsequent_indent=indent + "  ", break_on_hyphens=False,
                             break_long_words=True)
    return "\n".join(out)


def fail(msg: str, case: str | None = None, kind: str = "wrong") -> None:
    """Raise GradingError(msg) with the case it failed on; ``kind`` classes it (see GradingError)."""
    text = msg if case is None else f"{msg}\n  (test case: {case})"
    raise GradingError(wrap(text), kind)


class _Sink(threading.local):
    write: Callable[[str], Any] | None = None


SINK = _Sink()  # the trusted grader collects each test cell's lines here (one sink per thread)


def say(text: str) -> None:
    if SINK.write is not None:
        SINK.write(text + "\n")
    else:
        print(text)


def ok(msg: str) -> None:
    say(wrap(f"✓ {msg}"))


def fname(fn: Any, default: str) -> str:
    if isinstance(fn, Remote):
        return fn.name
    name = getattr(fn, "__name__", None) if callable(fn) else None
    return name if isinstance(name, str) and name.isidentifier() and name != "<lambda>" else default


def vals(a: Any, show: bool) -> str:
    if not show:
        return ""
    return np.array2string(np.asarray(a), precision=6, suppress_small=True, separator=", ")


# ---------------------------------------------------------------- require


def require(name: str | Sequence[str], namespace: Mapping[str, Any] | None = None) -> Any:
    """Return the object(s) called ``name`` from ``namespace`` (default: the caller's globals).

    Missing → GradingError "`name` is not defined: the cell above did not run ...".  In the trusted grader
    ``require`` is replaced by one that asks the sandboxed worker (and names the error its cell raised).
    """
    ns = namespace if namespace is not None else sys._getframe(1).f_globals
    names = [name] if isinstance(name, str) else list(name)
    found = []
    for n in names:
        if n not in ns:
            fail(f"`{n}` is not defined: the cell above did not run or timed out — run it, then this test "
                 f"(if it ran, it stopped with an error before defining `{n}`)", kind="not defined")
        found.append(ns[n])
    return found[0] if isinstance(name, str) else tuple(found)


# ---------------------------------------------------------------- the remote side (trusted grader)


class StudentError(Exception):
    """An exception raised by the learner's code, described by the sandboxed worker (plain data only)."""

    def __init__(self, type_name: str, message: str, line: str = "", lineno: int | None = None,
                 cell: str | None = None):
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.message, self.line, self.lineno, self.cell = type_name, message, line, lineno, cell


class Remote:
    """Stands for a learner's object that lives in the sandboxed worker (see nnlib_grader.runner).

    Calling it sends the arguments (arrays, numbers, networks, named fixture functions) to the worker and
    returns plain data.  Arrays passed in are updated afterwards with what the learner's code left in them,
    so a check sees in-place changes exactly as it would in the notebook.
    """

    def __init__(self, name: str, call: Callable[..., Any], value: Any = None, is_callable: bool = True,
                 run: Callable[[str], Any] | None = None):
        self.name, self._call, self.value, self.is_callable = name, call, value, is_callable
        self.run = run  # runs a trusted cell in the learner's namespace (the grader's; None elsewhere)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(self.name, args, kwargs)

    def call_within(self, timeout: float, *args: Any, **kwargs: Any) -> Any:
        """Call with a per-call time limit other than the grader's default (a training run)."""
        return self._call(self.name, args, kwargs, timeout=timeout)

    def __repr__(self) -> str:
        return f"<the learner's {self.name}>"


def plain_value(obj: Any) -> Any:
    """The value of a non-callable answer (weights for a gate, ...): a Remote's data or obj itself."""
    return obj.value if isinstance(obj, Remote) else obj


# ---------------------------------------------------------------- calling the learner's function


class _Guard:
    """Records calls from the learner's code into nnlib (other than ``allowed``) or an autodiff library."""

    def __init__(self, allowed: Iterable[Any], entry_code: Any):
        self.allowed = set()
        for obj in allowed:
            self.allowed |= _codes(obj)
        self.entry = entry_code
        self.hits: list[str] = []

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        fn = code.co_filename
        if fn.startswith(_NNLIB_DIR):
            if code in self.allowed or fn.endswith((f"grading{os.sep}provided.py", f"grading{os.sep}fixtures.py")):
                return
            caller = frame.f_back
            if caller is not None and caller.f_code is not self.entry and caller.f_code.co_filename.startswith(
                    _NNLIB_DIR):
                return  # nnlib calling itself (inside an allowed function)
            mod = os.path.relpath(fn, os.path.dirname(_NNLIB_DIR)).replace(os.sep, ".")[:-3]
            self.hits.append(f"{mod}.{code.co_qualname if hasattr(code, 'co_qualname') else code.co_name}")
        elif any(f"{os.sep}{pkg}{os.sep}" in fn for pkg in _AUTODIFF + _LEARNING) and "site-packages" in fn:
            pkg = next(p for p in _AUTODIFF + _LEARNING if f"{os.sep}{p}{os.sep}" in fn)
            self.hits.append(pkg)


def _codes(obj: Any) -> set:
    out = set()
    if isinstance(obj, type):
        for v in vars(obj).values():
            out |= _codes(getattr(v, "__func__", v))
        for base in obj.__mro__[1:]:
            if base is not object:
                out |= _codes(base)
    elif hasattr(obj, "__code__"):
        out.add(obj.__code__)
    elif isinstance(obj, property):
        for f in (obj.fget, obj.fset):
            if f is not None:
                out.add(f.__code__)
    return out


def delegation_message(what: str, asks: str, allowed: str) -> str:
    why = "" if what.startswith("the ") else " (nnlib's own version is the reference your answer is compared with)"
    return (f"{asks} calls {what}, which this exercise does not allow: it asks you to write that computation "
            f"yourself{why}. You may use: {allowed}.")


def invoke(fn: Any, name: str, *args: Any, allowed: Iterable[Any] = (), allowed_text: str = "NumPy",
           advice: Callable[[StudentError], str | None] | None = None, timeout: float | None = None,
           **kwargs: Any) -> Any:
    """Call the learner's ``fn(*args, **kwargs)``: translate its errors, refuse delegation.

    ``allowed``: nnlib functions/classes the exercise provides (everything else in nnlib is off limits
    while the learner's code runs); ``allowed_text`` lists them in the message.  ``advice``: what an
    exception raised in the learner's code means in this exercise (None: the generic :func:`explain`).
    ``timeout``: the grader's limit for this call in seconds (default: its per-call limit); the notebook
    cannot stop a call, so there the check measures the time itself.
    """
    if isinstance(fn, Remote):
        if not fn.is_callable:
            fail(f"`{name}` should be a function, got {fn.value!r}"[:300], kind="type")
        try:
            return fn.call_within(timeout, *args, **kwargs) if timeout is not None else fn(*args, **kwargs)
        except StudentError as exc:
            _raise_student(exc, name, advice)
    if not callable(fn):
        fail(f"`{name}` should be a function, got {type(fn).__name__}", kind="type")
    from nnlib.grading import fixtures, provided

    guard = _Guard([*allowed, provided, *provided.ALL, *fixtures.ALL], _entry_code)
    old = sys.getprofile()
    try:
        result = _entry(guard, fn, args, kwargs)
    except NotImplementedError:
        fail(f"`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code, run its "
             "cell, then this test", kind="not implemented")
    except GradingError:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's error, explained
        if guard.hits:
            fail(delegation_message(_pretty(guard.hits[0]), f"`{name}`", allowed_text), kind="not allowed")
        _raise_student(describe_local(exc), name, advice)
    finally:
        sys.setprofile(old)
    if guard.hits:
        fail(delegation_message(_pretty(guard.hits[0]), f"`{name}`", allowed_text), kind="not allowed")
    return result


def _entry(guard: _Guard, fn: Any, args: tuple, kwargs: dict) -> Any:
    sys.setprofile(guard)
    try:
        return fn(*args, **kwargs)
    finally:
        sys.setprofile(None)


_entry_code = _entry.__code__


def _pretty(hit: str) -> str:
    if hit in _LEARNING:
        return f"the machine-learning library `{hit}`"
    if hit in _AUTODIFF:
        return f"the automatic-differentiation library `{hit}`"
    return f"nnlib's own `{hit.removesuffix('.__init__')}`"


def describe_local(exc: BaseException) -> StudentError:
    """Describe an exception raised in the learner's code (the innermost frame that is not library code)."""
    tb = exc.__traceback__
    line, lineno = "", None
    import linecache

    while tb is not None:
        f = tb.tb_frame.f_code.co_filename
        if not (f.startswith(_NNLIB_DIR) or "site-packages" in f or f.startswith(sys.prefix)):
            lineno = tb.tb_lineno
            line = linecache.getline(f, lineno).strip()
        tb = tb.tb_next
    return StudentError(type(exc).__name__, str(exc), line, lineno)


_MATMUL = re.compile(r"matmul: Input operand (\d) has a mismatch in its core dimension (\d), with gufunc signature "
                     r".*?\(size (\d+) is different from (\d+)\)")
_BCAST = re.compile(r"operands could not be broadcast together with shapes ([^ ]+) ([^ ]+)")
_DOT = re.compile(r"shapes \(([^)]*)\) and \(([^)]*)\) not aligned")


_TRUTH = "truth value of an array with more than one element is ambiguous"
_LISTOPS = re.compile(r"unsupported operand type\(s\) for [^:]+: '(list|tuple|NoneType)' and|"
                      r"and '(list|tuple|NoneType)'$|can't multiply sequence by non-int")


def explain(type_name: str, message: str) -> str:
    """What a NumPy (or Python) error means, in words."""
    m = _MATMUL.search(message)
    if m:
        return (f"a matrix product A @ B needs as many columns in A as rows in B; here A has {m.group(4)} "
                f"columns and B has {m.group(3)} rows — check the order of the factors and whether one of "
                f"them should be transposed")
    m = _DOT.search(message)
    if m:
        return (f"np.dot of shapes ({m.group(1)}) and ({m.group(2)}): the inner dimensions must agree — check "
                f"the order of the factors and whether one of them should be transposed")
    m = _BCAST.search(message)
    if m:
        return (f"arrays of shapes {m.group(1)} and {m.group(2)} were combined elementwise (+, −, *) but their "
                f"shapes do not fit together — check the shape of each operand (is a matrix product @ meant, "
                f"or is one of them transposed or missing an entry?)")
    if _TRUTH in message or "arrays can be converted to Python scalars" in message:
        return ("an array was used where Python needs one True/False (if, and, or, int() or float() of an "
                "array with several entries): compare elementwise (z > 0) and convert with .astype(float), "
                "or use np.where")
    if "Cannot cast ufunc" in message and "output from dtype('float64')" in message:
        return ("an integer array was changed in place with floats (e.g. += on an array made from integers): "
                "create float arrays (np.zeros(shape), np.array(..., dtype=float))")
    if _LISTOPS.search(message):
        return ("a Python list (or None) was used in arithmetic where a NumPy array is needed: convert it with "
                "np.array(...), or check that every function returns its result")
    m = re.search(r"cannot import name '(\w+)' from '(nnlib[\w.]*)'", message)
    if m:
        return (f"`{m.group(1)}` is not among what {m.group(2)} gives answers while they are graded, which this "
                f"exercise does not allow: write that computation yourself with NumPy and what the exercise "
                f"provides")
    m = re.search(r"module '(nnlib[\w.]*)' has no attribute '(\w+)'", message)
    if m:
        return (f"nnlib's `{m.group(2)}` is not available to answers while they are graded, which this exercise "
                f"does not allow: write that computation yourself with NumPy and what the exercise provides")
    if type_name == "IndexError":
        return ("an index went past the end of an array: check the loop ranges (range(n) runs 0 … n − 1) "
                "and which axis is which")
    if type_name == "ZeroDivisionError":
        return "a division by zero"
    if type_name == "OverflowError":
        return "a number grew beyond what a float can hold (an overflow)"
    if type_name == "NameError":
        return f"{message} — define it in your cell (or run the cell that defines it)"
    if type_name == "MemoryError":
        return "the computation ran out of memory"
    if type_name in ("RecursionError",):
        return "infinite recursion"
    if type_name == "TimeoutError":
        return message
    return ""


def _raise_student(exc: StudentError, name: str, advice: Callable | None = None) -> None:
    if exc.type_name == "NotImplementedError":
        fail(f"`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code, run its "
             "cell, then this test", kind="not implemented")
    if exc.type_name in ("ImportError", "ModuleNotFoundError", "AttributeError") and NOT_ALLOWED in exc.message:
        fail(exc.message.replace(NOT_ALLOWED, "").strip().replace("{asks}", f"`{name}`"), kind="not allowed")
    missing = re.match(r"No module named '([A-Za-z0-9_]+)", exc.message or "")
    if exc.type_name in ("ImportError", "ModuleNotFoundError") and missing and \
            missing.group(1) in _AUTODIFF + _LEARNING:
        # the same verdict whether or not the library happens to be installed
        fail(delegation_message(_pretty(missing.group(1)), f"`{name}`", "NumPy and what the exercise provides"),
             kind="not allowed")
    where = f" at `{exc.line}`" if exc.line else ""
    if exc.lineno and exc.line:
        where += f" (line {exc.lineno})"
    meaning = (advice(exc) if advice is not None else None) or explain(exc.type_name, exc.message)
    kind = "timeout" if exc.type_name == "TimeoutError" else "error"
    if meaning:  # the diagnosis first, the raw error after it
        fail(f"`{name}` stopped with an error{where}: {meaning}.\n  (Python said {exc.type_name}: {exc.message})",
             kind=kind)
    fail(f"`{name}` raised {exc.type_name}{where}: {exc.message}", kind=kind)


# ---------------------------------------------------------------- comparing


def host(a: Any) -> np.ndarray:
    from nnlib import backend as B

    return np.asarray(B.to_host(a), dtype=np.float64)


def close(a: Any, b: Any, tol: float = 1e-7) -> bool:
    try:
        a, b = host(a), host(b)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and G.rel_error(a, b) < tol


def judge(cand: Any, ref: Any, name: str, case: str, show: bool = True, batch_size: int | None = None,
          suspects: Mapping[str, Any] | None = None, custom: Mapping[str, Any] | None = None,
          tol: float | None = None, first: Mapping[str, Any] | None = None, gradient: bool = True) -> G.Diagnosis:
    """Compare ``cand`` with ``ref``; on a mismatch raise the most specific message.

    ``first``: {message: wrong array} tried before gradcheck.diagnose (exercise-specific mistakes whose
    generic diagnosis would be misleading); ``custom``: tried when diagnose finds no named mistake.
    ``gradient=False``: ``cand`` is not a gradient — no gradient vocabulary in the fallback message.
    """
    t = tol or 1e-7
    if close(cand, ref, t):
        return G.diagnose(cand, ref, name, tol=tol)
    for table in (first or {}),:
        for msg, wrong in table.items():
            if wrong is not None and close(cand, wrong, t) and not close(wrong, ref, t):
                fail(f"{name} {msg}.", case)
    if not gradient:
        try:
            c = host(cand)
        except (TypeError, ValueError):
            fail(f"{name} should be an array of numbers, got {type(cand).__name__}", case, kind="type")
        r = host(ref)
        if c.shape != r.shape:
            fail(f"{name} has shape {c.shape}, expected {r.shape}", case, kind="type")
        if not np.all(np.isfinite(c)):
            fail(f"{name} contains NaN or inf", case)
        if show and c.size <= 8:
            fail(f"{name} is wrong: got {vals(c, True)}, expected {vals(r, True)}", case)
        diff = np.abs(c - r)
        if show:
            idx = np.unravel_index(int(np.argmax(diff)), c.shape)
            fail(f"{name} is wrong: {int(np.sum(diff > 1e-9 * (1 + np.abs(r))))} of {c.size} entries differ; the "
                 f"largest difference is at index {tuple(int(i) for i in idx)}: yours {c[idx]:.6g}, expected "
                 f"{r[idx]:.6g}", case)
        fail(f"{name} is wrong (largest difference {float(np.max(diff)):.3g})", case)
    d = G.diagnose(cand, ref, name, batch_size=batch_size, suspects=suspects, show_values=show, tol=tol)
    if d.ok:
        return d
    if d.kind in ("wrong", "scale", "shape", "zeros") and custom:
        for msg, wrong in custom.items():
            if wrong is not None and close(cand, wrong, t) and not close(wrong, ref, t):
                fail(f"{name} {msg}.", case)
    fail(str(d), case, kind=d.kind)
    return d
