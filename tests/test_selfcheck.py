"""The learner's view: the release notebooks run in a real Jupyter kernel, as in JupyterLab.

Solutions filled in: every test cell prints ✓.  A wrong answer: the failing test cell's error output is the
check's message and nothing else — no traceback through nnlib.grading — with lines that fit nbgrader's
Validate dialog.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _meta(c):
    return c.get("metadata", {}).get("nbgrader", {})


def _run(nb, path: Path):
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def _with_answers(assignment: str, replace: dict[str, str] | None = None):
    src = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    rel = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = {_meta(c).get("grade_id"): re.sub(r"\n *### (BEGIN|END) SOLUTION", "", c.source)
               for c in src.cells if _meta(c).get("solution")}
    answers.update(replace or {})
    for c in rel.cells:
        gid = _meta(c).get("grade_id")
        if gid in answers:
            c.source = answers[gid]
    return rel


@pytest.mark.parametrize("assignment", ["a01_perceptron", "a05_backprop", "a07_cnn", "a09_autograd"])
def test_filled_release_passes_every_check_in_a_kernel(assignment):
    path = ROOT / "exercises" / assignment / f"{assignment}.ipynb"
    nb = _run(_with_answers(assignment), path)
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        errors = [o for o in c.outputs if o.output_type == "error"]
        assert not errors, (c.source[:80], errors)
        if _meta(c).get("grade") and re.sub(r"#.*", "", c.source).strip():
            text = "".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
            assert "✓" in text, (c.source, text)


def test_a_failed_check_shows_its_message_first():
    bad = ("def backprop(net, x, y):\n    nb, nw = [None] * len(net.biases), [None] * len(net.weights)\n"
           "    a, acts, zs = x, [x], []\n    for b, w in zip(net.biases, net.weights):\n"
           "        z = w @ a + b\n        zs.append(z)\n        a = sigmoid(z)\n        acts.append(a)\n"
           "    delta = acts[-1] - y\n    nb[-1], nw[-1] = delta.sum(axis=1, keepdims=True), delta @ acts[-2].T\n"
           "    for l in range(2, net.num_layers):\n"
           "        delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])\n"
           "        nb[-l], nw[-l] = delta.sum(axis=1, keepdims=True), delta @ acts[-l - 1].T\n"
           "    return nb, nw\n")
    path = ROOT / "exercises" / "a05_backprop" / "a05_backprop.ipynb"
    nb = _run(_with_answers("a05_backprop", {"backprop": bad}), path)
    cell = next(c for c in nb.cells if _meta(c).get("grade_id") == "test_backprop")
    errs = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errs) == 1, cell.outputs
    err = errs[0]
    shown = "\n".join(err["traceback"])
    assert err["ename"] == "GradingError"
    assert shown.startswith("GradingError: ") and "σ'(z^L)" in shown
    assert "nnlib/grading" not in shown and "Traceback" not in shown
    assert max(len(line) for line in shown.splitlines()) <= 100
