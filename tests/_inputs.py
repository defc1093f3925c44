"""Test inputs that keep gradient checks away from kinks and ties (shared by test_gradients and test_gpu)."""

import numpy as np


def away_from_zero(rng, shape, margin=0.05):
    """Random normal values with |x| > margin: ReLU and max-pool are checked away from their kinks."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * (margin + np.abs(x)), x)


def distinct_pool_input(rng, shape):
    """Values whose every pooling window has a clear maximum (gaps ≥ 0.01)."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.01 - n * 0.005).astype(np.float64)
