"""Optimisers follow their update formulas and minimise a quadratic; schedules give the stated values."""

import math

import numpy as np
import pytest

from nnlib import optim


@pytest.mark.parametrize("name,lr", [("sgd", 0.1), ("momentum", 0.05), ("nesterov", 0.05), ("adagrad", 0.5),
                                     ("rmsprop", 0.05), ("adam", 0.1)])
def test_minimise_an_ill_conditioned_quadratic(name, lr):
    A = np.diag([1.0, 10.0])
    w = np.array([3.0, -2.0])
    opt = optim.get(name, lr)
    for _ in range(300):
        opt.step([w], [A @ w])
    assert np.linalg.norm(w) < 0.05, (name, w)


def test_update_formulas_one_step():
    g = np.array([0.5, -2.0])
    w = np.zeros(2)
    optim.SGD(0.1).step([w], [g])
    np.testing.assert_allclose(w, -0.1 * g)
    w = np.zeros(2)
    m = optim.Momentum(0.1, mu=0.9)
    m.step([w], [g])
    m.step([w], [g])
    np.testing.assert_allclose(w, -0.1 * g + (0.9 * -0.1 * g - 0.1 * g))
    w = np.zeros(2)
    a = optim.Adam(0.01)
    a.step([w], [g])
    np.testing.assert_allclose(w, -0.01 * np.sign(g), rtol=1e-6)  # first Adam step has size η
    w = np.zeros(2)
    ag = optim.Adagrad(0.1, eps=0)
    ag.step([w], [g])
    np.testing.assert_allclose(w, -0.1 * np.sign(g))


def test_schedules():
    assert optim.StepDecay(1.0, 0.5, every=10)(25) == 0.25
    assert math.isclose(optim.ExponentialDecay(1.0, 0.1)(10), math.exp(-1))
    assert optim.InverseTimeDecay(1.0, 1.0)(3) == 0.25
    plateau = optim.ReduceOnPlateau(1.0, factor=0.5, patience=2)
    lrs = [plateau.step(v) for v in [5, 4, 4, 4, 4, 3]]
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]
