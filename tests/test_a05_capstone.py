"""Assignment 5 (backprop, with the derivation parts) and assignment 8 (the capstone): a catalogue of classic
mistakes written as the code a student writes, graded by the checks in the notebook (self-check) and through the
real pipeline (``nnlib_grader.runner.grade_notebook`` with the sandbox, as root).

Every buggy answer is the reference solution of the source (solutions/<a>/<a>.md) with one edit (the edit must
apply), so the catalogue stays true to the notebooks.  Each entry names a phrase the message must contain.
"""

from __future__ import annotations

import copy
import linecache
import os
import re
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from nnlib.activations import sigmoid, sigmoid_prime, softmax
from nnlib.grading import GradingError
from nnlib.grading import a05_backprop as A5
from nnlib.grading import a08_capstone as A8
from nnlib_grader.authoring import cell_source

ROOT = Path(__file__).resolve().parents[1]
A05_SRC = ROOT / "solutions" / "a05_backprop" / "a05_backprop.md"
A08_SRC = ROOT / "solutions" / "a08_capstone" / "a08_capstone.md"


def answer(src: str) -> str:
    """The reference solution as a student's cell: the nbgrader markers removed."""
    return "\n".join(ln for ln in src.strip("\n").split("\n") if "### BEGIN SOLUTION" not in ln
                     and "### END SOLUTION" not in ln) + "\n"


def edit(src: str, *pairs: tuple[str, str]) -> str:
    """src with every (old, new) replaced; each old must occur (so the bug really is in the code)."""
    for old, new in pairs:
        assert old in src, f"edit does not apply: {old!r}"
        src = src.replace(old, new)
    return src


BP = answer(cell_source(A05_SRC, "backprop"))
SINGLE = answer(cell_source(A05_SRC, "backprop_single"))
DELTA = answer(cell_source(A05_SRC, "softmax_delta"))
RELU = answer(cell_source(A05_SRC, "backprop_relu_softmax"))
TRAIN = answer(cell_source(A08_SRC, "train"))
assert answer(cell_source(A08_SRC, "backprop")) == BP  # a08 asks for the same batch backprop as a05

# a per-example loop (the way many students first write the batch version), correct with +=
BP_LOOP = '''
def backprop(net, x, y):
    nabla_b = [np.zeros_like(b) for b in net.biases]
    nabla_w = [np.zeros_like(w) for w in net.weights]
    for i in range(x.shape[1]):
        activation = x[:, i:i + 1]
        activations, zs = [activation], []
        for b, w in zip(net.biases, net.weights):
            z = w @ activation + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y[:, i:i + 1]) * sigmoid_prime(zs[-1])
        nabla_b[-1] += delta
        nabla_w[-1] += delta @ activations[-2].T
        for l in range(2, net.num_layers):
            delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
            nabla_b[-l] += delta
            nabla_w[-l] += delta @ activations[-l - 1].T
    return nabla_b, nabla_w
'''
RELU_LOOP = edit(BP_LOOP, ("def backprop(", "def backprop_relu_softmax("),
                 ("activation = sigmoid(z)", "activation = np.maximum(z, 0) if len(zs) < len(net.weights) else "
                                             "softmax(z, axis=0)"),
                 ("delta = (activations[-1] - y[:, i:i + 1]) * sigmoid_prime(zs[-1])",
                  "delta = activations[-1] - y[:, i:i + 1]"),
                 ("* sigmoid_prime(zs[-l])", "* (zs[-l] > 0)"))


# ---------------------------------------------------------------- the catalogue
# (id, function, source, phrase the message must contain)

