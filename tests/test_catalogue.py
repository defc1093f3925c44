"""The catalogue of classic mistakes (tests/mistakes/) against the exercise checks.

Fast part, in process (self-check mode, the notebook's own test cells): every mistake is rejected, most are
named (the message contains the fragment the catalogue expects), every alternative correct answer keeps
full marks, every one-call delegation is refused.  Slow part, through the real grader
(``nnlib_grader.runner.grade_notebook``, sandboxed as root): the representative mistakes, every
alternative, delegation and cheat.  ``python bench/catalogue.py [--pipeline]`` prints the summary.
"""

from __future__ import annotations

import os

import pytest

import mistakes as M

# the share of the catalogue whose first message names the mistake, per assignment (the aim is 90 %;
# measured with bench/catalogue.py: 284 of 284, self-check and pipeline, 6 Dec 2026)
NAMED_AT_LEAST = {"a01_perceptron": 0.9, "a02_xor": 0.9, "a03_gradient_descent": 0.9, "a04_derivatives": 0.9,
                  "a05_backprop": 0.9, "a06_sgd": 0.9, "a07_cnn": 0.9}
NAMED_AT_LEAST["a09_autograd"] = 0.9
NAMED_AT_LEAST["a10_layers"] = 0.9
SANDBOX = os.geteuid() == 0


def _entries(kind: str, pred=lambda e: True):
    return [pytest.param(a, e, id=f"{a}:{e.key}") for a in M.ASSIGNMENTS for e in getattr(M.load(a), kind)
            if pred(e)]


@pytest.mark.parametrize("assignment,entry", _entries("MISTAKES"))
def test_mistake_is_rejected_in_self_check(assignment, entry):
    v = M.run_inprocess(assignment, entry)
    assert v.rejected, f"{entry.key} passes every check"
    assert not any("CHECK CRASHED" in m for m in v.failed), v.failed
    for m in v.failed:
        assert not M.first_lines_ok(m), f"lines over 88 columns or a traceback: {m}"


@pytest.mark.parametrize("assignment", M.ASSIGNMENTS)
def test_most_mistakes_are_named(assignment):
    cat = M.load(assignment)
    named = [e.key for e in cat.MISTAKES if M.run_inprocess(assignment, e).named(e.expect)]
    share = len(named) / len(cat.MISTAKES)
    missing = [e.key for e in cat.MISTAKES if e.key not in named]
    assert share >= NAMED_AT_LEAST[assignment], f"{share:.0%} named; not named: {missing}"


@pytest.mark.parametrize("assignment,entry", _entries("ALTERNATIVES"))
def test_alternative_keeps_full_marks_in_self_check(assignment, entry):
    v = M.run_inprocess(assignment, entry)
    assert v.full, v.failed


@pytest.mark.parametrize("assignment,entry", _entries("DELEGATIONS", lambda e: e.inprocess))
def test_delegation_is_refused_in_self_check(assignment, entry):
    v = M.run_inprocess(assignment, entry)
    assert v.cells and all(p == 0 for p, _, _ in v.cells.values()), v.cells
    assert M.refused(v.first()), v.first()


# ---------------------------------------------------------------- through the real grader


def _same(a: str, b: str) -> bool:
    """The same message, but for where in the learner's cell an exception was raised (and the wrapping)."""
    import re

    def norm(t: str) -> str:
        return " ".join(re.sub(r" at `[^`]*`( \(line \d+\))?", "", " ".join(t.split())).split())

    return norm(a) == norm(b)


def _pipeline_groups(kind: str, pred=lambda e: True):
    out = []
    for a in M.ASSIGNMENTS:
        cat = M.load(a)
        entries = [e for e in getattr(cat, kind) if pred(e)]
        for k, g in enumerate(M.groups(entries, getattr(cat, "DEPENDS", {}))):
            out.append(pytest.param(a, g, id=f"{a}:{kind.lower()}{k}"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("assignment,group", _pipeline_groups("MISTAKES", lambda e: e.pipeline))
def test_representative_mistakes_through_the_grader(assignment, group):
    res = M.grade_group(assignment, group)
    for e in group:
        v = res[e.key]
        assert v.rejected, f"{e.key} gets full marks from the grader"
        assert v.named(e.expect), f"{e.key}: {v.first()}"
        if "hidden test:" not in v.first():  # a hidden test's feedback is general words by design (nnlib_grader.hidden)
            assert _same(M.run_inprocess(assignment, e).first(), v.first()), "self-check and grader disagree"


@pytest.mark.slow
@pytest.mark.parametrize("assignment,group", _pipeline_groups("ALTERNATIVES"))
def test_alternatives_keep_full_marks_through_the_grader(assignment, group):
    for key, v in M.grade_group(assignment, group).items():
        assert v.full, (key, v.failed)


@pytest.mark.slow
@pytest.mark.parametrize("assignment,group", _pipeline_groups("DELEGATIONS"))
def test_delegations_score_zero_through_the_grader(assignment, group):
    for key, v in M.grade_group(assignment, group).items():
        assert all(p == 0 for p, _, _ in v.cells.values()), (key, v.cells)
        assert M.refused(v.first()), (key, v.first())


@pytest.mark.slow
@pytest.mark.parametrize("assignment,entry", _entries("CHEATS", lambda e: SANDBOX or not e.sandbox_only))
def test_cheat_gains_nothing(assignment, entry):
    v = M.grade_group(assignment, [entry])[entry.key]
    assert all(p == 0 for p, _, _ in v.cells.values()), v.cells
