"""BatchNorm1d/2d, AvgPool2D, GlobalAvgPool2D, LeakyReLU and GELU: gradients, PyTorch semantics, training, errors.

The float64 gradient checks and the semantics tests written out by hand need nothing but NumPy; the
cross-checks against PyTorch (float64, randomized shapes) run where torch is installed (an optional
development dependency) and are skipped elsewhere.
"""

import math

import numpy as np
import pytest
from _layer_checks import assert_backward_guards

import nnlib
from nnlib import backend as B
from nnlib import gradcheck as G
from nnlib import layers as L
from nnlib import optim, special
from nnlib._checks import ShapeError
from nnlib.activations_extra import GELU, LeakyReLU, gelu, gelu_prime, leaky_relu
from nnlib.model import Model
from nnlib.norm import BatchNorm1d, BatchNorm2d
from nnlib.pooling import AvgPool2D, GlobalAvgPool2D

TOL = 1e-7


def t64(torch, a):
    return torch.tensor(np.asarray(B.to_host(a)), dtype=torch.float64, requires_grad=True)


def away_from(rng, shape, points=(0.0,), margin=0.05, scale=1.0):
    """Normal values (times scale) at least ``margin`` away from each of ``points`` (kinks, zeros of σ')."""
    x = rng.standard_normal(shape) * scale
    for p in points:
        d = x - p
        x = np.where(np.abs(d) < margin, p + np.sign(d + 1e-12) * margin + d, x)
    return x


def randomize_affine(layer, rng):
    """γ with |γ| in [0.5, 1.5] (a γ near 0 makes ∂L/∂x tiny and its relative error meaningless), β normal."""
    C = layer.num_features
    layer.params["gamma"][...] = nnlib.to_device(rng.uniform(0.5, 1.5, C) * rng.choice([-1.0, 1.0], C))
    layer.params["beta"][...] = nnlib.to_device(rng.standard_normal(C))


def warm_running_stats(layer, shape, rng, steps=3):
    """A few training batches with mean ≠ 0 and variance ≠ 1, so that evaluation mode is not the identity."""
    for _ in range(steps):
        layer.forward(nnlib.to_device(rng.standard_normal(shape) * 2.0 + 1.5), train=True)


# ---------------------------------------------------------------- the error function (no SciPy)


def test_erf_and_erfc_match_math_to_float64_precision():
    x = np.concatenate([np.linspace(-27, 27, 54001), np.geomspace(1e-300, 1.0, 600), -np.geomspace(1e-300, 1.0, 600),
                        [0.0, 0.46875, np.nextafter(0.46875, 1), 4.0, np.nextafter(4.0, 5)]])
    erf_ref = np.array([math.erf(v) for v in x])  # the reference (a test may loop; the library may not)
    erfc_ref = np.array([math.erfc(v) for v in x])
    e, ec = special.erf(x), special.erfc(x)
    nz = erf_ref != 0
    assert np.max(np.abs(e - erf_ref)[nz] / np.abs(erf_ref[nz])) <= 1e-15
    assert np.all(e[~nz] == 0)
    normal = erfc_ref > 1e-300  # relative error of subnormal results is meaningless
    assert np.max(np.abs(ec - erfc_ref)[normal] / erfc_ref[normal]) <= 2e-15
    assert np.all(np.abs(ec - erfc_ref)[~normal] < 1e-300)


def test_erf_edge_values_oddness_and_size_independence():
    assert np.array_equal(special.erf(np.array([np.inf, -np.inf, 0.0])), [1.0, -1.0, 0.0])
    assert np.array_equal(special.erfc(np.array([np.inf, -np.inf, 30.0, -30.0])), [0.0, 2.0, 0.0, 2.0])
    assert np.isnan(special.erf(np.array([np.nan]))[0]) and np.isnan(special.erfc(np.array([np.nan]))[0])
    x = np.random.default_rng(0).standard_normal(1000) * 4
    assert np.array_equal(special.erf(-x), -special.erf(x))  # exactly odd
    whole = special.erf(x)
    assert all(np.array_equal(whole[i:i + n], special.erf(x[i:i + n])) for i, n in [(0, 1), (7, 13), (100, 900)])
    assert special.erf(x.astype(np.float32)).dtype == np.float32


def test_normal_cdf_keeps_relative_accuracy_in_the_left_tail():
    x = np.array([-37.0, -20.0, -8.0, -1.0, 0.0, 2.5])
    ref = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    assert np.max(np.abs(special.normal_cdf(x) - ref) / ref) < 1e-12
    assert special.normal_cdf(np.array([-37.0]))[0] > 0  # 1 + erf(x/√2) would give exactly 0 here


