"""Mistakes nobody catalogued in a06's ``update_mini_batch``: programmatic mutations of the reference (issue 18).

Like :mod:`mistakes.mutate_a05`: each family is replacements at named sites, applied at a non-empty subset of them;
``expect`` lists the words of which the check's message must contain one.
"""

from __future__ import annotations

import numpy as np

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
MUTATIONS: dict[str, tuple[dict[str, tuple[str, str]], tuple[str, ...]]] = {
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


def sites(name: str) -> list[str]:
    return sorted(MUTATIONS[name][0])


def mutate(name: str, where: list[str] | None = None) -> str:
    reps, _ = MUTATIONS[name]
    src = REFERENCE
    for site in where or sorted(reps):
        old, new = reps[site]
        assert old in src, (name, site)
        src = src.replace(old, new)
    return src


def define(src: str):
    ns = {"np": np}
    exec(compile(src, "<mutant>", "exec"), ns)  # noqa: S102 - the project's own generated source
    return ns["update_mini_batch"]


def message(src: str, sizes: list[int], m: int, eta: float, seed: int = 0) -> str | None:
    from nnlib.grading import GradingError, check_update_mini_batch

    try:
        check_update_mini_batch(define(src), cases=[(sizes, seed, m, eta)])
    except GradingError as exc:
        return " ".join(str(exc).split())
    return None


def named(msg: str | None, name: str) -> bool:
    if msg is None:
        return False
    head = msg.split("(test case")[0]
    return any(w.lower() in head.lower() for w in MUTATIONS[name][1])
