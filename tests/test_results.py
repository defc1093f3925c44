"""Reports from data (issue 17 item 6): the per-student result record round-trips, the reports are rendered from
records, the class report's mistake line comes from the record, ``batch`` and ``report`` do not import each other,
and one atomic-write helper (nnlib.files) serves nnlib and the grader."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib.files import atomic_file, atomic_write
from nnlib_grader import results as R

ROOT = Path(__file__).resolve().parent.parent
GRADER = ROOT / "grader" / "nnlib_grader"

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
cells = st.dictionaries(st.tuples(names, names), st.fixed_dictionaries(
    {"kind": st.sampled_from(["auto", "manual"]), "passed": st.booleans(),
     "points": st.floats(0, 10, allow_nan=False), "max_points": st.floats(0, 10, allow_nan=False),
     "message": st.text(max_size=200)}), max_size=5)


@settings(max_examples=60, deadline=None)
@given(student=names, cells=cells, message=st.text(max_size=100), status=st.sampled_from(["ok", "error", "timeout"]))
def test_record_round_trips(student, cells, message, status):
    res = R.Result(student, "a01", 3.5, 9.0, status, message, cells, 1.25, "abc")
    back = R.Result.from_record(json.loads(json.dumps(res.to_record())))
    assert back == res


def test_reports_are_rendered_from_the_record(tmp_path):
    res = R.Result("ann", "a01", 2.0, 4.0, "ok", "", {
        ("nb", "test_a"): {"kind": "auto", "passed": True, "points": 2.0, "max_points": 2.0, "message": "fine"},
        ("nb", "test_b"): {"kind": "auto", "passed": False, "points": 0.0, "max_points": 2.0,
                           "message": "δ^L: forgot σ'(z^L)\n  in the last layer\n(test case: 2 layers)\nmore"},
        ("nb", "essay"): {"kind": "manual", "passed": False, "points": 0.0, "max_points": 1.0, "message": ""}})
    R.save(tmp_path, res)
    assert R.load(tmp_path, "ann") == res and R.load(tmp_path, "bob") is None
    md = (tmp_path / "reports" / "ann.md").read_text()
    assert "- nb / test_b  (0/2)" in md and "test_a" not in md and "essay" not in md
    assert R.first_line(res.cells[("nb", "test_b")]["message"]) == "δ^L: forgot σ'(z^L) in the last layer"
    R.write_summary(tmp_path, "a01", ["ann", "bob"])
    summary = (tmp_path / "report.md").read_text()
    assert "## ann — a01" in summary and "## bob\n(no report)" in summary
    (tmp_path / "results" / "ann.json").write_text("{not json")
    with pytest.raises(ValueError, match="ann.json: unreadable result record"):
        R.load(tmp_path, "ann")


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_batch_and_report_do_not_import_each_other():
    assert not {"nnlib_grader.report", "nnlib_grader.report.class_report"} & _imports(GRADER / "batch.py")
    assert not {m for m in _imports(GRADER / "report.py") if m.startswith("nnlib_grader.batch")}
    assert "last_batch" not in (GRADER / "batch.py").read_text() + (GRADER / "cli.py").read_text()


def test_one_atomic_write_helper_everywhere():
    for path in [*GRADER.glob("*.py"), *(ROOT / "nnlib").rglob("*.py")]:
        text = path.read_text()
        if path.name != "files.py":
            assert "mkstemp" not in text and "NamedTemporaryFile" not in text, f"{path}: an atomic write of its own"
    for user in (ROOT / "nnlib" / "train.py", ROOT / "nnlib" / "datasets.py", GRADER / "batch.py",
                 GRADER / "report.py", GRADER / "results.py"):
        assert "nnlib.files" in user.read_text(), user


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    p = tmp_path / "sub" / "f.txt"
    atomic_write(p, "one")
    assert p.read_text() == "one"
    with pytest.raises(RuntimeError), atomic_file(p, "w") as fh:
        fh.write("half")
        raise RuntimeError("disk full")
    assert p.read_text() == "one" and [x.name for x in p.parent.iterdir()] == ["f.txt"]
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w'"), atomic_file(p, "a"):
        pass
    with pytest.raises(TypeError, match="data must be str or bytes, not int"):
        atomic_write(p, 3)
