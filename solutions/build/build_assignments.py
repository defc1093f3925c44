"""Build the nbgrader source notebooks (solutions/) and the student release (exercises/).

    python solutions/build/build_assignments.py            # write solutions/aNN_*/aNN_*.ipynb
    python solutions/build/build_assignments.py --release  # ... and regenerate exercises/ with nbgrader

The notebooks are written from the cell lists below with deterministic cell ids and metadata, so a
rebuild reproduces the committed files byte for byte (tests/test_assignments.py checks it).  The
release is made by ``nbgrader generate_assignment`` in a throw-away course directory (no gradebook
left behind) and copied into exercises/<assignment>/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions"
RELEASE = ROOT / "exercises"

# ---------------------------------------------------------------- cell helpers

_META_BASE = {"schema_version": 3, "task": False}


def _cell(kind: str, cid: str, src: str, nbg: dict | None) -> nbformat.NotebookNode:
    src = src.strip("\n")
    cell = nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
    cell.id = cid
    if nbg is not None:
        cell.metadata["nbgrader"] = {**_META_BASE, **nbg, "grade_id": cid}
    return cell


def md(cid: str, src: str) -> nbformat.NotebookNode:
    """Instructions: read-only."""
    return _cell("md", cid, src, {"grade": False, "solution": False, "locked": True})


def setup(cid: str, src: str) -> nbformat.NotebookNode:
    """Read-only code (imports, given helpers)."""
    return _cell("code", cid, src, {"grade": False, "solution": False, "locked": True})


def code(cid: str, src: str) -> nbformat.NotebookNode:
    """An ordinary cell the learner may change (demos, experiments); not graded."""
    return _cell("code", cid, src, None)


def solution(cid: str, src: str) -> nbformat.NotebookNode:
    return _cell("code", cid, src, {"grade": False, "solution": True, "locked": False})


def tests(cid: str, points: int, src: str) -> nbformat.NotebookNode:
    return _cell("code", cid, src, {"grade": True, "solution": False, "locked": True, "points": points})


def hidden(cid: str, points: int, call: str) -> nbformat.NotebookNode:
    """A test cell whose checks are hidden from the release (same checks, other shapes and seeds)."""
    src = ("# Hidden tests: the same checks on other cases run when your work is graded.\n"
           f"### BEGIN HIDDEN TESTS\n{call}\n### END HIDDEN TESTS")
    return tests(cid, points, src)


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.cells = cells
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


SETUP_HEAD = '''
import os

import numpy as np

GRADING = bool(os.environ.get("NBGRADER_EXECUTION"))  # set by nbgrader while it grades
QUICK = GRADING or os.environ.get("NNLIB_QUICK") == "1"  # shorter demo runs
'''

HOWTO_TEXT = """
**How this works.** Write your code where it says `# YOUR CODE HERE` (delete the `raise NotImplementedError()`
line), run the cell, then run the test cell below it. A test prints a line starting with ✓ when it passes; when it
fails, its message says what is wrong. When your work is graded, your answer cells run again on their own in a
fresh process, and the same checks (plus hidden cases) run there: use only what the exercise provides, and keep
the function names. Outside the course you can call the same checks yourself:
`from nnlib.grading import {check}; {check}({fn})`.
"""


def howto(check: str, fn: str) -> str:
    """The "How this works" paragraph, naming this assignment's own check."""
    return HOWTO_TEXT.format(check=check, fn=fn)


# ---------------------------------------------------------------- a01: the perceptron

A01 = [
    md("intro", r"""
# Assignment 1 — The perceptron (lecture 1)

Rosenblatt's perceptron computes $y = \mathrm{step}(z)$ with $z = w_0 + \sum_{i=1}^d w_i x_i$, where
$\mathrm{step}(z) = 1$ if $z > 0$ and $0$ otherwise. The bias $w_0$ is the weight of a constant input $x_0 = 1$
("bias as the weight from a constant node"), so we store $w = (w_0, w_1, \dots, w_d)$ with the bias **first**.

The learning rule, for one training pair $(x, d)$ with current output $y$:

$$w_i \leftarrow w_i + \eta\,(d - y)\,x_i \qquad\text{for every } i = 0, \dots, d \quad (x_0 = 1).$$

(The slide writes $\eta(d - y)x$ without the index $i$: it is one update per weight.)
""" + howto('check_perceptron_predict', 'predict')),
    setup("setup", SETUP_HEAD + '''
from nnlib.datasets import logic_table
from nnlib.grading import check_perceptron_predict, check_perceptron_rule, check_perceptron_train, require
'''),
    md("ex1", r"""
## Exercise 1 — predict (3 points)

Write `predict(w, X)`: `X` has one example per row, shape `(n, d)`, and `w` has shape `(d + 1,)`. Return a NumPy
array of the `n` outputs, each 0 or 1, shape `(n,)` (leave `w` and `X` unchanged). Vectorise: one matrix–vector
product, no Python loop (no `for`, no comprehension, no `np.vectorize`).
Use NumPy only (not nnlib's `Perceptron`: it is the reference your answer is compared with).
"""),
    solution("predict", '''
def predict(w, X):
    """Outputs step(w_0 + X @ w[1:]) for the rows of X: an array of 0s and 1s of shape (n,)."""
    ### BEGIN SOLUTION
    z = w[0] + X @ w[1:]
    return (z > 0).astype(float)
    ### END SOLUTION
'''),
    tests("test_predict", 2, 'check_perceptron_predict(require("predict"))'),
    hidden("test_predict_hidden", 1, '''check_perceptron_predict(require("predict"), show_values=False, cases=[
    (np.zeros(3), np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])),
    (np.array([1.0, -1.0, -1.0]), np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])),
    (np.array([0.3, -0.7, 1.2, 0.1]), np.array([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0], [-2.0, 0.5, 0.3], [0.0, 0.0, 0.0]])),
    (np.array([-0.25, 0.5]), np.array([[0.5], [0.4], [1.0], [-3.0]]))])'''),
    md("ex2", r"""
## Exercise 2 — the learning rule (3 points)

Write `perceptron_update(w, x, d, eta)` for one example `x` of shape `(d,)` with target `d` (0 or 1): compute the
current output $y$, then return the **new** weight vector $w + \eta (d - y)(1, x_1, \dots, x_d)$.
Do not change `w` in place. When the output is right ($d = y$) nothing changes. NumPy only.
"""),
    solution("perceptron_update", '''
def perceptron_update(w, x, d, eta):
    """One step of the perceptron rule; returns the new weights."""
    ### BEGIN SOLUTION
    xa = np.concatenate([[1.0], x])
    y = 1.0 if xa @ w > 0 else 0.0
    return w + eta * (d - y) * xa
    ### END SOLUTION
'''),
    tests("test_perceptron_update", 2, 'check_perceptron_rule(require("perceptron_update"))'),
    hidden("test_perceptron_update_hidden", 1, '''check_perceptron_rule(require("perceptron_update"), show_values=False, cases=[
    (np.array([0.2, -0.4, 0.1]), np.array([1.0, -2.0]), 1, 0.3), (np.array([0.5, 0.5, 0.5]), np.array([1.0, 1.0]), 0, 2.0),
    (np.array([-0.3, 0.2]), np.array([0.7]), 1, 0.1), (np.array([0.1, 0.2, 0.3, 0.4]), np.array([1.0, 0.0, 1.0]), 1, 0.5)])'''),
    md("ex3", r"""
## Exercise 3 — training (3 points)

Write `train_perceptron(X, d, eta, epochs)`: start from $w = 0$ and apply your `perceptron_update` to the examples
one at a time, **in order**, for `epochs` passes over the data; return the final `w`. (You may stop early after a
pass without mistakes: the weights would not change any more.) NumPy and your `perceptron_update` only.
"""),
    solution("train_perceptron", '''
def train_perceptron(X, d, eta, epochs):
    """The perceptron rule from w = 0, example by example, for `epochs` passes; returns w."""
    ### BEGIN SOLUTION
    w = np.zeros(X.shape[1] + 1)
    for _ in range(epochs):
        for x, target in zip(X, d):
            w = perceptron_update(w, x, target, eta)
    return w
    ### END SOLUTION
'''),
    tests("test_train_perceptron", 2, 'check_perceptron_train(require("train_perceptron"))'),
    hidden("test_train_perceptron_hidden", 1, '''_X = np.random.default_rng(8).standard_normal((15, 3))
_d = (_X @ np.array([1.0, -2.0, 0.5]) + 0.3 > 0).astype(np.int64)
check_perceptron_train(require("train_perceptron"), show_values=False, cases=[
    ("NAND", 0.3, 3), ("XNOR", 0.5, 9), ("XOR", 0.7, 5), ("random separable 3-D data", _X, _d, 0.7, 2)])'''),
    md("try", r"""
## Try it

AND is linearly separable: the rule stops changing $w$ after a few passes (the perceptron convergence theorem).
XOR is not: it never settles. Run the cell and compare.
"""),
    code("demo", '''
for gate in ("AND", "OR", "XOR"):
    X, d = logic_table(gate)
    w = train_perceptron(X, d, eta=1.0, epochs=20)
    print(f"{gate:4s} w = {w},  outputs {predict(w, X)},  targets {d}")
'''),
]

