"""References computed once per grading process: a check's work that depends only on its fixed test case.

A check such as a05's ``check_backprop`` computes, for every case, the reference gradient, each classic mistake's
gradient and central differences — the same numbers for every submission of a class.  :func:`once` keeps them
per case key (plain data: sizes, seeds, flags) for the life of the grading process and hands each caller a
**deep copy**, so that what one submission's check does with its arrays (the learner's reply is written back into
the arguments it was given) never reaches another's.  The cache holds only the fixed cases of the checks, so it
does not grow with the class.  ``NNLIB_GRADING_MEMO=0`` turns it off (every call computes again).
"""

from __future__ import annotations

import copy
import functools
import os
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.Lock()
STATS = {"hits": 0, "misses": 0}


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
        return copy.deepcopy(cache[key])

    cached.cache = cache  # type: ignore[attr-defined]
    return cached
