"""Issue 18: diagnosis from the learner's shapes (nnlib/grading/shapes.py), mistakes nobody catalogued, and the
advice of every family message executed.

* Hypothesis generates mutants of a05's reference backprop (tests/mistakes/mutate_a05.py: a family applied at a
  random non-empty set of its sites) over random architectures whose dimensions all differ, and asserts each is
  rejected with a message naming its family — never a generic "does not match".
* Every template in ``families.ADVICE`` and ``shapes.ADVICE`` has a row in :data:`FIXES`: a mistaken source, the
  message it gets (matched against the template), and the source with the message's advice followed, which must
  pass the check.  A template without a row fails :func:`test_every_advice_template_has_an_executed_fix`.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mistakes as M
from mistakes import mutate_a05 as T
from nnlib import activations as A
from nnlib.grading import GradingError, families, shapes

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _message(check, fn) -> str:
    with pytest.raises(GradingError) as err:
        check(fn)
    return " ".join(str(err.value).split())


# ---------------------------------------------------------------- uncatalogued mutants, generated


@st.composite
def _mutants(draw):
    """(family, sites, sizes, m, seed): 3–5 layers and a batch, every dimension of its own size."""
    dims = draw(st.lists(st.integers(2, 9), min_size=4, max_size=6, unique=True))
    name = draw(st.sampled_from(sorted(T.MUTATIONS)))
    where = draw(st.lists(st.sampled_from(T.sites(name)), min_size=1, unique=True))
    return name, sorted(where), dims[:-1], dims[-1], draw(st.integers(0, 50))


@SETTINGS
@given(_mutants())
def test_an_uncatalogued_backprop_mutant_is_named_by_its_family(mutant):
    name, where, sizes, m, seed = mutant
    msg = T.message(T.mutate(name, where), sizes, m, seed)
    assert msg is not None, f"{name} at {where} passed on {sizes}, m = {m}"
    head = msg.split("(test case")[0]
    assert T.named(msg, name), (name, where, sizes, m, msg)
    assert not any(g in head for g in ("does not match", "relative error")), msg


@st.composite
def _sgd_mutants(draw):
    from mistakes import mutate_a06 as S

    dims = draw(st.lists(st.integers(2, 9), min_size=4, max_size=6, unique=True))
    name = draw(st.sampled_from(sorted(S.MUTATIONS)))
    where = draw(st.lists(st.sampled_from(S.sites(name)), min_size=1, unique=True))
    eta = draw(st.sampled_from([0.5, 3.0, 0.1]))
    return name, sorted(where), dims[:-1], dims[-1], eta, draw(st.integers(0, 50))


@SETTINGS
@given(_sgd_mutants())
def test_an_uncatalogued_sgd_step_mutant_is_named_by_its_family(mutant):
    """a06's update_mini_batch: the 1/m forgotten or doubled, a step uphill, η forgotten, one example's gradient —
    in the weights, the biases or both."""
    from mistakes import mutate_a06 as S

    name, where, sizes, m, eta, seed = mutant
    msg = S.message(S.mutate(name, where), sizes, m, eta, seed)
    assert S.named(msg, name), (name, where, sizes, m, eta, msg)
    assert S.message(S.REFERENCE, sizes, m, eta, seed) is None


def test_the_reference_passes_on_every_generated_architecture():
    for sizes, m in (([4, 6, 3, 5], 7), ([3, 7, 2], 5), ([9, 2, 8], 3)):
        assert T.message(T.REFERENCE, sizes, m) is None


def test_a_product_that_only_fits_a_square_network_is_said_so_and_named_there():
    """w^(l+1) without its transpose in BP2: a shape error on [3, 7, 2]; on the square probe the numbers name it."""
    msg = T.message(T.mutate("BP2 without the transpose"), [3, 7, 2], 5)
    assert "stopped with an error" in msg and "runs only when every layer is as wide as the next" in msg
    assert "instead of its transpose in BP2" in msg


def test_the_relu_softmax_check_probes_too():
    src = M.parts("a05_backprop").answers["backprop_relu_softmax"]
    old = "net.weights[-l + 1].T @ delta"
    assert old in src
    fn = _define(src.replace(old, "net.weights[-l].T @ delta"), "backprop_relu_softmax")
    from nnlib.grading import check_backprop_relu_softmax

    msg = _message(lambda f: check_backprop_relu_softmax(f, cases=[([3, 5, 4], 1, 6, False)]), fn)
    assert "runs only when every layer is as wide as the next" in msg and "same layer" in msg


# ---------------------------------------------------------------- the shape rules, property-based


@st.composite
def _layer(draw):
    n_in, n_out, m, other = draw(st.lists(st.integers(2, 12), min_size=4, max_size=4, unique=True))
    dims = {"n_in": n_in, "n_out": n_out, "m": m, "n_other": other}
    return dims, (n_out, n_in), (n_out, 1), m, other


@SETTINGS
@given(_layer())
def test_each_shape_family_is_read_from_distinct_dimensions(layer):
    dims, w, b, m, other = layer
    ex = lambda got, want: shapes.explain(got, want, dims, m=m)  # noqa: E731
    assert ex(w, w) is None
    assert "the transpose of" in ex(w[::-1], w)
    assert "not summed over the batch" in ex((b[0], m), b)
    assert "one gradient per example" in ex((m, *w), w) and "one gradient per example" in ex((*w, m), w)
    assert "keepdims=True" in ex((b[0],), b)
    assert "summed over axis 0" in ex((1, m), b)
    assert "n_other" in ex((w[0], other), w) and "wrong layer" in ex((w[0], other), w)
    assert "one entry per example" in ex((w[0], m), w)
    assert "one number" in ex((), b)


@SETTINGS
@given(st.integers(2, 9), st.integers(2, 9))
def test_a_dimension_two_names_share_is_never_read(n, k):
    """On a square case a shape cannot say which dimension it took: no reading is better than a guess."""
    dims = {"n_in": n, "n_out": n, "m": k}
    assert shapes.explain((n, n + 1), (n, n), dims, m=k) is None or "wrong layer" not in \
        shapes.explain((n, n + 1), (n, n), dims, m=k)


# ---------------------------------------------------------------- every advice, executed


def _define(src: str, name: str):
    from nnlib.grading.a05_backprop import softmax_cols  # noqa: F401 - what a notebook's setup could hold

    ns = {"np": np, "sigmoid": A.sigmoid, "sigmoid_prime": A.sigmoid_prime, "softmax": A.softmax}
    exec(compile(src, f"<{name}>", "exec"), ns)  # noqa: S102 - the project's own table below
    return ns[name]


def _bp(old: str, new: str) -> str:
    assert old in T.REFERENCE
    return T.REFERENCE.replace(old, new)


def _checks():
    from nnlib.grading import (
        check_backprop,
        check_conv_backward,
        check_derivative,
        check_gd_step,
        check_softmax_cross_entropy,
        check_softmax_delta,
    )

    one = [([3, 7, 2], 0, 5)]
    return {
        "backprop": (lambda f: check_backprop(f, cases=one), "backprop"),
        "backprop (all cases)": (check_backprop, "backprop"),
        "gd_step": (check_gd_step, "gd_step"),
        "sigmoid_prime": (lambda f: check_derivative(f, "sigmoid"), "sigmoid_prime"),
        "softmax_delta": (check_softmax_delta, "softmax_delta"),
        "conv_backward": (check_conv_backward, "conv_backward"),
        "softmax_cross_entropy": (check_softmax_cross_entropy, "softmax_cross_entropy"),
    }


CONV = M.parts("a07_cnn").answers["conv_backward"] if hasattr(M, "parts") else ""
GD = "def gd_step(grad, p, eta):\n    {}\n"
SM = "def softmax_delta(z, y):\n    return {}\n"
SCE = ("def softmax_cross_entropy(z, y):\n    m, k = z.shape\n    s = z - z.max(axis=1, keepdims=True)\n"
       "    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n    p = np.exp(logp)\n"
       "    loss = -np.mean(logp[np.arange(m), y])\n    return loss, {}\n")
PER_N = CONV.replace("dW = np.zeros_like(W)", "dW = np.zeros((N,) + W.shape)").replace("dW[f] +=", "dW[n, f] +=")

# advice key: (check, mistaken source, the source with the message's words followed)
FIXES = {
    # families.ADVICE
    ("families", "integers"): ("gd_step",
                               GD.format("out = np.zeros_like(p, dtype=int)\n    out[:] = p - eta * grad(p)\n"
                                         "    return out"),
                               GD.format("out = np.zeros(p.shape)\n    out[:] = p - eta * grad(p)\n"
                                         "    return out")),
    ("families", "truncated"): ("gd_step", GD.format("return (p - eta * grad(p)).astype(int).astype(float)"),
                                GD.format("return (p - eta * grad(p)).astype(float)")),
    ("families", "broadcast"): ("sigmoid_prime",
                                "def sigmoid_prime(z):\n    s = sigmoid(z)\n    return s.reshape(-1, 1) * (1 - s)\n",
                                "def sigmoid_prime(z):\n    s = sigmoid(z)\n    return s * (1 - s)\n"),
    ("families", "transposed"): ("softmax_delta", SM.format("(softmax(z, axis=0) - y).T"),
                                 SM.format("(softmax(z, axis=0) - y).T.T")),
    ("families", "reshape"): ("softmax_delta", SM.format("(softmax(z, axis=0) - y).reshape(z.shape[::-1])"),
                              SM.format("(softmax(z, axis=0) - y).reshape(z.shape[::-1]).reshape(z.shape)")),
    ("families", "one_number"): ("conv_backward", CONV.replace("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum()"),
                                 CONV),
    ("families", "axis_kept"): ("conv_backward", PER_N,
                                PER_N.replace("return dx, dW, db", "return dx, np.sum(dW, axis=0), db")),
    # shapes.ADVICE
    ("shapes", "transpose"): ("backprop", _bp(T.HID_W, "nabla_w[-l] = activations[-l - 1] @ delta.T"),
                              _bp(T.HID_W, "nabla_w[-l] = delta @ activations[-l - 1].T")),
    ("shapes", "not_summed"): ("backprop", _bp(T.OUT_B, "nabla_b[-1] = delta"),
                               _bp(T.OUT_B, "nabla_b[-1] = delta.sum(axis=1, keepdims=True)")),
    ("shapes", "per_example"): ("backprop",
                                _bp(T.OUT_W, "nabla_w[-1] = delta.T[:, :, None] * activations[-2].T[:, None, :]"),
                                _bp(T.OUT_W, "nabla_w[-1] = (delta.T[:, :, None] * activations[-2].T[:, None, :])"
                                             ".sum(axis=0)")),
    ("shapes", "keepdims"): ("backprop", _bp(T.HID_B, "nabla_b[-l] = delta.sum(axis=1)"),
                             _bp(T.HID_B, "nabla_b[-l] = delta.sum(axis=1, keepdims=True)")),
    ("shapes", "wrong_axis"): ("backprop", _bp(T.HID_B, "nabla_b[-l] = delta.sum(axis=0, keepdims=True)"),
                               _bp(T.HID_B, "nabla_b[-l] = delta.sum(axis=1, keepdims=True)")),
    ("shapes", "other_dim"): ("backprop", _bp(T.OUT_W, "nabla_w[-1] = delta @ activations[-3].T"),
                              _bp(T.OUT_W, "nabla_w[-1] = delta @ activations[-2].T")),
    ("shapes", "examples_axis"): ("backprop", _bp(T.OUT_W, "nabla_w[-1] = delta"),
                                  _bp(T.OUT_W, "nabla_w[-1] = delta @ activations[-2].T")),
    ("shapes", "scalar"): ("backprop", _bp(T.OUT_B, "nabla_b[-1] = delta.sum()"),
                           _bp(T.OUT_B, "nabla_b[-1] = delta.sum(axis=1, keepdims=True)")),
    ("shapes", "square_only"): ("backprop", _bp(T.BP2, T.BP2.replace("[-l + 1].T", "[-l + 1]")), T.REFERENCE),
    ("shapes", "batch_square_only"): ("backprop", _bp(T.OUT_W, "nabla_w[-1] = delta @ activations[-2]"),
                                      _bp(T.OUT_W, "nabla_w[-1] = delta @ activations[-2].T")),
    # a06: index labels used as one-hot rows (not a family table entry: executed all the same)
    ("a06", "labels"): ("softmax_cross_entropy", SCE.format("(p - y) / m"),
                        SCE.format("(p - np.eye(k)[y]) / m")),
}


def _pattern(template: str) -> re.Pattern:
    """The template as a regular expression: every {field} matches any text."""
    parts = re.split(r"\{[a-z_]+\}", " ".join(template.split()))
    return re.compile(".+?".join(re.escape(p) for p in parts), re.S)


def _template(module: str, key: str) -> str:
    if module == "a06":
        from nnlib.grading.a06_sgd import LABELS

        return LABELS
    return (families if module == "families" else shapes).ADVICE[key]


def test_every_advice_template_has_an_executed_fix():
    wanted = {("families", k) for k in families.ADVICE} | {("shapes", k) for k in shapes.ADVICE}
    assert wanted - set(FIXES) == set(), "advice with no executed fix in FIXES"


@pytest.mark.parametrize("key", sorted(FIXES), ids=lambda k: f"{k[0]}.{k[1]}")
def test_the_advice_followed_fixes_the_case(key):
    check_name, wrong, fixed = FIXES[key]
    check, fn = _checks()[check_name]
    msg = _message(check, _define(wrong, fn))
    assert _pattern(_template(*key)).search(msg), (key, msg)
    check(_define(fixed, fn))
