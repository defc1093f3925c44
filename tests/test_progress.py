"""nnlib.progress: a widget bar only inside a running kernel, the text bar on stderr everywhere else."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest
from tqdm import notebook, std

from nnlib import progress

ROOT = Path(__file__).resolve().parents[1]


def _fake_ipython(monkeypatch, shell, zmq_class=None, emscripten=False):
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    if zmq_class is not None:
        monkeypatch.setitem(sys.modules, "ipykernel.zmqshell", types.SimpleNamespace(ZMQInteractiveShell=zmq_class))
    else:
        monkeypatch.delitem(sys.modules, "ipykernel.zmqshell", raising=False)
    if emscripten:
        monkeypatch.setitem(sys.modules, "IPython.utils._process_emscripten", types.ModuleType("x"))
    else:
        monkeypatch.delitem(sys.modules, "IPython.utils._process_emscripten", raising=False)


class _Zmq:
    pass


class _Terminal:
    pass


@pytest.mark.parametrize("shell, zmq_class, emscripten, expected", [
    (None, None, False, False),         # a script
    (None, _Zmq, False, False),         # a script that imported ipykernel (tqdm.auto says: notebook)
    (_Terminal(), _Zmq, False, False),  # the IPython terminal, ipykernel imported
    (_Zmq(), _Zmq, False, True),        # a kernel: JupyterLab, Notebook, VS Code, Colab
    (_Terminal(), None, True, True),    # JupyterLite
])
def test_in_kernel_and_the_bar_it_picks(monkeypatch, shell, zmq_class, emscripten, expected):
    _fake_ipython(monkeypatch, shell, zmq_class, emscripten)
    assert progress.in_kernel() is expected
    b = progress.bar(total=3, disable=True)  # disabled: nothing displayed
    assert isinstance(b, notebook.tqdm) is expected and isinstance(b, std.tqdm)
    b.close()


def test_no_ipython_at_all(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert progress.in_kernel() is False


def test_fit_and_network_bars_reach_stderr_after_ipykernel_was_imported():
    """The failure this module mends: one earlier import of ipykernel sent every later bar to a widget."""
    code = ("import ipykernel.zmqshell\n"
            "import sys\n"
            "from nnlib import datasets as D, train as T\n"
            "from nnlib.layers import Dense\n"
            "from nnlib.model import Model\n"
            "from nnlib.network import Network\n"
            "X, y = D.blobs(40, centers=2, seed=0)\n"
            "T.fit(Model([Dense(2, 2, 'xavier')]), (X, y), (X, y), epochs=2, progress=True, verbose=False)\n"
            "print('--', file=sys.stderr)\n"
            "net = Network([2, 3, 2])\n"
            "net.SGD([(x, t) for x, t in zip(X, D.one_hot(y, 2))], 3, 10, 0.5, verbose=False, progress=True)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    fit, sgd = r.stderr.split("--\n")
    assert "epochs" in fit and "2/2" in fit and "val_acc=" in fit, r.stderr[-2000:]
    assert "epochs" in sgd and "3/3" in sgd, r.stderr[-2000:]
