"""``claim``: a lecture states, in the cell, what the prose next to it says about the run.

    from nnlib.claims import claim
    claim(loss["momentum"] < loss["sgd"] / 4, "momentum ends with a training loss at least 4× below SGD's",
          momentum=loss["momentum"], sgd=loss["sgd"])

A claim that holds is silent. One that does not prints a visible note (the text of the claim and the
values it was judged on), so a learner whose run came out differently knows that the prose does not
describe their run. With ``NNLIB_STRICT_CLAIMS=1`` (set by ``tests/test_notebooks.py``) a failed claim
raises :class:`ClaimFailedError` instead: the notebook test fails when prose and output drift apart.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["claim", "ClaimFailedError", "strict"]

STRICT_ENV = "NNLIB_STRICT_CLAIMS"


class ClaimFailedError(AssertionError):
    """A lecture's claim about its own run does not hold (raised only under ``NNLIB_STRICT_CLAIMS=1``)."""


def strict() -> bool:
    """``NNLIB_STRICT_CLAIMS=1``: failed claims raise (the notebook tests); otherwise they print a note."""
    return os.environ.get(STRICT_ENV) == "1"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return repr(v) if isinstance(v, str) else str(v)


def claim(holds: Any, text: str, **values: Any) -> bool:
    """``True`` when ``holds`` is true (silently); else a note naming ``text`` and ``values`` and ``False``.

    ``holds``: the condition the prose asserts, computed from this run's numbers. ``text``: what the prose
    says, in words. ``values``: the numbers the condition was judged on, shown when it fails.
    Under ``NNLIB_STRICT_CLAIMS=1`` a failed claim raises :class:`ClaimFailedError`.
    """
    if not isinstance(text, str) or not text:
        raise TypeError("claim(holds, text): text must say, in words, what the prose claims")
    if bool(holds):
        return True
    detail = ", ".join(f"{k} = {_fmt(v)}" for k, v in values.items())
    message = f"the text says {text!r}, but this run does not show it" + (f" ({detail})" if detail else "")
    if strict():
        raise ClaimFailedError(message)
    print(f"NOTE — a claim of the text does not hold in this run: {message}. "
          "Your numbers differ from those the lecture was written with; read the printed numbers.",
          file=sys.stderr)
    return False
