"""pyproject.toml and environment.yml list the same packages; README and CI agree on the test command."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _norm(spec: str) -> tuple[str, str]:
    spec = spec.replace(" ", "")
    m = re.match(r"^([A-Za-z0-9_.\-]+)(.*)$", spec)
    name, rest = m.group(1).lower().replace("_", "-"), m.group(2)
    if re.match(r"^=[^=]", rest):  # conda's single '=' pin
        rest = "=" + rest
    return name, ",".join(sorted(rest.split(","))) if rest else ""


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = project["dependencies"] + extras["course"] + extras["dev"] + extras["frameworks"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += [p for p in dep["pip"] if not p.startswith("-e")]
        elif not dep.startswith(("python", "pip")):
            conda.append(dep)
    assert sorted(map(_norm, conda + pip)) == sorted(map(_norm, wanted))


def test_ci_installs_the_frameworks_extra():
    """Lecture 11's PyTorch and Keras cells and the torch cross-checks run in CI, not skipped: run.sh test installs
    the frameworks extra, which names both."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {_norm(d)[0] for d in extras["frameworks"]} == {"torch", "keras"}
    run_sh = (ROOT / "run.sh").read_text()
    test_mode = run_sh[run_sh.index("\n  test)"):]
    test_mode = test_mode[:test_mode.index(";;")]
    assert 'pip_install -e ".[course,dev,frameworks]"' in test_mode


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash run.sh lab" in readme and "bash run.sh test" in readme
    assert "bash run.sh test" in ci


def _found(root: Path) -> set[str]:
    from setuptools import find_namespace_packages

    tool = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    cfg = tool["packages"]["find"]
    assert cfg.get("namespaces", True)  # pyproject's find discovers namespace packages (nnlib.data) by default
    return set(find_namespace_packages(where=str(root), include=cfg["include"]))


def test_every_nnlib_subpackage_is_installed_and_no_grader():
    """The learner's distribution (the course root) is nnlib with its self-checks and data, nothing else."""
    found = _found(ROOT)
    assert {"nnlib", "nnlib.grading", "nnlib.data"} <= found
    assert all(p == "nnlib" or p.startswith("nnlib.") for p in found), found
    for pkg in ("nnlib", "nnlib.grading"):
        assert (ROOT / pkg.replace(".", "/") / "__init__.py").is_file()
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "*.npz" in tool["package-data"]["nnlib.data"]


def test_the_grader_is_its_own_distribution():
    project = tomllib.loads((ROOT / "grader" / "pyproject.toml").read_text())["project"]
    assert project["name"] == "nnlib-grader" and "nnlib" in project["dependencies"]
    found = _found(ROOT / "grader")
    assert "nnlib_grader" in found and all(p.startswith("nnlib_grader") for p in found), found


def test_student_install_contains_no_grader_code(tmp_path):
    """``pip install .`` of the course root (what a learner runs) builds a wheel without the grader, the sandbox,
    the worker or the tests' CuPy double."""
    import shutil
    import zipfile

    src = tmp_path / "course"  # a copy: pip builds in the source tree (build/, *.egg-info)
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "build", "course", "exercises", "solutions", "bench", "docs"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path), str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    (wheel,) = tmp_path.glob("nnlib-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "nnlib/grading/_core.py" in names and "nnlib/data/digits.npz" in names
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"nnlib"} | {t for t in tops if t.endswith((".dist-info", ".data"))}, tops
    banned = ("sandbox", "worker", "protocol", "runner", "batch", "strict", "cupy_surface", "cupy_names")
    assert not [n for n in names if any(b in n.rsplit("/", 1)[-1] for b in banned)], names
    assert not [n for n in names if "instructor" in n or "grader" in n.split("/")[0]]
