"""The lectures open in Colab: a badge, an install cell, histories inside the package, ipywidgets 7.7.

- every lecture's first markdown cell carries an "Open in Colab" badge for its own .ipynb, at the repository named
  ONCE, in pyproject.toml's ``[project.urls] Repository``; its first code cell installs nnlib from there only when
  ``import nnlib`` fails (so it does nothing where nnlib is installed);
- the recorded training histories the lectures load ship in the wheel, and ``load_history`` reads them from an
  installed wheel (not from the repository);
- Colab ships ipywidgets 7.7: each widget of ``nnlib.widgets`` is built and driven under ipywidgets 7.7.5.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "course").glob("[0-9][0-9]_*.md"))
REPO = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({})"


def colab_url(notebook: str) -> str:
    owner_repo = REPO.removeprefix("https://github.com/").rstrip("/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/main/course/{notebook}"


def install_cell() -> str:
    return ("# On Colab (or wherever nnlib is not installed yet) this installs it from the course's repository;\n"
            "# where nnlib is installed it does nothing.\n"
            f'try:\n    import nnlib\nexcept ImportError:\n    %pip install -q "nnlib @ git+{REPO}"')


def test_repository_url_is_a_github_repository():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO), REPO


@pytest.mark.parametrize("md", SOURCES, ids=lambda p: p.name)
def test_lecture_has_the_colab_badge_and_install_cell(md):
    nb = jupytext.read(md)
    first_md = next(c for c in nb.cells if c.cell_type == "markdown")
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_md.source.lstrip().startswith("# "), "the badge sits in the title cell"
    assert BADGE.format(colab_url(md.with_suffix(".ipynb").name)) in first_md.source
    assert first_code.source == install_cell()
    assert nb.cells.index(first_code) < nb.cells.index(first_md) + 2
    # no other repository anywhere in the lecture: every Colab or install link uses the one constant
    text = md.read_text(encoding="utf-8")
    assert text.count("colab.research.google.com/github/") == text.count(colab_url(md.with_suffix(".ipynb").name))
    assert sorted(set(re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", text))) in ([], [REPO])


def _run_install_cell(monkeypatch, importable: bool) -> list[tuple[str, str]]:
    """Run the install cell as IPython would (its %pip turned into run_line_magic); the magics it called."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(install_cell())
    calls: list[tuple[str, str]] = []

    class Shell:
        def run_line_magic(self, name, line):
            calls.append((name, line))

    if not importable:
        monkeypatch.setitem(sys.modules, "nnlib", None)  # `import nnlib` raises ImportError
    exec(compile(code, "install-cell", "exec"), {"get_ipython": lambda: Shell()})  # noqa: S102
    return calls


def test_install_cell_does_nothing_where_nnlib_is_installed(monkeypatch):
    assert _run_install_cell(monkeypatch, importable=True) == []
    assert _run_install_cell(monkeypatch, importable=False) == [("pip", f'install -q "nnlib @ git+{REPO}"')]


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True, timeout=300)
    return path / "bin" / "python"


@pytest.mark.slow
def test_histories_ship_in_the_wheel_and_load_from_an_installed_one(tmp_path):
    """``pip wheel --no-deps .`` holds nnlib/data/histories/*.json; installed alone in a fresh venv (its
    dependencies reached through a .pth appended after the venv's own site-packages), ``load_history`` reads them
    from the installed package — with the repository nowhere on the path."""
    wheels, src = tmp_path / "wheels", tmp_path / "src"  # built from a copy: no build/ or egg-info in the repo
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "nnlib"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if name == "nnlib" else {}))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(wheels), str(src)], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    (whl,) = wheels.glob("nnlib-*.whl")
    shipped = sorted(n for n in zipfile.ZipFile(whl).namelist() if n.startswith("nnlib/data/histories/"))
    expected = sorted(f"nnlib/data/histories/{p.name}" for p in (ROOT / "nnlib" / "data" / "histories").glob("*.json"))
    assert shipped == expected and len(expected) >= 3
    py = _venv(tmp_path / "venv")
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(whl)],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = textwrap.dedent("""
        import sys, nnlib
        from nnlib.notebook import histories_folder, load_history
        assert nnlib.__file__.startswith(sys.prefix), nnlib.__file__
        for name in ("nielsen_784_30_10", "mlp_784_100_10", "cnn"):
            h = load_history(name)
            assert h is not None and h.epochs == len(h.test_acc) > 0, name
        assert str(histories_folder()).startswith(sys.prefix)
        print("ok", nnlib.__file__)
    """)
    r = subprocess.run([str(py), "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr


WIDGETS_77 = textwrap.dedent("""
    import ipywidgets
    assert ipywidgets.__version__ == "7.7.5", ipywidgets.__version__
    from nnlib import widgets as w
    from nnlib.datasets import logic_table

    X, d = logic_table("and")
    s = w.perceptron_stepper(X, d)
    s.next_button.click(); s.next_button.click(); s.back_button.click()
    assert s.step.value == 1, s.step.value
    s.reset_button.click()
    assert s.step.value == 0
    g = w.gradient_descent_explorer()
    g.eta_slider.value, g.steps_slider.value = 0.1, 20
    assert "after 20 steps" in g.info.value, g.info.value
    p = w.playground(epochs=10)
    p.hidden.value = "4"
    p.train_button.click()
    assert p.progress.value == 10, p.progress.value
    print("ok", ipywidgets.__version__)
""")


@pytest.mark.slow
def test_widgets_work_under_ipywidgets_7_7(tmp_path):
    """Colab ships ipywidgets 7.7: build and drive each widget of nnlib.widgets in a fresh venv with 7.7.5."""
    py = _venv(tmp_path / "w77")
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "ipywidgets==7.7.5", "numpy", "matplotlib"],
                       capture_output=True, text=True, timeout=1500)
    if r.returncode != 0:
        msg = f"pip could not install ipywidgets 7.7.5 (PyPI unreachable?):\n{r.stderr[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    env = {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    r = subprocess.run([str(py), "-c", WIDGETS_77], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.startswith("ok 7.7.5"), r.stdout + r.stderr