# ---------------------------------------------------------------- gradient checks (float64, no torch)


def _bn_cases():
    return [
        ("bn1d (n, C)", lambda: BatchNorm1d(4), (6, 4)),
        ("bn1d (n, C, L)", lambda: BatchNorm1d(3), (4, 3, 5)),
        ("bn2d", lambda: BatchNorm2d(3), (3, 3, 4, 5)),
        ("bn2d momentum=None", lambda: BatchNorm2d(2, momentum=None), (2, 2, 3, 4)),
        ("bn1d affine=False", lambda: BatchNorm1d(5, affine=False), (7, 5)),
        ("bn2d no running stats", lambda: BatchNorm2d(2, track_running_stats=False), (3, 2, 3, 3)),
    ]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name,make,shape", _bn_cases(), ids=[c[0] for c in _bn_cases()])
def test_batchnorm_gradients(name, make, shape, train, rng, backend):
    layer = make()
    if layer.affine:
        randomize_affine(layer, rng)
    if layer.track_running_stats:
        warm_running_stats(layer, shape, rng)
    x = nnlib.to_device(rng.standard_normal(shape) * 1.7 - 0.4)
    errors = G.check_layer(layer, x, train=train)
    assert set(errors) == ({"x", "gamma", "beta"} if layer.affine else {"x"})
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("make,shape", [
    (lambda: AvgPool2D(2), (2, 3, 6, 6)),
    (lambda: AvgPool2D(2), (2, 2, 7, 5)),  # rows and columns that fall in no window
    (lambda: AvgPool2D(3, stride=2), (2, 2, 7, 7)),  # overlapping windows
    (lambda: AvgPool2D(3, stride=2, padding=1), (2, 2, 7, 6)),
    (lambda: AvgPool2D((3, 2), stride=(1, 2), padding=(1, 0), count_include_pad=False), (2, 2, 5, 6)),
    (lambda: GlobalAvgPool2D(), (3, 4, 5, 2)),
], ids=["2x2", "2x2 ragged", "3x3 s2", "3x3 s2 p1", "3x2 no-pad-count", "global"])
def test_pooling_gradients(make, shape, train, rng, backend):
    errors = G.check_layer(make(), nnlib.to_device(rng.standard_normal(shape)), train=train)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("make,points", [
    (lambda: LeakyReLU(), (0.0,)),
    (lambda: LeakyReLU(0.3), (0.0,)),
    (lambda: LeakyReLU(-0.5), (0.0,)),
    (lambda: LeakyReLU(2.0), (0.0,)),
    (lambda: GELU(), (-0.7517916,)),  # GELU' = 0 there: relative errors of ~0 gradients are meaningless
    (lambda: GELU("tanh"), (-0.7522,)),
], ids=["leaky 0.01", "leaky 0.3", "leaky -0.5", "leaky 2", "gelu", "gelu tanh"])
def test_activation_gradients(make, points, train, rng, backend):
    x = np.clip(away_from(rng, (5, 7), points, scale=1.5), -4, 4)  # GELU's far-left gradient is ~1e-5 and less
    errors = G.check_layer(make(), nnlib.to_device(x), train=train)
    assert errors["x"] < TOL, errors


def test_whole_models_with_the_new_layers_pass_a_gradient_check(rng, backend):
    # smooth activations only: a perturbed weight moves all n·H·W normalised values, and some cross a kink
    cnn = Model([L.Conv2D(2, 3, 3, pad=1), BatchNorm2d(3), GELU(), AvgPool2D(2), L.Tanh(),
                 GlobalAvgPool2D(), L.Dense(3, 4)], l2=1e-3)
    X = nnlib.to_device(rng.standard_normal((4, 2, 6, 6)))
    errors = G.check_model(cnn, X, nnlib.to_device(np.array([0, 3, 1, 2])))
    conv_b = errors.pop(f"{cnn.layers[0].label}.b")  # BatchNorm cancels a bias before it: its gradient is ~0
    assert float(np.abs(B.to_host(cnn.layers[0].grads["b"])).max()) < 1e-15, conv_b
    assert max(errors.values()) < TOL, errors
    mlp = Model([L.Dense(5, 6), BatchNorm1d(6), GELU(), L.Dense(6, 3)])
    errors = G.check_model(mlp, nnlib.to_device(rng.standard_normal((8, 5))), nnlib.to_device(rng.integers(0, 3, 8)))
    errors.pop(f"{mlp.layers[0].label}.b")
    assert float(np.abs(B.to_host(mlp.layers[0].grads["b"])).max()) < 1e-15
    assert max(errors.values()) < TOL, errors


