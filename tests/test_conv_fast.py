"""The fast convolution and max-pooling paths (batch-last layout, one GEMM per layer, separable col2im)
against plain references: loops, the functional im2col/col2im, and fresh layers."""

import numpy as np
import pytest

import nnlib
from nnlib import backend as B
from nnlib import layers as L

CONV_CASES = [  # C, F, k, stride, pad, H, W
    (1, 2, 3, 1, 0, 5, 5), (3, 4, 3, 1, 1, 6, 7), (2, 3, 5, 1, 2, 8, 8), (2, 2, 3, 2, 1, 7, 6),
    (3, 2, 2, 2, 0, 6, 6), (2, 3, 1, 1, 0, 4, 3), (1, 2, 4, 3, 1, 9, 10),
]


def batch_last(x):
    """The same (N, C, H, W) values stored in the order (C, H, W, N), as the conv layers produce them."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def conv_loops(x, W, b, stride, pad):
    N, C, H, Wd = x.shape
    F, _, k, _ = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = (H + 2 * pad - k) // stride + 1, (Wd + 2 * pad - k) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("nckl,fckl->nf", win, W) + b
    return out


def conv_backward_reference(dout, x, W, stride, pad):
    """dx, dW, db from the functional (row-layout) im2col/col2im, which the notebooks teach."""
    N, F = dout.shape[:2]
    k = W.shape[2]
    cols = L.im2col(x, k, k, stride, pad)  # (N·Ho·Wo, C·k·k)
    d = dout.transpose(0, 2, 3, 1).reshape(-1, F)  # (N·Ho·Wo, F)
    dW = (d.T @ cols).reshape(W.shape)
    dx = L.col2im(d @ W.reshape(F, -1), x.shape, k, k, stride, pad)
    return dx, dW, d.sum(axis=0)


@pytest.mark.parametrize("C,F,k,stride,pad,H,W", CONV_CASES)
@pytest.mark.parametrize("layout", ["C-ordered", "batch-last"])
def test_conv_forward_and_backward_match_references(C, F, k, stride, pad, H, W, layout):
    rng = np.random.default_rng(C * 100 + k * 10 + stride + pad)
    x = rng.standard_normal((3, C, H, W))
    Wt, b = rng.standard_normal((F, C, k, k)), rng.standard_normal(F)
    xin = batch_last(x) if layout == "batch-last" else x
    out, cache = L.conv_forward(xin, Wt, b, stride, pad)
    np.testing.assert_allclose(out, conv_loops(x, Wt, b, stride, pad), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = L.conv_backward(batch_last(dout) if layout == "batch-last" else dout, cache)
    rdx, rdW, rdb = conv_backward_reference(dout, x, Wt, stride, pad)
    np.testing.assert_allclose(dx, rdx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dW, rdW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, rdb, rtol=1e-12, atol=1e-12)
    none, dW2, db2 = L.conv_backward(dout, cache, need_dx=False)
    assert none is None
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_allclose(db2, db, rtol=1e-15, atol=0)
    assert dx.shape == x.shape and dW.shape == Wt.shape and db.shape == b.shape


def test_im2col_and_col2im_are_adjoint():
    """<im2col(x), D> = <x, col2im(D)> for the functional pair, and for the layers' batch-last pair."""
    rng = np.random.default_rng(0)
    for (N, C, H, W), k, s, p in [((2, 3, 7, 6), 3, 2, 1), ((3, 2, 8, 8), 5, 1, 2), ((1, 1, 5, 5), 2, 1, 0)]:
        x = rng.standard_normal((N, C, H, W))
        cols = L.im2col(x, k, k, s, p)
        D = rng.standard_normal(cols.shape)
        assert abs((cols * D).sum() - (x * L.col2im(D, x.shape, k, k, s, p)).sum()) < 1e-10
        cols_bl = L._cols_batch_last(L._batch_last(x, p), k, k, s)
        D = rng.standard_normal(cols_bl.shape)
        dx = L._col2im_batch_last(D, x.shape, k, k, s, p).transpose(3, 0, 1, 2)
        assert abs((cols_bl * D).sum() - (x * dx).sum()) < 1e-10
        # the same receptive fields, transposed and with columns in (i, j, n) order
        Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        rows = cols_bl.reshape(-1, Ho, Wo, N).transpose(3, 1, 2, 0).reshape(N * Ho * Wo, -1)
        np.testing.assert_array_equal(rows, cols)


