"""Interactive widgets for the course notebooks (ipywidgets + matplotlib).

Three widgets, each a function that returns an ``ipywidgets.VBox`` of controls::

    perceptron_stepper(X, d, eta=1.0, epochs=10)      # step through the perceptron rule (lecture 1)
    gradient_descent_explorer()                        # η and steps over the contour of z (lecture 3)
    playground("moons", hidden="8,8")                  # a tiny TensorFlow Playground (lectures 2, 6)

They degrade gracefully.  Each widget draws its figure as an ordinary image output
(``IPython.display`` with a ``display_id``) and *updates that output in place* when a
control changes.  So a learner without a widget front end (nbconvert, CI, the GitHub
viewer) still sees a static figure of the initial state, and in JupyterLab the same
figure redraws live.  Outside IPython nothing is displayed at all (tests drive the
controls headless: ``w.next_button.click()``, ``w.eta_slider.value = 0.5``).

The computations behind the widgets are plain functions, testable without any
front end: ``perceptron_updates``, ``gd_path``, ``lecture_z`` / ``lecture_grad``,
``parse_hidden``, ``playground_data``, ``build_model``, ``train_epochs``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from nnlib import backend as B
from nnlib import datasets, layers, optim
from nnlib.model import Model
from nnlib.perceptron import Perceptron, Update

__all__ = [
    "perceptron_stepper", "perceptron_updates", "plot_perceptron",
    "gradient_descent_explorer", "gd_path", "lecture_z", "lecture_grad",
    "playground", "playground_data", "parse_hidden", "build_model", "train_epochs",
    "PerceptronStepper", "GradientDescentExplorer", "Playground",
]

# ---------------------------------------------------------------- display plumbing


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipywidgets
        return False
    return get_ipython() is not None


class _LiveFigure:
    """A matplotlib figure shown as a PNG output once, then replaced in place on every redraw.

    ``matplotlib.figure.Figure`` (not pyplot) is used so the inline backend never shows a
    second copy, and the output is a PNG whatever the backend (Agg in CI, inline in Jupyter).
    """

    def __init__(self, figsize: tuple[float, float], ncols: int = 1, dpi: int = 90):
        self.fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        self.axes = self.fig.subplots(1, ncols) if ncols > 1 else [self.fig.subplots()]
        self.handle: Any = None
        self.draws = 0  # how many times the figure has been rendered (tests read it)

    def _image(self) -> Any:
        from IPython.display import Image

        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        return Image(data=buf.getvalue(), format="png")

    def show(self) -> None:
        """Render; display the first time, update the same output afterwards (only inside IPython)."""
        self.draws += 1
        if not _in_ipython():
            return
        from IPython.display import display

        img = self._image()
        if self.handle is None:
            self.handle = display(img, display_id=True)
        else:
            self.handle.update(img)


# ---------------------------------------------------------------- perceptron stepper


def perceptron_updates(X: Any, d: Any, eta: float = 1.0, epochs: int = 10, w: Any = None) -> list[Update]:
    """Every update of the perceptron rule, in order: ``list(Perceptron(n, eta, w).steps(X, d, epochs))``."""
    X = np.asarray(B.to_host(X), dtype=np.float64)
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    return list(Perceptron(X.shape[1], eta, w).steps(X, d, epochs))


def plot_perceptron(X: Any, d: Any, w: Any, ax: Any = None, highlight: int | None = None,
                    title: str | None = None) -> Any:
    """Draw a perceptron's data and decision boundary w_0 + Σ w_i x_i = 0 (1 or 2 inputs).

    Two inputs: points coloured by target d (red: d = 1, blue: d = 0, as in ``nnlib.viz``), the line,
    and the side where y = 1 shaded red.
    One input: the points on the x_1 axis and the threshold x_1 = −w_0 / w_1.
    ``highlight`` circles the example just presented.  Returns the axes.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=(4, 4)).gca()
    X = np.asarray(B.to_host(X), dtype=np.float64)
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    d = np.asarray(B.to_host(d)).reshape(-1)
    w = np.asarray(B.to_host(w), dtype=np.float64).reshape(-1)
    lo, hi = X.min() - 0.6, X.max() + 0.6
    colors = np.where(d == 1, "tab:red", "tab:blue")
    if X.shape[1] == 1:
        ax.scatter(X[:, 0], np.zeros(len(X)), c=colors, s=120, edgecolors="k", zorder=3)
        xs = np.linspace(lo, hi, 200)
        ax.fill_between(xs, -1, 1, where=(w[0] + w[1] * xs) > 0, color="tab:red", alpha=0.12, step="mid")
        if w[1] != 0:
            ax.axvline(-w[0] / w[1], color="k", lw=2)
        ax.set_ylim(-1, 1)
        ax.set_yticks([])
        ax.set_xlabel("$x_1$")
    elif X.shape[1] == 2:
        ax.scatter(X[:, 0], X[:, 1], c=colors, s=120, edgecolors="k", zorder=3)
        g1, g2 = np.meshgrid(np.linspace(lo, hi, 200), np.linspace(lo, hi, 200))
        y = (w[0] + w[1] * g1 + w[2] * g2) > 0
        ax.contourf(g1, g2, y.astype(float), levels=[-0.5, 0.5, 1.5], colors=["white", "tab:red"], alpha=0.12)
        xs = np.linspace(lo, hi, 2)
        if w[2] != 0:
            ax.plot(xs, -(w[0] + w[1] * xs) / w[2], "k-", lw=2)
        elif w[1] != 0:
            ax.axvline(-w[0] / w[1], color="k", lw=2)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
    else:
        raise ValueError(f"plot_perceptron: draws 1 or 2 inputs, got {X.shape[1]}")
    if highlight is not None:
        xh = X[highlight]
        ax.scatter(xh[0], xh[1] if X.shape[1] == 2 else 0.0, s=420, facecolors="none", edgecolors="orange",
                   linewidths=3, zorder=4)
    ax.set_xlim(lo, hi)
    ax.set_title(title if title is not None else "w = (" + ", ".join(f"{v:g}" for v in w) + ")")
    return ax


