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
                   "08_cnn", "09_mnist", "10_autoencoders", "11_frameworks_residual", "12_recurrent"]:
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


def _instrument(nb):
    """The lecture with the figure hook before it, a cell-number marker before each code cell, the report after."""
    cells = [nbformat.v4.new_code_cell(FIGURE_HOOK)]
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(f"_nnlib_cell[0] = 'cell {i}'"))
        cells.append(c)
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


@pytest.mark.slow
@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_notebook_executes(path, monkeypatch, tmp_path):
    monkeypatch.setenv("NNLIB_QUICK", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel uses the inline backend, as for a learner
    monkeypatch.delenv("NNLIB_DATA", raising=False)  # CI has no MNIST: notebooks must fall back
    monkeypatch.delenv("KERAS_BACKEND", raising=False)  # lecture 11 chooses Keras' backend (PyTorch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    nb = _instrument(nbformat.read(path, as_version=4))
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
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
    warnings = re.findall(r"\w*Warning: .*", "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                                                   for o in c.get("outputs", []) if o.get("name") == "stderr"))
    assert len(warnings) == len(set(warnings)), f"{path.name}: a warning is repeated: {warnings}"


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
