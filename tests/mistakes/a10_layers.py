# ruff: noqa: E501, N802 - fixture data: whole answer cells as source strings
"""Assignment 10 — modular layers: mistakes, alternatives, delegations, cheats (each answer cell holds a pair)."""

from mistakes import E, cheats

DEPENDS: dict = {"train_net": ["affine", "relu", "dropout", "batchnorm", "softmax_loss"]}

AF = ("def affine_forward(x, W, b):\n    x_flat = x.reshape(x.shape[0], -1)\n    out = x_flat @ W.T + b\n"
      "    return out, (x, W)\n")
AB = ("def affine_backward(dout, cache):\n    x, W = cache\n    x_flat = x.reshape(x.shape[0], -1)\n"
      "    dx = (dout @ W).reshape(x.shape)\n    dW = dout.T @ x_flat\n    db = dout.sum(axis=0)\n    return dx, dW, db\n")
RF = "def relu_forward(x):\n    return np.maximum(x, 0), x\n"
RB = "def relu_backward(dout, cache):\n    x = cache\n    return dout * (x > 0)\n"
DF = ("def dropout_forward(x, p, mode='train', seed=None):\n    if mode == 'train':\n"
      "        rng = np.random.default_rng(seed)\n        mask = (rng.random(x.shape) < p) / p\n"
      "        return x * mask, (mode, mask)\n    return x, (mode, None)\n")
DB = ("def dropout_backward(dout, cache):\n    mode, mask = cache\n    if mode == 'train':\n        return dout * mask\n"
      "    return dout\n")
BF = ("def batchnorm_forward(x, gamma, beta, running_mean, running_var, mode='train', momentum=0.1, eps=1e-5):\n"
      "    if mode == 'train':\n        N = x.shape[0]\n        mu = x.mean(axis=0)\n        var = x.var(axis=0)\n"
      "        xhat = (x - mu) / np.sqrt(var + eps)\n        out = gamma * xhat + beta\n"
      "        running_mean = (1 - momentum) * running_mean + momentum * mu\n"
      "        running_var = (1 - momentum) * running_var + momentum * var * N / (N - 1)\n"
      "        cache = (xhat, gamma, var, eps)\n    else:\n"
      "        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta\n        cache = None\n"
      "    return out, cache, running_mean, running_var\n")
BB = ("def batchnorm_backward(dout, cache):\n    xhat, gamma, var, eps = cache\n    dbeta = dout.sum(axis=0)\n"
      "    dgamma = (dout * xhat).sum(axis=0)\n"
      "    dx = gamma / np.sqrt(var + eps) * (dout - dout.mean(axis=0) - xhat * (dout * xhat).mean(axis=0))\n"
      "    return dx, dgamma, dbeta\n")
SL = ("def softmax_loss(x, y):\n    N = x.shape[0]\n    shifted = x - x.max(axis=1, keepdims=True)\n"
      "    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n"
      "    loss = -log_p[np.arange(N), y].mean()\n    dx = np.exp(log_p)\n    dx[np.arange(N), y] -= 1\n    dx /= N\n"
      "    return loss, dx\n")


def cell(a: str, b: str) -> str:
    return a + "\n\n" + b


def sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


