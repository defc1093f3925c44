"""Bad input gives a clear error that names the layer and the shapes; nothing broadcasts silently."""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib import layers as L
from nnlib import losses, optim
from nnlib._checks import ShapeError
from nnlib.model import Model


def mlp():
    return Model([L.Dense(4, 3), L.ReLU(), L.Dense(3, 2)])


def test_wrong_feature_count_names_layer_and_shapes():
    with pytest.raises(ShapeError, match=r"layer 0 \(Dense\(4→3\)\).*\(batch, 4\).*\(5, 6\)"):
        mlp().forward(np.zeros((5, 6)))


def test_wrong_ndim_for_conv():
    model = Model([L.Conv2D(1, 2, 3), L.Flatten(), L.Dense(2 * 3 * 3, 2)])
    with pytest.raises(ShapeError, match=r"layer 0 \(Conv2D.*4-d array, got shape \(5, 25\)"):
        model.forward(np.zeros((5, 25)))
    with pytest.raises(ShapeError, match=r"expected input \(batch, 1, H, W\), got \(5, 3, 5, 5\)"):
        model.forward(np.zeros((5, 3, 5, 5)))
    with pytest.raises(ShapeError, match="does not fit"):
        L.Conv2D(1, 2, 5).forward(np.zeros((1, 1, 3, 3)))


def test_kernel_too_large_for_pool():
    with pytest.raises(ShapeError, match=r"MaxPool2D.*larger than input \(1, 1, 1, 1\)"):
        L.MaxPool2D(2).forward(np.zeros((1, 1, 1, 1)))


def test_integer_input_is_rejected_with_advice():
    with pytest.raises(TypeError, match=r"uint8.*\(2, 4\).*scale"):
        mlp().forward(np.zeros((2, 4), dtype=np.uint8))
    with pytest.raises(TypeError, match="floating-point"):
        nnlib.Network([4, 2]).feedforward(np.zeros((4, 1), dtype=np.int64))


def test_layer_dtype_mismatch_is_named():
    with pytest.raises(TypeError, match=r"Dense\(4→3\).*float32.*float64"):
        L.Dense(4, 3).forward(np.zeros((2, 4), dtype=np.float32))
    # the Model casts its input explicitly instead
    assert mlp().forward(np.zeros((2, 4), dtype=np.float32)).dtype == np.float64


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_inputs(bad):
    x = np.zeros((3, 4))
    x[1, 2] = bad
    with pytest.raises(FloatingPointError, match=r"Model input.*\(3, 4\).*1 NaN/inf"):
        mlp().forward(x)
    with pytest.raises(FloatingPointError, match="Network.feedforward"):
        nnlib.Network([4, 2]).feedforward(x.T)


def test_empty_batch():
    with pytest.raises(ShapeError, match=r"empty batch.*\(0, 4\)"):
        mlp().forward(np.zeros((0, 4)))
    with pytest.raises(ShapeError, match="empty"):
        nnlib.Network([4, 2]).update_mini_batch([], eta=1.0)


