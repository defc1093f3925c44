"""Assignment 2 — XOR: weights for AND/OR/NAND perceptrons and a two-layer network of step units.

The answers are numbers, not functions; the checks read them (in the grader, as plain data sent back by
the sandboxed worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nnlib.grading._core import GradingError, fail, ok, plain_value, say, wrap
from nnlib.grading.a01_perceptron import X4, step_predict

GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "NOR": [1, 0, 0, 0], "XOR": [0, 1, 1, 0],
         "XNOR": [1, 0, 0, 1]}
ALLOWED: list = []
ALLOWED_TEXT = "NumPy and the step function defined for you"


def _other_gate(out: np.ndarray, target_name: str) -> str:
    """What a wrong truth table is, in words ("" if nothing simple)."""
    for other, table in GATES.items():
        if other != target_name and np.array_equal(out, np.array(table, dtype=float)):
            return f" — these weights compute {other}"
    if np.all(out == 1):
        return " — the output is 1 for every input (z > 0 at every corner: check the sign of the bias w_0)"
    if np.all(out == 0):
        return " — the output is 0 for every input (z > 0 at no corner)"
    return ""


def _inputs(nudges: Sequence | None) -> list[np.ndarray]:
    if not nudges:
        return [X4]
    return [X4 + np.asarray(s, dtype=np.float64) for s in nudges]


NUDGE = 0.1  # what the hidden tests move the inputs by (the prompt says so)


def _near(w0: float, w: np.ndarray, X: np.ndarray = X4) -> list[str]:
    """Corners within the hidden tests' nudge of the line w0 + w·x = 0 (a nudge of ±0.1 can flip them)."""
    z = w0 + X @ w
    reach = NUDGE * float(np.abs(w).sum())
    return [f"{int(a)}{int(b)} (z = {zz:.3g})" for (a, b), zz in zip(X, z) if abs(zz) <= reach]


def _warn_margin(what: str, near: list[str]) -> None:
    if near:
        say(wrap(f"⚠ {what} lies on or within {NUDGE} of a decision boundary at {', '.join(near)}: the hidden tests "
                 f"nudge the inputs by ±{NUDGE}, which can flip it — move the line away from the corners"))


