"""Assignment 10 — batch normalisation forward (train and test mode, running averages) and backward.

``batchnorm_forward(x, gamma, beta, running_mean, running_var, mode, momentum, eps)`` returns
``(out, cache, running_mean, running_var)`` for x of shape (N, D), one feature per column:

    train:  μ = mean of x over the batch, σ² = (1/N) Σ (x − μ)² (biased), x̂ = (x − μ)/√(σ² + ε),
            out = γ x̂ + β;  running ← (1 − momentum)·running + momentum·(μ, σ²_unbiased = Σ (x − μ)²/(N − 1))
    test:   out = γ (x − running_mean)/√(running_var + ε) + β, the running averages unchanged

(PyTorch's conventions, those of ``nnlib.norm.BatchNorm1d``: the reference; momentum is the weight of the new
value).  ``batchnorm_backward(dout, cache)`` → (dx, dγ, dβ) with the compact formula
dx = γ/√(σ² + ε) · (δ − mean(δ) − x̂ · mean(δ x̂)).  The named mistakes: the unbiased variance in the
normalisation or the biased one in the running variance, ε missing or outside the square root, γ and β swapped,
normalising each example over its features (layer norm), the running mean not updated, momentum reversed, test
mode with the batch's statistics, and a backward pass that treats μ and σ² as constants (or keeps only one of
their two terms).  The data give each feature its own mean and a spread from 0.02 to 3, so ε changes the result
well beyond the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nnlib import gradcheck as G
from nnlib import norm
from nnlib.grading._core import fail, fname, invoke, judge, ok
from nnlib.grading.a10_common import ALLOWED, ALLOWED_TEXT, forward_first, triple, validated

# (x shape, momentum, seed): N ≠ D; momentum ≠ ½ (else reversing it changes nothing)
BN_CASES = [((6, 4), 0.1, 0), ((8, 3), 0.3, 1)]
EPS = 1e-5


def _data(xs: tuple, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    N, D = xs
    spread = np.geomspace(0.02, 3.0, D)[rng.permutation(D)]
    x = 3 * rng.standard_normal(D) + spread * rng.standard_normal(xs)
    gamma, beta = 1 + 0.5 * rng.standard_normal(D), rng.standard_normal(D)
    rm, rv = rng.standard_normal(D), 0.5 + rng.random(D)
    return x, gamma, beta, rm, rv


def reference(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, rm: np.ndarray, rv: np.ndarray, momentum: float,
              train: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(out, running_mean, running_var) of nnlib's BatchNorm1d (fresh copies of the running averages)."""
    layer = norm.BatchNorm1d(x.shape[1], eps=EPS, momentum=momentum)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    layer.buffers["running_mean"][...], layer.buffers["running_var"][...] = rm, rv
    out = layer.forward(x, train=train)
    return out, layer.buffers["running_mean"].copy(), layer.buffers["running_var"].copy()


def _call(fn: Callable, name: str, *args: object) -> object:
    return invoke(fn, name, *args, allowed=ALLOWED, allowed_text=ALLOWED_TEXT)


def _forward(fn: Callable, name: str, x, gamma, beta, rm, rv, mode: str, momentum: float, case: str) -> tuple:
    got = _call(fn, name, x.copy(), gamma.copy(), beta.copy(), rm.copy(), rv.copy(), mode, momentum, EPS)
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        fail(f"{name} should return (out, cache, running_mean, running_var): the output, the cache for the "
             "backward pass and the running averages (updated in train mode, unchanged in test mode)", case,
             kind="type")
    return tuple(got)


