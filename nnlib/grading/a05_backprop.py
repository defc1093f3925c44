"""Assignment 5 — backpropagation: one example, a minibatch, and two parts the prompt does not derive.

* ``backprop_single`` / ``backprop`` (exercises 1–2): a sigmoid network with the quadratic cost, BP1–BP4 given.
  Compared with nnlib's ``Network.backprop`` (and once with central differences).
* ``softmax_delta`` (exercise 3): δ^L = ∂C/∂z^L for a softmax output layer with the cross-entropy cost
  C = −Σ_j y_j ln a^L_j; the prompt gives the cost and the softmax, not δ^L (= a^L − y).
* ``backprop_relu_softmax`` (exercise 4): ReLU hidden layers, softmax output, cross-entropy, summed over the
  batch columns; the prompt gives the network, not its equations.  The reference is computed here with NumPy
  (:func:`relu_variant` with ``kind=None``) and checked against central differences in the public self-check.

The learner's function gets a :class:`~nnlib.grading.provided.Net` (weights and biases, no ``backprop``) and
may use NumPy, ``sigmoid``, ``sigmoid_prime`` and ``softmax``.  A wrong answer is compared with the classic
mistakes, computed by :func:`variant` / :func:`relu_variant` / :func:`delta_variant`, on a square case first
(all layers of equal width, batch size equal to it) so that a mistake a shape error would hide is named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnlib import activations as A
from nnlib import gradcheck as G
from nnlib.grading._core import GradingError, close, fail, fname, host, invoke, judge, ok
from nnlib.grading.families import through_cases
from nnlib.grading.memo import once
from nnlib.grading.provided import Net

ALLOWED = [A.sigmoid, A.sigmoid_prime, A.softmax]
ALLOWED_TEXT = "NumPy, sigmoid, sigmoid_prime, softmax, net.weights, net.biases, net.sizes, net.num_layers"
BACKPROP_CASES = [([4, 5, 3, 2], 1, 6), ([4, 4, 4, 4], 3, 4), ([3, 4, 2], 0, 5)]  # first: all sizes differ
SINGLE_CASES = [([4, 5, 3, 2], 1, 1), ([4, 4, 4, 4], 3, 1), ([3, 4, 2], 0, 1)]
DELTA_CASES = [(3, 6, 8, 3.0), (4, 4, 7, 3.0), (5, 2, 9, 1000.0)]  # (n_out, m, seed, scale of z)
# (sizes, seed, m, zeros): zeros → one example is all zeros and half the first layer's biases are 0, so some
# z^2 are exactly 0 (ReLU'(0) = 0 is tested)
RELU_CASES = [([3, 5, 4], 1, 6, False), ([4, 4, 4, 4], 3, 4, False), ([4, 4, 4], 5, 4, True),
              ([5, 4, 3, 6], 2, 7, True)]

MISTAKES = {
    "bp1": "matches a gradient computed without σ'(z^L) in the output error: BP1 is δ^L = (a^L − y) ⊙ σ'(z^L)",
    "bp2": "matches a gradient computed without σ'(z^l) in the hidden layers: BP2 is "
           "δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)",
    "at_a": "evaluates σ' at the activation a^l instead of the weighted input z^l: use σ'(z^l) "
            "(for the sigmoid, a^l (1 − a^l) is the same number)",
    "at_a_hidden": "evaluates σ' at the activation a^l instead of the weighted input z^l in BP2: use σ'(z^l) "
                   "(for the sigmoid, a^l (1 − a^l) is the same number)",
    "sig_for_prime": "multiplies by σ(z^l) instead of σ'(z^l) in BP1 and BP2: the factor is the derivative, "
                     "σ'(z) = σ(z)(1 − σ(z)) (sigmoid_prime), not the activation σ(z) itself",
    "sig_for_prime_out": "multiplies by σ(z^L) instead of σ'(z^L) in BP1: δ^L = (a^L − y) ⊙ σ'(z^L), the "
                         "derivative (sigmoid_prime), not the activation σ(z) itself",
    "sig_for_prime_hidden": "multiplies by σ(z^l) instead of σ'(z^l) in BP2: δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l), "
                            "the derivative (sigmoid_prime), not the activation σ(z) itself",
    "za_swap": "has z^L and a^L swapped in BP1: δ^L = (a^L − y) ⊙ σ'(z^L) — the error is the activation a^L "
               "minus y, and σ' is evaluated at the weighted input z^L",
    "w_same": "uses the weights w^l of the same layer in BP2: the error comes back through the weights of the "
              "layer above, δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l) — in code net.weights[-l + 1], not [-l]",
    "no_T": "multiplies δ^(l+1) by w^(l+1) instead of its transpose in BP2: δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)",
    "prime_up": "takes σ' one layer too high (σ'(z^(l+1)) in BP2): δ^l uses σ'(z^l) of its own layer",
    "matmul": "uses a matrix product where BP2 has the elementwise (Hadamard) product ⊙: "
              "δ^l = ((w^(l+1))ᵀ δ^(l+1)) * σ'(z^l) with *, not @",
    "matmul_out": "uses a matrix product where BP1 has the elementwise product ⊙: δ^L = (a^L − y) * σ'(z^L)",
    "a_same": "uses the layer's own activation a^l in BP4: ∂C/∂w^l = δ^l (a^(l−1))ᵀ, the activation of the layer "
              "below (in code activations[-l - 1], not [-l])",
    "bias_axis": "sums δ over the wrong axis in BP3: the examples are the columns, so ∂C/∂b^l = δ^l summed over "
                 "axis 1, shape (n_l, 1) like net.biases",
    "a_no_T": "multiplies δ^l by a^(l−1) instead of its transpose in BP4: ∂C/∂w^l = δ^l (a^(l−1))ᵀ",
    "delta_late": "computes ∂C/∂b^l and ∂C/∂w^l of a hidden layer with δ^(l+1), the error of the layer above: "
                  "first compute δ^l with BP2, then use it in BP3 and BP4",
    "sign": "has the opposite sign: the output error is a^L − y, not y − a^L",
    "mean": "is divided by the batch size m: return the sum over the examples (update_mini_batch divides by m "
            "later)",
    "last": "equals the gradient of the last example of the batch alone: the examples' gradients were overwritten "
            "instead of added up — accumulate each example's contribution (nabla_w[l] += ...) or sum over the "
            "batch",
    "first": "equals the gradient of the first example of the batch alone: every example's contribution must be "
             "added up (nabla_w[l] += ...) or summed over the batch",
}


def _variant_grads(kind: str | None, scale: float, acts: list) -> tuple[Callable, Callable]:
    """BP3 and BP4 as a mistaken answer ``kind`` writes them (sum over the wrong axis, a^l instead of a^{l−1},
    no transpose, a mean): ``bias(δ)`` and ``wgrad(δ, l)`` for the layer l from the end."""
    def bias(d: np.ndarray) -> np.ndarray:
        return scale * (d.sum(axis=0, keepdims=True) if kind == "bias_axis" else d.sum(axis=1, keepdims=True))

    def wgrad(d: np.ndarray, l: int) -> np.ndarray:
        a_in = acts[-l] if kind == "a_same" else acts[-l - 1]
        return scale * (d @ a_in if kind == "a_no_T" else d @ a_in.T)
    return bias, wgrad


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
                if kind == "at_a" or (kind == "at_a_hidden" and i != -1) or (kind == "za_swap" and i == -1):
                    return sp(acts[i])
                if kind == "sig_for_prime" or (kind == "sig_for_prime_out" and i == -1) or \
                        (kind == "sig_for_prime_hidden" and i != -1):
                    return s(zs[i])
                return sp(zs[i])

            err = (y - acts[-1]) if kind == "sign" else (zs[-1] - y) if kind == "za_swap" else (acts[-1] - y)
            if kind == "bp1":
                delta = err
            elif kind == "matmul_out":
                delta = err @ prime(-1)
            else:
                delta = err * prime(-1)
            nb: list[Any] = [None] * len(net.biases)
            nw: list[Any] = [None] * len(net.weights)
            scale = 1.0 / x.shape[1] if kind == "mean" else 1.0

            bias, wgrad = _variant_grads(kind, scale, acts)

            nb[-1], nw[-1] = bias(delta), wgrad(delta, 1)
            for l in range(2, L):
                late = (bias(delta), wgrad(delta, l)) if kind == "delta_late" else None
                W = net.weights[-l] if kind == "w_same" else net.weights[-l + 1]
                back = W @ delta if kind == "no_T" else W.T @ delta
                if kind == "bp2":
                    delta = back
                elif kind == "prime_up":
                    delta = back * sp(zs[-l + 1])
                elif kind == "matmul":
                    delta = back @ prime(-l)
                else:
                    delta = back * prime(-l)
                nb[-l], nw[-l] = late or (bias(delta), wgrad(delta, l))
            return nb, nw
    except ValueError:
        return None


# ---------------------------------------------------------------- exercise 4: ReLU hidden layers, softmax output

RELU_MISTAKES = {
    "sigma_out": "multiplies the output error by σ'(z^L): with a softmax output and the cross-entropy cost the "
                 "σ' factor cancels — derive ∂C/∂z^L_j = Σ_k (∂C/∂a^L_k)(∂a^L_k/∂z^L_j), it is simply a^L − y",
    "diag_out": "multiplies a^L − y by a^L ⊙ (1 − a^L): a^L − y already is ∂C/∂z^L (the softmax Jacobian is "
                "inside it), so no further factor belongs to the output error",
    "axis": "takes the softmax across the examples of the batch (axis 1, or softmax's default last axis): each "
            "column is one example, so normalise every column — softmax(z, axis=0)",
    "sigmoid_out": "uses σ(z^L) for the output activations: this network's output layer is a softmax, "
                   "a^L = softmax(z^L) column by column",
    "sigmoid_hidden": "computes the hidden layers with the sigmoid: this network's hidden layers are ReLU, "
                      "a^l = max(0, z^l), and BP2 uses ReLU'(z^l)",
    "sigmoid_prime": "uses σ'(z^l) in BP2: the hidden layers are ReLU, so the factor is ReLU'(z^l) "
                     "(1 where z^l > 0, else 0)",
    "relu_not_prime": "multiplies by ReLU(z^l) = a^l in BP2 instead of the derivative ReLU'(z^l) "
                      "(1 where z^l > 0, else 0)",
    "no_prime": "leaves ReLU'(z^l) out of BP2: δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ ReLU'(z^l) — the error of a unit "
                "whose z^l ≤ 0 is zero",
    "relu0": "takes ReLU'(0) = 1 (z ≥ 0): this exercise uses ReLU'(0) = 0, so use z > 0 — the test has weighted "
             "inputs that are exactly 0",
    "softmax_hidden": "applies the softmax in a hidden layer: the hidden layers are ReLU, a^l = max(0, z^l); the "
                      "softmax belongs to the output layer only",
    "relu_output": "uses ReLU for the output activations: this network's output layer is a softmax, a^L = "
                   "softmax(z^L) column by column (ReLU belongs to the hidden layers)",
    "relu_out": "applies ReLU to z^L before the softmax: the output layer is softmax(z^L) of the weighted input "
                "itself",
    "w_same": "uses the weights w^l of the same layer in BP2: the error comes back through the weights of the "
              "layer above, δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ ReLU'(z^l) — in code net.weights[-l + 1], not [-l]",
    "no_T": "multiplies δ^(l+1) by w^(l+1) instead of its transpose: δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ ReLU'(z^l)",
    "prime_up": "takes ReLU' one layer too high (ReLU'(z^(l+1))): δ^l uses ReLU'(z^l) of its own layer",
    "matmul": "uses a matrix product where the elementwise product ⊙ belongs: "
              "δ^l = ((w^(l+1))ᵀ δ^(l+1)) * ReLU'(z^l) with *, not @",
    "a_same": "uses the layer's own activation a^l for ∂C/∂w^l: it is δ^l (a^(l−1))ᵀ, the activation of the "
              "layer below (in code activations[-l - 1], not [-l])",
    "bias_axis": "sums δ over the wrong axis for ∂C/∂b: the examples are the columns, so sum δ^l over axis 1, "
                 "shape (n_l, 1) like net.biases",
    "a_no_T": "multiplies δ^l by a^(l−1) instead of its transpose: ∂C/∂w^l = δ^l (a^(l−1))ᵀ",
    "delta_late": "computes ∂C/∂b^l and ∂C/∂w^l of a hidden layer with δ^(l+1), the error of the layer above: "
                  "first compute δ^l (back through the weights and ReLU'), then use it",
    "sign": "has the opposite sign: δ^L = a^L − y, not y − a^L",
    "mean": "is divided by the batch size m: the cost is the sum over the examples, so is the gradient",
    "last": "equals the gradient of the last example of the batch alone: the examples' gradients were overwritten "
            "instead of added up (use += when you loop over the examples, or sum over the batch)",
    "first": "equals the gradient of the first example of the batch alone: every example's contribution must be "
             "added up (use += when you loop over the examples, or sum over the batch)",
}


def softmax_cols(z: np.ndarray) -> np.ndarray:
    """Softmax of every column of z (stable)."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _relu_prime(z: np.ndarray, kind: str | None) -> np.ndarray:
    if kind == "relu0":
        return (z >= 0).astype(np.float64)
    if kind == "relu_not_prime":
        return np.maximum(z, 0.0)
    if kind in ("sigmoid_prime", "sigmoid_hidden"):
        return A.sigmoid_prime(z)
    if kind == "no_prime":
        return np.ones_like(z)
    return (z > 0).astype(np.float64)