# ---------------------------------------------------------------- a02: XOR

A02 = [
    md("intro", r"""
# Assignment 2 — XOR by hand (lecture 2)

A single perceptron separates its inputs with one straight line $w_0 + w_1 x_1 + w_2 x_2 = 0$, so it can compute
AND, OR and NAND but not XOR. Two layers can: XOR$(x_1, x_2)$ = AND(OR$(x_1, x_2)$, NAND$(x_1, x_2)$).
Here you choose the weights yourself — no training (the `Perceptron` imported below is for the demo only and
is not available to your answers while they are graded). Units output $\mathrm{step}(z) = 1$ if $z > 0$ else 0, and a
weight vector is $w = (w_0, w_1, w_2)$ with the bias first.

Choose weights with a margin: no input may lie **on** a decision boundary ($z = 0$). The hidden tests nudge the
inputs by ±0.1.
""" + howto('check_gate', 'AND_w, "AND"')),
    setup("setup", SETUP_HEAD + '''
from nnlib.datasets import logic_table
from nnlib.grading import check_gate, check_xor_network, require
from nnlib.perceptron import Perceptron


def step(z):
    return (np.asarray(z) > 0).astype(float)
'''),
    md("ex1", r"""
## Exercise 1 — three gates (5 points)

Set `AND_w`, `OR_w` and `NAND_w`, each a NumPy array of three numbers $(w_0, w_1, w_2)$.
"""),
    solution("gates", '''
### BEGIN SOLUTION
AND_w = np.array([-1.5, 1.0, 1.0])
OR_w = np.array([-0.5, 1.0, 1.0])
NAND_w = np.array([1.5, -1.0, -1.0])
### END SOLUTION
'''),
    tests("test_gates", 3, '''
check_gate(require("AND_w"), "AND")
check_gate(require("OR_w"), "OR")
check_gate(require("NAND_w"), "NAND")
'''),
    hidden("test_gates_hidden", 2, '''_nudges = [[0.1, 0.1], [-0.1, -0.1], [0.1, -0.1], [-0.1, 0.1]]
for w, gate in ((require("AND_w"), "AND"), (require("OR_w"), "OR"), (require("NAND_w"), "NAND")):
    check_gate(w, gate, nudges=_nudges)'''),
    md("ex2", r"""
## Exercise 2 — a 2-2-1 network for XOR (3 points)

The hidden layer computes $h = \mathrm{step}(W_1 x + b_1)$ with `W1` of shape `(2, 2)` (row $j$ holds the weights of
hidden unit $j$) and `b1` of shape `(2,)`; the output is $y = \mathrm{step}(W_2 \cdot h + b_2)$ with `W2` of shape
`(2,)` and `b2` a number. Set them so that the network computes XOR (you may reuse your gates). In the lectures'
(Nielsen's) notation `W1`, `b1` are the hidden layer's $w^2$, $b^2$ and `W2`, `b2` the output layer's $w^3$, $b^3$
(layer 1 is the input).
"""),
    solution("xor_weights", '''
### BEGIN SOLUTION
W1 = np.array([OR_w[1:], NAND_w[1:]])
b1 = np.array([OR_w[0], NAND_w[0]])
W2 = AND_w[1:]
b2 = AND_w[0]
### END SOLUTION
'''),
    tests("test_xor", 2, 'check_xor_network(*require(["W1", "b1", "W2", "b2"]))'),
    hidden("test_xor_hidden", 1, '''check_xor_network(*require(["W1", "b1", "W2", "b2"]), nudges=[[0.1, 0.1], [-0.1, -0.1], [0.1, -0.1], [-0.1, 0.1]])'''),
    md("try", r"""
## Try it: one perceptron cannot learn XOR

The perceptron rule on XOR keeps making mistakes, epoch after epoch (mistakes per epoch below); your two-layer
network gets all four right.
"""),
    code("demo", '''
X, d = logic_table("XOR")
p = Perceptron(2, eta=1.0)
print("mistakes per epoch:", p.fit(X, d, epochs=10))
h = step(X @ W1.T + b1)
print("your network:", step(h @ W2 + b2), " XOR:", d)
'''),
]

# ---------------------------------------------------------------- a03: gradient descent

