"""Tests for nnlib.diagnostics: gradient norms, traces, timing, slopes."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib import Dense, Model, Network, ReLU, Sigmoid
from nnlib import diagnostics as D


def _net(sizes=(4, 5, 3), seed=0):
    return Network(list(sizes), seed=seed)


def test_network_grad_norms_match_backprop():
    net = _net()
    rng = np.random.default_rng(1)
    x, y = rng.random((4, 6)), rng.random((3, 6))
    nb, nw = net.backprop(x, y)
    norms_b = D.network_grad_norms(net, x, y)
    norms_w = D.network_grad_norms(net, x, y, which="w")
    assert norms_b == pytest.approx([np.linalg.norm(g) / 6 for g in nb])
    assert norms_w == pytest.approx([np.linalg.norm(g) / 6 for g in nw])
    with pytest.raises(ValueError):
        D.network_grad_norms(net, x, y, which="z")


def test_model_grad_norms_one_per_dense_layer():
    model = Model([Dense(4, 6), Sigmoid(), Dense(6, 6), ReLU(), Dense(6, 3)])
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 4)), rng.integers(0, 3, 8)
    norms = D.model_grad_norms(model, x, y)
    assert len(norms) == 3
    assert all(v > 0 for v in norms.values())
    first = model.layers[0]
    assert norms[first.label] == pytest.approx(np.linalg.norm(first.grads["W"]))


def test_network_trace_reproduces_feedforward():
    net = _net()
    X = np.random.default_rng(2).random((7, 4))
    zs, acts = D.network_trace(net, X)
    assert [z.shape for z in zs] == [(7, 5), (7, 3)]
    assert len(acts) == 3
    np.testing.assert_allclose(acts[-1], net.feedforward(X.T).T)
    with pytest.raises(ValueError):
        D.network_trace(net, X[:, :3])


def test_count_params():
    assert D.count_params(_net((784, 30, 10))) == 23860  # the number in the deck "Deep Learning for Beginners"
    assert D.count_params(Model([Dense(3, 2)])) == 8
    with pytest.raises(TypeError):
        D.count_params(object())


def test_time_gradients_and_slope():
    net = _net()
    rng = np.random.default_rng(3)
    t = D.time_gradients(net, rng.random((4, 5)), rng.random((3, 5)), repeats=1)
    assert t["W"] == D.count_params(net)
    assert t["backprop"] > 0 and t["numerical"] > 0
    # parameters are restored after the finite differences
    assert D.time_gradients(net, rng.random((4, 5)), rng.random((3, 5)), numerical=False).keys() == {"W", "backprop"}
    ticks = iter(range(100))                                  # a fake clock: every reading one second later
    t = D.time_gradients(net, rng.random((4, 5)), rng.random((3, 5)), repeats=2, clock=lambda: float(next(ticks)))
    assert t["backprop"] == 1.0 and t["numerical"] == 1.0     # the clock given is the one read
    assert D.loglog_slope([1, 10, 100], [3, 300, 30000]) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        D.loglog_slope([1], [1])