def test_targets_do_not_broadcast():
    model = mlp()
    with pytest.raises(ShapeError, match=r"5 inputs but 4 targets"):
        model.loss_and_grads(np.zeros((5, 4)), np.zeros(4, dtype=np.int64))
    q = Model([L.Dense(4, 2), L.Sigmoid()], cost="quadratic")
    with pytest.raises(ShapeError, match=r"output a has shape \(5, 2\) but target y has shape \(5, 1\)"):
        q.loss_and_grads(np.zeros((5, 4)), np.zeros((5, 1)))
    with pytest.raises(ShapeError, match=r"logits have shape \(3, 2\); targets must be one-hot.*"
                                         r"labels of shape \(3,\), got int64 \(3, 1\)"):
        losses.SoftmaxCrossEntropy().fn(np.zeros((3, 2)), np.zeros((3, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"labels must lie in 0..1, got range 0..5"):
        losses.SoftmaxCrossEntropy().fn(np.zeros((3, 2)), np.array([0, 1, 5]))


def test_network_backprop_shapes():
    net = nnlib.Network([3, 4, 2])
    with pytest.raises(ShapeError, match=r"layer 1 has 3 inputs.*got shape \(5, 2\)"):
        net.backprop(np.zeros((5, 2)), np.zeros((2, 2)))
    with pytest.raises(ShapeError, match=r"y must have shape \(2, 4\), got \(2, 3\)"):
        net.backprop(np.zeros((3, 4)), np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"inputs have 5 features but layer 1 has 3"):
        net.SGD((np.zeros((10, 5)), np.zeros(10, dtype=np.int64)), 1, 2, 1.0, verbose=False)


def test_backward_checks_upstream_gradient():
    layer = L.Dense(4, 3)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((2, 3)))
    layer.forward(np.zeros((2, 4)))
    with pytest.raises(ShapeError, match=r"Dense\(4→3\).backward: upstream gradient has shape \(2, 4\).*\(2, 3\)"):
        layer.backward(np.zeros((2, 4)))


def test_optimizer_shape_mismatch():
    with pytest.raises(ShapeError, match=r"parameter 0 has shape \(2, 2\) but its gradient has shape \(2,\)"):
        optim.SGD(0.1).step([np.zeros((2, 2))], [np.zeros(2)])
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam(lr=0)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_diverging_network_run_warns(activation):
    """η = 100 saturates sigmoid units (or kills ReLUs): the cost stops falling, and SGD says so."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (200, 8))
    y = rng.integers(0, 3, 200)
    net = nnlib.Network([8, 30, 3], activation=activation, cost="quadratic", seed=0)
    with pytest.warns(RuntimeWarning, match=r"did not lower the cost.*eta=100.0, batch 10, sizes \[8, 30, 3\]"):
        with np.errstate(all="ignore"):
            net.SGD((X, y), epochs=2, mini_batch_size=10, eta=100.0, verbose=False)
    quiet = nnlib.Network([8, 30, 3], cost="quadratic", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet.SGD((X, y), epochs=2, mini_batch_size=10, eta=0.5, verbose=False)


def test_exploding_network_run_raises():
    net = nnlib.Network([2, 3, 1], activation="relu", cost="quadratic", seed=0)
    X = np.ones((4, 2)) * 1e3
    with pytest.raises(FloatingPointError, match=r"cost became.*eta=100.0.*diverged"):
        with np.errstate(all="ignore"):
            net.SGD((X, np.ones((4, 1)) * 1e3), epochs=3, mini_batch_size=4, eta=100.0, verbose=False)


def test_diverging_model_run_raises():
    rng = np.random.default_rng(0)
    model = Model([L.Dense(8, 30), L.ReLU(), L.Dense(30, 3)], cost="quadratic")
    opt = optim.SGD(100.0)
    X, y = rng.standard_normal((50, 8)), rng.integers(0, 3, 50)
    with pytest.raises(FloatingPointError, match=r"loss became.*batch of 50.*\(50, 3\).*lower the learning rate"):
        with np.errstate(all="ignore"):
            for _ in range(50):
                model.train_step(X, y, opt)


def test_unknown_names():
    with pytest.raises(ValueError, match="unknown activation 'sigmod'"):
        nnlib.Network([2, 2], activation="sigmod")
    with pytest.raises(ValueError, match="unknown cost"):
        Model([L.Dense(2, 2)], cost="hinge")
    with pytest.raises(ValueError, match="unknown backend"):
        nnlib.use("tpu")
    with pytest.raises(ValueError, match="Dropout"):
        L.Dropout(1.0)


def test_no_divergence_warning_when_training_goes_on_epoch_by_epoch():
    """A notebook calls SGD one epoch at a time; a later epoch that raises the cost a little is not a warning."""
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, (200, 8))
    y = rng.integers(0, 3, 200)
    net = nnlib.Network([8, 30, 3], cost="quadratic", seed=0)
    net.SGD((X, y), epochs=1, mini_batch_size=10, eta=0.5, verbose=False)
    net.total_cost = lambda data: 1e3  # every later epoch "raises" the cost (still finite, below the 1e6 limit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.SGD((X, y), epochs=1, mini_batch_size=10, eta=0.5, verbose=False)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_in_a_training_batch_name_the_input_not_divergence(bad):
    """Even where σ saturates ±inf to a finite loss, a bad training batch is named as bad input, not divergence."""
    from nnlib import layers as L
    from nnlib.model import Model
    for layers in ([L.Dense(4, 5), L.ReLU(), L.Dense(5, 3)], [L.Dense(4, 5), L.Sigmoid(), L.Dense(5, 3)]):
        x = np.zeros((3, 4))
        x[2, 0] = bad
        with pytest.raises(FloatingPointError, match=r"Model input.*\(3, 4\).*1 NaN/inf"):
            Model(layers).loss_and_grads(x, np.array([0, 1, 2]))
