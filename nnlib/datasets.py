"""Data sets for the course: logic tables, 2-D toy sets, digits, MNIST and Fashion-MNIST.

Every loader returns *host* NumPy arrays in the library's layout: inputs as rows,
``X`` of shape ``(n_samples, n_features)`` (float), labels ``y`` as an int64 vector
``(n,)``.  Move them to the GPU with ``nnlib.to_device`` when you want to.

MNIST files are read from ``<cache>/<subdir>/`` where ``<cache>`` is ``$NNLIB_DATA``,
else ``$XDG_CACHE_HOME/nnlib``, else ``~/.cache/nnlib`` and ``<subdir>`` is ``mnist``
or ``fashion-mnist``.  They are downloaded (checked by SHA-256) when missing.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import urllib.request
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from nnlib import backend as B
from nnlib.files import atomic_file

__all__ = [
    "DatasetError", "Split", "logic_table", "blobs", "moons", "circles", "spirals", "digits",
    "read_idx", "load_mnist", "download", "data_home", "one_hot", "scale01", "minibatches",
    "nielsen_format", "train_val_split", "MNIST_FILES", "CHECKSUMS", "MIRRORS",
]


class DatasetError(ValueError):
    """A data file is missing, corrupt or inconsistent (the message names the file)."""


class Split(NamedTuple):
    """Train / validation / test parts, each a pair ``(X, y)``; ``val`` may be ``None``.

    Unpacks like Nielsen's loader: ``train, val, test = load_mnist()``.
    """

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray] | None
    test: tuple[np.ndarray, np.ndarray]

    def __repr__(self) -> str:
        def part(p: Any) -> str:
            return "None" if p is None else f"(X{tuple(p[0].shape)}, y{tuple(p[1].shape)})"

        return f"Split(train={part(self.train)}, val={part(self.val)}, test={part(self.test)})"


# --------------------------------------------------------------------------- logic tables

_LOGIC = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
    "XOR": [0, 1, 1, 0],
    "XNOR": [1, 0, 0, 1],
}


def logic_table(name: str, encoding: str = "01") -> tuple[np.ndarray, np.ndarray]:
    """Truth table of a Boolean gate as a tiny data set.

    Two-input gates (AND, OR, NAND, NOR, XOR, XNOR) give ``X`` of shape (4, 2) with rows
    00, 01, 10, 11; ``NOT`` gives (2, 1).  ``encoding="01"`` uses {0, 1}; ``"pm1"`` maps
    0 -> -1 (for the perceptron rule ``y = sign(w.x + b)``) in both ``X`` and ``y``.

    Returns ``X`` float64 and ``y`` int64 of shape (4,) (or (2,) for NOT).
    """
    key = name.strip().upper()
    if key == "NOT":
        X = np.array([[0.0], [1.0]])
        y = np.array([1, 0], dtype=np.int64)
    elif key in _LOGIC:
        X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        y = np.array(_LOGIC[key], dtype=np.int64)
    else:
        raise ValueError(f"logic_table: unknown gate {name!r}; choose one of {', '.join([*_LOGIC, 'NOT'])}")
    if encoding == "pm1":
        return 2.0 * X - 1.0, 2 * y - 1
    if encoding != "01":
        raise ValueError(f"logic_table: encoding must be '01' or 'pm1', not {encoding!r}")
    return X, y


# --------------------------------------------------------------------------- 2-D toy sets

def _class_sizes(n: int, k: int, fn: str) -> np.ndarray:
    """Split ``n`` samples into ``k`` classes whose sizes differ by at most one."""
    if int(k) < 2 or int(n) < int(k):
        raise ValueError(f"{fn}: need at least 2 classes and n >= classes, got n={n}, classes={k}")
    sizes = np.full(int(k), int(n) // int(k))
    sizes[: int(n) % int(k)] += 1
    return sizes


def _check_noise(noise: float, fn: str) -> None:
    if not noise >= 0:
        raise ValueError(f"{fn}: noise must be >= 0, got {noise}")


def _finish(parts: list[np.ndarray], sizes: np.ndarray, noise: float,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stack the class point clouds, add N(0, noise^2) to each coordinate, shuffle the rows."""
    X = np.concatenate(parts).astype(np.float64)
    y = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    X += noise * rng.standard_normal(X.shape)
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


