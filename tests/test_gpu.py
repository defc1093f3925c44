"""On a GPU (marker ``gpu``): float64 gradient checks of every layer on CuPy, a CNN training step equal to the
CPU's, and lecture 9 executed on the GPU.  ``python bench/gpu.py`` runs these and the GPU benchmark.

Without a working GPU (CI, the course machines) every test here is skipped, with the reason CuPy gives.
``NNLIB_GPU_TESTS_ON=strict`` runs them on the strict backend instead: a CPU dry run of the tests themselves
(``bench/gpu.py --dry-run``; tests/test_bench_gpu.py does it in CI); the notebook then runs on NumPy.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path

import numpy as np
import pytest
import test_gradients as gradients
from _inputs import away_from_zero, distinct_pool_input

import nnlib
from nnlib import backend as B
from nnlib import gradcheck as G
from nnlib import layers as L
from nnlib import optim
from nnlib.model import Model

ROOT = Path(__file__).resolve().parent.parent
ON = os.environ.get("NNLIB_GPU_TESTS_ON", "cupy")  # "cupy", or "strict" for the CPU dry run
if ON not in ("cupy", "strict"):
    raise ValueError(f"NNLIB_GPU_TESTS_ON={ON!r}: use 'cupy' (default) or 'strict' (a CPU dry run)")
_NO_GPU = B._gpu_error() if ON == "cupy" else None

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(
    _NO_GPU is not None, reason=f"no working GPU ({_NO_GPU}); these tests run on CuPy: python bench/gpu.py")]

TOL = 1e-7


@pytest.fixture
def gpu():
    """The CuPy backend (or strict, in a dry run); conftest's autouse fixture switches back to NumPy."""
    xp = nnlib.use(ON)
    nnlib.seed(0)
    return xp


def _layer_classes() -> dict[str, type]:
    """Every concrete Layer subclass defined in nnlib, by name (new layer modules included)."""
    for mod in pkgutil.iter_modules(nnlib.__path__):
        if not mod.name.startswith("_"):
            try:
                importlib.import_module(f"nnlib.{mod.name}")
            except ImportError:  # an optional dependency missing: not a layer module
                pass
    seen, todo = {}, [L.Layer]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("nnlib") and not sub.__name__.startswith("_"):
                seen[sub.__name__] = sub
            todo.append(sub)
    return seen


LAYERS = _layer_classes()


def _make(name, *args, **kwargs):
    return lambda: LAYERS[name](*args, **kwargs)


def _batchnorm(name, C):
    """BatchNorm with |γ| in [0.5, 1.5] and β ≠ 0 (γ = 1, β = 0 make some ∂L/∂x ~1e-8, whose relative errors
    are meaningless), its running statistics warmed up so that evaluation mode is not the identity."""
    def make():
        rng = np.random.default_rng(7)
        layer = LAYERS[name](C)
        layer.params["gamma"][...] = nnlib.to_device(rng.uniform(0.5, 1.5, C) * rng.choice([-1.0, 1.0], C))
        layer.params["beta"][...] = nnlib.to_device(rng.standard_normal(C))
        shape = (8, C) if name == "BatchNorm1d" else (8, C, 3, 3)
        for _ in range(3):
            layer.forward(nnlib.to_device(rng.standard_normal(shape) * 2.0 + 1.5), train=True)
        return layer
    return make


