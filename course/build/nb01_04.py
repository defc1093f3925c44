# ruff: noqa: E501  (long lines are markdown prose and LaTeX)
"""Build course notebooks 01-04 (perceptron, XOR, gradient descent, chain rule) with nbformat.

    python course/build/nb01_04.py          # writes course/01_perceptron.ipynb ... 04_chain_rule.ipynb

Each notebook is a list of markdown / code cells; the .ipynb files are written without outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

COURSE = Path(__file__).resolve().parents[1]


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip("\n"))


SETUP = """
%matplotlib inline
import os
import numpy as np
import matplotlib.pyplot as plt
import nnlib
QUICK = os.environ.get("NNLIB_QUICK") == "1"   # CI sets this; nothing in this notebook runs long anyway
np.set_printoptions(precision=4, suppress=True)
"""

# =====================================================================================================
# 01 perceptron
# =====================================================================================================

NB01 = [
    md(r"""
# Lecture 1 · The perceptron

The first learning machine: one artificial neuron that adds up weighted inputs and *fires* when the
sum crosses a threshold (Rosenblatt, 1950s). It can learn the logic gates AND, OR, NAND and NOT from
examples, and it provably stops learning once it gets every example right, but only when a straight
line can separate the two classes. On XOR it never stops.

**Learning goals.** After this notebook you can

1. compute a perceptron's output $y$ from inputs $x_i$, weights $w_i$ and a threshold,
2. treat the threshold as a **bias**: the weight $w_0$ from a constant input $x_0 = 1$,
3. apply the learning rule $w_i \leftarrow w_i + \eta\,(d - y)\,x_i$ by hand and with `nnlib.Perceptron`,
4. draw the decision line a perceptron has learned,
5. state the perceptron convergence theorem and the idea of its proof, and
6. explain why training on XOR never ends.

Run the cells from top to bottom. Cells marked **Try it** are for you to change and re-run.
"""),
    code(SETUP + """
from nnlib import Perceptron
from nnlib.datasets import logic_table
from nnlib.perceptron import augment
from nnlib.widgets import perceptron_stepper, plot_perceptron
"""),
    md(r"""
## 1. A neuron: weighted sum and threshold

A biological neuron collects stimulation on its dendrites; when the total electrical potential exceeds a
threshold it fires. The simplified model (the lecture's *perceptron model*) does the same with numbers:

$$
z = \sum_{i=1}^{n} w_i x_i, \qquad
y = \begin{cases} 1 & \text{if } z > T \\ 0 & \text{otherwise.} \end{cases}
$$

The $x_i$ are the inputs (0 or 1 for logic), the $w_i$ the **weights** (how strongly input $i$ stimulates the
neuron, negative = inhibits) and $T$ the **threshold**. Writing $b = -T$ (the **bias**), as Nielsen does,

$$
y = \begin{cases} 1 & \text{if } \mathbf{w}\cdot\mathbf{x} + b > 0 \\ 0 & \text{if } \mathbf{w}\cdot\mathbf{x} + b \le 0. \end{cases}
$$

*Convention.* `nnlib` fires on $z > 0$ (as Nielsen and the summer-school slides); the first lecture's slide
fires on $z \ge 0$. The two differ only for inputs that land exactly on the boundary.

AND is a neuron with weights $w_1 = w_2 = 1$ and threshold $T = 1.5$: only $1 + 1 = 2$ exceeds $1.5$.
"""),
    code("""
X, d = logic_table("AND")          # the four rows 00, 01, 10, 11 and the desired outputs d
w, T = np.array([1.0, 1.0]), 1.5
z = X @ w                          # z = sum_i w_i x_i for every row
y = (z > T).astype(int)
print("x1 x2 |  z  | y  d")
for x, zi, yi, di in zip(X, z, y, d):
    print(f" {x[0]:.0f}  {x[1]:.0f} | {zi:.1f} | {yi}  {di}")
"""),
    md(r"""
## 2. The threshold as a weight: the constant node $x_0 = 1$

Moving the threshold to the left-hand side, $\sum_i w_i x_i - T > 0$, shows that $-T$ behaves exactly like
one more weight whose input is always 1. Add a node $x_0 = 1$ and set $w_0 = b = -T$:

$$
z = \sum_{i=0}^{n} w_i x_i = w_0 \cdot 1 + w_1 x_1 + \dots + w_n x_n, \qquad y = \operatorname{step}(z) = [z > 0].
$$

Now the threshold is learned by the same rule as every other weight. `nnlib.Perceptron` stores
$\mathbf w = (w_0, w_1, \dots, w_n)$ with the bias first, and `augment` prepends the column $x_0 = 1$.
(Most authors, Nielsen included, keep $b$ separate; the two views are the same computation.)
"""),
    code("""
and_gate = Perceptron(2, w=[-1.5, 1.0, 1.0])   # w_0 = -T = -1.5, w_1 = w_2 = 1
Xa = augment(X)                                # rows (x_0 = 1, x_1, x_2)
print(Xa)
print("z = Xa @ w      :", Xa @ and_gate.w)
print("net_input(X)    :", and_gate.net_input(X))
print("predict(X)      :", and_gate.predict(X), "  desired:", d)
"""),
    md(r"""
## 3. The learning rule

We do not want to choose the weights by hand; we want the neuron to find them from examples
$(\mathbf x, d)$, where $d$ is the **desired** output. Rosenblatt's rule: present an example, compute $y$,
and change **every** weight $i = 0, 1, \dots, n$ by

$$
\boxed{\,w_i \leftarrow w_i + \eta\,(d - y)\,x_i\,}
$$

with a step size (gain, *learning rate*) $\eta > 0$. The lecture slide writes $\eta(d-y)x$ without the
index $i$; it means one such update per weight, with the input $x_i$ that weight is attached to
(for the bias, $x_0 = 1$).

Only three cases can occur:

| $d$ | $y$ | $d - y$ | update | effect on $z$ for this $\mathbf x$ |
|---|---|---|---|---|
| 0 | 0 or 1 = $d$ | 0 | none | right already: nothing to learn |
| 1 | 0 | $+1$ | $\mathbf w \leftarrow \mathbf w + \eta \mathbf x$ | $z$ grows by $\eta\lVert\mathbf x\rVert^2$ |
| 0 | 1 | $-1$ | $\mathbf w \leftarrow \mathbf w - \eta \mathbf x$ | $z$ shrinks by $\eta\lVert\mathbf x\rVert^2$ |

(the vectors include $x_0 = 1$). A mistake always pushes $z$ for that example towards the correct side.
Weights whose input is $x_i = 0$ do not change: that input did not contribute to the mistake.

One update by hand, from $\mathbf w = \mathbf 0$ with $\eta = 1$, on the example $\mathbf x = (1, 1)$, $d = 1$:
"""),
    code("""
eta = 1.0
w = np.zeros(3)
x, d_x = np.array([1.0, 1.0, 1.0]), 1        # (x_0, x_1, x_2) = (1, 1, 1), desired 1
y_x = float(w @ x > 0)                       # z = 0, not > 0, so y = 0: a mistake
w_new = w + eta * (d_x - y_x) * x            # w_i <- w_i + eta (d - y) x_i
print("y =", y_x, "  new w =", w_new)

p = Perceptron(2, eta=eta)                   # the library does the same
u = p.update([1.0, 1.0], 1)
print("Perceptron.update:", u.w_before, "->", u.w_after)
"""),
    md(r"""
## 4. Learning AND, OR and NAND

`Perceptron.fit` presents the examples in order, epoch after epoch (one **epoch** = one pass over all
examples), and stops after the first epoch without a mistake. It returns the number of mistakes per epoch.
"""),
    code("""
learned = {}
for gate in ["AND", "OR", "NAND"]:
    X, d = logic_table(gate)
    p = Perceptron(2, eta=1.0)
    mistakes = p.fit(X, d, epochs=100)
    learned[gate] = p
    print(f"{gate:5s} mistakes per epoch {mistakes}  ->  w = {p.w},  outputs {p.predict(X)} = d {d}")
    assert np.array_equal(p.predict(X), d)
"""),
    md(r"""
### The decision line

With two inputs the perceptron fires on one side of the line $w_0 + w_1 x_1 + w_2 x_2 = 0$, i.e.
$x_2 = -(w_0 + w_1 x_1)/w_2$. Red points have $d = 1$, blue points $d = 0$; the shaded side is where $y = 1$.
"""),
    code("""
fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), layout="constrained")
for ax, (gate, p) in zip(axes, learned.items()):
    plot_perceptron(*logic_table(gate), w=p.w, ax=ax, title=f"{gate}: w = {p.w}")
