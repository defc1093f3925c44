"""Shared by the checks of assignment 10 (modular layers): what answers may use, and the shape of their replies."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlib import gradcheck as G
from nnlib.grading._core import close, fail

ALLOWED: list = []
ALLOWED_TEXT = "NumPy"


def pair(got: Any, name: str, case: str, what: str = "(out, cache)") -> tuple[Any, Any]:
    """The learner's ``(out, cache)``; anything else fails with a message saying what to return."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{name} should return the pair {what}: the output and the cache its backward pass needs (return "
             f"out, cache)", case, kind="type")
    return got[0], got[1]


def triple(got: Any, name: str, case: str, what: str) -> tuple[Any, Any, Any]:
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        fail(f"{name} should return the triple {what}", case, kind="type")
    return got[0], got[1], got[2]


def forward_first(got: Any, ref: np.ndarray, backward: str, forward: str, case: str) -> None:
    """A backward check uses the learner's forward for its cache: that forward must be right first."""
    if not close(got, ref):
        fail(f"{backward} is checked with the cache of your {forward}, whose output is wrong here: fix "
             f"{forward} first (its test says what is wrong)", case)


def validated(ref: np.ndarray, num: np.ndarray, what: str) -> None:
    if G.rel_error(num, ref) >= 1e-7:  # pragma: no cover - the references are tested
        raise RuntimeError(f"{what}: the reference disagrees with central differences")
