"""Assignment 1 — the perceptron: ``predict``, ``perceptron_update``, ``train_perceptron``.

The learner may use NumPy only.  Messages use the lecture's words (target d, output y, weights w, bias w_0);
no backprop vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnlib.grading._core import fail, fname, invoke, judge, ok

ALLOWED: list = []
ALLOWED_TEXT = "NumPy"

X4 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
PREDICT_CASES = [(np.array([-1.5, 1.0, 1.0]), X4), (np.array([-0.5, 1.0, 1.0]), X4),
                 (np.array([-1.0, 1.0, 0.0]), X4),  # z = 0 on two rows: the step must give 0 there
                 (np.array([0.5, -2.0, 1.0, 3.0]), np.array([[1.0, 2.0, -1.0], [0.0, 0.0, 0.0], [-1.0, 0.5, 0.2]]))]
RULE_CASES = [(np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0]), 1.0, 1.0),
              (np.array([0.5, 1.0, -1.0]), np.array([1.0, 0.0]), 0.0, 0.5),
              (np.array([0.5, 1.0, -1.0]), np.array([1.0, 0.0]), 1.0, 0.5),   # right: no change
              (np.array([-0.2, 0.3, 0.1]), np.array([0.0, 1.0]), 1.0, 0.25)]
TRAIN_CASES = [("AND", 1.0, 10), ("OR", 0.5, 10), ("XOR", 1.0, 7)]


def step_predict(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    return (w[0] + X @ w[1:] > 0).astype(np.float64)


def _call(fn: Any, name: str, *args: Any) -> Any:
    return invoke(fn, name, *args, allowed=ALLOWED, allowed_text=ALLOWED_TEXT)


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
        got = _call(predict, name, w_in, X_in)
        if not (np.array_equal(w_in, w) and np.array_equal(X_in, X)):
            fail(f"{name} changed its input {'w' if not np.array_equal(w_in, w) else 'X'}: a prediction only "
                 "reads w and X", case)
        ref = step_predict(w, X)
        try:
            g = np.asarray(got, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            fail(f"{name} should return an array of 0s and 1s, got {type(got).__name__}", case)
        if g.size != ref.size:
            fail(f"{name} should return one output per row of X ({ref.size}), got {g.size} values", case)
        if np.array_equal(g, ref):
            continue
        z = w[0] + X @ w[1:]
        if not np.all((g == 0) | (g == 1)):
            if np.allclose(g, z):
                fail(f"{name} returns z = w_0 + Σ w_i x_i itself: apply the step, y = 1 if z > 0 else 0", case)
            fail(f"{name} returns values other than 0 and 1: apply the step, y = 1 if z > 0 else 0", case)
        if np.array_equal(g, (z >= 0).astype(float)):
            fail(f"{name} outputs 1 where z = w_0 + Σ w_i x_i = 0: the perceptron fires only if z > 0 (strictly)",
                 case)
        if np.array_equal(g, (X @ w[1:] > 0).astype(float)):
            fail(f"{name} ignores the bias w_0 (the weight of the constant input x_0 = 1)", case)
        if np.array_equal(g, (w[-1] + X @ w[:-1] > 0).astype(float)):
            fail(f"{name} takes the bias from the last entry of w: here w_0 = w[0] is the bias", case)
        if np.array_equal(g, 1 - ref):
            fail(f"{name} has its outputs inverted: 1 for z > 0, 0 otherwise", case)
        bad = int(np.sum(g != ref))
        extra = f": got {g.tolist()}, expected {ref.tolist()}" if show else ""
        fail(f"{name} gives the wrong output for {bad} of {ref.size} rows{extra}", case)
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
        got = _call(update, name, w_in, x.copy(), d, eta)
        ref = rule(w, x, d, eta)
        if got is None:
            fail(f"{name} returned None: return the updated weight vector", case)
        if not np.array_equal(w_in, w):
            fail(f"{name} changed the w it was given (in place, e.g. w += ...): the exercise asks for a new vector "
                 "— compute w_new = w + η (d − y) x and return it, leaving w as it was", case)
        xa = np.concatenate([[1.0], x])
        y = float(xa @ w > 0)
        custom = {
            "has the opposite sign: the rule is w ← w + η (d − y) x, target minus output": w - eta * (d - y) * xa,
            "leaves the bias w_0 unchanged: it is the weight of the constant input x_0 = 1, so it changes by "
            "η (d − y) · 1 like every other weight": w + eta * (d - y) * np.concatenate([[0.0], x]),
            "changes w even though the prediction is right (d = y): the change η (d − y) x is zero then":
                w + eta * d * xa if d == y else None,
            "forgets the learning rate η": w + (d - y) * xa if eta != 1 else None,
            "uses the output z = w·x instead of the step output y ∈ {0, 1} in (d − y)":
                w + eta * (d - float(xa @ w)) * xa,
        }
        judge(got, ref, f"the updated w from {name}", case, show, first=custom, gradient=False)
    ok(f"{name} looks correct")


def train_reference(X: np.ndarray, d: np.ndarray, eta: float, epochs: int) -> np.ndarray:
    w = np.zeros(X.shape[1] + 1)
    for _ in range(epochs):
        for x, t in zip(X, d):
            w = rule(w, x, float(t), eta)
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
        custom = {"has the opposite sign: the rule is w ← w + η (d − y) x": -ref,
                  f"is the weight vector after {epochs + 1} passes over the data: run exactly `epochs` = {epochs} "
                  f"passes (for epoch in range(epochs))": train_reference(X, d, eta, epochs + 1),
                  f"is the weight vector after {epochs - 1} passes over the data: run exactly `epochs` = {epochs} "
                  f"passes (for epoch in range(epochs))": train_reference(X, d, eta, epochs - 1)}
        judge(got, ref, f"the weights from {name}", case, show, first=custom, gradient=False)
    ok(f"{name} looks correct")
