"""A scratch course with a02_xor released into an nbgrader exchange, for test_serve.py and test_hub.py.

``release(site, env)`` builds ``site/course`` — a02's source (solutions/) and student release (exercises/) and
the repository's nbgrader_config.py — and ``site/exchange`` (mode 1777, as hub/jupyterhub_config.py creates it),
then runs ``nbgrader release_assignment`` in the course, as the instructor would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
A = "a02_xor"


def course_env(**extra: str) -> dict[str, str]:
    """This process's environment with the repository and grader/ importable, BLAS on one thread, and ``extra``."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "grader")]),
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **extra}


def nbgrader(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """``python -m nbgrader *args`` in ``cwd``; its output, or an AssertionError carrying it when it fails."""
    p = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=str(cwd), env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout + p.stderr


def release(site: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """(course, exchange) under ``site``, a02 released from the course into the exchange."""
    course, exchange = site / "course", site / "exchange"
    (course / "exercises").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / A, course / "solutions" / A)
    shutil.copytree(ROOT / "exercises" / A, course / "exercises" / A)
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    exchange.mkdir(mode=0o1777)
    nbgrader(["release_assignment", A, f"--Exchange.root={exchange}"], course, env)
    return course, exchange
