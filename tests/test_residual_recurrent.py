"""Residual, RNN, LSTM and clip_grad_norm: float64 gradient checks, exact PyTorch cross-checks, the strict
backend, no loop over samples, training, and clear errors.

The gradient checks need nothing but NumPy; the cross-checks against ``torch.nn.RNN``/``torch.nn.LSTM`` (float64,
randomized shapes) run where torch is installed (an optional dependency) and are skipped elsewhere.
"""

import numpy as np
import pytest
from _layer_checks import assert_backward_guards

import nnlib
from nnlib import Dense, Model, ReLU, Sigmoid, Tanh, optim
from nnlib import backend as B
from nnlib import gradcheck as G
from nnlib._checks import ShapeError
from nnlib.norm import BatchNorm1d
from nnlib.recurrent import LSTM, RNN, clip_grad_norm
from nnlib.residual import Residual

TOL = 1e-7


def dev(a):
    return nnlib.to_device(np.asarray(a))


# ---------------------------------------------------------------- gradient checks (float64, no torch)


RECURRENT = [
    ("rnn tanh", lambda: RNN(3, 5)),
    ("rnn relu", lambda: RNN(3, 5, "relu")),
    ("rnn last", lambda: RNN(3, 4, return_sequences=False)),
    ("lstm", lambda: LSTM(3, 4)),
    ("lstm last", lambda: LSTM(3, 4, return_sequences=False)),
]


@pytest.mark.parametrize("name,make", RECURRENT, ids=[c[0] for c in RECURRENT])
def test_recurrent_gradients(name, make, rng, backend):
    layer = make()
    layer.params["b"][...] = dev(rng.standard_normal(layer.params["b"].shape) * 0.3)
    x = dev(rng.standard_normal((4, 6, 3)))
    errors = G.check_layer(layer, x)
    assert set(errors) == {"x", "Wx", "Wh", "b"}
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_initial_state_gradients(kind, rng, backend):
    layer = RNN(2, 3) if kind == "rnn" else LSTM(2, 3)
    x, h0, c0 = (dev(rng.standard_normal(s)) for s in [(3, 5, 2), (3, 3), (3, 3)])
    extra = {"c0": c0} if kind == "lstm" else {}
    out = layer.forward(x, h0=h0, **extra)
    dout = dev(rng.standard_normal(out.shape))
    layer.backward(dout)
    num = G.numerical_gradient_array(lambda v: layer.forward(x, h0=v, **extra), h0, dout)
    assert G.rel_error(layer.dh0, num) < TOL
    if kind == "lstm":
        layer.forward(x, h0=h0, c0=c0)
        layer.backward(dout)
        num = G.numerical_gradient_array(lambda v: layer.forward(x, h0=h0, c0=v), c0, dout)
        assert G.rel_error(layer.dc0, num) < TOL


def test_dh_is_the_gradient_of_every_hidden_state(rng):
    """``layer.dh[:, t]`` is the total ∂L/∂h_t (from the output at t and from the later steps): checked by
    perturbing h_t through the initial state of the rest of the sequence."""
    layer = RNN(2, 3)
    x = rng.standard_normal((2, 6, 2))
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    layer.backward(dout)
    t = 2  # L = Σ dout ⊙ h over all steps; h_{t+1..T} depend on h_t only through the rest of the sequence
    h_t = out[:, t].copy()
    rest = RNN(2, 3)
    rest.params = layer.params

    def loss_from(h):
        return rest.forward(x[:, t + 1:], h0=h)

    num = G.numerical_gradient_array(loss_from, h_t, dout[:, t + 1:]) + dout[:, t]
    assert G.rel_error(layer.dh[:, t], num) < TOL