def blobs(n: int = 200, centers: int | Sequence[Sequence[float]] = 2, noise: float = 1.0,
          seed: int | None = 0, radius: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs: class ``j`` is ``c_j + noise * N(0, I)``.

    ``centers`` is a number of classes ``k`` (centres evenly spaced on a circle,
    ``c_j = radius * (cos 2 pi j/k, sin 2 pi j/k)``) or an array of centres (k, 2).
    Classes differ in size by at most one.  Returns ``X`` (n, 2) float64, ``y`` (n,) int64.
    """
    _check_noise(noise, "blobs")
    if np.isscalar(centers):
        k = int(centers)  # type: ignore[arg-type]
        angle = 2 * np.pi * np.arange(k) / max(k, 1)
        C = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    else:
        C = np.asarray(centers, dtype=np.float64)
        if C.ndim != 2 or C.shape[1] != 2:
            raise ValueError(f"blobs: centers must have shape (k, 2), got {C.shape}")
    sizes = _class_sizes(n, len(C), "blobs")
    rng = np.random.default_rng(seed)
    return _finish([np.repeat(C[j : j + 1], m, axis=0) for j, m in enumerate(sizes)], sizes, noise, rng)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``).

    Class 0: ``(cos t, sin t)``, class 1: ``(1 - cos t, 1/2 - sin t)``, ``t in [0, pi]``,
    plus ``noise * N(0, I)``.  Returns ``X`` (n, 2) float64, ``y`` (n,) int64.
    """
    _check_noise(noise, "moons")
    sizes = _class_sizes(n, 2, "moons")
    t0, t1 = np.linspace(0, np.pi, sizes[0]), np.linspace(0, np.pi, sizes[1])
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    return _finish([outer, inner], sizes, noise, np.random.default_rng(seed))


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
            seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (0 < factor < 1).

    Points ``r (cos t, sin t)`` at evenly spaced angles plus ``noise * N(0, I)``.
    Returns ``X`` (n, 2) float64, ``y`` (n,) int64.
    """
    _check_noise(noise, "circles")
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor}")
    sizes = _class_sizes(n, 2, "circles")
    parts = []
    for r, m in zip((1.0, factor), sizes):
        t = np.linspace(0, 2 * np.pi, m, endpoint=False)
        parts.append(r * np.stack([np.cos(t), np.sin(t)], axis=1))
    return _finish(parts, sizes, noise, np.random.default_rng(seed))


def spirals(n: int = 200, classes: int = 2, noise: float = 0.05, seed: int | None = 0,
            turns: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (not linearly separable).

    Arm ``j``: ``r (cos theta, sin theta)`` with ``r`` evenly in [0.1, 1] and
    ``theta = 2 pi (turns * r + j / classes)``, plus ``noise * N(0, I)``.
    Returns ``X`` (n, 2) float64, ``y`` (n,) int64.
    """
    _check_noise(noise, "spirals")
    sizes = _class_sizes(n, classes, "spirals")
    parts = []
    for j, m in enumerate(sizes):
        r = np.linspace(0.1, 1.0, m)
        theta = 2 * np.pi * (turns * r + j / len(sizes))
        parts.append(r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1))
    return _finish(parts, sizes, noise, np.random.default_rng(seed))


# --------------------------------------------------------------------------- splitting