# layer class name -> [(id, factory, input shape, input kind, train)]; the layers of issue 12 §2 (LeakyReLU, GELU,
# BatchNorm, average pooling) are listed by name and checked once they exist.
CASES = {
    "Dense": [("dense", lambda: L.Dense(6, 4), (3, 6), "normal", False)],
    "Sigmoid": [("sigmoid", L.Sigmoid, (3, 6), "normal", False)],
    "Tanh": [("tanh", L.Tanh, (3, 6), "normal", False)],
    "ReLU": [("relu", L.ReLU, (3, 6), "normal", False)],
    "Softplus": [("softplus", L.Softplus, (3, 6), "normal", False)],
    "Activation": [("activation-tanh", lambda: L.Activation("tanh"), (3, 6), "normal", False)],
    "Softmax": [("softmax", L.Softmax, (3, 6), "normal", False)],
    "Flatten": [("flatten", L.Flatten, (2, 3, 4, 4), "normal", False)],
    "Dropout": [("dropout-train", lambda: L.Dropout(0.4), (4, 10), "normal", True)],
    "Conv2D": [(f"conv-C{C}F{F}k{k}s{s}p{p}-{H}x{W}",
                (lambda C=C, F=F, k=k, s=s, p=p: L.Conv2D(C, F, k, stride=s, pad=p)), (2, C, H, W), "normal", False)
               for C, F, k, s, p, H, W in [(1, 2, 3, 1, 0, 5, 5), (3, 4, 3, 1, 1, 6, 7), (2, 3, 5, 1, 2, 8, 8),
                                           (2, 2, 3, 2, 1, 7, 6)]],
    "MaxPool2D": [(f"maxpool-{k}s{s}-{H}x{W}", (lambda k=k, s=s: L.MaxPool2D(k, s)), (2, 3, H, W), "pool", False)
                  for k, s, H, W in [(2, 2, 6, 6), (2, 2, 7, 5), (3, 2, 7, 7), (3, 3, 9, 6)]],
    "LeakyReLU": [("leakyrelu", _make("LeakyReLU", 0.1), (3, 6), "normal", False)],
    "GELU": [("gelu", _make("GELU"), (3, 6), "normal", False),
             ("gelu-tanh", _make("GELU", approximate="tanh"), (3, 6), "normal", False)],
    "BatchNorm1d": [("batchnorm1d-train", _batchnorm("BatchNorm1d", 4), (6, 4), "shifted", True),
                    ("batchnorm1d-eval", _batchnorm("BatchNorm1d", 4), (6, 4), "shifted", False)],
    "BatchNorm2d": [("batchnorm2d-train", _batchnorm("BatchNorm2d", 3), (3, 3, 4, 5), "shifted", True),
                    ("batchnorm2d-eval", _batchnorm("BatchNorm2d", 3), (3, 3, 4, 5), "shifted", False)],
    "AvgPool2D": [("avgpool-2", _make("AvgPool2D", 2), (2, 3, 6, 6), "normal", False),
                  ("avgpool-3s2", _make("AvgPool2D", 3, 2), (2, 3, 7, 7), "normal", False)],
    "GlobalAvgPool2D": [("globalavgpool", _make("GlobalAvgPool2D"), (2, 3, 5, 5), "normal", False)],
    "Residual": [("residual", lambda: LAYERS["Residual"]([L.Dense(4, 4), L.Tanh(), L.Dense(4, 4)]), (3, 4), "normal",
                  False)],
    "RNN": [("rnn", _make("RNN", 3, 4), (2, 5, 3), "normal", False),
            ("rnn-relu-last", _make("RNN", 3, 4, "relu", return_sequences=False), (2, 5, 3), "normal", False)],
    "LSTM": [("lstm", _make("LSTM", 3, 4), (2, 5, 3), "normal", False),
             ("lstm-last", _make("LSTM", 3, 4, return_sequences=False), (2, 5, 3), "normal", False)],
}
FUTURE = {"LeakyReLU", "GELU", "BatchNorm1d", "BatchNorm2d", "AvgPool2D", "GlobalAvgPool2D"}
PARAMS = [pytest.param(make, shape, kind, train, id=i)
          for name, cases in CASES.items() if name not in FUTURE or name in LAYERS
          for i, make, shape, kind, train in cases]


def test_every_layer_has_a_gpu_gradient_check():
    missing = sorted(set(LAYERS) - set(CASES))
    assert not missing, f"layers without a GPU gradient check: {missing}; add them to CASES in tests/test_gpu.py"


