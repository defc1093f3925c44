"""Tests for nnlib.datasets: no real MNIST files and no internet needed (a local HTTP server on 127.0.0.1)."""

from __future__ import annotations

import gzip
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from idxutil import idx_bytes, make_fake_mnist, sha256, write_idx

from nnlib import backend as B
from nnlib import datasets as D
from nnlib.datasets import DatasetError

# --------------------------------------------------------------------------- logic tables and toy sets


def test_xor_truth_table():
    X, y = D.logic_table("XOR")
    assert X.shape == (4, 2) and X.dtype == np.float64 and y.shape == (4,)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


@pytest.mark.parametrize("gate, fn", [("AND", np.logical_and), ("OR", np.logical_or), ("XOR", np.logical_xor),
                                      ("NAND", lambda a, b: ~(a & b)), ("NOR", lambda a, b: ~(a | b)),
                                      ("XNOR", lambda a, b: a == b)])
def test_logic_tables_match_boolean_functions(gate, fn):
    X, y = D.logic_table(gate.lower())
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    np.testing.assert_array_equal(y, fn(a, b).astype(int))


def test_logic_table_pm1_and_not():
    X, y = D.logic_table("XOR", encoding="pm1")
    np.testing.assert_array_equal(X, [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    np.testing.assert_array_equal(y, [-1, 1, 1, -1])
    X, y = D.logic_table("NOT")
    assert X.shape == (2, 1)
    np.testing.assert_array_equal(y, [1, 0])
    with pytest.raises(ValueError, match="unknown gate"):
        D.logic_table("IMPLIES")
    with pytest.raises(ValueError, match="encoding"):
        D.logic_table("AND", encoding="tf")


TOYS = [(D.blobs, {}), (D.blobs, {"centers": 3}), (D.moons, {}), (D.circles, {}), (D.spirals, {}),
        (D.spirals, {"classes": 3})]


@pytest.mark.parametrize("fn, kw", TOYS)
def test_toy_sets_shape_seed_and_balance(fn, kw):
    X, y = fn(n=301, seed=5, **kw)
    k = kw.get("centers", kw.get("classes", 2))
    assert X.shape == (301, 2) and X.dtype == np.float64
    assert y.shape == (301,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == k and counts.max() - counts.min() <= 1
    X2, y2 = fn(n=301, seed=5, **kw)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = fn(n=301, seed=6, **kw)
    assert not np.allclose(X, X3)
    assert len(np.unique(y[:20])) > 1  # rows are shuffled, not sorted by class


def test_toy_set_geometry_without_noise():
    X, y = D.circles(n=100, noise=0.0, factor=0.3)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    X, y = D.moons(n=100, noise=0.0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0)
    X, y = D.blobs(n=40, centers=[[0, 0], [5, 5]], noise=0.0)
    np.testing.assert_allclose(X[y == 1], 5.0)
    with pytest.raises(ValueError, match="factor"):
        D.circles(factor=1.5)
    with pytest.raises(ValueError, match="noise"):
        D.moons(noise=-1)


def test_digits_split_sizes_range_and_strata():
    s = D.digits()
    (Xtr, ytr), (Xva, yva), (Xte, yte) = s
    assert (len(Xtr), len(Xva), len(Xte)) == (1197, 300, 300)
    assert Xtr.shape[1] == 64 and Xtr.dtype == np.float64 and ytr.dtype == np.int64
    assert Xtr.min() >= 0 and max(Xtr.max(), Xva.max(), Xte.max()) == 1.0
    all_counts = np.bincount(np.concatenate([ytr, yva, yte]))
    assert all_counts.sum() == 1797 and len(all_counts) == 10
    for yy in (ytr, yva, yte):  # stratified: each digit in proportion, within one sample
        assert np.all(np.abs(np.bincount(yy, minlength=10) - all_counts * len(yy) / 1797) <= 1)
    np.testing.assert_array_equal(D.digits().val[0], Xva)
    assert not np.array_equal(D.digits(seed=3).val[0], Xva)
    f = D.digits(split=(0.6, 0.2, 0.2), dtype=np.float32)
    assert sum(len(p[1]) for p in f) == 1797 and f.train[0].dtype == np.float32
    assert "X(1197, 64)" in repr(s)


# --------------------------------------------------------------------------- helpers


def test_one_hot():
    Y = D.one_hot(np.array([2, 0, 1]), 4)
    np.testing.assert_array_equal(Y, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    assert D.one_hot([1, 3]).shape == (2, 4)
    with pytest.raises(ValueError, match="0..2"):
        D.one_hot(np.array([0, 3]), 3)


def test_scale01():
    x = D.scale01(np.array([0, 51, 255], dtype=np.uint8))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, [0, 0.2, 1.0])
    with pytest.raises(ValueError, match="uint8"):
        D.scale01(np.array([0.5]))


@pytest.mark.parametrize("n, bs", [(10, 3), (12, 4), (5, 10)])
def test_minibatches_cover_every_sample_once(n, bs):
    X = np.arange(n * 2).reshape(n, 2).astype(float)
    y = np.arange(n)
    batches = list(D.minibatches(X, y, bs, seed=0))
    assert [len(b[1]) for b in batches[:-1]] == [bs] * (len(batches) - 1)
    seen = np.concatenate([yb for _, yb in batches])
    np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], 2 * yb)
    again = np.concatenate([yb for _, yb in D.minibatches(X, y, bs, seed=0)])
    np.testing.assert_array_equal(seen, again)
    ordered = np.concatenate([yb for _, yb in D.minibatches(X, y, bs, shuffle=False)])
    np.testing.assert_array_equal(ordered, np.arange(n))


def test_minibatches_shuffles_and_drop_last():
    y = np.arange(100)
    first = np.concatenate([yb for _, yb in D.minibatches(y, y, 10, seed=1)])
    assert not np.array_equal(first, y)
    assert [len(b) for b, _ in D.minibatches(y, y, 30, seed=1, drop_last=True)] == [30, 30, 30]
    with pytest.raises(ValueError, match="y has 3"):
        next(D.minibatches(y, y[:3], 10))


def test_minibatches_and_one_hot_on_device_arrays(strict):
    X = B.to_device(np.arange(20.0).reshape(10, 2))
    y = B.to_device(np.arange(10))
    seen = []
    for Xb, yb in D.minibatches(X, y, 4, seed=0):
        assert B.is_array(Xb) and B.is_array(yb)
        np.testing.assert_array_equal(B.to_host(Xb)[:, 0], 2 * B.to_host(yb))
        seen.append(B.to_host(yb))
    np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(10))
    Y = D.one_hot(y, 10)
    assert B.is_array(Y)
    np.testing.assert_array_equal(B.to_host(Y), np.eye(10))


