"""nnlib.autograd: gradients against central differences (float64, Hypothesis-drawn shapes and values), against
nnlib's hand-written backprop, and the engine's contract (accumulation, reset, seed, order)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib import gradcheck as G
from nnlib.autograd import Tensor, Value, backward, topo_order, unbroadcast
from nnlib.network import Network

TOL = 1e-7


def scaled_error(a, b) -> float:
    """max |a − b| over the larger of max |a| + max |b| and 1e-8: the relative error of the whole gradient.

    (Entry by entry, a gradient entry of 1e-7 would compare the difference-quotient's rounding, ~1e-12, with
    itself; the whole array's scale is what a float64 gradient check can promise.)"""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(a), initial=0) + np.max(np.abs(b), initial=0),
                                                          1e-8))


# ---------------------------------------------------------------- scalars

finite = st.floats(-2.0, 2.0, allow_nan=False)
positive = st.floats(0.2, 3.0, allow_nan=False)


def scalar_numeric(f, xs, h=1e-4):
    out = []
    for i in range(len(xs)):
        up, dn = list(xs), list(xs)
        up[i] += h
        dn[i] -= h
        up2, dn2 = list(xs), list(xs)
        up2[i] += 2 * h
        dn2[i] -= 2 * h
        out.append((8 * (f(*up) - f(*dn)) - (f(*up2) - f(*dn2))) / (12 * h))
    return out


EXPRESSIONS = [  # (f on Values or floats, uses log → positive inputs)
    (lambda a, b, c: (a * b + c).tanh() * a - b / c, True),
    (lambda a, b, c: (a ** 3 - 2 * b).exp() * 0.1 + (c.log() if isinstance(c, Value) else math.log(c)), True),
    (lambda a, b, c: a * a * b + b * c - c / (1 + a * a), False),
    (lambda a, b, c: (-a + 3) * (b - c).tanh() + (a * b * c) ** 2, False),
]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(range(len(EXPRESSIONS))), finite, finite, positive)
def test_value_gradients_match_central_differences(k, a, b, c):
    f, _ = EXPRESSIONS[k]
    xs = [Value(a), Value(b), Value(c)]
    out = f(*xs)
    out.backward()

    def plain(*v):
        return float(f(*[Value(t) for t in v]).data)

    num = scalar_numeric(plain, [a, b, c])
    assert scaled_error([x.grad for x in xs], num) < TOL


@settings(max_examples=30, deadline=None)
@given(st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3))
def test_relu_and_its_derivative(v):
    x = Value(v)
    y = (x.relu() * 2).relu()
    y.backward()
    assert y.data == pytest.approx(max(0.0, 2 * v))
    assert x.grad == (2.0 if v > 0 else 0.0)


def test_node_used_twice_accumulates():
    x, y = Value(3.0), Value(-2.0)
    z = x * x          # the same node as both operands
    w = z + x * y + x  # and x through three paths
    w.backward()
    assert x.grad == pytest.approx(2 * 3.0 + (-2.0) + 1.0)
    assert y.grad == pytest.approx(3.0)


def test_backward_twice_gives_the_same_gradients():
    x = Value(0.7)
    out = (x * x).tanh() + x
    out.backward()
    first = x.grad
    out.backward()
    assert x.grad == first  # zeroed, not added to
    assert out.grad == 1.0  # the seed


def test_topological_order_puts_every_node_after_its_inputs():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topo_order(e)
    pos = {id(n): i for i, n in enumerate(order)}
    assert len(order) == len(pos) == 5 and order[-1] is e
    for n in order:
        assert all(pos[id(ch)] < pos[id(n)] for ch in n._prev)


def test_deep_chain_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="positive"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="shape"):
        unbroadcast(np.ones((3, 4)), (2, 4))
    with pytest.raises(ValueError, match="2-D"):
        Tensor(np.ones(3)) @ Tensor(np.ones(3))


# ---------------------------------------------------------------- arrays with broadcasting

dims = st.lists(st.integers(1, 4), min_size=1, max_size=3)


@st.composite
def broadcast_pair(draw):
    """(a full shape, an operand shape that broadcasts to it: leading axes dropped, some axes of length 1)."""
    full = tuple(draw(dims))
    drop = draw(st.integers(0, len(full) - 1))
    part = [1 if draw(st.booleans()) else n for n in full[drop:]]
    return full, tuple(part)


def tensor_numeric(f, arrays):
    grads = []
    for i, x in enumerate(arrays):
        def cost(_, i=i):
            return float(f(*[Tensor(a) for a in arrays]).data)
        grads.append(G.numerical_gradient(cost, x))
    return grads