TN = 'def train_net(X, labels, hidden=64, epochs=10, batch_size=100, lr=0.2, keep=0.9, seed=0):\n    """Train affine-batchnorm-relu-dropout-affine-softmax on the rows of X; return the parameters as a dict."""\n    rng = np.random.default_rng(seed)\n    n, D = X.shape\n    p = {"W1": rng.standard_normal((hidden, D)) * np.sqrt(2 / D), "b1": np.zeros(hidden),\n         "gamma": np.ones(hidden), "beta": np.zeros(hidden),\n         "running_mean": np.zeros(hidden), "running_var": np.ones(hidden),\n         "W2": rng.standard_normal((10, hidden)) * np.sqrt(1 / hidden), "b2": np.zeros(10)}\n    for epoch in range(epochs):\n        order = rng.permutation(n)\n        for start in range(0, n, batch_size):\n            idx = order[start:start + batch_size]\n            if len(idx) < 2:\n                continue  # batch statistics need two examples\n            h, c1 = affine_forward(X[idx], p["W1"], p["b1"])\n            h, c2, p["running_mean"], p["running_var"] = batchnorm_forward(\n                h, p["gamma"], p["beta"], p["running_mean"], p["running_var"], "train")\n            h, c3 = relu_forward(h)\n            h, c4 = dropout_forward(h, keep, "train", seed=int(rng.integers(2**31)))\n            scores, c5 = affine_forward(h, p["W2"], p["b2"])\n            loss, dscores = softmax_loss(scores, labels[idx])\n            dh, grads_W2, grads_b2 = affine_backward(dscores, c5)\n            dh = relu_backward(dropout_backward(dh, c4), c3)\n            dh, grads_gamma, grads_beta = batchnorm_backward(dh, c2)\n            _, grads_W1, grads_b1 = affine_backward(dh, c1)\n            for k, g in (("W1", grads_W1), ("b1", grads_b1), ("gamma", grads_gamma), ("beta", grads_beta),\n                         ("W2", grads_W2), ("b2", grads_b2)):\n                p[k] -= lr * g\n    return p\n'


