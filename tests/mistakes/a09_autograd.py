# ruff: noqa: E501, N802 - fixture data: whole answer cells as source strings
"""Assignment 9 — autograd from scratch: mistakes, alternatives, delegations, cheats.

Every wrong answer is the reference with one replacement, so each names exactly one classic bug of an autograd
engine: ``=`` for ``+=``, a wrong local derivative, out.grad left out, a parent before its child, gradients not
reset, a seed other than 1, a broadcast gradient not summed back (or over the wrong axis, or without keepdims).
"""

from mistakes import E, cheats, parts

A = "a09_autograd"
DEPENDS = {"backward": ["value_ops", "topo_order"]}  # backward's check builds graphs with the learner's operations


def _ref(cell: str) -> str:
    return parts(A).answers[cell]


def V(cell: str, label: str, old: str, new: str, expect: str, **kw):
    src = _ref(cell)
    assert old in src, (cell, old)
    return E(cell, label, src.replace(old, new, 1), expect, **kw)


MUL = "        self.grad += other.data * out.grad\n        other.grad += self.data * out.grad\n"
POW = "        self.grad += k * self.data ** (k - 1) * out.grad\n"
TANH = "        self.grad += (1 - t * t) * out.grad\n"
EXP = "        self.grad += out.data * out.grad\n"
ASSIGN = "(=) where it must add"

MISTAKES = [
    # exercise 1: local derivatives
    V("value_ops", "d(a·b)/da = a", MUL, "        self.grad += self.data * out.grad\n        other.grad += other.data * out.grad\n",
      "its own value as gradient", pipeline=True),
    V("value_ops", "mul: = instead of += (x * x)", MUL, "        self.grad = other.data * out.grad\n        other.grad = self.data * out.grad\n",
      ASSIGN, pipeline=True),
    V("value_ops", "mul: out.grad left out", MUL, "        self.grad += other.data\n        other.grad += self.data\n",
      "leaves out.grad out"),
    V("value_ops", "mul: a number is not wrapped", "    other = other if isinstance(other, Value) else Value(other)\n", "",
      "wrap it first"),
    V("value_ops", "mul: closure never attached", "    out._backward = _backward\n    return out\n    ### END SOLUTION\n\n\ndef value_pow",
      "    return out\n    ### END SOLUTION\n\n\ndef value_pow", "passes no gradient to its inputs"),
    V("value_ops", "mul: inputs not recorded", 'Value(self.data * other.data, (self, other), "*")', "Value(self.data * other.data)",
      "passes no gradient to its inputs"),
    V("value_ops", "mul: wrong forward value", "Value(self.data * other.data,", "Value(self.data + other.data,",
      "out.data should be"),
    V("value_ops", "pow: exponent not lowered", POW, "        self.grad += k * self.data ** k * out.grad\n",
      "lower the exponent"),
    V("value_ops", "pow: factor k missing", POW, "        self.grad += self.data ** (k - 1) * out.grad\n",
      "factor k is missing"),
    V("value_ops", "pow: = instead of +=", POW, "        self.grad = k * self.data ** (k - 1) * out.grad\n", ASSIGN),
    V("value_ops", "tanh: 1 − a² of the input", TANH, "        self.grad += (1 - self.data ** 2) * out.grad\n",
      "of the input a"),
    V("value_ops", "tanh: 1 − out, not squared", TANH, "        self.grad += (1 - t) * out.grad\n", "(squared)"),
    V("value_ops", "tanh: tanh as its own derivative", TANH, "        self.grad += t * out.grad\n", "tanh itself"),
    V("value_ops", "tanh: = instead of +=", TANH, "        self.grad = (1 - t * t) * out.grad\n", ASSIGN),
    V("value_ops", "tanh: out.grad left out", TANH, "        self.grad += 1 - t * t\n", "leaves out.grad out"),
    V("value_ops", "tanh: a difference quotient", TANH,
      "        h = 1e-5\n        self.grad += (math.tanh(self.data + h) - math.tanh(self.data - h)) / (2 * h) * out.grad\n",
      "difference quotient"),
    V("value_ops", "exp: the input as derivative", EXP, "        self.grad += self.data * out.grad\n", "(e^a)' = e^a"),
    V("value_ops", "exp: = instead of +=", EXP, "        self.grad = out.data * out.grad\n", ASSIGN),
    # exercise 2: topological order
    V("topo_order", "no visited set (a shared node twice)", "        if node in visited:\n            return\n", "",
      "more than once", pipeline=True),
    V("topo_order", "pre-order: parent before child",
      "        for child in node._prev:\n            visit(child)\n        order.append(node)\n",
      "        order.append(node)\n        for child in node._prev:\n            visit(child)\n", "root first", pipeline=True),
    V("topo_order", "returns the order reversed", "    return order\n", "    return order[::-1]\n", "root first"),
    V("topo_order", "only the root's own inputs", "            visit(child)\n", "            visited.add(child)\n            order.append(child)\n",
      "misses"),
    V("topo_order", "returns the data, not the nodes", "    return order\n", "    return [n.data for n in order]\n",
      "not a node of the graph"),
    # exercise 3: backward
    V("backward", "gradients not reset", "    for node in order:\n        node.grad = 0.0\n", "",
      "adds to the gradients of the previous call", pipeline=True),
    V("backward", "no seed", "    root.grad = 1.0\n", "", "the seed is missing", pipeline=True),
    V("backward", "seed set before the reset", "    for node in order:\n        node.grad = 0.0\n    root.grad = 1.0\n",
      "    root.grad = 1.0\n    for node in order:\n        node.grad = 0.0\n", "the seed is missing"),
    V("backward", "seed = root.data", "    root.grad = 1.0\n", "    root.grad = root.data\n", "scaled by root.data"),
    V("backward", "topological order, not reversed", "    for node in reversed(order):\n", "    for node in order:\n",
      "walk the order reversed"),
    V("backward", "only the root's closure", "    for node in reversed(order):\n        node._backward()\n",
      "    root._backward()\n", "only the root's _backward"),
    V("backward", "own order without a visited set", "    order = topo_order(root)\n",
      "    order = []\n\n    def build(n):\n        for c in n._prev:\n            build(c)\n        order.append(n)\n    build(root)\n",
      "more than once"),
    # exercise 4: unbroadcast
    V("unbroadcast", "no keepdims", "g.sum(axis=axes, keepdims=True)", "g.sum(axis=axes)", "drops the axes", pipeline=True),
    V("unbroadcast", "leading axes only", "    return g.sum(axis=axes, keepdims=True) if axes else g\n", "    return g\n",
      "leading axes only"),
    E("unbroadcast", "axes of length 1 only", "def unbroadcast(grad, shape):\n"
      "    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)\n"
      "    return grad.sum(axis=axes, keepdims=True) if axes else grad\n", "axes of length 1 only"),
    E("unbroadcast", "always axis 0", "def unbroadcast(grad, shape):\n    return grad.sum(axis=0) if grad.shape != tuple(shape) else grad\n",
      "always sums over axis 0", pipeline=True),
    V("unbroadcast", "mean instead of sum", "g.sum(axis=axes, keepdims=True)", "g.mean(axis=axes, keepdims=True)",
      "averages"),
    E("unbroadcast", "returns None", "def unbroadcast(grad, shape):\n    grad.sum(axis=0)\n", "returned None"),
]
MISTAKES.append(V("value_ops", "mul: returns None",
                  "    out._backward = _backward\n    return out\n    ### END SOLUTION\n",
                  "    out._backward = _backward\n    ### END SOLUTION\n", "`value_mul` returned NoneType"))

