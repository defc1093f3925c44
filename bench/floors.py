"""The floor: the part of an epoch that no NumPy implementation of the model can leave out.

For the dense rows of the benchmark, an epoch must at least
  * shuffle: draw a permutation and gather the rows of each minibatch (every contender does this), and
  * run the first layer's two big matrix products per minibatch — the forward z = x Wᵀ and the weight
    gradient δᵀ x (the input gradient of the first layer is not needed) — and
  * write the first layer's update, one pass over W.
Everything else (the small second layer, activations, the cost, biases, the optimiser's bookkeeping,
Python) comes on top.  ``floor_dense`` times exactly these pieces with preallocated outputs and nothing
else, in the same float32 layouts the library uses, so ``floor / PyTorch`` says how much of a target
ratio is already spent before any of the model's other work is done.
"""

from __future__ import annotations

import numpy as np


def floor_dense(X: np.ndarray, n_hidden: int, batch: int, seed: int = 0, chunk_rows: int = 1024,
                column_major_w: bool = False) -> None:
    """One epoch of: shuffle + gather, x Wᵀ and δᵀ x for the first layer (n_in → n_hidden), W −= ∇W.

    ``column_major_w`` stores W as ``Dense`` does (Wᵀ contiguous); otherwise row-major as ``Network``.
    δ is a fixed array: its values do not change the cost of the products.
    """
    rng = np.random.default_rng(seed)
    n, n_in = X.shape
    W = (rng.standard_normal((n_hidden, n_in)) * 0.01).astype(np.float32)
    if column_major_w:
        W = np.asfortranarray(W)
    work = {}

    def buffers(m):
        if m not in work:
            work[m] = (np.empty((m, n_hidden), np.float32), np.empty_like(W),
                       (rng.standard_normal((m, n_hidden)) * 1e-3).astype(np.float32))
        return work[m]

    perm = rng.permutation(n)
    chunk = batch * max(1, chunk_rows // batch)
    for c in range(0, n, chunk):
        Xc = X[perm[c:c + chunk]]
        for k in range(0, Xc.shape[0], batch):
            x = Xc[k:k + batch]
            z, dW, delta = buffers(x.shape[0])
            np.dot(x, W.T, out=z)  # forward product
            if column_major_w:
                np.matmul(x.T, delta, out=dW.T)  # weight gradient, laid out like W
            else:
                np.matmul(delta.T, x, out=dW)
            W -= dW  # the update: one pass over W
