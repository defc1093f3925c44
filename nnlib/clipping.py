"""Gradient clipping: an optimiser that first shrinks a too-long gradient, the usual cure for exploding gradients.

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

__all__ = ["ClipGradNorm", "global_norm"]


def global_norm(grads: Sequence[Any]) -> float:
    """‖g‖ over every entry of every array in ``grads`` (the length of the whole gradient)."""
    return math.sqrt(sum(float(B.xp.sum(g * g)) for g in grads))


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