@pytest.mark.parametrize("inner", [
    lambda: [Dense(4, 4), Tanh(), Dense(4, 4)],
    lambda: [Dense(4, 6), Sigmoid(), Dense(6, 4)],
    lambda: [Tanh()],
    lambda: [Dense(4, 4), BatchNorm1d(4), Tanh(), Dense(4, 4)],
], ids=["dense-tanh-dense", "widened", "no-params", "batchnorm"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_residual_gradients(inner, train, rng, backend):
    block = Residual(inner())
    errors = G.check_layer(block, dev(rng.standard_normal((5, 4))), train=train)
    assert max(errors.values()) < TOL, errors
    assert set(errors) == {"x", *block.params}


def test_whole_models_pass_a_gradient_check(rng, backend):
    deep = Model([Dense(3, 5), *[Residual([Dense(5, 5), Tanh()]) for _ in range(3)], Dense(5, 2)])
    errors = G.check_model(deep, dev(rng.standard_normal((6, 3))), dev(rng.integers(0, 2, 6)))
    assert len(errors) == 2 + 2 * 3 + 2 and max(errors.values()) < TOL, errors
    seq = Model([RNN(2, 4), LSTM(4, 3, return_sequences=False), Dense(3, 3)])
    errors = G.check_model(seq, dev(rng.standard_normal((4, 5, 2))), dev(rng.integers(0, 3, 4)))
    assert len(errors) == 8 and max(errors.values()) < TOL, errors


# ---------------------------------------------------------------- the gradient highway and clipping, by hand


def test_skip_connection_adds_the_identity_to_the_jacobian(rng):
    """∂L/∂x = δ + (∂F/∂x)ᵀ δ: with F's weights at zero the block is the identity and passes δ unchanged."""
    block = Residual([Dense(4, 4), Tanh(), Dense(4, 4)])
    x, d = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    block.forward(x)
    inner = d
    for la in reversed(block.layers):
        inner = la.backward(inner)
    block.forward(x)
    np.testing.assert_allclose(block.backward(d), d + inner, rtol=1e-14)
    assert block.delta is d  # the two terms, kept for the lecture's plot
    np.testing.assert_array_equal(block.delta_through_F, inner)
    block.layers[2].params["W"][...] = 0
    np.testing.assert_array_equal(block.forward(x), x + block.layers[2].params["b"])
    np.testing.assert_array_equal(block.backward(d), d)


def test_clip_grad_norm_by_hand():
    g = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]
    assert clip_grad_norm(g, 10.0) == 5.0
    np.testing.assert_array_equal(g[0], [3.0, 0.0])  # below the threshold: untouched
    assert clip_grad_norm(g, 1.0) == 5.0
    np.testing.assert_allclose(np.sqrt(sum((a ** 2).sum() for a in g)), 1.0, rtol=1e-6)
    np.testing.assert_allclose(g[0], [3.0 / (5 + 1e-6), 0.0], rtol=1e-15)  # the direction is kept
    for bad in (0, -1.0, float("nan"), float("inf"), "1", True):
        with pytest.raises(ValueError, match=r"clip_grad_norm: max_norm must be a positive number"):
            clip_grad_norm(g, bad)


def test_rnn_gradient_explodes_or_vanishes_with_the_recurrent_weights(rng):
    """In the linear regime (small inputs, tanh' ≈ 1) ∂L/∂h_t is δ_T multiplied by W_hᵀ once per step back:
    W_h = ρ·I gives a norm ∝ ρ^(T−t) — the geometric law of the lecture."""
    T = 20
    x = rng.standard_normal((2, T, 1)) * 1e-10
    ratios = {}
    for rho in (0.5, 1.5):
        layer = RNN(1, 3, return_sequences=False)
        layer.params["Wh"][...] = rho * np.eye(3)
        layer.forward(x)
        layer.backward(np.ones((2, 3)))
        norms = np.linalg.norm(layer.dh, axis=(0, 2))
        ratios[rho] = norms[0] / norms[-1]
    np.testing.assert_allclose(ratios[0.5], 0.5 ** (T - 1), rtol=1e-6)
    np.testing.assert_allclose(ratios[1.5], 1.5 ** (T - 1), rtol=1e-6)


# ---------------------------------------------------------------- against PyTorch (float64, randomized shapes)


def _copy_rnn_to_torch(torch, ours, ref, rng=None):
    """nnlib's b is torch's b_ih + b_hh: split it at random (the sum is what counts), or all into b_ih."""
    b = B.to_host(ours.params["b"])
    share = rng.standard_normal(b.shape) if rng is not None else np.zeros(b.shape)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(B.to_host(ours.params["Wx"]))))
        ref.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(B.to_host(ours.params["Wh"]))))
        ref.bias_ih_l0.copy_(torch.from_numpy(b - share))
        ref.bias_hh_l0.copy_(torch.from_numpy(share))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["tanh", "relu", "lstm"])
