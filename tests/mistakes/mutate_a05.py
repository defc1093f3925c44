"""Mistakes nobody catalogued: programmatic mutations of a05's reference ``backprop`` (issue 18).

Each mutation is a family of bugs written as replacements in the reference source (transpose one gradient, drop
the sum over the batch, σ for σ', a^l for a^(l−1), a layer index off by one, …), applied at one or several sites;
``expect`` lists the words of which the check's message must contain at least one — the family's name, never a
generic "does not match".  Used by tests/test_shapes.py (Hypothesis: random architectures) and
bench/shape_mutants.py (the fraction named over a generated set).  The driver (sites, mutate, define, named) is
:mod:`mistakes.mutate`.
"""

from __future__ import annotations

import numpy as np

from mistakes.mutate import Family, Mutants
from nnlib import activations as A

REFERENCE = '''def backprop(net, x, y):
    nabla_b = [None] * len(net.biases)
    nabla_w = [None] * len(net.weights)
    activation, activations, zs = x, [x], []
    for b, w in zip(net.biases, net.weights):
        z = w @ activation + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    nabla_b[-1] = delta.sum(axis=1, keepdims=True)
    nabla_w[-1] = delta @ activations[-2].T
    for l in range(2, net.num_layers):
        delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
        nabla_b[-l] = delta.sum(axis=1, keepdims=True)
        nabla_w[-l] = delta @ activations[-l - 1].T
    return nabla_b, nabla_w
'''

OUT_B, HID_B = "nabla_b[-1] = delta.sum(axis=1, keepdims=True)", "nabla_b[-l] = delta.sum(axis=1, keepdims=True)"
OUT_W, HID_W = "nabla_w[-1] = delta @ activations[-2].T", "nabla_w[-l] = delta @ activations[-l - 1].T"
BP1 = "delta = (activations[-1] - y) * sigmoid_prime(zs[-1])"
BP2 = "delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])"

# name: ({site: (old, new)}, words the message must contain one of).  Sites: "out" (the output layer's line),
# "hidden" (the loop's line); a mutant applies its family at a non-empty subset of them.
MUTATIONS: dict[str, Family] = {
    "transpose nabla_w (a^(l-1) δᵀ)": ({
        "out": (OUT_W, "nabla_w[-1] = activations[-2] @ delta.T"),
        "hidden": (HID_W, "nabla_w[-l] = activations[-l - 1] @ delta.T")}, ("transpose",)),
    "transpose nabla_w (.T of the result)": ({
        "out": (OUT_W, "nabla_w[-1] = (delta @ activations[-2].T).T"),
        "hidden": (HID_W, "nabla_w[-l] = (delta @ activations[-l - 1].T).T")}, ("transpose",)),
    "bias gradient not summed over the batch": ({
        "out": (OUT_B, "nabla_b[-1] = delta"),
        "hidden": (HID_B, "nabla_b[-l] = delta")}, ("not summed over the batch", "one entry per example")),
    "bias summed without keepdims": ({
        "out": (OUT_B, "nabla_b[-1] = delta.sum(axis=1)"),
        "hidden": (HID_B, "nabla_b[-l] = delta.sum(axis=1)")}, ("keepdims", "right values but shape")),
    "bias summed over the neurons": ({
        "out": (OUT_B, "nabla_b[-1] = delta.sum(axis=0, keepdims=True)"),
        "hidden": (HID_B, "nabla_b[-l] = delta.sum(axis=0, keepdims=True)")}, ("wrong axis", "axis 0")),
    "weight gradient per example, not summed": ({
        "out": (OUT_W, "nabla_w[-1] = delta.T[:, :, None] * activations[-2].T[:, None, :]"),
        "hidden": (HID_W, "nabla_w[-l] = delta.T[:, :, None] * activations[-l - 1].T[:, None, :]")},
        ("not summed over the batch", "one gradient per example")),
    "a^l instead of a^(l-1)": ({
        "out": (OUT_W, "nabla_w[-1] = delta @ activations[-1].T"),
        "hidden": (HID_W, "nabla_w[-l] = delta @ activations[-l].T")}, ("own activation", "wrong layer")),
    "BP1's factors swapped (z and a)": ({
        "out": (BP1, "delta = (zs[-1] - y) * sigmoid_prime(activations[-1])")}, ("z^L and a^L", "swapped")),
    "σ instead of σ'": ({
        "out": (BP1, "delta = (activations[-1] - y) * sigmoid(zs[-1])"),
        "hidden": (BP2, "delta = (net.weights[-l + 1].T @ delta) * sigmoid(zs[-l])")}, ("σ(z", "σ instead of")),
    "weights one layer off in BP2": ({
        "hidden": (BP2, "delta = (net.weights[-l].T @ delta) * sigmoid_prime(zs[-l])")}, ("same layer", "layer above")),
    "σ' one layer off in BP2": ({
        "hidden": (BP2, "delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l + 1])")}, ("one layer",)),
    "BP2 without the transpose": ({
        "hidden": (BP2, "delta = (net.weights[-l + 1] @ delta) * sigmoid_prime(zs[-l])")}, ("transpose",)),
    "divided by m (a mean, not the sum)": ({
        "out": (OUT_W, OUT_W + " / x.shape[1]"),
        "hidden": (HID_W, HID_W + " / x.shape[1]")}, ("divided by m", "divided by the batch size")),
    "backward loop stops one layer early": ({
        "hidden": ("range(2, net.num_layers)", "range(2, net.num_layers - 1)")}, ("still None",)),
}


_MUTANTS = Mutants(REFERENCE, MUTATIONS, "backprop",
                   {"np": np, "sigmoid": A.sigmoid, "sigmoid_prime": A.sigmoid_prime})
sites, mutate, define, named = _MUTANTS.sites, _MUTANTS.mutate, _MUTANTS.define, _MUTANTS.named


def message(src: str, sizes: list[int], m: int, seed: int = 0) -> str | None:
    """The check's message for the mutant on one case (None: it passed)."""
    from nnlib.grading import GradingError, check_backprop

    try:
        check_backprop(define(src), cases=[(sizes, seed, m)], show_values=True)
    except GradingError as exc:
        return " ".join(str(exc).split())
    return None