# ---------------------------------------------------------------- PyTorch semantics, written out (no torch)


def test_batchnorm_training_and_running_statistics_by_hand(rng):
    layer = BatchNorm2d(3)
    randomize_affine(layer, rng)
    g, b = B.to_host(layer.params["gamma"]).copy(), B.to_host(layer.params["beta"]).copy()
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(4):
        x = rng.standard_normal((5, 3, 4, 2)) * (step + 1) + step
        out = layer.forward(x, train=True)
        mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))  # the biased variance normalises
        ref = (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5) * g[None, :, None, None] \
            + b[None, :, None, None]
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
        rm = 0.9 * rm + 0.1 * mu
        rv = 0.9 * rv + 0.1 * x.var(axis=(0, 2, 3), ddof=1)  # the unbiased variance is remembered
        np.testing.assert_allclose(layer.running_mean, rm, rtol=1e-13)
        np.testing.assert_allclose(layer.running_var, rv, rtol=1e-13)
    assert layer.num_batches_tracked == 4
    x = rng.standard_normal((2, 3, 4, 2))
    ref = (x - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5) * g[None, :, None, None] \
        + b[None, :, None, None]
    np.testing.assert_allclose(layer.forward(x), ref, rtol=1e-12, atol=1e-12)  # evaluation is the default
    np.testing.assert_allclose(layer.forward(x[:1]), ref[:1], rtol=1e-12, atol=1e-12)  # per example in eval
    np.testing.assert_array_equal(layer.running_mean, rm)  # evaluation leaves the statistics alone
    layer.reset_running_stats()
    assert np.all(layer.running_mean == 0) and np.all(layer.running_var == 1) and layer.num_batches_tracked == 0


def test_batchnorm_cumulative_average_and_no_running_stats(rng):
    layer = BatchNorm1d(2, momentum=None)
    xs = [rng.standard_normal((6, 2)) + k for k in range(3)]
    for x in xs:
        layer.forward(x, train=True)
    np.testing.assert_allclose(layer.running_mean, np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-13)
    np.testing.assert_allclose(layer.running_var, np.mean([x.var(0, ddof=1) for x in xs], axis=0), rtol=1e-13)
    free = BatchNorm1d(2, track_running_stats=False, affine=False)
    x = xs[0]
    np.testing.assert_allclose(free.forward(x), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-12)
    assert free.running_mean is None and free.params == {}


def test_pooling_and_activations_by_hand(rng):
    x = rng.standard_normal((2, 3, 6, 4))
    out = AvgPool2D(2).forward(x)
    np.testing.assert_allclose(out, x.reshape(2, 3, 3, 2, 2, 2).mean(axis=(3, 5)), rtol=1e-14)
    np.testing.assert_allclose(GlobalAvgPool2D().forward(x), x.mean(axis=(2, 3)), rtol=1e-14)
    z = np.array([-3.0, -1e-3, 0.0, 2e-3, 5.0])
    np.testing.assert_array_equal(leaky_relu(z, 0.2), np.where(z > 0, z, z * 0.2))
    np.testing.assert_array_equal(leaky_relu(z, -1.5), np.where(z > 0, z, z * -1.5))
    layer = LeakyReLU(0.2)
    layer.forward(z)
    np.testing.assert_array_equal(layer.backward(np.ones(5)), [0.2, 0.2, 0.2, 1.0, 1.0])  # α at 0, as torch
    for dt in (np.float32, np.float64):  # the fast mask-built σ' and the xp.where fallback give dout or α·dout
        zz, d = rng.standard_normal(200).astype(dt), rng.standard_normal(200).astype(dt)
        zz[:5] = 0
        for slope in (0.01, 0.1, 1 / 3, 0.7, -0.5, 1.5):
            layer = LeakyReLU(slope)
            assert layer.forward(zz).dtype == dt
            got = layer.backward(d)
            assert got.dtype == dt
            np.testing.assert_array_equal(got, np.where(zz > 0, d, d * dt(slope)))
    assert GELU().forward(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert 1e-4 < np.abs(gelu(zz) - GELU("tanh").forward(zz)).max() < 5e-4  # the docstring's claim
    zz = np.linspace(-9, 9, 1001)
    ref = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in zz])
    # Φ's relative condition number is ≈ x² in the left tail (81 at −9): the argument's rounding, here or in
    # the reference, alone is worth ~1e-14 there
    np.testing.assert_allclose(gelu(zz), ref, rtol=5e-14, atol=1e-300)
    dref = np.array([0.5 * math.erfc(-v / math.sqrt(2)) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
                     for v in zz])
    np.testing.assert_allclose(gelu_prime(zz), dref, rtol=5e-14, atol=1e-300)


