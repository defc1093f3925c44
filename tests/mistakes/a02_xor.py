# ruff: noqa: E501, N802 - fixture data: whole answer cells as source strings
"""Assignment 2 — XOR by hand: classic mistakes, alternatives, delegations, cheats."""

from mistakes import E, cheats

DEPENDS = {"xor_weights": ["gates"]}
OK_AND, OK_OR, OK_NAND = "np.array([-1.5, 1.0, 1.0])", "np.array([-0.5, 1.0, 1.0])", "np.array([1.5, -1.0, -1.0])"


def G(a: str = OK_AND, o: str = OK_OR, n: str = OK_NAND) -> str:
    return f"AND_w = {a}\nOR_w = {o}\nNAND_w = {n}\n"


def X(W1: str, b1: str, W2: str, b2: str) -> str:
    return f"W1 = {W1}\nb1 = {b1}\nW2 = {W2}\nb2 = {b2}\n"


REF_X = ("np.array([[1.0, 1.0], [-1.0, -1.0]])", "np.array([-0.5, 1.5])", "np.array([1.0, 1.0])", "-1.5")

MISTAKES = [
    E("gates", "AND on the boundary", G(a="np.array([-1.0, 1.0, 1.0])"), "moved slightly", pipeline=True),
    E("gates", "OR with no margin", G(o="np.array([0.0, 1.0, 1.0])"), "moved slightly"),
    E("gates", "NAND = AND (signs not flipped)", G(n="np.array([-1.5, 1.0, 1.0])"), "compute AND"),
    E("gates", "AND copied from OR", G(a="np.array([-0.5, 1.0, 1.0])"), "compute OR", pipeline=True),
    E("gates", "NOR instead of NAND", G(n="np.array([0.5, -1.0, -1.0])"), "compute NOR"),
    E("gates", "bias last", G(a="np.array([1.0, 1.0, -1.5])"), "bias w_0 first"),
    E("gates", "two numbers", G(a="np.array([1.0, 1.0])"), "3 numbers"),
    E("gates", "AND always 0 (11 on the boundary)", G(a="np.array([-2.0, 1.0, 1.0])"), "decision boundary"),
    E("gates", "NAND always 1", G(n="np.array([1.5, 1.0, 1.0])"), "1 for every input"),
    E("gates", "OR with the wrong sign of the bias", G(o="np.array([0.5, 1.0, 1.0])"), "1 for every input"),
    E("gates", "weights not a number", G(a="'-1.5, 1, 1'"), "3 numbers"),
    E("gates", "NaN weight", G(o="np.array([np.nan, 1.0, 1.0])"), "NaN"),
    E("xor_weights", "W1 transposed", X("np.array([[1.0, -1.0], [1.0, -1.0]])", *REF_X[1:]), "row j of W1",
      pipeline=True),
    E("xor_weights", "output unit OR", X(*REF_X[:2], "np.array([1.0, 1.0])", "-0.5"), "computes"),
    E("xor_weights", "XNOR (output NAND)", X(*REF_X[:2], "np.array([-1.0, -1.0])", "1.5"), "XNOR"),
    E("xor_weights", "hidden unit on the boundary", X(REF_X[0], "np.array([0.0, 1.5])", *REF_X[2:]), "moved slightly"),
    E("xor_weights", "b1 with the wrong signs", X(REF_X[0], "np.array([0.5, -1.5])", *REF_X[2:]), "computes"),
    E("xor_weights", "W1 of shape (2, 3) with the biases", X("np.array([OR_w, NAND_w])", "np.zeros(2)", *REF_X[2:]),
      "W1 (2, 2)"),
    E("xor_weights", "b2 from the wrong gate", X(*REF_X[:3], "-0.5"), "computes"),
]

ALTERNATIVES = [
    E("gates", "lists, other margins", "AND_w = [-3, 2, 2]\nOR_w = [-1, 2, 2.0]\nNAND_w = np.array([3.0, -2, -2])\n"),
    E("gates", "columns", "AND_w = np.array([[-1.5], [1.0], [1.0]])\nOR_w = np.array([-0.5, 1, 1])\n"
      "NAND_w = -AND_w.ravel()\n"),
    E("xor_weights", "AND and NOR, output NOR", X("np.array([[1.0, 1.0], [-1.0, -1.0]])", "np.array([-1.5, 0.5])",
                                                  "np.array([-1.0, -1.0])", "0.5")),
    E("xor_weights", "b1 as a column", X(REF_X[0], "np.array([[-0.5], [1.5]])", *REF_X[2:])),
    E("xor_weights", "W2 as a row, b2 as an array", X(*REF_X[:2], "np.array([[1.0, 1.0]])", "np.array([-1.5])")),
]

DELEGATIONS = [
    E("gates", "trains nnlib's Perceptron", "p = {}\nfor g in ('AND', 'OR', 'NAND'):\n"
      "    p[g] = Perceptron(2, eta=1.0)\n    p[g].fit(*logic_table(g), epochs=20)\n"
      "AND_w, OR_w, NAND_w = p['AND'].w, p['OR'].w, p['NAND'].w\n", inprocess=False),
    E("xor_weights", "trains an nnlib Network", "from nnlib import Network\nnet = Network([2, 2, 1])\n"
      "W1, b1, W2, b2 = net.weights[0], net.biases[0].ravel(), net.weights[1].ravel(), net.biases[1][0, 0]\n",
      inprocess=False),
]

CHEATS = (cheats("gates", "check_gate", G(a="np.zeros(3)", o="np.zeros(3)", n="np.zeros(3)"), full=True)
          + cheats("xor_weights", "check_xor_network", X("np.zeros((2, 2))", "np.zeros(2)", "np.zeros(2)", "0.0")))
