"""The checks behind the course's exercises: nbgrader test cells and self-study call the same functions.

Every ``check_*`` function runs a learner's code on fixed cases (and, with ``hidden=True``, on other
shapes and seeds drawn from a fixed generator), compares it with nnlib's reference and with numerical
derivatives, and either prints one line starting with ✓ or raises ``GradingError`` (an
``AssertionError``) whose text names the likely mistake — the message of ``gradcheck.diagnose``
for gradients (transposed, missing σ', summed where the mean is expected, bias over the wrong axis,
wrong sign, another layer's gradient, ...).  Hidden checks never print reference values.

Self-study, without nbgrader::

    from nnlib.grading import check_backprop
    check_backprop(backprop)          # ✓ backprop looks correct ...

In a test cell, ``require("backprop")`` turns a missing definition (its cell did not run, raised,
or timed out) into a message that says so instead of a bare NameError::

    check_backprop(require("backprop"))

Checks are deterministic, headless (no widgets, no input()) and take well under a second each.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from nnlib import activations as A
from nnlib import backend as B
from nnlib import gradcheck as G
from nnlib import layers as L
from nnlib import losses

__all__ = ["GradingError", "require", "check_perceptron_predict", "check_perceptron_rule", "check_perceptron_train",
           "check_gate", "check_xor_network", "check_numerical_derivative", "check_numerical_gradient",
           "check_gd_step", "check_gradient_descent", "check_derivative", "check_backprop",
           "check_update_mini_batch", "check_sgd_epoch", "check_momentum", "check_adam",
           "check_softmax_cross_entropy", "check_conv_forward", "check_conv_backward", "check_maxpool_backward",
           "check_layer_backward"]


class GradingError(AssertionError):
    """A check failed; the text says what is wrong and, where it can, why."""


# ---------------------------------------------------------------- plumbing


def require(name: str | Sequence[str], namespace: Mapping[str, Any] | None = None) -> Any:
    """Return the object(s) called ``name`` from ``namespace`` (default: the caller's globals).

    Missing → ``GradingError`` "`name` is not defined: the cell above did not run or timed out — run it,
    then this test".
    """
    ns = namespace if namespace is not None else sys._getframe(1).f_globals
    names = [name] if isinstance(name, str) else list(name)
    found = []
    for n in names:
        if n not in ns:
            raise GradingError(f"`{n}` is not defined: the cell above did not run or timed out — run it, then this "
                               f"test (if it ran, it stopped with an error before defining `{n}`)")
        found.append(ns[n])
    return found[0] if isinstance(name, str) else tuple(found)


@contextlib.contextmanager
def _numpy() -> Iterator[None]:
    """Checks compare NumPy arrays: run nnlib's references on the NumPy backend."""
    if B.name() == "numpy":
        yield
        return
    old = B.name()
    B.use("numpy")
    try:
        yield
    finally:
        B.use(old)


def _fname(fn: Any, default: str) -> str:
    return getattr(fn, "__name__", default) if callable(fn) else default


def _call(fn: Any, fname: str, *args: Any, **kwargs: Any) -> Any:
    if not callable(fn):
        raise GradingError(f"`{fname}` should be a function, got {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise GradingError(f"`{fname}` is not implemented yet: replace `raise NotImplementedError()` with your code, "
                           "run its cell, then this test") from None


def _host(a: Any) -> np.ndarray:
    return np.asarray(B.to_host(a), dtype=np.float64)


def _close(a: Any, b: Any, tol: float = 1e-7) -> bool:
    try:
        a, b = _host(a), _host(b)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and G.rel_error(a, b) < tol


def _fail(msg: str, case: str, hidden: bool) -> None:
    where = "hidden test case" if hidden else "case"
    raise GradingError(f"{msg}\n  ({where}: {case})")


def _ok(msg: str) -> None:
    print(f"✓ {msg}")


def _vals(a: Any, hidden: bool) -> str:
    if hidden:
        return ""
    return np.array2string(np.asarray(a), precision=6, suppress_small=True, separator=", ")


def _judge(cand: Any, ref: Any, name: str, case: str, hidden: bool, batch_size: int | None = None,
           suspects: Mapping[str, Any] | None = None, custom: Mapping[str, Any] | None = None,
           tol: float | None = None) -> G.Diagnosis:
    """diagnose(), then the check's own suspects {message: wrong array} when diagnose finds no named mistake.

    Returns the diagnosis if it is ok; raises GradingError with the message otherwise.
    """
    d = G.diagnose(cand, ref, name, batch_size=batch_size, suspects=suspects, show_values=not hidden, tol=tol)
    if d.ok:
        return d
    if d.kind in ("wrong", "scale", "shape", "zeros") and custom:
        for msg, wrong in custom.items():
            if wrong is not None and _close(cand, wrong, tol or 1e-7) and not _close(wrong, ref, tol or 1e-7):
                _fail(f"{name} {msg}.", case, hidden)
    _fail(str(d), case, hidden)
    return d


def _hidden_rng(tag: str) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, tag)), 8675309])


# ---------------------------------------------------------------- lecture 1: the perceptron


