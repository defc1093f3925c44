"""Nielsen's ``network.py``, vectorised over the minibatch.

The API is the one in *Neural Networks and Deep Learning*, chapter 1::

    net = Network([784, 30, 10])
    net.SGD(training_data, epochs=30, mini_batch_size=10, eta=3.0, test_data=test_data)

Notation: layer l has weights w^l (``weights[l-2]``, shape (n_l, n_{l-1}),
entry w^l_jk from neuron k in layer l−1 to neuron j in layer l) and biases
b^l (``biases[l-2]``, shape (n_l, 1)).  Feedforward:  z^l = w^l a^{l−1} + b^l,
a^l = σ(z^l).  Backpropagation, the four equations:

    BP1  δ^L = ∇_a C ⊙ σ'(z^L)
    BP2  δ^l = ((w^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l)
    BP3  ∂C/∂b^l_j  = δ^l_j
    BP4  ∂C/∂w^l_jk = a^{l−1}_k δ^l_j

Nielsen loops over the m examples of a minibatch; here they are the m
columns of one matrix, so each equation is one matrix product for the whole
batch, and the sums over examples in BP3/BP4 become δ 1 and δ (a^{l−1})ᵀ.

Layouts: a single example, Nielsen's ``training_data`` lists and ``backprop``
use column vectors (n, 1) / (n, m).  Whole data sets given as arrays use rows,
``(X, y)`` with X of shape (N, n_in), as ``nnlib.datasets`` returns them.
"""

from __future__ import annotations

import operator
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from nnlib import activations as A
from nnlib import backend as B
from nnlib import init, losses
from nnlib._checks import ShapeError, check_array, check_finite

Array = Any


