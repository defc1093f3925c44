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
AdamW       w ← (1 − η λ) w, then the Adam step (decoupled weight decay)
==========  ===========================================================

**Weight decay.**  Every optimiser takes ``weight_decay=λ`` (default 0, AdamW 0.01), with PyTorch's meaning:
for all but AdamW it is *coupled*, g ← g + λ w before the update — the gradient of an L2 penalty (λ/2)‖w‖²,
applied to **every** parameter the optimiser is given, biases included.  ``Model(l2=λ)`` adds the same
penalty to the loss but for the weights W only (no biases), and it enters the reported loss.  For SGD,
coupled decay and L2 are the same step, w ← (1 − ηλ) w − η g.  For the adaptive optimisers they are not a
decay: Adam divides λw by √v̂ like the gradient, so parameters with large gradients are barely decayed.
AdamW decouples it (Loshchilov & Hutter): w ← (1 − ηλ) w, then Adam on the loss's own gradient.

**State belongs to the parameters.**  Velocities and moments are stored per parameter *array* (by identity),
not by position in the list.  The same arrays in any order keep their state; a list of entirely new arrays
(another model) starts afresh (``reset()``: state cleared, t = 0); a list that shares some arrays with the
one the state was built for but adds or drops others is an error, as is the same array twice — call
``reset()`` to start afresh deliberately.  An array reshaped in place since its state was created is a
``ShapeError`` naming it.

**Momentum and a schedule.**  The lectures' form keeps η inside the velocity, v ← μ v − η g; PyTorch keeps it
outside, b ← μ b + g, w ← w − η b.  With a constant η the two give the same weights (v = −η b); when η changes
(``fit(..., schedule=...)``) PyTorch's rescales the whole accumulated velocity at once, the lectures' form only
the new gradients.  ``Momentum(..., eta_in_velocity=False)`` (and Nesterov) use PyTorch's form, equal to
``torch.optim.SGD(momentum=μ, nesterov=...)`` with a scheduler.  See docs/conventions.md.