def _step_predict(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    return (w[0] + X @ w[1:] > 0).astype(np.float64)


def _perceptron_cases(hidden: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    X4 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    if not hidden:
        return [(np.array([-1.5, 1.0, 1.0]), X4), (np.array([-0.5, 1.0, 1.0]), X4),
                (np.array([-1.0, 1.0, 0.0]), X4),  # z = 0 on two rows: the step must give 0 there
                (np.array([0.5, -2.0, 1.0, 3.0]), np.array([[1.0, 2.0, -1.0], [0.0, 0.0, 0.0], [-1.0, 0.5, 0.2]]))]
    rng = _hidden_rng("perceptron")
    cases = [(np.array([0.0, 0.0, 0.0]), X4), (np.array([1.0, -1.0, -1.0]), X4)]
    for d in (1, 3, 5):
        cases.append((rng.standard_normal(d + 1), rng.standard_normal((7, d))))
    return cases


def check_perceptron_predict(predict: Callable, hidden: bool = False) -> None:
    """``predict(w, X)``: outputs step(w_0 + Σ_i w_i x_i) ∈ {0, 1} for each row of X (n, d); w = (w_0, ..., w_d)."""
    fname = _fname(predict, "predict")
    for w, X in _perceptron_cases(hidden):
        case = f"{fname}(w, X) with w of shape {w.shape} and X of shape {X.shape}"
        if not hidden:
            case += f", w = {w.tolist()}"
        got = _call(predict, fname, w.copy(), X.copy())
        ref = _step_predict(w, X)
        try:
            g = np.asarray(got, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            _fail(f"{fname} should return an array of 0s and 1s, got {type(got).__name__}", case, hidden)
        if g.size != ref.size:
            _fail(f"{fname} should return one output per row of X ({ref.size}), got {g.size} values", case, hidden)
        if np.array_equal(g, ref):
            continue
        z = w[0] + X @ w[1:]
        if not np.all((g == 0) | (g == 1)):
            _fail(f"{fname} returns values other than 0 and 1: apply the step, y = 1 if z > 0 else 0", case, hidden)
        if np.array_equal(g, (z >= 0).astype(float)):
            _fail(f"{fname} outputs 1 where z = w·x = 0: the perceptron fires only if z > 0 (strictly)", case, hidden)
        if np.array_equal(g, (X @ w[1:] > 0).astype(float)):
            _fail(f"{fname} ignores the bias w_0 (the weight of the constant input x_0 = 1)", case, hidden)
        if np.array_equal(g, (w[-1] + X @ w[:-1] > 0).astype(float)):
            _fail(f"{fname} takes the bias from the last entry of w: here w_0 = w[0] is the bias", case, hidden)
        if np.array_equal(g, 1 - ref):
            _fail(f"{fname} has its outputs inverted: 1 for z > 0, 0 otherwise", case, hidden)
        bad = int(np.sum(g != ref))
        extra = "" if hidden else f": got {g.tolist()}, expected {ref.tolist()}"
        _fail(f"{fname} gives the wrong output for {bad} of {ref.size} rows{extra}", case, hidden)
    _ok(f"{fname} looks correct")


def _rule(w: np.ndarray, x: np.ndarray, d: float, eta: float) -> np.ndarray:
    xa = np.concatenate([[1.0], x])
    y = float(xa @ w > 0)
    return w + eta * (d - y) * xa


def check_perceptron_rule(update: Callable, hidden: bool = False) -> None:
    """``perceptron_update(w, x, d, eta)``: returns w + η (d − y) x with x_0 = 1 and y the current output."""
    fname = _fname(update, "perceptron_update")
    if not hidden:
        cases = [(np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0]), 1.0, 1.0),
                 (np.array([0.5, 1.0, -1.0]), np.array([1.0, 0.0]), 0.0, 0.5),
                 (np.array([0.5, 1.0, -1.0]), np.array([1.0, 0.0]), 1.0, 0.5),   # right: no change
                 (np.array([-0.2, 0.3, 0.1]), np.array([0.0, 1.0]), 1.0, 0.25)]
    else:
        rng = _hidden_rng("rule")
        cases = []
        for _ in range(8):
            d = int(rng.integers(1, 5))
            cases.append((rng.standard_normal(d + 1), rng.standard_normal(d), float(rng.integers(0, 2)),
                          float(rng.choice([0.1, 0.3, 2.0]))))
    for w, x, d, eta in cases:
        case = f"{fname}(w, x, d={d:g}, eta={eta:g})" + ("" if hidden else f" with w = {w.tolist()}, x = {x.tolist()}")
        w_in = w.copy()
        got = _call(update, fname, w_in, x.copy(), d, eta)
        ref = _rule(w, x, d, eta)
        if got is None:
            _fail(f"{fname} returned None: return the updated weight vector", case, hidden)
        xa = np.concatenate([[1.0], x])
        y = float(xa @ w > 0)
        custom = {
            "has the opposite sign: the rule is w ← w + η (d − y) x, target minus output": _rule_sign(w, xa, d, y, eta),
            "leaves the bias w_0 unchanged: it is the weight of the constant input x_0 = 1, so it changes by "
            "η (d − y) · 1 like every other weight": w + eta * (d - y) * np.concatenate([[0.0], x]),
            "changes w even though the prediction is right (d = y): the change η (d − y) x is zero then":
                w + eta * d * xa if d == y else None,
            "forgets the learning rate η": w + (d - y) * xa if eta != 1 else None,
        }
        _judge(got, ref, f"the updated w from {fname}", case, hidden, custom=custom)
    _ok(f"{fname} looks correct")


def _rule_sign(w: np.ndarray, xa: np.ndarray, d: float, y: float, eta: float) -> np.ndarray:
    return w - eta * (d - y) * xa


def check_perceptron_train(train: Callable, hidden: bool = False) -> None:
    """``train_perceptron(X, d, eta, epochs)``: w from zeros after applying the rule example by example."""
    from nnlib.datasets import logic_table
    from nnlib.perceptron import Perceptron

    fname = _fname(train, "train_perceptron")
    sets = [("AND", *logic_table("AND"), 1.0, 10), ("OR", *logic_table("OR"), 0.5, 10),
            ("XOR", *logic_table("XOR"), 1.0, 7)]
    if hidden:
        rng = _hidden_rng("train")
        X = rng.standard_normal((15, 3))
        d = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 > 0).astype(np.int64)
        sets = [("NAND", *logic_table("NAND"), 0.3, 12), ("random separable 3-D data", X, d, 0.7, 20),
                ("XNOR", *logic_table("XNOR"), 0.5, 9)]
    for label, X, d, eta, epochs in sets:
        case = f"{fname}(X, d, eta={eta}, epochs={epochs}) on {label}"
        got = _call(train, fname, X.copy(), d.copy(), eta, epochs)
        p = Perceptron(X.shape[1], eta=eta)
        for _ in p.steps(X, d, epochs):
            pass
        ref = B.to_host(p.w)
        if got is None:
            _fail(f"{fname} returned None: return the final weight vector w", case, hidden)
        _judge(got, ref, f"the weights from {fname}", case, hidden,
               custom={"has the opposite sign: the rule is w ← w + η (d − y) x": -ref})
    _ok(f"{fname} looks correct")


# ---------------------------------------------------------------- lecture 2: XOR


_GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "NOR": [1, 0, 0, 0], "XOR": [0, 1, 1, 0]}
_X4 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _nudged(hidden: bool) -> list[np.ndarray]:
    if not hidden:
        return [_X4]
    return [_X4 + np.array(s) for s in ([0.1, 0.1], [-0.1, -0.1], [0.1, -0.1], [-0.1, 0.1])]


