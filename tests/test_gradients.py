"""Every layer, activation and cost passes a float64 gradient check with relative error < 1e-7."""

import numpy as np
import pytest
from _inputs import away_from_zero, distinct_pool_input

import nnlib
from nnlib import activations as A
from nnlib import gradcheck as G
from nnlib import layers as L
from nnlib import losses
from nnlib.model import Model

TOL = 1e-7


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softplus"])
def test_activation_derivatives(name, rng, backend):
    act = A.get(name)
    z = nnlib.to_device(away_from_zero(rng, (5, 7)))
    num = G.numerical_gradient_array(act.f, z, nnlib.to_device(np.ones((5, 7))))
    assert G.rel_error(act.prime(z), num) < TOL


@pytest.mark.parametrize("make", [
    lambda: L.Dense(6, 4), lambda: L.Sigmoid(), lambda: L.Tanh(), lambda: L.ReLU(),
    lambda: L.Softplus(), lambda: L.Softmax(), lambda: L.Flatten(),
], ids=["dense", "sigmoid", "tanh", "relu", "softplus", "softmax", "flatten"])
def test_dense_and_activation_layers(make, rng, backend):
    x = nnlib.to_device(away_from_zero(rng, (3, 6)))
    errors = G.check_layer(make(), x)
    assert max(errors.values()) < TOL, errors


def test_dropout_layer_with_frozen_mask(rng, backend):
    x = nnlib.to_device(rng.standard_normal((4, 10)))
    errors = G.check_layer(L.Dropout(0.4), x, train=True)
    assert errors["x"] < TOL


@pytest.mark.parametrize("C,F,k,stride,pad,H,W", [
    (1, 2, 3, 1, 0, 5, 5), (3, 4, 3, 1, 1, 6, 7), (2, 3, 5, 1, 2, 8, 8), (2, 2, 3, 2, 1, 7, 6), (3, 2, 2, 2, 0, 6, 6),
])
def test_conv2d(C, F, k, stride, pad, H, W, rng, backend):
    x = nnlib.to_device(rng.standard_normal((2, C, H, W)))
    errors = G.check_layer(L.Conv2D(C, F, k, stride=stride, pad=pad), x)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("size,stride,H,W", [(2, 2, 6, 6), (2, 2, 7, 5), (3, 2, 7, 7), (3, 3, 9, 6)])
def test_maxpool(size, stride, H, W, rng, backend):
    x = nnlib.to_device(distinct_pool_input(rng, (2, 3, H, W)))
    errors = G.check_layer(L.MaxPool2D(size, stride), x)
    assert errors["x"] < TOL


def test_conv_matches_naive_loops(rng):
    """im2col convolution equals the textbook six-loop definition (a test reference only)."""
    x = rng.standard_normal((2, 3, 7, 6))
    W = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    out, _ = L.conv_forward(x, W, b, stride=2, pad=1)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros(out.shape)
    for n in range(2):
        for f in range(4):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    ref[n, f, i, j] = (xp[n, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * W[f]).sum() + b[f]
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_maxpool_matches_naive_loops(rng):
    x = rng.standard_normal((2, 2, 6, 5))
    out, _ = L.maxpool_forward(x, 2, 2)
    ref = np.array([[[[x[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max() for j in range(2)] for i in range(3)]
                     for c in range(2)] for n in range(2)])
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("cost,act", [("quadratic", "sigmoid"), ("mse", "sigmoid"), ("cross_entropy", "sigmoid"),
                                      ("quadratic", "tanh")])
def test_cost_gradients(cost, act, rng, backend):
    c = losses.get(cost)
    a = nnlib.to_device(rng.uniform(0.05, 0.95, (4, 3)))
    y = nnlib.to_device(rng.uniform(0, 1, (4, 3)))
    num = G.numerical_gradient(lambda v: float(c.fn(v, y)), a)
    assert G.rel_error(c.grad(a, y), num) < TOL
    # delta = grad ⊙ σ'(z): the cross-entropy shortcut a − y equals the general formula
    z = nnlib.to_device(rng.standard_normal((4, 3)))
    f = A.get(act)
    general = c.grad(f(z), y) * f.prime(z)
    assert G.rel_error(c.delta(z, f(z), y, f), general) < 1e-9


def test_softmax_cross_entropy_gradient(rng, backend):
    c = losses.SoftmaxCrossEntropy()
    z = nnlib.to_device(rng.standard_normal((5, 4)))
    labels = nnlib.to_device(np.array([0, 3, 1, 2, 3]))
    num = G.numerical_gradient(lambda v: float(c.fn(v, labels)), z)
    assert G.rel_error(c.grad(z, labels), num) < TOL
    onehot = nnlib.to_device(np.eye(4)[[0, 3, 1, 2, 3]])
    assert abs(float(c.fn(z, onehot)) - float(c.fn(z, labels))) < 1e-12


def test_models_with_l2_and_dropout(rng, backend):
    x = nnlib.to_device(rng.standard_normal((3, 2, 8, 8)))
    y = nnlib.to_device(np.array([0, 2, 1]))
    model = Model([L.Conv2D(2, 3, 3, pad=1), L.Tanh(), L.MaxPool2D(2), L.Flatten(), L.Dense(48, 6),
                   L.Dropout(0.3), L.Sigmoid(), L.Dense(6, 3)], cost="softmax_cross_entropy", l2=0.05)
    errors = G.check_model(model, x, y)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_network_backprop(cost, rng, backend):
    net = nnlib.Network([4, 5, 3, 2], cost=cost, seed=3)
    x = nnlib.to_device(rng.standard_normal((4, 6)))
    y = nnlib.to_device(rng.uniform(0, 1, (2, 6)))
    errors = G.check_network(net, x, y)
    assert max(errors.values()) < TOL, errors