def test_train_val_split():
    X = np.arange(100).reshape(50, 2)
    y = np.repeat([0, 1], 25)
    (Xt, yt), (Xv, yv) = D.train_val_split(X, y, val=10, stratify=True)
    assert len(Xt) == 40 and len(Xv) == 10
    assert np.bincount(yv).tolist() == [5, 5]
    np.testing.assert_array_equal(np.sort(np.concatenate([Xt[:, 0], Xv[:, 0]])), X[:, 0])
    (_, _), (Xv, _) = D.train_val_split(X, y, val=0.2, shuffle=False)
    np.testing.assert_array_equal(Xv, X[40:])


def test_nielsen_format():
    X = np.random.default_rng(0).random((5, 784)).astype(np.float32)
    y = np.array([3, 1, 4, 1, 5])
    train = D.nielsen_format(X, y)
    assert len(train) == 5
    x0, t0 = train[0]
    assert x0.shape == (784, 1) and t0.shape == (10, 1) and t0[3, 0] == 1 and t0.sum() == 1
    np.testing.assert_array_equal(x0[:, 0], X[0])
    test = D.nielsen_format(X, y, train=False)
    assert test[2][1] == 4 and isinstance(test[2][1], int) and test[2][0].shape == (784, 1)


# --------------------------------------------------------------------------- IDX files


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["a.idx.gz", "a.idx"])
def test_read_idx_round_trip(tmp_path, dtype, name):
    a = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    b = D.read_idx(write_idx(tmp_path / name, a))
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative and b.shape == (2, 3, 4)
    np.testing.assert_array_equal(a, b)
    b[0, 0, 0] = 1  # writable


