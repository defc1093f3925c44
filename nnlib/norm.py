"""Batch normalisation (Ioffe & Szegedy, 2015) with PyTorch's semantics: ``BatchNorm1d`` and ``BatchNorm2d``.

For every channel c (a feature of a dense layer, a feature map of a convolution) the layer normalises its
input over the m values that channel has in the batch — the n examples for (n, C), and also every position
for (n, C, L) and (n, C, H, W) — then scales and shifts it by two learned parameters γ_c, β_c:

    μ_c   = (1/m) Σ x                       the batch mean
    σ²_c  = (1/m) Σ (x − μ_c)²              the batch variance (biased: divided by m)
    x̂     = (x − μ_c) / √(σ²_c + ε)         ε = 1e-5
    y     = γ_c x̂ + β_c                     γ = 1, β = 0 at the start

Training (``forward(x, train=True)``) normalises with the batch's μ and σ², and updates running estimates
used at evaluation time, with momentum m = 0.1 (PyTorch's convention: the weight of the NEW value)::

    running_mean ← (1 − m) running_mean + m μ
    running_var  ← (1 − m) running_var  + m σ²_unbiased,   σ²_unbiased = Σ (x − μ)² / (m_c − 1)

(momentum=None: the cumulative average, m = 1/t at the t-th training batch).  Evaluation
(``train=False``, the default of ``forward`` and of ``Model.forward``) uses running_mean and running_var
instead of the batch's statistics, so each example's output no longer depends on the rest of its batch.

Backward.  With δ = ∂L/∂y, sums Σ over the m values of a channel:

    ∂L/∂β_c = Σ δ,      ∂L/∂γ_c = Σ δ x̂
    training:    ∂L/∂x = γ_c / √(σ²_c + ε) · (δ − (1/m) Σ δ − x̂ (1/m) Σ δ x̂)
    evaluation:  ∂L/∂x = γ_c / √(running_var_c + ε) · δ          (the statistics are constants)

The training formula is the chain rule through μ and σ², which depend on every x of the channel: the
gradient of a BatchNorm layer couples the examples of a batch.

Conventions.  γ and β are ``params["gamma"]``/``params["beta"]``; ``Model``'s L2 penalty applies to
weights named ``W`` only, so it does not decay γ and β (``torch.optim`` weight decay would).  The running
statistics are not parameters: they are in ``layer.buffers`` (``running_mean``, ``running_var``) and
``layer.num_batches_tracked``.  ``affine=False`` drops γ and β; ``track_running_stats=False`` keeps no
running statistics and normalises with the batch's in evaluation too — both as in PyTorch.

Speed: the channel sums are one reduction each, over all examples and positions at once; elementwise
results keep x's memory order, so a convolution's batch-last output (``nnlib.layers``) stays batch-last.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnlib import backend as B
from nnlib._checks import ShapeError, check_array
from nnlib.layers import Layer

Array = Any

__all__ = ["batchnorm_forward", "batchnorm_backward", "BatchNorm1d", "BatchNorm2d"]


def _reduce_axes(ndim: int) -> tuple[int, ...]:
    """Every axis but the channel axis 1."""
    return (0, *range(2, ndim))


def _per_channel(v: Array, ndim: int) -> Array:
    """A (C,) vector shaped (1, C, 1, …) to broadcast against an ndim-d input."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batchnorm_forward(x: Array, gamma: Array | None, beta: Array | None, eps: float = 1e-5,
                      mean: Array | None = None, var: Array | None = None) -> tuple[Array, tuple, tuple]:
    """y = γ (x − μ)/√(σ² + ε) + β per channel (axis 1), x of shape (n, C, …).

    With ``mean``/``var`` None the statistics are the batch's (training): μ = mean, σ² = biased variance
    over every axis but 1.  Given ``mean`` and ``var`` (C,) they are used instead (evaluation).  γ, β None
    mean 1 and 0 (``affine=False``).  Returns (y, cache, (μ, Σ(x − μ)², m)): the batch's mean, sum of
    squared deviations and count per channel (training only, else None), for the running statistics.
    """
    xp = B.xp
    axes, nd = _reduce_axes(x.ndim), x.ndim
    m = x.size // x.shape[1]
    if mean is None:
        mu = x.mean(axis=axes)
        xc = x - _per_channel(mu, nd)
        ss = (xc * xc).sum(axis=axes)  # Σ (x − μ)², two passes: no cancellation
        inv_std = 1.0 / xp.sqrt(ss / m + eps)
        stats = (mu, ss, m)
    else:
        xc = x - _per_channel(mean, nd)
        inv_std = 1.0 / xp.sqrt(var + eps)
        stats = None
    xhat = xc
    xhat *= _per_channel(inv_std, nd)
    out = xhat * _per_channel(gamma, nd) if gamma is not None else xp.copy(xhat)  # the cache keeps x̂ intact
    if beta is not None:
        out += _per_channel(beta, nd)
    scale = inv_std if gamma is None else gamma * inv_std  # ∂y/∂x along the normalisation, per channel
    return out, (xhat, scale, mean is None, m), stats


