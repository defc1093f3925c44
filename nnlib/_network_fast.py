"""The fused SGD step of ``nnlib.network.Network`` for sigmoid units: the same numbers, fewer passes.

``Network._step`` and ``Network.SGD`` use this module only where ``pays(net)`` says so; everything here is
``Network._backprop_rows`` plus Nielsen's update, rearranged for speed.  The benchmark that justifies it is
``python bench/network_fast.py`` (one epoch of Nielsen's [784, 30, 10] with this step against the plain one,
in the same run; figures in bench/ANALYSIS.md, "The fused sigmoid step").  tests/test_fastpaths.py checks the
step against the update written out plainly, on NumPy and on the strict (CuPy-like) backend.

At minibatch 10 a step takes ~30 µs and each NumPy call costs ~1 µs, so the number of calls matters as much
as the arithmetic:

* every a^l, δ^l, σ'(z^l) and gradient is written into buffers allocated once per batch size (``out=``
  arguments and in-place operators, no temporaries); z^l is computed in a^l's buffer;
* σ(z^l) and σ'(z^l) together with ``B.sigmoid_and_prime_`` (five passes, no temporary: σ' comes from the
  same e = exp(z) and 1 + e; bench/sigmoid.py), inside one ``B.quiet_underflow()`` context per epoch or
  per ``update_mini_batch`` call, not one per σ;
* scalar operands (η/m, the decay) as 0-d arrays of the dtype (``_scalar``): ~0.4 µs less per call;
* δ^L is multiplied by η/m once: BP2–BP4 are linear in δ, so every gradient then comes out already scaled
  by η/m and the update is a plain subtraction;
* ``xp.dot(..., out=)`` rather than ``matmul`` for the C-ordered products: the same BLAS call with less
  dispatch (~0.6 µs); for δᵀ a (a transposed operand) ``matmul`` is the faster of the two;
* BP3's sum over the batch is the product 1ᵀ δ with a stored row of ones: 0.5 µs against 1.2 µs for
  ``sum(axis=0)`` at batch 10, 0.8 against 3.3 µs at batch 100 (a reduction over the short axis is slow in
  NumPy; the product is one small BLAS call).
"""

from __future__ import annotations

from typing import Any

from nnlib import backend as B
from nnlib._network_data import minibatches

Array = Any


def pays(net: Any) -> bool:
    """Whether the fused step applies: sigmoid units with the quadratic or the cross-entropy cost (δ^L = a − y
    times σ'(z^L), or without it).  bench/network_fast.py measures it faster at every batch size it times."""
    return net.activation.name == "sigmoid" and net.cost.name in ("quadratic", "cross_entropy")


def step(net: Any, X: Array, Y: Array, eta: float, lmbda: float, n: int) -> None:
    """One fused step on the minibatch rows X, Y (``Network._step``'s update)."""
    m = X.shape[0]
    with B.quiet_underflow():
        _step_sigmoid(net, X, Y, eta / m, 1.0 - eta * lmbda / n if lmbda else 1.0, _buffers(net, m))


def epoch(net: Any, X: Array, Y: Array, perm: Array, mini_batch_size: int, eta: float, lmbda: float,
          n: int) -> None:
    """One epoch of fused steps over the minibatches of ``perm``, the dispatch and buffer look-up hoisted out."""
    decay, bufs = (1.0 - eta * lmbda / n if lmbda else 1.0), {}
    with B.quiet_underflow():  # σ's exp(z) → 0 for very negative z is right (backend)
        for Xb, Yb in minibatches(X, Y, perm, mini_batch_size):
            m = Xb.shape[0]
            buf = bufs.get(m) or bufs.setdefault(m, _buffers(net, m))
            _step_sigmoid(net, Xb, Yb, eta / m, decay, buf)


def _buffers(net: Any, m: int) -> dict[str, Any]:
    """Work arrays for minibatches of m rows (kept per batch size; the last batch may be smaller)."""
    cache = net.__dict__.setdefault("_work", {})
    key = (m, net.dtype, tuple(net.sizes), B.name())
    if key not in cache:
        xp = B.xp
        if len(cache) > 4:
            cache.clear()
        new = lambda *shape: xp.empty(shape, dtype=net.dtype)  # noqa: E731
        cache[key] = {"a": [new(m, k) for k in net.sizes[1:]],  # a^l (m, n_l); z^l is never kept
                      "delta": [new(m, k) for k in net.sizes[1:]],
                      "prime": [new(m, k) for k in net.sizes[1:]],  # σ'(z^l)
                      "nabla_w": [new(*w.shape) for w in net.weights],
                      "nabla_b": [new(1, k) for k in net.sizes[1:]],
                      "ones": xp.ones((1, m), dtype=net.dtype),  # Σ over the batch as a product 1ᵀ δ
                      "scalars": {}}
    return cache[key]


def _scalar(net: Any, buf: dict[str, Any], value: float) -> Array:
    """``value`` as a 0-d array of the network's dtype, kept in ``buf`` (a Python float operand costs a
    NumPy ufunc ~0.4 µs more per call, a scalar conversion)."""
    scalars = buf["scalars"]
    arr = scalars.get(value)
    if arr is None:
        if len(scalars) > 8:
            scalars.clear()
        arr = scalars[value] = B.xp.asarray(value, dtype=net.dtype)
    return arr


def _step_sigmoid(net: Any, X: Array, Y: Array, scale: float, decay: float, buf: dict[str, Any]) -> None:
    """w ← decay·w − (η/m) Σ_x ∇_w C_x,  b ← b − (η/m) Σ_x ∇_b C_x for sigmoid units, in place.

    ``scale`` is η/m; ``buf`` holds the work arrays for m = X.shape[0] rows (``_buffers(net, m)``).
    """
    xp = B.xp
    acts, deltas, primes = [X, *buf["a"]], buf["delta"], buf["prime"]
    for l, (b, w) in enumerate(zip(net.biases, net.weights)):
        a = acts[l + 1]
        xp.dot(acts[l], w.T, out=a)  # z^l = a^{l−1} wᵀ + bᵀ (rows), computed in a's buffer
        a += b.T
        B.sigmoid_and_prime_(a, primes[l])  # a^l = σ(z^l), σ'(z^l); the caller holds B.quiet_underflow()
    delta = deltas[-1]
    xp.subtract(acts[-1], Y, out=delta)  # ∇_a C = a − y (both costs) ...
    if net.cost.name == "quadratic":
        delta *= primes[-1]  # BP1: δ^L = (a − y) ⊙ σ'(z^L); cross-entropy: σ' cancels
    xp.multiply(delta, _scalar(net, buf, scale), out=delta)  # from here on every gradient is η/m × the true one
    for l in range(len(net.weights) - 1, -1, -1):
        w, b, nw, nb = net.weights[l], net.biases[l], buf["nabla_w"][l], buf["nabla_b"][l]
        xp.matmul(delta.T, acts[l], out=nw)  # BP4: (η/m) Σ_x δ^l (a^{l−1})ᵀ (matmul: faster than dot here)
        xp.dot(buf["ones"], delta, out=nb)  # BP3: (η/m) Σ_x δ^l, as 1ᵀ δ (faster than a sum over axis 0)
        if l > 0:  # BP2 with the old w^l, before the update below
            prev = deltas[l - 1]
            xp.dot(delta, w, out=prev)
            prev *= primes[l - 1]
            delta = prev
        if decay != 1.0:
            xp.multiply(w, _scalar(net, buf, decay), out=w)
        w -= nw
        xp.subtract(b, nb.T, out=b)
