# ruff: noqa: E501, N802 - fixture data: whole answer cells as source strings
"""Assignment 3 — numerical derivatives and gradient descent: mistakes, alternatives, delegations, cheats."""

from mistakes import E, cheats

DEPENDS = {"gradient_descent": ["gd_step"]}


def D(body: str) -> str:
    return "def numerical_derivative(f, x, dx):\n" + body


def NG(body: str) -> str:
    return "def numerical_gradient(f, p, h=1e-5):\n" + body


def S(body: str) -> str:
    return "def gd_step(grad, p, eta):\n" + body


def GD(body: str) -> str:
    return "def gradient_descent(grad, p0, eta, steps):\n" + body


LOOPG = ("    p = np.array(p, dtype=float)\n    g = np.zeros_like(p)\n    for i in range(p.size):\n"
         "        e = np.zeros_like(p)\n        e[i] = h\n")
PATH = "    path = [np.asarray(p0, dtype=float)]\n"

MISTAKES = [
    E("numerical_derivative", "central difference", D("    return (f(x + dx) - f(x - dx)) / (2 * dx)\n"),
      "central difference", pipeline=True),
    E("numerical_derivative", "exact derivative", D("    return 2 * x - 6\n"), "exact derivative"),
    E("numerical_derivative", "backward difference", D("    return (f(x) - f(x - dx)) / dx\n"), "backward difference"),
    E("numerical_derivative", "wrong sign", D("    return (f(x) - f(x + dx)) / dx\n"), "wrong sign"),
    E("numerical_derivative", "no division", D("    return f(x + dx) - f(x)\n"), "divide by Δx"),
    E("numerical_derivative", "divided by 2 dx", D("    return (f(x + dx) - f(x)) / (2 * dx)\n"), "2Δx"),
    E("numerical_derivative", "central without the 2", D("    return (f(x + dx) - f(x - dx)) / dx\n"), "2Δx"),
    E("numerical_derivative", "multiplied by dx", D("    return (f(x + dx) - f(x)) * dx\n"), "multiplies by Δx"),
    E("numerical_derivative", "precedence", D("    return f(x + dx) - f(x) / dx\n"), "parentheses", pipeline=True),
    E("numerical_derivative", "own step 1e-5", D("    h = 1e-5\n    return (f(x + h) - f(x)) / h\n"), "the dx it is given"),
    E("numerical_derivative", "step 1", D("    return f(x + 1) - f(x)\n"), "the dx it is given"),
    E("numerical_derivative", "f(x + dx) / dx", D("    return f(x + dx) / dx\n"), "f(x + Δx) − f(x)"),
    E("numerical_derivative", "returns None", D("    d = (f(x + dx) - f(x)) / dx\n"), "returned None"),
    # ---- numerical_gradient
    E("numerical_gradient", "forward difference", LOOPG.replace("NG", "") and NG(
        LOOPG + "        g[i] = (f(p + e) - f(p)) / h\n    return g\n"), "forward difference", pipeline=True),
    E("numerical_gradient", "perturbation not undone (copy)", NG(
        "    q = np.array(p, dtype=float)\n    g = np.zeros_like(q)\n    for i in range(q.size):\n"
        "        q[i] += h\n        fp = f(q)\n        q[i] -= 2 * h\n        fm = f(q)\n"
        "        g[i] = (fp - fm) / (2 * h)\n    return g\n"), "earlier perturbations", pipeline=True),
    E("numerical_gradient", "perturbs p itself, not restored", NG(
        "    g = np.zeros_like(p)\n    for i in range(p.size):\n        p[i] += h\n        fp = f(p)\n"
        "        p[i] -= 2 * h\n        fm = f(p)\n        g[i] = (fp - fm) / (2 * h)\n    return g\n"),
      "changed p"),
    E("numerical_gradient", "plus-perturbation left in place", NG(
        "    q = np.array(p, dtype=float)\n    g = np.zeros_like(q)\n    for i in range(q.size):\n"
        "        q[i] += h\n        fp = f(q)\n        fm = f(q - 2 * h * np.eye(q.size)[i])\n"
        "        g[i] = (fp - fm) / (2 * h)\n    return g\n"), "earlier perturbations"),
    E("numerical_gradient", "missing 1/2", NG(LOOPG + "        g[i] = (f(p + e) - f(p - e)) / h\n    return g\n"),
      "factor ½"),
    E("numerical_gradient", "every entry at once", NG(
        "    p = np.asarray(p, dtype=float)\n    return np.full(p.shape, (f(p + h) - f(p - h)) / (2 * h))\n"),
      "every entry at once"),
    E("numerical_gradient", "integer gradient array", NG(
        "    p = np.array(p, dtype=float)\n    g = np.zeros(p.size, dtype=int)\n    for i in range(p.size):\n"
        "        e = np.zeros_like(p)\n        e[i] = h\n        g[i] = (f(p + e) - f(p - e)) / (2 * h)\n"
        "    return g\n"), "whole numbers"),
    E("numerical_gradient", "loop one entry short", NG(
        LOOPG.replace("range(p.size)", "range(p.size - 1)") + "        g[i] = (f(p + e) - f(p - e)) / (2 * h)\n"
        "    return g\n"), "one entry short"),
    E("numerical_gradient", "perturbation vector never reset", NG(
        "    p = np.array(p, dtype=float)\n    g = np.zeros_like(p)\n    e = np.zeros_like(p)\n"
        "    for i in range(p.size):\n        e[i] = h\n        g[i] = (f(p + e) - f(p - e)) / (2 * h)\n"
        "    return g\n"), "reset"),
    E("numerical_gradient", "wrong sign", NG(LOOPG + "        g[i] = (f(p - e) - f(p + e)) / (2 * h)\n    return g\n"),
      "sign"),
    E("numerical_gradient", "shape (n, 1)", NG(LOOPG + "        g[i] = (f(p + e) - f(p - e)) / (2 * h)\n"
                                                   "    return g.reshape(-1, 1)\n"), "shaped like p"),
    E("numerical_gradient", "precedence", NG(LOOPG + "        g[i] = f(p + e) - f(p - e) / (2 * h)\n    return g\n"),
      "parentheses"),
    # ---- gd_step
    E("gd_step", "uphill", S("    return p + eta * grad(p)\n"), "goes uphill", pipeline=True),
    E("gd_step", "forgets eta", S("    return p - grad(p)\n"), "forgets the learning rate"),
    E("gd_step", "returns the step", S("    return -eta * grad(p)\n"), "returns the step"),
    E("gd_step", "in place", S("    p -= eta * grad(p)\n    return p\n"), "changed p in place", pipeline=True),
    E("gd_step", "coordinate by coordinate", S("    q = np.array(p, dtype=float)\n    for i in range(q.size):\n"
                                               "        q[i] = q[i] - eta * grad(q)[i]\n    return q\n"),
      "one coordinate at a time"),
    E("gd_step", "divides by eta", S("    return p - grad(p) / eta\n"), "divides by η"),
    E("gd_step", "grad not called", S("    return p - eta * grad\n"), "call it"),
    E("gd_step", "returns None", S("    q = p - eta * grad(p)\n"), "returned None"),
    E("gd_step", "gradient at the wrong point", S("    return p - eta * grad(p - eta * grad(p))\n"), "at the old point"),
    E("gd_step", "eta squared", S("    return p - eta ** 2 * grad(p)\n"), "η"),
    # ---- gradient_descent
    E("gradient_descent", "no starting point", GD("    path, p = [], np.asarray(p0, dtype=float)\n"
                                                  "    for _ in range(steps):\n        p = p - eta * grad(p)\n"
                                                  "        path.append(p)\n    return np.array(path)\n"),
      "leaves out the starting point", pipeline=True),
    E("gradient_descent", "one step short", GD(PATH + "    for _ in range(steps - 1):\n"
                                               "        path.append(gd_step(grad, path[-1], eta))\n"
                                               "    return np.array(path)\n"), "stops one step short"),
    E("gradient_descent", "one step too many", GD(PATH + "    for _ in range(steps + 1):\n"
                                                  "        path.append(gd_step(grad, path[-1], eta))\n"
                                                  "    return np.array(path)\n"), "exactly `steps`"),
    E("gradient_descent", "aliasing (p -= in the list)", GD("    p = np.array(p0, dtype=float)\n    path = [p]\n"
                                                            "    for _ in range(steps):\n        p -= eta * grad(p)\n"
                                                            "        path.append(p)\n    return np.array(path)\n"),
      "same point", pipeline=True),
    E("gradient_descent", "transposed", GD(PATH + "    for _ in range(steps):\n"
                                           "        path.append(gd_step(grad, path[-1], eta))\n"
                                           "    return np.array(path).T\n"), "transposed"),
    E("gradient_descent", "final point only", GD("    p = np.asarray(p0, dtype=float)\n    for _ in range(steps):\n"
                                                 "        p = p - eta * grad(p)\n    return p\n"), "only the final point"),
    E("gradient_descent", "every step from p0", GD(PATH + "    for _ in range(steps):\n"
                                                   "        path.append(gd_step(grad, path[0], eta))\n"
                                                   "    return np.array(path)\n"), "from p0"),
    E("gradient_descent", "coordinate by coordinate", GD(
        "    p = np.array(p0, dtype=float)\n    path = [p.copy()]\n    for _ in range(steps):\n"
        "        for i in range(p.size):\n            p[i] -= eta * grad(p)[i]\n        path.append(p.copy())\n"
        "    return np.array(path)\n"), "one coordinate at a time"),
    E("gradient_descent", "uphill", GD(PATH + "    for _ in range(steps):\n"
                                       "        path.append(path[-1] + eta * grad(path[-1]))\n    return np.array(path)\n"),
      "uphill"),
    E("gradient_descent", "changes p0", GD("    p = p0\n    path = [p0.copy()]\n    for _ in range(steps):\n"
                                           "        p -= eta * grad(p)\n        path.append(p.copy())\n"
                                           "    return np.array(path)\n"), "changed p0"),
    E("gradient_descent", "starts one step late", GD("    p = np.asarray(p0, dtype=float)\n    path = []\n"
                                                     "    for _ in range(steps + 1):\n        p = p - eta * grad(p)\n"
                                                     "        path.append(p)\n    return np.array(path)\n"),
      "first row"),
    # the prompts say "an array shaped like p" (issue 18 item 2)
    E("numerical_gradient", "returns a list (rule: an array)", NG(
        "    g = []\n    for i in range(p.size):\n        e = np.zeros(p.size)\n        e[i] = h\n"
        "        g.append((f(p + e) - f(p - e)) / (2 * h))\n    return g\n"), "returns a Python list"),
    E("gd_step", "returns a list (rule: an array)", S("    return list(p - eta * grad(p))\n"), "returns a Python list"),
]

