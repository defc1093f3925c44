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


def _windows(x: Array, kh: int, kw: int, stride: int) -> Array:
    """A strided view (N, Ho, Wo, C, kh, kw) of every kh×kw window of x (N, C, H, W): no copy."""
    N, C, H, W = x.shape
    Ho, Wo = (H - kh) // stride + 1, (W - kw) // stride + 1
    sN, sC, sH, sW = x.strides
    return B.xp.lib.stride_tricks.as_strided(
        x, shape=(N, Ho, Wo, C, kh, kw), strides=(sN, sH * stride, sW * stride, sC, sH, sW))


def _pad(x: Array, pad: int) -> Array:
    if pad == 0:
        return x
    return B.xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def im2col(x: Array, kh: int, kw: int, stride: int = 1, pad: int = 0) -> Array:
    """Rows of the matrix ``cols`` (N·Ho·Wo, C·kh·kw) are the flattened receptive fields of x (N, C, H, W)."""
    win = _windows(_pad(x, pad), kh, kw, stride)
    N, Ho, Wo = win.shape[:3]
    return win.reshape(N * Ho * Wo, -1)


def col2im(dcols: Array, x_shape: tuple[int, ...], kh: int, kw: int, stride: int = 1, pad: int = 0) -> Array:
    """Adjoint of ``im2col``: add each row of dcols back into the pixels of its window.

    Loops over the kh·kw kernel offsets (25 for 5×5), never over samples or pixels.
    """
    N, C, H, W = x_shape
    Hp, Wp = H + 2 * pad, W + 2 * pad
    Ho, Wo = (Hp - kh) // stride + 1, (Wp - kw) // stride + 1
    d = dcols.reshape(N, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)  # N, C, kh, kw, Ho, Wo
    dx = B.xp.zeros((N, C, Hp, Wp), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride] += d[:, :, i, j]
    return dx[:, :, pad:pad + H, pad:pad + W] if pad else dx


def _cols_per_image(x: Array, kh: int, kw: int, stride: int, pad: int) -> Array:
    """im2col in the layout (N, C·kh·kw, Ho·Wo): one matrix per image whose columns are receptive fields.

    Same numbers as ``im2col`` (whose rows are the receptive fields), transposed per image.  This layout
    suits NCHW: W_mat (F, C·kh·kw) @ cols[n] is already out[n] (F, Ho·Wo), so neither the forward output
    nor the backward gradients need a transposed copy, and the copy that builds it moves runs of Wo
    contiguous pixels instead of runs of kw.
    """
    xp_ = _pad(x, pad)
    N, C = x.shape[:2]
    Ho, Wo = (xp_.shape[2] - kh) // stride + 1, (xp_.shape[3] - kw) // stride + 1
    sN, sC, sH, sW = xp_.strides
    win = B.xp.lib.stride_tricks.as_strided(
        xp_, shape=(N, C, kh, kw, Ho, Wo), strides=(sN, sC, sH, sW, sH * stride, sW * stride))
    return win.reshape(N, C * kh * kw, Ho * Wo)  # the one copy of the forward pass


def _col2im_per_image(dcols: Array, x_shape: tuple[int, ...], kh: int, kw: int, stride: int, pad: int) -> Array:
    """Adjoint of ``_cols_per_image``: add dcols (N, C·kh·kw, Ho·Wo) back into the pixels of each window.

    One strided addition per kernel offset (kh·kw of them), never a loop over samples or pixels.
    """
    N, C, H, W = x_shape
    Hp, Wp = H + 2 * pad, W + 2 * pad
    Ho, Wo = (Hp - kh) // stride + 1, (Wp - kw) // stride + 1
    d = dcols.reshape(N, C, kh, kw, Ho, Wo)  # a view: no transpose needed in this layout
    dx = B.xp.zeros((N, C, Hp, Wp), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride] += d[:, :, i, j]
    return dx[:, :, pad:pad + H, pad:pad + W] if pad else dx


