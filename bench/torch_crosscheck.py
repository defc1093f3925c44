"""Issue 12's new behaviour against PyTorch on the CPU, float64: the largest relative difference per item.

    python bench/torch_crosscheck.py      # needs torch (optional, like the benchmark's PyTorch rows)

Optimisers with weight decay (SGD, Adam, AdamW, RMSprop, Adagrad), PyTorch-form momentum and Nesterov under a
cosine / multi-step schedule with linear warm-up (SequentialLR), the schedules' values, rectangular and
padding="same" convolutions (forward and all gradients), rectangular and padded max-pooling with NaN
(forward, where NaN lands, gradient), soft-target softmax cross-entropy, and σ against torch.sigmoid.  The
lectures' momentum (η inside the velocity) is shown differing under a schedule, as docs/conventions.md says.
The tests check the same semantics against loops written out in NumPy (tests/test_edges.py,
tests/test_optim_state.py), so they need no PyTorch.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nnlib import activations as A  # noqa: E402
from nnlib import layers as L  # noqa: E402
from nnlib import losses, optim  # noqa: E402
from nnlib._checks import trusted  # noqa: E402

torch.set_default_dtype(torch.float64)
T, F, S = torch.optim, torch.nn.functional, torch.optim.lr_scheduler
rng = np.random.default_rng(0)


def rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def run_opt(make_nn, make_torch, schedule=None, make_scheduler=None, steps=12) -> float:
    """The same gradients through an nnlib optimiser and a PyTorch one (η from the schedule each step)."""
    w0 = [rng.standard_normal((4, 3)), rng.standard_normal(3)]
    grads = [[rng.standard_normal(w.shape) for w in w0] for _ in range(steps)]
    params, opt = [w.copy() for w in w0], make_nn()
    tparams = [torch.tensor(w, requires_grad=True) for w in w0]
    topt = make_torch(tparams)
    sched = make_scheduler(topt) if make_scheduler else None
    for k, g in enumerate(grads):
        if schedule is not None:
            opt.lr = schedule(k)
        opt.step(params, g)
        for t, gi in zip(tparams, g):
            t.grad = torch.tensor(gi)
        topt.step()
        if sched is not None:
            sched.step()
    return max(rel(a, t.detach().numpy()) for a, t in zip(params, tparams))


def warm_cosine(o):
    return S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=4),
                              S.CosineAnnealingLR(o, T_max=8, eta_min=0.001)], milestones=[4])


def warm_multistep(o):
    return S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=3),
                              S.MultiStepLR(o, milestones=[2, 5], gamma=0.5)], milestones=[3])


def torch_lrs(make_scheduler, n: int) -> list[float]:
    o = T.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    s, lrs = make_scheduler(o), []
    for _ in range(n):
        lrs.append(o.param_groups[0]["lr"])
        o.step()
        s.step()
    return lrs


def optimisers(out: dict) -> None:
    out["AdamW wd=0.1"] = run_opt(lambda: optim.AdamW(0.01, weight_decay=0.1),
                                  lambda p: T.AdamW(p, lr=0.01, weight_decay=0.1))
    out["Adam wd=0.1 (coupled)"] = run_opt(lambda: optim.Adam(0.01, weight_decay=0.1),
                                           lambda p: T.Adam(p, lr=0.01, weight_decay=0.1))
    out["SGD wd=0.2"] = run_opt(lambda: optim.SGD(0.05, weight_decay=0.2),
                                lambda p: T.SGD(p, lr=0.05, weight_decay=0.2))
    out["RMSprop rho=0.99 wd=0.1"] = run_opt(lambda: optim.RMSprop(0.01, rho=0.99, weight_decay=0.1),
                                             lambda p: T.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.1))
    out["Adagrad eps=1e-10 wd=0.1"] = run_opt(lambda: optim.Adagrad(0.1, eps=1e-10, weight_decay=0.1),
                                              lambda p: T.Adagrad(p, lr=0.1, eps=1e-10, weight_decay=0.1))
    cos = optim.CosineDecay(0.1, T_max=8, lr_min=0.001, warmup=4, start_factor=0.25)
    ms = optim.MultiStepDecay(0.1, milestones=[2, 5], gamma=0.5, warmup=3, start_factor=0.5)
    out["Momentum(eta_in_velocity=False) + cosine, warm-up"] = run_opt(
        lambda: optim.Momentum(0.1, mu=0.9, weight_decay=0.01, eta_in_velocity=False),
        lambda p: T.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01), cos, warm_cosine)
    out["Nesterov(eta_in_velocity=False) + cosine, warm-up"] = run_opt(
        lambda: optim.Nesterov(0.1, mu=0.9, eta_in_velocity=False),
        lambda p: T.SGD(p, lr=0.1, momentum=0.9, nesterov=True), cos, warm_cosine)
    out["Momentum(eta_in_velocity=False) + multi-step, warm-up"] = run_opt(
        lambda: optim.Momentum(0.1, mu=0.9, eta_in_velocity=False),
        lambda p: T.SGD(p, lr=0.1, momentum=0.9), ms, warm_multistep)
    out["Momentum default (η inside v) + cosine: differs, as documented"] = run_opt(
        lambda: optim.Momentum(0.1, mu=0.9), lambda p: T.SGD(p, lr=0.1, momentum=0.9), cos, warm_cosine)
    out["CosineDecay(warmup) values"] = rel([cos(k) for k in range(14)], torch_lrs(warm_cosine, 14))
    out["MultiStepDecay(warmup) values"] = rel([ms(k) for k in range(10)], torch_lrs(warm_multistep, 10))


def convolutions(out: dict) -> None:
    for k, st, pd in [((3, 5), (2, 1), (1, 2)), (2, (1, 3), (0, 1)), ((3, 5), 1, "same")]:
        layer = L.Conv2D(2, 3, k, stride=st, pad=pd)
        x = rng.standard_normal((2, 2, 7, 9))
        y = layer.forward(x, True)
        d = rng.standard_normal(y.shape)
        dx = layer.backward(d)
        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(layer.params["W"], requires_grad=True)
        tb = torch.tensor(layer.params["b"], requires_grad=True)
        ty = F.conv2d(tx, tw, tb, stride=st, padding=pd)
        ty.backward(torch.tensor(d))
        out[f"Conv2D kernel={k} stride={st} pad={pd!r}"] = max(
            rel(y, ty.detach()), rel(dx, tx.grad), rel(layer.grads["W"], tw.grad), rel(layer.grads["b"], tb.grad))


def pooling(out: dict) -> None:
    for size, st, pd in [((2, 3), None, 0), ((3, 2), (1, 2), (1, 1)), (2, 2, 1), (3, 1, 1)]:
        x = rng.standard_normal((2, 2, 7, 8))
        x[0, 0, 1, 1] = x[1, 1, 4, 4] = x[1, 1, 4, 5] = np.nan  # two NaNs share some windows
        layer = L.MaxPool2D(size, st, pd)
        with trusted():  # the layer's own NaN/inf check is what trusted() skips
            y = layer.forward(x, True)
            d = rng.standard_normal(y.shape)
            dx = layer.backward(d)
        tx = torch.tensor(x, requires_grad=True)
        ty = F.max_pool2d(tx, size, stride=st if st is not None else size, padding=pd)
        ty.backward(torch.tensor(d))
        same_nan = bool(np.array_equal(np.isnan(y), torch.isnan(ty).numpy()))
        dy = float(np.abs(np.nan_to_num(y) - np.nan_to_num(ty.detach().numpy())).max())
        out[f"MaxPool2D size={size} stride={st} pad={pd}, NaN"] = (dy, same_nan, rel(dx, tx.grad))


def costs_and_sigmoid(out: dict) -> None:
    z, y = rng.standard_normal((5, 4)), rng.random((5, 4)) * 2  # target rows sum to anything
    total, g = losses.SoftmaxCrossEntropy().fn_and_grad(z, y, scale=1 / 5)
    tz = torch.tensor(z, requires_grad=True)
    tl = F.cross_entropy(tz, torch.tensor(y))
    tl.backward()
    out["soft targets: loss (abs), gradient"] = (abs(float(total) / 5 - tl.item()), rel(g, tz.grad))
    zz = np.linspace(-700, 700, 14001)
    ts = torch.sigmoid(torch.tensor(zz)).numpy()
    out["sigmoid on [-700, 700] vs torch.sigmoid"] = float(np.max(np.abs(A.sigmoid(zz) - ts) / ts))


def main() -> None:
    out: dict = {}
    optimisers(out)
    convolutions(out)
    pooling(out)
    costs_and_sigmoid(out)
    print(f"PyTorch {torch.__version__}, float64.  Relative differences; max-pool: (|Δout|, same NaNs, rel. Δ∂x)")
    for k, v in out.items():
        print(f"{k:>62}: {v}")


if __name__ == "__main__":
    main()
