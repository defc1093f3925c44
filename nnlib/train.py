"""One training loop for both kinds of network, with history, early stopping and checkpoints.

    from nnlib import datasets, train
    train_set, val_set, test_set = datasets.digits()
    model = Model([Dense(64, 100, "he"), ReLU(), Dense(100, 10)])
    history = train.fit(model, train_set, val_set, epochs=20, optimizer="adam", lr=1e-3, seed=0)
    train.evaluate(model, *test_set)          # {"loss": ..., "accuracy": ...}
    viz.plot_history(history)

``fit`` trains a layer-stack ``Model`` (through ``train_step``, ``loss``, ``predict``) or
Nielsen's ``Network`` (through ``_step``, or its backpropagation with any optimiser, and
``total_cost``/``evaluate``) with the same loop:

* the data are moved to the device once (``backend.to_device``);
* each epoch visits the training rows in a random order drawn on the host from a seeded
  ``numpy.random.Generator``; the permutation is moved to the device to index the data;
* after each epoch the model is measured in evaluation mode (no dropout): ``loss`` and
  ``train_acc`` on a fixed random subset of at most ``train_eval_size`` (2000) training
  rows — for speed: the whole training set would cost as much as a large part of an epoch —
  and ``val_loss``/``val_acc`` on the whole validation set;
* a loss that is not finite or that exceeds 100 × max(its value before training, 1)
  raises ``FloatingPointError`` naming the epoch, the learning rate and the batch size.

Checkpoints are ``.npz`` files written atomically: to a temporary file in the same folder,
then ``os.replace``d over the target, so a crash never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nnlib import backend as B
from nnlib import optim
from nnlib._checks import ShapeError
from nnlib.files import atomic_file
from nnlib.model import Model
from nnlib.network import Network
from nnlib.progress import bar as progress_bar

__all__ = ["History", "fit", "evaluate", "save_checkpoint", "load_checkpoint", "CheckpointError"]

Array = Any

#: a loss above this many times max(its value before training, 1) counts as diverged
DIVERGENCE_FACTOR = 100.0


class CheckpointError(ValueError):
    """A checkpoint does not fit the model it is loaded into (the message names the parameter)."""


# ---------------------------------------------------------------- history


@dataclass
class History:
    """Per-epoch measurements of a ``fit`` run (one entry per epoch in each list).

    ``loss``/``train_acc``: training cost and accuracy after the epoch (evaluation mode, on at most
    ``train_eval_size`` training rows); ``val_loss``/``val_acc``: on the validation set (empty
    lists without one); ``test_acc``: test-set accuracy per epoch, filled only by recorded benchmark
    runs (``bench/accuracy.py``) to *report* a curve, never to select a model; ``lr``: the learning
    rate used in the epoch; ``seconds``: its wall time.  ``best_epoch``: index of the epoch with the
    lowest validation loss (training loss without a validation set); ``stopped_early``: whether early
    stopping ended the run; ``meta``: a JSON-able description of the run (model, optimiser, data).

    This is the one schema of a training history: ``fit`` and ``bench/accuracy.py`` write it
    (``save``), the course reads it (``load``, ``nnlib.notebook.load_history``) and
    ``nnlib.viz.plot_history`` plots it.  ``from_dict`` refuses unknown fields, so a file in another
    schema fails loudly instead of plotting empty axes.
    """

    loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return max(len(self.loss), len(self.test_acc), len(self.val_acc))

    @property
    def epochs(self) -> int:
        return len(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"History.from_dict: unknown fields {sorted(unknown)} (known: {sorted(known)})")
        return cls(**d)

    def save(self, path: str | os.PathLike) -> None:
        """Write the history as JSON (atomically: a temporary file, then ``os.replace``)."""
        with atomic_file(path, "w") as f:
            json.dump(self.to_dict(), f, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        with open(path) as f:
            d = json.load(f)
        try:
            return cls.from_dict(d)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


# ---------------------------------------------------------------- adapters: one interface for both APIs


def _labels(y: Array) -> Array:
    """Integer labels from labels (n,) or one-hot rows (n, k) (device or host, stays where it is)."""
    return y.argmax(axis=1) if y.ndim == 2 else y


class _ModelAdapter:
    """A layer-stack ``Model``: steps through ``train_step``, measures through ``loss``/``predict``."""

    kind = "model"

    def __init__(self, model: Model):
        self.model = model

    def prepare(self, X: Any, y: Any) -> tuple[Array, Array]:
        X, y = B.to_device(X), B.to_device(y)
        if X.dtype.kind == "f" and X.dtype != self.model.dtype:
            X = X.astype(self.model.dtype)
        if y.dtype.kind == "f" and y.dtype != self.model.dtype:
            y = y.astype(self.model.dtype)
        return X, y

    def make_optimizer(self, optimizer: str | optim.Optimizer, lr: float) -> optim.Optimizer:
        return optim.get(optimizer, lr)

    def step(self, X: Array, y: Array, opt: optim.Optimizer) -> None:
        self.model.train_step(X, y, opt)

    def loss_and_correct(self, X: Array, y: Array) -> tuple[float, int]:
        """Batch-mean loss and number of correct predictions (evaluation mode)."""
        m = self.model
        out = m.forward(X)
        loss = float(m.cost.fn(out, m._targets(y, out))) / out.shape[0] + m.weight_penalty()
        return loss, int((out.argmax(axis=1) == _labels(y)).sum())

    def state(self) -> dict[str, np.ndarray]:
        return self.model.state_dict()

    def check_state(self, state: dict[str, np.ndarray], where: str) -> None:
        expected = {f"{i}.{k}": p for i, layer in enumerate(self.model.layers) for k, p in layer.params.items()}
        _check_state(state, {k: tuple(p.shape) for k, p in expected.items()}, where)

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict(state)


class _NetworkAdapter:
    """Nielsen's ``Network``: plain SGD through its own ``_step`` (η/m Σ ∇C_x), other optimisers
    through its backpropagation (gradients averaged over the batch); measured like ``total_cost``
    and ``evaluate``."""

    kind = "network"

    def __init__(self, net: Network):
        self.net = net

    def prepare(self, X: Any, y: Any) -> tuple[Array, Array]:
        X = B.to_device(X)
        if X.ndim > 2:
            X = X.reshape(X.shape[0], -1)
        if X.dtype.kind != "f":
            raise TypeError(f"fit: expected floating-point inputs, got {X.dtype}; scale images to [0, 1] "
                            "(nnlib.datasets.scale01)")
        return self.net._as_rows((X.astype(self.net.dtype, copy=False), B.to_device(y)), "fit")  # Y one-hot

    def make_optimizer(self, optimizer: str | optim.Optimizer, lr: float) -> optim.Optimizer:
        return optim.get(optimizer, lr)

    def step(self, X: Array, Y: Array, opt: optim.Optimizer) -> None:
        net = self.net
        if type(opt) is optim.SGD and not opt.weight_decay:  # the fused step knows no weight decay
            net._step(X, Y, opt.lr, 0.0, X.shape[0])
            return
        nabla_b, nabla_w = net._backprop_rows(X, Y)
        m = X.shape[0]
        opt.step(net.weights + net.biases, [g / m for g in nabla_w + nabla_b])

    def loss_and_correct(self, X: Array, Y: Array) -> tuple[float, int]:
        net = self.net
        a = net._forward(X)[1][-1]
        loss = float(net.cost.fn(a, Y)) / X.shape[0]
        return loss, int((a.argmax(axis=1) == _labels(Y)).sum())

    def state(self) -> dict[str, np.ndarray]:
        out = {f"weights.{i}": B.to_host(w).copy() for i, w in enumerate(self.net.weights)}
        out.update({f"biases.{i}": B.to_host(b).copy() for i, b in enumerate(self.net.biases)})
        return out

    def _arrays(self) -> dict[str, Array]:
        out = {f"weights.{i}": w for i, w in enumerate(self.net.weights)}
        out.update({f"biases.{i}": b for i, b in enumerate(self.net.biases)})
        return out

    def check_state(self, state: dict[str, np.ndarray], where: str) -> None:
        _check_state(state, {k: tuple(p.shape) for k, p in self._arrays().items()}, where)

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.check_state(state, "load_state")
        for key, p in self._arrays().items():
            p[...] = B.to_device(np.asarray(state[key], dtype=p.dtype))


def _adapter(model: Any) -> _ModelAdapter | _NetworkAdapter:
    if isinstance(model, Model):
        return _ModelAdapter(model)
    if isinstance(model, Network):
        return _NetworkAdapter(model)
    raise TypeError(f"expected an nnlib Model or Network, got {type(model).__name__}")


def _check_state(state: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]], where: str) -> None:
    missing, extra = sorted(set(shapes) - set(state)), sorted(set(state) - set(shapes))
    if missing or extra:
        raise CheckpointError(f"{where}: the checkpoint's parameters do not match the model's: missing "
                              f"{missing or 'none'}, unexpected {extra or 'none'} (model has {sorted(shapes)})")
    for key, shape in shapes.items():
        got = tuple(state[key].shape)
        if got != shape:
            raise CheckpointError(f"{where}: parameter {key!r} has shape {got} in the checkpoint but {shape} "
                                  "in the model (a different architecture?)")


# ---------------------------------------------------------------- evaluation


def _measure(adapter: Any, X: Array, y: Array, batch_size: int) -> tuple[float, float]:
    """Mean loss and accuracy over all rows of (X, y), in batches of ``batch_size``."""
    n = X.shape[0]
    if n == 0:
        raise ValueError("evaluate: empty data set")
    total_loss, correct = 0.0, 0
    for k in range(0, n, batch_size):
        loss, c = adapter.loss_and_correct(X[k:k + batch_size], y[k:k + batch_size])
        m = min(batch_size, n - k)
        total_loss += loss * m
        correct += c
    return total_loss / n, correct / n


def evaluate(model: Model | Network, X: Any, y: Any, batch_size: int = 1000) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` on ``(X, y)`` (labels or one-hot), in batches.

    Evaluation mode (no dropout); the loss of a ``Model`` includes its L2 penalty.
    Returns ``{"loss": float, "accuracy": float}``.
    """
    if int(batch_size) < 1:
        raise ValueError(f"evaluate: batch_size must be >= 1, got {batch_size}")
    adapter = _adapter(model)
    X, y = adapter.prepare(X, y)
    loss, acc = _measure(adapter, X, y, int(batch_size))
    return {"loss": loss, "accuracy": acc}