BACKPROP_BUGS = [
    ("bp2_w_same", BP, edit(BP, ("net.weights[-l + 1].T @ delta", "net.weights[-l].T @ delta")),
     "weights w^l of the same layer"),
    ("bp2_no_T", BP, edit(BP, ("net.weights[-l + 1].T @ delta", "net.weights[-l + 1] @ delta")),
     "instead of its transpose"),
    ("bp2_prime_up", BP, edit(BP, ("sigmoid_prime(zs[-l])", "sigmoid_prime(zs[-l + 1])")), "one layer too high"),
    ("bp2_prime_down", BP, edit(BP, ("sigmoid_prime(zs[-l])", "sigmoid_prime(zs[-l - 1])")), "one layer too low"),
    ("bp2_matmul", BP, edit(BP, ("@ delta) * sigmoid_prime(zs[-l])", "@ delta) @ sigmoid_prime(zs[-l])")),
     "matrix product where BP2"),
    ("bp1_matmul", BP, edit(BP, ("(activations[-1] - y) * sigmoid_prime", "(activations[-1] - y) @ sigmoid_prime")),
     "matrix product where BP1"),
    ("bp4_a_same", BP, edit(BP, ("delta @ activations[-2].T", "delta @ activations[-1].T"),
                            ("delta @ activations[-l - 1].T", "delta @ activations[-l].T")), "own activation a^l"),
    ("bp4_a_same_hidden", BP, edit(BP, ("delta @ activations[-l - 1].T", "delta @ activations[-l].T")),
     "own activation a^l"),
    ("bp3_bias_axis", BP, edit(BP, ("delta.sum(axis=1, keepdims=True)", "delta.sum(axis=0, keepdims=True)")),
     "wrong axis"),
    ("bp3_not_summed", BP, edit(BP, ("nabla_b[-1] = delta.sum(axis=1, keepdims=True)", "nabla_b[-1] = delta"),
                                ("nabla_b[-l] = delta.sum(axis=1, keepdims=True)", "nabla_b[-l] = delta")),
     "one entry per example"),
    ("assign_not_add", BP, edit(BP_LOOP, ("nabla_b[-1] += delta", "nabla_b[-1] = delta"),
                                ("nabla_w[-1] += delta", "nabla_w[-1] = delta"),
                                ("nabla_b[-l] += delta", "nabla_b[-l] = delta"),
                                ("nabla_w[-l] += delta", "nabla_w[-l] = delta")), "last example"),
    ("return_in_loop", BP, edit(BP_LOOP, ("            nabla_w[-l] += delta @ activations[-l - 1].T\n",
                                          "            nabla_w[-l] += delta @ activations[-l - 1].T\n"
                                          "        return nabla_b, nabla_w\n")), "first example"),
    ("bp1_no_prime", BP, edit(BP, ("delta = (activations[-1] - y) * sigmoid_prime(zs[-1])",
                                   "delta = activations[-1] - y")), "without σ'(z^L)"),
    ("bp2_no_prime", BP, edit(BP, ("delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])",
                                   "delta = net.weights[-l + 1].T @ delta")), "without σ'(z^l)"),
    ("prime_at_a", BP, edit(BP, ("sigmoid_prime(zs[-1])", "sigmoid_prime(activations[-1])"),
                            ("sigmoid_prime(zs[-l])", "sigmoid_prime(activations[-l])")), "at the activation"),
    ("sign", BP, edit(BP, ("(activations[-1] - y)", "(y - activations[-1])")), "opposite sign"),
    ("mean", BP, edit(BP, ("    return nabla_b, nabla_w", "    m = x.shape[1]\n"
                           "    return [b / m for b in nabla_b], [w / m for w in nabla_w]")), "divided by"),
    ("bp4_transposed", BP, edit(BP, ("delta @ activations[-2].T", "activations[-2] @ delta.T"),
                                ("delta @ activations[-l - 1].T", "activations[-l - 1] @ delta.T")), "transposed"),
    ("delta_late", BP, edit(BP, ("""        delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
        nabla_b[-l] = delta.sum(axis=1, keepdims=True)
        nabla_w[-l] = delta @ activations[-l - 1].T""", """        nabla_b[-l] = delta.sum(axis=1, keepdims=True)
        nabla_w[-l] = delta @ activations[-l - 1].T
        delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])""")), "with δ^(l+1)"),
    ("bp4_a_not_transposed", BP, edit(BP, ("delta @ activations[-2].T", "delta @ activations[-2]"),
                                      ("delta @ activations[-l - 1].T", "delta @ activations[-l - 1]")),
     "instead of its transpose in BP4"),
    ("no_x_in_activations", BP, edit(BP, ("activation, activations, zs = x, [x], []",
                                          "activation, activations, zs = x, [], []")), "activations a^1 … a^L"),
    ("loop_stops_early", BP, edit(BP, ("for l in range(2, net.num_layers):", "for l in range(2, net.num_layers - 1):")),
     "never reached"),
    ("order_swapped", BP, edit(BP, ("    return nabla_b, nabla_w", "    return nabla_w, nabla_b")),
     "(nabla_w, nabla_b)"),
    ("lists_reversed", BP, edit(BP, ("    return nabla_b, nabla_w", "    return nabla_b[::-1], nabla_w[::-1]")),
     "reverse order"),
    ("updates_net", BP, edit(BP, ("    return nabla_b, nabla_w", "    net.weights[-1] -= 0.1 * nabla_w[-1]\n"
                                  "    return nabla_b, nabla_w")), "changed net.weights"),
]

SINGLE_BUGS = [
    ("single_w_same", SINGLE, edit(SINGLE, ("net.weights[-l + 1].T @ delta", "net.weights[-l].T @ delta")),
     "weights w^l of the same layer"),
    ("single_no_T", SINGLE, edit(SINGLE, ("net.weights[-l + 1].T @ delta", "net.weights[-l + 1] @ delta")),
     "instead of its transpose"),
    ("single_prime_up", SINGLE, edit(SINGLE, ("sigmoid_prime(zs[-l])", "sigmoid_prime(zs[-l + 1])")),
     "one layer too high"),
    ("single_matmul", SINGLE, edit(SINGLE, ("@ delta) * sigmoid_prime", "@ delta) @ sigmoid_prime")),
     "multiplies elementwise"),
    ("single_a_same", SINGLE, edit(SINGLE, ("delta @ activations[-l - 1].T", "delta @ activations[-l].T")),
     "own activation a^l"),
    ("single_bp1", SINGLE, edit(SINGLE, ("delta = (activations[-1] - y) * sigmoid_prime(zs[-1])",
                                         "delta = activations[-1] - y")), "without σ'(z^L)"),
]

BACKPROP_GOOD = [
    ("loop", BP_LOOP),
    ("a_times_one_minus_a", edit(BP, ("sigmoid_prime(zs[-l])", "activations[-l] * (1 - activations[-l])"),
                                 ("sigmoid_prime(zs[-1])", "activations[-1] * (1 - activations[-1])"))),
    ("np_dot", edit(BP, ("delta @ activations[-l - 1].T", "np.dot(delta, activations[-l - 1].T)"),
                    ("net.weights[-l + 1].T @ delta", "np.dot(net.weights[-l + 1].T, delta)"))),
    ("einsum", edit(BP, ("delta @ activations[-l - 1].T", "np.einsum('im,jm->ij', delta, activations[-l - 1])"))),
    ("ones_sum", edit(BP, ("nabla_b[-l] = delta.sum(axis=1, keepdims=True)",
                           "nabla_b[-l] = delta @ np.ones((x.shape[1], 1))"))),
    ("manual_sigmoid", edit(BP, ("activation = sigmoid(z)", "activation = 1 / (1 + np.exp(-z))"))),
]

