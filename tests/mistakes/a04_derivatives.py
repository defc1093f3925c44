# ruff: noqa: E501, N802 - fixture data: whole answer cells as source strings
"""Assignment 4 — derivatives of activations: mistakes, alternatives, delegations, cheats."""

from mistakes import E, cheats

DEPENDS: dict = {}


def F(name: str, body: str) -> str:
    arg = "x" if name == "F_prime" else "z"
    return f"def {name}({arg}):\n" + body


SP, TP, RP, PP, CP = "sigmoid_prime", "tanh_prime", "relu_prime", "softplus_prime", "F_prime"

MISTAKES = [
    E(SP, "s (1 + s)", F(SP, "    s = sigmoid(z)\n    return s * (1 + s)\n"), "σ(z)(1 + σ(z))", pipeline=True),
    E(SP, "1 - s", F(SP, "    return 1 - sigmoid(z)\n"), "is 1 − σ(z)"),
    E(SP, "s squared", F(SP, "    return sigmoid(z) ** 2\n"), "σ(z)²"),
    E(SP, "returns sigmoid", F(SP, "    return sigmoid(z)\n"), "function itself"),
    E(SP, "overflowing quotient", F(SP, "    return np.exp(-z) / (1 + np.exp(-z)) ** 2\n"), "overflow", pipeline=True),
    E(SP, "overflowing quotient (e^z)", F(SP, "    return np.exp(z) / (1 + np.exp(z)) ** 2\n"), "overflow"),
    E(SP, "changes z in place", F(SP, "    z[:] = sigmoid(z)\n    return z * (1 - z)\n"), "in place"),
    E(SP, "math.exp", F(SP, "    import math\n    s = 1 / (1 + math.exp(-z))\n    return s * (1 - s)\n"), "np.exp"),
    E(SP, "sigmoid of sigmoid", F(SP, "    s = sigmoid(sigmoid(z))\n    return s * (1 - s)\n"), "σ(σ(z))"),
    E(SP, "returns None", F(SP, "    s = sigmoid(z)\n    d = s * (1 - s)\n"), "returned None"),
    E(TP, "1 - tanh", F(TP, "    return 1 - np.tanh(z)\n"), "square it", pipeline=True),
    E(TP, "1 + tanh^2", F(TP, "    return 1 + np.tanh(z) ** 2\n"), "1 + tanh² z"),
    E(TP, "1 / cosh", F(TP, "    return 1 / np.cosh(z)\n"), "1/cosh z"),
    E(TP, "returns tanh", F(TP, "    return np.tanh(z)\n"), "function itself"),
    E(TP, "sigmoid pattern", F(TP, "    t = np.tanh(z)\n    return t * (1 - t)\n"), "sigmoid"),
    E(TP, "tanh by exponentials", F(TP, "    t = (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))\n"
                                       "    return 1 - t ** 2\n"), "overflow"),
    E(TP, "uses sigmoid'", F(TP, "    s = sigmoid(z)\n    return s * (1 - s)\n"), "σ"),
    E(TP, "2 tanh", F(TP, "    return 1 - 2 * np.tanh(z)\n"), "1 − tanh² z"),
    E(RP, "ReLU'(0) = 1", F(RP, "    return (z >= 0).astype(float)\n"), "ReLU'(0) = 0", pipeline=True),
    E(RP, "z < 0", F(RP, "    return (z < 0).astype(float)\n"), "1 where z < 0"),
    E(RP, "returns ReLU", F(RP, "    return np.maximum(z, 0)\n"), "function itself"),
    E(RP, "np.sign", F(RP, "    return np.sign(z)\n"), "−1"),
    E(RP, "heaviside(z, 1)", F(RP, "    return np.heaviside(z, 1.0)\n"), "ReLU'(0) = 0"),
    E(RP, "heaviside(z, 0.5)", F(RP, "    return np.heaviside(z, 0.5)\n"), "0.5 at z = 0"),
    E(RP, "relu(z) / z", F(RP, "    return relu(z) / z\n"), "division by zero"),
    E(RP, "in place", F(RP, "    z[z <= 0] = 0\n    z[z > 0] = 1\n    return z\n"), "in place"),
    E(RP, "if on an array", F(RP, "    return 1.0 if z > 0 else 0.0\n"), "one number"),
    E(PP, "sigmoid(-z)", F(PP, "    return sigmoid(-z)\n"), "σ(−z)", pipeline=True),
    E(PP, "e^z", F(PP, "    return np.exp(z)\n"), "e^z"),
    E(PP, "returns softplus", F(PP, "    return softplus(z)\n"), "function itself"),
    E(PP, "overflowing quotient", F(PP, "    return np.exp(z) / (1 + np.exp(z))\n"), "overflow"),
    E(PP, "1 / (1 + e^z)", F(PP, "    return 1 / (1 + np.exp(z))\n"), "σ(−z)"),
    E(PP, "one derivative too many", F(PP, "    s = sigmoid(z)\n    return s * (1 - s)\n"), "second derivative"),
    E(CP, "forgets the inner derivative", F(CP, "    return 0.5 / np.sqrt(x ** 2 + 1)\n"), "inner derivative 2x",
      pipeline=True),
    E(CP, "forgets the 1/2", F(CP, "    return 2 * x / np.sqrt(x ** 2 + 1)\n"), "forgets the ½"),
    E(CP, "exponent +1/2", F(CP, "    return x * np.sqrt(x ** 2 + 1)\n"), "exponent +½"),
    E(CP, "returns F", F(CP, "    return np.sqrt(x ** 2 + 1)\n"), "function itself"),
    E(CP, "no square root", F(CP, "    return x / (x ** 2 + 1)\n"), "square root"),
    E(CP, "integer division", F(CP, "    return x // np.sqrt(x ** 2 + 1)\n"), "integer division"),
    E(CP, "sign", F(CP, "    return -x / np.sqrt(x ** 2 + 1)\n"), "sign"),
    # rules the prompt states ("no Python loops", ReLU' "as floats"), checked (issue 18 item 2)
    E(SP, "list comprehension (rule: no Python loop)",
      F(SP, "    return np.array([sigmoid(v) * (1 - sigmoid(v)) for v in z])\n"), "uses a list comprehension"),
    E(TP, "np.vectorize (rule: no Python loop)", F(TP, "    return np.vectorize(lambda v: 1 - np.tanh(v) ** 2)(z)\n"),
      "vectorize"),
    E(RP, "booleans (rule: as floats)", F(RP, "    return z > 0\n"), "dtype bool"),
    E(RP, "integers (rule: as floats)", F(RP, "    return (z > 0).astype(int)\n"), "dtype int"),
]

