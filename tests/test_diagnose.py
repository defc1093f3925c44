"""diagnose() names each classic backprop mistake and accepts correct gradients computed another way."""

import numpy as np
import pytest

import nnlib
from nnlib import activations as A
from nnlib import gradcheck as G


@pytest.fixture
def setting(rng):
    net = nnlib.Network([5, 4, 3], seed=0)
    m = 6
    x, y = rng.standard_normal((5, m)), rng.uniform(0, 1, (3, m))
    nb, nw = net.backprop(x, y)
    return net, x, y, nb, nw, m


def test_correct_gradient_computed_another_way_looks_correct(setting):
    net, x, y, nb, nw, m = setting
    # per-example loop with explicit index sums: a different computation of the same numbers
    alt_w = [np.zeros_like(w) for w in nw]
    alt_b = [np.zeros_like(b) for b in nb]
    for i in range(m):
        b1, w1 = net.backprop(x[:, i], y[:, i])
        alt_w = [a + d for a, d in zip(alt_w, w1)]
        alt_b = [a + d for a, d in zip(alt_b, b1)]
    for cand, ref in zip(alt_w + alt_b, nw + nb):
        d = G.diagnose(cand, ref, "g", batch_size=m)
        assert d.ok and d.kind == "correct" and "looks correct" in str(d)
    # and a numerical gradient agrees too
    num = G.numerical_gradient(lambda _: float(net.cost.fn(net.feedforward(x), y)), net.weights[0])
    assert G.diagnose(num, nw[0], "nabla_w[0]").ok


CASES = {
    "transposed": (lambda g, m: g.T, "transposed"),
    "sign": (lambda g, m: -g, "opposite sign"),
    "batch_sum": (lambda g, m: g * m, "too large"),
    "batch_mean": (lambda g, m: g / m, "too small"),
    "scale": (lambda g, m: 0.5 * g, "constant factor"),
    "zeros": (lambda g, m: np.zeros_like(g), "all zeros"),
    "nan": (lambda g, m: g * np.nan, "NaN"),
    "shape": (lambda g, m: np.ones((7, 2)), "shape"),
    "none": (lambda g, m: None, "return"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_weight_gradient_mistakes(case, setting):
    net, x, y, nb, nw, m = setting
    make, phrase = CASES[case]
    ref = nw[0]
    d = G.diagnose(make(ref, m), ref, "nabla_w[0]", batch_size=m)
    assert not d.ok
    assert d.kind == case
    assert phrase in str(d) and str(d).startswith("nabla_w[0] ")


def test_transposed_square_matrix_is_recognised(rng):
    ref = rng.standard_normal((4, 4))
    assert G.diagnose(ref.T, ref).kind == "transposed"


def test_missing_activation_derivative_and_other_layer(setting):
    net, x, y, nb, nw, m = setting
    suspects = G.network_suspects(net, x, y)
    # a student who forgot σ'(z): backprop with σ' replaced by 1
    saved = net.activation
    net.activation = A.Activation("sigmoid", A.sigmoid, lambda z: np.ones_like(z))
    bad_b, bad_w = net.backprop(x, y)
    net.activation = saved
    d = G.diagnose(bad_w[0], nw[0], "nabla_w[0]", batch_size=m, suspects=suspects["nabla_w"][0])
    assert d.kind == "missing_activation_derivative" and "σ'(z^l)" in str(d)
    # the output layer's gradient handed in for layer 0's (same shape only in a square net)
    sq = nnlib.Network([3, 3, 3], seed=1)
    xs, ys = x[:3], y
    sb, sw = sq.backprop(xs, ys)
    s = G.network_suspects(sq, xs, ys)
    d = G.diagnose(sw[1], sw[0], "nabla_w[0]", suspects=s["nabla_w"][0])
    assert d.kind == "other_layer" and "nabla_w[1]" in str(d)


def test_bias_mistakes(setting):
    net, x, y, nb, nw, m = setting
    delta_like = np.random.default_rng(0).standard_normal((4, m))
    ref = delta_like.sum(axis=1, keepdims=True)
    assert G.diagnose(delta_like.sum(axis=0), ref, "nabla_b[0]", batch_size=m).kind == "bias_axis"
    assert G.diagnose(delta_like, ref, "nabla_b[0]", batch_size=m).kind == "bias_not_summed"
    d = G.diagnose(ref.ravel(), ref, "nabla_b[0]", batch_size=m)
    assert d.kind == "reshape" and "(4,)" in str(d) and "(4, 1)" in str(d)


def test_wrong_gradient_message_and_hidden_mode(rng):
    ref = rng.standard_normal((3, 4))
    cand = ref.copy()
    cand[1, 2] += 1.0
    d = G.diagnose(cand, ref, "dW")
    assert d.kind == "wrong" and "1 of 12 entries differ" in str(d) and "(1, 2)" in str(d)
    hidden = G.diagnose(cand, ref, "dW", show_values=False)
    assert f"{ref[1, 2]:.6g}" not in str(hidden) and "expected" not in str(hidden)


def test_assert_gradient_raises_assertion_with_the_same_text(setting):
    net, x, y, nb, nw, m = setting
    with pytest.raises(AssertionError) as info:
        G.assert_gradient(-nw[1], nw[1], "nabla_w[1]")
    assert str(info.value) == str(G.diagnose(-nw[1], nw[1], "nabla_w[1]"))


def test_float32_candidates_get_a_float32_tolerance(setting):
    net, x, y, nb, nw, m = setting
    assert G.diagnose(nw[0].astype(np.float32), nw[0]).ok
    assert not G.diagnose((nw[0] * 1.01).astype(np.float32), nw[0]).ok