@pytest.mark.parametrize("make,shape,kind,train", PARAMS)
def test_layer_gradients_float64(gpu, make, shape, kind, train):
    rng = np.random.default_rng(1)  # not 0: check_layer draws dout with seed 0, and x ∝ dout makes BatchNorm's ∂x ≈ 0
    x = {"pool": distinct_pool_input, "normal": away_from_zero,
         "shifted": lambda r, s: r.standard_normal(s) * 1.7 - 0.4}[kind](rng, shape)
    layer = make()
    errors = G.check_layer(layer, nnlib.to_device(x), train=train)
    assert all(isinstance(p, gpu.ndarray) for p in layer.params.values())
    assert max(errors.values()) < TOL, errors


# The model and network checks are tests/test_gradients.py's own, run on the GPU backend (same data: the
# conftest rng's seed 1234, no max-pool window near a tie).
def test_model_gradients_float64(gpu):
    gradients.test_models_with_l2_and_dropout(np.random.default_rng(1234), gpu)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_network_backprop_float64(gpu, cost):
    gradients.test_network_backprop(cost, np.random.default_rng(1234), gpu)


def _cnn_step(backend: str, dtype, X: np.ndarray, y: np.ndarray, opt_name: str):
    """One training step of a seeded CNN on ``backend``; the loss and the updated parameters, on the host."""
    nnlib.use(backend)
    nnlib.seed(0)
    model = Model([L.Conv2D(1, 4, 5, dtype=dtype), L.ReLU(), L.MaxPool2D(2), L.Conv2D(4, 6, 3, pad=1, dtype=dtype),
                   L.ReLU(), L.MaxPool2D(2), L.Flatten(), L.Dense(6 * 2 * 2, 16, "he", dtype=dtype), L.Sigmoid(),
                   L.Dense(16, 10, dtype=dtype)], cost="softmax_cross_entropy", l2=1e-3)
    opt = optim.get(opt_name, lr=0.05)
    losses = [model.train_step(X, y, opt) for _ in range(2)]  # the second step uses the optimiser's state
    return losses, [B.to_host(p).copy() for p in model.params()]


# Not Adam in float32: its first update is lr·sign(g), and a gradient within float32 rounding of 0 may take
# another sign on the GPU — a difference of 2·lr that says nothing about the GPU code.
@pytest.mark.parametrize("opt_name,dtype,rtol", [("momentum", np.float64, 1e-10), ("adam", np.float64, 1e-10),
                                                  ("momentum", np.float32, 2e-4)],
                         ids=["momentum-float64", "adam-float64", "momentum-float32"])
def test_cnn_training_step_equals_the_cpu(opt_name, dtype, rtol):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (16, 1, 14, 14)).astype(dtype)
    y = rng.integers(0, 10, 16)
    cpu_losses, cpu_params = _cnn_step("numpy", dtype, X, y, opt_name)
    gpu_losses, gpu_params = _cnn_step(ON, dtype, X, y, opt_name)
    assert B.name() == ON
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=rtol)
    for c, g in zip(cpu_params, gpu_params):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, c, rtol=rtol, atol=rtol * np.abs(c).max())
    _, start = _cnn_step("numpy", dtype, X[:8], y[:8], opt_name)  # the comparison is not vacuous:
    assert max(np.abs(a - b).max() for a, b in zip(start, cpu_params)) > 100 * rtol  # other data, other weights


def test_lecture_9_runs_on_the_gpu(monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = ROOT / "course" / "09_mnist_gpu.ipynb"
    monkeypatch.setenv("NNLIB_BACKEND", "cupy" if ON == "cupy" else "numpy")
    monkeypatch.setenv("NNLIB_QUICK", os.environ.get("NNLIB_QUICK", "1"))  # bench/gpu.py: under five minutes
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", os.environ.get("XDG_CACHE_HOME", str(tmp_path / "cache")))
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    if ON == "cupy":
        assert "Running on the GPU" in text and "on cupy" in text, text[-2000:]  # the notebook names its backend
    assert "CNN: test accuracy" in text
