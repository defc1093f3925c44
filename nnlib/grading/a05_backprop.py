"""Assignment 5 — backpropagation: one example, a whole minibatch, and a network the prompt does not derive.

The learner's function gets a :class:`~nnlib.grading.provided.Net` (weights and biases, no ``backprop``) and
may use NumPy, ``sigmoid`` and ``sigmoid_prime``.  Every answer is compared with nnlib's ``Network.backprop``
(and once with central differences); a wrong one is compared with the classic mistakes, computed by
:func:`variant`, on a square network (all layers of equal width, batch size equal to it) first, so that a
mistake that a shape error would hide elsewhere is named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnlib import activations as A
from nnlib import gradcheck as G
from nnlib.grading._core import GradingError, close, fail, fname, host, invoke, judge, ok
from nnlib.grading.provided import Net

ALLOWED = [A.sigmoid, A.sigmoid_prime]
ALLOWED_TEXT = "NumPy, sigmoid, sigmoid_prime, net.weights, net.biases, net.sizes, net.num_layers"
BACKPROP_CASES = [([4, 4, 4, 4], 3, 4), ([3, 4, 2], 0, 5), ([4, 5, 3, 2], 1, 6)]
SINGLE_CASES = [([4, 4, 4, 4], 3, 1), ([3, 4, 2], 0, 1), ([4, 5, 3, 2], 1, 1)]

MISTAKES = {
    "bp1": "matches a gradient computed without σ'(z^L) in the output error: BP1 is δ^L = (a^L − y) ⊙ σ'(z^L)",
    "bp2": "matches a gradient computed without σ'(z^l) in the hidden layers: BP2 is "
           "δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)",
    "at_a": "evaluates σ' at the activation a^l instead of the weighted input z^l: use σ'(z^l) "
            "(for the sigmoid, a^l (1 − a^l) is the same number)",
    "w_same": "uses the weights w^l of the same layer in BP2: the error comes back through the weights of the "
              "layer above, δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l) — in code net.weights[-l + 1], not [-l]",
    "no_T": "multiplies δ^(l+1) by w^(l+1) instead of its transpose in BP2: δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)",
    "prime_up": "takes σ' one layer too high (σ'(z^(l+1)) in BP2): δ^l uses σ'(z^l) of its own layer",
    "prime_down": "takes σ' one layer too low (σ'(z^(l−1)) in BP2): δ^l uses σ'(z^l) of its own layer",
    "matmul": "uses a matrix product where BP2 has the elementwise (Hadamard) product ⊙: "
              "δ^l = ((w^(l+1))ᵀ δ^(l+1)) * σ'(z^l) with *, not @",
    "matmul_out": "uses a matrix product where BP1 has the elementwise product ⊙: δ^L = (a^L − y) * σ'(z^L)",
    "a_same": "uses the layer's own activation a^l in BP4: ∂C/∂w^l = δ^l (a^(l−1))ᵀ, the activation of the layer "
              "below (in code activations[-l - 1], not [-l])",
    "bias_axis": "sums δ over the wrong axis in BP3: the examples are the columns, so ∂C/∂b^l = δ^l summed over "
                 "axis 1, shape (n_l, 1) like net.biases",
    "last": "equals the gradient of the last example of the batch alone: the examples' gradients were overwritten "
            "instead of added up — accumulate each example's contribution (nabla_w[l] += ...) or sum over the "
            "batch",
    "first": "equals the gradient of the first example of the batch alone: every example's contribution must be "
             "added up (nabla_w[l] += ...) or summed over the batch",
}


def variant(net: Any, x: np.ndarray, y: np.ndarray, kind: str | None = None) -> tuple[list, list] | None:
    """Backprop (sigmoid, quadratic cost, Nielsen's column layout), or one classic mistake ``kind``.

    Returns None when the mistake cannot be computed for these shapes (it would raise there).
    """
    s, sp = A.sigmoid, A.sigmoid_prime
    try:
        with np.errstate(all="ignore"):
            a, acts, zs = x, [x], []
            for b, w in zip(net.biases, net.weights):
                z = w @ a + b
                zs.append(z)
                a = s(z)
                acts.append(a)
            L = net.num_layers

            def prime(i: int) -> np.ndarray:
                return sp(acts[i]) if kind == "at_a" else sp(zs[i])

            if kind == "bp1":
                delta = acts[-1] - y
            elif kind == "matmul_out":
                delta = (acts[-1] - y) @ prime(-1)
            else:
                delta = (acts[-1] - y) * prime(-1)
            nb: list[Any] = [None] * len(net.biases)
            nw: list[Any] = [None] * len(net.weights)

            def bias(d: np.ndarray) -> np.ndarray:
                return d.sum(axis=0, keepdims=True) if kind == "bias_axis" else d.sum(axis=1, keepdims=True)

            def wgrad(d: np.ndarray, l: int) -> np.ndarray:
                return d @ (acts[-l] if kind == "a_same" else acts[-l - 1]).T

            nb[-1], nw[-1] = bias(delta), wgrad(delta, 1)
            for l in range(2, L):
                W = net.weights[-l] if kind == "w_same" else net.weights[-l + 1]
                back = W @ delta if kind == "no_T" else W.T @ delta
                if kind == "bp2":
                    delta = back
                elif kind == "prime_up":
                    delta = back * sp(zs[-l + 1])
                elif kind == "prime_down":
                    if l + 1 > len(zs):
                        return None
                    delta = back * sp(zs[-l - 1])
                elif kind == "matmul":
                    delta = back @ prime(-l)
                else:
                    delta = back * prime(-l)
                nb[-l], nw[-l] = bias(delta), wgrad(delta, l)
            return nb, nw
    except ValueError:
        return None


def _reference_net(sizes: Sequence[int], seed: int) -> Any:
    from nnlib.network import Network

    return Network(list(sizes), seed=seed)


def _call(fn: Any, name: str, *args: Any) -> Any:
    return invoke(fn, name, *args, allowed=ALLOWED, allowed_text=ALLOWED_TEXT)


def _data(sizes: Sequence[int], seed: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1000)
    return rng.standard_normal((sizes[0], m)), rng.random((sizes[-1], m))


def check_backprop(backprop: Callable, cases: Sequence | None = None, single: bool = False,
                   show_values: bool = True) -> None:
    """``backprop(net, x, y) -> (nabla_b, nabla_w)`` for a sigmoid network with the quadratic cost.

    x has shape (n_in, m), y (n_out, m); the result is the **sum** over the m columns of the per-example
    gradients (Nielsen's convention; ``single=True``: one example, m = 1).  ``cases``: list of
    (sizes, seed, m).
    """
    name = fname(backprop, "backprop")
    show = show_values
    worst = 0.0
    cfg = cases if cases is not None else (SINGLE_CASES if single else BACKPROP_CASES)
    for k, (sz, seed, m) in enumerate(cfg):
        sz, m = [int(v) for v in sz], 1 if single else int(m)
        ref_net = _reference_net(sz, int(seed))
        net = Net(sz, ref_net.weights, ref_net.biases)
        x, y = _data(sz, int(seed), m)
        case = (f"{name}(net, x, y) for a network of sizes {sz} with x of shape {x.shape}"
                + (f" — a batch of m = {m} examples (columns)" if m > 1 else " — one example"))
        w0 = [w.copy() for w in net.weights]
        b0 = [b.copy() for b in net.biases]
        ref_b, ref_w = ref_net.backprop(x, y)
        got = _call(backprop, name, net, x.copy(), y.copy())
        if any(not np.array_equal(w, v) for w, v in zip(net.weights, w0)) or \
                any(not np.array_equal(b, v) for b, v in zip(net.biases, b0)):
            fail(f"{name} changed net.weights or net.biases: backprop only computes the gradients; "
                 "the update belongs in update_mini_batch", case)
        if got is None:
            fail(f"{name} returned None: return the pair (nabla_b, nabla_w)", case)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(f"{name} should return a pair (nabla_b, nabla_w) of lists, got {type(got).__name__}"
                 + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""), case)
        n = len(ref_w)
        lists = []
        for item, what in zip(got, ("nabla_b", "nabla_w")):
            if not isinstance(item, (list, tuple)) or len(item) != n:
                got_n = "None" if item is None else (len(item) if isinstance(item, (list, tuple)) else
                                                     type(item).__name__)
                fail(f"{name}: {what} should be a list of {n} arrays, one per layer after the input "
                     f"(like net.{'biases' if what == 'nabla_b' else 'weights'}), got {got_n}", case)
            lists.append(list(item))
        gb, gw = lists
        if all(close(gb[l], ref_w[l]) for l in range(n)) and all(close(gw[l], ref_b[l]) for l in range(n)):
            fail(f"{name} returned (nabla_w, nabla_b): Nielsen's order is (nabla_b, nabla_w), like "
                 "(biases, weights)", case)
        # whole-answer mistakes first: one name for the bug, not one per layer
        variants = {kind: variant(ref_net, x, y, kind) for kind in MISTAKES if kind not in ("last", "first")}
        if m > 1:
            variants["last"] = ref_net.backprop(x[:, -1:], y[:, -1:])
            variants["first"] = ref_net.backprop(x[:, :1], y[:, :1])
        correct = all(close(gb[l], ref_b[l]) for l in range(n)) and all(close(gw[l], ref_w[l]) for l in range(n))
        if not correct:
            for kind, v in variants.items():
                if v is None:
                    continue
                vb, vw = v
                if any(not close(vw[l], ref_w[l]) or not close(vb[l], ref_b[l]) for l in range(n)) and \
                        all(close(gw[l], vw[l]) for l in range(n)) and all(close(gb[l], vb[l]) for l in range(n)):
                    fail(f"the gradient from {name} {MISTAKES[kind]}.", case)
        suspects = G.network_suspects(ref_net, x, y)
        failures = []
        for l in reversed(range(n)):
            for what, cand_list, ref_list, idx in (("nabla_w", gw, ref_w, 1), ("nabla_b", gb, ref_b, 0)):
                label = f"{what}[{l}]"
                cand = cand_list[l]
                try:
                    ch = host(cand)
                except (TypeError, ValueError):
                    ch = None
                if ch is not None and ch.shape != np.shape(ref_list[l]):
                    other = next((o for o in range(n) if o != l and close(ch, ref_list[o])), None)
                    if other is not None:
                        failures.append(f"{label} " + G.HINTS["other_layer"].format(other=f"{what}[{other}]")
                                        + " (or the list is in reverse order: index 0 is the first layer "
                                          "after the input).")
                        continue
                custom = {MISTAKES[kind]: v[idx][l] for kind, v in variants.items() if v is not None}
                try:
                    d = judge(cand, ref_list[l], label, case, show, batch_size=m if m > 1 else None,
                              suspects=dict(suspects[what][l].items()), custom=custom)
                    worst = max(worst, d.rel_error or 0.0)
                except GradingError as exc:
                    failures.append(str(exc).split("\n  (test case")[0])
        if failures:
            more = ""
            if len(failures) > 1:
                more = f"\n  Also wrong: {', '.join(f.split(' ')[0] for f in failures[1:])}."
            fail(failures[0] + more, case)
        if k == 0 and show:
            worst = max(worst, _numeric_error(ref_net, x, y, gb, gw))
    what = "for one example" if single else "over a minibatch"
    ok(f"{name} looks correct {what}: it matches nnlib's Network.backprop"
       + (" and central differences" if show else "") + f" (largest relative error {worst:.1e})")


def _numeric_error(net: Any, x: np.ndarray, y: np.ndarray, gb: list, gw: list) -> float:
    def cost(_: Any) -> float:
        a = x
        for b, w in zip(net.biases, net.weights):
            a = A.sigmoid(w @ a + b)
        return float(0.5 * np.sum((a - y) ** 2))

    err = 0.0
    for i in range(len(net.weights)):
        err = max(err, G.rel_error(host(gw[i]), G.numerical_gradient(cost, net.weights[i])),
                  G.rel_error(host(gb[i]).reshape(net.biases[i].shape), G.numerical_gradient(cost, net.biases[i])))
    return err
