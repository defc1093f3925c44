"""Reverse-mode automatic differentiation from scratch: a scalar :class:`Value` and an array :class:`Tensor`.

Lecture 4's computational graph made executable.  Every operation builds a node that remembers its inputs
(``_prev``) and a closure ``_backward`` applying its **local** derivative — the chain rule, one edge at a time:
for ``out = f(a, b)``,

    ∂C/∂a += ∂C/∂out · ∂out/∂a,        ∂C/∂b += ∂C/∂out · ∂out/∂b.

``+=``, never ``=``: a node used twice (``x * x``, or ``x`` feeding two layers) receives one contribution per use,
and the multivariable chain rule adds them.  :func:`backward` visits the graph in **reverse topological order**
(every node after all the nodes that use it), so a node's ``grad`` is complete before its closure passes it on;
it zeroes every ``grad`` of the graph first and seeds the output with ∂C/∂C = 1.

One backward pass costs a small constant times the forward pass whatever the number of inputs n; central
differences need 2n forward passes (lecture 13 measures both).  This is micrograd (A. Karpathy, MIT licence)
in spirit, with NumPy arrays and broadcasting added; PyTorch's autograd and JAX's ``grad`` do the same at scale.
It is written here rather than imported because the course is about how it works — nnlib's layers keep their
hand-written backward passes, which :mod:`tests.test_autograd` checks against this engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = ["Value", "Tensor", "topo_order", "backward", "unbroadcast"]


def topo_order(root: Any) -> list:
    """Every node reachable from ``root`` through ``_prev``, each once, every node **after** its inputs.

    Iterative depth-first search (no recursion limit on deep graphs): a node is appended when all of its
    inputs are.  ``root`` comes last; :func:`backward` walks the list reversed.
    """
    order, seen = [], set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for child in reversed(node._prev):
            if id(child) not in seen:
                stack.append((child, False))
    return order


def backward(root: Any) -> None:
    """Fill ``grad`` of every node of ``root``'s graph with ∂root/∂node.

    1. zero every ``grad`` (a second call recomputes; it does not add to the first);
    2. seed ∂root/∂root = 1 (an array of ones for a tensor);
    3. call each node's ``_backward`` in reverse topological order (outputs before inputs).
    """
    order = topo_order(root)
    for node in order:
        node._zero_grad()
    root._seed()
    for node in reversed(order):
        node._backward()


class Value:
    """A scalar node: ``data``, ``grad`` = ∂(output)/∂(this node) after :meth:`backward`, its inputs ``_prev``."""

    __array_priority__ = 1000  # np.float64(2) * Value(3) calls Value.__rmul__

    def __init__(self, data: float, _children: Iterable[Value] = (), _op: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def _zero_grad(self) -> None:
        self.grad = 0.0

    def _seed(self) -> None:
        self.grad = 1.0

    @staticmethod
    def lift(x: Value | float) -> Value:
        """A plain number as a constant leaf (its grad is computed and ignored)."""
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other: Value | float) -> Value:
        """out = a + b: ∂out/∂a = ∂out/∂b = 1."""
        other = Value.lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        """out = a·b: ∂out/∂a = b, ∂out/∂b = a."""
        other = Value.lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Value:
        """out = a^k for a constant k: ∂out/∂a = k a^(k−1)."""
        if isinstance(k, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a number (use exp and log)")
        out = Value(self.data ** k, (self,), f"**{k:g}")

        def _backward() -> None:
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """out = tanh a: ∂out/∂a = 1 − out²."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - t * t) * out.grad
        out._backward = _backward
        return out

    def exp(self) -> Value:
        """out = e^a: ∂out/∂a = e^a = out."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self) -> Value:
        """out = ln a (a > 0): ∂out/∂a = 1/a."""
        if self.data <= 0:
            raise ValueError(f"log of {self.data:g}: the argument must be positive")
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def relu(self) -> Value:
        """out = max(0, a): ∂out/∂a = 1 where a > 0, else 0 (ReLU'(0) = 0, as in lecture 5)."""
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward() -> None:
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-Value.lift(other))

    def __rsub__(self, other: float) -> Value:
        return Value.lift(other) + (-self)

    def __truediv__(self, other: Value | float) -> Value:
        return self * Value.lift(other) ** -1.0

    def __rtruediv__(self, other: float) -> Value:
        return Value.lift(other) * self ** -1.0

    __radd__ = __add__
    __rmul__ = __mul__

    def backward(self) -> None:
        """∂self/∂node into every node's ``grad`` (see :func:`backward`)."""
        backward(self)


