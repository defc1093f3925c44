"""Gradient clipping, the usual cure for exploding gradients: ``clip_grad_norm`` (PyTorch's rule, in place, for a
hand-written loop such as lecture 12's) and an optimiser that first shrinks a too-long gradient.

    from nnlib.clipping import ClipGradNorm
    opt = ClipGradNorm(optim.SGD(0.1), max_norm=1.0)   # then train.fit(..., optimizer=opt) as with any optimiser

If the gradient of all parameters together is longer than ``max_norm`` (Euclidean norm over every entry), every
gradient is multiplied by ``max_norm / norm`` before the wrapped optimiser's step: the direction is kept, the
length capped. PyTorch's ``torch.nn.utils.clip_grad_norm_`` does the same (it adds 1e-6 to the norm).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nnlib import backend as B
from nnlib import optim

__all__ = ["ClipGradNorm", "clip_grad_norm", "global_norm"]


def global_norm(grads: Sequence[Any]) -> float:
    """‖g‖ over every entry of every array in ``grads`` (the length of the whole gradient)."""
    return math.sqrt(sum(float(B.xp.sum(g * g)) for g in grads))


def clip_grad_norm(grads: Sequence[Any], max_norm: float) -> float:
    """Scale every gradient in place so that their joint norm √(Σ‖g‖²) is at most ``max_norm``; return the
    norm before clipping.  PyTorch's ``torch.nn.utils.clip_grad_norm_``: the factor is
    min(1, max_norm / (norm + 1e-6)), the direction of the step is kept."""
    if not (isinstance(max_norm, (int, float)) and not isinstance(max_norm, bool) and max_norm > 0
            and math.isfinite(max_norm)):
        raise ValueError(f"clip_grad_norm: max_norm must be a positive number, got {max_norm!r}")
    total = global_norm(grads)
    factor = max_norm / (total + 1e-6)
    if factor < 1:
        for g in grads:
            g *= factor
    return total


class ClipGradNorm(optim.Optimizer):
    """``optimizer`` whose steps use gradients clipped to a global norm of at most ``max_norm``.

    ``norms``: the gradient norm before clipping, one per step; ``clipped``: how many steps were clipped.
    ``lr`` is the wrapped optimiser's (schedules set it as usual).
    """

    def __init__(self, optimizer: optim.Optimizer, max_norm: float):
        if not max_norm > 0:
            raise ValueError(f"ClipGradNorm: max_norm must be > 0, got {max_norm}")
        self.inner, self.max_norm = optimizer, float(max_norm)
        self.weight_decay = 0.0
        self.norms: list[float] = []
        self.clipped = 0

    def __repr__(self) -> str:
        return f"ClipGradNorm({self.inner!r}, max_norm={self.max_norm})"

    @property
    def lr(self) -> float:  # type: ignore[override]
        return self.inner.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.inner.lr = value

    @property
    def t(self) -> int:  # type: ignore[override]
        return self.inner.t

    def reset(self) -> None:
        self.inner.reset()

    def step(self, params: Sequence[Any], grads: Sequence[Any]) -> None:
        norm = global_norm(grads)
        self.norms.append(norm)
        if norm > self.max_norm:
            self.clipped += 1
            grads = [g * (self.max_norm / norm) for g in grads]
        self.inner.step(params, grads)
