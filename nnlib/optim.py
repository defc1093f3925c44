"""Optimisers: how a gradient g = ∇C becomes a step on the parameters w.

Each optimiser updates a list of parameter arrays **in place**::

    opt = Adam(lr=1e-3)
    opt.step(model.params(), model.grads())

==========  ===========================================================
SGD         w ← w − η g
Momentum    v ← μ v − η g;            w ← w + v
Nesterov    v_new ← μ v − η g;        w ← w − μ v + (1 + μ) v_new  (look-ahead form)
Adagrad     G ← G + g²;               w ← w − η g / (√G + ε)
RMSprop     G ← ρ G + (1 − ρ) g²;     w ← w − η g / (√G + ε)
Adam        m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
            m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ);  w ← w − η m̂ / (√v̂ + ε)
==========  ===========================================================

Schedules change η between epochs: ``StepDecay``, ``ExponentialDecay``,
``InverseTimeDecay`` (η₀ / (1 + k t)) and ``ReduceOnPlateau``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nnlib import backend as B
from nnlib._checks import ShapeError

Array = Any


class Optimizer:
    """Base: keeps per-parameter state (same order as the params list), checks shapes."""

    def __init__(self, lr: float):
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be > 0, got {lr}")
        self.lr = float(lr)
        self.state: list[dict[str, Array]] = []
        self.t = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        if len(params) != len(grads):
            raise ValueError(f"{type(self).__name__}.step: {len(params)} parameters but {len(grads)} gradients")
        for i, (p, g) in enumerate(zip(params, grads)):
            if tuple(p.shape) != tuple(g.shape):
                raise ShapeError(f"{type(self).__name__}.step: parameter {i} has shape {tuple(p.shape)} "
                                 f"but its gradient has shape {tuple(g.shape)}")
        if not self.state:
            self.state = [{} for _ in params]
        self.t += 1
        for p, g, s in zip(params, grads, self.state):
            self.update(p, g, s)

    def update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent: w ← w − η g."""

    def update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        # Speed: η g goes into a scratch buffer kept in the state, so a step allocates nothing
        # (``p -= self.lr * g`` makes a fresh temporary per parameter per step).
        tmp = s.get("tmp")
        if tmp is None or tmp.shape != p.shape or tmp.dtype != p.dtype:
            tmp = s["tmp"] = B.xp.empty_like(p)
        B.xp.multiply(g, self.lr, out=tmp)
        p -= tmp


class Momentum(Optimizer):
    """Heavy ball: v ← μ v − η g;  w ← w + v."""

    def __init__(self, lr: float, mu: float = 0.9):
        super().__init__(lr)
        self.mu = mu

    def update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        v = s.setdefault("v", B.xp.zeros_like(p))
        v *= self.mu
        v -= self.lr * g
        p += v


class Nesterov(Momentum):
    """Nesterov momentum (gradient at the look-ahead point), in the form used by CS231n."""

    def update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        v = s.setdefault("v", B.xp.zeros_like(p))
        v_prev = v.copy()
        v *= self.mu
        v -= self.lr * g
        p += -self.mu * v_prev + (1 + self.mu) * v


class Adagrad(Optimizer):
    def __init__(self, lr: float = 0.01, eps: float = 1e-8):
        super().__init__(lr)
        self.eps = eps

    def update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        G = s.setdefault("G", B.xp.zeros_like(p))
        G += g * g
        p -= self.lr * g / (B.xp.sqrt(G) + self.eps)


class RMSprop(Optimizer):
    def __init__(self, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = rho, eps

    def update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        G = s.setdefault("G", B.xp.zeros_like(p))
        G *= self.rho
        G += (1 - self.rho) * g * g
        p -= self.lr * g / (B.xp.sqrt(G) + self.eps)


class Adam(Optimizer):
    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        m = s.setdefault("m", B.xp.zeros_like(p))
        v = s.setdefault("v", B.xp.zeros_like(p))
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        p -= self.lr * m_hat / (B.xp.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": Adagrad,
              "rmsprop": RMSprop, "adam": Adam}


def get(name: str | Optimizer, lr: float, **kwargs: Any) -> Optimizer:
    """An optimiser by name (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``)."""
    if isinstance(name, Optimizer):
        return name
    try:
        return OPTIMIZERS[name.lower()](lr, **kwargs)
    except KeyError:
        raise ValueError(f"unknown optimiser {name!r}; choose one of {sorted(OPTIMIZERS)}") from None


# ---------------------------------------------------------------- learning-rate schedules


class StepDecay:
    """η_t = η₀ · factor^⌊t / every⌋  (e.g. halve every 10 epochs)."""

    def __init__(self, lr0: float, factor: float = 0.5, every: int = 10):
        self.lr0, self.factor, self.every = lr0, factor, every

    def __call__(self, epoch: int) -> float:
        return self.lr0 * self.factor ** (epoch // self.every)


class ExponentialDecay:
    """η_t = η₀ · e^{−k t}."""

    def __init__(self, lr0: float, k: float = 0.1):
        self.lr0, self.k = lr0, k

    def __call__(self, epoch: int) -> float:
        return self.lr0 * math.exp(-self.k * epoch)


class InverseTimeDecay:
    """η_t = η₀ / (1 + k t): the diminishing steps Σ η_t = ∞, Σ η_t² < ∞ for which SGD converges."""

    def __init__(self, lr0: float, k: float = 1.0):
        self.lr0, self.k = lr0, k

    def __call__(self, epoch: int) -> float:
        return self.lr0 / (1 + self.k * epoch)


class ReduceOnPlateau:
    """Multiply η by ``factor`` when the validation loss has not improved for ``patience`` epochs."""

    def __init__(self, lr0: float, factor: float = 0.5, patience: int = 3, min_lr: float = 1e-6,
                 threshold: float = 1e-4):
        self.lr, self.factor, self.patience, self.min_lr, self.threshold = lr0, factor, patience, min_lr, threshold
        self.best = math.inf
        self.bad_epochs = 0

    def step(self, val_loss: float) -> float:
        """Record this epoch's validation loss; returns the learning rate for the next epoch."""
        if val_loss < self.best - self.threshold:
            self.best, self.bad_epochs = val_loss, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs > self.patience:
                self.lr = max(self.lr * self.factor, self.min_lr)
                self.bad_epochs = 0
        return self.lr