DELTA_BUGS = [
    ("sigma_prime", DELTA, edit(DELTA, ("return softmax(z, axis=0) - y",
                                        "return (softmax(z, axis=0) - y) * sigmoid_prime(z)")), "σ'(z^L)"),
    ("diag", DELTA, edit(DELTA, ("return softmax(z, axis=0) - y",
                                 "a = softmax(z, axis=0)\n    return (a - y) * a * (1 - a)")), "already is ∂C/∂z"),
    ("dC_da", DELTA, edit(DELTA, ("return softmax(z, axis=0) - y", "return -y / softmax(z, axis=0)")),
     "derivative with respect to the outputs"),
    ("jacobian_diagonal_only", DELTA, edit(DELTA, ("return softmax(z, axis=0) - y",
                                                   "a = softmax(z, axis=0)\n    return (-y / a) * a * (1 - a)")),
     "only the diagonal"),
    ("jacobian_twice", DELTA, edit(DELTA, ("return softmax(z, axis=0) - y",
                                           "a = softmax(z, axis=0)\n    g = a - y\n"
                                           "    return a * (g - (a * g).sum(axis=0, keepdims=True))")),
     "applies the softmax's Jacobian to a − y"),
    ("jacobian_batch_axis", DELTA, edit(DELTA, ("return softmax(z, axis=0) - y",
                                                "a = softmax(z, axis=0)\n    g = -y / a\n"
                                                "    return a * (g - (a * g).sum(axis=1, keepdims=True))")),
     "sums over the examples"),
    ("softmax_axis", DELTA, edit(DELTA, ("softmax(z, axis=0)", "softmax(z)")), "across the examples"),
    ("sigmoid", DELTA, edit(DELTA, ("softmax(z, axis=0)", "sigmoid(z)")), "σ(z) for the outputs"),
    ("no_y", DELTA, edit(DELTA, ("return softmax(z, axis=0) - y", "return softmax(z, axis=0)")),
     "target y is missing"),
    ("minus_one", DELTA, edit(DELTA, ("softmax(z, axis=0) - y", "softmax(z, axis=0) - 1")), "only the target class"),
    ("mean", DELTA, edit(DELTA, ("softmax(z, axis=0) - y", "(softmax(z, axis=0) - y) / z.shape[1]")),
     "divided by the number of examples"),
    ("summed", DELTA, edit(DELTA, ("softmax(z, axis=0) - y", "(softmax(z, axis=0) - y).sum(axis=1, keepdims=True)")),
     "summed over the examples"),
    ("sign", DELTA, edit(DELTA, ("softmax(z, axis=0) - y", "y - softmax(z, axis=0)")), "opposite sign"),
    ("jacobian_divides_by_a", DELTA, edit(DELTA, ("return softmax(z, axis=0) - y", """a = softmax(z, axis=0)
    out = np.empty_like(z)
    for i in range(z.shape[1]):
        J = np.diag(a[:, i]) - np.outer(a[:, i], a[:, i])
        out[:, i] = J @ (-y[:, i] / a[:, i])
    return out""")), "needs no division"),
    ("overflow", DELTA, edit(DELTA, ("return softmax(z, axis=0) - y",
                                     "e = np.exp(z)\n    return e / e.sum(axis=0) - y")), "overflows"),
]

DELTA_GOOD = [
    ("own_stable_softmax", edit(DELTA, ("return softmax(z, axis=0) - y",
                                        "e = np.exp(z - z.max(axis=0))\n    return e / e.sum(axis=0) - y"))),
    ("one_hot_index", edit(DELTA, ("return softmax(z, axis=0) - y",
                                   "d = softmax(z, axis=0)\n    d[np.argmax(y, axis=0), np.arange(z.shape[1])] -= 1\n"
                                   "    return d"))),
    ("transposed_rows", edit(DELTA, ("return softmax(z, axis=0) - y", "return (softmax(z.T, axis=1) - y.T).T"))),
]

RELU_BUGS = [
    ("sigma_out", RELU, edit(RELU, ("delta = activations[-1] - y",
                                    "delta = (activations[-1] - y) * sigmoid_prime(zs[-1])")), "σ'(z^L)"),
    ("diag_out", RELU, edit(RELU, ("delta = activations[-1] - y",
                                   "delta = (activations[-1] - y) * activations[-1] * (1 - activations[-1])")),
     "a^L ⊙ (1 − a^L)"),
    ("softmax_axis", RELU, edit(RELU, ("softmax(z, axis=0)", "softmax(z)")), "across the examples"),
    ("sigmoid_out", RELU, edit(RELU, ("softmax(z, axis=0)", "sigmoid(z)")), "output layer is a softmax"),
    ("sigmoid_hidden", RELU, edit(RELU, ("np.maximum(z, 0)", "sigmoid(z)"), ("(zs[-l] > 0)", "sigmoid_prime(zs[-l])")),
     "hidden layers with the sigmoid"),
    ("sigmoid_prime_bp2", RELU, edit(RELU, ("(zs[-l] > 0)", "sigmoid_prime(zs[-l])")), "uses σ'(z^l) in BP2"),
    ("relu_not_derivative", RELU, edit(RELU, ("(zs[-l] > 0)", "np.maximum(zs[-l], 0)")),
     "instead of the derivative"),
    ("no_relu_prime", RELU, edit(RELU, ("(net.weights[-l + 1].T @ delta) * (zs[-l] > 0)",
                                        "net.weights[-l + 1].T @ delta")), "leaves ReLU'(z^l) out"),
    ("relu_prime_at_0", RELU, edit(RELU, ("(zs[-l] > 0)", "(zs[-l] >= 0)")), "ReLU'(0) = 1"),
    ("relu_on_output", RELU, edit(RELU, ("delta = activations[-1] - y", "delta = (activations[-1] - y) * (zs[-1] > 0)"),
                                  ("softmax(z, axis=0) if", "softmax(np.maximum(z, 0), axis=0) if")),
     "applies ReLU to z^L"),
    ("w_same", RELU, edit(RELU, ("net.weights[-l + 1].T @ delta", "net.weights[-l].T @ delta")),
     "weights w^l of the same layer"),
    ("no_T", RELU, edit(RELU, ("net.weights[-l + 1].T @ delta", "net.weights[-l + 1] @ delta")),
     "instead of its transpose"),
    ("prime_up", RELU, edit(RELU, ("(zs[-l] > 0)", "(zs[-l + 1] > 0)")), "one layer too high"),
    ("matmul", RELU, edit(RELU, ("@ delta) * (zs[-l] > 0)", "@ delta) @ (zs[-l] > 0)")), "matrix product"),
    ("a_same", RELU, edit(RELU, ("delta @ activations[-l - 1].T", "delta @ activations[-l].T")),
     "own activation a^l"),
    ("bias_axis", RELU, edit(RELU, ("delta.sum(axis=1, keepdims=True)", "delta.sum(axis=0, keepdims=True)")),
     "wrong axis"),
    ("sign", RELU, edit(RELU, ("delta = activations[-1] - y", "delta = y - activations[-1]")), "opposite sign"),
    ("bp4_transposed", RELU, edit(RELU, ("delta @ activations[-2].T", "activations[-2] @ delta.T"),
                                  ("delta @ activations[-l - 1].T", "activations[-l - 1] @ delta.T")), "transposed"),
    ("bias_not_summed", RELU, edit(RELU, ("nabla_b[-1] = delta.sum(axis=1, keepdims=True)", "nabla_b[-1] = delta"),
                                   ("nabla_b[-l] = delta.sum(axis=1, keepdims=True)", "nabla_b[-l] = delta")),
     "one entry per example"),
    ("prime_down", RELU, edit(RELU, ("(zs[-l] > 0)", "(zs[-l - 1] > 0)")), "one layer too low"),
    ("delta_late", RELU, edit(RELU, ("        delta = (net.weights[-l + 1].T @ delta) * (zs[-l] > 0)",
                                     "        late = delta"),
                              ("""        nabla_b[-l] = delta.sum(axis=1, keepdims=True)
        nabla_w[-l] = delta @ activations[-l - 1].T""", """        nabla_b[-l] = late.sum(axis=1, keepdims=True)
        nabla_w[-l] = late @ activations[-l - 1].T
        delta = (net.weights[-l + 1].T @ delta) * (zs[-l] > 0)""")), "with δ^(l+1)"),
    ("a_not_transposed", RELU, edit(RELU, ("delta @ activations[-2].T", "delta @ activations[-2]"),
                                    ("delta @ activations[-l - 1].T", "delta @ activations[-l - 1]")),
     "instead of its transpose"),
    ("mean", RELU, edit(RELU, ("    return nabla_b, nabla_w", "    m = x.shape[1]\n"
                               "    return [b / m for b in nabla_b], [w / m for w in nabla_w]")), "divided by"),
    ("assign_not_add", RELU, edit(RELU_LOOP, ("nabla_b[-1] += delta", "nabla_b[-1] = delta"),
                                  ("nabla_w[-1] += delta", "nabla_w[-1] = delta"),
                                  ("nabla_b[-l] += delta", "nabla_b[-l] = delta"),
                                  ("nabla_w[-l] += delta", "nabla_w[-l] = delta")), "last example"),
    ("return_in_loop", RELU, edit(RELU_LOOP, ("            nabla_w[-l] += delta @ activations[-l - 1].T\n",
                                              "            nabla_w[-l] += delta @ activations[-l - 1].T\n"
                                              "        return nabla_b, nabla_w\n")), "first example"),
]

