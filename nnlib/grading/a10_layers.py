"""Assignment 10 — modular layers in the style of CS231n's ``layers.py``: affine, ReLU, dropout, softmax loss.

Each layer is a pair ``*_forward(...) → (out, cache)`` / ``*_backward(dout, cache) → gradients``.  A backward
check gets its cache from the learner's own forward function (the cache is whatever the learner keeps:
arrays, numbers, tuples and dicts of them cross the grading boundary as data), after checking that forward.
The references are nnlib's own layers (``nnlib.layers.dense_forward``/``dense_backward``, ``ReLU``,
``Dropout``, ``nnlib.losses.softmax_cross_entropy``), each checked once against central differences in
float64 (relative error < 1e-7); the learner's answers are compared with them at 1e-7.  Batch normalisation is
in :mod:`nnlib.grading.a10_norm`, the two-layer network trained on the digits in :mod:`a10_net`.

The classic mistakes are recomputed from the reference and named (``judge(first=...)``): in affine, W where Wᵀ
belongs, x not flattened, db not summed over the batch; in ReLU, the gradient let through where x < 0 or
multiplied by the output's values; in dropout, no 1/p (not inverted), scaling at test time, a mask drawn
again in the backward pass, p read as the drop probability; in the softmax loss, overflow on large logits and
the mean over N forgotten in the loss or in dx.  Dropout's mask is the learner's (any generator seeded by
``seed``): the check reads it from the output (kept units are x/p) and tests its properties.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnlib import gradcheck as G
from nnlib import layers as L
from nnlib import losses
from nnlib.grading._core import _DOT, _MATMUL, GradingError, close, fail, fname, host, invoke, judge, ok
from nnlib.grading.a10_common import ALLOWED, ALLOWED_TEXT, forward_first, pair, triple, validated
from nnlib.grading.families import through_cases

# (x shape, M, seed): the first case has N ≠ M ≠ D and a 3-d x; the second a square W (D = M), so W used where
# Wᵀ belongs gives numbers there (through_cases names it); the third a 4-d x
AFFINE_CASES = [((3, 2, 4), 5, 0), ((4, 6), 6, 1), ((2, 3, 2, 2), 3, 2)]
RELU_CASES = [((4, 5), 0), ((2, 3, 4), 1)]
# (x shape, p = probability of keeping a unit, seed): enough units that the kept share is p ± 0.03
DROPOUT_CASES = [((100, 80), 0.3, 5), ((60, 90), 0.8, 11)]
# (x shape, seed, offset added to the logits): the last case's logits are near 1000 (exp overflows)
SOFTMAX_CASES = [((5, 4), 0, 0.0), ((3, 7), 1, 0.0), ((4, 3), 2, 1000.0)]


def _call(fn: Callable, name: str, *args: Any, advice: Callable | None = None) -> Any:
    return invoke(fn, name, *args, allowed=ALLOWED, allowed_text=ALLOWED_TEXT, advice=advice)


# ---------------------------------------------------------------- affine


def _affine_data(xs: tuple, M: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    D = int(np.prod(xs[1:]))
    return rng.standard_normal(xs), rng.standard_normal((M, D)), rng.standard_normal(M)


def affine_ref(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return L.dense_forward(x.reshape(x.shape[0], -1), W, b)[0]


def _affine_advice(x: np.ndarray, W: np.ndarray) -> Callable:
    N, (M, D) = x.shape[0], W.shape

    def advice(exc: Any) -> str | None:
        msg = str(exc.message)[:2000]
        m, d = _MATMUL.search(msg), _DOT.search(msg)
        unflattened = x.ndim > 2 and (
            (m is not None and str(x.shape[-1]) in (m.group(3), m.group(4))) or
            (d is not None and d.group(1).count(",") >= 2))
        if unflattened:
            return (f"x has shape {x.shape}: each of its N = {N} examples is a block of {D} numbers — flatten "
                    f"them first, x.reshape(N, -1) of shape ({N}, {D}), then x_flat @ W.T + b")
        if m is not None or d is not None:
            return (f"W has shape (M, D) = ({M}, {D}): row j holds the weights w_jk into output unit j "
                    f"(Nielsen's layout), so out = x_flat @ W.T + b — check the transpose")
        return None
    return advice


def check_affine_forward(affine_forward: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``affine_forward(x, W, b)`` → (out, cache): out = x.reshape(N, D) @ W.T + b, W of shape (M, D).

    ``cases``: list of (x shape, M, seed).
    """
    name = fname(affine_forward, "affine_forward")

    def run(item: tuple) -> None:
        xs, M, seed = tuple(item[0]), int(item[1]), int(item[2])
        x, W, b = _affine_data(xs, M, seed)
        case = f"{name}(x, W, b) with x of shape {xs}, W of shape {W.shape}"
        got = _call(affine_forward, name, x.copy(), W.copy(), b.copy(), advice=_affine_advice(x, W))
        out, _ = pair(got, name, case)
        ref = affine_ref(x, W, b)
        xf = x.reshape(xs[0], -1)
        first = {
            "leaves out the bias b (out = x_flat @ W.T + b)": ref - b,
            "uses W where its transpose belongs: W has shape (M, D), row j holding the weights w_jk into output "
            "unit j (Nielsen's layout), so out = x_flat @ W.T + b": xf @ W + b if W.shape[0] == W.shape[1] else None,
        }
        judge(out, ref, f"the output of {name}", case, show_values, first=first, gradient=False)

    through_cases(run, AFFINE_CASES if cases is None else cases)
    ok(f"{name} looks correct")


