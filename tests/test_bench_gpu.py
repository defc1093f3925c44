"""``python bench/gpu.py`` — the GPU check — on a machine without a GPU: it says so and exits 0; its dry run
(everything on the CPU: the gpu tests on the strict backend, the timing on NumPy) passes and prints the table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GPU_PY = ROOT / "bench" / "gpu.py"
RESULTS = ROOT / "bench" / "RESULTS-gpu.md"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    e = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **env)
    return subprocess.run([sys.executable, str(GPU_PY), *args], cwd=ROOT, env=e, capture_output=True, text=True,
                          timeout=300)


def test_without_a_gpu_it_says_so_and_exits_0():
    before = RESULTS.stat().st_mtime if RESULTS.exists() else None
    p = _run(CUDA_VISIBLE_DEVICES="")  # no GPU visible, even on a machine that has one
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("No working GPU here (") and "Nothing to run" in p.stdout, p.stdout
    assert (RESULTS.stat().st_mtime if RESULTS.exists() else None) == before  # no figures written


@pytest.mark.slow  # ~35–60 s: the whole GPU check on the CPU
def test_dry_run_runs_the_gpu_tests_and_prints_one_table(tmp_path):
    out = tmp_path / "gpu.md"
    p = _run("--dry-run", "--no-notebook", "--out", str(out))
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    m = re.search(r"Tests marked gpu \(tests/test_gpu.py\): \*\*(\d+) passed, 1 deselected", p.stdout)
    assert m and int(m.group(1)) >= 20, p.stdout  # the gradient checks and CNN steps ran (on strict) and passed
    assert "failed" not in p.stdout and "skipped" not in p.stdout
    rows = [ln for ln in p.stdout.splitlines() if ln.startswith(("| 2. MLP", "| 3. CNN"))]
    assert len(rows) == 2, p.stdout
    for row in rows:
        seconds = float(row.split("|")[2])
        assert 0 < seconds < 1e4
    assert out.read_text().startswith("# nnlib on the GPU (DRY RUN")