plt.show()
"""),
    md(r"""
Many lines separate each gate; the rule stops at the first one it finds. Here the lines even run *through* a
point: starting from $\mathbf w = \mathbf 0$ with $\eta = 1$ every weight is an integer, so $z = 0$ happens, and
$z = 0$ counts as "does not fire" ($y = 0$), which is correct for those points. Nothing in the rule asks for a
*wide* margin; later methods (and the convergence bound below) care about it.

### NOT: one input

With one input the "line" is a single threshold on the $x_1$ axis: $x_1 = -w_0/w_1$ (NOT fires to the left of it).
"""),
    code("""
X_not, d_not = logic_table("NOT")
p_not = Perceptron(1, eta=1.0)
print("mistakes per epoch:", p_not.fit(X_not, d_not), "  w =", p_not.w, "  outputs:", p_not.predict(X_not))
fig, ax = plt.subplots(figsize=(5, 1.8))
plot_perceptron(X_not, d_not, p_not.w, ax=ax, title=f"NOT: threshold at x1 = {-p_not.w[0] / p_not.w[1]:g}")
plt.show()
"""),
    md(r"""
### Step through the updates

The widget below replays `Perceptron.steps` for AND one example at a time. **next** presents the next example;
the orange ring marks it, and the text shows $d$, $y$ and the update. Watch the line move only after mistakes.
(Without a widget front end, for example on GitHub, you see the starting state only.)
"""),
    code("""
X, d = logic_table("AND")
perceptron_stepper(X, d, eta=1.0, epochs=6)
"""),
    md(r"""
**Try it.**
- Step through OR and NAND, or AND with a smaller $\eta$, say `eta=0.1`. With $\mathbf w_0 = \mathbf 0$ every weight is
  a multiple of $\eta$, so the *sequence of outputs* is the same for every $\eta$. Check it and explain why.
- Start from other weights: `perceptron_stepper(X, d, w=[0.5, -1, 2])`.
"""),
    md(r"""
## 5. The perceptron convergence theorem

> **Theorem (Rosenblatt; Novikoff 1962).** If the two classes are **linearly separable**, the learning rule
> makes only a finite number of mistakes, and then stops changing $\mathbf w$. If some unit vector
> $\mathbf w^*$ separates them with margin $\gamma > 0$, and every input has $\lVert \mathbf x \rVert \le R$,
> the number of mistakes (updates), starting from $\mathbf w = \mathbf 0$, is at most $(R/\gamma)^2$, whatever the
> order of the examples and whatever $\eta > 0$.

Write $t = 2d - 1 \in \{-1, +1\}$. The margin condition says $t\,\mathbf w^* \cdot \mathbf x \ge \gamma$ for every
example, and on a mistake the update is $\mathbf w \leftarrow \mathbf w + \eta\, t\, \mathbf x$ while
$t\,\mathbf w \cdot \mathbf x \le 0$. Start from $\mathbf w = \mathbf 0$ and follow two numbers over $k$ mistakes:

* **progress:** every mistake adds $\eta\, t\,\mathbf w^*\cdot\mathbf x \ge \eta\gamma$ to $\mathbf w \cdot \mathbf w^*$,
  so $\mathbf w \cdot \mathbf w^* \ge k\eta\gamma$;
* **length:** $\lVert \mathbf w + \eta t \mathbf x\rVert^2 = \lVert\mathbf w\rVert^2 + 2\eta\, t\,\mathbf w\cdot\mathbf x
  + \eta^2\lVert\mathbf x\rVert^2 \le \lVert\mathbf w\rVert^2 + \eta^2R^2$, so $\lVert\mathbf w\rVert \le \sqrt{k}\,\eta R$.

Since $\mathbf w\cdot\mathbf w^* \le \lVert \mathbf w\rVert$ (Cauchy–Schwarz, $\lVert\mathbf w^*\rVert = 1$),
$k\eta\gamma \le \sqrt k\,\eta R$, that is $k \le (R/\gamma)^2$. The alignment with $\mathbf w^*$ grows like $k$,
the length only like $\sqrt k$; that cannot go on forever.

Check the bound for AND (inputs include $x_0 = 1$, so $R = \sqrt 3$) with the separating weights $(-1.5, 1, 1)$:
"""),
    code("""
X, d = logic_table("AND")
Xa, t = augment(X), 2 * d - 1
w_star = np.array([-1.5, 1.0, 1.0])
w_star = w_star / np.linalg.norm(w_star)        # a unit vector
gamma = np.min(t * (Xa @ w_star))               # the margin: smallest t w*.x
R = np.max(np.linalg.norm(Xa, axis=1))
updates = sum(Perceptron(2).fit(X, d))
print(f"gamma = {gamma:.3f}, R = {R:.3f}, bound (R/gamma)^2 = {(R / gamma) ** 2:.1f}, updates made: {updates}")
assert updates <= (R / gamma) ** 2
"""),
    md(r"""
The bound is loose (it must hold for every order of the examples) but finite. It says nothing about data
that are *not* separable, and that is where the trouble starts.

## 6. XOR: the rule never converges

XOR outputs 1 when exactly one input is 1. Train as before and count the mistakes per epoch:
"""),
    code("""
epochs = 30
X_xor, d_xor = logic_table("XOR")
p_xor = Perceptron(2)
m_xor = p_xor.fit(X_xor, d_xor, epochs=epochs)
m_and = Perceptron(2).fit(*logic_table("AND"), epochs=epochs)
print("AND:", m_and)
print("XOR:", m_xor)

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(range(1, len(m_xor) + 1), m_xor, "o-", label="XOR: never 0")
ax.plot(range(1, len(m_and) + 1), m_and, "s-", label="AND: stops when 0")
ax.set(xlabel="epoch", ylabel="mistakes in the epoch", ylim=(-0.2, 4.2))
ax.legend()
plt.show()
"""),
    md(r"""
Every epoch has a mistake, and the weights go round in a cycle: the updates of one epoch cancel out,
and the same epoch repeats for ever.
"""),
    code("""
p = Perceptron(2)
w_after_epoch = [u.w_after for u in p.steps(X_xor, d_xor, epochs=8) if u.index == 3]
for e, w in enumerate(w_after_epoch, 1):
    print(f"after epoch {e}: w = {w}")
"""),
    md(r"""
No amount of training helps: there is no line with both red points on one side and both blue points on the
other. The next notebook proves it, and shows what a second layer of neurons does about it.

**Try it.** Replace `"XOR"` by `"XNOR"` (output 1 when $x_1 = x_2$) or `"NOR"`. Which converge?

## Summary

* A perceptron computes $y = [\sum_{i=0}^n w_i x_i > 0]$, with the bias $w_0 = -T$ as the weight of a constant input $x_0 = 1$.
* The learning rule $w_i \leftarrow w_i + \eta\,(d - y)\,x_i$ changes nothing on a correct answer and moves
  $z$ towards the right side on a mistake (one update per weight: the index $i$ matters).
* AND, OR, NAND and NOT are linearly separable, so the rule learns them; the convergence theorem bounds the
  number of mistakes by $(R/\gamma)^2$.
* XOR is not linearly separable: the rule cycles for ever. That negative result (Minsky & Papert, 1969)
  stalled the field until multi-layer networks could be trained.
"""),
]

# =====================================================================================================
# 02 XOR and multilayer networks
# =====================================================================================================

NB02 = [
    md(r"""
# Lecture 2 · XOR and multilayer networks

One threshold unit draws one straight line. XOR needs more. This notebook shows *why* no single unit can
compute XOR, builds a two-layer network that does, proves that two layers compute **any** Boolean function,
and ends with the obstacle that stalled the field for twenty years: how to **train** such networks. The answer
starts with replacing the step by a smooth function.

**Learning goals.** After this notebook you can