def batchnorm_backward(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """(∂L/∂x, ∂L/∂γ, ∂L/∂β) from δ = dout (see the module docstring for the formulas)."""
    xhat, scale, train, m = cache
    axes, nd = _reduce_axes(dout.ndim), dout.ndim
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    if not train:
        return dout * _per_channel(scale, nd), dgamma, dbeta
    dx = xhat * _per_channel(dgamma / -m, nd)  # −x̂ (1/m) Σ δ x̂
    dx += dout
    dx -= _per_channel(dbeta / m, nd)
    dx *= _per_channel(scale, nd)
    return dx, dgamma, dbeta


class _BatchNorm(Layer):
    """Shared by ``BatchNorm1d`` and ``BatchNorm2d``; they differ only in the input ranks they accept."""

    _ndims: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype: Any = np.float64):
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive integer, got {num_features!r}")
        if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
            raise ValueError(f"{name}: eps must be a positive number, got {eps!r}")
        if momentum is not None and not (isinstance(momentum, (int, float)) and 0 <= momentum <= 1):
            raise ValueError(f"{name}: momentum must be in [0, 1] or None (cumulative average), got {momentum!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        super().__init__()
        C = self.num_features
        self.dtype = np.dtype(dtype)
        if self.affine:
            self.params = {"gamma": B.to_device(np.ones(C, dtype=self.dtype)),
                           "beta": B.to_device(np.zeros(C, dtype=self.dtype))}
        self.buffers: dict[str, Array] = {}
        if self.track_running_stats:
            self.buffers = {"running_mean": B.to_device(np.zeros(C, dtype=self.dtype)),
                            "running_var": B.to_device(np.ones(C, dtype=self.dtype))}
        self.num_batches_tracked = 0

    def __repr__(self) -> str:
        extra = "" if self.momentum == 0.1 else f", momentum={self.momentum}"
        extra += "" if self.eps == 1e-5 else f", eps={self.eps:g}"
        extra += "" if self.affine else ", affine=False"
        extra += "" if self.track_running_stats else ", track_running_stats=False"
        return f"{type(self).__name__}({self.num_features}{extra})"

    @property
    def running_mean(self) -> Array | None:
        return self.buffers.get("running_mean")

    @property
    def running_var(self) -> Array | None:
        return self.buffers.get("running_var")

    def reset_running_stats(self) -> None:
        """running_mean ← 0, running_var ← 1, no batches seen (PyTorch's ``reset_running_stats``)."""
        if self.track_running_stats:
            self.buffers["running_mean"][...] = 0
            self.buffers["running_var"][...] = 1
        self.num_batches_tracked = 0

    def _check_input(self, x: Array) -> None:
        check_array(x, self.label)
        C = self.num_features
        if x.ndim not in self._ndims or x.shape[1] != C:
            expected = " or ".join(f"({', '.join(['batch', str(C), *self._layout[i]])})"
                                   for i in range(len(self._ndims)))
            raise ShapeError(f"{self.label}: expected input {expected}, got {tuple(x.shape)}")
        if x.dtype != self.dtype:
            raise TypeError(f"{self.label}: input dtype {x.dtype} differs from the layer's ({self.dtype}); "
                            "cast with x.astype(...) (Model.forward does this for you)")

    def forward(self, x: Array, train: bool = False) -> Array:
        self._check_input(x)
        g, b = self.params.get("gamma"), self.params.get("beta")
        if not train and self.track_running_stats:
            out, self.cache, _ = batchnorm_forward(x, g, b, self.eps, self.buffers["running_mean"],
                                                   self.buffers["running_var"])
            return out
        if x.size // x.shape[1] < 2:
            hint = "use a larger batch, or evaluation mode" if self.track_running_stats else "use a larger batch"
            raise ShapeError(f"{self.label}: batch statistics need more than one value per channel, got input "
                             f"{tuple(x.shape)} with one value per channel ({hint})")
        out, self.cache, (mu, ss, m) = batchnorm_forward(x, g, b, self.eps)
        if train and self.track_running_stats:
            self.num_batches_tracked += 1
            f = 1.0 / self.num_batches_tracked if self.momentum is None else float(self.momentum)
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= 1.0 - f  # in place: the buffers stay the same arrays
            rm += f * mu
            rv *= 1.0 - f
            rv += f * (ss / (m - 1))  # the unbiased variance
        return out

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        self._check_dout(dout, self.cache[0].shape)
        dx, dgamma, dbeta = batchnorm_backward(dout, self.cache)
        if self.affine:
            self.grads["gamma"], self.grads["beta"] = dgamma, dbeta
        return dx


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (n, C) features, or (n, C, L) sequences over n and L (PyTorch's ``BatchNorm1d``).

    Per feature c: y = γ_c (x − μ_c)/√(σ²_c + ε) + β_c, with the batch's μ, σ² in training and the running
    estimates in evaluation; see ``nnlib.norm`` for the statistics, their update and the backward pass.
    """

    _ndims = (2, 3)
    _layout = ((), ("L",))


class BatchNorm2d(_BatchNorm):
    """Spatial batch normalisation of (n, C, H, W) feature maps (PyTorch's ``BatchNorm2d``).

    Per channel c, over the n·H·W values of its feature map in the batch: y = γ_c (x − μ_c)/√(σ²_c + ε) + β_c,
    with the batch's μ, σ² in training and the running estimates in evaluation; see ``nnlib.norm``.  Put it
    between a ``Conv2D`` (whose bias it makes redundant: β plays that role) and the activation.
    """

    _ndims = (4,)
    _layout = (("H", "W"),)
