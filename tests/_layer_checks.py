"""Checks every layer's error handling must pass (shared by test_new_layers and test_residual_recurrent)."""

import re

import numpy as np
import pytest

from nnlib._checks import ShapeError


def assert_backward_guards(layer, shape):
    """``backward`` before ``forward`` is a RuntimeError, and an upstream gradient of the wrong shape a ShapeError,
    each naming the layer (and the shape)."""
    name = re.escape(type(layer).__name__)
    with pytest.raises(RuntimeError, match=rf"{name}.*backward called before forward"):
        layer.backward(np.zeros(shape))
    out = layer.forward(np.random.default_rng(0).standard_normal(shape), train=True)
    bad = tuple(out.shape[:-1]) + (out.shape[-1] + 1,)
    with pytest.raises(ShapeError, match=rf"{name}.*upstream gradient has shape {re.escape(str(bad))}"):
        layer.backward(np.zeros(bad))