A03 = [
    md("intro", r"""
# Assignment 3 — Numerical derivatives and gradient descent (lecture 3)

The lecture estimates the slope of $f(x) = x^2 - 6x + 10$ at $x = 6$ with $\Delta x = 0.01$:
$\frac{f(6.01) - f(6)}{0.01} = 6.01$ (the exact derivative $2x - 6$ is 6). Then it walks downhill on
$z = x^2 + y^2 - 6x + 10$: from $(6, -2)$ with $\eta = 0.01$, one step $p \leftarrow p - \eta \nabla z(p)$ with
$\nabla z = (2x - 6,\ 2y) = (6, -4)$ lands on $(5.94, -1.96)$.
""" + howto('check_numerical_derivative', 'numerical_derivative')),
    setup("setup", SETUP_HEAD + '''
from nnlib.grading import (check_gd_step, check_gradient_descent, check_numerical_derivative,
                           check_numerical_gradient, require)


def f(x):
    return x**2 - 6 * x + 10


def z(p):
    x, y = p
    return x**2 + y**2 - 6 * x + 10


def grad_z(p):
    x, y = p
    return np.array([2 * x - 6, 2 * y])
'''),
    md("ex1", r"""
## Exercise 1 — the slope by a forward difference (3 points)

Write `numerical_derivative(f, x, dx)` returning $\frac{f(x + \Delta x) - f(x)}{\Delta x}$, as in the lecture.
In this assignment use NumPy and the functions given to you only (not `nnlib.gradcheck` or `nnlib.optim`).
`numerical_derivative(f, 6.0, 0.01)` should give 6.01.
"""),
    solution("numerical_derivative", '''
def numerical_derivative(f, x, dx):
    """Forward difference (f(x + dx) - f(x)) / dx."""
    ### BEGIN SOLUTION
    return (f(x + dx) - f(x)) / dx
    ### END SOLUTION
'''),
    tests("test_numerical_derivative", 2, '''
check_numerical_derivative(require("numerical_derivative"))
'''),
    hidden("test_numerical_derivative_hidden", 1,
           '''from nnlib.grading import fixtures as F

check_numerical_derivative(require("numerical_derivative"), show_values=False,
                           cases=[(F.f_exp, 0.5, 1e-3), (F.f_cube, -2.0, 0.05), (F.f_cos, 2.0, 0.02)])'''),
    md("ex2", r"""
## Exercise 2 — a numerical gradient (3 points)

For a function of a vector $p$, estimate every partial derivative with a **central** difference,
$\frac{\partial f}{\partial p_i} \approx \frac{f(p + h e_i) - f(p - h e_i)}{2h}$ (error $O(h^2)$ instead of the
forward difference's $O(h)$). Write `numerical_gradient(f, p, h)` returning an array shaped like `p`.
Do not leave `p` changed.
"""),
    solution("numerical_gradient", '''
def numerical_gradient(f, p, h=1e-5):
    """Central differences for every entry of p."""
    ### BEGIN SOLUTION
    p = np.array(p, dtype=float)
    grad = np.zeros_like(p)
    for i in range(p.size):
        e = np.zeros_like(p)
        e.flat[i] = h
        grad.flat[i] = (f(p + e) - f(p - e)) / (2 * h)
    return grad
    ### END SOLUTION
'''),
    tests("test_numerical_gradient", 2, '''
check_numerical_gradient(require("numerical_gradient"))
'''),
    hidden("test_numerical_gradient_hidden", 1, '''from nnlib.grading import fixtures as F

check_numerical_gradient(require("numerical_gradient"), show_values=False, cases=[
    (F.r_coupled, [0.3, -0.8, 1.1, 0.6, -0.2]), (F.q_wave, [1.0, -0.5, 0.25]), (F.t_cubic, [-1.5, 4.0])])'''),
    md("ex3", r"""
## Exercise 3 — one step downhill (3 points)

Write `gd_step(grad, p, eta)` returning the new point $p - \eta\,\nabla f(p)$ (an array shaped like `p`; leave `p` itself unchanged), where `grad(p)` returns $\nabla f(p)$.
From $(6, -2)$ with $\eta = 0.01$ on $z$ it gives $(5.94, -1.96)$.
"""),
    solution("gd_step", '''
def gd_step(grad, p, eta):
    """One gradient-descent step: p - eta * grad(p) (p itself is not changed)."""
    ### BEGIN SOLUTION
    return np.asarray(p, dtype=float) - eta * grad(p)
    ### END SOLUTION
'''),
    tests("test_gd_step", 2, '''
check_gd_step(require("gd_step"))
'''),
    hidden("test_gd_step_hidden", 1, '''from nnlib.grading import fixtures as F

check_gd_step(require("gd_step"), show_values=False, cases=[
    (F.z_bowl_grad, [-3.0, 2.5], 0.1), (F.quartic_grad, [1.0, -0.5, 0.2], 0.05), (F.rosenbrock_grad, [1.2, 0.3], 0.01)])'''),
    md("ex4", r"""
## Exercise 4 — gradient descent (3 points)

Write `gradient_descent(grad, p0, eta, steps)` that takes `steps` steps from `p0` and returns the whole path: an
array of shape `(steps + 1, d)` whose first row is `p0` and whose row $k$ is the point after $k$ steps.
"""),
    solution("gradient_descent", '''
def gradient_descent(grad, p0, eta, steps):
    """The path of `steps` gradient-descent steps from p0, shape (steps + 1, d)."""
    ### BEGIN SOLUTION
    path = [np.asarray(p0, dtype=float)]
    for _ in range(steps):
        path.append(gd_step(grad, path[-1], eta))
    return np.array(path)
    ### END SOLUTION
'''),
    tests("test_gradient_descent", 2, 'check_gradient_descent(require("gradient_descent"))'),
    hidden("test_gradient_descent_hidden", 1, '''from nnlib.grading import fixtures as F

check_gradient_descent(require("gradient_descent"), show_values=False, cases=[
    (F.z_bowl_grad, [-2.0, 1.0], 0.45, 9), (F.twice, [1.0, 2.0, 3.0], 0.1, 4), (F.rosenbrock_grad, [0.2, -0.4], 0.015, 7)])'''),
    md("try", r"""
## Try it

With $\eta = 0.01$ the walk from $(6, -2)$ creeps towards the minimum $(3, 0)$; try $\eta = 0.1$, $0.5$, $0.9$ and
$1.1$ (it diverges: each step overshoots by more than it gains).
"""),
    code("demo", '''
for eta in (0.01, 0.1, 0.5, 0.9, 1.1):
    path = gradient_descent(grad_z, np.array([6.0, -2.0]), eta, 50)
    print(f"eta = {eta:<5} after 50 steps: {np.round(path[-1], 4)},  z = {z(path[-1]):.4g}")
'''),
]

# ---------------------------------------------------------------- a04: derivatives

A04 = [
    md("intro", r"""
# Assignment 4 — Derivatives of activation functions (lecture 4)

Backpropagation multiplies by $\sigma'(z)$ at every layer, so each activation needs its derivative. Write them
**elementwise on NumPy arrays** (use `np.exp`, `np.tanh`, comparisons — no Python loops, no `math` module), without
importing nnlib's derivatives, and return a new array (leave `z` unchanged). The checks include $|z| = 800$, where
$e^{z}$ overflows float64: write each derivative so that it stays finite there (e.g. through the function itself,
$\sigma'(z) = \sigma(z)(1 - \sigma(z))$). The functions themselves are given: `sigmoid`, `tanh`, `relu`, `softplus`.

| activation | $\sigma(z)$ |
|---|---|
| sigmoid | $1 / (1 + e^{-z})$ |
| tanh | $(e^z - e^{-z}) / (e^z + e^{-z})$ |
| ReLU | $\max(0, z)$ (take ReLU'(0) = 0) |
| softplus | $\ln(1 + e^z)$ |
""" + howto('check_derivative', 'sigmoid_prime, "sigmoid"')),
    setup("setup", SETUP_HEAD + '''
from nnlib.activations import relu, sigmoid, softplus, tanh
from nnlib.grading import check_derivative, require
'''),
    md("ex1", r"""
## Exercise 1 — sigmoid (2 points)

Show (on paper) that $\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$, then write `sigmoid_prime(z)`.
"""),
    solution("sigmoid_prime", '''
def sigmoid_prime(z):
    ### BEGIN SOLUTION
    s = sigmoid(z)
    return s * (1 - s)
    ### END SOLUTION
'''),
    tests("test_sigmoid_prime", 1, 'check_derivative(require("sigmoid_prime"), "sigmoid")'),
    hidden("test_sigmoid_prime_hidden", 1, '''check_derivative(require("sigmoid_prime"), "sigmoid", show_values=False, cases=[
    np.random.default_rng(11).standard_normal((4, 3, 2)) * 3, np.linspace(-12, 12, 17), np.array([0.4, 0.0, -700.0, 700.0])])'''),
    md("ex2", "## Exercise 2 — tanh (2 points)\n\nWrite `tanh_prime(z)`."),
    solution("tanh_prime", '''
def tanh_prime(z):
    ### BEGIN SOLUTION
    return 1 - np.tanh(z) ** 2
    ### END SOLUTION
'''),
    tests("test_tanh_prime", 1, 'check_derivative(require("tanh_prime"), "tanh")'),
    hidden("test_tanh_prime_hidden", 1, '''check_derivative(require("tanh_prime"), "tanh", show_values=False, cases=[
    np.random.default_rng(11).standard_normal((4, 3, 2)) * 3, np.linspace(-12, 12, 17), np.array([0.4, 0.0, -700.0, 700.0])])'''),
    md("ex3", "## Exercise 3 — ReLU (2 points)\n\nWrite `relu_prime(z)`: 1 where $z > 0$, else 0, as floats."),
    solution("relu_prime", '''
def relu_prime(z):
    ### BEGIN SOLUTION
    return (z > 0).astype(float)
    ### END SOLUTION
'''),
    tests("test_relu_prime", 1, 'check_derivative(require("relu_prime"), "relu")'),
    hidden("test_relu_prime_hidden", 1, '''check_derivative(require("relu_prime"), "relu", show_values=False, cases=[
    np.random.default_rng(11).standard_normal((4, 3, 2)) * 3, np.linspace(-12, 12, 17), np.array([0.4, 0.0, -700.0, 700.0])])'''),
    md("ex4", "## Exercise 4 — softplus (2 points)\n\nWrite `softplus_prime(z)`. Which familiar function is it?"),
    solution("softplus_prime", '''
def softplus_prime(z):
    ### BEGIN SOLUTION
    return sigmoid(z)
    ### END SOLUTION
'''),
    tests("test_softplus_prime", 1, 'check_derivative(require("softplus_prime"), "softplus")'),
    hidden("test_softplus_prime_hidden", 1, '''check_derivative(require("softplus_prime"), "softplus", show_values=False, cases=[
    np.random.default_rng(11).standard_normal((4, 3, 2)) * 3, np.linspace(-12, 12, 17), np.array([0.4, 0.0, -700.0, 700.0])])'''),
    md("ex5", r"""
## Exercise 5 — the chain rule (2 points)

The recitation's example: $F(x) = (x^2 + 1)^{1/2}$, an outer function $u^{1/2}$ of the inner $u = x^2 + 1$.
By the chain rule $F'(x) = \tfrac12 u^{-1/2} \cdot 2x$. Write `F_prime(x)`, elementwise.
"""),
    solution("F_prime", '''
def F_prime(x):
    ### BEGIN SOLUTION
    return x / np.sqrt(x**2 + 1)
    ### END SOLUTION
'''),
    tests("test_F_prime", 1, 'check_derivative(require("F_prime"), "chain")'),
    hidden("test_F_prime_hidden", 1, '''check_derivative(require("F_prime"), "chain", show_values=False, cases=[
    np.random.default_rng(12).standard_normal((4, 3, 2)) * 3, np.linspace(-12, 12, 17), np.array([0.4, 0.0, -700.0, 700.0])])'''),
]