def check_affine_backward(affine_backward: Callable, affine_forward: Callable, cases: Sequence | None = None,
                          show_values: bool = True) -> None:
    """``affine_backward(dout, cache)`` → (dx, dW, db), the cache from the learner's ``affine_forward``.

    dx = (dout @ W).reshape(x.shape), dW = doutᵀ x_flat, db = Σ_n dout[n].  ``cases``: (x shape, M, seed).
    """
    name, fwd = fname(affine_backward, "affine_backward"), fname(affine_forward, "affine_forward")

    checked: list = []  # the reference is checked against central differences once

    def run(item: tuple) -> None:
        xs, M, seed = tuple(item[0]), int(item[1]), int(item[2])
        x, W, b = _affine_data(xs, M, seed)
        N, D = xs[0], W.shape[1]
        dout = np.random.default_rng(seed + 7).standard_normal((N, M))
        case = f"{name}(dout, cache) with x of shape {xs}, W of shape {W.shape}, dout of shape {dout.shape}"
        out, cache = pair(_call(affine_forward, fwd, x.copy(), W.copy(), b.copy()), fwd, case)
        forward_first(out, affine_ref(x, W, b), name, fwd, case)
        dx, dW, db = triple(_call(affine_backward, name, dout.copy(), cache, advice=_affine_advice(x, W)), name,
                            case, "(dx, dW, db)")
        xf = x.reshape(N, -1)
        rdx, rdW, rdb = L.dense_backward(dout, (xf, W))
        rdx = rdx.reshape(xs)
        if not checked:
            validated(rdx, G.numerical_gradient_array(lambda v: affine_ref(v, W, b), x.copy(), dout), "affine dx")
            validated(rdW, G.numerical_gradient_array(lambda v: affine_ref(x, v, b), W.copy(), dout), "affine dW")
        checked.append(True)
        if np.shape(dx) == W.shape and np.shape(dW) == xs and W.shape != xs:
            fail(f"{name} returns (dW, dx, db): the order is (dx, dW, db), the input's gradient first", case)
        if x.ndim > 2 and np.shape(dx) == (N, D):
            fail(f"dx from {name} has shape {(N, D)}, the flattened x: give it x's shape {xs} back, "
                 f"dx = (dout @ W).reshape(x.shape)", case, kind="shape")
        consts = {f"N = {N}, the batch size (the gradients add up over the batch)": N}
        judge(dx, rdx, f"dx from {name}", case, show_values, batch_size=N, constants=consts, first={
            "multiplies dout by Wᵀ: out = x_flat Wᵀ + b, so ∂L/∂x_flat = dout W (shape (N, D))":
                (dout @ W.T).reshape(xs) if M == D else None})
        judge(dW, rdW, f"dW from {name}", case, show_values, batch_size=N, constants=consts)
        judge(db, rdb, f"db from {name}", case, show_values, batch_size=N, constants=consts, first={
            "is the mean of dout over the batch: db = Σ_n dout[n] (each example adds b once; the loss's 1/N is "
            "already in dout)": dout.mean(axis=0),
            "is summed over the outputs (axis 1) instead of over the batch (axis 0): db = dout.sum(axis=0)":
                dout.sum(axis=1) if N == M else None})

    through_cases(run, AFFINE_CASES if cases is None else cases)
    ok(f"{name} looks correct")