def _corrupt(tmp_path: Path, kind: str) -> Path:
    good = idx_bytes(np.zeros((10, 28, 28), dtype=np.uint8))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    if kind == "magic":
        data = gzip.compress(b"\x01\x02" + good[2:])
    elif kind == "dtype":
        data = gzip.compress(good[:2] + b"\x07" + good[3:])
    elif kind == "ndim0":
        data = gzip.compress(good[:3] + b"\x00")
    elif kind == "short-header":
        data = gzip.compress(good[:9])
    elif kind == "truncated":
        data = gzip.compress(good[:1000])
    elif kind == "too-long":
        data = gzip.compress(good + b"\x00" * 7)
    elif kind == "garbage":
        data = b"\x1f\x8b" + b"this is not deflate data" * 10
    elif kind == "crc":
        z = bytearray(gzip.compress(good))
        z[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
        data = bytes(z)
    elif kind == "cut-gzip":
        data = gzip.compress(good)[:-30]
    else:
        raise AssertionError(kind)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind, message", [
    ("magic", "bad magic number"), ("dtype", "unknown IDX data type code 0x07"), ("ndim0", "0 dimensions"),
    ("short-header", "truncated"), ("truncated", "truncated: header says 10×28×28 = 7,840 bytes, file has 984"),
    ("too-long", "too long (7 extra bytes)"), ("garbage", "corrupt gzip"), ("crc", "corrupt gzip"),
    ("cut-gzip", "corrupt gzip"),
])
def test_read_idx_rejects_corrupt_files(tmp_path, kind, message):
    path = _corrupt(tmp_path, kind)
    with pytest.raises(DatasetError) as err:
        D.read_idx(path)
    assert str(path) in str(err.value) and message in str(err.value)
    assert isinstance(err.value, ValueError)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="cannot read"):
        D.read_idx(tmp_path / "nope.gz")


# --------------------------------------------------------------------------- load_mnist on fake files


def test_load_mnist_nielsen_and_standard_splits(tmp_path):
    sums = make_fake_mnist(tmp_path, n_train=120, n_test=30)
    train, val, test = D.load_mnist(data_dir=tmp_path, val_size=20, checksums=sums, download=False)
    assert train[0].shape == (100, 784) and val[0].shape == (20, 784) and test[0].shape == (30, 784)
    assert train[0].dtype == np.float32 and train[1].dtype == np.int64
    assert 0 <= train[0].min() and train[0].max() <= 1
    raw = D.read_idx(tmp_path / "train-images-idx3-ubyte.gz")
    np.testing.assert_allclose(val[0], raw[100:].reshape(20, -1) / 255, rtol=1e-6)  # the *last* rows validate
    np.testing.assert_array_equal(val[1], np.arange(100, 120) % 10)
    std = D.load_mnist(split="standard", data_dir=tmp_path, download=False, verify=False, flatten=False,
                       dtype=np.float64)
    assert std.val is None and std.train[0].shape == (120, 28, 28) and std.test[0].dtype == np.float64
    frac = D.load_mnist(data_dir=tmp_path, val_size=0.25, download=False, verify=False)
    assert len(frac.train[1]) == 90 and len(frac.val[1]) == 30


def test_load_mnist_default_split_sizes_are_nielsens(tmp_path):
    make_fake_mnist(tmp_path, n_train=60_000, n_test=10, blank=True)
    train, val, _ = D.load_mnist(data_dir=tmp_path, download=False, verify=False, dtype=np.float32)
    assert len(train[1]) == 50_000 and len(val[1]) == 10_000