def conv_forward(x: Array, W: Array, b: Array, stride: int = 1, pad: int = 0) -> tuple[Array, tuple]:
    """out[n, f] = Σ_c W[f, c] ⋆ x[n, c] + b[f] as one matrix product per image: W_mat (F, C·kh·kw) @ cols[n].

    ``cols`` (N, C·kh·kw, Ho·Wo) holds the receptive fields of image n as columns (``im2col`` transposed).
    """
    N = x.shape[0]
    F, _, kh, kw = W.shape
    cols = _cols_per_image(x, kh, kw, stride, pad)
    Ho, Wo = (x.shape[2] + 2 * pad - kh) // stride + 1, (x.shape[3] + 2 * pad - kw) // stride + 1
    out = B.xp.matmul(W.reshape(F, -1), cols)  # (N, F, Ho·Wo): NCHW already, no transpose
    out += b.reshape(F, 1)
    return out.reshape(N, F, Ho, Wo), (x.shape, cols, W, stride, pad)


def conv_backward(dout: Array, cache: tuple, need_dx: bool = True) -> tuple[Array, Array, Array]:
    """∂L/∂W = Σ_n dout[n] cols[n]ᵀ, ∂L/∂b = Σ dout, ∂L/∂x = col2im(W_matᵀ dout[n]).

    ``need_dx=False`` returns None for ∂L/∂x (a first layer's input gradient: its GEMM and col2im).
    """
    x_shape, cols, W, stride, pad = cache
    F, C, kh, kw = W.shape
    N = dout.shape[0]
    d = dout.reshape(N, F, -1)  # (N, F, Ho·Wo), a view of the NCHW gradient
    dW = B.xp.matmul(d, cols.transpose(0, 2, 1)).sum(axis=0).reshape(W.shape)  # BLAS reads the transpose
    db = d.sum(axis=(0, 2))
    if not need_dx:
        return None, dW, db
    dcols = B.xp.matmul(W.reshape(F, -1).T, d)  # (N, C·kh·kw, Ho·Wo)
    dx = _col2im_per_image(dcols, x_shape, kh, kw, stride, pad)
    return dx, dW, db


# ---------------------------------------------------------------- max pooling


def maxpool_forward(x: Array, size: int = 2, stride: int | None = None) -> tuple[Array, tuple]:
    """out[n, c, i, j] = max of the size×size window at (i·stride, j·stride)."""
    stride = stride or size
    N, C, H, W = x.shape
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    if stride == size:
        # Non-overlapping windows: the maximum over the window's rows, then over its columns, taken
        # with strided views (size − 1 elementwise maxima per axis), no window copy, no argmax.
        rows = x[:, :, 0:size * Ho:size, :size * Wo]
        for i in range(1, size):
            rows = B.xp.maximum(rows, x[:, :, i:size * Ho:size, :size * Wo])
        out = rows[:, :, :, 0::size]
        for j in range(1, size):
            out = B.xp.maximum(out, rows[:, :, :, j::size])
        return out, (x, out, size, stride)
    win = _windows(x, size, size, stride).reshape(N, Ho, Wo, C, size * size)
    idx = win.argmax(axis=-1)
    out = B.xp.take_along_axis(win, idx[..., None], axis=-1)[..., 0].transpose(0, 3, 1, 2)
    return out, (x.shape, idx, size, stride)


