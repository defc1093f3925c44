"""Cost functions C(a, y) and their gradients ∂C/∂a.

Each cost's ``fn(a, y)`` is the **sum** over every example it is given, and
``grad(a, y)`` is ∂fn/∂a, elementwise, so both work for one column vector
(Nielsen's per-example C_x) and for a whole minibatch in any layout.
Averaging over a batch of n examples, C = (1/n) Σ_x C_x, is the caller's job
(``Model`` divides by n; Nielsen's ``update_mini_batch`` uses η/n).

Quadratic cost, two conventions (both appear in the lectures):

* Nielsen:  C_x = ½ ‖a − y‖²,                   ∂C_x/∂a = a − y
* slides:   C_x = (1/n_L) Σ_j (y_j − a_j)²  (MSE), ∂C_x/∂a = (2/n_L)(a − y)

They differ only by the constant 2/n_L, which rescales the learning rate.

Cross-entropy for sigmoid outputs:  C_x = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)],
whose output error is simply δ^L = a − y (σ' cancels: no learning slowdown).

Softmax + cross-entropy, fused and stable:  C_x = −Σ_j y_j ln softmax(z)_j
= (Σ_j y_j) logsumexp(z) − Σ_j y_j z_j, with ∂C_x/∂z = (Σ_j y_j) softmax(z) − y, which is softmax(z) − y for
one-hot targets and probability rows.  Soft targets whose rows do not sum to 1 get this general gradient
(as in PyTorch's ``CrossEntropyLoss`` with probabilities), never the shortcut.
"""

from __future__ import annotations

from typing import Any

from nnlib import activations as A
from nnlib import backend as B
from nnlib._checks import ShapeError, check_same_shape
from nnlib.datasets import one_hot

Array = Any
_EPS = 1e-12


class Cost:
    """Base class: ``fn`` (summed cost), ``grad`` (∂fn/∂a) and ``delta`` (output error δ^L)."""

    name = "cost"

    def fn(self, a: Array, y: Array) -> Array:
        raise NotImplementedError

    def grad(self, a: Array, y: Array) -> Array:
        raise NotImplementedError

    def fn_and_grad(self, a: Array, y: Array) -> tuple[Array, Array]:
        """``(fn(a, y), grad(a, y))`` together; a cost may override it to share work between the two."""
        return self.fn(a, y), self.grad(a, y)

    def delta(self, z: Array, a: Array, y: Array, activation: A.Activation) -> Array:
        """δ^L = ∇_a C ⊙ σ'(z^L)  (backprop equation BP1)."""
        return self.grad(a, y) * activation.prime(z)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class QuadraticCost(Cost):
    """Nielsen's C_x = ½‖a − y‖²;  ∂C_x/∂a = a − y."""

    name = "quadratic"

    def fn(self, a: Array, y: Array) -> Array:
        check_same_shape(a, y, "QuadraticCost")
        d = a - y
        return 0.5 * (d * d).sum()

    def grad(self, a: Array, y: Array) -> Array:
        check_same_shape(a, y, "QuadraticCost")
        return a - y


class MSECost(Cost):
    """The slides' C_x = (1/n_L) Σ_j (y_j − a_j)²;  ∂C_x/∂a = (2/n_L)(a − y), n_L = outputs per example."""

    name = "mse"

    def __init__(self, class_axis: int = -1):
        self.class_axis = class_axis

    def fn(self, a: Array, y: Array) -> Array:
        check_same_shape(a, y, "MSECost")
        d = a - y
        return (d * d).sum() / a.shape[self.class_axis]

    def grad(self, a: Array, y: Array) -> Array:
        check_same_shape(a, y, "MSECost")
        return (2.0 / a.shape[self.class_axis]) * (a - y)


class CrossEntropyCost(Cost):
    """C_x = −Σ_j [y ln a + (1−y) ln(1−a)] for sigmoid outputs;  δ^L = a − y."""

    name = "cross_entropy"

    def fn(self, a: Array, y: Array) -> Array:
        check_same_shape(a, y, "CrossEntropyCost")
        xp = B.xp
        a = xp.clip(a, _EPS, 1 - _EPS)
        return -(y * xp.log(a) + (1 - y) * xp.log(1 - a)).sum()

    def grad(self, a: Array, y: Array) -> Array:
        check_same_shape(a, y, "CrossEntropyCost")
        a = B.xp.clip(a, _EPS, 1 - _EPS)
        return (a - y) / (a * (1 - a))

    def delta(self, z: Array, a: Array, y: Array, activation: A.Activation) -> Array:
        if activation.name == "sigmoid":  # σ'(z) cancels the denominator exactly
            check_same_shape(a, y, "CrossEntropyCost")
            return a - y
        return super().delta(z, a, y, activation)


