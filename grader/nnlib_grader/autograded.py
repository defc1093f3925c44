"""The autograded notebook an instructor opens in the formgrader and the learner reads as feedback.

Built by the grader from data, never executed: locked cells and test cells come from the source / release
(hidden tests stay hidden), answer cells carry the learner's code with the text output the worker captured,
and each test cell shows the message the trusted check produced.  The learner's markdown and raw cells are
rendered to HTML and cleaned by an allow-list sanitiser (``learner_html``: no script, no event handler, no URL
outside http/https/mailto), their own outputs are dropped (only the text the worker captured is shown, as text),
their cell metadata is replaced.
"""

from __future__ import annotations

import copy
from typing import Any

import nbformat

from nnlib_grader.learner_html import markdown_cell_source, text_cell_source
from nnlib_grader.runner import NotebookResult, _meta, _src, is_test


def _stream(text: str) -> Any:
    return nbformat.v4.new_output("stream", name="stdout", text=text if text.endswith("\n") else text + "\n")


def build(source: Any, release: Any, submitted: Any, result: NotebookResult) -> Any:
    """The autograded notebook for one learner (see the module doc)."""
    src = {_meta(c).get("grade_id"): c for c in source.cells if _meta(c).get("grade_id")}
    rel = {_meta(c).get("grade_id"): c for c in release.cells if _meta(c).get("grade_id")}
    results = {c.grade_id: c for c in result.cells}
    out = nbformat.v4.new_notebook()
    out.metadata = copy.deepcopy(source.metadata)
    used: set[str] = set()

    def test_cell(gid: str) -> Any:
        cell = copy.deepcopy(rel.get(gid) or src[gid])
        cell.outputs, cell.execution_count = [], None
        r = results.get(gid)
        if r is not None:
            if r.passed:
                cell.outputs.append(_stream(r.message))
            else:
                cell.outputs.append(nbformat.v4.new_output("error", ename="Failed", evalue=r.message.split("\n")[0],
                                                           traceback=r.message.split("\n")))
        return cell

    for c in submitted.cells:
        gid = _meta(c).get("grade_id")
        if gid in used:
            continue
        if gid in src:
            used.add(gid)
            s = src[gid]
            if is_test(s):
                out.cells.append(test_cell(gid))
            elif _meta(s).get("solution"):
                cell = copy.deepcopy(s)
                text = _src(c)
                cell.source = text if s.cell_type == "code" else markdown_cell_source(text)
                cell.outputs, cell.execution_count = ([], None) if s.cell_type == "code" else (None, None)
                if s.cell_type == "code":
                    shown = result.answer_outputs.get(gid, "")
                    if shown:
                        cell.outputs.append(_stream(shown))
                    err = result.answer_errors.get(gid)
                    if err:
                        cell.outputs.append(nbformat.v4.new_output(
                            "error", ename=str(err.get("type", "Error"))[:80], evalue=str(err.get("message", ""))[:500],
                            traceback=[f"{err.get('type')}: {err.get('message')}"[:1000]]))
                else:
                    del cell["outputs"]
                    del cell["execution_count"]
                out.cells.append(cell)
            else:
                cell = copy.deepcopy(rel.get(gid) or s)
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
                out.cells.append(cell)
        else:  # a cell of the learner's own (or a demo cell): their text, no outputs, no metadata
            if c.get("cell_type") == "markdown":
                out.cells.append(nbformat.v4.new_markdown_cell(markdown_cell_source(_src(c))))
            elif c.get("cell_type") == "code":
                out.cells.append(nbformat.v4.new_code_cell(_src(c)))
            else:
                out.cells.append(nbformat.v4.new_markdown_cell(text_cell_source(_src(c))))
    for gid, s in src.items():  # cells the learner deleted: locked ones and tests come back
        if gid in used:
            continue
        if is_test(s):
            out.cells.append(test_cell(gid))
        elif _meta(s).get("locked") or _meta(s).get("solution"):
            cell = copy.deepcopy(rel.get(gid) or s)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            out.cells.append(cell)
    for cell in out.cells:
        cell.pop("id", None)
        cell.pop("attachments", None)  # learner attachments could carry anything
    out.nbformat, out.nbformat_minor = 4, 4  # no cell ids: nbgrader's tools accept 4.4
    return out
