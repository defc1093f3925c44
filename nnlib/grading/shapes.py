"""Diagnosis from the shapes of what the learner's function returns (issue 18: the learner's intermediate shapes).

A wrong shape tells its story when every dimension of the case has its own size: an array of shape (3, 4) where
w^3 has (4, 3) is its transpose; (5, 7) where the bias is (5, 1) with m = 7 examples is one column per example,
never summed over the batch; (3, 3) where (3, 6) belongs took a factor from the wrong layer.  :func:`explain` reads
such a shape against the expected one and the case's named dimensions (``dims``: {words: size}); a dimension is
read only when its size belongs to one name, so the reading is never a guess.

When the learner's function stops with a shape error, :func:`probe` calls it again on probe cases whose shapes do
fit (every layer as wide as the next, then also the batch as large): if it runs there, the shape error came from a
product whose shapes only match when n_in = n_out, and the numbers on the probe name the mistake.

Every message that proposes a fix is a template in :data:`ADVICE` (tests/test_shapes.py follows each one's advice
on the case that produced it and checks the fixed code passes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from nnlib.grading.families import _shape

ADVICE = {
    "transpose": "is transposed: it has shape {got}, the transpose of {what} {want}: {law} — drop the extra "
                 "transpose, or swap the factors of the product that made it ((A B)ᵀ = Bᵀ Aᵀ)",
    "not_summed": "has shape {got}, one entry per example (m = {m} of them) where {want} belongs: it is not summed "
                  "over the batch — sum over axis {axis} with keepdims=True ({law})",
    "per_example": "has shape {got}: one gradient per example (axis {axis} has length m = {m}), not summed over "
                   "the batch — sum over axis {axis}, or let one matrix product over the examples do the sum "
                   "({law})",
    "keepdims": "has {right}shape {got} where {want} belongs: the sum dropped the axis of length 1 — sum with "
                "keepdims=True (or reshape to {want}) ({law})",
    "wrong_axis": "is summed over the wrong axis: it has shape {got} where {want} belongs, summed over axis {bad} "
                  "({bad_name}) instead of axis {axis} (the examples) — sum over axis {axis} with keepdims=True "
                  "({law})",
    "other_dim": "has shape {got} where {want} belongs: its axis {axis} has length {size} = {got_name} where "
                 "{want_size} = {want_name} belongs — a factor taken from the wrong layer (an index off by one): "
                 "{law}",
    "examples_axis": "has shape {got} where {want} belongs: its axis {axis} has length m = {m}, one entry per "
                     "example, where {want_size} = {want_name} belongs — the product over the examples is missing "
                     "or has a factor untransposed: {law}",
    "scalar": "is one number where an array of shape {want} belongs: it was summed over every axis — sum over "
              "axis {axis} only, keepdims=True ({law})",
    "square_only": "runs only when every layer is as wide as the next (on a network whose layers all have width "
                   "{k} it returns without an error): a matrix product whose shapes only match when n_in = n_out "
                   "— check which factor needs a transpose (w^(l+1) in BP2 is (w^(l+1))ᵀ) and which layer each "
                   "factor comes from",
    "batch_square_only": "runs only when the batch size m equals the layers' width (with m = {k} it returns "
                         "without an error): an array over the m examples is multiplied where one over the neurons "
                         "belongs — a transpose is missing (BP4 is δ^l (a^(l−1))ᵀ)",
}


def _names(dims: Mapping[str, int]) -> dict[int, str]:
    """{size: words} for the sizes that exactly one named dimension has."""
    seen: dict[int, list[str]] = {}
    for words, size in dims.items():
        seen.setdefault(int(size), []).append(words)
    return {size: ws[0] for size, ws in seen.items() if len(ws) == 1 and size > 1}


def explain(got: tuple, want: tuple, dims: Mapping[str, int], *, what: str = "the expected shape",
            law: str = "", m: int | None = None, skip: tuple[str, ...] = (), same_values: bool = False) -> str | None:
    """The words (after the value's name) for a ``got`` shape where ``want`` belongs, or None.

    ``dims``: the case's dimensions in the exercise's words ({"n_2, the width of layer 2": 6, ...});
    ``m``: the batch size when the value is a sum over the examples (its axis is named "the examples");
    ``skip``: rules not to apply (a check that has a more specific reading of the numbers); ``same_values``: the
    caller found the right numbers in the wrong shape (the message says so).
    """
    got, want = tuple(int(d) for d in got), tuple(int(d) for d in want)
    if got == want:
        return None
    names = _names(dims)
    law = law or f"the expected shape is {_shape(want)}"
    fill = {"got": _shape(got), "want": _shape(want), "what": what, "law": law, "m": m,
            "right": "the right values but " if same_values else ""}
    unique_m = m is not None and m > 1 and names.get(m) is not None
    if len(want) == 2 and want[0] != want[1] and got == want[::-1]:
        return ADVICE["transpose"].format(**fill)
    if unique_m and len(got) == len(want):
        diff = [k for k in range(len(want)) if got[k] != want[k]]
        if len(diff) == 1 and want[diff[0]] == 1 and got[diff[0]] == m:
            return ADVICE["not_summed"].format(**fill, axis=diff[0])
        if len(diff) == 2 and 1 in want:
            k = want.index(1)
            bad = next(j for j in diff if j != k)
            if got[k] == m and got[bad] == 1 and names.get(want[bad]):
                return ADVICE["wrong_axis"].format(**fill, axis=k, bad=bad, bad_name=names[want[bad]])
    if unique_m and len(got) == len(want) + 1:
        for k in range(len(got)):
            if got[k] == m and got[:k] + got[k + 1:] == want:
                return ADVICE["per_example"].format(**fill, axis=k)
    if len(want) > len(got) and tuple(d for d in want if d != 1) == got:
        return ADVICE["keepdims"].format(**fill)
    if got == () and want:
        return ADVICE["scalar"].format(**fill, axis=next((k for k, d in enumerate(want) if d == 1), 0) if m else 0)
    if len(got) == len(want):
        diff = [k for k in range(len(want)) if got[k] != want[k]]
        if len(diff) == 1:
            k = diff[0]
            if unique_m and got[k] == m and names.get(want[k]):
                return ADVICE["examples_axis"].format(**fill, axis=k, want_size=want[k], want_name=names[want[k]])
            if names.get(got[k]) and names.get(want[k]) and "other_dim" not in skip:
                return ADVICE["other_dim"].format(**fill, axis=k, size=got[k], got_name=names[got[k]],
                                                  want_size=want[k], want_name=names[want[k]])
    return None


def layer_dims(sizes: list[int], layer: int, m: int) -> dict[str, int]:
    """The named dimensions around layer ``layer`` (Nielsen's numbering: 1 is the input) of a network."""
    out = {f"n_{j + 1}, the width of layer {j + 1}": int(s) for j, s in enumerate(sizes)}
    if m > 1:
        out["m, the number of examples"] = int(m)
    return out


def square_probes(sizes: list[int], m: int) -> list[tuple[list[int], int]]:
    """Probe architectures where a product of mismatched shapes fits: equal widths (m apart), then m equal too."""
    k = max(int(s) for s in sizes) + 1
    return [([k] * len(sizes), k + 2 if m > 1 else 1), ([k] * len(sizes), k)]


def _is_shape_error(text: str) -> bool:
    from nnlib.grading.families import _shape_error

    return _shape_error(text)


def probe(run: Callable[[Any], None], failed: Exception, probes: Iterable[tuple[Any, int]]) -> None:
    """After ``failed`` (a shape error), run each probe ``(case, k)``; raise the explanation (or ``failed``).

    ``run(case)`` raises GradingError when the answer is wrong on ``case``.  A probe where the answer runs without
    a shape error shows the shape only fits when the dimensions are equal: the message says so and, where the
    answer's numbers are wrong there too, names their family.
    """
    from nnlib.grading._core import GradingError, wrap

    for i, (case, k) in enumerate(probes):
        key = "square_only" if i == 0 else "batch_square_only"
        why = ADVICE[key].format(k=k)
        try:
            run(case)
        except GradingError as exc:
            if _is_shape_error(str(exc)):
                continue
            first = " ".join(str(exc).split("\n  (test case")[0].split())
            raise GradingError(wrap(f"{str(failed).rstrip()}\n  Why: it {why}. There the numbers show the "
                                    f"mistake — {first}")) from None
        raise GradingError(wrap(f"{str(failed).rstrip()}\n  Why: it {why}.")) from None
    raise failed