def _split_sizes(n: int, split: Sequence[float], fn: str) -> list[int]:
    """Part sizes from counts (ints, sum <= n) or fractions (floats, sum <= 1; rounding goes to part 0)."""
    if any(s < 0 for s in split):
        raise ValueError(f"{fn}: split sizes must be >= 0, got {tuple(split)}")
    if all(isinstance(s, (int, np.integer)) for s in split):
        sizes = [int(s) for s in split]
        if sum(sizes) > n:
            raise ValueError(f"{fn}: split {tuple(sizes)} asks for {sum(sizes)} samples, only {n} available")
        return sizes
    total = float(sum(split))
    if total > 1 + 1e-9:
        raise ValueError(f"{fn}: split fractions {tuple(split)} sum to {total:g} > 1")
    sizes = [int(math.floor(float(s) * n)) for s in split]
    if abs(total - 1) < 1e-9:
        sizes[0] += n - sum(sizes)
    return sizes


def _partition(y: np.ndarray, sizes: Sequence[int], rng: np.random.Generator, stratify: bool) -> list[np.ndarray]:
    """Random disjoint index sets of the given sizes.

    Stratified: each sample gets ``u = (rank within its class + U(0,1)) / class size`` (ranks in
    random order); sorting by ``u`` and cutting consecutive chunks gives every part each class in
    proportion to its size, within one sample.
    """
    n = len(y)
    if stratify:
        perm = rng.permutation(n)
        _, cls = np.unique(y[perm], return_inverse=True)
        counts = np.bincount(cls)
        order = np.argsort(cls, kind="stable")
        rank = np.empty(n)
        rank[order] = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
        u = (rank + rng.random(n)) / counts[cls]
        key = perm[np.argsort(u, kind="stable")]
    else:
        key = rng.permutation(n)
    bounds = np.cumsum(sizes)
    return [rng.permutation(p) for p in np.split(key[: bounds[-1]], bounds[:-1])]


def _take(A: Any, idx: np.ndarray) -> Any:
    """``A[idx]`` for host or device ``A`` (a host index is moved to the device first)."""
    return A[idx] if isinstance(A, np.ndarray) else A[B.to_device(idx)]


def train_val_split(X: Any, y: Any, val: int | float = 0.2, seed: int | None = 0, shuffle: bool = True,
                    stratify: bool = False) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """Split ``(X, y)`` into ``((X_train, y_train), (X_val, y_val))``.

    ``val`` is a count or a fraction of the samples.  ``shuffle=False`` keeps the order and
    takes the *last* ``val`` rows as validation (as Nielsen does for MNIST); otherwise the
    split is a seeded random one, stratified by ``y`` if asked.
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_val_split: X has {n} rows but y has {len(y)}")
    n_val = int(val) if isinstance(val, (int, np.integer)) else int(round(float(val) * n))
    if not 0 <= n_val <= n:
        raise ValueError(f"train_val_split: val={val} gives {n_val} validation samples out of {n}")
    if not shuffle:
        return (X[: n - n_val], y[: n - n_val]), (X[n - n_val :], y[n - n_val :])
    y_host = B.to_host(y)
    labels = np.argmax(y_host, axis=1) if y_host.ndim == 2 else y_host
    tr, va = _partition(labels, [n - n_val, n_val], np.random.default_rng(seed), stratify)
    return (_take(X, tr), _take(y, tr)), (_take(X, va), _take(y, va))


def digits(split: Sequence[float] = (1197, 300, 300), seed: int | None = 0, dtype: Any = np.float64,
           stratify: bool = True) -> Split:
    """The 8x8 handwritten digits (1797 images, shipped with nnlib: no download), pixels scaled to [0, 1].

    ``X = pixels / 16`` of shape (n, 64), ``y`` int64 in 0..9.  ``split`` gives the
    (train, val, test) sizes as counts or fractions; the split is seeded and, by default,
    stratified (each part holds every digit in proportion).

    The data are scikit-learn's ``load_digits()``, the test set of UCI's *Optical Recognition of Handwritten
    Digits* (Alpaydin & Kaynak, 1998; CC BY 4.0), stored in ``nnlib/data/digits.npz`` (see its README.md).
    """
    pixels, labels = _digits_arrays()
    X = (pixels.reshape(len(labels), 64) / 16.0).astype(dtype)
    y = labels.astype(np.int64)
    if len(split) != 3:
        raise ValueError(f"digits: split must give (train, val, test) sizes, got {tuple(split)}")
    sizes = _split_sizes(len(y), split, "digits")
    tr, va, te = _partition(y, sizes, np.random.default_rng(seed), stratify)
    return Split((X[tr], y[tr]), (X[va], y[va]), (X[te], y[te]))


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(pixels uint8 (1797, 8, 8) in 0..16, labels uint8 (1797,)) from the package's digits.npz."""
    from importlib import resources

    ref = resources.files("nnlib").joinpath("data", "digits.npz")
    try:
        with ref.open("rb") as f, np.load(f) as npz:
            pixels, labels = npz["pixels"], npz["labels"]
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"digits: the packaged file {ref} is missing or damaged ({exc}); reinstall nnlib") from exc
    if pixels.shape != (1797, 8, 8) or labels.shape != (1797,) or int(pixels.max()) > 16 or int(labels.max()) > 9:
        raise DatasetError(f"digits: {ref} holds unexpected arrays ({pixels.shape}, {labels.shape}); reinstall nnlib")
    return pixels, labels