def check_gate(w: Any, gate: str, hidden: bool = False) -> None:
    """Perceptron weights w = (w_0, w_1, w_2) that compute a two-input gate with y = step(w·x).

    ``hidden=True`` nudges the inputs by ±0.1: no input may lie on the decision boundary.
    """
    gate = gate.upper()
    target = np.array(_GATES[gate], dtype=float)
    try:
        wv = np.asarray(w, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise GradingError(f"the {gate} weights should be 3 numbers (w_0, w_1, w_2), got {w!r}") from None
    if wv.size != 3:
        raise GradingError(f"the {gate} weights should be 3 numbers (w_0 = bias, w_1, w_2), got {wv.size}")
    for X in _nudged(hidden):
        out = _step_predict(wv, X)
        if not np.array_equal(out, target):
            if hidden:
                _fail(f"the {gate} perceptron fails when the inputs are off by 0.1: an input lies on or next to the "
                      "decision boundary — move the line w_0 + w_1 x_1 + w_2 x_2 = 0 away from the four corners",
                      f"{gate} with nudged inputs", hidden)
            rows = ", ".join(f"{int(a)}{int(b)}→{int(o)}" for (a, b), o in zip(X, out))
            _fail(f"the {gate} perceptron computes {rows}; {gate} is "
                  + ", ".join(f"{int(a)}{int(b)}→{int(t)}" for (a, b), t in zip(X, target))
                  + " (y = 1 only where w_0 + w_1 x_1 + w_2 x_2 > 0)", gate, hidden)
    _ok(f"the {gate} weights compute {gate}" + (" (also with inputs nudged by ±0.1)" if hidden else ""))


def check_xor_network(W1: Any, b1: Any, W2: Any, b2: Any, hidden: bool = False) -> None:
    """A 2-2-1 network of step units: h = step(W1 x + b1), y = step(W2 h + b2) computes XOR."""
    try:
        W1a = np.asarray(W1, dtype=np.float64)
        b1a = np.asarray(b1, dtype=np.float64).reshape(-1)
        W2a = np.asarray(W2, dtype=np.float64).reshape(-1)
        b2a = float(np.asarray(b2, dtype=np.float64).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        raise GradingError("W1, b1, W2, b2 should be numbers or arrays: W1 (2, 2), b1 (2,), W2 (2,), "
                           "b2 a number") from None
    if W1a.shape != (2, 2) or b1a.shape != (2,) or W2a.shape != (2,):
        raise GradingError(f"expected W1 (2, 2), b1 (2,), W2 (2,) and b2 a number; got W1 {W1a.shape}, "
                           f"b1 {b1a.shape}, W2 {W2a.shape}")
    target = np.array(_GATES["XOR"], dtype=float)
    for X in _nudged(hidden):
        H = (X @ W1a.T + b1a > 0).astype(float)
        out = (H @ W2a + b2a > 0).astype(float)
        if not np.array_equal(out, target):
            if hidden:
                _fail("the XOR network fails when the inputs are off by 0.1: an input lies on or next to a "
                      "decision boundary of a hidden unit, or a hidden pattern on the output unit's boundary",
                      "XOR with nudged inputs", hidden)
            rows = ", ".join(f"{int(a)}{int(b)}→{int(o)}" for (a, b), o in zip(X, out))
            hid = ", ".join(f"{int(a)}{int(b)}→({int(h[0])},{int(h[1])})" for (a, b), h in zip(X, H))
            _fail(f"the network computes {rows} (hidden units {hid}); XOR is 00→0, 01→1, 10→1, 11→0 — "
                  "e.g. hidden units OR and NAND, output AND", "XOR", hidden)
    _ok("the network computes XOR" + (" (also with inputs nudged by ±0.1)" if hidden else ""))


# ---------------------------------------------------------------- lecture 3: gradient descent


def _f1(x: Any) -> Any:
    return x * x - 6 * x + 10


def check_numerical_derivative(numerical_derivative: Callable, hidden: bool = False) -> None:
    """``numerical_derivative(f, x, dx)``: the lecture's forward difference (f(x + Δx) − f(x)) / Δx."""
    fname = _fname(numerical_derivative, "numerical_derivative")
    cases: list[tuple[Callable, str, float, float]] = [(_f1, "x² − 6x + 10", 6.0, 0.01),
                                                       (_f1, "x² − 6x + 10", 0.0, 0.1),
                                                       (np.sin, "sin x", 1.0, 1e-3)]
    if hidden:
        cases = [(np.exp, "exp x", 0.5, 1e-3), (lambda x: x ** 3, "x³", -2.0, 0.05), (np.cos, "cos x", 2.0, 0.02)]
    for f, label, x, dx in cases:
        case = f"{fname}(f, x={x}, dx={dx}) for f(x) = {label}"
        got = _call(numerical_derivative, fname, f, x, dx)
        ref = (f(x + dx) - f(x)) / dx
        try:
            g = float(np.asarray(got, dtype=np.float64).reshape(-1)[0]) if got is not None else None
        except (TypeError, ValueError, IndexError):
            g = None
        if g is None:
            _fail(f"{fname} should return a number, got {got!r}", case, hidden)
        if abs(g - ref) <= 1e-9 * max(1.0, abs(ref)):
            continue
        central = (f(x + dx) - f(x - dx)) / (2 * dx)
        shown = "" if hidden else f": got {g:.6g}, expected {ref:.6g}"
        if abs(g - central) <= 1e-9 * max(1.0, abs(central)):
            _fail(f"{fname} computes the central difference (f(x+Δx) − f(x−Δx))/2Δx — a better estimate, but this "
                  f"exercise asks for the lecture's forward difference (f(x+Δx) − f(x))/Δx{shown}", case, hidden)
        if abs(g + ref) <= 1e-9 * max(1.0, abs(ref)):
            _fail(f"{fname} has the wrong sign: (f(x + Δx) − f(x)) / Δx{shown}", case, hidden)
        if abs(g - ref * dx) <= 1e-9 * max(1.0, abs(ref * dx)):
            _fail(f"{fname} forgot to divide by Δx{shown}", case, hidden)
        _fail(f"{fname} does not compute (f(x + Δx) − f(x)) / Δx{shown}", case, hidden)
    _ok(f"{fname} looks correct" + ("" if hidden else " (slope 6.01 at x = 6 with Δx = 0.01)"))


def check_numerical_gradient(numerical_gradient: Callable, hidden: bool = False) -> None:
    """``numerical_gradient(f, p, h)``: central differences ∂f/∂p_i ≈ (f(p + h e_i) − f(p − h e_i)) / 2h."""
    fname = _fname(numerical_gradient, "numerical_gradient")

    def z(p: np.ndarray) -> float:
        return float(p[0] ** 2 + p[1] ** 2 - 6 * p[0] + 10)

    def zg(p: np.ndarray) -> np.ndarray:
        return np.array([2 * p[0] - 6, 2 * p[1]])

    def q(p: np.ndarray) -> float:
        return float(np.sum(np.sin(p) * np.arange(1, p.size + 1)) + p @ p)

    def qg(p: np.ndarray) -> np.ndarray:
        return np.cos(p) * np.arange(1, p.size + 1) + 2 * p

    cases = [(z, zg, np.array([6.0, -2.0]), "z = x² + y² − 6x + 10"),
             (q, qg, np.array([0.3, -1.2, 2.0]), "Σ_i i sin p_i + ‖p‖²")]
    if hidden:
        rng = _hidden_rng("numgrad")
        cases = [(q, qg, rng.standard_normal(5), "Σ_i i sin p_i + ‖p‖²"), (z, zg, np.array([-1.5, 4.0]), "z")]
    for f, fg, p, label in cases:
        case = f"{fname}(f, p, h=1e-5) for f(p) = {label} at p of shape {p.shape}"
        p_in = p.copy()
        got = _call(numerical_gradient, fname, f, p_in, 1e-5)
        if not np.array_equal(p_in, p):
            _fail(f"{fname} changed p: restore each entry after perturbing it (or perturb a copy)", case, hidden)
        ref = fg(p)
        forward = np.array([(f(p + 1e-5 * e) - f(p)) / 1e-5 for e in np.eye(p.size)])
        _judge(got, ref, f"the gradient from {fname}", case, hidden, tol=1e-6,
               custom={"is a forward difference (f(p + h e_i) − f(p)) / h: use the central difference "
                       "(f(p + h e_i) − f(p − h e_i)) / 2h, accurate to O(h²)": forward})
    _ok(f"{fname} looks correct")


def check_gd_step(gd_step: Callable, hidden: bool = False) -> None:
    """``gd_step(grad, p, eta)``: one step of gradient descent, p − η ∇f(p); p is not modified."""
    fname = _fname(gd_step, "gd_step")

    def zg(p: np.ndarray) -> np.ndarray:
        return np.array([2 * p[0] - 6, 2 * p[1]])

    cases = [(zg, np.array([6.0, -2.0]), 0.01), (zg, np.array([0.0, 1.0]), 0.25)]
    if hidden:
        cases = [(zg, np.array([-3.0, 2.5]), 0.1), (lambda p: 4 * p ** 3, np.array([1.0, -0.5, 0.2]), 0.05)]
    for grad, p, eta in cases:
        case = f"{fname}(grad, p={p.tolist()}, eta={eta})"
        p_in = p.copy()
        got = _call(gd_step, fname, grad, p_in, eta)
        ref = p - eta * grad(p)
        if got is None:
            _fail(f"{fname} returned None: return the new point p − η ∇f(p)", case, hidden)
        _judge(got, ref, f"the new point from {fname}", case, hidden, custom={
            "goes uphill: gradient descent subtracts the gradient, p − η ∇f(p)": p + eta * grad(p),
            "forgets the learning rate η: p − η ∇f(p)": p - grad(p),
            "returns the step −η ∇f(p) instead of the new point p − η ∇f(p)": -eta * grad(p)})
    _ok(f"{fname} looks correct" + ("" if hidden else " ((6, −2) → (5.94, −1.96) with η = 0.01)"))


def check_gradient_descent(gradient_descent: Callable, hidden: bool = False) -> None:
    """``gradient_descent(grad, p0, eta, steps)``: the path, an array (steps + 1, d) starting with p0."""
    fname = _fname(gradient_descent, "gradient_descent")

    def zg(p: np.ndarray) -> np.ndarray:
        return np.array([2 * p[0] - 6, 2 * p[1]])

    cases = [(zg, np.array([6.0, -2.0]), 0.01, 5), (zg, np.array([0.0, 3.0]), 0.3, 12)]
    if hidden:
        cases = [(zg, np.array([-2.0, 1.0]), 0.45, 9), (lambda p: 2 * p, np.array([1.0, 2.0, 3.0]), 0.1, 4)]
    for grad, p0, eta, steps in cases:
        case = f"{fname}(grad, p0={p0.tolist()}, eta={eta}, steps={steps})"
        got = _call(gradient_descent, fname, grad, p0.copy(), eta, steps)
        path = [p0.copy()]
        for _ in range(steps):
            path.append(path[-1] - eta * grad(path[-1]))
        ref = np.array(path)
        try:
            g = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            _fail(f"{fname} should return the path as an array of shape {ref.shape}", case, hidden)
        if g.shape == (steps, p0.size) and _close(g, ref[1:]):
            _fail(f"the path from {fname} leaves out the starting point: put p0 first, shape (steps + 1, d) "
                  f"= {ref.shape}", case, hidden)
        if g.shape == (steps, p0.size) and _close(g, ref[:-1]):
            _fail(f"the path from {fname} stops one step short: take `steps` steps after p0, shape {ref.shape}",
                  case, hidden)
        if g.shape == ref.shape and _close(g[-1], ref[-2]) and not _close(g, ref):
            _fail(f"the path from {fname} lags one step behind: each row is the point after that many steps",
                  case, hidden)
        _judge(g, ref, f"the path from {fname}", case, hidden)
    _ok(f"{fname} looks correct")


# ---------------------------------------------------------------- lecture 4: derivatives


def _softplus(z: Any) -> Any:
    return np.logaddexp(0, z)


_DERIVATIVES: dict[str, tuple[str, Callable, Callable]] = {
    "sigmoid": ("σ(z) = 1/(1 + e^(−z))", A.sigmoid, A.sigmoid_prime),
    "tanh": ("tanh z", np.tanh, A.tanh_prime),
    "relu": ("ReLU(z) = max(0, z)", A.relu, A.relu_prime),
    "softplus": ("softplus(z) = ln(1 + e^z)", _softplus, A.softplus_prime),
    "chain": ("F(x) = (x² + 1)^(1/2)", lambda x: np.sqrt(x * x + 1), lambda x: x / np.sqrt(x * x + 1)),
}


def _derivative_suspects(name: str, z: np.ndarray) -> dict[str, np.ndarray]:
    s = A.sigmoid(z)
    t = np.tanh(z)
    common = {"returns the function itself instead of its derivative": _DERIVATIVES[name][1](z)}
    table = {
        "sigmoid": {"is σ(z)(1 + σ(z)): the derivative is σ(z)(1 − σ(z))": s * (1 + s),
                    "is e^(−z)/(1 + e^(−z)) = 1 − σ(z): the quotient rule gives e^(−z)/(1 + e^(−z))² = σ(z)(1 − σ(z))":
                        1 - s},
        "tanh": {"is 1 − tanh z: the derivative is 1 − tanh² z (square it)": 1 - t,
                 "is 1 + tanh² z: the derivative is 1 − tanh² z": 1 + t * t},
        "relu": {"is 1 where z < 0: ReLU' is 1 for z > 0 and 0 for z < 0": (z < 0).astype(float)},
        "softplus": {"is σ(−z): d/dz ln(1 + e^z) = e^z/(1 + e^z) = σ(z)": A.sigmoid(-z),
                     "is e^z: the chain rule gives e^z/(1 + e^z) = σ(z)": np.exp(z)},
        "chain": {"forgets the inner derivative 2x: F'(x) = ½(x² + 1)^(−1/2) · 2x": 0.5 / np.sqrt(z * z + 1),
                  "forgets the ½ of the outer derivative: F'(x) = ½(x² + 1)^(−1/2) · 2x": 2 * z / np.sqrt(z * z + 1)},
    }
    return {**common, **table[name]}


def check_derivative(fn: Callable, name: str, hidden: bool = False) -> None:
    """``fn(z)``, elementwise on arrays, must equal the derivative of the activation ``name``.

    ``name``: "sigmoid", "tanh", "relu", "softplus", or "chain" for F(x) = √(x² + 1).  Compared with the
    analytic derivative and with central differences of the function (away from ReLU's kink at 0).
    """
    if name not in _DERIVATIVES:
        raise ValueError(f"check_derivative: unknown name {name!r}; choose one of {sorted(_DERIVATIVES)}")
    label, f, fprime = _DERIVATIVES[name]
    fname = _fname(fn, f"{name}_prime")
    zs = [np.linspace(-5, 5, 24), np.array([[-2.0, -0.5, 0.25], [0.75, 1.5, 3.0]])]
    if hidden:
        rng = _hidden_rng(name)
        zs = [rng.standard_normal((4, 3, 2)) * 3, rng.uniform(-12, 12, size=17), np.array([0.4])]
    with _numpy():
        for z in zs:
            case = f"{fname}(z) for the derivative of {label}, z of shape {z.shape}"
            got = _call(fn, fname, z.copy())
            ref = fprime(z)
            h = 1e-5
            num = (f(z + h) - f(z - h)) / (2 * h)
            if np.max(np.abs(num - ref)) > 1e-6:  # pragma: no cover - the reference is tested
                raise RuntimeError(f"check_derivative: reference for {name} disagrees with central differences")
            _judge(got, ref, f"{fname}(z)", case, hidden, custom=_derivative_suspects(name, z))
    _ok(f"{fname} looks correct (matches the derivative of {label} and central differences)")


# ---------------------------------------------------------------- lecture 5: backpropagation


def _net(sizes: Sequence[int], seed: int) -> Any:
    from nnlib.network import Network

    return Network(list(sizes), seed=seed)


def _bp_variant(net: Any, x: np.ndarray, y: np.ndarray, prime_out: bool = True, prime_hidden: bool = True,
                prime_at: str = "z") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Backprop in Nielsen's column layout, with switches that reproduce classic mistakes."""
    act = net.activation
    a, acts, zs = x, [x], []
    for b, w in zip(net.biases, net.weights):
        z = w @ a + b
        zs.append(z)
        a = act.f(z)
        acts.append(a)

    def prime(i: int) -> np.ndarray:
        return act.prime(zs[i]) if prime_at == "z" else act.prime(acts[i])

    delta = acts[-1] - y
    if prime_out:
        delta = delta * prime(-1)
    nb: list[Any] = [None] * len(net.biases)
    nw: list[Any] = [None] * len(net.weights)
    nb[-1], nw[-1] = delta.sum(axis=1, keepdims=True), delta @ acts[-2].T
    for l in range(2, net.num_layers):
        delta = net.weights[-l + 1].T @ delta
        if prime_hidden:
            delta = delta * prime(-l)
        nb[-l], nw[-l] = delta.sum(axis=1, keepdims=True), delta @ acts[-l - 1].T
    return nb, nw


_BP_CUSTOM = {
    "bp1": "matches a gradient computed without σ'(z^L) in the output error: BP1 is δ^L = (a^L − y) ⊙ σ'(z^L)",
    "bp2": "matches a gradient computed without σ'(z^l) in the hidden layers: BP2 is "
           "δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)",
    "at_a": "evaluates σ' at the activation a^l instead of the weighted input z^l: use σ'(z^l) "
            "(for the sigmoid, a^l (1 − a^l) is the same number)",
    "last": "equals the gradient of the last example of the batch alone: the examples' gradients were overwritten "
            "instead of accumulated — add each example's contribution (nabla_w[l] += ...) or sum over the batch",
    "first": "equals the gradient of the first example of the batch alone: every example's contribution must be "
             "added up (nabla_w[l] += ...) or summed over the batch",
}


def _bp_configs(single: bool, hidden: bool, sizes: Sequence[Sequence[int]] | None, seeds: Sequence[int] | None,
                batch: int | Sequence[int] | None) -> list[tuple[list[int], int, int]]:
    if sizes is not None:
        sizes = [list(s) for s in sizes]
        seeds = list(seeds) if seeds is not None else list(range(len(sizes)))
        ms = [batch] * len(sizes) if batch is None or isinstance(batch, int) else list(batch)
        return [(s, sd, 1 if single else (m or 5)) for s, sd, m in zip(sizes, seeds, ms)]
    if not hidden:
        cfg = [([3, 4, 2], 0, 5), ([4, 5, 3, 2], 1, 6)]
    else:
        rng = _hidden_rng("backprop")
        cfg = [([3, 3, 3, 3], 101, 4)]
        for i in range(3):
            n_layers = int(rng.integers(3, 5))
            s = [int(v) for v in rng.integers(2, 7, size=n_layers)]
            m = next(v for v in (7, 8, 9, 10, 11) if v not in s)
            cfg.append((s, 200 + i, m))
    return [(s, sd, 1 if single else m) for s, sd, m in cfg]


def check_backprop(backprop: Callable, sizes: Sequence[Sequence[int]] | None = None, seeds: Sequence[int] | None = None,
                   batch: int | Sequence[int] | None = None, hidden: bool = False, single: bool = False) -> None:
    """``backprop(net, x, y) -> (nabla_b, nabla_w)`` for a sigmoid ``Network`` with the quadratic cost.

    x has shape (n_in, m), y (n_out, m); the result is the **sum** over the m columns of the per-example
    gradients (Nielsen's convention; ``single=True`` checks one example, m = 1).  Compared with nnlib's
    ``Network.backprop`` on several networks and batches and with central differences on the first one.
    """
    fname = _fname(backprop, "backprop")
    worst = 0.0
    with _numpy():
        for k, (sz, seed, m) in enumerate(_bp_configs(single, hidden, sizes, seeds, batch)):
            net = _net(sz, seed)
            rng = np.random.default_rng(seed + 1000)
            x = rng.standard_normal((sz[0], m))
            y = rng.random((sz[-1], m))
            case = (f"{fname}(net, x, y) for Network({sz}) with x of shape {x.shape}"
                    + (f" — a batch of m = {m} examples (columns)" if m > 1 else " — one example"))
            w0 = [w.copy() for w in net.weights]
            b0 = [b.copy() for b in net.biases]
            ref_b, ref_w = net.backprop(x, y)
            got = _call(backprop, fname, net, x.copy(), y.copy())
            if any(not np.array_equal(w, v) for w, v in zip(net.weights, w0)) or \
                    any(not np.array_equal(b, v) for b, v in zip(net.biases, b0)):
                _fail(f"{fname} changed net.weights or net.biases: backprop only computes the gradients; "
                      "the update belongs in update_mini_batch", case, hidden)
            if got is None:
                _fail(f"{fname} returned None: return the pair (nabla_b, nabla_w)", case, hidden)
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                _fail(f"{fname} should return a pair (nabla_b, nabla_w) of lists, got {type(got).__name__}"
                      + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""), case, hidden)
            gb, gw = list(got[0]) if got[0] is not None else None, list(got[1]) if got[1] is not None else None
            n = len(ref_w)
            for lst, what in ((gb, "nabla_b"), (gw, "nabla_w")):
                if lst is None or len(lst) != n:
                    _fail(f"{fname}: {what} should be a list of {n} arrays, one per layer after the input "
                          f"(like net.{'biases' if what == 'nabla_b' else 'weights'}), got "
                          f"{'None' if lst is None else len(lst)}", case, hidden)
            if all(_close(gb[l], ref_w[l]) for l in range(n)) and all(_close(gw[l], ref_b[l]) for l in range(n)):
                _fail(f"{fname} returned (nabla_w, nabla_b): Nielsen's order is (nabla_b, nabla_w), like "
                      "(biases, weights)", case, hidden)
            suspects = G.network_suspects(net, x, y)
            variants = {"bp1": _bp_variant(net, x, y, prime_out=False),
                        "bp2": _bp_variant(net, x, y, prime_hidden=False),
                        "at_a": _bp_variant(net, x, y, prime_at="a")}
            if m > 1:
                variants["last"] = net.backprop(x[:, -1:], y[:, -1:])
                variants["first"] = net.backprop(x[:, :1], y[:, :1])
            failures = []
            for l in reversed(range(n)):
                for what, cand_list, ref_list, idx in (("nabla_w", gw, ref_w, 1), ("nabla_b", gb, ref_b, 0)):
                    name = f"{what}[{l}]"
                    cand = cand_list[l]
                    try:
                        ch = _host(cand)
                    except (TypeError, ValueError):
                        ch = None
                    if ch is not None and ch.shape != np.shape(ref_list[l]):
                        other = next((o for o in range(n) if o != l and _close(ch, ref_list[o])), None)
                        if other is not None:
                            failures.append(f"{name} " + G.HINTS["other_layer"].format(other=f"{what}[{other}]")
                                            + " (or the list is in reverse order: index 0 is the first layer "
                                              "after the input).")
                            continue
                    custom = {_BP_CUSTOM[kind]: v[idx][l] for kind, v in variants.items()}
                    try:
                        d = _judge(cand, ref_list[l], name, case, hidden, batch_size=m if m > 1 else None,
                                   suspects={kk: vv for kk, vv in suspects[what][l].items()}, custom=custom)
                        worst = max(worst, d.rel_error or 0.0)
                    except GradingError as exc:
                        failures.append(str(exc).split("\n  (")[0])
            if failures:
                more = ""
                if len(failures) > 1:
                    others = [f.split(" ")[0] for f in failures[1:]]
                    more = f"\n  Also wrong: {', '.join(others)}."
                _fail(failures[0] + more, case, hidden)
            if k == 0 and not hidden:
                worst = max(worst, _numeric_backprop_error(net, x, y, gb, gw))
    what = "for one example" if single else "over a minibatch"
    _ok(f"{fname} looks correct {what}: it matches nnlib's Network.backprop"
        + ("" if hidden else " and central differences") + f" (largest relative error {worst:.1e})")


def _numeric_backprop_error(net: Any, x: np.ndarray, y: np.ndarray, gb: list, gw: list) -> float:
    def cost(_: Any) -> float:
        a = x
        for b, w in zip(net.biases, net.weights):
            a = net.activation.f(w @ a + b)
        return float(0.5 * np.sum((a - y) ** 2))

    err = 0.0
    for i in range(len(net.weights)):
        err = max(err, G.rel_error(_host(gw[i]), G.numerical_gradient(cost, net.weights[i])),
                  G.rel_error(_host(gb[i]).reshape(net.biases[i].shape), G.numerical_gradient(cost, net.biases[i])))
    return err


# ---------------------------------------------------------------- lecture 6: SGD, optimisers, softmax


def _nielsen_batch(sizes: Sequence[int], m: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed + 500)
    return [(rng.standard_normal((sizes[0], 1)), rng.random((sizes[-1], 1))) for _ in range(m)]


def _param_changes(net: Any, w0: list, b0: list) -> tuple[list, list]:
    return [np.asarray(w) - v for w, v in zip(net.weights, w0)], [np.asarray(b) - v for b, v in zip(net.biases, b0)]


def _compare_nets(net: Any, ref: Any, w0: list, b0: list, fname: str, case: str, hidden: bool, m: int | None,
                  custom_nets: Mapping[str, Any] | None = None) -> None:
    dw, db = _param_changes(net, w0, b0)
    rw, rb = _param_changes(ref, w0, b0)
    if all(not np.any(v) for v in dw + db):
        _fail(f"{fname} left net.weights and net.biases unchanged: update them in place (net.weights[l] -= ...) or "
              "assign new lists to net.weights and net.biases", case, hidden)
    cw = {msg: _param_changes(n, w0, b0) for msg, n in (custom_nets or {}).items()}
    for l in reversed(range(len(rw))):
        for what, cand, refv, idx in (("weights", dw, rw, 0), ("biases", db, rb, 1)):
            _judge(cand[l], refv[l], f"the change of net.{what}[{l}]", case, hidden, batch_size=m,
                   custom={msg: v[idx][l] for msg, v in cw.items()})


def check_update_mini_batch(update_mini_batch: Callable, hidden: bool = False) -> None:
    """``update_mini_batch(net, mini_batch, eta)``: w ← w − (η/m) Σ_x ∇C_x, b likewise, in place.

    ``mini_batch`` is Nielsen's list of m pairs (x, y) of columns.
    """
    fname = _fname(update_mini_batch, "update_mini_batch")
    cfg = [([3, 4, 2], 2, 5, 0.5), ([4, 3, 5, 2], 3, 7, 3.0)]
    if hidden:
        cfg = [([2, 5, 3], 21, 9, 1.5), ([5, 4, 4, 3], 22, 6, 0.25), ([3, 2], 23, 4, 2.0)]
    with _numpy():
        for sz, seed, m, eta in cfg:
            net = _net(sz, seed)
            batch = _nielsen_batch(sz, m, seed)
            case = f"{fname}(net, mini_batch, eta={eta}) for Network({sz}) and a minibatch of m = {m} examples"
            w0, b0 = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
            ref = copy.deepcopy(net)
            ref.update_mini_batch(batch, eta)
            out = _call(update_mini_batch, fname, net, [(x.copy(), y.copy()) for x, y in batch], eta)
            if out is not None and hasattr(out, "weights") and out is not net:
                net = out  # returned an updated network: accept it
            last = copy.deepcopy(ref)
            last.weights, last.biases = [w.copy() for w in w0], [b.copy() for b in b0]
            last.update_mini_batch(batch[-1:], eta / m)
            _compare_nets(net, ref, w0, b0, fname, case, hidden, m, custom_nets={
                "equals the step for the last example alone (scaled by η/m): the gradients of the examples must be "
                "added up before the step": last})
    _ok(f"{fname} looks correct")


def check_sgd_epoch(sgd_epoch: Callable, hidden: bool = False) -> None:
    """``sgd_epoch(net, training_data, mini_batch_size, eta)``: one pass over consecutive minibatches, no shuffle."""
    fname = _fname(sgd_epoch, "sgd_epoch")
    cfg = [([3, 4, 2], 4, 11, 4, 1.0), ([2, 3, 2], 5, 8, 2, 0.5)]
    if hidden:
        cfg = [([4, 5, 3], 41, 13, 5, 2.0), ([3, 3, 3, 2], 42, 9, 3, 1.0), ([2, 2], 43, 7, 10, 0.3)]
    with _numpy():
        for sz, seed, n, bs, eta in cfg:
            net = _net(sz, seed)
            data = _nielsen_batch(sz, n, seed)
            case = (f"{fname}(net, training_data, mini_batch_size={bs}, eta={eta}) for Network({sz}) and "
                    f"{n} training examples")
            w0, b0 = [w.copy() for w in net.weights], [b.copy() for b in net.biases]

            def run(batches: list, _w0: list = w0, _b0: list = b0, _net0: Any = net, _eta: float = eta) -> Any:
                r = copy.deepcopy(_net0)
                r.weights, r.biases = [w.copy() for w in _w0], [b.copy() for b in _b0]
                for mb in batches:
                    r.update_mini_batch(mb, _eta)
                return r

            ref = run([data[k:k + bs] for k in range(0, n, bs)])
            variants = {
                "skips the last, shorter minibatch: range(0, n, mini_batch_size) also yields the start of the "
                "remainder": run([data[k:k + bs] for k in range(0, n - bs + 1, bs)]) if n % bs else None,
                "takes one step on the whole training set: split it into minibatches of mini_batch_size examples "
                "and take one step per minibatch": run([data]),
                "takes only the first minibatch: loop over all of them": run([data[:bs]]),
            }
            _call(sgd_epoch, fname, net, [(x.copy(), y.copy()) for x, y in data], bs, eta)
            _compare_nets(net, ref, w0, b0, fname, case, hidden, None,
                          custom_nets={k: v for k, v in variants.items() if v is not None})
    _ok(f"{fname} looks correct")


def check_momentum(momentum_step: Callable, hidden: bool = False) -> None:
    """``momentum_step(w, v, grad, eta, mu)`` → (w_new, v_new):  v ← μ v − η g;  w ← w + v."""
    fname = _fname(momentum_step, "momentum_step")
    cfg = [((3, 2), 0, 0.1, 0.9, 4), ((5,), 1, 0.5, 0.5, 3)]
    if hidden:
        cfg = [((2, 3, 2), 61, 0.05, 0.99, 6), ((4,), 62, 1.0, 0.0, 2)]
    for shape, seed, eta, mu, steps in cfg:
        rng = np.random.default_rng(seed)
        w, v = rng.standard_normal(shape), np.zeros(shape)
        for t in range(steps):
            g = rng.standard_normal(shape)
            case = f"{fname}(w, v, grad, eta={eta}, mu={mu}), step {t + 1} from v = 0, w of shape {shape}"
            out = _call(momentum_step, fname, w.copy(), v.copy(), g.copy(), eta, mu)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                _fail(f"{fname} should return the pair (w_new, v_new)", case, hidden)
            v_ref = mu * v - eta * g
            w_ref = w + v_ref
            _judge(out[1], v_ref, f"v_new from {fname}", case, hidden, custom={
                "ignores the old velocity: v ← μ v − η g keeps a fraction μ of it": -eta * g if np.any(v) else None,
                "adds the gradient: the velocity moves downhill, v ← μ v − η g": mu * v + eta * g,
            })
            _judge(out[0], w_ref, f"w_new from {fname}", case, hidden, custom={
                "moves w with the old velocity: compute v_new first, then w ← w + v_new": w + v,
                "subtracts the velocity: v already points downhill, so w ← w + v": w - v_ref,
            })
            w, v = w_ref, v_ref
    _ok(f"{fname} looks correct")


def check_adam(adam_step: Callable, hidden: bool = False) -> None:
    """``adam_step(w, grad, m, v, t, eta, beta1, beta2, eps)`` → (w_new, m_new, v_new), with bias correction."""
    fname = _fname(adam_step, "adam_step")
    cfg = [((3, 2), 0, 0.01, 0.9, 0.999, 4), ((4,), 1, 0.1, 0.8, 0.99, 3)]
    if hidden:
        cfg = [((2, 2, 3), 71, 0.001, 0.9, 0.999, 5), ((6,), 72, 0.3, 0.5, 0.9, 3)]
    eps = 1e-8
    for shape, seed, eta, b1, b2, steps in cfg:
        rng = np.random.default_rng(seed)
        w, m, v = rng.standard_normal(shape), np.zeros(shape), np.zeros(shape)
        for t in range(1, steps + 1):
            g = rng.standard_normal(shape)
            case = f"{fname}(w, grad, m, v, t={t}, eta={eta}, beta1={b1}, beta2={b2}, eps=1e-8), w of shape {shape}"
            out = _call(adam_step, fname, w.copy(), g.copy(), m.copy(), v.copy(), t, eta, b1, b2, eps)
            if not isinstance(out, (tuple, list)) or len(out) != 3:
                _fail(f"{fname} should return the triple (w_new, m_new, v_new)", case, hidden)
            m_ref = b1 * m + (1 - b1) * g
            v_ref = b2 * v + (1 - b2) * g * g
            mh, vh = m_ref / (1 - b1 ** t), v_ref / (1 - b2 ** t)
            w_ref = w - eta * mh / (np.sqrt(vh) + eps)
            _judge(out[1], m_ref, f"m_new from {fname}", case, hidden)
            _judge(out[2], v_ref, f"v_new from {fname}", case, hidden, custom={
                "averages g instead of g²: v is the running mean of the squared gradient": b2 * v + (1 - b2) * g})
            _judge(out[0], w_ref, f"w_new from {fname}", case, hidden, tol=1e-6, custom={
                "skips the bias correction m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)": w - eta * m_ref / (np.sqrt(v_ref) + eps),
                "divides by v̂ instead of √v̂": w - eta * mh / (vh + eps),
                "has the wrong sign: Adam steps against the gradient, w − η m̂/(√v̂ + ε)":
                    w + eta * mh / (np.sqrt(vh) + eps),
            })
            w, m, v = w_ref, m_ref, v_ref
    _ok(f"{fname} looks correct")


def check_softmax_cross_entropy(fn: Callable, hidden: bool = False) -> None:
    """``softmax_cross_entropy(z, y)`` → (loss, dz): mean over the rows of z (m, k) with integer labels y (m,).

    loss = (1/m) Σ_i [logsumexp(z_i) − z_i,y_i] and dz = (softmax(z) − onehot(y)) / m; stable for large z.
    """
    fname = _fname(fn, "softmax_cross_entropy")
    rng = _hidden_rng("softmax") if hidden else np.random.default_rng(5)
    shapes = [(4, 3), (6, 5)] if not hidden else [(7, 4), (3, 10), (9, 2)]
    cases = []
    for m, k in shapes:
        cases.append((rng.standard_normal((m, k)) * 2, rng.integers(0, k, size=m), "random logits"))
    m, k = (3, 4) if not hidden else (5, 6)
    cases.append((rng.standard_normal((m, k)) * 1000, rng.integers(0, k, size=m), "large logits (|z| ~ 1000)"))
    with _numpy():
        for z, y, label in cases:
            m = z.shape[0]
            case = f"{fname}(z, y) with z of shape {z.shape} ({label}) and y of shape {y.shape}"
            out = _call(fn, fname, z.copy(), y.copy())
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                _fail(f"{fname} should return the pair (loss, dz)", case, hidden)
            ref_loss, ref_dz = losses.softmax_cross_entropy(z, y)
            try:
                loss = float(np.asarray(out[0], dtype=np.float64).reshape(-1)[0]) if np.size(out[0]) == 1 else None
            except (TypeError, ValueError):
                loss = None
            if loss is None:
                _fail(f"the loss from {fname} should be one number (the mean over the batch), got "
                      f"{np.shape(out[0])}", case, hidden)
            if not np.isfinite(loss):
                _fail(f"the loss from {fname} is {loss}: exp overflowed — subtract each row's max from z before exp "
                      "(softmax(z) = softmax(z − max z))", case, hidden)
            if abs(loss - ref_loss) > 1e-7 * max(1.0, abs(ref_loss)):
                shown = "" if hidden else f" (got {loss:.6g}, expected {ref_loss:.6g})"
                if abs(loss - m * ref_loss) < 1e-7 * max(1.0, m * abs(ref_loss)):
                    _fail(f"the loss from {fname} is {m}× too large: it is summed over the {m} examples where the "
                          f"mean is expected{shown}", case, hidden)
                _fail(f"the loss from {fname} is wrong{shown}: −(1/m) Σ_i ln softmax(z_i)[y_i]", case, hidden)
            onehot = np.eye(z.shape[1])[y]
            sm = A.softmax(z)
            _judge(out[1], ref_dz, f"dz from {fname}", case, hidden, batch_size=m, custom={
                "is softmax(z)/m: subtract the one-hot targets, dz = (softmax(z) − onehot(y)) / m": sm / m,
                "is (z − onehot(y))/m: subtract the targets from softmax(z), not from z": (z - onehot) / m,
            })
    _ok(f"{fname} looks correct (loss and gradient, stable for large logits)")


# ---------------------------------------------------------------- lecture 7: convolution and pooling


def _conv_cases(hidden: bool) -> list[tuple[tuple, tuple, int, int, int]]:
    """(x shape, W shape, stride, pad, seed)."""
    if not hidden:
        return [((2, 1, 5, 5), (2, 1, 3, 3), 1, 0, 0), ((2, 3, 6, 5), (4, 3, 3, 2), 1, 1, 1),
                ((1, 2, 7, 7), (3, 2, 3, 3), 2, 1, 2)]
    return [((3, 2, 6, 6), (2, 2, 2, 2), 2, 0, 11), ((2, 1, 5, 7), (3, 1, 3, 3), 1, 2, 12),
            ((1, 3, 8, 6), (2, 3, 4, 3), 2, 1, 13)]


def _conv_data(xs: tuple, ws: tuple, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])