def test_recurrent_layers_match_torch(kind, seed, torch):
    rng = np.random.default_rng(seed)
    n, T, n_in, H = (int(v) for v in rng.integers(1, 6, 4))
    if kind == "lstm":
        ours, ref = LSTM(n_in, H), torch.nn.LSTM(n_in, H, batch_first=True).double()
    else:
        ours, ref = RNN(n_in, H, kind), torch.nn.RNN(n_in, H, nonlinearity=kind, batch_first=True).double()
    ours.params["b"][...] = rng.standard_normal(ours.params["b"].shape) * 0.5
    _copy_rnn_to_torch(torch, ours, ref, rng)
    x, h0, c0 = rng.standard_normal((n, T, n_in)), rng.standard_normal((n, H)), rng.standard_normal((n, H))
    xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    if kind == "lstm":
        out = ours.forward(x, h0=h0, c0=c0)
        yt, (hT, cT) = ref(xt, (h0t[None], c0t[None]))
    else:
        out = ours.forward(x, h0=h0)
        yt, hT = ref(xt, h0t[None])
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out[:, -1], hT[0].detach().numpy(), rtol=1e-12, atol=1e-14)
    if kind == "lstm":
        np.testing.assert_allclose(ours.c_last, cT[0].detach().numpy(), rtol=1e-12, atol=1e-14)
    dout = rng.standard_normal(out.shape)
    yt.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(ours.backward(dout), xt.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours.dh0, h0t.grad.numpy(), rtol=1e-10, atol=1e-13)
    if kind == "lstm":
        np.testing.assert_allclose(ours.dc0, c0t.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours.grads["Wx"], ref.weight_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours.grads["Wh"], ref.weight_hh_l0.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours.grads["b"], ref.bias_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ref.bias_hh_l0.grad.numpy(), ref.bias_ih_l0.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_sequence_classifier_matches_torch_step_for_step(rng, torch):
    """LSTM (last state) → Dense with softmax cross-entropy, three Adam steps: loss and every gradient."""
    nnlib.seed(2)
    model = Model([LSTM(3, 5, return_sequences=False), Dense(5, 4)])
    lstm, head = torch.nn.LSTM(3, 5, batch_first=True).double(), torch.nn.Linear(5, 4).double()
    _copy_rnn_to_torch(torch, model.layers[0], lstm)
    lstm.bias_hh_l0.requires_grad_(False)  # stays 0: torch's b_ih is then nnlib's b, step for step
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(np.ascontiguousarray(model.layers[1].params["W"])))
        head.bias.copy_(torch.from_numpy(model.layers[1].params["b"]))
    params_t = [lstm.weight_ih_l0, lstm.weight_hh_l0, head.weight, head.bias]
    opt, opt_t = optim.Adam(0.01), torch.optim.Adam([*params_t, lstm.bias_ih_l0], lr=0.01)
    for _ in range(3):
        X, y = rng.standard_normal((6, 7, 3)), rng.integers(0, 4, 6)
        loss = model.loss_and_grads(X, y)
        opt_t.zero_grad()
        out, _ = lstm(torch.from_numpy(X))
        lt = torch.nn.functional.cross_entropy(head(out[:, -1]), torch.from_numpy(y))
        lt.backward()
        assert abs(loss - float(lt.detach())) < 1e-12
        g = model.grads()
        for ours, ref in zip([g[0], g[1], g[3], g[4]], params_t):
            np.testing.assert_allclose(ours, ref.grad.numpy(), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(g[2], lstm.bias_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-13)
        opt.step(model.params(), model.grads())
        opt_t.step()
    np.testing.assert_allclose(model.layers[0].params["Wx"], lstm.weight_ih_l0.detach().numpy(), rtol=1e-9)
    np.testing.assert_allclose(model.layers[0].params["b"], lstm.bias_ih_l0.detach().numpy(), rtol=1e-9)
    np.testing.assert_allclose(model.layers[1].params["W"], head.weight.detach().numpy(), rtol=1e-9)


def test_residual_block_matches_torch(rng, torch):
    block = Residual([Dense(4, 6), Tanh(), Dense(6, 4)])
    lin1, lin2 = torch.nn.Linear(4, 6).double(), torch.nn.Linear(6, 4).double()
    with torch.no_grad():
        for lin, la in ((lin1, block.layers[0]), (lin2, block.layers[2])):
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(la.params["W"])))
            lin.bias.copy_(torch.from_numpy(la.params["b"]))
    x = rng.standard_normal((5, 4))
    xt = torch.tensor(x, requires_grad=True)
    yt = xt + lin2(torch.tanh(lin1(xt)))
    out = block.forward(x)
    dout = rng.standard_normal(out.shape)
    yt.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(block.backward(dout), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    for key, ref in [("0.W", lin1.weight), ("0.b", lin1.bias), ("2.W", lin2.weight), ("2.b", lin2.bias)]:
        np.testing.assert_allclose(block.grads[key], ref.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_clip_grad_norm_matches_torch(rng, torch):
    for max_norm in (0.1, 1.0, 100.0):
        grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
        ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for t, g in zip(ts, grads):
            t.grad = torch.from_numpy(g.copy())
        total_t = torch.nn.utils.clip_grad_norm_(ts, max_norm)
        assert abs(clip_grad_norm(grads, max_norm) - float(total_t)) < 1e-12
        for t, g in zip(ts, grads):
            np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-14)


# ---------------------------------------------------------------- Model integration, training


def test_residual_parameters_are_the_inner_layers_arrays_and_checkpoints_keep_them(rng):
    model = Model([Dense(3, 4), Residual([Dense(4, 4), ReLU()]), Dense(4, 2)])
    block = model.layers[1]
    assert block.params["0.W"] is block.layers[0].params["W"]
    assert block.layers[0].label == "layer 1 (Residual([Dense(4→4), ReLU()])) › inner layer 0 (Dense(4→4))"
    X, y = rng.standard_normal((8, 3)), rng.integers(0, 2, 8)
    before = block.layers[0].params["W"].copy()
    model.train_step(X, y, optim.SGD(0.5))
    assert not np.array_equal(before, block.layers[0].params["W"])  # the optimiser updated the inner layer
    state = model.state_dict()
    assert "1.0.W" in state
    fresh = Model([Dense(3, 4), Residual([Dense(4, 4), ReLU()]), Dense(4, 2)])
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.forward(X), model.forward(X))