class PerceptronStepper(W.VBox):
    """The widget ``perceptron_stepper`` returns.

    Attributes: ``updates`` (all ``Update`` records), ``step`` (slider: how many updates applied),
    ``next_button`` / ``back_button`` / ``reset_button``, ``info`` (text of the current update),
    ``w`` (the weights after ``step.value`` updates), ``live`` (the figure).
    """

    def __init__(self, X: Any, d: Any, eta: float = 1.0, epochs: int = 10, w: Any = None):
        self.X = np.asarray(B.to_host(X), dtype=np.float64)
        self.X = self.X.reshape(-1, 1) if self.X.ndim == 1 else self.X
        self.d = np.asarray(B.to_host(d)).reshape(-1)
        self.eta = float(eta)
        self.w0 = np.zeros(self.X.shape[1] + 1) if w is None else np.asarray(w, dtype=np.float64)
        self.updates = perceptron_updates(self.X, self.d, eta, epochs, self.w0)
        self.step = W.IntSlider(0, 0, len(self.updates), description="updates", continuous_update=False)
        self.next_button = W.Button(description="next ▶", tooltip="present the next example")
        self.back_button = W.Button(description="◀ back")
        self.reset_button = W.Button(description="reset")
        self.info = W.HTML()
        self.live = _LiveFigure((4.2, 4.2))
        self.next_button.on_click(lambda _: self._move(+1))
        self.back_button.on_click(lambda _: self._move(-1))
        self.reset_button.on_click(lambda _: setattr(self.step, "value", 0))
        self.step.observe(lambda _: self.redraw(), names="value")
        super().__init__([W.HBox([self.back_button, self.next_button, self.reset_button, self.step]), self.info])
        self.redraw()

    def _move(self, k: int) -> None:
        self.step.value = int(np.clip(self.step.value + k, 0, len(self.updates)))

    @property
    def w(self) -> np.ndarray:
        k = self.step.value
        return self.w0.copy() if k == 0 else self.updates[k - 1].w_after.copy()

    def describe(self) -> str:
        """Text for the current step: which example, d, y and the update applied."""
        k = self.step.value
        if k == 0:
            return f"start: w = {np.round(self.w0, 4).tolist()}; press <b>next</b> to present the first example"
        u = self.updates[k - 1]
        x = ", ".join(f"{v:g}" for v in u.x)  # u.x includes x_0 = 1
        delta = self.eta * (u.d - u.y)
        verdict = "correct, no change" if not u.changed else f"mistake: w ← w + η(d − y)x = w + ({delta:+g})·x"
        return (f"update {k}/{len(self.updates)} (epoch {u.epoch + 1}, example {u.index}): "
                f"(x<sub>0</sub>, x<sub>1</sub>, …) = ({x}), "
                f"d = {u.d:g}, y = {u.y:g} → {verdict}; w = {np.round(u.w_after, 4).tolist()}")

    def redraw(self) -> None:
        k = self.step.value
        self.info.value = self.describe()
        ax = self.live.axes[0]
        ax.clear()
        hl = None if k == 0 else self.updates[k - 1].index
        plot_perceptron(self.X, self.d, self.w, ax=ax, highlight=hl)
        self.live.show()