def relu_variant(net: Any, x: np.ndarray, y: np.ndarray, kind: str | None = None) -> tuple[list, list] | None:
    """∂C/∂b, ∂C/∂w for ReLU hidden layers, a softmax output, C = −Σ_x Σ_j y_j ln a^L_j (columns = examples).

    ``kind=None`` is the reference; otherwise one classic mistake (None where it would raise).
    """
    try:
        with np.errstate(all="ignore"):
            a, acts, zs = x, [x], []
            n = len(net.weights)
            for i, (b, w) in enumerate(zip(net.biases, net.weights)):
                z = w @ a + b
                zs.append(z)
                if i < n - 1:
                    a = A.sigmoid(z) if kind == "sigmoid_hidden" else softmax_cols(z) if kind == "softmax_hidden" \
                        else np.maximum(z, 0.0)
                elif kind == "relu_output":
                    a = np.maximum(z, 0.0)
                elif kind == "axis":
                    e = np.exp(z - z.max(axis=1, keepdims=True))
                    a = e / e.sum(axis=1, keepdims=True)
                elif kind == "sigmoid_out":
                    a = A.sigmoid(z)
                elif kind == "relu_out":
                    a = softmax_cols(np.maximum(z, 0.0))
                else:
                    a = softmax_cols(z)
                acts.append(a)
            delta = (y - acts[-1]) if kind == "sign" else (acts[-1] - y)
            if kind == "sigma_out":
                delta = delta * A.sigmoid_prime(zs[-1])
            elif kind == "diag_out":
                delta = delta * acts[-1] * (1 - acts[-1])
            elif kind == "relu_out":
                delta = delta * (zs[-1] > 0)
            scale = 1.0 / x.shape[1] if kind == "mean" else 1.0

            bias, wgrad = _variant_grads(kind, scale, acts)

            nb: list[Any] = [None] * n
            nw: list[Any] = [None] * n
            nb[-1], nw[-1] = bias(delta), wgrad(delta, 1)
            for l in range(2, n + 1):
                late = (bias(delta), wgrad(delta, l)) if kind == "delta_late" else None
                W = net.weights[-l] if kind == "w_same" else net.weights[-l + 1]
                back = W @ delta if kind == "no_T" else W.T @ delta
                if kind == "prime_up":
                    factor = _relu_prime(zs[-l + 1], None)
                else:
                    factor = _relu_prime(zs[-l], kind)
                delta = back @ factor if kind == "matmul" else back * factor
                nb[-l], nw[-l] = late or (bias(delta), wgrad(delta, l))
            return nb, nw
    except ValueError:
        return None


