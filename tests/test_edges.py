"""Issue 12, section 1: the sharp edges — sigmoid's tails, backward before forward, argument validation,
rectangular kernels and padding="same", NaN/inf at the public entry points, soft targets, max-pool and NaN,
and Nielsen's data conversion."""

import warnings
from decimal import Decimal, getcontext

import numpy as np
import pytest

import nnlib
from nnlib import activations as A
from nnlib import backend as B

# ---------------------------------------------------------------- sigmoid


def _exact_sigmoid(z):
    """σ(z) in 50-digit decimal arithmetic, rounded once to float64."""
    getcontext().prec = 50
    return np.array([float(1 / (1 + (-Decimal(float(v))).exp())) for v in np.ravel(z)]).reshape(np.shape(z))


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_sigmoid_relative_error_on_the_whole_float64_range(backend):
    z = np.concatenate([np.linspace(-700, 700, 7001), [-709.0, -100.0, -38.0, -26.0, -1e-8, 0.0, 1e-8]])
    exact = _exact_sigmoid(z)
    nnlib.use(backend)
    try:
        got = B.to_host(A.sigmoid(B.to_device(z)))
        buf = B.to_device(z.copy())
        inplace = B.to_host(B.sigmoid_(buf))
    finally:
        nnlib.use("numpy")
    rel = np.abs(got - exact) / exact
    assert rel.max() <= 1e-12, (rel.max(), z[rel.argmax()])
    assert got[z == -38.0][0] > 0  # the old ½(1 + tanh(z/2)) returned exactly 0 from z ≈ −38
    np.testing.assert_array_equal(inplace, got)


@pytest.mark.parametrize("backend_name", ["numpy", "strict"])
def test_the_hot_loops_sigma_and_prime_are_the_same_formula(backend_name):
    """Network's sigmoid_and_prime_ gives σ bit for bit as sigmoid_, and σ' = σ(1 − σ) accurately even where
    a (1 − a) cancels (z > 37 in float64 gives 0 there)."""
    z = np.concatenate([np.linspace(-700, 700, 1401), [36.0, 40.0, 60.0]])
    exact = _exact_sigmoid(z)
    exact_prime = exact * _exact_sigmoid(-z)  # σ'(z) = σ(z) σ(−z)
    nnlib.use(backend_name)
    try:
        a, p = B.to_device(z.copy()), B.to_device(np.empty_like(z))
        with B.quiet_underflow():
            B.sigmoid_and_prime_(a, p)
        a, p = B.to_host(a), B.to_host(p)
        ref = B.to_host(B.sigmoid_(B.to_device(z.copy())))
    finally:
        nnlib.use("numpy")
    np.testing.assert_array_equal(a, ref)
    ok = exact_prime > 1e-300  # relative error is meaningful while σ' is a normal float
    assert (np.abs(p - exact_prime)[ok] / exact_prime[ok]).max() < 1e-12
    assert p[z == 40.0][0] > 0 and (a * (1 - a))[z == 40.0][0] == 0  # the textbook form loses it


def test_sigmoid_float32_is_accurate_to_its_precision():
    z = np.linspace(-87, 87, 3481).astype(np.float32)  # σ(−87) ≈ 1.6e-38 is still a normal float32
    exact = _exact_sigmoid(z.astype(np.float64))
    got = A.sigmoid(z)
    assert got.dtype == np.float32
    assert (np.abs(got - exact) / exact).max() < 1e-6


def test_sigmoid_gives_the_same_numbers_at_every_array_size():
    z = np.random.default_rng(0).uniform(-60, 60, 5000)
    whole = A.sigmoid(z)
    for n in (1, 7, 100, 767, 768, 769, 3000):  # the old version switched formula at 768 entries
        np.testing.assert_array_equal(A.sigmoid(z[:n]), whole[:n])
        np.testing.assert_array_equal(A.sigmoid(z[:n].reshape(1, n)), whole[:n].reshape(1, n))