RELU_GOOD = [
    ("loop", RELU_LOOP),
    ("prime_from_a", edit(RELU, ("(zs[-l] > 0)", "(activations[-l] > 0)"))),
    ("heaviside", edit(RELU, ("(zs[-l] > 0)", "np.heaviside(zs[-l], 0.0)"))),
    ("where", edit(RELU, ("(zs[-l] > 0)", "np.where(zs[-l] > 0, 1.0, 0.0)"))),
    ("sign_of_a", edit(RELU, ("(zs[-l] > 0)", "np.sign(activations[-l])"))),
    ("uses_softmax_delta", edit(RELU, ("delta = activations[-1] - y", "delta = softmax(zs[-1], axis=0) - y"))),
    ("own_softmax", edit(RELU, ("softmax(z, axis=0) if", "np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum("
                                                          "axis=0) if"))),
]

DELEGATIONS = {
    "backprop_single": edit(SINGLE, ("    nabla_b = [None] * len(net.biases)\n", "    return net.backprop(x, y)\n")),
    "backprop": '''
def backprop(net, x, y):
    from nnlib import Network
    n = Network(net.sizes)
    n.weights, n.biases = net.weights, net.biases
    return n.backprop(x, y)
''',
    "softmax_delta": '''
def softmax_delta(z, y):
    from nnlib.losses import softmax_cross_entropy
    _, dz = softmax_cross_entropy(z.T, y.T)
    return dz.T * z.shape[1]
''',
    "backprop_relu_softmax": '''
def backprop_relu_softmax(net, x, y):
    from nnlib.layers import Dense
    return Dense(net.sizes[0], net.sizes[1])
''',
}
DELEGATION_PHRASE = ("does not allow", "not available", "has no `backprop`")

CHECKS = {"backprop": lambda f: A5.check_backprop(f),
          "backprop_single": lambda f: A5.check_backprop(f, single=True),
          "softmax_delta": lambda f: A5.check_softmax_delta(f),
          "backprop_relu_softmax": lambda f: A5.check_backprop_relu_softmax(f)}
HIDDEN = {"backprop": lambda f: A5.check_backprop(f, show_values=False,
                                                 cases=[([3, 3, 3, 3], 101, 3), ([5, 2, 6], 200, 7)]),
          "backprop_single": lambda f: A5.check_backprop(f, single=True, show_values=False,
                                                         cases=[([5, 5, 5], 101, 1)]),
          "softmax_delta": lambda f: A5.check_softmax_delta(f, show_values=False,
                                                            cases=[(6, 6, 31, 3.0), (4, 9, 33, 800.0)]),
          "backprop_relu_softmax": lambda f: A5.check_backprop_relu_softmax(
              f, show_values=False, cases=[([3, 3, 3, 3], 41, 3, True), ([6, 3, 5], 42, 8, False)])}


def define(src: str, name: str):
    ns = {"np": np, "sigmoid": sigmoid, "sigmoid_prime": sigmoid_prime, "softmax": softmax,
          "SimpleNamespace": SimpleNamespace}
    fname = f"<answer {name} {abs(hash(src))}>"
    linecache.cache[fname] = (len(src), None, src.splitlines(True), fname)  # as in a notebook: lines are known
    exec(compile(src, fname, "exec"), ns)  # noqa: S102 - test answers
    return ns[name]


def flat(text: str) -> str:
    """A message with its line wrapping undone."""
    return " ".join(text.split())