1. decide whether a two-input gate is linearly separable, and prove that XOR and XNOR ($x_1 = x_2$) are not,
2. hand-set a two-layer step network for XOR (OR and NAND into AND) and check its truth table,
3. build a two-layer network for any truth table (disjunctive normal form), and
4. explain why gradient descent needs a smooth activation, and how the sigmoid is a smooth step.
"""),
    code(SETUP + """
from nnlib import Perceptron
from nnlib import activations as A
from nnlib.datasets import logic_table
from nnlib.viz import plot_decision_boundary
from nnlib.widgets import playground, plot_perceptron
"""),
    md(r"""
## 1. Linear separability

A perceptron with two inputs fires on one side of a line. A gate is **linearly separable** when some line
puts all its 1-rows on one side and all its 0-rows on the other. Let the perceptron rule look for the line:
"""),
    code("""
fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), layout="constrained")
for ax, gate in zip(axes, ["AND", "OR", "NAND", "XOR"]):
    X, d = logic_table(gate)
    p = Perceptron(2)
    mistakes = p.fit(X, d, epochs=50)
    status = "separated" if mistakes[-1] == 0 else f"{mistakes[-1]} mistakes in epoch 50"
    plot_perceptron(X, d, p.w, ax=ax, title=f"{gate}: {status}")
plt.show()
"""),
    md(r"""
## 2. Why no single unit computes XOR

Suppose weights $w_0, w_1, w_2$ did it, with $y = [w_0 + w_1 x_1 + w_2 x_2 > 0]$. Each row of the truth table
is one inequality:

| $x_1$ | $x_2$ | XOR | condition |
|---|---|---|---|
| 0 | 0 | 0 | $w_0 \le 0$ |
| 0 | 1 | 1 | $w_0 + w_2 > 0$ |
| 1 | 0 | 1 | $w_0 + w_1 > 0$ |
| 1 | 1 | 0 | $w_0 + w_1 + w_2 \le 0$ |

Add the two middle rows: $2w_0 + w_1 + w_2 > 0$. Add the first and the last: $2w_0 + w_1 + w_2 \le 0$.
Both cannot hold, so **no** weights exist. For XNOR, "$x_1 = x_2$" (which the lecture also singles out), every
inequality flips: $w_0 > 0$, $w_0 + w_1 + w_2 > 0$ but $w_0 + w_2 \le 0$, $w_0 + w_1 \le 0$, and the same two sums
contradict each other. (In pictures: the midpoint $(\tfrac12, \tfrac12)$ of the two 1-points is also the midpoint of the two 0-points,
and a half-plane that contains two points contains their midpoint.)

A numerical sanity check, not a proof: try a million random weight vectors and count how many compute each gate.
"""),
    code("""
rng = np.random.default_rng(0)
Wr = rng.uniform(-3, 3, size=(1_000_000, 3))              # rows (w_0, w_1, w_2)
X = logic_table("AND")[0]
outputs = (Wr[:, :1] + Wr[:, 1:] @ X.T > 0).astype(int)   # (10^6, 4): each unit's truth table
for gate in ["AND", "OR", "NAND", "NOR", "XOR", "XNOR"]:
    hits = np.all(outputs == logic_table(gate)[1], axis=1).sum()
    print(f"{gate:5s} computed by {hits:7d} of 1,000,000 random units")
"""),
    md(r"""
## 3. Two layers compute XOR

XOR is "OR, but not both": $x_1 \oplus x_2 = \text{AND}(\text{OR}(x_1, x_2), \text{NAND}(x_1, x_2))$. Each of the
three gates is a single unit, so two **layers** suffice: a hidden layer with an OR unit and a NAND unit, and an
output unit computing AND of the two. The weights can be set by hand:
"""),
    code("""
or_unit   = Perceptron(2, w=[-0.5,  1.0,  1.0])   # fires if x1 + x2 > 0.5
nand_unit = Perceptron(2, w=[ 1.5, -1.0, -1.0])   # fires unless x1 + x2 > 1.5
and_unit  = Perceptron(2, w=[-1.5,  1.0,  1.0])   # fires if h1 + h2 > 1.5

def xor_net(X):
    H = np.column_stack([or_unit.predict(X), nand_unit.predict(X)])   # hidden layer (h1, h2)
    return and_unit.predict(H)

X, d = logic_table("XOR")
print("x1 x2 | h1 h2 | y  d")
for x, h1, h2, y, di in zip(X, or_unit.predict(X), nand_unit.predict(X), xor_net(X), d):
    print(f" {x[0]:.0f}  {x[1]:.0f} |  {h1:.0f}  {h2:.0f} | {y:.0f}  {di}")
assert np.array_equal(xor_net(X), d)
"""),
    md(r"""
In Nielsen's notation the same network is two matrix products. Layer 2 (the hidden layer) has weights
$w^2$ (row $j$ = the weights into hidden neuron $j$) and biases $b^2$; layer 3 (the output) has $w^3$, $b^3$:

$$
a^2 = \operatorname{step}(w^2 a^1 + b^2), \quad a^3 = \operatorname{step}(w^3 a^2 + b^3), \qquad
w^2 = \begin{pmatrix} 1 & 1 \\ -1 & -1 \end{pmatrix},\;
b^2 = \begin{pmatrix} -0.5 \\ 1.5 \end{pmatrix},\;
w^3 = \begin{pmatrix} 1 & 1 \end{pmatrix},\; b^3 = (-1.5).
$$

With the four inputs as the columns of $a^1$ the whole truth table is two lines of code:
"""),
    code("""
w2, b2 = np.array([[1.0, 1.0], [-1.0, -1.0]]), np.array([[-0.5], [1.5]])
w3, b3 = np.array([[1.0, 1.0]]), np.array([[-1.5]])
a1 = X.T                              # inputs as columns, shape (2, 4)
a2 = A.step(w2 @ a1 + b2)             # hidden layer, (2, 4)
a3 = A.step(w3 @ a2 + b3)             # output, (1, 4)
print("a2 =\\n", a2, "\\na3 =", a3)
"""),
    md(r"""
### What the hidden layer does

The hidden layer **moves the points**. In the hidden space $(h_1, h_2)$ the two 1-rows of XOR land on the
same point $(1, 1)$, the 0-rows on $(0, 1)$ and $(1, 0)$, and a single line (the AND unit) separates them.
In the input plane the network's region is the band between two lines:
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
plot_decision_boundary(xor_net, X, d, ax=axes[0], title="input space: XOR = band between two lines")
plot_perceptron(a2.T, d, and_unit.w, ax=axes[1], title="hidden space (h1, h2): AND separates")
axes[1].set(xlabel="$h_1$ = OR", ylabel="$h_2$ = NAND")
plt.show()
"""),
    md(r"""
**Try it.** Build XNOR ($x_1 = x_2$) the same way: which two gates go into the hidden layer, and which gate on
top? (One answer: AND and NOR into OR.)

## 4. Two layers compute any Boolean function

The lecture's construction: *a single neuron can match any single Boolean pattern*. For a pattern
$\mathbf p \in \{0, 1\}^n$ give the unit weight $+1$ on the inputs where $p_i = 1$, weight $-1$ where $p_i = 0$,
and bias $b = -(\text{number of ones in } \mathbf p) + \tfrac12$. Then
$z = \#\{\text{ones matched}\} - \#\{\text{extra ones}\} - \#\{\text{ones in } \mathbf p\} + \tfrac12$, which is
$\tfrac12 > 0$ for $\mathbf x = \mathbf p$ and $\le -\tfrac12$ for every other input: an $n$-way AND of the exact pattern.
(With $\pm1$ bits, as on the slide, the weights are simply the pattern itself.)

Any Boolean function is an OR of the patterns on which it is 1 (its *disjunctive normal form*). So:

* **hidden layer:** one pattern-matching unit per row where $f = 1$;
* **output:** an OR unit, weights 1 and bias $-\tfrac12$.

The code builds the weights from a truth table:
"""),
    code("""
