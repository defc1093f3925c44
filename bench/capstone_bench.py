"""The a08 capstone's reference answer: test accuracy and training time, against nnlib's own Network.SGD.

    python bench/capstone_bench.py            # the public split and the graded (relabelled) splits

For each split the reference `train` of solutions/a08_capstone/a08_capstone.md (the learner's view: their
backprop from a05 and a minibatch SGD loop, [64, 32, 10], 30 epochs, batch 10, η = 3) and nnlib's `Network.SGD`
with the same hyper-parameters train on the same 1,497 digits; the accuracy is measured on the 300 held-out digits by
the check's own `accuracy`.  Prints one line per split and the time ratio reference / Network.SGD.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "grader"))

from nnlib.activations import sigmoid, sigmoid_prime, softmax  # noqa: E402
from nnlib.grading import a08_capstone as A8  # noqa: E402
from nnlib.network import Network  # noqa: E402
from nnlib_grader.authoring import cell_source  # noqa: E402


def reference_train():
    source = ROOT / "solutions" / "a08_capstone" / "a08_capstone.md"
    ns = {"np": np, "sigmoid": sigmoid, "sigmoid_prime": sigmoid_prime, "softmax": softmax,
          "SimpleNamespace": SimpleNamespace}
    for gid in ("backprop", "train"):
        exec(cell_source(source, gid), ns)  # noqa: S102 - the source notebook's reference answers
    return ns["train"]


def library_train(X, labels):
    net = Network([64, 32, 10], seed=0)
    data = [(x.reshape(-1, 1), np.eye(10)[t].reshape(-1, 1)) for x, t in zip(X, labels)]
    net.SGD(data, 30, 10, 3.0, seed=0, verbose=False)
    return net.weights, net.biases


def main() -> None:
    train = reference_train()
    splits = [(0, False, "public"), (101, True, "graded 80 %"), (202, True, "graded 90 %"), (303, True, "extra"),
              (404, True, "extra")]
    t_ref = t_lib = 0.0
    for seed, relabel, label in splits:
        (xtr, ytr), (xte, yte) = A8.problem(seed, relabel)
        row = []
        for fn in (train, library_train):
            t0 = time.perf_counter()
            ws, bs, f = A8._network(fn(xtr.copy(), ytr.copy()), "train")
            dt = time.perf_counter() - t0
            row.append((A8.accuracy(ws, bs, f, xte, yte), dt))
        t_ref, t_lib = t_ref + row[0][1], t_lib + row[1][1]
        print(f"split {seed:3d} ({label:11s}): reference {100 * row[0][0]:.1f} % in {row[0][1]:.2f} s; "
              f"Network.SGD {100 * row[1][0]:.1f} % in {row[1][1]:.2f} s")
    print(f"time ratio reference / Network.SGD: {t_ref / t_lib:.2f} (limit {A8.TIME_LIMIT:g} s per call)")


if __name__ == "__main__":
    main()
