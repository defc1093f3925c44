# ruff: noqa: E501, N802 - fixture data: whole answer cells as source strings
"""Assignment 5 — backprop (checks owned by the a05 helper): mistakes, alternatives, delegations, cheats.

Every wrong answer is the reference with one replacement, so each names exactly one classic bug.
"""

from mistakes import E, cheats, parts

DEPENDS: dict = {}


def _ref(cell: str) -> str:
    return parts("a05_backprop").answers[cell]


def V(cell: str, label: str, old: str, new: str, expect: str, **kw):
    src = _ref(cell)
    assert old in src, (cell, old)
    return E(cell, label, src.replace(old, new), expect, **kw)


BP2 = "(net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])"
MISTAKES = []
for c in ("backprop_single", "backprop"):
    MISTAKES += [
        V(c, "BP1 without σ'", "(activations[-1] - y) * sigmoid_prime(zs[-1])", "(activations[-1] - y)", "BP1",
          pipeline=True),
        V(c, "BP2 without σ'", BP2, "(net.weights[-l + 1].T @ delta)", "BP2"),
        V(c, "BP2 with w^l", BP2, "(net.weights[-l].T @ delta) * sigmoid_prime(zs[-l])", "same layer"),
        V(c, "BP2 without the transpose", BP2, "(net.weights[-l + 1] @ delta) * sigmoid_prime(zs[-l])", "transpose"),
        V(c, "σ' one layer up", BP2, "(net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l + 1])", "one layer"),
        V(c, "matrix product instead of ⊙", BP2, "(net.weights[-l + 1].T @ delta) @ sigmoid_prime(zs[-l])",
          "elementwise", pipeline=c == "backprop"),
        V(c, "a^l instead of a^(l-1)", "delta @ activations[-l - 1].T", "delta @ activations[-l].T", "own activation"),
        V(c, "σ' at a", BP2, "(net.weights[-l + 1].T @ delta) * sigmoid_prime(activations[-l])", "activation a^l"),
        V(c, "sign", "(activations[-1] - y)", "(y - activations[-1])", "opposite sign"),
        V(c, "transposed nabla_w", "nabla_w[-1] = delta @ activations[-2].T", "nabla_w[-1] = (delta @ activations[-2].T).T",
          "transposed"),
    ]
MISTAKES += [
    V("backprop", "bias over the wrong axis", "nabla_b[-l] = delta.sum(axis=1, keepdims=True)",
      "nabla_b[-l] = delta.sum(axis=0, keepdims=True)", "wrong axis"),
    V("backprop", "mean over the batch", "nabla_w[-l] = delta @ activations[-l - 1].T",
      "nabla_w[-l] = delta @ activations[-l - 1].T / x.shape[1]", "too small"),
]

ALTERNATIVES = [
    E("backprop", "loop over the columns with backprop_single",
      "def backprop(net, x, y):\n    nb = [np.zeros(b.shape) for b in net.biases]\n"
      "    nw = [np.zeros(w.shape) for w in net.weights]\n    for i in range(x.shape[1]):\n"
      "        db, dw = backprop_single(net, x[:, i:i + 1], y[:, i:i + 1])\n"
      "        nb = [a + b for a, b in zip(nb, db)]\n        nw = [a + b for a, b in zip(nw, dw)]\n    return nb, nw\n"),
]

MISTAKES += [  # the derivation parts: their full catalogue is in tests/test_a05_capstone.py
    E("softmax_delta", "target missing", "def softmax_delta(z, y):\n    return softmax(z, axis=0)\n",
      "target y is missing"),
    E("softmax_delta", "opposite sign", "def softmax_delta(z, y):\n    return y - softmax(z, axis=0)\n",
      "opposite sign"),
    E("backprop_relu_softmax", "returns None", "def backprop_relu_softmax(net, x, y):\n    return None\n",
      "returned None"),
]

DELEGATIONS = [
    E("backprop", "net.backprop", "def backprop(net, x, y):\n    return net.backprop(x, y)\n"),
    E("backprop_single", "nnlib Network.backprop", "def backprop_single(net, x, y):\n"
      "    return Network.backprop(net, x, y)\n"),
    E("backprop", "torch autograd", "def backprop(net, x, y):\n    import torch\n"
      "    ws = [torch.tensor(w, requires_grad=True) for w in net.weights]\n"
      "    bs = [torch.tensor(b, requires_grad=True) for b in net.biases]\n    a = torch.tensor(x)\n"
      "    for w, b in zip(ws, bs):\n        a = torch.sigmoid(w @ a + b)\n"
      "    (0.5 * ((a - torch.tensor(y)) ** 2).sum()).backward()\n"
      "    return [b.grad.numpy() for b in bs], [w.grad.numpy() for w in ws]\n"),
    E("softmax_delta", "nnlib losses", "def softmax_delta(z, y):\n"
      "    from nnlib.losses import softmax_cross_entropy\n    return softmax_cross_entropy(z.T, y.T)[1].T\n"),
    E("backprop_relu_softmax", "nnlib Model", "def backprop_relu_softmax(net, x, y):\n"
      "    from nnlib import Model\n    return Model([]).backward(x, y)\n"),
]

