"""Diagnostics for training: per-layer gradient norms, forward traces, timing of gradient methods.

These are the measurements the lectures draw pictures of:

* ``model_grad_norms(model, x, y)`` and ``network_grad_norms(net, x, y)``: ‖∂C/∂W^l‖ and
  ‖δ^l‖ = ‖∂C/∂b^l‖ layer by layer — the *speed of learning* of each layer (Nielsen ch. 5).
  In a deep sigmoid network they shrink towards the input: the vanishing gradient problem.
* ``network_trace(net, X)``: the weighted inputs z^l and activations a^l of every layer, to
  look at saturation (|z| large, σ'(z) ≈ 0) after different initialisations.
* ``time_gradients(net, x, y)``: seconds for one full gradient by finite differences
  (O(W) cost evaluations of O(W) each: O(W²)) and by backpropagation (O(W)).
* ``loglog_slope(x, y)``: the exponent p of a power law y ∝ x^p fitted on a log-log plot.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from nnlib import backend as B
from nnlib.gradcheck import network_cost, numerical_gradient

__all__ = ["model_grad_norms", "network_grad_norms", "network_trace", "count_params", "time_gradients",
           "loglog_slope"]


def _norm(a: Any) -> float:
    return float(np.linalg.norm(B.to_host(a).ravel()))


def model_grad_norms(model: Any, x: Any, y: Any, param: str = "W") -> dict[str, float]:
    """‖∂C/∂param‖ (Frobenius) for every layer of a ``Model`` that has ``param``, input side first.

    Runs one ``loss_and_grads(x, y)`` (training mode) and reads ``layer.grads``; the
    parameters are not changed.  Keys are the layer labels, e.g. ``"layer 0 (Dense(64→30))"``.
    """
    model.loss_and_grads(x, y)
    return {layer.label: _norm(layer.grads[param]) for layer in model.layers if param in layer.params}


def network_grad_norms(net: Any, x: Any, y: Any, which: str = "b") -> list[float]:
    """Per-layer gradient norms of a Nielsen ``Network`` for the batch (x, y) given as columns.

    ``which="b"`` gives ‖δ^l‖ summed over the batch, i.e. ‖∂C/∂b^l‖ (Nielsen's measure of the
    speed of learning of layer l); ``which="w"`` gives ‖∂C/∂w^l‖.  Layer 2 (the first hidden
    layer) comes first.  The norms are of the mean gradient over the batch.
    """
    if which not in ("b", "w"):
        raise ValueError(f"network_grad_norms: which must be 'b' or 'w', got {which!r}")
    nabla_b, nabla_w = net.backprop(x, y)
    m = x.shape[1] if getattr(x, "ndim", 1) == 2 else 1
    grads = nabla_b if which == "b" else nabla_w
    return [_norm(g) / m for g in grads]


def network_trace(net: Any, X: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weighted inputs ``zs`` and activations ``activations`` of a ``Network`` for rows X (N, n_in).

    ``zs[i]`` and ``activations[i + 1]`` belong to layer i + 2 (``activations[0]`` is X), as
    host arrays of shape (N, n_l).
    """
    a = B.to_device(np.asarray(X, dtype=net.dtype)) if isinstance(X, np.ndarray) else X
    if a.ndim != 2 or a.shape[1] != net.sizes[0]:
        raise ValueError(f"network_trace: X must have shape (N, {net.sizes[0]}), got {tuple(a.shape)}")
    zs, acts = net._forward(a)  # the network's own forward pass
    return [B.to_host(z) for z in zs], [B.to_host(a) for a in acts]


def count_params(obj: Any) -> int:
    """Number of trainable numbers W in a ``Network`` (weights + biases) or a ``Model``."""
    if hasattr(obj, "weights") and hasattr(obj, "biases"):
        return int(sum(w.size for w in obj.weights) + sum(b.size for b in obj.biases))
    if hasattr(obj, "params"):
        return int(sum(p.size for p in obj.params()))
    raise TypeError(f"count_params: expected a Network or a Model, got {type(obj).__name__}")


def time_gradients(net: Any, x: Any, y: Any, numerical: bool = True, h: float = 1e-5,
                   repeats: int = 3, clock: Any = time.perf_counter) -> dict[str, float]:
    """Seconds for one full gradient of a ``Network`` on the columns (x, y).

    ``"backprop"``: best of ``repeats`` calls of ``net.backprop``.  ``"numerical"`` (if
    ``numerical``): one pass of 3-point central differences over every weight and bias —
    2 cost evaluations per parameter.  Also returns ``"W"``, the number of parameters.
    ``clock``: the wall clock by default; ``time.process_time`` counts only the CPU time of this
    process, which other programs running on a busy machine do not inflate.
    """

    out: dict[str, float] = {"W": float(count_params(net))}
    best = np.inf
    for _ in range(max(1, repeats)):
        t0 = clock()
        net.backprop(x, y)
        best = min(best, clock() - t0)
    out["backprop"] = best
    if numerical:
        total_cost = network_cost(net, x, y)
        t0 = clock()
        for p in [*net.biases, *net.weights]:
            numerical_gradient(total_cost, p, h, points=3)
        out["numerical"] = clock() - t0
    return out


def loglog_slope(x: Any, y: Any) -> float:
    """Least-squares slope p of log y = p log x + c: the exponent of a power law y ∝ x^p."""
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    if lx.size < 2:
        raise ValueError("loglog_slope: need at least two points")
    return float(np.polyfit(lx, ly, 1)[0])