def test_a_deep_sigmoid_stack_trains_with_skips_and_not_without(rng):
    """The lecture's claim, small: 12 sigmoid layers under plain SGD barely move; the same in residual blocks
    learns."""
    X = rng.standard_normal((256, 8))
    y = (X[:, :4].sum(1) > X[:, 4:].sum(1)).astype(np.int64)

    def run(skip):
        nnlib.seed(0)
        body = [[Dense(16, 16), Sigmoid()] for _ in range(12)]
        hidden = [Residual(b) for b in body] if skip else [la for b in body for la in b]
        model = Model([Dense(8, 16), *hidden, Dense(16, 2)])
        opt = optim.SGD(0.5)
        for _ in range(40):
            for i in range(0, 256, 32):
                model.train_step(X[i:i + 32], y[i:i + 32], opt)
        return model.accuracy(X, y)

    plain, residual = run(False), run(True)
    assert plain < 0.7 < 0.9 < residual, (plain, residual)


def test_lstm_remembers_what_a_short_rnn_cannot_across_a_long_gap(rng):
    """Classify a sequence by the sign of its first entry, followed by noise: an LSTM learns it."""
    T, n = 12, 256
    X = rng.standard_normal((n, T, 1)) * 0.5
    y = rng.integers(0, 2, n)
    X[:, 0, 0] = np.where(y == 1, 1.0, -1.0)
    nnlib.seed(0)
    model = Model([LSTM(1, 8, return_sequences=False), Dense(8, 2)])
    opt = optim.Adam(0.02)
    for _ in range(40):
        for i in range(0, n, 32):
            model.train_step(X[i:i + 32], y[i:i + 32], opt)
    assert model.accuracy(X, y) > 0.95


# ---------------------------------------------------------------- strict backend, no loops over samples


LAYERS = [
    (lambda: RNN(3, 4), (2, 5, 3)), (lambda: RNN(3, 4, "relu", return_sequences=False), (2, 5, 3)),
    (lambda: LSTM(3, 4), (2, 5, 3)), (lambda: LSTM(3, 2, return_sequences=False), (2, 5, 3)),
    (lambda: Residual([Dense(3, 5), Tanh(), Dense(5, 3)]), (4, 3)),
]


@pytest.mark.parametrize("make,shape", LAYERS, ids=[f"{m()!r}" for m, _ in LAYERS])
def test_forward_and_backward_on_the_strict_backend_equal_numpy(make, shape, strict):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    results = {}
    for name in ("numpy", "strict"):
        xp = nnlib.use(name)
        nnlib.seed(0)
        layer = make()
        out = layer.forward(nnlib.to_device(x), train=True)
        assert isinstance(out, xp.ndarray)
        dx = layer.backward(nnlib.to_device(np.linspace(-1, 1, out.size).reshape(out.shape)))
        assert isinstance(dx, xp.ndarray) and tuple(dx.shape) == shape
        results[name] = [B.to_host(out), B.to_host(dx), *(B.to_host(g) for g in layer.grads.values())]
    for a, b in zip(results["numpy"], results["strict"]):
        np.testing.assert_array_equal(a, b)
    clip_grad_norm([nnlib.to_device(x)], 0.5)


