"""The cost of one gradient with nnlib.autograd against its baselines, in the same run (lecture 13, §5).

For the sigmoid network [6, h, 3] on a minibatch of 10 (quadratic cost), for growing h: the time of one forward
pass (the baseline), of forward + backward (reverse mode: a small constant × the forward, whatever n), and of
central differences over every parameter (2n forward passes), each the best of several repeats.
Prints n, the times and the two ratios::

    python bench/autograd_cost.py [--widths 4 8 16 32 64]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nnlib import gradcheck as G
from nnlib.autograd import Tensor
from nnlib.network import Network


def forward(ws: list[Tensor], bs: list[Tensor], X: np.ndarray, Y: np.ndarray) -> Tensor:
    """C = ½ Σ ‖a^L − y‖² with a^l = σ(w^l a^(l−1) + b^l)."""
    act = Tensor(X)
    for w, b in zip(ws, bs):
        act = (w @ act + b).sigmoid()
    return ((act - Y) ** 2).sum() * 0.5


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(hidden: int, repeats: int = 7) -> tuple[int, float, float, float]:
    """(n parameters, forward s, forward + backward s, central differences s)."""
    net = Network([6, hidden, 3], seed=2)
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((6, 10)), rng.random((3, 10))
    ws, bs = [Tensor(w) for w in net.weights], [Tensor(b) for b in net.biases]
    n = sum(t.data.size for t in ws + bs)
    t_fwd = best_of(lambda: forward(ws, bs, X, Y), repeats)
    t_grad = best_of(lambda: forward(ws, bs, X, Y).backward(), repeats)

    def numeric() -> None:
        for p in ws + bs:
            G.numerical_gradient(lambda _: forward(ws, bs, X, Y).data, p.data, points=3)
    t_num = best_of(numeric, 2)
    return n, t_fwd, t_grad, t_num


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", type=int, nargs="+", default=[4, 8, 16, 32, 64], help="hidden widths h")
    args = ap.parse_args()
    print(f"{'n':>6s} {'forward µs':>11s} {'fwd+bwd µs':>11s} {'fwd+bwd/fwd':>12s} {'central ms':>11s} "
          f"{'central/autograd':>17s}")
    for h in args.widths:
        n, f, g, c = measure(h)
        print(f"{n:6d} {f * 1e6:11.0f} {g * 1e6:11.0f} {g / f:12.2f} {c * 1e3:11.1f} {c / g:17.0f}")


if __name__ == "__main__":
    main()
