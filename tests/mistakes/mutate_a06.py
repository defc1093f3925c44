"""Mistakes nobody catalogued in a06's ``update_mini_batch``: programmatic mutations of the reference (issue 18).

Like :mod:`mistakes.mutate_a05`: each family is replacements at named sites, applied at a non-empty subset of them;
``expect`` lists the words of which the check's message must contain one.  The driver is :mod:`mistakes.mutate`.
"""

from __future__ import annotations

import numpy as np

from mistakes.mutate import Family, Mutants

REFERENCE = '''def update_mini_batch(net, mini_batch, eta):
    nabla_b = [np.zeros(b.shape) for b in net.biases]
    nabla_w = [np.zeros(w.shape) for w in net.weights]
    for x, y in mini_batch:
        delta_nabla_b, delta_nabla_w = net.backprop(x, y)
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
    m = len(mini_batch)
    net.weights = [w - (eta / m) * nw for w, nw in zip(net.weights, nabla_w)]
    net.biases = [b - (eta / m) * nb for b, nb in zip(net.biases, nabla_b)]
'''

W, B = "net.weights = [w - (eta / m) * nw", "net.biases = [b - (eta / m) * nb"
MUTATIONS: dict[str, Family] = {
    "forget the 1/m": ({"w": (W, "net.weights = [w - eta * nw"), "b": (B, "net.biases = [b - eta * nb")},
                       ("too large", "multiplied by m")),
    "divided by m twice": ({"w": (W, "net.weights = [w - (eta / m / m) * nw"),
                            "b": (B, "net.biases = [b - (eta / m / m) * nb")}, ("too small", "divided by m")),
    "a step uphill": ({"w": (W, "net.weights = [w + (eta / m) * nw"), "b": (B, "net.biases = [b + (eta / m) * nb")},
                      ("opposite sign", "uphill")),
    "η forgotten": ({"w": (W, "net.weights = [w - (1 / m) * nw"), "b": (B, "net.biases = [b - (1 / m) * nb")},
                    ("η", "eta")),
    "only the last example's gradient": ({
        "w": ("nabla_w = [nw + dnw for", "nabla_w = [dnw for"),
        "b": ("nabla_b = [nb + dnb for", "nabla_b = [dnb for")}, ("last example",)),
}


_MUTANTS = Mutants(REFERENCE, MUTATIONS, "update_mini_batch", {"np": np})
sites, mutate, define, named = _MUTANTS.sites, _MUTANTS.mutate, _MUTANTS.define, _MUTANTS.named


def message(src: str, sizes: list[int], m: int, eta: float, seed: int = 0) -> str | None:
    from nnlib.grading import GradingError, check_update_mini_batch

    try:
        check_update_mini_batch(define(src), cases=[(sizes, seed, m, eta)])
    except GradingError as exc:
        return " ".join(str(exc).split())
    return None