def relu_cost(net: Any, x: np.ndarray, y: np.ndarray) -> float:
    """C = −Σ_x Σ_j y_j ln a^L_j for the ReLU/softmax network (log-softmax, stable)."""
    a = x
    for i, (b, w) in enumerate(zip(net.biases, net.weights)):
        z = w @ a + b
        a = np.maximum(z, 0.0) if i < len(net.weights) - 1 else z
    logp = a - a.max(axis=0, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=0, keepdims=True))
    return float(-np.sum(y * logp))


def relu_problem(sizes: Sequence[int], seed: int, m: int, zeros: bool = False) -> tuple[Net, np.ndarray, np.ndarray]:
    """A ReLU/softmax network, a batch x (n_in, m) and one-hot targets y (n_out, m) for a case."""
    rng = np.random.default_rng(seed + 3000)
    ws = [rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [0.3 * rng.standard_normal((o, 1)) for o in sizes[1:]]
    x = rng.standard_normal((sizes[0], m))
    y = np.zeros((sizes[-1], m))
    y[rng.integers(0, sizes[-1], m), np.arange(m)] = 1.0
    if zeros:
        x[:, 0] = 0.0
        bs[0][::2] = 0.0  # z^2 = 0 exactly for these units on example 0
    return Net(sizes, ws, bs), x, y


# ---------------------------------------------------------------- comparing (nabla_b, nabla_w) pairs


INDEX_HINT = ("If it is zs[...] or activations[...] in the backward loop: zs holds z^2 … z^L (one entry per layer "
              "after the input) and activations a^1 … a^L, so δ^l uses zs[-l] and ∂C/∂w^l uses activations[-l - 1]; "
              "zs[-l - 1] (the derivative one layer too low) does not exist for the first hidden layer.")


MATMUL_HINT = "the derivative of the activation multiplies elementwise, δ^l = (…) ⊙ σ'(z^l) is written with *, not @"
# meets the learner's source line: bounded, unambiguous quantifiers (linear), and at most 300 characters of it
_PRIME_PRODUCT = re.compile(r"@[ \t]{0,8}(?:\([ \t]{0,8})?(sigmoid_prime|relu_prime|(?:\([ \t]{0,8})?zs\[|np\.where|"
                            r"np\.heaviside|(?:\([ \t]{0,8})?z[ \t]{0,8}>)")


def _advice(exc: Any) -> str | None:
    """What an exception in the learner's backprop most likely means (the message leads with it)."""
    if exc.type_name == "IndexError" and "out of range" in exc.message:
        return "an index went past the end of a list. " + INDEX_HINT.rstrip(".")
    if exc.type_name == "ValueError" and "matmul" in exc.message and _PRIME_PRODUCT.search((exc.line or "")[:300]):
        return "it uses a matrix product where an elementwise one belongs: " + MATMUL_HINT
    return None


def _call(fn: Any, name: str, *args: Any) -> Any:
    return invoke(fn, name, *args, allowed=ALLOWED, allowed_text=ALLOWED_TEXT, advice=_advice)


def _data(sizes: Sequence[int], seed: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1000)
    return rng.standard_normal((sizes[0], m)), rng.random((sizes[-1], m))


def _reference_net(sizes: Sequence[int], seed: int) -> Any:
    from nnlib.network import Network

    return Network(list(sizes), seed=seed)


def _compare(name: str, net: Net, got: Any, ref: tuple[list, list], variants: dict[str, Any],
             mistakes: dict[str, str], case: str, show: bool, m: int, w0: list, b0: list,
             suspects: dict | None = None) -> float:
    """Judge the learner's (nabla_b, nabla_w) ``got`` against ``ref``; return the largest relative error."""
    ref_b, ref_w = ref
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
    if n > 1 and all(close(gb[l], ref_b[n - 1 - l]) for l in range(n)) and \
            all(close(gw[l], ref_w[n - 1 - l]) for l in range(n)):
        fail(f"{name} returned the lists in reverse order: nabla_b[0] and nabla_w[0] belong to the first layer "
             "after the input, like net.biases[0] and net.weights[0] (fill them with negative indices, "
             "nabla_w[-l], or reverse the lists before returning)", case)
    missing = [f"{what}[{l}]" for what, lst in (("nabla_w", gw), ("nabla_b", gb)) for l in range(n) if lst[l] is None]
    if missing and len(missing) < 2 * n:
        fail(f"{name}: {', '.join(missing)} still None — the backward loop never reached "
             f"{'that layer' if len(missing) <= 2 else 'those layers'}: for l in range(2, net.num_layers) visits every "
             "layer below the output (range stops one short of its end)", case)
    correct = all(close(gb[l], ref_b[l]) for l in range(n)) and all(close(gw[l], ref_w[l]) for l in range(n))
    if not correct:  # whole-answer mistakes first: one name for the bug, not one per layer
        for kind, v in variants.items():
            if v is None:
                continue
            vb, vw = v
            if any(not close(vw[l], ref_w[l]) or not close(vb[l], ref_b[l]) for l in range(n)) and \
                    all(close(gw[l], vw[l]) for l in range(n)) and all(close(gb[l], vb[l]) for l in range(n)):
                fail(f"the gradient from {name} {mistakes[kind]}.", case)
    worst = 0.0
    failures = []
    for l in reversed(range(n)):
        for what, cand_list, ref_list, idx in (("nabla_w", gw, ref_w, 1), ("nabla_b", gb, ref_b, 0)):
            label = f"{what}[{l}]"
            cand = cand_list[l]
            try:
                ch = host(cand)
            except (TypeError, ValueError):
                ch = None
            custom = {mistakes[kind]: v[idx][l] for kind, v in variants.items() if v is not None}
            if ch is not None and ch.shape != np.shape(ref_list[l]):
                named = any(close(ch, v) for v in custom.values())  # the variant's words are more specific
                same = ch.size == np.size(ref_list[l]) and close(ch.reshape(np.shape(ref_list[l])), ref_list[l])
                words = _shape_words(what, l, ch.shape, np.shape(ref_list[l]), list(net.sizes), m,
                                     skip=("other_dim",) if named else (), same_values=same)
                if words:
                    failures.append(f"{label} {words}.")
                    continue
                other = next((o for o in range(n) if o != l and close(ch, ref_list[o])), None)
                if other is not None:
                    failures.append(f"{label} " + G.HINTS["other_layer"].format(other=f"{what}[{other}]")
                                    + " (or the list is in reverse order: index 0 is the first layer "
                                      "after the input).")
                    continue
            sus = dict(suspects[what][l].items()) if suspects else None
            try:
                d = judge(cand, ref_list[l], label, case, show, batch_size=m if m > 1 else None,
                          suspects=sus, custom=custom, constants=_constants(m, ref_w))
                worst = max(worst, d.rel_error or 0.0)
            except GradingError as exc:
                failures.append(str(exc).split("\n  (test case")[0])
    if failures:
        more = ""
        if len(failures) > 1:
            more = f"\n  Also wrong: {', '.join(f.split(' ')[0] for f in failures[1:])}."
        fail(failures[0] + more, case)
    return worst


def _shape_words(what: str, i: int, got: tuple, want: tuple, sizes: list[int], m: int,
                 skip: tuple[str, ...] = (), same_values: bool = False) -> str | None:
    """What the shape of nabla_w[i] / nabla_b[i] says (:mod:`nnlib.grading.shapes`), in BP3/BP4's words."""
    from nnlib.grading import shapes

    L = i + 2  # Nielsen's numbering: layer 1 is the input
    if what == "nabla_w":
        law = (f"BP4 is ∂C/∂w^{L} = δ^{L} (a^{L - 1})ᵀ, not a^{L - 1} (δ^{L})ᵀ, the shape of w^{L}: "
               f"(n_{L}, n_{L - 1}) = {tuple(want)}")
    else:
        law = (f"BP3: ∂C/∂b^{L} is δ^{L} summed over the m examples, shape (n_{L}, 1) like b^{L}" if m > 1 else
               f"BP3: ∂C/∂b^{L} = δ^{L}, shape (n_{L}, 1) like b^{L}")
    return shapes.explain(got, want, shapes.layer_dims(sizes, L, m), what=f"{what[-1]}^{L}'s shape", law=law,
                          m=m if m > 1 else None, skip=skip, same_values=same_values)


def _probes(item: Any, single: bool = False) -> list:
    """The probe cases of :func:`nnlib.grading.shapes.probe` for a case (sizes, seed, m, …)."""
    from nnlib.grading import shapes

    sizes, seed, m = item[0], item[1], (1 if single else int(item[2]))
    return [((sz, seed, pm, *item[3:]), k) for (sz, pm), k in
            zip(shapes.square_probes(list(sizes), m), (max(sizes) + 1,) * 2)]


def _constants(m: int, ref_w: list) -> dict[str, float]:
    """The constants a gradient can be wrongly scaled by, in the exercise's words (the scale family)."""
    n_out = int(np.shape(ref_w[-1])[0])
    out = {f"n_out = {n_out}, the number of outputs": n_out}
    if m > 1:
        out[f"m = {m}, the number of examples"] = m
    return out


# ---------------------------------------------------------------- exercises 1–2


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

    def run(item: tuple) -> None:
        nonlocal worst
        k, (sz, seed, m) = item
        sz, m = [int(v) for v in sz], 1 if single else int(m)
        ref_net, x, y, ref, variants, suspects, numeric = _backprop_references(tuple(sz), int(seed), m,
                                                                               bool(k == 0 and show))
        net = Net(sz, ref_net.weights, ref_net.biases)
        case = (f"{name}(net, x, y) for a network of sizes {sz} with x of shape {x.shape}"
                + (f" — a batch of m = {m} examples (columns)" if m > 1 else " — one example"))
        w0 = [w.copy() for w in net.weights]
        b0 = [b.copy() for b in net.biases]
        got = _call(backprop, name, net, x.copy(), y.copy())
        worst = max(worst, _compare(name, net, got, ref, variants, MISTAKES, case, show, m, w0, b0, suspects))
        if numeric is not None:
            worst = max(worst, _numeric_error(numeric, got[0], got[1]))

    through_cases(run, enumerate(cfg), probes=lambda item: [((-1, c), k) for c, k in _probes(item[1], single)])
    what = "for one example" if single else "over a minibatch"
    ok(f"{name} looks correct {what}: it matches nnlib's Network.backprop"
       + (" and central differences" if show else "") + f" (largest relative error {worst:.1e})")


@once
def _backprop_references(sz: tuple, seed: int, m: int, numeric: bool) -> tuple:
    """What ``check_backprop`` compares a case with (the case alone decides it: computed once per process):
    the network, x, y, Network.backprop, each mistake's gradient, the suspects, and central differences."""
    ref_net = _reference_net(sz, seed)
    x, y = _data(sz, seed, m)
    ref = ref_net.backprop(x, y)
    variants = {kind: variant(ref_net, x, y, kind) for kind in MISTAKES if kind not in ("last", "first")}
    if m > 1:
        variants["last"] = ref_net.backprop(x[:, -1:], y[:, -1:])
        variants["first"] = ref_net.backprop(x[:, :1], y[:, :1])
    else:
        variants.pop("mean", None)
        variants.pop("bias_axis", None)
    return (ref_net, x, y, ref, variants, G.network_suspects(ref_net, x, y),
            _numeric_gradients(ref_net, x, y) if numeric else None)


def _numeric_gradients(net: Any, x: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, tuple]]:
    """Central differences of the quadratic cost: per layer (∂C/∂w, ∂C/∂b, the bias shape)."""
    def cost(_: Any) -> float:
        a = x
        for b, w in zip(net.biases, net.weights):
            a = A.sigmoid(w @ a + b)
        return float(0.5 * np.sum((a - y) ** 2))

    return [(G.numerical_gradient(cost, net.weights[i]), G.numerical_gradient(cost, net.biases[i]),
             net.biases[i].shape) for i in range(len(net.weights))]


