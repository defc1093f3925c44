"""Input checks shared by layers, costs and networks: clear errors, nothing broadcast silently."""

from __future__ import annotations

from typing import Any

from nnlib import backend as B


class ShapeError(ValueError):
    """An array has the wrong shape for the layer or cost that received it."""


class _Trusted:
    """``with trusted():`` — inputs already checked upstream (``Model`` checks its input once, then runs its
    layers inside this context, so the layers skip their own NaN/inf pass).  Nestable."""

    depth = 0

    def __enter__(self) -> None:
        _Trusted.depth += 1

    def __exit__(self, *exc: Any) -> None:
        _Trusted.depth -= 1


def trusted() -> _Trusted:
    return _Trusted()


def check_array(x: Any, where: str, ndim: int | None = None, float_only: bool = True, finite: bool = True) -> None:
    """Raise a clear error unless ``x`` is a floating array of the current backend with ``ndim`` axes.

    ``finite``: a floating ``x`` with NaN or ±inf raises ``FloatingPointError`` naming ``where`` — the check at
    every layer's public entry point (``forward``, and ``backward``'s upstream gradient), skipped inside
    ``trusted()`` (a ``Model`` checks its input once).
    """
    if not isinstance(x, B.xp.ndarray):
        hint = " (call nnlib.to_device(x) to move NumPy data onto the GPU)" if B.name() != "numpy" else ""
        raise TypeError(f"{where}: expected a {B.name()} array, got {type(x).__module__}.{type(x).__name__}{hint}")
    if ndim is not None and x.ndim != ndim:
        raise ShapeError(f"{where}: expected a {ndim}-d array, got shape {tuple(x.shape)}")
    if x.ndim >= 1 and x.shape[0] == 0:
        raise ShapeError(f"{where}: empty batch (shape {tuple(x.shape)})")
    if float_only and x.dtype.kind != "f":
        raise TypeError(f"{where}: expected floating-point input, got dtype {x.dtype} with shape {tuple(x.shape)}; "
                        "scale integer images to [0, 1] floats first (nnlib.datasets.scale01)")
    if finite and not _Trusted.depth and x.dtype.kind == "f":
        check_finite(x, where)


def check_finite(x: Any, where: str) -> None:
    """Raise ``FloatingPointError`` naming ``where`` if ``x`` holds NaN or ±inf.

    (``isfinite`` then ``all``: faster than a finite-sum test, x.sum(), which NumPy does not vectorise as well.)
    """
    if not bool(B.xp.isfinite(x).all()):
        n_bad = int((~B.xp.isfinite(x)).sum())
        raise FloatingPointError(f"{where}: input of shape {tuple(x.shape)} contains {n_bad} NaN/inf value(s)")


def check_same_shape(a: Any, y: Any, where: str) -> None:
    """Costs compare a and y elementwise: their shapes must match exactly (no broadcasting)."""
    if tuple(a.shape) != tuple(y.shape):
        raise ShapeError(f"{where}: output a has shape {tuple(a.shape)} but target y has shape {tuple(y.shape)}; "
                         "they must match exactly (one-hot targets: nnlib.datasets.one_hot)")