class Network:
    """A fully connected network trained by minibatch stochastic gradient descent."""

    def __init__(self, sizes: Sequence[int], activation: str = "sigmoid", cost: str | losses.Cost = "quadratic",
                 init_method: str = "gaussian", dtype: Any = np.float64, seed: int | None = None):
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"Network: sizes must list at least two positive layer widths, got {list(sizes)}")
        self.sizes = [int(s) for s in sizes]
        self.num_layers = len(self.sizes)
        self.activation = A.get(activation)
        self.cost = losses.get(cost)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed) if seed is not None else B.host_rng()
        self.biases = [init.biases((n, 1), "standard", self.dtype, rng) for n in self.sizes[1:]]
        self.weights = [init.weights((n, k), init_method, self.dtype, rng)
                        for k, n in zip(self.sizes[:-1], self.sizes[1:])]

    def __repr__(self) -> str:
        return f"Network({self.sizes}, activation={self.activation.name!r}, cost={self.cost.name!r})"

    # ------------------------------------------------------------ forward

    def feedforward(self, a: Any) -> Array:
        """Output a^L for input a: a column (n_in, 1), a vector (n_in,) or columns (n_in, m)."""
        a = self._columns(a, "Network.feedforward")
        for b, w in zip(self.biases, self.weights):
            a = self.activation.f(w @ a + b)
        return a

    def _columns(self, a: Any, where: str) -> Array:
        if not isinstance(a, B.xp.ndarray):
            a = B.to_device(a)
        check_array(a, where, float_only=False, finite=False)  # check_finite below, after the dtype
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        if a.ndim != 2 or a.shape[0] != self.sizes[0]:
            raise ShapeError(f"{where}: layer 1 has {self.sizes[0]} inputs; expected a column ({self.sizes[0]}, 1) "
                             f"or columns ({self.sizes[0]}, m), got shape {tuple(a.shape)}")
        if a.dtype.kind != "f":
            raise TypeError(f"{where}: expected floating-point input, got {a.dtype} with shape {tuple(a.shape)}")
        check_finite(a, where)
        return a if a.dtype == self.dtype else a.astype(self.dtype)

    # ------------------------------------------------------------ backward

    def backprop(self, x: Any, y: Any) -> tuple[list[Array], list[Array]]:
        """Gradient of Σ_x C_x over the columns of x (one column: Nielsen's per-example gradient).

        x has shape (n_in, m), y (n_out, m).  Returns ``(nabla_b, nabla_w)``, lists
        shaped like ``biases`` and ``weights``.
        """
        x = self._columns(x, "Network.backprop")
        if not isinstance(y, B.xp.ndarray):
            y = B.to_device(y)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if tuple(y.shape) != (self.sizes[-1], x.shape[1]):
            raise ShapeError(f"Network.backprop: x has shape {tuple(x.shape)} so y must have shape "
                             f"({self.sizes[-1]}, {x.shape[1]}), got {tuple(y.shape)}")
        return self._backprop_rows(x.T, y.T.astype(self.dtype))

    def _backprop_rows(self, X: Array, Y: Array) -> tuple[list[Array], list[Array]]:
        """The same equations with examples as rows (X: (m, n_in)): δ rows, ∇w = δᵀ a."""
        act = self.activation
        activations, zs = [X], []
        a = X
        for b, w in zip(self.biases, self.weights):
            z = a @ w.T
            z += b.T
            zs.append(z)
            a = act.f(z)
            activations.append(a)
        delta = self.cost.delta(zs[-1], a, Y, act)  # BP1
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        nabla_b[-1] = delta.sum(axis=0).reshape(-1, 1)  # BP3
        nabla_w[-1] = delta.T @ activations[-2]  # BP4
        for l in range(2, self.num_layers):
            delta = (delta @ self.weights[-l + 1]) * act.prime(zs[-l])  # BP2
            nabla_b[-l] = delta.sum(axis=0).reshape(-1, 1)
            nabla_w[-l] = delta.T @ activations[-l - 1]
        return nabla_b, nabla_w

    # ------------------------------------------------------------ training

    def update_mini_batch(self, mini_batch: Any, eta: float, lmbda: float = 0.0, n: int | None = None) -> None:
        """One gradient step on a minibatch: w ← (1 − ηλ/n) w − (η/m) Σ_x ∇C_x,  b ← b − (η/m) Σ_x ∇_b C_x.

        ``mini_batch`` is Nielsen's list of (x, y) column pairs, or a pair of arrays
        (X rows (m, n_in), Y rows (m, n_out)).
        """
        X, Y = self._as_rows(mini_batch, "Network.update_mini_batch")
        self._step(X, Y, eta, lmbda, n or X.shape[0])

    def _step(self, X: Array, Y: Array, eta: float, lmbda: float, n: int) -> None:
        m = X.shape[0]
        if self._sigmoid_fast():
            with B.quiet_underflow():
                self._step_sigmoid(X, Y, eta / m, 1.0 - eta * lmbda / n if lmbda else 1.0, self._buffers(m))
            return
        nabla_b, nabla_w = self._backprop_rows(X, Y)
        scale = eta / m
        for w, nw in zip(self.weights, nabla_w):
            if lmbda:
                w *= 1.0 - eta * lmbda / n
            w -= scale * nw
        for b, nb in zip(self.biases, nabla_b):
            b -= scale * nb

    # Speed (the hot loop of SGD for Nielsen's sigmoid networks).  The same equations as
    # ``_backprop_rows`` and the same update, arranged so that one step makes as few passes over
    # memory, and as few NumPy calls, as possible — at minibatch 10 a step takes ~30 µs and each
    # call costs ~1 µs, so the number of calls matters as much as the arithmetic:
    #   * every a^l, δ^l, σ'(z^l) and gradient is written into buffers allocated once per batch size
    #     (``out=`` arguments and in-place operators, no temporaries); z^l is computed in a^l's buffer;
    #   * σ(z^l) and σ'(z^l) together with ``B.sigmoid_and_prime_`` (five passes, no temporary: σ' comes from
    #     the same e = exp(z) and 1 + e), inside one ``B.quiet_underflow()`` context per call of
    #     ``SGD``/``update_mini_batch``, not one per σ;
    #   * scalar operands (η/m, the decay) as 0-d arrays of the dtype (``_scalar``): ~0.4 µs less per call;
    #   * δ^L is multiplied by η/m once: BP2–BP4 are linear in δ, so every gradient then comes out
    #     already scaled by η/m and the update is a plain subtraction;
    #   * ``xp.dot(..., out=)`` rather than ``matmul`` for the C-ordered products: the same BLAS call with
    #     less dispatch (~0.6 µs); for δᵀ a (a transposed operand) ``matmul`` is the faster of the two;
    #   * BP3's sum over the batch is the product 1ᵀ δ with a stored row of ones: 0.5 µs against 1.2 µs for
    #     ``sum(axis=0)`` at batch 10, 0.8 against 3.3 µs at batch 100 (a reduction over the short axis
    #     is slow in NumPy; the product is one small BLAS call).

    def _sigmoid_fast(self) -> bool:
        return self.activation.name == "sigmoid" and self.cost.name in ("quadratic", "cross_entropy")

    def _buffers(self, m: int) -> dict[str, list[Array]]:
        """Work arrays for minibatches of m rows (kept per batch size; the last batch may be smaller)."""
        cache = self.__dict__.setdefault("_work", {})
        key = (m, self.dtype, tuple(self.sizes))
        if key not in cache:
            xp = B.xp
            if len(cache) > 4:
                cache.clear()
            new = lambda *shape: xp.empty(shape, dtype=self.dtype)  # noqa: E731
            cache[key] = {"a": [new(m, k) for k in self.sizes[1:]],  # a^l (m, n_l); z^l is never kept
                          "delta": [new(m, k) for k in self.sizes[1:]],
                          "prime": [new(m, k) for k in self.sizes[1:]],  # σ'(z^l)
                          "nabla_w": [new(*w.shape) for w in self.weights],
                          "nabla_b": [new(1, k) for k in self.sizes[1:]],
                          "ones": xp.ones((1, m), dtype=self.dtype),  # Σ over the batch as a product 1ᵀ δ
                          "scalars": {}}
        return cache[key]

    def _scalar(self, buf: dict[str, Any], value: float) -> Array:
        """``value`` as a 0-d array of the network's dtype, kept in ``buf`` (a Python float operand costs a
        NumPy ufunc ~0.4 µs more per call, a scalar conversion)."""
        scalars = buf["scalars"]
        arr = scalars.get(value)
        if arr is None:
            if len(scalars) > 8:
                scalars.clear()
            arr = scalars[value] = B.xp.asarray(value, dtype=self.dtype)
        return arr

    def _step_sigmoid(self, X: Array, Y: Array, scale: float, decay: float, buf: dict[str, list[Array]]) -> None:
        """w ← decay·w − (η/m) Σ_x ∇_w C_x,  b ← b − (η/m) Σ_x ∇_b C_x for sigmoid units, in place.

        ``scale`` is η/m; ``buf`` holds the work arrays for m = X.shape[0] rows (``_buffers(m)``).
        """
        xp = B.xp
        acts, deltas, primes = [X, *buf["a"]], buf["delta"], buf["prime"]
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            a = acts[l + 1]
            xp.dot(acts[l], w.T, out=a)  # z^l = a^{l−1} wᵀ + bᵀ (rows), computed in a's buffer
            a += b.T
            B.sigmoid_and_prime_(a, primes[l])  # a^l = σ(z^l), σ'(z^l); the caller holds B.quiet_underflow()
        delta = deltas[-1]
        xp.subtract(acts[-1], Y, out=delta)  # ∇_a C = a − y (both costs) ...
        if self.cost.name == "quadratic":
            delta *= primes[-1]  # BP1: δ^L = (a − y) ⊙ σ'(z^L); cross-entropy: σ' cancels
        xp.multiply(delta, self._scalar(buf, scale), out=delta)  # from here on every gradient is η/m × the true one
        for l in range(len(self.weights) - 1, -1, -1):
            w, b, nw, nb = self.weights[l], self.biases[l], buf["nabla_w"][l], buf["nabla_b"][l]
            xp.matmul(delta.T, acts[l], out=nw)  # BP4: (η/m) Σ_x δ^l (a^{l−1})ᵀ (matmul: faster than dot here)
            xp.dot(buf["ones"], delta, out=nb)  # BP3: (η/m) Σ_x δ^l, as 1ᵀ δ (faster than a sum over axis 0)
            if l > 0:  # BP2 with the old w^l, before the update below
                prev = deltas[l - 1]
                xp.dot(delta, w, out=prev)
                prev *= primes[l - 1]
                delta = prev
            if decay != 1.0:
                xp.multiply(w, self._scalar(buf, decay), out=w)
            w -= nw
            xp.subtract(b, nb.T, out=b)

    def _minibatches(self, X: Array, Y: Array, perm: Array, m: int) -> Iterable[tuple[Array, Array]]:
        """The minibatches X[perm[k:k+m]], Y[perm[k:k+m]] of one epoch, in order.

        Speed: rows are gathered a chunk of ~1,000 at a time (a few MB, which stays in cache until its
        minibatches use it), not the whole shuffled data set at once (a fresh 157 MB copy of MNIST per
        epoch costs more in page faults than the steps at batch 100) nor one minibatch at a time
        (two gathers per step).  The minibatches are row slices (views) of the chunk.
        """
        n = X.shape[0]
        chunk = m * max(1, 1024 // m)
        for c in range(0, n, chunk):
            idx = perm[c:c + chunk]
            Xc, Yc = X[idx], Y[idx]
            for k in range(0, Xc.shape[0], m):
                yield Xc[k:k + m], Yc[k:k + m]

    def SGD(self, training_data: Any, epochs: int, mini_batch_size: int, eta: float,  # noqa: N802 (Nielsen's name)
            test_data: Any = None, lmbda: float = 0.0, seed: int | None = None, verbose: bool = True,
            progress: bool = False) -> dict[str, list[float]]:
        """Train for ``epochs`` passes over shuffled minibatches; after each, evaluate on ``test_data``.

        Prints Nielsen's "Epoch j: correct / total" when ``verbose``.  Returns the
        history: per-epoch seconds, training cost, and test accuracy (if given).
        """
        if epochs < 0 or mini_batch_size < 1 or not eta > 0:
            raise ValueError(f"Network.SGD: need epochs ≥ 0, mini_batch_size ≥ 1, eta > 0; "
                             f"got {epochs}, {mini_batch_size}, {eta}")
        X, Y = self._as_rows(training_data, "Network.SGD training_data")
        n = X.shape[0]
        rng = np.random.default_rng(seed) if seed is not None else B.host_rng()
        test = self._as_eval(test_data) if test_data is not None else None
        history: dict[str, list[float]] = {"seconds": [], "cost": [], "test_accuracy": []}
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=epochs, desc="epochs")
        cost0 = self.total_cost((X[:2000], Y[:2000]))
        fresh = not self.__dict__.get("_trained")
        for j in range(epochs):
            t0 = time.perf_counter()
            perm = B.to_device(rng.permutation(n))
            if self._sigmoid_fast():  # the hot loop, with the dispatch and the buffer look-up hoisted out
                decay, bufs = (1.0 - eta * lmbda / n if lmbda else 1.0), {}
                with B.quiet_underflow():  # σ's exp(z) → 0 for very negative z is right (backend)
                    for Xb, Yb in self._minibatches(X, Y, perm, mini_batch_size):
                        m = Xb.shape[0]
                        buf = bufs.get(m) or bufs.setdefault(m, self._buffers(m))
                        self._step_sigmoid(Xb, Yb, eta / m, decay, buf)
            else:
                for Xb, Yb in self._minibatches(X, Y, perm, mini_batch_size):
                    self._step(Xb, Yb, eta, lmbda, n)
            history["seconds"].append(time.perf_counter() - t0)
            self._trained = True
            cost = self.total_cost((X[:2000], Y[:2000]))
            history["cost"].append(cost)
            if not np.isfinite(cost) or cost > 1e6:
                raise FloatingPointError(f"Network.SGD: the cost became {cost:.3g} in epoch {j} with eta={eta}, "
                                         f"batch {mini_batch_size}, sizes {self.sizes}: training diverged — "
                                         "lower eta")
            # Only a fresh network's first epoch is judged: on a trained one, a noisy epoch at a sound η
            # may raise the cost a little (SGD called one epoch at a time, as a notebook does).
            if j == 0 and fresh and cost >= cost0:
                warnings.warn(f"Network.SGD: epoch 0 did not lower the cost ({cost0:.4g} → {cost:.4g}) with "
                              f"eta={eta}, batch {mini_batch_size}, sizes {self.sizes}: the learning rate is "
                              "probably too large (sigmoid units saturate, ReLUs die) — training diverged",
                              RuntimeWarning, stacklevel=2)
            if test is not None:
                correct = self._count_correct(*test)
                history["test_accuracy"].append(correct / test[0].shape[0])
                if verbose:
                    print(f"Epoch {j}: {correct} / {test[0].shape[0]}")
            elif verbose:
                print(f"Epoch {j} complete")
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return history

    def evaluate(self, test_data: Any) -> int:
        """Number of test inputs whose most active output neuron is the right label."""
        return self._count_correct(*self._as_eval(test_data))

    def total_cost(self, data: Any) -> float:
        """Mean cost (1/n) Σ_x C_x over a data set (rows, or Nielsen's list)."""
        X, Y = self._as_rows(data, "Network.total_cost")
        a = X
        for b, w in zip(self.biases, self.weights):
            a = self.activation.f(a @ w.T + b.T)
        return float(self.cost.fn(a, Y)) / X.shape[0]

    def _count_correct(self, X: Array, labels: Array) -> int:
        a = X
        for b, w in zip(self.biases, self.weights):
            a = self.activation.f(a @ w.T + b.T)
        return int((a.argmax(axis=1) == labels).sum())

    # ------------------------------------------------------------ data plumbing

    _ROWS_CACHE_ENTRIES = 2  # Nielsen's training list and test list
    _ROWS_CACHE_SAMPLES = 32  # rows compared by value on each reuse
    _ROWS_CACHE_MIN = 1000  # shorter lists (a minibatch for update_mini_batch) are cheap: never kept

    def _as_rows(self, data: Any, where: str) -> tuple[Array, Array]:
        """Stack Nielsen's list of (x, y) columns into row matrices, or accept (X rows, y) arrays.

        A list's conversion is kept and reused (``SGD``, ``evaluate`` and ``total_cost`` called again on the
        same list — one epoch per call in a notebook — cost ~0.2 s per call and 50,000 MNIST pairs otherwise).
        It is reused only for the same list object holding the same pair objects in the same order (identity,
        checked in C for every pair), the same dtype and backend, and when 32 rows spread over the list still
        hold the same values.  Editing a few arrays of the list in place between calls is the one change that
        can go unseen: pass a new list (or call ``forget_data()``) after doing that.  The network keeps the
        last two lists of 1,000 pairs or more converted, and their matrices, until ``forget_data()``.
        """
        if isinstance(data, list) and len(data) >= self._ROWS_CACHE_MIN:
            hit = self._cached_rows(data)
            if hit is not None:
                return hit
            X, Y = self._as_rows_uncached(data, where)
            self._remember_rows(data, X, Y)
            return X, Y
        return self._as_rows_uncached(data, where)

    def forget_data(self) -> None:
        """Drop the converted copies of data lists that ``_as_rows`` keeps for reuse (frees their memory)."""
        self.__dict__.pop("_rows_cache", None)

    def _cached_rows(self, data: list) -> tuple[Array, Array] | None:
        for entry in self.__dict__.get("_rows_cache", ()):
            ref, pairs, X, Y, key, sample = entry
            if ref is not data or len(pairs) != len(data) or key != (B.name(), self.dtype, tuple(self.sizes)):
                continue
            if not all(map(operator.is_, data, pairs)):
                return None
            for i in sample:  # the values of a few rows, against the converted matrices
                x, y = data[i]
                if not (np.array_equal(B.to_host(x).reshape(-1).astype(self.dtype), B.to_host(X[i]))
                        and np.array_equal(self._onehot_row(B.to_host(y)).reshape(-1).astype(self.dtype),
                                           B.to_host(Y[i]))):
                    return None
            return X, Y
        return None

    def _remember_rows(self, data: list, X: Array, Y: Array) -> None:
        cache = self.__dict__.setdefault("_rows_cache", [])
        cache[:] = [e for e in cache if e[0] is not data][: self._ROWS_CACHE_ENTRIES - 1]
        n = len(data)
        sample = sorted({int(i) for i in np.linspace(0, n - 1, min(n, self._ROWS_CACHE_SAMPLES))})
        cache.insert(0, (data, tuple(data), X, Y, (B.name(), self.dtype, tuple(self.sizes)), sample))

    def _as_rows_uncached(self, data: Any, where: str) -> tuple[Array, Array]:
        n_in, n_out = self.sizes[0], self.sizes[-1]
        if isinstance(data, tuple) and len(data) == 2 and getattr(data[0], "ndim", 0) == 2 \
                and getattr(data[1], "shape", (None,))[0] == data[0].shape[0] \
                and not (data[0].shape == (n_in, 1) and n_in != 1):
            X, Y = data
        else:
            data = list(data) if isinstance(data, Iterable) else data
            if not data:
                raise ShapeError(f"{where}: empty data set")
            stacked = self._stack_pairs(data)
            if stacked is not None:
                X, Y = stacked
            else:  # the general path: any mix of arrays, lists and labels (and the errors for bad ones)
                try:
                    X = np.concatenate([B.to_host(x).reshape(1, -1) for x, _ in data])
                    Y = np.concatenate([self._onehot_row(B.to_host(y)) for _, y in data])
                except (TypeError, ValueError, IndexError) as exc:
                    raise ShapeError(f"{where}: expected Nielsen's list of (x, y) pairs with x of shape ({n_in}, 1) "
                                     f"and y of shape ({n_out}, 1) or an integer label, or a pair of arrays "
                                     f"(X (N, {n_in}), y): {exc}") from None
        X = X if isinstance(X, B.xp.ndarray) else B.to_device(X)
        Y = Y if isinstance(Y, B.xp.ndarray) else B.to_device(Y)
        check_array(X, where, ndim=2, float_only=False, finite=False)  # check_finite below
        if X.shape[1] != n_in:
            raise ShapeError(f"{where}: inputs have {X.shape[1]} features but layer 1 has {n_in} neurons "
                             f"(X shape {tuple(X.shape)})")
        if X.dtype.kind != "f":
            raise TypeError(f"{where}: expected floating-point inputs, got {X.dtype}; scale images to [0, 1]")
        check_finite(X, where)
        if Y.ndim == 1:
            if Y.dtype.kind not in "iu":
                raise TypeError(f"{where}: 1-d targets must be integer labels, got {Y.dtype}")
            Y = (B.xp.arange(n_out).reshape(1, -1) == Y.reshape(-1, 1))
        if tuple(Y.shape) != (X.shape[0], n_out):
            raise ShapeError(f"{where}: {X.shape[0]} inputs need targets of shape ({X.shape[0]}, {n_out}) "
                             f"or labels ({X.shape[0]},), got {tuple(Y.shape)}")
        return X.astype(self.dtype, copy=False), Y.astype(self.dtype, copy=False)

    def _stack_pairs(self, data: list) -> tuple[np.ndarray, np.ndarray] | None:
        """Nielsen's list of (x, y) pairs of NumPy arrays as row matrices (X (N, n_in), Y (N, n_out)) — or None
        when the list is anything else (lists, device arrays, mixed sizes: the general path handles them).

        Speed: three C-level passes, no Python code per pair: ``zip(*data)`` splits the pairs, the sizes are
        read with ``map`` (all equal, else None), and ``np.concatenate(xs, axis=None)`` copies every x, in
        order, into one buffer that *is* X row after row.  50,000 MNIST pairs: bench/as_rows.py (the former
        per-pair reshape-and-concatenate took ~0.5–0.8 s on every ``SGD`` call).
        """
        n_in, n_out = self.sizes[0], self.sizes[-1]
        try:
            xs, ys = zip(*data)
        except (TypeError, ValueError):
            return None
        if len(xs) != len(data) or not all(map(np.ndarray.__instancecheck__, xs)):
            return None
        n = len(xs)
        get_size = operator.attrgetter("size")
        if not all(size == n_in for size in map(get_size, xs)):
            return None
        # X is written in the network's dtype at once (one pass over memory, no float32 → float64 copy
        # afterwards); integer pixels keep their dtype, for _as_rows to reject them with its clear message.
        dtype = self.dtype if xs[0].dtype.kind == "f" else None
        try:
            X = np.concatenate(xs, axis=None, dtype=dtype, casting="same_kind").reshape(n, n_in)
            if all(map(np.ndarray.__instancecheck__, ys)) and all(size == n_out for size in map(get_size, ys)) \
                    and n_out != 1:
                return X, np.concatenate(ys, axis=None, dtype=self.dtype, casting="same_kind").reshape(n, n_out)
        except TypeError:  # complex numbers, strings, ...: the general path says what is wrong
            return None
        if all(isinstance(y, (int, np.integer)) for y in ys):  # integer labels (Nielsen's test_data)
            labels = np.fromiter(ys, dtype=np.int64, count=n)
            if labels.min() < 0 or labels.max() >= n_out:
                return None  # the general path names the bad label
            return X, (np.arange(n_out) == labels[:, None]).astype(self.dtype)
        return None

    def _onehot_row(self, y: np.ndarray) -> np.ndarray:
        if y.size == 1 and self.sizes[-1] != 1:  # an integer label
            label = int(y.reshape(-1)[0])
            if not 0 <= label < self.sizes[-1]:
                raise ValueError(f"label {label} is not in 0..{self.sizes[-1] - 1}")
            row = np.zeros((1, self.sizes[-1]))
            row[0, label] = 1.0
            return row
        return y.reshape(1, -1)

    def _as_eval(self, data: Any) -> tuple[Array, Array]:
        X, Y = self._as_rows(data, "Network.evaluate")
        return X, Y.argmax(axis=1)
