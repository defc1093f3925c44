"""Diagnosis by families: which systematic transformation of the reference explains a wrong answer.

A check knows the reference value for a case and the learner's value.  Before it says "does not match", it asks
:func:`explain`, which generates suspects *from the reference* — not from a list of mistakes somebody saw:

* **dtype**: integers where the result has fractions (floats written into an integer array are truncated);
* **broadcast**: an (n, n) table where an (n,) or (n, 1) result was expected ((n,) + (n, 1) broadcasts);
* **shape**: the same numbers in another shape (transposed, flattened, a kept or dropped axis);
* **reduced**: one number, or an axis summed / averaged away, where an array was expected;
* **scale**: the reference times a constant of the exercise (2, ½, m, 1/m, n_out, η, 1 − β …: ``constants``
  names each one in the exercise's words), and its negative;
* **sign**: −reference;
* **shift**: a sequence one step early or late (a path, a time step off by one);
* **variants**: the reference recomputed with its hyperparameters confused (t − 1, β₁ ↔ β₂, ε inside the
  square root …), given by the check as {words: value}: every one that matches is named.

Several families may explain the same numbers (a case with m = n_out cannot tell "divided by m" from "divided by
n_out"): :func:`explain` returns every match, and the message names them all.  The checks therefore start with a
case whose dimensions all differ, where no two suspects coincide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from nnlib import gradcheck as G

BUILTIN = {"2": 2.0, "½": 0.5}

# The families' messages that propose a fix (tests/test_shapes.py follows each one's words on a case that produced
# it and checks the fixed answer passes; a key without such a case fails that test).
ADVICE = {
    "integers": "holds integers (dtype {dtype}) where the result has fractions: the fractions were {how} away — "
                "floats written into an integer array are truncated (an array made from integers, or np.zeros_like "
                "of one, stays integer); create it as floats (np.zeros(shape) or dtype=float)",
    "truncated": "has its fractions truncated (every value rounded towards 0): the result passed through an integer "
                 "array or int() — keep it float",
    "broadcast": "has shape {got} where {exp} was expected: a 1-D array of shape ({n},) was combined with a column "
                 "of shape ({n}, 1) (or the other way round), which NumPy broadcasts to a {n}×{n} table — make both "
                 "operands the same shape (both 1-D, or both columns: reshape or x[:, None])",
    "transposed": "is transposed: it has shape {got}, expected {exp}, and its transpose is correct (transpose it "
                  "back with .T, or swap the factors of the product that made it)",
    "reshape": "has the right numbers in the wrong shape: {got}, expected {exp} (reshape, or keep the axis: "
               "keepdims=True / a column x[:, None])",
    "one_number": "is one number where an array of shape {exp} was expected: a sum or mean over every axis (pass "
                  "axis=… to keep the others), or a loop that keeps only its last value",
    "axis_kept": "has shape {got}, expected {exp}: it keeps axis {axis} that should be {word} away (its {noun} over "
                 "axis {axis} is correct: np.{noun}(…, axis={axis}))",
}
_INVERSE = {"2": "½", "½": "2"}


def _arr(a: Any) -> np.ndarray | None:
    try:
        from nnlib import backend as B

        out = np.asarray(B.to_host(a))
        return out if out.dtype.kind in "biuf" else None
    except (TypeError, ValueError):
        return None


def _close(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    if a.shape != b.shape or not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        return False
    with np.errstate(all="ignore"):
        return bool(G.rel_error(a.astype(np.float64), b.astype(np.float64)) < tol)


def _shape(s: tuple) -> str:
    return "(" + ", ".join(str(int(d)) for d in s) + ("," if len(s) == 1 else "") + ")"


def _fmt(c: float) -> str:
    return f"{c:.4g}"


def tolerance(cand: Any, tol: float | None = None) -> float:
    """The comparison tolerance: ``tol`` when the prompt fixes one, else what the learner's dtype can hold."""
    if tol is not None:
        return tol
    dt = getattr(cand, "dtype", None)
    if dt is None and isinstance(cand, (list, tuple)) and cand:
        dt = getattr(cand[0], "dtype", None)
    return 1e-4 if dt is not None and np.dtype(dt).itemsize <= 4 and np.dtype(dt).kind == "f" else 1e-7


