"""Forward and backward time of the layers of issue 12 (BatchNorm2d, LeakyReLU, GELU, AvgPool2D, GlobalAvgPool2D)
beside ReLU and MaxPool2D, on one CNN activation, with PyTorch's time for the same layer when torch is installed.

    python bench/new_layers.py                  # 1 thread, a (64, 16, 24, 24) float32 activation
    python bench/new_layers.py --threads 2 --reps 31

The input is stored batch-last, as a Conv2D output is (nnlib/layers.py); PyTorch gets the same numbers as a
contiguous NCHW tensor, its native layout.  Times are medians over ``--reps`` calls (ms); the ratio column is
nnlib's forward + backward over PyTorch's.  A quick look at costs, not one of bench/run.py's rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def median_ms(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--shape", type=int, nargs=4, default=(64, 16, 24, 24), metavar=("N", "C", "H", "W"))
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np

    import nnlib
    from nnlib import layers as L

    try:
        import torch
        from torch import nn

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None

    N, C, H, W = args.shape
    rng = np.random.default_rng(0)
    x = np.ascontiguousarray(rng.standard_normal((C, H, W, N)).astype(np.float32)).transpose(3, 0, 1, 2)
    rows = [
        ("BatchNorm2d (train)", lambda: nnlib.BatchNorm2d(C, dtype=np.float32), lambda: nn.BatchNorm2d(C), True),
        ("BatchNorm2d (eval)", lambda: nnlib.BatchNorm2d(C, dtype=np.float32), lambda: nn.BatchNorm2d(C), False),
        ("ReLU", L.ReLU, lambda: nn.ReLU(), True),
        ("LeakyReLU(0.01)", nnlib.LeakyReLU, lambda: nn.LeakyReLU(), True),
        ("GELU (exact)", nnlib.GELU, lambda: nn.GELU(), True),
        ("GELU (tanh)", lambda: nnlib.GELU("tanh"), lambda: nn.GELU("tanh"), True),
        ("MaxPool2D(2)", lambda: L.MaxPool2D(2), lambda: nn.MaxPool2d(2), True),
        ("AvgPool2D(2)", lambda: nnlib.AvgPool2D(2), lambda: nn.AvgPool2d(2), True),
        ("AvgPool2D(3, 1, 1)", lambda: nnlib.AvgPool2D(3, 1, 1), lambda: nn.AvgPool2d(3, 1, 1), True),
        ("GlobalAvgPool2D", nnlib.GlobalAvgPool2D, lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), True),
    ]
    print(f"input ({N}, {C}, {H}, {W}) float32, {args.threads} thread(s), median of {args.reps} calls, ms")
    head = f"{'layer':22s} {'nnlib fwd':>9s} {'bwd':>7s}"
    print(head + (f" {'torch fwd':>9s} {'bwd':>7s} {'ratio':>6s}" if torch else ""))
    xt = torch.from_numpy(np.ascontiguousarray(x)).requires_grad_() if torch else None
    for name, make, make_ref, train in rows:
        f, b = time_layer(make(), x, train, args.reps)
        line = f"{name:22s} {f:9.2f} {b:7.2f}"
        if torch:
            tf, tb = time_torch(torch, make_ref().train(train), xt, args.reps)
            line += f" {tf:9.2f} {tb:7.2f} {(f + b) / (tf + tb):6.2f}"
        print(line)


def time_layer(layer, x, train: bool, reps: int) -> tuple[float, float]:
    """nnlib: (forward, backward) medians in ms."""
    import numpy as np

    d = np.ones_like(layer.forward(x, train))
    return median_ms(lambda: layer.forward(x, train), reps), median_ms(lambda: layer.backward(d), reps)


def time_torch(torch, ref, xt, reps: int) -> tuple[float, float]:
    """PyTorch: (forward, backward) medians in ms; backward = forward + backward − forward."""
    dt = torch.ones_like(ref(xt))
    tf = median_ms(lambda: ref(xt), reps)
    return tf, max(median_ms(lambda: ref(xt).backward(dt), reps) - tf, 0.0)

if __name__ == "__main__":
    main()
