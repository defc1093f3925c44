"""Plumbing shared by every exercise check: calling the learner's function, comparing, and the message.

A check calls the learner's code only through :func:`invoke`.  The same check runs in two places:

* **in the notebook** (self-check, self-study): ``fn`` is the learner's own function.  ``invoke`` calls it
  under :class:`~nnlib.grading._guard.Guard`, which swaps nnlib's own implementations of what the exercise asks
  for, and the automatic-differentiation and machine-learning libraries, for refusing stand-ins during the call;
* **in the trusted grader** (``nnlib_grader``): ``fn`` is a :class:`Remote` proxy; the learner's code
  runs in a sandboxed worker where those implementations do not exist at all, and only plain data comes
  back.  The scores that count are computed here, never in the learner's interpreter.

Either way a failure is a :class:`GradingError` whose text is the message the learner reads first.
Messages are plain Unicode (no LaTeX) wrapped to :data:`WIDTH` columns so they fit nbgrader's Validate
dialog, ``nbgrader validate`` and the feedback page.
"""

from __future__ import annotations

import re
import sys
import textwrap
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from nnlib import gradcheck as G
from nnlib.grading._guard import AUTODIFF as _AUTODIFF
from nnlib.grading._guard import LEARNING as _LEARNING
from nnlib.grading._guard import NNLIB_DIR as _NNLIB_DIR
from nnlib.grading._guard import Guard

WIDTH = 88
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
                 cell: str | None = None, func: str | None = None):
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.message, self.line, self.lineno, self.cell = type_name, message, line, lineno, cell
        self.func = func  # the learner's function the error was raised in (a helper, maybe), when known


class Remote:
    """Stands for a learner's object that lives in the sandboxed worker (see nnlib_grader.runner).

    Calling it sends the arguments (arrays, numbers, networks, named fixture functions) to the worker and
    returns plain data.  Arrays passed in are updated afterwards with what the learner's code left in them,
    so a check sees in-place changes exactly as it would in the notebook.
    """

    def __init__(self, name: str, call: Callable[..., Any], value: Any = None, is_callable: bool = True,
                 sources: Sequence[str] = (), run: Callable[[str], Any] | None = None):
        self.name, self._call, self.value, self.is_callable = name, call, value, is_callable
        self.sources = tuple(sources)  # the submitted answer cells' text: read (parsed), never run, here
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
            if exc.func is None:
                from nnlib.grading.rules import owner

                exc.func = owner(fn.sources, exc.line)
            _raise_student(exc, name, advice)
    if not callable(fn):
        fail(f"`{name}` should be a function, got {type(fn).__name__}", kind="type")
    from nnlib.grading import fixtures, provided
    from nnlib.grading.rules import undeclared_imports

    # the notebook says what the grader's worker will: that package is not offered (the libraries that would do
    # the exercise are the guard's: it names them as delegation)
    outside = [p for p in undeclared_imports(fn) if p not in _AUTODIFF + _LEARNING]
    if outside:
        fail(missing_package(outside[0], name), kind="error")

    def refuse(what: str) -> None:
        fail(delegation_message(_pretty(what), f"`{name}`", allowed_text), kind="not allowed")

    guard = Guard([*allowed, *provided.ALL, *fixtures.ALL], refuse)
    try:
        result = guard.call(fn, args, kwargs)  # nnlib's functions and the libraries refuse fn until it returns
    except NotImplementedError:
        fail(f"`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code, run its "
             "cell, then this test", kind="not implemented")
    except GradingError:
        if guard.hits:  # the first refusal names what was used, even if the learner's code caught it
            refuse(guard.hits[0])
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's error, explained
        if guard.hits:
            refuse(guard.hits[0])
        _raise_student(describe_local(exc), name, advice)
    if guard.hits:
        refuse(guard.hits[0])
    return result


def _pretty(hit: str) -> str:
    if hit in _LEARNING:
        return f"the machine-learning library `{hit}`"
    if hit in _AUTODIFF:
        return f"the automatic-differentiation library `{hit}`"
    return f"nnlib's own `{hit.removesuffix('.__init__')}`"


def describe_local(exc: BaseException) -> StudentError:
    """Describe an exception raised in the learner's code (the innermost frame that is not library code)."""
    tb = exc.__traceback__
    line, lineno, func = "", None, None
    import linecache

    while tb is not None:
        f = tb.tb_frame.f_code.co_filename
        if not (f.startswith(_NNLIB_DIR) or "site-packages" in f or f.startswith(sys.prefix)):
            lineno = tb.tb_lineno
            line = linecache.getline(f, lineno).strip()
            func = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return StudentError(type(exc).__name__, str(exc), line, lineno, func=func)


