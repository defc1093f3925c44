"""Device-agnostic proof without a GPU: arrays that refuse NumPy, as CuPy's do, go through nnlib."""

import numpy as np
import pytest

import nnlib
from nnlib import backend as B
from nnlib import gradcheck as G
from nnlib import layers as L
from nnlib import optim
from nnlib.model import Model


def test_strict_arrays_refuse_numpy(strict):
    a = strict.ones((2, 3))
    for bad in (lambda: np.asarray(a), lambda: np.array(a), lambda: np.exp(a), lambda: np.sum(a),
                lambda: a + np.ones((2, 3)), lambda: np.ones((2, 3)) * a):
        with pytest.raises(TypeError):
            bad()
    assert isinstance(B.to_host(a), np.ndarray)  # the explicit copy is allowed
    assert float((a * 2).sum()) == 12.0


def _check_params_moved(before, model):
    after = [B.to_host(p) for p in model.params()]
    assert all(isinstance(p, B.xp.ndarray) for p in model.params())
    assert any(not np.allclose(b, a) for b, a in zip(before, after))


@pytest.mark.parametrize("opt", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_mlp_training_step(strict, opt):
    rng = np.random.default_rng(0)
    model = Model([L.Dense(8, 16), L.ReLU(), L.Dropout(0.2), L.Dense(16, 3)], l2=1e-3)
    X, y = rng.standard_normal((32, 8)), rng.integers(0, 3, 32)
    before = [B.to_host(p).copy() for p in model.params()]
    optimizer = optim.get(opt, lr=0.05)
    losses = [model.train_step(X, y, optimizer) for _ in range(20)]  # host data is moved explicitly
    _check_params_moved(before, model)
    assert losses[-1] < losses[0]
    assert 0.0 <= model.accuracy(nnlib.to_device(X), nnlib.to_device(y)) <= 1.0


def test_cnn_training_step(strict):
    rng = np.random.default_rng(0)
    model = Model([L.Conv2D(1, 4, 3, pad=1), L.ReLU(), L.MaxPool2D(2), L.Conv2D(4, 6, 3), L.ReLU(),
                   L.Flatten(), L.Dense(6 * 2 * 2, 10)])
    X = nnlib.to_device(rng.standard_normal((8, 1, 8, 8)))
    y = nnlib.to_device(rng.integers(0, 10, 8))
    before = [B.to_host(p).copy() for p in model.params()]
    opt = optim.Momentum(0.05)
    losses = [model.train_step(X, y, opt) for _ in range(10)]
    _check_params_moved(before, model)
    assert losses[-1] < losses[0]


def test_nielsen_network_sgd_and_gradcheck(strict):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (40, 4))
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    net = nnlib.Network([4, 6, 2], seed=0)
    net.SGD((X, y), epochs=2, mini_batch_size=10, eta=1.0, test_data=(X, y), verbose=False)
    assert 0 <= net.evaluate((X, y)) <= 40
    errors = G.check_network(net, nnlib.to_device(X[:5].T.copy()), nnlib.to_device(np.eye(2)[y[:5]].T.copy()))
    assert max(errors.values()) < 1e-7


def test_model_gradcheck_on_strict(strict):
    rng = np.random.default_rng(2)
    model = Model([L.Conv2D(1, 2, 3), L.Tanh(), L.Flatten(), L.Dense(2 * 4 * 4, 3)])
    errors = G.check_model(model, nnlib.to_device(rng.standard_normal((2, 1, 6, 6))), nnlib.to_device(np.array([0, 2])))
    assert max(errors.values()) < 1e-7


def test_numpy_call_inside_library_code_would_be_caught(strict, monkeypatch):
    """Sanity check of the harness: a layer that calls np.* on device data fails under strict."""
    import nnlib.activations as A

    monkeypatch.setattr(A, "tanh", lambda z: np.tanh(z))
    monkeypatch.setitem(A.ACTIVATIONS, "tanh", A.Activation("tanh", A.tanh, A.tanh_prime))
    with pytest.raises(TypeError):
        L.Activation("tanh").forward(strict.ones((2, 2)))


def _ops(fn) -> int:
    from cupy_double import strict as _strict

    before = _strict.calls
    fn()
    return _strict.calls - before


def test_no_python_loop_over_samples_or_pixels(strict):
    """The number of array operations of a training step does not grow with the batch or the image size."""
    rng = np.random.default_rng(0)

    def cnn_step(n, side):
        nnlib.seed(0)
        model = Model([L.Conv2D(1, 3, 3, pad=1), L.ReLU(), L.MaxPool2D(2), L.Flatten(),
                       L.Dense(3 * (side // 2) ** 2, 4), L.Sigmoid(), L.Dense(4, 2)])
        X = nnlib.to_device(rng.standard_normal((n, 1, side, side)))
        y = nnlib.to_device(rng.integers(0, 2, n))
        opt = optim.Adam(0.01)
        model.train_step(X, y, opt)  # first step allocates optimiser state
        return _ops(lambda: model.train_step(X, y, opt))

    def network_step(n):
        net = nnlib.Network([5, 7, 3], seed=0)
        X = nnlib.to_device(rng.uniform(0, 1, (n, 5)))
        Y = nnlib.to_device(np.eye(3)[rng.integers(0, 3, n)])
        net._step(X, Y, 0.5, 0.0, n)
        return _ops(lambda: net._step(X, Y, 0.5, 0.0, n))

    assert cnn_step(2, 8) == cnn_step(16, 8) == cnn_step(2, 16)
    assert network_step(3) == network_step(50)
