"""Issue 12: optimiser state bound to the parameter arrays, weight decay (coupled / AdamW), PyTorch's momentum
form, and the cosine / multi-step schedules with warm-up — against hand-written reference loops (float64)."""

import math

import numpy as np
import pytest

import nnlib
from nnlib import backend as B
from nnlib import optim
from nnlib._checks import ShapeError

ALL = [optim.SGD, optim.Momentum, optim.Nesterov, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW]


def _params(seed=0, shapes=((3, 2), (3,))):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# ---------------------------------------------------------------- state bound to the arrays


@pytest.mark.parametrize("cls", ALL)
def test_a_longer_parameter_list_is_a_clear_error(cls):
    p = _params()
    opt = cls(0.1)
    opt.step(p, [np.ones_like(a) for a in p])
    extra = p + [np.zeros(4)]
    with pytest.raises(ValueError, match=r"parameter list changed.*3.*2 known and 1 new.*reset\(\)"):
        opt.step(extra, [np.ones_like(a) for a in extra])
    with pytest.raises(ValueError, match="parameter list changed"):  # a shorter one too
        opt.step(p[:1], [np.ones_like(p[0])])
    opt.reset()  # deliberately starting afresh works, and then every array is updated
    before = [a.copy() for a in extra]
    opt.step(extra, [np.ones_like(a) for a in extra])
    assert all(not np.array_equal(a, b) for a, b in zip(extra, before))


def test_the_same_array_twice_is_an_error():
    w = np.zeros(3)
    with pytest.raises(ValueError, match="more than once"):
        optim.Adam().step([w, w], [np.ones(3), np.ones(3)])


@pytest.mark.parametrize("cls", [optim.Momentum, optim.Adam, optim.RMSprop])
def test_another_models_parameters_start_afresh(cls):
    """Entirely new arrays (another model): state cleared, t = 0 — the same step as a new optimiser's."""
    opt = cls(0.05)
    old = _params(1)
    for _ in range(3):
        opt.step(old, [np.ones_like(a) for a in old])
    new, ref = _params(2), _params(2)
    g = [np.full_like(a, 0.3) for a in new]
    opt.step(new, g)
    cls(0.05).step(ref, g)
    assert opt.t == 1
    for a, b in zip(new, ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", [optim.Momentum, optim.Nesterov, optim.Adagrad, optim.Adam])
def test_state_follows_each_array_when_the_list_is_reordered(cls):
    p, q = _params(3), _params(3)
    opt_p, opt_q = cls(0.05), cls(0.05)
    rng = np.random.default_rng(4)
    for k in range(4):
        g = [rng.standard_normal(a.shape) for a in p]
        opt_q.step(q, g)
        if k % 2:  # the same arrays in the reverse order
            opt_p.step(p[::-1], g[::-1])
        else:
            opt_p.step(p, g)
    for a, b in zip(p, q):
        np.testing.assert_array_equal(a, b)


def test_an_array_reshaped_in_place_is_named():
    w, b = np.zeros((2, 3)), np.zeros(3)
    opt = optim.Momentum(0.1)
    opt.step([w, b], [np.ones((2, 3)), np.ones(3)])
    w.shape = (3, 2)
    with pytest.raises(ShapeError, match=r"parameter 0 now has shape \(3, 2\).*built with shape \(2, 3\)"):
        opt.step([w, b], [np.ones((3, 2)), np.ones(3)])


def test_gradient_of_another_shape_names_the_parameter():
    p = _params()
    with pytest.raises(ShapeError, match=r"parameter 1 has shape \(3,\) but its gradient has shape \(2,\)"):
        optim.Adam().step(p, [np.ones((3, 2)), np.ones(2)])


def test_bad_hyperparameters_are_named():
    with pytest.raises(ValueError, match="weight_decay"):
        optim.SGD(0.1, weight_decay=-1)
    with pytest.raises(ValueError, match="mu"):
        optim.Momentum(0.1, mu=1.0)


# ---------------------------------------------------------------- weight decay


@pytest.mark.parametrize("cls", [optim.SGD, optim.Momentum, optim.Nesterov, optim.Adagrad, optim.RMSprop, optim.Adam])
def test_weight_decay_is_l2_added_to_the_gradient(cls):
    """Coupled decay λ: the same steps as the optimiser without decay on the gradient g + λ w (PyTorch's)."""
    lam = 0.3
    p, q = _params(5), _params(5)
    a, b = cls(0.05, weight_decay=lam), cls(0.05)
    rng = np.random.default_rng(6)
    for _ in range(5):
        g = [rng.standard_normal(x.shape) for x in p]
        a.step(p, g)
        b.step(q, [gi + lam * qi for gi, qi in zip(g, q)])
    for x, y in zip(p, q):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-15)


def test_sgd_weight_decay_is_the_model_l2_step_on_weights():
    """For SGD: w ← (1 − ηλ) w − η g, which is what Model(l2=λ) gives for W (biases: no decay there)."""
    w = np.array([1.0, -2.0])
    g = np.array([0.5, 0.25])
    optim.SGD(0.1, weight_decay=0.2).step([w], [g])
    np.testing.assert_allclose(w, (1 - 0.1 * 0.2) * np.array([1.0, -2.0]) - 0.1 * g, rtol=1e-15)


