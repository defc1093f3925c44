"""A picture of a computational graph built with :mod:`nnlib.autograd` (lecture 13).

``plot_graph(root)`` draws every node of ``root``'s graph as a box (its operation, ``data`` and ``grad``) and an
arrow from each input to the node that uses it: inputs on the left, the root on the right.  A node's column is
its depth (the longest path from a leaf), so every arrow points right — the topological order made visible.
Plain matplotlib (no Graphviz, which would be a system dependency for one figure).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from nnlib.autograd import topo_order

__all__ = ["plot_graph"]


def _label(node: Any, names: dict[int, str]) -> str:
    op = node._op or names.get(id(node), "input")
    grad = node.grad if isinstance(node.grad, float) else float(node.grad.sum())
    data = node.data if isinstance(node.data, float) else float(node.data.sum())
    return f"{op}\ndata {data:.3g}\ngrad {grad:.3g}"


def plot_graph(root: Any, names: dict[str, Any] | None = None, ax: Axes | None = None) -> Axes:
    """Draw ``root``'s graph; ``names``: {label: node} for the leaves (``{"x": x, "w": w}``).  Returns the Axes."""
    order = topo_order(root)
    by_id = {id(v): k for k, v in (names or {}).items()}
    depth: dict[int, int] = {}
    for n in order:  # inputs come first, so their depth is known
        depth[id(n)] = 1 + max((depth[id(c)] for c in n._prev), default=-1)
    columns: dict[int, list] = {}
    for n in order:
        columns.setdefault(depth[id(n)], []).append(n)
    pos = {}
    for d, nodes in columns.items():
        for k, n in enumerate(nodes):
            pos[id(n)] = (d * 2.2, (len(nodes) - 1) / 2 - k)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * (len(columns) + 1), 1.2 * (max(map(len, columns.values())) + 1)))
    for n in order:
        x1, y1 = pos[id(n)]
        for c in n._prev:
            x0, y0 = pos[id(c)]
            ax.annotate("", (x1 - 0.55, y1), (x0 + 0.55, y0),
                        arrowprops={"arrowstyle": "->", "color": "0.4", "shrinkA": 0, "shrinkB": 0})
    for n in order:
        x, y = pos[id(n)]
        leaf = not n._prev
        ax.text(x, y, _label(n, by_id), ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round", "fc": "#dbe9f6" if leaf else "#fde0c5", "ec": "0.3"})
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.plot(xs, ys, linestyle="none", marker="")  # the node positions (invisible): the axes hold data
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title("inputs (blue) → operations (orange) → root; grad = ∂root/∂node", fontsize=9)
    return ax