def test_no_python_loop_over_samples(strict):
    """The number of array operations of a training step does not grow with the batch (only with the steps)."""
    from cupy_double import strict as _strict

    rng = np.random.default_rng(0)

    def step(n, T=4):
        nnlib.seed(0)
        model = Model([RNN(2, 3), LSTM(3, 3, return_sequences=False), Residual([Dense(3, 3), Tanh()]), Dense(3, 2)])
        X, y = nnlib.to_device(rng.standard_normal((n, T, 2))), nnlib.to_device(rng.integers(0, 2, n))
        opt = optim.SGD(0.01)
        model.train_step(X, y, opt)
        before = _strict.calls
        model.train_step(X, y, opt)
        clip_grad_norm(model.grads(), 1.0)
        return _strict.calls - before

    assert step(2) == step(32)


# ---------------------------------------------------------------- bad input: clear errors


def test_wrong_shapes_name_the_layer_and_the_shapes():
    with pytest.raises(ShapeError, match=r"RNN\(3→4\).*3-d array, got shape \(5, 3\)"):
        RNN(3, 4).forward(np.zeros((5, 3)))
    with pytest.raises(ShapeError, match=r"LSTM\(3→4\): expected input of shape \(batch, time, 3\), got \(2, 5, 2\)"):
        LSTM(3, 4).forward(np.zeros((2, 5, 2)))
    with pytest.raises(ShapeError, match=r"RNN\(3→4\): empty sequences \(input shape \(2, 0, 3\)\)"):
        RNN(3, 4).forward(np.zeros((2, 0, 3)))
    with pytest.raises(ShapeError, match=r"RNN\(3→4\): initial state h0 must have shape \(batch, n_hidden\) = "
                                         r"\(2, 4\) for input \(2, 5, 3\), got \(2, 3\)"):
        RNN(3, 4).forward(np.zeros((2, 5, 3)), h0=np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"LSTM\(3→4\): initial state c0 .* got \(1, 4\)"):
        LSTM(3, 4).forward(np.zeros((2, 5, 3)), c0=np.zeros((1, 4)))
    with pytest.raises(ShapeError, match=r"Residual\(\[Dense\(4→3\)\]\): the inner layers map input \(2, 4\) to "
                                         r"\(2, 3\); a residual block needs F\(x\) of the input's shape"):
        Residual([Dense(4, 3)]).forward(np.zeros((2, 4)))
    model = Model([RNN(2, 3, return_sequences=False), Dense(3, 2)])
    with pytest.raises(ShapeError, match=r"layer 0 \(RNN\(2→3, return_sequences=False\)\).*got \(4, 6, 5\)"):
        model.forward(np.zeros((4, 6, 5)))
    with pytest.raises(TypeError, match=r"RNN\(2→3\).*float32.*float64"):
        RNN(2, 3).forward(np.zeros((1, 2, 2), dtype=np.float32))
    with pytest.raises(FloatingPointError, match=r"LSTM\(2→3\).*1 NaN"):
        LSTM(2, 3).forward(np.array([[[np.nan, 0.0]]]))


@pytest.mark.parametrize("make,shape", LAYERS, ids=[f"{m()!r}" for m, _ in LAYERS])
def test_backward_before_forward_and_wrong_upstream_gradients(make, shape):
    assert_backward_guards(make(), shape)


@pytest.mark.parametrize("make,error,message", [
    (lambda: RNN(0, 3), ValueError, r"RNN: n_in must be ≥ 1, got 0"),
    (lambda: LSTM(2, 2.5), TypeError, r"LSTM: n_hidden must be an int, got 2.5"),
    (lambda: RNN(2, 3, "sigmoid"), ValueError, r"RNN: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"),
    (lambda: LSTM(2, 3, return_sequences="yes"), TypeError, r"LSTM: return_sequences must be True or False"),
    (lambda: Residual([]), TypeError, r"Residual: layers must be a non-empty list of nnlib layers"),
    (lambda: Residual(Dense(2, 2)), TypeError, r"Residual: layers must be a non-empty list of nnlib layers"),
    (lambda: Residual([Dense(2, 2), "relu"]), TypeError, r"Residual: layers must be a non-empty list"),
])
def test_bad_constructor_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()