def test_sigmoid_tails_without_warnings():
    z = np.array([-1e6, -1000.0, -800.0, 745.0, 1000.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):  # quiet_underflow overrides over/under only around σ
            s = A.sigmoid(z)
            s32 = A.sigmoid(z.astype(np.float32))
    np.testing.assert_array_equal(s, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(s32, [0, 0, 0, 1, 1, 1])
    assert 0 < A.sigmoid(np.array([-745.0]))[0] <= 5e-324  # e^−745: the smallest subnormal, correctly rounded
    assert np.isnan(A.sigmoid(np.array([np.nan]))[0])  # NaN is not hidden


def test_sigmoid_of_integers_and_scalars():
    np.testing.assert_allclose(A.sigmoid(np.arange(3)), 1 / (1 + np.exp(-np.arange(3.0))), rtol=1e-15)
    assert abs(float(A.sigmoid(2.0)) - 1 / (1 + np.exp(-2.0))) < 1e-15


# ---------------------------------------------------------------- backward before forward

from nnlib import gradcheck as G  # noqa: E402
from nnlib import layers as L  # noqa: E402
from nnlib import losses  # noqa: E402
from nnlib._checks import ShapeError  # noqa: E402
from nnlib.model import Model  # noqa: E402

LAYERS = {
    "Dense": lambda: L.Dense(4, 3), "Conv2D": lambda: L.Conv2D(1, 2, 3), "MaxPool2D": lambda: L.MaxPool2D(2),
    "Flatten": L.Flatten, "Dropout": lambda: L.Dropout(0.5), "ReLU": L.ReLU, "Sigmoid": L.Sigmoid,
    "Tanh": L.Tanh, "Softplus": L.Softplus, "Softmax": L.Softmax, "Activation": lambda: L.Activation("relu"),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_says_backward_before_forward(name):
    layer = LAYERS[name]()
    for call in (layer.backward, layer.backward_params):
        with pytest.raises(RuntimeError, match=r"backward called before forward \(call forward"):
            call(np.ones((2, 3)))


def test_dropout_in_eval_mode_passes_the_gradient_through():
    d = L.Dropout(0.5)
    x = np.ones((2, 3))
    assert d.forward(x) is x
    np.testing.assert_array_equal(d.backward(np.full((2, 3), 2.0)), np.full((2, 3), 2.0))
    with pytest.raises(ShapeError, match="upstream gradient"):
        d.backward(np.ones((3, 3)))


# ---------------------------------------------------------------- argument validation


@pytest.mark.parametrize("kwargs,exc,fragment", [
    (dict(pad=-1), ValueError, r"pad must be ≥ 0, got -1"),
    (dict(stride=0), ValueError, r"stride must be ≥ 1, got 0"),
    (dict(stride=(1, 0)), ValueError, r"stride\[1\] \(width\) must be ≥ 1"),
    (dict(kernel_size=0), ValueError, r"kernel_size must be ≥ 1"),
    (dict(kernel_size=(3, 5, 1)), TypeError, r"kernel_size must be an int or a pair"),
    (dict(kernel_size=2.5), TypeError, r"kernel_size must be an int or a pair"),
    (dict(kernel_size=True), TypeError, r"kernel_size must be an int or a pair"),
    (dict(in_channels=0), ValueError, r"in_channels must be ≥ 1"),
    (dict(filters=2.0), TypeError, r"filters must be an int"),
    (dict(pad="full"), ValueError, r"pad must be an int ≥ 0, a pair \(height, width\), 'same' or 'valid'"),
    (dict(pad="same", kernel_size=4), ValueError, r"pad='same' needs an odd kernel_size"),
    (dict(pad="same", stride=2), ValueError, r"pad='same' needs stride 1"),
    (dict(pad=1, padding=1), ValueError, r"give pad or padding"),
])
def test_conv2d_arguments_are_checked_at_construction(kwargs, exc, fragment):
    args = dict(in_channels=1, filters=2, kernel_size=3) | kwargs
    with pytest.raises(exc, match=r"Conv2D: " + fragment):
        L.Conv2D(**args)


def test_dense_sizes_are_checked_at_construction():
    with pytest.raises(ValueError, match=r"Dense: n_out must be ≥ 1, got 0"):
        L.Dense(3, 0)
    with pytest.raises(TypeError, match=r"Dense: n_in must be an int, got 2.5"):
        L.Dense(2.5, 3)


@pytest.mark.parametrize("kwargs,exc,fragment", [
    (dict(size=2, stride=0), ValueError, r"stride must be ≥ 1, got 0"),
    (dict(size=0), ValueError, r"size must be ≥ 1"),
    (dict(size=(2, 2, 2)), TypeError, r"size must be an int or a pair"),
    (dict(size=2, pad=-1), ValueError, r"pad must be ≥ 0"),
    (dict(size=2, pad=2), ValueError, r"pad must be at most half the window size"),
])
def test_maxpool_arguments_are_checked_at_construction(kwargs, exc, fragment):
    with pytest.raises(exc, match=r"MaxPool2D: " + fragment):
        L.MaxPool2D(**kwargs)


# ---------------------------------------------------------------- rectangular kernels, strides, pads; "same"


def _conv_loops(x, W, b, stride, pad):
    """The textbook definition with (height, width) strides and pads, as loops (a test reference only)."""
    (sh, sw), (ph, pw) = stride, pad
    xp_ = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    F, _, kh, kw = W.shape
    Ho, Wo = (xp_.shape[2] - kh) // sh + 1, (xp_.shape[3] - kw) // sw + 1
    out = np.zeros((x.shape[0], F, Ho, Wo))
    for n in range(x.shape[0]):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, f, i, j] = (xp_[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw] * W[f]).sum() + b[f]
    return out


@pytest.mark.parametrize("k,stride,pad,H,W", [((3, 5), 1, 0, 6, 8), ((3, 5), (2, 1), (1, 2), 7, 6),
                                               (2, (1, 3), (0, 1), 5, 9), ((1, 3), (2, 2), (0, 1), 5, 5)])
def test_rectangular_conv_matches_loops_and_gradients(k, stride, pad, H, W, rng, backend):
    layer = L.Conv2D(2, 3, k, stride=stride, pad=pad)
    x = rng.standard_normal((2, 2, H, W))
    W_, b_ = (B.to_host(layer.params["W"]), B.to_host(layer.params["b"]))
    kh, kw = (k, k) if isinstance(k, int) else k
    assert W_.shape == (3, 2, kh, kw)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    ref = _conv_loops(x, W_, b_, pair(stride), pair(pad))
    out = B.to_host(layer.forward(B.to_device(x)))
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    assert out.shape[2:] == layer.output_shape(H, W)
    errors = G.check_layer(layer, B.to_device(x))
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("k", [1, 3, 5, (3, 5), (1, 7)])
def test_padding_same_keeps_height_and_width(k, rng):
    layer = L.Conv2D(2, 3, k, pad="same")
    x = rng.standard_normal((2, 2, 7, 9))
    out = layer.forward(x)
    assert out.shape == (2, 3, 7, 9)
    kh, kw = (k, k) if isinstance(k, int) else k
    ref = _conv_loops(x, layer.params["W"], layer.params["b"], (1, 1), ((kh - 1) // 2, (kw - 1) // 2))
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    assert L.Conv2D(2, 3, k, padding="same").padding == layer.padding  # PyTorch's keyword
    assert L.Conv2D(2, 3, k, pad="valid").padding == (0, 0)
    assert max(G.check_layer(layer, x).values()) < 1e-7


def _pool_loops(x, size, stride, pad):
    """Max-pool by loops with PyTorch's rules: −∞ padding, first maximum at ties, last NaN wins (a reference)."""
    (kh, kw), (sh, sw), (ph, pw) = size, stride, pad
    xp_ = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    Ho, Wo = (xp_.shape[2] - kh) // sh + 1, (xp_.shape[3] - kw) // sw + 1
    out = np.zeros((*x.shape[:2], Ho, Wo))
    where = np.zeros((*x.shape[:2], Ho, Wo, 2), dtype=int)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(Ho):
                for j in range(Wo):
                    best, at = -np.inf, (i * sh, j * sw)
                    for u in range(kh):
                        for v in range(kw):
                            val = xp_[n, c, i * sh + u, j * sw + v]
                            if val > best or np.isnan(val):
                                best, at = val, (i * sh + u, j * sw + v)
                    out[n, c, i, j], where[n, c, i, j] = best, at
    return out, where


def _pool_grad_loops(x, dout, size, stride, pad):
    _, where = _pool_loops(x, size, stride, pad)
    ph, pw = pad
    dx = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw))
    for n, c, i, j in np.ndindex(*dout.shape):
        u, v = where[n, c, i, j]
        dx[n, c, u, v] += dout[n, c, i, j]
    return dx[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]


@pytest.mark.parametrize("size,stride,pad", [((2, 3), None, 0), ((3, 2), (1, 2), 0), (3, 2, 1),
                                              ((2, 3), (2, 3), (1, 1)), (2, 2, 0), (3, 1, (1, 0))])
def test_rectangular_maxpool_matches_loops(size, stride, pad, rng, backend):
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    x = rng.permutation(2 * 2 * 7 * 8).reshape(2, 2, 7, 8) * 0.01  # distinct values: one clear maximum
    layer = L.MaxPool2D(size, stride, pad)
    out = B.to_host(layer.forward(B.to_device(x)))
    ref, _ = _pool_loops(x, pair(size), pair(stride if stride is not None else size), pair(pad))
    np.testing.assert_array_equal(out, ref)
    dout = rng.standard_normal(out.shape)
    dx = B.to_host(layer.backward(B.to_device(dout)))
    np.testing.assert_allclose(dx, _pool_grad_loops(x, dout, pair(size), pair(stride or size), pair(pad)),
                               rtol=0, atol=1e-15)


# ---------------------------------------------------------------- max-pool and NaN: PyTorch's rule


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 1), (2, 1)])
def test_maxpool_routes_the_gradient_to_nan_like_pytorch(size, stride, backend):
    x = np.arange(2 * 1 * 6 * 6, dtype=np.float64).reshape(2, 1, 6, 6) % 7
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 4, 4] = np.nan
    x[0, 0, 4, 5] = np.nan  # two NaNs in one window: PyTorch takes the last (row-major)
    x[1, 0, 2, 3] = np.nan
    out, cache = L.maxpool_forward(B.to_device(x), size, stride)
    ref_out, _ = _pool_loops(x, (size, size), (stride, stride), (0, 0))
    np.testing.assert_array_equal(B.to_host(out), ref_out)  # NaN windows give NaN (assert_array_equal: NaN == NaN)
    dout = np.arange(1, ref_out.size + 1, dtype=np.float64).reshape(ref_out.shape)
    dx = B.to_host(L.maxpool_backward(B.to_device(dout), cache))
    ref = _pool_grad_loops(x, dout, (size, size), (stride, stride), (0, 0))
    np.testing.assert_array_equal(dx, ref)
    assert dx[0, 0, 1, 1] > 0 and dx[0, 0, 4, 5] > 0  # the NaNs received their windows' gradients


