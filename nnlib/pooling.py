"""Average pooling and global average pooling (PyTorch's ``nn.AvgPool2d`` and ``x.mean((2, 3))``).

Average pooling over kh×kw windows with stride (s_h, s_w) and zero padding (p_h, p_w)::

    out[n, c, i, j] = (1/|W_ij|) Σ_{(u, v)} x_pad[n, c, i·s_h + u, j·s_w + v],   0 ≤ u < kh, 0 ≤ v < kw
    Ho = ⌊(H + 2 p_h − kh) / s_h⌋ + 1,   Wo = ⌊(W + 2 p_w − kw) / s_w⌋ + 1

|W_ij| = kh·kw counts the padded zeros (``count_include_pad=True``, PyTorch's default); with
``count_include_pad=False`` it counts only the window's pixels inside the image.  Each output is a linear
function of its window, so the backward pass spreads each upstream gradient evenly over the window:

    ∂L/∂x[n, c, h, w] = Σ_{i, j: (h, w) ∈ W_ij} dout[n, c, i, j] / |W_ij|

Global average pooling averages each whole feature map, (n, C, H, W) → (n, C)::

    out[n, c] = (1/(H·W)) Σ_{h, w} x[n, c, h, w],      ∂L/∂x[n, c, h, w] = dout[n, c] / (H·W)

It replaces ``Flatten`` + a large ``Dense`` at the end of a CNN (its output goes straight into a ``Dense``).

Speed: the window sums loop over the kh·kw kernel offsets (strided views of the whole batch), never over
samples or pixels; results and ∂L/∂x keep x's memory order, so a convolution's batch-last output
(``nnlib.layers``) stays batch-last.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlib import backend as B
from nnlib._checks import ShapeError, check_array
from nnlib.layers import Layer

Array = Any

__all__ = ["avgpool_forward", "avgpool_backward", "AvgPool2D", "GlobalAvgPool2D"]


def _pair(value: Any, name: str, where: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each ≥ minimum, as a pair (PyTorch's convention for kernel/stride/padding)."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise ValueError(f"{where}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{where}: {name} must be ≥ {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _window_counts(n_in: int, n_out: int, k: int, s: int, p: int) -> np.ndarray:
    """How many of the k positions of each of the n_out windows along one axis lie inside the input."""
    start = np.arange(n_out) * s - p
    return np.minimum(start + k, n_in) - np.maximum(start, 0)


def avgpool_forward(x: Array, kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int] = (0, 0),
                    count_include_pad: bool = True) -> tuple[Array, tuple]:
    """The kh×kw window means of x (n, C, H, W), as kh·kw strided additions; see the module docstring."""
    xp = B.xp
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    N, C, H, W = x.shape
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    if ph or pw:
        xpad = xp.zeros_like(x, shape=(N, C, H + 2 * ph, W + 2 * pw))  # x's memory order
        xpad[:, :, ph:ph + H, pw:pw + W] = x
    else:
        xpad = x
    out = None
    for u in range(kh):  # window offsets in row-major order, as PyTorch sums them
        for v in range(kw):
            view = xpad[:, :, u:u + sh * (Ho - 1) + 1:sh, v:v + sw * (Wo - 1) + 1:sw]
            if out is None:
                out = xp.copy(view)  # order 'K': the view's memory order
            else:
                out += view
    if count_include_pad or not (ph or pw):
        out /= kh * kw
        counts = None
    else:
        counts = B.to_device(np.outer(_window_counts(H, Ho, kh, sh, ph),
                                      _window_counts(W, Wo, kw, sw, pw)).astype(x.dtype))
        out /= counts
    return out, (x.shape, kernel, stride, pad, counts)


def avgpool_backward(dout: Array, cache: tuple) -> Array:
    """∂L/∂x: each dout[n, c, i, j] / |W_ij| added to every pixel of window (i, j); in dout's memory order."""
    xp = B.xp
    (N, C, H, W), (kh, kw), (sh, sw), (ph, pw), counts = cache
    Ho, Wo = dout.shape[2:]
    g = dout / (kh * kw) if counts is None else dout / counts
    dx = xp.zeros_like(dout, shape=(N, C, H + 2 * ph, W + 2 * pw))
    for u in range(kh):
        for v in range(kw):
            dx[:, :, u:u + sh * (Ho - 1) + 1:sh, v:v + sw * (Wo - 1) + 1:sw] += g
    return dx[:, :, ph:ph + H, pw:pw + W] if (ph or pw) else dx


class AvgPool2D(Layer):
    """Average pooling over kh×kw windows (PyTorch's ``nn.AvgPool2d``; stride defaults to the kernel size).

    ``kernel_size``, ``stride`` and ``padding`` are ints or (height, width) pairs; padding is zeros, at most
    half the kernel, and counts in the mean unless ``count_include_pad=False``.  See ``nnlib.pooling``.
    """

    def __init__(self, kernel_size: int | tuple[int, int] = 2, stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, count_include_pad: bool = True):
        self.kernel = _pair(kernel_size, "kernel_size", "AvgPool2D", 1)
        self.stride = self.kernel if stride is None else _pair(stride, "stride", "AvgPool2D", 1)
        self.padding = _pair(padding, "padding", "AvgPool2D", 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel)):
            raise ValueError(f"AvgPool2D: padding {padding!r} must be at most half the kernel size {kernel_size!r}")
        self.count_include_pad = bool(count_include_pad)
        super().__init__()

    def __repr__(self) -> str:
        def short(p: tuple[int, int]) -> str:
            return str(p[0]) if p[0] == p[1] else f"({p[0]}, {p[1]})"

        extra = f", padding={short(self.padding)}" if any(self.padding) else ""
        extra += "" if self.count_include_pad else ", count_include_pad=False"
        return f"AvgPool2D({short(self.kernel)}, stride={short(self.stride)}{extra})"

    def output_shape(self, h: int, w: int) -> tuple[int, int]:
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label, ndim=4)
        ho, wo = self.output_shape(*x.shape[2:])
        if ho < 1 or wo < 1:
            raise ShapeError(f"{self.label}: a {self.kernel[0]}×{self.kernel[1]} window does not fit input "
                             f"{tuple(x.shape)} with padding {self.padding}")
        out, self.cache = avgpool_forward(x, self.kernel, self.stride, self.padding, self.count_include_pad)
        return out

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        N, C, H, W = self.cache[0]
        self._check_dout(dout, (N, C, *self.output_shape(H, W)))
        return avgpool_backward(dout, self.cache)


class GlobalAvgPool2D(Layer):
    """(n, C, H, W) → (n, C): the mean of each feature map, out[n, c] = (1/(H·W)) Σ_{h,w} x[n, c, h, w].

    PyTorch: ``nn.AdaptiveAvgPool2d(1)`` followed by ``nn.Flatten()``.  Backward: dout[n, c] / (H·W) at every
    pixel of the map.  See ``nnlib.pooling``.
    """

    def forward(self, x: Array, train: bool = False) -> Array:
        check_array(x, self.label, ndim=4)
        self.cache = x
        return x.mean(axis=(2, 3))

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        x = self.cache
        self._check_dout(dout, x.shape[:2])
        dx = B.xp.empty_like(x, dtype=dout.dtype)  # x's memory order
        dx[...] = (dout / (x.shape[2] * x.shape[3])).reshape(*x.shape[:2], 1, 1)
        return dx
