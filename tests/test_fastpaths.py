"""The speed paths of issue 3 give the same numbers as the plain ones, and the generic paths run on the
strict (CuPy-like) backend.

* ``backend.sigmoid_`` (one formula on every backend; its accuracy: tests/test_edges.py);
* ``Network``'s buffered SGD step and its chunked minibatch gather;
* ``backward_params`` (a first layer's gradients without ∂L/∂x), as ``Model`` uses it;
* ReLU and max-pool backward written with a boolean factor instead of ``where``.
"""

import numpy as np
import pytest

import nnlib
from nnlib import backend as B
from nnlib import layers as L
from nnlib._checks import trusted
from nnlib._network_data import minibatches
from nnlib.model import Model
from nnlib.network import Network


def _on(backend_name, *arrays):
    """Switch to a backend and move host arrays onto it."""
    nnlib.use(backend_name)
    return [B.to_device(a.copy()) for a in arrays]


# ---------------------------------------------------------------- backend hooks


def test_sigmoid_inplace_fast_equals_generic():
    z = np.linspace(-120, 120, 2001).astype(np.float32)
    with np.errstate(all="raise"):  # no overflow warnings either way
        fast = B.sigmoid_(z.copy())
        (zs,) = _on("strict", z)
        generic = B.to_host(B.sigmoid_(zs))
    nnlib.use("numpy")
    exact = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    assert np.abs(fast - exact).max() < 1e-6
    assert np.abs(generic - exact).max() < 1e-6
    assert np.abs(fast - generic).max() < 1e-6
    assert fast.dtype == np.float32


# ---------------------------------------------------------------- Network: buffered SGD step, chunked gather


def _reference_step(ws, bs, X, Y, eta, lmbda, n, cost):
    """Nielsen's update for a sigmoid network, written plainly in float64 (rows)."""
    acts = [X]
    for w, b in zip(ws, bs):
        acts.append(1.0 / (1.0 + np.exp(-(acts[-1] @ w.T + b.T))))
    a = acts[-1]
    delta = (a - Y) * (a * (1 - a)) if cost == "quadratic" else a - Y
    m = X.shape[0]
    new_w, new_b = [None] * len(ws), [None] * len(bs)
    for l in range(len(ws) - 1, -1, -1):
        gw, gb = delta.T @ acts[l], delta.sum(axis=0).reshape(-1, 1)
        if l > 0:
            delta = (delta @ ws[l]) * acts[l] * (1 - acts[l])
        new_w[l] = (1 - eta * lmbda / n) * ws[l] - eta / m * gw
        new_b[l] = bs[l] - eta / m * gb
    return new_w, new_b


@pytest.mark.parametrize("backend_name", ["numpy", "strict"])
@pytest.mark.parametrize("cost,lmbda", [("quadratic", 0.0), ("cross_entropy", 0.5)])
def test_network_step_matches_reference(backend_name, cost, lmbda):
    rng = np.random.default_rng(2)
    X = rng.random((10, 12)).astype(np.float32)
    Y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 10)]
    nnlib.use(backend_name)
    net = Network([12, 7, 5, 4], cost=cost, dtype=np.float32, seed=3)
    ws = [B.to_host(w).astype(np.float64) for w in net.weights]
    bs = [B.to_host(b).astype(np.float64) for b in net.biases]
    net.update_mini_batch((B.to_device(X), B.to_device(Y)), eta=3.0, lmbda=lmbda, n=100)
    new_w, new_b = _reference_step(ws, bs, X.astype(np.float64), Y.astype(np.float64), 3.0, lmbda, 100, cost)
    for got, exp in zip(net.weights + net.biases, new_w + new_b):
        np.testing.assert_allclose(B.to_host(got), exp, rtol=1e-5, atol=1e-5)
        assert got.dtype == np.float32


def test_network_sgd_same_on_numpy_and_strict():
    rng = np.random.default_rng(4)
    X = rng.random((230, 16)).astype(np.float32)
    y = rng.integers(0, 3, 230)
    results = []
    for name in ("numpy", "strict"):
        nnlib.use(name)
        net = Network([16, 8, 3], dtype=np.float32, seed=0)
        net.SGD((B.to_device(X), B.to_device(y)), epochs=2, mini_batch_size=7, eta=1.0, seed=5, verbose=False)
        results.append([B.to_host(p) for p in net.weights + net.biases])
    nnlib.use("numpy")
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n,m", [(2500, 10), (2500, 100), (2500, 2048), (7, 3), (1, 5)])
def test_minibatches_follow_the_permutation(n, m):
    X = np.arange(n, dtype=np.float32).reshape(-1, 1) * np.ones((1, 3), np.float32)
    Y = np.arange(n, dtype=np.float32).reshape(-1, 1)
    perm = np.random.default_rng(0).permutation(n)
    batches = list(minibatches(X, Y, perm, m))
    assert [b[0].shape[0] for b in batches] == [min(m, n - k) for k in range(0, n, m)]
    np.testing.assert_array_equal(np.concatenate([b[0][:, 0] for b in batches]), perm)
    np.testing.assert_array_equal(np.concatenate([b[1][:, 0] for b in batches]), perm)