# ---------------------------------------------------------------- a05: backprop

BP_SINGLE = '''
def backprop_single(net, x, y):
    """Gradient of C_x = ½‖a^L − y‖² for ONE example x (n_in, 1), target y (n_out, 1).

    Returns (nabla_b, nabla_w), lists shaped like net.biases and net.weights.
    """
    ### BEGIN SOLUTION
    nabla_b = [None] * len(net.biases)
    nabla_w = [None] * len(net.weights)
    activation, activations, zs = x, [x], []
    for b, w in zip(net.biases, net.weights):
        z = w @ activation + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    nabla_b[-1] = delta
    nabla_w[-1] = delta @ activations[-2].T
    for l in range(2, net.num_layers):
        delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
        nabla_b[-l] = delta
        nabla_w[-l] = delta @ activations[-l - 1].T
    return nabla_b, nabla_w
    ### END SOLUTION
'''

BP_BATCH = '''
def backprop(net, x, y):
    """Σ over the m columns of x (n_in, m) of the per-example gradients; y has shape (n_out, m).

    Returns (nabla_b, nabla_w), lists shaped like net.biases and net.weights.
    """
    ### BEGIN SOLUTION
    nabla_b = [None] * len(net.biases)
    nabla_w = [None] * len(net.weights)
    activation, activations, zs = x, [x], []
    for b, w in zip(net.biases, net.weights):
        z = w @ activation + b  # b (n, 1) broadcasts over the m columns
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * sigmoid_prime(zs[-1])  # (n_L, m): one column per example
    nabla_b[-1] = delta.sum(axis=1, keepdims=True)
    nabla_w[-1] = delta @ activations[-2].T  # sums the m outer products
    for l in range(2, net.num_layers):
        delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
        nabla_b[-l] = delta.sum(axis=1, keepdims=True)
        nabla_w[-l] = delta @ activations[-l - 1].T
    return nabla_b, nabla_w
    ### END SOLUTION
'''

SOFTMAX_DELTA = '''
def softmax_delta(z, y):
    """δ^L = ∂C/∂z^L for softmax outputs a^L = softmax(z^L) and C = −Σ_j y_j ln a^L_j, column by column.

    z and y have shape (n_out, m): one column per example, y one-hot. Returns an array shaped like z.
    """
    ### BEGIN SOLUTION
    return softmax(z, axis=0) - y
    ### END SOLUTION
'''

BP_RELU = '''
def backprop_relu_softmax(net, x, y):
    """Σ over the m columns of x of the gradients of C_x = −Σ_j y_j ln a^L_j.

    Hidden layers a^l = ReLU(z^l), output a^L = softmax(z^L); returns (nabla_b, nabla_w).
    """
    ### BEGIN SOLUTION
    nabla_b = [None] * len(net.biases)
    nabla_w = [None] * len(net.weights)
    activation, activations, zs = x, [x], []
    for i, (b, w) in enumerate(zip(net.biases, net.weights)):
        z = w @ activation + b
        zs.append(z)
        activation = softmax(z, axis=0) if i == len(net.weights) - 1 else np.maximum(z, 0)
        activations.append(activation)
    delta = activations[-1] - y  # softmax + cross-entropy: no extra factor
    nabla_b[-1] = delta.sum(axis=1, keepdims=True)
    nabla_w[-1] = delta @ activations[-2].T
    for l in range(2, net.num_layers):
        delta = (net.weights[-l + 1].T @ delta) * (zs[-l] > 0)  # ReLU'(z) = 1 where z > 0, else 0
        nabla_b[-l] = delta.sum(axis=1, keepdims=True)
        nabla_w[-l] = delta @ activations[-l - 1].T
    return nabla_b, nabla_w
    ### END SOLUTION
'''