def check_batchnorm_forward(batchnorm_forward: Callable, cases: Sequence | None = None,
                            show_values: bool = True) -> None:
    """Train mode (output and running averages) and test mode of ``batchnorm_forward``.

    ``cases``: (x shape, momentum, seed).
    """
    name = fname(batchnorm_forward, "batchnorm_forward")
    for xs, momentum, seed in BN_CASES if cases is None else cases:
        xs, m = tuple(xs), float(momentum)
        x, gamma, beta, rm, rv = _data(xs, int(seed))
        case = f"{name}(x, gamma, beta, running_mean, running_var, mode, momentum={m}) with x of shape {xs}"
        out, _, grm, grv = _forward(batchnorm_forward, name, x, gamma, beta, rm, rv, "train", m,
                                    case + ", mode='train'")
        ref, rrm, rrv = reference(x, gamma, beta, rm, rv, m, True)
        mu, vb = x.mean(axis=0), x.var(axis=0)
        vu = x.var(axis=0, ddof=1)
        xhat = (x - mu) / np.sqrt(vb + EPS)
        ln = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + EPS)
        judge(out, ref, f"the output of {name} in train mode", case, show_values, gradient=False, first={
            "normalises with the unbiased variance Σ(x − μ)²/(N − 1): the batch is normalised with the biased "
            "σ² = (1/N) Σ (x − μ)² (np.var's default); the unbiased one is for running_var only":
                gamma * (x - mu) / np.sqrt(vu + EPS) + beta,
            "leaves out ε: x̂ = (x − μ)/√(σ² + ε), ε keeps the division safe when a feature barely varies":
                gamma * (x - mu) / np.sqrt(vb) + beta,
            "adds ε outside the square root: x̂ = (x − μ)/√(σ² + ε)": gamma * (x - mu) / (np.sqrt(vb) + EPS) + beta,
            "divides by σ² + ε, not by its square root: x̂ = (x − μ)/√(σ² + ε)": gamma * (x - mu) / (vb + EPS) + beta,
            "swaps γ and β: out = γ x̂ + β": beta * xhat + gamma,
            "leaves out γ and β: out = γ x̂ + β": xhat,
            "normalises each example over its features (axis 1): that is layer normalisation; batch "
            "normalisation normalises each feature over the batch, axis=0": gamma * ln + beta})
        keep = "PyTorch's convention: momentum is the weight of the NEW value"
        judge(grm, rrm, f"running_mean from {name} in train mode", case, show_values, gradient=False, first={
            f"is not updated: running_mean = (1 − momentum)·running_mean + momentum·μ ({keep})": rm,
            f"has momentum reversed: running_mean = (1 − momentum)·running_mean + momentum·μ ({keep})":
                m * rm + (1 - m) * mu,
            "is the batch mean: keep a running average, (1 − momentum)·running_mean + momentum·μ": mu})
        judge(grv, rrv, f"running_var from {name} in train mode", case, show_values, gradient=False, first={
            f"is not updated: running_var = (1 − momentum)·running_var + momentum·σ²_unbiased ({keep})": rv,
            f"has momentum reversed: running_var = (1 − momentum)·running_var + momentum·σ²_unbiased ({keep})":
                m * rv + (1 - m) * vu,
            "uses the biased variance: the running estimate uses the unbiased Σ(x − μ)²/(N − 1) (np.var(x, "
            "axis=0, ddof=1)), as PyTorch does, while the batch is normalised with the biased σ²":
                (1 - m) * rv + m * vb,
            "has momentum reversed and uses the biased variance: running_var = (1 − momentum)·running_var + "
            "momentum·Σ(x − μ)²/(N − 1)": m * rv + (1 - m) * vb,
            "averages the standard deviation: running_var averages the variance σ²_unbiased":
                (1 - m) * rv + m * np.sqrt(vu)})
        tcase = case + ", mode='test'"
        out_t, _, trm, trv = _forward(batchnorm_forward, name, x, gamma, beta, rm, rv, "test", m, tcase)
        ref_t, _, _ = reference(x, gamma, beta, rm, rv, m, False)
        judge(out_t, ref_t, f"the output of {name} in test mode", tcase, show_values, gradient=False, first={
            "normalises with the batch's μ and σ²: test mode uses running_mean and running_var, so each "
            "example's output does not depend on the rest of its batch": ref,
            "leaves out ε: out = γ (x − running_mean)/√(running_var + ε) + β":
                gamma * (x - rm) / np.sqrt(rv) + beta,
            "divides by running_var + ε, not by its square root": gamma * (x - rm) / (rv + EPS) + beta,
            "swaps γ and β: out = γ (x − running_mean)/√(running_var + ε) + β":
                beta * (x - rm) / np.sqrt(rv + EPS) + gamma})
        for got, before, what in ((trm, rm, "running_mean"), (trv, rv, "running_var")):
            judge(got, before, f"{what} from {name} in test mode", tcase, show_values, gradient=False, first={
                f"is updated in test mode: only training updates {what}; test mode returns it unchanged":
                    rrm if what == "running_mean" else rrv})
    ok(f"{name} looks correct")


