"""Shared fixtures: every test starts on the NumPy backend with a fixed seed."""

import os

import numpy as np
import pytest

import nnlib

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _numpy_backend():
    nnlib.use("numpy")
    nnlib.seed(0)
    yield
    nnlib.use("numpy")


@pytest.fixture(params=["numpy", "strict"])
def backend(request):
    """Run a test on NumPy and on the strict (CuPy-like) backend."""
    xp = nnlib.use(request.param)
    nnlib.seed(0)
    return xp


@pytest.fixture
def strict():
    """Run a test on the strict (CuPy-like) backend only; ``_numpy_backend`` switches back afterwards."""
    xp = nnlib.use("strict")
    nnlib.seed(0)
    return xp


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def torch():
    """PyTorch (one thread) for the cross-checks; the test is skipped where torch is not installed (an optional
    dependency: the frameworks extra)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch
