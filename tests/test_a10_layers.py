"""Assignment 10 (modular layers): the reference answers against PyTorch and central differences; the checks' limits.

The catalogue (tests/mistakes/a10_layers.py, run by tests/test_catalogue.py and tests/test_assignments.py) covers
the messages; here: the source notebook's own answers agree with ``torch.nn.functional`` in float64 (an oracle that
is not nnlib) and with central differences (relative error < 1e-7), and the dropout check's statistical test
does not reject a correct answer on any of 100 seeds (both cases).
"""

from __future__ import annotations

import numpy as np
import pytest

import mistakes as M
from nnlib import gradcheck as G
from nnlib.grading import a10_layers as A


@pytest.fixture(scope="module")
def ref() -> dict:
    ns: dict = {"np": np}
    for gid in ("affine", "relu", "dropout", "batchnorm", "softmax_loss"):
        exec(compile(M.parts("a10_layers").answers[gid], f"<{gid}>", "exec"), ns)  # noqa: S102 - the source's answer
    return ns


def test_reference_answers_agree_with_pytorch(ref):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((5, 6)), rng.standard_normal(5)
    out, _ = ref["affine_forward"](x, W, b)
    want = F.linear(torch.tensor(x.reshape(4, -1)), torch.tensor(W), torch.tensor(b)).numpy()
    assert G.rel_error(out, want) < 1e-12
    h = rng.standard_normal((8, 3)) * [0.05, 1.0, 3.0] + [1.0, -2.0, 0.5]
    g, be = 1 + rng.standard_normal(3), rng.standard_normal(3)
    rm, rv = rng.standard_normal(3), 0.5 + rng.random(3)
    out, _, nrm, nrv = ref["batchnorm_forward"](h, g, be, rm.copy(), rv.copy(), "train", 0.3, 1e-5)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    want = F.batch_norm(torch.tensor(h), trm, trv, torch.tensor(g), torch.tensor(be), True, 0.3, 1e-5).numpy()
    assert G.rel_error(out, want) < 1e-10
    assert G.rel_error(nrm, trm.numpy()) < 1e-12 and G.rel_error(nrv, trv.numpy()) < 1e-12
    out, *_ = ref["batchnorm_forward"](h, g, be, rm, rv, "test", 0.3, 1e-5)
    want = F.batch_norm(torch.tensor(h), torch.tensor(rm), torch.tensor(rv), torch.tensor(g), torch.tensor(be),
                        False, 0.3, 1e-5).numpy()
    assert G.rel_error(out, want) < 1e-10
    z, y = 500 + 3 * rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    loss, dz = ref["softmax_loss"](z, y)
    tz = torch.tensor(z, requires_grad=True)
    tl = F.cross_entropy(tz, torch.tensor(y))
    tl.backward()
    assert abs(loss - tl.item()) < 1e-10 * max(1.0, abs(loss)) and G.rel_error(dz, tz.grad.numpy()) < 1e-10


def test_reference_backward_passes_agree_with_central_differences(ref):
    rng = np.random.default_rng(1)
    h = rng.standard_normal((7, 4)) * [0.1, 1.0, 2.0, 0.5]
    g, be, dout = 1 + rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal((7, 4))
    _, cache, _, _ = ref["batchnorm_forward"](h, g, be, np.zeros(4), np.ones(4))
    dx, dg, db = ref["batchnorm_backward"](dout, cache)

    def f(v):
        return ref["batchnorm_forward"](v, g, be, np.zeros(4), np.ones(4))[0]

    assert G.rel_error(dx, G.numerical_gradient_array(f, h.copy(), dout, h=1e-5)) < 1e-7
    assert G.rel_error(dg, G.numerical_gradient_array(
        lambda v: ref["batchnorm_forward"](h, v, be, np.zeros(4), np.ones(4))[0], g.copy(), dout)) < 1e-7
    x, W, b = rng.standard_normal((3, 2, 2)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    out, cache = ref["affine_forward"](x, W, b)
    d = rng.standard_normal(out.shape)
    dx, dW, dbb = ref["affine_backward"](d, cache)
    assert G.rel_error(dx, G.numerical_gradient_array(lambda v: ref["affine_forward"](v, W, b)[0], x.copy(), d)) < 1e-7
    assert G.rel_error(dW, G.numerical_gradient_array(lambda v: ref["affine_forward"](x, v, b)[0], W.copy(), d)) < 1e-7
    z, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    assert G.rel_error(ref["softmax_loss"](z, y)[1],
                       G.numerical_gradient(lambda v: ref["softmax_loss"](v, y)[0], z.copy())) < 1e-7


def test_dropout_check_accepts_a_correct_answer_on_every_seed(ref):
    """The kept share is tested at 6 standard deviations: no false rejection over 100 seeds and both cases."""
    for seed in range(100):
        for shape, p in (((100, 80), 0.3), ((60, 90), 0.8)):
            A._train_output(ref["dropout_forward"], "dropout_forward", A._dropout_data(shape, seed), p, seed, "case")


def test_dropout_check_rejects_a_mask_that_keeps_the_wrong_share(ref):
    def biased(x, p, mode="train", seed=None):
        keep = np.random.default_rng(seed).random(x.shape) < p + 0.05
        return (x * keep / p, keep) if mode == "train" else (x, None)

    with pytest.raises(AssertionError, match="keeps a share"):
        A.check_dropout_forward(biased)
