# ruff: noqa: E501, N802 - fixture data: whole answer cells as source strings
"""Assignment 1 — the perceptron: classic mistakes, alternatives, delegations, cheats."""

from mistakes import E, cheats

DEPENDS = {"train_perceptron": ["perceptron_update"]}


def P(body: str) -> str:
    return "def predict(w, X):\n" + body


def U(body: str) -> str:
    return "def perceptron_update(w, x, d, eta):\n" + body


def T(body: str) -> str:
    return "def train_perceptron(X, d, eta, epochs):\n" + body


XA = "    xa = np.concatenate([[1.0], x])\n"
Y = "    y = 1.0 if xa @ w > 0 else 0.0\n"
LOOP = "    w = np.zeros(X.shape[1] + 1)\n"

MISTAKES = [
    # ---- predict
    E("predict", "step at z >= 0", P("    return (w[0] + X @ w[1:] >= 0).astype(float)\n"), "only if z > 0",
      pipeline=True),
    E("predict", "bias ignored", P("    return (X @ w[1:] > 0).astype(float)\n"), "ignores the bias"),
    E("predict", "bias taken from the last entry", P("    return (w[-1] + X @ w[:-1] > 0).astype(float)\n"),
      "last entry of w"),
    E("predict", "returns z", P("    return w[0] + X @ w[1:]\n"), "returns z"),
    E("predict", "outputs inverted", P("    return (w[0] + X @ w[1:] <= 0).astype(float)\n"), "inverted"),
    E("predict", "np.sign instead of the step", P("    return np.sign(w[0] + X @ w[1:])\n"), "other than 0 and 1"),
    E("predict", "sigmoid instead of the step", P("    return 1 / (1 + np.exp(-(w[0] + X @ w[1:])))\n"), "sigmoid"),
    E("predict", "X @ w without the bias column", P("    return (X @ w > 0).astype(float)\n"), "w[0] + X @ w[1:]",
      pipeline=True),
    E("predict", "w[1:] @ X (wrong order)", P("    return (w[0] + w[1:] @ X > 0).astype(float)\n"),
      "one example per row"),
    E("predict", "bias subtracted", P("    return (X @ w[1:] - w[0] > 0).astype(float)\n"), "subtracts the bias"),
    E("predict", "int() of an array", P("    return int(w[0] + X @ w[1:] > 0)\n"), "one True/False"),
    E("predict", "shape (n, 1)", P("    return (w[0] + X @ w[1:] > 0).astype(float).reshape(-1, 1)\n"), "shape (n,)"),
    E("predict", "np.maximum (ReLU) instead of the step", P("    return np.maximum(w[0] + X @ w[1:], 0)\n"),
      "other than 0 and 1"),
    E("predict", "changes X in place", P("    X += 0.5\n    return (w[0] + X @ w[1:] > 0).astype(float)\n"), "changed its input X"),
    E("predict", "bias added to every weight", P("    return ((X + w[0]) @ w[1:] > 0).astype(float)\n"), "bias"),
    E("predict", "returns None", P("    z = w[0] + X @ w[1:]\n    y = (z > 0).astype(float)\n"), "returned None"),
    # ---- perceptron_update
    E("perceptron_update", "changes w in place (+=)", U(XA + Y + "    w += eta * (d - y) * xa\n    return w\n"),
      "changed the w it was given", pipeline=True),
    E("perceptron_update", "changes w in place (slice)", U(XA + Y + "    w[:] = w + eta * (d - y) * xa\n    return w\n"),
      "changed the w it was given"),
    E("perceptron_update", "opposite sign", U(XA + Y + "    return w - eta * (d - y) * xa\n"), "opposite sign",
      pipeline=True),
    E("perceptron_update", "(y - d)", U(XA + Y + "    return w + eta * (y - d) * xa\n"), "opposite sign"),
    E("perceptron_update", "bias never updated", U(Y.replace("xa @ w", "w[0] + x @ w[1:]")
                                                   + "    return np.concatenate([[w[0]], w[1:] + eta * (d - y) * x])\n"),
      "leaves the bias w_0 unchanged"),
    E("perceptron_update", "learning rate forgotten", U(XA + Y + "    return w + (d - y) * xa\n"),
      "forgets the learning rate"),
    E("perceptron_update", "z instead of y", U(XA + "    return w + eta * (d - xa @ w) * xa\n"),
      "instead of the step output"),
    E("perceptron_update", "y computed without the bias", U(XA + "    y = 1.0 if x @ w[1:] > 0 else 0.0\n"
                                                            "    return w + eta * (d - y) * xa\n"),
      "without the bias"),
    E("perceptron_update", "y with z >= 0", U(XA + "    y = 1.0 if xa @ w >= 0 else 0.0\n"
                                             "    return w + eta * (d - y) * xa\n"), "computes y with z ≥ 0"),
    E("perceptron_update", "returns the change only", U(XA + Y + "    return eta * (d - y) * xa\n"),
      "returns the change"),
    E("perceptron_update", "d instead of (d - y)", U(XA + "    return w + eta * d * xa\n"), "(d − y)"),
    E("perceptron_update", "x not augmented", U("    y = 1.0 if w[0] + x @ w[1:] > 0 else 0.0\n"
                                               "    return w + eta * (d - y) * x\n"), "x_0 = 1"),
    E("perceptron_update", "constant input last", U("    xa = np.append(x, 1.0)\n" + Y.replace("xa @ w", "xa @ np.roll(w, -1)")
                                                    + "    return w + eta * (d - y) * xa\n"), "x_0 = 1"),
    E("perceptron_update", "forgot return", U(XA + Y + "    w_new = w + eta * (d - y) * xa\n"), "returned None"),
    E("perceptron_update", "always updates with eta * x", U(XA + "    return w + eta * xa\n"), "d = y"),
    # ---- train_perceptron
    E("train_perceptron", "one epoch more", T(LOOP + "    for _ in range(epochs + 1):\n        for x, t in zip(X, d):\n"
                                              "            w = perceptron_update(w, x, t, eta)\n    return w\n"),
      "passes over the data", pipeline=True),
    E("train_perceptron", "one epoch fewer", T(LOOP + "    for _ in range(epochs - 1):\n        for x, t in zip(X, d):\n"
                                               "            w = perceptron_update(w, x, t, eta)\n    return w\n"),
      "passes over the data"),
    E("train_perceptron", "range(1, epochs)", T(LOOP + "    for _ in range(1, epochs):\n        for x, t in zip(X, d):\n"
                                                "            w = perceptron_update(w, x, t, eta)\n    return w\n"),
      "passes over the data"),
    E("train_perceptron", "starts from ones", T("    w = np.ones(X.shape[1] + 1)\n    for _ in range(epochs):\n"
                                                "        for x, t in zip(X, d):\n"
                                                "            w = perceptron_update(w, x, t, eta)\n    return w\n"),
      "w = 0"),
    E("train_perceptron", "result not assigned", T(LOOP + "    for _ in range(epochs):\n        for x, t in zip(X, d):\n"
                                                   "            perceptron_update(w, x, t, eta)\n    return w\n"),
      "w = perceptron_update", pipeline=True),
    E("train_perceptron", "returns inside the epoch loop", T(LOOP + "    for _ in range(epochs):\n"
                                                             "        for x, t in zip(X, d):\n"
                                                             "            w = perceptron_update(w, x, t, eta)\n"
                                                             "        return w\n"), "after the first pass"),
    E("train_perceptron", "loops nested the wrong way", T(LOOP + "    for x, t in zip(X, d):\n"
                                                          "        for _ in range(epochs):\n"
                                                          "            w = perceptron_update(w, x, t, eta)\n"
                                                          "    return w\n"), "before moving on"),
    E("train_perceptron", "batch update with w fixed", T(LOOP + "    for _ in range(epochs):\n"
                                                         "        w = w + sum(perceptron_update(w, x, t, eta) - w "
                                                         "for x, t in zip(X, d))\n    return w\n"), "after each example"),
    E("train_perceptron", "ignores eta", T(LOOP + "    for _ in range(epochs):\n        for x, t in zip(X, d):\n"
                                           "            w = perceptron_update(w, x, t, 1.0)\n    return w\n"),
      "learning rate"),
    E("train_perceptron", "examples in reverse order", T(LOOP + "    for _ in range(epochs):\n"
                                                         "        for x, t in zip(X[::-1], d[::-1]):\n"
                                                         "            w = perceptron_update(w, x, t, eta)\n    return w\n"),
      "in order"),
    E("train_perceptron", "stops after the first pass without a change of the first example",
      T(LOOP + "    for _ in range(epochs):\n        for x, t in zip(X, d):\n            new = perceptron_update(w, x, t, eta)\n"
        "            if np.array_equal(new, w):\n                return w\n            w = new\n    return w\n"),
      "stops early"),
    E("train_perceptron", "forgot return", T(LOOP + "    for _ in range(epochs):\n        for x, t in zip(X, d):\n"
                                             "            w = perceptron_update(w, x, t, eta)\n"), "returned None"),
    E("train_perceptron", "w without the bias entry", T("    w = np.zeros(X.shape[1])\n    for _ in range(epochs):\n"
                                                        "        for x, t in zip(X, d):\n"
                                                        "            xa = np.concatenate([[1.0], x])[1:]\n"
                                                        "            y = float(x @ w > 0)\n"
                                                        "            w = w + eta * (t - y) * x\n    return w\n"),
      "bias"),
    # rules the prompt states ("an array of shape (n,)", "no Python loop"), checked (issue 18 item 2)
    E("predict", "explicit loop (rule: no Python loop)", P("    out = []\n    for x in X:\n"
                                                           "        z = w[0] + np.dot(w[1:], x)\n"
                                                           "        out.append(1.0 if z > 0 else 0.0)\n"
                                                           "    return np.array(out)\n"), "uses a for loop",
      pipeline=True),
    E("predict", "list comprehension (rule: no Python loop)",
      P("    return np.array([float(w[0] + x @ w[1:] > 0) for x in X])\n"), "uses a list comprehension"),
    E("predict", "returns a list (rule: an array)", P("    return list(np.heaviside(w[0] + X.dot(w[1:]), 0.0))\n"),
      "returns a Python list"),
]

