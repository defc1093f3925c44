"""Tests for nnlib.viz on the Agg backend: what each function draws, and that it saves as PNG."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import nnlib  # noqa: E402
from nnlib import backend as B  # noqa: E402
from nnlib import metrics, viz  # noqa: E402
from nnlib.layers import Conv2D, Dense, ReLU  # noqa: E402
from nnlib.model import Model  # noqa: E402
from nnlib.network import Network  # noqa: E402
from nnlib.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def saved(fig, tmp_path, name="plot.png"):
    path = tmp_path / name
    fig.savefig(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    return path


def data_lines(ax):
    return [line for line in ax.get_lines() if line.get_label() not in ("best epoch", "chance")]


def test_plot_history_train_and_val_curves(tmp_path):
    h = History(loss=[1.0, 0.6, 0.4, 0.45], train_acc=[0.5, 0.7, 0.8, 0.82], val_loss=[1.1, 0.7, 0.5, 0.6],
                val_acc=[0.45, 0.65, 0.75, 0.74], lr=[0.1] * 4, seconds=[0.1] * 4, best_epoch=2)
    fig = viz.plot_history(h)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    ax_loss, ax_acc = fig.axes
    assert ax_loss.get_title() == "loss (cost)" and ax_acc.get_title() == "accuracy"
    for ax, train, val in ((ax_loss, h.loss, h.val_loss), (ax_acc, h.train_acc, h.val_acc)):
        lines = data_lines(ax)
        assert [line.get_label() for line in lines] == ["training", "validation"]
        np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3, 4])
        np.testing.assert_array_equal(lines[0].get_ydata(), train)
        np.testing.assert_array_equal(lines[1].get_ydata(), val)
        best = [line for line in ax.get_lines() if line.get_label() == "best epoch"]
        assert len(best) == 1 and best[0].get_xdata()[0] == 3
    saved(fig, tmp_path)


def test_plot_history_without_validation_and_nielsen_dict_and_given_axes():
    fig = viz.plot_history(History(loss=[1.0, 0.5], train_acc=[0.5, 0.9]).to_dict())
    assert [len(data_lines(ax)) for ax in fig.axes] == [1, 1]
    fig, axes = plt.subplots(1, 2)
    out = viz.plot_history({"seconds": [1, 1, 1], "cost": [0.3, 0.2, 0.1], "test_accuracy": [0.8, 0.9, 0.95]},
                           ax=axes, title="Network.SGD")
    assert out is fig and fig._suptitle.get_text() == "Network.SGD"
    np.testing.assert_array_equal(data_lines(axes[1])[0].get_ydata(), [0.8, 0.9, 0.95])
    with pytest.raises(ValueError, match="pair of Axes"):
        viz.plot_history(History(loss=[1.0]), ax=axes[0])


def test_plot_decision_boundary_labels(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    calls = []

    def predict(G):
        calls.append(G)
        return (G[:, 0] > 0).astype(int)

    ax = viz.plot_decision_boundary(predict, X, y, resolution=30)
    assert isinstance(ax, Axes) and ax.get_title() == "decision boundary"
    assert [c.filled for c in ax.collections[:-1]] == [True]  # labels: regions only, no probability line
    assert len(calls) == 1 and isinstance(calls[0], np.ndarray) and calls[0].shape == (900, 2)
    scatter = ax.collections[-1]
    assert scatter.get_offsets().shape == (50, 2)
    np.testing.assert_array_equal(scatter.get_array(), y)
    assert ax.get_xlim()[0] < X[:, 0].min() and ax.get_xlim()[1] > X[:, 0].max()
    saved(ax.figure, tmp_path)


def test_plot_decision_boundary_probabilities_models_and_given_ax():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    fig, (a1, a2, a3) = plt.subplots(1, 3)
    out = viz.plot_decision_boundary(lambda G: 1 / (1 + np.exp(-(G[:, 1] - 0.5) * 4)), X, y, ax=a1, resolution=20)
    assert out is a1
    line = [c for c in a1.collections if getattr(c, "levels", None) is not None and not c.filled]
    assert len(line) == 1 and list(line[0].levels) == [0.5]  # probabilities: the p = 0.5 line is drawn
    nnlib.seed(0)
    model = Model([Dense(2, 4), ReLU(), Dense(4, 3)])  # scores (n, 3) -> argmax
    assert viz.plot_decision_boundary(model, X, y, ax=a2, resolution=20) is a2
    assert viz.plot_decision_boundary(Network([2, 3, 2], seed=0), X, y, ax=a3, resolution=20) is a3
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        viz.plot_decision_boundary(lambda G: G[:, 0], np.zeros((4, 3)), y)


def test_plot_weights_one_image_per_row(tmp_path):
    W = np.random.default_rng(0).normal(size=(30, 64))
    fig = viz.plot_weights(W, shape=(8, 8), n=12)
    assert isinstance(fig, Figure) and len(fig.axes) == 12
    for i, ax in enumerate(fig.axes):
        (im,) = ax.get_images()
        np.testing.assert_array_equal(im.get_array(), W[i].reshape(8, 8))
        lo, hi = im.get_clim()
        assert lo == -hi == -np.abs(W[i]).max()  # symmetric scale: zero is white
    saved(fig, tmp_path)
    nnlib.seed(0)
    assert len(viz.plot_weights(Dense(16, 5), shape=(4, 4)).axes) == 5  # a layer works too
    with pytest.raises(ValueError, match=r"\(n_out, 784\)"):
        viz.plot_weights(W)


def test_plot_filters_grey_rgb_and_multichannel(tmp_path):
    rng = np.random.default_rng(0)
    fig = viz.plot_filters(rng.normal(size=(6, 1, 3, 3)))
    assert len(fig.axes) == 6 and fig.axes[0].get_images()[0].get_array().shape == (3, 3)
    saved(fig, tmp_path)
    fig = viz.plot_filters(rng.normal(size=(4, 3, 5, 5)))
    rgb = fig.axes[0].get_images()[0].get_array()
    assert len(fig.axes) == 4 and rgb.shape == (5, 5, 3) and rgb.min() >= 0 and rgb.max() <= 1
    fig = viz.plot_filters(rng.normal(size=(2, 4, 3, 3)))
    assert len(fig.axes) == 8 and [ax.get_title() for ax in fig.axes[:5]] == ["0.0", "0.1", "0.2", "0.3", "1.0"]
    nnlib.seed(0)
    assert len(viz.plot_filters(Conv2D(1, 5, 3)).axes) == 5
    with pytest.raises(ValueError, match=r"\(F, C, k, k\)"):
        viz.plot_filters(np.zeros((3, 3, 3)))


def test_plot_confusion_matrix_annotates_counts(tmp_path):
    cm = metrics.confusion_matrix([0, 0, 1, 2, 2, 2, 1], [0, 1, 1, 2, 2, 0, 1])
    ax = viz.plot_confusion_matrix(cm, labels=["cat", "dog", "owl"])
    assert isinstance(ax, Axes) and ax.get_title() == "confusion matrix"
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in cm.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "owl"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    saved(ax.figure, tmp_path)
    ax = viz.plot_confusion_matrix(cm, normalize=True)
    assert ax.texts[0].get_text() == "0.50"
    with pytest.raises(ValueError, match="2 labels"):
        viz.plot_confusion_matrix(cm, labels=["a", "b"])


def test_plot_misclassified_shows_only_errors(tmp_path):
    X = np.arange(10 * 16, dtype=float).reshape(10, 16)
    y_true = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    y_pred = y_true.copy()
    y_pred[[2, 5, 7]] = [9, 3, 1]
    fig = viz.plot_misclassified(X, y_true, y_pred, shape=(4, 4))
    assert [ax.get_title() for ax in fig.axes] == ["2 → 9", "5 → 3", "7 → 1"]
    np.testing.assert_array_equal(fig.axes[1].get_images()[0].get_array(), X[5].reshape(4, 4))
    assert "3 of 10" in fig._suptitle.get_text()
    saved(fig, tmp_path)
    scores = np.eye(10)[y_pred]  # one-hot predictions, n limits the count
    assert len(viz.plot_misclassified(X, y_true, scores, shape=(4, 4), n=2).axes) == 2
    fig = viz.plot_misclassified(X, y_true, y_true, shape=(4, 4))
    assert "no misclassified" in fig.axes[0].texts[0].get_text()


def test_plot_roc_single_and_per_class(tmp_path):
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    fpr, tpr, _ = metrics.roc_curve(y, s)
    area = metrics.auc(fpr, tpr)
    ax = viz.plot_roc(fpr, tpr, auc=area)
    lines = ax.get_lines()
    assert len(lines) == 2 and lines[1].get_label() == "chance"
    np.testing.assert_array_equal(lines[0].get_xdata(), fpr)
    assert f"{area:.3f}" in lines[0].get_label()
    assert ax.get_xlabel() == "false-positive rate" and ax.get_title() == "ROC curve"
    saved(ax.figure, tmp_path)
    probs = np.random.default_rng(0).dirichlet(np.ones(3), size=30)
    per_class = metrics.roc_per_class(np.arange(30) % 3, probs)
    ax = viz.plot_roc(per_class)
    assert len(ax.get_lines()) == 4 and "class 2 (AUC" in ax.get_lines()[2].get_label()


def test_image_grid_in_a_figure_or_split_axes(tmp_path):
    imgs = np.random.default_rng(0).random((7, 5, 5))
    fig = viz.image_grid(imgs, ncols=3, titles=list("abcdefg"))
    assert len(fig.axes) == 7 and fig.axes[6].get_title() == "g"
    fig, (left, right) = plt.subplots(1, 2)
    out = viz.image_grid(imgs[:4], ax=right)
    assert out is fig and len(fig.axes) == 5 and left in fig.axes and right not in fig.axes
    saved(fig, tmp_path)
    rows = imgs.reshape(7, 25)
    assert viz.image_grid(rows, shape=(5, 5)).axes[0].get_images()[0].get_array().shape == (5, 5)
    with pytest.raises(ValueError, match="shape=\\(h, w\\)"):
        viz.image_grid(rows)


def test_device_arrays_are_copied_to_the_host():
    nnlib.use("strict")
    try:
        W = B.to_device(np.random.default_rng(0).normal(size=(3, 16)))
        assert len(viz.plot_weights(W, shape=(4, 4)).axes) == 3
        cm = B.to_device(np.array([[3, 1], [0, 4]]))
        assert [t.get_text() for t in viz.plot_confusion_matrix(cm).texts] == ["3", "1", "0", "4"]
        X = B.to_device(np.array([[0.0, 0.0], [1.0, 1.0]]))
        ax = viz.plot_decision_boundary(lambda G: B.to_device((G[:, 0] > 0.5).astype(int)), X,
                                        B.to_device(np.array([0, 1])), resolution=10)
        assert ax.collections[-1].get_offsets().shape == (2, 2)
    finally:
        nnlib.use("numpy")


def test_history_schema_is_one_the_recorded_runs_and_plot_history_share(tmp_path):
    """The course's recorded full runs load as History and plot with data; the old schema fails loudly."""
    from pathlib import Path

    from nnlib.notebook import histories_folder, load_history

    files = sorted(Path(histories_folder()).glob("*.json"))
    assert {f.stem for f in files} >= {"nielsen_784_30_10", "mlp_784_100_10", "cnn"}
    for f in files:
        h = load_history(f.stem)
        assert isinstance(h, History) and h.epochs == len(h.test_acc) == len(h.loss) > 0, f.name
        fig = viz.plot_history(h)
        ax_loss, ax_acc = fig.axes
        assert [line.get_label() for line in data_lines(ax_acc)] == ["test"], f.name
        np.testing.assert_array_equal(data_lines(ax_acc)[0].get_ydata(), h.test_acc)
        np.testing.assert_array_equal(data_lines(ax_loss)[0].get_ydata(), h.loss)
        plt.close(fig)
    # a history in the schema that drew empty axes before (keys nothing reads) is refused, not plotted
    with pytest.raises(ValueError, match="unknown fields"):
        viz.plot_history({"epoch": [1, 2], "train_loss": [0.3, 0.2], "test_accuracy": [0.9, 0.95]})
    (tmp_path / "old.json").write_text('{"epoch": [1], "train_loss": [0.3], "test_accuracy": [0.9]}')
    with pytest.raises(ValueError, match="old.json.*unknown fields"):
        History.load(tmp_path / "old.json")
    with pytest.raises(ValueError, match="no loss or accuracy"):
        viz.plot_history(History())
    # and a History written by save() comes back equal (what bench/accuracy.py writes)
    h = History(loss=[0.5, 0.4], test_acc=[0.9, 0.92], seconds=[1.0, 1.0], meta={"model": "x"})
    h.save(tmp_path / "h.json")
    assert History.load(tmp_path / "h.json") == h
