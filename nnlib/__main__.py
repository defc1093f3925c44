"""Command line: ``python -m nnlib train ...`` (or the ``nnlib`` console script).

    python -m nnlib                      # an MLP on the 8×8 digits shipped with nnlib, a few seconds
    python -m nnlib train --data mnist --model cnn --epochs 5 --backend auto --save cnn.npz
    python -m nnlib train --data moons --model nielsen --hidden 16

Prints one line per epoch and the final test accuracy.  Errors (no MNIST files offline,
no GPU for ``--backend cupy``, a diverging learning rate) print a message and exit with
status 1, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = ("digits", "mnist", "fashion", "moons", "xor")
MODELS = ("mlp", "cnn", "nielsen")

#: per data set: epochs, hidden width, batch size
DEFAULTS = {
    "digits": {"epochs": 20, "hidden": 100, "batch_size": 32},
    "mnist": {"epochs": 10, "hidden": 100, "batch_size": 64},
    "fashion": {"epochs": 10, "hidden": 100, "batch_size": 64},
    "moons": {"epochs": 100, "hidden": 16, "batch_size": 32},
    "xor": {"epochs": 500, "hidden": 8, "batch_size": 4},
}
#: default learning rate per optimiser (Nielsen's η = 3.0 for his sigmoid network with the quadratic cost)
DEFAULT_LR = {"adam": 3e-3, "rmsprop": 1e-3, "adagrad": 0.05, "sgd": 0.1, "momentum": 0.05, "nesterov": 0.05}
NIELSEN_LR = 3.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nnlib", description="Neural networks from scratch: train a model from "
                                     "the command line.  With no arguments: an MLP on the 8x8 digits.")
    from nnlib import __version__

    parser.add_argument("--version", action="version", version=f"nnlib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    t = sub.add_parser("train", help="train a model and print its test accuracy",
                       description="Train a model and print per-epoch results and the final test accuracy.")
    t.add_argument("--data", choices=DATASETS, default="digits", help="data set (default: digits, no download)")
    t.add_argument("--model", choices=MODELS, default="mlp",
                   help="mlp: Dense-ReLU-Dense; cnn: Conv-ReLU-MaxPool-Dense; nielsen: Nielsen's sigmoid Network")
    t.add_argument("--epochs", type=int, default=None, help="passes over the training set (default per data set)")
    t.add_argument("--batch-size", type=int, default=None,
                   help="minibatch size (default per data set; 10 for nielsen)")
    t.add_argument("--lr", type=float, default=None, help="learning rate (default per optimiser; nielsen: 3.0)")
    t.add_argument("--optimizer", default=None, choices=sorted(DEFAULT_LR),
                   help="optimiser (default: adam; sgd for --model nielsen)")
    t.add_argument("--hidden", type=int, default=None, help="hidden-layer width (default per data set)")
    t.add_argument("--seed", type=int, default=0, help="random seed for initialisation and shuffling (default 0)")
    t.add_argument("--backend", choices=("numpy", "cupy", "auto"), default="numpy",
                   help="where to compute: numpy (CPU), cupy (GPU, fails without one), auto (GPU if it works)")
    t.add_argument("--data-dir", default=None, metavar="DIR",
                   help="the data folder, as NNLIB_DATA: DIR/mnist/ (DIR/fashion-mnist/) holds the four .gz files "
                        "(default: $NNLIB_DATA, else the cache)")
    t.add_argument("--no-download", action="store_true", help="never download MNIST; fail if the files are missing")
    t.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a better validation loss")
    t.add_argument("--progress", action="store_true", help="show a progress bar as well")
    t.add_argument("--save", default=None, metavar="PATH", help="save the trained model to this .npz checkpoint")
    return parser


def load_data(args: argparse.Namespace) -> tuple[Any, Any, Any, tuple[int, ...], int]:
    """(train, val, test, input shape of one example, number of classes)."""
    from nnlib import datasets as D

    if args.data == "digits":
        s = D.digits(seed=args.seed)
        return s.train, s.val, s.test, (1, 8, 8), 10
    if args.data in ("mnist", "fashion"):
        sub = {"mnist": "mnist", "fashion": "fashion-mnist"}[args.data]  # the layout of NNLIB_DATA (data_home)
        folder = None if args.data_dir is None else str(Path(args.data_dir) / sub)
        s = D.load_mnist(args.data, split="nielsen", data_dir=folder, download=not args.no_download,
                         progress=args.progress)
        return s.train, s.val, s.test, (1, 28, 28), 10
    if args.data == "moons":
        X, y = D.moons(1000, noise=0.2, seed=args.seed)
        rest, test = D.train_val_split(X, y, val=200, seed=args.seed)
        train, val = D.train_val_split(*rest, val=200, seed=args.seed + 1)
        return train, val, test, (2,), 2
    X, y = D.logic_table("XOR")  # four points: train, validate and test on the truth table
    return (X, y), (X, y), (X, y), (2,), 2


def build_model(kind: str, shape: tuple[int, ...], k: int, hidden: int, dtype: Any, data: str) -> Any:
    from nnlib.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
    from nnlib.model import Model
    from nnlib.network import Network

    n_in = int(np.prod(shape))
    if kind == "nielsen":
        return Network([n_in, hidden, k], dtype=dtype)
    if kind == "mlp":
        return Model([Dense(n_in, hidden, "he", dtype), ReLU(), Dense(hidden, k, "xavier", dtype)])
    if len(shape) != 3:
        raise ValueError(f"--model cnn needs image data (digits, mnist, fashion); {data} has {n_in} features")
    c, h, w = shape
    filters = 8
    return Model([Conv2D(c, filters, 3, pad=1, dtype=dtype), ReLU(), MaxPool2D(2), Flatten(),
                  Dense(filters * (h // 2) * (w // 2), hidden, "he", dtype), ReLU(), Dense(hidden, k, "xavier", dtype)])


def train_command(args: argparse.Namespace) -> int:
    import nnlib
    from nnlib import backend as B
    from nnlib import train as T

    d = DEFAULTS[args.data]
    epochs = d["epochs"] if args.epochs is None else args.epochs
    batch_size = args.batch_size
    if batch_size is None:
        batch_size = 10 if args.model == "nielsen" else d["batch_size"]  # Nielsen's m = 10
    hidden = d["hidden"] if args.hidden is None else args.hidden
    optimizer = args.optimizer or ("sgd" if args.model == "nielsen" else "adam")
    lr = args.lr if args.lr is not None else (NIELSEN_LR if args.model == "nielsen" and optimizer == "sgd"
                                              else DEFAULT_LR[optimizer])
    if epochs < 1 or batch_size < 1 or hidden < 1 or not lr > 0:
        raise ValueError(f"need --epochs, --batch-size, --hidden >= 1 and --lr > 0; got {epochs}, {batch_size}, "
                         f"{hidden}, {lr}")

    nnlib.use(args.backend)
    nnlib.seed(args.seed)
    train, val, test, shape, k = load_data(args)
    if args.model == "cnn":
        train, val, test = ((X.reshape(len(X), *shape), y) for X, y in (train, val, test))
    dtype = train[0].dtype if train[0].dtype.kind == "f" else np.float64
    model = build_model(args.model, shape, k, hidden, dtype, args.data)
    print(f"nnlib: {args.model} {model!r}")
    print(f"data: {args.data} ({len(train[0])} train, {len(val[0])} val, {len(test[0])} test)  backend: {B.name()}  "
          f"optimizer: {optimizer} lr={lr:g}  batch size: {batch_size}  epochs: {epochs}", flush=True)
    t0 = time.perf_counter()
    history = T.fit(model, train, val, epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr,
                    early_stopping=args.early_stopping, seed=args.seed, progress=args.progress, verbose=True)
    result = T.evaluate(model, *test)
    print(f"trained {len(history)} epochs in {time.perf_counter() - t0:.1f} s")
    print(f"test accuracy: {result['accuracy']:.4f}  (test loss {result['loss']:.4f})")
    if args.save:
        path = T.save_checkpoint(args.save, model, history, data=args.data, architecture=args.model,
                                 hidden=hidden, test_accuracy=result["accuracy"])
        print(f"saved {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m nnlib`` and the ``nnlib`` script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("train", "-h", "--help", "--version"):
        argv.insert(0, "train")  # ``train`` is the default command
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    from nnlib.train import CheckpointError

    try:
        return train_command(args)
    except KeyboardInterrupt:
        print("nnlib: interrupted", file=sys.stderr)
        return 130
    except (ValueError, FloatingPointError, RuntimeError, OSError, CheckpointError) as exc:
        print(f"nnlib: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
