# ruff: noqa: E501, N802 - fixture data: whole answer cells as source strings
"""Assignment 6 — SGD, momentum, Adam, softmax cross-entropy: mistakes, alternatives, delegations, cheats."""

from mistakes import E, cheats

DEPENDS: dict = {}


def U(body: str) -> str:
    return "def update_mini_batch(net, mini_batch, eta):\n" + body


def S(body: str) -> str:
    return "def sgd_epoch(net, training_data, mini_batch_size, eta):\n" + body


def M(body: str) -> str:
    return "def momentum_step(w, v, grad, eta, mu):\n" + body


def A(body: str) -> str:
    return "def adam_step(w, grad, m, v, t, eta=0.001, beta1=0.9, beta2=0.999, eps=1e-8):\n" + body


def X(body: str) -> str:
    return "def softmax_cross_entropy(z, y):\n" + body


ACC = ("    nb = [np.zeros(b.shape) for b in net.biases]\n    nw = [np.zeros(w.shape) for w in net.weights]\n"
       "    for x, y in mini_batch:\n        db, dw = net.backprop(x, y)\n"
       "        nb = [a + b for a, b in zip(nb, db)]\n        nw = [a + b for a, b in zip(nw, dw)]\n"
       "    m = len(mini_batch)\n")
STEP = ("    net.weights = [w - (eta / m) * g for w, g in zip(net.weights, nw)]\n"
        "    net.biases = [b - (eta / m) * g for b, g in zip(net.biases, nb)]\n")
AD = ("    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad ** 2\n"
      "    mh = m / (1 - beta1 ** t)\n    vh = v / (1 - beta2 ** t)\n")
SM = "    n = z.shape[0]\n    s = z - z.max(axis=1, keepdims=True)\n    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)\n"
LOSS = "    loss = -np.log(p[np.arange(n), y]).mean()\n"
DZ = "    dz = p.copy()\n    dz[np.arange(n), y] -= 1\n"