ALTERNATIVES = [
    E("numerical_derivative", "two steps", D("    f1 = f(x + dx)\n    f0 = f(x)\n    return float((f1 - f0) / dx)\n")),
    E("numerical_gradient", "np.eye rows", NG("    p = np.asarray(p, dtype=float)\n"
                                              "    return np.array([(f(p + h * e) - f(p - h * e)) / (2 * h) "
                                              "for e in np.eye(p.size)])\n")),
    E("numerical_gradient", "perturb and restore", NG(
        "    q = np.array(p, dtype=float)\n    g = []\n    for i in range(q.size):\n        old = q[i]\n"
        "        q[i] = old + h\n        fp = f(q)\n        q[i] = old - h\n        fm = f(q)\n        q[i] = old\n"
        "        g.append((fp - fm) / (2 * h))\n    return np.array(g)\n")),
    E("gd_step", "copy then -=", S("    q = np.array(p, dtype=float)\n    q -= eta * np.asarray(grad(p))\n    return q\n")),
    E("gradient_descent", "preallocated array", GD("    p = np.asarray(p0, dtype=float)\n"
                                                   "    path = np.zeros((steps + 1, p.size))\n    path[0] = p\n"
                                                   "    for k in range(steps):\n"
                                                   "        path[k + 1] = path[k] - eta * grad(path[k])\n    return path\n")),
    E("gradient_descent", "list of lists", GD("    path = [list(map(float, p0))]\n    for _ in range(steps):\n"
                                              "        path.append(list(gd_step(grad, np.array(path[-1]), eta)))\n"
                                              "    return path\n")),
]