@pytest.mark.parametrize("defect, bad_file, message", [
    ("count", "train-labels-idx1-ubyte.gz", "119 labels but train-images-idx3-ubyte.gz has 120 images"),
    ("label", "t10k-labels-idx1-ubyte.gz", "labels must be 0..9, found 12"),
    ("dims", "train-images-idx3-ubyte.gz", "expected ubyte images n×28×28"),
])
def test_load_mnist_rejects_inconsistent_files(tmp_path, defect, bad_file, message):
    make_fake_mnist(tmp_path, n_train=120, n_test=30)
    if defect == "count":
        write_idx(tmp_path / bad_file, np.zeros(119, dtype=np.uint8))
    elif defect == "label":
        write_idx(tmp_path / bad_file, np.full(30, 12, dtype=np.uint8))
    else:
        write_idx(tmp_path / bad_file, np.zeros((120, 14, 14), dtype=np.uint8))
    with pytest.raises(DatasetError) as err:
        D.load_mnist(data_dir=tmp_path, val_size=20, download=False, verify=False)
    assert str(tmp_path / bad_file) in str(err.value) and message in str(err.value)


def test_load_mnist_reports_bad_checksum_without_download(tmp_path):
    sums = make_fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError) as err:
        D.load_mnist(data_dir=tmp_path, download=False)  # the canonical MNIST checksums do not match
    msg = str(err.value)
    assert "wrong SHA-256" in msg and "missing" in msg and str(tmp_path) in msg and "NNLIB_DATA" in msg
    assert D.CHECKSUMS["mnist"]["train-images-idx3-ubyte.gz"] in msg
    make_fake_mnist(tmp_path)
    assert D.load_mnist(data_dir=tmp_path, download=False, checksums=sums, val_size=20).val[0].shape == (20, 784)


