# ruff: noqa: E501  (long lines are notebook cell text)
"""Build course notebooks 05–09 (no outputs) from the cell lists below.

    .venv/bin/python course/build/nb05_09.py            # writes course/05_…ipynb … 09_…ipynb

Each notebook is a list of ("md", text) / ("code", source) cells; edit here, not in the .ipynb.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

COURSE = Path(__file__).resolve().parents[1]


def md(text: str) -> tuple[str, str]:
    return ("md", textwrap.dedent(text).strip("\n"))


def code(text: str) -> tuple[str, str]:
    return ("code", textwrap.dedent(text).strip("\n"))


def write(name: str, cells: list[tuple[str, str]]) -> Path:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:03d}"
    path = COURSE / name
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


SETUP = code('''
    import os
    import time

    import matplotlib.pyplot as plt
    import numpy as np

    import nnlib
    from nnlib import datasets, gradcheck, losses, optim
    from nnlib import activations as A

    QUICK = os.environ.get("NNLIB_QUICK") == "1"   # CI / test-suite: shorter runs
    nnlib.seed(0)
    np.set_printoptions(precision=4, suppress=True)
''')

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

# ======================================================================================= 05
NOTEBOOKS["05_backpropagation.ipynb"] = [
    md(r'''
    # Lecture 5 — Backpropagation

    Gradient descent needs the gradient $\nabla C$ of the cost with respect to **every** weight
    $w^l_{jk}$ and bias $b^l_j$ of the network. Backpropagation (Rumelhart, Hinton & Williams, 1986)
    computes all of them with one forward and one backward pass — it is nothing but the chain rule,
    applied layer by layer, from the output back to the input.

    In this notebook

    1. the costs: quadratic (two conventions) and cross-entropy;
    2. the four equations BP1–BP4, in Nielsen's notation and side by side with the slides' notations;
    3. a worked example on a 2–2–1 network, every number computed in a cell;
    4. the matrix form over a minibatch — what `nnlib.Network.backprop` does;
    5. why not finite differences: $O(W^2)$ against $O(W)$, measured;
    6. gradient checking, and what typical backprop bugs look like.

    **Notation** (Nielsen, and deck 004). Layer $l$ has weighted inputs $z^l$ and activations $a^l$:
    $$z^l = w^l a^{l-1} + b^l, \qquad a^l = \sigma(z^l),$$
    where $w^l_{jk}$ is the weight **from** neuron $k$ in layer $l-1$ **to** neuron $j$ in layer $l$
    (so $w^l$ has shape $n_l \times n_{l-1}$), $a^1 = x$ is the input and $L$ is the output layer.
    '''),
    SETUP,
    md(r'''
    ## 1. Costs

    For one training example $x$ with target $y$ and output $a^L = a^L(x)$:

    | cost | $C_x$ | $\partial C_x / \partial a^L_j$ | where |
    |---|---|---|---|
    | quadratic (Nielsen) | $\tfrac12 \lVert a^L - y\rVert^2$ | $a^L_j - y_j$ | Nielsen ch. 1–2, deck 004 |
    | quadratic (MSE) | $\tfrac{1}{n_L}\sum_j (y_j - a^L_j)^2$ | $\tfrac{2}{n_L}(a^L_j - y_j)$ | deck 000 |
    | cross-entropy | $-\sum_j \big[y_j \ln a^L_j + (1-y_j)\ln(1-a^L_j)\big]$ | $\dfrac{a^L_j - y_j}{a^L_j(1-a^L_j)}$ | Nielsen ch. 3 |

    The cost of the whole training set is the average $C = \frac1n \sum_x C_x$.
    The two quadratic conventions differ only by the constant $2/n_L$: the same minimum, and a learning
    rate $\eta$ for one is $\eta\,n_L/2$ for the other. `nnlib.losses` has all three; each `fn` is the
    **sum** over the examples it is given, `grad` is $\partial C/\partial a$.
    '''),
    code(r'''
    a = np.array([0.8, 0.2, 0.6])     # an output a^L (n_L = 3 neurons)
    y = np.array([1.0, 0.0, 0.0])     # the target

    quad, mse, xent = losses.QuadraticCost(), losses.MSECost(), losses.CrossEntropyCost()
    print("quadratic ½‖a−y‖²      :", quad.fn(a, y), "  grad", quad.grad(a, y))
    print("MSE (1/n_L)Σ(y−a)²     :", mse.fn(a, y), "  grad", mse.grad(a, y))
    print("ratio of the gradients :", mse.grad(a, y) / quad.grad(a, y), "= 2/n_L =", 2 / 3)
    print("cross-entropy          :", xent.fn(a, y), "  grad", xent.grad(a, y))
    '''),
    md(r'''
    Seen from the weighted input $z$ of a sigmoid output neuron, the two costs behave very differently.
    Take target $y = 0$: the quadratic cost's slope $\partial C/\partial z = (a-y)\,\sigma'(z)$ **vanishes**
    when the neuron is badly wrong ($z \gg 0$, $a \approx 1$), because $\sigma'(z)\approx 0$ there.
    The cross-entropy's slope is $a - y$: the more wrong, the faster it learns. Lecture 6 trains such a
    neuron and watches this *learning slowdown* happen.
    '''),
    code(r'''
    z = np.linspace(-6, 6, 241)
    a_out = A.sigmoid(z)
    y0 = np.zeros_like(z)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    axes[0].plot(z, 0.5 * (a_out - y0) ** 2, label=r"quadratic $\frac{1}{2}(a-y)^2$")
    axes[0].plot(z, -np.log(1 - a_out), label=r"cross-entropy $-\ln(1-a)$")
    axes[0].set(xlabel="$z$", ylabel="$C$", title="cost of one sigmoid neuron, target $y=0$", ylim=(0, 4))
    axes[1].plot(z, (a_out - y0) * A.sigmoid_prime(z), label=r"quadratic: $(a-y)\,\sigma'(z)$")
    axes[1].plot(z, a_out - y0, label=r"cross-entropy: $a-y$")
    axes[1].set(xlabel="$z$", ylabel=r"$\partial C/\partial z = \delta$", title="its slope (the error δ)")
    for ax in axes:
        ax.legend(); ax.grid(alpha=0.3)
    plt.tight_layout(); plt.show()
    '''),
    md(r'''
    ## 2. The four equations of backpropagation

    Define the **error** of neuron $j$ in layer $l$ as $\delta^l_j = \partial C/\partial z^l_j$
    (one example; drop the subscript $x$). Then, with $\odot$ the elementwise (Hadamard) product —
    deck 004's example: $(-2, 20, 3) \odot (3, 2, 1) = (-6, 40, 3)$ —

    $$
    \begin{aligned}
    &\textbf{BP1}\quad \delta^L = \nabla_a C \odot \sigma'(z^L) &&\text{error at the output}\\
    &\textbf{BP2}\quad \delta^l = \big((w^{l+1})^T \delta^{l+1}\big) \odot \sigma'(z^l) &&\text{error moved one layer back}\\
    &\textbf{BP3}\quad \frac{\partial C}{\partial b^l_j} = \delta^l_j &&\text{bias gradient}\\
    &\textbf{BP4}\quad \frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k\, \delta^l_j
      \quad\big(\nabla_{w^l} C = \delta^l (a^{l-1})^T\big) &&\text{weight gradient}
    \end{aligned}
    $$

    *Where they come from.* BP1: $a^L_j = \sigma(z^L_j)$ and the chain rule,
    $\delta^L_j = \frac{\partial C}{\partial a^L_j}\sigma'(z^L_j)$.
    BP2: $z^{l+1}_k = \sum_j w^{l+1}_{kj}\sigma(z^l_j) + b^{l+1}_k$ depends on $z^l_j$ through every
    neuron $k$ of the next layer, so
    $\delta^l_j = \sum_k \frac{\partial C}{\partial z^{l+1}_k}\frac{\partial z^{l+1}_k}{\partial z^l_j}
    = \sum_k w^{l+1}_{kj}\,\delta^{l+1}_k\,\sigma'(z^l_j)$.
    BP3 and BP4: $\partial z^l_j/\partial b^l_j = 1$ and $\partial z^l_j/\partial w^l_{jk} = a^{l-1}_k$
    (the bias is a weight on an input that is always 1).

    **The same equations in the other slides' notation.** The decks index weights differently; the
    mathematics is identical.

    | | Nielsen / deck 004 | deck 000 (Baker) | deck 004, `BACK-PROP-LEARNING` (Russell–Norvig) | deck 003 (Bishop) |
    |---|---|---|---|---|
    | weight | $w^l_{jk}$: $k$ in $l-1$ → $j$ in $l$ | $w_{l,i,j}$: $i$ in $l-1$ → $j$ in $l$ | $w_{i,j}$: $i$ → $j$ | $w^{(m)}_{ji}$: $i$ → $j$ |
    | weighted input | $z^l_j$ | $z_{l,j}$ | $in_j$ | $a_j$ (!) |
    | activation | $a^l_j = \sigma(z^l_j)$ | $a_{l,j} = f(z_{l,j})$ | $a_j = g(in_j)$ | $z_j = h(a_j)$ |
    | error | $\delta^l_j = \partial C/\partial z^l_j$ | $\delta_{l,j} = \partial C/\partial z_{l,j}$ | $\Delta[j] = -\partial C/\partial in_j$ | $\delta_j = \partial E/\partial a_j$ |
    | output error | $(a^L_j - y_j)\,\sigma'(z^L_j)$ | $-2(y_j - a_{L,j})\,\sigma'(z_{L,j})/n_L$ (MSE) | $g'(in_j)\,(y_j - a_j)$ | $y_k - t_k$ (linear output) |
    | back one layer | $\sigma'(z^l_j)\sum_k w^{l+1}_{kj}\delta^{l+1}_k$ | $a_{l-1,i}(1-a_{l-1,i})\sum_j w_{l,i,j}\,\delta_{l,j}$ | $g'(in_i)\sum_j w_{i,j}\,\Delta[j]$ | $h'(a_j)\sum_k w_{kj}\delta_k$ |
    | update | $w \leftarrow w - \eta\, a^{l-1}_k\delta^l_j$ | $w \leftarrow w - \eta\, a_{l-1,i}\,\delta_{l,j}$ | $w_{i,j} \leftarrow w_{i,j} + \alpha\, a_i\,\Delta[j]$ | $w \leftarrow w - \eta\,\delta_j z_i$ |

    Two things to watch: deck 000 and the Russell–Norvig pseudocode put the *source* neuron first
    ($w_{i,j}$ = Nielsen's $w_{ji}$), and the pseudocode's $\Delta[j]$ is built from $(y_j - a_j)$, so
    $\Delta = -\delta$ and its update has a **plus** sign. Deck 003 (Bishop) calls the weighted input
    $a_j$ and the activation $z_j$ — the opposite of Nielsen's letters.
    '''),
    md(r'''
    ## 3. A worked example: a 2–2–1 network

    Input $x = (0.05, 0.10)$, target $y = 0.01$, sigmoid neurons, quadratic cost $C = \frac12 (a^3 - y)^2$.
    The weights are chosen by hand so that every number can be followed.
    '''),
    code(r'''
    sigma, sigma_prime = A.sigmoid, A.sigmoid_prime

    x = np.array([[0.05], [0.10]])                     # a^1: a column
    y = np.array([[0.01]])
    w2 = np.array([[0.15, 0.20], [0.25, 0.30]]); b2 = np.array([[0.35], [0.35]])
    w3 = np.array([[0.40, 0.45]]);               b3 = np.array([[0.60]])

    # forward pass: z^l = w^l a^{l-1} + b^l,  a^l = σ(z^l)
    z2 = w2 @ x + b2;  a2 = sigma(z2)
    z3 = w3 @ a2 + b3; a3 = sigma(z3)
    C = 0.5 * ((a3 - y) ** 2).sum()
    print("z2 =", z2.ravel(), " a2 =", a2.ravel())
    print("z3 =", z3.ravel(), " a3 =", a3.ravel(), "  C =", C)
    '''),
    code(r'''
    # backward pass: the four equations
    delta3 = (a3 - y) * sigma_prime(z3)          # BP1
    delta2 = (w3.T @ delta3) * sigma_prime(z2)   # BP2
    dC_db3, dC_dw3 = delta3, delta3 @ a2.T       # BP3, BP4
    dC_db2, dC_dw2 = delta2, delta2 @ x.T

    print("δ3 =", delta3.ravel(), "   δ2 =", delta2.ravel())
    print("∂C/∂w3 =", dC_dw3, "\n∂C/∂w2 =\n", dC_dw2)
    '''),
    md(r'''
    For instance $\partial C/\partial w^3_{11} = a^2_1\,\delta^3_1$ and
    $\partial C/\partial w^2_{12} = a^1_2\,\delta^2_1 = x_2\,\delta^2_1$. The same network in `nnlib`
    gives the same numbers, and the Russell–Norvig pseudocode's $\Delta$ is exactly $-\delta$:
    '''),
    code(r'''
    net = nnlib.Network([2, 2, 1])
    net.weights = [w2.copy(), w3.copy()]
    net.biases = [b2.copy(), b3.copy()]
    nabla_b, nabla_w = net.backprop(x, y)
    print("nnlib ∂C/∂w2 =\n", nabla_w[0], "\nsame as ours:", np.allclose(nabla_w[0], dC_dw2), np.allclose(nabla_w[1], dC_dw3))

    Delta3 = sigma_prime(z3) * (y - a3)          # BACK-PROP-LEARNING, output layer
    Delta2 = sigma_prime(z2) * (w3.T @ Delta3)   # hidden layer
    print("Δ = −δ:", np.allclose(Delta3, -delta3), np.allclose(Delta2, -delta2))

    eta = 0.5   # one step, both ways: w − η a δ  ==  w + α a Δ
    print("same update:", np.allclose(w3 - eta * delta3 @ a2.T, w3 + eta * Delta3 @ a2.T))
    '''),
    md(r'''
    With deck 000's MSE cost, $C = \frac{1}{n_L}\sum_j (y_j - a_j)^2$, the output error is
    $\delta_{L,j} = -2(y_j - a_{L,j})\,\sigma'(z_{L,j})/n_L$: here $n_L = 1$, so every gradient is twice
    Nielsen's. Only the effective learning rate changes.
    '''),
    code(r'''
    net_mse = nnlib.Network([2, 2, 1], cost="mse")
    net_mse.weights, net_mse.biases = [w2.copy(), w3.copy()], [b2.copy(), b3.copy()]
    nb_mse, nw_mse = net_mse.backprop(x, y)
    print("MSE gradient / quadratic gradient:", (nw_mse[0] / nabla_w[0]).ravel())
    '''),
    md(r'''
    ## 4. The matrix form over a minibatch

    Nielsen's `update_mini_batch` loops over the $m$ examples of a minibatch, running backprop once
    for each. Put the examples side by side as the **columns** of a matrix instead,
    $X = [x_1 \cdots x_m]$ of shape $n_1 \times m$. Every equation becomes one matrix product for the
    whole batch:

    $$
    Z^l = w^l A^{l-1} + b^l \mathbf{1}^T, \quad
    \Delta^L = \nabla_A C \odot \sigma'(Z^L), \quad
    \Delta^l = \big((w^{l+1})^T\Delta^{l+1}\big)\odot\sigma'(Z^l),
    $$
    $$
    \sum_x \nabla_{b^l} C_x = \Delta^l\,\mathbf 1, \qquad
    \sum_x \nabla_{w^l} C_x = \Delta^l\,(A^{l-1})^T .
    $$

    The sum over examples in deck 004's update
    $w^l \leftarrow w^l - \frac{\eta}{m}\sum_x \delta^{x,l}(a^{x,l-1})^T$ is hidden inside the product
    $\Delta^l (A^{l-1})^T$. `Network.backprop(X, Y)` returns these sums; `update_mini_batch` divides
    by $m$. One matrix product is much faster than $m$ small ones — the reason GPUs help (lecture 8).
    '''),
    code(r'''
    rng = np.random.default_rng(1)
    m = 5
    X = rng.random((2, m))                 # 5 examples as columns
    Y = rng.random((1, m))

    # Nielsen's loop: one backprop per column, then sum
    loop_w = [np.zeros_like(w) for w in net.weights]
    for i in range(m):
        nb_i, nw_i = net.backprop(X[:, [i]], Y[:, [i]])
        loop_w = [s + g for s, g in zip(loop_w, nw_i)]

    # one call with the whole batch
    batch_b, batch_w = net.backprop(X, Y)
    print("loop sum == matrix form:", all(np.allclose(a, b) for a, b in zip(loop_w, batch_w)))
    '''),
    md(r'''
    ## 5. Why backpropagation: $O(W)$ instead of $O(W^2)$

    The obvious alternative (deck 003) is to *measure* each derivative with a finite difference,
    $$\frac{\partial C}{\partial w} \approx \frac{C(w + \epsilon) - C(w - \epsilon)}{2\epsilon}.$$
    One evaluation of $C$ costs $O(W)$ operations for a network with $W$ weights and biases, and there
    are $W$ derivatives to measure: $O(W^2)$ per gradient. Backpropagation gets all $W$ of them for
    the price of about two forward passes: $O(W)$.

    Below: networks $[n, n, 10]$ of growing width $n$, timed on a batch of 100 examples, with
    `nnlib.diagnostics.time_gradients` (central differences through `gradcheck.numerical_gradient`
    against `Network.backprop`). On a log-log plot a power law $t \propto W^p$ is a straight line of
    slope $p$.
    '''),
    code(r'''
    from tqdm.auto import tqdm
    from nnlib import diagnostics

    m = 100
    widths_num = [8, 16, 32, 64, 96]           # W up to ~10^4: larger ones take minutes
    widths_bp = [8, 16, 32, 64, 96, 128, 160, 256, 512, 1024, 2048]
    t_num, t_bp = [], []
    for n in tqdm(widths_bp, desc="network widths"):
        net_n = nnlib.Network([n, n, 10], seed=0)
        Xn, Yn = rng.random((n, m)), rng.random((10, m))
        t = diagnostics.time_gradients(net_n, Xn, Yn, numerical=n in widths_num, repeats=5)
        t_bp.append((t["W"], t["backprop"]))
        if "numerical" in t:
            t_num.append((t["W"], t["numerical"]))
    t_num, t_bp = np.array(t_num), np.array(t_bp)
    for (W, tn), (_, tb) in zip(t_num, t_bp):
        print(f"W = {int(W):7d}: finite differences {tn:8.4f} s   backprop {tb * 1e3:7.3f} ms")
    '''),
    code(r'''
    slope_num = diagnostics.loglog_slope(*t_num[-3:].T)     # fit the large networks
    slope_bp = diagnostics.loglog_slope(*t_bp[-4:].T)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.loglog(*t_num.T, "o-", label=f"finite differences (slope {slope_num:.2f})")
    ax.loglog(*t_bp.T, "s-", label=f"backpropagation (slope {slope_bp:.2f})")
    Wr = np.array([t_bp[0, 0], t_bp[-1, 0]])
    ax.loglog(Wr, t_num[-1, 1] * (Wr / t_num[-1, 0]) ** 2, "k:", lw=1, label="slope 2")
    ax.loglog(Wr, t_bp[-1, 1] * (Wr / t_bp[-1, 0]), "k--", lw=1, label="slope 1")
    ax.set(xlabel="number of parameters W", ylabel="seconds per gradient", title="cost of one gradient")
    ax.legend(); ax.grid(alpha=0.3, which="both"); plt.show()
    '''),
    md(r'''
    Both curves bend: for small networks a fixed overhead per call (tens of microseconds of Python and
    NumPy bookkeeping) dominates the arithmetic, so the times are flat. Once the arithmetic dominates,
    the finite-difference slope climbs towards 2 and backpropagation's towards 1 (the fitted slopes use
    the largest networks only). At $W \approx 10^4$ the gap is already four orders of magnitude. For Nielsen's $[784, 30, 10]$ network ($W = 23{,}860$ parameters, deck 001)
    finite differences would need about 48,000 cost evaluations **per minibatch**.

    ## 6. Gradient checking

    Finite differences are far too slow to train with, but perfect to **test** a backprop
    implementation on a small network. `gradcheck.check_network` compares every $\partial C/\partial w$
    and $\partial C/\partial b$ of `Network.backprop` with central differences and reports the relative
    error (CS231n's)
    $$\text{rel\_error}(g, n) = \max_i \frac{|g_i - n_i|}{\max(|g_i| + |n_i|,\ 10^{-8})}.$$
    In float64 a correct gradient gives less than $10^{-7}$ (usually about $10^{-10}$); a wrong one
    gives something like 1.
    '''),
    code(r'''
    small = nnlib.Network([3, 5, 4, 2], seed=1)
    xs, ys = rng.random((3, 6)), rng.random((2, 6))        # 6 examples as columns
    errors = gradcheck.check_network(small, xs, ys)
    for name, err in errors.items():
        print(f"{name:12s} rel_error = {err:.2e}  {'ok' if err < 1e-7 else 'WRONG'}")
    assert max(errors.values()) < 1e-7

    small_ce = nnlib.Network([3, 5, 2], cost="cross_entropy", seed=2)   # BP1 with δ^L = a − y
    print("cross-entropy net, worst rel_error:", max(gradcheck.check_network(small_ce, xs, ys).values()))
    '''),
    md(r'''
    ### What bugs look like

    When a check fails, `gradcheck.diagnose(yours, correct)` names the likely mistake. Here is a
    backprop written the way you would write it yourself, with a switch that plants one of three
    classic bugs:

    * `"transposed"`: $\nabla w^l = a^{l-1}(\delta^l)^T$ instead of $\delta^l (a^{l-1})^T$;
    * `"no_sigma_prime"`: BP1/BP2 without the factor $\sigma'(z^l)$;
    * `"mean"`: dividing by the batch size where the **sum** is expected (Nielsen's `backprop` returns
      the sum; `update_mini_batch` divides by $m$) — or, the other way round, summing where the mean is expected.
    '''),
    code(r'''
    def my_backprop(net, x, y, bug=None):
        """BP1–BP4 over the columns of x, as in the text; `bug` plants a classic mistake."""
        sp = (lambda z: np.ones_like(z)) if bug == "no_sigma_prime" else sigma_prime
        activations, zs = [x], []
        for b, w in zip(net.biases, net.weights):
            zs.append(w @ activations[-1] + b)
            activations.append(sigma(zs[-1]))
        delta = (activations[-1] - y) * sp(zs[-1])                               # BP1
        nabla_b, nabla_w = [None] * len(zs), [None] * len(zs)
        for l in range(1, len(zs) + 1):                                           # l = 1: the output layer
            if l > 1:
                delta = (net.weights[-l + 1].T @ delta) * sp(zs[-l])             # BP2
            nabla_b[-l] = delta.sum(axis=1, keepdims=True)                        # BP3
            nabla_w[-l] = (activations[-l - 1] @ delta.T if bug == "transposed"
                           else delta @ activations[-l - 1].T)                    # BP4
        if bug == "mean":
            nabla_w = [g / x.shape[1] for g in nabla_w]
        return nabla_b, nabla_w
    '''),
    code(r'''
    ref_b, ref_w = small.backprop(xs, ys)
    suspects = gradcheck.network_suspects(small, xs, ys)    # what the typical bugs would give
    m = xs.shape[1]
    for bug in [None, "transposed", "no_sigma_prime", "mean"]:
        nb, nw = my_backprop(small, xs, ys, bug)
        d = gradcheck.diagnose(nw[0], ref_w[0], "nabla_w[0]", batch_size=m, suspects=suspects["nabla_w"][0])
        print(f"bug={bug!s:15s}", d, "\n")

    # the Model convention is the mean over the batch: the sum is then m times too large
    print(gradcheck.diagnose(ref_w[0], ref_w[0] / m, "nabla_w[0]", batch_size=m))
    '''),
    md(r'''
    ## Summary

    * $\delta^l = \partial C/\partial z^l$ is computed from the output backwards: BP1 at the output,
      BP2 one layer back at a time; BP3 and BP4 turn $\delta^l$ into the gradients.
    * All the slides say the same thing in different letters; watch the index order ($w_{jk}$ vs
      $w_{i,j}$) and the sign of the error ($\Delta = -\delta$).
    * Over a minibatch the equations are matrix products with the examples as columns.
    * Backprop costs $O(W)$ per gradient; finite differences $O(W^2)$ — but they are the reference for
      gradient checks (relative error $< 10^{-7}$).

    **Exercises.** (1) Redo the worked example with the cross-entropy cost: which of BP1–BP4 changes?
    (2) Add a fourth bug to `my_backprop` — the bias summed over the neurons instead of the examples
    (`axis=0`) — and read what `diagnose` says. (3) Time `my_backprop` against `Network.backprop` for a
    $[784, 30, 10]$ network and a batch of 10.
    '''),
]

# ======================================================================================= 06
LOAD_MNIST = code(r'''
    def load_digits_or_mnist(kind="mnist"):
        """Real MNIST when its files are available (downloaded unless QUICK), else the 8×8 digits."""
        try:
            split = datasets.load_mnist(kind, download=not QUICK, progress=False)
            return split, kind.upper(), (28, 28)
        except Exception as exc:   # no files and no download (CI, offline)
            print(f"{kind} files not available ({type(exc).__name__}); using scikit-learn's 8×8 digits instead.")
            return datasets.digits(), "digits (8×8)", (8, 8)
''')

HISTORY_LOADER = code(r'''
    HIST = Path("data/histories") if Path("data/histories").exists() else Path("course/data/histories")

    def load_history(name):
        """A recorded full-run history (dict) from course/data/histories, or None if not recorded yet."""
        path = HIST / name
        if not path.exists():
            print(f"TODO(lead): {path} has not been recorded yet — run the full benchmark to fill this in.")
            return None
        return json.loads(path.read_text())

    def accuracies(d):
        return d.get("val_acc") or d.get("test_accuracy") or d.get("test_acc") or []
''')

NOTEBOOKS["06_sgd_training.ipynb"] = [
    md(r'''
    # Lecture 6 — Stochastic gradient descent and training practice

    Lecture 5 computed the gradient. This one is about using it well: how to step (minibatches, epochs,
    learning rate, momentum and its descendants), where to start (initialisation), which cost to use
    (quadratic or cross-entropy), and how to keep a network from memorising its training set
    (validation, early stopping, L2, dropout). It ends with the vanishing gradient problem and a
    playground to try everything on 2-D data.

    Most experiments run on scikit-learn's 8×8 digits (1,797 images, no download) so that each one takes
    seconds. The MNIST figures quoted come from full runs recorded in `course/data/histories/`.
    '''),
    SETUP,
    code(r'''
    import json
    from pathlib import Path

    from tqdm.auto import tqdm

    from nnlib import Dense, Dropout, Model, ReLU, Sigmoid, diagnostics, train, viz

    train_set, val_set, test_set = datasets.digits()
    X_train, y_train = train_set
    print("digits:", datasets.digits())
    '''),
    md(r'''
    ## 1. Minibatches, epochs and shuffling

    The cost is an average over all $n$ training examples, $C = \frac1n\sum_x C_x$, and so is its gradient,
    $\nabla C = \frac1n\sum_x\nabla C_x$. Computing it exactly costs a pass over the whole training set for
    **one** step. Stochastic gradient descent (decks 000, 001, 004) estimates it from a random
    **minibatch** of $m \ll n$ examples $X_1,\dots,X_m$:
    $$\nabla C \approx \frac1m\sum_{j=1}^m \nabla C_{X_j}, \qquad
    w^l \to w^l - \frac{\eta}{m}\sum_j \frac{\partial C_{X_j}}{\partial w^l},\quad
    b^l \to b^l - \frac{\eta}{m}\sum_j \frac{\partial C_{X_j}}{\partial b^l}.$$
    An **epoch** is one pass through the training set, cut into $n/m$ minibatches after a fresh random
    **shuffle** (so the minibatches differ from epoch to epoch, and no ordering of the data — all the
    zeros first, say — biases the steps).

    How good is the estimate? Below, the relative deviation $\lVert g_m - \nabla C\rVert/\lVert\nabla C\rVert$
    of minibatch gradients $g_m$ from the full gradient of a $[64, 30, 10]$ network: it falls like
    $1/\sqrt m$ — a minibatch of 100 is ten times less noisy than a single example, for 100 times the work.
    '''),
    code(r'''
    net = nnlib.Network([64, 30, 10], seed=0)
    Y_train = datasets.one_hot(y_train, 10)
    full_b, full_w = net.backprop(X_train.T, Y_train.T)
    full = np.concatenate([g.ravel() for g in full_w]) / len(X_train)

    rng = np.random.default_rng(0)
    sizes = [1, 2, 5, 10, 20, 50, 100, 200, 500]
    deviation = []
    for m in sizes:
        devs = []
        for _ in range(30):
            idx = rng.choice(len(X_train), m, replace=False)
            nb, nw = net.backprop(X_train[idx].T, Y_train[idx].T)
            g = np.concatenate([w.ravel() for w in nw]) / m
            devs.append(np.linalg.norm(g - full) / np.linalg.norm(full))
        deviation.append(np.mean(devs))

    plt.figure(figsize=(5.5, 3.6))
    plt.loglog(sizes, deviation, "o-", label="measured")
    plt.loglog(sizes, deviation[0] / np.sqrt(sizes), "k--", label=r"$\propto 1/\sqrt{m}$")
    plt.xlabel("minibatch size m"); plt.ylabel("relative deviation from ∇C"); plt.legend(); plt.grid(alpha=0.3)
    plt.title("minibatch gradients are noisy estimates"); plt.show()

    batches = list(datasets.minibatches(np.arange(10), None, batch_size=4, seed=1))
    print("one epoch of 10 examples in minibatches of 4:", [b.tolist() for b, _ in batches])
    '''),
    md(r'''
    (The last minibatch of an epoch is smaller when $m$ does not divide $n$; without shuffling the 8 examples
    $0\dots7$ would always share their minibatches.)

    ## 2. Initialisation

    A hidden neuron computes $z = \sum_k w_k x_k + b$. If the $n_{in}$ weights are independent with
    standard deviation $s$, then $\operatorname{Var}(z) \approx n_{in}\, s^2\, \overline{x^2}$ — it grows
    with the number of inputs. Large $|z|$ means a **saturated** sigmoid: $\sigma'(z) \approx 0$, and by
    BP2 the error $\delta$ and all gradients into that neuron vanish. So:

    * **$s = 1/\sqrt{n_{in}}$** keeps $z$ of order one (Nielsen ch. 3; `init_method="gaussian"`, the default in `nnlib`).
    * $s = 1$ (Nielsen's first `network.py`, `"standard"`) lets $z$ grow like $\sqrt{n_{in}}$.
    * Deck 000 suggests $s = \sqrt{n}$. **That is a slip — it should be $1/\sqrt{n}$**: with $\sqrt n$,
      $z$ grows like $n_{in}$ and nearly every neuron starts saturated. The slide's own reasoning
      ("make the standard deviation smaller for nodes with many incoming arcs") gives $1/\sqrt n$.
    * $s = 0$ (all weights equal) fails differently: every hidden neuron computes the same thing, gets
      the same gradient and stays identical to the others — the **symmetry** is never broken.

    The histograms show $z$ of the 100 hidden neurons of a $[64, 100, 10]$ network over the digits.
    '''),
    code(r'''
    n_in = 64
    stds = {r"$1/\sqrt{n_{in}}$ (gaussian)": 1 / np.sqrt(n_in), "$1$ (standard)": 1.0,
            r"$\sqrt{n_{in}}$ (deck 000's slip)": np.sqrt(n_in)}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    for ax, (name, s) in zip(axes, stds.items()):
        net = nnlib.Network([n_in, 100, 10], seed=0)
        net.weights = [np.random.default_rng(1).normal(0, s, w.shape) for w in net.weights]
        z2 = diagnostics.network_trace(net, X_train)[0][0]
        saturated = np.mean(A.sigmoid_prime(z2) < 0.01)
        ax.hist(z2.ravel(), bins=60, color="C0")
        ax.set(title=f"std {name}\n{saturated:.0%} of neurons have σ'(z) < 0.01", xlabel="$z$ of hidden neurons")
    plt.tight_layout(); plt.show()
    '''),
    md(r'''
    Same network, trained with cross-entropy and $\eta = 0.5$ (Nielsen's ch. 3 setting) from each start.
    The $\sqrt{n_{in}}$ start lags far behind: most of its hidden neurons begin saturated. With only 64
    inputs, standard deviation 1 is still tolerable (a quarter of the neurons saturated) and keeps up with
    $1/\sqrt{n_{in}}$ here; with MNIST's 784 inputs $z$ spreads three times wider, and Nielsen (ch. 3) finds
    the $1/\sqrt{n_{in}}$ start clearly ahead.
    '''),
    code(r'''
    histories = {}
    for name, s in stds.items():
        net = nnlib.Network([n_in, 100, 10], cost="cross_entropy", seed=0)
        net.weights = [np.random.default_rng(1).normal(0, s, w.shape) for w in net.weights]
        histories[name] = train.fit(net, train_set, val_set, epochs=15, batch_size=10, lr=0.5, seed=0, progress=False)

    for name, h in histories.items():
        plt.plot(np.arange(1, 16), h.val_acc, "o-", ms=3, label=name)
    plt.xlabel("epoch"); plt.ylabel("validation accuracy"); plt.title("initial weight scale")
    plt.legend(); plt.grid(alpha=0.3); plt.show()
    '''),
    md(r'''
    And the symmetry problem: a `Model` whose weights start at zero (its biases start at zero too).
    After training, all 30 hidden neurons still have identical incoming weights.
    '''),
    code(r'''
    zero = Model([Dense(64, 30, init_method="zeros"), Sigmoid(), Dense(30, 10, init_method="zeros")])
    h0 = train.fit(zero, train_set, val_set, epochs=10, batch_size=10, lr=0.5, seed=0, progress=False)
    W1 = nnlib.to_host(zero.layers[0].params["W"])
    print(f"largest difference between two hidden neurons' weights: {np.ptp(W1, axis=0).max():.1e} (rounding only)")
    print(f"validation accuracy after 10 epochs: {h0.val_acc[-1]:.3f} (30 identical neurons act like one)")
    '''),
    md(r'''
    ## 3. Nielsen's MNIST network

    Deck 001 walks through Nielsen's `network.py`: a $[784, 30, 10]$ sigmoid network,
    $30\cdot784 + 10\cdot30 + 30 + 10 = 23{,}860$ parameters, quadratic cost, trained for **30 epochs**
    with minibatches of **10** and $\eta = 3.0$:

    ```python
    net = network.Network([784, 30, 10])
    net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    ```

    `nnlib.Network` has the same interface. The full run, recorded on 50,000 MNIST training images:
    '''),
    HISTORY_LOADER,
    code(r'''
    full_run = load_history("nielsen_784_30_10.json")
    if full_run is not None:
        acc = accuracies(full_run)
        print(f"{len(acc)} epochs; accuracy after epoch 1: {acc[0]:.2%}, best: {max(acc):.2%}, last: {acc[-1]:.2%}")
        viz.plot_history(full_run, title="Nielsen's [784, 30, 10], η = 3.0, minibatch 10 (full run)"); plt.show()
    '''),
    md(r'''
    Nielsen reports about 95% after 30 epochs (deck 001 quotes ~92% for a 2-layer and ~94% for a
    3-layer network in TensorFlow). Here is the same code run live — on MNIST when its files are
    present (a 10,000-image subset and 3 epochs with `NNLIB_QUICK=1`), otherwise on the 8×8 digits:
    '''),
    LOAD_MNIST,
    code(r'''
    split, source, shape = load_digits_or_mnist()
    (Xtr, ytr), _, (Xte, yte) = split
    Xtr, Xte = Xtr.astype(np.float64), Xte.astype(np.float64)
    if QUICK and len(Xtr) > 10_000:
        Xtr, ytr = Xtr[:10_000], ytr[:10_000]
    epochs = 3 if QUICK else 30
    print(f"{source}: training on {len(Xtr)} images for {epochs} epochs")

    net = nnlib.Network([Xtr.shape[1], 30, 10], seed=0)
    live = net.SGD((Xtr, ytr), epochs, 10, 3.0, test_data=(Xte, yte), seed=0)
    print(f"{sum(live['seconds']):.1f} s in all")
    '''),
    md(r'''
    ## 4. "Tweak around"

    Deck 001 ends the walk-through with: try learning rates 0.001, 1.0, 100.0; minibatches of 10, 50, 100;
    15, 30, 100 hidden neurons; 1, 2, 5 hidden layers. Here is that grid on the digits — a $[64, 30, 10]$
    network with $\eta = 3.0$ and minibatch 10 as the baseline, one knob turned at a time, 20 epochs each.
    '''),
    code(r'''
    def run(hidden=(30,), eta=3.0, batch=10, epochs=20):
        net = nnlib.Network([64, *hidden, 10], seed=0)
        return train.fit(net, train_set, val_set, epochs=epochs, batch_size=batch, lr=eta, seed=0, progress=False)

    grid = {
        "learning rate η": {f"η = {e:g}": dict(eta=e) for e in (0.001, 1.0, 3.0, 100.0)},
        "minibatch size": {f"m = {b}": dict(batch=b) for b in (10, 50, 100)},
        "hidden neurons": {f"{n} hidden": dict(hidden=(n,)) for n in (15, 30, 100)},
        "hidden layers": {f"{d} layer{'s' * (d > 1)}": dict(hidden=(30,) * d) for d in (1, 2, 5)},
    }
    results = {}
    for knob, settings in tqdm(grid.items(), desc="grid"):
        results[knob] = {label: run(**kw) for label, kw in settings.items()}

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.4), sharey=True)
    for ax, (knob, runs) in zip(axes, results.items()):
        for label, h in runs.items():
            ax.plot(np.arange(1, len(h.val_acc) + 1), h.val_acc, label=label)
        ax.set(title=knob, xlabel="epoch", ylim=(0, 1)); ax.grid(alpha=0.3); ax.legend(fontsize=8)
    axes[0].set_ylabel("validation accuracy"); plt.tight_layout(); plt.show()
    for knob, runs in results.items():
        print(f"{knob:16s}", "  ".join(f"{label}: {h.val_acc[-1]:.3f}" for label, h in runs.items()))
    '''),
    md(r'''
    What to read off the plots:

    * **η** — with 0.001 the network has not left chance level (10%) after 20 epochs (its curve lies under
      η = 100's); 1.0 and 3.0 learn; with η = 100 the first steps are so large that the sigmoids saturate,
      σ' ≈ 0, and the network is stuck at chance.
    * **minibatch size** — with η fixed, larger minibatches mean fewer steps per epoch ($n/m$), so per
      *epoch* they learn more slowly (each step is less noisy, but there are 10× fewer of them at m = 100).
    * **hidden neurons** — more neurons help a little here; 15 are already enough for 8×8 digits.
    * **hidden layers** — deeper is *not* automatically better: 2 layers start more slowly, and the 5-layer
      sigmoid network has not started learning after 20 epochs. Section 9 shows why (vanishing gradients).

    ## 5. Cross-entropy against the learning slowdown

    Nielsen's ch. 3 experiment: one sigmoid neuron, input $x = 1$, target $y = 0$. From $w = 0.6, b = 0.9$
    (output 0.82) it learns quickly with the quadratic cost; from $w = b = 2$ (output 0.98, badly wrong and
    saturated) it hardly moves for the first hundred epochs. Why: with the quadratic cost
    $$\frac{\partial C}{\partial w} = (a - y)\,\sigma'(z)\,x, \qquad \frac{\partial C}{\partial b} = (a-y)\,\sigma'(z),$$
    and $\sigma'(z)$ is tiny when the output is near 1. The cross-entropy cost has
    $\partial C/\partial w = x\,(a - y)$: the $\sigma'$ cancels (lecture 5, BP1 with $\delta^L = a - y$),
    and the neuron learns fastest when it is most wrong. η = 0.15 throughout.
    '''),
    code(r'''
    def train_neuron(cost, w, b, eta=0.15, epochs=300):
        net = nnlib.Network([1, 1], cost=cost)
        net.weights, net.biases = [np.array([[w]])], [np.array([[b]])]
        x, y = np.array([[1.0]]), np.array([[0.0]])
        outputs = []
        for _ in range(epochs):
            outputs.append(float(net.feedforward(x)[0, 0]))
            net.update_mini_batch((x, y), eta)
        return outputs

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
    for ax, (w0, b0) in zip(axes, [(0.6, 0.9), (2.0, 2.0)]):
        for cost in ("quadratic", "cross_entropy"):
            ax.plot(train_neuron(cost, w0, b0), label=cost)
        ax.set(title=f"start w = {w0}, b = {b0}  (a = {A.sigmoid(w0 + b0):.2f})", xlabel="epoch", ylabel="output a")
        ax.legend(); ax.grid(alpha=0.3)
    plt.tight_layout(); plt.show()
    '''),
    md(r'''
    ## 6. Momentum, Nesterov, Adagrad, RMSprop, Adam

    Plain SGD steps $w \leftarrow w - \eta g$ with $g = \nabla C$ (estimated on a minibatch). Its
    refinements (deck 003, "key components"; `nnlib.optim`):

    | method | update |
    |---|---|
    | momentum | $v \leftarrow \mu v - \eta g,\quad w \leftarrow w + v$ — an exponential average of past steps keeps going through plateaus and damps zig-zags |
    | Nesterov | the same, with the gradient taken at the look-ahead point $w + \mu v$ |
    | Adagrad | $G \leftarrow G + g^2,\quad w \leftarrow w - \eta\, g/(\sqrt G + \epsilon)$ — a per-weight learning rate (Duchi et al.) |
    | RMSprop | $G \leftarrow \rho G + (1-\rho) g^2$, same step: Adagrad that forgets |
    | Adam | momentum on $g$ and RMSprop on $g^2$, both bias-corrected |

    First a picture: a long narrow valley $f(u, v) = \frac12(u^2 + 25v^2)$, where plain gradient descent
    zig-zags across the valley and crawls along it.
    '''),
    code(r'''
    def f(p):    return 0.5 * (p[0] ** 2 + 25 * p[1] ** 2)
    def grad(p): return np.array([p[0], 25 * p[1]])

    settings = {"SGD": optim.SGD(0.07), "momentum": optim.Momentum(0.1, mu=0.5),
                "Nesterov": optim.Nesterov(0.1, mu=0.5), "Adagrad": optim.Adagrad(0.8),
                "RMSprop": optim.RMSprop(0.1), "Adam": optim.Adam(0.3)}
    U, V = np.meshgrid(np.linspace(-5.5, 1.5, 200), np.linspace(-2, 2, 200))
    fig, axes = plt.subplots(2, 3, figsize=(13, 6), sharex=True, sharey=True)
    for ax, (name, opt) in zip(axes.ravel(), settings.items()):
        p = np.array([-5.0, 1.5])
        path = [p.copy()]
        for _ in range(40):
            opt.step([p], [grad(p)])
            path.append(p.copy())
        path = np.array(path)
        ax.contour(U, V, 0.5 * (U ** 2 + 25 * V ** 2), levels=15, cmap="Greys", linewidths=0.6)
        ax.plot(*path.T, "o-", ms=2.5, color="C3")
        ax.set_title(f"{name} (η = {opt.lr:g}): f = {f(p):.1e} after 40 steps")
    plt.tight_layout(); plt.show()
    '''),
    md(r'''
    Momentum damps the zig-zag (the oscillating components of successive steps cancel in $v$) and builds up
    speed along the valley. Adagrad, RMSprop and Adam divide each coordinate's step by its own gradient
    scale, so both coordinates move at about the same pace: their paths start as a straight diagonal,
    whatever the shape of the valley.

    Now the real thing: the same MLP (ReLU hidden layer of 100, softmax cross-entropy output), the same
    initial weights and the same minibatches, trained on the digits by each optimiser with a typical
    learning rate for it.
    '''),
    code(r'''
    def mlp(seed=0):
        nnlib.seed(seed)
        return Model([Dense(64, 100, "he"), ReLU(), Dense(100, 10)])

    lrs = {"sgd": 0.05, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05, "rmsprop": 1e-3, "adam": 1e-3}
    opt_hist = {}
    for name, lr in tqdm(lrs.items(), desc="optimisers"):
        opt_hist[name] = train.fit(mlp(), train_set, val_set, epochs=15, batch_size=32, optimizer=name, lr=lr,
                                   seed=0, progress=False)

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for name, h in opt_hist.items():
        axes[0].semilogy(np.arange(1, 16), h.loss, label=f"{name} (η = {lrs[name]:g})")
        axes[1].plot(np.arange(1, 16), h.val_acc, label=name)
    axes[0].set(xlabel="epoch", ylabel="training loss", title="training loss (log scale)")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy", ylim=(0.8, 1))
    for ax in axes:
        ax.grid(alpha=0.3); ax.legend(fontsize=8)
    plt.tight_layout(); plt.show()
    '''),
    md(r'''
    The adaptive methods and momentum drive the training loss down much faster than plain SGD at the same
    budget; on validation accuracy the differences are smaller. Every optimiser has its own good range of η —
    comparing them at one shared η would only show which one that η suits.

    ## 7. Learning-rate schedules

    Deck 003: "run until validation error plateaus, then drop the learning rate by x%". Large steps early
    make fast progress; small steps late settle into the minimum instead of rattling around it.
    `nnlib.optim` has step decay, exponential decay, $\eta_0/(1 + kt)$ (the schedule for which SGD provably
    converges: $\sum_t\eta_t = \infty$, $\sum_t\eta_t^2 < \infty$) and reduce-on-plateau; `train.fit(schedule=...)`
    applies one per epoch.
    '''),
    code(r'''
    schedules = {"constant": None, "step ×0.5 every 5": optim.StepDecay(0.2, 0.5, 5),
                 "exponential e^(−0.15t)": optim.ExponentialDecay(0.2, 0.15),
                 "1/(1 + 0.3t)": optim.InverseTimeDecay(0.2, 0.3),
                 "on plateau ×0.5": optim.ReduceOnPlateau(0.2, factor=0.5, patience=1)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for name, sched in schedules.items():
        h = train.fit(mlp(), train_set, val_set, epochs=20, batch_size=32, lr=0.2, schedule=sched, seed=0,
                      progress=False)
        axes[0].plot(np.arange(1, 21), h.lr, label=name)
        axes[1].semilogy(np.arange(1, 21), h.loss, label=name)
    axes[0].set(xlabel="epoch", ylabel="η", title="learning rate per epoch")
    axes[1].set(xlabel="epoch", ylabel="training loss", title="training loss (SGD, η₀ = 0.2)")
    for ax in axes:
        ax.grid(alpha=0.3); ax.legend(fontsize=8)
    plt.tight_layout(); plt.show()
    '''),
    md(r'''
    ## 8. Overfitting, validation, early stopping, L2 and dropout

    A network with many more parameters than training examples can **memorise** them: the training
    accuracy reaches 100% while the accuracy on unseen data stalls or falls (deck 001: "a learned model
    performs much worse on unseen data"). That is why we hold out a **validation** set, never trained on,
    and watch it during training.

    Below, a $[64, 100, 100, 10]$ network ($\approx$17,000 parameters) trained on only **100** digits.
    '''),
    code(r'''
    few = (X_train[:100], y_train[:100])
    epochs = 60 if QUICK else 150

    def big(dropout=0.0, l2=0.0, seed=0):
        nnlib.seed(seed)
        drop = [Dropout(dropout)] if dropout else []
        return Model([Dense(64, 100, "he"), ReLU(), *drop, Dense(100, 100, "he"), ReLU(), *drop, Dense(100, 10)], l2=l2)

    plain = train.fit(big(), few, val_set, epochs=epochs, batch_size=10, lr=0.2, seed=0, progress=False)
    viz.plot_history(plain, title="100 training examples, no regularisation"); plt.show()
    print(f"training accuracy {plain.train_acc[-1]:.2f}, validation accuracy {plain.val_acc[-1]:.3f}; "
          f"lowest validation loss in epoch {plain.best_epoch + 1}")
    '''),
    md(r'''
    The training accuracy reaches 100% and the training loss keeps falling towards zero, but the validation
    loss bottoms out and then creeps up again, and the validation accuracy stalls near 0.9: from there on the
    network only grows more confident about the particular 100 images, not better at digits.

    **Early stopping** watches the validation loss and stops when it has not improved for `patience`
    epochs, restoring the best weights. **L2 regularisation** (weight decay) adds $\frac\lambda2\sum w^2$ to
    the cost, so each step also shrinks the weights: $w \to (1 - \eta\lambda)w - \eta\,\partial C_0/\partial w$
    (Nielsen writes $\frac{\lambda}{2n}\sum w^2$; `nnlib.Model`'s `l2` is his $\lambda/n$). Small weights
    make a smoother function that cannot fit every quirk of the data. **Dropout** (deck 001, deck 003)
    switches off each hidden neuron with probability $p$ in every training step, so no neuron can rely on
    particular others: like training many thinned networks and averaging them.
    '''),
    code(r'''
    runs = {"none": plain,
            "early stopping (patience 10)": train.fit(big(), few, val_set, epochs=epochs, batch_size=10, lr=0.2,
                                                      early_stopping=10, seed=0, progress=False),
            "L2, λ = 0.001": train.fit(big(l2=0.001), few, val_set, epochs=epochs, batch_size=10, lr=0.2, seed=0,
                                      progress=False),
            "dropout p = 0.2": train.fit(big(dropout=0.2), few, val_set, epochs=epochs, batch_size=10, lr=0.2,
                                         seed=0, progress=False)}
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for name, h in runs.items():
        ep = np.arange(1, len(h.val_loss) + 1)
        axes[0].plot(ep, h.val_loss, label=name)
        axes[1].plot(ep, h.val_acc, label=name)
    axes[0].set(xlabel="epoch", ylabel="validation loss", title="validation loss (L2 run: includes its penalty)",
                ylim=(0, 2.5))
    axes[1].set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy")
    for ax in axes:
        ax.grid(alpha=0.3); ax.legend(fontsize=8)
    plt.tight_layout(); plt.show()
    for name, h in runs.items():
        print(f"{name:30s} stopped after {len(h):3d} epochs, best validation accuracy {max(h.val_acc):.3f}, "
              f"final {h.val_acc[-1]:.3f}")
    '''),
    md(r'''
    Early stopping gets the same accuracy in fewer epochs. On a problem this small L2 and dropout buy little
    or nothing (dropout's noisy steps may even cost a little): the limit is the 100 examples. The cure that
    works best is **more data** — the same network trained on all 1,197 training digits:
    '''),
    code(r'''
    more = train.fit(big(), train_set, val_set, epochs=20, batch_size=10, lr=0.2, seed=0, progress=False)
    print(f"1,197 training examples: validation accuracy {max(more.val_acc):.3f} "
          f"(100 examples: {max(plain.val_acc):.3f})")
    '''),
    md(r'''
    (Deck 003 adds *data augmentation*: more training images made by shifting, rotating and distorting the
    ones we have.)

    ## 9. Vanishing gradients

    Why did five hidden layers learn so slowly in section 4? By BP2, each layer back multiplies the error by
    $(w^{l+1})^T$ and by $\sigma'(z^l) \le \frac14$. Through many sigmoid layers the factors compound, and
    the early layers receive tiny gradients (deck 004: "each neuron in earlier layers has less and less
    impact on output error" — the **vanishing gradient problem**; with large weights the product can
    instead blow up: *exploding* gradients). ReLU has derivative 1 wherever it is active (deck 003,
    "key component 2"), so the error passes back undiminished.

    `nnlib.diagnostics.model_grad_norms` measures $\lVert\partial C/\partial w^l\rVert$ layer by layer:
    '''),
    code(r'''
    def deep(act, init, depth=5, width=30):
        nnlib.seed(0)
        layers, n = [], 64
        for _ in range(depth):
            layers += [Dense(n, width, init), act()]
            n = width
        return Model(layers + [Dense(n, 10, init)])

    Xb, yb = X_train[:500], y_train[:500]
    nets = {"sigmoid (init 1/√n)": deep(Sigmoid, "gaussian"), "ReLU (init √(2/n))": deep(ReLU, "he")}
    norms = {name: list(diagnostics.model_grad_norms(m, Xb, yb).values()) for name, m in nets.items()}

    k = np.arange(len(next(iter(norms.values()))))
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for i, (name, v) in enumerate(norms.items()):
        ax.bar(k + (i - 0.5) * 0.38, v, width=0.38, label=name)
    ax.set_yscale("log"); ax.set_xticks(k, [f"layer {i + 1}" for i in k[:-1]] + ["output"])
    ax.set(ylabel=r"$\|\partial C / \partial w^l\|$", title="gradient norm per layer at initialisation, 5 hidden layers")
    ax.legend(); ax.grid(alpha=0.3, axis="y"); plt.show()
    for name, v in norms.items():
        print(f"{name:22s} first layer / output layer = {v[0] / v[-1]:.2g}")
    '''),
    md(r'''
    In the sigmoid network the first layer's gradient is orders of magnitude smaller than the output's: the
    early layers learn orders of magnitude more slowly. In the ReLU network all layers get gradients of a
    similar size. (Good initialisation — $\sqrt{2/n_{in}}$ for ReLU, "He" — is part of the fix.)

    ## 10. Playground

    Everything above, on 2-D data where you can *see* what the network does: pick a data set, the hidden
    layers ("8,8" = two layers of 8), the activation and η, and press **train**. (Without a widget front end
    — on GitHub or in CI — you see the static starting figure.)

    Things to try: spirals with no hidden layer, then "8", then "8,8"; sigmoid vs ReLU vs tanh on spirals;
    η = 3 vs 0.3 vs 0.03.
    '''),
    code(r'''
    from nnlib.widgets import playground

    playground("spirals", hidden="8,8", activation="tanh", eta=0.3)
    '''),
    md(r'''
    ## Summary

    * SGD estimates the gradient from minibatches (noise $\propto 1/\sqrt m$); an epoch is one shuffled pass.
    * Initialise with standard deviation $1/\sqrt{n_{in}}$ (sigmoid/tanh) or $\sqrt{2/n_{in}}$ (ReLU) —
      not $\sqrt n$ (deck 000's slip), not 0 (symmetry).
    * Nielsen's $[784, 30, 10]$, η = 3.0, minibatch 10, 30 epochs reaches about 95% on MNIST.
    * Cross-entropy removes the $\sigma'$ learning slowdown of saturated output neurons.
    * Momentum and adaptive methods (Adagrad, RMSprop, Adam) reach a low loss in fewer epochs; schedules
      shrink η as training settles.
    * Watch a validation set; early stopping, L2 and dropout fight overfitting — more data fights it best.
    * Deep sigmoid networks suffer from vanishing gradients; ReLU and good initialisation help.

    **Exercises.** (1) In section 4, find the largest η for which the $[64, 30, 10]$ network still learns.
    (2) Repeat section 8 with 300 and 1,000 training examples: when does the validation loss stop turning up?
    (3) Measure the gradient norms of section 9 again after 5 epochs of training. Do they even out?
    '''),
]

# ======================================================================================= 07


NOTEBOOKS["07_cnn.ipynb"] = [
    md(r'''
    # Lecture 7 — Convolutional neural networks

    A dense layer connects every pixel to every neuron: it knows nothing about images. Yet we *know*
    something about images (deck 002): "if you shift an image left or right it still has the same object in
    it". Convolutional networks build that knowledge into the architecture (deck 003, LeNet-5):

    * **local receptive fields** — each neuron looks at a small patch (e.g. 5×5);
    * **shared weights** — the same filter is used at every position;
    * **pooling** (subsampling) — keep the strongest response in each small window.

    This notebook: convolution and translation, how `nnlib` computes it (im2col), pooling, LeNet-5, a small
    CNN trained on the digits with its learned filters, and the full-MNIST result.
    '''),
    SETUP,
    code(r'''
    import json
    from pathlib import Path

    from nnlib import Conv2D, Dense, Flatten, MaxPool2D, Model, ReLU, diagnostics, layers, train, viz
    '''),
    LOAD_MNIST,
    md(r'''
    ## 1. Convolution: one filter, shared by every position

    A convolutional layer with filter $w$ (size $k\times k$) and bias $b$ computes, for every position
    $(j, k)$ of the output ("feature map"),
    $$a_{j,k} = \sigma\Big(b + \sum_{l=0}^{k-1}\sum_{m=0}^{k-1} w_{l,m}\, x_{j+l,\,k+m}\Big).$$
    The **same** $w$ and $b$ at every position: a 5×5 filter has 26 parameters whether the image is 28×28
    or 1000×1000. (Strictly this is a cross-correlation; deep-learning libraries call it convolution.)
    With several input channels $c$ the sum runs over them as well, and a layer has $F$ filters, so its
    weights have shape $(F, C, k, k)$.

    Two hand-made 3×3 filters — vertical and horizontal edge detectors — applied to a digit:
    '''),
    code(r'''
    split, source, shape = load_digits_or_mnist()
    (X_img, y_img), _, _ = split
    H, W_ = shape
    x = X_img[:1].reshape(1, 1, H, W_).astype(np.float64)            # one image, NCHW layout

    edges = np.array([[[[1, 0, -1], [2, 0, -2], [1, 0, -1]]],        # vertical edges (Sobel)
                      [[[1, 2, 1], [0, 0, 0], [-1, -2, -1]]]], float)  # horizontal edges
    maps, _ = layers.conv_forward(x, edges, np.zeros(2), stride=1, pad=1)

    shift = 3 if H == 28 else 1
    x_shift = np.roll(x, shift, axis=3)                              # the same digit, moved right
    maps_shift, _ = layers.conv_forward(x_shift, edges, np.zeros(2), stride=1, pad=1)

    viz.image_grid([x[0, 0], maps[0, 0], maps[0, 1], x_shift[0, 0], maps_shift[0, 0], maps_shift[0, 1]], ncols=3,
                   titles=["image", "vertical-edge map", "horizontal-edge map",
                           f"shifted {shift} px right", "its vertical-edge map", "its horizontal-edge map"],
                   figsize=(8, 5.5))
    plt.show()
    '''),
    md(r'''
    Shifting the image shifts the feature maps by the same amount — convolution is **equivariant** to
    translation — because the same filter is used everywhere. A dense layer has no such structure: its
    response to the shifted image is simply different. Taking the maximum over a feature map (the extreme
    case of pooling) makes the response **invariant**:
    '''),
    code(r'''
    inner = (slice(None), slice(None), slice(2, -2), slice(2 + shift, -2))   # away from the borders
    moved = (slice(None), slice(None), slice(2, -2), slice(2, -2 - shift))
    print("feature maps of the shifted image == shifted feature maps:", np.allclose(maps_shift[inner], maps[moved]))

    dense = nnlib.Dense(H * W_, 2)
    d0, d1 = dense(x.reshape(1, -1)), dense(x_shift.reshape(1, -1))
    print("dense layer outputs, original vs shifted:", d0.ravel(), d1.ravel())
    print("max over each feature map, original vs shifted:", maps.max(axis=(2, 3)).ravel(), maps_shift.max(axis=(2, 3)).ravel())
    '''),
    md(r'''
    ## 2. How it is computed: im2col

    Looping over images, filters and positions in Python is far too slow. `nnlib` (like Caffe and cuDNN's
    classic path) rearranges the input so that the convolution becomes **one matrix product**:

    * `im2col` copies every $k\times k$ receptive field (all $C$ channels) into one **row** of a matrix
      `cols` of shape $(N\cdot H_o\cdot W_o,\ C k^2)$;
    * the filters, flattened, form a matrix $(F,\ Ck^2)$;
    * `cols @ W.T` gives all $F$ feature maps at every position of every image at once.

    A 4×4 image and a 3×3 kernel have $2\times 2$ output positions, so `cols` has 4 rows of 9 numbers:
    '''),
    code(r'''
    x4 = np.arange(16, dtype=float).reshape(1, 1, 4, 4)
    cols = layers.im2col(x4, 3, 3)
    print("image:\n", x4[0, 0], "\ncols (one receptive field per row):\n", cols)

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), gridspec_kw={"width_ratios": [1, 2.2]})
    axes[0].imshow(x4[0, 0], cmap="Greys", alpha=0.3)
    for (i, j), v in np.ndenumerate(x4[0, 0]):
        axes[0].text(j, i, int(v), ha="center", va="center")
    for r, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        axes[0].add_patch(plt.Rectangle((j - 0.5 + 0.06 * r, i - 0.5 + 0.06 * r), 3 - 0.12 * r, 3 - 0.12 * r,
                                        fill=False, color=f"C{r}", lw=2))
    axes[0].set(title="receptive fields of the 4 outputs", xticks=[], yticks=[])
    axes[1].imshow(cols, cmap="Greys", alpha=0.3, aspect="auto")
    for (i, j), v in np.ndenumerate(cols):
        axes[1].text(j, i, int(v), ha="center", va="center", color=f"C{i}")
    axes[1].set(title="cols = im2col(x, 3, 3): row r is the field of output r", xticks=[], yticks=range(4))
    plt.tight_layout(); plt.show()
    '''),
    md(r'''
    Is it right? Compare with the definition, written as the obvious loops:
    '''),
    code(r'''
    def conv_naive(x, w, b, pad=0):
        """out[n, f, i, j] = b[f] + Σ_c Σ_l Σ_m w[f, c, l, m] x[n, c, i + l, j + m] — loops, straight from the formula."""
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        N, C, H, W = x.shape
        F, _, k, _ = w.shape
        out = np.zeros((N, F, H - k + 1, W - k + 1))
        for n in range(N):
            for f in range(F):
                for i in range(H - k + 1):
                    for j in range(W - k + 1):
                        out[n, f, i, j] = b[f] + np.sum(w[f] * x[n, :, i:i + k, j:j + k])
        return out

    xr, wr, br = np.random.default_rng(0).normal(size=(8, 3, 12, 12)), np.random.default_rng(1).normal(size=(4, 3, 3, 3)), np.arange(4.0)
    t0 = time.perf_counter(); slow = conv_naive(xr, wr, br, pad=1); t_naive = time.perf_counter() - t0
    t0 = time.perf_counter(); fast, _ = layers.conv_forward(xr, wr, br, pad=1); t_im2col = time.perf_counter() - t0
    print(f"relative error im2col vs loops: {gradcheck.rel_error(fast, slow):.1e}")
    print(f"loops {t_naive * 1e3:.1f} ms, im2col {t_im2col * 1e3:.2f} ms ({t_naive / t_im2col:.0f}× faster)")
    print("the backward pass checks out too:", gradcheck.check_layer(Conv2D(3, 4, 3, pad=1), xr[:2]))
    '''),
    md(r'''
    ## 3. Pooling

    Max pooling keeps the largest value of each $2\times2$ window (stride 2): the map shrinks by 2 in each
    direction, and a feature that moves by a pixel inside a window gives the same output — a little
    translation invariance, and fewer numbers for the next layer. (LeNet-5's "subsampling" averaged instead
    of taking the maximum.) In backpropagation the gradient flows only to the input that was the maximum.
    '''),
    code(r'''
    x_pool = np.array([[1, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 6], [2, 2, 7, 1]], float).reshape(1, 1, 4, 4)
    pooled, cache = layers.maxpool_forward(x_pool, size=2)
    print("input:\n", x_pool[0, 0], "\n2×2 max pooling:\n", pooled[0, 0])
    print("gradient of sum(pooled) w.r.t. the input:\n", layers.maxpool_backward(np.ones_like(pooled), cache)[0, 0])
    '''),
    md(r'''
    ## 4. LeNet-5

    Deck 003 shows LeCun et al.'s LeNet-5 (1998) for MNIST: local 5×5 receptive fields, 2×2 subsampling,
    shared weights. (The slide's figure did not survive; the table follows the paper. Input: 32×32, the
    28×28 digit padded by 2.)

    | layer | type | feature maps | size | kernel | trainable parameters |
    |---|---|---|---|---|---|
    | input | | 1 | 32×32 | | |
    | C1 | convolution | 6 | 28×28 | 5×5 | 6·(25 + 1) = 156 |
    | S2 | subsampling | 6 | 14×14 | 2×2 | 12 |
    | C3 | convolution | 16 | 10×10 | 5×5 | 1,516 (each map sees a subset of S2's maps) |
    | S4 | subsampling | 16 | 5×5 | 2×2 | 32 |
    | C5 | convolution | 120 | 1×1 | 5×5 | 48,120 |
    | F6 | fully connected | 84 | | | 10,164 |
    | output | RBF units | 10 | | | 840 |

    About 60,000 parameters — less than three times Nielsen's $[784, 30, 10]$ network, for about 99% on
    MNIST (deck 001: "a much better NN (~99%)"). In `nnlib`, with today's choices (ReLU, max pooling, every C3
    map connected to all of S2, softmax output):
    '''),
    code(r'''
    lenet = Model([Conv2D(1, 6, 5, pad=2), ReLU(), MaxPool2D(2),
                   Conv2D(6, 16, 5), ReLU(), MaxPool2D(2),
                   Flatten(), Dense(16 * 5 * 5, 120), ReLU(), Dense(120, 84), ReLU(), Dense(84, 10)])
    a = np.zeros((1, 1, 28, 28))
    print(f"{'input':42s} {str(a.shape[1:]):14s}")
    for layer in lenet.layers:
        a = layer(a)
        n_par = sum(p.size for p in layer.params.values())
        print(f"{layer!r:42s} {str(a.shape[1:]):14s} {n_par:8,d} parameters" if n_par else f"{layer!r:42s} {str(a.shape[1:])}")
    print(f"total: {diagnostics.count_params(lenet):,d} parameters")
    '''),
    md(r'''
    ## 5. A small CNN on the digits

    The 8×8 digits are too small for LeNet, so a small version: eight 3×3 filters (padding 1), ReLU, 2×2 max
    pooling, and a dense softmax layer — 1,370 parameters, against 7,510 for an MLP with 100 hidden neurons.
    Images go in as $(N, C, H, W) = (N, 1, 8, 8)$.
    '''),
    code(r'''
    (Xtr, ytr), (Xva, yva), (Xte, yte) = datasets.digits()
    img = lambda X: X.reshape(-1, 1, 8, 8)

    nnlib.seed(0)
    cnn = Model([Conv2D(1, 8, 3, pad=1), ReLU(), MaxPool2D(2), Flatten(), Dense(8 * 4 * 4, 10)])
    mlp = Model([Dense(64, 100, "he"), ReLU(), Dense(100, 10)])
    epochs = 15 if QUICK else 30
    h_cnn = train.fit(cnn, (img(Xtr), ytr), (img(Xva), yva), epochs=epochs, batch_size=32, optimizer="adam", lr=0.01, seed=0)
    h_mlp = train.fit(mlp, (Xtr, ytr), (Xva, yva), epochs=epochs, batch_size=32, optimizer="adam", lr=0.01, seed=0, progress=False)
    print(f"CNN ({diagnostics.count_params(cnn)} parameters): test accuracy {train.evaluate(cnn, img(Xte), yte)['accuracy']:.3f}")
    print(f"MLP ({diagnostics.count_params(mlp)} parameters): test accuracy {train.evaluate(mlp, Xte, yte)['accuracy']:.3f}")
    viz.plot_history(h_cnn, title="small CNN on the 8×8 digits"); plt.show()
    '''),
    md(r'''
    What did the filters learn? Each is a 3×3 pattern (red positive, blue negative); below them, the eight
    feature maps they produce for one test digit.
    '''),
    code(r'''
    viz.plot_filters(cnn.layers[0], title="learned 3×3 filters"); plt.show()
    fmaps = cnn.layers[1](cnn.layers[0](img(Xte[:1])))[0]
    viz.image_grid(np.concatenate([img(Xte[:1])[0], fmaps]), ncols=9,
                   titles=[f"digit {yte[0]}"] + [f"map {f}" for f in range(8)], figsize=(12, 1.8))
    plt.show()
    '''),
    md(r'''
    ## 6. The full-MNIST CNN

    Trained on all of MNIST, a CNN of this kind is where the ~99% of deck 001 comes from. The recorded full
    run (architecture and settings in the history file; see `bench/` for how it was made):
    '''),
    HISTORY_LOADER,
    code(r'''
    cnn_run = load_history("cnn.json")
    if cnn_run is not None:
        acc = accuracies(cnn_run)
        print(f"{len(acc)} epochs; best validation/test accuracy {max(acc):.2%}, last {acc[-1]:.2%}")
        extra = {k: v for k, v in cnn_run.items() if not isinstance(v, list)}
        print("recorded settings:", extra)
        viz.plot_history(cnn_run, title="CNN on full MNIST (recorded run)"); plt.show()
    '''),
    md(r'''
    ## Summary

    * Convolution = local receptive fields + shared weights: few parameters, and feature maps that move with
      the image (equivariance); pooling adds a little invariance and shrinks the maps.
    * im2col turns convolution into one matrix product — checked against the naive loops.
    * LeNet-5: C1–S2–C3–S4–C5–F6, about 60,000 parameters, ~99% on MNIST.
    * On the tiny 8×8 digits a 1,370-parameter CNN comes within a point or two of a 7,510-parameter MLP;
      on 28×28 MNIST, where shapes can sit anywhere in a larger image, the CNN pulls clearly ahead.

    **Exercises.** (1) Give the small CNN 16 filters and a second convolution layer: does test accuracy move?
    (2) Shift the test digits by one pixel (`np.roll`) and compare the accuracy drop of the CNN and the MLP.
    (3) Count the multiply-adds of C1 in LeNet-5 and compare with a dense layer producing the same 6×28×28 outputs.
    '''),
]

# ======================================================================================= 08
NOTEBOOKS["08_mnist_gpu.ipynb"] = [
    md(r'''
    # Lecture 8 — The final MNIST runs, on a GPU

    Everything in `nnlib` is written against an *array module* `xp` — NumPy on the CPU or CuPy on an NVIDIA
    GPU — so the same networks run on either. Why a GPU helps (deck 002, "Why GPU?"): training is almost
    all matrix products (lecture 5: one product per layer for a whole minibatch; lecture 7: convolution as
    one product via im2col), and a GPU has thousands of cores to do the multiply-adds in parallel instead of
    a CPU's handful.

    This notebook trains an MLP and a CNN on MNIST, evaluates them properly (confusion matrix, ROC curves
    per class, the digits they get wrong), and compares CPU and GPU times.
    '''),
    SETUP,
    code(r'''
    from pathlib import Path

    from nnlib import Conv2D, Dense, Flatten, MaxPool2D, Model, ReLU, metrics, train, viz
    from nnlib import backend as B

    xp = nnlib.use("auto")          # CuPy if a GPU really works, else NumPy (with a warning)
    ON_GPU = B.name() == "cupy"
    if ON_GPU:
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(0)
        print(f"Running on the GPU: {props['name'].decode()} (CuPy {cupy.__version__})")
    else:
        print("No working GPU here: this notebook runs on the CPU with NumPy. Everything works the same, only slower;\n"
              "the runs below are shortened, and the GPU column of the time table stays empty.")
    '''),
    LOAD_MNIST,
    code(r'''
    split, source, shape = load_digits_or_mnist()
    (Xtr, ytr), (Xva, yva), (Xte, yte) = split
    Xtr, Xva, Xte = (X.astype(np.float32) for X in (Xtr, Xva, Xte))
    H, W_ = shape

    if QUICK:                                  # CI / test-suite: a taste only
        n_train, ep_mlp, ep_cnn = min(len(Xtr), 5000), 3, 1
        (Xva, yva), (Xte, yte) = (Xva[:2000], yva[:2000]), (Xte[:5000], yte[:5000])
    elif ON_GPU:                               # the real thing
        n_train, ep_mlp, ep_cnn = len(Xtr), 20, 10
    else:                                      # CPU, no rush: full data, fewer epochs
        n_train, ep_mlp, ep_cnn = len(Xtr), 10, 2
    if source.startswith("digits"):
        ep_mlp, ep_cnn = 20, 10
    Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    print(f"{source}: {len(Xtr)} training, {len(Xva)} validation, {len(Xte)} test images of {H}×{W_}; "
          f"MLP {ep_mlp} epochs, CNN {ep_cnn} epochs on {B.name()}")
    '''),
    md(r'''
    ## 1. The MLP

    $[784, 100, 10]$ with a ReLU hidden layer and a softmax cross-entropy output, Adam with η = 0.001,
    minibatches of 64, float32 (GPUs are much faster in single precision; float64 is only needed for
    gradient checks).
    '''),
    code(r'''
    def to_images(X):
        return X.reshape(-1, 1, H, W_)

    nnlib.seed(0)
    mlp = Model([Dense(H * W_, 100, "he", dtype=np.float32), ReLU(), Dense(100, 10, dtype=np.float32)])
    h_mlp = train.fit(mlp, (Xtr, ytr), (Xva, yva), epochs=ep_mlp, batch_size=64, optimizer="adam", lr=1e-3, seed=0)
    res_mlp = train.evaluate(mlp, Xte, yte)
    print(f"MLP: test accuracy {res_mlp['accuracy']:.2%}; {np.median(h_mlp.seconds):.2f} s per epoch "
          f"(median, incl. validation; {len(Xtr) / np.median(h_mlp.seconds):,.0f} training images/s)")
    viz.plot_history(h_mlp, title=f"MLP on {source}"); plt.show()
    '''),
    md(r'''
    ## 2. The CNN

    Two convolution + max-pooling stages (16 and 32 filters of 5×5 — 3×3 with padding for the 8×8 digits),
    then a dense layer of 100 and the softmax output; Adam with η = 0.001.
    '''),
    code(r'''
    def make_cnn():
        nnlib.seed(0)
        f32 = dict(dtype=np.float32)
        if H == 28:
            feats = [Conv2D(1, 16, 5, **f32), ReLU(), MaxPool2D(2),          # 16 × 12 × 12
                     Conv2D(16, 32, 5, **f32), ReLU(), MaxPool2D(2)]         # 32 × 4 × 4
            n_flat = 32 * 4 * 4
        else:
            feats = [Conv2D(1, 16, 3, pad=1, **f32), ReLU(), MaxPool2D(2)]   # 16 × 4 × 4
            n_flat = 16 * 4 * 4
        return Model(feats + [Flatten(), Dense(n_flat, 100, "he", **f32), ReLU(), Dense(100, 10, **f32)])

    cnn = make_cnn()
    h_cnn = train.fit(cnn, (to_images(Xtr), ytr), (to_images(Xva), yva), epochs=ep_cnn, batch_size=64,
                      optimizer="adam", lr=1e-3, seed=0)
    res_cnn = train.evaluate(cnn, to_images(Xte), yte)
    print(f"CNN: test accuracy {res_cnn['accuracy']:.2%}; {np.median(h_cnn.seconds):.2f} s per epoch "
          f"(median, incl. validation; {len(Xtr) / np.median(h_cnn.seconds):,.0f} training images/s)")
    '''),
    md(r'''
    ## 3. How good is it, and where does it fail?

    Accuracy is one number. The **confusion matrix** (deck 001) shows which digits are taken for which:
    row = true class, column = predicted class, the diagonal are the correct answers.
    '''),
    code(r'''
    logits = cnn.forward(to_images(Xte))
    probs = nnlib.to_host(A.softmax(logits))
    pred = probs.argmax(axis=1)
    cm = metrics.confusion_matrix(yte, pred, k=10)
    fig, ax = plt.subplots(figsize=(6, 5.5))
    viz.plot_confusion_matrix(cm, ax=ax, title=f"CNN on the {source} test set"); plt.show()
    precision, recall = metrics.precision_recall(cm)
    for d in range(10):
        print(f"digit {d}: precision {precision[d]:.3f}  recall (TPR) {recall[d]:.3f}")
    '''),
    md(r'''
    **ROC curves** (deck 001: true-positive rate against false-positive rate). Treat "is it a 3?" as a yes/no
    question answered by the score $p_3$ of the softmax output; sweeping the threshold from 1 down to 0 traces
    the curve from (0, 0) to (1, 1). The area under it (AUC) is the probability that a random 3 scores higher
    than a random non-3: 1 is perfect, 0.5 is guessing. One curve per class ("one vs rest"):
    '''),
    code(r'''
    rocs = metrics.roc_per_class(yte, probs)
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    viz.plot_roc(rocs, ax=axes[0], title="ROC per class")
    viz.plot_roc(rocs, ax=axes[1], title="the top-left corner, enlarged")
    axes[1].set(xlim=(0, 0.1), ylim=(0.8, 1.0)); axes[1].set_aspect("auto")
    plt.tight_layout(); plt.show()
    print("AUC per class:", {d: round(r.auc, 4) for d, r in rocs.items()})
    '''),
    md(r'''
    And the test digits it gets wrong, titled "true → predicted". Many are hard for people too.
    '''),
    code(r'''
    viz.plot_misclassified(Xte, yte, pred, shape=(H, W_), n=24, ncols=8); plt.show()
    '''),
    md(r'''
    ## 4. CPU against GPU

    The benchmark in `bench/` times the same networks on both backends with full MNIST; its results are in
    `bench/RESULTS.md`. This run's own times are in the last column — on the GPU only when one was found.
    '''),
    code(r'''
    results_md = Path("../bench/RESULTS.md") if Path("../bench/RESULTS.md").exists() else Path("bench/RESULTS.md")
    if results_md.exists():
        print(results_md.read_text())
    else:
        print("TODO(lead): bench/RESULTS.md has not been written yet — run the benchmark to fill in the CPU/GPU figures.")

    here = "GPU (CuPy)" if ON_GPU else "CPU (NumPy)"
    print(f"\nThis run, {source}, {len(Xtr)} training images, float32, minibatch 64, backend {here}\n"
          f"(seconds per epoch include measuring the {len(Xva)} validation images):")
    print(f"{'network':8s} {'s / epoch':>10s} {'images / s':>12s} {'test accuracy':>14s}")
    for name, h, r in [("MLP", h_mlp, res_mlp), ("CNN", h_cnn, res_cnn)]:
        s = float(np.median(h.seconds))
        print(f"{name:8s} {s:10.2f} {len(Xtr) / s:12,.0f} {r['accuracy']:14.2%}")
    if not ON_GPU:
        print("\nGPU column: not measured — this notebook ran on the CPU (no working CuPy/GPU found).")
    '''),
    md(r'''
    What to expect: for the small MLP the GPU gains less than you might think — each minibatch of 64 is too
    small to keep thousands of cores busy, and the Python overhead per step is the same on both. The CNN
    does far more arithmetic per image (im2col matrices are large), and there the GPU's advantage is
    largest. Larger minibatches help the GPU further.

    ## Summary

    * `nnlib.use("auto")` picks CuPy when a GPU works; the same code then runs on the GPU.
    * Evaluate beyond accuracy: confusion matrix, per-class precision/recall, ROC curves and AUC, and look at
      the mistakes.
    * GPUs win where the work is large matrix products: big layers, convolutions, big minibatches.

    **Exercises.** (1) Train the CNN with minibatches of 256 and compare the time per epoch on CPU and GPU.
    (2) Which pair of digits is confused most often? Look at those test images. (3) Train on Fashion-MNIST
    (`load_mnist("fashion")`) with the same code: which classes get confused now?
    '''),
]


def main(names: list[str]) -> None:
    for name, cells in NOTEBOOKS.items():
        if names and not any(n in name for n in names):
            continue
        print("wrote", write(name, cells))


if __name__ == "__main__":
    main(sys.argv[1:])
