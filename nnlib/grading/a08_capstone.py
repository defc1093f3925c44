"""Assignment 8 — capstone: the learner's own backprop and SGD train a network on real handwritten digits.

``train(X, labels)`` gets the training images as rows (X of shape (n, 64), pixels in [0, 1]) and their digits
(ints 0–9) and returns the trained network as ``(weights, biases)`` in Nielsen's layout (``weights[i]`` of shape
(n_(l), n_(l−1)), ``biases[i]`` a column), optionally with the hidden activation as a third item ("sigmoid",
the default, "tanh" or "relu").  The check loads the digits here, on the trusted side, passes only the
training part to the learner's function and measures the accuracy of the returned weights on held-out digits
it never sent — a reported accuracy is never trusted.  Graded cases relabel the classes and permute the pixels
(a fully connected network does not care), so weights prepared in advance score at chance.

**The learner's backprop must do the training.**  A network that reaches the target is trained a second time
with the learner's ``backprop`` replaced by one that calls it with the one-hot targets' classes renamed by a
secret permutation π (no class kept).  A ``train`` whose updates follow its backprop learns π(digit), and its
network is measured against π(label); a network fitted another way (``np.linalg.lstsq`` on random features,
``pinv``, ``solve``, a library) ignores what backprop returns and scores about 0 % against π(label), so it earns
nothing, with a message saying why.  The learner's code cannot undo π without reading the grader's wrapper.

The training data are the 8×8 digits shipped with the library (``nnlib.datasets.digits``): 1,797 images, a
few hundred kilobytes across the grading boundary, far under the protocol's frame limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from nnlib.grading._core import GradingError, fail, fname, host, invoke, ok, say, wrap
from nnlib.grading.a05_backprop import ALLOWED
from nnlib.grading.probes import derangement, train_renamed

ALLOWED_TEXT = "NumPy, sigmoid, sigmoid_prime, softmax, SimpleNamespace and your own functions (backprop, ...)"
TIME_LIMIT = 60.0        # seconds one call of train may take (stated in the prompt)
TRAIN_SIZE, TEST_SIZE = 1497, 300
PUBLIC_CASE = {"seed": 0, "relabel": False}
HIDDEN = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
          "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))}


def problem(seed: int, relabel: bool) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((X_train, labels_train), (X_test, labels_test)) of the digits split by ``seed``.

    ``relabel``: the digits' classes are renamed by a random permutation and the 64 pixels shuffled by
    another (the same for training and test), both drawn from ``seed``.
    """
    from nnlib.datasets import digits

    split = digits(split=(TRAIN_SIZE, 0, TEST_SIZE), seed=seed)
    (xtr, ytr), (xte, yte) = split.train, split.test
    if relabel:
        rng = np.random.default_rng(seed + 7000)
        classes, pixels = rng.permutation(10), rng.permutation(64)
        xtr, xte = xtr[:, pixels], xte[:, pixels]
        ytr, yte = classes[ytr], classes[yte]
    return (np.ascontiguousarray(xtr, dtype=np.float64), ytr.astype(np.int64)), \
        (np.ascontiguousarray(xte, dtype=np.float64), yte.astype(np.int64))