def perceptron_stepper(X: Any, d: Any, eta: float = 1.0, epochs: int = 10, w: Any = None) -> PerceptronStepper:
    """Step through the perceptron learning rule w_i ← w_i + η(d − y)x_i one example at a time.

    ``X`` (n, 1 or 2) inputs, ``d`` (n,) targets in {0, 1}; the updates are those of
    ``Perceptron.steps(X, d, epochs)`` starting from ``w`` (default zeros, bias first).
    The decision line redraws after each step; the orange ring marks the example presented.
    """
    return PerceptronStepper(X, d, eta, epochs, w)


# ---------------------------------------------------------------- gradient descent


def lecture_z(x: Any, y: Any) -> Any:
    """The lecture's z = x² + y² − 6x + 10 (minimum 1 at (3, 0))."""
    return x**2 + y**2 - 6 * x + 10


def lecture_grad(p: Any) -> np.ndarray:
    """∇z = (2x − 6, 2y)."""
    x, y = np.asarray(p, dtype=np.float64)
    return np.array([2 * x - 6, 2 * y])


def gd_path(grad: Callable[[np.ndarray], Any], start: Sequence[float], eta: float | Callable[[int], float],
            steps: int, limit: float = 1e6) -> np.ndarray:
    """Points v_0 = start, v_{t+1} = v_t − η_t ∇C(v_t) for t < steps; shape (steps + 1, dim).

    ``eta`` is a number or a schedule ``t -> η_t`` (e.g. ``lambda t: 0.5 / (1 + 0.1 * t)``).
    A diverging run stops early once a coordinate exceeds ``limit`` (fewer rows come back).
    """
    v = np.atleast_1d(np.asarray(start, dtype=np.float64)).copy()
    path = [v.copy()]
    for t in range(int(steps)):
        lr = eta(t) if callable(eta) else eta
        v = v - lr * np.atleast_1d(np.asarray(grad(v), dtype=np.float64))
        path.append(v.copy())
        if not np.all(np.isfinite(v)) or np.max(np.abs(v)) > limit:
            break
    return np.array(path)


