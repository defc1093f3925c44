"""A catalogue of classic mistakes, alternative correct answers, one-call delegations and cheats.

One module per assignment (``a01_perceptron.py`` …) defines four lists of :class:`Entry`:

* ``MISTAKES``: a wrong answer cell (its full source) and the fragment its message must contain;
* ``ALTERNATIVES``: a different but correct answer cell that must keep full marks;
* ``DELEGATIONS``: an answer that hands the work to nnlib (or an autodiff library): 0, "does not allow";
* ``CHEATS``: an answer cell that tries to fool the grader (rebinding a check, patching NumPy, leaving
  early): it must gain nothing.

The harness runs an entry two ways: in process, through the notebook's own test cells (self-check mode,
the checks call the learner's function directly), and through the real grading pipeline
(``nnlib_grader.runner.grade_notebook``: the released notebook, every answer from the reference
except the entry's cell).  Used by tests/test_catalogue.py, tests/test_assignments.py and
bench/catalogue.py.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import linecache
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ["a01_perceptron", "a02_xor", "a03_gradient_descent", "a04_derivatives", "a05_backprop", "a06_sgd",
               "a07_cnn"]
ASSIGNMENTS += ["a09_autograd"]
ASSIGNMENTS += ["a10_layers"]
DELEGATION_FRAGMENTS = ("not allow", "not available", "carries only")  # what a refused delegation says
GENERIC = ("does not match", "is wrong", "relative error", "gives the wrong output", "does not compute",
           "raised ")


@dataclass
class Entry:
    cell: str                 # grade_id of the answer cell it replaces
    label: str                # short name of the mistake
    source: str               # the whole answer cell
    expect: str = ""          # fragment of the message (mistakes, delegations)
    pipeline: bool = False    # a mistake also graded through the real pipeline by default
    inprocess: bool = True    # self-check mode can judge it (False: only the sandboxed grader can)
    sandbox_only: bool = False  # blocked only by the sandbox's isolation (needs root)
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.cell}: {self.label}"


def E(  # noqa: N802 - reads like a table row
    cell: str, label: str, source: str, expect: str = "", **kw) -> Entry:
    return Entry(cell, label, source.strip("\n") + "\n", expect, **kw)


def load(assignment: str):
    return importlib.import_module(f"mistakes.{assignment}")


# ---------------------------------------------------------------- the notebooks


def _meta(cell) -> dict:
    return (cell.get("metadata") or {}).get("nbgrader") or {}


@dataclass
class Parts:
    source: object
    release: object
    setup: list[str]                  # locked code cells, in order
    answers: dict[str, str]           # grade_id -> reference source
    tests: dict[str, list[tuple[str, str, float]]]  # answer grade_id -> [(test grade_id, source, points)]


_PARTS: dict[str, Parts] = {}


def parts(assignment: str) -> Parts:
    if assignment in _PARTS:
        return _PARTS[assignment]
    from nnlib_grader import runner

    src = runner.read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    rel = runner.read_notebook(ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    setup, answers, tests, last = [], {}, {}, None
    for c in src.cells:
        m = _meta(c)
        if c.cell_type != "code" or not m:
            continue
        if m.get("solution"):
            last = m["grade_id"]
            answers[last] = c.source
            tests.setdefault(last, [])
        elif m.get("grade"):
            tests[last].append((m["grade_id"], c.source, float(m.get("points") or 0)))
        elif m.get("locked"):
            setup.append(c.source)
    _PARTS[assignment] = Parts(src, rel, setup, answers, tests)
    return _PARTS[assignment]


# ---------------------------------------------------------------- self-check mode (in process)


@dataclass
class Verdict:
    cells: dict[str, tuple[float, float, str]]  # test grade_id -> (points, max, message)

    @property
    def failed(self) -> list[str]:
        return [m for p, mx, m in self.cells.values() if p < mx]

    @property
    def rejected(self) -> bool:
        return bool(self.failed)

    @property
    def full(self) -> bool:
        return not self.failed

    def first(self) -> str:
        return self.failed[0] if self.failed else ""

    def named(self, fragment: str) -> bool:
        return is_specific(self.first(), fragment)


def run_inprocess(assignment: str, entry: Entry | None) -> Verdict:
    """Run the setup, the answers (the entry's cell replaced) and the entry cell's test cells here."""
    import numpy as np

    p = parts(assignment)
    ns: dict = {"__name__": "__main__"}
    out = io.StringIO()
    old_err = np.geterr()
    verdict: dict[str, tuple[float, float, str]] = {}
    cell = entry.cell if entry else None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        for s in p.setup:
            exec(compile(s, "<setup>", "exec"), ns)  # noqa: S102
        cell_error = None
        for gid, s in p.answers.items():
            code = entry.source if gid == cell else s
            name = f"<answer {gid}>"
            linecache.cache[name] = (len(code), None, code.splitlines(True), name)  # as IPython does for a cell
            try:
                exec(compile(code, name, "exec"), ns)  # noqa: S102
            except Exception as exc:  # noqa: BLE001 - the learner's cell raised
                if gid == cell:
                    cell_error = exc
        np.seterr(**old_err)
        for gid, s, pts in (p.tests[cell] if cell else [t for ts in p.tests.values() for t in ts]):
            buf = io.StringIO()
            try:
                with contextlib.redirect_stdout(buf):
                    exec(compile(s, f"<test {gid}>", "exec"), dict(ns))  # noqa: S102
                verdict[gid] = (pts, pts, buf.getvalue().strip())
            except AssertionError as exc:
                verdict[gid] = (0.0, pts, str(exc))
            except Exception as exc:  # noqa: BLE001 - a check that crashes is a bug of the check
                verdict[gid] = (0.0, pts, f"CHECK CRASHED {type(exc).__name__}: {exc}"
                                + (f" (cell raised {cell_error!r})" if cell_error else ""))
    return Verdict(verdict)


# ---------------------------------------------------------------- the real pipeline


def submission(assignment: str, replace: dict[str, str]):
    """The released notebook with every answer from the reference, except ``replace`` {grade_id: source}."""
    import copy

    p = parts(assignment)
    nb = copy.deepcopy(p.release)
    for c in nb.cells:
        gid = _meta(c).get("grade_id")
        if gid in p.answers:
            c.source = replace.get(gid, p.answers[gid])
    return nb


def blank(assignment: str):
    import copy

    return copy.deepcopy(parts(assignment).release)


def grade(assignment: str, nb, sandbox_on: bool | None = None):
    """Grade ``nb`` through nnlib_grader.runner.grade_notebook; {test grade_id: (points, max, message)}."""
    from nnlib_grader import runner

    p = parts(assignment)
    if sandbox_on is None:
        sandbox_on = os.geteuid() == 0
    with tempfile.TemporaryDirectory(prefix="nnlib-cat-") as tmp:
        os.chmod(tmp, 0o700)
        r = runner.grade_notebook(p.source, p.release, nb, assignment, assignment, sandbox_on=sandbox_on,
                                  scratch=tmp)
    return {c.grade_id: (c.points, c.max_points, c.message) for c in r.cells if c.kind == "test"}


def groups(entries: list[Entry], depends: dict[str, list[str]] | None = None) -> list[list[Entry]]:
    """Pack entries into submissions: one entry per answer cell, never a cell together with one it uses."""
    depends = depends or {}
    out: list[list[Entry]] = []
    for e in entries:
        for g in out:
            cells = {x.cell for x in g}
            if e.cell in cells:
                continue
            if any(d in cells for d in depends.get(e.cell, [])) or any(e.cell in depends.get(c, []) for c in cells):
                continue
            g.append(e)
            break
        else:
            out.append([e])
    return out


def grade_group(assignment: str, group: list[Entry]) -> dict[str, Verdict]:
    """Grade one submission carrying every entry of ``group``; a Verdict per entry label."""
    res = grade(assignment, submission(assignment, {e.cell: e.source for e in group}))
    p = parts(assignment)
    return {e.key: Verdict({gid: res[gid] for gid, _, _ in p.tests[e.cell]}) for e in group}


def refused(message: str) -> bool:
    """The message says the answer used something the exercise does not allow."""
    return any(is_specific(message, f) for f in DELEGATION_FRAGMENTS)


def is_specific(message: str, fragment: str) -> bool:
    """The message names the mistake: it contains the expected fragment."""
    def norm(t: str) -> str:
        return " ".join(t.lower().split())

    return bool(fragment) and norm(fragment) in norm(message)


def first_lines_ok(message: str, width: int = 88) -> list[str]:
    """Lines longer than ``width`` and traceback-like lines in a message (should be none)."""
    bad = [ln for ln in message.split("\n") if len(ln) > width]
    bad += [ln for ln in message.split("\n") if re.search(r"Traceback|File \".*nnlib/grading", ln)]
    return bad


# ---------------------------------------------------------------- cheats shared by every assignment


def cheats(cell: str, check: str, wrong: str, full: bool = False, delegation: str | None = None) -> list[Entry]:
    """Answer cells that carry the wrong answer ``wrong`` and try to pass anyway.

    ``check``: the name of the check the cell's test calls.  ``full``: every trick, else the two rebindings.
    ``delegation``: an answer cell that calls nnlib's implementation; with ``full`` it is also tried after
    removing the grading worker's import shim (blocked only because the sandbox holds no nnlib source).
    """
    wrong = wrong.strip("\n") + "\n"
    out = [
        E(cell, f"{cell}: rebinds {check} and require", wrong + f"{check} = lambda *a, **k: print('✓ looks correct')\n"
          "require = lambda *a, **k: None\n"),
        E(cell, f"{cell}: patches nnlib.grading", wrong + "import nnlib.grading as _g\nimport nnlib\n"
          f"_g.{check} = lambda *a, **k: None\nnnlib.grading = _g\n"
          "_g.GradingError = type('GradingError', (Exception,), {})\n"),
    ]
    if full:
        out += [
            E(cell, f"{cell}: patches NumPy's comparisons and print", wrong + "import builtins\n"
              "np.allclose = np.array_equal = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
              "builtins.print = lambda *a, **k: None\n"),
            E(cell, f"{cell}: wraps the check to swallow its failure", wrong +
              f"_orig = {check}\n\n\ndef {check}(*a, **k):\n    try:\n        _orig(*a, **k)\n"
              "    except BaseException:\n        print('✓ looks correct')\n"),
            E(cell, f"{cell}: leaves the kernel early (SystemExit)", wrong + "raise SystemExit(0)\n"),
            E(cell, f"{cell}: the function exits the process when called",
              re.sub(r"(def \w+\([^)]*\):\n)", r"\1    import os\n    os._exit(0)\n", wrong, count=1)),
            E(cell, f"{cell}: the function raises KeyboardInterrupt when called",
              re.sub(r"(def \w+\([^)]*\):\n)", r"\1    raise KeyboardInterrupt\n", wrong, count=1)),
            E(cell, f"{cell}: runs the solution cell of a source notebook found on disk", wrong +
              "import glob as _glob, json as _json, os as _os\n_found = []\n"
              "for _base in (_os.getcwd(), '/work', '/tmp', '/root', '/home'):\n"
              "    for _pat in ('*/solutions/*/*.ipynb', 'solutions/*/*.ipynb', '*/*/solutions/*/*.ipynb'):\n"
              "        _found += _glob.glob(_os.path.join(_base, _pat))\n"
              "for _f in _found:\n"
              "    for _c in _json.load(open(_f))['cells']:\n"
              f"        if _c.get('metadata', {{}}).get('nbgrader', {{}}).get('grade_id') == {cell!r}:\n"
              "            exec(''.join(_c['source']))\n", sandbox_only=True),
        ]
        if delegation:
            out.append(E(cell, f"{cell}: removes the worker's import shim and imports the real nnlib",
                         "import sys as _sys\n"
                         "_sys.meta_path[:] = [f for f in _sys.meta_path if 'Finder' not in type(f).__name__\n"
                         "                     or 'importlib' in type(f).__module__]\n"
                         "for _k in [k for k in _sys.modules if k == 'nnlib' or k.startswith('nnlib.')]:\n"
                         "    del _sys.modules[_k]\n" + delegation.strip("\n") + "\n", sandbox_only=True))
    for e in out:
        e.inprocess = False  # the learner's own kernel can always fool its own self-check
    return out
