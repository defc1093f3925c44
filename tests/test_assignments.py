"""The graded assignments: source notebooks, the student release, and every graded cell through the grader.

For every graded cell of every assignment, through the real pipeline (``nnlib_grader.runner``, the
learner's code in a sandboxed worker as root): the reference scores full marks, the blank release 0, a
one-call delegation 0 with a message saying it is not allowed, and a rebinding cheat 0.  The hidden
cases live only in the hidden test cells of solutions/: not in nnlib/, not in exercises/.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.cli import jupytext as jupytext_cli

import mistakes as M
from nnlib_grader.authoring import AuthoringError, notebook_from_myst, sync_sources

ROOT = Path(__file__).resolve().parents[1]
NAMES = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.md") if p.stem == p.parent.name)


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


def test_every_assignment_has_its_myst_source():
    assert set(M.ASSIGNMENTS) | {"a08_capstone"} == set(NAMES) and len(NAMES) == 10
    from nnlib_grader.course import list_assignments, load_course

    assert list_assignments(load_course(ROOT)) == NAMES  # folders holding <a>.md: no builder, no "build" draft


def test_sources_are_written_from_the_myst_notebooks():
    """solutions/<a>/<a>.ipynb is what notebook_from_myst makes of <a>.md — byte for byte; no outputs anywhere."""
    for name in NAMES:
        rel = Path(name) / f"{name}.ipynb"
        nb = notebook_from_myst(ROOT / "solutions" / name / f"{name}.md")
        assert nbformat.writes(nb) + "\n" == (ROOT / "solutions" / rel).read_text(encoding="utf-8"), \
            f"solutions/{rel} is stale: run python -m nnlib_grader release"
        for c in nb.cells:  # the id rule: grade_id, else cell-<index>
            gid = (c.metadata.get("nbgrader") or {}).get("grade_id")
            assert c.id == (gid or f"cell-{nb.cells.index(c)}")
        for folder in ("solutions", "exercises"):
            nb = nbformat.read(ROOT / folder / rel, as_version=4)
            assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")
        assert not list((ROOT / "exercises" / name).glob("*.md")), f"exercises/{name} carries the source .md"


@pytest.mark.slow
def test_release_is_generated_from_sources(tmp_path):
    """exercises/ is what `python -m nnlib_grader release` makes of solutions/ — byte for byte, manifest too."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions", course / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for nb in (course / "solutions").glob("*/*.ipynb"):
        nb.unlink()  # the release writes them from the .md first
    r = subprocess.run([sys.executable, "-m", "nnlib_grader", "release", "--course", str(course)], cwd=course,
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("wrote ") == len(NAMES), r.stdout
    for name in NAMES:
        rel = Path(name) / f"{name}.ipynb"
        assert (course / "solutions" / rel).read_bytes() == (ROOT / "solutions" / rel).read_bytes()
        for f in (rel, Path(name) / ".release.json"):
            assert (course / "exercises" / f).read_bytes() == (ROOT / "exercises" / f).read_bytes(), \
                f"exercises/{f} is stale: run python -m nnlib_grader release"
        assert sorted(p.name for p in (course / "exercises" / name).iterdir()) == [".release.json", rel.name]


def test_jupytext_round_trip_keeps_the_nbgrader_metadata(tmp_path):
    """Saving a source in JupyterLab (jupytext rewrites the .md) keeps every cell, its metadata — and the bytes:
    solutions/jupytext.toml keeps jupytext's version out of the header, so another version writes the same file."""
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    for name in NAMES:
        md = tmp_path / "solutions" / name / f"{name}.md"
        before = md.read_text(encoding="utf-8")
        assert "jupytext_version" not in before and "format_name: myst" in before
        nb = jupytext.read(md)
        jupytext.write(nb, md.with_name("copy.ipynb"))
        jupytext_cli(["--quiet", "--to", "md:myst", "--output", str(md), str(md.with_name("copy.ipynb"))])
        assert md.read_text(encoding="utf-8") == before, f"{name}: a jupytext round trip changed the source"
        ref = notebook_from_myst(ROOT / "solutions" / name / f"{name}.md")
        again = notebook_from_myst(md)
        assert [(c.cell_type, c.source, c.metadata) for c in again.cells] == \
            [(c.cell_type, c.source, c.metadata) for c in ref.cells]
        assert sum("nbgrader" in c.metadata for c in ref.cells) >= 8


CELL = "+++ {{\"nbgrader\": {meta}}}\n\nSome text\n\n```{{code-cell}}\n---\nnbgrader:\n{code}---\n{src}\n```\n"
GOOD = "  grade: false\n  grade_id: {gid}\n  locked: false\n  schema_version: 3\n  solution: true\n  task: false\n"
MDMETA = ('{"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, '
          '"task": false}')


@pytest.mark.parametrize("case, text, expect", [
    ("not myst", "# A plain notebook\n\n```python\nx = 1\n```\n", "not a MyST notebook"),
    ("duplicate", CELL.format(meta=MDMETA, code=GOOD.format(gid="intro"),
                              src="### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "cell 1 (code, grade_id 'intro')"),
    ("no markers", CELL.format(meta=MDMETA, code=GOOD.format(gid="answer"), src="x = 1"),
     "cell 1 (code, grade_id 'answer'): a solution cell needs"),
    ("missing key", CELL.format(meta=MDMETA.replace('"locked": true, ', ""), code=GOOD.format(gid="answer"),
                                src="### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
     "cell 0 (markdown, grade_id 'intro'): nbgrader metadata lacks locked"),
    ("no points", CELL.format(meta=MDMETA, code=GOOD.format(gid="test_x").replace("grade: false", "grade: true")
                              .replace("solution: true", "solution: false"), src="assert True"),
     "cell 1 (code, grade_id 'test_x'): nbgrader cell 'test_x' does not have points"),
    ("hidden unclosed", CELL.format(meta=MDMETA, code=GOOD.format(gid="answer"),
                                    src="### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n### BEGIN HIDDEN TESTS"),
     "do not pair up"),
])
def test_authoring_errors_name_the_file_and_cell(tmp_path, case, text, expect):
    folder = tmp_path / "solutions" / "a99_x"
    folder.mkdir(parents=True)
    md = folder / "a99_x.md"
    md.write_text(text, encoding="utf-8")
    with pytest.raises(AuthoringError) as e:
        notebook_from_myst(md)
    assert str(md) in str(e.value) and expect in str(e.value), (case, str(e.value))
    with pytest.raises(AuthoringError):  # and sync_sources writes nothing
        sync_sources(tmp_path / "solutions")
    assert not (folder / "a99_x.ipynb").exists()


def test_sync_sources_writes_only_what_changed(tmp_path):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    src = tmp_path / "solutions"
    assert sync_sources(src) == []  # committed notebooks are current: nothing rewritten
    md = src / "a02_xor" / "a02_xor.md"
    md.write_text(md.read_text(encoding="utf-8").replace("## Exercise 1", "## Exercise 1 (edited)", 1))
    nb_path = src / "a02_xor" / "a02_xor.ipynb"
    assert sync_sources(src) == [nb_path]
    assert "(edited)" in nb_path.read_text(encoding="utf-8")
    assert sync_sources(src, ["a02_xor"]) == []
    with pytest.raises(AuthoringError, match="a77_none"):
        sync_sources(src, ["a77_none"])


def test_release_hides_solutions_and_hidden_tests():
    for name in NAMES:
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
    for name in NAMES:
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
