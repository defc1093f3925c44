"""Model's ReLU → MaxPool2D reordering (issue 12): the benchmark CNN's training step with and without it.

    python bench/relu_pool.py            # 1 and 2 threads, MNIST if NNLIB_DATA/NNLIB_MNIST_DIR points at it

``Model.run_order`` runs a ReLU directly followed by an unpadded MaxPool2D as MaxPool2D → ReLU (the same
numbers: tests/test_fastpaths.py).  "listed" runs the layers as listed (``run_order`` replaced by the list);
"reordered" is the library as shipped.  Each thread setting runs in a fresh process, pinned to that many
cores; the two variants are timed interleaved, 40 minibatches of 64 per repetition, median of 7.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def worker(threads: int) -> dict:
    import run
    run.pin_to_cores(threads)
    import numpy as np
    from threadpoolctl import threadpool_limits

    import nnlib  # noqa: F401
    threadpool_limits(threads)
    try:
        import _data
        X, y = _data.mnist()["train"]
    except Exception:  # no MNIST here: random images (the speed does not depend on the values)
        rng = np.random.default_rng(0)
        X, y = rng.random((6400, 784), dtype=np.float32), rng.integers(0, 10, 6400)
    Xc = X.reshape(-1, 1, 28, 28)
    times = {"listed": [], "reordered": []}
    for _ in range(7):
        for variant in times:
            m = run._nnlib_models()[1]()
            if variant == "listed":
                m.run_order = lambda m=m: list(m.layers)
            run._train_model(m, Xc[:128], y[:128], 64, 0.01)
            times[variant].append(run._timed(lambda m=m: run._train_model(m, Xc, y, 64, 0.01, 40)) / 40 * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(int(sys.argv[2]))))
        return
    print("CNN training step (ms, batch 64), Model as shipped against the layers run as listed")
    print(f"{'threads':>8} {'listed':>8} {'reordered':>10} {'reordered/listed':>17}")
    for threads in (1, 2):
        if threads > len(os.sched_getaffinity(0)):
            continue
        out = subprocess.run([sys.executable, __file__, "--worker", str(threads)], stdout=subprocess.PIPE,
                             text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{threads:>8} {r['listed']:>8.2f} {r['reordered']:>10.2f} {r['reordered'] / r['listed']:>17.3f}")


if __name__ == "__main__":
    main()
