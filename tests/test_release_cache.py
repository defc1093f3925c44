"""``Batch.prepare`` runs nbgrader's generate_assignment only when something it reads changed (batch.py): the
release it made is kept in grading/<A>/release-cache.json, keyed by the source notebooks, nbgrader_config.py and
nbgrader's version, and used while the gradebook holds the assignment.  ``serve`` grades every batch through it."""

import json

import nbformat
import pytest
from test_workflow import A, add_sub, grade_here, grades, make_course

pytestmark = pytest.mark.slow


@pytest.fixture
def calls(monkeypatch):
    """The nbgrader subcommands batch.py runs."""
    from nnlib_grader import batch

    seen = []
    real = batch.run_nbgrader

    def spy(args, *a, **kw):
        seen.append(args[0])
        return real(args, *a, **kw)

    monkeypatch.setattr(batch, "run_nbgrader", spy)
    return seen


def test_release_is_made_once_and_again_only_when_its_inputs_change(tmp_path, calls):
    course = make_course(tmp_path)
    add_sub(course / "subs", "s1")
    grade_here(course)
    assert calls == ["generate_assignment"]
    cache = course / "grading" / A / "release-cache.json"
    assert json.loads(cache.read_text())["release"].keys() == {A}

    add_sub(course / "subs", "s2", kind="wrong")
    grade_here(course)
    assert calls == ["generate_assignment"], "nothing changed: the kept release is used"
    assert {s: r["score"] for s, r in grades(course).items()} == {"s1": "9", "s2": grades(course)["s2"]["score"]}
    assert float(grades(course)["s2"]["score"]) < 9

    # the source changes (an author edited a prompt): made again
    src = course / "solutions" / A / f"{A}.ipynb"
    nb = nbformat.read(str(src), as_version=4)
    nb.cells[0].source += "\n\nOne more sentence."
    nbformat.write(nb, str(src))
    grade_here(course, force=True)
    assert calls == ["generate_assignment"] * 2
    assert "One more sentence." in json.loads(cache.read_text())["release"][A]

    # the config changes: made again
    cfg = course / "nbgrader_config.py"
    cfg.write_text(cfg.read_text() + "\n# a comment\n")
    grade_here(course, force=True)
    assert calls == ["generate_assignment"] * 3


def test_a_gradebook_without_the_assignment_or_a_broken_cache_makes_it_again(tmp_path, calls):
    course = make_course(tmp_path)
    add_sub(course / "subs", "s1")
    grade_here(course)
    (course / "gradebook.db").unlink()  # a new gradebook: the assignment must be put into it again
    grade_here(course, force=True)
    assert calls == ["generate_assignment"] * 2
    cache = course / "grading" / A / "release-cache.json"
    cache.write_text(cache.read_text()[:100])  # half-written
    grade_here(course, force=True)
    assert calls == ["generate_assignment"] * 3
    assert grades(course)["s1"]["score"] == "9"
