"""Every lecture notebook executes top to bottom (NNLIB_QUICK=1), and committed notebooks carry no outputs.

Decision: notebooks are committed *without* outputs — small diffs, no stale figures, learners run
them. CI executes them here; the full-run figures quoted in the text come from bench/.

Each execution also checks every figure the lecture shows: a cell injected before the lecture wraps
matplotlib's ``print_figure`` (every inline figure, every widget redraw passes through it) with
``nnlib.notebook.figure_problems``, and a cell injected after it reports the axes that drew no data
(and figures left open undrawn). A figure with empty axes fails the test, not just an exception.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
COURSE = sorted((ROOT / "course").glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted((ROOT / "solutions").glob("a*/*.ipynb"))


def test_course_has_the_lectures_in_order():
    names = [p.stem for p in COURSE]
    for prefix in ["01_perceptron", "02_xor", "03_gradient", "04_chain", "05_backprop", "06_sgd", "07_optimisers",
                   "08_cnn", "09_mnist", "10_autoencoders", "11_frameworks_residual", "12_recurrent",
                   "13_autograd"]:
        assert any(n.startswith(prefix) for n in names), f"missing lecture notebook {prefix}*"


@pytest.mark.parametrize("path", COURSE + SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"


FIGURE_HOOK = """
import matplotlib.backend_bases as _nnlib_bb
from nnlib.notebook import figure_problems as _nnlib_fp
_NNLIB_EMPTY, _NNLIB_SEEN, _nnlib_print_figure = [], [0], _nnlib_bb.FigureCanvasBase.print_figure
def _nnlib_checked(self, *args, **kwargs):
    _NNLIB_SEEN[0] += 1
    _NNLIB_EMPTY.extend(f"{_nnlib_cell[0]}: {p}" for p in _nnlib_fp(self.figure))
    return _nnlib_print_figure(self, *args, **kwargs)