# ---------------------------------------------------------------- first-layer gradients without ∂L/∂x


def test_backward_params_fills_the_same_grads(backend):
    rng = np.random.default_rng(5)
    for layer, x in [(L.Dense(6, 4, dtype=np.float32), rng.standard_normal((5, 6))),
                     (L.Conv2D(2, 3, 3, pad=1, dtype=np.float32), rng.standard_normal((2, 2, 6, 6)))]:
        x = B.to_device(x.astype(np.float32))
        out = layer.forward(x, train=True)
        dout = B.to_device(rng.standard_normal(tuple(out.shape)).astype(np.float32))
        layer.backward(dout)
        full = {k: B.to_host(g).copy() for k, g in layer.grads.items()}
        assert layer.backward_params(dout) is None
        for k, g in layer.grads.items():
            np.testing.assert_array_equal(B.to_host(g), full[k])


def test_model_first_layer_skips_input_gradient(backend):
    rng = np.random.default_rng(6)
    x = B.to_device(rng.standard_normal((4, 1, 8, 8)).astype(np.float32))
    y = B.to_device(rng.integers(0, 3, 4))
    model = Model([L.Conv2D(1, 2, 3, dtype=np.float32), L.ReLU(), L.MaxPool2D(2), L.Flatten(),
                   L.Dense(18, 3, dtype=np.float32)])
    model.loss_and_grads(x, y)
    grads = [B.to_host(g).copy() for g in model.grads()]
    # the same gradients by the plain route: every layer's full backward
    out = model.forward(x, train=True)
    dout = model.cost.grad(out, y) / out.shape[0]
    for layer in reversed(model.layers):
        dout = layer.backward(dout)
    assert tuple(dout.shape) == tuple(x.shape)  # layer 0 still returns ∂L/∂x when asked directly
    for g, layer_g in zip(grads, model.grads()):
        np.testing.assert_allclose(g, B.to_host(layer_g), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- ReLU and max-pool backward


def test_relu_and_maxpool_backward_values(backend):
    x = np.array([[[[1.0, -2.0, 3.0, 3.0], [0.0, 5.0, 3.0, -1.0],
                    [-1.0, -1.0, 2.0, 0.5], [-3.0, -1.0, 0.5, 2.0]]]], dtype=np.float32)
    dout = np.array([[[[10.0, 20.0], [30.0, 40.0]]]], dtype=np.float32)
    relu, pool = L.ReLU(), L.MaxPool2D(2)
    pool.forward(relu.forward(B.to_device(x)))
    dx = B.to_host(relu.backward(pool.backward(B.to_device(dout))))
    expected = np.zeros_like(x)
    expected[0, 0, 1, 1] = 10.0  # the 5
    expected[0, 0, 0, 2] = 20.0  # the first of the tied 3s
    expected[0, 0, 2, 0] = 0.0  # max of the window is -1 → ReLU gives 0 everywhere; first 0 wins, ReLU' = 0
    expected[0, 0, 2, 2] = 40.0  # the first of the tied 2s (the other is at (3, 3))
    np.testing.assert_array_equal(dx, expected)
    assert dx.dtype == np.float32



# ---------------------------------------------------------------- round 3: layouts and the label path


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_softmax_ce_label_indices_equal_one_hot_with_scale(backend):
    from nnlib import losses
    rng = np.random.default_rng(3)
    z = rng.standard_normal((7, 5)) * 30  # large logits: the stable path matters
    y = rng.integers(0, 5, 7)
    onehot = np.eye(5)[y]
    zs, ys, hs = _on(backend, z, y, onehot)
    c = losses.SoftmaxCrossEntropy()
    t_idx, g_idx = c.fn_and_grad(zs, ys, scale=0.25)
    t_hot, g_hot = c.fn_and_grad(zs, hs, scale=0.25)
    nnlib.use("numpy")
    assert abs(float(B.to_host(t_idx)) - float(B.to_host(t_hot))) < 1e-9
    np.testing.assert_allclose(B.to_host(g_idx), B.to_host(g_hot), rtol=0, atol=1e-12)
    np.testing.assert_allclose(B.to_host(g_hot), 0.25 * np.asarray(c.grad(z, onehot)), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.4, got range 0\.\.5"):
        c.fn_and_grad(z, np.array([0, 5, 1, 2, 3, 4, 0]))


def test_dense_weights_column_major_and_gradcheck_accepts_them():
    from nnlib import gradcheck as G
    layer = L.Dense(6, 4, dtype=np.float64)
    W = layer.params["W"]
    assert W.shape == (4, 6) and W.flags.f_contiguous  # x @ W.T is a row-major GEMM
    x = np.random.default_rng(0).standard_normal((3, 6))
    layer.forward(x)
    layer.backward(np.ones((3, 4)))
    assert layer.grads["W"].flags.f_contiguous  # same layout as W: the update runs in memory order
    errors = G.check_layer(layer, x)
    assert max(errors.values()) < 1e-7, errors
    # a strided view cannot be perturbed in place: a clear error, not a silent copy
    with pytest.raises(ValueError, match="contiguous"):
        G.numerical_gradient(lambda v: float((v ** 2).sum()), np.zeros((4, 6))[:, ::2])


# ---------------------------------------------------------------- ReLU → MaxPool2D run as MaxPool2D → ReLU


def _cnn(seed, pad2=0, act2=L.ReLU):
    rng = np.random.default_rng(seed)
    layers = [L.Conv2D(2, 3, 3, pad=1), L.ReLU(), L.MaxPool2D(2), L.Conv2D(3, 4, 3), act2(),
              L.MaxPool2D(2, pad=pad2), L.Flatten(), L.Dense(4 if pad2 == 0 else 16, 5), L.ReLU(),
              L.Dense(5, 3)]
    for layer in layers:
        for p in layer.params.values():
            p[...] = B.to_device(rng.standard_normal(p.shape))
    return layers


def _listed_order(layers, x, y):
    """The reference: every layer in the order given, forward then backward, with the same cost."""
    model = Model(layers, cost="softmax_cross_entropy")
    a = model._prepare(x)
    for layer in layers:
        a = layer.forward(a, train=True)
    total, dout = model.cost.fn_and_grad(a, y, scale=1.0 / x.shape[0])
    for layer in reversed(layers):
        dout = layer.backward(dout)
    return a, {f"{i}.{k}": g.copy() for i, layer in enumerate(layers) for k, g in layer.grads.items()}


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_relu_then_maxpool_runs_pooled_first_with_identical_results(backend):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 2, 8, 8))
    x[0] = -np.abs(x[0])  # whole images ≤ 0: windows whose every ReLU output is 0
    x[1, :, :4] = 0.0  # exact zeros: ties at 0
    y = rng.integers(0, 3, 6)
    ref_out, ref_grads = _listed_order(_cnn(0), x, y)
    xs, = _on(backend, x)
    model = Model(_cnn(0), cost="softmax_cross_entropy")
    ran = [type(layer).__name__ for layer in model.run_order()]
    assert ran[:6] == ["Conv2D", "MaxPool2D", "ReLU", "Conv2D", "MaxPool2D", "ReLU"]  # both pairs swapped
    assert ran[6:] == ["Flatten", "Dense", "ReLU", "Dense"]
    model.loss_and_grads(xs, B.to_device(y))
    out = B.to_host(model._forward(xs, True, model.run_order()))
    grads = {f"{i}.{k}": B.to_host(g) for i, layer in enumerate(model.layers) for k, g in layer.grads.items()}
    nnlib.use("numpy")
    np.testing.assert_array_equal(out, ref_out)  # forward: bit for bit
    assert grads.keys() == ref_grads.keys()
    for k in grads:  # backward: the same products in the same order, so equal up to rounding of the sums
        np.testing.assert_allclose(grads[k], ref_grads[k], rtol=1e-12, atol=1e-13, err_msg=k)
    assert any(np.abs(g).max() > 0 for g in grads.values())  # not vacuous