MISTAKES = [
    # ---------------------------------------------------------------- affine
    E("affine", "wrong transpose: x_flat @ W", cell(sub(AF, "x_flat @ W.T", "x_flat @ W"), AB), "uses W where its transpose belongs", pipeline=True),
    E("affine", "x not flattened", cell(sub(AF, "x_flat = x.reshape(x.shape[0], -1)", "x_flat = x"), AB), "flatten them first", pipeline=True),
    E("affine", "bias forgotten", cell(sub(AF, " + b\n", "\n"), AB), "leaves out the bias"),
    E("affine", "db not summed over the batch", cell(AF, sub(AB, "db = dout.sum(axis=0)", "db = dout")), "one entry per example", pipeline=True),
    E("affine", "db averaged over the batch", cell(AF, sub(AB, "db = dout.sum(axis=0)", "db = dout.mean(axis=0)")), "is the mean of dout over the batch"),
    E("affine", "dx not reshaped back", cell(AF, sub(AB, "dx = (dout @ W).reshape(x.shape)", "dx = dout @ W")), "give it x's shape"),
    E("affine", "dW transposed", cell(AF, sub(AB, "dW = dout.T @ x_flat", "dW = x_flat.T @ dout")), "transposed"),
    E("affine", "dx with Wᵀ", cell(AF, sub(AB, "dx = (dout @ W).reshape(x.shape)", "dx = (dout @ W.T).reshape(x.shape)")), "multiplies dout by Wᵀ"),
    E("affine", "dW averaged over the batch", cell(AF, sub(AB, "dW = dout.T @ x_flat", "dW = dout.T @ x_flat / x.shape[0]")), "divided by the batch size"),
    E("affine", "returns (dW, dx, db)", cell(AF, sub(AB, "return dx, dW, db", "return dW, dx, db")), "the order is (dx, dW, db)"),
    # ---------------------------------------------------------------- relu
    E("relu", "gradient passes at x < 0", cell(RF, sub(RB, "dout * (x > 0)", "dout.copy()")), "lets the gradient through where x < 0", pipeline=True),
    E("relu", "multiplies by the output's values", cell(sub(RF, "return np.maximum(x, 0), x", "out = np.maximum(x, 0)\n    return out, out"),
                                                     sub(RB, "x = cache\n    return dout * (x > 0)", "out = cache\n    return dout * out")), "not the output's values", pipeline=True),
    E("relu", "inverted mask", cell(RF, sub(RB, "(x > 0)", "(x <= 0)")), "inverted mask"),
    E("relu", "mask without dout", cell(RF, sub(RB, "dout * (x > 0)", "(x > 0).astype(float)")), "is the mask alone"),
    E("relu", "np.max instead of np.maximum", cell(sub(RF, "np.maximum(x, 0)", "np.max(x, 0)"), RB), "np.maximum(x, 0)"),
    E("relu", "keeps the negative part", cell(sub(RF, "np.maximum(x, 0)", "np.minimum(x, 0)"), RB), "keeps the negative part"),
    # ---------------------------------------------------------------- dropout
    E("dropout", "not inverted (no /p)", cell(sub(DF, "mask = (rng.random(x.shape) < p) / p", "mask = (rng.random(x.shape) < p) * 1.0"), DB), "is not inverted", pipeline=True),
    E("dropout", "scales at test time", cell(sub(DF, "return x, (mode, None)", "return x / p, (mode, None)"), DB), "is divided by p", pipeline=True),
    E("dropout", "original dropout: × p at test time", cell(sub(sub(DF, "return x, (mode, None)", "return x * p, (mode, None)"), "(rng.random(x.shape) < p) / p", "(rng.random(x.shape) < p) * 1.0"), DB), "is multiplied by p"),
    E("dropout", "mask re-drawn in backward", cell(sub(DF, "return x * mask, (mode, mask)", "return x * mask, (mode, p)"),
                                               "def dropout_backward(dout, cache):\n    mode, p = cache\n    if mode == 'train':\n"
                                               "        mask = (np.random.default_rng().random(dout.shape) < p) / p\n        return dout * mask\n    return dout\n"),
      "a mask drawn again in the backward pass", pipeline=True),
    E("dropout", "p read as the drop probability", cell(sub(DF, "mask = (rng.random(x.shape) < p) / p", "mask = (rng.random(x.shape) >= p) / p"), DB), "≈ 1 − p"),
    E("dropout", "divides by 1 − p", cell(sub(DF, "mask = (rng.random(x.shape) < p) / p", "mask = (rng.random(x.shape) < p) / (1 - p)"), DB), "divides the kept units by 1 − p"),
    E("dropout", "seed ignored (global generator)", cell(sub(DF, "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()"), DB), "is not reproducible"),
    E("dropout", "backward without 1/p", cell(sub(DF, "return x * mask, (mode, mask)", "return x * mask, (mode, mask * p)"), DB), "does not divide by p"),
    E("dropout", "backward ignores the mask", cell(DF, sub(DB, "return dout * mask", "return dout")), "ignores the mask"),
    E("dropout", "drops at test time", cell(sub(DF, "if mode == 'train':", "if True:"), DB), "dropout"),
    # ---------------------------------------------------------------- batchnorm
    E("batchnorm", "unbiased variance in the normalisation", cell(sub(BF, "var = x.var(axis=0)\n", "var = x.var(axis=0, ddof=1)\n").replace("var * N / (N - 1)", "var"), BB), "normalises with the unbiased variance", pipeline=True),
    E("batchnorm", "biased variance in running_var", cell(sub(BF, "var * N / (N - 1)", "var"), BB), "uses the biased variance", pipeline=True),
    E("batchnorm", "missing eps", cell(sub(BF, "xhat = (x - mu) / np.sqrt(var + eps)", "xhat = (x - mu) / np.sqrt(var)"), BB), "leaves out ε"),
    E("batchnorm", "eps outside the square root", cell(sub(BF, "np.sqrt(var + eps)", "(np.sqrt(var) + eps)"), BB), "outside the square root"),
    E("batchnorm", "running mean not updated", cell(sub(BF, "running_mean = (1 - momentum) * running_mean + momentum * mu\n", "running_mean = running_mean\n"), BB), "is not updated", pipeline=True),
    E("batchnorm", "momentum reversed", cell(sub(sub(BF, "(1 - momentum) * running_mean + momentum * mu", "momentum * running_mean + (1 - momentum) * mu"),
                                                 "(1 - momentum) * running_var + momentum * var", "momentum * running_var + (1 - momentum) * var"), BB), "momentum reversed", pipeline=True),
    E("batchnorm", "test mode uses batch statistics", cell(sub(BF, "out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta",
                                                               "out = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta"), BB), "normalises with the batch's μ and σ²", pipeline=True),
    E("batchnorm", "test mode updates the running mean", cell(sub(BF, "        cache = None\n", "        cache = None\n        running_mean = (1 - momentum) * running_mean + momentum * x.mean(axis=0)\n"), BB), "is updated in test mode"),
    E("batchnorm", "gamma and beta swapped", cell(sub(BF, "out = gamma * xhat + beta", "out = beta * xhat + gamma"), BB), "swaps γ and β"),
    E("batchnorm", "layer norm (axis 1)", cell(sub(sub(BF, "mu = x.mean(axis=0)", "mu = x.mean(axis=1, keepdims=True)"), "var = x.var(axis=0)\n", "var = x.var(axis=1, keepdims=True)\n"), BB), "layer normalisation"),
    E("batchnorm", "backward treats μ and σ² as constants", cell(BF, sub(BB, "(dout - dout.mean(axis=0) - xhat * (dout * xhat).mean(axis=0))", "dout")), "treats μ and σ² as constants", pipeline=True),
    E("batchnorm", "backward misses the σ² term", cell(BF, sub(BB, " - xhat * (dout * xhat).mean(axis=0))", ")")), "misses the term through σ²"),
    E("batchnorm", "backward misses the μ term", cell(BF, sub(BB, "dout - dout.mean(axis=0) - xhat", "dout - xhat")), "misses the term through μ"),
    E("batchnorm", "dgamma and dbeta swapped", cell(BF, sub(BB, "return dx, dgamma, dbeta", "return dx, dbeta, dgamma")), "that is dbeta"),
    E("batchnorm", "dgamma not summed over the batch", cell(BF, sub(BB, "dgamma = (dout * xhat).sum(axis=0)", "dgamma = dout * xhat")), "one entry per example"),
    # ---------------------------------------------------------------- softmax loss
    E("softmax_loss", "unstable: no max subtracted", sub(SL, "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x"), "overflows on large logits", pipeline=True),
    E("softmax_loss", "unstable: softmax then log", "def softmax_loss(x, y):\n    N = x.shape[0]\n    e = np.exp(x)\n    s = e / e.sum(axis=1, keepdims=True)\n"
      "    loss = -np.log(s[np.arange(N), y]).mean()\n    dx = s.copy()\n    dx[np.arange(N), y] -= 1\n    return loss, dx / N\n", "overflows on large logits"),
    E("softmax_loss", "loss not averaged over N", sub(SL, "loss = -log_p[np.arange(N), y].mean()", "loss = -log_p[np.arange(N), y].sum()"), "is the sum over the batch", pipeline=True),
    E("softmax_loss", "dx not divided by N", sub(SL, "    dx /= N\n", ""), "is not divided by N", pipeline=True),
    E("softmax_loss", "−1 at the label forgotten", sub(SL, "    dx[np.arange(N), y] -= 1\n", ""), "misses the −1"),
    E("softmax_loss", "softmax over the batch axis", "def softmax_loss(x, y):\n    N = x.shape[0]\n    shifted = x - x.max(axis=0)\n"
      "    log_p = shifted - np.log(np.exp(shifted).sum(axis=0))\n    loss = -log_p[np.arange(N), y].mean()\n"
      "    dx = np.exp(log_p)\n    dx[np.arange(N), y] -= 1\n    return loss, dx / N\n", "softmax over the batch"),
    E("softmax_loss", "sign of the loss", sub(SL, "loss = -log_p", "loss = log_p"), "opposite sign"),
    # ---------------------------------------------------------------- the network
    E("train_net", "running averages never kept", sub(TN, 'h, c2, p["running_mean"], p["running_var"] = batchnorm_forward(', 'h, c2, _, _ = batchnorm_forward('),
      "running_mean and running_var are still 0 and 1"),
    E("train_net", "fitted without softmax_loss (least squares on the hidden layer)", "def train_net(X, labels):\n"
      "    rng = np.random.default_rng(0)\n    H = 256\n    W1 = rng.standard_normal((H, 64))\n    b1 = rng.standard_normal(H)\n"
      "    h = np.maximum(X @ W1.T + b1, 0)\n    mu, var = h.mean(axis=0), h.var(axis=0)\n    hn = np.maximum((h - mu) / np.sqrt(var + 1e-5), 0)\n"
      "    sol = np.linalg.lstsq(np.c_[hn, np.ones(len(X))], np.eye(10)[labels], rcond=None)[0]\n"
      "    return {'W1': W1, 'b1': b1, 'gamma': np.ones(H), 'beta': np.zeros(H), 'running_mean': mu, 'running_var': var,\n"
      "            'W2': sol[:-1].T.copy(), 'b2': sol[-1].copy()}\n", "does not learn through your softmax_loss", pipeline=True),
    E("train_net", "no training (random weights)", "def train_net(X, labels):\n    rng = np.random.default_rng(0)\n    H = 32\n"
      "    return {'W1': rng.standard_normal((H, 64)), 'b1': np.zeros(H), 'gamma': np.ones(H), 'beta': np.zeros(H),\n"
      "            'running_mean': np.zeros(H), 'running_var': np.ones(H), 'W2': rng.standard_normal((10, H)), 'b2': np.zeros(10)}\n",
      "below the 90 % target", pipeline=True),
    E("train_net", "a parameter missing", "def train_net(X, labels):\n    return {'W1': np.zeros((8, 64))}\n", "missing: b1"),
]