# ---------------------------------------------------------------- the training loop


def _check_pair(data: Any, what: str) -> tuple[Any, Any]:
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"fit: {what} must be a pair (X, y), got {type(data).__name__}")
    X, y = data
    if len(X) != len(y):
        raise ShapeError(f"fit: {what} has {len(X)} inputs but {len(y)} targets")
    if len(X) == 0:
        raise ShapeError(f"fit: {what} is empty")
    return X, y


def _diverged(loss: float, reference: float) -> bool:
    return not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * max(reference, 1.0)


def fit(model: Model | Network, train: tuple[Any, Any], val: tuple[Any, Any] | None = None, epochs: int = 10,
        batch_size: int = 32, optimizer: str | optim.Optimizer = "sgd", lr: float = 0.1,
        schedule: Callable[[int], float] | optim.ReduceOnPlateau | None = None, early_stopping: int | None = None,
        checkpoint: str | os.PathLike | None = None, seed: int | None = None, progress: bool = True,
        verbose: bool = False, train_eval_size: int = 2000, eval_batch_size: int = 1000) -> History:
    """Train ``model`` (a ``Model`` or a Nielsen ``Network``) by minibatch gradient descent.

    ``train``/``val``: pairs ``(X, y)``, X rows (N, features) or images (N, C, H, W), y integer
    labels (N,) or one-hot (N, k), on the host or the device.
    ``optimizer``: a name (``"sgd"``, ``"momentum"``, ``"adam"``, ...; built with ``lr``) or an
    ``nnlib.optim.Optimizer``.  ``schedule``: a function epoch -> learning rate (``StepDecay``,
    ``ExponentialDecay``, ...) or a ``ReduceOnPlateau`` (stepped with the validation loss).
    ``early_stopping``: stop after this many epochs without a lower validation loss and restore
    the weights of the best epoch (needs ``val``).  ``checkpoint``: an ``.npz`` path written (with
    the history so far) at every epoch that improves the validation loss (training loss without
    ``val``).  ``seed``: seeds the shuffling and the device generator (dropout) so that the same
    seed and the same initial weights give an identical history and identical weights.
    ``progress``: a tqdm bar over the epochs (a widget in Jupyter); ``verbose``: a line per epoch.

    The training ``loss``/``train_acc`` are measured after each epoch on a fixed random subset of
    at most ``train_eval_size`` training rows (for speed).  Raises ``FloatingPointError`` when the
    loss becomes NaN/inf or exceeds 100 × max(its value before training, 1) (learning rate too large).
    """
    if int(epochs) < 0 or int(batch_size) < 1:
        raise ValueError(f"fit: need epochs >= 0 and batch_size >= 1, got epochs={epochs}, batch_size={batch_size}")
    if early_stopping is not None and (val is None or int(early_stopping) < 1):
        raise ValueError("fit: early_stopping (patience in epochs, >= 1) needs a validation set val=(X, y)")
    epochs, batch_size = int(epochs), int(batch_size)
    adapter = _adapter(model)
    X, y = adapter.prepare(*_check_pair(train, "train"))
    Xv, yv = adapter.prepare(*_check_pair(val, "val")) if val is not None else (None, None)
    n = X.shape[0]

    rng = np.random.default_rng(seed) if seed is not None else B.host_rng()
    if seed is not None:
        B.xp.random.seed(seed)
    opt = adapter.make_optimizer(optimizer, lr)
    plateau = schedule if isinstance(schedule, optim.ReduceOnPlateau) else None
    if plateau is not None:
        opt.lr = float(plateau.lr)
    sub = np.sort(rng.choice(n, size=train_eval_size, replace=False)) if n > train_eval_size else None
    Xe, ye = (X, y) if sub is None else (X[B.to_device(sub)], y[B.to_device(sub)])
    reference = _measure(adapter, Xe, ye, eval_batch_size)[0]

    history = History()
    best, best_state, bad_epochs = math.inf, None, 0
    bar = None
    if progress:
        bar = progress_bar(total=epochs, desc="epochs", unit="epoch")
    try:
        for epoch in range(epochs):
            if schedule is not None and plateau is None:
                opt.lr = float(schedule(epoch))
            t0 = time.perf_counter()
            perm = B.to_device(rng.permutation(n))
            try:
                for k in range(0, n, batch_size):
                    idx = perm[k:k + batch_size]
                    adapter.step(X[idx], y[idx], opt)
                loss, acc = _measure(adapter, Xe, ye, eval_batch_size)
            except FloatingPointError as exc:
                raise FloatingPointError(f"fit: training diverged in epoch {epoch} with lr={opt.lr:g}, "
                                         f"batch_size={batch_size} ({exc}); lower the learning rate") from None
            if _diverged(loss, reference):
                raise FloatingPointError(f"fit: training diverged in epoch {epoch} with lr={opt.lr:g}, "
                                         f"batch_size={batch_size}: the loss went from {reference:.4g} to "
                                         f"{loss:.4g}; lower the learning rate")
            history.loss.append(loss)
            history.train_acc.append(acc)
            history.lr.append(opt.lr)
            monitored = loss
            if Xv is not None:
                val_loss, val_acc = _measure(adapter, Xv, yv, eval_batch_size)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
                monitored = val_loss
            history.seconds.append(time.perf_counter() - t0)

            improved = monitored < best
            if improved:
                best, bad_epochs, history.best_epoch = monitored, 0, epoch
                if early_stopping is not None:
                    best_state = adapter.state()
                if checkpoint is not None:
                    save_checkpoint(checkpoint, model, history, epoch=epoch)
            else:
                bad_epochs += 1
            if plateau is not None:
                opt.lr = float(plateau.step(monitored))

            _report(history, epoch, epochs, bar, verbose)
            if early_stopping is not None and bad_epochs >= int(early_stopping):
                history.stopped_early = True
                break
    finally:
        if bar is not None:
            bar.close()
    if best_state is not None:
        adapter.load_state(best_state)
    return history


