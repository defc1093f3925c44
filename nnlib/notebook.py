"""Helpers the lecture notebooks share: real MNIST or a stand-in, recorded full-run histories, figure checks.

    from nnlib.notebook import load_mnist_or_digits, load_history
    split, source, shape = load_mnist_or_digits()   # MNIST when its files are in place, else the 8×8 digits
    run = load_history("nielsen_784_30_10")          # a nnlib.train.History recorded by bench/accuracy.py,
                                                     # shipped in the package (nnlib/data/histories/)

A missing MNIST prints ``nnlib.datasets``' own message (which says where to put the files) before
falling back to scikit-learn's 8×8 digits, so every lecture runs offline and in CI.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nnlib import datasets
from nnlib.train import History

__all__ = ["quick", "load_mnist_or_digits", "load_history", "histories_folder", "figure_problems", "empty_figures"]



def _histories():
    """The recorded runs ship inside the package (``nnlib/data/histories/``, package data), so a lecture opened
    anywhere — Colab, a wheel installed from PyPI — loads them; ``importlib.resources`` finds them in an
    installed wheel, an editable install or a zip import alike."""
    from importlib import resources

    return resources.files("nnlib").joinpath("data", "histories")


def quick() -> bool:
    """``NNLIB_QUICK=1`` (CI and the test-suite): lectures shorten their long runs."""
    return os.environ.get("NNLIB_QUICK") == "1"


def load_mnist_or_digits(kind: str = "mnist", download: bool | None = None,
                         **kwargs: Any) -> tuple[datasets.Split, str, tuple[int, int]]:
    """``(split, source name, image shape)``: MNIST (``datasets.load_mnist(kind, ...)``, Nielsen's split)
    when its files are in the data folder (``$NNLIB_DATA/mnist/``, see ``datasets.data_home``), else
    scikit-learn's 8×8 digits.

    ``download``: fetch missing files (default: yes, except under ``NNLIB_QUICK=1``).  When MNIST is
    not usable the loader's own message is printed (it names the folder and the files to put there).
    """
    download = (not quick()) if download is None else download
    try:
        split = datasets.load_mnist(kind, download=download, progress=False, **kwargs)
        return split, {"mnist": "MNIST"}.get(kind, kind), (28, 28)
    except (datasets.DatasetError, OSError) as exc:  # no files and no download (CI, offline), or a bad file
        print(f"{kind} is not available here, so this lecture uses scikit-learn's 8×8 digits instead.\n{exc}")
        return datasets.digits(), "digits (8×8)", (8, 8)


def histories_folder() -> Path:
    """Where the recorded full-run histories live: ``nnlib/data/histories/`` (package data) of the installed nnlib."""
    return Path(str(_histories()))


def load_history(name: str, folder: str | os.PathLike | None = None) -> History | None:
    """A full run recorded by ``bench/accuracy.py`` (package data ``nnlib/data/histories/<name>.json``, or
    ``folder``) as a ``nnlib.train.History``; ``None`` (with a one-line note naming the command) when it is not
    recorded."""
    from importlib import resources

    fname = name if name.endswith(".json") else name + ".json"
    ref = Path(folder) / fname if folder is not None else _histories().joinpath(fname)
    if not ref.is_file():
        print(f"No recorded run {fname} here; `python bench/accuracy.py` records it (with MNIST in place).")
        return None
    with resources.as_file(ref) as path:
        return History.load(path)


def figure_problems(fig: Any) -> list[str]:
    """The axes of ``fig`` that draw no data: ``["axes 0 'title': no data drawn", ...]`` (empty when fine).

    An Axes counts as drawn when it holds a line with points, a collection with offsets or paths
    (scatter, contours, fills), a patch (bars) or an image.  Axes switched off (``axis("off")``) or
    invisible, and colour bars, are not checked.  The notebook tests run this on every figure a lecture shows.
    """
    bad = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison or ax.get_label() == "<colorbar>":
            continue
        if not _has_data(ax):
            bad.append(f"axes {i} {ax.get_title() or fig.get_suptitle() or ''!r}: no data drawn")
    return bad


def empty_figures() -> list[str]:
    """``figure_problems`` for every open matplotlib figure, each prefixed with its number."""
    import matplotlib.pyplot as plt

    return [f"figure {num}, {p}" for num in plt.get_fignums() for p in figure_problems(plt.figure(num))]


def _has_data(ax: Any) -> bool:
    if any(len(line.get_xdata()) for line in ax.lines):
        return True
    for c in ax.collections:
        offsets = c.get_offsets()
        if (offsets is not None and len(offsets)) or len(c.get_paths()):
            return True
    return bool(ax.patches) or bool(ax.images) or bool(ax.tables)
