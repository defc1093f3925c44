"""Input checks shared by layers, costs and networks: clear errors, nothing broadcast silently."""

from __future__ import annotations

from typing import Any

from nnlib import backend as B


class ShapeError(ValueError):
    """An array has the wrong shape for the layer or cost that received it."""


def check_array(x: Any, where: str, ndim: int | None = None, float_only: bool = True) -> None:
    """Raise a clear error unless ``x`` is a floating array of the current backend with ``ndim`` axes."""
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


def check_finite(x: Any, where: str) -> None:
    """Raise ``FloatingPointError`` naming ``where`` if ``x`` holds NaN or ±inf."""
    if not bool(B.xp.isfinite(x).all()):
        n_bad = int((~B.xp.isfinite(x)).sum())
        raise FloatingPointError(f"{where}: input of shape {tuple(x.shape)} contains {n_bad} NaN/inf value(s)")


def check_same_shape(a: Any, y: Any, where: str) -> None:
    """Costs compare a and y elementwise: their shapes must match exactly (no broadcasting)."""
    if tuple(a.shape) != tuple(y.shape):
        raise ShapeError(f"{where}: output a has shape {tuple(a.shape)} but target y has shape {tuple(y.shape)}; "
                         "they must match exactly (one-hot targets: nnlib.datasets.one_hot)")
