"""Weight initialisers.

A neuron with n_in inputs computes z = Σ_k w_k x_k + b.  If the w_k are
independent with variance s², then Var(z) ≈ n_in s² Var(x): to keep z of
order one (so σ(z) is not saturated) choose s = 1/√n_in.  (One slide says
√n: that is a slip — it would make z grow like n_in.)

=============  =====================================  ======================
name           std of the Gaussian                    suits
=============  =====================================  ======================
gaussian       1/√n_in  (Nielsen's network2 default)  sigmoid, tanh
standard       1        (Nielsen's network.py)         small nets, history
xavier         √(2/(n_in + n_out))  (Glorot)           tanh, sigmoid
he             √(2/n_in)                                ReLU
zeros          0 (every neuron stays identical: symmetry is never broken)
=============  =====================================  ======================

Weights are drawn on the host from ``nnlib.backend.host_rng()`` (seeded by
``nnlib.seed``) and copied to the device, so a seed gives the same network on
CPU and GPU.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnlib import backend as B


def std_for(method: str, fan_in: int, fan_out: int) -> float:
    """The standard deviation each method uses for a layer with the given fan-in and fan-out."""
    table = {
        "gaussian": 1.0 / math.sqrt(fan_in),
        "standard": 1.0,
        "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
        "glorot": math.sqrt(2.0 / (fan_in + fan_out)),
        "he": math.sqrt(2.0 / fan_in),
        "zeros": 0.0,
    }
    try:
        return table[method]
    except KeyError:
        raise ValueError(f"unknown initialiser {method!r}; choose one of {sorted(table)}") from None


def weights(shape: tuple[int, ...], method: str = "gaussian", dtype: Any = np.float64,
            rng: np.random.Generator | None = None) -> Any:
    """Weights of ``shape`` = (n_out, n_in) or (F, C, kh, kw); fan-in is the product of all but the first axis."""
    fan_out, fan_in = shape[0], int(np.prod(shape[1:]))
    std = std_for(method, fan_in, fan_out)
    rng = rng or B.host_rng()
    w = rng.standard_normal(shape) * std if std else np.zeros(shape)
    return B.to_device(w.astype(dtype))


def biases(shape: tuple[int, ...], method: str = "zeros", dtype: Any = np.float64,
           rng: np.random.Generator | None = None) -> Any:
    """Biases: zeros, or standard normal (``"standard"``, as in Nielsen's network.py)."""
    rng = rng or B.host_rng()
    b = rng.standard_normal(shape) if method == "standard" else np.zeros(shape)
    return B.to_device(b.astype(dtype))