def check_conv_forward(conv_forward: Callable, hidden: bool = False) -> None:
    """``conv_forward(x, W, b, stride, pad)`` → out (N, F, Ho, Wo): out[n, f, i, j] = Σ W[f] ⋅ window + b[f]."""
    fname = _fname(conv_forward, "conv_forward")
    with _numpy():
        for xs, ws, stride, pad, seed in _conv_cases(hidden):
            x, W, b = _conv_data(xs, ws, seed)
            case = f"{fname}(x, W, b, stride={stride}, pad={pad}) with x of shape {xs} and W of shape {ws}"
            got = _call(conv_forward, fname, x.copy(), W.copy(), b.copy(), stride, pad)
            if isinstance(got, tuple) and len(got) == 2 and np.ndim(got[0]) == 4:
                got = got[0]  # (out, cache) is fine too
            ref, _ = L.conv_forward(x, W, b, stride, pad)
            Ho, Wo = ref.shape[2:]
            shape_note = (f"has shape {{got}}: Ho = (H + 2·pad − kh) // stride + 1 = {Ho}, "
                          f"Wo = (W + 2·pad − kw) // stride + 1 = {Wo}")
            custom = {
                "flips the kernel: a convolutional layer computes the cross-correlation Σ W[f, c, u, v] "
                "x[n, c, i·s + u, j·s + v], without flipping W": L.conv_forward(x, W[:, :, ::-1, ::-1].copy(), b,
                                                                               stride, pad)[0],
                "leaves out the bias b[f]": L.conv_forward(x, W, np.zeros_like(b), stride, pad)[0],
            }
            try:
                gs = np.shape(got)
            except Exception:
                gs = None
            if gs is not None and len(gs) == 4 and tuple(gs) != tuple(ref.shape):
                _fail(f"the output of {fname} " + shape_note.format(got=tuple(gs)) + f" — expected {tuple(ref.shape)}",
                      case, hidden)
            _judge(got, ref, f"the output of {fname}", case, hidden, custom=custom)
    _ok(f"{fname} looks correct")