MISTAKES = [
    E("update_mini_batch", "sum instead of mean", U(ACC + STEP.replace("(eta / m)", "eta")), "sum of the gradients",
      pipeline=True),
    E("update_mini_batch", "divided by m twice", U(ACC + STEP.replace("(eta / m)", "(eta / m / m)")), "divided by m twice"),
    E("update_mini_batch", "weights updated inside the loop", U(
        "    m = len(mini_batch)\n    for x, y in mini_batch:\n        db, dw = net.backprop(x, y)\n"
        "        net.weights = [w - (eta / m) * g for w, g in zip(net.weights, dw)]\n"
        "        net.biases = [b - (eta / m) * g for b, g in zip(net.biases, db)]\n"), "inside the loop", pipeline=True),
    E("update_mini_batch", "last example only (= instead of +=)", U(
        "    m = len(mini_batch)\n    for x, y in mini_batch:\n        nb, nw = net.backprop(x, y)\n" + STEP),
      "last example alone"),
    E("update_mini_batch", "returns a copy", U("    import copy\n    net = copy.deepcopy(net)\n" + ACC + STEP + "    return net\n"),
      "in place", pipeline=True),
    E("update_mini_batch", "returns new lists", U(ACC + "    return ([w - (eta / m) * g for w, g in zip(net.weights, nw)],\n"
                                                  "            [b - (eta / m) * g for b, g in zip(net.biases, nb)])\n"),
      "in place"),
    E("update_mini_batch", "gradient ascent", U(ACC + STEP.replace(" - (eta", " + (eta")), "opposite sign"),
    E("update_mini_batch", "weights and biases swapped", U(
        "    nb = [np.zeros(b.shape) for b in net.biases]\n    nw = [np.zeros(w.shape) for w in net.weights]\n"
        "    for x, y in mini_batch:\n        dw, db = net.backprop(x, y)\n"
        "        nb = [a + b for a, b in zip(nb, db)]\n        nw = [a + b for a, b in zip(nw, dw)]\n"
        "    m = len(mini_batch)\n" + STEP), "(nabla_b, nabla_w)"),
    E("update_mini_batch", "biases not updated", U(ACC + STEP.split("\n")[0] + "\n"), "biases"),
    E("update_mini_batch", "eta forgotten", U(ACC + STEP.replace("(eta / m)", "(1 / m)")), "η"),
    E("update_mini_batch", "integer division m // eta", U(ACC + STEP.replace("(eta / m)", "(eta // m)")), "integer division"),
    E("update_mini_batch", "first example only", U(
        "    m = len(mini_batch)\n    nb, nw = net.backprop(*mini_batch[0])\n" + STEP), "first example"),
    E("sgd_epoch", "skips the short last batch", S("    n = len(training_data)\n"
                                                  "    for k in range(0, n - mini_batch_size + 1, mini_batch_size):\n"
                                                  "        net.update_mini_batch(training_data[k:k + mini_batch_size], eta)\n"),
      "skips the last", pipeline=True),
    E("sgd_epoch", "whole set at once", S("    net.update_mini_batch(training_data, eta)\n"), "whole training set"),
    E("sgd_epoch", "first batch only", S("    net.update_mini_batch(training_data[:mini_batch_size], eta)\n"),
      "only the first minibatch"),
    E("sgd_epoch", "overlapping batches", S("    for k in range(len(training_data)):\n"
                                           "        net.update_mini_batch(training_data[k:k + mini_batch_size], eta)\n"),
      "overlapping"),
    E("sgd_epoch", "batches of one", S("    for pair in training_data:\n        net.update_mini_batch([pair], eta)\n"),
      "one example"),
    E("sgd_epoch", "eta divided by the batch size", S(
        "    for k in range(0, len(training_data), mini_batch_size):\n"
        "        net.update_mini_batch(training_data[k:k + mini_batch_size], eta / mini_batch_size)\n"), "η"),
    E("sgd_epoch", "shuffles", S("    import random\n    random.shuffle(training_data)\n"
                                 "    for k in range(0, len(training_data), mini_batch_size):\n"
                                 "        net.update_mini_batch(training_data[k:k + mini_batch_size], eta)\n"),
      "shuffle"),
    E("sgd_epoch", "batch count instead of size", S(
        "    n = len(training_data)\n    size = n // mini_batch_size\n    for k in range(0, n, size):\n"
        "        net.update_mini_batch(training_data[k:k + size], eta)\n"), "mini_batch_size examples"),
    E("momentum_step", "ignores the old velocity", M("    v_new = -eta * grad\n    return w + v_new, v_new\n"),
      "ignores the old velocity", pipeline=True),
    E("momentum_step", "adds the gradient", M("    v_new = mu * v + eta * grad\n    return w + v_new, v_new\n"),
      "adds the gradient"),
    E("momentum_step", "(1 - mu) scaling", M("    v_new = mu * v - (1 - mu) * eta * grad\n    return w + v_new, v_new\n"),
      "(1 − μ)"),
    E("momentum_step", "old velocity for w", M("    v_new = mu * v - eta * grad\n    return w + v, v_new\n"), "old velocity"),
    E("momentum_step", "subtracts the velocity", M("    v_new = mu * v - eta * grad\n    return w - v_new, v_new\n"),
      "subtracts the velocity"),
    E("momentum_step", "pair swapped", M("    v_new = mu * v - eta * grad\n    return v_new, w + v_new\n"), "(w_new, v_new)"),
    E("momentum_step", "mu on the gradient", M("    v_new = v - mu * eta * grad\n    return w + v_new, v_new\n"), "μ"),
    E("adam_step", "no bias correction", A(AD + "    return w - eta * m / (np.sqrt(v) + eps), m, v\n"),
      "bias correction", pipeline=True),
    E("adam_step", "v̂ instead of its root", A(AD + "    return w - eta * mh / (vh + eps), m, v\n"), "√v̂"),
    E("adam_step", "wrong sign", A(AD + "    return w + eta * mh / (np.sqrt(vh) + eps), m, v\n"), "wrong sign"),
    E("adam_step", "returns m̂", A(AD + "    return w - eta * mh / (np.sqrt(vh) + eps), mh, v\n"), "bias-corrected m̂"),
    E("adam_step", "returns v̂", A(AD + "    return w - eta * mh / (np.sqrt(vh) + eps), m, vh\n"), "bias-corrected v̂"),
    E("adam_step", "v averages g", A(AD.replace("grad ** 2", "grad") + "    return w - eta * mh / (np.sqrt(np.abs(vh)) + eps), m, v\n"),
      "instead of g²"),
    E("adam_step", "betas swapped", A(AD.replace("beta1", "B1").replace("beta2", "beta1").replace("B1", "beta2")
                                      + "    return w - eta * mh / (np.sqrt(vh) + eps), m, v\n"), "β"),
    E("adam_step", "t - 1 in the correction", A(AD.replace("** t", "** (t + 1)")
                                                + "    return w - eta * mh / (np.sqrt(vh) + eps), m, v\n"), "t"),
    E("softmax_cross_entropy", "summed loss", X(SM + "    loss = -np.log(p[np.arange(n), y]).sum()\n" + DZ
                                               + "    return loss, dz / n\n"), "summed over", pipeline=True),
    E("softmax_cross_entropy", "dz divided twice", X(SM + LOSS + DZ + "    return loss, dz / n / n\n"), "divided by m twice"),
    E("softmax_cross_entropy", "dz not divided", X(SM + LOSS + DZ + "    return loss, dz\n"), "too large"),
    E("softmax_cross_entropy", "no max subtraction", X(
        "    n = z.shape[0]\n    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n" + LOSS + DZ
        + "    return loss, dz / n\n"), "overflow", pipeline=True),
    E("softmax_cross_entropy", "softmax over the wrong axis", X(
        "    n = z.shape[0]\n    s = z - z.max(axis=0, keepdims=True)\n    p = np.exp(s) / np.exp(s).sum(axis=0, keepdims=True)\n"
        + LOSS + DZ + "    return loss, dz / n\n"), "axis"),
    E("softmax_cross_entropy", "forgets the one-hot", X(SM + LOSS + "    return loss, p / n\n"), "subtract the one-hot"),
    E("softmax_cross_entropy", "z minus one-hot", X(SM + LOSS + "    dz = z.copy()\n    dz[np.arange(n), y] -= 1\n"
                                                    "    return loss, dz / n\n"), "not from z"),
    E("softmax_cross_entropy", "loss sign", X(SM + "    loss = np.log(p[np.arange(n), y]).mean()\n" + DZ
                                             + "    return loss, dz / n\n"), "wrong sign"),
    E("softmax_cross_entropy", "one-hot added", X(SM + LOSS + "    dz = p.copy()\n    dz[np.arange(n), y] += 1\n"
                                                  "    return loss, dz / n\n"), "subtract"),
    E("softmax_cross_entropy", "labels as columns p[:, y]", X(SM + "    loss = -np.log(p[:, y]).mean()\n" + DZ
                                                              + "    return loss, dz / n\n"), "p[np.arange(m), y]"),
    E("softmax_cross_entropy", "ln of an underflowing softmax", X(
        "    p = softmax(z)\n    m = z.shape[0]\n    loss = -np.mean(np.log(p[range(m), y]))\n"
        "    p[range(m), y] -= 1\n    return loss, p / m\n"), "underflow"),
    E("softmax_cross_entropy", "changes z in place", X("    n = z.shape[0]\n    z -= z.max(axis=1, keepdims=True)\n"
                                                       "    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n"
                                                       + LOSS + DZ + "    return loss, dz / n\n"), "in place"),
]