# ---------------------------------------------------------------- NaN/inf at the public entry points


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_every_layer_rejects_nan_and_inf_input(name, bad):
    layer = LAYERS[name]()
    x = np.ones({"Dense": (2, 4), "Conv2D": (2, 1, 5, 5), "MaxPool2D": (2, 1, 4, 4)}.get(name, (2, 3)))
    x.flat[3] = bad
    with pytest.raises(FloatingPointError, match=r"contains 1 NaN/inf value\(s\)"):
        layer.forward(x, train=True)


def test_backward_rejects_a_nan_upstream_gradient():
    layer = L.Dense(4, 3)
    layer.forward(np.ones((2, 4)))
    dout = np.ones((2, 3))
    dout[1, 2] = np.nan
    with pytest.raises(FloatingPointError, match=r"Dense\(4→3\)\.backward.*1 NaN/inf"):
        layer.backward(dout)


def test_the_finite_check_tells_overflowing_sums_from_inf():
    x = np.full((4, 3), 1e308)  # its sum overflows, yet every entry is finite
    np.testing.assert_array_equal(L.ReLU().forward(x), x)


def test_model_checks_its_input_once_and_trains(rng):
    model = Model([L.Dense(4, 5), L.ReLU(), L.Dense(5, 2)])
    x = rng.standard_normal((6, 4))
    x[2, 1] = np.nan
    with pytest.raises(FloatingPointError, match=r"Model input.*1 NaN/inf"):
        model.loss_and_grads(x, np.zeros(6, dtype=np.int64))
    x[2, 1] = 0.0
    assert np.isfinite(model.loss_and_grads(x, np.zeros(6, dtype=np.int64)))