def verdict(check, fn) -> str:
    """'' when the check passes, else its message (unwrapped)."""
    try:
        check(fn)
    except GradingError as exc:
        return flat(str(exc))
    return ""


def fn_name(ref: str) -> str:
    return re.search(r"def (\w+)\(", ref).group(1)


ALL_BUGS = ([(f"backprop:{i}", r, s, p) for i, r, s, p in BACKPROP_BUGS + SINGLE_BUGS]
            + [(f"softmax_delta:{i}", r, s, p) for i, r, s, p in DELTA_BUGS]
            + [(f"relu:{i}", r, s, p) for i, r, s, p in RELU_BUGS])


# ---------------------------------------------------------------- self-check (the notebook)


@pytest.mark.parametrize("ref", [BP, SINGLE, DELTA, RELU], ids=["backprop", "single", "delta", "relu"])
def test_reference_passes(ref, capsys):
    name = fn_name(ref)
    assert verdict(CHECKS[name], define(ref, name)) == ""
    assert verdict(HIDDEN[name], define(ref, name)) == ""
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("bug_id,ref,src,phrase", ALL_BUGS, ids=[b[0] for b in ALL_BUGS])
def test_mistake_named(bug_id, ref, src, phrase):
    name = fn_name(ref)
    msg = verdict(CHECKS[name], define(src, name))
    assert msg, f"{bug_id} passes the public check"
    assert phrase in msg, f"{bug_id}: {msg}"
    hidden_msg = verdict(HIDDEN[name], define(src, name))
    assert phrase in hidden_msg, f"{bug_id} (hidden cases): {hidden_msg}"


@pytest.mark.parametrize("name,src", [("backprop", s) for _, s in BACKPROP_GOOD]
                         + [("softmax_delta", s) for _, s in DELTA_GOOD]
                         + [("backprop_relu_softmax", s) for _, s in RELU_GOOD],
                         ids=[f"backprop:{i}" for i, _ in BACKPROP_GOOD] + [f"delta:{i}" for i, _ in DELTA_GOOD]
                         + [f"relu:{i}" for i, _ in RELU_GOOD])
def test_alternative_correct(name, src):
    assert verdict(CHECKS[name], define(src, name)) == ""
    assert verdict(HIDDEN[name], define(src, name)) == ""


@pytest.mark.parametrize("name", list(DELEGATIONS))
def test_delegation_refused(name):
    msg = verdict(CHECKS[name], define(DELEGATIONS[name], name))
    assert msg and any(p in msg for p in DELEGATION_PHRASE), msg


@pytest.mark.parametrize("kind", [k for k in A5.MISTAKES if k not in ("last", "first")])
def test_variant_differs_on_the_square_case(kind):
    """Every mistake variant is computable and different from the reference on the square public case (the first
    case has all sizes different, where several variants stop with a shape error, as the learner's code does)."""
    sz, seed, m = next(c for c in A5.BACKPROP_CASES if len(set(c[0])) == 1)
    net = A5._reference_net(sz, seed)
    x, y = A5._data(sz, seed, m)
    v = A5.variant(net, x, y, kind)
    ref = net.backprop(x, y)
    assert v is not None
    assert any(not np.allclose(a, b) for a, b in zip(v[1] + v[0], ref[1] + ref[0]))


def test_variant_reference_is_network_backprop():
    for sz, seed, m in A5.BACKPROP_CASES:
        net = A5._reference_net(sz, seed)
        x, y = A5._data(sz, seed, m)
        vb, vw = A5.variant(net, x, y)
        rb, rw = net.backprop(x, y)
        assert all(np.allclose(a, b, rtol=1e-12, atol=0) for a, b in zip(vb + vw, rb + rw))


def test_relu_reference_matches_central_differences_and_model():
    """The trusted ReLU/softmax reference against central differences and against nnlib.Model (row layout)."""
    from nnlib import Model
    from nnlib.gradcheck import rel_error
    from nnlib.layers import Dense, ReLU

    checked = 0
    for sz, seed, m, _ in A5.RELU_CASES:
        net, x, y = A5.relu_problem(sz, seed, m, False)
        rb, rw = A5.relu_variant(net, x, y)
        a, near_kink = x, False
        for w, b in zip(net.weights[:-1], net.biases[:-1]):
            z = w @ a + b
            near_kink |= bool(np.min(np.abs(z)) < 0.05)  # central differences (h = 1e-3) across a kink are wrong
            a = np.maximum(z, 0)
        if not near_kink:
            assert A5.relu_numeric_error(net, x, y, rb, rw) < 1e-7
            checked += 1
        layers = []
        for i, (w, b) in enumerate(zip(net.weights, net.biases)):
            d = Dense(w.shape[1], w.shape[0])
            d.params["W"][...] = w  # Dense: W (n_out, n_in) like Nielsen's w; rows of x are examples
            d.params["b"][...] = b.ravel()
            layers.append(d)
            if i < len(net.weights) - 1:
                layers.append(ReLU())
        model = Model(layers, cost="softmax_cross_entropy")
        model.loss_and_grads(np.ascontiguousarray(x.T), np.argmax(y, axis=0))
        dense = [layer for layer in layers if isinstance(layer, Dense)]
        for i, d in enumerate(dense):  # the Model averages over the batch; the exercise sums
            assert rel_error(m * d.grads["W"], rw[i]) < 1e-9
            assert rel_error(m * d.grads["b"].reshape(-1, 1), rb[i]) < 1e-9
    assert checked >= 1
    net, x, y = A5.relu_problem(*A5.RELU_CASES[0])  # the case the self-check compares with central differences
    assert A5.relu_numeric_error(net, x, y, *A5.relu_variant(net, x, y)) < 1e-7


def test_relu_zero_case_has_exact_zeros():
    for sz, seed, m, zeros in A5.RELU_CASES:
        net, x, y = A5.relu_problem(sz, seed, m, zeros)
        z2 = net.weights[0] @ x + net.biases[0]
        assert bool(np.any(z2 == 0.0)) == zeros


