"""Released notebooks open in JupyterLab unmodified (issue 20: a08_capstone was marked modified on open).

JupyterLab 4 writes the kernel's ``language_info`` (from its ``kernel_info`` reply) into the notebook when the
kernel starts, and marks it dirty unless the stored value is deep-equal; it also gives every cell an ``id``
(nbformat 4.5).  The release step writes both (``nnlib_grader.release.as_jupyterlab_writes``): checked here against
the reply of a real ``python3`` kernel, on every committed release notebook and on a bare notebook, and in Chromium:
JupyterLab opens the released a08_capstone clean, while the old ``language_info`` marks it modified.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from nnlib_grader.release import as_jupyterlab_writes

ROOT = Path(__file__).resolve().parent.parent
RELEASED = sorted((ROOT / "exercises").glob("*/*.ipynb"))


@pytest.fixture(scope="module")
def kernel_language_info() -> dict:
    """``language_info`` of the kernel_info reply of a started ``python3`` kernel (what JupyterLab writes)."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.kernel_info()
        return kc.get_shell_msg(timeout=30)["content"]["language_info"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_there_are_released_notebooks():
    assert len(RELEASED) >= 8, RELEASED


@pytest.mark.parametrize("path", RELEASED, ids=[p.parent.name for p in RELEASED])
def test_released_notebook_carries_what_jupyterlab_writes(path, kernel_language_info):
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata["language_info"] == kernel_language_info, (
        f"{path.relative_to(ROOT)}: language_info differs from the kernel's: run python -m nnlib_grader release")
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5)
    ids = [c.get("id") for c in nb.cells]
    assert all(i and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids) and len(set(ids)) == len(ids), ids


def test_as_jupyterlab_writes_fills_a_bare_notebook_and_is_stable(tmp_path, kernel_language_info):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3 (ipykernel)"},
                                            "language_info": {"name": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("1 + 1")]
    for c in nb.cells:
        del c["id"]
    nb.nbformat_minor = 4
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, str(path))
    as_jupyterlab_writes(path)
    first = path.read_bytes()
    out = nbformat.read(str(path), as_version=4)
    assert out.metadata["language_info"] == kernel_language_info and out.nbformat_minor == 5
    assert all(c.get("id") for c in out.cells)
    as_jupyterlab_writes(path)
    assert path.read_bytes() == first  # a second release rewrites nothing (the release manifest stays valid)


@pytest.mark.slow
def test_jupyterlab_opens_a_released_notebook_unmodified(tmp_path):
    """In Chromium: JupyterLab opens the released a08_capstone, starts its kernel, and the document is not dirty;
    the same notebook with the old ``language_info`` (``{"name": "python"}``) is (the control)."""
    import contextlib
    import json
    import os
    import sys
    import time

    from _browser import CHROMIUM, Server, free_port, require_chromium

    require_chromium()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    src = ROOT / "exercises" / "a08_capstone" / "a08_capstone.ipynb"
    (tmp_path / "work").mkdir()
    shutil.copy(src, tmp_path / "work" / "released.ipynb")
    old = json.loads(src.read_text())
    old["metadata"]["language_info"] = {"name": "python"}
    (tmp_path / "work" / "old.ipynb").write_text(json.dumps(old, indent=1))
    port, token = free_port(), "nnlib-dirty-token"
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-course"), "HOME": str(tmp_path / "home"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    server = Server([sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                     f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path / 'work'}",
                     *(["--allow-root"] if os.geteuid() == 0 else [])],
                    f"http://127.0.0.1:{port}", token, tmp_path / "lab.log", env, cwd=str(tmp_path / "work"))
    dirty = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            took = 0.0
            for name in ("old", "released"):  # the control first: how long until the kernel's info dirties it
                page = browser.new_page()
                page.goto(f"{server.url}/lab/tree/{name}.ipynb?token={token}&reset")
                page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=120_000)
                tab = page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")
                start = time.monotonic()
                if name == "old":
                    with contextlib.suppress(PlaywrightTimeout):
                        tab.wait_for(timeout=60_000)
                    took = time.monotonic() - start
                else:
                    page.wait_for_timeout(max(6_000, 3_000 * took))  # well past the control's moment
                dirty[name] = tab.count() > 0
                page.close()
            browser.close()
    finally:
        server.stop()
    assert dirty == {"released": False, "old": True}, dirty