ALTERNATIVES = [
    E("update_mini_batch", "stacked columns, in-place -=", U(
        "    x = np.hstack([p[0] for p in mini_batch])\n    y = np.hstack([p[1] for p in mini_batch])\n"
        "    nb, nw = net.backprop(x, y)\n    for l in range(len(net.weights)):\n"
        "        net.weights[l] -= eta / len(mini_batch) * nw[l]\n        net.biases[l] -= eta / len(mini_batch) * nb[l]\n")),
    E("sgd_epoch", "explicit batches list", S("    batches = [training_data[k:k + mini_batch_size]\n"
                                             "               for k in range(0, len(training_data), mini_batch_size)]\n"
                                             "    for b in batches:\n        net.update_mini_batch(b, eta)\n")),
    E("momentum_step", "copy, in-place arithmetic", M("    v = v.copy()\n    v *= mu\n    v -= eta * grad\n"
                                                      "    return w + v, v\n")),
    E("adam_step", "tuple return via list", A(AD + "    return [w - eta * mh / (np.sqrt(vh) + eps), m, v]\n")),
    E("softmax_cross_entropy", "logsumexp form", X(
        "    m = len(y)\n    zmax = z.max(axis=1, keepdims=True)\n"
        "    lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))\n    loss = np.mean(lse - z[np.arange(m), y])\n"
        "    onehot = np.eye(z.shape[1])[y]\n    return float(loss), (np.exp(z - lse[:, None]) - onehot) / m\n")),
    E("momentum_step", "changes v in place", M("    v *= mu\n    v -= eta * grad\n    return w + v, v\n")),
]

DELEGATIONS = [
    E("update_mini_batch", "net.update_mini_batch", U("    net.update_mini_batch(mini_batch, eta)\n")),
    E("update_mini_batch", "nnlib Network method", U("    from nnlib.network import Network\n"
                                                     "    Network.update_mini_batch(net, mini_batch, eta)\n")),
    E("sgd_epoch", "nnlib Network.SGD", S("    from nnlib import Network\n"
                                          "    Network.SGD(net, training_data, 1, mini_batch_size, eta)\n")),
    E("momentum_step", "nnlib.optim.Momentum", M("    from nnlib.optim import Momentum\n    w, v = w.copy(), v.copy()\n"
                                                 "    opt = Momentum(eta, mu)\n    opt.state = [{'v': v}]\n"
                                                 "    opt.step([w], [grad])\n    return w, v\n")),
    E("adam_step", "nnlib.optim.Adam", A("    import nnlib.optim\n    w, m, v = w.copy(), m.copy(), v.copy()\n"
                                         "    opt = nnlib.optim.Adam(eta, beta1, beta2, eps)\n    opt.state = [{'m': m, 'v': v}]\n"
                                         "    opt.t = t - 1\n    opt.step([w], [grad])\n    return w, m, v\n")),
    E("softmax_cross_entropy", "nnlib.losses", "from nnlib.losses import softmax_cross_entropy\n"),
]

