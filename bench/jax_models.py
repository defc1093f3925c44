"""The JAX CPU contenders (issue 12): the benchmark's models written as an expert JAX user would, in two forms.

* ``"jit"``  — one ``jax.jit``-compiled SGD step per minibatch, called from a Python loop.  The data live on
  the device once; the step receives the epoch's permutation and the batch's offset, and gathers its rows
  inside the compiled function (no host-side slicing or transfer per step), with the parameters donated.
* ``"scan"`` — the whole epoch as one compiled function: ``lax.scan`` over the permutation reshaped to
  (batches, batch), gathering and stepping inside the loop; a ragged last batch (60,000 = 937·64 + 32) goes
  through the jitted step.

Same models, cost, float32 and plain SGD as the nnlib and PyTorch rows, and a fresh permutation per epoch
(drawn with NumPy's seeded generator, as nnlib's rows; the draw is inside the timed epoch).  Compilation is
not timed: ``warm_up`` compiles every shape a timed epoch uses.

JAX is an optional, benchmark-only dependency (``pip install jax``).  ``available()`` says whether it can
be imported; ``bench/run.py`` skips the JAX columns with a message when it cannot.  JAX sizes its CPU thread
pool from the process's CPU affinity (XLA_FLAGS' thread options are ignored by the CPU runtime of current
jaxlib): run.py's 1-thread worker pins the whole process to one core before JAX is imported.
"""

from __future__ import annotations

from functools import partial

import numpy as np

try:
    import jax
    import jax.numpy as jnp
    from jax import lax
except ImportError:  # the benchmark prints a message and skips the JAX columns
    jax = jnp = lax = None


def available() -> bool:
    return jax is not None


def version() -> str:
    return jax.__version__ if jax is not None else "not installed"


# ------------------------------------------------------------------ models: init(seed) -> params, loss(params, x, y)

def _dense(rng: np.random.Generator, n_in: int, n_out: int) -> tuple:
    return (jnp.asarray((rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)),
            jnp.zeros((n_out,), jnp.float32))


def nielsen_init(seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [_dense(rng, 784, 30), _dense(rng, 30, 10)]


def nielsen_loss(params, x, y):
    """Nielsen's quadratic cost with sigmoid units: (1/m) Σ_x ½‖a − y‖²."""
    (w1, b1), (w2, b2) = params
    a = jax.nn.sigmoid(jax.nn.sigmoid(x @ w1 + b1) @ w2 + b2)
    return 0.5 * jnp.sum((a - y) ** 2) / x.shape[0]


def mlp_init(seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [_dense(rng, 784, 100), _dense(rng, 100, 10)]


def _cross_entropy(logits, labels):
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


def mlp_loss(params, x, labels):
    (w1, b1), (w2, b2) = params
    return _cross_entropy(jax.nn.relu(x @ w1 + b1) @ w2 + b2, labels)


# The CNN in NHWC / HWIO, the layout XLA's CPU convolutions (Eigen) are built for and Flax's default;
# the images are transposed once, before timing.
_CONV_DIMS = ("NHWC", "HWIO", "NHWC")


def cnn_init(seed: int = 0) -> list:
    rng = np.random.default_rng(seed)

    def conv(c_in, c_out, k=5):
        w = rng.standard_normal((k, k, c_in, c_out)) / np.sqrt(c_in * k * k)
        return jnp.asarray(w.astype(np.float32)), jnp.zeros((c_out,), jnp.float32)
    return [conv(1, 20), conv(20, 40), _dense(rng, 640, 100), _dense(rng, 100, 10)]


def _conv_relu_pool(x, w, b):
    z = lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=_CONV_DIMS) + b
    return lax.reduce_window(jax.nn.relu(z), -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def cnn_loss(params, x, labels):
    (c1, cb1), (c2, cb2), (w3, b3), (w4, b4) = params
    h = _conv_relu_pool(_conv_relu_pool(x, c1, cb1), c2, cb2)
    h = h.reshape(h.shape[0], -1)
    return _cross_entropy(jax.nn.relu(h @ w3 + b3) @ w4 + b4, labels)


MODELS = {"nielsen": (nielsen_init, nielsen_loss), "mlp": (mlp_init, mlp_loss), "cnn": (cnn_init, cnn_loss)}


# ------------------------------------------------------------------ training: per-step jit and lax.scan epoch

def _sgd(loss, lr, params, xb, yb):
    grads = jax.grad(loss)(params, xb, yb)
    return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)


class Trainer:
    """One model's compiled SGD step and epoch for one batch size and learning rate.

    ``epoch(params, perm, variant, n_batches)`` trains over the first ``n_batches`` minibatches of the
    permutation (all of them, the ragged last one included, when ``n_batches`` is None) and returns the new
    parameters, computed (``block_until_ready``).
    """

    def __init__(self, model: str, X: np.ndarray, Y: np.ndarray, batch: int, lr: float):
        _, loss = MODELS[model]
        if model == "cnn":
            X = X.reshape(-1, 1, 28, 28).transpose(0, 2, 3, 1)  # NCHW → NHWC, once
        self.X, self.Y = jnp.asarray(np.ascontiguousarray(X)), jnp.asarray(Y)
        self.n, self.batch = X.shape[0], batch
        sgd = partial(_sgd, loss, lr)

        @partial(jax.jit, donate_argnums=0)
        def step(params, X, Y, perm, start):  # one minibatch: rows perm[start:start + batch]
            idx = lax.dynamic_slice_in_dim(perm, start, batch)
            return sgd(params, X[idx], Y[idx])

        @partial(jax.jit, donate_argnums=0)
        def step_rows(params, X, Y, idx):  # the ragged last minibatch: its rows given
            return sgd(params, X[idx], Y[idx])

        @partial(jax.jit, donate_argnums=0, static_argnums=4)
        def scan_epoch(params, X, Y, perm, n_batches):
            def body(p, idx):
                return sgd(p, X[idx], Y[idx]), None
            params, _ = lax.scan(body, params, perm[:n_batches * batch].reshape(n_batches, batch))
            return params

        self._step, self._step_rows, self._scan = step, step_rows, scan_epoch

    def epoch(self, params, perm: np.ndarray, variant: str, n_batches: int | None = None):
        full = self.n // self.batch if n_batches is None else min(n_batches, self.n // self.batch)
        tail = n_batches is None and self.n % self.batch
        perm_d = jnp.asarray(perm.astype(np.int32))
        if variant == "scan":
            params = self._scan(params, self.X, self.Y, perm_d, full)
        elif variant == "jit":
            for k in range(full):
                params = self._step(params, self.X, self.Y, perm_d, k * self.batch)
        else:
            raise ValueError(f"variant must be 'jit' or 'scan', got {variant!r}")
        if tail:
            params = self._step_rows(params, self.X, self.Y, perm_d[full * self.batch:])
        return jax.block_until_ready(params)

    def warm_up(self, init, variant: str, n_batches: int | None = None) -> None:
        """Compile what a timed epoch of this variant runs (the step or the scan, and the ragged tail)."""
        self.epoch(init(0), np.arange(self.n), variant, n_batches)