def test_delta_reference_is_the_derivative():
    """δ^L = a − y against central differences of C = −Σ y ln softmax(z) (every column)."""
    from nnlib.gradcheck import numerical_gradient, rel_error

    for n, m, seed, scale in A5.DELTA_CASES[:2]:
        z, y = A5._delta_case(n, m, seed, scale)

        def cost(zz, y=y):
            logp = zz - zz.max(axis=0, keepdims=True)
            logp = logp - np.log(np.exp(logp).sum(axis=0, keepdims=True))
            return float(-np.sum(y * logp))

        assert rel_error(A5.delta_variant(z, y), numerical_gradient(cost, z)) < 1e-7


# ---------------------------------------------------------------- the capstone (self-check)

BACKPROP_FOR_TRAIN = BP


def train_fn(src: str = TRAIN, bp: str = BACKPROP_FOR_TRAIN):
    ns = {"np": np, "sigmoid": sigmoid, "sigmoid_prime": sigmoid_prime, "softmax": softmax,
          "SimpleNamespace": SimpleNamespace}
    exec(compile(bp, "<answer backprop>", "exec"), ns)  # noqa: S102
    exec(compile(src, "<answer train>", "exec"), ns)  # noqa: S102
    return ns["train"]


def test_capstone_reference_reaches_90_percent_fast():
    t0 = time.perf_counter()
    acc = A8.check_train(train_fn(), target=0.9, seed=202, relabel=True, show_values=False)
    assert acc >= 0.9 and time.perf_counter() - t0 < A8.TIME_LIMIT


def test_capstone_relabelled_split_is_a_permutation():
    (xtr, ytr), (xte, yte) = A8.problem(202, True)
    (x0, y0), _ = A8.problem(202, False)
    assert xtr.shape == (A8.TRAIN_SIZE, 64) and xte.shape == (A8.TEST_SIZE, 64)
    assert sorted(np.unique(ytr)) == list(range(10))
    assert not np.array_equal(ytr, y0) and np.allclose(np.sort(xtr, axis=1), np.sort(x0, axis=1))


CAPSTONE_BUGS = [
    ("weights_transposed", TRAIN, edit(TRAIN, ("    return net.weights, net.biases",
                                               "    return [w.T for w in net.weights], net.biases")), "(n_l, n_(l−1))"),
    ("returns_accuracy", TRAIN, edit(TRAIN, ("    return net.weights, net.biases", "    return 0.97")),
     "should return (weights, biases)"),
    ("returns_nothing", TRAIN, edit(TRAIN, ("    return net.weights, net.biases", "    pass")), "returned None"),
    ("diverges", TRAIN, edit(TRAIN, ("eta, batch = xs.shape[1], 3.0, 10", "eta, batch = xs.shape[1], 3e5, 10")),
     None),
    ("labels_not_one_hot", TRAIN, edit(TRAIN, ("ys = np.eye(10)[labels].T",
                                               "ys = labels.reshape(1, -1) * np.ones((10, 1))")),
     "not learnt anything"),
    ("wrong_activation_name", TRAIN, edit(TRAIN, ("    return net.weights, net.biases",
                                                  "    return net.weights, net.biases, 'softmax'")), "third item"),
]


@pytest.mark.slow  # trains the capstone's network: 5–8 s (the reference and delegation checks stay quick)
@pytest.mark.parametrize("bug_id,ref,src,phrase", CAPSTONE_BUGS, ids=[b[0] for b in CAPSTONE_BUGS])
def test_capstone_mistake_named(bug_id, ref, src, phrase):
    msg = verdict(lambda f: A8.check_train(f, target=0.8), train_fn(src))
    assert msg, bug_id
    if phrase:
        assert phrase in msg, msg


@pytest.mark.slow  # trains the capstone's network: 5–8 s (the reference and delegation checks stay quick)
def test_capstone_bad_backprop_does_not_learn():
    bad = edit(BP, ("(activations[-1] - y)", "(y - activations[-1])"))
    msg = verdict(lambda f: A8.check_train(f, target=0.8), train_fn(bp=bad))
    assert "below the 80 % target" in msg and "not learnt anything" in msg, msg


def test_capstone_partial_credit_between_80_and_90():
    """A short training run lands between the two targets: the 80 % cell passes, the 90 % cell fails."""
    short = edit(TRAIN, ("for epoch in range(30):", "for epoch in range(3):"), ("3.0, 10", "1.0, 10"))
    f = train_fn(short)
    acc = A8.check_train(f, target=0.8, seed=101, relabel=True, show_values=False)
    assert 0.8 <= acc < 0.9, acc
    assert "below the 90 % target" in verdict(
        lambda g: A8.check_train(g, target=0.9, seed=101, relabel=True, show_values=False), f)


@pytest.mark.slow  # trains the capstone's network: 5–8 s (the reference and delegation checks stay quick)
def test_capstone_time_limit():
    slow = edit(TRAIN, ("    return net.weights, net.biases", "    import time\n    time.sleep(0.6)\n"
                        "    return net.weights, net.biases"))
    msg = verdict(lambda f: A8.check_train(f, time_limit=0.5), train_fn(slow))
    assert "over the 0.5 s limit" in msg, msg


def test_capstone_grader_timeout_is_the_time_limit():
    """In the grader a call past its limit comes back as the worker's TimeoutError: the message names the limit."""
    from nnlib.grading._core import Remote, StudentError

    def call(name, args, kwargs, timeout=None):
        assert timeout == A8.TIME_LIMIT + 5
        raise StudentError("TimeoutError", f"did not finish within {timeout:g} s")

    msg = verdict(lambda f: A8.check_train(f), Remote("train", call))
    assert "did not finish: over the 60 s limit" in msg, msg


@pytest.mark.slow  # trains the capstone's network: 5–8 s (the reference and delegation checks stay quick)
def test_capstone_prepared_weights_fail_the_graded_split():
    w, b = train_fn()(*A8.problem(0, False)[0])

    def prepared(X, labels):
        return w, b

    msg = verdict(lambda f: A8.check_train(f, target=0.9), prepared)  # the public split's accuracy is reached...
    assert "does not learn through your backprop" in msg, msg  # ...but not by training through backprop
    msg = verdict(lambda f: A8.check_train(f, target=0.8, seed=202, relabel=True), prepared)
    assert "below the 80 % target" in msg  # and the graded splits are not reached at all


