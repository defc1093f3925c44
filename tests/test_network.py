"""Nielsen's Network: same answers as Nielsen's per-example code and as the layer API."""

import numpy as np
import pytest

import nnlib
from nnlib import activations as A
from nnlib import layers as L
from nnlib.model import Model


def nielsen_backprop_one(net, x, y):
    """Nielsen's network.py backprop for ONE example (columns), transcribed as a test reference."""
    nb = [np.zeros(b.shape) for b in net.biases]
    nw = [np.zeros(w.shape) for w in net.weights]
    activation, activations, zs = x, [x], []
    for b, w in zip(net.biases, net.weights):
        z = w @ activation + b
        zs.append(z)
        activation = A.sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * A.sigmoid_prime(zs[-1])
    nb[-1], nw[-1] = delta, delta @ activations[-2].T
    for l in range(2, net.num_layers):
        delta = (net.weights[-l + 1].T @ delta) * A.sigmoid_prime(zs[-l])
        nb[-l], nw[-l] = delta, delta @ activations[-l - 1].T
    return nb, nw


def test_vectorised_backprop_equals_sum_of_per_example_backprops(rng):
    net = nnlib.Network([5, 4, 3], seed=0)
    X, Y = rng.standard_normal((5, 8)), rng.uniform(0, 1, (3, 8))
    nb, nw = net.backprop(X, Y)
    ref_b = [np.zeros(b.shape) for b in net.biases]
    ref_w = [np.zeros(w.shape) for w in net.weights]
    for i in range(8):
        b1, w1 = nielsen_backprop_one(net, X[:, i:i + 1], Y[:, i:i + 1])
        ref_b = [r + d for r, d in zip(ref_b, b1)]
        ref_w = [r + d for r, d in zip(ref_w, w1)]
    for got, ref in zip(nb + nw, ref_b + ref_w):
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


def test_nielsen_api_and_layer_api_agree(rng):
    """Same weights → Network.backprop / m equals Model's gradients of the batch-mean quadratic cost."""
    net = nnlib.Network([6, 5, 4, 3], seed=1)
    model = Model([L.Dense(6, 5), L.Sigmoid(), L.Dense(5, 4), L.Sigmoid(), L.Dense(4, 3), L.Sigmoid()],
                  cost="quadratic")
    for dense, w, b in zip(model.layers[::2], net.weights, net.biases):
        dense.params["W"][...] = w
        dense.params["b"][...] = b.ravel()
    m = 7
    X, Y = rng.standard_normal((m, 6)), rng.uniform(0, 1, (m, 3))
    nb, nw = net.backprop(X.T, Y.T)
    model.loss_and_grads(X, Y)
    for dense, gw, gb in zip(model.layers[::2], nw, nb):
        np.testing.assert_allclose(dense.grads["W"], gw / m, rtol=1e-12)
        np.testing.assert_allclose(dense.grads["b"], gb.ravel() / m, rtol=1e-12)
    np.testing.assert_allclose(model.forward(X), net.feedforward(X.T).T, rtol=1e-12)


def test_update_mini_batch_is_nielsens_step(rng):
    net = nnlib.Network([3, 4, 2], seed=2)
    batch = [(rng.standard_normal((3, 1)), rng.uniform(0, 1, (2, 1))) for _ in range(5)]
    w0 = [w.copy() for w in net.weights]
    b0 = [b.copy() for b in net.biases]
    sum_b = [np.zeros(b.shape) for b in b0]
    sum_w = [np.zeros(w.shape) for w in w0]
    for x, y in batch:
        db, dw = nielsen_backprop_one(net, x, y)
        sum_b = [s + d for s, d in zip(sum_b, db)]
        sum_w = [s + d for s, d in zip(sum_w, dw)]
    net.update_mini_batch(batch, eta=3.0)
    for w, w_init, s in zip(net.weights, w0, sum_w):
        np.testing.assert_allclose(w, w_init - 3.0 / 5 * s, rtol=1e-12)
    for b, b_init, s in zip(net.biases, b0, sum_b):
        np.testing.assert_allclose(b, b_init - 3.0 / 5 * s, rtol=1e-12)


def test_sgd_learns_xor_with_nielsen_lists(capsys):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    labels = [0, 1, 1, 0]
    training = [(x.reshape(2, 1), np.eye(2)[[t]].T) for x, t in zip(X, labels)] * 25
    test = [(x.reshape(2, 1), t) for x, t in zip(X, labels)]
    net = nnlib.Network([2, 4, 2], seed=0)
    hist = net.SGD(training, epochs=300, mini_batch_size=4, eta=3.0, test_data=test, seed=0, verbose=False)
    assert net.evaluate(test) == 4
    assert hist["test_accuracy"][-1] == 1.0
    assert hist["cost"][-1] < hist["cost"][0]


def test_sgd_prints_nielsens_epoch_lines(capsys):
    X = np.random.default_rng(0).uniform(0, 1, (20, 3))
    y = (X.sum(1) > 1.5).astype(np.int64)
    net = nnlib.Network([3, 4, 2], seed=0)
    net.SGD((X, y), epochs=2, mini_batch_size=5, eta=1.0, test_data=(X, y), seed=0)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[0].startswith("Epoch 0: ") and out[0].endswith(" / 20")


def test_same_seed_same_training():
    X = np.random.default_rng(0).uniform(0, 1, (40, 3))
    y = (X[:, 0] > 0.5).astype(np.int64)
    runs = []
    for _ in range(2):
        net = nnlib.Network([3, 5, 2], seed=7)
        net.SGD((X, y), epochs=3, mini_batch_size=8, eta=0.5, seed=11, verbose=False)
        runs.append(net.weights[0].copy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_float32_path_keeps_float32():
    net = nnlib.Network([4, 3, 2], dtype=np.float32, seed=0)
    X = np.random.default_rng(0).uniform(0, 1, (16, 4))
    net.SGD((X, np.zeros(16, dtype=np.int64)), epochs=1, mini_batch_size=4, eta=0.1, verbose=False)
    assert all(w.dtype == np.float32 for w in net.weights + net.biases)


@pytest.mark.parametrize("method,expected", [("gaussian", 1 / np.sqrt(400)), ("he", np.sqrt(2 / 400)),
                                             ("xavier", np.sqrt(2 / 500)), ("standard", 1.0)])
def test_initialiser_std(method, expected):
    from nnlib import init

    w = init.weights((100, 400), method)
    assert abs(w.std() / expected - 1) < 0.05
    assert init.std_for("zeros", 400, 100) == 0.0
