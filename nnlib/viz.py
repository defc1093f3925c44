"""Pictures for the course: learning curves, decision boundaries, weights, filters, errors, ROC.

Every function takes an optional ``ax`` and returns what it drew on (an ``Axes`` for a single
panel, the ``Figure`` for grids); none calls ``plt.show()`` (Jupyter shows the figure, a script
saves it with ``fig.savefig``).  Arrays of any backend are accepted: they are copied to the host
with ``nnlib.backend.to_host`` first.

For the grid functions (``image_grid``, ``plot_weights``, ``plot_filters``,
``plot_misclassified``) ``ax`` may be a ``Figure`` to fill, or an ``Axes`` whose area is split
into the grid (``fig, (a, b) = plt.subplots(1, 2); plot_weights(W, ax=b)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from nnlib import backend as B

__all__ = ["plot_history", "plot_decision_boundary", "plot_weights", "plot_filters", "plot_confusion_matrix",
           "plot_misclassified", "plot_roc", "image_grid"]


def _host(a: Any) -> np.ndarray:
    return np.asarray(B.to_host(a))


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (5, 4)) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


# ---------------------------------------------------------------- learning curves


def _history_dict(history: Any) -> dict[str, Any]:
    """A ``History``'s fields as a dict (``Network.SGD``'s dict is mapped onto them: cost → loss,
    test_accuracy → test_acc); a dict in any other schema raises (through ``History.from_dict``)."""
    from nnlib.train import History

    if isinstance(history, History):
        return history.to_dict()
    d = dict(history)
    if "cost" in d and "loss" not in d:  # Network.SGD's history
        d = {"loss": d.get("cost", []), "test_acc": d.get("test_accuracy", []), "seconds": d.get("seconds", [])}
    return History.from_dict(d).to_dict()


def plot_history(history: Any, ax: Axes | Sequence[Axes] | None = None, title: str | None = None) -> Figure:
    """Learning curves: loss (left) and accuracy (right) per epoch: training, validation and (for a
    recorded benchmark run) test.

    ``history``: a ``nnlib.train.History``, its ``to_dict()`` (e.g. a file read with
    ``History.load``), or the dict of ``Network.SGD``.  ``ax``: two Axes (loss, accuracy) or None for
    a new figure.  The best epoch (lowest validation loss) is marked with a dotted vertical line.
    Raises ``ValueError`` when the history holds no curve at all (never draws empty axes).
    Returns the Figure.
    """
    d = _history_dict(history)
    if not any(d.get(k) for k in ("loss", "train_acc", "val_loss", "val_acc", "test_acc")):
        raise ValueError("plot_history: the history has no loss or accuracy values to plot")
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    else:
        if isinstance(ax, Axes) or len(ax) != 2:
            raise ValueError("plot_history: ax must be a pair of Axes (loss, accuracy) or None")
        axes = list(ax)
        fig = axes[0].figure
    ax_loss, ax_acc = axes
    curves = [(ax_loss, [("loss", "training", "-"), ("val_loss", "validation", "--")], "loss (cost)"),
              (ax_acc, [("train_acc", "training", "-"), ("val_acc", "validation", "--"), ("test_acc", "test", ":")],
               "accuracy")]
    for a, keys, label in curves:
        for key, name, style in keys:
            values = list(d.get(key) or [])
            if values:
                a.plot(np.arange(1, len(values) + 1), values, style, marker="o", markersize=3, label=name)
        if d.get("best_epoch") is not None and a.lines:
            a.axvline(d["best_epoch"] + 1, color="gray", linestyle=":", linewidth=1, label="best epoch")
        a.set_xlabel("epoch")
        a.set_ylabel(label)
        a.set_title(label)
        a.grid(alpha=0.3)
        if a.lines:
            a.legend()
        else:
            a.text(0.5, 0.5, f"no {label} recorded", ha="center", va="center", transform=a.transAxes, color="gray")
    if title:
        fig.suptitle(title)
    return fig


# ---------------------------------------------------------------- 2-D decision boundaries


def _as_predict_fn(predict_fn: Any) -> Callable[[np.ndarray], Any]:
    """Accept a function, a ``Model`` (its ``forward``) or a ``Network`` (its ``feedforward``)."""
    from nnlib.model import Model
    from nnlib.network import Network

    if isinstance(predict_fn, Model):
        return predict_fn.forward
    if isinstance(predict_fn, Network):
        return lambda G: predict_fn.feedforward(G.T).T
    if not callable(predict_fn):
        raise TypeError(f"plot_decision_boundary: predict_fn must be callable, got {type(predict_fn).__name__}")
    return predict_fn


def plot_decision_boundary(predict_fn: Any, X: Any, y: Any, ax: Axes | None = None, resolution: int = 200,
                           margin: float = 0.5, cmap: str = "coolwarm", alpha: float = 0.35,
                           title: str | None = None) -> Axes:
    """Colour the plane by the class ``predict_fn`` assigns, and scatter the data on top.

    ``predict_fn`` maps a host array (n, 2) to labels (n,), probabilities of class 1 (n,) or
    (n, 1) (shaded, with the p = 0.5 line), one score (class 1 where > 0), or scores (n, k)
    (argmax); a ``Model`` or ``Network`` is used directly.  The grid has ``resolution`` points per axis
    and extends ``margin`` beyond the data.  Returns the Axes.
    """
    X, y = _host(X), _host(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: needs 2-D inputs X of shape (n, 2), got {X.shape}")
    labels = np.argmax(y, axis=1) if y.ndim == 2 else y.reshape(-1)
    fn = _as_predict_fn(predict_fn)
    ax = _new_axes(ax, (5, 5))
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.c_[gx.ravel(), gy.ravel()].astype(X.dtype if X.dtype.kind == "f" else np.float64)
    Z = _host(fn(grid))
    if Z.ndim == 2 and Z.shape[1] == 1:
        Z = Z[:, 0]
    n_classes = int(max(labels.max() + 1 if labels.size else 2, 2))
    if Z.ndim == 2:
        n_classes = max(n_classes, Z.shape[1])
        Z = np.argmax(Z, axis=1)
    if Z.shape != (grid.shape[0],):
        raise ValueError(f"plot_decision_boundary: predict_fn returned shape {Z.shape} for {grid.shape[0]} points")
    Z = Z.reshape(gx.shape).astype(np.float64)
    is_prob = not np.all(Z == np.round(Z)) and np.all((Z >= 0) & (Z <= 1))
    if not is_prob and not np.all(Z == np.round(Z)):  # one real-valued score: its sign is the class
        Z = (Z > 0).astype(np.float64)
    if is_prob:  # probability of class 1: shade it, draw the p = 0.5 line
        ax.contourf(gx, gy, Z, levels=np.linspace(0, 1, 11), cmap=cmap, alpha=alpha)
        ax.contour(gx, gy, Z, levels=[0.5], colors="k", linewidths=1)
    else:
        ax.contourf(gx, gy, Z, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=alpha)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap=cmap, vmin=0, vmax=n_classes - 1, edgecolors="k",
               linewidths=0.5, s=20)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or "decision boundary")
    return ax


# ---------------------------------------------------------------- image grids


def _grid_axes(n: int, ncols: int | None, ax: Any, figsize: tuple[float, float] | None,
               cell: float = 1.2) -> tuple[Figure, list[Axes]]:
    ncols = int(ncols or math.ceil(math.sqrt(n)))
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    if ax is None:
        fig = plt.figure(figsize=figsize or (cell * ncols, cell * nrows + 0.3))
        gs = fig.add_gridspec(nrows, ncols)
    elif isinstance(ax, (Figure, SubFigure)):
        fig, gs = ax, ax.add_gridspec(nrows, ncols)
    elif isinstance(ax, Axes):
        spec = ax.get_subplotspec()
        if spec is None:
            raise ValueError("image grid: ax must be a subplot (from plt.subplots) to be split into a grid")
        fig = ax.figure
        ax.remove()
        gs = spec.subgridspec(nrows, ncols)
    else:
        raise TypeError(f"image grid: ax must be a Figure, an Axes or None, got {type(ax).__name__}")
    axes = [fig.add_subplot(gs[i // ncols, i % ncols]) for i in range(n)]
    return fig, axes


def image_grid(images: Any, ncols: int | None = None, titles: Sequence[str] | None = None, cmap: str = "gray",
               vmin: float | None = None, vmax: float | None = None, symmetric: bool = False,
               shape: tuple[int, int] | None = None, ax: Any = None, figsize: tuple[float, float] | None = None,
               suptitle: str | None = None) -> Figure:
    """Show images (n, h, w), (n, h, w, 3) or rows (n, h·w) with ``shape=(h, w)`` in a grid, one Axes each.

    ``symmetric``: scale each image to ±max|value| with a diverging colour map (for weights).
    ``vmin``/``vmax``: a common colour scale (default: each image its own).  Returns the Figure.
    """
    imgs = _host(images)
    if shape is not None:
        imgs = imgs.reshape(len(imgs), *shape)
    if imgs.ndim not in (3, 4) or (imgs.ndim == 4 and imgs.shape[-1] not in (3, 4)):
        raise ValueError(f"image_grid: expected images (n, h, w) or (n, h, w, 3), got shape {imgs.shape}; "
                         "pass shape=(h, w) for flattened rows")
    n = len(imgs)
    if n == 0:
        raise ValueError("image_grid: no images")
    if titles is not None and len(titles) != n:
        raise ValueError(f"image_grid: {n} images but {len(titles)} titles")
    fig, axes = _grid_axes(n, ncols, ax, figsize)
    for i, (a, img) in enumerate(zip(axes, imgs)):
        kw: dict[str, Any] = {"cmap": cmap, "vmin": vmin, "vmax": vmax}
        if symmetric and img.ndim == 2:
            m = float(np.max(np.abs(img))) or 1.0
            kw.update(cmap="RdBu_r" if cmap == "gray" else cmap, vmin=-m, vmax=m)
        a.imshow(img, interpolation="nearest", **kw)
        a.set_xticks([])
        a.set_yticks([])
        if titles is not None:
            a.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _weight_matrix(W: Any) -> Any:
    """A Dense layer's W, or the array itself."""
    params = getattr(W, "params", None)
    return params["W"] if isinstance(params, dict) and "W" in params else W


