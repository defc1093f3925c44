"""nnlib.widgets built and driven headless (no front end): controls change the state they should."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnlib import Perceptron, widgets  # noqa: E402
from nnlib.datasets import logic_table  # noqa: E402

# ---------------------------------------------------------------- perceptron stepper


def test_stepper_weights_follow_perceptron_steps():
    X, d = logic_table("AND")
    w = widgets.perceptron_stepper(X, d, eta=0.5, epochs=6)
    assert isinstance(w, W.VBox)
    expected = list(Perceptron(2, 0.5).steps(X, d, 6))
    assert len(w.updates) == len(expected) == 24
    np.testing.assert_array_equal(w.w, np.zeros(3))
    for k in range(1, 8):
        w.next_button.click()
        assert w.step.value == k
        np.testing.assert_allclose(w.w, expected[k - 1].w_after)
    w.back_button.click()
    np.testing.assert_allclose(w.w, expected[5].w_after)
    w.reset_button.click()
    np.testing.assert_array_equal(w.w, np.zeros(3))


def test_stepper_slider_end_separates_and_redraws():
    X, d = logic_table("OR")
    w = widgets.perceptron_stepper(X, d)
    draws = w.live.draws
    w.step.value = len(w.updates)
    assert w.live.draws == draws + 1
    assert "update" in w.info.value
    p = Perceptron(2, 1.0, w.w)
    np.testing.assert_array_equal(p.predict(X), d)


def test_stepper_one_input_not_gate_and_next_stops_at_end():
    X, d = logic_table("NOT")
    w = widgets.perceptron_stepper(X, d, epochs=3)
    for _ in range(len(w.updates) + 3):
        w.next_button.click()
    assert w.step.value == len(w.updates)
    np.testing.assert_array_equal(Perceptron(1, 1.0, w.w).predict(X), d)


def test_perceptron_updates_matches_fit_on_xor():
    X, d = logic_table("XOR")
    ups = widgets.perceptron_updates(X, d, epochs=20)
    mistakes = [sum(u.changed for u in ups if u.epoch == e) for e in range(20)]
    assert mistakes == Perceptron(2).fit(X, d, epochs=20)
    assert min(mistakes) > 0  # XOR: never an epoch without a mistake


def test_plot_perceptron_draws_line_and_rejects_3d():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    widgets.plot_perceptron(*logic_table("AND"), w=[-1.5, 1, 1], ax=ax)
    assert len(ax.lines) == 1
    with pytest.raises(ValueError, match="1 or 2 inputs"):
        widgets.plot_perceptron(np.zeros((2, 3)), [0, 1], [0, 0, 0, 0], ax=ax)


# ---------------------------------------------------------------- gradient descent


def test_gd_path_lecture_numbers():
    p = widgets.gd_path(widgets.lecture_grad, (6, -2), 0.01, 2)
    np.testing.assert_allclose(widgets.lecture_grad(p[0]), [6, -4])
    np.testing.assert_allclose(p[1], [5.94, -1.96])
    np.testing.assert_allclose(widgets.lecture_grad(p[1]), [5.88, -3.92])
    assert widgets.lecture_z(6, -2) == 14


def test_gd_path_converges_diverges_and_schedules():
    good = widgets.gd_path(widgets.lecture_grad, (6, -2), 0.1, 200)
    np.testing.assert_allclose(good[-1], [3, 0], atol=1e-8)
    bad = widgets.gd_path(widgets.lecture_grad, (6, -2), 1.1, 500)
    assert len(bad) < 501 and np.max(np.abs(bad[-1])) > 1e6
    sched = widgets.gd_path(widgets.lecture_grad, (6, -2), lambda t: 0.5 / (1 + t), 3)
    # η_0 = 0.5 is Newton's step for this quadratic: the minimum in one step
    np.testing.assert_allclose(sched[1], [3, 0])
    one_d = widgets.gd_path(lambda x: 2 * x - 6, 6.0, 0.25, 1)
    np.testing.assert_allclose(one_d[:, 0], [6, 4.5])


def test_gradient_descent_explorer_sliders_redraw():
    g = widgets.gradient_descent_explorer()
    assert isinstance(g, W.VBox)
    np.testing.assert_allclose(g.path[1], [5.94, -1.96])
    assert len(g.path) == 51
    draws = g.live.draws
    g.eta_slider.value = 0.3
    g.steps_slider.value = 100
    assert g.live.draws == draws + 2
    np.testing.assert_allclose(g.path[-1], [3, 0], atol=1e-6)
    g.eta_slider.value = 1.2
    assert "diverged" in g.info.value


def test_explorer_custom_function():
    g = widgets.gradient_descent_explorer(f=lambda x, y: x**2 + 10 * y**2,
                                          grad=lambda p: np.array([2 * p[0], 20 * p[1]]),
                                          start=(2, 1), eta=0.05, steps=10, xlim=(-3, 3), ylim=(-2, 2))
    np.testing.assert_allclose(g.path[1], [2 - 0.05 * 4, 1 - 0.05 * 20])


# ---------------------------------------------------------------- playground


@pytest.mark.parametrize("text,expected", [("8,8", [8, 8]), (" 4 ", [4]), ("", []), ("16; 8", [16, 8])])
def test_parse_hidden(text, expected):
    assert widgets.parse_hidden(text) == expected


def test_parse_hidden_rejects_garbage():
    with pytest.raises(ValueError, match="commas"):
        widgets.parse_hidden("8,x")


@pytest.mark.parametrize("name", widgets.DATASETS)
def test_playground_data_shapes(name):
    X, y = widgets.playground_data(name, n=60)
    assert X.shape == (60, 2) and y.shape == (60,)
    assert set(np.unique(y)) == {0, 1}


def test_playground_learns_xor():
    pg = widgets.playground("xor", hidden="8,8", activation="tanh", epochs=100)
    assert isinstance(pg, W.VBox)
    before = pg.accuracy()
    pg.train_button.click()
    assert len(pg.losses) == 100 and pg.progress.value == 100
    assert pg.accuracy() > 0.9 > before or pg.accuracy() > 0.9
    assert pg.losses[-1] < pg.losses[0]


def test_playground_controls_reset_and_rebuild():
    pg = widgets.playground("moons", hidden="4", epochs=20)
    pg.train_button.click()
    assert len(pg.losses) == 20
    pg.hidden.value = "6,3"
    assert pg.losses == []
    assert [layer.params["W"].shape for layer in pg.model.layers if "W" in layer.params] == [(6, 2), (3, 6), (2, 3)]
    pg.activation.value = "relu"
    pg.dataset.value = "circles"
    pg.epochs_slider.value = 10
    pg.train_button.click()
    assert len(pg.losses) == 10
    pg.reset_button.click()
    assert pg.losses == [] and pg.progress.value == 0
    pg.hidden.value = "a,b"
    assert "commas" in pg.info.value


def test_playground_loss_panel_before_training_spans_the_run():
    """Untrained, the loss panel shows its one point on the axes a run fills (a decade and more of loss, the
    epochs the slider will train), not on matplotlib's ±4 % around a lone dot."""
    pg = widgets.playground("spirals", hidden="8,8", epochs=200)
    ax2 = pg.live.axes[1]
    lo, hi = ax2.get_ylim()
    assert hi / lo >= 100 and lo < pg.loss0 < hi
    assert ax2.get_xlim()[1] == 200 and "press train" in ax2.get_title()
    pg.train(20)
    assert "after 20 epochs" in ax2.get_title()


def test_no_hidden_layer_cannot_learn_xor():
    pg = widgets.playground("xor", hidden="", epochs=50)
    pg.train()
    assert pg.accuracy() < 0.8