CHEATS = (cheats("backprop", "check_backprop", "def backprop(net, x, y):\n    return None\n", full=True,
                 delegation="from nnlib import Network\n\n\ndef backprop(net, x, y):\n"
                            "    return Network.backprop(net, x, y)\n")
          + cheats("backprop_single", "check_backprop", "def backprop_single(net, x, y):\n    return None\n")
          + cheats("softmax_delta", "check_softmax_delta", "def softmax_delta(z, y):\n    return None\n")
          + cheats("backprop_relu_softmax", "check_backprop_relu_softmax",
                   "def backprop_relu_softmax(net, x, y):\n    return None\n"))

# ---------------------------------------------------------------- by family (issue 18)
MISTAKES += [
    V("softmax_delta", "family scale: divided by n_out (cross-entropy averaged over the classes)",
      "return softmax(z, axis=0) - y", "return (softmax(z, axis=0) - y) / z.shape[0]", "n_out = ", pipeline=True),
    V("softmax_delta", "family scale: divided by m (mean over the batch)",
      "return softmax(z, axis=0) - y", "return (softmax(z, axis=0) - y) / z.shape[1]", "number of examples m"),
    V("backprop_relu_softmax", "family scale: δᴸ divided by n_out",
      "delta = activations[-1] - y  #", "delta = (activations[-1] - y) / y.shape[0]  #", "n_out = "),
    V("backprop_relu_softmax", "family activation: softmax in the hidden layers",
      "activation = softmax(z, axis=0) if i == len(net.weights) - 1 else np.maximum(z, 0)",
      "activation = softmax(z, axis=0)", "softmax in a hidden layer"),
    V("backprop_relu_softmax", "family activation: ReLU at the output",
      "activation = softmax(z, axis=0) if i == len(net.weights) - 1 else np.maximum(z, 0)",
      "activation = np.maximum(z, 0)", "ReLU for the output"),
    V("backprop", "family shape: nabla_b of shape (n,)", "        nabla_b[-l] = delta.sum(axis=1, keepdims=True)",
      "        nabla_b[-l] = delta.sum(axis=1)", "has the right values but shape"),
]
ALTERNATIVES += [
    V("backprop_single", "np.dot instead of @", "nabla_w[-l] = delta @ activations[-l - 1].T",
      "nabla_w[-l] = np.dot(delta, activations[-l - 1].T)", ""),
    V("backprop_relu_softmax", "ReLU' with np.where", "* (zs[-l] > 0)", "* np.where(zs[-l] > 0, 1.0, 0.0)", ""),
    V("softmax_delta", "float32", "return softmax(z, axis=0) - y",
      "return (softmax(z, axis=0) - y).astype(np.float32)", ""),
]

# ---------------------------------------------------------------- by family: shapes and σ/σ' (issue 18, shapes.py)
_B3 = "        nabla_b[-l] = delta.sum(axis=1, keepdims=True)"
_B4 = "        nabla_w[-l] = delta @ activations[-l - 1].T"
MISTAKES += [
    V("backprop", "family activation: σ for σ' in BP1", "(activations[-1] - y) * sigmoid_prime(zs[-1])",
      "(activations[-1] - y) * sigmoid(zs[-1])", "instead of σ'(z^L) in BP1", pipeline=True),
    V("backprop", "family activation: z^L and a^L swapped in BP1", "(activations[-1] - y) * sigmoid_prime(zs[-1])",
      "(zs[-1] - y) * sigmoid_prime(activations[-1])", "swapped in BP1"),
    V("backprop", "family shape: bias not summed over the batch", _B3, "        nabla_b[-l] = delta",
      "not summed over the batch", pipeline=True),
    V("backprop", "family shape: one weight gradient per example", _B4,
      "        nabla_w[-l] = delta.T[:, :, None] * activations[-l - 1].T[:, None, :]", "one gradient per example"),
    V("backprop", "family shape: δ without its product with a^(l−1)", _B4, "        nabla_w[-l] = delta",
      "one entry per example"),
    V("backprop", "family shape: BP4 untransposed (fits only when m = n)", _B4,
      "        nabla_w[-l] = delta @ activations[-l - 1]", "runs only when the batch size m equals", pipeline=True),
]
