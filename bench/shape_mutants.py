"""Uncatalogued a05 backprop mutants (tests/mistakes/mutate_a05.py) over random architectures: the fraction that
``check_backprop`` rejects and names by family, with the shape diagnosis (nnlib/grading/shapes.py) and the σ/σ'
and z/a variants, against a baseline in the same run with those switched off (the checks as before them).

    python bench/shape_mutants.py [N] [--seed S]

Each mutant: a family (transpose one gradient, bias not summed, a^l for a^(l−1), σ for σ', …) at a random
non-empty set of its sites, on 3–5 layers and a batch whose dimensions all differ (the checks' first case).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("MPLBACKEND", "Agg")

from mistakes import mutate_a05 as T  # noqa: E402

NEW_VARIANTS = ("sig_for_prime", "sig_for_prime_out", "sig_for_prime_hidden", "za_swap")


@contextlib.contextmanager
def baseline():
    """The a05 check without the shape rules, the probes and the new variants."""
    from nnlib.grading import a05_backprop as A5
    from nnlib.grading import shapes

    saved = (shapes.explain, shapes.probe, dict(A5.MISTAKES))
    shapes.explain = lambda *a, **k: None

    def no_probe(run, failed, probes):
        raise failed
    shapes.probe = no_probe
    for k in NEW_VARIANTS:
        A5.MISTAKES.pop(k)
    try:
        yield
    finally:
        shapes.explain, shapes.probe = saved[0], saved[1]
        A5.MISTAKES.clear()
        A5.MISTAKES.update(saved[2])


def generate(n: int, seed: int) -> list[tuple[str, list[str], list[int], int, int]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        dims = rng.sample(range(2, 10), rng.randint(4, 6))
        name = rng.choice(sorted(T.MUTATIONS))
        sites = T.sites(name)
        where = sorted(rng.sample(sites, rng.randint(1, len(sites))))
        out.append((name, where, dims[:-1], dims[-1], rng.randint(0, 50)))
    return out


def measure(mutants: list) -> tuple[int, int, Counter]:
    rejected = named = 0
    missed: Counter = Counter()
    for name, where, sizes, m, seed in mutants:
        msg = T.message(T.mutate(name, where), sizes, m, seed)
        rejected += msg is not None
        if T.named(msg, name):
            named += 1
        else:
            missed[name] += 1
    return rejected, named, missed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=400)
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    mutants = generate(args.n, args.seed)
    rows = {}
    for label, ctx in (("before (no shapes)", baseline), ("after", contextlib.nullcontext)):
        t0 = time.perf_counter()
        with ctx():
            rows[label] = (*measure(mutants), time.perf_counter() - t0)
    print(f"{len(mutants)} generated mutants of a05's backprop, {len(T.MUTATIONS)} families, seed {args.seed}")
    for label, (rej, nam, missed, secs) in rows.items():
        print(f"  {label:<20} rejected {rej}/{len(mutants)} ({rej / len(mutants):.1%}), named {nam}/{len(mutants)} "
              f"({nam / len(mutants):.1%})  [{secs:.1f} s]")
        for fam, k in missed.most_common():
            print(f"      not named: {fam} ×{k}")
    b, a = rows["before (no shapes)"][1], rows["after"][1]
    print(f"  named after / before: {a / max(b, 1):.2f}×")


if __name__ == "__main__":
    main()