# Every expression below meets learner-controlled text (an exception's message): bounded quantifiers only, so each
# start position costs a bounded number of steps, and explain() reads at most EXPLAIN_CHARS characters.
EXPLAIN_CHARS = 2000
_MATMUL = re.compile(r"matmul: Input operand (\d) has a mismatch in its core dimension (\d), with gufunc signature "
                     r"[^\n]{0,120}?\(size (\d{1,12}) is different from (\d{1,12})\)")
_BCAST = re.compile(r"operands could not be broadcast together with shapes ([^ ]{1,120}) ([^ ]{1,120})")
_DOT = re.compile(r"shapes \(([^)]{0,120})\) and \(([^)]{0,120})\) not aligned")
_IMPORT = re.compile(r"cannot import name '(\w{1,100})' from '(nnlib[\w.]{0,100})'")
_NO_ATTR = re.compile(r"module '(nnlib[\w.]{0,100})' has no attribute '(\w{1,100})'")


_TRUTH = "truth value of an array with more than one element is ambiguous"
_LISTOPS = re.compile(r"unsupported operand type\(s\) for [^:]{1,20}: '(list|tuple|NoneType)' and|"
                      r"and '(list|tuple|NoneType)'$|can't multiply sequence by non-int")


def explain(type_name: str, message: str) -> str:
    """What a NumPy (or Python) error means, in words (reading at most EXPLAIN_CHARS of ``message``)."""
    type_name, message = str(type_name)[:100], str(message)[:EXPLAIN_CHARS]
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
    m = _IMPORT.search(message)
    if m:
        return (f"`{m.group(1)}` is not among what {m.group(2)} gives answers while they are graded, which this "
                f"exercise does not allow: write that computation yourself with NumPy and what the exercise "
                f"provides")
    m = _NO_ATTR.search(message)
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


_INSTEAD = {"scipy": "e.g. scipy.special.logsumexp(z) is m + np.log(np.sum(np.exp(z − m))) with m = z.max(), and "
                      "expit(z) is 1/(1 + np.exp(−z))",
            "math": "np.exp, np.log, np.tanh work on whole arrays"}


def missing_package(package: str, name: str) -> str:
    """The message for an import of a package the grader's worker does not offer (the learner may have it)."""
    instead = _INSTEAD.get(package, "")
    return (f"`{name}` imports `{package}`, which is not available while answers are graded (your own Python may "
            f"have it; the grader offers NumPy and what the exercise provides): write that part with NumPy"
            + (f" — {instead}" if instead else "") + ".")


def _raise_student(exc: StudentError, name: str, advice: Callable | None = None) -> None:
    if exc.type_name == "NotImplementedError":
        fail(f"`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code, run its "
             "cell, then this test", kind="not implemented")
    if exc.type_name in ("ImportError", "ModuleNotFoundError", "AttributeError") and NOT_ALLOWED in exc.message:
        fail(exc.message.replace(NOT_ALLOWED, "").strip().replace("{asks}", f"`{name}`"), kind="not allowed")
    missing = re.match(r"No module named '([A-Za-z0-9_]{1,100})", (exc.message or "")[:EXPLAIN_CHARS])
    if exc.type_name in ("ImportError", "ModuleNotFoundError") and missing and \
            missing.group(1) in _AUTODIFF + _LEARNING:
        # the same verdict whether or not the library happens to be installed
        fail(delegation_message(_pretty(missing.group(1)), f"`{name}`", "NumPy and what the exercise provides"),
             kind="not allowed")
    if exc.type_name in ("ImportError", "ModuleNotFoundError") and missing and missing.group(1) != "nnlib":
        fail(missing_package(missing.group(1), name), kind="error")
    where = f" at `{exc.line[:300]}`" if exc.line else ""
    if exc.lineno and exc.line:
        where += f" (line {exc.lineno})"
    helper = exc.func if exc.func and len(exc.func) <= 80 and exc.func.isidentifier() \
        and exc.func not in (name, "<module>", "<lambda>") \
        and not exc.func.startswith("<") else None
    if helper:  # the error is in a function of the learner's that this one calls: blame it, not the caller
        where = f" inside your `{helper}`{where}"
        advice = None
    meaning = (advice(exc) if advice is not None else None) or explain(exc.type_name, exc.message)
    said = (exc.message or "")[:EXPLAIN_CHARS] + (" …" if len(exc.message or "") > EXPLAIN_CHARS else "")
    kind = "timeout" if exc.type_name == "TimeoutError" else "error"
    if meaning:  # the diagnosis first, the raw error after it
        fail(f"`{name}` stopped with an error{where}: {meaning}.\n  (Python said {exc.type_name}: {said})", kind=kind)
    fail(f"`{name}` raised {exc.type_name}{where}: {said}", kind=kind)