ALTERNATIVES = [
    E("value_ops", "tanh composed from exp, mul and pow; pow through out.data / a", _ref("value_ops")
      .replace("    t = math.tanh(self.data)\n    out = Value(t, (self,), \"tanh\")\n\n    def _backward():\n"
               "        self.grad += (1 - t * t) * out.grad\n    out._backward = _backward\n    return out\n",
               "    e = (self * 2.0).exp()\n    return (e + -1.0) * (e + 1.0) ** -1\n")
      .replace(POW, "        self.grad += k * out.data / self.data * out.grad\n")),
    E("value_ops", "micrograd's spelling: 1 − out.data², math.exp again, Value(other) first",
      _ref("value_ops").replace(TANH, "        self.grad += (1 - out.data ** 2) * out.grad\n")
      .replace(EXP, "        self.grad += math.exp(self.data) * out.grad\n")
      .replace("    other = other if isinstance(other, Value) else Value(other)\n",
               "    if not isinstance(other, Value):\n        other = Value(other)\n")),
    E("topo_order", "iterative, an explicit stack", "def topo_order(root):\n    order, seen, stack = [], set(), [(root, False)]\n"
      "    while stack:\n        node, expanded = stack.pop()\n        if expanded:\n            order.append(node)\n"
      "        elif id(node) not in seen:\n            seen.add(id(node))\n            stack.append((node, True))\n"
      "            stack.extend((c, False) for c in node._prev)\n    return order\n"),
    E("topo_order", "Kahn's algorithm (count the users of each node)", "def topo_order(root):\n"
      "    users, nodes, stack = {}, {}, [root]\n    while stack:\n        n = stack.pop()\n"
      "        if id(n) in nodes:\n            continue\n        nodes[id(n)] = n\n        for c in n._prev:\n"
      "            users[id(c)] = users.get(id(c), 0) + 1\n            stack.append(c)\n"
      "    ready, out = [root], []\n    while ready:\n        n = ready.pop()\n        out.append(n)\n"
      "        for c in n._prev:\n            users[id(c)] -= 1\n            if users[id(c)] == 0:\n"
      "                ready.append(c)\n    return out[::-1]\n"),
    E("backward", "its own recursive order, grads zeroed by a comprehension", "def backward(root):\n"
      "    seen, order = set(), []\n\n    def build(n):\n        if id(n) not in seen:\n            seen.add(id(n))\n"
      "            for c in n._prev:\n                build(c)\n            order.append(n)\n    build(root)\n"
      "    [setattr(n, 'grad', 0.0) for n in order]\n    root.grad = 1.0\n    for n in order[::-1]:\n        n._backward()\n"),
    E("unbroadcast", "a while loop over the leading axes, then axis by axis", "def unbroadcast(grad, shape):\n"
      "    while grad.ndim > len(shape):\n        grad = grad.sum(axis=0)\n    for i, n in enumerate(shape):\n"
      "        if n == 1:\n            grad = grad.sum(axis=i, keepdims=True)\n    return grad\n"),
    E("unbroadcast", "np.sum with both axis tuples and a reshape", "def unbroadcast(grad, shape):\n"
      "    lead = grad.ndim - len(shape)\n"
      "    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)\n"
      "    return np.sum(grad, axis=axes).reshape(shape)\n"),
]

