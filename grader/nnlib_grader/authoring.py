"""Assignment sources: a MyST text notebook ``solutions/<a>/<a>.md`` → the nbgrader source ``<a>.ipynb``.

An assignment is authored as ONE MyST Markdown notebook (jupytext's ``md:myst`` format; JupyterLab with
jupytext opens it as a notebook). Each cell carries its nbgrader metadata:

* a markdown cell: a ``+++ {"nbgrader": {...}}`` line before it;
* a code cell: a YAML block right under its fence::

      ```{code-cell}
      ---
      nbgrader:
        grade: true
        grade_id: test_predict
        locked: true
        points: 3
        schema_version: 3
        solution: false
        task: false
      ---
      check_perceptron_predict(predict)
      ```

``notebook_from_myst`` reads it with jupytext (the maintained MyST ⇄ ipynb converter: the same parser JupyterLab
uses to open the file, so what the author sees is what nbgrader gets) and normalises the result so it is a
function of the text alone:

* every cell's ``id`` is its nbgrader ``grade_id``; a cell without nbgrader metadata gets ``cell-<index>``
  (index from 0 in the notebook);
* notebook metadata = the kernelspec ``python3`` + ``"language_info": {"name": "python"}`` (jupytext's header is
  dropped), nbformat 4.5, no outputs, no execution counts.

The checks an author needs before nbgrader sees the notebook (each error names the file and the cell): the file
is MyST; every nbgrader cell has the keys nbgrader's v3 schema requires and a ``grade_id`` (nbgrader's own
validator runs on each cell), no ``grade_id`` twice; a code solution cell holds ``### BEGIN SOLUTION`` /
``### END SOLUTION`` and a cell with ``### BEGIN HIDDEN TESTS`` closes it.

``sync_sources`` writes ``<a>.ipynb`` beside each ``<a>.md`` (atomically, and only when its bytes change), so
``python -m nnlib_grader release`` can call it first and nbgrader then reads up-to-date notebooks.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_MARKERS = (("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))


class AuthoringError(ValueError):
    """A source notebook nbgrader must not see: the message names the file and the cell."""


def _where(path: Path, index: int, cell) -> str:
    gid = (cell.metadata.get("nbgrader") or {}).get("grade_id")
    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")[:60]
    name = f"grade_id {gid!r}" if gid else f"first line {first!r}"
    return f"{path}: cell {index} ({cell.cell_type}, {name})"


def _check_cell(path: Path, index: int, cell) -> None:
    from nbgrader.nbgraderformat import ValidationError
    from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

    meta = cell.metadata.get("nbgrader")
    if meta is None:
        return
    where = _where(path, index, cell)
    if not isinstance(meta, dict):
        raise AuthoringError(f"{where}: nbgrader metadata must be a mapping, not {type(meta).__name__}")
    missing = [k for k in ("grade", "grade_id", "locked", "schema_version", "solution") if k not in meta]
    if missing:
        raise AuthoringError(f"{where}: nbgrader metadata lacks {', '.join(missing)}")
    try:
        MetadataValidatorV3().validate_cell(cell)
    except ValidationError as e:
        raise AuthoringError(f"{where}: {e}") from None
    if cell.cell_type == "code" and meta["solution"] and "### BEGIN SOLUTION" not in cell.source:
        raise AuthoringError(f"{where}: a solution cell needs its answer between ### BEGIN SOLUTION and "
                             "### END SOLUTION (the release replaces it by the stub)")
    for begin, end in _MARKERS:
        if cell.source.count(begin) != cell.source.count(end):
            raise AuthoringError(f"{where}: {begin!r} and {end!r} do not pair up")


def notebook_from_myst(md_path) -> nbformat.NotebookNode:
    """The nbgrader source notebook of the MyST notebook ``md_path`` (see the module docstring for the rules)."""
    import jupytext
    from jupytext.formats import guess_format

    path = Path(md_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise AuthoringError(f"{path}: cannot read the assignment source: {e}") from None
    fmt, _ = guess_format(text, ".md")
    if fmt != "myst":
        raise AuthoringError(f"{path}: not a MyST notebook (jupytext reads it as {fmt!r}): the source must be "
                             "jupytext's md:myst format, with code cells in ```{code-cell} fences")
    try:
        parsed = jupytext.reads(text, fmt="md:myst")
    except Exception as e:  # jupytext raises several types (yaml, MystMetadataParsingError, ...)
        raise AuthoringError(f"{path}: jupytext cannot read it as MyST: {e}") from None
    nb = nbformat.v4.new_notebook()
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    seen: dict[str, int] = {}
    for i, c in enumerate(parsed.cells):
        if c.cell_type not in ("markdown", "code"):
            raise AuthoringError(f"{_where(path, i, c)}: only markdown and code cells are allowed")
        new = nbformat.v4.new_markdown_cell if c.cell_type == "markdown" else nbformat.v4.new_code_cell
        cell = new(c.source, metadata=dict(c.metadata))
        _check_cell(path, i, cell)
        gid = (cell.metadata.get("nbgrader") or {}).get("grade_id")
        if gid:
            if gid in seen:
                raise AuthoringError(f"{_where(path, i, cell)}: grade_id {gid!r} is already the id of cell {seen[gid]}")
            if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", gid):
                raise AuthoringError(f"{_where(path, i, cell)}: a grade_id is 1-64 letters, digits, '_' or '-' "
                                     "(it becomes the cell's id)")
            seen[gid] = i
        cell.id = gid or f"cell-{i}"
        nb.cells.append(cell)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as e:
        raise AuthoringError(f"{path}: the notebook is not valid nbformat 4.5: {e.message}") from None
    taken = {c.id for c in nb.cells if not (c.metadata.get("nbgrader") or {}).get("grade_id")} & set(seen)
    if taken:
        raise AuthoringError(f"{path}: grade_id {sorted(taken)[0]!r} is the automatic id of another cell; rename it")
    return nb


def notebook_text(md_path) -> str:
    """The bytes ``sync_sources`` writes for ``md_path`` (nbformat's JSON and a final newline), as text."""
    return nbformat.writes(notebook_from_myst(md_path)) + "\n"


def sync_sources(course_or_solutions_dir, names: list[str] | None = None, out=None) -> list[Path]:
    """Write ``<a>/<a>.ipynb`` from ``<a>/<a>.md`` for each assignment folder; returns the notebooks written.

    ``course_or_solutions_dir`` is a course root (holding ``nbgrader_config.py``: its source directory is used)
    or the source directory itself. ``names`` limits it to those assignments (an assignment without a ``.md`` is
    left alone: its notebook is then its own source). A notebook whose bytes already match is not touched;
    every one is first converted (so one bad source writes nothing) and then replaced by a rename.
    """
    from nnlib.files import atomic_write

    root = Path(course_or_solutions_dir)
    if (root / "nbgrader_config.py").exists():
        from nnlib_grader.course import load_course

        root = load_course(root).source
    if not root.is_dir():
        raise AuthoringError(f"{root}: no such source directory")
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if names is None else [root / n for n in names]
    todo = []
    for folder in folders:
        if not folder.is_dir():
            raise AuthoringError(f"{folder}: no such assignment folder in {root}")
        md = folder / f"{folder.name}.md"
        if md.is_file():
            target = md.with_suffix(".ipynb")
            text = notebook_text(md)
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                todo.append((target, text))
    for target, text in todo:
        atomic_write(target, text)
        if out is not None:
            out(f"wrote {target.name} from {target.stem}.md")
    return [t for t, _ in todo]


def cell_source(md_path, grade_id: str) -> str:
    """The source of the cell whose nbgrader ``grade_id`` is ``grade_id`` (e.g. a reference answer for a test)."""
    nb = notebook_from_myst(md_path)
    for c in nb.cells:
        if (c.metadata.get("nbgrader") or {}).get("grade_id") == grade_id:
            return c.source
    raise AuthoringError(f"{md_path}: no cell has grade_id {grade_id!r}")