def _network(got: Any, name: str) -> tuple[list, list, Callable]:
    """The (weights, biases, hidden activation) the learner returned, validated."""
    if got is None:
        fail(f"{name} returned None: return the trained network as (weights, biases), e.g. "
             "return net.weights, net.biases")
    if not isinstance(got, (tuple, list)) or len(got) not in (2, 3):
        fail(f"{name} should return (weights, biases) — two lists of arrays — or (weights, biases, activation); "
             f"got {type(got).__name__}" + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""))
    act = "sigmoid"
    if len(got) == 3:
        act = got[2]
        if not isinstance(act, str) or act not in HIDDEN:
            fail(f"{name}: the third item names the hidden layers' activation: one of "
                 f"{', '.join(repr(k) for k in HIDDEN)}, got {act!r}"[:300])
    weights, biases = got[0], got[1]
    if not isinstance(weights, (list, tuple)) or not isinstance(biases, (list, tuple)) or \
            len(weights) != len(biases) or not weights:
        fail(f"{name} should return (weights, biases): two lists of the same length, one array per layer after "
             "the input (like net.weights and net.biases)")
    try:
        ws = [host(w) for w in weights]
        bs = [host(b) for b in biases]
    except (TypeError, ValueError):
        fail(f"{name}: weights and biases should be lists of arrays of numbers")
    prev = 64
    for i, (w, b) in enumerate(zip(ws, bs)):
        if w.ndim != 2 or w.shape[1] != prev:
            fail(f"{name}: weights[{i}] has shape {w.shape}; in Nielsen's layout w^l has shape (n_l, n_(l−1)) "
                 f"= (?, {prev}) — the input has 64 pixels and each layer's weights take the previous layer's "
                 "outputs (transpose it if you stored it the other way round)")
        if b.size != w.shape[0]:
            fail(f"{name}: biases[{i}] has {b.size} entries but weights[{i}] has {w.shape[0]} rows: one bias per "
                 "neuron (a column of shape (n_l, 1))")
        prev = w.shape[0]
    if prev != 10:
        fail(f"{name}: the last layer has {prev} neurons; it needs 10, one per digit")
    if not all(np.all(np.isfinite(a)) for a in ws + bs):
        fail(f"{name}: the returned weights contain NaN or inf — training diverged: lower η, or look for an "
             "overflowing exp")
    return ws, [b.reshape(-1, 1) for b in bs], HIDDEN[act]


THROUGH_BACKPROP = 0.5   # accuracy against π(label) a network trained through the renaming backprop must reach
_RENAMING = """
def _nnlib_renaming(bp, order):
    def backprop(net, x, y, *args, **kwargs):
        return bp(net, x, np.asarray(y)[order], *args, **kwargs)
    return backprop


_nnlib_saved_backprop, backprop = backprop, _nnlib_renaming(backprop, {order})
del _nnlib_renaming
"""
_RESTORE = "backprop = _nnlib_saved_backprop\ndel _nnlib_saved_backprop\n"
NOT_THROUGH_BACKPROP = (
    "the network from {name} does not learn through your backprop: the grader trained it again with a backprop "
    "that renames the classes of the targets y (the same network, the gradients of another labelling), and "
    "{name}'s network did not follow — it was fitted some other way. A closed-form or library fit "
    "(np.linalg.lstsq, pinv, solve, scikit-learn) or weights computed without your backprop earn nothing here: "
    "this exercise grades your backprop and SGD doing the training. Compute every step's gradients by calling "
    "`backprop(net, x, y)` (by that name) and update the weights with them")


def _renamed_classes(seed: int) -> np.ndarray:
    """A permutation of the 10 classes with no fixed point, drawn from ``seed``."""
    return derangement(seed + 9000)


def _renaming_backprop(saved: Callable, order: np.ndarray) -> Callable:
    def backprop(net, x, y, *args, **kwargs):
        return saved(net, x, np.asarray(y)[order], *args, **kwargs)
    return backprop


def _train_renamed(train: Callable, name: str, order: np.ndarray, xtr: np.ndarray, ytr: np.ndarray,
                   timeout: float) -> Any:
    """Call ``train`` with its ``backprop`` computing the gradients of targets whose rows are ``order``-ed.

    y's rows are the classes, so ``y[order]`` renames class ``order[k]`` to ``k``: trained through it, the
    network predicts ``inverse(order)[label]``.
    """
    return train_renamed(train, name, xtr, ytr, helper="backprop",
                         wrap=lambda saved: _renaming_backprop(saved, order),
                         install=_RENAMING.format(order=[int(k) for k in order]), restore=_RESTORE,
                         allowed=ALLOWED, allowed_text=ALLOWED_TEXT, timeout=timeout)


