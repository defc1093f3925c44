"""The driver shared by the programmatic mutants (:mod:`mistakes.mutate_a05`, :mod:`mistakes.mutate_a06`).

A family of bugs is ``({site: (old, new)}, words)``: replacements in a reference source at named sites, applied at a
non-empty subset of them, and the words of which the check's message must contain at least one — the family's
name, never a generic "does not match".  What differs between assignments (the reference, its families, the
function it defines and the names its source may use) is passed to :class:`Mutants`; each assignment's module keeps
its own ``message``, which calls its check on one case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Family = tuple[dict[str, tuple[str, str]], tuple[str, ...]]


class Mutants:
    """``sites`` / ``mutate`` / ``define`` / ``named`` over ``mutations`` of ``reference``, which defines ``function``.

    ``names``: the globals the mutant's source runs with (a fresh copy for every :meth:`define`).
    """

    def __init__(self, reference: str, mutations: dict[str, Family], function: str, names: dict[str, Any]):
        self.reference, self.mutations, self.function, self.names = reference, mutations, function, names

    def sites(self, name: str) -> list[str]:
        """The sites family ``name`` can be applied at, sorted."""
        return sorted(self.mutations[name][0])

    def mutate(self, name: str, where: list[str] | None = None) -> str:
        """The reference with family ``name`` applied at ``where`` (default: every site it has)."""
        reps, _ = self.mutations[name]
        src = self.reference
        for site in where or sorted(reps):
            old, new = reps[site]
            assert old in src, (name, site)
            src = src.replace(old, new)
        assert src != self.reference, name
        return src

    def define(self, src: str) -> Callable:
        """The function ``src`` defines, run with a fresh copy of ``names``."""
        ns = dict(self.names)
        exec(compile(src, "<mutant>", "exec"), ns)  # noqa: S102 - the project's own generated source
        return ns[self.function]

    def named(self, msg: str | None, name: str) -> bool:
        """Rejected, and the message names the family (one of its words) before the test case's description."""
        if msg is None:
            return False
        head = msg.split("(test case")[0]
        return any(w.lower() in head.lower() for w in self.mutations[name][1])