A05 = [
    md("intro", r"""
# Assignment 5 — Backpropagation (lectures 4–5)

Nielsen's notation: layer $l$ has weights $w^l$ (shape $(n_l, n_{l-1})$, entry $w^l_{jk}$ from neuron $k$ of layer
$l-1$ to neuron $j$ of layer $l$) and biases $b^l$ (a column, shape $(n_l, 1)$). Feedforward:
$z^l = w^l a^{l-1} + b^l$, $a^l = \sigma(z^l)$, with $a^1 = x$. For the quadratic cost
$C_x = \tfrac12 \lVert a^L - y \rVert^2$ the four equations are

$$\delta^L = (a^L - y) \odot \sigma'(z^L) \quad\text{(BP1)}\qquad
\delta^l = \big((w^{l+1})^T \delta^{l+1}\big) \odot \sigma'(z^l) \quad\text{(BP2)}$$
$$\frac{\partial C}{\partial b^l_j} = \delta^l_j \quad\text{(BP3)}\qquad
\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k\,\delta^l_j \quad\text{(BP4)}$$

`net` carries Nielsen's network as data: `net.weights` (a list, `net.weights[0]` is $w^2$), `net.biases`
(columns), `net.sizes` and `net.num_layers` — and no `backprop`: that is what you are writing. You may use NumPy
and the functions imported for you: `sigmoid`, `sigmoid_prime` and `softmax` (a numerically stable softmax;
`softmax(z, axis=0)` normalises every column). Nothing else from nnlib: its own versions are the reference your
answers are compared with.

Exercises 3 and 4 give you a network, not its equations: you derive them.
""" + howto('check_backprop', 'backprop')),
    setup("setup", SETUP_HEAD + '''
import time

from nnlib import Network
from nnlib.activations import sigmoid, sigmoid_prime, softmax
from nnlib.grading import check_backprop, check_backprop_relu_softmax, check_softmax_delta, require
'''),
    md("ex1", r"""
## Exercise 1 — backprop for one example (5 points)

Write `backprop_single(net, x, y)` for one example: `x` is a column of shape `(n_in, 1)` and `y` a column of shape
`(n_out, 1)`. Return `(nabla_b, nabla_w)`: `nabla_b[i]` has the shape of `net.biases[i]` and `nabla_w[i]` that of
`net.weights[i]`. Keep every $z^l$ and $a^l$ of the forward pass; then go backwards with BP1–BP4.
"""),
    solution("backprop_single", BP_SINGLE),
    tests("test_backprop_single", 3, 'check_backprop(require("backprop_single"), single=True)'),
    hidden("test_backprop_single_hidden", 2, '''check_backprop(require("backprop_single"), single=True, show_values=False,
               cases=[([2, 6, 3, 4], 200, 1), ([5, 5, 5], 101, 1), ([6, 3], 201, 1)])'''),
    md("ex2", r"""
## Exercise 2 — backprop for a whole minibatch at once (7 points)

Now `x` has shape `(n_in, m)`: its $m$ columns are $m$ examples, and `y` has shape `(n_out, m)`. Return the **sum**
over the examples of their gradients (Nielsen's convention; `update_mini_batch` divides by $m$ later).

Vectorise: put the examples side by side and every equation becomes one matrix operation for the whole batch —
$z^l$ and $\delta^l$ become matrices with one column per example, the bias broadcasts over the columns, BP4's sum of
$m$ outer products $\sum_x \delta^{l,x} (a^{l-1,x})^T$ is one matrix product, and BP3 sums $\delta^l$ over the
examples. Mind which axis is which.
"""),
    solution("backprop", BP_BATCH),
    tests("test_backprop", 4, 'check_backprop(require("backprop"))'),
    hidden("test_backprop_hidden", 3, '''check_backprop(require("backprop"), show_values=False,
               cases=[([2, 6, 3, 4], 201, 9), ([3, 3, 3, 3], 101, 3), ([5, 2, 6], 200, 7), ([6, 4, 6, 2], 202, 8)])'''),
    md("ex3", r"""
## Exercise 3 — derive δ^L for a softmax output with the cross-entropy cost (4 points)

Replace the sigmoid output layer by a **softmax**: $a^L_j = e^{z^L_j} / \sum_k e^{z^L_k}$, and the quadratic cost by the
**cross-entropy** $C = -\sum_j y_j \ln a^L_j$, where $y$ is one-hot (one entry 1, the others 0).

Derive the output error $\delta^L_j = \partial C / \partial z^L_j$ on paper first (the chain rule through
$a^L_k$ for every $k$: each output of the softmax depends on every $z^L_j$), simplify it as far as you can, then
write `softmax_delta(z, y)`: `z` holds $z^L$ for $m$ examples, shape `(n_out, m)` (one column per example), `y` the
one-hot targets, same shape. Return $\delta^L$ with one column per example (nothing summed or averaged). It must
stay finite for large $|z|$: a column with $z \approx 1000$, and a confident wrong answer (the target's $z$ far
below the others, so its softmax output rounds to 0).
"""),
    solution("softmax_delta", SOFTMAX_DELTA),
    tests("test_softmax_delta", 2, 'check_softmax_delta(require("softmax_delta"))'),
    hidden("test_softmax_delta_hidden", 2, '''check_softmax_delta(require("softmax_delta"), show_values=False,
                    cases=[(10, 3, 32, 3.0), (6, 6, 31, 3.0), (4, 9, 33, 800.0)])'''),
    md("ex4", r"""
## Exercise 4 — backprop through ReLU hidden layers with a softmax output (6 points)

Now every hidden layer is a **ReLU** layer, $a^l = \max(0, z^l)$ (take $\mathrm{ReLU}'(0) = 0$), the output layer
is the softmax of exercise 3, and the cost of a batch is the **sum** over its $m$ examples of
$C_x = -\sum_j y_j \ln a^L_j$. Work out which of BP1–BP4 change and how, then write
`backprop_relu_softmax(net, x, y)`: `x` has shape `(n_in, m)`, `y` one-hot columns of shape `(n_out, m)`; return
`(nabla_b, nabla_w)` shaped like `net.biases` and `net.weights`, summed over the examples. (`net.feedforward` is
the sigmoid network of exercises 1–2: do not use it here.)
"""),
    solution("backprop_relu_softmax", BP_RELU),
    tests("test_backprop_relu_softmax", 3, 'check_backprop_relu_softmax(require("backprop_relu_softmax"))'),
    hidden("test_backprop_relu_softmax_hidden", 3, '''check_backprop_relu_softmax(
    require("backprop_relu_softmax"), show_values=False,
    cases=[([2, 5, 4, 3], 43, 5, True), ([3, 3, 3, 3], 41, 3, True), ([6, 3, 5], 42, 8, False),
           ([4, 6, 4], 44, 9, False)])'''),
    md("try", r"""
## Try it: one matrix product instead of a loop

Both of your functions give the same gradient for a minibatch; compare their speed on Nielsen's `[784, 30, 10]`
network with a minibatch of 10 (and think about a GPU, where the matrix version wins by far more).
"""),
    code("demo", '''
net = Network([784, 30, 10], seed=0)
rng = np.random.default_rng(0)
x, y = rng.random((784, 10)), rng.random((10, 10))
repeats = 5 if QUICK else 50

t0 = time.perf_counter()
for _ in range(repeats):
    for i in range(10):
        backprop_single(net, x[:, i:i + 1], y[:, i:i + 1])
t_loop = (time.perf_counter() - t0) / repeats
t0 = time.perf_counter()
for _ in range(repeats):
    backprop(net, x, y)
t_batch = (time.perf_counter() - t0) / repeats
print(f"loop over the examples: {1e3 * t_loop:.2f} ms,  one batch: {1e3 * t_batch:.2f} ms")
'''),
]

# ---------------------------------------------------------------- a06: SGD and optimisers