ALTERNATIVES = [
    E("predict", "augmented X", P("    Xa = np.c_[np.ones(len(X)), X]\n    return np.where(Xa @ w > 0, 1, 0)\n")),
    E("predict", "booleans", P("    return w[0] + X @ w[1:] > 0\n")),
    E("perceptron_update", "copy, then +=", U("    w = w.copy()\n    y = float(w[0] + x @ w[1:] > 0)\n"
                                              "    w[0] += eta * (d - y)\n    w[1:] += eta * (d - y) * x\n    return w\n")),
    E("perceptron_update", "insert and early return", U("    xa = np.insert(x, 0, 1)\n"
                                                        "    if (xa @ w > 0) == d:\n        return w.copy()\n"
                                                        "    return w + eta * (d - float(xa @ w > 0)) * xa\n")),
    E("train_perceptron", "stops after a pass without mistakes", T(
        LOOP + "    for _ in range(epochs):\n        changed = False\n        for x, t in zip(X, d):\n"
        "            new = perceptron_update(w, x, t, eta)\n            changed |= not np.array_equal(new, w)\n"
        "            w = new\n        if not changed:\n            break\n    return w\n")),
    E("train_perceptron", "index loop, own rule", T(LOOP + "    for _ in range(epochs):\n        for i in range(len(X)):\n"
                                                    "            y = 1.0 if w[0] + X[i] @ w[1:] > 0 else 0.0\n"
                                                    "            w = w + eta * (d[i] - y) * np.r_[1.0, X[i]]\n"
                                                    "    return w\n")),
]

