"""Issue 12, section 1: the sharp edges — sigmoid's tails, backward before forward, argument validation,
rectangular kernels and padding="same", NaN/inf at the public entry points, soft targets, max-pool and NaN,
and Nielsen's data conversion."""

import warnings
from decimal import Decimal, getcontext

import numpy as np
import pytest

import nnlib
from nnlib import activations as A
from nnlib import backend as B

# ---------------------------------------------------------------- sigmoid


def _exact_sigmoid(z):
    """σ(z) in 50-digit decimal arithmetic, rounded once to float64."""
    getcontext().prec = 50
    return np.array([float(1 / (1 + (-Decimal(float(v))).exp())) for v in np.ravel(z)]).reshape(np.shape(z))


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_sigmoid_relative_error_on_the_whole_float64_range(backend):
    z = np.concatenate([np.linspace(-700, 700, 7001), [-709.0, -100.0, -38.0, -26.0, -1e-8, 0.0, 1e-8]])
    exact = _exact_sigmoid(z)
    nnlib.use(backend)
    try:
        got = B.to_host(A.sigmoid(B.to_device(z)))
        buf = B.to_device(z.copy())
        inplace = B.to_host(B.sigmoid_(buf))
    finally:
        nnlib.use("numpy")
    rel = np.abs(got - exact) / exact
    assert rel.max() <= 1e-12, (rel.max(), z[rel.argmax()])
    assert got[z == -38.0][0] > 0  # the old ½(1 + tanh(z/2)) returned exactly 0 from z ≈ −38
    np.testing.assert_array_equal(inplace, got)


def test_sigmoid_float32_is_accurate_to_its_precision():
    z = np.linspace(-87, 87, 3481).astype(np.float32)  # σ(−87) ≈ 1.6e-38 is still a normal float32
    exact = _exact_sigmoid(z.astype(np.float64))
    got = A.sigmoid(z)
    assert got.dtype == np.float32
    assert (np.abs(got - exact) / exact).max() < 1e-6


def test_sigmoid_gives_the_same_numbers_at_every_array_size():
    z = np.random.default_rng(0).uniform(-60, 60, 5000)
    whole = A.sigmoid(z)
    for n in (1, 7, 100, 767, 768, 769, 3000):  # the old version switched formula at 768 entries
        np.testing.assert_array_equal(A.sigmoid(z[:n]), whole[:n])
        np.testing.assert_array_equal(A.sigmoid(z[:n].reshape(1, n)), whole[:n].reshape(1, n))


def test_sigmoid_tails_without_warnings():
    z = np.array([-1e6, -1000.0, -745.0, 745.0, 1000.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):  # quiet_overflow overrides over/under only around σ
            s = A.sigmoid(z)
            s32 = A.sigmoid(z.astype(np.float32))
    np.testing.assert_array_equal(s, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(s32, [0, 0, 0, 1, 1, 1])
    assert np.isnan(A.sigmoid(np.array([np.nan]))[0])  # NaN is not hidden


def test_sigmoid_of_integers_and_scalars():
    np.testing.assert_allclose(A.sigmoid(np.arange(3)), 1 / (1 + np.exp(-np.arange(3.0))), rtol=1e-15)
    assert abs(float(A.sigmoid(2.0)) - 1 / (1 + np.exp(-2.0))) < 1e-16
