"""Assignment 1 — the perceptron: ``predict``, ``perceptron_update``, ``train_perceptron``.

The learner may use NumPy only.  Messages use the lecture's words (target d, output y, weights w, bias w_0);
no backprop vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnlib.grading import rules
from nnlib.grading._core import fail, fname, invoke, judge, ok

ALLOWED: list = []
ALLOWED_TEXT = "NumPy"

X4 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
PREDICT_CASES = [(np.array([-1.5, 1.0, 1.0]), X4), (np.array([-0.5, 1.0, 1.0]), X4),
                 (np.array([-1.0, 1.0, 0.0]), X4),  # z = 0 on two rows: the step must give 0 there
                 (np.array([0.5, -2.0, 1.0, 3.0]), np.array([[1.0, 2.0, -1.0], [0.0, 0.0, 0.0], [-1.0, 0.5, 0.2]]))]
RULE_CASES = [(np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0]), 1.0, 1.0),   # z = 0: y = 0
              (np.array([0.5, 1.0, -1.0]), np.array([1.0, 0.0]), 1.0, 0.5),   # right: no change
              (np.array([0.5, 1.0, -1.0]), np.array([1.0, 0.0]), 0.0, 0.5),
              (np.array([-0.2, 0.3, 0.1]), np.array([0.0, 1.0]), 1.0, 0.25)]
_NOISY_X = np.array([[2.04, -2.56], [0.42, -0.57], [-0.45, -0.22], [-2.02, -0.23], [-0.87, 3.32], [0.23, -0.35],
                     [-0.28, -0.67], [-1.06, -0.39], [0.48, -0.24], [0.96, -0.2], [0.02, 1.55], [0.55, -0.51]])
_NOISY_D = np.array([1, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1])
# few epochs: the weights are still changing, so one pass more or fewer shows
TRAIN_CASES = [("12 points that no line separates", _NOISY_X, _NOISY_D, 0.5, 4), ("AND", 1.0, 3), ("OR", 0.5, 10),
               ("XOR", 1.0, 7)]


def step_predict(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    return (w[0] + X @ w[1:] > 0).astype(np.float64)


def _call(fn: Any, name: str, *args: Any, advice: Any = None) -> Any:
    return invoke(fn, name, *args, allowed=ALLOWED, allowed_text=ALLOWED_TEXT, advice=advice)


def _predict_advice(w: np.ndarray, X: np.ndarray) -> Callable:
    n, d = X.shape

    def advice(exc: Any) -> str | None:
        if "matmul" in exc.message or "not aligned" in exc.message:
            return (f"X has one example per row, shape (n, d) = ({n}, {d}), and w has d + 1 = {w.size} entries, "
                    f"the bias w_0 first: z = w[0] + X @ w[1:] (X @ w[1:] multiplies each row by w_1 … w_d)")
        return None

    return advice


def _rule_advice(w: np.ndarray, x: np.ndarray) -> Callable:
    def advice(exc: Any) -> str | None:
        if "broadcast" in exc.message or "matmul" in exc.message or "not aligned" in exc.message:
            return (f"x has d = {x.size} entries and w has d + 1 = {w.size} (the bias w_0 first): the rule uses the "
                    f"input with the constant x_0 = 1 in front, (1, x_1, …, x_d) = np.concatenate([[1.0], x])")
        return None

    return advice


def check_perceptron_predict(predict: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``predict(w, X)``: outputs step(w_0 + Σ_i w_i x_i) ∈ {0, 1} for each row of X (n, d); w = (w_0, ..., w_d).

    ``cases``: list of (w, X) pairs (default: the public cases).
    """
    name = fname(predict, "predict")
    show = show_values
    for w, X in (PREDICT_CASES if cases is None else cases):
        w, X = np.asarray(w, dtype=np.float64), np.asarray(X, dtype=np.float64)
        case = f"{name}(w, X) with w of shape {w.shape} and X of shape {X.shape}"
        if show:
            case += f", w = {w.tolist()}"
        w_in, X_in = w.copy(), X.copy()
        got = _call(predict, name, w_in, X_in, advice=_predict_advice(w, X))
        if not (np.array_equal(w_in, w) and np.array_equal(X_in, X)):
            fail(f"{name} changed its input {'w' if not np.array_equal(w_in, w) else 'X'}: a prediction only "
                 "reads w and X", case)
        ref = step_predict(w, X)
        if got is None:
            fail(f"{name} returned None: return the array of outputs (is there a `return` at the end?)", case)
        try:
            g0 = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            fail(f"{name} should return an array of 0s and 1s, got {type(got).__name__}", case)
        g = g0.reshape(-1)
        if g.size != ref.size:
            fail(f"{name} should return one output per row of X ({ref.size}), got {g.size} values", case)
        if g0.ndim != 1:
            fail(f"{name} returns an array of shape {g0.shape}: return the {ref.size} outputs as a flat array of "
                 f"shape (n,) = ({ref.size},) (e.g. X @ w[1:] with w[1:] of shape (d,) is already flat)", case)
        if np.array_equal(g, ref):
            rules.array_result(got, name, "an array of shape (n,)", case)
            continue
        z = w[0] + X @ w[1:]
        if not np.all((g == 0) | (g == 1)):
            with np.errstate(all="ignore"):
                sig = 1 / (1 + np.exp(-z))
            if np.allclose(g, z):
                fail(f"{name} returns z = w_0 + Σ w_i x_i itself: apply the step, y = 1 if z > 0 else 0", case)
            if np.allclose(g, sig):
                fail(f"{name} returns the sigmoid σ(z) = 1/(1 + e^(−z)): the perceptron outputs the step, "
                     "y = 1 if z > 0 else 0", case)
            fail(f"{name} returns values other than 0 and 1: apply the step, y = 1 if z > 0 else 0", case)
        named = [
            ((z >= 0), f"{name} outputs 1 where z = w_0 + Σ w_i x_i = 0: the perceptron fires only if z > 0 "
                       "(strictly)"),
            ((X @ w[1:] > 0), f"{name} ignores the bias w_0 (the weight of the constant input x_0 = 1)"),
            ((w[-1] + X @ w[:-1] > 0), f"{name} takes the bias from the last entry of w: here w_0 = w[0] is "
                                       "the bias"),
            ((X @ w[1:] - w[0] > 0), f"{name} subtracts the bias: z = w_0 + Σ w_i x_i adds it"),
            (((X + w[0]) @ w[1:] > 0), f"{name} adds the bias to every input: z = w_0 + Σ w_i x_i adds w_0 once"),
            ((z <= 0), f"{name} has its outputs inverted: 1 for z > 0, 0 otherwise"),
        ]
        for wrong, msg in named:
            if np.array_equal(g, wrong.astype(float)):
                fail(msg, case)
        bad = int(np.sum(g != ref))
        extra = f": got {g.tolist()}, expected {ref.tolist()}" if show else ""
        fail(f"{name} gives the wrong output for {bad} of {ref.size} rows{extra}", case)
    rules.no_loop(predict, name, "compute all n outputs at once, w[0] + X @ w[1:] > 0, one matrix–vector product")
    ok(f"{name} looks correct")