class GradientDescentExplorer(W.VBox):
    """The widget ``gradient_descent_explorer`` returns: ``eta_slider``, ``steps_slider``, ``path``, ``info``."""

    def __init__(self, f: Callable | None = None, grad: Callable | None = None, start: Sequence[float] = (6, -2),
                 eta: float = 0.01, steps: int = 50, xlim: Sequence[float] = (-1, 7), ylim: Sequence[float] = (-4, 4),
                 fmin: float | None = None):
        self.f = f or lecture_z
        self.fmin = 1.0 if f is None and fmin is None else fmin
        self.grad = grad or lecture_grad
        self.start = tuple(float(s) for s in start)
        self.xlim, self.ylim = xlim, ylim
        self.eta_slider = W.FloatLogSlider(value=eta, base=10, min=-3, max=0.2, step=0.05, description="η",
                                           readout_format=".3g", continuous_update=False)
        self.steps_slider = W.IntSlider(value=steps, min=1, max=200, description="steps", continuous_update=False)
        self.info = W.HTML()
        self.live = _LiveFigure((9, 3.8), ncols=2)
        for s in (self.eta_slider, self.steps_slider):
            s.observe(lambda _: self.redraw(), names="value")
        super().__init__([W.HBox([self.eta_slider, self.steps_slider]), self.info])
        self.redraw()

    def redraw(self) -> None:
        eta, steps = self.eta_slider.value, self.steps_slider.value
        self.path = gd_path(self.grad, self.start, eta, steps)
        p = self.path
        vals = np.array([float(self.f(*q)) for q in p])
        ax, ax2 = self.live.axes
        ax.clear()
        ax2.clear()
        gx, gy = np.meshgrid(np.linspace(*self.xlim, 200), np.linspace(*self.ylim, 200))
        cs = ax.contour(gx, gy, self.f(gx, gy), levels=15, cmap="viridis", linewidths=0.8)
        ax.clabel(cs, fontsize=7)
        ax.plot(p[:, 0], p[:, 1], "o-", color="tab:red", ms=3, lw=1)
        ax.plot(*p[0], "ks", ms=7)
        ax.set_xlim(*self.xlim)
        ax.set_ylim(*self.ylim)
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"η = {eta:.3g}, {len(p) - 1} steps")
        fmin = self.fmin if self.fmin is not None else min(float(np.min(self.f(gx, gy))), float(np.min(vals)))
        ax2.semilogy(np.arange(len(vals)), np.maximum(vals - fmin, 1e-16), "o-", ms=3)
        ax2.set_xlabel("step t")
        ax2.set_ylabel("f(t) − min f  (log scale)")
        ax2.grid(alpha=0.3)
        last = p[-1]
        diverged = len(p) < steps + 1 or not np.all(np.isfinite(last))
        self.info.value = (f"start {self.start}, after {len(p) - 1} steps: ({last[0]:.4g}, {last[1]:.4g}), "
                           f"z = {vals[-1]:.6g}" + (" — <b>diverged</b>" if diverged else ""))
        self.live.show()


def gradient_descent_explorer(f: Callable | None = None, grad: Callable | None = None,
                              start: Sequence[float] = (6, -2), eta: float = 0.01, steps: int = 50,
                              xlim: Sequence[float] = (-1, 7),
                              ylim: Sequence[float] = (-4, 4), fmin: float | None = None) -> GradientDescentExplorer:
    """Gradient descent on a 2-D function, drawn over its contour plot; sliders for η and the number of steps.

    ``f(x, y)`` (vectorised) and ``grad(p) -> (∂f/∂x, ∂f/∂y)`` default to the lecture's
    z = x² + y² − 6x + 10 and ∇z = (2x − 6, 2y), started at (6, −2) with η = 0.01.
    The right panel shows f − ``fmin`` per step on a log scale (a straight line = linear convergence);
    ``fmin`` is 1 for the lecture's z, else the smallest value seen on the plotted grid and the path.
    """
    return GradientDescentExplorer(f, grad, start, eta, steps, xlim, ylim, fmin)


# ---------------------------------------------------------------- playground

DATASETS = ("xor", "moons", "circles", "spirals", "blobs")
ACTIVATIONS = {"tanh": layers.Tanh, "relu": layers.ReLU, "sigmoid": layers.Sigmoid}


