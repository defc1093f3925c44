"""Rosenblatt's perceptron: a threshold unit and its learning rule.

The unit computes  y = step(Σ_i w_i x_i)  with x_0 = 1 a constant input, so
w_0 plays the role of the bias (−threshold): "bias as the weight from a
constant node".  The learning rule, for each training pair (x, d):

    w_i ← w_i + η (d − y) x_i        for every i, including i = 0

(The slide writes η(d − y)x without the index i: it is one update per weight.)
Nothing changes when the output is right (d = y).  If the classes are
linearly separable, the rule stops changing w after a finite number of
updates (the perceptron convergence theorem); on XOR it never stops.

The rule is online — one example at a time, each update depending on the
last — so ``fit`` loops over examples by design; ``predict`` is vectorised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnlib import backend as B
from nnlib._checks import ShapeError

Array = Any


def augment(X: Array) -> Array:
    """Prepend the constant input x_0 = 1 to every row: (n, d) → (n, d + 1)."""
    xp = B.xp
    return xp.concatenate([xp.ones((X.shape[0], 1), dtype=X.dtype), X], axis=1)


@dataclass
class Update:
    """One step of the learning rule, for plotting and widgets."""

    epoch: int
    index: int
    x: np.ndarray
    d: float
    y: float
    w_before: np.ndarray
    w_after: np.ndarray

    @property
    def changed(self) -> bool:
        return bool(self.d != self.y)


class Perceptron:
    """A single threshold unit with weights w = (w_0 = bias, w_1, ..., w_d)."""

    def __init__(self, n_inputs: int, eta: float = 1.0, w: Any = None):
        self.n_inputs, self.eta = int(n_inputs), float(eta)
        if w is None:
            w = np.zeros(self.n_inputs + 1)
        w = B.to_device(np.asarray(B.to_host(w), dtype=np.float64))
        if tuple(w.shape) != (self.n_inputs + 1,):
            raise ShapeError(f"Perceptron: w must have {self.n_inputs + 1} entries (bias first), got {tuple(w.shape)}")
        self.w = w

    def __repr__(self) -> str:
        return f"Perceptron(n_inputs={self.n_inputs}, eta={self.eta}, w={B.to_host(self.w).tolist()})"

    def _inputs(self, X: Any) -> Array:
        X = B.to_device(np.asarray(B.to_host(X), dtype=np.float64)) if not isinstance(X, B.xp.ndarray) else X
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ShapeError(f"Perceptron: expected inputs of shape (n, {self.n_inputs}), got {tuple(X.shape)}")
        return X.astype(B.xp.float64)

    def net_input(self, X: Any) -> Array:
        """z = w_0 + Σ_i w_i x_i for each row."""
        return augment(self._inputs(X)) @ self.w

    def predict(self, X: Any) -> Array:
        """y = 1 if z > 0 else 0, for each row (vectorised)."""
        return (self.net_input(X) > 0).astype(B.xp.float64)

    def update(self, x: Any, d: float) -> Update:
        """Apply the rule once: w ← w + η (d − y) x (with x_0 = 1)."""
        xa = augment(self._inputs(x))[0]
        y = float(xa @ self.w > 0)
        before = B.to_host(self.w).copy()
        self.w = self.w + self.eta * (float(d) - y) * xa
        return Update(0, 0, B.to_host(xa), float(d), y, before, B.to_host(self.w).copy())

    def steps(self, X: Any, d: Any, epochs: int = 10) -> Iterator[Update]:
        """Yield every update, example by example, epoch by epoch (for step-through widgets)."""
        Xh = np.asarray(B.to_host(X), dtype=np.float64)
        dh = np.asarray(B.to_host(d), dtype=np.float64).reshape(-1)
        if Xh.shape[0] != dh.shape[0]:
            raise ShapeError(f"Perceptron: {Xh.shape[0]} inputs but {dh.shape[0]} targets")
        if not np.all((dh == 0) | (dh == 1)):
            raise ValueError("Perceptron: targets d must be 0 or 1")
        for epoch in range(epochs):
            for i in range(Xh.shape[0]):
                u = self.update(Xh[i], dh[i])
                u.epoch, u.index = epoch, i
                yield u

    def fit(self, X: Any, d: Any, epochs: int = 100) -> list[int]:
        """Run the rule until an epoch makes no mistake (or ``epochs`` run out); returns mistakes per epoch."""
        mistakes: list[int] = []
        count, n = 0, np.asarray(B.to_host(d)).size
        for u in self.steps(X, d, epochs):
            count += u.changed
            if u.index == n - 1:
                mistakes.append(count)
                if count == 0:
                    break
                count = 0
        return mistakes