def rule(w: np.ndarray, x: np.ndarray, d: float, eta: float) -> np.ndarray:
    xa = np.concatenate([[1.0], x])
    y = float(xa @ w > 0)
    return w + eta * (d - y) * xa


def check_perceptron_rule(update: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``perceptron_update(w, x, d, eta)``: returns w + η (d − y) x with x_0 = 1 and y the current output.

    ``w`` must not be changed in place.  ``cases``: list of (w, x, d, eta).
    """
    name = fname(update, "perceptron_update")
    show = show_values
    for w, x, d, eta in (RULE_CASES if cases is None else cases):
        w, x, d, eta = np.asarray(w, dtype=np.float64), np.asarray(x, dtype=np.float64), float(d), float(eta)
        case = f"{name}(w, x, d={d:g}, eta={eta:g})" + (f" with w = {w.tolist()}, x = {x.tolist()}" if show else "")
        w_in = w.copy()
        got = _call(update, name, w_in, x.copy(), d, eta, advice=_rule_advice(w, x))
        ref = rule(w, x, d, eta)
        if got is None:
            fail(f"{name} returned None: return the updated weight vector", case)
        if not np.array_equal(w_in, w):
            fail(f"{name} changed the w it was given (in place, e.g. w += ...): the exercise asks for a new vector "
                 "— compute w_new = w + η (d − y) x and return it, leaving w as it was", case)
        xa = np.concatenate([[1.0], x])
        z = float(xa @ w)
        y = float(z > 0)
        y_nobias = float(x @ w[1:] > 0)
        y_ge = float(z >= 0)
        xl = np.append(x, 1.0)
        custom = {
            "changes w even though the prediction is right (d = y): the change η (d − y) x is zero then":
                w + eta * d * xa if d == y else (w + eta * xa if d == y else None),
            "has the opposite sign: the rule is w ← w + η (d − y) x, target minus output": w - eta * (d - y) * xa,
            "leaves the bias w_0 unchanged: it is the weight of the constant input x_0 = 1, so it changes by "
            "η (d − y) · 1 like every other weight": w + eta * (d - y) * np.concatenate([[0.0], x]),
            "forgets the learning rate η": w + (d - y) * xa if eta != 1 else None,
            "uses z = w·x instead of the step output y ∈ {0, 1} in (d − y)": w + eta * (d - z) * xa,
            "computes the output y without the bias: y = step(w_0 + Σ w_i x_i) includes w_0":
                w + eta * (d - y_nobias) * xa,
            "computes y with z ≥ 0: the output is 1 only if z = w_0 + Σ w_i x_i > 0": w + eta * (d - y_ge) * xa,
            "returns the change η (d − y) x instead of the new w = w + η (d − y) x": eta * (d - y) * xa,
            "uses d instead of (d − y): the change is η (d − y) x, zero when the output is right":
                w + eta * d * xa,
            "puts the constant input x_0 = 1 last: w = (w_0, w_1, …, w_d) has the bias first, so the input is "
            "(1, x_1, …, x_d)": w + eta * (d - float(xl @ w > 0)) * xl,
            "puts the constant input x_0 = 1 last (the change of the bias lands on w_d): the input is "
            "(1, x_1, …, x_d) with x_0 = 1 first": w + eta * (d - y) * xl,
        }
        if d == y:
            custom["always adds η x, whatever the output: the change η (d − y) x is zero when the prediction "
                   "is right (d = y)"] = w + eta * xa
        judge(got, ref, f"the updated w from {name}", case, show, first=custom, gradient=False)
    ok(f"{name} looks correct")


def train_reference(X: np.ndarray, d: np.ndarray, eta: float, epochs: int, w0: Any = None) -> np.ndarray:
    w = np.zeros(X.shape[1] + 1) if w0 is None else w0
    for _ in range(epochs):
        for x, t in zip(X, d):
            w = rule(w, x, float(t), eta)
    return w


def _nested_wrong(X: np.ndarray, d: np.ndarray, eta: float, epochs: int) -> np.ndarray:
    w = np.zeros(X.shape[1] + 1)
    for x, t in zip(X, d):
        for _ in range(epochs):
            w = rule(w, x, float(t), eta)
    return w


def _batch(X: np.ndarray, d: np.ndarray, eta: float, epochs: int) -> np.ndarray:
    w = np.zeros(X.shape[1] + 1)
    for _ in range(epochs):
        w = w + sum(rule(w, x, float(t), eta) - w for x, t in zip(X, d))
    return w


def _stop_at_first_unchanged(X: np.ndarray, d: np.ndarray, eta: float, epochs: int) -> np.ndarray:
    w = np.zeros(X.shape[1] + 1)
    for _ in range(epochs):
        for x, t in zip(X, d):
            new = rule(w, x, float(t), eta)
            if np.array_equal(new, w):
                return w
            w = new
    return w


def check_perceptron_train(train: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``train_perceptron(X, d, eta, epochs)``: w from zeros after ``epochs`` passes of the rule, example by example.

    ``cases``: list of (label, eta, epochs) for a logic gate, or (label, X, d, eta, epochs).
    """
    from nnlib.grading.provided import logic_table

    name = fname(train, "train_perceptron")
    show = show_values
    for spec in (TRAIN_CASES if cases is None else cases):
        if len(spec) == 3:
            label, eta, epochs = spec
            X, d = logic_table(label)
        else:
            label, X, d, eta, epochs = spec
            X, d = np.asarray(X, dtype=np.float64), np.asarray(d)
        case = f"{name}(X, d, eta={eta}, epochs={epochs}) on {label}"
        got = _call(train, name, X.copy(), d.copy(), float(eta), int(epochs))
        ref = train_reference(X, d, eta, epochs)
        if got is None:
            fail(f"{name} returned None: return the final weight vector w", case)
        try:
            g = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            fail(f"{name} should return the weight vector w, an array of {ref.size} numbers", case)
        if g.shape == (ref.size - 1,):
            fail(f"the weights from {name} have {g.size} entries: w = (w_0, w_1, …, w_d) has d + 1 = {ref.size}, "
                 "the bias w_0 first — start from np.zeros(X.shape[1] + 1)", case)
        if g.shape == ref.shape and not np.any(g) and np.any(ref):
            fail(f"the weights from {name} are still the starting w = 0: the updates never took effect — assign "
                 "the result, w = perceptron_update(w, x, t, eta), and do not return before the last pass "
                 "(stopping early is fine only after a whole pass without mistakes)", case)
        custom = {"has the opposite sign: the rule is w ← w + η (d − y) x": -ref,
                  f"is the weight vector after {epochs + 1} passes over the data: run exactly `epochs` = {epochs} "
                  f"passes (for epoch in range(epochs))": train_reference(X, d, eta, epochs + 1),
                  f"is the weight vector after {epochs - 1} passes over the data: run exactly `epochs` = {epochs} "
                  f"passes (for epoch in range(epochs))": train_reference(X, d, eta, epochs - 1),
                  "is the weight vector after the first pass: return after the loop over the epochs, not inside "
                  "it": train_reference(X, d, eta, 1),
                  "does not start from w = 0: the perceptron rule starts from np.zeros(d + 1)":
                      train_reference(X, d, eta, epochs, w0=np.ones(X.shape[1] + 1)),
                  "applies the rule `epochs` times to one example before moving on: loop over the epochs "
                  "outside and over the examples inside": _nested_wrong(X, d, eta, epochs),
                  "adds up the changes of all the examples with w fixed (a batch update): the perceptron rule "
                  "updates w after each example, in order": _batch(X, d, eta, epochs),
                  "stops early, at the first example the rule leaves unchanged (a right answer for one example "
                  "does not mean training is done): run all `epochs` passes, or stop only after a whole pass "
                  "without mistakes": _stop_at_first_unchanged(X, d, eta, epochs),
                  "ignores the learning rate η (it trains with η = 1)": train_reference(X, d, 1.0, epochs)
                  if eta != 1 else None,
                  "visits the examples in reverse order: go through them in order, first row first":
                      train_reference(X[::-1], d[::-1], eta, epochs)}
        judge(g, ref, f"the weights from {name}", case, show, first=custom, gradient=False)
    ok(f"{name} looks correct")
