"""Nielsen's ``network.py``, vectorised over the minibatch.

The API is the one in *Neural Networks and Deep Learning*, chapter 1::

    net = Network([784, 30, 10])
    net.SGD(training_data, epochs=30, mini_batch_size=10, eta=3.0, test_data=test_data)

Notation: layer l has weights w^l (``weights[l-2]``, shape (n_l, n_{l-1}), entry w^l_jk from neuron k in
layer l−1 to neuron j in layer l) and biases b^l (``biases[l-2]``, shape (n_l, 1)).  Feedforward:
z^l = w^l a^{l−1} + b^l, a^l = σ(z^l).  Backpropagation, the four equations:

    BP1  δ^L = ∇_a C ⊙ σ'(z^L)
    BP2  δ^l = ((w^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l)
    BP3  ∂C/∂b^l_j  = δ^l_j
    BP4  ∂C/∂w^l_jk = a^{l−1}_k δ^l_j

Nielsen loops over the m examples of a minibatch; here they are the m columns of one matrix, so each
equation is one matrix product for the whole batch, and the sums over examples in BP3/BP4 become δ 1 and
δ (a^{l−1})ᵀ.

Layouts: a single example, Nielsen's ``training_data`` lists and ``backprop`` use column vectors (n, 1) /
(n, m).  Whole data sets given as arrays use rows, ``(X, y)`` with X of shape (N, n_in), as ``nnlib.datasets``
returns them, and so does the code below: each equation transposed (z = a wᵀ + bᵀ).  ``nnlib._network_data``
turns every layout into checked rows; ``nnlib._network_fast`` is the same SGD step fused for sigmoid units,
used where bench/network_fast.py measures that it pays.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from nnlib import _network_data, _network_fast, init, losses
from nnlib import activations as A
from nnlib import backend as B

Array = Any


class Network:
    """A fully connected network trained by minibatch stochastic gradient descent."""

    def __init__(self, sizes: Sequence[int], activation: str = "sigmoid", cost: str | losses.Cost = "quadratic",
                 init_method: str = "gaussian", dtype: Any = np.float64, seed: int | None = None):
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"Network: sizes must list at least two positive layer widths, got {list(sizes)}")
        self.sizes = [int(s) for s in sizes]
        self.num_layers = len(self.sizes)
        self.activation = A.get(activation)
        self.cost = losses.get(cost)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed) if seed is not None else B.host_rng()
        self.biases = [init.biases((n, 1), "standard", self.dtype, rng) for n in self.sizes[1:]]
        self.weights = [init.weights((n, k), init_method, self.dtype, rng)
                        for k, n in zip(self.sizes[:-1], self.sizes[1:])]

    def __repr__(self) -> str:
        return f"Network({self.sizes}, activation={self.activation.name!r}, cost={self.cost.name!r})"

    _columns = _network_data.columns  # input as checked columns (n_in, m)
    _as_rows = _network_data.as_rows  # Nielsen's list or (X, y) arrays as checked rows X, one-hot Y

    def feedforward(self, a: Any) -> Array:
        """Output a^L for input a: a column (n_in, 1), a vector (n_in,) or columns (n_in, m)."""
        return self._forward(self._columns(a, "Network.feedforward").T)[1][-1].T

    def _forward(self, X: Array) -> tuple[list[Array], list[Array]]:
        """z^l = a^{l−1} (w^l)ᵀ + (b^l)ᵀ and a^l = σ(z^l) for the rows of X (m, n_in): ``(zs, activations)``,
        ``activations[0] = X``.  The one forward pass (feedforward, backprop, costs, evaluate, gradcheck)."""
        zs, activations = [], [X]
        for b, w in zip(self.biases, self.weights):
            z = activations[-1] @ w.T
            z += b.T
            zs.append(z)
            activations.append(self.activation.f(z))
        return zs, activations

    def backprop(self, x: Any, y: Any) -> tuple[list[Array], list[Array]]:
        """Gradient of Σ_x C_x over the columns of x (one column: Nielsen's per-example gradient).

        x has shape (n_in, m), y (n_out, m).  Returns ``(nabla_b, nabla_w)``, lists
        shaped like ``biases`` and ``weights``.
        """
        x = self._columns(x, "Network.backprop")
        y = _network_data.column_targets(self, y, x, "Network.backprop")
        return self._backprop_rows(x.T, y.T)

    def _backprop_rows(self, X: Array, Y: Array) -> tuple[list[Array], list[Array]]:
        """BP1–BP4 with the examples as rows (X: (m, n_in), Y: (m, n_out)): δ^l has shape (m, n_l), so
        BP2 reads δ^l = (δ^{l+1} w^{l+1}) ⊙ σ'(z^l) and the sums over examples are Σ_rows δ^l and (δ^l)ᵀ a^{l−1}."""
        zs, activations = self._forward(X)
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = self.cost.delta(zs[-1], activations[-1], Y, self.activation)  # BP1
        nabla_b[-1] = delta.sum(axis=0).reshape(-1, 1)  # BP3
        nabla_w[-1] = delta.T @ activations[-2]  # BP4
        for l in range(2, self.num_layers):
            delta = (delta @ self.weights[-l + 1]) * self.activation.prime(zs[-l])  # BP2
            nabla_b[-l] = delta.sum(axis=0).reshape(-1, 1)  # BP3
            nabla_w[-l] = delta.T @ activations[-l - 1]  # BP4
        return nabla_b, nabla_w

    def update_mini_batch(self, mini_batch: Any, eta: float, lmbda: float = 0.0, n: int | None = None) -> None:
        """One gradient step on a minibatch: w ← (1 − ηλ/n) w − (η/m) Σ_x ∇C_x,  b ← b − (η/m) Σ_x ∇_b C_x.

        ``mini_batch`` is Nielsen's list of (x, y) column pairs, or a pair of arrays
        (X rows (m, n_in), Y rows (m, n_out)).
        """
        X, Y = self._as_rows(mini_batch, "Network.update_mini_batch")
        self._step(X, Y, eta, lmbda, n or X.shape[0])

    def _step(self, X: Array, Y: Array, eta: float, lmbda: float, n: int) -> None:
        """``update_mini_batch`` on rows X, Y, in place; sigmoid networks take the fused step (same numbers)."""
        if _network_fast.pays(self):
            _network_fast.step(self, X, Y, eta, lmbda, n)
            return
        nabla_b, nabla_w = self._backprop_rows(X, Y)
        scale = eta / X.shape[0]
        for w, nw in zip(self.weights, nabla_w):
            if lmbda:
                w *= 1.0 - eta * lmbda / n  # L2 weight decay (Nielsen's network2)
            w -= scale * nw
        for b, nb in zip(self.biases, nabla_b):
            b -= scale * nb

    def SGD(self, training_data: Any, epochs: int, mini_batch_size: int, eta: float,  # noqa: N802 (Nielsen's name)
            test_data: Any = None, lmbda: float = 0.0, seed: int | None = None, verbose: bool = True,
            progress: bool = False) -> dict[str, list[float]]:
        """Train for ``epochs`` passes over shuffled minibatches; after each, evaluate on ``test_data``.

        Prints Nielsen's "Epoch j: correct / total" when ``verbose``.  Returns the
        history: per-epoch seconds, training cost, and test accuracy (if given).
        """
        if epochs < 0 or mini_batch_size < 1 or not eta > 0:
            raise ValueError(f"Network.SGD: need epochs ≥ 0, mini_batch_size ≥ 1, eta > 0; "
                             f"got {epochs}, {mini_batch_size}, {eta}")
        X, Y = self._as_rows(training_data, "Network.SGD training_data")
        n = X.shape[0]
        rng = np.random.default_rng(seed) if seed is not None else B.host_rng()
        test = _network_data.as_eval(self, test_data) if test_data is not None else None
        history: dict[str, list[float]] = {"seconds": [], "cost": [], "test_accuracy": []}
        cost0 = self.total_cost((X[:2000], Y[:2000]))
        fresh = not self.__dict__.get("_trained")
        for j in _epochs(epochs, progress):
            t0 = time.perf_counter()
            perm = B.to_device(rng.permutation(n))
            if _network_fast.pays(self):  # the same steps, fused, with the per-step dispatch hoisted out
                _network_fast.epoch(self, X, Y, perm, mini_batch_size, eta, lmbda, n)
            else:
                for X_batch, Y_batch in _network_data.minibatches(X, Y, perm, mini_batch_size):
                    self._step(X_batch, Y_batch, eta, lmbda, n)
            history["seconds"].append(time.perf_counter() - t0)
            self._trained = True
            cost = self.total_cost((X[:2000], Y[:2000]))
            history["cost"].append(cost)
            if not np.isfinite(cost) or cost > 1e6:
                raise FloatingPointError(f"Network.SGD: the cost became {cost:.3g} in epoch {j} with eta={eta}, "
                                         f"batch {mini_batch_size}, sizes {self.sizes}: training diverged — "
                                         "lower eta")
            # Only a fresh network's first epoch is judged: on a trained one, a noisy epoch at a sound η
            # may raise the cost a little (SGD called one epoch at a time, as a notebook does).
            if j == 0 and fresh and cost >= cost0:
                warnings.warn(f"Network.SGD: epoch 0 did not lower the cost ({cost0:.4g} → {cost:.4g}) with "
                              f"eta={eta}, batch {mini_batch_size}, sizes {self.sizes}: the learning rate is "
                              "probably too large (sigmoid units saturate, ReLUs die) — training diverged",
                              RuntimeWarning, stacklevel=2)
            if test is not None:
                correct = self._correct(*test)
                history["test_accuracy"].append(correct / test[0].shape[0])
                if verbose:
                    print(f"Epoch {j}: {correct} / {test[0].shape[0]}")
            elif verbose:
                print(f"Epoch {j} complete")
        return history

    def evaluate(self, test_data: Any) -> int:
        """Number of test inputs whose most active output neuron is the right label."""
        return self._correct(*_network_data.as_eval(self, test_data))

    def _correct(self, X: Array, labels: Array) -> int:
        return int((self._forward(X)[1][-1].argmax(axis=1) == labels).sum())

    def total_cost(self, data: Any) -> float:
        """Mean cost (1/n) Σ_x C_x over a data set (rows, or Nielsen's list)."""
        X, Y = self._as_rows(data, "Network.total_cost")
        return float(self.cost.fn(self._forward(X)[1][-1], Y)) / X.shape[0]


def _epochs(epochs: int, progress: bool) -> Any:
    """range(epochs), with a tqdm progress bar when asked."""
    if not progress:
        return range(epochs)
    from nnlib.progress import bar

    return bar(range(epochs), desc="epochs")
