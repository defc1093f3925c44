"""Gradient checking: numerical gradients, relative errors, and a diagnosis of what is wrong.

Central differences:  ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h, error O(h²); the default
five-point stencil (−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h has error O(h⁴), so float64
checks reach relative errors near 1e-10 instead of 1e-7.
Relative error as in CS231n:  max_i |a_i − n_i| / max(|a_i| + |n_i|, 1e-8).
In float64 a correct gradient gives < 1e-7 (typically ~1e-10); a wrong one ~1.

``diagnose(candidate, reference)`` compares a gradient someone computed with a
reference and names the likely mistake (transposed, wrong sign, summed where
the mean is expected, missing σ', bias summed over the wrong axis, all zeros,
the gradient of a different layer, ...).  ``str(diagnosis)`` is the one
message that a learner, an nbgrader test and CI all show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnlib import backend as B

Array = Any

__all__ = ["numerical_gradient", "numerical_gradient_array", "rel_error", "check_layer", "check_model",
           "check_network", "network_cost", "network_suspects", "Diagnosis", "diagnose", "assert_gradient",
           "GradientError"]


# ---------------------------------------------------------------- numbers


def rel_error(a: Any, b: Any) -> float:
    """CS231n's relative error: max_i |a_i − b_i| / max(|a_i| + |b_i|, 1e-8)."""
    a = np.asarray(B.to_host(a), dtype=np.float64)
    b = np.asarray(B.to_host(b), dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f: Callable[[Array], Any], x: Array, h: float = 1e-3, points: int = 5) -> Array:
    """∂f/∂x by central differences for a scalar function f of the array x (changed and restored in place).

    ``points=5`` (default): the five-point stencil
    f'(x) ≈ [f(x − 2h) − 8 f(x − h) + 8 f(x + h) − f(x + 2h)] / (12h), error O(h⁴), four evaluations of f
    per entry of x; ``points=3``: [f(x + h) − f(x − h)] / (2h), error O(h²), two evaluations per entry.
    Either way O(W) evaluations of f, so O(W²) work for a network — the reason backpropagation, O(W),
    is used instead.
    """
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient: use float64 (got {x.dtype}); float32 rounding swamps h = {h}")
    if points not in (3, 5):
        raise ValueError(f"numerical_gradient: points must be 3 or 5, got {points}")
    if x.flags.c_contiguous:
        order = "C"
    elif x.flags.f_contiguous:  # e.g. a Dense layer's W, stored column-major
        order = "F"
    else:
        raise ValueError("numerical_gradient: x must be contiguous (C or Fortran order) so it can be perturbed "
                         f"in place; got a strided view of shape {tuple(x.shape)}")
    grad = B.xp.zeros_like(x, order=order)
    flat, gflat = x.reshape(-1, order=order), grad.reshape(-1, order=order)  # views, in memory order
    offsets = (1, -1) if points == 3 else (1, -1, 2, -2)
    for i in range(x.size):
        old = float(flat[i])
        fv = {}
        for k in offsets:
            flat[i] = old + k * h
            fv[k] = float(f(x))
        flat[i] = old
        d1 = fv[1] - fv[-1]  # differences first: an unaffected entry gives exactly 0
        gflat[i] = d1 / (2 * h) if points == 3 else (8 * d1 - (fv[2] - fv[-2])) / (12 * h)
    return grad


def numerical_gradient_array(f: Callable[[Array], Array], x: Array, dout: Array, h: float = 1e-3) -> Array:
    """Gradient of Σ f(x) ⊙ dout with respect to x: what ``backward(dout)`` must return."""
    return numerical_gradient(lambda v: float((f(v) * dout).sum()), x, h)