def _report(h: History, epoch: int, epochs: int, bar: Any, verbose: bool) -> None:
    post = {"loss": f"{h.loss[-1]:.4f}", "acc": f"{h.train_acc[-1]:.3f}"}
    line = f"epoch {epoch + 1}/{epochs}: loss {h.loss[-1]:.4f}  acc {h.train_acc[-1]:.4f}"
    if h.val_loss:
        post.update(val_loss=f"{h.val_loss[-1]:.4f}", val_acc=f"{h.val_acc[-1]:.3f}")
        line += f"  val_loss {h.val_loss[-1]:.4f}  val_acc {h.val_acc[-1]:.4f}"
    line += f"  lr {h.lr[-1]:.3g}  ({h.seconds[-1]:.2f} s)"
    if bar is not None:
        bar.set_postfix(post, refresh=False)
        bar.update(1)
    if verbose:
        if bar is not None:
            bar.write(line)
        else:
            print(line, flush=True)


# ---------------------------------------------------------------- checkpoints

_PARAM = "param/"
_META = "__meta__"


def save_checkpoint(path: str | os.PathLike, model: Model | Network, history: History | None = None, /,
                    **meta: Any) -> Path:
    """Save the parameters of ``model`` (and ``history`` and JSON-able ``meta``) to an ``.npz`` file.

    Atomic: written to a temporary file in the same folder and ``os.replace``d onto ``path``, so a
    failure leaves no partial file and keeps any previous checkpoint.  ``meta`` names other than
    ``kind``, ``model`` and ``history`` come back from ``load_checkpoint``.  Returns the path.
    """
    reserved = sorted(set(meta) & {"kind", "model", "history"})
    if reserved:
        raise ValueError(f"save_checkpoint: metadata names {reserved} are reserved; choose other names")
    adapter = _adapter(model)
    path = Path(path)
    arrays = {_PARAM + k: v for k, v in adapter.state().items()}
    info = {"kind": adapter.kind, "model": repr(model), "meta": meta,
            "history": history.to_dict() if history is not None else None}
    try:
        text = json.dumps(info)
    except TypeError as exc:
        raise TypeError(f"save_checkpoint: metadata must be JSON-serialisable: {exc}") from None
    arrays[_META] = np.array(text)
    with atomic_file(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def load_checkpoint(path: str | os.PathLike, model: Model | Network) -> dict[str, Any]:
    """Load parameters saved by ``save_checkpoint`` into ``model`` (all of them or none).

    Raises ``CheckpointError`` naming the parameter and both shapes when the checkpoint does not
    fit the model.  Returns the saved metadata: ``{"kind", "model", "history": History | None,
    **meta}``.
    """
    adapter = _adapter(model)
    with np.load(path, allow_pickle=False) as z:
        if _META not in z.files:
            raise CheckpointError(f"{path}: not an nnlib checkpoint (no {_META} entry)")
        info = json.loads(str(z[_META]))
        state = {k[len(_PARAM):]: z[k] for k in z.files if k.startswith(_PARAM)}
    if info.get("kind") != adapter.kind:
        raise CheckpointError(f"{path}: holds a {info.get('kind')} ({info.get('model')}) but is loaded into a "
                              f"{adapter.kind} ({model!r})")
    adapter.check_state(state, f"load_checkpoint({os.fspath(path)!r})")
    adapter.load_state(state)
    out = {"kind": info["kind"], "model": info.get("model"),
           "history": History.from_dict(info["history"]) if info.get("history") else None}
    out.update(info.get("meta") or {})
    return out