DELEGATIONS = [
    E("numerical_derivative", "nnlib.gradcheck.numerical_gradient",
      D("    from nnlib.gradcheck import numerical_gradient\n"
        "    return float(numerical_gradient(lambda v: f(v[0]), np.array([x]), h=dx)[0])\n")),
    E("numerical_gradient", "nnlib.gradcheck.numerical_gradient",
      "from nnlib import gradcheck\n\n\n" + NG("    return gradcheck.numerical_gradient(f, np.array(p, dtype=float), "
                                               "h=h, points=3)\n")),
    E("gd_step", "nnlib.optim.SGD", S("    import nnlib.optim as O\n    q = np.array(p, dtype=float)\n"
                                      "    O.SGD(eta).step([q], [np.asarray(grad(p), dtype=float)])\n    return q\n")),
    E("gradient_descent", "nnlib.optim.SGD", GD("    from nnlib.optim import SGD\n    q = np.array(p0, dtype=float)\n"
                                                "    opt, path = SGD(eta), [q.copy()]\n    for _ in range(steps):\n"
                                                "        opt.step([q], [np.asarray(grad(q), dtype=float)])\n"
                                                "        path.append(q.copy())\n    return np.array(path)\n")),
]

CHEATS = (cheats("numerical_derivative", "check_numerical_derivative", D("    return 0.0\n"), full=True,
                 delegation=DELEGATIONS[0].source)
          + cheats("numerical_gradient", "check_numerical_gradient", NG("    return np.zeros(len(p))\n"))
          + cheats("gd_step", "check_gd_step", S("    return p\n"))
          + cheats("gradient_descent", "check_gradient_descent", GD("    return np.array([p0])\n")))

# ---------------------------------------------------------------- by family (issue 18)
MISTAKES += [
    E("gd_step", "family dtype: floats written into an integer array",
      S("    q = np.zeros(p.shape, dtype=int)\n    q[:] = p - eta * grad(p)\n    return q\n"), "holds integers"),
    E("gradient_descent", "family dtype: an integer path",
      GD("    path = np.zeros((steps + 1, np.size(p0)), dtype=int)\n    p = np.asarray(p0, dtype=float)\n"
         "    path[0] = p\n    for k in range(steps):\n        p = gd_step(grad, p, eta)\n        path[k + 1] = p\n"
         "    return path\n"), "truncated"),
]
