"""Layers: each a ``forward`` / ``backward`` pair with an explicit cache.

Inputs are rows: a batch of n examples is an array of shape (n, features) for
dense layers and (n, channels, height, width) for convolutional ones.

The functional pairs (CS231n style) are the mathematics::

    out, cache = dense_forward(x, W, b)
    dx, dW, db = dense_backward(dout, cache)

``dout`` is ∂L/∂out for the whole batch; each backward returns ∂L/∂(inputs).
A dense layer stores W with shape (n_out, n_in), so W[j, k] is Nielsen's
w_jk: the weight from neuron k of the previous layer to neuron j.

The classes (``Dense``, ``Conv2D``, ``MaxPool2D``, ``Flatten``, ``Dropout``,
``Sigmoid``, ``ReLU``, ...) hold parameters, their gradients and the cache,
so a ``Model`` can stack them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlib import activations as A
from nnlib import backend as B
from nnlib import init
from nnlib._checks import ShapeError, check_array

Array = Any

# ---------------------------------------------------------------- dense


def dense_forward(x: Array, W: Array, b: Array) -> tuple[Array, tuple]:
    """z = x Wᵀ + b for a batch of rows x (n, n_in); W (n_out, n_in), b (n_out,)."""
    z = x @ W.T  # BLAS reads Wᵀ as a flag: no transposed copy
    z += b  # in place: one temporary fewer than x @ W.T + b
    return z, (x, W)


def dense_backward(dout: Array, cache: tuple, need_dx: bool = True) -> tuple[Array, Array, Array]:
    """Given dout = ∂L/∂z (n, n_out): ∂L/∂x = dout W, ∂L/∂W = doutᵀ x, ∂L/∂b = Σ_rows dout.

    ``need_dx=False`` returns None for ∂L/∂x (a first layer's input gradient: a third of the work).
    """
    x, W = cache
    # Speed: ∂L/∂W is computed as (xᵀ dout)ᵀ — the same numbers as doutᵀ x, laid out column-major like the
    # ``Dense`` layer's W (below), so the optimiser's elementwise update runs over both arrays in order.
    return (dout @ W if need_dx else None), (x.T @ dout).T, dout.sum(axis=0)


# ---------------------------------------------------------------- convolution (im2col)
#
# The mathematics, for a filter bank W (F, C, kh, kw), stride s and zero padding p:
#     out[n, f, i, j] = Σ_{c, u, v} W[f, c, u, v] · x_pad[n, c, i·s + u, j·s + v] + b[f].
# ``im2col`` turns this into one matrix product: the receptive fields become the rows of a matrix cols, and
# out = cols W_matᵀ with W_mat = W.reshape(F, C·kh·kw).  ``col2im`` is its adjoint (the backward pass).
#
# Speed: the layers (``Conv2D``, ``MaxPool2D``) use the same product in another memory layout, "batch-last".
# Their activations are (N, C, H, W) arrays as everywhere else, but stored in the order (C, H, W, N): the
# batch index varies fastest, so ``a.transpose(1, 2, 3, 0)`` is C-contiguous.  With the batch innermost:
#   * the im2col matrix is cols (C·kh·kw, Ho·Wo·N), built by one copy that moves runs of Wo·N contiguous
#     numbers at stride 1 (512 in the benchmark's second layer) instead of runs of kw;
#   * the forward pass is ONE 2-D GEMM, W_mat (F, C·kh·kw) @ cols, for the whole batch, and its result
#     (F, Ho·Wo·N) already is the output in the batch-last layout: it is returned as an (N, F, Ho, Wo) view;
#   * ∂L/∂W needs no product per image followed by a sum over the batch (``conv_backward``), and col2im
#     adds long runs (``_col2im_batch_last``);
#   * NumPy allocates the result of an elementwise operation in the memory order of its inputs (ufuncs use
#     order='K'), so ReLU keeps the layout, max-pooling keeps it, and the next convolution finds its input
#     batch-last and copies nothing.  Any other input (a C-ordered batch from the user, or a backend that
#     allocates C-ordered results) costs one transposing copy of the input, small next to cols (kh·kw times
#     larger); the numbers are the same.
# Mixing memory orders in one elementwise operation is what NumPy does slowest (~6×), so the backward passes
# return ∂L/∂x in the memory order of x (``Flatten`` too).
# Measured at batch 64 on the benchmark's CNN (bench/profile_cnn.py, shared 2-core machine): a training step
# went from ~22–24 ms with one small matrix product per image (layout (N, C·kh·kw, Ho·Wo)) to ~15–16 ms at
# 1 thread, and from ~20 to ~13 ms at 2 threads, where the large GEMMs now use both cores.


def _as_pair(v: Any) -> tuple[int, int]:
    """An int or a pair (height, width) as a pair (the functional API takes both; no validation)."""
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _windows(x: Array, kh: int, kw: int, stride: Any) -> Array:
    """A strided view (N, Ho, Wo, C, kh, kw) of every kh×kw window of x (N, C, H, W): no copy."""
    sh, sw = _as_pair(stride)
    N, C, H, W = x.shape
    Ho, Wo = (H - kh) // sh + 1, (W - kw) // sw + 1
    sN, sC, sH, sW = x.strides
    return B.xp.lib.stride_tricks.as_strided(
        x, shape=(N, Ho, Wo, C, kh, kw), strides=(sN, sH * sh, sW * sw, sC, sH, sW))


def _pad(x: Array, pad: Any, value: float = 0.0) -> Array:
    ph, pw = _as_pair(pad)
    if ph == 0 and pw == 0:
        return x
    return B.xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def im2col(x: Array, kh: int, kw: int, stride: Any = 1, pad: Any = 0) -> Array:
    """Rows of the matrix ``cols`` (N·Ho·Wo, C·kh·kw) are the flattened receptive fields of x (N, C, H, W).

    ``stride`` and ``pad`` are ints or pairs (height, width).
    """
    win = _windows(_pad(x, pad), kh, kw, stride)
    N, Ho, Wo = win.shape[:3]
    return win.reshape(N * Ho * Wo, -1)


def col2im(dcols: Array, x_shape: tuple[int, ...], kh: int, kw: int, stride: Any = 1, pad: Any = 0) -> Array:
    """Adjoint of ``im2col``: add each row of dcols back into the pixels of its window.

    Loops over the kh·kw kernel offsets (25 for 5×5), never over samples or pixels.
    """
    (sh, sw), (ph, pw) = _as_pair(stride), _as_pair(pad)
    N, C, H, W = x_shape
    Hp, Wp = H + 2 * ph, W + 2 * pw
    Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    d = dcols.reshape(N, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)  # N, C, kh, kw, Ho, Wo
    dx = B.xp.zeros((N, C, Hp, Wp), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += d[:, :, i, j]
    return dx[:, :, ph:ph + H, pw:pw + W] if ph or pw else dx


def _batch_last(x: Array, pad: Any = 0) -> Array:
    """x (N, C, H, W) as a C-contiguous (C, H + 2·ph, W + 2·pw, N) array, zero-padded.

    No copy when x is already stored batch-last and pad = 0 (a conv or pool layer's output, after ReLU).
    """
    ph, pw = _as_pair(pad)
    xt = x.transpose(1, 2, 3, 0)
    if ph == 0 and pw == 0:
        return B.xp.ascontiguousarray(xt)
    C, H, W, N = xt.shape
    out = B.xp.zeros((C, H + 2 * ph, W + 2 * pw, N), dtype=x.dtype)
    out[:, ph:ph + H, pw:pw + W, :] = xt
    return out


def _cols_batch_last(xt: Array, kh: int, kw: int, stride: Any) -> Array:
    """im2col of a batch-last input xt (C, Hp, Wp, N): cols (C·kh·kw, Ho·Wo·N) with

        cols[(c, u, v), (i, j, n)] = xt[c, i·s_h + u, j·s_w + v, n],

    i.e. ``im2col``'s matrix transposed, its columns ordered (i, j, n).  One copy, through a strided view of xt.
    """
    sh, sw = _as_pair(stride)
    C, Hp, Wp, N = xt.shape
    Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    sC, sH, sW, sN = xt.strides
    win = B.xp.lib.stride_tricks.as_strided(
        xt, shape=(C, kh, kw, Ho, Wo, N), strides=(sC, sH, sW, sH * sh, sW * sw, sN))
    return win.reshape(C * kh * kw, Ho * Wo * N)  # the copy


def _col2im_batch_last(dcols: Array, x_shape: tuple[int, ...], kh: int, kw: int, stride: Any, pad: Any) -> Array:
    """Adjoint of ``_cols_batch_last``: ∂L/∂x stored batch-last, (C, H, W, N), from dcols (C·kh·kw, Ho·Wo·N).

        dx_pad[c, h, w, n] = Σ dcols[(c, u, v), (i, j, n)]  over the u, v, i, j with i·s + u = h, j·s + v = w

    The scatter is separable, so it is done along H, then along W: kh + kw strided additions instead of
    kh·kw (10 instead of 25 for 5×5), never a loop over samples or pixels.

        1. E[c, v, i·s + u, j, n] += dcols[(c, u, v), (i, j, n)]     kh additions of runs of Ho·Wo·N numbers
        2. dx_pad[c, h, j·s + v, n] += E[c, v, h, j, n]               kw additions of runs of Wo·N numbers

    The long runs of step 1 are what make it faster (0.8 against 1.5 ms for the benchmark's second layer):
    NumPy's elementwise loops are ~3× slower on strided views with short runs.
    """
    (sh, sw), (ph, pw) = _as_pair(stride), _as_pair(pad)
    N, C, H, W = x_shape
    Hp, Wp = H + 2 * ph, W + 2 * pw
    Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    d = dcols.reshape(C, kh, kw, Ho, Wo, N)  # a view
    E = B.xp.zeros((C, kw, Hp, Wo, N), dtype=dcols.dtype)
    for u in range(kh):
        E[:, :, u:u + sh * Ho:sh] += d[:, u]
    dx = B.xp.zeros((C, Hp, Wp, N), dtype=dcols.dtype)
    for v in range(kw):
        dx[:, :, v:v + sw * Wo:sw, :] += E[:, v]
    return dx[:, ph:ph + H, pw:pw + W, :] if ph or pw else dx


def _by_rows(a: Array, Ho: int) -> Array:
    """A (R, Ho·Wo·N) matrix as Ho blocks (Ho, R, Wo·N): the columns of each output row (a view)."""
    return a.reshape(a.shape[0], Ho, -1).transpose(1, 0, 2)


def conv_forward(x: Array, W: Array, b: Array, stride: Any = 1, pad: Any = 0) -> tuple[Array, tuple]:
    """out[n, f, i, j] = Σ_{c,u,v} W[f, c, u, v] x_pad[n, c, i·s_h + u, j·s_w + v] + b[f], as ONE matrix product.

    ``stride`` and ``pad`` are ints or pairs (height, width), PyTorch's convention; the kernel size is W's.
    out_mat = W_mat (F, C·kh·kw) @ cols (C·kh·kw, Ho·Wo·N), with cols the receptive fields of every image as
    columns (``_cols_batch_last``).  ``out`` is an (N, F, Ho, Wo) array stored batch-last (see the section
    comment).  The cache is (x.shape, cols, W, stride pair, pad pair).
    """
    stride, pad = _as_pair(stride), _as_pair(pad)
    N = x.shape[0]
    F, C, kh, kw = W.shape
    xt = _batch_last(x, pad)
    Ho, Wo = (xt.shape[1] - kh) // stride[0] + 1, (xt.shape[2] - kw) // stride[1] + 1
    cols = _cols_batch_last(xt, kh, kw, stride)
    out = W.reshape(F, -1) @ cols  # (F, Ho·Wo·N): one GEMM for the whole batch
    out += b.reshape(F, 1)
    return out.reshape(F, Ho, Wo, N).transpose(3, 0, 1, 2), (x.shape, cols, W, stride, pad)


def conv_backward(dout: Array, cache: tuple, need_dx: bool = True) -> tuple[Array, Array, Array]:
    """With d = dout as (F, Ho·Wo·N): ∂L/∂W = d colsᵀ, ∂L/∂b = Σ_columns d, ∂L/∂x = col2im(W_matᵀ d).

    ``need_dx=False`` returns None for ∂L/∂x (a first layer's input gradient: its GEMM and col2im).
    """
    x_shape, cols, W, stride, pad = cache
    stride, pad = _as_pair(stride), _as_pair(pad)  # pairs in conv_forward's cache; ints accepted too
    F, C, kh, kw = W.shape
    d = dout.transpose(1, 2, 3, 0).reshape(F, -1)  # (F, Ho·Wo·N): a view when dout is stored batch-last
    # ∂L/∂W_mat = d colsᵀ = Σ_i d_i cols_iᵀ over the Ho output rows i, with d_i, cols_i the Wo·N columns of
    # row i (``_by_rows``): one batched matmul, then a sum of Ho small matrices.  The same numbers; BLAS is
    # faster on these blocks than on one product over all Ho·Wo·N columns when C·kh·kw is small (the
    # benchmark's first layer, 25: 0.9 against 1.5 ms for its backward, 1 thread; second layer: equal).  Each
    # block is computed as cols_i d_iᵀ (C·kh·kw, F), the orientation BLAS runs fastest here.
    Ho = (x_shape[2] + 2 * pad[0] - kh) // stride[0] + 1
    dW = B.xp.matmul(_by_rows(cols, Ho), _by_rows(d, Ho).transpose(0, 2, 1)).sum(axis=0).T.reshape(W.shape)
    db = d.sum(axis=1)
    if not need_dx:
        return None, dW, db
    dcols = W.reshape(F, -1).T @ d  # (C·kh·kw, Ho·Wo·N)
    dx = _col2im_batch_last(dcols, x_shape, kh, kw, stride, pad)
    return dx.transpose(3, 0, 1, 2), dW, db


# ---------------------------------------------------------------- max pooling


def _running_max(arrays: list[Array]) -> Array:
    """The elementwise maximum of same-shaped arrays, in a new array (the first maximum allocates it)."""
    if len(arrays) == 1:
        return B.xp.copy(arrays[0])
    out = B.xp.maximum(arrays[0], arrays[1])
    for a in arrays[2:]:
        B.xp.maximum(out, a, out=out)
    return out


def _pool_index(win: Array) -> Array:
    """Which entry of each window is its maximum, PyTorch's rule: the first maximum at ties, and the LAST NaN
    of a window that holds NaN (its CPU and CUDA kernels take ``val > max || isnan(val)`` in row-major order).

    ``win`` (..., K) holds the K entries of each window; returns integer indices (...).
    """
    xp = B.xp
    idx = win.argmax(axis=-1)  # NumPy's argmax: first maximum, or the first NaN
    isnan = xp.isnan(win)
    if bool(isnan.any()):
        K = win.shape[-1]
        last_nan = (K - 1) - isnan[..., ::-1].argmax(axis=-1)
        idx = xp.where(isnan.any(axis=-1), last_nan, idx)
    return idx


def maxpool_forward(x: Array, size: Any = 2, stride: Any = None, pad: Any = 0) -> tuple[Array, tuple]:
    """out[n, c, i, j] = max of the kh×kw window at (i·s_h − p_h, j·s_w − p_w); a NaN in a window gives NaN.

    ``size``, ``stride`` (default: ``size``) and ``pad`` are ints or pairs (height, width), PyTorch's
    convention; padding is with −∞ (it never wins).
    """
    kh, kw = _as_pair(size)
    sh, sw = (kh, kw) if stride is None else _as_pair(stride)
    ph, pw = _as_pair(pad)
    if ph or pw:
        x = _pad(x, (ph, pw), value=-float("inf"))
    N, C, H, W = x.shape
    Ho, Wo = (H - kh) // sh + 1, (W - kw) // sw + 1
    geometry = ((kh, kw), (sh, sw), (ph, pw))
    if (sh, sw) == (kh, kw):
        # Non-overlapping windows: the maximum of each window row, from elementwise maxima of strided views
        # of x (no window copy, no argmax), then the maximum of the rows, in place.  For 2×2 that is two
        # maxima reading strided views and one of contiguous arrays (0.30 against 0.52 ms for the first pool
        # of the benchmark with a copy and three strided maxima).  The results keep x's memory order (NumPy
        # allocates a ufunc's output in its inputs' order), so a batch-last x gives a batch-last out.
        # ``maximum`` propagates NaN, as PyTorch's max-pool does.
        rows = [_running_max([x[:, :, i:kh * Ho:kh, j:kw * Wo:kw] for j in range(kw)]) for i in range(kh)]
        out = rows[0]
        for r in rows[1:]:
            B.xp.maximum(out, r, out=out)
        return out, (x, out, *geometry)
    win = _windows(x, kh, kw, (sh, sw)).reshape(N, Ho, Wo, C, kh * kw)
    idx = _pool_index(win)
    out = B.xp.take_along_axis(win, idx[..., None], axis=-1)[..., 0].transpose(0, 3, 1, 2)
    return out, (x.shape, idx, *geometry)


def _maxpool_backward_by_index(dout: Array, x_shape: tuple[int, ...], idx: Array, kh: int, kw: int,
                               stride: tuple[int, int]) -> Array:
    """∂L/∂x (padded shape): each window's gradient added to its entry ``idx`` (overlapping windows add up)."""
    xp = B.xp
    N, C, H, W = x_shape
    Ho, Wo = dout.shape[2:]
    onehot = (xp.arange(kh * kw, dtype=idx.dtype) == idx[..., None]).astype(dout.dtype)
    dwin = onehot * dout.transpose(0, 2, 3, 1)[..., None]  # N, Ho, Wo, C, kh·kw
    return col2im(dwin.reshape(N * Ho * Wo, C * kh * kw), (N, C, H, W), kh, kw, stride)


def maxpool_backward(dout: Array, cache: tuple) -> Array:
    """The gradient flows only to the input that was the maximum of each window (the first, at ties; the last
    NaN of a window holding NaN, as in PyTorch)."""
    xp = B.xp
    (kh, kw), stride, (ph, pw) = cache[2], cache[3], cache[4]
    if cache[2] == cache[3]:  # non-overlapping windows: each input pixel belongs to at most one window
        x, out = cache[0], cache[1]
        Ho, Wo = out.shape[2:]
        if bool(xp.isnan(out).any()):  # rare: NaN in some window; PyTorch's rule needs the window indices
            win = _windows(x, kh, kw, stride).reshape(x.shape[0], Ho, Wo, x.shape[1], kh * kw)
            dx = _maxpool_backward_by_index(dout, x.shape, _pool_index(win), kh, kw, stride)
            return dx[:, :, ph:ph + x.shape[2] - 2 * ph, pw:pw + x.shape[3] - 2 * pw] if ph or pw else dx
        # dx in x's memory order (empty_like/zeros_like keep it); zeros only when some rows or columns of x
        # lie in no window (H or W not a multiple of the window), since every window pixel is written below.
        tiled = x.shape[2] == kh * Ho and x.shape[3] == kw * Wo
        dx = (xp.empty_like if tiled else xp.zeros_like)(x, dtype=dout.dtype)
        taken = None  # windows whose maximum was found at an earlier offset
        last = kh * kw - 1
        for k in range(kh * kw):  # window offsets in row-major order, so the first maximum wins ties
            i, j = divmod(k, kw)
            hit = x[:, :, i:kh * Ho:kh, j:kw * Wo:kw] == out
            if taken is not None:
                hit = xp.greater(hit, taken)  # booleans: hit > taken ⇔ hit and not taken
            if k < last:
                taken = hit if taken is None else xp.logical_or(taken, hit, out=taken)
            # dout where hit, else 0, written straight into dx's strided view (a boolean factor is
            # one fast pass; xp.where(hit, dout, 0) was ~10× slower on NumPy)
            xp.multiply(dout, hit, out=dx[:, :, i:kh * Ho:kh, j:kw * Wo:kw])
        return dx[:, :, ph:ph + x.shape[2] - 2 * ph, pw:pw + x.shape[3] - 2 * pw] if ph or pw else dx
    x_shape, idx = cache[0], cache[1]
    dx = _maxpool_backward_by_index(dout, x_shape, idx, kh, kw, stride)
    return dx[:, :, ph:ph + x_shape[2] - 2 * ph, pw:pw + x_shape[3] - 2 * pw] if ph or pw else dx


# ---------------------------------------------------------------- layer classes


def _int_arg(value: Any, name: str, where: str, minimum: int) -> int:
    """A whole number ≥ minimum (bools refused), else a clear error naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{where}: {name} must be ≥ {minimum}, got {value!r}")
    return int(value)


def _pair_arg(value: Any, name: str, where: str, minimum: int) -> tuple[int, int]:
    """An int or a pair (height, width) of ints, each ≥ minimum (PyTorch's convention), as a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise TypeError(f"{where}: {name} must be an int or a pair (height, width), got {value!r}")
        return (_int_arg(value[0], f"{name}[0] (height)", where, minimum),
                _int_arg(value[1], f"{name}[1] (width)", where, minimum))
    try:
        v = _int_arg(value, name, where, minimum)
    except TypeError:
        raise TypeError(f"{where}: {name} must be an int or a pair (height, width) of ints, got {value!r}") from None
    return v, v


def _show(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else str(pair)



class Layer:
    """A layer: ``forward(x, train)`` caches what ``backward(dout)`` needs; params and grads by name."""

    params: dict[str, Array]
    grads: dict[str, Array]

    def __init__(self) -> None:
        self.params, self.grads, self.cache = {}, {}, None
        self.label = repr(self)

    def forward(self, x: Array, train: bool = False) -> Array:
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        raise NotImplementedError

    def backward_params(self, dout: Array) -> None:
        """Fill ``grads`` as ``backward`` does, without returning ∂L/∂x.

        ``Model`` calls this on its first layer, whose input gradient nobody uses; layers with
        parameters (``Dense``, ``Conv2D``) override it to skip computing ∂L/∂x altogether.
        """
        self.backward(dout)

    def __call__(self, x: Array, train: bool = False) -> Array:
        return self.forward(x, train)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _ensure_forward(self) -> None:
        """Every layer's ``backward`` starts here: the same clear error when there is nothing to go back through."""
        if self.cache is None:
            raise RuntimeError(f"{self.label}: backward called before forward (call forward(x, train=True) first: "
                               "backward uses what forward cached)")

    def _check_dout(self, dout: Array, expected: tuple[int, ...]) -> None:
        self._ensure_forward()
        check_array(dout, f"{self.label}.backward")
        if tuple(dout.shape) != tuple(expected):
            raise ShapeError(f"{self.label}.backward: upstream gradient has shape {tuple(dout.shape)}, "
                             f"but the layer's output had shape {tuple(expected)}")

    def _check_dtype(self, x: Array, where: str) -> None:
        w = next(iter(self.params.values()))
        if x.dtype != w.dtype:
            raise TypeError(f"{where}: input dtype {x.dtype} differs from the layer's parameters ({w.dtype}); "
                            f"cast with x.astype(...) (Model.forward does this for you)")


class Dense(Layer):
    """Fully connected: z = x Wᵀ + b with W (n_out, n_in) — W[j, k] is w_jk."""

    def __init__(self, n_in: int, n_out: int, init_method: str = "gaussian", dtype: Any = np.float64):
        self.n_in, self.n_out = _int_arg(n_in, "n_in", "Dense", 1), _int_arg(n_out, "n_out", "Dense", 1)
        super().__init__()
        # Speed: W (n_out, n_in) is stored column-major, i.e. Wᵀ is the contiguous array, so the forward
        # product x Wᵀ is a plain row-major GEMM.  Measured for MNIST's 784→100 layer at batch 64 (float32,
        # one thread): 111 µs against 137 µs with W row-major.  Indexing, W[j, k] = w_jk, is unchanged.
        W = init.weights((n_out, n_in), init_method, dtype)
        self.params = {"W": B.xp.asfortranarray(W), "b": init.biases((n_out,), dtype=dtype)}

    def __repr__(self) -> str:
        return f"Dense({self.n_in}→{self.n_out})"

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label, ndim=2)
        if x.shape[1] != self.n_in:
            raise ShapeError(f"{self.label}: expected input of shape (batch, {self.n_in}), got {tuple(x.shape)}")
        self._check_dtype(x, self.label)
        out, self.cache = dense_forward(x, self.params["W"], self.params["b"])
        return out

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        self._check_dout(dout, (self.cache[0].shape[0], self.n_out))
        dx, self.grads["W"], self.grads["b"] = dense_backward(dout, self.cache)
        return dx

    def backward_params(self, dout: Array) -> None:
        self._ensure_forward()
        self._check_dout(dout, (self.cache[0].shape[0], self.n_out))
        _, self.grads["W"], self.grads["b"] = dense_backward(dout, self.cache, need_dx=False)


class Conv2D(Layer):
    """Convolution with F filters of size C×kh×kw, stride and zero padding (NCHW layout).

    PyTorch's conventions: ``kernel_size``, ``stride`` and ``pad`` are ints or pairs (height, width);
    ``pad="same"`` (odd kernels, stride 1) keeps H×W, ``pad="valid"`` is 0.  ``padding=`` is a synonym of
    ``pad`` (PyTorch's name).  Every argument is checked here, at construction, with an error naming it.

    Speed: its output and ∂L/∂x are stored batch-last (see the convolution section).
    """

    def __init__(self, in_channels: int, filters: int, kernel_size: Any, stride: Any = 1, pad: Any = 0,
                 init_method: str = "he", dtype: Any = np.float64, *, padding: Any = None):
        where = "Conv2D"
        self.C = _int_arg(in_channels, "in_channels", where, 1)
        self.F = _int_arg(filters, "filters", where, 1)
        self.kernel_size = _pair_arg(kernel_size, "kernel_size", where, 1)
        self.strides = _pair_arg(stride, "stride", where, 1)
        if padding is not None:
            if not (isinstance(pad, int) and pad == 0):
                raise ValueError(f"{where}: give pad or padding (its PyTorch name), not both (pad={pad!r}, "
                                 f"padding={padding!r})")
            pad = padding
        kh, kw = self.kernel_size
        if isinstance(pad, str):
            if pad == "valid":
                pad = 0
            elif pad == "same":
                if kh % 2 == 0 or kw % 2 == 0:
                    raise ValueError(f"{where}: pad='same' needs an odd kernel_size, got {self.kernel_size} "
                                     "(an even kernel would need unequal padding on the two sides)")
                if self.strides != (1, 1):
                    raise ValueError(f"{where}: pad='same' needs stride 1 (as in PyTorch), got stride={stride!r}")
                pad = ((kh - 1) // 2, (kw - 1) // 2)
            else:
                raise ValueError(f"{where}: pad must be an int ≥ 0, a pair (height, width), 'same' or 'valid', "
                                 f"got {pad!r}")
        self.padding = _pair_arg(pad, "pad", where, 0)
        # the scalar attributes of the square case (k, stride, pad: ints when height and width agree)
        self.k = kh if kh == kw else self.kernel_size
        self.stride = self.strides[0] if self.strides[0] == self.strides[1] else self.strides
        self.pad = self.padding[0] if self.padding[0] == self.padding[1] else self.padding
        super().__init__()
        self.params = {"W": init.weights((self.F, self.C, kh, kw), init_method, dtype),
                       "b": init.biases((self.F,), dtype=dtype)}

    def __repr__(self) -> str:
        kh, kw = self.kernel_size
        return f"Conv2D({self.C}→{self.F}, {kh}×{kw}, stride={_show(self.strides)}, pad={_show(self.padding)})"

    def output_shape(self, h: int, w: int) -> tuple[int, int]:
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.strides, self.padding
        return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label, ndim=4)
        if x.shape[1] != self.C:
            raise ShapeError(f"{self.label}: expected input (batch, {self.C}, H, W), got {tuple(x.shape)}")
        ho, wo = self.output_shape(*x.shape[2:])
        if ho < 1 or wo < 1:
            kh, kw = self.kernel_size
            raise ShapeError(f"{self.label}: a {kh}×{kw} kernel does not fit input {tuple(x.shape)} "
                             f"(padded to {x.shape[2] + 2 * self.padding[0]}×{x.shape[3] + 2 * self.padding[1]})")
        self._check_dtype(x, self.label)
        out, self.cache = conv_forward(x, self.params["W"], self.params["b"], self.strides, self.padding)
        return out

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        N = self.cache[0][0]
        self._check_dout(dout, (N, self.F, *self.output_shape(*self.cache[0][2:])))
        dx, self.grads["W"], self.grads["b"] = conv_backward(dout, self.cache)
        return dx

    def backward_params(self, dout: Array) -> None:
        self._ensure_forward()
        N = self.cache[0][0]
        self._check_dout(dout, (N, self.F, *self.output_shape(*self.cache[0][2:])))
        _, self.grads["W"], self.grads["b"] = conv_backward(dout, self.cache, need_dx=False)


class MaxPool2D(Layer):
    """Max pooling over kh×kw windows: ``size``, ``stride`` (default: ``size``) and ``pad`` are ints or pairs
    (height, width), PyTorch's conventions; padding is with −∞ and at most half the window, as in PyTorch.

    A NaN in a window gives NaN and receives that window's gradient (PyTorch's rule, ``_pool_index``).
    """

    def __init__(self, size: Any = 2, stride: Any = None, pad: Any = 0):
        where = "MaxPool2D"
        self.window = _pair_arg(size, "size", where, 1)
        self.strides = self.window if stride is None else _pair_arg(stride, "stride", where, 1)
        self.padding = _pair_arg(pad, "pad", where, 0)
        if self.padding[0] > self.window[0] // 2 or self.padding[1] > self.window[1] // 2:
            raise ValueError(f"{where}: pad must be at most half the window size (as in PyTorch), got pad={pad!r} "
                             f"for size={size!r}")
        kh, kw = self.window
        self.size = kh if kh == kw else self.window
        self.stride = self.strides[0] if self.strides[0] == self.strides[1] else self.strides
        super().__init__()

    def __repr__(self) -> str:
        pad = f", pad={_show(self.padding)}" if any(self.padding) else ""
        return f"MaxPool2D({_show(self.window)}, stride={_show(self.strides)}{pad})"

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label, ndim=4)
        (kh, kw), (ph, pw) = self.window, self.padding
        if x.shape[2] + 2 * ph < kh or x.shape[3] + 2 * pw < kw:
            raise ShapeError(f"{self.label}: window {kh}×{kw} larger than input {tuple(x.shape)}")
        out, self.cache = maxpool_forward(x, self.window, self.strides, self.padding)
        self._out_shape = out.shape
        return out

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        self._check_dout(dout, self._out_shape)
        return maxpool_backward(dout, self.cache)


class Flatten(Layer):
    """(N, C, H, W) → (N, C·H·W).

    Speed: an input stored batch-last (a conv or pool layer's output, see the convolution section) is
    flattened without a copy, and ``backward`` then returns ∂L/∂x stored batch-last too (one small copy), so
    that the max-pool backward before it works on arrays of a single memory order: NumPy's elementwise
    operations on mixed orders were ~6× slower (0.85 against 0.14 ms for the benchmark's second pool).
    """

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label)
        batch_last = x.ndim > 2 and x.transpose(*range(1, x.ndim), 0).flags.c_contiguous
        self.cache = (x.shape, batch_last)
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        shape, batch_last = self.cache
        self._check_dout(dout, (shape[0], int(np.prod(shape[1:]))))
        if batch_last:  # doutᵀ (C·H·W, N) made C-contiguous is ∂L/∂x stored (C, H, W, N)
            k = len(shape)
            return B.xp.ascontiguousarray(dout.T).reshape(*shape[1:], shape[0]).transpose(k - 1, *range(k - 1))
        return dout.reshape(shape)


class Dropout(Layer):
    """Inverted dropout: in training keep each unit with probability 1 − p and scale by 1/(1 − p).

    At test time it is the identity.  ``fixed_mask`` (an array or None) freezes the
    mask, which gradient checks need.
    """

    def __init__(self, p: float = 0.5):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: drop probability p must be in [0, 1), got {p}")
        self.p = p
        super().__init__()
        self.fixed_mask = None

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label)
        if not train or self.p == 0:
            self.cache = ("identity", tuple(x.shape))  # the identity: backward passes dout through
            return x
        mask = self.fixed_mask
        if mask is None:
            mask = (B.xp.random.random(x.shape) >= self.p).astype(x.dtype) / (1 - self.p)
        self.cache = mask
        return x * mask

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        if isinstance(self.cache, tuple):
            self._check_dout(dout, self.cache[1])
            return dout
        self._check_dout(dout, self.cache.shape)
        return dout * self.cache


class Activation(Layer):
    """Elementwise activation a = σ(z); backward multiplies by σ'(z)."""

    def __init__(self, activation: str | A.Activation):
        self.activation = A.get(activation)
        super().__init__()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()" if type(self) is not Activation else f"Activation({self.activation.name})"

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label)
        self.cache = x
        return self.activation.f(x)

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        self._check_dout(dout, self.cache.shape)
        return dout * self.activation.prime(self.cache)


class Sigmoid(Activation):
    def __init__(self) -> None:
        super().__init__("sigmoid")


class Tanh(Activation):
    def __init__(self) -> None:
        super().__init__("tanh")


class ReLU(Activation):
    """a = max(0, z); backward passes dout where z > 0 (⇔ a > 0), else 0."""

    def __init__(self) -> None:
        super().__init__("relu")

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label)
        self.cache = B.xp.maximum(x, 0)  # keep a: a > 0 is the same mask as z > 0
        return self.cache

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        self._check_dout(dout, self.cache.shape)
        # dout ⊙ ReLU'(z): multiplying by the boolean mask (cast on the fly, no float mask array) is one
        # fast pass; xp.where(mask, dout, 0) was ~10× slower on NumPy (it casts the scalar 0 per element).
        return dout * (self.cache > 0)


class Softplus(Activation):
    def __init__(self) -> None:
        super().__init__("softplus")


class Softmax(Layer):
    """softmax over the last axis (use the fused ``softmax_cross_entropy`` cost for training)."""

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label)
        self.cache = A.softmax(x, axis=-1)
        return self.cache

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        self._check_dout(dout, self.cache.shape)
        return A.softmax_backward(dout, self.cache, axis=-1)