def check_batchnorm_backward(batchnorm_backward: Callable, batchnorm_forward: Callable, cases: Sequence | None = None,
                             show_values: bool = True) -> None:
    """``batchnorm_backward(dout, cache)`` → (dx, dgamma, dbeta), the cache from train mode of ``batchnorm_forward``.

    ``cases``: (x shape, momentum, seed).
    """
    name, fwd = fname(batchnorm_backward, "batchnorm_backward"), fname(batchnorm_forward, "batchnorm_forward")
    for k, (xs, momentum, seed) in enumerate(BN_CASES if cases is None else cases):
        xs, m = tuple(xs), float(momentum)
        x, gamma, beta, rm, rv = _data(xs, int(seed))
        N = xs[0]
        dout = np.random.default_rng(int(seed) + 5).standard_normal(xs)
        case = f"{name}(dout, cache) after {fwd}(x, ..., mode='train') with x of shape {xs}"
        out, cache, _, _ = _forward(batchnorm_forward, fwd, x, gamma, beta, rm, rv, "train", m, case)
        ref_out, rcache, _ = norm.batchnorm_forward(x.copy(), gamma, beta, EPS)
        forward_first(out, ref_out, name, fwd, case)
        rdx, rdg, rdb = norm.batchnorm_backward(dout, rcache)
        if k == 0:
            def f(v: np.ndarray, g: np.ndarray = gamma, b: np.ndarray = beta) -> np.ndarray:
                return norm.batchnorm_forward(v, g, b, EPS)[0]

            validated(rdx, G.numerical_gradient_array(f, x.copy(), dout, h=1e-5), "batchnorm dx")
        dx, dg, db = triple(_call(batchnorm_backward, name, dout.copy(), cache), name, case, "(dx, dgamma, dbeta)")
        mu, vb = x.mean(axis=0), x.var(axis=0)
        scale = gamma / np.sqrt(vb + EPS)
        xhat = (x - mu) / np.sqrt(vb + EPS)
        mean_d, mean_dx = dout.mean(axis=0), (dout * xhat).mean(axis=0)
        consts = {f"N = {N}, the batch size": N}
        judge(dx, rdx, f"dx from {name}", case, show_values, batch_size=N, constants=consts, first={
            "treats μ and σ² as constants: both depend on every x of the batch, so dx has two more terms, "
            "dx = γ/√(σ² + ε) · (δ − mean(δ) − x̂ · mean(δ x̂))": scale * dout,
            "misses the term through σ²: dx = γ/√(σ² + ε) · (δ − mean(δ) − x̂ · mean(δ x̂))":
                scale * (dout - mean_d),
            "misses the term through μ: dx = γ/√(σ² + ε) · (δ − mean(δ) − x̂ · mean(δ x̂))":
                scale * (dout - xhat * mean_dx),
            "leaves out γ: dx = γ/√(σ² + ε) · (δ − mean(δ) − x̂ · mean(δ x̂))": rdx / gamma,
            "takes the means over the features (axis 1): every mean in dx is over the batch, axis=0":
                scale * (dout - dout.mean(axis=1, keepdims=True) - xhat * (dout * xhat).mean(axis=1, keepdims=True))})
        judge(dg, rdg, f"dgamma from {name}", case, show_values, batch_size=N, constants=consts, first={
            "is Σ δ (that is dbeta): dgamma = Σ_n δ_n x̂_n": rdb,
            "uses x where x̂ belongs: dgamma = Σ_n δ_n x̂_n": (dout * x).sum(axis=0)})
        judge(db, rdb, f"dbeta from {name}", case, show_values, batch_size=N, constants=consts, first={
            "is Σ δ x̂ (that is dgamma): dbeta = Σ_n δ_n": rdg,
            "is the mean of δ over the batch: dbeta = Σ_n δ_n": mean_d})
    ok(f"{name} looks correct")
