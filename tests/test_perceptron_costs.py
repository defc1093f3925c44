"""Perceptron rule, activations and costs: the lectures' facts as executable checks."""

import numpy as np
import pytest

import nnlib
from nnlib import activations as A
from nnlib import losses
from nnlib.datasets import logic_table


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND", "NOR"])
def test_perceptron_learns_linearly_separable_gates(gate):
    X, d = logic_table(gate)
    p = nnlib.Perceptron(2, eta=1.0)
    mistakes = p.fit(X, d, epochs=50)
    assert mistakes[-1] == 0
    np.testing.assert_array_equal(p.predict(X), d)


def test_perceptron_never_converges_on_xor():
    X, d = logic_table("XOR")
    p = nnlib.Perceptron(2, eta=1.0)
    mistakes = p.fit(X, d, epochs=50)
    assert len(mistakes) == 50 and min(mistakes) > 0


def test_perceptron_update_rule_with_bias_as_constant_input():
    p = nnlib.Perceptron(2, eta=0.5, w=[0.0, 0.0, 0.0])
    u = p.update([1.0, 1.0], d=1)  # output 0 (z = 0 is not > 0), so w += η (1 − 0) (1, 1, 1)
    np.testing.assert_allclose(p.w, [0.5, 0.5, 0.5])
    assert u.y == 0 and u.changed
    u = p.update([1.0, 1.0], d=1)  # now right: no change
    np.testing.assert_allclose(p.w, [0.5, 0.5, 0.5])
    assert not u.changed


def test_sigmoid_and_softmax_are_stable():
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = A.sigmoid(z)
        sm = A.softmax(np.array([[1000.0, 999.0, -1000.0]]))
        sp = A.softplus(z)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    np.testing.assert_allclose(sm, [[1 / (1 + np.e ** -1), 1 / (1 + np.e), 0.0]], rtol=1e-12)
    np.testing.assert_allclose(sp[-1], 1000.0)
    np.testing.assert_allclose(A.sigmoid_prime(z), s * (1 - s))


def test_softmax_cross_entropy_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0], [0.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = losses.softmax_cross_entropy(z, np.array([1, 0]))
    assert np.isfinite(loss) and abs(loss - 500.0) < 1e-9
    np.testing.assert_allclose(grad, [[0.5, -0.5], [0.0, 0.0]], atol=1e-12)


def test_quadratic_conventions_differ_by_2_over_n_outputs():
    rng = np.random.default_rng(0)
    a, y = rng.uniform(0, 1, (4, 10)), rng.uniform(0, 1, (4, 10))
    nielsen = losses.quadratic(a, y)
    slides = losses.mse(a, y)
    assert np.isclose(slides, nielsen * 2 / 10)
    np.testing.assert_allclose(losses.MSECost().grad(a, y), losses.QuadraticCost().grad(a, y) * 2 / 10)


def test_step_has_zero_derivative():
    z = np.linspace(-2, 2, 9)
    np.testing.assert_array_equal(A.step(z), (z > 0).astype(float))
    assert not A.step_prime(z).any()


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("onehot", [False, True])
def test_fused_loss_and_gradient_equal_separate_ones(axis, onehot):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((6, 4)) * 5
    labels = rng.integers(0, 4, 6)
    if axis == 0:
        z = z.T.copy()
    c = losses.SoftmaxCrossEntropy(class_axis=axis)
    y = (np.eye(4)[labels] if axis == -1 else np.eye(4)[labels].T) if onehot else labels
    loss, grad = c.fn_and_grad(z, y)
    np.testing.assert_allclose(loss, c.fn(z, y), rtol=1e-12)
    np.testing.assert_allclose(grad, c.grad(z, y), rtol=1e-12, atol=1e-15)
    q = losses.QuadraticCost()
    a, t = rng.uniform(0, 1, (3, 2)), rng.uniform(0, 1, (3, 2))
    ql, qg = q.fn_and_grad(a, t)
    assert ql == q.fn(a, t) and np.array_equal(qg, q.grad(a, t))