def plot_weights(W: Any, shape: tuple[int, int] = (28, 28), n: int | None = 100, ncols: int | None = None,
                 ax: Any = None, title: str | None = "weights of each hidden neuron") -> Figure:
    """Each row of a dense weight matrix W (n_out, n_in = h·w) as an h×w image: what each neuron looks for.

    Red = positive, blue = negative weights, each image scaled to its own ±max|w|.  Shows the
    first ``n`` rows (all with ``n=None``).  A ``Dense`` layer may be passed for W.  Returns the Figure.
    """
    W = _host(_weight_matrix(W))
    if W.ndim != 2 or W.shape[1] != shape[0] * shape[1]:
        raise ValueError(f"plot_weights: W must have shape (n_out, {shape[0] * shape[1]}) for images of shape "
                         f"{shape}, got {W.shape}")
    rows = W if n is None else W[:n]
    return image_grid(rows, shape=shape, ncols=ncols, symmetric=True, ax=ax, suptitle=title)


def plot_filters(W: Any, ncols: int | None = None, ax: Any = None, title: str | None = "convolution filters") -> Figure:
    """Convolution filters W (F, C, k, k): RGB images when C = 3, else one image per filter and channel
    (rows: filters, columns: channels).  A ``Conv2D`` layer may be passed.  Returns the Figure."""
    W = _host(_weight_matrix(W))
    if W.ndim != 4 or W.shape[2] != W.shape[3]:
        raise ValueError(f"plot_filters: expected filters (F, C, k, k), got shape {W.shape}")
    F, C = W.shape[:2]
    if C == 3:
        lo, hi = W.min(axis=(1, 2, 3), keepdims=True), W.max(axis=(1, 2, 3), keepdims=True)
        rgb = (W - lo) / np.where(hi > lo, hi - lo, 1.0)
        return image_grid(rgb.transpose(0, 2, 3, 1), ncols=ncols, ax=ax, suptitle=title)
    titles = [f"{f}" if C == 1 else f"{f}.{c}" for f in range(F) for c in range(C)]
    return image_grid(W.reshape(F * C, *W.shape[2:]), ncols=ncols or (C if C > 1 else None), titles=titles,
                      symmetric=True, ax=ax, suptitle=title)