def dnf_network(X, f):
    \"\"\"Weights (w2, b2, w3, b3) of a two-layer step network computing the truth table f on the rows of X.\"\"\"
    patterns = X[f == 1]                                    # rows where f = 1: one hidden unit each
    w2 = np.where(patterns == 1, 1.0, -1.0)                 # +1 for a 1-bit, -1 for a 0-bit
    b2 = (0.5 - patterns.sum(axis=1)).reshape(-1, 1)
    w3 = np.ones((1, len(patterns)))                        # OR of the hidden units
    b3 = np.array([[-0.5]])
    return w2, b2, w3, b3

def step_forward(params, X):
    w2, b2, w3, b3 = params
    a2 = A.step(w2 @ X.T + b2)
    return A.step(w3 @ a2 + b3).ravel()

X, d = logic_table("XOR")
params = dnf_network(X, d)
print("w2 =\\n", params[0], "\\nb2 =", params[1].ravel())
print("outputs:", step_forward(params, X), " XOR:", d)
"""),
    md(r"""
Check it on **every** Boolean function of two inputs ($2^4 = 16$) and of three inputs ($2^8 = 256$):
"""),
    code("""
import itertools

for n in (2, 3):
    X = np.array(list(itertools.product([0.0, 1.0], repeat=n)))     # all 2^n input rows
    count = 0
    for f in itertools.product([0, 1], repeat=len(X)):              # every truth table
        f = np.array(f)
        assert np.array_equal(step_forward(dnf_network(X, f), X), f)
        count += 1
    print(f"{n} inputs: all {count} Boolean functions computed correctly")
"""),
    md(r"""
The price is size: a function that is 1 on half of its $2^n$ rows, such as $n$-bit parity (XOR of all bits),
needs $2^{n-1}$ hidden units. Deeper networks can do the same with far fewer units (parity: a chain of XORs),
which is one reason for depth.

## 5. Why training needs a smooth activation

We can *set* weights for a two-layer step network, but can we *learn* them? The perceptron rule only trains an
output unit: for a hidden unit there is no desired output $d$. The general method, gradient descent
(next lecture), changes every weight in the direction that lowers a cost, using the derivative
$\partial C/\partial w$. With step units that derivative is useless:

$$
\frac{d}{dz}\operatorname{step}(z) = 0 \quad \text{for every } z \neq 0 \text{ (and undefined at } 0\text{)}.
$$

A small change of a weight changes the output **not at all**, or, when it crosses the threshold, by a jump.
The derivative tells gradient descent nothing. Nielsen's fix: replace the step by a function that changes
*a little* when the weights change *a little*, the **sigmoid**

$$
\sigma(z) = \frac{1}{1 + e^{-z}} .
$$

It goes from 0 to 1 like the step and is smooth. Steeper versions $\sigma(kz)$ approach the step as $k$ grows:
"""),
    code("""
z = np.linspace(-6, 6, 601)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].plot(z, A.step(z), "k", lw=3, label="step(z)")
for k in [1, 2, 5, 20]:
    axes[0].plot(z, A.sigmoid(k * z), label=f"σ({k}z)")
axes[0].set(xlabel="z", title="sigmoid: a smooth step")
axes[0].legend()
axes[1].plot(z, A.step_prime(z), "k", lw=3, label="step'(z) = 0")
for k in [1, 2, 5]:
    axes[1].plot(z, k * A.sigmoid_prime(k * z), label=f"d/dz σ({k}z)")
axes[1].set(xlabel="z", title="their derivatives")
axes[1].legend()
plt.show()
"""),
    md(r"""
Seen from a weight: take the AND unit on input $(1, 1)$ and vary $w_1$. The step unit's output is flat, then
jumps; the sigmoid unit's output changes smoothly, and its slope says which way to move $w_1$.
"""),
    code("""
w1 = np.linspace(-2, 3, 501)
z = -1.5 + w1 * 1.0 + 1.0 * 1.0          # z = w_0 + w_1 x_1 + w_2 x_2 at x = (1, 1)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(w1, A.step(z), "k", lw=3, label="step unit")
ax.plot(w1, A.sigmoid(z), label="sigmoid unit")
ax.plot(w1, A.sigmoid_prime(z), "--", label="sigmoid unit: slope $da/dw_1$")
ax.set(xlabel="$w_1$", ylabel="output for x = (1, 1)")
ax.legend()
plt.show()
"""),
    md(r"""
With sigmoid units, gradient descent can train the hidden layer too. The playground below does exactly that:
it trains a network with one hidden layer of 4 tanh units (a sigmoid-like activation) on noisy XOR data. Press
**train** and watch the two lines of the hand-made network appear by themselves. Set *hidden layers* to an empty
box (no hidden layer) and train again: a single layer cannot do it, as we proved.
"""),
    code("""
pg = playground("xor", hidden="4", activation="tanh", eta=0.3, epochs=100)
pg.train()          # one press of the button, so the static figure shows a trained network
print(f"training accuracy: {pg.accuracy():.0%}")
pg
"""),
    md(r"""
**Try it.** In the playground, choose *circles*: how many hidden units does it need? Try `activation="sigmoid"`.

## Summary

* A single threshold unit separates with one line; XOR and XNOR need two, so no single unit computes them:
  their four inequalities contradict each other.
* Two layers suffice: XOR = AND(OR, NAND). The hidden layer maps the inputs to a space where one line separates them.
* Two layers compute **any** Boolean function: one pattern-matching unit per 1-row, OR on top (DNF),
  at the cost of up to $2^{n-1}$ hidden units.
* The step's derivative is zero, so gradient descent cannot train step networks. The sigmoid
  $\sigma(z) = 1/(1 + e^{-z})$ is a smooth step whose derivative is informative.
"""),
]

# =====================================================================================================
# 03 gradient descent
# =====================================================================================================

NB03 = [
    md(r"""
# Lecture 3 · Gradient descent

Training a network means finding weights that make a cost $C$ small. We cannot solve for them; we **walk
downhill**. This notebook follows the lecture's worked examples, $f(x) = x^2 - 6x + 10$ and
$z = x^2 + y^2 - 6x + 10$, then asks the practical questions: why does a step always go down, how large
should it be, what does Newton's method do better, and what changes when the function has several minima.

**Learning goals.** After this notebook you can

1. estimate a derivative by a finite difference and compare it with the analytic one,
2. run gradient descent $\mathbf v \leftarrow \mathbf v - \eta \nabla C$ by hand and in code,
3. derive $\Delta C \approx -\eta \lVert\nabla C\rVert^2$ and say why it needs a *small* $\eta$,
4. recognise steps that are too small, good, too large and diverging,
5. use diminishing step sizes $\eta_t = \eta_0 / (1 + kt)$, compare with Newton's method, and
6. explain how convexity decides whether the starting point matters.
"""),
    code(SETUP + """
from nnlib import optim
from nnlib.gradcheck import numerical_gradient
from nnlib.widgets import gd_path, gradient_descent_explorer
"""),
    md(r"""
## 1. One variable: $f(x) = x^2 - 6x + 10$

The derivative is the change of $f$ per change of $x$ in the limit:
$f'(x) = \lim_{\Delta x \to 0} \frac{f(x + \Delta x) - f(x)}{\Delta x}$. The lecture evaluates the quotient at
$x = 6$ with $\Delta x = 0.01$: $f(6) = 10$, $f(6.01) = 10.0601$, so the slope is about $0.0601 / 0.01 = 6.01$.
The analytic derivative is $f'(x) = 2x - 6$, which gives exactly $6$ at $x = 6$.
"""),
    code("""
def f(x):
    return x**2 - 6 * x + 10

def f_prime(x):
    return 2 * x - 6

x, dx = 6.0, 0.01
slope_fd = (f(x + dx) - f(x)) / dx
print(f"f(6) = {f(x):g},  f(6.01) = {f(x + dx):.4f}")
print(f"finite difference: {slope_fd:.4f}    analytic 2x - 6: {f_prime(x):g}")
assert np.isclose(f(x + dx), 10.0601) and np.isclose(slope_fd, 6.01) and f_prime(x) == 6
"""),
    md(r"""
