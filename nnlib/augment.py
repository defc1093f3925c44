"""Data augmentation: more training images made from the ones we have (Bishop's *Neural Networks*).

    from nnlib.augment import shift_images, with_shifts
    X_more, y_more = with_shifts(X, y, (8, 8))   # the originals and each one moved a pixel up, down, left, right
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["shift_images", "with_shifts", "ONE_PIXEL"]

ONE_PIXEL = ((0, 1), (0, -1), (1, 0), (-1, 0))  # (rows down, columns right): right, left, down, up


def shift_images(X: Any, shape: tuple[int, int], down: int, right: int) -> np.ndarray:
    """Every row of ``X`` (flattened images of ``shape``) moved ``down`` rows and ``right`` columns (negative:
    up, left); what moves out is dropped and the uncovered border is 0 (the background), not wrapped around."""
    h, w = shape
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != h * w:
        raise ValueError(f"shift_images: X must be (n, {h * w}) for images of shape {shape}, got {X.shape}")
    if abs(down) >= h or abs(right) >= w:
        raise ValueError(f"shift_images: a shift of ({down}, {right}) moves a {h}×{w} image out of its frame")
    img = X.reshape(-1, h, w)
    out = np.zeros_like(img)
    rows_to, rows_from = slice(max(down, 0), h + min(down, 0)), slice(max(-down, 0), h + min(-down, 0))
    cols_to, cols_from = slice(max(right, 0), w + min(right, 0)), slice(max(-right, 0), w + min(-right, 0))
    out[:, rows_to, cols_to] = img[:, rows_from, cols_from]
    return out.reshape(len(X), h * w)


def with_shifts(X: Any, y: Any, shape: tuple[int, int],
                shifts: Sequence[tuple[int, int]] = ONE_PIXEL) -> tuple[np.ndarray, np.ndarray]:
    """The images ``X`` and their labels ``y`` followed by one shifted copy per ``(down, right)`` in ``shifts``:
    ``1 + len(shifts)`` times as many training examples, the labels repeated."""
    X, y = np.asarray(X), np.asarray(y)
    parts = [X] + [shift_images(X, shape, d, r) for d, r in shifts]
    return np.concatenate(parts), np.tile(y, len(parts))
