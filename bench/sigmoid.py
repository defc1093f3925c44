"""backend.sigmoid_ before and after issue 12: SciPy expit / tanh split against the one clamped formula.

    python bench/sigmoid.py            # 1 BLAS thread; prints both, and the ratio new / old

Two measurements, in the same run, interleaved (old, new, old, new, ...; the minimum of the repetitions), in
CPU seconds of this process (``time.process_time``, one BLAS thread): robust to other load on a shared machine.

1. σ(z) and σ'(z) of one layer as ``_network_fast._step_sigmoid`` computes them (old: ``sigmoid_`` then
   a (1 − a); new: ``sigmoid_and_prime_``) on float32 arrays of the benchmark's shapes: Nielsen's
   [784, 30, 10] at batch 10 ((10, 30) and (10, 10)) and at batch 100 ((100, 30) and (100, 10)).
2. One epoch of rows 1a and 1b (``Network.SGD``, 50,000 MNIST images, float32, with its two cost
   evaluations) with ``backend.sigmoid_and_prime_`` swapped for the old σ, σ' and back.  This isolates the
   sigmoid; the 0-d scalar operands of ``_network_fast._step_sigmoid`` (also issue 12) are in both.

"old" is the implementation before issue 12, copied here: SciPy's ``expit`` below 768 entries, the
four-pass ½(1 + tanh(z/2)) from there on.  Without SciPy it is the tanh formula at every size.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from nnlib import backend as B  # noqa: E402

try:
    from scipy.special import expit as _expit
except ImportError:  # pragma: no cover
    _expit = None


def old_sigmoid_(z):
    """The pre-issue-12 ``backend.sigmoid_`` (NumPy backend)."""
    if _expit is not None and z.size < 768:
        return _expit(z, out=z)
    z *= 0.5
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


def old_sigmoid_and_prime_(z, prime):
    """The pre-issue-12 hot loop's σ then σ' = a (1 − a) (its ``subtract(1.0, a)``, ``p *= a``)."""
    old_sigmoid_(z)
    np.subtract(1.0, z, out=prime)
    prime *= z
    return z


NEW = B.sigmoid_and_prime_  # what _network_fast._step_sigmoid calls (inside one quiet_underflow context)


def micro(n_calls: int = 20000, reps: int = 7) -> None:
    print(f"1. σ and σ' of a layer as the hot loop computes them, float32, µs per call (min of {reps} × {n_calls})")
    print(f"   {'shape':>10} {'old':>8} {'new':>8} {'new/old':>8}")
    rng = np.random.default_rng(0)
    for shape in ((10, 30), (10, 10), (100, 30), (100, 10)):
        x = (rng.standard_normal(shape) * 4).astype(np.float32)
        buf, prime = x.copy(), np.empty_like(x)
        best = {"old": float("inf"), "new": float("inf"), "copy": float("inf")}
        for _ in range(reps):
            for name, f in (("old", old_sigmoid_and_prime_), ("new", NEW), ("copy", None)):
                t0 = time.process_time()
                for _ in range(n_calls):
                    np.copyto(buf, x)
                    if f is not None:
                        f(buf, prime)
                best[name] = min(best[name], (time.process_time() - t0) / n_calls * 1e6)
        old, new = best["old"] - best["copy"], best["new"] - best["copy"]
        print(f"   {str(shape):>10} {old:>8.2f} {new:>8.2f} {new / old:>8.2f}")


def epochs(reps: int = 5) -> None:
    from _data import mnist

    from nnlib.network import Network
    X, y = mnist()["train"]
    X50, Y50 = X[:50000], np.eye(10, dtype=np.float32)[y[:50000]]
    print(f"2. one epoch of Network.SGD([784, 30, 10], float32, η = 3), seconds (min of {reps})")
    print(f"   {'batch':>8} {'old':>8} {'new':>8} {'new/old':>8}")
    for batch in (10, 100):
        best = {"old": float("inf"), "new": float("inf")}
        for _ in range(reps):
            for name, f in (("old", old_sigmoid_and_prime_), ("new", NEW)):
                B.sigmoid_and_prime_ = f
                net = Network([784, 30, 10], dtype=np.float32, seed=0)
                t0 = time.process_time()
                net.SGD((X50, Y50), 1, batch, 3.0, seed=0, verbose=False)
                best[name] = min(best[name], time.process_time() - t0)
        B.sigmoid_and_prime_ = NEW
        print(f"   {batch:>8} {best['old']:>8.3f} {best['new']:>8.3f} {best['new'] / best['old']:>8.2f}")


if __name__ == "__main__":
    print(f"NumPy {np.__version__}, SciPy expit {'available' if _expit else 'absent'}, "
          f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    micro()
    epochs()