The extra $0.01$ is not rounding. For this parabola $f(x + \Delta x) - f(x) = (2x - 6)\Delta x + \Delta x^2$,
so the forward difference is $f'(x) + \Delta x$: its error is proportional to $\Delta x$. A **central**
difference $\frac{f(x + \Delta x) - f(x - \Delta x)}{2\Delta x}$ cancels that term (its error is proportional
to $\Delta x^2$, and zero for a parabola). `nnlib.gradcheck.numerical_gradient` uses central differences; we
will rely on it to check every derivative in the next notebook.
"""),
    code("""
central = (f(x + dx) - f(x - dx)) / (2 * dx)
library = numerical_gradient(lambda v: f(v[0]), np.array([x]))
print(f"central difference: {central:.10f}   numerical_gradient: {library[0]:.10f}")
"""),
    md(r"""
### Walking downhill

The slope says which way is up: at $x = 6$ it is positive, so $f$ decreases to the left. Gradient descent
steps against the slope, by an amount proportional to it:

$$
x_{t+1} = x_t - \eta\, f'(x_t).
$$

Near the minimum the slope shrinks and so do the steps. For this parabola
$x_{t+1} - 3 = (1 - 2\eta)(x_t - 3)$: the distance to the minimum $x = 3$ shrinks by the factor $|1 - 2\eta|$ each step.
"""),
    code("""
path = gd_path(f_prime, start=6.0, eta=0.1, steps=30)[:, 0]
print("x_t for t = 0..5:", path[:6])
print(f"x_30 = {path[-1]:.6f}, f(x_30) = {f(path[-1]):.6f}   (minimum f(3) = 1)")
assert abs(path[-1] - 3) < 1e-2

xs = np.linspace(-0.5, 7, 200)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs, f(xs), "k")
ax.plot(path, f(path), "o-", color="tab:red", ms=4, label="x_t, η = 0.1")
ax.set(xlabel="x", ylabel="f(x)")
ax.legend()
plt.show()
"""),
    md(r"""
## 2. Two variables: $z = x^2 + y^2 - 6x + 10$

With several variables the derivative becomes the **gradient**, the vector of partial derivatives:

$$
\nabla z = \left(\frac{\partial z}{\partial x}, \frac{\partial z}{\partial y}\right) = (2x - 6,\; 2y).
$$

It points in the direction of fastest ascent, so we step against it:
$(x, y) \leftarrow (x, y) - \eta \nabla z$. The lecture starts at $(6, -2)$, where $z = 14$, with $\eta = 0.01$:

* round 1: $(x, y) = (6, -2)$, $\nabla z = (6, -4)$;
* round 2: $(x, y) = (6, -2) - 0.01\,(6, -4) = (5.94, -1.96)$, $\nabla z = (5.88, -3.92)$.
"""),
    code("""
def z(x, y):
    return x**2 + y**2 - 6 * x + 10

def grad_z(v):
    x, y = v
    return np.array([2 * x - 6, 2 * y])

v0, eta = np.array([6.0, -2.0]), 0.01
g0 = grad_z(v0)
v1 = v0 - eta * g0
print(f"z(6, -2) = {z(*v0):g},  grad = {g0}")
print(f"next point {v1},  grad there = {grad_z(v1)}")
assert z(*v0) == 14 and np.allclose(g0, [6, -4])
assert np.allclose(v1, [5.94, -1.96]) and np.allclose(grad_z(v1), [5.88, -3.92])
assert np.allclose(gd_path(grad_z, v0, eta, 1)[1], [5.94, -1.96])    # the same with nnlib.widgets.gd_path
"""),
    md(r"""
Round 3 and beyond are what the computer is for. With $\eta = 0.01$ each step shrinks the distance to the minimum
$(3, 0)$ by only the factor $1 - 2\eta = 0.98$:
"""),
    code("""
for steps in [1, 2, 10, 100, 1000]:
    v = gd_path(grad_z, v0, eta, steps)[-1]
    print(f"after {steps:4d} steps: (x, y) = ({v[0]:.4f}, {v[1]:.4f}),  z = {z(*v):.6f}")
"""),
    md(r"""
## 3. Why a small step always goes down: $\Delta C \approx -\eta\lVert\nabla C\rVert^2$

Call the cost $C$ and the variables $\mathbf v = (v_1, v_2, \dots)$. For a small change $\Delta \mathbf v$,

$$
\Delta C \approx \frac{\partial C}{\partial v_1}\Delta v_1 + \frac{\partial C}{\partial v_2}\Delta v_2 + \dots
= \nabla C \cdot \Delta \mathbf v .
$$

Choose $\Delta\mathbf v = -\eta \nabla C$. Then

$$
\Delta C \approx \nabla C \cdot (-\eta \nabla C) = -\eta \sum_i \left(\frac{\partial C}{\partial v_i}\right)^2 = -\eta \lVert\nabla C\rVert^2 \le 0 .
$$

So $C$ never increases, as long as the linear approximation holds, that is, as long as $\eta$ is small enough.
Among all steps of a fixed length, $-\nabla C$ is the one that lowers the linear approximation most
(Cauchy–Schwarz: $\nabla C\cdot\Delta\mathbf v \ge -\lVert\nabla C\rVert\,\lVert\Delta\mathbf v\rVert$, with equality
for $\Delta\mathbf v$ along $-\nabla C$). At the lecture's first step:
"""),
    code("""
predicted = -eta * np.sum(g0**2)          # -eta |grad z|^2
actual = z(*v1) - z(*v0)
print(f"predicted dz = {predicted:.4f},  actual dz = {actual:.4f}")
for big in [0.1, 0.5, 1.0, 1.2]:
    v = v0 - big * g0
    print(f"eta = {big:3}: predicted {-big * np.sum(g0**2):8.2f}, actual {z(*v) - z(*v0):8.2f}")
"""),
    md(r"""
For $\eta = 0.01$ the prediction is within 1%; for large $\eta$ the straight-line approximation fails and, for
$\eta > 1$, the "descent" step goes **up**.

## 4. Too small, too large, diverging

For this $z$ every step multiplies the distance to $(3, 0)$ by $1 - 2\eta$. So $\eta = 0.01$ crawls,
$\eta = 0.3$ is fast, $\eta = 0.9$ overshoots and zig-zags ($1 - 2\eta = -0.8$), and $\eta > 1$ diverges.
"""),
    code("""
gx, gy = np.meshgrid(np.linspace(-1, 7, 200), np.linspace(-4, 4, 200))
fig, axes = plt.subplots(1, 4, figsize=(15, 3.8))
for ax, (lr, label) in zip(axes, [(0.01, "too small"), (0.3, "good"), (0.9, "too large: zig-zag"),
                                  (1.05, "diverges")]):
    p = gd_path(grad_z, v0, lr, 20)
    ax.contour(gx, gy, z(gx, gy), levels=15, cmap="viridis", linewidths=0.8)
    ax.plot(p[:, 0], p[:, 1], "o-", color="tab:red", ms=3)
    ax.plot(3, 0, "k*", ms=12)
    ax.set(xlim=(-1, 7), ylim=(-4, 4), aspect="equal", title=f"η = {lr}: {label}")
plt.show()
"""),
    md(r"""
Explore it yourself. Move $\eta$ and the number of steps; the right panel shows $z - \min z$ on a log scale, where
a steady shrinking factor is a straight line. (Without a widget front end you see the starting settings,
$\eta = 0.01$ for 50 steps.)
"""),
    code("""
gradient_descent_explorer()
"""),
    md(r"""
**Try it.** The explorer takes any function: `gradient_descent_explorer(f=lambda x, y: x**2 + 10 * y**2,
grad=lambda v: np.array([2 * v[0], 20 * v[1]]), start=(6, 1), eta=0.05)`. Now the valley is narrow: which
$\eta$ diverges first, and why does the path zig-zag across the valley while crawling along it?

## 5. Diminishing step sizes

A constant step may never settle, particularly when the gradient is **noisy**, as it is in stochastic gradient
descent, where each step sees only a few training examples. A common remedy is to shrink the step over time,

$$
\eta_t = \frac{\eta_0}{1 + k t},
$$

so that $\sum_t \eta_t = \infty$ (the walk can still go anywhere) but the steps become small. `nnlib.optim`
provides it as `InverseTimeDecay`, a function $t \mapsto \eta_t$ that `gd_path` accepts in place of a number.
Below, each gradient has random noise added:
"""),
    code("""
