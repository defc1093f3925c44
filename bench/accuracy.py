"""Accuracy on the real MNIST test set (issue 3, row 4): long-running, not part of bench/run.py.

    python bench/accuracy.py [nielsen] [mlp] [cnn] [--cnn-epochs 3]

* nielsen: Nielsen's [784, 30, 10], sigmoid, quadratic cost, batch 10, η = 3.0, 30 epochs on the first
  50,000 training images (his split), ``nnlib.network.Network`` in float32.  Target ≥ 95 %.
* mlp: [784, 100, 10] ReLU, softmax cross-entropy + L2 (λ = 1e-4), momentum SGD, batch 64, 30 epochs on
  60,000 images, learning rate halved every 10 epochs.  Target ≥ 98 %.
* cnn: conv 5×5×20 → ReLU → pool 2 → conv 5×5×40 → ReLU → pool 2 → dense 100 → ReLU → dense 10,
  softmax cross-entropy, Adam (lr 1e-3, ×decay per epoch after the first), batch 64.  Target ≥ 99.3 %.

Each run's per-epoch history is written as a ``nnlib.train.History`` (``loss``, ``test_acc``, ``seconds``,
``meta``: the one schema ``nnlib.viz.plot_history`` and ``nnlib.notebook.load_history`` read) to
``nnlib/data/histories/{nielsen_784_30_10,mlp_784_100_10,cnn}.json`` for the course notebooks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import _data  # noqa: E402

from nnlib import layers as L  # noqa: E402
from nnlib import optim  # noqa: E402
from nnlib.model import Model  # noqa: E402
from nnlib.network import Network  # noqa: E402
from nnlib.train import History  # noqa: E402

OUT = HERE.parent / "nnlib" / "data" / "histories"  # package data: lectures load them anywhere


def _save(name: str, hist: History, meta: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    hist.meta = meta
    hist.save(OUT / f"{name}.json")
    print(f"{name}: final test accuracy {hist.test_acc[-1]:.4f}, {sum(hist.seconds):.0f} s of training -> "
          f"{OUT / (name + '.json')}", flush=True)


def _accuracy(model: Model, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.concatenate([model.predict(X[k:k + 1000]) for k in range(0, len(X), 1000)])
                         == y))


def nielsen(d: dict, epochs: int = 30) -> None:
    X, y = d["train"]
    Xt, yt = d["test"]
    Y = np.eye(10, dtype=np.float32)[y[:50000]]
    net = Network([784, 30, 10], dtype=np.float32, seed=0)
    hist = History()
    for e in range(epochs):
        h = net.SGD((X[:50000], Y), 1, 10, 3.0, seed=e, verbose=False)
        hist.seconds.append(h["seconds"][0])
        hist.loss.append(h["cost"][0])
        hist.test_acc.append(net.evaluate((Xt, yt)) / len(yt))
        print(f"nielsen epoch {e + 1}: {hist.test_acc[-1]:.4f}", flush=True)
    _save("nielsen_784_30_10", hist, {"model": "Network([784,30,10]) sigmoid quadratic float32", "batch": 10,
                                      "eta": 3.0, "train_images": 50000,
                                      "loss": "mean quadratic cost on the first 2,000 training images after the epoch"})


def _fit(name: str, model: Model, opt, lr_at, d: dict, epochs: int, batch: int, meta: dict,
         image: bool = False) -> None:
    X, y = d["train"]
    Xt, yt = d["test"]
    if image:
        X, Xt = X.reshape(-1, 1, 28, 28), Xt.reshape(-1, 1, 28, 28)
    rng = np.random.default_rng(0)
    hist = History()
    meta = {**meta, "loss": "mean minibatch loss during the epoch"}
    for e in range(epochs):
        opt.lr = lr_at(e)
        t0 = time.perf_counter()
        perm = rng.permutation(len(X))
        Xs, ys = X[perm], y[perm]
        losses = [model.train_step(Xs[k:k + batch], ys[k:k + batch], opt) for k in range(0, len(X), batch)]
        hist.seconds.append(time.perf_counter() - t0)
        hist.lr.append(opt.lr)
        hist.loss.append(float(np.mean(losses)))
        hist.test_acc.append(_accuracy(model, Xt, yt))
        print(f"{name} epoch {e + 1}: loss {hist.loss[-1]:.4f} test {hist.test_acc[-1]:.4f} "
              f"({hist.seconds[-1]:.0f} s)", flush=True)
    _save(name, hist, meta)


def mlp(d: dict, epochs: int = 30) -> None:
    f = np.float32
    model = Model([L.Dense(784, 100, "he", dtype=f), L.ReLU(), L.Dense(100, 10, dtype=f)],
                  cost="softmax_cross_entropy", l2=1e-4)
    sched = optim.StepDecay(0.05, factor=0.5, every=10)
    _fit("mlp_784_100_10", model, optim.Momentum(0.05, mu=0.9), sched, d, epochs, 64,
         {"model": "Dense(784,100) ReLU Dense(100,10), softmax CE, l2=1e-4", "optimizer": "Momentum(mu=0.9)",
          "lr": "0.05 halved every 10 epochs", "batch": 64, "train_images": 60000})


def cnn(d: dict, epochs: int = 3, decay: float = 0.5, dropout: float = 0.0) -> None:
    f = np.float32
    head = [L.Dropout(dropout)] if dropout else []
    model = Model([L.Conv2D(1, 20, 5, dtype=f), L.ReLU(), L.MaxPool2D(2), L.Conv2D(20, 40, 5, dtype=f), L.ReLU(),
                   L.MaxPool2D(2), L.Flatten(), L.Dense(640, 100, "he", dtype=f), L.ReLU(), *head,
                   L.Dense(100, 10, dtype=f)], cost="softmax_cross_entropy")
    _fit("cnn", model, optim.Adam(1e-3), lambda e: 1e-3 * decay ** max(0, e - 1), d, epochs, 64,
         {"model": "conv5x5x20-relu-pool2-conv5x5x40-relu-pool2-dense100-relu-dense10", "optimizer": "Adam",
          "lr": f"1e-3, x{decay} per epoch after the first", "epochs": epochs, "batch": 64, "dropout": dropout,
          "train_images": 60000}, image=True)


def main() -> None:
    ap = argparse.ArgumentParser(description="MNIST test accuracy of the three benchmark models")
    ap.add_argument("runs", nargs="*", help="nielsen, mlp and/or cnn (default: all three)")
    ap.add_argument("--cnn-epochs", type=int, default=3)
    ap.add_argument("--cnn-decay", type=float, default=0.5, help="Adam lr factor per epoch after the first")
    ap.add_argument("--cnn-dropout", type=float, default=0.0, help="dropout before the last dense layer")
    args = ap.parse_args()
    bad = set(args.runs) - {"nielsen", "mlp", "cnn"}
    if bad:
        ap.error(f"unknown run(s) {sorted(bad)}: choose from nielsen, mlp, cnn")
    d = _data.mnist()
    for r in args.runs or ["nielsen", "mlp", "cnn"]:
        t0 = time.perf_counter()
        runs = {"nielsen": nielsen, "mlp": mlp,
                "cnn": lambda d: cnn(d, args.cnn_epochs, args.cnn_decay, args.cnn_dropout)}
        runs[r](d)
        print(f"{r}: wall time {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
