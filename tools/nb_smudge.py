"""git smudge filter for course/*.ipynb: add the running Python's ``language_info`` to a notebook read from git.

The committed lectures carry no ``language_info`` (the clean filter, nbstripout, strips it with the outputs).
JupyterLab writes the kernel's ``language_info`` into a notebook as soon as it opens it, and a notebook whose
metadata changes is marked modified. With this filter (registered by ``bash run.sh lab | test | git-filter``
and run with the course's ``.venv/bin/python``, the Python the kernel runs), the checked-out notebook already
holds exactly what the ipykernel of this Python reports, so opening a lecture does not mark it modified.

Standard library only (git runs it for every notebook it checks out); stdin → stdout; anything that is not
a notebook passes through unchanged.
"""

from __future__ import annotations

import json
import sys


def language_info() -> dict:
    """What ipykernel's kernel_info reply says for this Python (ipykernel.ipkernel.IPythonKernel.language_info)."""
    major = sys.version_info[0]
    return {"codemirror_mode": {"name": "ipython", "version": major}, "file_extension": ".py",
            "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
            "pygments_lexer": "ipython3", "version": sys.version.split()[0]}


def smudge(text: str) -> str:
    try:
        nb = json.loads(text)
    except ValueError:
        return text
    if not isinstance(nb, dict) or "cells" not in nb or not isinstance(nb.get("metadata"), dict):
        return text
    nb["metadata"]["language_info"] = language_info()
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    data = sys.stdin.buffer.read().decode("utf-8")
    sys.stdout.buffer.write(smudge(data).encode("utf-8"))