rng = np.random.default_rng(1)
def noisy_grad(v):
    return grad_z(v) + rng.normal(scale=2.0, size=2)     # the true gradient plus noise

steps = 1000
schedule = optim.InverseTimeDecay(0.3, k=0.1)
constant = gd_path(noisy_grad, v0, 0.3, steps)
diminish = gd_path(noisy_grad, v0, schedule, steps)
dist = lambda p: np.linalg.norm(p - [3, 0], axis=1)
smooth = lambda r: np.convolve(r, np.ones(20) / 20, mode="valid")   # running mean over 20 steps
print("eta_t for t = 0, 10, 100, 1000:", [round(schedule(t), 4) for t in (0, 10, 100, 1000)])
print(f"mean distance to the minimum over the last 100 steps: constant {dist(constant)[-100:].mean():.3f}, "
      f"diminishing {dist(diminish)[-100:].mean():.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(smooth(dist(constant)), label="constant η = 0.3")
ax.semilogy(smooth(dist(diminish)), label="$η_t = 0.3 / (1 + 0.1 t)$")
ax.set(xlabel="step t", ylabel="distance to (3, 0), running mean")
ax.legend()
plt.show()
"""),
    md(r"""
## 6. Newton's method: one step for a quadratic

Gradient descent only uses the slope. **Newton's method** also uses the curvature, the matrix of second
derivatives (the Hessian $H$). It minimises the quadratic approximation
$C(\mathbf v) \approx C(\mathbf v_k) + \nabla C^\top(\mathbf v - \mathbf v_k) + \tfrac12(\mathbf v - \mathbf v_k)^\top H (\mathbf v - \mathbf v_k)$;
setting its gradient to zero gives

$$
\mathbf v_{k+1} = \mathbf v_k - H^{-1}\nabla C(\mathbf v_k).
$$

When $C$ *is* quadratic the approximation is exact, so one step lands on the minimum. For $z$,
$H = \begin{pmatrix} 2 & 0 \\ 0 & 2 \end{pmatrix}$, and the Newton step equals a gradient step with $\eta = \tfrac12$.
On a narrow valley, $C = x^2 + 10y^2$, gradient descent zig-zags while Newton still takes one step:
"""),
    code("""
H = np.array([[2.0, 0.0], [0.0, 2.0]])
v_newton = v0 - np.linalg.solve(H, grad_z(v0))
print("Newton step on z from (6, -2):", v_newton)

def c(x, y):
    return x**2 + 10 * y**2

def grad_c(v):
    return np.array([2 * v[0], 20 * v[1]])

H_c = np.array([[2.0, 0.0], [0.0, 20.0]])
start = np.array([6.0, 1.0])
gd = gd_path(grad_c, start, 0.09, 30)
newton = np.array([start, start - np.linalg.solve(H_c, grad_c(start))])
gx, gy = np.meshgrid(np.linspace(-7, 7, 200), np.linspace(-2, 2, 200))
fig, ax = plt.subplots(figsize=(9, 3))
ax.contour(gx, gy, c(gx, gy), levels=20, cmap="viridis", linewidths=0.8)
ax.plot(gd[:, 0], gd[:, 1], "o-", color="tab:red", ms=3, label="gradient descent, η = 0.09, 30 steps")
ax.plot(newton[:, 0], newton[:, 1], "s-", color="k", label="Newton: 1 step")
ax.set(aspect="equal", title="C = x² + 10y²")
ax.legend(loc="lower left", fontsize=8)
plt.show()
"""),
    md(r"""
Why not always Newton? A network with $W$ weights has a $W \times W$ Hessian: for a million weights, $10^{12}$
entries to compute, store and invert at every step. Networks use first-order methods (gradient descent and its
variants: momentum, Adagrad, Adam) instead.

## 7. Convex and non-convex functions

A function is **convex** when the chord between any two points of its graph lies above the graph:

$$
f(\theta a + (1 - \theta) b) \le \theta f(a) + (1 - \theta) f(b) \quad \text{for all } a, b \text{ and } \theta \in [0, 1].
$$

A convex function has no local minimum except the global one, so gradient descent with a small enough
step finds it from any start. Our $z$ is convex. The cost of a neural network is **not**: it has many minima
and saddle points. A one-dimensional example with two minima, $g(x) = x^4 - 3x^2 + x$:
"""),
    code("""
def g(x):
    return x**4 - 3 * x**2 + x

def g_prime(x):
    return 4 * x**3 - 6 * x + 1

xs = np.linspace(-2.1, 2.1, 400)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(xs, g(xs), "k")
for x0 in [-2.0, -0.5, 0.3, 2.0]:
    p = gd_path(g_prime, x0, 0.02, 100)[:, 0]
    ax.plot(p, g(p), "o-", ms=3, label=f"start {x0:+.1f} -> x = {p[-1]:+.3f}, g = {g(p[-1]):.3f}")
ax.plot([-1.301, 1.131], [g(-1.301), g(1.131)], ":", color="gray", lw=2, label="a chord below the graph: not convex")
ax.set(xlabel="x", ylabel="g(x)", ylim=(-4, 4))
ax.legend(fontsize=8)
plt.show()
"""),
    md(r"""
Starts left of the hump at $x \approx 0.17$ roll into the **global** minimum near $x = -1.30$; starts to the right end
in the **local** minimum near $x = 1.13$, where the gradient is zero too, so gradient descent stops there.
For networks this is less bad than it sounds: in very many dimensions most critical points are saddles,
and many minima are nearly as good as each other. Random initialisation and noisy (stochastic) gradients help.

**Try it.** Which starting points reach the global minimum with $\eta = 0.02$? With $\eta = 0.2$, does a start
at $x = 2$ still end in the local minimum?

## Summary

* The derivative is the limit of $\Delta f / \Delta x$. The lecture's forward difference gives 6.01 where $f'(6) = 6$;
  central differences are far more accurate.
* Gradient descent: $\mathbf v \leftarrow \mathbf v - \eta\nabla C$. From $(6, -2)$ with $\eta = 0.01$: $\nabla z = (6, -4)$,
  next point $(5.94, -1.96)$, and on to the minimum $(3, 0)$.
* $\Delta C \approx -\eta\lVert\nabla C\rVert^2 \le 0$ for small $\eta$. Too small crawls, too large zig-zags or diverges.
* Diminishing steps $\eta_t = \eta_0/(1 + kt)$ settle where a constant step keeps jiggling.
  Newton's method $\mathbf v - H^{-1}\nabla C$ solves a quadratic in one step but is too costly for networks.
* Convex functions have one minimum. Non-convex ones, like network costs, have several, and where you end up depends on where you start.
"""),
]

# =====================================================================================================
# 04 chain rule
# =====================================================================================================

NB04 = [
    md(r"""
# Lecture 4 · The chain rule and activation derivatives

Gradient descent needs $\partial C / \partial w$ for every weight. A network is a long composition of
functions, so these derivatives come from the **chain rule**, applied systematically (that is
backpropagation, in the next lecture). This notebook collects the rules, derives $\sigma' = \sigma(1 - \sigma)$,
works through the recitation's $F(x) = (x^2 + 1)^{1/2}$, traces a small computational graph forwards and backwards
by hand, and checks every activation derivative numerically.

**Learning goals.** After this notebook you can

1. apply the sum, product, quotient and chain rules (and spot a wrong product rule),
2. derive the derivative of the sigmoid step by step,
3. use the multivariable chain rule: sum over every path,
4. compute forward values and backward gradients on a computational graph, and
5. check any derivative against central differences with `nnlib.gradcheck`.
"""),
    code(SETUP + """
from nnlib import activations as A
from nnlib.gradcheck import numerical_gradient, rel_error
"""),
    md(r"""
## 1. Checking derivatives numerically

Throughout we compare a derivative we worked out with a **central difference**,
$f'(x) \approx \frac{f(x + h) - f(x - h)}{2h}$. `numerical_gradient(f, x)` computes $\partial f / \partial x_i$ for a scalar
function of an array (with a more accurate five-point stencil), and `rel_error(a, b)`
$= \max_i |a_i - b_i| / (|a_i| + |b_i|)$ says how well two answers agree: below $10^{-7}$ means correct.

For an *elementwise* function $f$, the sum $\sum_i f(x_i)$ has $\partial/\partial x_i = f'(x_i)$, so one call gives
$f'$ at many points at once:
"""),
    code("""
def derivative(f, xs):
    \"\"\"f'(x) at every entry of xs, by central differences (f elementwise).\"\"\"
    return numerical_gradient(lambda v: f(v).sum(), np.array(xs, dtype=np.float64))

xs = np.array([-1.0, 0.5, 2.0])
print("numerical d/dx x^3:", derivative(lambda v: v**3, xs), "  analytic 3x^2:", 3 * xs**2)
"""),
    md(r"""
## 2. The rules

$$
\begin{aligned}
\text{sum:}\quad & \frac{d(f + g)}{dx} = \frac{df}{dx} + \frac{dg}{dx} \\
\text{product:}\quad & \frac{d(fg)}{dx} = f\frac{dg}{dx} + g\frac{df}{dx} \\
\text{quotient:}\quad & \frac{d(f/g)}{dx} = \frac{g\,\frac{df}{dx} - f\,\frac{dg}{dx}}{g^2} \\
\text{chain:}\quad & h(x) = g(f(x)) \;\Rightarrow\; \frac{dh}{dx} = \frac{dg}{df}\,\frac{df}{dx}
\end{aligned}
$$

and the few derivatives we need: $\frac{d}{dx}x^n = nx^{n-1}$, $\frac{d}{dx}e^x = e^x$, $\frac{d}{dx}\ln x = \frac1x$.

*A slip in the slides:* the first lecture writes the product rule as $f\frac{dg}{dx} + g\frac{dg}{dx}$. The second
term must be $g\frac{df}{dx}$: each factor is differentiated once while the other is held fixed. A numerical check
settles it, for $f = x^2$, $g = e^x$ at $x = 1.3$:
"""),
    code("""
x = np.array([1.3])
f, df = x**2, 2 * x
g, dg = np.exp(x), np.exp(x)
numeric = derivative(lambda v: v**2 * np.exp(v), x)
print(f"numerical        {numeric[0]:.8f}")
print(f"f g' + g f'      {(f * dg + g * df)[0]:.8f}   rel error {rel_error(f * dg + g * df, numeric):.1e}")
print(f"f g' + g g' (?)  {(f * dg + g * dg)[0]:.8f}   rel error {rel_error(f * dg + g * dg, numeric):.1e}")
"""),
    md(r"""
The quotient rule and the chain rule at work on $e^{-x}$ (the lecture's example):
$\frac{d e^{-x}}{dx} = \frac{d e^{-x}}{d(-x)}\,\frac{d(-x)}{dx} = e^{-x}\cdot(-1)$.

## 3. The derivative of the sigmoid

The lecture leaves it as an exercise. Write $\sigma(x) = (1 + e^{-x})^{-1}$: an outer function $u^{-1}$ of the inner
$u = 1 + e^{-x}$. Then

$$
\begin{aligned}
\sigma'(x) &= \underbrace{-(1 + e^{-x})^{-2}}_{d(u^{-1})/du}\;\cdot\;\underbrace{(-e^{-x})}_{du/dx}
= \frac{e^{-x}}{(1 + e^{-x})^2} \\[4pt]
&= \frac{1}{1 + e^{-x}}\cdot\frac{e^{-x}}{1 + e^{-x}}
= \frac{1}{1 + e^{-x}}\cdot\frac{(1 + e^{-x}) - 1}{1 + e^{-x}} \\[4pt]
&= \sigma(x)\,\bigl(1 - \sigma(x)\bigr).
\end{aligned}
$$

The derivative is built from the value itself. Backpropagation reuses the $\sigma(z)$ it already computed on the
way forward. Its largest value is $\sigma'(0) = \tfrac14$.
"""),
    code("""
zs = np.linspace(-6, 6, 13)
step_by_step = np.exp(-zs) / (1 + np.exp(-zs)) ** 2
s = A.sigmoid(zs)
print("e^-x/(1+e^-x)^2 vs sigma(1-sigma): rel error", rel_error(step_by_step, s * (1 - s)))
print("nnlib sigmoid_prime vs numerical:   rel error", rel_error(A.sigmoid_prime(zs), derivative(A.sigmoid, zs)))
print("max sigma' =", A.sigmoid_prime(np.array([0.0]))[0])
"""),
    md(r"""
## 4. The recitation's example: $F(x) = (x^2 + 1)^{1/2}$

Outer $f(u) = u^{1/2}$ with $f'(u) = \tfrac12 u^{-1/2}$; inner $g(x) = x^2 + 1$ with $g'(x) = 2x$. The chain rule
$[f(g(x))]' = f'(g(x))\,g'(x)$ gives

$$
F'(x) = \tfrac12 (x^2 + 1)^{-1/2}\cdot 2x = \frac{x}{\sqrt{x^2 + 1}} .
$$
"""),
    code("""
def F(x):
    return (x**2 + 1) ** 0.5

def F_prime(x):
    return x / np.sqrt(x**2 + 1)

xs = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
print("analytic :", F_prime(xs))
print("numerical:", derivative(F, xs))
assert rel_error(F_prime(xs), derivative(F, xs)) < 1e-8
"""),
    md(r"""
## 5. The multivariable chain rule

When $p = f(x, y, z)$ and each of $x, y, z$ depends on $u$ (and on $v, w$), a change in $u$ reaches $p$ along
**every path**, and the contributions add:

$$
\frac{\partial p}{\partial u} = \frac{\partial p}{\partial x}\frac{\partial x}{\partial u}
+ \frac{\partial p}{\partial y}\frac{\partial y}{\partial u} + \frac{\partial p}{\partial z}\frac{\partial z}{\partial u}.
$$

Example: $p = xy + z$ with $x = u + v$, $y = uv$, $z = u^2$. Then $\partial p/\partial x = y$, $\partial p/\partial y = x$,
$\partial p/\partial z = 1$, and

$$
\frac{\partial p}{\partial u} = y\cdot 1 + x\cdot v + 1\cdot 2u, \qquad
\frac{\partial p}{\partial v} = y\cdot 1 + x\cdot u + 1\cdot 0 .
$$
"""),
    code("""
def p_of(uv):
    u, v = uv
    x, y, z = u + v, u * v, u**2
    return x * y + z

u, v = 1.5, -0.5
x, y, z = u + v, u * v, u**2
chain = np.array([y * 1 + x * v + 1 * 2 * u,      # dp/du: three paths
                  y * 1 + x * u + 1 * 0])         # dp/dv: z does not depend on v
numeric = numerical_gradient(p_of, np.array([u, v]))
print("chain rule:", chain, "  numerical:", numeric, "  rel error", rel_error(chain, numeric))
"""),
    md(r"""
## 6. A computational graph, forwards and backwards

Break a computation into elementary steps, each a node of a graph. Take one sigmoid neuron with two inputs and
the quadratic cost of one example:

$$
z = w_1 x_1 + w_2 x_2 + b, \qquad a = \sigma(z), \qquad C = \tfrac12 (a - y)^2 .
$$

**Forward pass:** compute every node's value from the inputs towards $C$.
**Backward pass:** compute $\partial C/\partial(\text{node})$ from $C$ back towards the inputs. Each node multiplies the
gradient arriving from above by its own *local* derivative (the chain rule), and a node feeding several others adds
their contributions (the multivariable chain rule). The numbers, cell by cell:
"""),
    code("""
x1, x2, y = 1.0, 0.5, 1.0            # one training example
w1, w2, b = 0.6, -0.4, 0.1           # the parameters

# forward
m1 = w1 * x1
m2 = w2 * x2
z = m1 + m2 + b
a = A.sigmoid(np.array(z)).item()
C = 0.5 * (a - y) ** 2
print(f"forward:  m1 = {m1:.4f}, m2 = {m2:.4f}, z = {z:.4f}, a = {a:.4f}, C = {C:.5f}")
"""),
    code("""
# backward: dC/d(node) = dC/d(parent) * d(parent)/d(node)
dC_dC = 1.0
dC_da = dC_dC * (a - y)              # C = (a - y)^2 / 2
dC_dz = dC_da * a * (1 - a)          # a = sigma(z): sigma' = sigma(1 - sigma)
dC_dm1 = dC_dz * 1.0                 # z = m1 + m2 + b: a sum passes the gradient on unchanged
dC_dm2 = dC_dz * 1.0
dC_db = dC_dz * 1.0
dC_dw1 = dC_dm1 * x1                 # m1 = w1 x1: the other factor
dC_dw2 = dC_dm2 * x2
print(f"backward: dC/da = {dC_da:.4f}, dC/dz = {dC_dz:.4f}")
print(f"          dC/dw1 = {dC_dw1:.5f}, dC/dw2 = {dC_dw2:.5f}, dC/db = {dC_db:.5f}")
"""),
    md(r"""
Check the three parameter gradients against central differences of the whole computation:
"""),
    code("""
def cost(params):
    w1, w2, b = params
    a = A.sigmoid(w1 * x1 + w2 * x2 + b)
    return 0.5 * (a - y) ** 2

by_hand = np.array([dC_dw1, dC_dw2, dC_db])
numeric = numerical_gradient(cost, np.array([w1, w2, b]))
print("by hand:", by_hand, "\\nnumeric:", numeric, "\\nrel error:", rel_error(by_hand, numeric))
assert rel_error(by_hand, numeric) < 1e-7
"""),
    md(r"""
The graph with both passes written on it: forward values in black, gradients $\partial C/\partial(\cdot)$ in red.
"""),
    code("""
nodes = {  # name: (position, forward value, gradient)
    "w1": ((0, 3), w1, dC_dw1), "x1": ((0, 2), x1, None), "w2": ((0, 1), w2, dC_dw2), "x2": ((0, 0), x2, None),
    "b": ((1.5, -0.6), b, dC_db), "m1 = w1·x1": ((1.5, 2.5), m1, dC_dm1), "m2 = w2·x2": ((1.5, 0.5), m2, dC_dm2),
    "z = m1+m2+b": ((3, 1.5), z, dC_dz), "a = σ(z)": ((4.5, 1.5), a, dC_da), "C = ½(a−y)²": ((6, 1.5), C, 1.0),
}
edges = [("w1", "m1 = w1·x1"), ("x1", "m1 = w1·x1"), ("w2", "m2 = w2·x2"), ("x2", "m2 = w2·x2"),
         ("m1 = w1·x1", "z = m1+m2+b"), ("m2 = w2·x2", "z = m1+m2+b"), ("b", "z = m1+m2+b"),
         ("z = m1+m2+b", "a = σ(z)"), ("a = σ(z)", "C = ½(a−y)²")]
fig, ax = plt.subplots(figsize=(11, 4.2))
for s, t in edges:
    ax.annotate("", xy=nodes[t][0], xytext=nodes[s][0],
                arrowprops=dict(arrowstyle="->", color="gray", shrinkA=28, shrinkB=28))
for name, ((px, py), val, grad) in nodes.items():
    ax.text(px, py, f"{name}\\n{val:.4f}", ha="center", va="center", fontsize=9,
            bbox=dict(boxstyle="round", fc="lightyellow", ec="k"))
    if grad is not None:
        ax.text(px, py - 0.42, f"{grad:+.4f}", ha="center", va="top", fontsize=9, color="tab:red")
ax.set(xlim=(-0.7, 6.8), ylim=(-1.4, 3.5))
ax.axis("off")
plt.show()
"""),
    md(r"""
Notice $\partial C/\partial z = (a - y)\,\sigma'(z)$: Nielsen calls it the **error** $\delta$ of the neuron, and every
weight gradient is $\delta$ times the input on that weight ($\partial C/\partial w_j = \delta\,x_j$). The next lecture
does this for whole layers at once.

**Try it.** Feed $x_1$ into the neuron twice, $z = w_1 x_1 + w_2 x_1 + b$: what is $\partial C/\partial x_1$? (Two paths, so two terms to add.)
Check your answer with `numerical_gradient`.

## 7. The activation functions and their derivatives

| activation | $\sigma(z)$ | $\sigma'(z)$ |
|---|---|---|
| sigmoid | $1/(1 + e^{-z})$ | $\sigma(z)(1 - \sigma(z))$ |
| tanh | $(e^z - e^{-z})/(e^z + e^{-z})$ | $1 - \tanh^2 z$ |
| ReLU | $\max(0, z)$ | $1$ if $z > 0$, else $0$ |
| softplus | $\ln(1 + e^z)$ | $1/(1 + e^{-z}) = \sigma(z)$ |
| $F$ (recitation) | $(z^2 + 1)^{1/2}$ | $z/\sqrt{z^2 + 1}$ |

(tanh: quotient rule, $\frac{(e^z + e^{-z})^2 - (e^z - e^{-z})^2}{(e^z + e^{-z})^2} = 1 - \tanh^2 z$. Softplus: chain rule,
$\frac{e^z}{1 + e^z} = \sigma(z)$.) Each derivative from `nnlib.activations` is checked against central differences
and plotted beside its function. ReLU has a kink at $0$, where no derivative exists (we take $0$), so its check
avoids $z = 0$.
"""),
    code("""
zs = np.linspace(-4, 4, 400) + 0.005        # a grid that does not contain the kink z = 0
cases = [("sigmoid", A.sigmoid, A.sigmoid_prime), ("tanh", A.tanh, A.tanh_prime),
         ("relu", A.relu, A.relu_prime), ("softplus", A.softplus, A.softplus_prime),
         ("F = (z²+1)^½", F, F_prime)]
fig, axes = plt.subplots(1, len(cases), figsize=(16, 3.2))
for ax, (name, fn, prime) in zip(axes, cases):
    err = rel_error(prime(zs), derivative(fn, zs))
    print(f"{name:13s} rel error {err:.1e}")
    assert err < 1e-7, name
    ax.plot(zs, fn(zs), "k", label="σ(z)")
    ax.plot(zs, prime(zs), "tab:red", label="σ'(z)")
    ax.plot(zs[::25], derivative(fn, zs[::25]), "o", ms=4, mfc="none", color="tab:blue", label="numerical")
    ax.set(title=name, xlabel="z", ylim=(-1.2, 4.2))
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
plt.show()
"""),
    md(r"""
Two observations that matter later. The sigmoid's slope is at most $\tfrac14$, and nearly $0$ once $|z|$ is large
(the unit **saturates**). A product of many such factors, one per layer, becomes tiny: the *vanishing gradient*.
ReLU's slope is exactly $1$ wherever the unit is active, one reason deep networks prefer it.

**Try it.** Write a derivative of your own, for example of $\ln(1 + z^2)$ or of `A.sigmoid(3 * z)`, and check it
with `derivative` and `rel_error`. What relative error do you get if you make a deliberate mistake?

## Summary

* Product rule: $f\,g' + g\,f'$ (the slide's $g\,g'$ is a slip). Chain rule: $(g\circ f)' = g'(f)\,f'$.
* $\sigma' = \sigma(1 - \sigma)$, at most $\tfrac14$; $F(x) = (x^2 + 1)^{1/2}$ has $F' = x/\sqrt{x^2 + 1}$.
* Multivariable chain rule: add the contributions of all paths.
* On a computational graph the forward pass computes values, the backward pass multiplies local derivatives from
  the output back. $\partial C/\partial z = \delta$, and $\partial C/\partial w = \delta \times$ input.
* Check every derivative numerically with `numerical_gradient` and `rel_error` (correct: $< 10^{-7}$).
"""),
]

NOTEBOOKS = {
    "01_perceptron.ipynb": NB01,
    "02_xor_multilayer.ipynb": NB02,
    "03_gradient_descent.ipynb": NB03,
    "04_chain_rule.ipynb": NB04,
}


def build(names: list[str] | None = None) -> None:
    for name, cells in NOTEBOOKS.items():
        if names and not any(n in name for n in names):
            continue
        nb = new_notebook(cells=cells)
        for i, cell in enumerate(nb.cells):  # stable ids: rebuilding gives the same file
            cell.id = f"{name[:2]}-{i:02d}"
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.validate(nb)
        nbformat.write(nb, COURSE / name)
        print("wrote", COURSE / name)


if __name__ == "__main__":
    build(sys.argv[1:])
