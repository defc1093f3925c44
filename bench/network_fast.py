"""Does ``nnlib._network_fast`` (the fused sigmoid SGD step) pay?  The fused step against the plain one, same run.

    python bench/network_fast.py           # CPU seconds per epoch (min of 5, interleaved) and plain / fused

One epoch of ``Network.SGD`` on Nielsen's [784, 30, 10] sigmoid network (quadratic cost, η = 3, the two cost
evaluations included), 50,000 rows, in float32 and float64, at minibatch 10, 100 and 1,000:

* **fused**: what ``Network.SGD`` runs for sigmoid units (``_network_fast.epoch``: buffers, ``out=``, σ and σ'
  in one pass, the dispatch hoisted out of the loop);
* **plain**: the same network with ``_network_fast.pays`` returning False, i.e. ``Network._step`` →
  ``Network._backprop_rows`` (BP1–BP4 as written in network.py) and Nielsen's update, one step per minibatch.

``plain / fused`` > 1 is the fast path's gain; ``_network_fast.pays`` should hold only where it is.  Both
contenders start from the same weights and take the same shuffles; the script checks that their weights
agree afterwards.  MNIST from ``$NNLIB_DATA`` when present (bench/_data.py), else random pixels of the same
shape: the arithmetic does not depend on the values.  CPU seconds of this process (``time.process_time``),
one BLAS thread: robust to other load on a shared machine.
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

from nnlib import _network_fast  # noqa: E402
from nnlib.network import Network  # noqa: E402

FUSED = _network_fast.pays


def data(n: int = 50000) -> tuple[np.ndarray, np.ndarray, str]:
    try:
        from _data import mnist

        X, y = mnist()["train"]
        source = "MNIST"
    except (FileNotFoundError, OSError):
        rng = np.random.default_rng(0)
        X, y = rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)
        source = "random pixels (no MNIST in $NNLIB_DATA)"
    return X[:n], np.eye(10, dtype=np.float32)[y[:n]], source


def epoch(X: np.ndarray, Y: np.ndarray, dtype: type, batch: int, fused: bool) -> tuple[float, Network]:
    _network_fast.pays = FUSED if fused else (lambda net: False)
    try:
        net = Network([784, 30, 10], dtype=dtype, seed=0)
        Xd, Yd = X.astype(dtype), Y.astype(dtype)
        t0 = time.process_time()
        net.SGD((Xd, Yd), 1, batch, 3.0, seed=0, verbose=False)
        return time.process_time() - t0, net
    finally:
        _network_fast.pays = FUSED


def main(reps: int = 5) -> None:
    X, Y, source = data()
    print(f"NumPy {np.__version__}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, {X.shape[0]:,} rows of {source}")
    print(f"one epoch of Network.SGD([784, 30, 10], sigmoid, quadratic, η = 3), CPU seconds (min of {reps})")
    print(f"   {'dtype':>7} {'batch':>6} {'plain':>7} {'fused':>7} {'plain/fused':>11}")
    for dtype in (np.float32, np.float64):
        for batch in (10, 100, 1000):
            best = {True: float("inf"), False: float("inf")}
            nets = {}
            for _ in range(reps):
                for fused in (False, True):
                    seconds, nets[fused] = epoch(X, Y, dtype, batch, fused)
                    best[fused] = min(best[fused], seconds)
            tol = 1e-3 if dtype is np.float32 else 1e-9
            for a, b in zip(nets[True].weights + nets[True].biases, nets[False].weights + nets[False].biases):
                np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
            print(f"   {np.dtype(dtype).name:>7} {batch:>6} {best[False]:>7.3f} {best[True]:>7.3f} "
                  f"{best[False] / best[True]:>11.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