# --------------------------------------------------------------------------- IDX files

_IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def _dims(dims: Sequence[int]) -> str:
    return "\u00d7".join(str(d) for d in dims)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw) into a NumPy array of native byte order.

    Layout: two zero bytes, a type code (0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions ``d``, ``d`` big-endian int32
    sizes, then ``prod(sizes)`` big-endian values.  Any deviation (bad magic, unknown type,
    truncated or over-long payload, broken gzip stream or CRC) raises ``DatasetError``
    naming the file.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile, CRC error, truncated stream
            raise DatasetError(f"{path}: corrupt gzip data ({exc})") from exc
    return _parse_idx(raw, path)


def _parse_idx(data: bytes, path: Path) -> np.ndarray:
    if len(data) < 4:
        raise DatasetError(f"{path}: truncated: {len(data)} bytes, too short for an IDX header")
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(f"{path}: bad magic number 0x{data[:4].hex().upper()}: an IDX file starts with two "
                           "zero bytes (not an IDX file, or not decompressed?)")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise DatasetError(f"{path}: unknown IDX data type code 0x{code:02X} (expected one of {known})")
    if ndim == 0:
        raise DatasetError(f"{path}: IDX header gives 0 dimensions")
    start = 4 + 4 * ndim
    if len(data) < start:
        raise DatasetError(f"{path}: truncated: header of {ndim} dimensions needs {start} bytes, file has "
                           f"{len(data):,}")
    dims = struct.unpack(f">{ndim}i", data[4:start])
    if min(dims) < 0:
        raise DatasetError(f"{path}: negative dimension in IDX header: {_dims(dims)}")
    dtype = _IDX_DTYPES[code]
    count = math.prod(dims)
    want, have = count * dtype.itemsize, len(data) - start
    if have != want:
        what = "truncated" if have < want else f"too long ({have - want:,} extra bytes)"
        raise DatasetError(f"{path}: {what}: header says {_dims(dims)} = {want:,} bytes, file has {have:,}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=start).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))  # native order, a writable copy


# --------------------------------------------------------------------------- MNIST files

MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

#: canonical SHA-256 of the four .gz files of each data set
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion": {
        "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    },
}

MIRRORS: dict[str, list[str]] = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

_SUBDIR = {"mnist": "mnist", "fashion": "fashion-mnist"}
_KIND_ALIASES = {"mnist": "mnist", "fashion": "fashion", "fashion-mnist": "fashion", "fashion_mnist": "fashion"}


def _kind(kind: str) -> str:
    try:
        return _KIND_ALIASES[kind.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown data set kind {kind!r}; choose 'mnist' or 'fashion'") from None


def data_home() -> Path:
    """The cache folder: ``$NNLIB_DATA``, else ``$XDG_CACHE_HOME/nnlib``, else ``~/.cache/nnlib``."""
    if os.environ.get("NNLIB_DATA"):
        return Path(os.environ["NNLIB_DATA"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "nnlib"


def _folder(kind: str, data_dir: str | os.PathLike | None) -> Path:
    return Path(data_dir).expanduser() if data_dir is not None else data_home() / _SUBDIR[kind]


_hash_cache: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    """SHA-256 hex digest of a file (remembered while its size and mtime do not change)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        _hash_cache[key] = h.hexdigest()
    return _hash_cache[key]


def _problem(path: Path, expected: str | None) -> str | None:
    """Why ``path`` is not a valid copy (None if it is)."""
    if not path.is_file():
        return "missing"
    if expected is not None and (got := _sha256(path)) != expected:
        return f"wrong SHA-256 {got} (expected {expected})"
    return None


def _expected(kind: str, checksums: Mapping[str, str] | None) -> Mapping[str, str]:
    expected = CHECKSUMS[kind] if checksums is None else checksums
    missing = [f for f in MNIST_FILES if f not in expected]
    if missing:
        raise ValueError(f"checksums: no SHA-256 given for {', '.join(missing)}")
    return expected


def _where_to_put(kind: str, folder: Path, expected: Mapping[str, str]) -> str:
    lines = [f"Put these files (from any MNIST mirror) into {folder}/ :"]
    lines += [f"  {name}  sha256 {expected[name]}" for name in MNIST_FILES]
    lines.append(f"or set NNLIB_DATA to a folder whose {_SUBDIR[kind]}/ subfolder holds them "
                 f"(now NNLIB_DATA={os.environ.get('NNLIB_DATA', '<unset>')}, cache {data_home()}), "
                 "or pass data_dir= to load_mnist/download.")
    return "\n".join(lines)


def _url(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def _fetch(url: str, dest: Path, expected: str, timeout: float, progress: bool) -> None:
    """Download ``url`` to ``dest`` atomically; ``dest`` appears only complete and verified.

    Writes through :func:`nnlib.files.atomic_file` (a temporary file in the same folder, moved into
    place), checking the length and the SHA-256 first; any failure removes the temporary file.
    """
    from nnlib.progress import bar as progress_bar

    with atomic_file(dest, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        h, got = hashlib.sha256(), 0
        with progress_bar(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name,
                  disable=not progress, leave=False) as bar:
            while chunk := resp.read(1 << 16):
                f.write(chunk)
                h.update(chunk)
                got += len(chunk)
                bar.update(len(chunk))
        if total is not None and got != total:
            raise DatasetError(f"connection closed after {got:,} of {total:,} bytes")
        if (digest := h.hexdigest()) != expected:
            raise DatasetError(f"SHA-256 mismatch: got {digest}, expected {expected} ({got:,} bytes)")


def download(kind: str = "mnist", data_dir: str | os.PathLike | None = None, mirrors: Sequence[str] | None = None,
             progress: bool = True, timeout: float = 30, checksums: Mapping[str, str] | None = None) -> Path:
    """Make sure the four MNIST (or Fashion-MNIST) files are in the cache; return their folder.

    A file already there with the right SHA-256 is kept; a missing or wrong one is fetched from
    the ``mirrors`` (base URLs, tried in order) with ``urllib``, checked against ``checksums``
    (file name -> SHA-256; default: the canonical values) and written atomically.  When a file
    cannot be fetched from any mirror, one ``DatasetError`` lists every mirror's error for every
    such file and says where to put the files by hand.
    """
    kind = _kind(kind)
    expected = _expected(kind, checksums)
    folder = _folder(kind, data_dir)
    mirrors = list(MIRRORS[kind] if mirrors is None else mirrors)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot create the data folder: {exc.strerror or exc}") from exc
    failures: dict[str, list[str]] = {}
    for name in MNIST_FILES:
        dest = folder / name
        if _problem(dest, expected[name]) is None:
            continue
        errors = []
        for base in mirrors:
            url = _url(base, name)
            try:
                _fetch(url, dest, expected[name], timeout, progress)
                break
            except Exception as exc:  # HTTPError, URLError, timeouts, short reads, bad checksum ...
                errors.append(f"{url}: {type(exc).__name__}: {exc}")
        else:
            failures[name] = errors or ["no mirrors given"]
    if failures:
        lines = [f"Could not download {len(failures)} {kind} file(s) into {folder}:"]
        for name, errors in failures.items():
            lines.append(f"  {name}:")
            lines += [f"    {e}" for e in errors]
        raise DatasetError("\n".join(lines) + "\n" + _where_to_put(kind, folder, expected))
    return folder


_download_files = download  # load_mnist's ``download`` argument shadows the function


def _check_pair(images: np.ndarray, labels: np.ndarray, ipath: Path, lpath: Path) -> None:
    """An MNIST image/label file pair: ubyte images (n, 28, 28), n ubyte labels in 0..9."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DatasetError(f"{ipath}: expected ubyte images n\u00d728\u00d728, got {images.dtype} "
                           f"{_dims(images.shape)}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DatasetError(f"{lpath}: expected a ubyte label vector, got {labels.dtype} {_dims(labels.shape)}")
    if len(labels) != len(images):
        raise DatasetError(f"{lpath}: {len(labels):,} labels but {ipath.name} has {len(images):,} images")
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{lpath}: labels must be 0..9, found {int(labels.max())}")


def load_mnist(kind: str = "mnist", split: str = "nielsen", data_dir: str | os.PathLike | None = None,
               download: bool = True, dtype: Any = np.float32, flatten: bool = True,
               val_size: int | float = 10_000, checksums: Mapping[str, str] | None = None, verify: bool = True,
               mirrors: Sequence[str] | None = None, progress: bool = True) -> Split:
    """MNIST or Fashion-MNIST as ``Split(train, val, test)`` of ``(X, y)`` pairs.

    ``X``: pixels / 255 in [0, 1] as ``dtype``, shape (n, 784) (or (n, 28, 28) with
    ``flatten=False``); ``y``: int64 labels 0..9.

    ``split="standard"``: 60,000 train, ``val=None``, 10,000 test.
    ``split="nielsen"``: the first 50,000 training images train, the last ``val_size``
    (10,000) validate, 10,000 test (as Nielsen's ``mnist_loader``).

    Files come from ``data_dir`` (a folder holding the four ``.gz`` files) or the cache
    (see ``data_home``).  With ``verify`` their SHA-256 must match ``checksums`` (default:
    the canonical values); missing or wrong files are downloaded if ``download`` is true,
    otherwise reported.
    """
    kind = _kind(kind)
    if split not in ("nielsen", "standard"):
        raise ValueError(f"load_mnist: split must be 'nielsen' or 'standard', not {split!r}")
    expected = _expected(kind, checksums)
    folder = _folder(kind, data_dir)
    problems = {name: _problem(folder / name, expected[name] if verify else None) for name in MNIST_FILES}
    problems = {name: p for name, p in problems.items() if p}
    if problems and download:
        _download_files(kind, folder, mirrors=mirrors, progress=progress, checksums=expected)
    elif problems:
        lines = [f"{kind} files in {folder} are not usable (download=False):"]
        lines += [f"  {folder / name}: {p}" for name, p in problems.items()]
        raise DatasetError("\n".join(lines) + "\n" + _where_to_put(kind, folder, expected))

    def pair(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        ipath, lpath = folder / f"{prefix}-images-idx3-ubyte.gz", folder / f"{prefix}-labels-idx1-ubyte.gz"
        images, labels = read_idx(ipath), read_idx(lpath)
        _check_pair(images, labels, ipath, lpath)
        X = scale01(images, dtype)
        return (X.reshape(len(X), -1) if flatten else X), labels.astype(np.int64)

    train, test = pair("train"), pair("t10k")
    if split == "standard":
        return Split(train, None, test)
    n = len(train[0])
    n_val = int(val_size) if isinstance(val_size, (int, np.integer)) else int(round(float(val_size) * n))
    if not 0 < n_val < n:
        raise ValueError(f"load_mnist: val_size={val_size} must leave a non-empty training set of {n} images")
    tr, va = train_val_split(*train, val=n_val, shuffle=False)
    return Split(tr, va, test)


# --------------------------------------------------------------------------- helpers

def _xp_of(a: Any) -> Any:
    return np if isinstance(a, np.ndarray) else B.xp


def one_hot(y: Any, k: int | None = None, dtype: Any = np.float64) -> Any:
    """One-hot rows: ``Y[i, y_i] = 1``, shape (n, k); ``k`` defaults to ``max(y) + 1``.

    Works on host or device label vectors (the result lives where ``y`` lives).
    """
    if not (isinstance(y, np.ndarray) or B.is_array(y)):
        y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"one_hot: expected a label vector (n,), got shape {tuple(y.shape)}")
    lo, hi = (int(y.min()), int(y.max())) if y.size else (0, -1)
    k = hi + 1 if k is None else int(k)
    if lo < 0 or hi >= k:
        raise ValueError(f"one_hot: labels must be in 0..{k - 1}, found {lo}..{hi}")
    xp = _xp_of(y)
    out = xp.zeros((y.shape[0], k), dtype=dtype)
    out[xp.arange(y.shape[0]), y.astype(np.int64)] = 1
    return out


def scale01(images: Any, dtype: Any = np.float32) -> Any:
    """uint8 pixels 0..255 -> floats ``pixels / 255`` in [0, 1] (host or device arrays)."""
    if images.dtype != np.uint8:
        raise ValueError(f"scale01: expected uint8 pixels, got {images.dtype} (already scaled?)")
    return images.astype(dtype) / 255


def minibatches(X: Any, y: Any, batch_size: int, shuffle: bool = True, seed: int | None = None,
                drop_last: bool = False) -> Iterator[tuple[Any, Any]]:
    """Yield ``(X_batch, y_batch)`` slices covering each sample exactly once (one epoch).

    With ``shuffle`` the rows are visited in a random permutation drawn on the host from
    ``np.random.default_rng(seed)`` (``seed=None``: nnlib's host generator, see
    ``nnlib.seed``) and used to index ``X``/``y`` wherever they live (NumPy or device).
    The last batch is smaller unless ``drop_last``.  ``y`` may be ``None``.
    """
    n = len(X)
    if y is not None and len(y) != n:
        raise ValueError(f"minibatches: X has {n} rows but y has {len(y)}")
    if int(batch_size) < 1:
        raise ValueError(f"minibatches: batch_size must be >= 1, got {batch_size}")
    bs = int(batch_size)
    stop = n - n % bs if drop_last else n
    if not shuffle:
        for s in range(0, stop, bs):
            yield X[s : s + bs], (None if y is None else y[s : s + bs])
        return
    rng = np.random.default_rng(seed) if seed is not None else B.host_rng()
    perm = rng.permutation(n)
    dev = None if all(isinstance(A, np.ndarray) for A in (X, y) if A is not None) else B.to_device(perm)
    idx_X = perm if isinstance(X, np.ndarray) else dev
    idx_y = perm if isinstance(y, np.ndarray) else dev
    for s in range(0, stop, bs):
        yield X[idx_X[s : s + bs]], (None if y is None else y[idx_y[s : s + bs]])


def nielsen_format(X: Any, y: Any, train: bool = True, k: int = 10) -> list[tuple[np.ndarray, Any]]:
    """Nielsen's data layout (``mnist_loader.load_data_wrapper``) for his ``Network`` API.

    A list of pairs ``(x, t)`` with ``x`` a column (n_features, 1); ``t`` is the one-hot
    column (k, 1) for training data (``train=True``) or the int label for validation/test data.
    """
    X, y = B.to_host(X), B.to_host(y)
    if len(X) != len(y):
        raise ValueError(f"nielsen_format: X has {len(X)} rows but y has {len(y)}")
    cols = X.reshape(len(X), -1, 1)
    if y.ndim == 2:
        y = np.argmax(y, axis=1)
    if train:
        Y = one_hot(y.astype(np.int64), k)[:, :, None]
        return list(zip(cols, Y))
    return list(zip(cols, (int(v) for v in y)))
