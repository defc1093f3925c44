"""Progress bars: a widget in a running Jupyter kernel, a text bar on stderr everywhere else.

``tqdm.auto`` chooses the widget whenever the module ``ipykernel.zmqshell`` has been imported, so a
script, a test run or a grader that merely imports ipykernel gets bars drawn into no notebook at all.
Here the question is whether a kernel's shell is running in this process now.
"""

from __future__ import annotations

import sys
from typing import Any


def in_kernel() -> bool:
    """True when this process is a running Jupyter kernel (JupyterLab, Notebook, VS Code, Colab, JupyterLite)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    zmqshell = sys.modules.get("ipykernel.zmqshell")
    if zmqshell is not None and isinstance(shell, zmqshell.ZMQInteractiveShell):
        return True
    return "IPython.utils._process_emscripten" in sys.modules  # JupyterLite's kernel has no ZMQ


def bar(*args: Any, **kwargs: Any) -> Any:
    """``tqdm(*args, **kwargs)``: the widget bar in a kernel with ipywidgets, else the text bar on stderr."""
    if in_kernel():
        from tqdm import notebook

        if notebook.IProgress is not None:
            return notebook.tqdm(*args, **kwargs)
    from tqdm.std import tqdm

    return tqdm(*args, **kwargs)
