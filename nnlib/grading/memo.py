"""References computed once per grading process: a check's work that depends only on its fixed test case.

A check such as a05's ``check_backprop`` computes, for every case, the reference gradient, each classic mistake's
gradient and central differences — the same numbers for every submission of a class.  :func:`once` keeps them
per case key (plain data: sizes, seeds, flags) for the life of the grading process and hands each caller a
**deep copy**, so that what one submission's check does with its arrays (the learner's reply is written back into
the arguments it was given) never reaches another's.  The copy (:func:`fresh`) walks tuples, lists and dicts
itself and copies each NumPy array with ``ndarray.copy``; anything else goes to ``copy.deepcopy`` (a reference
is ≈ 40 arrays: the generic deep copy took ≈ 0.55 ms each, about 9 ms of every a05 job, this one ≈ 0.12 ms).
The cache holds only the fixed cases of the checks, so it does not grow with the class.
``NNLIB_GRADING_MEMO=0`` turns it off (every call computes again).
"""

from __future__ import annotations

import copy
import functools
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

_LOCK = threading.Lock()
STATS = {"hits": 0, "misses": 0}


def fresh(value: Any) -> Any:
    """A deep copy of ``value``: containers rebuilt, arrays copied, immutable scalars shared, other objects
    through ``copy.deepcopy``.  (Unlike ``deepcopy`` it does not keep two references to one array as one: the
    cached references never rely on that.)"""
    t = type(value)
    if t is np.ndarray:
        return value.copy()
    if t is tuple:
        return tuple(fresh(v) for v in value)
    if t is list:
        return [fresh(v) for v in value]
    if t is dict:
        return {k: fresh(v) for k, v in value.items()}
    if t in (int, float, bool, str, bytes, type(None)) or isinstance(value, np.generic):
        return value
    return copy.deepcopy(value)


def once(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(*key)`` computed once per key (hashable plain data); every call returns a deep copy of it."""
    cache: dict[tuple, Any] = {}

    @functools.wraps(fn)
    def cached(*key: Any) -> Any:
        if os.environ.get("NNLIB_GRADING_MEMO", "1") == "0":
            return fn(*key)
        with _LOCK:
            hit = key in cache
        if not hit:
            value = fn(*key)
            with _LOCK:
                cache.setdefault(key, value)
                STATS["misses"] += 1
        else:
            with _LOCK:
                STATS["hits"] += 1
        return fresh(cache[key])

    cached.cache = cache  # type: ignore[attr-defined]
    return cached
