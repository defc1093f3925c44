"""MNIST for the benchmarks: a tiny IDX reader (the benchmark does not depend on nnlib.datasets).

``mnist(data_dir)`` returns float32 images scaled to [0, 1] as rows (N, 784) and int64 labels:
training 60,000 (Nielsen uses the first 50,000 and keeps 10,000 for validation) and test 10,000.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np


def default_dir() -> Path:
    """``$NNLIB_MNIST_DIR`` (a folder holding the four files), else ``$NNLIB_DATA/mnist`` (the course's data
    folder, as ``nnlib.datasets`` and ``python -m nnlib train --data-dir`` use it).  No built-in default."""
    if os.environ.get("NNLIB_MNIST_DIR"):
        return Path(os.environ["NNLIB_MNIST_DIR"]).expanduser()
    if os.environ.get("NNLIB_DATA"):
        return Path(os.environ["NNLIB_DATA"]).expanduser() / "mnist"
    raise FileNotFoundError("bench: set NNLIB_MNIST_DIR to the folder holding the four MNIST files "
                            "(or NNLIB_DATA to the folder whose mnist/ subfolder holds them)")

_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped) as a NumPy array: magic 0x00 0x00 dtype ndim, big-endian dims, data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _find(data_dir: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz"):
        if (data_dir / name).exists():
            return data_dir / name
    raise FileNotFoundError(f"MNIST file {stem}(.gz) not found in {data_dir} (set NNLIB_MNIST_DIR)")


def mnist(data_dir: str | os.PathLike | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (X (60000, 784) float32 in [0, 1], y int64), "test": (X (10000, 784), y)}."""
    d = Path(data_dir) if data_dir is not None else default_dir()
    out = {}
    for split, (img, lab) in _FILES.items():
        X = read_idx(_find(d, img)).reshape(-1, 784).astype(np.float32) / np.float32(255.0)
        y = read_idx(_find(d, lab)).astype(np.int64)
        out[split] = (X, y)
    return out