CHEATS = (cheats("update_mini_batch", "check_update_mini_batch", U("    pass\n"), full=True,
                 delegation=DELEGATIONS[1].source)
          + cheats("sgd_epoch", "check_sgd_epoch", S("    pass\n"))
          + cheats("momentum_step", "check_momentum", M("    return w, v\n"))
          + cheats("adam_step", "check_adam", A("    return w, m, v\n"))
          + cheats("softmax_cross_entropy", "check_softmax_cross_entropy", X("    return 0.0, z * 0\n")))
CHEATS.append(E("update_mini_batch", "update_mini_batch: steals the reference from the check's frame", U(
    "    import sys\n    f = sys._getframe(1)\n    while f is not None and 'ref' not in f.f_locals:\n        f = f.f_back\n"
    "    ref = f.f_locals['ref']\n    net.weights = [w.copy() for w in ref.weights]\n"
    "    net.biases = [b.copy() for b in ref.biases]\n"), inprocess=False))

# ---------------------------------------------------------------- by family (issue 18)


def _sce(loss: str, dz_divisor: str) -> str:
    """A stable softmax cross-entropy whose loss reduction and dz divisor are given."""
    return X("    m, k = z.shape\n    s = z - z.max(axis=1, keepdims=True)\n"
             f"    lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n    loss = -lp[np.arange(m), y].{loss}\n"
             f"    dz = np.exp(lp)\n    dz[np.arange(m), y] -= 1\n    return loss, dz / {dz_divisor}\n")


MISTAKES += [
    E("momentum_step", "family scale: η applied twice", M("    v_new = mu * v - eta * eta * grad\n"
                                                          "    return w + v_new, v_new\n"), "η (eta)"),
    E("adam_step", "family ε: inside the square root", A(
        "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    return w - eta * (m / (1 - beta1 ** t)) / np.sqrt(v / (1 - beta2 ** t) + eps), m, v\n"),
      "inside the square root", pipeline=True),
    E("adam_step", "family t: counted from 0 (t − 1)", A(
        "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad ** 2\n    s = max(t - 1, 1)\n"
        "    return w - eta * (m / (1 - beta1 ** s)) / (np.sqrt(v / (1 - beta2 ** s)) + eps), m, v\n"), "t − 1"),
    E("adam_step", "family t: incremented before the step (t + 1)", A(
        "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad ** 2\n    t = t + 1\n"
        "    return w - eta * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v\n"), "t + 1"),
    E("adam_step", "family t: never incremented (t = 1)", A(
        "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    return w - eta * (m / (1 - beta1)) / (np.sqrt(v / (1 - beta2)) + eps), m, v\n"), "t = 1 at every step"),
    E("adam_step", "family swap: β₁ and β₂ in the bias correction", A(
        "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    return w - eta * (m / (1 - beta2 ** t)) / (np.sqrt(v / (1 - beta1 ** t)) + eps), m, v\n"),
      "bias corrections swapped"),
    E("softmax_cross_entropy", "one-hot by subtracting whole rows", X(
        "    m = z.shape[0]\n    s = z - z.max(axis=1, keepdims=True)\n"
        "    lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n    dz = np.exp(lp)\n    dz[y] -= 1\n"
        "    return -lp[np.arange(m), y].mean(), dz / m\n"), "whole rows"),
    E("softmax_cross_entropy", "family scale: dz averaged over the classes", _sce("mean()", "k"),
      "averaged over the k"),
    E("softmax_cross_entropy", "family scale: loss averaged over the classes", _sce("sum() / k", "m"),
      "averaged over the k"),
]
ALTERNATIVES += [
    E("momentum_step", "float32 (issue 18: kept full marks)", M("    v_new = (mu * v - eta * grad).astype(np.float32)\n"
                                                                "    return (w + v_new).astype(np.float32), v_new\n")),
    E("adam_step", "float32", A(
        "    m = (beta1 * m + (1 - beta1) * grad).astype(np.float32)\n"
        "    v = (beta2 * v + (1 - beta2) * grad ** 2).astype(np.float32)\n"
        "    step = eta * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)\n"
        "    return (w - step).astype(np.float32), m, v\n")),
]