_nnlib_bb.FigureCanvasBase.print_figure = _nnlib_checked
_nnlib_cell = ["?"]
"""
FIGURE_REPORT = """
import json as _nnlib_json
from nnlib.notebook import empty_figures as _nnlib_open
print("NNLIB_FIGURES " + _nnlib_json.dumps([_NNLIB_SEEN[0], sorted(set(_NNLIB_EMPTY)) + _nnlib_open()]))
"""


ANSWER = re.compile(r"<details><summary>Answer</summary>(.*?)</details>", re.S)
ANSWER_CODE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def answer_code(nb) -> list[tuple[int, str]]:
    """``(cell number, code)`` of every ```python block inside an exercise's or Try-it's collapsed answer."""
    return [(i, code) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
            for block in ANSWER.findall(c.source) for code in ANSWER_CODE.findall(block)]


def _instrument(nb):
    """The lecture with the figure hook before it, a cell-number marker before each code cell, then the code of
    its answers (in the same kernel, after the lecture, as a learner would run them), the report after."""
    answers = answer_code(nb)
    cells = [nbformat.v4.new_code_cell(FIGURE_HOOK)]
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(f"_nnlib_cell[0] = 'cell {i}'"))
        cells.append(c)
    for i, code in answers:
        cells.append(nbformat.v4.new_code_cell(f"_nnlib_cell[0] = 'answer in cell {i}'"))
        cells.append(nbformat.v4.new_code_cell(code))
    cells.append(nbformat.v4.new_code_cell(FIGURE_REPORT))
    nb.cells = cells
    return nb


def _figure_report(nb) -> list[str]:
    text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []))
    m = re.search(r"NNLIB_FIGURES (.*)", text)
    assert m, f"the figure report cell printed nothing: {text!r}"
    seen, empty = json.loads(m.group(1))
    assert seen > 0, "the figure hook saw no figure: the check would be vacuous"
    return empty


# lecture → (packages, what the cells print when they ran): a cell that skips for a missing package must not skip
# where the packages are installed
RAN_WHEN_INSTALLED = {"11_frameworks_residual.ipynb": [(("torch",), "PyTorch: test accuracy"),
                                                      (("torch",), "against autograd"),
                                                      (("keras", "torch"), "Keras 3 on torch: test accuracy")]}


def _mnist_folder() -> Path | None:
    """A data folder holding MNIST for the MNIST-present runs: ``$NNLIB_TEST_MNIST_DATA``, else the one the
    user's ``NNLIB_DATA`` (or the default ``~/.cache/nnlib``) names, when its ``mnist/`` has the four files."""
    import os

    from nnlib import datasets

    for folder in (os.environ.get("NNLIB_TEST_MNIST_DATA"), os.environ.get("NNLIB_DATA"), datasets.data_home()):
        if folder and len(list((Path(folder) / "mnist").glob("*-ubyte.gz"))) == 4:
            return Path(folder)
    return None


@pytest.mark.slow
@pytest.mark.parametrize("mnist", ["absent", "present"])
@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_notebook_executes(path, mnist, monkeypatch, tmp_path):
    """Each lecture, then the code of its answers, with MNIST absent (CI) and present (when a folder has it);
    ``NNLIB_STRICT_CLAIMS=1`` turns a claim of the text that does not hold in the run into an error."""
    folder = _mnist_folder() if mnist == "present" else None
    if mnist == "present" and folder is None:
        pytest.skip("no MNIST here: set NNLIB_TEST_MNIST_DATA to a folder whose mnist/ holds the four files")
    monkeypatch.setenv("NNLIB_QUICK", "1")
    monkeypatch.setenv("NNLIB_STRICT_CLAIMS", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel uses the inline backend, as for a learner
    monkeypatch.delenv("KERAS_BACKEND", raising=False)  # lecture 11 chooses Keras' backend (PyTorch)
    if folder is None:
        monkeypatch.delenv("NNLIB_DATA", raising=False)  # CI has no MNIST: notebooks must fall back
    else:
        monkeypatch.setenv("NNLIB_DATA", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    nb = _instrument(nbformat.read(path, as_version=4))
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except Exception as exc:  # nbclient stops at the first error: name the lecture's cell (or answer) it came from
        markers = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith("_nnlib_cell[0]")
                   and c.get("outputs") is not None and c.get("execution_count") is not None]
        where = markers[-1] if markers else "start"
        raise AssertionError(f"{path.name} (MNIST {mnist}), after {where}: {exc}") from exc
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.get("outputs", []))
    assert images > 0, f"{path.name}: no figure was produced"
    empty = _figure_report(nb)
    assert not empty, f"{path.name}: figures with axes that draw no data (cell numbers of the lecture): {empty}"
    text = "".join(o.get("text", "") + json.dumps(o.get("data", {})) for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "TODO(lead)" not in text, f"{path.name}: a TODO(lead) placeholder reached the learner"
    for modules, expected in RAN_WHEN_INSTALLED.get(path.name, []):  # where the packages are installed (CI: the
        if all(importlib.util.find_spec(m) for m in modules):        # frameworks extra), their cells ran
            assert expected in text, f"{path.name}: {modules} installed, but the output lacks {expected!r}"
    assert "a claim of the text does not hold" not in text, f"{path.name}: a failed claim was only printed"
    warnings = re.findall(r"\w*Warning: .*", "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                                                   for o in c.get("outputs", []) if o.get("name") == "stderr"))
    assert len(warnings) == len(set(warnings)), f"{path.name}: a warning is repeated: {warnings}"


def test_answer_code_is_collected():
    """The answers' code blocks are found (and only inside answers): the lectures' answers really run."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("```python\nnot_an_answer()\n```"),
        nbformat.v4.new_markdown_cell("Q?\n\n<details><summary>Answer</summary>\n\nText.\n\n```python\nx = 1\n```\n"
                                      "\n```python\ny = x + 1\n```\n</details>")])
    assert answer_code(nb) == [(1, "x = 1\n"), (1, "y = x + 1\n")]
    lectures = [nbformat.read(p, as_version=4) for p in COURSE]
    assert sum(len(answer_code(nb)) for nb in lectures) >= 5, "the lectures' answers carry no runnable code"


def test_a_failed_claim_is_silent_printed_or_raised(monkeypatch, capsys):
    from nnlib.claims import ClaimFailedError, claim

    monkeypatch.delenv("NNLIB_STRICT_CLAIMS", raising=False)
    assert claim(1 < 2, "one is less than two") is True
    assert capsys.readouterr() == ("", "")
    assert claim(0.497 > 0.69, "five sigmoid layers reached 69 %", accuracy=0.497) is False
    err = capsys.readouterr().err
    assert "five sigmoid layers reached 69 %" in err and "accuracy = 0.497" in err
    monkeypatch.setenv("NNLIB_STRICT_CLAIMS", "1")
    with pytest.raises(ClaimFailedError, match="69 %"):
        claim(False, "five sigmoid layers reached 69 %")


CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # every C0 control but the newline, and DEL


@pytest.mark.parametrize("path", sorted((ROOT / "course").glob("*.md")) + COURSE, ids=lambda p: p.name)
def test_no_control_characters_in_the_lecture_sources(path):
    """A TAB or other control character (say ``\\t`` of ``\\tfrac`` turned into a TAB) shows as garbage: none."""
    texts = [path.read_text()] if path.suffix == ".md" else [
        c.source for c in nbformat.read(path, as_version=4).cells]
    bad = [(n, repr(line)[:80]) for t in texts for n, line in enumerate(t.split("\n"), 1) if CONTROL.search(line)]
    assert not bad, f"{path.name}: control characters in {bad}"


def test_the_control_character_check_can_fail():
    macro = r"$\tfrac12$, $\text{NAND}$"
    assert CONTROL.search(macro) is None and CONTROL.search(macro.replace("\\t", "\t"))


def test_figure_check_sees_an_empty_axes():
    """The check the notebook test runs: an empty axes (the old history-schema bug) is reported."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nnlib.notebook import figure_problems

    fig, (a, b, c) = plt.subplots(1, 3)
    a.plot([1, 2], [3, 4])
    b.set_title("learning curve")
    c.axis("off")
    assert figure_problems(fig) == ["axes 1 'learning curve': no data drawn"]
    plt.close(fig)


def test_no_todo_or_unreachable_reference_in_the_lectures():
    bad = re.compile(r"TODO\(lead\)|\.\./shared|/work/shared|deck 00\d|summer-school slides", re.I)
    texts = [*COURSE, *sorted((ROOT / "course").glob("*.md")), ROOT / "README.md", *sorted(ROOT.glob("docs/*.md")),
             *sorted(ROOT.glob("bench/*.py")), ROOT / "bench" / "README.md"]
    for p in texts:
        hits = sorted(set(bad.findall(p.read_text())))
        assert not hits, f"{p.relative_to(ROOT)}: {hits}"