ALTERNATIVES = [
    E("affine", "einsum affine, W kept transposed in the cache",
      "def affine_forward(x, W, b):\n    out = np.einsum('nd,md->nm', x.reshape(len(x), -1), W) + b\n    return out, {'x': x, 'Wt': W.T.copy()}\n\n\n"
      "def affine_backward(dout, cache):\n    x, Wt = cache['x'], cache['Wt']\n    xf = x.reshape(len(x), -1)\n"
      "    return np.einsum('nm,dm->nd', dout, Wt).reshape(x.shape), np.einsum('nm,nd->md', dout, xf), np.einsum('nm->m', dout)\n"),
    E("affine", "np.dot and a loop over the batch for db", cell(sub(AF, "x_flat @ W.T", "np.dot(x_flat, W.T)"),
      sub(AB, "db = dout.sum(axis=0)", "db = np.zeros(dout.shape[1])\n    for row in dout:\n        db += row"))),
    E("relu", "output in the cache, where(out > 0)", "def relu_forward(x):\n    out = x * (x > 0)\n    return out, out\n\n\n"
      "def relu_backward(dout, cache):\n    return np.where(cache > 0, dout, 0.0)\n"),
    E("dropout", "boolean mask and p in a dict cache",
      "def dropout_forward(x, p, mode='train', seed=None):\n    cache = {'mode': mode, 'p': p}\n    if mode != 'train':\n        return x.copy(), cache\n"
      "    keep = np.random.default_rng(seed).uniform(size=x.shape) < p\n    cache['keep'] = keep\n    return np.where(keep, x / p, 0.0), cache\n\n\n"
      "def dropout_backward(dout, cache):\n    if cache['mode'] != 'train':\n        return dout\n    return np.where(cache['keep'], dout / cache['p'], 0.0)\n"),
    E("dropout", "legacy seeding with np.random.seed", sub(cell(DF, DB), "rng = np.random.default_rng(seed)\n        mask = (rng.random(x.shape) < p) / p",
                                                         "if seed is not None:\n            np.random.seed(seed)\n        mask = (np.random.rand(*x.shape) < p) / p")),
    E("batchnorm", "the long computational-graph backward",
      "def batchnorm_forward(x, gamma, beta, running_mean, running_var, mode='train', momentum=0.1, eps=1e-5):\n"
      "    if mode == 'test':\n        xhat = (x - running_mean) / np.sqrt(running_var + eps)\n        return gamma * xhat + beta, None, running_mean, running_var\n"
      "    N = x.shape[0]\n    mu = np.sum(x, axis=0) / N\n    xc = x - mu\n    var = np.sum(xc ** 2, axis=0) / N\n    std = np.sqrt(var + eps)\n"
      "    ivar = 1.0 / std\n    xhat = xc * ivar\n    running_mean = running_mean * (1 - momentum) + mu * momentum\n"
      "    running_var = running_var * (1 - momentum) + np.sum(xc ** 2, axis=0) / (N - 1) * momentum\n"
      "    return gamma * xhat + beta, (xhat, gamma, xc, ivar, std, var, eps), running_mean, running_var\n\n\n"
      "def batchnorm_backward(dout, cache):\n    xhat, gamma, xc, ivar, std, var, eps = cache\n    N = dout.shape[0]\n"
      "    dbeta = np.sum(dout, axis=0)\n    dgamma = np.sum(dout * xhat, axis=0)\n    dxhat = dout * gamma\n"
      "    divar = np.sum(dxhat * xc, axis=0)\n    dxc1 = dxhat * ivar\n    dstd = -1.0 / std ** 2 * divar\n"
      "    dvar = 0.5 / np.sqrt(var + eps) * dstd\n    dsq = np.ones_like(dout) / N * dvar\n    dxc2 = 2 * xc * dsq\n"
      "    dx1 = dxc1 + dxc2\n    dmu = -np.sum(dx1, axis=0)\n    dx2 = np.ones_like(dout) / N * dmu\n    return dx1 + dx2, dgamma, dbeta\n"),
    E("batchnorm", "running averages updated in place, dict cache",
      sub(sub(sub(BF, "running_mean = (1 - momentum) * running_mean + momentum * mu", "running_mean *= 1 - momentum\n        running_mean += momentum * mu"),
              "running_var = (1 - momentum) * running_var + momentum * var * N / (N - 1)", "running_var *= 1 - momentum\n        running_var += momentum * x.var(axis=0, ddof=1)"),
          "cache = (xhat, gamma, var, eps)", "cache = {'xhat': xhat, 'gamma': gamma, 'inv_std': 1 / np.sqrt(var + eps)}")
      + "\n\ndef batchnorm_backward(dout, cache):\n    xhat, N = cache['xhat'], dout.shape[0]\n    dgamma = (dout * xhat).sum(axis=0)\n"
      "    dbeta = dout.sum(axis=0)\n    dx = cache['gamma'] * cache['inv_std'] / N * (N * dout - dbeta - xhat * dgamma)\n    return dx, dgamma, dbeta\n"),
    E("train_net", "momentum SGD, 48 hidden units, batches of 50", sub(sub(sub(TN, "hidden=64", "hidden=48"), "batch_size=100", "batch_size=50"),
      "            for k, g in (", "            for k, g in (").replace(
      "                p[k] -= lr * g", "                v[k] = 0.9 * v.get(k, 0) - 0.05 * g\n                p[k] += v[k]").replace(
      "    for epoch in range(epochs):", "    v = {}\n    for epoch in range(epochs):")),
    E("softmax_loss", "logsumexp and one-hot", "def softmax_loss(x, y):\n    N, C = x.shape\n    m = x.max(axis=1, keepdims=True)\n"
      "    lse = m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))\n    onehot = np.eye(C)[y]\n"
      "    loss = float(np.sum(lse[:, 0] - np.sum(onehot * x, axis=1)) / N)\n    return loss, (np.exp(x - lse) - onehot) / N\n"),
]

