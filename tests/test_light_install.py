"""Issue 12, section 4: a lighter install — the digits ship with the package, SciPy and scikit-learn are
test-only dependencies, and the runtime path imports neither."""

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def test_packaged_digits_are_scikit_learns():
    from sklearn.datasets import load_digits  # a dev (test-only) dependency: the cross-check

    from nnlib import datasets as D
    pixels, labels = D._digits_arrays()
    ref = load_digits()
    assert pixels.dtype == np.uint8 and labels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, ref.images)
    np.testing.assert_array_equal(labels, ref.target)
    s = D.digits(split=(1197, 300, 300), seed=0)
    X = np.concatenate([s.train[0], s.val[0], s.test[0]])
    assert X.shape == (1797, 64) and X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.sort((X * 16).round().sum(1)), np.sort(ref.data.sum(1)))


def test_the_runtime_path_imports_neither_scipy_nor_sklearn():
    code = """
import sys
import numpy as np
import nnlib
from nnlib import activations, datasets, layers, metrics, optim, train
from nnlib.model import Model
from nnlib.network import Network
s = datasets.digits()
m = Model([layers.Dense(64, 16), layers.Sigmoid(), layers.Dense(16, 10)])
train.fit(m, s.train, s.val, epochs=1, optimizer="adamw", lr=0.01, verbose=False, seed=0)
net = Network([64, 10, 10], seed=0)
net.SGD([(x.reshape(64, 1), np.eye(10)[[k]].T) for x, k in zip(*s.train)], 1, 10, 1.0, verbose=False)
activations.sigmoid(np.linspace(-800, 800, 5))
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("scipy", "sklearn"))
assert not bad, bad
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
                              "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_scipy_and_sklearn_are_test_only_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = lambda deps: {d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in deps}  # noqa: E731
    assert not names(project["dependencies"]) & {"scipy", "scikit-learn"}
    assert {"scipy", "scikit-learn"} <= names(project["optional-dependencies"]["dev"])


def test_setuptools_ships_the_digits_and_their_attribution(tmp_path):
    """build_py (what a wheel or an install copies) on a copy of the package includes nnlib/data."""
    import shutil

    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "nnlib", tmp_path / "nnlib", ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import setuptools; setuptools.setup(script_args=['-q', 'build_py', '--build-lib', 'out'])")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    data = tmp_path / "out" / "nnlib" / "data"
    assert (data / "digits.npz").stat().st_size < 100_000
    readme = (data / "README.md").read_text()
    assert "CC BY 4.0" in readme and "UCI" in readme and "Alpaydin" in readme
