"""A residual block (He et al., 2016, "ResNet"): y = x + F(x), F a short stack of layers.

Forward, with F the layers of the block run in order::

    a = x,  a ← layer(a) for each layer of F,   y = x + a                (F(x) must have x's shape)

Backward, with δ = ∂L/∂y from above: y depends on x twice, through the identity and through F, so the
chain rule adds the two paths (lecture 4: a variable used twice gets the sum of its two gradients)::

    ∂L/∂x = δ + (∂F/∂x)ᵀ δ          the skip connection passes δ back unchanged: the "gradient highway"

A plain stack multiplies δ by one Jacobian per layer, and with sigmoid's σ' ≤ 1/4 the product shrinks
geometrically with depth (lecture 7's vanishing gradients).  Through residual blocks ∂L/∂x is δ *plus* a
correction, so even a block whose F has a tiny Jacobian passes the gradient to the layers below.

``Residual(layers)`` is a ``Layer``: a ``Model`` stacks it like any other.  Its ``params`` and ``grads`` are
the inner layers' own arrays, named ``"<i>.<name>"`` (``"0.W"`` for the first inner layer's W), so optimisers
update the inner layers in place and checkpoints carry them.  ``Model(l2=...)`` decays only parameters
named ``W``: inside a block use the optimiser's ``weight_decay`` instead.  After ``backward`` the block keeps
the two terms of ∂L/∂x: ``delta`` (δ, the skip path) and ``delta_through_F`` ((∂F/∂x)ᵀ δ).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnlib._checks import ShapeError, check_array, trusted
from nnlib.layers import Layer

Array = Any

__all__ = ["Residual"]


class Residual(Layer):
    """y = x + F(x) with F = ``layers`` run in order; see the module docstring."""

    def __init__(self, layers: Sequence[Layer]):
        layers = list(layers) if isinstance(layers, (list, tuple)) else layers
        if not isinstance(layers, list) or not layers or not all(isinstance(la, Layer) for la in layers):
            raise TypeError(f"Residual: layers must be a non-empty list of nnlib layers, got {layers!r}")
        self.layers = layers
        super().__init__()  # sets the label, and so the inner layers' labels
        self.params = {f"{i}.{k}": p for i, la in enumerate(self.layers) for k, p in la.params.items()}

    def __repr__(self) -> str:
        return f"Residual([{', '.join(repr(la) for la in self.layers)}])"

    def _relabel(self) -> None:
        for i, la in enumerate(self.layers):
            la.label = f"{self.label} › inner layer {i} ({la!r})"

    @property
    def label(self) -> str:
        return self._label

    @label.setter
    def label(self, value: str) -> None:  # a Model renames its layers: the inner ones follow
        self._label = value
        if hasattr(self, "layers"):
            self._relabel()

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label)
        a = x
        with trusted():  # x is checked; what the inner layers compute from it is finite or their own error
            for la in self.layers:
                a = la.forward(a, train)
        if tuple(a.shape) != tuple(x.shape):
            raise ShapeError(f"{self.label}: the inner layers map input {tuple(x.shape)} to {tuple(a.shape)}; "
                             "a residual block needs F(x) of the input's shape to add x to it")
        self.cache = tuple(x.shape)
        return x + a

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        self._check_dout(dout, self.cache)
        d = dout
        with trusted():
            for la in reversed(self.layers):
                d = la.backward(d)
        self.grads = {f"{i}.{k}": la.grads[k] for i, la in enumerate(self.layers) for k in la.params}
        self.delta, self.delta_through_F = dout, d  # the two terms, kept for plots (references, no copies)
        return dout + d  # the skip path's δ plus the path through F