def test_run_order_keeps_the_listed_order_elsewhere():
    padded = Model(_cnn(0, pad2=1))  # a padded pooling is not moved
    assert [type(layer).__name__ for layer in padded.run_order()][3:6] == ["Conv2D", "ReLU", "MaxPool2D"]
    from nnlib.activations_extra import LeakyReLU
    leaky = Model(_cnn(0, act2=LeakyReLU))  # only ReLU itself
    assert [type(layer).__name__ for layer in leaky.run_order()][3:6] == ["Conv2D", "LeakyReLU", "MaxPool2D"]
    mlp = Model([L.Dense(4, 3), L.ReLU(), L.Dense(3, 2)])
    assert mlp.run_order() == mlp.layers


def test_relu_then_maxpool_nan_gives_the_same_output():
    x = np.random.default_rng(1).standard_normal((2, 2, 8, 8))
    layers = _cnn(0)
    model = Model(layers)
    relu, pool = L.ReLU(), L.MaxPool2D(2)
    z = np.random.default_rng(2).standard_normal((2, 3, 8, 8))
    z[0, 1, 2, 3] = np.nan  # a NaN met inside a network (an overflow): layers skip their input check there
    with trusted():
        np.testing.assert_array_equal(relu.forward(pool.forward(z)), pool.forward(relu.forward(z)))
        assert int(np.isnan(relu.forward(pool.forward(z))).sum()) == 1
    assert model.forward(x).shape == (2, 3)


def test_forward_runs_the_listed_order_for_a_manual_backward():
    """``Model.forward`` leaves every cache as the listed order makes it: a hand-written backward works."""
    rng = np.random.default_rng(4)
    model = Model(_cnn(1))
    x, y = rng.standard_normal((3, 2, 8, 8)), rng.integers(0, 3, 3)
    model.loss_and_grads(x, y)  # the reordered run first, then the public forward
    out = model.forward(x, train=True)
    dout = model.cost.grad(out, y) / 3
    for layer in reversed(model.layers):
        dout = layer.backward(dout)
    assert dout.shape == x.shape
    np.testing.assert_allclose(model.predict(x), out.argmax(axis=1))
