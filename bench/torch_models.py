"""The PyTorch CPU contenders: the same models, batches, float32 and plain SGD as the nnlib rows.

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


def train_quadratic(model: nn.Module, X: np.ndarray, Y: np.ndarray, batch: int, eta: float,
                    max_batches: int | None = None) -> None:
    """Nielsen's SGD: C = (1/m) Σ_x ½‖a − y‖², w ← w − η ∇C (MSELoss(sum)/2m gives the same ½ convention)."""
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    opt = torch.optim.SGD(model.parameters(), lr=eta)
    n = Xt.shape[0] if max_batches is None else min(Xt.shape[0], max_batches * batch)
    for k in range(0, n, batch):
        xb, yb = Xt[k:k + batch], Yt[k:k + batch]
        opt.zero_grad(set_to_none=True)
        loss = 0.5 * ((model(xb) - yb) ** 2).sum() / xb.shape[0]
        loss.backward()
        opt.step()


def train_cross_entropy(model: nn.Module, X: np.ndarray, y: np.ndarray, batch: int, lr: float,
                        max_batches: int | None = None) -> None:
    """Softmax cross-entropy (mean over the batch), plain SGD."""
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    n = Xt.shape[0] if max_batches is None else min(Xt.shape[0], max_batches * batch)
    for k in range(0, n, batch):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(Xt[k:k + batch]), yt[k:k + batch])
        loss.backward()
        opt.step()


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(torch.from_numpy(X)).argmax(1).numpy() == y).mean())
