"""Where the arrays live: NumPy on the CPU, CuPy on a GPU.

Library code never imports numpy to compute on data.  It asks this module for
the current *array module* and calls that::

    from nnlib import backend as B
    xp = B.xp            # numpy, cupy, or the strict test module
    z = xp.exp(a)

Choosing a backend::

    nnlib.use("numpy")   # the default
    nnlib.use("cupy")    # fail loudly if CuPy or the GPU does not work
    nnlib.use("auto")    # CuPy when a GPU really works, else NumPy (said once)

or set ``NNLIB_BACKEND=numpy|cupy|auto`` before importing nnlib.

``to_device(x)`` copies host data onto the current backend, ``to_host(x)``
copies it back as a NumPy array.  ``seed(s)`` seeds every random generator the
library uses (host initialisers and the device generator for dropout).

The ``"strict"`` backend is NumPy behind arrays that refuse to turn into NumPy
arrays implicitly, exactly as CuPy's do.  The test-suite trains through it to
prove that the library would run on a GPU.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["use", "name", "xp", "to_device", "to_host", "seed", "host_rng", "is_array", "sigmoid_"]

xp: Any = np  #: the current array module (numpy, cupy or strict)
_name = "numpy"
_host_rng = np.random.default_rng(0)
_warned_fallback = False


def name() -> str:
    """Name of the current backend: ``"numpy"``, ``"cupy"`` or ``"strict"``."""
    return _name


def _gpu_error() -> str | None:
    """None if CuPy works on a real GPU, else the reason it does not."""
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
        float((cupy.arange(3, dtype=cupy.float32) * 2).sum())  # a real kernel launch
    except Exception as exc:  # ImportError, CUDARuntimeError, compile errors, ...
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def use(backend: str = "numpy") -> ModuleType:
    """Select the array backend and return its array module.

    ``"numpy"``, ``"cupy"``, ``"auto"`` or ``"strict"`` (the test backend).
    ``"cupy"`` raises ``RuntimeError`` when no GPU works; ``"auto"`` falls back
    to NumPy with a single warning.
    """
    global xp, _name, _warned_fallback
    backend = backend.lower().strip()
    if backend == "numpy":
        xp, _name = np, "numpy"
    elif backend in ("cupy", "auto"):
        err = _gpu_error()
        if err is None:
            import cupy

            xp, _name = cupy, "cupy"
        elif backend == "cupy":
            raise RuntimeError(f"nnlib.use('cupy'): CuPy cannot run on this machine ({err}). "
                               "Install cupy-cuda12x on a machine with an NVIDIA GPU, or use 'numpy'.")
        else:
            if not _warned_fallback:
                warnings.warn(f"nnlib: no working GPU ({err}); using NumPy on the CPU.", stacklevel=2)
                _warned_fallback = True
            xp, _name = np, "numpy"
    elif backend == "strict":
        from nnlib import _strict

        xp, _name = _strict, "strict"
    else:
        raise ValueError(f"nnlib.use: unknown backend {backend!r}; choose 'numpy', 'cupy', 'auto' or 'strict'")
    return xp


def is_array(x: Any) -> bool:
    """True if ``x`` is an array of the current backend."""
    return isinstance(x, xp.ndarray)


def to_device(x: Any, dtype: Any = None) -> Any:
    """Copy ``x`` (NumPy array, list, scalar) onto the current backend."""
    if _name == "numpy":
        return np.asarray(x, dtype=dtype)
    if isinstance(x, xp.ndarray):
        return x if dtype is None else x.astype(dtype, copy=False)
    return xp.asarray(np.asarray(x), dtype=dtype)


def to_host(x: Any) -> np.ndarray:
    """Copy an array of any backend back to a NumPy array (explicitly)."""
    if isinstance(x, np.ndarray):
        return x
    if _name == "strict" or type(x).__module__ == "nnlib._strict":
        from nnlib import _strict

        return _strict.asnumpy(x)
    if type(x).__module__.startswith("cupy"):
        import cupy

        return cupy.asnumpy(x)
    return np.asarray(x)


def seed(s: int) -> None:
    """Seed nnlib's host generator (initialisers, shuffling) and the device generator (dropout)."""
    global _host_rng
    _host_rng = np.random.default_rng(s)
    xp.random.seed(s)


def host_rng() -> np.random.Generator:
    """The host generator that initialisers and shufflers draw from (seeded by ``seed``)."""
    return _host_rng


# ---------------------------------------------------------------- fast-path hooks
# An operation that the training hot loop (``Network._step_sigmoid``) calls thousands of times per epoch.
# It has a generic version written with ``xp`` (it runs on every backend) and, on NumPy only, a faster
# CPU version from SciPy; both compute the same numbers (tests/test_fastpaths.py checks them against each
# other).  SciPy comes with scikit-learn, a dependency, but the fast version is optional.
#
# Not done, on purpose: fusing the SGD update into the gradient's GEMM with SciPy's BLAS
# (sgemm with β = 1).  SciPy's wheels bundle their own OpenBLAS, with its own thread pool: alternating
# NumPy's BLAS (forward) and SciPy's (update) in every step made the two pools spin against each other —
# a 2-thread epoch at batch 100 took 27 s instead of 0.2 s on 2 cores (bench/RESULTS.md).

try:
    from scipy.special import expit as _expit
except ImportError:  # pragma: no cover - scipy is installed with scikit-learn
    _expit = None


_EXPIT_MAX_SIZE = 768  # below this many entries SciPy's expit is faster than the tanh formula (see sigmoid_)


def sigmoid_(z: Any) -> Any:
    """z ← σ(z) = 1 / (1 + e^{−z}) in place; returns z.

    On NumPy, SciPy's ``expit`` does it in one pass, and that is the faster way for small arrays.  The
    generic version is the stable σ(z) = ½ (1 + tanh(z/2)) of ``activations.sigmoid``, computed in place
    (four passes, no temporary); NumPy's tanh is vectorised (SIMD) and expit is not, so from about 700
    entries on the four passes win (float32, measured: 300 entries 1.2 µs expit vs 2.3 µs; 3,000 entries
    10.1 µs vs 3.9 µs).
    """
    if _name == "numpy" and _expit is not None and z.dtype.kind == "f" and z.size < _EXPIT_MAX_SIZE:
        return _expit(z, out=z)
    z *= 0.5
    xp.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


def _from_env() -> None:
    choice = os.environ.get("NNLIB_BACKEND", "").strip()
    if choice:
        use(choice)


_from_env()
