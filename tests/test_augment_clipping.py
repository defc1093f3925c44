"""nnlib.augment (shifted copies of images) and nnlib.clipping (gradient-norm clipping), used by lecture 7."""

from __future__ import annotations

import numpy as np
import pytest

import nnlib
from nnlib import datasets, optim, train
from nnlib.augment import ONE_PIXEL, shift_images, with_shifts
from nnlib.clipping import ClipGradNorm, global_norm


def test_shift_moves_pixels_and_fills_the_border_with_zeros():
    X = np.arange(1, 13, dtype=float).reshape(1, 12)           # one 3×4 image, no zero pixel
    img = X.reshape(3, 4)
    right = shift_images(X, (3, 4), 0, 1).reshape(3, 4)
    assert np.array_equal(right[:, 1:], img[:, :-1]) and not right[:, 0].any()
    up = shift_images(X, (3, 4), -1, 0).reshape(3, 4)
    assert np.array_equal(up[:-1], img[1:]) and not up[-1].any()
    diag = shift_images(X, (3, 4), 1, -2).reshape(3, 4)
    assert np.array_equal(diag[1:, :2], img[:-1, 2:]) and diag.sum() == img[:-1, 2:].sum()
    assert np.array_equal(shift_images(X, (3, 4), 0, 0), X)


def test_with_shifts_repeats_the_labels():
    (X, y), _, _ = datasets.digits()
    Xa, ya = with_shifts(X[:10], y[:10], (8, 8))
    assert Xa.shape == (50, 64) and np.array_equal(ya, np.tile(y[:10], 5))
    assert np.array_equal(Xa[:10], X[:10])
    assert np.array_equal(Xa[10:20], shift_images(X[:10], (8, 8), *ONE_PIXEL[0]))


@pytest.mark.parametrize("shape,shift", [((4, 4), (0, 1)), ((3, 4), (3, 0)), ((3, 4), (0, -4))])
def test_shift_rejects_bad_shapes_and_shifts(shape, shift):
    with pytest.raises(ValueError, match="shift_images"):
        shift_images(np.zeros((2, 12)), shape, *shift)


def test_clipping_scales_long_gradients_only():
    p, q = np.zeros(3), np.zeros(3)
    opt = ClipGradNorm(optim.SGD(0.5), max_norm=1.0)
    opt.step([p], [np.array([3.0, 4.0, 0.0])])                 # norm 5 → clipped to length 1
    assert np.allclose(p, -0.5 * np.array([0.6, 0.8, 0.0])) and opt.clipped == 1 and opt.norms == [5.0]
    optim.SGD(0.5).step([q], [np.array([0.3, 0.4, 0.0])])      # norm 0.5 → left alone
    opt.step([p], [np.array([0.3, 0.4, 0.0])])
    assert np.allclose(p - (-0.5 * np.array([0.6, 0.8, 0.0])), q) and opt.clipped == 1
    assert global_norm([np.array([3.0]), np.array([[4.0]])]) == 5.0
    opt.lr = 0.1
    assert opt.inner.lr == 0.1 and opt.lr == 0.1
    with pytest.raises(ValueError, match="max_norm"):
        ClipGradNorm(optim.SGD(0.1), 0)


def test_clipping_trains_with_fit_and_a_schedule():
    (X, y), val, _ = datasets.digits()
    nnlib.seed(0)
    model = nnlib.Model([nnlib.Dense(64, 20), nnlib.ReLU(), nnlib.Dense(20, 10)])
    opt = ClipGradNorm(optim.Momentum(0.1), max_norm=0.5)
    h = train.fit(model, (X[:300], y[:300]), val, epochs=3, batch_size=30, optimizer=opt,
                  schedule=optim.StepDecay(0.1, 0.5, 1), seed=0, progress=False)
    assert len(opt.norms) == 30 and h.lr == [0.1, 0.05, 0.025] and h.loss[-1] < h.loss[0]


def test_clipping_runs_on_the_strict_device_backend(strict):
    """The wrapper only uses the array module's own operations: it trains on the CuPy-like strict backend."""
    rng = np.random.default_rng(0)
    model = nnlib.Model([nnlib.Dense(8, 16), nnlib.ReLU(), nnlib.Dense(16, 3)])
    X, y = rng.standard_normal((32, 8)), rng.integers(0, 3, 32)
    opt = ClipGradNorm(optim.SGD(0.5), max_norm=0.1)
    losses = [model.train_step(X, y, opt) for _ in range(10)]
    assert all(isinstance(p, nnlib.backend.xp.ndarray) for p in model.params())
    assert opt.clipped > 0 and losses[-1] < losses[0]