def playground_data(name: str, n: int = 200, noise: float | None = None,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D two-class data set for the playground: xor, moons, circles, spirals or blobs.

    ``xor`` is the truth table with noise: the four corners (0,0), (1,1) [class 0] and (0,1), (1,0)
    [class 1] as Gaussian blobs, centred on the origin.  Returns host ``X`` (n, 2), ``y`` (n,) int64.
    """
    key = name.strip().lower()
    if key == "xor":
        X, k = datasets.blobs(n, centers=[[0, 0], [1, 1], [0, 1], [1, 0]], noise=0.15 if noise is None else noise,
                              seed=seed)
        return 2 * X - 1, (k >= 2).astype(np.int64)
    if key == "moons":
        return datasets.moons(n, noise=0.1 if noise is None else noise, seed=seed)
    if key == "circles":
        return datasets.circles(n, noise=0.08 if noise is None else noise, seed=seed)
    if key == "spirals":
        return datasets.spirals(n, noise=0.03 if noise is None else noise, seed=seed)
    if key == "blobs":
        return datasets.blobs(n, 2, noise=1.0 if noise is None else noise, seed=seed)
    raise ValueError(f"playground_data: unknown data set {name!r}; choose one of {', '.join(DATASETS)}")


def parse_hidden(text: str | Sequence[int]) -> list[int]:
    """Hidden layer widths from text: ``"8,8"`` → [8, 8]; ``""`` → [] (no hidden layer: a linear classifier)."""
    if not isinstance(text, str):
        return [int(v) for v in text]
    parts = [p.strip() for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"hidden layers: write widths separated by commas, like '8,8' (got {text!r})") from None
    if any(s < 1 for s in sizes):
        raise ValueError(f"hidden layers: every width must be >= 1 (got {text!r})")
    return sizes


def build_model(hidden: str | Sequence[int] = "8,8", activation: str = "tanh", n_in: int = 2, n_out: int = 2,
                seed: int = 0) -> Model:
    """A small MLP: Dense layers of the given widths with ``activation`` between, softmax cross-entropy on top."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    B.seed(seed)
    method = "he" if activation == "relu" else "xavier"
    sizes = [n_in, *parse_hidden(hidden), n_out]
    stack: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        stack.append(layers.Dense(a, b, init_method=method))
        if i < len(sizes) - 2:
            stack.append(ACTIVATIONS[activation]())
    return Model(stack, cost="softmax_cross_entropy")


def train_epochs(model: Model, X: np.ndarray, y: np.ndarray, eta: float, epochs: int, batch_size: int = 10,
                 optimizer: Any = None, seed: int = 0) -> Iterator[float]:
    """Minibatch SGD; yields the mean training loss after each epoch (a generator: redraw between epochs)."""
    opt = optimizer or optim.SGD(eta)
    rng = np.random.default_rng(seed)
    for _ in range(int(epochs)):
        for xb, yb in datasets.minibatches(X, y, batch_size, seed=int(rng.integers(2**31))):
            model.train_step(xb, yb, opt)
        yield model.loss(X, y)


class Playground(W.VBox):
    """The widget ``playground`` returns.

    Controls: ``dataset``, ``hidden`` (text), ``activation``, ``eta_slider``, ``epochs_slider``,
    ``train_button``, ``reset_button``; state: ``model``, ``X``, ``y`` (standardised inputs),
    ``losses`` (one per epoch trained), ``progress``, ``info``.
    """

    def __init__(self, dataset: str = "xor", hidden: str = "8,8", activation: str = "tanh", eta: float = 0.3,
                 epochs: int = 100, n: int = 200, batch_size: int = 10, redraw_every: int = 10, seed: int = 0):
        self.n, self.batch_size, self.redraw_every, self.seed = n, batch_size, max(1, redraw_every), seed
        style = {"description_width": "initial"}
        self.dataset = W.Dropdown(options=DATASETS, value=dataset, description="data")
        self.hidden = W.Text(value=hidden, description="hidden layers", style=style, continuous_update=False)
        self.activation = W.Dropdown(options=list(ACTIVATIONS), value=activation, description="activation")
        self.eta_slider = W.FloatLogSlider(value=eta, base=10, min=-3, max=1, step=0.1, description="η",
                                           readout_format=".3g", continuous_update=False)
        self.epochs_slider = W.IntSlider(value=epochs, min=10, max=1000, step=10, description="epochs",
                                         continuous_update=False)
        self.train_button = W.Button(description="train", button_style="success", icon="play")
        self.reset_button = W.Button(description="reset", icon="refresh")
        self.progress = W.IntProgress(value=0, min=0, max=epochs, description="epoch")
        self.info = W.HTML()
        self.live = _LiveFigure((9, 3.8), ncols=2)
        self.train_button.on_click(lambda _: self.train())
        self.reset_button.on_click(lambda _: self.reset())
        for c in (self.dataset, self.hidden, self.activation):
            c.observe(lambda _: self.reset(), names="value")
        super().__init__([W.HBox([self.dataset, self.activation, self.hidden]),
                          W.HBox([self.eta_slider, self.epochs_slider]),
                          W.HBox([self.train_button, self.reset_button, self.progress]), self.info])
        self.reset()

    def reset(self) -> None:
        """New data and a freshly initialised model from the current settings; redraw."""
        raw, self.y = playground_data(self.dataset.value, self.n, seed=self.seed)
        self.mean, self.std = raw.mean(axis=0), raw.std(axis=0)
        self.X = (raw - self.mean) / self.std
        try:
            self.model = build_model(self.hidden.value, self.activation.value, seed=self.seed)
        except ValueError as exc:
            self.info.value = f"<b style='color:#b00'>{exc}</b>"
            return
        self.losses: list[float] = []
        self.loss0 = self.model.loss(self.X, self.y)  # the untrained network's loss (epoch 0 of the curve)
        self.progress.value = 0
        self.redraw()

    def accuracy(self) -> float:
        return self.model.accuracy(self.X, self.y)

    def train(self, epochs: int | None = None) -> None:
        """Train for ``epochs`` (default: the slider) more epochs, redrawing every ``redraw_every``."""
        total = int(epochs or self.epochs_slider.value)
        self.progress.max, self.progress.value = total, 0
        for k, loss in enumerate(train_epochs(self.model, self.X, self.y, self.eta_slider.value, total,
                                              self.batch_size, seed=self.seed + len(self.losses)), start=1):
            self.losses.append(loss)
            self.progress.value = k
            if not np.isfinite(loss):
                break
            if k % self.redraw_every == 0 or k == total:
                self.redraw()

    def redraw(self) -> None:
        ax, ax2 = self.live.axes
        ax.clear()
        ax2.clear()
        lo, hi = self.X.min(axis=0) - 0.5, self.X.max(axis=0) + 0.5
        g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 120), np.linspace(lo[1], hi[1], 120))
        grid = np.c_[g1.ravel(), g2.ravel()]
        logits = B.to_host(self.model.forward(grid))
        z = logits[:, 1] - logits[:, 0]  # log-odds of class 1: P(1) = σ(z)
        p1 = 1 / (1 + np.exp(-np.clip(z, -50, 50)))
        ax.contourf(g1, g2, p1.reshape(g1.shape), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(g1, g2, p1.reshape(g1.shape), levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(self.X[:, 0], self.X[:, 1], c=self.y, cmap="RdBu_r", vmin=-0.3, vmax=1.3, s=14, edgecolors="k",
                   linewidths=0.4)
        ax.set_aspect("equal")
        ax.set_title(f"{self.dataset.value}: accuracy {self.accuracy():.0%}")
        ax.set_xticks([])
        ax.set_yticks([])
        # epoch 0 = the untrained network, so the loss panel is never an empty axes
        ax2.plot(np.arange(0, len(self.losses) + 1), [self.loss0, *self.losses], "-",
                 marker="o" if not self.losses else None)
        ax2.set_yscale("log")
        if not self.losses:  # one point: give it the axes a run will fill, not matplotlib's ±4 % around it
            ax2.set_xlim(-0.02 * self.epochs_slider.value, self.epochs_slider.value)
            ax2.set_ylim(self.loss0 / 100, self.loss0 * 2)
            ax2.set_title("untrained: epoch 0 only — press train")
        else:
            ax2.set_title(f"training loss after {len(self.losses)} epochs")
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("training loss (cross-entropy)")
        ax2.grid(alpha=0.3)
        sizes = [2, *parse_hidden(self.hidden.value), 2]
        self.info.value = (f"network {sizes}, {self.activation.value}, η = {self.eta_slider.value:.3g}, "
                           f"{len(self.losses)} epochs trained"
                           + (f", loss {self.losses[-1]:.4f}" if self.losses else " — press <b>train</b>"))
        self.live.show()


def playground(dataset: str = "xor", hidden: str = "8,8", activation: str = "tanh", eta: float = 0.3,
               epochs: int = 100, n: int = 200, batch_size: int = 10, redraw_every: int = 10,
               seed: int = 0) -> Playground:
    """A small TensorFlow-Playground: train an nnlib ``Model`` on a 2-D data set and watch its decision boundary.

    ``dataset``: "xor", "moons", "circles", "spirals" or "blobs" (``n`` points, inputs standardised);
    ``hidden``: hidden widths as text, "8,8" = two hidden layers of 8 ("" = none);
    ``activation``: "tanh", "relu" or "sigmoid"; ``eta``: SGD learning rate (minibatches of
    ``batch_size``); ``epochs``: how many epochs one press of **train** runs.  The boundary and the
    loss curve redraw every ``redraw_every`` epochs.  Changing data, layers or activation resets.
    Headless: ``pg = playground("moons"); pg.train(); pg.accuracy()``.
    """
    return Playground(dataset, hidden, activation, eta, epochs, n, batch_size, redraw_every, seed)