def test_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "d"))
    assert D.data_home() == tmp_path / "d"
    monkeypatch.delenv("NNLIB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert D.data_home() == tmp_path / "xdg" / "nnlib"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert D.data_home() == tmp_path / "home" / ".cache" / "nnlib"


def test_canonical_checksums_are_complete():
    for kind in ("mnist", "fashion"):
        assert set(D.CHECKSUMS[kind]) == set(D.MNIST_FILES)
        assert all(len(v) == 64 and int(v, 16) >= 0 for v in D.CHECKSUMS[kind].values())
    assert D.CHECKSUMS["mnist"] != D.CHECKSUMS["fashion"]


# --------------------------------------------------------------------------- downloader against a local server


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``/<mode>/<file>``: good, corrupt (other bytes), short (truncated body), cut (the connection
    closes half-way through the announced length), stall (half, then silence); anything else is a 404."""

    files: dict[str, bytes] = {}
    requests: list[str] = []
    sent_half = threading.Event()

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).requests.append(self.path)
        mode, _, name = self.path.strip("/").partition("/")
        body = self.files.get(name)
        if body is None or mode not in ("good", "corrupt", "short", "cut", "stall"):
            self.send_error(404, "File not found")
            return
        if mode == "corrupt":
            body = bytes(b ^ 0x55 for b in body)
        elif mode == "short":
            body = body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode in ("cut", "stall"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            type(self).sent_half.set()
            if mode == "stall":
                time.sleep(1.5)
            return  # HTTP/1.0: the connection closes here, short of Content-Length
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up early are part of the tests


@pytest.fixture
def server(tmp_path_factory):
    src = tmp_path_factory.mktemp("served")
    sums = make_fake_mnist(src, n_train=40, n_test=10)
    _Handler.files = {name: (src / name).read_bytes() for name in D.MNIST_FILES}
    _Handler.requests = []
    _Handler.sent_half = threading.Event()
    srv = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    srv.url = lambda mode: f"{base}/{mode}/"
    srv.sums = sums
    srv.requests = _Handler.requests
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more: connection refused


def _valid(folder: Path, sums: dict[str, str]) -> bool:
    return all(sha256(folder / name) == sums[name] for name in D.MNIST_FILES)


def test_download_falls_through_failing_mirrors(server, tmp_path):
    mirrors = [_closed_port_url(), server.url("missing"), server.url("corrupt"), server.url("short"),
               server.url("cut"), server.url("good")]
    folder = D.download("mnist", tmp_path / "cache", mirrors=mirrors, checksums=server.sums, progress=False)
    assert folder == tmp_path / "cache"
    assert _valid(folder, server.sums)
    assert sorted(p.name for p in folder.iterdir()) == sorted(D.MNIST_FILES)  # no temporary files left
    assert len(server.requests) == 4 * 5


def test_download_rejects_corrupt_and_truncated_files_and_leaves_nothing(server, tmp_path):
    mirrors = [server.url("corrupt"), server.url("short"), server.url("cut"), server.url("missing")]
    folder = tmp_path / "cache"
    with pytest.raises(DatasetError) as err:
        D.download("mnist", folder, mirrors=mirrors, checksums=server.sums, progress=False, timeout=5)
    msg = str(err.value)
    assert list(folder.iterdir()) == []
    for name in D.MNIST_FILES:
        assert f"{name}:" in msg and server.url("cut") + name in msg
    assert "SHA-256 mismatch" in msg and "connection closed after" in msg and "HTTP Error 404" in msg


def test_download_mid_transfer_timeout_leaves_no_file(server, tmp_path):
    with pytest.raises(DatasetError, match="(?i)timed out"):
        D.download("mnist", tmp_path, mirrors=[server.url("stall")], checksums=server.sums, progress=False,
                   timeout=0.3)
    assert list(tmp_path.iterdir()) == []


def test_download_killed_mid_transfer_leaves_no_final_file(server, tmp_path):
    code = ("import json, sys; from nnlib import datasets as D; D.download('mnist', sys.argv[1], "
            "mirrors=[sys.argv[2]], checksums=json.loads(sys.argv[3]), progress=False)")
    env = {**os.environ, "PYTHONPATH": str(Path(D.__file__).resolve().parents[1])}
    args = [sys.executable, "-c", code, str(tmp_path), server.url("stall"), json.dumps(server.sums)]
    proc = subprocess.Popen(args, env=env)
    try:
        assert _Handler.sent_half.wait(timeout=30)
        time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    assert not any((tmp_path / name).exists() for name in D.MNIST_FILES)
    D.download("mnist", tmp_path, mirrors=[server.url("good")], checksums=server.sums, progress=False)
    assert _valid(tmp_path, server.sums)


def test_download_skips_valid_cached_files_and_replaces_bad_ones(server, tmp_path):
    D.download("mnist", tmp_path, mirrors=[server.url("good")], checksums=server.sums, progress=False)
    assert len(server.requests) == 4
    D.download("mnist", tmp_path, mirrors=[_closed_port_url()], checksums=server.sums, progress=False)
    assert len(server.requests) == 4  # nothing fetched, offline is fine
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"stale")
    D.download("mnist", tmp_path, mirrors=[server.url("good")], checksums=server.sums, progress=True)
    assert server.requests[4:] == ["/good/t10k-labels-idx1-ubyte.gz"]
    assert _valid(tmp_path, server.sums)


def test_download_offline_error_names_files_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path))
    url = _closed_port_url()
    with pytest.raises(DatasetError) as err:
        D.download("fashion", mirrors=[url, url + "other/"], progress=False, timeout=5)
    msg = str(err.value)
    folder = tmp_path / "fashion-mnist"
    assert f"Could not download 4 fashion file(s) into {folder}" in msg
    assert f"into {folder}/" in msg and "NNLIB_DATA" in msg
    for name in D.MNIST_FILES:
        assert f"{url}{name}: URLError" in msg and f"{url}other/{name}: URLError" in msg
        assert f"{name}  sha256 {D.CHECKSUMS['fashion'][name]}" in msg
    assert list(folder.iterdir()) == []


def test_load_mnist_downloads_into_the_cache(server, tmp_path, monkeypatch):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path))
    train, val, test = D.load_mnist(val_size=10, mirrors=[server.url("missing"), server.url("good")],
                                    checksums=server.sums, progress=False)
    assert (len(train[1]), len(val[1]), len(test[1])) == (30, 10, 10)
    assert _valid(tmp_path / "mnist", server.sums)
    with pytest.raises(DatasetError, match="wrong SHA-256"):
        D.load_mnist(download=False)  # the canonical checksums reject the fake files