# ---------------------------------------------------------------- against PyTorch (float64, randomized shapes)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["1d", "1d-seq", "2d"])
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3}, {"affine": False},
                                     {"track_running_stats": False}], ids=["default", "cma", "m.3", "no-affine",
                                                                           "no-stats"])
def test_batchnorm_matches_torch(kind, options, seed, torch):
    rng = np.random.default_rng(seed)
    C = int(rng.integers(1, 6))
    shape = {"1d": lambda n: (n, C), "1d-seq": lambda n: (n, C, int(rng.integers(1, 5))),
             "2d": lambda n: (n, C, int(rng.integers(1, 5)), int(rng.integers(1, 5)))}[kind]
    ours = (BatchNorm2d if kind == "2d" else BatchNorm1d)(C, **options)
    ref = (torch.nn.BatchNorm2d if kind == "2d" else torch.nn.BatchNorm1d)(C, **options).double()
    if ours.affine:
        randomize_affine(ours, rng)
        with torch.no_grad():
            ref.weight.copy_(torch.from_numpy(B.to_host(ours.params["gamma"])))
            ref.bias.copy_(torch.from_numpy(B.to_host(ours.params["beta"])))
    for step in range(5):
        train = step < 3 or step == 4
        ref.train(train)
        n = int(rng.integers(2, 7))
        x = rng.standard_normal(shape(n)) * rng.uniform(0.5, 3) + rng.uniform(-2, 2)
        dout = rng.standard_normal(x.shape)
        out = ours.forward(x, train=train)
        xt = t64(torch, x)
        yt = ref(xt)
        yt.backward(torch.from_numpy(dout))
        np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(ours.backward(dout), xt.grad.numpy(), rtol=1e-10, atol=1e-11)
        if ours.affine:
            np.testing.assert_allclose(ours.grads["gamma"], ref.weight.grad.numpy(), rtol=1e-11, atol=1e-11)
            np.testing.assert_allclose(ours.grads["beta"], ref.bias.grad.numpy(), rtol=1e-12, atol=1e-12)
            ref.weight.grad, ref.bias.grad = None, None
        if ours.track_running_stats:
            np.testing.assert_allclose(ours.running_mean, ref.running_mean.numpy(), rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(ours.running_var, ref.running_var.numpy(), rtol=1e-13, atol=1e-15)
            assert ours.num_batches_tracked == int(ref.num_batches_tracked)


@pytest.mark.parametrize("seed", range(12))
def test_avgpool_matches_torch(seed, torch):
    rng = np.random.default_rng(seed)
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    ph, pw = int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1))
    count_include_pad = bool(rng.integers(0, 2))
    H, W = int(rng.integers(kh, 9)), int(rng.integers(kw, 9))
    x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4)), H, W))
    layer = AvgPool2D((kh, kw), stride=(sh, sw), padding=(ph, pw), count_include_pad=count_include_pad)
    out = layer.forward(x)
    xt = t64(torch, x)
    yt = torch.nn.functional.avg_pool2d(xt, (kh, kw), (sh, sw), (ph, pw), count_include_pad=count_include_pad)
    dout = rng.standard_normal(out.shape)
    yt.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_global_avgpool_matches_torch(rng, torch):
    x = rng.standard_normal((3, 4, 5, 7))
    layer = GlobalAvgPool2D()
    out = layer.forward(x)
    xt = t64(torch, x)
    yt = torch.nn.functional.adaptive_avg_pool2d(xt, 1).flatten(1)
    dout = rng.standard_normal(out.shape)
    yt.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=1e-13)


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.0, -0.5, 1.5, 0.0])
def test_leaky_relu_matches_torch(slope, rng, torch):
    x = rng.standard_normal((4, 6))
    x[0, :3] = 0.0  # the kink: torch's backward gives α there
    layer = LeakyReLU(slope)
    out = layer.forward(x)
    xt = t64(torch, x)
    yt = torch.nn.functional.leaky_relu(xt, slope)
    dout = rng.standard_normal(x.shape)
    yt.backward(torch.from_numpy(dout))
    np.testing.assert_array_equal(out, yt.detach().numpy())
    np.testing.assert_array_equal(layer.backward(dout), xt.grad.numpy())


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(approximate, rng, torch):
    x = np.concatenate([np.linspace(-12, 12, 2401), rng.standard_normal(499) * 3]).reshape(-1, 29)
    layer = GELU(approximate)
    out = layer.forward(x)
    xt = t64(torch, x)
    yt = torch.nn.functional.gelu(xt, approximate=approximate)
    dout = rng.standard_normal(x.shape)
    yt.backward(torch.from_numpy(dout))
    # torch computes ½ x (1 + erf(x/√2)), which cancels in the left tail (absolute error ~1e-16 · |x|), and the
    # tanh form's 1 ± tanh(u) cancels too (its derivative multiplies 1 − tanh² u by ~|x|³): relative agreement
    # where the values are not tiny, absolute below
    atol = 1e-14 if approximate == "none" else 1e-13
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-13, atol=atol)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=1e-13, atol=atol)