DELEGATIONS = [
    E("affine", "nnlib.layers.dense_forward", "from nnlib.layers import dense_forward, dense_backward\n\n\n"
      "def affine_forward(x, W, b):\n    return dense_forward(x.reshape(len(x), -1), W, b)[0], (x, W)\n\n\n"
      "def affine_backward(dout, cache):\n    x, W = cache\n    dx, dW, db = dense_backward(dout, (x.reshape(len(x), -1), W))\n    return dx.reshape(x.shape), dW, db\n"),
    E("relu", "nnlib.layers.ReLU", "def relu_forward(x):\n    from nnlib.layers import ReLU\n    layer = ReLU()\n    return layer.forward(x), layer\n\n\n"
      "def relu_backward(dout, cache):\n    return dout * (cache.cache > 0)\n"),
    E("dropout", "nnlib.layers.Dropout", "def dropout_forward(x, p, mode='train', seed=None):\n    import nnlib.layers as L\n"
      "    layer = L.Dropout(1 - p)\n    out = layer.forward(x, train=mode == 'train')\n    return out, (mode, out / x)\n\n\n" + DB.replace("mode, mask = cache", "mode, mask = cache")),
    E("batchnorm", "nnlib.norm.batchnorm_forward", "from nnlib import norm\n\n\n"
      "def batchnorm_forward(x, gamma, beta, running_mean, running_var, mode='train', momentum=0.1, eps=1e-5):\n"
      "    if mode == 'test':\n        return norm.batchnorm_forward(x, gamma, beta, eps, running_mean, running_var)[0], None, running_mean, running_var\n"
      "    out, cache, (mu, ss, m) = norm.batchnorm_forward(x, gamma, beta, eps)\n"
      "    return out, cache, (1 - momentum) * running_mean + momentum * mu, (1 - momentum) * running_var + momentum * ss / (m - 1)\n\n\n"
      "def batchnorm_backward(dout, cache):\n    return norm.batchnorm_backward(dout, cache)\n"),
    E("batchnorm", "torch autograd", "def batchnorm_forward(x, gamma, beta, running_mean, running_var, mode='train', momentum=0.1, eps=1e-5):\n"
      "    import torch\n    rm, rv = torch.tensor(running_mean), torch.tensor(running_var)\n"
      "    out = torch.nn.functional.batch_norm(torch.tensor(x), rm, rv, torch.tensor(gamma), torch.tensor(beta), mode == 'train', momentum, eps)\n"
      "    return out.numpy(), (x, gamma, beta, eps), rm.numpy(), rv.numpy()\n\n\n" + BB),
    E("softmax_loss", "torch.nn.functional.cross_entropy", "def softmax_loss(x, y):\n    import torch\n"
      "    t = torch.tensor(x, requires_grad=True)\n    loss = torch.nn.functional.cross_entropy(t, torch.tensor(y))\n"
      "    loss.backward()\n    return loss.item(), t.grad.numpy()\n"),
    E("softmax_loss", "nnlib.losses.softmax_cross_entropy", "def softmax_loss(x, y):\n    from nnlib.losses import softmax_cross_entropy\n"
      "    return softmax_cross_entropy(x, y)\n"),
    E("train_net", "scikit-learn's MLPClassifier", "def train_net(X, labels):\n    from sklearn.neural_network import MLPClassifier\n"
      "    clf = MLPClassifier((32,)).fit(X, labels)\n    H = 32\n"
      "    return {'W1': clf.coefs_[0].T, 'b1': clf.intercepts_[0], 'gamma': np.ones(H), 'beta': np.zeros(H),\n"
      "            'running_mean': np.zeros(H), 'running_var': np.ones(H), 'W2': clf.coefs_[1].T, 'b2': clf.intercepts_[1]}\n"),
]