# ---------------------------------------------------------------- ReLU


def check_relu_forward(relu_forward: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``relu_forward(x)`` → (out, cache): out = max(0, x) elementwise.  ``cases``: (x shape, seed)."""
    name = fname(relu_forward, "relu_forward")
    for xs, seed in RELU_CASES if cases is None else cases:
        xs = tuple(xs)
        x = np.random.default_rng(int(seed)).standard_normal(xs)
        case = f"{name}(x) with x of shape {xs}"
        out, _ = pair(_call(relu_forward, name, x.copy()), name, case)
        if np.shape(out) == xs[1:] and close(out, x.max(axis=0)):
            fail(f"the output of {name} is the largest entry along axis 0 (np.max(x, 0) reduces): ReLU is "
                 "elementwise, np.maximum(x, 0)", case, kind="shape")
        ref = L.ReLU().forward(x)
        judge(out, ref, f"the output of {name}", case, show_values, gradient=False, first={
            "keeps the negative part: ReLU keeps x where x > 0 and gives 0 elsewhere, np.maximum(x, 0)":
                np.minimum(x, 0),
            "is |x|: ReLU sets the negative entries to 0, np.maximum(x, 0)": np.abs(x)})
    ok(f"{name} looks correct")


def check_relu_backward(relu_backward: Callable, relu_forward: Callable, cases: Sequence | None = None,
                        show_values: bool = True) -> None:
    """``relu_backward(dout, cache)`` → dx = dout where x > 0, else 0; the cache from ``relu_forward``."""
    name, fwd = fname(relu_backward, "relu_backward"), fname(relu_forward, "relu_forward")
    for xs, seed in RELU_CASES if cases is None else cases:
        xs = tuple(xs)
        rng = np.random.default_rng(int(seed))
        x, dout = rng.standard_normal(xs), rng.standard_normal(xs)
        case = f"{name}(dout, cache) with x and dout of shape {xs}"
        layer = L.ReLU()
        ref_out = layer.forward(x)
        out, cache = pair(_call(relu_forward, fwd, x.copy()), fwd, case)
        forward_first(out, ref_out, name, fwd, case)
        dx = _call(relu_backward, name, dout.copy(), cache)
        ref = layer.backward(dout)
        mask = (x > 0).astype(float)
        judge(dx, ref, f"dx from {name}", case, show_values, first={
            "lets the gradient through where x < 0: ReLU's local gradient is 1 where x > 0 and 0 elsewhere, "
            "dx = dout * (x > 0)": dout,
            "multiplies dout by the ReLU's output max(0, x): the local gradient is the 0/1 mask (x > 0), not the "
            "output's values": dout * ref_out,
            "multiplies dout by x: the local gradient of max(0, x) is the 0/1 mask (x > 0)": dout * x,
            "is the mask alone: multiply it by dout (the chain rule), dx = dout * (x > 0)": mask,
            "uses the inverted mask: the gradient flows where x > 0 (where the output is positive), not where "
            "it is 0": dout * (1 - mask)})
    ok(f"{name} looks correct")


# ---------------------------------------------------------------- dropout (p = probability of KEEPING a unit)


def _dropout_data(xs: tuple, seed: int) -> np.ndarray:
    return 0.5 + np.abs(np.random.default_rng(seed + 100).standard_normal(xs))  # no zeros: out / x is the mask


def _train_output(dropout_forward: Callable, name: str, x: np.ndarray, p: float, seed: int, case: str) -> tuple:
    """(out, cache) of train mode, checked: every unit is 0 or x/p, about a share p kept, reproducible."""
    out, cache = pair(_call(dropout_forward, name, x.copy(), p, "train", seed), name, case)
    try:
        o = host(out)
    except (TypeError, ValueError):
        fail(f"the output of {name} should be an array, got {type(out).__name__}", case, kind="type")
    if o.shape != x.shape:
        fail(f"the output of {name} has shape {o.shape}, expected x's shape {x.shape}", case, kind="shape")
    if not np.all(np.isfinite(o)):
        fail(f"the output of {name} contains NaN or inf", case)
    kept = o != 0
    if kept.any() and not np.allclose(o[kept], x[kept] / p, rtol=1e-9, atol=0):
        for value, words in ((x, "is not inverted: the units kept in training must be divided by p, out = x · "
                                 "mask / p, so that the expected output is x and the test-time pass can be the "
                                 "identity"),
                             (x / (1 - p), "divides the kept units by 1 − p: here p is the probability of "
                                           "KEEPING a unit, so out = x · mask / p"),
                             (x * p, "multiplies the kept units by p: inverted dropout divides them by p, "
                                     "out = x · mask / p")):
            if np.allclose(o[kept], value[kept], rtol=1e-9, atol=0):
                fail(f"{name} in train mode {words}", case)
        fail(f"{name} in train mode: every unit must be either dropped (0) or kept and divided by p (x / p); "
             "some are neither", case)
    share, sd = float(kept.mean()), float(np.sqrt(p * (1 - p) / kept.size))
    if abs(share - p) > 6 * sd:
        if abs(share - (1 - p)) <= 6 * sd:
            fail(f"{name} keeps a share {share:.3f} ≈ 1 − p of the units: p is the probability of KEEPING a "
                 f"unit, mask = rng.random(x.shape) < p", case)
        fail(f"{name} keeps a share {share:.3f} of the units in train mode, expected about p = {p} (each unit "
             "is kept with probability p, independently)", case)
    again, _ = pair(_call(dropout_forward, name, x.copy(), p, "train", seed), name, case)
    if not close(again, o, 1e-12):
        fail(f"{name} is not reproducible: called twice with seed={seed} it dropped other units — draw the mask "
             "from a generator made from the seed, rng = np.random.default_rng(seed)", case)
    other, _ = pair(_call(dropout_forward, name, x.copy(), p, "train", seed + 1), name, case)
    if close(other, o, 1e-12):
        fail(f"{name} ignores the seed: seeds {seed} and {seed + 1} drop the same units", case)
    return o, cache


def check_dropout_forward(dropout_forward: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``dropout_forward(x, p, mode, seed=None)`` → (out, cache); p is the probability of keeping a unit.

    train: out = x · mask / p with mask[i] = 1 with probability p, drawn from ``seed``; test: out = x.
    ``cases``: (x shape, p, seed).
    """
    name = fname(dropout_forward, "dropout_forward")
    for xs, p, seed in DROPOUT_CASES if cases is None else cases:
        xs, p, seed = tuple(xs), float(p), int(seed)
        x = _dropout_data(xs, seed)
        case = f"{name}(x, p={p}, mode, seed={seed}) with x of shape {xs}"
        out_t, _ = pair(_call(dropout_forward, name, x.copy(), p, "test", seed), name, case)
        judge(out_t, x, f"the output of {name} in test mode", case, False, gradient=False, first={
            "is divided by p: inverted dropout scales the kept units in training, so at test time it is the "
            "identity, out = x": x / p,
            "is multiplied by p: that is the original (not inverted) dropout's test-time rule; inverted dropout "
            "divides by p in training instead, so at test time out = x": x * p})
        try:
            if np.shape(out_t) == xs and np.any(host(out_t) == 0):
                fail(f"{name} drops units in test mode: dropout is used in training only; at test time out = x",
                     case)
        except (TypeError, ValueError):
            pass
        o, _ = _train_output(dropout_forward, name, x, p, seed, case)
        layer = L.Dropout(1 - p)  # nnlib's p is the probability of dropping
        layer.fixed_mask = (o != 0) / p
        judge(o, layer.forward(x, train=True), f"the output of {name} in train mode", case, False, gradient=False)
    ok(f"{name} looks correct")


def check_dropout_backward(dropout_backward: Callable, dropout_forward: Callable, cases: Sequence | None = None,
                           show_values: bool = True) -> None:
    """``dropout_backward(dout, cache)`` → dx = dout · mask / p (train), dout (test), the mask of the forward pass."""
    name, fwd = fname(dropout_backward, "dropout_backward"), fname(dropout_forward, "dropout_forward")
    for xs, p, seed in DROPOUT_CASES if cases is None else cases:
        xs, p, seed = tuple(xs), float(p), int(seed)
        x = _dropout_data(xs, seed)
        dout = np.random.default_rng(seed + 9).standard_normal(xs)
        case = f"{name}(dout, cache) after {fwd}(x, p={p}, 'train', seed={seed}), x of shape {xs}"
        try:
            o, cache = _train_output(dropout_forward, fwd, x, p, seed, case)
        except GradingError as exc:
            if exc.kind != "wrong":  # not implemented, not allowed, an error: its own message
                raise
            fail(f"{name} is checked with the cache of your {fwd}, which is wrong here: fix {fwd} first (its test "
                 "says what is wrong)", case)
        kept = o != 0
        layer = L.Dropout(1 - p)
        layer.fixed_mask = kept / p
        layer.forward(x, train=True)
        ref = layer.backward(dout)
        dx = _call(dropout_backward, name, dout.copy(), cache)
        try:
            d = host(dx)
        except (TypeError, ValueError):
            d = None
        first = {
            "does not divide by p: the backward pass multiplies dout by the same mask / p as the forward pass":
                dout * kept,
            "ignores the mask: units dropped in the forward pass get no gradient, dx = dout · mask / p": dout,
            "divides every entry by p but ignores the mask: dx = dout · mask / p": dout / p,
            "multiplies dout by the output instead of the mask: dx = dout · mask / p": dout * o}
        if d is not None and d.shape == xs and np.all(np.isfinite(d)) and not close(d, ref) and \
                not any(close(d, v) for v in first.values()) and np.mean((d != 0) != kept) > 0.05:
            fail(f"dx from {name} is zero for other units than the ones your {fwd} dropped: the backward pass must "
                 "use the forward pass's mask, kept in the cache — a mask drawn again in the backward pass drops "
                 "other units", case)
        judge(dx, ref, f"dx from {name}", case, show_values and dout.size <= 8, first=first)
        out_t, cache_t = pair(_call(dropout_forward, fwd, x.copy(), p, "test", seed), fwd, case)
        forward_first(out_t, x, name, fwd, case + " in test mode")
        judge(_call(dropout_backward, name, dout.copy(), cache_t), dout, f"dx from {name} in test mode", case,
              False, first={"is divided by p: in test mode dropout is the identity, dx = dout": dout / p,
                            "is multiplied by p: in test mode dropout is the identity, dx = dout": dout * p})
    ok(f"{name} looks correct")


# ---------------------------------------------------------------- softmax loss


def _softmax_data(xs: tuple, seed: int, offset: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return offset + 2 * rng.standard_normal(xs), rng.integers(0, xs[1], size=xs[0])


def check_softmax_loss(softmax_loss: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``softmax_loss(x, y)`` → (loss, dx): the mean cross-entropy of softmax(x) over the N rows, y integer labels.

    loss = (1/N) Σ_n −log softmax(x_n)[y_n],  dx = (softmax(x) − one_hot(y)) / N.  ``cases``: (x shape, seed,
    offset added to every logit).
    """
    name = fname(softmax_loss, "softmax_loss")
    for k, (xs, seed, offset) in enumerate(SOFTMAX_CASES if cases is None else cases):
        xs, seed, offset = tuple(xs), int(seed), float(offset)
        x, y = _softmax_data(xs, seed, offset)
        N = xs[0]
        case = f"{name}(x, y) with x of shape {xs}" + (f", logits near {offset:g}" if offset else "")
        got = _call(softmax_loss, name, x.copy(), y.copy())
        loss, dx = pair(got, name, case, "(loss, dx)")
        rloss, rdx = losses.softmax_cross_entropy(x, y)
        if k == 0:
            validated(rdx, G.numerical_gradient(lambda v, y=y: losses.softmax_cross_entropy(v, y)[0], x.copy()),
                      "softmax loss dx")
        try:
            finite = bool(np.all(np.isfinite(host(loss)))) and bool(np.all(np.isfinite(host(dx))))
        except (TypeError, ValueError):
            finite = True  # the type is judged below
        if not finite and np.max(np.abs(x)) > 700:
            fail(f"{name} overflows on large logits: np.exp(x) is inf once x > 709, and inf / inf is NaN. "
                 "Subtract each row's maximum first, x − x.max(axis=1, keepdims=True): softmax does not change "
                 "(the factor e^(−max) cancels) and every exponent is ≤ 0", case)
        consts = {f"N = {N}, the batch size": N}
        onehot = np.eye(xs[1])[y]
        e = np.exp(x - x.max(axis=1, keepdims=True))
        s = e / e.sum(axis=1, keepdims=True)
        e0 = np.exp(x - x.max(axis=0))
        s0 = e0 / e0.sum(axis=0)  # a softmax over the batch (axis 0)
        over_batch = "uses a softmax over the batch (axis 0): softmax normalises each row (axis=1, keepdims=True)"
        judge(loss, rloss, f"the loss of {name}", case, show_values, gradient=False, constants=consts, first={
            "is the sum over the batch: the loss is the mean, (1/N) Σ_n −log softmax(x_n)[y_n]": N * rloss,
            over_batch: -np.log(s0[np.arange(N), y]).mean()})
        judge(dx, rdx, f"dx from {name}", case, show_values, batch_size=N, constants=consts, first={
            "is not divided by N: the loss is a mean over the N examples, so dx = (softmax(x) − one_hot(y)) / N":
                N * rdx,
            "misses the −1 at each example's class: dx = (softmax(x) − one_hot(y)) / N": s / N,
            over_batch: (s0 - onehot) / N})
    ok(f"{name} looks correct")


# the checks of the other parts, importable from here as from every assignment module
from nnlib.grading.a10_net import check_train_net  # noqa: E402
from nnlib.grading.a10_norm import check_batchnorm_backward, check_batchnorm_forward  # noqa: E402

__all__ = ["check_affine_forward", "check_affine_backward", "check_relu_forward", "check_relu_backward",
           "check_dropout_forward", "check_dropout_backward", "check_batchnorm_forward", "check_batchnorm_backward",
           "check_softmax_loss", "check_train_net"]