DELEG_PREDICT = ("from nnlib.perceptron import Perceptron\n\n\n"
                 + P("    return Perceptron(len(w) - 1, w=w).predict(X)\n"))
DELEG_UPDATE = ("import nnlib.perceptron as _p\n\n\n"
                + U("    q = _p.Perceptron(len(x), eta, w=w)\n    q.update(x, d)\n    return q.w\n"))
DELEG_TRAIN = T("    from nnlib.perceptron import Perceptron\n    q = Perceptron(X.shape[1], eta)\n"
                "    for _ in q.steps(X, d, epochs):\n        pass\n    return q.w\n")
DELEGATIONS = [
    E("predict", "nnlib's Perceptron.predict", DELEG_PREDICT),
    E("predict", "nnlib.perceptron.augment through getattr",
      P("    import importlib\n    aug = getattr(importlib.import_module('nnlib.perceptron'), 'augment')\n"
        "    return (aug(X) @ w > 0).astype(float)\n")),
    E("perceptron_update", "nnlib's Perceptron.update", DELEG_UPDATE),
    E("train_perceptron", "nnlib's Perceptron.steps", DELEG_TRAIN),
]

WRONG_PREDICT = P("    return (X @ w[1:] >= 0).astype(float)\n")
CHEATS = (cheats("predict", "check_perceptron_predict", WRONG_PREDICT, full=True, delegation=DELEG_PREDICT)
          + cheats("perceptron_update", "check_perceptron_rule", U("    return w\n"))
          + cheats("train_perceptron", "check_perceptron_train", T("    return np.zeros(X.shape[1] + 1)\n")))

# ---------------------------------------------------------------- by family (issue 18): dtype truncation
MISTAKES += [
    E("perceptron_update", "family dtype: floats written into an integer array",
      U(XA + Y + "    new = np.zeros(len(w), dtype=int)\n    new[:] = w + eta * (d - y) * xa\n    return new\n"),
      "holds integers"),
]