def check_layer(layer: Any, x: Array, dout: Array | None = None, train: bool = False, h: float = 1e-3,
                seed: int = 0) -> dict[str, float]:
    """Relative errors of a layer's ``backward`` (∂/∂x and every parameter) against central differences.

    ``dout`` is the upstream gradient (random normal if not given).  Dropout masks are frozen.
    """
    out = layer.forward(x, train)
    if dout is None:
        dout = B.to_device(np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(x.dtype))
    if hasattr(layer, "fixed_mask") and train:
        layer.fixed_mask = layer.cache
    dx = layer.backward(dout)
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    errors = {"x": rel_error(dx, numerical_gradient_array(lambda v: layer.forward(v, train), x, dout, h))}
    for name, p in layer.params.items():
        num = numerical_gradient_array(lambda _: layer.forward(x, train), p, dout, h)
        errors[name] = rel_error(analytic[name], num)
    if hasattr(layer, "fixed_mask"):
        layer.fixed_mask = None
    return errors


def check_model(model: Any, x: Array, y: Array, h: float = 1e-3) -> dict[str, float]:
    """Relative error of every parameter gradient of a ``Model`` (loss incl. L2) against central differences."""
    model.loss_and_grads(x, y)
    analytic = [g.copy() for g in model.grads()]
    dropouts = [layer for layer in model.layers if hasattr(layer, "fixed_mask")]
    for layer in dropouts:
        layer.fixed_mask = layer.cache if layer.p else None

    def loss(_: Array) -> float:
        out = model.forward(x, train=True)
        yy = model._targets(y, out)
        return float(model.cost.fn(out, yy)) / out.shape[0] + model.weight_penalty()

    errors = {name: rel_error(g, numerical_gradient(loss, p, h))
              for (name, p), g in zip(model.named_params(), analytic)}
    for layer in dropouts:
        layer.fixed_mask = None
    return errors


def network_cost(net: Any, x: Array, y: Array) -> Callable[[Array], float]:
    """Σ_x C_x of a Nielsen ``Network`` on columns x (n_in, m), y (n_out, m), as a function for
    ``numerical_gradient`` (its argument is ignored: the parameters are perturbed in place)."""
    xr = net._columns(x, "network_cost").T
    yr = B.to_device(y).reshape(net.sizes[-1], -1).T.astype(net.dtype)

    def total_cost(_: Array) -> float:
        return float(net.cost.fn(net._forward(xr)[1][-1], yr))  # the network's own forward pass

    return total_cost


def check_network(net: Any, x: Array, y: Array, h: float = 1e-3) -> dict[str, float]:
    """Relative errors of ``Network.backprop(x, y)`` (sum over the columns of x) against central differences."""
    nabla_b, nabla_w = net.backprop(x, y)
    total_cost = network_cost(net, x, y)
    errors = {}
    for i, (nb, nw) in enumerate(zip(nabla_b, nabla_w)):
        errors[f"nabla_b[{i}]"] = rel_error(nb, numerical_gradient(total_cost, net.biases[i], h))
        errors[f"nabla_w[{i}]"] = rel_error(nw, numerical_gradient(total_cost, net.weights[i], h))
    return errors


def network_suspects(net: Any, x: Array, y: Array) -> dict[str, list[dict[str, Array]]]:
    """What typical backprop bugs would return for ``net.backprop(x, y)``, to pass to ``diagnose(suspects=...)``.

    Returns, per layer index l, a dict ``{kind: wrong gradient}`` for ``nabla_w[l]`` and ``nabla_b[l]``:
    "missing_activation_derivative" (σ' left out of BP1/BP2) and "other_layer:<i>" (another layer's gradient).
    """
    from nnlib import activations as A

    no_prime = A.Activation(net.activation.name, net.activation.f, lambda z: B.xp.ones_like(z))
    saved = net.activation
    try:
        net.activation = no_prime
        bad_b, bad_w = net.backprop(x, y)
    finally:
        net.activation = saved
    good_b, good_w = net.backprop(x, y)
    out: dict[str, list[dict[str, Array]]] = {"nabla_w": [], "nabla_b": []}
    for l in range(len(good_w)):
        sw = {"missing_activation_derivative": bad_w[l]}
        sb = {"missing_activation_derivative": bad_b[l]}
        for o in range(len(good_w)):
            if o != l:
                sw[f"other_layer:nabla_w[{o}]"] = good_w[o]
                sb[f"other_layer:nabla_b[{o}]"] = good_b[o]
        out["nabla_w"].append(sw)
        out["nabla_b"].append(sb)
    return out