def _numeric_error(numeric: list, gb: list, gw: list) -> float:
    err = 0.0
    for i, (nw, nb, shape) in enumerate(numeric):
        err = max(err, G.rel_error(host(gw[i]), nw), G.rel_error(host(gb[i]).reshape(shape), nb))
    return err


# ---------------------------------------------------------------- exercise 3: δ^L for softmax + cross-entropy

DELTA_MISTAKES = {
    "sigma": "is (a^L − y) ⊙ σ'(z^L): that is BP1 for sigmoid outputs and the quadratic cost. For a softmax output "
             "with the cross-entropy cost, derive ∂C/∂z_j = Σ_k (∂C/∂a_k)(∂a_k/∂z_j) — the σ' factor does not "
             "appear",
    "diag": "is (a − y) ⊙ a ⊙ (1 − a): a − y already is ∂C/∂z (the softmax's Jacobian is inside it), so no "
            "further factor belongs here",
    "dC_da": "is ∂C/∂a = −y / a, the derivative with respect to the outputs a: δ^L = ∂C/∂z^L also goes through "
             "the softmax, ∂a_k/∂z_j = a_k (1[j = k] − a_j)",
    "diag_only": "uses only the diagonal of the softmax Jacobian, ∂a_j/∂z_j = a_j (1 − a_j): every output a_k "
                 "depends on every z_j (∂a_k/∂z_j = −a_k a_j for k ≠ j), so sum over k",
    "jac_twice": "applies the softmax's Jacobian to a − y: a − y is already ∂C/∂z (the Jacobian was applied to "
                 "−y/a to get it)",
    "jac_batch": "sums over the examples (axis 1) inside the Jacobian product: the sum Σ_k runs over the outputs k "
                 "of one example (axis 0, down each column)",
    "axis": "normalises the softmax across the examples (axis 1, or softmax's default last axis): each column is "
            "one example, so use softmax(z, axis=0)",
    "sigmoid": "uses σ(z) for the outputs: this output layer is a softmax, a = softmax(z) column by column",
    "a_only": "is the softmax output a itself: the target y is missing",
    "minus_one": "subtracts 1 from every output: only the target class, where y_j = 1, gets the −1",
    "mean": "is divided by the number of examples m: δ^L has one column per example, nothing is averaged",
    "sum": "is summed over the examples: δ^L has one column per example, shape (n_out, m) like z",
    "sign": "has the opposite sign: it is a − y, not y − a (C falls as the target's output a_j grows, so "
            "∂C/∂z is negative there)",
}