def check_conv_backward(conv_backward: Callable, hidden: bool = False) -> None:
    """``conv_backward(dout, x, W, b, stride, pad)`` → (dx, dW, db), checked against nnlib and central differences."""
    fname = _fname(conv_backward, "conv_backward")
    with _numpy():
        for k, (xs, ws, stride, pad, seed) in enumerate(_conv_cases(hidden)):
            x, W, b = _conv_data(xs, ws, seed)
            out, cache = L.conv_forward(x, W, b, stride, pad)
            dout = np.random.default_rng(seed + 7).standard_normal(out.shape)
            case = (f"{fname}(dout, x, W, b, stride={stride}, pad={pad}) with x of shape {xs}, W of shape {ws}, "
                    f"dout of shape {out.shape}")
            got = _call(conv_backward, fname, dout.copy(), x.copy(), W.copy(), b.copy(), stride, pad)
            if not isinstance(got, (tuple, list)) or len(got) != 3:
                _fail(f"{fname} should return the triple (dx, dW, db)", case, hidden)
            dx, dW, db = L.conv_backward(dout, cache)
            if k == 0:  # the reference against central differences, once
                num = G.numerical_gradient_array(lambda v, W=W, b=b, s=stride, p=pad: L.conv_forward(v, W, b, s, p)[0],
                                                 x.copy(), dout)
                assert G.rel_error(num, dx) < 1e-7
            padded = L._pad(x, pad).shape
            if pad and np.shape(got[0]) == padded:
                _fail(f"dx from {fname} has the padded shape {padded}: drop the border of width pad, "
                      "dx = dx_padded[:, :, pad:-pad, pad:-pad]", case, hidden)
            _judge(got[2], db, f"db from {fname}", case, hidden, batch_size=xs[0], custom={
                "is not summed over the output positions: db[f] = Σ over n, i, j of dout[n, f, i, j]":
                    dout.sum(axis=(2, 3)).mean(axis=0)})
            _judge(got[1], dW, f"dW from {fname}", case, hidden, batch_size=xs[0], custom={
                "is flipped (rotated by 180°): dW[f, c, u, v] = Σ dout[n, f, i, j] x_pad[n, c, i·s + u, j·s + v]":
                    dW[:, :, ::-1, ::-1]})
            _judge(got[0], dx, f"dx from {fname}", case, hidden, custom={
                "uses the flipped kernel the wrong way round: dx_pad[n, c, i·s + u, j·s + v] += W[f, c, u, v] "
                "dout[n, f, i, j]": L.conv_backward(dout, (x.shape, cache[1], W[:, :, ::-1, ::-1].copy(),
                                                           stride, pad))[0]})
    _ok(f"{fname} looks correct (dx, dW and db match nnlib and central differences)")


