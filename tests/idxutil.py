"""Test helpers: write small IDX files and fake MNIST folders (no real data needed)."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np

IDX_CODES = {np.dtype("uint8"): 0x08, np.dtype("int8"): 0x09, np.dtype("int16"): 0x0B,
             np.dtype("int32"): 0x0C, np.dtype("float32"): 0x0D, np.dtype("float64"): 0x0E}


def idx_bytes(a: np.ndarray) -> bytes:
    """The IDX encoding of ``a``: 0, 0, type code, ndim, big-endian int32 dims, big-endian data."""
    a = np.asarray(a)
    header = bytes([0, 0, IDX_CODES[a.dtype], a.ndim]) + struct.pack(f">{a.ndim}i", *a.shape)
    return header + a.astype(a.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, a: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``a`` as an IDX file; gzip-compressed if ``compress`` (default: name ends in .gz)."""
    path = Path(path)
    data = idx_bytes(a)
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_fake_mnist(folder: Path, n_train: int = 120, n_test: int = 30, seed: int = 0,
                    blank: bool = False) -> dict[str, str]:
    """Four MNIST-named .gz files with random (or all-zero, fast to compress) 28x28 images and labels
    ``i % 10``; returns {file name: SHA-256}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = np.zeros((n, 28, 28), np.uint8) if blank else rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    return {p.name: sha256(p) for p in sorted(folder.glob("*.gz"))}
