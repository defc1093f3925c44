"""Assignment 10 — the layers assembled: affine → batchnorm → ReLU → dropout → affine → softmax on the digits.

``train_net(X, labels)`` gets the training digits as rows (X of shape (n, 64), pixels in [0, 1]; labels ints
0–9) and returns the trained parameters as a dict: ``W1`` (H, 64), ``b1`` (H,), ``gamma``, ``beta``,
``running_mean``, ``running_var`` (H,), ``W2`` (10, H), ``b2`` (10,) — W in Nielsen's layout (one row per
output unit).  The check loads the digits here, on the trusted side (``a08_capstone.problem``: graded cases
relabel the classes and permute the pixels), sends only the training part, and measures the accuracy of the
returned parameters on held-out digits with nnlib's own layers in test mode (dense, BatchNorm1d with the
returned running averages, ReLU; dropout is the identity at test time).

**The learner's layers must do the training.**  A network that reaches the target is trained a second time with
the learner's ``softmax_loss`` wrapped to rename the labels by a secret permutation π (no class kept): a
``train_net`` whose gradients come from its ``softmax_loss`` learns π(digit); a fit that bypasses it does not
follow and earns nothing, with a message saying why (as a08 does with ``backprop``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from nnlib import layers as L
from nnlib import norm
from nnlib.grading._core import GradingError, fail, fname, host, invoke, ok
from nnlib.grading.a08_capstone import problem
from nnlib.grading.a10_common import ALLOWED, ALLOWED_TEXT
from nnlib.grading.probes import derangement, train_renamed

TIME_LIMIT = 60.0   # seconds one call of train_net may take (stated in the prompt)
TARGET = 0.9
THROUGH_LOSS = 0.5  # accuracy against π(label) the network trained through the renaming softmax_loss must reach
PARAMS = ("W1", "b1", "gamma", "beta", "running_mean", "running_var", "W2", "b2")
_RENAMING = """
def _nnlib_renaming(loss, order):
    def softmax_loss(x, y, *args, **kwargs):
        return loss(x, np.asarray(order)[np.asarray(y)], *args, **kwargs)
    return softmax_loss


_nnlib_saved_loss, softmax_loss = softmax_loss, _nnlib_renaming(softmax_loss, {order})
del _nnlib_renaming
"""
_RESTORE = "softmax_loss = _nnlib_saved_loss\ndel _nnlib_saved_loss\n"
NOT_THROUGH_LOSS = (
    "the network from {name} does not learn through your softmax_loss: the grader trained it again with a "
    "softmax_loss that renames the labels y (the same data, the gradients of another labelling), and {name}'s "
    "network did not follow — it was fitted some other way. This exercise grades your layers doing the training: "
    "compute every step's loss gradient by calling `softmax_loss(scores, y)` (by that name) and backpropagate it "
    "through your layers")


def _renamed(seed: int) -> np.ndarray:
    return derangement(seed + 9100)


def _params(got: Any, name: str, case: str) -> dict[str, np.ndarray]:
    if not isinstance(got, dict) or any(k not in got for k in PARAMS):
        missing = [k for k in PARAMS if not isinstance(got, dict) or k not in got]
        fail(f"{name} should return a dict of the trained parameters with the keys {', '.join(PARAMS)}"
             + (f" (missing: {', '.join(missing)})" if isinstance(got, dict) else f"; got {type(got).__name__}"),
             case, kind="type")
    try:
        p = {k: host(got[k]) for k in PARAMS}
    except (TypeError, ValueError):
        fail(f"{name}: every parameter should be an array of numbers", case, kind="type")
    H = p["W1"].shape[0] if p["W1"].ndim == 2 else -1
    want = {"W1": (H, 64), "b1": (H,), "gamma": (H,), "beta": (H,), "running_mean": (H,), "running_var": (H,),
            "W2": (10, H), "b2": (10,)}
    for k, shape in want.items():
        if p[k].shape != shape:
            fail(f"{name}: {k} has shape {p[k].shape}, expected {shape} (H = {H} hidden units; W of shape "
                 "(outputs, inputs), one row per output unit)", case, kind="shape")
        if not np.all(np.isfinite(p[k])):
            fail(f"{name}: {k} contains NaN or inf — training diverged: lower the learning rate", case)
    return p


def predict(p: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Class scores of X with nnlib's layers in test mode (dropout: the identity)."""
    h, _ = L.dense_forward(X, p["W1"], p["b1"])
    bn = norm.BatchNorm1d(h.shape[1])
    bn.params["gamma"][...], bn.params["beta"][...] = p["gamma"], p["beta"]
    bn.buffers["running_mean"][...], bn.buffers["running_var"][...] = p["running_mean"], p["running_var"]
    with np.errstate(all="ignore"):
        h = L.ReLU().forward(bn.forward(h, train=False))
    return L.dense_forward(h, p["W2"], p["b2"])[0]