Schedules change η between epochs: ``StepDecay``, ``MultiStepDecay``, ``ExponentialDecay``,
``InverseTimeDecay`` (η₀ / (1 + k t)), ``CosineDecay`` and ``ReduceOnPlateau``; ``warmup=`` epochs of linear
warm-up on MultiStep and Cosine (PyTorch's ``LinearLR`` followed by the schedule, as ``SequentialLR``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

from nnlib import backend as B
from nnlib._checks import ShapeError

Array = Any


class Optimizer:
    """Base: per-parameter state bound to the parameter arrays themselves; checks shapes.

    ``state[i]`` is the state dict of the i-th array of the bound list ``bound_params``.
    """

    #: True: weight decay is added to the gradient (L2, PyTorch's SGD/Adam); False: applied to w (AdamW)
    coupled_decay = True

    def __init__(self, lr: float, weight_decay: float = 0.0):
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be > 0, got {lr}")
        if not weight_decay >= 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be ≥ 0, got {weight_decay}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.reset()

    def reset(self) -> None:
        """Forget all state (velocities, moments, the step count t): the next ``step`` starts afresh."""
        self.bound_params: list[Array] = []
        self.state: list[dict[str, Any]] = []
        self._index: dict[int, int] = {}  # id(array) → position in bound_params (strong refs keep ids unique)
        self.t = 0

    def __repr__(self) -> str:
        wd = f", weight_decay={self.weight_decay}" if self.weight_decay else ""
        return f"{type(self).__name__}(lr={self.lr}{wd})"

    def _states_for(self, params: Sequence[Array]) -> list[dict[str, Any]]:
        """The state dicts of ``params``, in their order, binding or re-binding as the class docstring says."""
        bound = self.bound_params
        if len(params) == len(bound) and all(p is q for p, q in zip(params, bound)):
            return self.state  # the usual case: the same arrays in the same order
        where = f"{type(self).__name__}.step"
        index = self._index
        positions = [index.get(id(p)) for p in params]
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{where}: the same parameter array appears more than once in the list")
        if bound and all(k is not None for k in positions) and len(params) == len(bound):
            return [self.state[k] for k in positions]  # the same arrays, reordered: state follows each array
        if bound and any(k is not None for k in positions):
            n_kept = sum(k is not None for k in positions)
            raise ValueError(f"{where}: the parameter list changed since the optimiser's state was built for "
                             f"{len(bound)} arrays: now {len(params)}, of which {n_kept} known and "
                             f"{len(params) - n_kept} new ({len(bound) - n_kept} dropped).  Its velocities/moments "
                             "belong to particular arrays; call opt.reset() to start afresh, or use one "
                             "optimiser per parameter list")
        if bound:  # entirely new arrays (another model): a clean start
            self.reset()
        self.bound_params = list(params)
        self._index = {id(p): k for k, p in enumerate(params)}
        self.state = [{"shape": tuple(p.shape)} for p in params]
        return self.state

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        name = type(self).__name__
        if len(params) != len(grads):
            raise ValueError(f"{name}.step: {len(params)} parameters but {len(grads)} gradients")
        for i, (p, g) in enumerate(zip(params, grads)):
            if tuple(p.shape) != tuple(g.shape):
                raise ShapeError(f"{name}.step: parameter {i} has shape {tuple(p.shape)} "
                                 f"but its gradient has shape {tuple(g.shape)}")
        states = self._states_for(params)
        for i, (p, s) in enumerate(zip(params, states)):
            if tuple(p.shape) != s["shape"]:
                raise ShapeError(f"{name}.step: parameter {i} now has shape {tuple(p.shape)}, but the optimiser's "
                                 f"state for it was built with shape {s['shape']} (reshaped in place?); "
                                 "call opt.reset() to start afresh")
        self.t += 1
        wd = self.weight_decay
        for p, g, s in zip(params, grads, states):
            if wd:
                if self.coupled_decay:
                    g = g + wd * p  # ∇ of (λ/2)‖w‖² added to the gradient
                else:
                    p *= 1.0 - self.lr * wd  # decoupled: w ← (1 − ηλ) w
            self.update(p, g, s)

    def update(self, p: Array, g: Array, s: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent: w ← w − η g  (with weight_decay λ: w ← w − η (g + λ w))."""

    def update(self, p: Array, g: Array, s: dict[str, Any]) -> None:
        # Speed: η g goes into a scratch buffer kept in the state, so a step allocates nothing
        # (``p -= self.lr * g`` makes a fresh temporary per parameter per step).
        tmp = s.get("tmp")
        if tmp is None or tmp.dtype != p.dtype:
            tmp = s["tmp"] = B.xp.empty_like(p)
        B.xp.multiply(g, self.lr, out=tmp)
        p -= tmp


class Momentum(Optimizer):
    """Heavy ball: v ← μ v − η g;  w ← w + v.

    ``eta_in_velocity=False``: PyTorch's form b ← μ b + g;  w ← w − η b (the same weights for a constant η;
    they differ when η changes between steps, see the module docstring).
    """

    def __init__(self, lr: float, mu: float = 0.9, weight_decay: float = 0.0, eta_in_velocity: bool = True):
        super().__init__(lr, weight_decay)
        if not 0 <= mu < 1:
            raise ValueError(f"{type(self).__name__}: momentum mu must be in [0, 1), got {mu}")
        self.mu = mu
        self.eta_in_velocity = bool(eta_in_velocity)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", mu={self.mu})"

    def update(self, p: Array, g: Array, s: dict[str, Any]) -> None:
        if not self.eta_in_velocity:
            b = s.get("b")
            if b is None:  # PyTorch: the first buffer is g itself
                b = s["b"] = g.copy()
            else:
                b *= self.mu
                b += g
            p -= self.lr * b
            return
        v = s.setdefault("v", B.xp.zeros_like(p))
        v *= self.mu
        v -= self.lr * g
        p += v


class Nesterov(Momentum):
    """Nesterov momentum (gradient at the look-ahead point), in the form used by CS231n.

    ``eta_in_velocity=False``: PyTorch's ``SGD(nesterov=True)``, b ← μ b + g;  w ← w − η (g + μ b).
    """

    def update(self, p: Array, g: Array, s: dict[str, Any]) -> None:
        if not self.eta_in_velocity:
            b = s.get("b")
            if b is None:
                b = s["b"] = g.copy()
            else:
                b *= self.mu
                b += g
            p -= self.lr * (g + self.mu * b)
            return
        v = s.setdefault("v", B.xp.zeros_like(p))
        v_prev = v.copy()
        v *= self.mu
        v -= self.lr * g
        p += -self.mu * v_prev + (1 + self.mu) * v


class Adagrad(Optimizer):
    """G ← G + g²;  w ← w − η g / (√G + ε)."""

    def __init__(self, lr: float = 0.01, eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.eps = eps

    def update(self, p: Array, g: Array, s: dict[str, Any]) -> None:
        G = s.setdefault("G", B.xp.zeros_like(p))
        G += g * g
        p -= self.lr * g / (B.xp.sqrt(G) + self.eps)


class RMSprop(Optimizer):
    """G ← ρ G + (1 − ρ) g²;  w ← w − η g / (√G + ε)."""

    def __init__(self, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.rho, self.eps = rho, eps

    def update(self, p: Array, g: Array, s: dict[str, Any]) -> None:
        G = s.setdefault("G", B.xp.zeros_like(p))
        G *= self.rho
        G += (1 - self.rho) * g * g
        p -= self.lr * g / (B.xp.sqrt(G) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction; ``weight_decay`` is coupled (L2 in the gradient), as PyTorch's."""

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def update(self, p: Array, g: Array, s: dict[str, Any]) -> None:
        m = s.setdefault("m", B.xp.zeros_like(p))
        v = s.setdefault("v", B.xp.zeros_like(p))
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        p -= self.lr * m_hat / (B.xp.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: w ← (1 − η λ) w, then the Adam step on g (PyTorch's ``AdamW``).

    The default λ = 0.01 is PyTorch's; it applies to every parameter given (biases too).
    """

    coupled_decay = False

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(lr, beta1, beta2, eps, weight_decay)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": Adagrad,
              "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get(name: str | Optimizer, lr: float, **kwargs: Any) -> Optimizer:
    """An optimiser by name (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``,
    ``"adamw"``)."""
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


class _Warmup:
    """Linear warm-up before a schedule: PyTorch's ``LinearLR(start_factor, total_iters=warmup)`` then the
    schedule, restarted at epoch ``warmup`` (``SequentialLR`` with milestone ``warmup``)::

        η_t = η₀ (f + (1 − f) t / warmup)        for t < warmup   (f = start_factor)
        η_t = schedule(t − warmup)                from t = warmup on
    """

    def _init_warmup(self, warmup: int, start_factor: float) -> None:
        name = type(self).__name__
        if int(warmup) != warmup or warmup < 0:
            raise ValueError(f"{name}: warmup must be a whole number of epochs ≥ 0, got {warmup}")
        if not 0 < start_factor <= 1:
            raise ValueError(f"{name}: start_factor must be in (0, 1], got {start_factor}")
        self.warmup, self.start_factor = int(warmup), float(start_factor)

    def __call__(self, epoch: int) -> float:
        if epoch < self.warmup:
            f = self.start_factor
            return self.lr0 * (f + (1.0 - f) * epoch / self.warmup)
        return self.after_warmup(epoch - self.warmup)

    def after_warmup(self, t: int) -> float:
        raise NotImplementedError


class MultiStepDecay(_Warmup):
    """η_t = η₀ · γ^(number of milestones ≤ t)  (PyTorch's ``MultiStepLR``), after ``warmup`` epochs of warm-up.

    ``MultiStepDecay(0.1, milestones=[30, 80])``: 0.1 for epochs 0–29, 0.01 for 30–79, 0.001 from 80.
    Milestones count from the end of the warm-up.
    """

    def __init__(self, lr0: float, milestones: Sequence[int], gamma: float = 0.1, warmup: int = 0,
                 start_factor: float = 1 / 3):
        ms = [int(m) for m in milestones]
        if any(m < 0 for m in ms) or ms != sorted(ms):
            raise ValueError(f"MultiStepDecay: milestones must be increasing epochs ≥ 0, got {list(milestones)}")
        if not lr0 > 0 or not gamma > 0:
            raise ValueError(f"MultiStepDecay: need lr0 > 0 and gamma > 0, got lr0={lr0}, gamma={gamma}")
        self.lr0, self.milestones, self.gamma = lr0, ms, gamma
        self._init_warmup(warmup, start_factor)

    def after_warmup(self, t: int) -> float:
        return self.lr0 * self.gamma ** bisect.bisect_right(self.milestones, t)


class CosineDecay(_Warmup):
    """η_t = η_min + ½ (η₀ − η_min)(1 + cos(π t / T_max))  (PyTorch's ``CosineAnnealingLR``, closed form).

    From η₀ at t = 0 to η_min at t = T_max (choose T_max = epochs − warmup); as in PyTorch the cosine goes on
    beyond T_max (η rises again).  ``warmup`` epochs of linear warm-up come first.
    """

    def __init__(self, lr0: float, T_max: int, lr_min: float = 0.0, warmup: int = 0, start_factor: float = 1 / 3):
        if not lr0 > 0 or not 0 <= lr_min <= lr0:
            raise ValueError(f"CosineDecay: need lr0 > 0 and 0 ≤ lr_min ≤ lr0, got lr0={lr0}, lr_min={lr_min}")
        if int(T_max) != T_max or T_max < 1:
            raise ValueError(f"CosineDecay: T_max must be a whole number of epochs ≥ 1, got {T_max}")
        self.lr0, self.T_max, self.lr_min = lr0, int(T_max), lr_min
        self._init_warmup(warmup, start_factor)

    def after_warmup(self, t: int) -> float:
        return self.lr_min + 0.5 * (self.lr0 - self.lr_min) * (1 + math.cos(math.pi * t / self.T_max))