TENSOR_EXPRESSIONS = [
    lambda a, b: (a * b + a).sigmoid().sum(),
    lambda a, b: ((a + b).exp() * 0.1 - b).mean(),
    lambda a, b: (a * b).relu().sum() + (b * b).sum() * 0.5,
    lambda a, b: ((a * a + 1.0).log() * b).sum(axis=0).sum(),
    lambda a, b: ((a - b) ** 2).mean(axis=-1, keepdims=True).sum(),
]


@settings(max_examples=40, deadline=None)
@given(broadcast_pair(), st.sampled_from(range(len(TENSOR_EXPRESSIONS))), st.integers(0, 2**31 - 1), st.booleans())
def test_tensor_gradients_with_broadcasting_match_central_differences(shapes, k, seed, swap):
    full, part = shapes
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-1.5, 1.5, full), rng.uniform(-1.5, 1.5, part)
    if k == 2:  # keep ReLU's kink away from the difference quotient's steps
        b = np.where(np.abs(b) < 0.1, 0.5, b)
        a = np.where(np.abs(a) < 0.1, 0.5, a)
    if swap:
        a, b = b, a
    f = TENSOR_EXPRESSIONS[k]
    ta, tb = Tensor(a), Tensor(b)
    f(ta, tb).backward()
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape
    na, nb = tensor_numeric(f, [a.copy(), b.copy()])
    assert scaled_error(ta.grad, na) < TOL
    assert scaled_error(tb.grad, nb) < TOL


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_matmul_reshape_transpose_against_central_differences(n, k, m, seed):
    rng = np.random.default_rng(seed)
    A, Bm = rng.standard_normal((n, k)), rng.standard_normal((k, m))

    def f(a, b):
        return ((a @ b).T.reshape(m * n, 1).tanh() * (a @ b).reshape(m * n, 1).T.T).sum()

    ta, tb = Tensor(A), Tensor(Bm)
    f(ta, tb).backward()
    na, nb = tensor_numeric(f, [A.copy(), Bm.copy()])
    assert scaled_error(ta.grad, na) < TOL and scaled_error(tb.grad, nb) < TOL


@given(broadcast_pair(), st.integers(0, 2**31 - 1))
@settings(max_examples=40, deadline=None)
def test_unbroadcast_is_the_adjoint_of_broadcasting(shapes, seed):
    """⟨broadcast(x), g⟩ = ⟨x, unbroadcast(g)⟩ for every x: the sum is the transpose of the copy."""
    full, part = shapes
    rng = np.random.default_rng(seed)
    x, g = rng.standard_normal(part), rng.standard_normal(full)
    u = unbroadcast(g, part)
    assert u.shape == part
    assert np.sum(np.broadcast_to(x, full) * g) == pytest.approx(np.sum(x * u), rel=1e-12, abs=1e-12)


def test_tensor_used_twice_and_reset():
    x = Tensor(np.array([[1.0, -2.0, 0.5]]))
    out = (x * x + x).sum()
    out.backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)
    out.backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)


# ---------------------------------------------------------------- against lecture 5's backprop


@pytest.mark.parametrize("sizes,m,seed", [([4, 5, 3], 6, 0), ([3, 7, 2], 1, 1), ([6, 6, 6], 4, 2)])
def test_two_layer_sigmoid_net_matches_network_backprop(sizes, m, seed):
    """C = ½ Σ ‖a^L − y‖² over the m columns: autograd's ∂C/∂w^l, ∂C/∂b^l equal Network.backprop's."""
    net = Network(sizes, seed=seed)
    rng = np.random.default_rng(seed + 10)
    x, y = rng.standard_normal((sizes[0], m)), rng.random((sizes[-1], m))
    nb, nw = net.backprop(x, y)
    ws = [Tensor(w) for w in net.weights]
    bs = [Tensor(b) for b in net.biases]
    a = Tensor(x)
    for w, b in zip(ws, bs):
        a = (w @ a + b).sigmoid()  # b (n, 1) broadcast over the m columns: its gradient is summed back
    cost = ((a - y) ** 2).sum() * 0.5
    cost.backward()
    for got, ref in zip([t.grad for t in ws + bs], list(nw) + list(nb)):
        assert got.shape == np.shape(ref)
        assert G.rel_error(got, np.asarray(ref)) < 1e-10


def test_backward_is_also_a_function():
    x = Value(2.0)
    y = x ** 2
    backward(y)
    assert x.grad == 4.0