def _avgpool_backward(dout: np.ndarray, x_shape: tuple, size: int, stride: int) -> np.ndarray:
    dx = np.zeros(x_shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += dout[:, :, i:i + 1, j:j + 1]
    return dx


def _maxpool_overwrite(dout: np.ndarray, x: np.ndarray, size: int, stride: int) -> np.ndarray:
    dx = np.zeros_like(x)
    N, C = x.shape[:2]
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
                    u, v = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i * stride + u, j * stride + v] = dout[n, c, i, j]
    return dx


def check_maxpool_backward(maxpool_backward: Callable, hidden: bool = False) -> None:
    """``maxpool_backward(dout, x, size, stride)`` → dx: each window's gradient goes to its maximum only."""
    fname = _fname(maxpool_backward, "maxpool_backward")
    cases = [((2, 2, 4, 4), 2, 2, 0), ((1, 3, 6, 4), 2, 2, 1), ((2, 1, 5, 5), 3, 1, 2)]
    if hidden:
        cases = [((3, 2, 6, 6), 3, 3, 31), ((2, 2, 5, 6), 2, 1, 32), ((1, 1, 7, 7), 3, 2, 33)]
    with _numpy():
        for xs, size, stride, seed in cases:
            rng = np.random.default_rng(seed)
            x = rng.standard_normal(xs)
            out, cache = L.maxpool_forward(x, size, stride)
            dout = rng.standard_normal(out.shape)
            case = f"{fname}(dout, x, size={size}, stride={stride}) with x of shape {xs}"
            got = _call(maxpool_backward, fname, dout.copy(), x.copy(), size, stride)
            ref = L.maxpool_backward(dout, cache)
            custom = {
                "spreads each window's gradient over the whole window: that is average pooling; max pooling sends "
                "it only to the input that was the maximum": _avgpool_backward(dout, xs, size, stride),
                "spreads each window's gradient over the whole window, divided by its size: that is average "
                "pooling; max pooling sends it only to the input that was the maximum":
                    _avgpool_backward(dout, xs, size, stride) / size ** 2,
            }
            if stride < size:
                custom["overwrites instead of adding: with overlapping windows (stride < size) one input can be the "
                       "maximum of several windows — add (+=) their gradients"] = _maxpool_overwrite(dout, x, size,
                                                                                                    stride)
            _judge(got, ref, f"dx from {fname}", case, hidden, custom=custom)
    _ok(f"{fname} looks correct")


def check_layer_backward(fn: Callable, layer: str, hidden: bool = False) -> None:
    """Dispatch: ``layer`` is "conv" (``conv_backward``) or "maxpool" (``maxpool_backward``)."""
    checks = {"conv": check_conv_backward, "maxpool": check_maxpool_backward}
    if layer not in checks:
        raise ValueError(f"check_layer_backward: layer must be one of {sorted(checks)}, got {layer!r}")
    checks[layer](fn, hidden=hidden)
