"""A stack of layers trained on a cost: MLPs and CNNs.

    model = Model([Dense(784, 100), ReLU(), Dense(100, 10)], cost="softmax_cross_entropy", l2=1e-4)
    loss = model.loss_and_grads(x, y)      # forward (train mode) + backward: fills layer.grads
    optimizer.step(model.params(), model.grads())

The cost is averaged over the batch: C = (1/n) Σ_x C_x + (λ/2) Σ_w w²
(L2 weight decay on weights, not biases; Nielsen writes λ/2n with n the
training-set size — the same thing with λ here = λ_Nielsen / n).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from nnlib import backend as B
from nnlib import losses
from nnlib._checks import ShapeError, check_array, check_finite, trusted
from nnlib.datasets import one_hot
from nnlib.layers import Layer, MaxPool2D, ReLU

Array = Any


class Model:
    """Layers applied in order; ``cost`` applied to the last layer's output."""

    def __init__(self, layers: Sequence[Layer], cost: str | losses.Cost = "softmax_cross_entropy", l2: float = 0.0):
        if not layers:
            raise ValueError("Model: needs at least one layer")
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            layer.label = f"layer {i} ({layer!r})"
        self.cost = losses.get(cost)
        self.l2 = float(l2)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Model([{inner}], cost={self.cost.name!r}, l2={self.l2})"

    @property
    def dtype(self) -> Any:
        for layer in self.layers:
            for p in layer.params.values():
                return p.dtype
        return np.float64

    def _prepare(self, x: Any) -> Array:
        """Move host data to the device and cast to the model's dtype; reject ints, NaN/inf and empty batches."""
        if isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and B.name() != "numpy"):
            x = B.to_device(x)
        check_array(x, "Model input", float_only=False, finite=False)  # checked below, after the dtype
        if x.dtype.kind not in "f":
            raise TypeError(f"Model input: expected floating-point data, got dtype {x.dtype} with shape "
                            f"{tuple(x.shape)}; scale integer images to [0, 1] floats (nnlib.datasets.scale01)")
        check_finite(x, "Model input")
        return x if x.dtype == self.dtype else x.astype(self.dtype)

    def forward(self, x: Any, train: bool = False) -> Array:
        """The output of the last layer (logits for softmax cross-entropy), every layer run in the order
        listed — so a backward pass of your own through ``reversed(model.layers)`` matches its caches."""
        return self._forward(x, train, self.layers)

    def _forward(self, x: Any, train: bool, order: Sequence[Layer]) -> Array:
        a = self._prepare(x)  # checks x once (dtype, NaN/inf): the layers skip their own NaN/inf pass
        with trusted():
            for layer in order:
                a = layer.forward(a, train)
        return a

    def run_order(self) -> list[Layer]:
        """The order in which ``loss_and_grads``, ``predict`` and ``loss`` run the layers (``forward`` runs them
        as listed).

        As listed, with one exception: a ``ReLU`` directly followed by an unpadded ``MaxPool2D`` runs *after*
        the pooling.  The two orders compute the same numbers: max(0, ·) is non-decreasing, so the maximum of
        a window of ReLU outputs is ReLU of the window's maximum, max_w relu(z) = relu(max_w z), bit for bit
        (NaN included); and backward, the pooling routes each window's gradient to the same input in both
        orders (its first maximum), where relu′ is 1 if that maximum is > 0 and 0 otherwise — also when every
        entry of the window is ≤ 0, where the listed order's gradient is 0 too.  ReLU then touches the
        pooled map, a quarter of the entries for 2×2 windows: a training step of the benchmark's CNN takes
        0.79× the time at 1 thread and 0.84× at 2 (``python bench/relu_pool.py``).
        ``tests/test_fastpaths.py`` checks outputs and gradients against the listed order.
        """
        layers, order, i = self.layers, [], 0
        while i < len(layers):
            layer = layers[i]
            if (type(layer) is ReLU and i + 1 < len(layers) and type(layers[i + 1]) is MaxPool2D
                    and not any(layers[i + 1].padding)):
                order += [layers[i + 1], layer]
                i += 2
            else:
                order.append(layer)
                i += 1
        return order

    __call__ = forward

    def predict(self, x: Any) -> Array:
        """Predicted class per row: argmax of the output."""
        return self._forward(x, False, self.run_order()).argmax(axis=1)

    def _targets(self, y: Any, out: Array) -> Array:
        if isinstance(y, (list, tuple)) or (isinstance(y, np.ndarray) and B.name() != "numpy"):
            y = B.to_device(y)
        if y.shape[0] != out.shape[0]:
            raise ShapeError(f"Model: {out.shape[0]} inputs but {y.shape[0]} targets "
                             f"(output shape {tuple(out.shape)}, target shape {tuple(y.shape)})")
        if y.dtype.kind == "f" and y.dtype != out.dtype:
            y = y.astype(out.dtype)
        if not isinstance(self.cost, losses.SoftmaxCrossEntropy) and y.dtype.kind in "iu" and y.ndim == 1:
            y = one_hot(y, out.shape[1], out.dtype)
        return y

    def weight_penalty(self) -> float:
        """(λ/2) Σ w² over every layer's weights W."""
        if not self.l2:
            return 0.0
        return 0.5 * self.l2 * sum(float((layer.params["W"] ** 2).sum()) for layer in self.layers
                                   if "W" in layer.params)

    def loss(self, x: Any, y: Any) -> float:
        """Mean cost over the batch plus the L2 penalty (evaluation mode: no dropout)."""
        out = self._forward(x, False, self.run_order())
        y = self._targets(y, out)
        return float(self.cost.fn(out, y)) / out.shape[0] + self.weight_penalty()

    def loss_and_grads(self, x: Any, y: Any) -> float:
        """Forward in training mode, backward through every layer; returns the loss and fills ``layer.grads``."""
        order = self.run_order()
        out = self._forward(x, True, order)
        y = self._targets(y, out)
        n = out.shape[0]
        # Speed: one call for the loss and ∂C/∂out (softmax cross-entropy computes softmax once and checks
        # the labels once); the loss's float() is the step's only device synchronisation.
        if isinstance(self.cost, losses.SoftmaxCrossEntropy):
            total, dout = self.cost.fn_and_grad(out, y, scale=1.0 / n)  # dout = ∂C/∂out of the batch mean
        else:
            total, dout = self.cost.fn_and_grad(out, y)
            dout = dout / n
        loss = float(total) / n + self.weight_penalty()
        if not math.isfinite(loss):
            raise FloatingPointError(f"Model: the loss became {loss} (batch of {n}, output {tuple(out.shape)}): "
                                     "training diverged — lower the learning rate")
        with trusted():  # the loss is finite (checked above), so is ∂C/∂out
            for layer in reversed(order[1:]):
                dout = layer.backward(dout)
            # Speed: nobody needs ∂L/∂x of the first layer (x is the data): backward_params fills its grads
            # without computing it — for Dense a third of the layer's arithmetic, for Conv2D a GEMM and a col2im.
            order[0].backward_params(dout)
        if self.l2:
            for layer in self.layers:
                if "W" in layer.params:
                    layer.grads["W"] = layer.grads["W"] + self.l2 * layer.params["W"]
        return loss

    def params(self) -> list[Array]:
        """Every parameter array, in a fixed order (optimisers update them in place)."""
        return [p for layer in self.layers for p in layer.params.values()]

    def grads(self) -> list[Array]:
        """The gradients matching ``params()``, from the last ``loss_and_grads``."""
        return [layer.grads[k] for layer in self.layers for k in layer.params]

    def named_params(self) -> list[tuple[str, Array]]:
        return [(f"{layer.label}.{k}", p) for layer in self.layers for k, p in layer.params.items()]

    def train_step(self, x: Any, y: Any, optimizer: Any) -> float:
        """One minibatch: gradients, then one optimiser update.  Returns the loss before the update."""
        loss = self.loss_and_grads(x, y)
        optimizer.step(self.params(), self.grads())
        return loss

    def accuracy(self, x: Any, y: Any) -> float:
        """Fraction of rows whose predicted class equals the label (labels or one-hot)."""
        pred = self.predict(x)
        y = B.to_device(y) if isinstance(y, np.ndarray) and B.name() != "numpy" else y
        labels = y.argmax(axis=1) if y.ndim == 2 else y
        return float((pred == labels).mean())

    def _state(self) -> dict[str, Any]:
        """Every array a checkpoint holds: parameters (``"<i>.<name>"``) and layer buffers such as BatchNorm's
        running statistics (``"<i>.buffers.<name>"``)."""
        out = {}
        for i, layer in enumerate(self.layers):
            out.update({f"{i}.{k}": p for k, p in layer.params.items()})
            out.update({f"{i}.buffers.{k}": p for k, p in (getattr(layer, "buffers", None) or {}).items()})
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """Host copies of every parameter and buffer (for checkpoints); a layer's ``num_batches_tracked`` too."""
        state = {k: B.to_host(p).copy() for k, p in self._state().items()}
        for i, layer in enumerate(self.layers):
            if hasattr(layer, "num_batches_tracked"):
                state[f"{i}.num_batches_tracked"] = np.array(layer.num_batches_tracked)
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy parameters and buffers in, checking that every name and shape matches (a checkpoint written
        before buffers were saved has none: the layers then keep their own)."""
        state = dict(state)
        for i, layer in enumerate(self.layers):
            key = f"{i}.num_batches_tracked"
            if hasattr(layer, "num_batches_tracked") and key in state:
                layer.num_batches_tracked = int(np.asarray(state.pop(key)))
        expected = self._state()
        if not any(".buffers." in k for k in state):
            expected = {k: p for k, p in expected.items() if ".buffers." not in k}
        if set(state) != set(expected):
            raise KeyError(f"Model.load_state_dict: parameters {sorted(expected)} expected, got {sorted(state)}")
        for key, p in expected.items():
            if tuple(state[key].shape) != tuple(p.shape):
                raise ShapeError(f"Model.load_state_dict: {key} has shape {tuple(state[key].shape)}, "
                                 f"model expects {tuple(p.shape)}")
            p[...] = B.to_device(np.asarray(state[key], dtype=p.dtype))


def warn_if_diverging(losses_seen: Sequence[float], where: str = "training") -> None:
    """Warn when the loss has grown tenfold from its first value (a too-large learning rate)."""
    if len(losses_seen) >= 2 and np.isfinite(losses_seen[0]) and losses_seen[-1] > 10 * max(losses_seen[0], 1e-12):
        warnings.warn(f"{where}: the loss grew from {losses_seen[0]:.4g} to {losses_seen[-1]:.4g}: "
                      "the learning rate is probably too large", RuntimeWarning, stacklevel=2)