LSTSQ_TRAIN = (Path(__file__).parent / "hostile" / "worker_lstsq_capstone.py").read_text()  # backprop for show


def test_capstone_closed_form_fit_earns_nothing():
    """Random features + np.linalg.lstsq reach the targets without backprop or SGD: refused, and told why."""
    f = train_fn(LSTSQ_TRAIN)
    for target, seed, relabel in ((0.8, None, None), (0.9, 202, True)):
        msg = verdict(lambda g, t=target, s=seed, r=relabel: A8.check_train(g, target=t, seed=s, relabel=r), f)
        assert "does not learn through your backprop" in msg and "lstsq" in msg, msg


def test_capstone_renamed_backprop_is_a_derangement_and_the_reference_follows_it():
    order = A8._renamed_classes(202)
    assert sorted(order) == list(range(10)) and np.all(order != np.arange(10))
    (xtr, ytr), (xte, yte) = A8.problem(202, True)
    ws, bs, h = A8._network(A8._train_renamed(train_fn(), "train", order, xtr, ytr, 60), "train")
    assert A8.accuracy(ws, bs, h, xte, np.argsort(order)[yte]) >= 0.9
    assert A8.accuracy(ws, bs, h, xte, yte) < 0.1  # it learnt the renamed classes, not the real ones


def test_capstone_delegation_refused():
    src = '''
def train(X, labels):
    from nnlib import Network
    net = Network([64, 30, 10])
    return net.weights, net.biases
'''
    msg = verdict(lambda f: A8.check_train(f, target=0.8), train_fn(src))
    assert "does not allow" in msg, msg
    src2 = edit(TRAIN, ("    xs = X.T", "    from nnlib.datasets import digits\n    digits()\n    xs = X.T"))
    msg = verdict(lambda f: A8.check_train(f, target=0.8), train_fn(src2))
    assert "does not allow" in msg, msg


# ---------------------------------------------------------------- through the real pipeline (sandbox, as root)

_needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the sandboxed pipeline needs root (namespaces, cgroups)")


def pipeline(fn):
    """A test through the real grading pipeline: slow (a sandboxed worker per submission), root only."""
    return pytest.mark.slow(_needs_root(fn))


def _nb(path: Path):
    from nnlib_grader import runner

    return runner.read_notebook(path)