# ---------------------------------------------------------------- diagnosis


@dataclass
class Diagnosis:
    """The verdict on one gradient: ``ok``, a ``kind`` from a fixed vocabulary, and the message."""

    ok: bool
    kind: str
    message: str
    rel_error: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        return self.ok


class GradientError(AssertionError):
    """Raised by ``assert_gradient``; its text is the diagnosis message."""

    def __init__(self, diagnosis: Diagnosis):
        super().__init__(diagnosis.message)
        self.diagnosis = diagnosis


HINTS = {
    "correct": "looks correct",
    "none": "is None: the function did not return it (is there a `return` at the end?)",
    "not_array": "is not an array",
    "nan": "contains NaN or inf: look for a division by zero, log(0), or an overflowing exp",
    "zeros": "is all zeros: the gradient was never computed or never accumulated "
             "(add each example's contribution into nabla, and return the filled arrays)",
    "transposed": "equals the correct gradient transposed. ∂C/∂w^l_jk = a^(l-1)_k δ^l_j, so ∇w^l = δ^l (a^(l-1))ᵀ "
                  "has the shape of w^l: (neurons in layer l, neurons in layer l-1)",
    "sign": "has the opposite sign: check (a − y) against (y − a), and every minus sign on the way back",
    "batch_sum": "is {factor:g}× too large: it is summed over the {m} examples of the batch where the mean is "
                 "expected — divide by the batch size",
    "batch_mean": "is {factor:g}× too small: it is divided by the batch size where the sum over the examples is "
                  "expected (Nielsen's backprop returns the sum; update_mini_batch divides by m)",
    "scale": "is off by a constant factor {factor:.4g}: look for a missing or extra ½, 2, η or 1/n",
    "missing_activation_derivative": "matches a gradient computed without the activation derivative: "
                                     "BP1 and BP2 multiply elementwise by σ'(z^l) — δ^l = (…) ⊙ σ'(z^l)",
    "bias_axis": "is summed over the wrong axis: ∇b sums δ over the examples of the batch, not over the neurons "
                 "(expected shape {expected}, got {got})",
    "bias_not_summed": "still has one entry per example: sum δ over the batch axis to get ∇b "
                       "(expected shape {expected}, got {got})",
    "reshape": "has the right values but shape {got} instead of {expected} (keep the shapes of the parameters: "
               "biases are column vectors (n, 1) in Nielsen's layout)",
    "shape": "has shape {got} but should have shape {expected}",
    "other_layer": "equals the gradient of {other}: a layer index is off by one "
                   "(layer l uses δ^l and the activations a^(l-1) of the layer before it)",
    "wrong": "does not match the reference: relative error {rel_:.2e} (a correct gradient gives < {tol:.0e})",
}


