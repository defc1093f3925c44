"""Backend selection: NumPy default, CuPy only when a GPU really works, a single fallback warning."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import nnlib
from nnlib import backend as B


def test_default_is_numpy():
    assert B.name() == "numpy" and B.xp is np


def test_auto_falls_back_to_numpy_and_says_so_once(monkeypatch):
    monkeypatch.setattr(B, "_gpu_error", lambda: "CUDARuntimeError: cudaErrorNoDevice")
    monkeypatch.setattr(B, "_warned_fallback", False)
    with pytest.warns(UserWarning, match="no working GPU.*CUDARuntimeError.*using NumPy"):
        assert nnlib.use("auto") is np
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nnlib.use("auto") is np  # said once only


def test_explicit_cupy_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(B, "_gpu_error", lambda: "CUDARuntimeError: cudaErrorNoDevice")
    with pytest.raises(RuntimeError, match=r"use\('cupy'\).*CUDARuntimeError"):
        nnlib.use("cupy")
    assert B.name() == "numpy"


def test_real_gpu_probe_on_this_machine():
    """`import cupy` may succeed without a driver: the probe must run a kernel, not just import."""
    err = B._gpu_error()
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
        has_gpu = True
    except Exception:
        has_gpu = False
    assert (err is None) == has_gpu


def test_environment_variable_selects_backend():
    tests_dir = os.path.dirname(os.path.abspath(__file__))  # the strict backend is the tests' CuPy double
    env = {**os.environ, "NNLIB_BACKEND": "strict",
           "PYTHONPATH": os.pathsep.join([tests_dir] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    out = subprocess.run([sys.executable, "-c", "import nnlib.backend as B; print(B.name())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "strict"


def test_seed_reproduces_initial_weights_across_backends():
    nnlib.seed(5)
    w_numpy = nnlib.Dense(3, 2).params["W"].copy()
    nnlib.use("strict")
    nnlib.seed(5)
    w_strict = B.to_host(nnlib.Dense(3, 2).params["W"])
    np.testing.assert_array_equal(w_numpy, w_strict)


def test_to_device_to_host_round_trip():
    nnlib.use("strict")
    x = np.arange(6.0).reshape(2, 3)
    d = nnlib.to_device(x)
    assert isinstance(d, B.xp.ndarray) and not isinstance(d, np.ndarray)
    np.testing.assert_array_equal(nnlib.to_host(d), x)