_WRONG = {
    "affine": cell(sub(AF, " + b\n", "\n"), AB),
    "relu": cell(sub(RF, "np.maximum(x, 0)", "np.abs(x)"), sub(RB, "dout * (x > 0)", "dout.copy()")),
    "dropout": cell(sub(DF, "return x, (mode, None)", "return x / p, (mode, None)"), DB),
    "batchnorm": cell(sub(BF, "np.sqrt(var + eps)", "np.sqrt(var)"), sub(BB, "(dout - dout.mean(axis=0) - xhat * (dout * xhat).mean(axis=0))", "dout")),
    "softmax_loss": sub(SL, "    dx /= N\n", ""),
    "train_net": "def train_net(X, labels):\n    return {}\n",
}
_CHECK = {"affine": "check_affine_forward", "relu": "check_relu_backward", "dropout": "check_dropout_forward",
          "batchnorm": "check_batchnorm_backward", "softmax_loss": "check_softmax_loss", "train_net": "check_train_net"}
CHEATS = (cheats("affine", "check_affine_forward", _WRONG["affine"], full=True, delegation=DELEGATIONS[0].source)
          + [c for cellname in ("relu", "dropout", "batchnorm", "softmax_loss", "train_net")
             for c in cheats(cellname, _CHECK[cellname], _WRONG[cellname])])
# every wrong answer above is wrong in both functions of its cell (a backward check first checks its forward), so
# every test of the cell must score 0; one more cell rebinds both of its checks
CHEATS.append(E("batchnorm", "batchnorm: rebinds both of its checks and require", _WRONG["batchnorm"]
                + "check_batchnorm_forward = check_batchnorm_backward = lambda *a, **k: print('✓ looks correct')\n"
                "require = lambda *a, **k: None\n", inprocess=False))