# ---------------------------------------------------------------- comparing


def host(a: Any) -> np.ndarray:
    from nnlib import backend as B

    return np.asarray(B.to_host(a), dtype=np.float64)


def close(a: Any, b: Any, tol: float = 1e-7) -> bool:
    try:
        single = getattr(a, "dtype", None) == np.float32
        a, b = host(a), host(b)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    if single and tol >= 1e-4:  # float32 keeps ~7 digits of the largest value: 1 − σ(z) near the tails loses them
        return bool(np.allclose(a, b, rtol=tol, atol=1e-6 * max(1.0, float(np.max(np.abs(b), initial=0.0)))))
    return G.rel_error(a, b) < tol


def judge(cand: Any, ref: Any, name: str, case: str, show: bool = True, batch_size: int | None = None,
          suspects: Mapping[str, Any] | None = None, custom: Mapping[str, Any] | None = None,
          tol: float | None = None, first: Mapping[str, Any] | None = None, gradient: bool = True,
          constants: Mapping[str, float] | None = None, dims: Mapping[str, int] | None = None,
          law: str = "") -> G.Diagnosis:
    """Compare ``cand`` with ``ref``; on a mismatch raise the most specific message.

    ``first``: {message: wrong array} tried before anything else (exercise-specific mistakes, hyperparameters
    confused): every one that matches is named.  ``custom``: tried when gradcheck.diagnose finds no named
    mistake.  Then the families of :mod:`nnlib.grading.families` (``constants``: {the exercise's words for a
    constant: its value} for the scale family).  ``gradient=False``: ``cand`` is not a gradient — no gradient
    vocabulary in the fallback message.  ``tol``: fixed by the prompt, else it follows the learner's dtype.
    ``dims``: {words: size} of the case's dimensions — a wrong shape is read against them first
    (:func:`nnlib.grading.shapes.explain`, ``law`` the formula its message recalls).
    """
    from nnlib.grading import families as F

    t = F.tolerance(cand, tol)
    if close(cand, ref, t):
        return G.diagnose(cand, ref, name, tol=t)
    if dims:
        from nnlib.grading import shapes

        try:
            got_shape = host(cand).shape
        except (TypeError, ValueError):
            got_shape = None
        m = next((v for k, v in dims.items() if k.startswith("m")), batch_size)
        same = got_shape is not None and host(cand).size == np.size(ref) and \
            close(host(cand).reshape(np.shape(ref)), ref, t)
        words = shapes.explain(got_shape, np.shape(ref), dims, law=law, m=m, same_values=same) \
            if got_shape is not None and got_shape != np.shape(ref) else None
        if words:
            fail(f"{name} {words}.", case, kind="shape")
    named = F.explain(cand, ref, variants=first, tol=t)
    if named and first and named[0] in first:
        fail(F.sentence(name, [n for n in named if n in first]), case)
    fam = F.explain(cand, ref, constants=constants, tol=t)
    if not gradient:
        if fam:
            fail(F.sentence(name, fam), case)
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
            fail(f"{name} is wrong: {F.differ(np.asarray(G.B.to_host(cand)), r)}", case)
        diff = np.abs(c - r)
        if show:
            idx = np.unravel_index(int(np.argmax(diff)), c.shape)
            fail(f"{name} is wrong: {int(np.sum(diff > 1e-9 * (1 + np.abs(r))))} of {c.size} entries differ; the "
                 f"largest difference is at index {tuple(int(i) for i in idx)}: yours {c[idx]:.6g}, expected "
                 f"{r[idx]:.6g}", case)
        fail(f"{name} is wrong (largest difference {float(np.max(diff)):.3g})", case)
    d = G.diagnose(cand, ref, name, batch_size=batch_size, suspects=suspects, show_values=show, tol=t)
    if d.ok:
        return d
    if d.kind in ("wrong", "scale", "shape", "zeros") and custom:
        hits = F.explain(cand, ref, variants=custom, tol=t)
        if hits and hits[0] in custom:
            fail(F.sentence(name, [h for h in hits if h in custom]), case, kind=d.kind)
    # gradcheck's transposed / reshape words speak of w^l and biases: for any other array the family's words
    kinds = ("wrong", "scale", "shape", "not_array") + (("transposed", "reshape") if batch_size is None else ())
    if d.kind in kinds and fam and (d.kind != "scale" or constants):
        fail(F.sentence(name, fam), case, kind=d.kind)
    fail(str(d), case, kind=d.kind)
    return d