def explain(cand: Any, ref: Any, constants: Mapping[str, float] | None = None,
            variants: Mapping[str, Any] | None = None, tol: float = 1e-7) -> list[str]:
    """Every family that turns ``ref`` into ``cand``, each as the words that follow the value's name.

    ``constants``: {name in the exercise's words: value} for the scale family (besides 2 and ½);
    ``variants``: {words: the value that mistake gives}, computed by the check from the reference.
    """
    c, r = _arr(cand), _arr(ref)
    if c is None or r is None:
        return []
    r = r.astype(np.float64)
    tol = max(tol, 1e-7)
    found: list[str] = []
    found += _variants(c, r, variants or {}, tol)
    found += _dtype(c, r)
    if found:
        return found
    cf = c.astype(np.float64)
    if cf.shape != r.shape:
        return _shapes(cf, r, tol)
    found += _scales(cf, r, constants or {}, tol)
    found += _shift(cf, r, tol)
    return found


def _variants(c: np.ndarray, r: np.ndarray, variants: Mapping[str, Any], tol: float) -> list[str]:
    out = []
    cf = c.astype(np.float64)
    for words, value in variants.items():
        v = _arr(value) if value is not None else None
        if v is not None and _close(cf, v, tol) and not _close(v, r, tol):
            out.append(words)
    return out


def _dtype(c: np.ndarray, r: np.ndarray) -> list[str]:
    if c.dtype.kind in "biu" and c.shape == r.shape and not np.array_equal(r, np.round(r)):
        how = "truncated" if np.array_equal(c, np.trunc(r)) else "rounded" if np.array_equal(c, np.round(r)) \
            else "cut"
        return [ADVICE["integers"].format(dtype=c.dtype, how=how)]
    if c.dtype.kind == "f" and c.shape == r.shape and not np.array_equal(r, np.trunc(r)) and \
            np.array_equal(c, np.trunc(r)):
        return [ADVICE["truncated"]]
    return []


def _shapes(c: np.ndarray, r: np.ndarray, tol: float) -> list[str]:
    got, exp = _shape(c.shape), _shape(r.shape)
    n = r.size
    column = r.ndim == 1 or (r.ndim == 2 and 1 in r.shape)
    if column and n > 1 and c.shape == (n, n):
        return [ADVICE["broadcast"].format(got=got, exp=exp, n=n)]
    if c.ndim == 2 and c.shape == r.T.shape and _close(c.T, r, tol):
        return [ADVICE["transposed"].format(got=got, exp=exp)]
    if c.size == r.size and _close(c.reshape(r.shape), r, tol):
        return [ADVICE["reshape"].format(got=got, exp=exp)]
    if c.size == 1 and r.size > 1:
        return [ADVICE["one_number"].format(exp=exp)]
    for axis in range(c.ndim):
        if c.shape[:axis] + c.shape[axis + 1:] == r.shape or \
                (r.ndim == c.ndim and r.shape[axis] == 1 and c.shape[:axis] + c.shape[axis + 1:] ==
                 r.shape[:axis] + r.shape[axis + 1:]):
            for op, word, noun in ((np.sum, "summed", "sum"), (np.mean, "averaged", "mean")):
                if _close(op(c, axis=axis).reshape(r.shape), r, tol):
                    return [ADVICE["axis_kept"].format(got=got, exp=exp, axis=axis, word=word, noun=noun)]
    return []


