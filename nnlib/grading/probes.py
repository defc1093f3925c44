"""The relabel probe shared by the training checks (a08 ``check_train``, a10 ``check_train_net``).

A network that reached its target is trained a second time with one of the learner's own helpers — the one
whose result must drive the training (a08: ``backprop``; a10: ``softmax_loss``) — replaced by a wrapper that
renames the classes by a secret permutation π with no fixed point.  Training that goes through the helper
learns π(digit); a fit that bypasses it (``lstsq``, ``pinv``, a library) does not follow and scores about 0 %
against π(label).  Each check keeps its own seed offset, wrapper, worker-side source and message; this module
holds the permutation and the swap-call-restore around the learner's function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from nnlib.grading._core import Remote, invoke


def derangement(seed: int) -> np.ndarray:
    """A permutation of the 10 classes with no fixed point (π(k) ≠ k for every k), drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(10)
        if np.all(order != np.arange(10)):
            return order


def train_renamed(train: Callable, name: str, xtr: np.ndarray, ytr: np.ndarray, *, helper: str,
                  wrap: Callable[[Callable], Callable], install: str, restore: str, allowed: Iterable[Any],
                  allowed_text: str, timeout: float) -> Any:
    """``train(X, labels)`` with the learner's global ``helper`` replaced by its renaming wrapper, or None.

    In the worker (``train`` a :class:`Remote`) the source ``install`` swaps the helper in the learner's
    namespace and ``restore`` puts it back; locally the helper found in ``train.__globals__`` is replaced by
    ``wrap(helper)`` (allowed like the exercise's own functions) and restored afterwards.  None when the swap is
    impossible (no ``helper`` defined, the worker refused the source): the caller scores that as not followed.
    """
    if isinstance(train, Remote):
        if train.run is None or train.run(install):
            return None
        try:
            return invoke(train, name, xtr.copy(), ytr.copy(), allowed=allowed, allowed_text=allowed_text,
                          timeout=timeout)
        finally:
            train.run(restore)
    g = getattr(train, "__globals__", None)
    if not isinstance(g, dict) or not callable(g.get(helper)):
        return None
    saved = g[helper]
    renamed = wrap(saved)
    g[helper] = renamed
    try:
        return invoke(train, name, xtr.copy(), ytr.copy(), allowed=[*allowed, renamed], allowed_text=allowed_text,
                      timeout=timeout)
    finally:
        g[helper] = saved
