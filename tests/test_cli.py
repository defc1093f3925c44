"""Tests for the command line ``python -m nnlib`` (in-process through ``main`` and once as a subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnlib
from nnlib import backend as B
from nnlib import datasets as D
from nnlib import train as T
from nnlib.__main__ import build_model, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def numpy_backend(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "cache"))  # never the real cache
    yield
    nnlib.use("numpy")


def reported_accuracy(out: str) -> float:
    m = re.search(r"test accuracy: ([0-9.]+)", out)
    assert m, out
    return float(m.group(1))


def test_no_arguments_trains_an_mlp_on_digits(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "data: digits (1197 train, 300 val, 300 test)" in out
    assert len(re.findall(r"^epoch \d+/20: loss", out, flags=re.M)) == 20
    assert reported_accuracy(out) > 0.9


@pytest.mark.parametrize("argv, minimum", [
    (["train", "--data", "moons", "--model", "nielsen", "--epochs", "30"], 0.9),
    (["--data", "moons", "--optimizer", "momentum", "--lr", "0.1", "--epochs", "40", "--batch-size", "16"], 0.9),
    (["train", "--data", "xor", "--epochs", "300", "--seed", "1"], 1.0),
    (["train", "--model", "cnn", "--epochs", "3", "--hidden", "32"], 0.8),
])
def test_train_variants_reach_accuracy(capsys, argv, minimum):
    assert main(argv) == 0
    assert reported_accuracy(capsys.readouterr().out) >= minimum


def test_mnist_path_with_a_small_stand_in(monkeypatch, capsys):
    """--data mnist --model cnn reshapes 784-pixel rows into 1×28×28 images (MNIST replaced by a small fake)."""
    rng = np.random.default_rng(0)

    def part(n):
        y = np.arange(n) % 10
        X = (rng.random((n, 784)) < 0.1).astype(np.float32) * 0.2
        X[np.arange(n), y * 70] = 1.0  # one bright pixel tells the class
        return X, y.astype(np.int64)

    seen = {}

    def fake_load_mnist(kind="mnist", split="nielsen", data_dir=None, download=True, **kw):
        seen.update(kind=kind, data_dir=data_dir, download=download)
        return D.Split(part(200), part(50), part(50))

    monkeypatch.setattr(D, "load_mnist", fake_load_mnist)
    assert main(["train", "--data", "fashion", "--model", "cnn", "--epochs", "2", "--hidden", "16",
                 "--data-dir", "/nowhere", "--no-download"]) == 0
    # --data-dir means the same folder as NNLIB_DATA: its fashion-mnist/ subfolder holds the files
    assert seen == {"kind": "fashion", "data_dir": "/nowhere/fashion-mnist", "download": False}
    out = capsys.readouterr().out
    assert "Conv2D(1→8" in out and "(200 train, 50 val, 50 test)" in out
    assert 0 <= reported_accuracy(out) <= 1


def test_save_writes_a_loadable_checkpoint(tmp_path, capsys):
    path = tmp_path / "moons.npz"
    assert main(["--data", "moons", "--epochs", "5", "--hidden", "8", "--save", str(path)]) == 0
    assert f"saved {path}" in capsys.readouterr().out
    model = build_model("mlp", (2,), 2, 8, np.float64, "moons")
    meta = T.load_checkpoint(path, model)
    assert meta["data"] == "moons" and meta["architecture"] == "mlp" and meta["hidden"] == 8
    assert len(meta["history"]) == 5
    assert 0.5 < meta["test_accuracy"] <= 1


def test_missing_mnist_offline_is_a_clear_error(tmp_path, capsys):
    rc = main(["train", "--data", "mnist", "--no-download", "--data-dir", str(tmp_path / "empty")])
    assert rc == 1
    out, err = capsys.readouterr()
    assert err.startswith("nnlib: error: ") and "train-images-idx3-ubyte.gz" in err and "Traceback" not in err


def test_errors_and_usage(capsys):
    assert main(["train", "--data", "moons", "--model", "cnn"]) == 1
    assert "needs image data" in capsys.readouterr().err
    assert main(["train", "--lr", "1000", "--optimizer", "sgd", "--epochs", "2"]) == 1
    assert "diverged in epoch 0 with lr=1000, batch_size=32" in capsys.readouterr().err
    assert main(["train", "--epochs", "many"]) == 2
    assert "invalid int value" in capsys.readouterr().err
    assert main(["train", "--epochs", "0"]) == 1
    assert main(["--help"]) == 0
    assert "train" in capsys.readouterr().out
    assert main(["train", "--help"]) == 0
    assert "--data-dir" in capsys.readouterr().out


def test_cupy_backend_without_a_gpu_is_a_clear_error(capsys):
    if B._gpu_error() is None:
        pytest.skip("a GPU works here")
    assert main(["train", "--backend", "cupy", "--data", "xor", "--epochs", "1"]) == 1
    assert "CuPy cannot run" in capsys.readouterr().err
    assert B.name() == "numpy"


def test_python_dash_m_nnlib_subprocess(tmp_path):
    env = {**os.environ, "NNLIB_DATA": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("NNLIB_BACKEND", None)
    ok = subprocess.run([sys.executable, "-m", "nnlib", "train", "--data", "moons", "--epochs", "30"],
                        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "epoch 30/30" in ok.stdout and reported_accuracy(ok.stdout) > 0.9
    bad = subprocess.run([sys.executable, "-m", "nnlib", "train", "--data", "mnist", "--no-download"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "nnlib: error:" in bad.stderr
