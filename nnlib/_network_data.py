"""Nielsen's data layouts as the row matrices ``nnlib.network.Network`` computes with, checked.

Not part of the lecture's code: ``network.py`` calls these to accept a column (n_in, 1), columns (n_in, m),
Nielsen's list of (x, y) pairs (``mnist_loader``: x a column, y a one-hot column or an integer label), or a
pair of arrays (X rows (N, n_in), y labels (N,) or one-hot rows (N, n_out)) as ``nnlib.datasets`` returns them.
Every call converts its data afresh: no copy is kept between calls, so an array edited in place is always
seen.  One-hot rows come from ``nnlib.datasets.one_hot`` only.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from nnlib import backend as B
from nnlib._checks import ShapeError, check_array, check_finite
from nnlib.datasets import one_hot

Array = Any


def columns(net: Any, a: Any, where: str) -> Array:
    """The input a as checked columns (n_in, m) of the network's dtype: a column, a vector or columns."""
    if not isinstance(a, B.xp.ndarray):
        a = B.to_device(a)
    check_array(a, where, float_only=False, finite=False)  # check_finite below, after the dtype
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2 or a.shape[0] != net.sizes[0]:
        raise ShapeError(f"{where}: layer 1 has {net.sizes[0]} inputs; expected a column ({net.sizes[0]}, 1) "
                         f"or columns ({net.sizes[0]}, m), got shape {tuple(a.shape)}")
    if a.dtype.kind != "f":
        raise TypeError(f"{where}: expected floating-point input, got {a.dtype} with shape {tuple(a.shape)}")
    check_finite(a, where)
    return a if a.dtype == net.dtype else a.astype(net.dtype)


def column_targets(net: Any, y: Any, x: Array, where: str) -> Array:
    """Targets y for the input columns x (n_in, m) as checked columns (n_out, m) of the network's dtype."""
    if not isinstance(y, B.xp.ndarray):
        y = B.to_device(y)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if tuple(y.shape) != (net.sizes[-1], x.shape[1]):
        raise ShapeError(f"{where}: x has shape {tuple(x.shape)} so y must have shape "
                         f"({net.sizes[-1]}, {x.shape[1]}), got {tuple(y.shape)}")
    return y.astype(net.dtype)


def as_rows(net: Any, data: Any, where: str) -> tuple[Array, Array]:
    """Nielsen's list of (x, y) pairs, or (X rows, y) arrays, as rows X (N, n_in) and one-hot Y (N, n_out).

    Integer labels (N,) become one-hot rows.  Speed: a list of NumPy pairs is stacked by C-level passes
    (``stack_pairs``, bench/as_rows.py); nothing is cached, so every call sees the data as they are now.
    """
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if isinstance(data, tuple) and len(data) == 2 and getattr(data[0], "ndim", 0) == 2 \
            and getattr(data[1], "shape", (None,))[0] == data[0].shape[0] \
            and not (data[0].shape == (n_in, 1) and n_in != 1):
        X, Y = data
    else:
        data = list(data) if isinstance(data, Iterable) else data
        if not data:
            raise ShapeError(f"{where}: empty data set")
        stacked = stack_pairs(net, data)
        if stacked is not None:
            X, Y = stacked
        else:  # the general path: any mix of arrays, lists and labels (and the errors for bad ones)
            try:
                X = np.concatenate([B.to_host(x).reshape(1, -1) for x, _ in data])
                Y = np.concatenate([_target_row(B.to_host(y), n_out) for _, y in data])
            except (TypeError, ValueError, IndexError) as exc:
                raise ShapeError(f"{where}: expected Nielsen's list of (x, y) pairs with x of shape ({n_in}, 1) "
                                 f"and y of shape ({n_out}, 1) or an integer label, or a pair of arrays "
                                 f"(X (N, {n_in}), y): {exc}") from None
    X = X if isinstance(X, B.xp.ndarray) else B.to_device(X)
    Y = Y if isinstance(Y, B.xp.ndarray) else B.to_device(Y)
    check_array(X, where, ndim=2, float_only=False, finite=False)  # check_finite below
    if X.shape[1] != n_in:
        raise ShapeError(f"{where}: inputs have {X.shape[1]} features but layer 1 has {n_in} neurons "
                         f"(X shape {tuple(X.shape)})")
    if X.dtype.kind != "f":
        raise TypeError(f"{where}: expected floating-point inputs, got {X.dtype}; scale images to [0, 1]")
    check_finite(X, where)
    if Y.ndim == 1:
        if Y.dtype.kind not in "iu":
            raise TypeError(f"{where}: 1-d targets must be integer labels, got {Y.dtype}")
        try:
            Y = one_hot(Y, n_out, net.dtype)
        except ValueError as exc:
            raise ValueError(f"{where}: the network has {n_out} outputs: {exc}") from None
    if tuple(Y.shape) != (X.shape[0], n_out):
        raise ShapeError(f"{where}: {X.shape[0]} inputs need targets of shape ({X.shape[0]}, {n_out}) "
                         f"or labels ({X.shape[0]},), got {tuple(Y.shape)}")
    return X.astype(net.dtype, copy=False), Y.astype(net.dtype, copy=False)


