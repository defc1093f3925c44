"""Assignment 6 — SGD (``update_mini_batch``, ``sgd_epoch``), momentum, Adam, softmax cross-entropy.

``update_mini_batch`` gets a net that carries ``backprop`` (provided) but no ``update_mini_batch``;
``sgd_epoch`` gets one that also carries ``update_mini_batch`` — a stand-in step, not SGD
(:func:`nnlib.grading.provided_sgd.stand_in_step`), so the grading worker never holds the answer of
``update_mini_batch``: ``sgd_epoch`` is judged by the minibatches it hands over, in order.  Momentum and Adam
messages speak of velocities and moments, not of backprop.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnlib import activations as A
from nnlib import losses
from nnlib.grading import provided_sgd
from nnlib.grading._core import GradingError, close, fail, fname, host, invoke, judge, ok
from nnlib.grading.families import tolerance
from nnlib.grading.provided import Net

ALLOWED_SGD = [provided_sgd.backprop]
ALLOWED_EPOCH = [provided_sgd.backprop, provided_sgd.stand_in_step]
ALLOWED_SOFTMAX = [A.softmax]
UPDATE_CASES = [([4, 3, 5, 2], 3, 7, 3.0), ([4, 4, 4], 2, 4, 0.5), ([3, 4, 2], 2, 5, 0.5)]  # first: all sizes differ
EPOCH_CASES = [([3, 4, 2], 4, 11, 4, 1.0), ([2, 3, 2], 5, 8, 2, 0.5)]
# first case: η, μ, 1 − μ and η² all differ, so no two suspects give the same numbers
MOMENTUM_CASES = [((3, 2), 0, 0.05, 0.9, 4), ((5,), 1, 0.5, 0.5, 3)]
# (shape, seed, eta, beta1, beta2, steps[, eps]): a large ε tells ε inside the square root from outside it
ADAM_CASES = [((3, 2), 0, 0.01, 0.9, 0.999, 4), ((4,), 1, 0.1, 0.8, 0.99, 3), ((2, 3), 2, 0.05, 0.7, 0.95, 3, 0.1)]
SOFTMAX_CASES = [((4, 3), 5, 2.0), ((6, 5), 6, 2.0), ((3, 4), 7, 1000.0)]


def _network(sizes: Sequence[int], seed: int) -> Any:
    from nnlib.network import Network

    return Network(list(sizes), seed=seed)


def _batch(sizes: Sequence[int], m: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed + 500)
    return [(rng.standard_normal((sizes[0], 1)), rng.random((sizes[-1], 1))) for _ in range(m)]


def _changes(net: Any, w0: list, b0: list) -> tuple[list, list]:
    return [host(w) - v for w, v in zip(net.weights, w0)], [host(b) - v for b, v in zip(net.biases, b0)]


def _compare(net: Any, ref: Any, w0: list, b0: list, case: str, show: bool, m: int | None,
             mistakes: dict[str, Any], constants: dict[str, float] | None = None) -> None:
    if len(net.weights) != len(w0) or len(net.biases) != len(b0):
        fail(f"net.weights / net.biases should still hold {len(w0)} arrays each, one per layer", case)
    try:
        dw, db = _changes(net, w0, b0)
    except (TypeError, ValueError):
        fail("net.weights and net.biases should stay lists of arrays shaped like before", case)
    rw, rb = _changes(ref, w0, b0)
    if all(not np.any(v) for v in dw + db):
        fail("the network is unchanged: update net.weights and net.biases in place (net.weights[l] -= ... or "
             "assign new lists to net.weights and net.biases). If the step is scaled by eta // m or m // eta: // is "
             "integer division, which gives 0 (or a whole number) here — write eta / m", case)
    per_layer: dict[str, tuple[list, list]] = {}
    for msg, other in mistakes.items():
        if other is None:
            continue
        ow, ob = _changes(other, w0, b0)
        per_layer[msg] = (ow, ob)
        if all(close(a, b) for a, b in zip(dw + db, ow + ob)) and not all(close(a, b) for a, b in zip(ow + ob,
                                                                                                         rw + rb)):
            fail(f"the step {msg}.", case)
    for l in reversed(range(len(rw))):
        for k, (what, cand, refv) in enumerate((("weights", dw, rw), ("biases", db, rb))):
            # a whole-step mistake made in one parameter only: named by that parameter's change
            first = {msg: ch[k][l] for msg, ch in per_layer.items()
                     if np.shape(ch[k][l]) == np.shape(refv[l])}
            judge(cand[l], refv[l], f"the change of net.{what}[{l}]", case, show, batch_size=m, constants=constants,
                  first=first)


def _step_each(ref: Any, batch: list, eta: float, w0: list, b0: list) -> Any:
    r = copy.deepcopy(ref)
    r.weights, r.biases = [w.copy() for w in w0], [b.copy() for b in b0]
    for x, y in batch:  # one step per example, each with η/m: the weights change inside the loop
        r.update_mini_batch([(x, y)], eta / len(batch))
    return r


class _Swapped:
    """The step a learner takes who unpacks ``dw, db = net.backprop(x, y)`` (the pair in the wrong order)."""

    def __init__(self, ref: Any, batch: list, eta: float, w0: list, b0: list):
        m = len(batch)
        gb = [np.zeros_like(b) for b in b0]
        gw = [np.zeros_like(w) for w in w0]
        r = copy.deepcopy(ref)
        r.weights, r.biases = [w.copy() for w in w0], [b.copy() for b in b0]
        with np.errstate(all="ignore"):
            try:
                for x, y in batch:
                    nb_true, nw_true = r.backprop(x, y)
                    gb = [a + d for a, d in zip(gb, nw_true)]  # the learner's "db" is really nabla_w, and
                    gw = [a + d for a, d in zip(gw, nb_true)]  # their "dw" nabla_b (broadcast where square)
                self.weights = [w - (eta / m) * g for w, g in zip(w0, gw)]
                self.biases = [b - (eta / m) * g for b, g in zip(b0, gb)]
            except ValueError:
                self.weights, self.biases = None, None


def _swapped(ref: Any, batch: list, eta: float, w0: list, b0: list) -> Any:
    s = _Swapped(ref, batch, eta, w0, b0)
    return s if s.weights is not None else None


def _scaled(ref: Any, batch: list, eta: float, w0: list, b0: list) -> Any:
    r = copy.deepcopy(ref)
    r.weights, r.biases = [w.copy() for w in w0], [b.copy() for b in b0]
    r.update_mini_batch(batch, eta)
    return r


def check_update_mini_batch(update_mini_batch: Callable, cases: Sequence | None = None,
                            show_values: bool = True) -> None:
    """``update_mini_batch(net, mini_batch, eta)``: w ← w − (η/m) Σ_x ∇C_x, b likewise, **in place**.

    ``mini_batch`` is Nielsen's list of m pairs (x, y) of columns.  ``cases``: list of (sizes, seed, m, eta).
    """
    name = fname(update_mini_batch, "update_mini_batch")
    for sz, seed, m, eta in (UPDATE_CASES if cases is None else cases):
        ref = _network(sz, int(seed))
        net = Net(sz, ref.weights, ref.biases, methods=("backprop",))
        batch = _batch(sz, int(m), int(seed))
        case = f"{name}(net, mini_batch, eta={eta}) for a network of sizes {list(sz)} and a minibatch of m = {m}"
        w0, b0 = [host(w).copy() for w in net.weights], [host(b).copy() for b in net.biases]
        ref.update_mini_batch(batch, eta)
        out = invoke(update_mini_batch, name, net, [(x.copy(), y.copy()) for x, y in batch], float(eta),
                     allowed=ALLOWED_SGD, allowed_text="NumPy and net.backprop")
        unchanged = all(np.array_equal(host(w), v) for w, v in zip(net.weights, w0)) and \
            all(np.array_equal(host(b), v) for b, v in zip(net.biases, b0))
        if unchanged and out is not None:
            fail(f"{name} returned a result but left net unchanged: the step must change net.weights and "
                 "net.biases in place (the caller keeps using the same net), and return nothing", case)
        first_only = copy.deepcopy(ref)
        first_only.weights, first_only.biases = [w.copy() for w in w0], [b.copy() for b in b0]
        first_only.update_mini_batch(batch[-1:], eta / m)
        summed = copy.deepcopy(ref)
        summed.weights, summed.biases = [w.copy() for w in w0], [b.copy() for b in b0]
        summed.update_mini_batch(batch, eta * m)
        _compare(net, ref, w0, b0, case, show_values, int(m), {
            "equals the step for the last example alone (scaled by η/m): the gradients of the examples must be "
            "added up before the step": first_only,
            "updates the weights inside the loop over the examples: add up the m gradients first (with the "
            "weights fixed), then take one step with their mean": _step_each(ref, batch, eta, w0, b0),
            f"is {m}× too large: it uses the sum of the gradients; the rule divides by m, w ← w − (η/m) Σ ∇C_x":
                summed,
            f"is {m}× too small: the gradients were divided by m twice (η/m², or the mean divided again); "
            "w ← w − (η/m) Σ ∇C_x divides the sum once": _scaled(ref, batch, eta / m, w0, b0),
            "equals the step for the first example alone (scaled by η/m): the gradients of all the examples "
            "must be added up before the step": _scaled(ref, batch[:1], eta / m, w0, b0),
            "takes net.backprop's results in the wrong order: it returns (nabla_b, nabla_w) — biases first, "
            "like (net.biases, net.weights)": _swapped(ref, batch, eta, w0, b0),
        }, {"m (the number of examples in the minibatch)": m, "η (eta)": eta})
    ok(f"{name} looks correct")


def check_sgd_epoch(sgd_epoch: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``sgd_epoch(net, training_data, mini_batch_size, eta)``: one pass over consecutive minibatches, no shuffle.

    ``cases``: list of (sizes, seed, n, mini_batch_size, eta).
    """
    name = fname(sgd_epoch, "sgd_epoch")
    for sz, seed, n, bs, eta in (EPOCH_CASES if cases is None else cases):
        n, bs = int(n), int(bs)
        ref0 = _network(sz, int(seed))
        net = Net(sz, ref0.weights, ref0.biases, methods=("backprop", "update_mini_batch"))
        data = _batch(sz, n, int(seed))
        case = f"{name}(net, training_data, mini_batch_size={bs}, eta={eta}) for sizes {list(sz)} and {n} examples"
        w0, b0 = [host(w).copy() for w in net.weights], [host(b).copy() for b in net.biases]

        def run(batches: list, _eta: float = eta, _sz: Sequence = sz, _w0: list = w0, _b0: list = b0) -> Any:
            r = Net(_sz, _w0, _b0)
            for mb in batches:
                provided_sgd.stand_in_step(r, mb, _eta)
            return r

        ref = run([data[k:k + bs] for k in range(0, n, bs)])
        mistakes = {
            "skips the last, shorter minibatch: range(0, n, mini_batch_size) also yields the start of the "
            "remainder": run([data[k:k + bs] for k in range(0, n - bs + 1, bs)]) if n % bs else None,
            "takes one step on the whole training set: split it into minibatches of mini_batch_size examples "
            "and take one step per minibatch": run([data]),
            "takes only the first minibatch: loop over all of them": run([data[:bs]]),
            "uses minibatches of one example (one step per example): each step should use a minibatch of "
            "mini_batch_size examples": run([[p] for p in data]) if bs > 1 else None,
            "uses n // mini_batch_size (the number of minibatches) as the size of each minibatch: each step should "
            "use a minibatch of mini_batch_size examples, training_data[k:k + mini_batch_size]":
                run([data[k:k + n // bs] for k in range(0, n, n // bs)]) if n // bs not in (0, bs) else None,
            "divides η by the minibatch size: pass eta itself to update_mini_batch, which divides by m":
                run([data[k:k + bs] for k in range(0, n, bs)], _eta=eta / bs) if bs > 1 else None,
            "uses overlapping minibatches (a step of 1 between their starts): step through the data "
            "mini_batch_size at a time": run([data[k:k + bs] for k in range(0, n)]),
        }
        invoke(sgd_epoch, name, net, [(x.copy(), y.copy()) for x, y in data], bs, float(eta),
               allowed=ALLOWED_EPOCH, allowed_text="NumPy, net.update_mini_batch and net.backprop")
        try:
            _compare(net, ref, w0, b0, case, show_values, None, mistakes)
        except GradingError:
            again = Net(sz, w0, b0, methods=("backprop", "update_mini_batch"))
            invoke(sgd_epoch, name, again, [(x.copy(), y.copy()) for x, y in data], bs, float(eta),
                   allowed=ALLOWED_EPOCH, allowed_text="NumPy, net.update_mini_batch and net.backprop")
            if not all(np.array_equal(host(a), host(b)) for a, b in zip(again.weights + again.biases,
                                                                         net.weights + net.biases)):
                fail(f"{name} gives different results for the same data: does it shuffle? The caller shuffles "
                     "before each epoch; sgd_epoch takes the minibatches in the order it is given", case)
            raise
    ok(f"{name} looks correct")


def check_momentum(momentum_step: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``momentum_step(w, v, grad, eta, mu)`` → (w_new, v_new):  v ← μ v − η g;  w ← w + v.

    ``cases``: list of (shape, seed, eta, mu, steps).
    """
    name = fname(momentum_step, "momentum_step")
    show = show_values
    for shape, seed, eta, mu, steps in (MOMENTUM_CASES if cases is None else cases):
        rng = np.random.default_rng(int(seed))
        shape = tuple(shape)
        w, v = rng.standard_normal(shape), np.zeros(shape)
        for t in range(int(steps)):
            g = rng.standard_normal(shape)
            case = f"{name}(w, v, grad, eta={eta}, mu={mu}), step {t + 1} from v = 0, w of shape {shape}"
            w_in, v_in = w.copy(), v.copy()
            out = invoke(momentum_step, name, w_in, v_in, g.copy(), float(eta), float(mu))
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                fail(f"{name} should return the pair (w_new, v_new)", case)
            v_ref = mu * v - eta * g
            w_ref = w + v_ref
            consts = {"η (eta)": eta, "μ (mu)": mu, "1 − μ": 1 - mu}
            if close(out[0], v_ref) and close(out[1], w_ref) and not close(v_ref, w_ref):
                fail(f"{name} returns (v_new, w_new): the order is (w_new, v_new), the new weights first", case)
            judge(out[1], v_ref, f"v_new from {name}", case, show, gradient=False, first={
                "ignores the old velocity: v ← μ v − η g keeps a fraction μ of it": -eta * g if np.any(v) else None,
                "adds the gradient: the velocity moves downhill, v ← μ v − η g": mu * v + eta * g,
                "scales the gradient by (1 − μ) as well: this course's momentum is v ← μ v − η g":
                    mu * v - (1 - mu) * eta * g,
                "puts μ on the gradient instead of on the old velocity: v ← μ v − η g (μ keeps a fraction of the "
                "velocity; the gradient step is η g)": v - mu * eta * g if mu != 1 else None,
                "multiplies the gradient by μ as well: v ← μ v − η g": mu * v - mu * eta * g if mu != 1 else None,
            }, constants=consts)
            judge(out[0], w_ref, f"w_new from {name}", case, show, gradient=False, first={
                "moves w with the old velocity: compute v_new first, then w ← w + v_new": w + v,
                "subtracts the velocity: v already points downhill, so w ← w + v": w - v_ref,
            }, constants=consts)
            w, v = w_ref, v_ref
    ok(f"{name} looks correct")


def adam_reference(w: Any, g: Any, m: Any, v: Any, t: float, eta: float, b1: float, b2: float, eps: float,
                   eps_inside: bool = False, correct: bool = True, swap: bool = False) -> tuple[Any, Any, Any]:
    """One Adam step (w_new, m_new, v_new); ``eps_inside``, ``correct=False`` and ``swap`` (the two bias
    corrections exchanged) give classic variants."""
    m_new = b1 * m + (1 - b1) * g
    v_new = b2 * v + (1 - b2) * g * g
    c1, c2 = (b2, b1) if swap else (b1, b2)
    with np.errstate(all="ignore"):
        mh, vh = (m_new / (1 - c1 ** t), v_new / (1 - c2 ** t)) if correct else (m_new, v_new)
        root = np.sqrt(vh + eps) if eps_inside else np.sqrt(vh) + eps
        return w - eta * mh / root, m_new, v_new


def adam_family(w: Any, g: Any, m: Any, v: Any, t: int, eta: float, b1: float, b2: float,
                eps: float) -> dict[str, Any]:
    """The step with Adam's hyperparameters confused, generated from the reference: {words: w_new}."""
    def step(**kw: Any) -> Any:
        args = {"t": t, "b1": b1, "b2": b2, "eps": eps, **kw}
        out = adam_reference(w, g, m, v, args.pop("t"), eta, args.pop("b1"), args.pop("b2"), args.pop("eps"),
                             **args)[0]
        return out if np.all(np.isfinite(out)) else None

    return {
        "skips the bias correction m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)": step(correct=False),
        "puts ε inside the square root, √(v̂ + ε): the step is η m̂/(√v̂ + ε), ε added after the root":
            step(eps_inside=True) if eps >= 1e-4 else None,
        "uses t − 1 in the bias correction (t counted from 0): the first step is t = 1, so 1 − β₁ᵗ uses the "
        "t it is given": step(t=t - 1) if t > 1 else None,
        "uses t + 1 in the bias correction (t incremented before the step): use the t it is given":
            step(t=t + 1),
        "corrects with t = 1 at every step (t never incremented, or not used): 1 − β₁ᵗ and 1 − β₂ᵗ use the "
        "current step t": step(t=1) if t > 1 else None,
        "has β₁ and β₂ swapped: β₁ (beta1) for the first moment m, β₂ (beta2) for the second moment v":
            step(b1=b2, b2=b1) if b1 != b2 else None,
        "has the bias corrections swapped: m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ), β₁ with m and β₂ with v":
            step(swap=True) if b1 != b2 else None,
    }


def check_adam(adam_step: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``adam_step(w, grad, m, v, t, eta, beta1, beta2, eps)`` → (w_new, m_new, v_new), with bias correction.

    ``cases``: list of (shape, seed, eta, beta1, beta2, steps).
    """
    name = fname(adam_step, "adam_step")
    show = show_values
    for shape, seed, eta, b1, b2, steps, *more in (ADAM_CASES if cases is None else cases):
        eps = float(more[0]) if more else 1e-8
        rng = np.random.default_rng(int(seed))
        shape = tuple(shape)
        w, m, v = rng.standard_normal(shape), np.zeros(shape), np.zeros(shape)
        for t in range(1, int(steps) + 1):
            g = rng.standard_normal(shape)
            case = f"{name}(w, grad, m, v, t={t}, eta={eta}, beta1={b1}, beta2={b2}, eps={eps:g}), w of shape {shape}"
            out = invoke(adam_step, name, w.copy(), g.copy(), m.copy(), v.copy(), t, float(eta), float(b1),
                         float(b2), eps)
            if not isinstance(out, (tuple, list)) or len(out) != 3:
                fail(f"{name} should return the triple (w_new, m_new, v_new)", case)
            w_ref, m_ref, v_ref = adam_reference(w, g, m, v, t, eta, b1, b2, eps)
            mh, vh = m_ref / (1 - b1 ** t), v_ref / (1 - b2 ** t)
            consts = {"η (eta)": eta, "1 − β₁": 1 - b1, "1 − β₂": 1 - b2, "β₁": b1, "β₂": b2}
            judge(out[1], m_ref, f"m_new from {name}", case, show, gradient=False, first={
                "uses β₂ for the first moment: m ← β₁ m + (1 − β₁) g (β₁ for m, β₂ for v — are beta1 and beta2 "
                "swapped?)": b2 * m + (1 - b2) * g if b1 != b2 else None,
                "returns the bias-corrected m̂ as the new m: keep the running mean m and use m̂ only in the step":
                    mh if t > 0 else None}, constants=consts)
            judge(out[2], v_ref, f"v_new from {name}", case, show, gradient=False, first={
                "averages g instead of g²: v is the running mean of the squared gradient": b2 * v + (1 - b2) * g,
                "uses β₁ for the second moment: v ← β₂ v + (1 − β₂) g² (are beta1 and beta2 swapped?)":
                    b1 * v + (1 - b1) * g * g if b1 != b2 else None,
                "returns the bias-corrected v̂ as the new v: keep the running mean v and use v̂ only in the step":
                    vh}, constants=consts)
            judge(out[0], w_ref, f"w_new from {name}", case, show, tol=max(1e-6, tolerance(out[0])), gradient=False,
                  first={**adam_family(w, g, m, v, t, eta, b1, b2, eps),
                         "divides by v̂ instead of √v̂": w - eta * mh / (vh + eps),
                         "has the wrong sign: Adam steps against the gradient, w − η m̂/(√v̂ + ε)":
                             w + eta * mh / (np.sqrt(vh) + eps)}, constants=consts)
            w, m, v = w_ref, m_ref, v_ref
    ok(f"{name} looks correct")


def _rows_minus_one(p: np.ndarray, y: np.ndarray, m: int) -> np.ndarray | None:
    if int(np.max(y)) >= p.shape[0]:
        return None  # the learner's code raises IndexError here
    out = p.copy()
    out[y] -= 1  # the learner's slip, reproduced: whole rows, once per distinct label
    return out / m


LABELS = ("y holds integer labels, shape (m,), not one-hot rows: an (m, k) array minus y only fits when k = m — "
          "build the one-hot targets as np.eye(k)[y] (shape (m, k)), or subtract 1 at each example's own label, "
          "dz[np.arange(m), y] -= 1")


def _label_advice(exc: Any) -> str | None:
    """A shape error between an (m, k) array and the (m,) labels: index labels used as one-hot rows."""
    import re

    shapes = re.findall(r"\((\d{1,9}),(\d{0,9})\)", (exc.message or "")[:300])
    if exc.type_name == "ValueError" and len(shapes) >= 2 and any(b == "" for _, b in shapes) and \
            any(b != "" for _, b in shapes):
        return LABELS
    return None


def check_softmax_cross_entropy(fn: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``softmax_cross_entropy(z, y)`` → (loss, dz): mean over the rows of z (m, k) with integer labels y (m,).

    loss = (1/m) Σ_i [logsumexp(z_i) − z_i,y_i] and dz = (softmax(z) − onehot(y)) / m; stable for large z.
    ``cases``: list of ((m, k), seed, scale).
    """
    name = fname(fn, "softmax_cross_entropy")
    show = show_values
    for (m, k), seed, scale in (SOFTMAX_CASES if cases is None else cases):
        rng = np.random.default_rng(int(seed))
        z, y = rng.standard_normal((m, k)) * scale, rng.integers(0, k, size=m)
        label = "large logits (|z| ~ 1000)" if scale >= 100 else "random logits"
        case = f"{name}(z, y) with z of shape {z.shape} ({label}) and y of shape {y.shape}"
        z_in = z.copy()
        out = invoke(fn, name, z_in, y.copy(), allowed=ALLOWED_SOFTMAX, allowed_text="NumPy and softmax",
                     advice=_label_advice)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            fail(f"{name} should return the pair (loss, dz)", case)
        if not np.array_equal(z_in, z):
            fail(f"{name} changed z in place (e.g. z -= z.max(...)): compute a new array, z_shift = z − max z, and "
                 "leave z as it was", case)
        ref_loss, ref_dz = losses.softmax_cross_entropy(z, y)
        try:
            arr = np.asarray(out[0], dtype=np.float64).reshape(-1)
            loss = float(arr[0]) if arr.size == 1 else None
        except (TypeError, ValueError):
            loss = None
        if loss is None:
            fail(f"the loss from {name} should be one number (the mean over the batch), got {np.shape(out[0])}",
                 case)
        if not np.isfinite(loss):
            fail(f"the loss from {name} is {loss}: either exp overflowed (subtract each row's max from z before "
                 "exp, softmax(z) = softmax(z − max z)) or softmax underflowed to 0 for a label and ln 0 = −inf "
                 "(compute ln softmax(z) = (z − max z) − ln Σ e^(z − max z) directly, not ln of softmax)", case)
        if abs(loss - ref_loss) > 1e-7 * max(1.0, abs(ref_loss)):
            shown = f" (got {loss:.6g}, expected {ref_loss:.6g})" if show else ""
            if abs(loss - m * ref_loss) < 1e-7 * max(1.0, m * abs(ref_loss)):
                fail(f"the loss from {name} is {m}× too large: it is summed over the {m} examples where the "
                     f"mean is expected{shown}", case)
            with np.errstate(all="ignore"):
                sm0 = np.exp(z - z.max(axis=0, keepdims=True))
                sm0 /= sm0.sum(axis=0, keepdims=True)
                wrong_axis = -np.mean(np.log(sm0[np.arange(m), y]))
                cols = -np.mean(np.log(A.softmax(z)[:, y]))
            if abs(loss - wrong_axis) < 1e-7 * max(1.0, abs(wrong_axis)):
                fail(f"the loss from {name} takes the softmax over the wrong axis: each row of z is one example, so "
                     f"normalise over axis=1 (the k classes), not axis=0{shown}", case)
            if abs(loss - cols) < 1e-7 * max(1.0, abs(cols)):
                fail(f"the loss from {name} picks p[:, y] — for every example the columns of all the labels: take "
                     f"each example's own label, p[np.arange(m), y]{shown}", case)
            if k != m and abs(loss - m * ref_loss / k) < 1e-7 * max(1.0, abs(m * ref_loss / k)):
                fail(f"the loss from {name} is averaged over the k = {k} classes: average over the m = {m} examples "
                     f"(the rows), L = −(1/m) Σ_i ln softmax(z_i)[y_i]{shown}", case)
            if abs(loss + ref_loss) < 1e-7 * max(1.0, abs(ref_loss)):
                fail(f"the loss from {name} has the wrong sign: L = −(1/m) Σ_i ln softmax(z_i)[y_i] ≥ 0{shown}", case)
            fail(f"the loss from {name} is wrong{shown}: −(1/m) Σ_i ln softmax(z_i)[y_i]", case)
        onehot = np.eye(k)[y]
        sm = A.softmax(z)
        dz = host(out[1]) if out[1] is not None else None
        if dz is not None and dz.shape == ref_dz.shape and not np.all(np.isfinite(dz)):
            fail(f"dz from {name} contains NaN or inf: exp overflowed — subtract each row's max from z first", case)
        judge(out[1], ref_dz, f"dz from {name}", case, show, batch_size=m, first={
            "is softmax(z)/m: subtract the one-hot targets, dz = (softmax(z) − onehot(y)) / m": sm / m,
            "is (z − onehot(y))/m: subtract the targets from softmax(z), not from z": (z - onehot) / m,
            "adds the one-hot targets: subtract them, dz = (softmax(z) − onehot(y)) / m": (sm + onehot) / m,
            f"is divided by m twice ((softmax(z) − onehot(y)) / m²): divide by m = {m} once":
                (sm - onehot) / m / m,
            "subtracts 1 from whole rows (dz[y] -= 1 picks the rows numbered by the labels): subtract it only at each "
            "example's own label, dz[np.arange(m), y] -= 1": _rows_minus_one(sm, y, m),
            f"is averaged over the k = {k} classes (divided by k): average over the m = {m} examples (the rows), "
            "dz = (softmax(z) − onehot(y)) / m": (sm - onehot) / k if k != m else None,
        }, constants={"m (the number of examples)": m, "k (the number of classes)": k},
            dims={"m, the number of examples (rows of z)": m, "k, the number of classes": k},
            law="dz has the shape of z, (m, k): one row per example")
    ok(f"{name} looks correct (loss and gradient, stable for large logits)")
