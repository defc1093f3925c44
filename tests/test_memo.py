"""References computed once per grading process (nnlib/grading/memo.py): each caller gets its own deep copy.

Properties, on generated nests of tuples, lists, dicts, arrays, scalars and objects: the copy equals the original;
no array, list, dict or object of the copy is one of the original's (writing into any part of the copy leaves the
original as it was); and :func:`once` computes each key once, hands out equal copies, and a caller that changes
what it got changes nothing for the next.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnlib.grading import memo


class Box:
    """An object the copier does not know (it goes through copy.deepcopy), holding an array."""

    def __init__(self, a):
        self.a = a

    def __eq__(self, other):
        return isinstance(other, Box) and _equal(self.a, other.a)


leaf = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=5), st.none(), st.booleans(),
                 arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 3)),
                        elements=st.floats(-1e3, 1e3)),
                 arrays(np.int64, st.integers(0, 5), elements=st.integers(-9, 9)).map(lambda a: Box(a)))
nest = st.recursive(leaf, lambda kids: st.one_of(st.lists(kids, max_size=4), st.tuples(kids, kids),
                                                 st.dictionaries(st.text(max_size=3), kids, max_size=3)),
                    max_leaves=20)


def _equal(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


def _mutables(v, out):
    """Every mutable part of ``v`` (arrays, lists, dicts, objects), by identity."""
    if isinstance(v, np.ndarray | list | dict | Box):
        out.append(v)
    if isinstance(v, list | tuple):
        for x in v:
            _mutables(x, out)
    elif isinstance(v, dict):
        for x in v.values():
            _mutables(x, out)
    elif isinstance(v, Box):
        _mutables(v.a, out)
    return out


def _scribble(v) -> None:
    """Write into every mutable part of ``v``."""
    for part in _mutables(v, []):
        if isinstance(part, np.ndarray) and part.size:
            part[...] = 7
        elif isinstance(part, list):
            part.append("x")
        elif isinstance(part, dict):
            part["scribbled"] = 1
        elif isinstance(part, Box):
            part.extra = 1


@settings(max_examples=200, deadline=None)
@given(nest)
def test_fresh_is_an_equal_copy_sharing_nothing_mutable(value):
    import copy

    keep = copy.deepcopy(value)
    got = memo.fresh(value)
    assert _equal(got, value)
    ours = {id(p) for p in _mutables(got, [])}
    assert not ours & {id(p) for p in _mutables(value, [])}
    _scribble(got)
    assert _equal(value, keep), "writing into the copy changed the original"


def test_once_computes_each_key_once_and_callers_cannot_change_it(monkeypatch):
    monkeypatch.delenv("NNLIB_GRADING_MEMO", raising=False)
    calls = []

    @memo.once
    def ref(n: int, seed: int):
        calls.append((n, seed))
        rng = np.random.default_rng(seed)
        return rng.normal(size=(n, 2)), {"w": [rng.normal(size=n)]}, Box(np.arange(n))

    first = ref(3, 1)
    _scribble(first)
    second, third = ref(3, 1), ref(3, 1)
    assert calls == [(3, 1)]
    rng = np.random.default_rng(1)
    a, w = rng.normal(size=(3, 2)), rng.normal(size=3)
    assert np.array_equal(second[0], a) and np.array_equal(second[1]["w"][0], w) and second[1].keys() == {"w"}
    assert _equal(second, third) and second[0] is not third[0]
    ref(4, 1)
    assert calls == [(3, 1), (4, 1)]


def test_memo_off_computes_every_time(monkeypatch):
    monkeypatch.setenv("NNLIB_GRADING_MEMO", "0")
    calls = []

    @memo.once
    def ref(n: int):
        calls.append(n)
        return np.zeros(n)

    ref(2)
    ref(2)
    assert calls == [2, 2]


@pytest.mark.parametrize("key", [((4, 5, 3, 2), 1, 6, True), ((3, 4, 2), 0, 1, False)])
def test_a05_references_from_the_cache_equal_a_fresh_computation(monkeypatch, key):
    from nnlib.grading import a05_backprop as M

    monkeypatch.delenv("NNLIB_GRADING_MEMO", raising=False)
    cached = M._backprop_references(*key)
    _scribble(list(cached[1:]))  # a check that wrote into its arguments
    cached = M._backprop_references(*key)
    monkeypatch.setenv("NNLIB_GRADING_MEMO", "0")
    computed = M._backprop_references(*key)
    assert _equal(list(cached[1:]), list(computed[1:]))
    for a, b in zip(cached[0].weights + cached[0].biases, computed[0].weights + computed[0].biases, strict=True):
        assert np.array_equal(a, b)