def check_gate(w: Any, gate: str, nudges: Sequence | None = None) -> None:
    """Perceptron weights w = (w_0, w_1, w_2) that compute a two-input gate with y = step(w_0 + w_1 x_1 + w_2 x_2).

    ``nudges``: offsets added to the four corners (e.g. ±0.1): no input may lie on the decision boundary.
    """
    gate = gate.upper()
    target = np.array(GATES[gate], dtype=float)
    w = plain_value(w)
    try:
        wv = np.asarray(w, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise GradingError(f"the {gate} weights should be 3 numbers (w_0, w_1, w_2), got {w!r}"[:300]) from None
    if wv.size != 3:
        raise GradingError(f"the {gate} weights should be 3 numbers (w_0 = bias, w_1, w_2), got {wv.size}")
    if not np.all(np.isfinite(wv)):
        raise GradingError(f"the {gate} weights contain NaN or inf")
    for X in _inputs(nudges):
        out = step_predict(wv, X)
        if not np.array_equal(out, target):
            if nudges:
                fail(f"the {gate} perceptron fails when the inputs are moved slightly off the corners: an input lies "
                     "on or next to the decision boundary — move the line w_0 + w_1 x_1 + w_2 x_2 = 0 away from "
                     "the four corners", f"{gate} with nudged inputs", kind="boundary")
            rows = ", ".join(f"{int(a)}{int(b)}→{int(o)}" for (a, b), o in zip(X, out))
            z = wv[0] + X @ wv[1:]
            hint = _other_gate(out, gate)
            if np.array_equal(step_predict(np.roll(wv, 1), X), target):
                hint = " — your numbers work with the bias last: here w = (w_0, w_1, w_2), the bias w_0 first"
            elif np.array_equal(step_predict(-wv, X), target):
                hint += f"; flipping the signs of all three weights gives {gate}"
            on = [f"{int(a)}{int(b)}" for (a, b), zz in zip(X, z) if zz == 0]
            if on:
                hint += (f"; the input {on[0]} lies exactly on the decision boundary (z = 0), where the step "
                         "gives 0 — move the line away from the corners")
            fail(f"the {gate} perceptron computes {rows}; {gate} is "
                 + ", ".join(f"{int(a)}{int(b)}→{int(t)}" for (a, b), t in zip(X, target))
                 + f" (y = 1 only where w_0 + w_1 x_1 + w_2 x_2 > 0){hint}", gate)
    ok(f"the {gate} weights compute {gate}" + (" (also with nudged inputs)" if nudges else ""))
    if not nudges:
        _warn_margin(f"the {gate} perceptron's input", _near(wv[0], wv[1:]))


def check_xor_network(W1: Any, b1: Any, W2: Any, b2: Any, nudges: Sequence | None = None) -> None:
    """A 2-2-1 network of step units: h = step(W1 x + b1), y = step(W2 · h + b2) computes XOR."""
    W1, b1, W2, b2 = (plain_value(v) for v in (W1, b1, W2, b2))
    try:
        W1a = np.asarray(W1, dtype=np.float64)
        b1a = np.asarray(b1, dtype=np.float64).reshape(-1)
        W2a = np.asarray(W2, dtype=np.float64).reshape(-1)
        b2v = np.asarray(b2, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise GradingError("W1, b1, W2, b2 should be numbers or arrays: W1 (2, 2), b1 (2,), W2 (2,), "
                           "b2 a number") from None
    if W1a.shape != (2, 2) or b1a.shape != (2,) or W2a.shape != (2,) or b2v.size != 1:
        raise GradingError(wrap(f"expected W1 (2, 2), b1 (2,), W2 (2,) and b2 a number; got W1 {W1a.shape}, "
                                f"b1 {b1a.shape}, W2 {W2a.shape}, b2 with {b2v.size} values (row j of W1 holds "
                                "the two input weights of hidden unit j; its bias goes into b1[j])"))
    b2a = float(b2v[0])
    target = np.array(GATES["XOR"], dtype=float)
    for X in _inputs(nudges):
        H = (X @ W1a.T + b1a > 0).astype(float)
        out = (H @ W2a + b2a > 0).astype(float)
        if not np.array_equal(out, target):
            if nudges:
                fail("the XOR network fails when the inputs are moved slightly off the corners: an input lies on or "
                     "next to a decision boundary of a hidden unit, or a hidden pattern on the output unit's "
                     "boundary", "XOR with nudged inputs", kind="boundary")
            rows = ", ".join(f"{int(a)}{int(b)}→{int(o)}" for (a, b), o in zip(X, out))
            hid = ", ".join(f"{int(a)}{int(b)}→({int(h[0])},{int(h[1])})" for (a, b), h in zip(X, H))
            transposed = (X @ W1a + b1a > 0).astype(float)
            hint = ""
            if np.array_equal((transposed @ W2a + b2a > 0).astype(float), target):
                hint = (" — your weights work if W1's columns are the hidden units: here row j of W1 holds the "
                        "weights of hidden unit j (h = step(W1 x + b1))")
            if not hint:
                hint = _other_gate(out, "XOR").replace("these weights compute", "your network computes")
            fail(f"the network computes {rows} (hidden units {hid}); XOR is 00→0, 01→1, 10→1, 11→0 — "
                 f"e.g. hidden units OR and NAND, output AND{hint}", "XOR")
        on = [f"({int(h[0])},{int(h[1])})" for h in H if h @ W2a + b2a == 0]
        if on:
            fail(f"the output unit has the hidden pattern {on[0]} exactly on its decision boundary (W2 · h + b2 = 0), "
                 "which the prompt rules out: no input may lie on a boundary — move b2 so that W2 · h + b2 is "
                 "clearly positive or negative for every hidden pattern", "XOR")
    ok("the network computes XOR" + (" (also with nudged inputs)" if nudges else ""))
    if not nudges:
        for j in range(2):
            _warn_margin(f"an input of hidden unit {j}", _near(b1a[j], W1a[j]))