def accuracy(p: dict[str, np.ndarray], X: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(predict(p, X), axis=1) == labels))


def _renaming_loss(saved: Callable, order: np.ndarray) -> Callable:
    def softmax_loss(x, y, *args, **kwargs):
        return saved(x, order[np.asarray(y)], *args, **kwargs)
    return softmax_loss


def _train_renamed(train: Callable, name: str, order: np.ndarray, xtr: np.ndarray, ytr: np.ndarray) -> Any:
    """Call ``train`` with its ``softmax_loss`` seeing the labels renamed by ``order``."""
    return train_renamed(train, name, xtr, ytr, helper="softmax_loss",
                         wrap=lambda saved: _renaming_loss(saved, order),
                         install=_RENAMING.format(order=[int(k) for k in order]), restore=_RESTORE,
                         allowed=ALLOWED, allowed_text=ALLOWED_TEXT, timeout=TIME_LIMIT + 5)


def check_train_net(train_net: Callable, seed: int = 0, relabel: bool = False, target: float = TARGET) -> float:
    """``train_net(X, labels)`` → parameters reaching ``target`` accuracy on held-out digits; returns it."""
    name = fname(train_net, "train_net")
    (xtr, ytr), (xte, yte) = problem(int(seed), bool(relabel))
    case = (f"{name}(X, labels) with X of shape {xtr.shape} (8×8 digits as rows)"
            + (", classes relabelled and pixels permuted" if relabel else ""))
    t0 = time.perf_counter()
    try:
        got = invoke(train_net, name, xtr.copy(), ytr.copy(), allowed=ALLOWED, allowed_text=ALLOWED_TEXT,
                     timeout=TIME_LIMIT + 5)
    except GradingError as exc:
        if "TimeoutError" in str(exc):
            fail(f"{name} did not finish within {TIME_LIMIT:g} s: fewer epochs, or check that every layer works "
                 "on the whole minibatch at once", case, kind="timeout")
        raise
    elapsed = time.perf_counter() - t0
    if elapsed > TIME_LIMIT:
        fail(f"{name} took {elapsed:.1f} s, over the {TIME_LIMIT:g} s limit: fewer epochs", case, kind="timeout")
    p = _params(got, name, case)
    acc, acc_train = accuracy(p, xte, yte), accuracy(p, xtr, ytr)
    figures = (f"{100 * acc:.1f} % on {len(yte)} held-out digits (training {100 * acc_train:.1f} %, "
               f"H = {p['W1'].shape[0]})")
    if acc < target:
        if acc_train < 0.2:
            why = ("the network has not learnt anything (chance is 10 %): check the learning rate and that each "
                   "step subtracts the gradients")
        elif np.allclose(p["running_mean"], 0) and np.allclose(p["running_var"], 1):
            why = ("running_mean and running_var are still 0 and 1: return the running averages that "
                   "batchnorm_forward updated in train mode (test mode normalises with them)")
        else:
            why = "train longer or tune the learning rate and the number of hidden units"
        fail(f"the network from {name} is below the {100 * target:g} % target: {figures} — {why}", case,
             kind="target")
    order = _renamed(int(seed))
    try:
        again = _train_renamed(train_net, name, order, xtr, ytr)
        followed = accuracy(_params(again, name, case), xte, order[yte]) if again is not None else 0.0
    except GradingError:
        followed = 0.0
    if followed < THROUGH_LOSS:
        fail(NOT_THROUGH_LOSS.format(name=name), case, kind="rule")
    ok(f"{name} reaches the {100 * target:g} % target, trained through your layers: {figures}, {elapsed:.1f} s")
    return acc
