"""Recurrent layers: a vanilla RNN and an LSTM, trained by backpropagation through time (BPTT).

A batch of sequences is an array x of shape (n, T, n_in): n sequences of T steps of n_in numbers each
(PyTorch's ``batch_first=True``).  The layer keeps a hidden state h_t of H numbers per sequence, starts from
h_0 (zeros unless given) and returns every h_t, shape (n, T, H) — or only the last one, (n, H), with
``return_sequences=False`` (Keras' name), which a classifier of whole sequences feeds to a ``Dense`` layer.

Vanilla RNN (Elman), the same weights at every step, W_x (H, n_in), W_h (H, H), b (H,)::

    z_t = x_t W_xᵀ + h_{t−1} W_hᵀ + b,      h_t = tanh(z_t)       (or ReLU: ``nonlinearity="relu"``)

Unrolled in time this is a deep network of T layers that share their weights, so its backward pass is
lecture 5's backpropagation run from t = T back to t = 1 (BPTT).  With ∂L/∂h_t = g_t from the layer above
(zero at steps whose output nobody uses) and δ_t = ∂L/∂z_t::

    ∂L/∂h_t = g_t + δ_{t+1} W_h               the output at t, and the way h_t feeds step t + 1 (δ_{T+1} = 0)
    δ_t     = ∂L/∂h_t ⊙ tanh'(z_t) = ∂L/∂h_t ⊙ (1 − h_t²)                                     (BP1/BP2)
    ∂L/∂W_x = Σ_t δ_tᵀ x_t,   ∂L/∂W_h = Σ_t δ_tᵀ h_{t−1},   ∂L/∂b = Σ_t Σ_rows δ_t          (BP3/BP4, summed
    ∂L/∂x_t = δ_t W_x,        ∂L/∂h_0 = δ_1 W_h                                      over the shared copies)

Each step back multiplies by W_hᵀ and by tanh' ≤ 1: over many steps the gradient shrinks or grows
geometrically (vanishing and exploding gradients through time).  ``clip_grad_norm`` bounds the step; the
LSTM's additive cell state is the fix for vanishing.

LSTM (Hochreiter & Schmidhuber), PyTorch's gate order i, f, g, o in W_x (4H, n_in), W_h (4H, H), b (4H,)::

    a_t = x_t W_xᵀ + h_{t−1} W_hᵀ + b = [a_i, a_f, a_g, a_o]
    i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)      input, forget, candidate, output
    c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)

Backward, with ∂L/∂c_t = ∂L/∂c from step t + 1 (times f_{t+1}) + ∂L/∂h_t ⊙ o ⊙ (1 − tanh² c_t)::

    ∂L/∂o = ∂L/∂h_t ⊙ tanh c_t,  ∂L/∂i = ∂L/∂c_t ⊙ g,  ∂L/∂g = ∂L/∂c_t ⊙ i,  ∂L/∂f = ∂L/∂c_t ⊙ c_{t−1}
    ∂L/∂c_{t−1} = ∂L/∂c_t ⊙ f          the cell's path back in time: a product of forget gates, no W_h
    ∂L/∂a = [∂L/∂i ⊙ i(1 − i), ∂L/∂f ⊙ f(1 − f), ∂L/∂g ⊙ (1 − g²), ∂L/∂o ⊙ o(1 − o)], then as for the RNN.

PyTorch's ``nn.RNN``/``nn.LSTM`` have two bias vectors, b_ih and b_hh, that are only ever added: nnlib's b is
their sum (``tests/test_recurrent.py`` checks outputs and every gradient against torch in float64).

Conventions.  Parameters are ``Wx``, ``Wh``, ``b``; ``Model(l2=...)`` decays only parameters named ``W``, so
use the optimiser's ``weight_decay`` for recurrent weights.  After ``backward`` the layer keeps
``dh`` (n, T, H): ∂L/∂h_t at every step, from the output and from later steps — the gradient flowing back
in time that the lecture plots — and ``dh0`` (and the LSTM's ``dc0``), the gradient of the initial state.
Vectorised over the batch: the input products x W_xᵀ and ∂L/∂x, ∂L/∂W_x are one matrix product each for
all steps; only the recurrence loops, over the T time steps, never over sequences.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlib import activations as A
from nnlib import backend as B
from nnlib import init
from nnlib._checks import ShapeError, check_array
from nnlib.clipping import clip_grad_norm  # noqa: F401 - part of this module's API (lecture 12)
from nnlib.layers import Layer, _int_arg

Array = Any

__all__ = ["RNN", "LSTM", "clip_grad_norm", "rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward"]


# ---------------------------------------------------------------- the mathematics (functional pairs)


def rnn_forward(x: Array, h0: Array, Wx: Array, Wh: Array, b: Array, relu: bool = False) -> tuple[Array, tuple]:
    """Every hidden state H (n, T, H) of a vanilla RNN run over x (n, T, n_in) from h0 (n, H)."""
    xp = B.xp
    n, T, _ = x.shape
    zx = (x @ Wx.T) + b  # (n, T, H): the input's share of every z_t in one product
    hs = xp.empty((T + 1, n, Wh.shape[0]), dtype=x.dtype)  # h_0 … h_T, time-major: each step a contiguous slice
    hs[0] = h0
    for t in range(T):
        z = zx[:, t] + hs[t] @ Wh.T
        hs[t + 1] = xp.maximum(z, 0) if relu else xp.tanh(z)
    return hs[1:].transpose(1, 0, 2), (x, hs, Wx, Wh, relu)


def rnn_backward(dout: Array, cache: tuple) -> tuple[Array, Array, Array, Array, Array, Array]:
    """BPTT from dout = ∂L/∂h_t (n, T, H): (∂L/∂x, ∂L/∂h_0, ∂L/∂W_x, ∂L/∂W_h, ∂L/∂b, ∂L/∂h_t per step)."""
    xp = B.xp
    x, hs, Wx, Wh, relu = cache
    n, T, _ = x.shape
    dh_all = xp.empty((T, n, Wh.shape[0]), dtype=dout.dtype)  # the total ∂L/∂h_t, time-major
    delta = xp.empty_like(dh_all)  # δ_t = ∂L/∂z_t
    carry = None  # δ_{t+1} W_h: how h_t influenced the later steps
    for t in range(T - 1, -1, -1):
        dh = dout[:, t] if carry is None else dout[:, t] + carry
        dh_all[t] = dh
        h = hs[t + 1]
        delta[t] = dh * (h > 0) if relu else dh * (1.0 - h * h)
        carry = delta[t] @ Wh
    d = delta.transpose(1, 0, 2)  # (n, T, H)
    H, n_in = Wx.shape
    dx = d @ Wx
    dWx = d.reshape(-1, H).T @ x.reshape(-1, n_in)
    dWh = delta.reshape(-1, H).T @ hs[:-1].reshape(-1, H)
    db = delta.reshape(-1, H).sum(axis=0)
    return dx, carry, dWx, dWh, db, dh_all.transpose(1, 0, 2)


def lstm_forward(x: Array, h0: Array, c0: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, tuple]:
    """Every hidden state (n, T, H) of an LSTM (gates i, f, g, o) run over x (n, T, n_in) from h0, c0 (n, H)."""
    xp = B.xp
    n, T, _ = x.shape
    H = Wh.shape[1]
    ax = (x @ Wx.T) + b  # (n, T, 4H)
    hs = xp.empty((T + 1, n, H), dtype=x.dtype)
    cs = xp.empty((T + 1, n, H), dtype=x.dtype)
    gates = xp.empty((T, n, 4 * H), dtype=x.dtype)  # i, f, g, o after their nonlinearities
    tanh_c = xp.empty((T, n, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        a = ax[:, t] + hs[t] @ Wh.T
        gates[t, :, :2 * H] = A.sigmoid(a[:, :2 * H])
        gates[t, :, 2 * H:3 * H] = xp.tanh(a[:, 2 * H:3 * H])
        gates[t, :, 3 * H:] = A.sigmoid(a[:, 3 * H:])
        i, f, g, o = (gates[t, :, k * H:(k + 1) * H] for k in range(4))
        cs[t + 1] = f * cs[t] + i * g
        tanh_c[t] = xp.tanh(cs[t + 1])
        hs[t + 1] = o * tanh_c[t]
    return hs[1:].transpose(1, 0, 2), (x, hs, cs, gates, tanh_c, Wx, Wh)


def lstm_backward(dout: Array, cache: tuple, dc_last: Array | None = None
                  ) -> tuple[Array, Array, Array, Array, Array, Array, Array]:
    """BPTT through the LSTM from dout = ∂L/∂h_t (n, T, H) (and ∂L/∂c_T, if the final cell state is used):
    (∂L/∂x, ∂L/∂h_0, ∂L/∂c_0, ∂L/∂W_x, ∂L/∂W_h, ∂L/∂b, ∂L/∂h_t per step)."""
    xp = B.xp
    x, hs, cs, gates, tanh_c, Wx, Wh = cache
    n, T, _ = x.shape
    H = Wh.shape[1]
    dh_all = xp.empty((T, n, H), dtype=dout.dtype)
    da = xp.empty((T, n, 4 * H), dtype=dout.dtype)
    dh_next = None  # ∂L/∂a_{t+1} W_h
    dc = xp.zeros((n, H), dtype=dout.dtype) if dc_last is None else dc_last
    for t in range(T - 1, -1, -1):
        dh = dout[:, t] if dh_next is None else dout[:, t] + dh_next
        dh_all[t] = dh
        i, f, g, o = (gates[t, :, k * H:(k + 1) * H] for k in range(4))
        tc = tanh_c[t]
        dc = dc + dh * o * (1.0 - tc * tc)
        da[t, :, :H] = dc * g * i * (1.0 - i)
        da[t, :, H:2 * H] = dc * cs[t] * f * (1.0 - f)
        da[t, :, 2 * H:3 * H] = dc * i * (1.0 - g * g)
        da[t, :, 3 * H:] = dh * tc * o * (1.0 - o)
        dc = dc * f
        dh_next = da[t] @ Wh
    d = da.transpose(1, 0, 2)
    G, n_in = Wx.shape
    dx = d @ Wx
    dWx = d.reshape(-1, G).T @ x.reshape(-1, n_in)
    dWh = da.reshape(-1, G).T @ hs[:-1].reshape(-1, H)
    db = da.reshape(-1, G).sum(axis=0)
    return dx, dh_next, dc, dWx, dWh, db, dh_all.transpose(1, 0, 2)


# ---------------------------------------------------------------- the layers


class _Recurrent(Layer):
    """What the RNN and the LSTM share: arguments, input checks, the choice of outputs."""

    _gates = 1
    _name = ""

    def __init__(self, n_in: int, n_hidden: int, return_sequences: bool, init_method: str, dtype: Any):
        where = self._name
        self.n_in = _int_arg(n_in, "n_in", where, 1)
        self.n_hidden = _int_arg(n_hidden, "n_hidden", where, 1)
        if not isinstance(return_sequences, (bool, np.bool_)):
            raise TypeError(f"{where}: return_sequences must be True or False, got {return_sequences!r}")
        self.return_sequences = bool(return_sequences)
        super().__init__()
        G, H = self._gates * self.n_hidden, self.n_hidden
        self.params = {"Wx": init.weights((G, self.n_in), init_method, dtype),
                       "Wh": init.weights((G, H), init_method, dtype),
                       "b": init.biases((G,), dtype=dtype)}
        self.dh = self.dh0 = None

    def _extra(self) -> str:
        return "" if self.return_sequences else ", return_sequences=False"

    def _check_input(self, x: Array, h0: Array | None, c0: Array | None = None) -> tuple[Array, Array | None]:
        check_array(x, self.label, ndim=3)
        if x.shape[2] != self.n_in:
            raise ShapeError(f"{self.label}: expected input of shape (batch, time, {self.n_in}), "
                             f"got {tuple(x.shape)}")
        if x.shape[1] == 0:
            raise ShapeError(f"{self.label}: empty sequences (input shape {tuple(x.shape)})")
        self._check_dtype(x, self.label)
        states = []
        for name, s in (("h0", h0), ("c0", c0)):
            if s is None:
                states.append(B.xp.zeros((x.shape[0], self.n_hidden), dtype=x.dtype))
                continue
            check_array(s, f"{self.label} {name}")
            if tuple(s.shape) != (x.shape[0], self.n_hidden):
                raise ShapeError(f"{self.label}: initial state {name} must have shape (batch, n_hidden) = "
                                 f"{(x.shape[0], self.n_hidden)} for input {tuple(x.shape)}, got {tuple(s.shape)}")
            states.append(s if s.dtype == x.dtype else s.astype(x.dtype))
        return states[0], states[1]

    def _output(self, hs: Array) -> Array:
        return hs if self.return_sequences else hs[:, -1]

    def _upstream(self, dout: Array) -> Array:
        """∂L/∂h_t for every step from the layer's upstream gradient (zeros before the last step when only
        the last state was returned)."""
        n, T = self._shape[0], self._shape[1]
        if self.return_sequences:
            self._check_dout(dout, (n, T, self.n_hidden))
            return dout
        self._check_dout(dout, (n, self.n_hidden))
        full = B.xp.zeros((n, T, self.n_hidden), dtype=dout.dtype)
        full[:, -1] = dout
        return full


class RNN(_Recurrent):
    """A vanilla (Elman) recurrent layer: h_t = tanh(x_t W_xᵀ + h_{t−1} W_hᵀ + b) over x (n, T, n_in).

    ``nonlinearity``: "tanh" (default) or "relu", as ``torch.nn.RNN``.  Weights: Gaussian 1/√fan-in
    (``init_method``, see ``nnlib.init``), zero bias.  ``forward(x, train, h0=None)``; see the module docstring.
    """

    _name = "RNN"

    def __init__(self, n_in: int, n_hidden: int, nonlinearity: str = "tanh", return_sequences: bool = True,
                 init_method: str = "gaussian", dtype: Any = np.float64):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(n_in, n_hidden, return_sequences, init_method, dtype)

    def __repr__(self) -> str:
        act = "" if self.nonlinearity == "tanh" else ", relu"
        return f"RNN({self.n_in}→{self.n_hidden}{act}{self._extra()})"

    def forward(self, x: Array, train: bool = False, h0: Array | None = None) -> Array:
        h0, _ = self._check_input(x, h0)
        p = self.params
        hs, self.cache = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"], relu=self.nonlinearity == "relu")
        self._shape = tuple(x.shape)
        return self._output(hs)

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        dx, self.dh0, gWx, gWh, gb, self.dh = rnn_backward(self._upstream(dout), self.cache)
        self.grads = {"Wx": gWx, "Wh": gWh, "b": gb}
        return dx


class LSTM(_Recurrent):
    """Long short-term memory over x (n, T, n_in): gates i, f, g, o (PyTorch's order), cell state c_t.

    ``forward(x, train, h0=None, c0=None)``; after it, ``c_last`` is the final cell state c_T.  Weights:
    Gaussian 1/√fan-in, zero bias (``init_method``; PyTorch draws uniform ±1/√H, and practitioners often start
    the forget gate's bias at 1 — set ``params["b"][H:2H]``).
    """

    _gates = 4
    _name = "LSTM"

    def __init__(self, n_in: int, n_hidden: int, return_sequences: bool = True, init_method: str = "gaussian",
                 dtype: Any = np.float64):
        super().__init__(n_in, n_hidden, return_sequences, init_method, dtype)
        self.dc0 = self.c_last = None

    def __repr__(self) -> str:
        return f"LSTM({self.n_in}→{self.n_hidden}{self._extra()})"

    def forward(self, x: Array, train: bool = False, h0: Array | None = None, c0: Array | None = None) -> Array:
        h0, c0 = self._check_input(x, h0, c0)
        p = self.params
        hs, self.cache = lstm_forward(x, h0, c0, p["Wx"], p["Wh"], p["b"])
        self.c_last = self.cache[2][-1]
        self._shape = tuple(x.shape)
        return self._output(hs)

    def backward(self, dout: Array) -> Array:
        self._ensure_forward()
        dx, self.dh0, self.dc0, gWx, gWh, gb, self.dh = lstm_backward(self._upstream(dout), self.cache)
        self.grads = {"Wx": gWx, "Wh": gWh, "b": gb}
        return dx