def plot_misclassified(X: Any, y_true: Any, y_pred: Any, shape: tuple[int, int] = (28, 28), n: int = 25,
                       ncols: int | None = None, ax: Any = None) -> Figure:
    """The first ``n`` inputs whose prediction is wrong, titled "true → predicted".

    ``y_true``/``y_pred``: labels or one-hot / scores (argmax).  Returns the Figure (with a
    note instead of images when nothing is misclassified).
    """
    X, t, p = _host(X), _host(y_true), _host(y_pred)
    t = np.argmax(t, axis=1) if t.ndim == 2 else t.reshape(-1)
    p = np.argmax(p, axis=1) if p.ndim == 2 else p.reshape(-1)
    if not len(X) == len(t) == len(p):
        raise ValueError(f"plot_misclassified: X, y_true and y_pred have {len(X)}, {len(t)} and {len(p)} rows")
    wrong = np.flatnonzero(t != p)
    total = len(wrong)
    wrong = wrong[:n]
    if len(wrong) == 0:
        if isinstance(ax, Axes):
            fig, a = ax.figure, ax
        else:
            fig = ax if isinstance(ax, (Figure, SubFigure)) else plt.figure(figsize=(4, 1.5))
            a = fig.add_subplot()
        a.text(0.5, 0.5, "no misclassified examples", ha="center", va="center")
        a.set_axis_off()
        return fig
    titles = [f"{t[i]} → {p[i]}" for i in wrong]
    return image_grid(X[wrong], shape=shape, ncols=ncols, titles=titles, ax=ax,
                      suptitle=f"misclassified: {total} of {len(t)} (true → predicted)")