def submission(assign: str, overrides: dict[str, str], blank: bool = False):
    """The release notebook with every answer cell filled from the source solutions, then ``overrides``."""
    src = _nb(ROOT / "solutions" / assign / f"{assign}.ipynb")
    sub = copy.deepcopy(_nb(ROOT / "exercises" / assign / f"{assign}.ipynb"))
    refs = {c.metadata["nbgrader"]["grade_id"]: answer(c.source) for c in src.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    for c in sub.cells:
        gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in refs and not blank:
            c.source = overrides.get(gid, refs[gid])
    return src, sub


def grade(assign: str, overrides: dict[str, str] | None = None, blank: bool = False) -> dict:
    from nnlib_grader import runner

    src, sub = submission(assign, overrides or {}, blank)
    rel = _nb(ROOT / "exercises" / assign / f"{assign}.ipynb")
    with tempfile.TemporaryDirectory(prefix="a05cap-") as scratch:
        os.chmod(scratch, 0o700)
        r = runner.grade_notebook(src, rel, sub, assign, assign, sandbox_on=True, scratch=scratch)
    assert not any("no namespaces" in w for w in r.isolation), r.isolation  # isolation lists what is missing
    for c in r.cells:
        c.message = flat(c.message or "")
    return {c.grade_id: c for c in r.cells}


@pipeline
@pytest.mark.parametrize("assign", ["a05_backprop", "a08_capstone"])
def test_pipeline_reference_full_and_blank_zero(assign):
    cells = grade(assign)
    assert all(c.passed and c.points == c.max_points for c in cells.values()), \
        {k: c.message for k, c in cells.items() if not c.passed}
    blank = grade(assign, blank=True)
    assert all(c.points == 0 for c in blank.values())
    assert all("not implemented" in c.message for c in blank.values()), {k: c.message for k, c in blank.items()}


PIPELINE_BUGS = {  # representative subset: grade_id -> bug ids of the catalogue
    "backprop": ["bp2_w_same", "bp2_no_T", "bp2_prime_up", "bp2_prime_down", "bp2_matmul", "bp4_a_same",
                 "bp3_bias_axis", "assign_not_add", "order_swapped"],
    "backprop_single": ["single_no_T"],
    "softmax_delta": ["sigma_prime", "softmax_axis", "jacobian_diagonal_only", "overflow"],
    "backprop_relu_softmax": ["relu_prime_at_0", "sigmoid_prime_bp2", "diag_out", "assign_not_add"],
}


def _bug(gid: str, bug_id: str) -> tuple[str, str]:
    table = {"backprop": BACKPROP_BUGS, "backprop_single": SINGLE_BUGS, "softmax_delta": DELTA_BUGS,
             "backprop_relu_softmax": RELU_BUGS}[gid]
    entry = next(b for b in table if b[0] == bug_id)
    return entry[2], entry[3]


@pipeline
@pytest.mark.parametrize("gid,bug_id", [(g, b) for g, bs in PIPELINE_BUGS.items() for b in bs],
                         ids=[f"{g}:{b}" for g, bs in PIPELINE_BUGS.items() for b in bs])
def test_pipeline_mistake_named(gid, bug_id):
    src, phrase = _bug(gid, bug_id)
    cells = grade("a05_backprop", {gid: src})
    for tid in (f"test_{gid}", f"test_{gid}_hidden"):
        assert cells[tid].points == 0, (tid, cells[tid].message)
    assert phrase in cells[f"test_{gid}"].message, cells[f"test_{gid}"].message
    others = {k: c.message for k, c in cells.items() if k not in (f"test_{gid}", f"test_{gid}_hidden")}
    assert all(cells[k].passed for k in others), others  # one buggy cell costs only its own tests


@pipeline
@pytest.mark.parametrize("gid", list(DELEGATIONS))
def test_pipeline_delegation_zero(gid):
    cells = grade("a05_backprop", {gid: DELEGATIONS[gid]})
    for tid in (f"test_{gid}", f"test_{gid}_hidden"):
        assert cells[tid].points == 0
        assert any(p in cells[tid].message for p in DELEGATION_PHRASE), cells[tid].message


@pipeline
def test_pipeline_capstone_partial_credit_and_cheats():
    short = edit(TRAIN, ("for epoch in range(30):", "for epoch in range(3):"), ("3.0, 10", "1.0, 10"))
    cells = grade("a08_capstone", {"train": short})
    assert cells["test_train"].passed and cells["test_train_hidden_80"].passed, cells["test_train"].message
    assert not cells["test_train_hidden_90"].passed
    assert "below the accuracy target" in cells["test_train_hidden_90"].message  # a hidden test: general words
    # weights prepared in advance (trained on the public split) and pasted into the cell
    w, b = train_fn()(*A8.problem(0, False)[0])
    wl, bl = [x.tolist() for x in w], [x.tolist() for x in b]
    literal = f"def train(X, labels):\n    return ([np.array(v) for v in {wl!r}], [np.array(v) for v in {bl!r}])\n"
    cells = grade("a08_capstone", {"train": literal})
    assert cells["test_train"].points == 0  # the public split's accuracy, but not trained through backprop
    assert "does not learn through your backprop" in cells["test_train"].message, cells["test_train"].message
    assert cells["test_train_hidden_80"].points == 0 and cells["test_train_hidden_90"].points == 0
    # delegation to nnlib's Network, and reading the data set from inside train
    for src in ('def train(X, labels):\n    from nnlib import Network\n    n = Network([64, 30, 10])\n'
                '    n.SGD(list(zip(X, labels)), 1, 10, 3.0)\n    return n.weights, n.biases\n',
                edit(TRAIN, ("    xs = X.T", "    X, labels = digits().train\n    xs = X.T"))):
        cells = grade("a08_capstone", {"train": src})
        assert all(cells[t].points == 0 for t in ("test_train", "test_train_hidden_80", "test_train_hidden_90"))
        assert "not available" in cells["test_train"].message or "does not allow" in cells["test_train"].message, \
            cells["test_train"].message
    # random features + lstsq (calling backprop for show): nothing, with the reason on the visible test
    cells = grade("a08_capstone", {"train": LSTSQ_TRAIN})
    assert all(cells[t].points == 0 for t in ("test_train", "test_train_hidden_80", "test_train_hidden_90"))
    assert "does not learn through your backprop" in cells["test_train"].message, cells["test_train"].message
    assert "breaks a rule" in cells["test_train_hidden_90"].message
    # the capstone's backprop delegating to the net it is handed
    cells = grade("a08_capstone", {"backprop": DELEGATIONS["backprop_single"].replace("backprop_single", "backprop")})
    assert cells["test_backprop"].points == 0 and "has no `backprop`" in cells["test_backprop"].message
    # a broken backprop: its own cell names the bug, and train does not reach the target
    cells = grade("a08_capstone", {"backprop": edit(BP, ("net.weights[-l + 1].T @ delta",
                                                          "net.weights[-l + 1] @ delta"))})
    assert "instead of its transpose" in cells["test_backprop"].message


@pipeline
def test_pipeline_rebinding_cheat_gains_nothing():
    """An answer cell that rebinds the checks (and require) next to a buggy backprop still gets 0, named."""
    bug = next(b for b in BACKPROP_BUGS if b[0] == "bp2_no_T")[2]
    cheat = bug + ("\nimport nnlib.grading\nnnlib.grading.check_backprop = lambda *a, **k: None\n"
                   "check_backprop = lambda *a, **k: None\nrequire = lambda name: None\n")
    cells = grade("a05_backprop", {"backprop": cheat})
    assert cells["test_backprop"].points == 0 and cells["test_backprop_hidden"].points == 0
    assert "instead of its transpose" in cells["test_backprop"].message, cells["test_backprop"].message


@pytest.mark.slow
@pytest.mark.parametrize("assign", ["a05_backprop", "a08_capstone"])
def test_source_notebook_executes_and_every_check_passes(assign, monkeypatch, tmp_path):
    """The instructor's notebook, run top to bottom in a kernel: every test cell prints its ✓ (self-check mode)."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("NNLIB_QUICK", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(ROOT / "solutions" / assign / f"{assign}.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o.get("evalue") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    tests = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert tests and all("✓" in "".join(o.get("text", "") for o in c.get("outputs", [])) for c in tests)


SKLEARN_TRAIN = '''
def train(X, labels):
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0).fit(X, labels)
    return [w.T for w in clf.coefs_], [b.reshape(-1, 1) for b in clf.intercepts_], "relu"
'''


def test_capstone_machine_learning_library_refused():
    pytest.importorskip("sklearn")
    msg = verdict(lambda f: A8.check_train(f, target=0.8), train_fn(SKLEARN_TRAIN))
    assert "machine-learning library `sklearn`" in msg and "does not allow" in msg, msg


@pipeline
def test_pipeline_capstone_machine_learning_library_refused():
    """sklearn's MLPClassifier is refused by the import guard, and hidden from the sandbox when the guard is gone."""
    pytest.importorskip("sklearn")
    cells = grade("a08_capstone", {"train": SKLEARN_TRAIN})
    assert all(cells[t].points == 0 for t in ("test_train", "test_train_hidden_80", "test_train_hidden_90"))
    assert "machine-learning library `sklearn`" in cells["test_train"].message, cells["test_train"].message
    hostile = "import sys\nsys.meta_path.pop(0)  # the worker's import guard\n" + SKLEARN_TRAIN
    cells = grade("a08_capstone", {"train": hostile})
    assert all(cells[t].points == 0 for t in ("test_train", "test_train_hidden_80", "test_train_hidden_90"))
    assert "machine-learning library `sklearn`" in cells["test_train"].message, cells["test_train"].message