def test_a_cnn_with_the_new_layers_matches_torch_step_for_step(rng, torch):
    """Conv2D → BatchNorm2d → ReLU → AvgPool2D → GELU → GlobalAvgPool2D → Dense: loss, every gradient, the
    running statistics and the evaluation-mode output, against the same network in torch.nn."""
    nnlib.seed(3)
    model = Model([L.Conv2D(2, 4, 3, pad=1), BatchNorm2d(4), L.ReLU(), AvgPool2D(2), GELU(), GlobalAvgPool2D(),
                   L.Dense(4, 3)])
    bn = model.layers[1]
    randomize_affine(bn, rng)
    nn = torch.nn
    ref = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2), nn.GELU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).double()
    with torch.no_grad():
        for (mod, pname), (layer, key) in zip(
                [(ref[0], "weight"), (ref[0], "bias"), (ref[1], "weight"), (ref[1], "bias"), (ref[7], "weight"),
                 (ref[7], "bias")],
                [(model.layers[0], "W"), (model.layers[0], "b"), (bn, "gamma"), (bn, "beta"), (model.layers[6], "W"),
                 (model.layers[6], "b")]):
            getattr(mod, pname).copy_(torch.from_numpy(np.ascontiguousarray(B.to_host(layer.params[key]))))
    for _ in range(3):
        X, y = rng.standard_normal((5, 2, 6, 6)), rng.integers(0, 3, 5)
        loss = model.loss_and_grads(X, y)
        ref.train()
        ref.zero_grad()
        lt = nn.functional.cross_entropy(ref(torch.from_numpy(X)), torch.from_numpy(y))
        lt.backward()
        assert abs(loss - float(lt.detach())) < 1e-12
        for g, (mod, pname) in zip(model.grads(), [(ref[0], "weight"), (ref[0], "bias"), (ref[1], "weight"),
                                                    (ref[1], "bias"), (ref[7], "weight"), (ref[7], "bias")]):
            np.testing.assert_allclose(g, getattr(mod, pname).grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(bn.running_mean, ref[1].running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, ref[1].running_var.numpy(), rtol=1e-12)
    ref.eval()
    X = rng.standard_normal((4, 2, 6, 6))
    np.testing.assert_allclose(model.forward(X), ref(torch.from_numpy(X)).detach().numpy(), rtol=1e-11, atol=1e-13)


# ---------------------------------------------------------------- training in a Model


def _stripes(rng, n, side=8):
    """Images of horizontal (class 0), vertical (1) or no (2) stripes in noise: a pooled CNN can tell them apart."""
    y = rng.integers(0, 3, n)
    X = rng.standard_normal((n, 1, side, side)) * 0.5
    X[y == 0, :, ::2, :] += 1.5
    X[y == 1, :, :, ::2] += 1.5
    return X, y


@pytest.mark.parametrize("pool", ["avg", "global"])
def test_cnn_with_batchnorm_and_average_pooling_learns(pool, rng):
    nnlib.seed(0)
    head = [AvgPool2D(2), L.Flatten(), L.Dense(6 * 4 * 4, 3)] if pool == "avg" else [GlobalAvgPool2D(), L.Dense(6, 3)]
    model = Model([L.Conv2D(1, 6, 3, pad=1), BatchNorm2d(6), L.ReLU(), *head])
    X, y = _stripes(rng, 64)
    opt = optim.Adam(0.02)
    first = model.loss(X, y)
    losses = [model.train_step(X[i:i + 16], y[i:i + 16], opt) for _ in range(15) for i in range(0, 64, 16)]
    assert np.mean(losses[-4:]) < 0.5 * np.mean(losses[:4])
    assert model.loss(X, y) < 0.5 * first  # evaluation mode, with the running statistics, improved too
    assert model.layers[1].num_batches_tracked == 60
    assert model.accuracy(X, y) > 0.9


def test_mlp_with_batchnorm1d_and_new_activations_learns(rng):
    nnlib.seed(1)
    model = Model([L.Dense(2, 16), BatchNorm1d(16), GELU(), L.Dense(16, 16), BatchNorm1d(16), LeakyReLU(0.1),
                   L.Dense(16, 2)])
    X = rng.standard_normal((128, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # XOR of the signs: needs the hidden layers
    opt = optim.Adam(0.02)
    losses = [model.train_step(X[i:i + 32], y[i:i + 32], opt) for _ in range(40) for i in range(0, 128, 32)]
    assert np.mean(losses[-4:]) < 0.5 * np.mean(losses[:4])
    assert model.accuracy(X, y) > 0.9


def test_train_fit_uses_batch_statistics_for_training_and_running_ones_for_validation(rng):
    from nnlib import train

    nnlib.seed(0)
    model = Model([L.Conv2D(1, 4, 3, pad=1), BatchNorm2d(4), LeakyReLU(), GlobalAvgPool2D(), L.Dense(4, 3)])
    X, y = _stripes(rng, 48)
    bn = model.layers[1]
    history = train.fit(model, (X, y), val=(X, y), epochs=3, batch_size=16, optimizer="adam", lr=0.02,
                        progress=False)
    assert bn.num_batches_tracked == 9  # 3 epochs × 3 minibatches; the evaluations did not count
    assert len(history.val_loss) == 3 and history.val_loss[-1] < history.val_loss[0]
    assert abs(history.val_loss[-1] - model.loss(X, y)) < 1e-12  # measured in evaluation mode


# ---------------------------------------------------------------- memory layout, strict backend, no loops


def test_batch_last_layout_is_kept_through_the_new_layers(rng):
    """A convolution's output is stored batch-last (nnlib.layers); the new layers keep that layout forward and
    return ∂L/∂x in it, so no elementwise operation mixes memory orders (NumPy's slowest case)."""
    x = rng.standard_normal((4, 2, 8, 8))
    a = L.Conv2D(2, 3, 3, pad=1).forward(x)
    assert a.transpose(1, 2, 3, 0).flags.c_contiguous
    layers = [BatchNorm2d(3), LeakyReLU(), AvgPool2D(2), GELU(), AvgPool2D(3, stride=1, padding=1), GlobalAvgPool2D()]
    out = a
    for layer in layers[:-1]:
        out = layer.forward(out, train=True)
        assert out.transpose(1, 2, 3, 0).flags.c_contiguous, layer
    out = layers[-1].forward(out, train=True)
    d = rng.standard_normal(out.shape)  # C-ordered, as a Dense layer's ∂L/∂x
    for layer in reversed(layers):
        d = layer.backward(d)
        assert d.strides[0] == d.itemsize, (layer, d.strides)  # the batch index varies fastest


NEW_LAYERS = [
    (lambda: BatchNorm1d(4), (5, 4)), (lambda: BatchNorm1d(3), (4, 3, 2)), (lambda: BatchNorm2d(3), (4, 3, 5, 5)),
    (lambda: BatchNorm2d(3, affine=False, momentum=None), (4, 3, 2, 2)),
    (lambda: AvgPool2D(2), (2, 3, 6, 6)), (lambda: AvgPool2D(3, 2, 1, count_include_pad=False), (2, 3, 7, 6)),
    (lambda: GlobalAvgPool2D(), (2, 3, 4, 4)), (lambda: LeakyReLU(0.2), (3, 5)), (lambda: LeakyReLU(-2.0), (3, 5)),
    (lambda: GELU(), (3, 5)), (lambda: GELU("tanh"), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("make,shape", NEW_LAYERS, ids=[f"{m()!r}" for m, _ in NEW_LAYERS])
def test_forward_and_backward_on_the_strict_backend_equal_numpy(make, shape, train, strict):
    rng = np.random.default_rng(5)
    x, dout_shape = rng.standard_normal(shape), None
    results = {}
    for name in ("numpy", "strict"):
        xp = nnlib.use(name)
        layer = make()
        warm = layer.forward(nnlib.to_device(x + 1.0), train=True)  # moves running statistics
        out = layer.forward(nnlib.to_device(x), train=train)
        assert isinstance(warm, xp.ndarray) and isinstance(out, xp.ndarray)
        dout_shape = dout_shape or tuple(out.shape)
        dx = layer.backward(nnlib.to_device(np.linspace(-1, 1, int(np.prod(dout_shape))).reshape(dout_shape)))
        assert isinstance(dx, xp.ndarray) and tuple(dx.shape) == shape
        results[name] = [B.to_host(out), B.to_host(dx), *(B.to_host(g) for g in layer.grads.values()),
                         *(B.to_host(b) for b in getattr(layer, "buffers", {}).values())]
    for a, b in zip(results["numpy"], results["strict"]):
        np.testing.assert_array_equal(a, b)


def test_strict_model_training_step_with_every_new_layer(strict):
    rng = np.random.default_rng(0)
    model = Model([L.Conv2D(1, 4, 3, pad=1), BatchNorm2d(4), LeakyReLU(), AvgPool2D(2), GELU(), GlobalAvgPool2D(),
                   L.Dense(4, 6), BatchNorm1d(6), GELU("tanh"), L.Dense(6, 3)])
    X, y = nnlib.to_device(rng.standard_normal((8, 1, 8, 8))), nnlib.to_device(rng.integers(0, 3, 8))
    opt = optim.Adam(0.01)
    losses = [model.train_step(X, y, opt) for _ in range(10)]
    assert losses[-1] < losses[0]
    assert isinstance(model.layers[1].running_mean, strict.ndarray)
    assert isinstance(model.forward(X), strict.ndarray)
    assert isinstance(special.erf(X), strict.ndarray)


def test_no_python_loop_over_samples_or_pixels(strict):
    """The number of array operations of a training step does not grow with the batch or the image size."""
    from cupy_double import strict as _strict

    rng = np.random.default_rng(0)

    def step(n, side):
        nnlib.seed(0)
        model = Model([L.Conv2D(1, 3, 3, pad=1), BatchNorm2d(3), LeakyReLU(), AvgPool2D(3, 2, 1), GELU(),
                       GlobalAvgPool2D(), L.Dense(3, 4), BatchNorm1d(4), GELU("tanh"), L.Dense(4, 2)])
        X = nnlib.to_device(rng.standard_normal((n, 1, side, side)))
        y = nnlib.to_device(rng.integers(0, 2, n))
        opt = optim.SGD(0.01)
        model.train_step(X, y, opt)
        before = _strict.calls
        model.train_step(X, y, opt)
        model.forward(X)
        return _strict.calls - before

    assert step(2, 8) == step(16, 8) == step(2, 16)


# ---------------------------------------------------------------- bad input: clear errors


def test_wrong_rank_or_channels_name_the_layer_and_the_shapes():
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(4\).*\(batch, 4\) or \(batch, 4, L\), got \(5, 3\)"):
        BatchNorm1d(4).forward(np.zeros((5, 3)))
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(4\).*got \(5, 4, 2, 2\)"):
        BatchNorm1d(4).forward(np.zeros((5, 4, 2, 2)))
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(3\).*\(batch, 3, H, W\), got \(2, 4, 5, 5\)"):
        BatchNorm2d(3).forward(np.zeros((2, 4, 5, 5)))
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(3\).*\(batch, 3, H, W\), got \(2, 3\)"):
        BatchNorm2d(3).forward(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"AvgPool2D\(2, stride=2\).*4-d array, got shape \(2, 8\)"):
        AvgPool2D(2).forward(np.zeros((2, 8)))
    with pytest.raises(ShapeError, match=r"AvgPool2D\(3, stride=3\).*does not fit input \(1, 1, 2, 5\)"):
        AvgPool2D(3).forward(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ShapeError, match=r"GlobalAvgPool2D\(\).*4-d array, got shape \(2, 3, 4\)"):
        GlobalAvgPool2D().forward(np.zeros((2, 3, 4)))
    model = Model([L.Conv2D(1, 2, 3), BatchNorm2d(3), L.Flatten(), L.Dense(2 * 3 * 3, 2)])
    with pytest.raises(ShapeError, match=r"layer 1 \(BatchNorm2d\(3\)\): expected input \(batch, 3, H, W\), "
                                         r"got \(4, 2, 3, 3\)"):
        model.forward(np.zeros((4, 1, 5, 5)))


def test_training_batchnorm_on_one_value_per_channel_is_an_error():
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(3\).*more than one value per channel.*\(1, 3\)"):
        BatchNorm1d(3).forward(np.zeros((1, 3)), train=True)
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(3\).*\(1, 3, 1, 1\)"):
        BatchNorm2d(3).forward(np.zeros((1, 3, 1, 1)), train=True)
    assert BatchNorm1d(3).forward(np.zeros((1, 3))).shape == (1, 3)  # evaluation: the running statistics


def test_dtype_and_non_array_inputs_are_named():
    with pytest.raises(TypeError, match=r"BatchNorm1d\(2\).*float32.*float64"):
        BatchNorm1d(2).forward(np.zeros((3, 2), dtype=np.float32))
    assert BatchNorm1d(2, dtype=np.float32).forward(np.ones((3, 2), dtype=np.float32), train=True).dtype == np.float32
    with pytest.raises(TypeError, match=r"GELU\(\).*expected a numpy array, got builtins.list"):
        GELU().forward([1.0, 2.0])
    with pytest.raises(TypeError, match=r"LeakyReLU\(0.01\).*floating-point"):
        LeakyReLU().forward(np.zeros((2, 2), dtype=np.int64))


@pytest.mark.parametrize("make,shape", NEW_LAYERS, ids=[f"{m()!r}" for m, _ in NEW_LAYERS])
def test_backward_before_forward_and_wrong_upstream_gradients(make, shape):
    assert_backward_guards(make(), shape)


@pytest.mark.parametrize("make,message", [
    (lambda: BatchNorm2d(0), r"BatchNorm2d: num_features must be a positive integer, got 0"),
    (lambda: BatchNorm1d(2.5), r"num_features must be a positive integer, got 2.5"),
    (lambda: BatchNorm1d(3, momentum=1.5), r"momentum must be in \[0, 1\] or None"),
    (lambda: BatchNorm1d(3, eps=0), r"eps must be a positive number, got 0"),
    (lambda: AvgPool2D(0), r"AvgPool2D: kernel_size must be ≥ 1, got 0"),
    (lambda: AvgPool2D(2, stride=0), r"AvgPool2D: stride must be ≥ 1, got 0"),
    (lambda: AvgPool2D(2, padding=-1), r"AvgPool2D: padding must be ≥ 0, got -1"),
    (lambda: AvgPool2D(3, padding=2), r"padding 2 must be at most half the kernel size 3"),
    (lambda: AvgPool2D((3, 5, 1)), r"kernel_size must be an int or a pair of ints, got \(3, 5, 1\)"),
    (lambda: AvgPool2D(2.0), r"kernel_size must be an int or a pair of ints, got 2.0"),
    (lambda: LeakyReLU("0.1"), r"LeakyReLU: negative_slope must be a finite number, got '0.1'"),
    (lambda: LeakyReLU(float("nan")), r"LeakyReLU: negative_slope must be a finite number"),
    (lambda: GELU("erf"), r"GELU: approximate must be 'none' or 'tanh', got 'erf'"),
])
def test_bad_constructor_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_checkpoints_keep_batchnorm_running_statistics():
    """Model.state_dict/load_state_dict carry BatchNorm's running statistics and its batch counter, so a
    restored checkpoint (fit's early stopping) evaluates exactly as the saved model did."""
    import numpy as np

    from nnlib import Dense, Model, ReLU
    from nnlib.norm import BatchNorm1d

    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 5))
    m = Model([Dense(5, 4), BatchNorm1d(4), ReLU(), Dense(4, 3)])
    for _ in range(3):
        m.forward(x, train=True)
    state = m.state_dict()
    assert "1.buffers.running_mean" in state and int(state["1.num_batches_tracked"]) == 3
    fresh = Model([Dense(5, 4), BatchNorm1d(4), ReLU(), Dense(4, 3)])
    fresh.load_state_dict(state)
    bn, bn0 = fresh.layers[1], m.layers[1]
    np.testing.assert_array_equal(bn.buffers["running_mean"], bn0.buffers["running_mean"])
    np.testing.assert_array_equal(bn.buffers["running_var"], bn0.buffers["running_var"])
    assert bn.num_batches_tracked == 3


def test_a_checkpoint_without_buffers_still_loads():
    import numpy as np

    from nnlib import Dense, Model
    from nnlib.norm import BatchNorm1d

    m = Model([Dense(3, 2), BatchNorm1d(2)])
    old = {k: v for k, v in m.state_dict().items() if ".buffers." not in k and "num_batches" not in k}
    m.load_state_dict(old)  # parameters only, as checkpoints were written before
    assert np.all(m.layers[1].buffers["running_var"] == 1)
