"""The grader's own memory ceiling (grader/nnlib_grader/limits.py, ``grade --grader-memory-mb``): an allocation
past it is a MemoryError in the grader, the limit is never raised, and the CLI refuses limits that cannot work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from nnlib_grader import limits
from nnlib_grader.cli import main as cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA counts mmap on Linux")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=os.environ)


def test_an_allocation_past_the_limit_is_a_memory_error():
    out = _run("from nnlib_grader import limits\n"
               "import numpy as np\n"
               "assert limits.limit_memory(300) == 300 * 2**20\n"
               "small = bytearray(50 * 2**20)\n"
               "for make in (lambda: bytearray(600 * 2**20), lambda: np.ones(80_000_000)):\n"
               "    try:\n"
               "        make()\n"
               "        print('ALLOCATED')\n"
               "    except MemoryError:\n"
               "        print('MemoryError')\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["MemoryError", "MemoryError"]


def test_the_limit_is_only_ever_lowered():
    out = _run("import resource\nfrom nnlib_grader import limits\n"
               "resource.setrlimit(resource.RLIMIT_DATA, (200 * 2**20, resource.RLIM_INFINITY))\n"
               "print(limits.limit_memory(4096), limits.limit_memory(0), limits.limit_memory(100))\n")
    assert out.stdout.split() == [str(200 * 2**20), str(200 * 2**20), str(100 * 2**20)], out.stderr
    with pytest.raises(ValueError, match="whole number of MiB"):
        limits.limit_memory(-1)


def test_the_cli_refuses_a_grader_limit_below_one_job(capsys):
    args = ["grade", "--assignment", "a", "--submissions", "nowhere", "--memory-mb", "2048"]
    assert cli(args + ["--grader-memory-mb", "1024"]) == 2
    err = capsys.readouterr().err
    assert "--grader-memory-mb 1024 is below --memory-mb 2048" in err
    assert cli(args + ["--grader-memory-mb", "-5"]) == 2
    assert "must be ≥ 0" in capsys.readouterr().err


@pytest.mark.parametrize("mb, said", [(512, "512 MiB"), (0, "none")])
def test_python_m_nnlib_grader_grade_sets_its_limit_first(tmp_path, mb, said):
    out = subprocess.run([sys.executable, "-m", "nnlib_grader", "grade", "--course", str(tmp_path), "--assignment",
                          "a", "--submissions", str(tmp_path), "--memory-mb", "40", "--grader-memory-mb", str(mb)],
                         capture_output=True, text=True, timeout=300, env=os.environ)
    assert f"the grader's own memory limit: {said}" in out.stdout, out.stdout + out.stderr[-2000:]
    assert "no source assignment" in out.stdout + out.stderr  # then the batch starts (and finds no course here)