def test_layers_keep_the_batch_last_layout():
    """The speed contract: conv output, ReLU and max-pool stay batch-last, so the next conv copies nothing."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 2, 12, 12)).astype(np.float32)
    a = x
    for layer in [L.Conv2D(2, 3, 3, dtype=np.float32), L.ReLU(), L.MaxPool2D(2)]:
        a = layer.forward(a, train=True)
        assert a.transpose(1, 2, 3, 0).flags.c_contiguous, layer
        assert a.dtype == np.float32
    xt = L._batch_last(a)
    assert np.shares_memory(xt, a)  # no copy for the next convolution's input
    conv = L.Conv2D(3, 2, 3, dtype=np.float32)
    out = conv.forward(a, train=True)
    dx = conv.backward(np.ones(out.shape, dtype=np.float32))
    assert dx.transpose(1, 2, 3, 0).flags.c_contiguous and dx.dtype == np.float32
    assert conv.grads["W"].dtype == np.float32 and conv.grads["b"].dtype == np.float32


def test_conv_layer_results_survive_later_steps():
    """Outputs and gradients a caller holds are not overwritten by later steps; batch sizes may change."""
    rng = np.random.default_rng(2)
    conv = L.Conv2D(2, 3, 3, pad=1)
    x1, x2, x3 = (rng.standard_normal((n, 2, 6, 5)) for n in (4, 4, 2))
    out1 = conv.forward(x1, train=True)
    kept = out1.copy()
    d1 = rng.standard_normal(out1.shape)
    dx1 = conv.backward(d1)
    dx1_kept, dW1 = dx1.copy(), conv.grads["W"]
    dW1_kept = dW1.copy()
    for x in (x2, x3, x2):  # same batch size (buffers reused), then smaller, then back
        out = conv.forward(x, train=True)
        d = rng.standard_normal(out.shape)
        dx = conv.backward(d)
        ref_out, cache = L.conv_forward(x, conv.params["W"], conv.params["b"], 1, 1)
        rdx, rdW, rdb = L.conv_backward(d, cache)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(dx, rdx)
        np.testing.assert_array_equal(conv.grads["W"], rdW)
        np.testing.assert_array_equal(conv.grads["b"], rdb)
    np.testing.assert_array_equal(out1, kept)
    np.testing.assert_array_equal(dx1, dx1_kept)
    np.testing.assert_array_equal(dW1, dW1_kept)


def maxpool_loops(x, dout, size, stride):
    """Forward and backward by definition; np.argmax picks the first maximum in row-major order."""
    N, C, H, W = x.shape
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    out, dx = np.zeros((N, C, Ho, Wo)), np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
                    u, v = divmod(int(np.argmax(win)), size)
                    out[n, c, i, j] = win[u, v]
                    dx[n, c, i * stride + u, j * stride + v] += dout[n, c, i, j]
    return out, dx


@pytest.mark.parametrize("size,stride,H,W", [(2, 2, 6, 6), (2, 2, 7, 5), (3, 3, 9, 6), (3, 3, 8, 7), (2, 1, 5, 5)])
@pytest.mark.parametrize("layout", ["C-ordered", "batch-last"])
def test_maxpool_first_maximum_gets_the_gradient(size, stride, H, W, layout):
    rng = np.random.default_rng(3)
    # ReLU-like input: many windows are all zeros or share their maximum (ties)
    x = np.maximum(rng.integers(-3, 3, (2, 3, H, W)), 0).astype(np.float64)
    xin = batch_last(x) if layout == "batch-last" else x
    out, cache = L.maxpool_forward(xin, size, stride)
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx = maxpool_loops(x, dout, size, stride)
    np.testing.assert_array_equal(out, ref_out)
    dx = L.maxpool_backward(batch_last(dout) if layout == "batch-last" else dout, cache)
    # including zeros in rows/columns outside every window (overlapping windows add in another order)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-12, atol=1e-15)
    if layout == "batch-last" and stride == size:
        assert out.transpose(1, 2, 3, 0).flags.c_contiguous and dx.transpose(1, 2, 3, 0).flags.c_contiguous


def test_maxpool_float32_stays_float32():
    x = np.random.default_rng(4).standard_normal((2, 2, 4, 4)).astype(np.float32)
    pool = L.MaxPool2D(2)
    out = pool.forward(x)
    dx = pool.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == dx.dtype == np.float32


def test_strict_backend_gives_the_numpy_numbers(backend):
    """The same conv → ReLU → pool forward and backward on NumPy and on the CuPy-like strict backend."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 9, 8))
    W, b = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)

    def run():
        conv, relu, pool = L.Conv2D(2, 4, 3, pad=1), L.ReLU(), L.MaxPool2D(2)
        conv.params["W"], conv.params["b"] = B.to_device(W), B.to_device(b)
        out = pool.forward(relu.forward(conv.forward(B.to_device(x), True)))
        dx = conv.backward(relu.backward(pool.backward(B.to_device(np.ones(tuple(out.shape))))))
        return [B.to_host(a).copy() for a in (out, dx, conv.grads["W"], conv.grads["b"])]

    got = run()
    nnlib.use("numpy")
    for g, r in zip(got, run()):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", ["C-ordered", "batch-last"])
def test_flatten_returns_the_gradient_in_the_input_order(layout):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4, 2, 5))
    xin = batch_last(x) if layout == "batch-last" else x
    flat = L.Flatten()
    out = flat.forward(xin)
    np.testing.assert_array_equal(out, x.reshape(3, -1))
    dout = rng.standard_normal(out.shape)
    dx = flat.backward(dout)
    np.testing.assert_array_equal(dx, dout.reshape(x.shape))
    assert (dx.transpose(1, 2, 3, 0) if layout == "batch-last" else dx).flags.c_contiguous