def _scales(c: np.ndarray, r: np.ndarray, constants: Mapping[str, float], tol: float) -> list[str]:
    if not np.any(r) or not np.any(c):
        return []
    out = []
    if _close(c, -r, tol):
        out.append("has the opposite sign (every value is −1 × the correct one)")
    table = {**BUILTIN, **{k: float(v) for k, v in constants.items() if v not in (0, 1, -1)}}
    for words, k in table.items():
        pairs = ((k, "multiplied by"),) if words in BUILTIN else ((k, "multiplied by"), (1.0 / k, "divided by"))
        for factor, how in pairs:
            for sign in (1.0, -1.0):
                if _close(c, sign * factor * r, tol) and not _close(sign * factor * r, r, tol):
                    neg = ", and has the opposite sign" if sign < 0 else ""
                    what = f"a stray factor {words} (or a missing {_INVERSE[words]})" if words in BUILTIN else \
                        f"{how} {words} (= {_fmt(k)} here) where it should not be"
                    out.append(f"is {_fmt(sign * factor)} × the correct value: {what}{neg}")
    if not out:
        factor = float((c * r).sum() / (r * r).sum())
        if _close(c, factor * r, tol) and not _close(factor * r, r, tol):
            out.append(f"is {_fmt(factor)} × the correct value: every entry is scaled by the same factor — a "
                       f"constant multiplied in or divided out once too often (or not at all)")
    return _dedupe(out)


def _shift(c: np.ndarray, r: np.ndarray, tol: float) -> list[str]:
    if r.ndim < 1 or r.shape[0] < 3:
        return []
    if _close(c[1:], r[:-1], tol) and not _close(r[1:], r[:-1], tol):
        return ["is one step late: entry k holds what entry k − 1 should (an index or time step off by one)"]
    if _close(c[:-1], r[1:], tol) and not _close(r[1:], r[:-1], tol):
        return ["is one step early: entry k holds what entry k + 1 should (an index or time step off by one)"]
    return []


def _dedupe(items: list[str]) -> list[str]:
    seen: list[str] = []
    for i in items:
        if i not in seen:
            seen.append(i)
    return seen


def sentence(name: str, families: list[str]) -> str:
    """One message for every family that explains the numbers (several: the case cannot tell them apart)."""
    if len(families) == 1:
        return f"{name} {families[0]}."
    return f"{name} {families[0]}; the same numbers also come from: " + "; ".join(families[1:]) + "."


def differ(cand: Any, ref: Any) -> str:
    """'got … expected …' that never look identical: more digits where six agree, or the dtype that differs."""
    from nnlib.grading._core import vals

    c, r = np.asarray(cand), np.asarray(ref)
    a, b = vals(c, True), vals(r, True)
    if a == b:
        a = np.array2string(c.astype(np.float64), precision=17, separator=", ", floatmode="unique")
        b = np.array2string(r.astype(np.float64), precision=17, separator=", ", floatmode="unique")
        dt = f" (yours is {c.dtype}, which keeps about {np.finfo(c.dtype).precision} digits)" \
            if c.dtype.kind == "f" and c.dtype != r.dtype else ""
        return f"got {a}, expected {b}{dt}"
    return f"got {a}, expected {b}"


_SHAPE_ERROR = ("a matrix product A @ B needs", "were combined elementwise", "np.dot of shapes",
                "could not be broadcast", "mismatch in its core dimension")


def _shape_error(text: str) -> bool:
    text = " ".join(text.split())  # the message is wrapped
    return "stopped with an error" in text and any(s in text for s in _SHAPE_ERROR)


def through_cases(run: Callable[[Any], None], cases: Iterable[Any],
                  probes: Callable[[Any], Iterable[tuple[Any, int]]] | None = None) -> None:
    """``run(case)`` for every case; a shape error is explained by the numbers of a later case.

    The first case's dimensions all differ, so a mistake such as w^l for w^(l+1) or a missing transpose stops
    there with a shape error — the one the learner will meet on [784, 30, 10].  ``probes(case)``: probe cases
    where such shapes fit (:func:`nnlib.grading.shapes.probe`), run at once; without probes, where a later case has
    shapes that happen to fit (a square network), its numbers name the family: the message gives both.
    """
    from nnlib.grading._core import GradingError, wrap

    pending: GradingError | None = None
    for case in cases:
        try:
            run(case)
        except GradingError as exc:
            if pending is None and _shape_error(str(exc)):
                if probes is not None:
                    from nnlib.grading.shapes import probe

                    probe(run, exc, probes(case))
                pending = exc
                continue
            if pending is None:
                raise
            if _shape_error(str(exc)):
                raise pending from None
            raise GradingError(wrap(f"{pending}\n  Why: where the shapes happen to fit, the numbers show the "
                                    f"mistake — {exc}")) from None
    if pending is not None:
        raise pending