DELEGATIONS = [
    E("value_ops", "nnlib.autograd's Value for mul's local derivatives", "from nnlib.autograd import Value as _V\n\n\n"
      + _ref("value_ops").replace(MUL, "        a, b = _V(self.data), _V(other.data)\n        (a * b).backward()\n"
                                       "        self.grad += a.grad * out.grad\n        other.grad += b.grad * out.grad\n")),
    E("value_ops", "jax.grad for tanh's derivative", _ref("value_ops").replace(
        "    t = math.tanh(self.data)\n",
        "    import jax\n    import jax.numpy as jnp\n    d = float(jax.grad(jnp.tanh)(self.data))\n    t = math.tanh(self.data)\n")
        .replace(TANH, "        self.grad += d * out.grad\n")),
    E("topo_order", "nnlib.autograd.topo_order", "def topo_order(root):\n    from nnlib.autograd import topo_order as t\n"
      "    return t(root)\n"),
    E("backward", "nnlib.autograd.backward", "def backward(root):\n    from nnlib.autograd import backward as b\n    b(root)\n"),
    E("unbroadcast", "torch sum_to_size", "def unbroadcast(grad, shape):\n    import torch\n"
      "    return torch.from_numpy(grad).sum_to_size(shape).numpy()\n"),
    E("unbroadcast", "nnlib.autograd.unbroadcast", "def unbroadcast(grad, shape):\n    from nnlib.autograd import unbroadcast as u\n"
      "    return u(grad, shape)\n"),
]

CHEATS = (
    cheats("value_ops", "check_value_ops", _ref("value_ops").replace(MUL, "        pass\n"))
    + cheats("topo_order", "check_topo_order", "def topo_order(root):\n    return [root]\n", full=True,
             delegation="def topo_order(root):\n    from nnlib.autograd import topo_order as t\n    return t(root)\n")
    + cheats("backward", "check_backward", "def backward(root):\n    root.grad = 1.0\n")
    + cheats("unbroadcast", "check_unbroadcast", "def unbroadcast(grad, shape):\n    return grad\n", full=True,
             delegation="def unbroadcast(grad, shape):\n    from nnlib.autograd import unbroadcast as u\n"
                        "    return u(grad, shape)\n")
    + [E("backward", "backward: redefines the grader's graph builder to return the reference's numbers",
         "def backward(root):\n    root.grad = 1.0\n\n\ndef _nnlib_a09_graph(program, mode, calls=1):\n"
         "    return [[0.0] * len(program)], [[1.0] * len(program)] * calls\n", inprocess=False),
       # the grader's own backward pass (sent for exercise 1's check) is gone while the learner's backward runs
       E("backward", "backward: calls the grader's own backward pass of exercise 1's check",
         "def backward(root):\n    _nnlib_a09_reverse(root)\n"),
       E("backward", "backward: keeps the grader's backward pass from exercise 1's check for later",
         "_kept = []\n\n\ndef backward(root):\n    g = globals()\n    if '_nnlib_a09_reverse' in g:\n"
         "        _kept.append(g['_nnlib_a09_reverse'])\n    if _kept:\n        return _kept[0](root)\n"
         "    root.grad = 1.0\n")]
)