class SoftmaxCrossEntropy(Cost):
    """Fused softmax + cross-entropy on logits z:  fn = Σ_x [(Σ_j y_xj) logsumexp(z_x) − y_x·z_x],
    grad = (Σ_j y_xj) softmax(z_x) − y_x  (= softmax(z) − y when each target row sums to 1).

    ``y`` may be one-hot or soft targets (same shape as z; rows need not sum to 1: the gradient is the general
    one) or integer labels (one per example).
    """

    name = "softmax_cross_entropy"

    def __init__(self, class_axis: int = -1):
        self.class_axis = class_axis

    def _check_labels(self, z: Array, y: Array) -> None:
        """Integer labels: one per example, each in 0..n_classes − 1 (else a clear error)."""
        n_classes = z.shape[self.class_axis]
        batch_shape = tuple(s for i, s in enumerate(z.shape) if i != self.class_axis % z.ndim)
        if y.dtype.kind not in "iu" or tuple(y.shape) != batch_shape:
            raise ShapeError(f"SoftmaxCrossEntropy: logits have shape {tuple(z.shape)}; targets must be one-hot of "
                             f"that shape or integer labels of shape {batch_shape}, got {y.dtype} {tuple(y.shape)}")
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= n_classes:
            raise ValueError(f"SoftmaxCrossEntropy: labels must lie in 0..{n_classes - 1}, got range {lo}..{hi}")

    def _onehot(self, z: Array, y: Array) -> Array:
        if tuple(y.shape) == tuple(z.shape):
            return y
        self._check_labels(z, y)
        onehot = one_hot(y.reshape(-1), z.shape[self.class_axis], z.dtype)
        return onehot if self.class_axis in (-1, z.ndim - 1) else onehot.T

    def fn(self, z: Array, y: Array) -> Array:
        xp = B.xp
        y = self._onehot(z, y)
        m = z.max(axis=self.class_axis, keepdims=True)
        lse = m + xp.log(xp.exp(z - m).sum(axis=self.class_axis, keepdims=True))
        return (lse * y.sum(axis=self.class_axis, keepdims=True)).sum() - (y * z).sum()

    def grad(self, z: Array, y: Array) -> Array:
        s = A.softmax(z, axis=self.class_axis)
        if tuple(y.shape) != tuple(z.shape):  # integer labels: one-hot rows sum to 1
            return s - self._onehot(z, y)
        return s * y.sum(axis=self.class_axis, keepdims=True) - y  # the general gradient (Σ_j y_j) s − y

    def fn_and_grad(self, z: Array, y: Array, scale: float = 1.0) -> tuple[Array, Array]:
        """``(fn(z, y), scale · grad(z, y))`` from one pass: e = exp(z − max z) gives both
        logsumexp(z) = max z + ln Σ e and softmax(z) = e / Σ e, and the targets are checked once.
        ``scale`` (``Model`` passes 1/n for the batch mean) multiplies the gradient only.  The returned
        gradient is a fresh array that the caller may overwrite.

        Speed: integer labels y of logits z (n, classes) are used as indices — Σ_x y_x·z_x is the sum of
        z[x, y_x], and softmax − y subtracts 1 at those places — with no one-hot matrix."""
        xp = B.xp
        ax = self.class_axis
        by_index = tuple(y.shape) != tuple(z.shape) and z.ndim == 2 and ax in (-1, 1)
        if by_index:
            self._check_labels(z, y)
        else:
            labels = tuple(y.shape) != tuple(z.shape)
            y = self._onehot(z, y)
        m = z.max(axis=ax, keepdims=True)
        e = z - m
        xp.exp(e, out=e)
        s = e.sum(axis=ax, keepdims=True)
        lse = xp.log(s)
        lse += m  # logsumexp per example
        ysum = None  # Σ_j y_j per row, for targets given as arrays of z's shape
        if by_index:
            rows = xp.arange(z.shape[0])
            total = lse.sum() - z[rows, y].sum()
        elif labels:  # one-hot rows built from labels sum to 1: Σ_x logsumexp(z_x) directly
            total = lse.sum() - (y * z).sum()
        else:
            ysum = y.sum(axis=ax, keepdims=True)
            total = (lse * ysum).sum() - (y * z).sum()
        xp.divide(scale, s, out=s)
        if ysum is not None:
            s *= ysum  # the general gradient (Σ_j y_j) softmax(z) − y: one product per row, not per entry
        e *= s  # softmax(z) · scale (· Σ_j y_j)
        if by_index:
            e[rows, y] -= scale
        else:
            e -= y if scale == 1.0 else y * scale
        return total, e

    def delta(self, z: Array, a: Array, y: Array, activation: A.Activation) -> Array:
        return self.grad(z, y)


COSTS: dict[str, type[Cost]] = {c.name: c for c in (QuadraticCost, MSECost, CrossEntropyCost, SoftmaxCrossEntropy)}


def get(cost: str | Cost) -> Cost:
    """A cost by name: ``"quadratic"``, ``"mse"``, ``"cross_entropy"``, ``"softmax_cross_entropy"``."""
    if isinstance(cost, Cost):
        return cost
    try:
        return COSTS[cost]()
    except KeyError:
        raise ValueError(f"unknown cost {cost!r}; choose one of {sorted(COSTS)}") from None


def quadratic(a: Array, y: Array) -> float:
    """Mean over the batch (rows) of ½‖a − y‖²."""
    return float(QuadraticCost().fn(a, y)) / a.shape[0]


def mse(a: Array, y: Array) -> float:
    """Mean over the batch (rows) of (1/n_L) Σ_j (y_j − a_j)²."""
    return float(MSECost().fn(a, y)) / a.shape[0]


def cross_entropy(a: Array, y: Array) -> float:
    """Mean over the batch (rows) of the sigmoid cross-entropy."""
    return float(CrossEntropyCost().fn(a, y)) / a.shape[0]


def softmax_cross_entropy(z: Array, y: Array) -> tuple[float, Array]:
    """Mean softmax cross-entropy over the batch (rows) and its gradient dL/dz = (softmax(z) − y)/n."""
    c = SoftmaxCrossEntropy()
    n = z.shape[0]
    return float(c.fn(z, y)) / n, c.grad(z, y) / n