A06 = [
    md("intro", r"""
# Assignment 6 — Stochastic gradient descent, momentum, Adam, softmax (lectures 6–7)

Minibatch SGD (Nielsen, chapter 1): for each minibatch of $m$ examples,

$$w^l \leftarrow w^l - \frac{\eta}{m} \sum_x \nabla_{w^l} C_x, \qquad b^l \leftarrow b^l - \frac{\eta}{m} \sum_x
\nabla_{b^l} C_x.$$

Here `net` carries `net.weights`, `net.biases`, `net.sizes`, `net.num_layers` and `net.backprop(x, y)`, which gives
you `(nabla_b, nabla_w)` for one example (columns `x` `(n_in, 1)`, `y` `(n_out, 1)`) — or the sum over a batch of
columns. You may use NumPy and what each exercise names; nnlib's `Network`, `nnlib.optim` and `nnlib.losses` are
the references your answers are compared with and are not available to them while they are graded.
""" + howto('check_update_mini_batch', 'update_mini_batch')),
    setup("setup", SETUP_HEAD + '''
from nnlib import Network
from nnlib.activations import softmax
from nnlib.datasets import digits, nielsen_format
from nnlib.grading import (check_adam, check_momentum, check_sgd_epoch, check_softmax_cross_entropy,
                           check_update_mini_batch, require)
'''),
    md("ex1", r"""
## Exercise 1 — `update_mini_batch` (4 points)

Write `update_mini_batch(net, mini_batch, eta)`: `mini_batch` is a list of $m$ pairs `(x, y)` of columns. Add up the
gradients of its examples (from `net.backprop`), then update `net.weights` and `net.biases` **in place** by the rule
above (return nothing). You may use NumPy and `net.backprop` — not `net.update_mini_batch`, which is what you
are writing.
"""),
    solution("update_mini_batch", '''
def update_mini_batch(net, mini_batch, eta):
    """One SGD step on the minibatch (a list of (x, y) column pairs); changes net in place."""
    ### BEGIN SOLUTION
    nabla_b = [np.zeros(b.shape) for b in net.biases]
    nabla_w = [np.zeros(w.shape) for w in net.weights]
    for x, y in mini_batch:
        delta_nabla_b, delta_nabla_w = net.backprop(x, y)
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
    m = len(mini_batch)
    net.weights = [w - (eta / m) * nw for w, nw in zip(net.weights, nabla_w)]
    net.biases = [b - (eta / m) * nb for b, nb in zip(net.biases, nabla_b)]
    ### END SOLUTION
'''),
    tests("test_update_mini_batch", 2, 'check_update_mini_batch(require("update_mini_batch"))'),
    hidden("test_update_mini_batch_hidden", 2, '''check_update_mini_batch(require("update_mini_batch"), show_values=False, cases=[
    ([2, 5, 3], 21, 9, 1.5), ([5, 4, 4, 3], 22, 6, 0.25), ([3, 2], 23, 4, 2.0), ([3, 3, 3], 24, 3, 1.0)])'''),
    md("ex2", r"""
## Exercise 2 — one epoch (3 points)

Write `sgd_epoch(net, training_data, mini_batch_size, eta)`: split `training_data` (a list of `(x, y)` pairs) into
consecutive minibatches of `mini_batch_size` examples — the last one may be shorter — and take one step on each,
in order, with `net.update_mini_batch(mini_batch, eta)`. Do not shuffle here: the caller shuffles before each epoch.
The tests hand `sgd_epoch` a net whose `update_mini_batch` is a **stand-in step, not SGD** (it changes the weights
by an amount that depends on the minibatch, its size, `eta` and the current weights), so this exercise does not
depend on the last one: it checks which minibatches you hand over, and in which order.
"""),
    solution("sgd_epoch", '''
def sgd_epoch(net, training_data, mini_batch_size, eta):
    """One pass over training_data in consecutive minibatches."""
    ### BEGIN SOLUTION
    for k in range(0, len(training_data), mini_batch_size):
        net.update_mini_batch(training_data[k:k + mini_batch_size], eta)
    ### END SOLUTION
'''),
    tests("test_sgd_epoch", 2, 'check_sgd_epoch(require("sgd_epoch"))'),
    hidden("test_sgd_epoch_hidden", 1, '''check_sgd_epoch(require("sgd_epoch"), show_values=False, cases=[
    ([4, 5, 3], 41, 13, 5, 2.0), ([3, 3, 3, 2], 42, 9, 3, 1.0), ([2, 2], 43, 7, 10, 0.3)])'''),
    md("try", r"""
## Try it: learn the 8×8 digits

Nielsen's recipe on scikit-learn's digits (64 pixels, 10 classes): a `[64, 30, 10]` network, minibatches of 10,
$\eta = 3.0$. While the assignment is graded only 2 epochs run.
"""),
    code("demo", '''
split = digits()
train = nielsen_format(*split.train)
test = nielsen_format(*split.test, train=False)
net = Network([64, 30, 10], seed=1)
rng = np.random.default_rng(1)
for epoch in range(2 if QUICK else 20):
    order = rng.permutation(len(train))
    sgd_epoch(net, [train[i] for i in order], 10, 3.0)
    print(f"Epoch {epoch}: {net.evaluate(test)} / {len(test)}")
'''),
    md("ex3", r"""
## Exercise 3 — momentum (3 points)

The heavy ball keeps a velocity $v$ (start: $v = 0$): $v \leftarrow \mu v - \eta g$, then $w \leftarrow w + v$.
Write `momentum_step(w, v, grad, eta, mu)` returning the pair `(w_new, v_new)`. NumPy only.
"""),
    solution("momentum_step", '''
def momentum_step(w, v, grad, eta, mu):
    ### BEGIN SOLUTION
    v_new = mu * v - eta * grad
    return w + v_new, v_new
    ### END SOLUTION
'''),
    tests("test_momentum", 2, 'check_momentum(require("momentum_step"))'),
    hidden("test_momentum_hidden", 1, '''check_momentum(require("momentum_step"), show_values=False,
               cases=[((2, 3, 2), 61, 0.05, 0.99, 6), ((4,), 62, 1.0, 0.3, 2)])'''),
    md("ex4", r"""
## Exercise 4 — Adam (3 points)

At step $t = 1, 2, \dots$ with gradient $g$: $m \leftarrow \beta_1 m + (1 - \beta_1) g$,
$v \leftarrow \beta_2 v + (1 - \beta_2) g^2$, bias corrections $\hat m = m / (1 - \beta_1^t)$,
$\hat v = v / (1 - \beta_2^t)$, and $w \leftarrow w - \eta\,\hat m / (\sqrt{\hat v} + \epsilon)$.
Write `adam_step(w, grad, m, v, t, eta, beta1, beta2, eps)` returning `(w_new, m_new, v_new)`. NumPy only.
"""),
    solution("adam_step", '''
def adam_step(w, grad, m, v, t, eta=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    ### BEGIN SOLUTION
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - eta * m_hat / (np.sqrt(v_hat) + eps), m, v
    ### END SOLUTION
'''),
    tests("test_adam", 2, 'check_adam(require("adam_step"))'),
    hidden("test_adam_hidden", 1, '''check_adam(require("adam_step"), show_values=False,
           cases=[((2, 2, 3), 71, 0.001, 0.9, 0.999, 5), ((6,), 72, 0.3, 0.5, 0.9, 3), ((3, 2), 73, 0.05, 0.8, 0.9, 3, 0.1)])'''),
    md("ex5", r"""
## Exercise 5 — softmax cross-entropy and its gradient (3 points)

For logits `z` of shape `(m, k)` (one row per example) and integer labels `y` of shape `(m,)`:
the mean loss $L = \frac1m \sum_i -\ln \mathrm{softmax}(z_i)_{y_i}$ and its gradient
$\frac{\partial L}{\partial z} = \frac1m(\mathrm{softmax}(z) - \mathrm{onehot}(y))$.
Write `softmax_cross_entropy(z, y)` returning `(loss, dz)`. It must work for large logits ($|z| \sim 1000$):
subtract each row's maximum before `np.exp` (softmax does not change), and take the logarithm of softmax as
$(z - \max z) - \ln \sum e^{z - \max z}$ (softmax itself can underflow to 0). Leave `z` as it was: compute
new arrays (`z - z.max(...)`), not `z -= ...`, since the caller keeps using its logits. NumPy and the given `softmax`.
"""),
    solution("softmax_cross_entropy", '''
def softmax_cross_entropy(z, y):
    ### BEGIN SOLUTION
    m = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(m), y].mean()
    dz = np.exp(log_probs)
    dz[np.arange(m), y] -= 1
    return loss, dz / m
    ### END SOLUTION
'''),
    tests("test_softmax_cross_entropy", 2, 'check_softmax_cross_entropy(require("softmax_cross_entropy"))'),
    hidden("test_softmax_cross_entropy_hidden", 1,
           '''check_softmax_cross_entropy(require("softmax_cross_entropy"), show_values=False, cases=[
    ((7, 4), 81, 2.0), ((3, 10), 82, 2.0), ((9, 2), 83, 2.0), ((5, 6), 84, 1000.0)])'''),
]

# ---------------------------------------------------------------- a07: CNN layers