def maxpool_backward(dout: Array, cache: tuple) -> Array:
    """The gradient flows only to the input that was the maximum of each window (the first, at ties)."""
    xp = B.xp
    if cache[2] == cache[3]:  # non-overlapping windows: each input pixel belongs to exactly one window
        x, out, size, _ = cache
        Ho, Wo = out.shape[2:]
        dx = xp.zeros(x.shape, dtype=dout.dtype)
        taken = xp.zeros(out.shape, dtype=bool)  # windows whose maximum has been found already
        for i in range(size):  # window offsets in row-major order, so the first maximum wins ties
            for j in range(size):
                hit = x[:, :, i:size * Ho:size, j:size * Wo:size] == out
                hit &= ~taken
                taken |= hit
                # dout where hit, else 0, written straight into dx's strided view (a boolean factor is
                # one fast pass; xp.where(hit, dout, 0) was ~10× slower on NumPy)
                xp.multiply(dout, hit, out=dx[:, :, i:size * Ho:size, j:size * Wo:size])
        return dx
    x_shape, idx, size, stride = cache
    N, C, H, W = x_shape
    Ho, Wo = dout.shape[2:]
    onehot = (xp.arange(size * size, dtype=idx.dtype) == idx[..., None]).astype(dout.dtype)
    dwin = onehot * dout.transpose(0, 2, 3, 1)[..., None]  # N, Ho, Wo, C, size²
    return col2im(dwin.reshape(N * Ho * Wo, C * size * size), (N, C, H, W), size, size, stride)


# ---------------------------------------------------------------- layer classes


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
        if self.cache is None:
            raise RuntimeError(f"{self.label}: backward called before forward")

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
        self.n_in, self.n_out = n_in, n_out
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
    """Convolution with F filters of size C×k×k, stride and zero padding (NCHW layout)."""

    def __init__(self, in_channels: int, filters: int, kernel_size: int, stride: int = 1, pad: int = 0,
                 init_method: str = "he", dtype: Any = np.float64):
        self.C, self.F, self.k, self.stride, self.pad = in_channels, filters, kernel_size, stride, pad
        super().__init__()
        self.params = {"W": init.weights((filters, in_channels, kernel_size, kernel_size), init_method, dtype),
                       "b": init.biases((filters,), dtype=dtype)}

    def __repr__(self) -> str:
        return f"Conv2D({self.C}→{self.F}, {self.k}×{self.k}, stride={self.stride}, pad={self.pad})"

    def output_shape(self, h: int, w: int) -> tuple[int, int]:
        return ((h + 2 * self.pad - self.k) // self.stride + 1, (w + 2 * self.pad - self.k) // self.stride + 1)

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label, ndim=4)
        if x.shape[1] != self.C:
            raise ShapeError(f"{self.label}: expected input (batch, {self.C}, H, W), got {tuple(x.shape)}")
        ho, wo = self.output_shape(*x.shape[2:])
        if ho < 1 or wo < 1:
            raise ShapeError(f"{self.label}: a {self.k}×{self.k} kernel does not fit input {tuple(x.shape)}")
        self._check_dtype(x, self.label)
        out, self.cache = conv_forward(x, self.params["W"], self.params["b"], self.stride, self.pad)
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
    """Max pooling over size×size windows (stride defaults to size)."""

    def __init__(self, size: int = 2, stride: int | None = None):
        self.size, self.stride = size, stride or size
        super().__init__()

    def __repr__(self) -> str:
        return f"MaxPool2D({self.size}, stride={self.stride})"

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label, ndim=4)
        if x.shape[2] < self.size or x.shape[3] < self.size:
            raise ShapeError(f"{self.label}: window {self.size}×{self.size} larger than input {tuple(x.shape)}")
        out, self.cache = maxpool_forward(x, self.size, self.stride)
        self._out_shape = out.shape
        return out

    def backward(self, dout: Array) -> Array:
        self._check_dout(dout, self._out_shape)
        return maxpool_backward(dout, self.cache)


class Flatten(Layer):
    """(N, C, H, W) → (N, C·H·W)."""

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label)
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: Array) -> Array:
        self._check_dout(dout, (self.cache[0], int(np.prod(self.cache[1:]))))
        return dout.reshape(self.cache)


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
            self.cache = None if not train else B.xp.ones_like(x)
            return x
        mask = self.fixed_mask
        if mask is None:
            mask = (B.xp.random.random(x.shape) >= self.p).astype(x.dtype) / (1 - self.p)
        self.cache = mask
        return x * mask

    def backward(self, dout: Array) -> Array:
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
        self._check_dout(dout, self.cache.shape)
        return A.softmax_backward(dout, self.cache, axis=-1)
