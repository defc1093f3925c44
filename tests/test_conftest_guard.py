"""conftest's guard: a test that leaves the process changed fails by name, and the next test finds it as it was."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

LEAKY = '''
import os, signal
import numpy as np

def test_a_sets_a_variable():
    os.environ["NNLIB_GUARD_PROBE"] = "1"

def test_b_sees_no_variable():
    assert "NNLIB_GUARD_PROBE" not in os.environ

def test_c_changes_directory(tmp_path):
    os.chdir(tmp_path)

def test_d_numpy_raises():
    np.seterr(all="raise")

def test_e_handler_and_alarm():
    signal.signal(signal.SIGUSR2, lambda *a: None)
    signal.setitimer(signal.ITIMER_REAL, 30)

def test_f_finds_everything_back():
    assert np.geterr()["over"] != "raise"
    assert signal.getsignal(signal.SIGUSR2) == signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0

def test_g_monkeypatch_is_fine(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLIB_GUARD_PROBE", "2")
    monkeypatch.chdir(tmp_path)
'''


def test_leaks_fail_by_name_and_are_put_back(tmp_path):
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                        "-p", "no:xdist", "-rE", str(tmp_path / "test_leaky.py")], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert "7 passed, 4 errors" in out, out[-3000:]
    sections = {part.split(" ", 1)[0]: part for part in out.split("ERROR at teardown of ")[1:]}
    assert sorted(sections) == ["test_a_sets_a_variable", "test_c_changes_directory", "test_d_numpy_raises",
                                "test_e_handler_and_alarm"], out[-3000:]
    for test, what in [("test_a_sets_a_variable", "environment variable NNLIB_GUARD_PROBE: None -> '1'"),
                       ("test_c_changes_directory", "working directory"),
                       ("test_d_numpy_raises", "numpy error handling"),
                       ("test_e_handler_and_alarm", "SIGUSR2 handler"),
                       ("test_e_handler_and_alarm", "timer: False -> True")]:
        assert what in sections[test], sections[test]
