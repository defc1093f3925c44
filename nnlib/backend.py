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

The ``"strict"`` backend is the test suite's CuPy double (``tests/cupy_double/``, not part of what a learner
installs): NumPy behind arrays that refuse to turn into NumPy arrays implicitly, exactly as CuPy's do.  The
test-suite trains through it to prove that the library would run on a GPU; it is found as the importable module
``cupy_double.strict`` (pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["use", "name", "xp", "to_device", "to_host", "seed", "host_rng", "is_array", "sigmoid_",
           "quiet_underflow", "sigmoid_and_prime_"]

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


STRICT_MODULE = "cupy_double.strict"


def _strict_module() -> ModuleType:
    import importlib

    try:
        return importlib.import_module(STRICT_MODULE)
    except ImportError as exc:
        raise ValueError("nnlib.use('strict'): the strict backend is the test suite's CuPy double "
                         f"({STRICT_MODULE}, in the course's tests/ folder), which is not importable here: "
                         "run it under pytest or with tests/ on PYTHONPATH") from exc


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
        xp, _name = _strict_module(), "strict"
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
    if _name == "strict" or type(x).__module__ == STRICT_MODULE:
        return _strict_module().asnumpy(x)
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


# ---------------------------------------------------------------- the logistic function
# σ is the one operation of the training hot loop (``_network_fast._step_sigmoid``) that is not a matrix product, so
# it is computed here once, with ``xp`` (it runs on every backend), by ONE formula at every array size and on
# every device:
#
#     e = exp(min(z, c)),   σ(z) = e / (1 + e),   c = ⌊ln(largest float)⌋ (709 in float64, 88 in float32)
#
# and, for the hot loop, σ'(z) = e / (1 + e)² = σ(z) / (1 + e) from the same two arrays.
#
# * accuracy: the only roundings are those of exp, of 1 + e and of the division, so the relative error is a
#   few units in the last place wherever σ(z) is a normal float (z ≥ −708 in float64, −87 in float32);
#   tests/test_edges.py checks ≤ 1e-12 on [−700, 700] in float64 against exact decimal arithmetic.  The clamp
#   changes no result: for z > c, σ rounds to 1 either way.  The former ½(1 + tanh(z/2)) cancels in
#   1 + tanh for z < 0: it lost relative precision below z ≈ −26 and returned 0 from z ≈ −38.  σ' from e is
#   accurate too, where a(1 − a) cancels in 1 − a (it gives 0 for z > 37 in float64);
# * no overflow, by the clamp: e and 1 + e stay finite.  For very negative z, e underflows to a subnormal
#   number or 0, and σ = 0/1 = 0 below −745 (float64); that underflow is the right result, and NumPy, which
#   ignores underflow unless told otherwise, is told to ignore it around σ (``quiet_underflow``, so that
#   ``np.seterr(all="raise")`` does not turn it into an error; CuPy never warns);
# * speed: four passes for σ (five with σ'), against SciPy's ``expit``'s one (faster below ~700 entries,
#   slower above) or ½(1 + tanh(z/2))'s four plus two for σ'.  The constants are 0-d arrays of z's dtype,
#   kept per dtype: a Python float operand costs NumPy ~0.4 µs more per call (a scalar conversion), as much
#   as the arithmetic at the 100–300 entries of a batch-10 step.  A clamp from below would avoid exp's
#   subnormal outputs (10× slower on x86) for z in (−745, −708) but would give σ(−1000) ≠ 0.
#   bench/sigmoid.py measures it against the former version.
#
# SciPy's ``expit`` is no longer used: it made SciPy (~143 MB) a runtime dependency, and below 768 entries
# it gave different numbers from the formula used above that size.
#
# Not done, on purpose: fusing the SGD update into the gradient's GEMM with SciPy's BLAS
# (sgemm with β = 1).  SciPy's wheels bundle their own OpenBLAS, with its own thread pool: alternating
# NumPy's BLAS (forward) and SciPy's (update) in every step made the two pools spin against each other —
# a 2-thread epoch at batch 100 took 27 s instead of 0.2 s on 2 cores (bench/RESULTS.md).

_SIGMOID_CONSTANTS: dict[tuple[str, Any], tuple[Any, Any]] = {}


def _sigmoid_constants(dtype: Any) -> tuple[Any, Any]:
    """(c, 1) as 0-d arrays of ``dtype`` on the current backend, c = ⌊ln(largest float)⌋ (kept per dtype)."""
    key = (_name, dtype)
    const = _SIGMOID_CONSTANTS.get(key)
    if const is None:
        c = math.floor(math.log(float(np.finfo(dtype).max)))
        const = _SIGMOID_CONSTANTS[key] = (xp.asarray(c, dtype=dtype), xp.asarray(1.0, dtype=dtype))
    return const


def quiet_underflow() -> Any:
    """A context in which NumPy neither warns nor raises on underflow (or overflow): ``np.errstate``.

    For σ's e = exp(z) → subnormal or 0 at very negative z, whose results are the right ones, even under
    ``np.seterr(all="raise")``.  Invalid operations and division by zero still warn.  On CuPy a no-op
    context: GPU kernels never warn.
    """
    if _name in ("numpy", "strict"):
        return np.errstate(under="ignore", over="ignore")
    return contextlib.nullcontext()


def sigmoid_and_prime_(z: Any, prime: Any) -> Any:
    """z ← σ(z) and prime ← σ'(z) = σ(z)(1 − σ(z)), in place, by the formula above (five passes, no
    temporary); returns z.  For the hot loop: the caller holds ``quiet_underflow()``."""
    c, one = _sigmoid_constants(z.dtype)
    xp.minimum(z, c, out=z)
    xp.exp(z, out=z)  # e
    xp.add(z, one, out=prime)  # 1 + e
    xp.divide(z, prime, out=z)  # σ = e / (1 + e)
    xp.divide(z, prime, out=prime)  # σ' = e / (1 + e)² = σ / (1 + e)
    return z


def sigmoid_(z: Any) -> Any:
    """z ← σ(z) = 1 / (1 + e^{−z}) in place (z a floating array of the current backend); returns z.

    Computed as e / (1 + e), e = exp(min(z, c)) (see the comment above): relative error of a few units in
    the last place wherever σ(z) is a normal float, exactly 0 below −745 (float64), no overflow, the same
    numbers at every array size and on every backend.  One temporary (1 + e).
    """
    c, one = _sigmoid_constants(z.dtype)
    with quiet_underflow():
        xp.minimum(z, c, out=z)
        xp.exp(z, out=z)
        xp.divide(z, xp.add(z, one), out=z)
    return z


def _from_env() -> None:
    choice = os.environ.get("NNLIB_BACKEND", "").strip()
    if choice:
        use(choice)


_from_env()