A07 = [
    md("intro", r"""
# Assignment 7 — Convolution and max pooling, forward and backward (lecture 8)

Images are batches `x` of shape `(N, C, H, Wd)` (height `H`, width `Wd`: the letter `W` names the filters here);
a convolutional layer has `F` filters `W` of shape `(F, C, kh, kw)` and biases `b` of shape `(F,)`. With zero
padding `pad` and step `stride` ($S$ in the formulas, as in lecture 8), the output has shape `(N, F, Ho, Wo)`,
$H_o = (H + 2\,\mathrm{pad} - k_h) / \mathrm{stride} + 1$ (integer division; $W_o$ likewise from `Wd`), and

$$\mathrm{out}[n, f, i, j] = b[f] + \sum_{c, u, v} W[f, c, u, v]\; x_{\mathrm{pad}}[n, c,\ i\,S + u,\ j\,S + v].$$

(Deep-learning "convolution" is this cross-correlation: the kernel is not flipped.) Plain Python loops are fine
here — nnlib's `layers.conv_forward` shows the fast im2col version in the demo at the end; it is the reference
your answers are compared with, so use NumPy only in them.
""" + howto('check_conv_forward', 'conv_forward')),
    setup("setup", SETUP_HEAD + '''
import time

from nnlib import layers
from nnlib.grading import check_conv_backward, check_conv_forward, check_maxpool_backward, require
'''),
    md("ex1", r"""
## Exercise 1 — convolution forward (4 points)

Write `conv_forward(x, W, b, stride=1, pad=0)` returning `out` of shape `(N, F, Ho, Wo)`.
`np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))` pads with zeros.
"""),
    solution("conv_forward", '''
def conv_forward(x, W, b, stride=1, pad=0):
    ### BEGIN SOLUTION
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    Ho, Wo = (H + 2 * pad - kh) // stride + 1, (Wd + 2 * pad - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(window * W[f]) + b[f]
    return out
    ### END SOLUTION
'''),
    tests("test_conv_forward", 3, 'check_conv_forward(require("conv_forward"))'),
    hidden("test_conv_forward_hidden", 1, '''check_conv_forward(require("conv_forward"), show_values=False, cases=[
    ((2, 1, 5, 7), (3, 1, 3, 3), 1, 2, 12), ((3, 2, 6, 6), (2, 2, 2, 2), 2, 0, 11), ((1, 3, 8, 6), (2, 3, 4, 3), 2, 1, 13)])'''),
    md("ex2", r"""
## Exercise 2 — convolution backward (6 points)

Given `dout` $= \partial L/\partial\,\mathrm{out}$ (shape `(N, F, Ho, Wo)`), write
`conv_backward(dout, x, W, b, stride=1, pad=0)` returning `(dx, dW, db)`, shaped like `x`, `W` and `b`.
Each output entry used the window $x_{\mathrm{pad}}[n, :, i S : i S + k_h, j S : j S + k_w]$ and the filter
$W[f]$, so it sends $\mathrm{dout}[n, f, i, j] \cdot W[f]$ back into that window of $dx_{\mathrm{pad}}$ and
$\mathrm{dout}[n, f, i, j] \cdot$ window into $dW[f]$; $db[f]$ sums $\mathrm{dout}[:, f]$. Accumulate with `+=` and
strip the padding from $dx_{\mathrm{pad}}$ at the end.
"""),
    solution("conv_backward", '''
def conv_backward(dout, x, W, b, stride=1, pad=0):
    ### BEGIN SOLUTION
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows = slice(i * stride, i * stride + kh)
                    cols = slice(j * stride, j * stride + kw)
                    dW[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * W[f]
    dx = dxp[:, :, pad:pad + H, pad:pad + Wd]
    return dx, dW, db
    ### END SOLUTION
'''),
    tests("test_conv_backward", 4, 'check_conv_backward(require("conv_backward"))'),
    hidden("test_conv_backward_hidden", 2, '''check_conv_backward(require("conv_backward"), show_values=False, cases=[
    ((2, 1, 5, 7), (3, 1, 3, 3), 1, 2, 12), ((3, 2, 6, 6), (2, 2, 2, 2), 2, 0, 11), ((1, 3, 8, 6), (2, 3, 4, 3), 2, 1, 13)])'''),
    md("ex3", r"""
## Exercise 3 — max-pool backward (3 points)

Max pooling with windows `size`×`size` (the pool size, $s$ in lecture 8) moved by `stride` outputs the maximum of
each window. Its backward pass sends `dout[n, c, i, j]` to the one input that was the maximum of window $(i, j)$ and
nothing to the others. On ties (common after a ReLU: a window of zeros) only the **first** maximum in reading order —
row by row, what `np.argmax` of the window returns — receives it. Write
`maxpool_backward(dout, x, size=2, stride=2)` returning `dx` shaped like `x`. Windows may overlap (`stride < size`):
add up what an input receives.
"""),
    solution("maxpool_backward", '''
def maxpool_backward(dout, x, size=2, stride=2):
    ### BEGIN SOLUTION
    N, C, _, _ = x.shape
    _, _, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
                    u, v = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + u, j * stride + v] += dout[n, c, i, j]
    return dx
    ### END SOLUTION
'''),
    tests("test_maxpool_backward", 2, 'check_maxpool_backward(require("maxpool_backward"))'),
    hidden("test_maxpool_backward_hidden", 1, '''check_maxpool_backward(require("maxpool_backward"), show_values=False,
                       cases=[((3, 2, 6, 6), 3, 3, 31), ((2, 2, 5, 6), 2, 1, 32), ((1, 1, 7, 7), 3, 2, 33),
                              ((2, 3, 6, 4), 2, 2, 34, True)])'''),
    md("try", r"""
## Try it: loops against im2col

The same convolution as one matrix product (nnlib's `layers.conv_forward`, im2col) on a batch of 8 MNIST-sized
images with 8 filters 5×5:
"""),
    code("demo", '''
rng = np.random.default_rng(0)
x, W, b = rng.standard_normal((8, 1, 28, 28)), rng.standard_normal((8, 1, 5, 5)), np.zeros(8)
t0 = time.perf_counter()
out_loops = conv_forward(x[:2] if QUICK else x, W, b)
t_loops = time.perf_counter() - t0
t0 = time.perf_counter()
out_fast, _ = layers.conv_forward(x[:2] if QUICK else x, W, b)
t_fast = time.perf_counter() - t0
print(f"loops {1e3 * t_loops:.1f} ms, im2col {1e3 * t_fast:.2f} ms, same result: {np.allclose(out_loops, out_fast)}")
'''),
]

# ---------------------------------------------------------------- a08: capstone

CAP_TRAIN = '''
def train(X, labels):
    """Train a sigmoid network on the rows of X (n, 64) with digits `labels` (n,); return (weights, biases)."""
    ### BEGIN SOLUTION
    rng = np.random.default_rng(0)
    sizes = [64, 32, 10]
    weights = [rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros((o, 1)) for o in sizes[1:]]
    net = SimpleNamespace(sizes=sizes, num_layers=len(sizes), weights=weights, biases=biases)
    xs = X.T                                  # one column per example
    ys = np.eye(10)[labels].T                 # one-hot columns
    n, eta, batch = xs.shape[1], 3.0, 10
    for epoch in range(30):
        order = rng.permutation(n)
        for k in range(0, n, batch):
            idx = order[k:k + batch]
            nabla_b, nabla_w = backprop(net, xs[:, idx], ys[:, idx])
            m = len(idx)
            net.weights = [w - (eta / m) * nw for w, nw in zip(net.weights, nabla_w)]
            net.biases = [b - (eta / m) * nb for b, nb in zip(net.biases, nabla_b)]
    return net.weights, net.biases
    ### END SOLUTION
'''