# ---------------------------------------------------------------- confusion matrix and ROC


def plot_confusion_matrix(cm: Any, labels: Sequence[Any] | None = None, ax: Axes | None = None,
                          normalize: bool = False, cmap: str = "Blues", title: str | None = None) -> Axes:
    """The confusion matrix (rows: true class, columns: predicted class) with each count written in its cell.

    ``normalize``: colour (and write) each row as fractions of its true class.  Returns the Axes.
    """
    C = _host(cm)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square matrix, got shape {C.shape}")
    k = C.shape[0]
    labels = list(range(k)) if labels is None else list(labels)
    if len(labels) != k:
        raise ValueError(f"plot_confusion_matrix: {k} classes but {len(labels)} labels")
    shown = C.astype(np.float64)
    if normalize:
        sums = shown.sum(axis=1, keepdims=True)
        shown = np.divide(shown, sums, out=np.zeros_like(shown), where=sums != 0)
    ax = _new_axes(ax, (0.5 * k + 2.5, 0.5 * k + 2))
    im = ax.imshow(shown, cmap=cmap, interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    threshold = (shown.max() + shown.min()) / 2
    for i in range(k):
        for j in range(k):
            text = f"{shown[i, j]:.2f}" if normalize else f"{int(C[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8 if k > 10 else 10,
                    color="white" if shown[i, j] > threshold else "black")
    ax.set_xticks(range(k), labels=[str(v) for v in labels])
    ax.set_yticks(range(k), labels=[str(v) for v in labels])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or "confusion matrix")
    return ax


def plot_roc(fpr: Any, tpr: Any = None, auc: float | None = None, ax: Axes | None = None, label: str | None = None,
             title: str | None = None) -> Axes:
    """An ROC curve (true-positive rate against false-positive rate) and the chance diagonal.

    ``plot_roc(fpr, tpr, auc)`` draws one curve; ``plot_roc(metrics.roc_per_class(y, probs))``
    draws one curve per class, each labelled with its AUC.  Returns the Axes.
    """
    ax = _new_axes(ax, (5, 5))
    if isinstance(fpr, dict):  # {class: ROC(fpr, tpr, thresholds, auc)}
        for cls, roc in fpr.items():
            ax.plot(_host(roc.fpr), _host(roc.tpr), label=f"class {cls} (AUC {roc.auc:.3f})")
    else:
        if tpr is None:
            raise ValueError("plot_roc: give fpr and tpr, or the dict of metrics.roc_per_class")
        x, y = _host(fpr).reshape(-1), _host(tpr).reshape(-1)
        if x.shape != y.shape:
            raise ValueError(f"plot_roc: fpr and tpr differ in length ({len(x)} and {len(y)})")
        name = label or "ROC"
        if auc is not None:
            name += f" (AUC {auc:.3f})"
        ax.plot(x, y, label=name)
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="chance")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title(title or "ROC curve")
    ax.legend(loc="lower right", fontsize=8)
    return ax