def _fmt(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def _close(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    return a.shape == b.shape and rel_error(a, b) < tol if a.size else a.shape == b.shape


def _normwise_close(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return a.shape == b.shape and (scale == 0 or np.linalg.norm(a - b) / scale < tol)


def diagnose(candidate: Any, reference: Any, name: str = "gradient", *, batch_size: int | None = None,
             suspects: Mapping[str, Any] | None = None, tol: float | None = None,
             show_values: bool = True) -> Diagnosis:
    """Compare ``candidate`` with the correct ``reference`` gradient and name the likely mistake.

    ``batch_size`` lets it recognise sum-vs-mean and bias-axis mistakes; ``suspects`` maps a mistake kind
    (``"missing_activation_derivative"``, ``"other_layer:<name>"``) to the gradient that mistake gives.
    ``tol`` defaults to 1e-7 for float64 and 1e-4 for float32 candidates.  ``show_values=False`` keeps
    reference numbers out of the message (hidden tests).
    """
    def verdict(kind: str, rel: float | None = None, **fmt: Any) -> Diagnosis:
        hint = HINTS[kind.split(":")[0]].format(**fmt)
        msg = f"{name} {hint}." if kind != "correct" else f"{name} looks correct (relative error {rel:.1e})."
        return Diagnosis(kind == "correct", kind.split(":")[0], msg, rel, dict(fmt))

    if candidate is None:
        return verdict("none")
    try:
        cand_raw = B.to_host(candidate)
        cand = np.asarray(cand_raw, dtype=np.float64)
    except (TypeError, ValueError):
        return verdict("not_array")
    ref = np.asarray(B.to_host(reference), dtype=np.float64)
    if tol is None:
        tol = 1e-4 if getattr(cand_raw, "dtype", np.float64) == np.float32 else 1e-7
    got, expected = _fmt(cand.shape), _fmt(ref.shape)
    if not np.all(np.isfinite(cand)):
        return verdict("nan")

    if cand.shape != ref.shape:
        if cand.ndim == 2 and cand.shape == ref.T.shape and _close(cand.T, ref, tol):
            return verdict("transposed", rel_error(cand.T, ref))
        if cand.size == ref.size and _close(cand.reshape(ref.shape), ref, tol):
            return verdict("reshape", got=got, expected=expected)
        bias_like = ref.ndim == 1 or (ref.ndim == 2 and 1 in ref.shape)
        if bias_like:
            n = ref.size
            if batch_size and cand.size == batch_size and batch_size != n:
                return verdict("bias_axis", got=got, expected=expected)
            if cand.ndim == 2 and batch_size and cand.size == n * batch_size:
                for axis in (0, 1):
                    if cand.shape[axis] == batch_size and _close(cand.sum(axis=axis).reshape(ref.shape), ref, tol):
                        return verdict("bias_not_summed", got=got, expected=expected)
        return verdict("shape", got=got, expected=expected)

    rel = rel_error(cand, ref)
    if rel < tol:
        return verdict("correct", rel)
    if not np.any(cand):
        return verdict("zeros", rel)
    for kind, wrong in (suspects or {}).items():
        wrong = np.asarray(B.to_host(wrong), dtype=np.float64)
        if wrong.shape == cand.shape and _close(cand, wrong, max(tol, 1e-7)):
            base = kind.split(":")[0]
            if base == "other_layer":
                return verdict(kind, rel, other=kind.split(":", 1)[1])
            if base in HINTS and not _close(wrong, ref, tol):
                return verdict(kind, rel)
    if cand.ndim == 2 and cand.shape[0] == cand.shape[1] and _close(cand, ref.T, tol):
        return verdict("transposed", rel)
    if _close(cand, -ref, tol):
        return verdict("sign", rel)
    denom = float((ref * ref).sum())
    if denom > 0:
        factor = float((cand * ref).sum()) / denom
        if _normwise_close(cand, factor * ref, 1e-6):
            m = batch_size or 0
            if m > 1 and abs(factor - m) < 1e-6 * m:
                return verdict("batch_sum", rel, factor=factor, m=m)
            if m > 1 and abs(factor - 1 / m) < 1e-6 / m:
                return verdict("batch_mean", rel, factor=1 / factor, m=m)
            if factor < 0 and m > 1 and abs(abs(factor) - m) < 1e-6 * m:
                return verdict("sign", rel)
            return verdict("scale", rel, factor=factor)
    d = verdict("wrong", rel, rel_=rel, tol=tol)
    diff = np.abs(cand - ref)
    n_bad = int(np.sum(diff > 1e-6 * (np.abs(ref) + np.abs(cand)) + 1e-12))
    extra = f" {n_bad} of {cand.size} entries differ"
    if show_values:
        idx = np.unravel_index(int(np.argmax(diff)), cand.shape)
        extra += f"; the largest difference is at index {tuple(int(i) for i in idx)}: " \
                 f"yours {cand[idx]:.6g}, expected {ref[idx]:.6g}"
    d.message = d.message[:-1] + "." + extra + "."
    return d


def assert_gradient(candidate: Any, reference: Any, name: str = "gradient", **kwargs: Any) -> Diagnosis:
    """``diagnose`` and raise ``GradientError`` (an AssertionError) with its message unless it looks correct."""
    d = diagnose(candidate, reference, name, **kwargs)
    if not d.ok:
        raise GradientError(d)
    return d