# ---------------------------------------------------------------- soft targets


@pytest.mark.parametrize("backend_name", ["numpy", "strict"])
def test_soft_targets_not_summing_to_one_get_the_general_gradient(backend_name):
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 3))
    y = rng.random((4, 3)) * 2  # rows sum to anything in (0, 6)
    c = losses.SoftmaxCrossEntropy()
    num = G.numerical_gradient(lambda _: float(c.fn(z, y)), z)
    nnlib.use(backend_name)
    try:
        zs, ys = B.to_device(z), B.to_device(y)
        grad = B.to_host(c.grad(zs, ys))
        total, scaled = c.fn_and_grad(zs, ys, scale=0.25)
        total, scaled = float(B.to_host(total)), B.to_host(scaled)
    finally:
        nnlib.use("numpy")
    s = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(grad, s * y.sum(1, keepdims=True) - y, rtol=1e-13, atol=1e-15)
    assert G.rel_error(grad, num) < 1e-7
    np.testing.assert_allclose(scaled, 0.25 * grad, rtol=1e-13, atol=1e-15)
    assert abs(total - float(-(y * np.log(s)).sum())) < 1e-12
    # probability rows still give softmax − y
    p = y / y.sum(1, keepdims=True)
    np.testing.assert_allclose(c.grad(z, p), s - p, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------- Nielsen's lists: fast stacking, reuse


from nnlib.network import Network  # noqa: E402


def _nielsen_lists(rng, n=40, dtype=np.float32):
    eye = np.eye(3)
    train = [(rng.random((5, 1)).astype(dtype), eye[k].reshape(3, 1)) for k in rng.integers(0, 3, n)]
    test = [(rng.random((5, 1)).astype(dtype), int(k)) for k in rng.integers(0, 3, n // 2)]
    return train, test


def _slow_rows(data, n_out=3):
    X = np.concatenate([x.reshape(1, -1) for x, _ in data])
    Y = np.concatenate([np.eye(n_out)[[y]] if np.ndim(y) == 0 else y.reshape(1, -1) for _, y in data])
    return X, Y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nielsen_lists_stack_to_the_same_rows(dtype, rng):
    train, test = _nielsen_lists(rng)
    net = Network([5, 4, 3], dtype=dtype, seed=0)
    for data in (train, test):
        X, Y = net._as_rows(data, "t")
        Xs, Ys = _slow_rows(data)
        assert X.dtype == dtype and Y.dtype == dtype and X.shape == (len(data), 5) and Y.shape == (len(data), 3)
        np.testing.assert_array_equal(X, Xs.astype(dtype))
        np.testing.assert_array_equal(Y, Ys.astype(dtype))
    Xt = _slow_rows(test)[0]
    assert net.evaluate(test) == int((net.feedforward(Xt.T).argmax(axis=0) == [y for _, y in test]).sum())


def test_every_conversion_sees_the_data_as_they_are_now(rng):
    """No converted copy of a list is kept between calls: an array edited in place is seen by the next call
    (the former cache compared 32 sampled rows and missed an edit of any other row)."""
    eye = np.eye(3)
    train = [(rng.random((5, 1)), eye[k].reshape(3, 1)) for k in rng.integers(0, 3, 1200)]
    net = Network([5, 4, 3], seed=0)
    X1, _ = net._as_rows(train, "t")
    train[5][0][:] = 0.5  # one array of the list edited in place (row 5: not among the former sampled rows)
    X2, _ = net._as_rows(train, "t")
    assert X2 is not X1 and np.all(X2[5] == 0.5)
    train[7] = (np.full((5, 1), 0.25), train[7][1])  # a pair replaced
    X2, Y2 = net._as_rows(train, "t")
    assert np.all(X2[7] == 0.25)
    np.testing.assert_array_equal(X2, _slow_rows(train)[0])
    np.testing.assert_array_equal(Y2, _slow_rows(train)[1])
    test = [(x, int(np.argmax(y))) for x, y in train]
    net.evaluate(test)
    for x, _ in test:  # every input edited in place: one output for all, so the count is that class's
        x[:] = 0.0
    predicted = int(net.feedforward(np.zeros((5, 1))).argmax())
    assert net.evaluate(test) == sum(t == predicted for _, t in test)
    assert not any("cache" in k for k in vars(net))


@pytest.mark.parametrize("bad,fragment", [
    (lambda d: d.__setitem__(3, (np.zeros((4, 1)), d[3][1])), r"\(5, 1\)"),
    (lambda d: d.__setitem__(3, (d[3][0], 7)), r"label 7 is not in 0..2"),
    (lambda d: d.__setitem__(3, (d[3][0], -1)), r"label -1 is not in 0..2"),
    (lambda d: d.__setitem__(3, (d[3][0].astype(np.complex128), d[3][1])), r"floating-point inputs, got complex128"),
])
def test_bad_pairs_in_a_list_are_named(bad, fragment, rng):
    train, _ = _nielsen_lists(rng)
    bad(train)
    with pytest.raises((ShapeError, TypeError), match=fragment):
        Network([5, 4, 3], seed=0)._as_rows(train, "Network.SGD training_data")


def test_integer_pixels_in_a_list_are_still_refused(rng):
    data = [(np.ones((5, 1), dtype=np.int64), np.eye(3)[:, [0]]) for _ in range(4)]
    with pytest.raises(TypeError, match="expected floating-point inputs"):
        Network([5, 4, 3], seed=0)._as_rows(data, "t")
