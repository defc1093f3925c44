"""Math without a CDN (issue 20, item 5): the MathJax loader of feedback and formgrader pages.

The Chromium check (every non-loopback request refused; math typeset, no raw ``$``, ``Safe`` on) is
tests/test_feedback_release.py::test_fetched_feedback_renders_math_offline_in_chromium; here: the course's
nbconvert macro is nbconvert's with only the script tag changed, the formgrader's template picks it up from
``JUPYTER_PATH``, ``run.sh`` sets that path, and :func:`localise` on a page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbconvert

from nnlib_grader.offline_math import CDN_TAG, LOADER, localise

ROOT = Path(__file__).resolve().parent.parent
MACRO = ROOT / "jupyter-course" / "share" / "nbconvert" / "templates" / "base" / "mathjax.html.j2"


def _nbconvert_macro() -> str:
    from jupyter_core.paths import jupyter_path

    for d in jupyter_path("nbconvert", "templates", "base"):
        p = Path(d) / "mathjax.html.j2"
        if p.is_file() and p.resolve() != MACRO.resolve():
            return p.read_text()
    raise AssertionError(f"nbconvert {nbconvert.__version__}'s base/mathjax.html.j2 not found")


def test_course_macro_is_nbconverts_with_the_local_loader():
    ours, theirs = MACRO.read_text(), _nbconvert_macro()
    assert LOADER in ours and "cdnjs" not in ours.replace(LOADER, "")
    config = theirs[theirs.index("<!-- MathJax configuration -->"):]
    assert ours.endswith(config)  # the x-mathjax-config block (tex2jax, processEscapes ...) is nbconvert's own
    assert "Safe'" in LOADER  # both URLs of the loader keep the Safe extension
    assert LOADER.count("Safe") == 2


def test_formgrader_template_uses_the_course_macro(tmp_path):
    code = ("import nbformat; from traitlets.config import Config; from nbconvert.exporters import HTMLExporter\n"
            "import nbgrader.server_extensions.formgrader.handlers as h\n"
            "c = Config(); c.HTMLExporter.template_name = 'formgrade'\n"
            "c.HTMLExporter.extra_template_basedirs = [h.template_path]\n"
            "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('$x^2$')])\n"
            "r = {'base_url': '/', 'index': 0, 'total': 1, 'notebook_id': 'n', 'submission_id': 's', 'nbgrader': {}}\n"
            "print(HTMLExporter(config=c).from_notebook_node(nb, resources=r)[0])\n")
    env = {**os.environ, "JUPYTER_PATH": str(ROOT / "jupyter-course" / "share")}
    page = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          cwd=tmp_path, timeout=120).stdout
    assert LOADER in page and CDN_TAG not in page
    env.pop("JUPYTER_PATH")  # control: without the course's path, nbconvert's CDN tag
    page = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          cwd=tmp_path, timeout=120).stdout
    assert CDN_TAG in page and LOADER not in page


def test_run_sh_puts_the_course_paths_first(tmp_path):
    """run.sh's lab and student modes, with a stand-in ``jupyter`` that prints the paths it was given."""
    for mode in ("lab", "student"):
        work = tmp_path / mode
        (work / "venv" / "bin").mkdir(parents=True)
        shutil.copy(ROOT / "run.sh", work)
        (work / "venv" / "bin" / "python").symlink_to(sys.executable)
        fake = work / "venv" / "bin" / "jupyter"
        fake.write_text('#!/bin/sh\necho "JUPYTER_PATH=$JUPYTER_PATH"\n'
                        'echo "JUPYTER_CONFIG_PATH=$JUPYTER_CONFIG_PATH"\n')
        fake.chmod(0o755)
        env = {**os.environ, "NNLIB_VENV": str(work / "venv"), "NNLIB_SKIP_INSTALL": "1", "JUPYTER_PATH": "/x"}
        env.pop("JUPYTER_CONFIG_PATH", None)
        out = subprocess.run(["bash", "run.sh", mode], cwd=work, env=env, capture_output=True, text=True,
                             timeout=60).stdout
        assert f"JUPYTER_PATH={work}/jupyter-course/share:/x" in out, out
        assert f"JUPYTER_CONFIG_PATH={work}/jupyter-course\n" in out, out


def test_localise_replaces_the_cdn_tag_once():
    page = f"<html><head>{CDN_TAG}<script type=\"text/x-mathjax-config\">x</script></head><body>$a$</body></html>"
    once = localise(page)
    assert LOADER in once and CDN_TAG not in once and localise(once) == once
    assert localise("<p>no math</p>") == "<p>no math</p>"