# ---------------------------------------------------------------- arrays


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` back to ``shape``: the gradient of an operand that NumPy broadcast.

    Broadcasting copies an operand along the axes it lacks (prepended) or has of length 1; each copy sends a
    gradient back, and the chain rule adds them.  So: sum away the leading axes ``grad`` has in excess, then sum
    with ``keepdims=True`` over every axis where ``shape`` has 1 and ``grad`` has more.
    """
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"grad of shape {grad.shape} cannot be summed to the larger shape {shape}")
    g = grad.sum(axis=tuple(range(extra))) if extra else grad
    axes = tuple(i for i, (n, m) in enumerate(zip(shape, g.shape)) if n == 1 and m != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:
        raise ValueError(f"grad of shape {grad.shape} does not broadcast from shape {shape}")
    return g


class Tensor:
    """An array node (float64) with broadcasting; ``grad`` has the shape of ``data`` after :meth:`backward`.

    Elementwise operations follow NumPy's broadcasting; their ``_backward`` hands each operand
    ``unbroadcast(local · out.grad, operand.shape)``.  For ``out = A @ B``: ∂C/∂A = ∂C/∂out · Bᵀ and
    ∂C/∂B = Aᵀ · ∂C/∂out (the matrix form of BP4 in lecture 5).
    """

    __array_priority__ = 1000  # ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data: Any, _children: Iterable[Tensor] = (), _op: str = ""):
        self.data = np.array(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self._backward: Callable[[], None] = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def __repr__(self) -> str:
        return f"Tensor(shape={self.shape}, op={self._op!r})"

    def _zero_grad(self) -> None:
        self.grad = np.zeros_like(self.data)

    def _seed(self) -> None:
        self.grad = np.ones_like(self.data)

    @staticmethod
    def lift(x: Tensor | Any) -> Tensor:
        return x if isinstance(x, Tensor) else Tensor(x)

    def _unary(self, value: np.ndarray, local: Callable[[np.ndarray], np.ndarray], op: str) -> Tensor:
        """out = f(self) elementwise; ``local(out.data)`` is f' evaluated where needed."""
        out = Tensor(value, (self,), op)

        def _backward() -> None:
            self.grad += local(out.data) * out.grad
        out._backward = _backward
        return out

    def __add__(self, other: Tensor | Any) -> Tensor:
        other = Tensor.lift(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += unbroadcast(out.grad, self.shape)
            other.grad += unbroadcast(out.grad, other.shape)
        out._backward = _backward
        return out

    def __mul__(self, other: Tensor | Any) -> Tensor:
        other = Tensor.lift(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += unbroadcast(other.data * out.grad, self.shape)
            other.grad += unbroadcast(self.data * out.grad, other.shape)
        out._backward = _backward
        return out

    def __matmul__(self, other: Tensor | Any) -> Tensor:
        """2-D matrix product."""
        other = Tensor.lift(other)
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise ValueError(f"@ takes 2-D tensors, got shapes {self.shape} and {other.shape}")
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward() -> None:
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad
        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Tensor:
        return self._unary(self.data ** k, lambda _: k * self.data ** (k - 1), f"**{k:g}")

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other: Tensor | Any) -> Tensor:
        return self + (-Tensor.lift(other))

    def __rsub__(self, other: Any) -> Tensor:
        return Tensor.lift(other) + (-self)

    def __truediv__(self, other: Tensor | Any) -> Tensor:
        return self * Tensor.lift(other) ** -1.0

    __radd__ = __add__
    __rmul__ = __mul__

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """out = Σ over ``axis``: every summed entry gets out.grad (broadcast back over the summed axes)."""
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def _backward() -> None:
            g = out.grad
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            self.grad += np.broadcast_to(g, self.shape)
        out._backward = _backward
        return out

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Σ / (number of entries summed)."""
        n = self.data.size // max(1, np.asarray(self.data.sum(axis=axis, keepdims=True)).size)
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / n)

    def exp(self) -> Tensor:
        """(e^a)' = e^a = out."""
        return self._unary(np.exp(self.data), lambda o: o, "exp")

    def log(self) -> Tensor:
        """(ln a)' = 1/a."""
        return self._unary(np.log(self.data), lambda _: 1.0 / self.data, "log")

    def sigmoid(self) -> Tensor:
        """σ'(z) = σ(z)(1 − σ(z)) = out (1 − out)."""
        s = 0.5 * (1.0 + np.tanh(0.5 * self.data))  # σ without overflow in exp
        return self._unary(s, lambda o: o * (1.0 - o), "sigmoid")

    def tanh(self) -> Tensor:
        return self._unary(np.tanh(self.data), lambda o: 1.0 - o * o, "tanh")

    def relu(self) -> Tensor:
        return self._unary(np.maximum(self.data, 0.0), lambda _: (self.data > 0).astype(np.float64), "relu")

    def reshape(self, *shape: int) -> Tensor:
        out = Tensor(self.data.reshape(*shape), (self,), "reshape")

        def _backward() -> None:
            self.grad += out.grad.reshape(self.shape)
        out._backward = _backward
        return out

    def transpose(self) -> Tensor:
        out = Tensor(self.data.T, (self,), "T")

        def _backward() -> None:
            self.grad += out.grad.T
        out._backward = _backward
        return out

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        return self.transpose()

    def backward(self) -> None:
        """∂(sum of self)/∂node into every node's ``grad``: the seed is an array of ones (see :func:`backward`)."""
        backward(self)