ALTERNATIVES = [
    E(SP, "s - s^2", F(SP, "    return sigmoid(z) - sigmoid(z) ** 2\n")),
    E(SP, "1 / (e^z + 2 + e^-z)", F(SP, "    with np.errstate(over='ignore'):\n"
                                        "        return 1 / (np.exp(z) + 2 + np.exp(-z))\n")),
    E(TP, "1 / cosh^2", F(TP, "    with np.errstate(over='ignore'):\n        return 1 / np.cosh(z) ** 2\n")),
    E(TP, "tanh given", F(TP, "    return 1 - tanh(z) * tanh(z)\n")),
    E(RP, "np.where", F(RP, "    return np.where(z > 0, 1.0, 0.0)\n")),
    E(RP, "heaviside(z, 0)", F(RP, "    return np.heaviside(z, 0)\n")),
    E(PP, "1 / (1 + e^-z)", F(PP, "    with np.errstate(over='ignore'):\n        return 1 / (1 + np.exp(-z))\n")),
    E(PP, "sigmoid", F(PP, "    return sigmoid(z)\n")),
    E(CP, "chain rule spelled out", F(CP, "    u = x ** 2 + 1\n    return 0.5 * u ** -0.5 * 2 * x\n")),
]

DELEGATIONS = [
    E(SP, "nnlib.activations.sigmoid_prime", "from nnlib.activations import sigmoid_prime\n"),
    E(TP, "module attribute", "import nnlib.activations as A\n\n\n" + F(TP, "    return A.tanh_prime(z)\n")),
    E(RP, "getattr", F(RP, "    import nnlib.activations\n    return getattr(nnlib.activations, 'relu_prime')(z)\n")),
    E(PP, "torch autograd", F(PP, "    import torch\n    t = torch.tensor(np.asarray(z, dtype=float), requires_grad=True)\n"
                                  "    torch.nn.functional.softplus(t).sum().backward()\n    return t.grad.numpy()\n")),
    E(CP, "nnlib.gradcheck", F(CP, "    from nnlib import gradcheck\n"
                                   "    return np.vectorize(lambda v: gradcheck.numerical_gradient(\n"
                                   "        lambda q: np.sqrt(q[0] ** 2 + 1), np.array([v]))[0])(x)\n")),
]

CHEATS = (cheats(SP, "check_derivative", F(SP, "    return z * 0\n"), full=True,
                 delegation="from nnlib.activations import sigmoid_prime\n")
          + cheats(TP, "check_derivative", F(TP, "    return z * 0\n"))
          + cheats(RP, "check_derivative", F(RP, "    return z * 0\n"))
          + cheats(PP, "check_derivative", F(PP, "    return z * 0\n"))
          + cheats(CP, "check_derivative", F(CP, "    return x * 0\n")))

# ---------------------------------------------------------------- by family (issue 18)
MISTAKES += [
    E(TP, "family scale: a stray factor 2", F(TP, "    return 2 * (1 - np.tanh(z) ** 2)\n"), "a stray factor 2"),
    E(SP, "family dtype: floats written into an integer array",
      F(SP, "    out = np.zeros(np.shape(z), dtype=int)\n    s = sigmoid(z)\n    out[...] = s * (1 - s)\n"
            "    return out\n"), "holds integers"),
    E(PP, "family sign: −σ(z)", F(PP, "    return -sigmoid(z)\n"), "opposite sign"),
]
ALTERNATIVES += [
    E(SP, "float32 (dtype: the tolerance follows it)", F(SP, "    s = sigmoid(z).astype(np.float32)\n"
                                                             "    return s * (1 - s)\n")),
]