def _check_through_backprop(train: Callable, name: str, seed: int, xtr: np.ndarray, ytr: np.ndarray,
                            xte: np.ndarray, yte: np.ndarray, time_limit: float, case: str) -> float:
    order = _renamed_classes(seed)
    try:
        got = _train_renamed(train, name, order, xtr, ytr, time_limit + 5)
    except GradingError:
        got = None
    acc = 0.0
    if got is not None:
        try:
            ws, bs, f = _network(got, name)
            acc = accuracy(ws, bs, f, xte, np.argsort(order)[yte])
        except GradingError:
            acc = 0.0
    if acc < THROUGH_BACKPROP:
        fail(NOT_THROUGH_BACKPROP.format(name=name), case, kind="rule")
    return acc


def accuracy(ws: list, bs: list, f: Callable, X: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows of X whose argmax of z^L equals the label (any monotone output activation agrees)."""
    a = X.T
    for i, (w, b) in enumerate(zip(ws, bs)):
        z = w @ a + b
        a = f(z) if i < len(ws) - 1 else z
    return float(np.mean(np.argmax(a, axis=0) == labels))


def check_train(train: Callable, target: float = 0.9, seed: int | None = None, relabel: bool | None = None,
                time_limit: float = TIME_LIMIT, show_values: bool = True) -> float:
    """Call ``train(X, labels)`` on the training digits; pass if the returned network reaches ``target``
    accuracy on the held-out digits within ``time_limit`` seconds.  Returns the accuracy.
    """
    name = fname(train, "train")
    seed = PUBLIC_CASE["seed"] if seed is None else int(seed)
    relabel = PUBLIC_CASE["relabel"] if relabel is None else bool(relabel)
    (xtr, ytr), (xte, yte) = problem(seed, relabel)
    case = (f"{name}(X, labels) with X of shape {xtr.shape} (8×8 digits as rows)"
            + (", classes relabelled and pixels permuted" if relabel else ""))
    slow = (f"over the {time_limit:g} s limit: fewer epochs or a vectorised minibatch (one matrix product per "
            "layer for the whole batch instead of a loop over the examples)")
    t0 = time.perf_counter()
    try:
        got = invoke(train, name, xtr.copy(), ytr.copy(), allowed=ALLOWED, allowed_text=ALLOWED_TEXT,
                     timeout=time_limit + 5)
    except GradingError as exc:
        if "TimeoutError" in str(exc):
            fail(f"{name} did not finish: {slow}", case)
        raise
    elapsed = time.perf_counter() - t0
    if elapsed > time_limit:
        fail(f"{name} took {elapsed:.1f} s, {slow}", case)
    ws, bs, f = _network(got, name)
    acc = accuracy(ws, bs, f, xte, yte)
    acc_train = accuracy(ws, bs, f, xtr, ytr)
    sizes = [64] + [w.shape[0] for w in ws]
    figures = (f"{100 * acc:.1f} % test accuracy on {len(yte)} held-out digits (training accuracy "
               f"{100 * acc_train:.1f} %, network {sizes}, {elapsed:.1f} s)")
    if acc < target:
        if acc_train < 0.2:
            why = ("the network has not learnt anything (chance is 10 %): check backprop above, that the targets are "
                   "one-hot columns of the labels, and η")
        elif acc_train >= target + 0.05:
            why = ("it fits the training digits but does not generalise: fewer epochs, a smaller network or "
                   "L2 regularisation")
        else:
            why = "train longer, tune η and the minibatch size, or try another number of hidden neurons"
        fail(f"the network from {name} is below the {100 * target:g} % target: {figures} — {why}", case,
             kind="target")
    _check_through_backprop(train, name, seed, xtr, ytr, xte, yte, time_limit, case)
    ok(f"{name} reaches the {100 * target:g} % target, trained through your backprop: {figures}")
    if not show_values:
        return acc
    say(wrap(f"  (checked on digits {name} never saw; graded runs use other splits, relabelled classes and "
             "permuted pixels)"))
    return acc