A08 = [
    md("intro", r"""
# Assignment 8 — Capstone: your backprop and SGD learn to read handwritten digits

Everything so far comes together: **your** backpropagation and **your** stochastic gradient descent train a network
on real handwritten digits — the 1,797 8×8 images shipped with nnlib (`nnlib.datasets.digits`), pixels scaled to
$[0, 1]$.

Write `train(X, labels)`: `X` holds the training images as rows, shape `(n, 64)`, and `labels` their digits, ints
0–9, shape `(n,)`. Build a network (your choice of hidden layers and sizes), train it with your own `backprop` and
minibatch SGD, and return it as `(weights, biases)` in Nielsen's layout: `weights[i]` of shape
$(n_l, n_{l-1})$ starting from the 64 inputs and ending with 10 outputs, `biases[i]` a column $(n_l, 1)$. The hidden
layers are sigmoid layers; if you use another activation, return `(weights, biases, "relu")` or `"tanh"`.

**How it is graded.** The grader calls your `train` with training digits only, then computes the accuracy of the
network you return on 300 held-out digits your function never sees (the predicted digit is the largest output):

* **at least 80 %** test accuracy: half the points of exercise 2; **at least 90 %**: all of them;
* **time limit: 60 seconds** for one call of `train` (a vectorised minibatch solution needs a few seconds);
* graded runs use other splits of the digits, **rename the classes and shuffle the pixels** (the same way for
  training and test): your `train` must learn from the data it is given — weights prepared in advance score 10 %.
* **your `backprop` must do the training**: `train` computes every step's gradients by calling `backprop(net, x,
  y)` (by that name) and updates the weights with them. The grader checks it by training once more with a
  `backprop` that renames the classes in `y` (it calls yours with the rows of `y` reordered): the network your
  `train` returns must then predict the renamed classes. A network fitted another way — a closed-form or library
  fit such as `np.linalg.lstsq`, `pinv`, `solve` or scikit-learn, or weights computed without your `backprop` —
  earns nothing, however accurate.

You may use NumPy and what is imported below (`sigmoid`, `sigmoid_prime`, `softmax`, `SimpleNamespace`); nothing
else from nnlib (no `Network`, no `Model`, no optimisers), and `digits()` only in the "Try it" cell: while grading,
`train` has no access to any data set except its arguments.
""" + howto('check_train', 'train')),
    setup("setup", SETUP_HEAD + '''
from types import SimpleNamespace

from nnlib.activations import sigmoid, sigmoid_prime, softmax
from nnlib.datasets import digits
from nnlib.grading import check_backprop, check_train, require
'''),
    md("ex1", r"""
## Exercise 1 — your backprop (3 points)

Write `backprop(net, x, y)` as in assignment 5, exercise 2: a sigmoid network with the quadratic cost
$C_x = \tfrac12 \lVert a^L - y \rVert^2$, `x` of shape `(n_in, m)` with one example per column, `y` of shape
`(n_out, m)`; return `(nabla_b, nabla_w)` summed over the $m$ examples. `net` has `weights`, `biases` and
`num_layers` (a `SimpleNamespace(weights=..., biases=..., num_layers=...)` works).
"""),
    solution("backprop", BP_BATCH),
    tests("test_backprop", 2, 'check_backprop(require("backprop"))'),
    hidden("test_backprop_hidden", 1, '''check_backprop(require("backprop"), show_values=False,
               cases=[([3, 3, 3, 3], 301, 3), ([5, 2, 6], 302, 7), ([2, 6, 3, 4], 303, 9)])'''),
    md("ex2", r"""
## Exercise 2 — train it on the digits (8 points)

Write `train(X, labels)` (see the top of the notebook): turn the rows into columns and the labels into one-hot
columns, initialise the weights (e.g. $w \sim N(0, 1/n_{in})$ with a fixed seed), and run minibatch SGD with your
`backprop` — each step $w \to w - \frac{\eta}{m} \nabla_w$, $b \to b - \frac{\eta}{m} \nabla_b$ over a shuffled
minibatch of $m$ examples. Choose the hidden layer size, $\eta$, the minibatch size and the number of epochs so
that the test accuracy reaches 90 % within the time limit. The test cell below trains once on a public split.
"""),
    solution("train", CAP_TRAIN),
    tests("test_train", 2, 'check_train(require("train"), target=0.80)'),
    hidden("test_train_hidden_80", 2,
           'check_train(require("train"), target=0.80, seed=101, relabel=True, show_values=False)'),
    hidden("test_train_hidden_90", 4,
           'check_train(require("train"), target=0.90, seed=202, relabel=True, show_values=False)'),
    md("try", r"""
## Try it: what did it learn?

Train on one split and look at the digits your network gets wrong.
"""),
    code("demo", '''
data = digits(split=(1497, 0, 300), seed=0)
(X_train, y_train), (X_test, y_test) = data.train, data.test
result = train(X_train, y_train)
weights, biases = result[:2]
hidden = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}.get(result[2] if len(result) > 2 else "", sigmoid)
a = X_test.T
for w, b in zip(weights[:-1], biases[:-1]):
    a = hidden(w @ a + b)
pred = np.argmax(weights[-1] @ a + biases[-1], axis=0)
wrong = [(int(t), int(p)) for t, p in zip(y_test, pred) if t != p]
print(f"test accuracy {np.mean(pred == y_test):.1%}; (digit, predicted) of the mistakes: {wrong}")
'''),
]

ASSIGNMENTS = {
    "a01_perceptron": A01,
    "a02_xor": A02,
    "a03_gradient_descent": A03,
    "a04_derivatives": A04,
    "a05_backprop": A05,
    "a06_sgd": A06,
    "a07_cnn": A07,
    "a08_capstone": A08,
}


# ---------------------------------------------------------------- writing


def build_sources(root: Path = SOURCE) -> list[Path]:
    """Write every source notebook under ``root``; returns their paths."""
    paths = []
    for name, cells in ASSIGNMENTS.items():
        path = root / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nb = notebook([nbformat.from_dict(c) for c in cells])
        nbformat.validate(nb)
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def nbgrader_cmd() -> list[str]:
    return [sys.executable, "-m", "nbgrader"]


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader: its console scripts (alembic) must be on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def make_course(course: Path, source: Path = SOURCE, assignments: list[str] | None = None) -> Path:
    """A throw-away nbgrader course directory: the repo's config and a copy of the source notebooks."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for name in assignments or list(ASSIGNMENTS):
        shutil.copytree(source / name, course / "solutions" / name, dirs_exist_ok=True)
    return course


def generate(course: Path, assignment: str = "a[0-9][0-9]_*") -> Path:
    """``nbgrader generate_assignment`` in ``course`` (``assignment`` may be a glob); returns the release root."""
    subprocess.run([*nbgrader_cmd(), "generate_assignment", assignment, "--force", "--log-level=WARN"],
                   cwd=course, check=True, capture_output=True, text=True, env=nbgrader_env())
    return course / "exercises"


def copy_release(release: Path, out: Path, assignments: list[str] | None = None) -> None:
    """Copy the release notebooks of ``release/<assignment>/`` into ``out/<assignment>/`` (replacing them)."""
    for name in assignments or list(ASSIGNMENTS):
        dest = out / name
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for nb in sorted((release / name).glob("*.ipynb")):
            shutil.copy(nb, dest / nb.name)


def generate_release(out: Path = RELEASE, source: Path = SOURCE) -> None:
    """Regenerate the student release of every assignment into ``out`` via a throw-away course directory."""
    with tempfile.TemporaryDirectory(prefix="nnlib-release-") as tmp:
        copy_release(generate(make_course(Path(tmp), source)), out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--release", action="store_true", help="also regenerate exercises/ with nbgrader")
    args = ap.parse_args()
    for p in build_sources():
        print("wrote", p.relative_to(ROOT))
    if args.release:
        generate_release()
        print("regenerated", RELEASE.relative_to(ROOT))


if __name__ == "__main__":
    main()