def _adamw_reference(w, grads, lr, b1, b2, eps, lam):
    """PyTorch's AdamW algorithm, written out."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w = w * (1 - lr * lam)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return w


def test_adamw_matches_the_reference_and_differs_from_adam_with_l2():
    rng = np.random.default_rng(7)
    w0 = rng.standard_normal(6)
    grads = [rng.standard_normal(6) * 10 ** rng.uniform(-2, 1) for _ in range(8)]
    w = w0.copy()
    opt = optim.AdamW(0.01, weight_decay=0.1)
    assert optim.AdamW().weight_decay == 0.01  # PyTorch's default
    for g in grads:
        opt.step([w], [g])
    np.testing.assert_allclose(w, _adamw_reference(w0, grads, 0.01, 0.9, 0.999, 1e-8, 0.1), rtol=1e-12)
    w_l2 = w0.copy()
    opt_l2 = optim.Adam(0.01, weight_decay=0.1)
    for g in grads:
        opt_l2.step([w_l2], [g])
    assert np.abs(w - w_l2).max() > 1e-4  # decoupled decay is not L2 through Adam
    assert optim.get("adamw", 0.01).__class__ is optim.AdamW


def test_adamw_on_the_strict_backend():
    w0, g = np.linspace(-1, 1, 5), np.linspace(0.5, -0.5, 5)
    expected = _adamw_reference(w0, [g, g], 0.1, 0.9, 0.999, 1e-8, 0.01)
    nnlib.use("strict")
    try:
        w = B.to_device(w0.copy())
        opt = optim.AdamW(0.1)
        opt.step([w], [B.to_device(g)])
        opt.step([w], [B.to_device(g)])
        got = B.to_host(w)
    finally:
        nnlib.use("numpy")
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# ---------------------------------------------------------------- momentum: η inside or outside the velocity


def _torch_sgd_reference(w, grads, lrs, mu, nesterov):
    """torch.optim.SGD(momentum=μ, nesterov=...) with η changed between steps by a scheduler, written out."""
    buf = None
    for g, lr in zip(grads, lrs):
        buf = g.copy() if buf is None else mu * buf + g
        w = w - lr * ((g + mu * buf) if nesterov else buf)
    return w


@pytest.mark.parametrize("cls", [optim.Momentum, optim.Nesterov])
def test_torch_form_equals_torch_under_a_schedule_and_the_lectures_form_at_constant_eta(cls):
    rng = np.random.default_rng(8)
    w0 = rng.standard_normal(4)
    grads = [rng.standard_normal(4) for _ in range(12)]
    lrs = [optim.CosineDecay(0.1, T_max=12, warmup=3)(t) for t in range(12)]
    nesterov = cls is optim.Nesterov
    w = w0.copy()
    opt = cls(0.1, mu=0.9, eta_in_velocity=False)
    for g, lr in zip(grads, lrs):
        opt.lr = lr
        opt.step([w], [g])
    np.testing.assert_allclose(w, _torch_sgd_reference(w0, grads, lrs, 0.9, nesterov), rtol=1e-12)
    # the lectures' form (η inside v) is the same at a constant η, and not under the schedule
    w_const, w_sched = w0.copy(), w0.copy()
    a, b = cls(0.1, mu=0.9), cls(0.1, mu=0.9)
    for g, lr in zip(grads, lrs):
        a.step([w_const], [g])
        b.lr = lr
        b.step([w_sched], [g])
    np.testing.assert_allclose(w_const, _torch_sgd_reference(w0, grads, [0.1] * 12, 0.9, nesterov), rtol=1e-12)
    assert np.abs(w_sched - w).max() > 1e-6


# ---------------------------------------------------------------- schedules (PyTorch's closed forms)


def test_multistep_decay_is_multisteplr():
    s = optim.MultiStepDecay(0.1, milestones=[3, 5], gamma=0.5)
    assert [s(t) for t in range(7)] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025]


def test_cosine_decay_is_cosineannealinglr():
    s = optim.CosineDecay(0.1, T_max=4, lr_min=0.01)
    expected = [0.1, 0.01 + 0.045 * (1 + math.cos(math.pi / 4)), 0.055, 0.01 + 0.045 * (1 - math.cos(math.pi / 4)),
                0.01]
    np.testing.assert_allclose([s(t) for t in range(5)], expected, rtol=1e-15)


def test_warmup_is_linearlr_then_the_schedule():
    """SequentialLR([LinearLR(start_factor=0.25, total_iters=4), MultiStepLR([2], 0.1)], milestones=[4])."""
    s = optim.MultiStepDecay(0.2, milestones=[2], gamma=0.1, warmup=4, start_factor=0.25)
    np.testing.assert_allclose([s(t) for t in range(8)], [0.05, 0.0875, 0.125, 0.1625, 0.2, 0.2, 0.02, 0.02],
                               rtol=1e-15)
    c = optim.CosineDecay(1.0, T_max=2, warmup=2)  # PyTorch's default start factor 1/3
    np.testing.assert_allclose([c(t) for t in range(5)], [1 / 3, 2 / 3, 1.0, 0.5, 0.0], rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("bad", [dict(warmup=-1), dict(warmup=1.5), dict(start_factor=0.0), dict(T_max=0),
                                 dict(lr_min=2.0)])
def test_cosine_arguments_are_validated(bad):
    kw = dict(lr0=1.0, T_max=5) | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        optim.CosineDecay(**kw)


def test_multistep_milestones_are_validated():
    with pytest.raises(ValueError, match="milestones"):
        optim.MultiStepDecay(0.1, milestones=[5, 3])


def test_fit_follows_a_cosine_schedule_with_warmup():
    from nnlib import layers as L
    from nnlib import train as T
    from nnlib.model import Model
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    model = Model([L.Dense(4, 8, "he"), L.ReLU(), L.Dense(8, 2)])
    sched = optim.CosineDecay(0.1, T_max=3, warmup=2)
    h = T.fit(model, (X, y), None, epochs=5, optimizer=optim.Momentum(0.1, eta_in_velocity=False),
              schedule=sched, batch_size=20, verbose=False, seed=0)
    np.testing.assert_allclose(h.lr, [sched(t) for t in range(5)], rtol=1e-15)
