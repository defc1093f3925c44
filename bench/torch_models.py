"""The PyTorch CPU contenders: the same models, shuffled minibatches, float32 and plain SGD as the nnlib rows.

torch is an optional, benchmark-only dependency.  ``available()`` says whether it can be imported;
``bench/run.py`` skips the torch rows with a message when it cannot.
"""

from __future__ import annotations

import numpy as np

try:
    import torch
    from torch import nn
except ImportError:  # the benchmark prints a message and skips the torch rows
    torch = None
    nn = None


def available() -> bool:
    return torch is not None


def version() -> str:
    return torch.__version__ if torch is not None else "not installed"


def nielsen_net(seed: int = 0) -> nn.Module:
    """[784, 30, 10] with sigmoid units (both layers), as Nielsen's network.py."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10), nn.Sigmoid())


def mlp(seed: int = 0) -> nn.Module:
    """[784, 100, 10]: Dense, ReLU, Dense; logits for softmax cross-entropy."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))


def cnn(seed: int = 0) -> nn.Module:
    """conv 5×5×20 → ReLU → maxpool 2 → conv 5×5×40 → ReLU → maxpool 2 → dense 100 → ReLU → dense 10."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(20, 40, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(40 * 4 * 4, 100), nn.ReLU(), nn.Linear(100, 10))


SHUFFLE_CHUNK = 1024  # rows gathered at a time (the fastest of per-batch and chunk-wise gathers, measured)


def _shuffled_batches(Xt: torch.Tensor, Yt: torch.Tensor, batch: int, max_batches: int | None,
                      gen: torch.Generator):
    """This epoch's minibatches in a fresh random order, as Nielsen's SGD and the nnlib rows do.

    A new permutation (torch.randperm with the model's generator) every epoch; rows are gathered with
    index_select a chunk of ~1,000 rows at a time, and the minibatches are slices (views) of the chunk.
    """
    n = Xt.shape[0]
    perm = torch.randperm(n, generator=gen)
    n = n if max_batches is None else min(n, max_batches * batch)
    chunk = batch * max(1, SHUFFLE_CHUNK // batch)
    for c in range(0, n, chunk):
        idx = perm[c:min(c + chunk, n)]
        Xc, Yc = Xt.index_select(0, idx), Yt.index_select(0, idx)
        for k in range(0, Xc.shape[0], batch):
            yield Xc[k:k + batch], Yc[k:k + batch]


def train_quadratic(model: nn.Module, X: np.ndarray, Y: np.ndarray, batch: int, eta: float,
                    max_batches: int | None = None, seed: int = 0) -> None:
    """Nielsen's SGD: C = (1/m) Σ_x ½‖a − y‖², w ← w − η ∇C (MSELoss(sum)/2m gives the same ½ convention).

    One epoch over freshly shuffled minibatches (see ``_shuffled_batches``)."""
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=eta)
    for xb, yb in _shuffled_batches(Xt, Yt, batch, max_batches, gen):
        opt.zero_grad(set_to_none=True)
        loss = 0.5 * ((model(xb) - yb) ** 2).sum() / xb.shape[0]
        loss.backward()
        opt.step()


def train_cross_entropy(model: nn.Module, X: np.ndarray, y: np.ndarray, batch: int, lr: float,
                        max_batches: int | None = None, seed: int = 0) -> None:
    """Softmax cross-entropy (mean over the batch), plain SGD, one epoch over freshly shuffled minibatches."""
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64, copy=False))
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for xb, yb in _shuffled_batches(Xt, yt, batch, max_batches, gen):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(torch.from_numpy(X)).argmax(1).numpy() == y).mean())