def _sm(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def delta_variant(z: np.ndarray, y: np.ndarray, kind: str | None = None) -> np.ndarray:
    """δ^L = a − y for a = softmax of the columns of z (``kind=None``), or one classic mistake."""
    a = _sm(z, 0)
    with np.errstate(all="ignore"):
        out = {
            None: lambda: a - y,
            "sigma": lambda: (a - y) * A.sigmoid_prime(z),
            "diag": lambda: (a - y) * a * (1 - a),
            "dC_da": lambda: -y / a,
            "diag_only": lambda: -y * (1 - a),
            "jac_twice": lambda: a * ((a - y) - (a * (a - y)).sum(axis=0, keepdims=True)),
            "jac_batch": lambda: a * (-y / a - (a * (-y / a)).sum(axis=1, keepdims=True)),
            "axis": lambda: _sm(z, 1) - y,
            "sigmoid": lambda: A.sigmoid(z) - y,
            "a_only": lambda: a,
            "minus_one": lambda: a - 1,
            "mean": lambda: (a - y) / z.shape[1],
            "sum": lambda: (a - y).sum(axis=1, keepdims=True),
            "sign": lambda: y - a,
        }[kind]()
    return out


def _delta_case(n: int, m: int, seed: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """z of shape (n, m) and one-hot columns y.  scale ≤ 100: z = scale · N(0, 1); larger: z = 3 · N(0, 1) with
    the first column shifted by +scale (e^z overflows) and, in the last column, the target's z lowered by scale
    (a confident wrong answer: its softmax output underflows to 0, so −y/a is infinite)."""
    rng = np.random.default_rng(seed + 2000)
    z = (scale if scale <= 100 else 3.0) * rng.standard_normal((n, m))
    y = np.zeros((n, m))
    target = rng.integers(0, n, m)
    y[target, np.arange(m)] = 1.0
    if scale > 100:
        z[:, 0] += scale
        z[target[-1], -1] -= scale
    return z, y


def check_softmax_delta(softmax_delta: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``softmax_delta(z, y) -> δ^L`` (n_out, m): ∂C/∂z^L of C = −Σ_j y_j ln softmax(z)_j for every column.

    ``cases``: list of (n_out, m, seed, scale of z); a case with large |z| tests that nothing overflows.
    """
    name = fname(softmax_delta, "softmax_delta")
    worst = 0.0
    for n, m, seed, scale in (cases if cases is not None else DELTA_CASES):
        z, y = _delta_case(int(n), int(m), int(seed), float(scale))
        case = f"{name}(z, y) with z of shape {z.shape} (|z| up to {np.abs(z).max():.3g}), one-hot columns y"
        ref = delta_variant(z, y)
        got = invoke(softmax_delta, name, z.copy(), y.copy(), allowed=ALLOWED, allowed_text=ALLOWED_TEXT)
        if got is None:
            fail(f"{name} returned None: return δ^L, an array shaped like z", case)
        first = {DELTA_MISTAKES[k]: delta_variant(z, y, k) for k in DELTA_MISTAKES}
        try:
            gh = host(got)
        except (TypeError, ValueError):
            gh = None
        if gh is not None and gh.shape == z.shape and not np.all(np.isfinite(gh)) and scale > 100:
            fail(f"{name} gives NaN or inf for large |z|: e^z overflows, or a softmax output underflows to 0 and "
                 "is divided by (−y/a) — subtract each column's maximum before np.exp (or use the provided "
                 "softmax(z, axis=0)) and simplify δ^L until it needs no division", case)
        d = judge(got, ref, "δ^L", case, show_values, first=first, constants={
            f"m = {m}, the number of examples (δ^L is one column per example: no mean over the batch here)": m,
            f"n_out = {n}, the number of classes (the cost sums over the classes, it does not average)": n})
        worst = max(worst, d.rel_error or 0.0)
    ok(f"{name} looks correct: δ^L matches ∂C/∂z^L for softmax outputs with the cross-entropy cost "
       f"(largest relative error {worst:.1e})")


# ---------------------------------------------------------------- exercise 4


def check_backprop_relu_softmax(backprop_relu_softmax: Callable, cases: Sequence | None = None,
                                show_values: bool = True) -> None:
    """``backprop_relu_softmax(net, x, y) -> (nabla_b, nabla_w)``: ReLU hidden layers, softmax output,
    cost C = −Σ_x Σ_j y_j ln a^L_j summed over the m columns of x (n_in, m); y one-hot (n_out, m).

    ``cases``: list of (sizes, seed, m, zeros) (zeros: some weighted inputs exactly 0, to test ReLU'(0) = 0).
    """
    name = fname(backprop_relu_softmax, "backprop_relu_softmax")
    worst = 0.0
    numeric_done = False

    def run(item: tuple) -> None:
        nonlocal worst, numeric_done
        sz, seed, m, zeros = item
        sz, m = [int(v) for v in sz], int(m)
        want_numeric = show_values and not zeros and not numeric_done
        net, x, y, ref, variants, numeric = _relu_references(tuple(sz), int(seed), m, bool(zeros), want_numeric)
        case = (f"{name}(net, x, y) for a network of sizes {sz}, a batch of m = {m} examples (columns)"
                + (", some weighted inputs exactly 0" if zeros else ""))
        w0 = [w.copy() for w in net.weights]
        b0 = [b.copy() for b in net.biases]
        got = _call(backprop_relu_softmax, name, net, x.copy(), y.copy())
        worst = max(worst, _compare(name, net, got, ref, variants, RELU_MISTAKES, case, show_values, m, w0, b0))
        if want_numeric:
            numeric_done = True
            worst = max(worst, _relu_numeric_compare(numeric, got[0], got[1]))

    through_cases(run, cases if cases is not None else RELU_CASES, probes=_probes)
    ok(f"{name} looks correct: it matches the reference gradient for ReLU hidden layers and a softmax output"
       + (" and central differences" if show_values else "") + f" (largest relative error {worst:.1e})")


def relu_numeric_error(net: Any, x: np.ndarray, y: np.ndarray, gb: list, gw: list) -> float:
    """Largest relative error between (gb, gw) and central differences of :func:`relu_cost`."""
    params = Net(net.sizes, net.weights, net.biases)
    err = 0.0
    for i in range(len(params.weights)):
        for arr, g in ((params.weights[i], gw[i]), (params.biases[i], gb[i])):
            num = G.numerical_gradient(lambda _: relu_cost(params, x, y), arr)
            err = max(err, G.rel_error(host(g).reshape(arr.shape), num))
    return err


@once
def _relu_references(sz: tuple, seed: int, m: int, zeros: bool, numeric: bool) -> tuple:
    """What ``check_backprop_relu_softmax`` compares a case with (computed once per process): the problem, the
    reference gradient, each mistake's gradient and, where asked, central differences."""
    net, x, y = relu_problem(list(sz), seed, m, zeros)
    ref = relu_variant(net, x, y)
    variants = {kind: relu_variant(net, x, y, kind) for kind in RELU_MISTAKES if kind not in ("last", "first")}
    if m > 1:
        variants["last"] = relu_variant(net, x[:, -1:], y[:, -1:])
        variants["first"] = relu_variant(net, x[:, :1], y[:, :1])
    nums = None
    if numeric:
        params = Net(net.sizes, net.weights, net.biases)
        nums = [(G.numerical_gradient(lambda _: relu_cost(params, x, y), arr), arr.shape)
                for i in range(len(params.weights)) for arr in (params.weights[i], params.biases[i])]
    return net, x, y, ref, variants, nums


def _relu_numeric_compare(numeric: list, gb: list, gw: list) -> float:
    """As :func:`relu_numeric_error`, against central differences computed once (``_relu_references``)."""
    got = [g for i in range(len(gw)) for g in (gw[i], gb[i])]
    return max((G.rel_error(host(g).reshape(shape), num) for g, (num, shape) in zip(got, numeric)), default=0.0)
