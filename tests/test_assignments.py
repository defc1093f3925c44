"""The graded assignments: source notebooks, the student release, and every graded cell through the grader.

For every graded cell of every assignment, through the real pipeline (``nnlib_grader.runner``, the
learner's code in a sandboxed worker as root): the reference scores full marks, the blank release 0, a
one-call delegation 0 with a message saying it is not allowed, and a rebinding cheat 0.  The hidden
cases live only in the hidden test cells of solutions/: not in nnlib/, not in exercises/.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

import mistakes as M

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_assignments", ROOT / "solutions" / "build" /
                                               "build_assignments.py")
BA = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(BA)


def _graded_cells(assignment: str) -> list[str]:
    return [gid for gid, tests in M.parts(assignment).tests.items() if tests]


# ---------------------------------------------------------------- through the grader


@pytest.mark.slow
@pytest.mark.parametrize("assignment", M.ASSIGNMENTS)
def test_reference_scores_full_marks(assignment):
    res = M.grade(assignment, M.submission(assignment, {}))
    assert res and all(p == mx > 0 for p, mx, _ in res.values()), res


@pytest.mark.slow
@pytest.mark.parametrize("assignment", M.ASSIGNMENTS)
def test_blank_release_scores_zero(assignment):
    res = M.grade(assignment, M.blank(assignment))
    assert res and all(p == 0 for p, _, _ in res.values()), res
    for gid, (_, _, msg) in res.items():
        assert "not implemented yet" in msg or "not defined" in msg or "should be" in msg, (gid, msg)


@pytest.mark.parametrize("assignment", M.ASSIGNMENTS)
def test_catalogue_covers_every_graded_cell(assignment):
    cat = M.load(assignment)
    for gid in _graded_cells(assignment):
        assert any(e.cell == gid for e in cat.DELEGATIONS), f"{assignment}: no delegation for {gid}"
        assert any(e.cell == gid and "rebinds" in e.label for e in cat.CHEATS), f"{assignment}: no cheat for {gid}"
        assert any(e.cell == gid for e in cat.MISTAKES), f"{assignment}: no mistake for {gid}"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", M.ASSIGNMENTS)
def test_one_delegation_per_cell_scores_zero(assignment):
    cat = M.load(assignment)
    first = {}
    for e in cat.DELEGATIONS:
        first.setdefault(e.cell, e)
    for group in M.groups(list(first.values()), getattr(cat, "DEPENDS", {})):
        for key, v in M.grade_group(assignment, group).items():
            assert all(p == 0 for p, _, _ in v.cells.values()), (key, v.cells)
            assert M.refused(v.first()), (key, v.first())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", M.ASSIGNMENTS)
def test_rebinding_cheats_score_zero(assignment):
    """Every answer cell redefines its check and ``require`` (and carries a wrong answer): nothing gained."""
    cat = M.load(assignment)
    cheats = {e.cell: e for e in cat.CHEATS if "rebinds" in e.label}
    res = M.grade(assignment, M.submission(assignment, {c: e.source for c, e in cheats.items()}))
    assert cheats
    for gid in cheats:  # (a05's derivation parts have their cheats in tests/test_a05_capstone.py)
        for tid, _, _ in M.parts(assignment).tests[gid]:
            assert res[tid][0] == 0, (tid, res[tid])


# ---------------------------------------------------------------- the notebooks


def test_sources_are_built_by_the_builder(tmp_path):
    """solutions/ is what the builder writes — byte for byte; and notebooks carry no outputs."""
    BA.build_sources(tmp_path)
    for name in BA.ASSIGNMENTS:
        rel = Path(name) / f"{name}.ipynb"
        assert (tmp_path / rel).read_bytes() == (ROOT / "solutions" / rel).read_bytes(), \
            f"solutions/{rel} is stale: run python solutions/build/build_assignments.py --release"
        for folder in ("solutions", "exercises"):
            nb = nbformat.read(ROOT / folder / rel, as_version=4)
            assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
def test_release_is_generated_from_sources(tmp_path):
    """exercises/ is what nbgrader makes of solutions/ — byte for byte."""
    release = BA.generate(BA.make_course(tmp_path))
    for name in BA.ASSIGNMENTS:
        fresh = (release / name / f"{name}.ipynb").read_bytes()
        assert fresh == (ROOT / "exercises" / name / f"{name}.ipynb").read_bytes(), \
            f"exercises/{name} is stale: run python solutions/build/build_assignments.py --release"


def test_release_hides_solutions_and_hidden_tests():
    for name in BA.ASSIGNMENTS:
        text = (ROOT / "exercises" / name / f"{name}.ipynb").read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
        assert "raise NotImplementedError()" in text
        nb = nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids))
        graded_ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                      if c.metadata.get("nbgrader", {}).get("grade")]
        assert all(i.startswith("test_") for i in graded_ids) and graded_ids
        assert any(i.endswith("_hidden") for i in graded_ids), f"{name} has no hidden test"


def _hidden_cases() -> list[tuple[str, str]]:
    """(assignment, source text) of every element of a ``cases=`` literal in a hidden test cell."""
    out = []
    for name in BA.ASSIGNMENTS:
        nb = nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
        for c in nb.cells:
            if "BEGIN HIDDEN TESTS" not in c.source:
                continue
            tree = ast.parse(c.source)
            for node in ast.walk(tree):
                if isinstance(node, ast.keyword) and node.arg in ("cases", "nudges") and \
                        isinstance(node.value, (ast.List, ast.Tuple)):
                    out += [(name, ast.get_source_segment(c.source, el)) for el in node.value.elts]
    return out


def test_hidden_cases_are_only_in_the_source_notebooks():
    """Hidden means hidden: no hidden case appears in the installed library or the student release."""
    def squash(t: str) -> str:
        return re.sub(r"\s+", "", t)

    cases = _hidden_cases()
    assert len(cases) > 30
    texts = {p: squash(p.read_text(encoding="utf-8")) for p in (ROOT / "nnlib").rglob("*.py")}
    texts.update({p: squash(p.read_text(encoding="utf-8")) for p in (ROOT / "exercises").rglob("*.ipynb")})
    for name, case in cases:
        needle = squash(case)
        if name == "a02_xor":
            continue  # the nudges (±0.1) are stated in the prompt: the margin is the exercise
        where = [str(p.relative_to(ROOT)) for p, t in texts.items() if needle in t]
        assert not where, f"hidden case {case} of {name} appears in {where}"
