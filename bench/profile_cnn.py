"""Where a CNN training step (benchmark row 3) spends its time: per layer, forward and backward.

    python bench/profile_cnn.py                 # 1 BLAS thread, batch 64
    python bench/profile_cnn.py --threads 2 --reps 15

Layers are timed one call at a time (median over ``--reps`` repetitions, each repetition runs every layer
once).  The whole ``Model.train_step`` and a PyTorch step of the same network (bench/torch_models.py) are
timed in alternating blocks of ``--block`` steps in the same process (median per step over ``--blocks``
blocks each), so their ratio is comparable on a shared machine.  Blocks are long because at 2 threads the
two libraries' idle worker threads (OpenBLAS, OpenMP) keep spinning for a while after their last call and
slow the other one down; with blocks of 5 steps the PyTorch step at 2 threads measured ~21–26 ms instead of
~12–15 ms.  Random float32 images in [0, 1] stand in for MNIST (the speed does not depend on the values); 8
different batches are cycled.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=30, help="repetitions of the per-layer timings")
    ap.add_argument("--blocks", type=int, default=8, help="timed blocks of whole steps, per library")
    ap.add_argument("--block", type=int, default=20, help="steps per block")
    args = ap.parse_args()

    import numpy as np
    from threadpoolctl import threadpool_limits

    import nnlib  # noqa: F401  (first: it loads SciPy and its OpenBLAS, so the limit reaches both)
    threadpool_limits(args.threads)
    import torch_models as TM

    from nnlib import layers as L
    from nnlib import optim
    from nnlib.model import Model

    f = np.float32
    model = Model([L.Conv2D(1, 20, 5, dtype=f), L.ReLU(), L.MaxPool2D(2), L.Conv2D(20, 40, 5, dtype=f), L.ReLU(),
                   L.MaxPool2D(2), L.Flatten(), L.Dense(640, 100, "he", dtype=f), L.ReLU(),
                   L.Dense(100, 10, dtype=f)], cost="softmax_cross_entropy")
    rng = np.random.default_rng(0)
    n = args.batch
    xs = rng.random((8, n, 1, 28, 28), dtype=f)
    ys = rng.integers(0, 10, (8, n))
    x, y = xs[0], ys[0]
    opt = optim.SGD(0.01)
    for _ in range(3):
        model.train_step(x, y, opt)  # warm-up

    # ---- per layer: forward (train mode) and backward, each call timed alone
    names = [f"{i} {layer!r}" for i, layer in enumerate(model.layers)]
    fwd = {k: [] for k in names}
    bwd = {k: [] for k in names}
    first = model.layers[0]
    for _ in range(args.reps):
        a = x
        for layer, k in zip(model.layers, names):
            t0 = time.perf_counter()
            a = layer.forward(a, True)
            fwd[k].append(time.perf_counter() - t0)
        d = rng.standard_normal(a.shape).astype(f) / n
        for layer, k in zip(reversed(model.layers), reversed(names)):
            t0 = time.perf_counter()
            if layer is first:
                layer.backward_params(d)  # what Model does: no ∂L/∂x for the first layer
            else:
                d = layer.backward(d)
            bwd[k].append(time.perf_counter() - t0)

    # ---- whole steps, nnlib and PyTorch interleaved
    have_torch = TM.available()
    if have_torch:
        import torch
        torch.set_num_threads(args.threads)
        tm = TM.cnn()
        topt = torch.optim.SGD(tm.parameters(), lr=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        xts, yts = torch.from_numpy(xs), torch.from_numpy(ys)

        def torch_step(k):
            topt.zero_grad(set_to_none=True)
            loss = loss_fn(tm(xts[k]), yts[k])
            loss.backward()
            topt.step()
        for k in range(3):
            torch_step(k)
    steps, tsteps = [], []
    block = args.block
    for _ in range(args.blocks):
        t0 = time.perf_counter()
        for k in range(block):
            model.train_step(xs[k % 8], ys[k % 8], opt)
        steps.append((time.perf_counter() - t0) / block)
        if have_torch:
            t0 = time.perf_counter()
            for k in range(block):
                torch_step(k % 8)
            tsteps.append((time.perf_counter() - t0) / block)

    ms = lambda v: 1e3 * statistics.median(v)  # noqa: E731
    print(f"batch {n}, {args.threads} BLAS thread(s), per layer: medians of {args.reps} calls (ms)")
    print(f"{'layer':<40} {'forward':>8} {'backward':>9}")
    tf = tb = 0.0
    for k in names:
        tf, tb = tf + ms(fwd[k]), tb + ms(bwd[k])
        print(f"{k:<40} {ms(fwd[k]):8.3f} {ms(bwd[k]):9.3f}")
    print(f"{'sum of layers':<40} {tf:8.3f} {tb:9.3f}   (total {tf + tb:.3f})")
    print(f"whole steps: medians of {args.blocks} blocks of {block} steps")
    print(f"nnlib train_step   {ms(steps):7.3f} ms  (min {1e3 * min(steps):.3f})")
    if have_torch:
        print(f"PyTorch step       {ms(tsteps):7.3f} ms  (min {1e3 * min(tsteps):.3f})")
        print(f"ratio nnlib/torch  {statistics.median(steps) / statistics.median(tsteps):.3f}")


if __name__ == "__main__":
    main()