def as_eval(net: Any, data: Any) -> tuple[Array, Array]:
    """Test data as rows X and integer labels (the index of each target row's largest entry)."""
    X, Y = as_rows(net, data, "Network.evaluate")
    return X, Y.argmax(axis=1)


def _target_row(y: np.ndarray, n_out: int) -> np.ndarray:
    """One target as a row (1, n_out): an integer label becomes its one-hot row."""
    if y.size == 1 and n_out != 1:
        label = int(y.reshape(-1)[0])
        if not 0 <= label < n_out:
            raise ValueError(f"label {label} is not in 0..{n_out - 1}")
        return one_hot(np.array([label]), n_out)
    return y.reshape(1, -1)


def stack_pairs(net: Any, data: list) -> tuple[np.ndarray, np.ndarray] | None:
    """Nielsen's list of (x, y) pairs of NumPy arrays as row matrices (X (N, n_in), Y (N, n_out)) — or None
    when the list is anything else (lists, device arrays, mixed sizes: the general path handles them).

    Speed: three C-level passes, no Python code per pair: ``zip(*data)`` splits the pairs, the sizes are
    read with ``map`` (all equal, else None), and ``np.concatenate(xs, axis=None)`` copies every x, in
    order, into one buffer that *is* X row after row.  50,000 MNIST pairs: bench/as_rows.py (the former
    per-pair reshape-and-concatenate took ~0.5–0.8 s on every ``SGD`` call).
    """
    n_in, n_out = net.sizes[0], net.sizes[-1]
    try:
        xs, ys = zip(*data)
    except (TypeError, ValueError):
        return None
    if len(xs) != len(data) or not all(map(np.ndarray.__instancecheck__, xs)):
        return None
    n = len(xs)
    get_size = operator.attrgetter("size")
    if not all(size == n_in for size in map(get_size, xs)):
        return None
    # X is written in the network's dtype at once (one pass over memory, no float32 → float64 copy
    # afterwards); integer pixels keep their dtype, for as_rows to reject them with its clear message.
    dtype = net.dtype if xs[0].dtype.kind == "f" else None
    try:
        X = np.concatenate(xs, axis=None, dtype=dtype, casting="same_kind").reshape(n, n_in)
        if all(map(np.ndarray.__instancecheck__, ys)) and all(size == n_out for size in map(get_size, ys)) \
                and n_out != 1:
            return X, np.concatenate(ys, axis=None, dtype=net.dtype, casting="same_kind").reshape(n, n_out)
    except TypeError:  # complex numbers, strings, ...: the general path says what is wrong
        return None
    if all(isinstance(y, (int, np.integer)) for y in ys):  # integer labels (Nielsen's test_data)
        labels = np.fromiter(ys, dtype=np.int64, count=n)
        if labels.min() < 0 or labels.max() >= n_out:
            return None  # the general path names the bad label
        return X, one_hot(labels, n_out, net.dtype)
    return None


def minibatches(X: Array, Y: Array, perm: Array, m: int) -> Iterator[tuple[Array, Array]]:
    """The minibatches X[perm[k:k+m]], Y[perm[k:k+m]] of one epoch, in order.

    Speed: rows are gathered a chunk of ~1,000 at a time (a few MB, which stays in cache until its
    minibatches use it), not the whole shuffled data set at once (a fresh 157 MB copy of MNIST per
    epoch costs more in page faults than the steps at batch 100) nor one minibatch at a time
    (two gathers per step).  The minibatches are row slices (views) of the chunk.
    """
    n = X.shape[0]
    chunk = m * max(1, 1024 // m)
    for c in range(0, n, chunk):
        idx = perm[c:c + chunk]
        Xc, Yc = X[idx], Y[idx]
        for k in range(0, Xc.shape[0], m):
            yield Xc[k:k + m], Yc[k:k + m]
