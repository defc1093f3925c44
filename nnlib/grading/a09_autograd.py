"""Assignment 9 — automatic differentiation from scratch: local derivatives, topological order, backward, unbroadcast.

The notebook gives a scalar ``Value`` (``data``, ``grad``, ``_prev``, ``_backward``) with ``+``; the learner writes

* ``value_mul``, ``value_pow``, ``value_tanh``, ``value_exp`` (exercise 1): each returns a new Value whose
  ``_backward`` closure applies the chain rule, ``a.grad += (∂out/∂a) · out.grad``;
* ``topo_order(root)`` (exercise 2): every node of the graph once, each after its inputs;
* ``backward(root)`` (exercise 3): zero every grad, seed root.grad = 1, call ``_backward`` in reverse order;
* ``unbroadcast(grad, shape)`` (exercise 4): sum a broadcast operand's gradient back to its shape.

Graphs cannot cross the grader's boundary, so exercises 1–3 are checked through a small interpreter,
:data:`DRIVER`, run in the learner's namespace (in the notebook: the learner's globals; in the grader: the
sandboxed worker): it builds the graph a plain-data *program* describes with the learner's functions and returns
the numbers (data, grads, the order as node indices).  The driver computes nothing graded by itself but for
exercise 1, where it runs its own backward pass so that those checks do not depend on exercises 2–3.

The reference is :func:`simulate`, a plain-Python engine here (trusted side); a wrong answer is compared with the
same engine carrying one classic mistake (``kind``), so the message names it: ``=`` for ``+=`` (a node used
twice), a wrong local derivative, out.grad left out of the chain rule, a parent before its child, gradients not
reset, a seed other than 1, the wrong order, a broadcast gradient not summed back (or over the wrong axis, or
without keepdims).  Gradients are compared to 1e-9: a difference quotient (≈ 1e-6 at best) does not pass.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from nnlib.grading._core import Remote, StudentError, close, fail, fname, host, invoke, judge, ok

ALLOWED_TEXT = "Python, math, NumPy and the notebook's Value"
TOL = 1e-9
TOL_OPS = 1e-12  # one operation's local derivative is exact to a few ulp; a central difference is not
DRIVER_NAME = "_nnlib_a09_graph"
DRIVER = '''
def _nnlib_a09_graph(program, mode, calls=1):
    """Build the graph of ``program`` with Value and the learner's functions; return plain numbers."""
    nodes = []
    for ins in program:
        op = ins[0]
        if op == "in":
            n = Value(ins[1])
        elif op == "node":
            n = Value(ins[1], tuple(nodes[i] for i in ins[2]), "f")
        elif op == "add":
            n = nodes[ins[1]] + nodes[ins[2]]
        elif op == "mul":
            n = nodes[ins[1]] * nodes[ins[2]]
        elif op == "mulc":
            n = nodes[ins[1]] * ins[2]
        elif op == "rmulc":
            n = ins[2] * nodes[ins[1]]
        elif op == "pow":
            n = nodes[ins[1]] ** ins[2]
        elif op == "tanh":
            n = nodes[ins[1]].tanh()
        else:
            n = nodes[ins[1]].exp()
        if not isinstance(n, Value):
            return {"op": op, "type": type(n).__name__}
        nodes.append(n)
    if mode == "topo":
        index = {id(n): i for i, n in enumerate(nodes)}
        order = topo_order(nodes[-1])
        if not isinstance(order, (list, tuple)):
            return {"type": type(order).__name__}
        return [index.get(id(n), -1) for n in order]
    root = nodes[-1]
    data = [float(n.data) for n in nodes]
    grads = []
    for _ in range(calls):
        if mode == "ops":
            _nnlib_a09_reverse(root)
        else:
            backward(root)
        grads.append([float(n.grad) for n in nodes])
    return data, grads
'''
REVERSE_NAME = "_nnlib_a09_reverse"
# The grader's own backward pass, for exercise 1's check only: sent with the driver while the learner's operations
# are checked, and never while their topo_order or backward runs (nothing in the worker then computes an answer).
REVERSE = '''
def _nnlib_a09_reverse(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        n, done = stack.pop()
        if done:
            order.append(n)
        elif id(n) not in seen:
            seen.add(id(n))
            stack.append((n, True))
            stack.extend((c, False) for c in reversed(n._prev) if id(c) not in seen)
    for n in order:
        n.grad = 0.0
    root.grad = 1.0
    for n in reversed(order):
        n._backward()
'''


# ---------------------------------------------------------------- the reference engine, and its classic mistakes

class _N:
    __slots__ = ("data", "grad", "prev", "back")

    def __init__(self, data: float, prev: tuple = ()):
        self.data, self.grad, self.prev, self.back = float(data), 0.0, prev, (lambda: None)


def _op(kind: str | None, op: str, a: _N, b: _N | None, c: float | None) -> _N:
    """``op`` of a (and b, or the constant c), its closure written as the mistake ``kind`` would write it."""
    assign = kind == f"{op}_assign"
    chain = kind != f"{op}_no_chain"

    def put(node: _N, g: float) -> None:
        node.grad = g if assign else node.grad + g

    if op == "add":
        out = _N(a.data + b.data, (a, b))

        def back() -> None:
            a.grad += out.grad
            b.grad += out.grad
    elif op == "mul":
        b = b if b is not None else _N(c)
        out = _N(a.data * b.data, (a, b))

        def back() -> None:
            g = out.grad if chain else 1.0
            da, db = (a.data, b.data) if kind == "mul_self" else (b.data, a.data)
            put(a, da * g)
            put(b, db * g)
    elif op == "pow":
        out = _N(a.data ** c, (a,))

        def back() -> None:
            g = out.grad if chain else 1.0
            local = {"pow_k": c * a.data ** c, "pow_no_k": a.data ** (c - 1)}.get(kind, c * a.data ** (c - 1))
            put(a, local * g)
    elif op == "tanh":
        t = math.tanh(a.data)
        out = _N(t, (a,))

        def back() -> None:
            g = out.grad if chain else 1.0
            local = {"tanh_in": 1 - a.data ** 2, "tanh_out": 1 - t, "tanh_plain": t}.get(kind, 1 - t * t)
            put(a, local * g)
    else:
        out = _N(math.exp(a.data), (a,))

        def back() -> None:
            g = out.grad if chain else 1.0
            put(a, (a.data if kind == "exp_in" else out.data) * g)
    if kind != f"{op}_no_link":
        out.back = back
    if kind == f"{op}_no_prev":
        out.prev = ()
    return out


def _order(root: _N, visited: bool = True) -> list:
    """Post-order DFS (the driver's): inputs first.  ``visited=False``: a node reached twice is listed twice."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        n, done = stack.pop()
        if done:
            order.append(n)
        elif not visited or id(n) not in seen:
            seen.add(id(n))
            stack.append((n, True))
            stack.extend((ch, False) for ch in reversed(n.prev) if not visited or id(ch) not in seen)
    return order


def simulate(program: Sequence, kind: str | None = None, calls: int = 1) -> tuple[list, list]:
    """(data, [grads after each call]) of ``program``; ``kind``: one classic mistake (None: the reference)."""
    nodes: list[_N] = []
    for ins in program:
        op = ins[0]
        if op == "in":
            nodes.append(_N(ins[1]))
        elif op == "node":
            nodes.append(_N(ins[1], tuple(nodes[i] for i in ins[2])))
        elif op in ("add", "mul"):
            nodes.append(_op(kind, op, nodes[ins[1]], nodes[ins[2]], None))
        elif op in ("mulc", "rmulc"):
            nodes.append(_op(kind, "mul", nodes[ins[1]], None, ins[2]))
        else:
            nodes.append(_op(kind, op, nodes[ins[1]], None, ins[2] if op == "pow" else None))
    root, out = nodes[-1], []
    for _ in range(calls):
        order = _order(root, visited=kind != "dup")
        if kind != "no_reset":
            for n in order:
                n.grad = 0.0
        root.grad = {"seed0": 0.0, "seed_data": root.data}.get(kind, 1.0)
        if kind == "root_only":
            root.back()
        else:
            for n in (order if kind == "forward" else reversed(order)):
                n.back()
        out.append([n.grad for n in nodes])
    return [n.data for n in nodes], out


ASSIGN = ("overwrites the gradient (=) where it must add (+=): a node used twice (x * x, or x feeding two "
          "operations) gets one contribution per use, and the chain rule sums them — write a.grad += …")
NO_LINK = ("passes no gradient to its inputs: give out its inputs, Value(…, (self, other), op), and set "
           "out._backward = _backward — else the backward pass stops at out")
NO_CHAIN = ("leaves out.grad out of the chain rule: ∂C/∂a = (∂out/∂a) · ∂C/∂out, so multiply the local "
            "derivative by out.grad")
OPS_MISTAKES = {
    "mul": {"mul_self": "gives each factor its own value as gradient: the local derivative of a·b with respect to "
                        "a is b (and with respect to b it is a) — self.grad += other.data * out.grad",
            "mul_assign": ASSIGN, "mul_no_link": NO_LINK, "mul_no_prev": NO_LINK, "mul_no_chain": NO_CHAIN},
    "pow": {"pow_k": "uses k·a^k: the derivative of a^k is k·a^(k−1) — lower the exponent by one",
            "pow_no_k": "uses a^(k−1): the derivative of a^k is k·a^(k−1) — the factor k is missing",
            "pow_assign": ASSIGN, "pow_no_link": NO_LINK, "pow_no_prev": NO_LINK, "pow_no_chain": NO_CHAIN},
    "tanh": {"tanh_in": "uses 1 − a² of the input a: the derivative of tanh is 1 − tanh²(a) = 1 − out.data²",
             "tanh_out": "uses 1 − out: the derivative of tanh is 1 − out² (squared)",
             "tanh_plain": "uses tanh itself as its derivative: (tanh a)' = 1 − tanh² a",
             "tanh_assign": ASSIGN, "tanh_no_link": NO_LINK, "tanh_no_prev": NO_LINK, "tanh_no_chain": NO_CHAIN},
    "exp": {"exp_in": "uses the input a as the derivative of e^a: (e^a)' = e^a = out.data",
            "exp_assign": ASSIGN, "exp_no_link": NO_LINK, "exp_no_prev": NO_LINK, "exp_no_chain": NO_CHAIN},
}
FORWARD = {"mul": "a.data * b.data", "pow": "a.data ** k", "tanh": "math.tanh(a.data)", "exp": "math.exp(a.data)"}


# ---------------------------------------------------------------- running the driver


@contextlib.contextmanager
def _driver(fn: Any, name: str, reverse: bool = False) -> Iterator[Any]:
    """The driver in the learner's namespace for the length of a check: sent to the worker (grader), or exec'd in
    the notebook's globals; removed afterwards.  ``reverse``: with the grader's own backward pass (mode "ops"),
    for checks that call none of the learner's topo_order / backward."""
    text = DRIVER + (REVERSE if reverse else "")
    names = (DRIVER_NAME, REVERSE_NAME)
    if isinstance(fn, Remote):
        if fn.run is None:
            fail(f"`{name}` cannot be checked here (no way to run the graph)", kind="grader")
        err = fn.run(text)
        if err:
            fail(f"the notebook's Value class is missing or broken: rerun the setup cells ({err.get('type')})",
                 kind="error")
        try:
            yield Remote(DRIVER_NAME, fn._call, sources=fn.sources, run=fn.run)
        finally:
            fn.run("".join(f"globals().pop({n!r}, None)\n" for n in names))
        return
    g = getattr(fn, "__globals__", None)
    if not callable(fn) or not isinstance(g, dict):
        fail(f"`{name}` should be a function, got {type(fn).__name__}", kind="type")
    exec(compile(text, "<the grader's graph builder>", "exec"), g)  # noqa: S102 - trusted text
    try:
        yield g[DRIVER_NAME]
    finally:
        for n in names:
            g.pop(n, None)


def _advice(exc: StudentError) -> str | None:
    m = exc.message or ""
    if exc.type_name == "AttributeError" and ("'float' object has no attribute" in m or
                                              "'int' object has no attribute" in m):
        return ("a plain number was used as a Value (x * 3.0, or 2.0 * x through __rmul__): wrap it first, "
                "other = other if isinstance(other, Value) else Value(other)")
    if exc.type_name == "NameError" and "Value" in m:
        return "the notebook's Value class is not defined: run the setup cells first"
    return None


def _run(driver: Any, name: str, program: list, mode: str, calls: int = 1) -> Any:
    out = invoke(driver, name, program, mode, calls, allowed_text=ALLOWED_TEXT, advice=_advice)
    if isinstance(out, dict):
        op = str(out.get("op"))
        what = {"mul": "value_mul", "mulc": "value_mul", "rmulc": "value_mul", "pow": "value_pow",
                "tanh": "value_tanh", "exp": "value_exp", "add": "Value.__add__"}.get(op, name)
        fail(f"`{what}` returned {str(out.get('type'))[:80]}, not a Value: return the new Value `out` (with its "
             "_backward closure set)" if op != "None" else
             f"{name} should return a list of the graph's nodes, got {str(out.get('type'))[:80]}", kind="type")
    if not _plain(out, mode, len(program), calls):
        fail(f"`{name}`'s graph did not give plain numbers back (were Value, float or list redefined?)", kind="type")
    return out


def _numbers(xs: Any, n: int) -> bool:
    return isinstance(xs, (list, tuple)) and len(xs) == n and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)


def _plain(out: Any, mode: str, n: int, calls: int) -> bool:
    """The driver's reply has the shape it was built to send (the worker's data is checked, never trusted)."""
    if mode == "topo":
        return isinstance(out, list) and all(isinstance(i, int) and -1 <= i < n for i in out)
    return isinstance(out, (list, tuple)) and len(out) == 2 and _numbers(out[0], n) and \
        isinstance(out[1], (list, tuple)) and len(out[1]) == calls and all(_numbers(g, n) for g in out[1])


def _describe(program: list) -> str:
    """The expression a program computes, inputs named a, b, c … (for the messages)."""
    names: list[str] = []
    leaves = iter("abcdefgh")
    for ins in program:
        op = ins[0]
        if op == "in":
            names.append(next(leaves))
        elif op == "node":
            names.append(f"n{len(names)}")
        elif op in ("add", "mul"):
            sym = " + " if op == "add" else " * "
            text = names[ins[1]] + sym + names[ins[2]]
            names.append(f"({text})" if op == "add" else text)
        elif op == "mulc":
            names.append(f"{names[ins[1]]} * {ins[2]:g}")
        elif op == "rmulc":
            names.append(f"{ins[2]:g} * ({names[ins[1]]})")
        elif op == "pow":
            names.append(f"({names[ins[1]]}) ** {ins[2]:g}")
        else:
            names.append(f"({names[ins[1]]}).{op}()")
    return names[-1]


def _grad_message(grads: list, ref: list, variants: dict[str, list], mistakes: dict[str, str], subject: str,
                  case: str, show: bool, inputs: list[int], tol: float = TOL) -> None:
    """Fail naming every mistake whose gradients equal ``grads``, unless they match ``ref``."""
    g = np.array(grads, dtype=np.float64)
    r = np.array(ref, dtype=np.float64)
    if g.shape == r.shape and close(g, r, tol):
        return
    named: list[str] = []
    for kind, v in variants.items():
        vv = np.array(v, dtype=np.float64)
        if not close(vv, r, TOL) and g.shape == vv.shape and close(g, vv, TOL) and mistakes[kind] not in named:
            named.append(mistakes[kind])
    if named:
        also = "".join(f"; the same numbers also come from this: it {m}" for m in named[1:])
        fail(f"{subject} {named[0]}{also}.", case)
    if g.shape == r.shape and close(g, r, 1e-4):
        fail(f"{subject} agrees with the exact gradient only to {np.max(np.abs(g - r)):.1e}: that is a difference "
             "quotient, not the chain rule — compute each local derivative exactly", case)
    if show:
        shown = ", ".join(f"{'abcdefgh'[k]}.grad {g[i]:.6g} (expected {r[i]:.6g})" for k, i in enumerate(inputs))
        fail(f"{subject} gives wrong gradients: {shown}", case)
    fail(f"{subject} gives wrong gradients", case)


# ---------------------------------------------------------------- exercise 1


def _draw(rng: np.random.Generator, positive: bool = False) -> float:
    v = float(rng.uniform(0.3, 1.6))
    return v if positive or rng.random() < 0.5 else -v


def op_programs(op: str, seed: int) -> list[list]:
    """Programs that use ``op`` (and the given +) only: plain, a node used twice, one number as operand."""
    rng = np.random.default_rng(seed)
    x, y, z = _draw(rng), _draw(rng), _draw(rng)
    c = float(np.round(rng.uniform(1.5, 3.5), 2))
    if op == "mul":
        return [[["in", x], ["in", y], ["mul", 0, 1]],
                [["in", x], ["mul", 0, 0]],
                [["in", x], ["in", y], ["in", z], ["mul", 0, 1], ["mul", 0, 2], ["add", 3, 4]],
                [["in", x], ["mulc", 0, c], ["rmulc", 1, -c + 1]]]
    if op == "pow":
        p = abs(x)
        return [[["in", p], ["pow", 0, 3.0]],
                [["in", p], ["pow", 0, -c], ["pow", 0, 0.5], ["add", 1, 2]],
                [["in", p], ["pow", 0, 2.0], ["pow", 1, 1.5]]]
    return [[["in", x], [op, 0]],
            [["in", x], [op, 0], [op, 0], ["add", 1, 2]],
            [["in", x * 0.5], [op, 0], [op, 1]]]


def check_value_ops(value_mul: Callable, value_pow: Callable, value_tanh: Callable, value_exp: Callable,
                    cases: Sequence[int] | None = None, show_values: bool = True) -> None:
    """The four operations' forward values and ``_backward`` closures, each on graphs that use it alone.

    ``cases``: seeds of the inputs.  The driver runs its own backward pass (zero, seed 1, reverse order), so a
    mistake here is one of these functions'.
    """
    fns = {"mul": value_mul, "pow": value_pow, "tanh": value_tanh, "exp": value_exp}
    names = {op: fname(f, f"value_{op}") for op, f in fns.items()}
    for seed in (cases if cases is not None else [0, 1]):
        for op, fn in fns.items():
            with _driver(fn, names[op], reverse=True) as driver:
                _check_op(driver, op, names[op], int(seed), show_values)
    ok(f"{', '.join(names.values())} look correct: values and gradients match the chain rule exactly (nodes "
       "used twice, numbers as operands)")


def _check_op(driver: Any, op: str, name: str, seed: int, show_values: bool) -> None:
    """``op``'s programs through the driver: the forward values, then the gradients (a mistake named)."""
    for program in op_programs(op, seed):
        leaves = [ins[1] for ins in program if ins[0] == "in"]
        case = f"the graph {_describe(program)} with " + ", ".join(
            f"{'abcdefgh'[k]} = {v:.4g}" for k, v in enumerate(leaves))
        data, grads = _run(driver, name, program, "ops")
        ref_data, ref_grads = simulate(program)
        if len(data) != len(ref_data) or not close(np.array(data), np.array(ref_data), TOL):
            fail(f"the value computed by {name} is wrong: out.data should be {FORWARD[op]}", case)
        variants = {k: simulate(program, k)[1][0] for k in OPS_MISTAKES[op]}
        _grad_message(grads[0], ref_grads[0], variants, OPS_MISTAKES[op], f"{name}'s _backward", case,
                      show_values, [i for i, ins in enumerate(program) if ins[0] == "in"], TOL_OPS)


# ---------------------------------------------------------------- exercise 2


def dag(seed: int) -> list[list]:
    """A random graph of 'node' instructions: 3–4 leaves, shared nodes (diamonds), one root using the rest."""
    rng = np.random.default_rng(seed)
    n_leaves, n_inner = int(rng.integers(3, 5)), int(rng.integers(4, 7))
    prog: list[list] = [["in", float(k)] for k in range(n_leaves)]
    used: set[int] = set()
    for _ in range(n_inner):
        k = len(prog)
        kids = sorted({int(i) for i in rng.choice(k, size=min(k, int(rng.integers(1, 4))), replace=False)})
        used |= set(kids)
        prog.append(["node", float(k), kids])
    rest = [i for i in range(len(prog)) if i not in used]
    prog.append(["node", float(len(prog)), rest])
    return prog


def check_topo_order(topo_order: Callable, cases: Sequence[int] | None = None, show_values: bool = True) -> None:
    """``topo_order(root)``: every node reachable from root once, each after all of its inputs (``_prev``)."""
    name = fname(topo_order, "topo_order")
    with _driver(topo_order, name) as driver:
        for seed in (cases if cases is not None else [3, 4, 5]):
            _check_topo(driver, name, int(seed), show_values)
    ok(f"{name} looks correct: every node once, each after its inputs, the root last")


def _check_topo(driver: Any, name: str, seed: int, show_values: bool) -> None:
    prog = dag(int(seed))
    n = len(prog)
    kids = {i: (ins[2] if ins[0] == "node" else []) for i, ins in enumerate(prog)}
    edges = ", ".join(f"n{i} ← {kids[i]}" for i in range(n) if kids[i])
    case = f"{name}(root) on a graph of {n} nodes n0 … n{n - 1} (root n{n - 1}; inputs: {edges})" if show_values \
        else f"{name}(root) on a graph of {n} nodes"
    got = _run(driver, name, prog, "topo")
    if not isinstance(got, list):
        fail(f"{name} should return a list of the graph's nodes", case, kind="type")
    if any(i == -1 for i in got):
        fail(f"{name} returned something that is not a node of the graph: return the Value objects "
             "themselves (the nodes reached through _prev)", case, kind="type")
    twice = sorted({i for i in got if got.count(i) > 1})
    if twice:
        fail(f"{name} lists a node more than once (n{twice[0]}, reached through two paths): keep a set of "
             "visited nodes and skip a node already in it — otherwise backward applies its chain rule twice",
             case)
    missing = sorted(set(range(n)) - set(got))
    if missing:
        fail(f"{name} misses {len(missing)} of the {n} nodes (e.g. n{missing[0]}): visit every input of every "
             "node, recursively, not only the root's own inputs", case)
    pos = {i: k for k, i in enumerate(got)}
    if got[0] == n - 1:
        fail(f"{name} puts the root first — a parent before its children: append a node only after all of "
             "its inputs (post-order), so that the root comes last (backward walks the list reversed)", case)
    for i in got:
        late = [j for j in kids[i] if pos[j] > pos[i]]
        if late:
            fail(f"{name} lists n{i} before its input n{late[0]} — a parent before its child: append a node "
                 "only after visiting all of its inputs (post-order)", case)


# ---------------------------------------------------------------- exercise 3


BACKWARD_MISTAKES = {
    "no_reset": "adds to the gradients of the previous call: a second backward(root) must give the same "
                "gradients, so set every node's grad to 0 before the pass (the grads are accumulated with +=)",
    "seed0": "gives all-zero gradients: the seed is missing (or zeroed after it was set) — after zeroing, set "
             "root.grad = 1 (∂root/∂root = 1), then run the closures",
    "seed_data": "is scaled by root.data: the seed is ∂root/∂root = 1, not the root's value",
    "forward": "runs the closures in topological order, inputs first: a node must pass its gradient on only when "
               "it is complete, so walk the order reversed (the root first)",
    "root_only": "calls only the root's _backward: call it for every node, in reverse topological order",
    "dup": "calls _backward of a shared node more than once (a node reached through two paths): visit each node "
           "once (a set of visited nodes in topo_order)",
}


def expression(seed: int) -> list[list]:
    """A random expression over 3 inputs with mul, add, tanh, exp, pow and nodes used several times."""
    rng = np.random.default_rng(seed)
    prog: list[list] = [["in", _draw(rng) * 0.7] for _ in range(3)]
    for _ in range(int(rng.integers(5, 8))):
        k = len(prog)
        i, j = int(rng.integers(0, k)), int(rng.integers(max(0, k - 3), k))
        op = ["mul", "add", "tanh", "exp", "mulc", "pow"][int(rng.integers(0, 6))]
        if op in ("mul", "add"):
            prog.append([op, i, j])
        elif op == "mulc":
            prog.append([op, j, 0.5])
        elif op == "pow":
            prog.append([op, j, 2.0])
        else:
            prog.append([op, j])
    m = len(prog) - 1
    prog.append(["tanh", m])
    prog.append(["mul", m + 1, m])  # an inner node used twice: its closure must run once, after both users
    prog.append(["mul", len(prog) - 1, 0])  # an input used again at the end
    prog.append(["add", len(prog) - 1, 1])
    return prog


def check_backward(backward: Callable, cases: Sequence[int] | None = None, show_values: bool = True) -> None:
    """``backward(root)``: every node's grad = ∂root/∂node; a second call gives the same gradients."""
    name = fname(backward, "backward")
    for seed in (cases if cases is not None else [7, 8]):
        _check_backward(backward, name, int(seed), show_values)
    ok(f"{name} looks correct: every grad is ∂root/∂node, and a second call gives the same gradients")


def _check_backward(backward: Callable, name: str, seed: int, show_values: bool) -> None:
    prog = expression(int(seed))
    inputs = [0, 1, 2]
    case = f"{name}(root) for root = {_describe(prog)} with " + ", ".join(
        f"{'abc'[k]} = {prog[k][1]:.4g}" for k in inputs) if show_values else f"{name}(root) on an expression"
    _, ref = simulate(prog, calls=2)
    with _driver(backward, name, reverse=True) as driver:  # exercise 1's operations first, without backward
        for op in ("mul", "pow", "tanh", "exp"):  # an operation not written yet is named, not blamed on backward
            _run(driver, f"value_{op}", op_programs(op, 0)[0], "ops")
        _, own = _run(driver, name, prog, "ops")
    if not close(np.array(own[0]), np.array(ref[0]), TOL):
        fail(f"{name} cannot be checked yet: with the grader's own backward pass, value_mul, value_pow, value_tanh "
             "and value_exp give wrong gradients on this expression — make exercise 1's test pass first", case)
    with _driver(backward, name) as driver:  # the learner's backward, with no backward pass of the grader's beside it
        data, grads = _run(driver, name, prog, "backward", 2)
    variants = {k: simulate(prog, k, calls=1)[1][0] for k in BACKWARD_MISTAKES if k != "no_reset"}
    if len(grads) != 2:
        fail(f"{name} could not be called twice", case, kind="error")
    if close(np.array(grads[0]), np.array(ref[0]), TOL):
        variants = {"no_reset": simulate(prog, "no_reset", calls=2)[1][1]}
        _grad_message(grads[1], ref[1], variants, BACKWARD_MISTAKES, f"calling {name} a second time", case,
                      show_values, inputs)
    else:
        _grad_message(grads[0], ref[0], variants, BACKWARD_MISTAKES, name, case, show_values, inputs)


# ---------------------------------------------------------------- exercise 4

UNBROADCAST_CASES = [((4, 3), (3,), 0), ((4, 3), (4, 1), 1), ((2, 4, 3), (4, 1), 2), ((2, 4, 3), (2, 1, 3), 3),
                     ((5, 2), (5, 2), 4), ((3, 1, 4), (1, 1), 5)]


def unbroadcast_variant(g: np.ndarray, shape: tuple, kind: str | None = None) -> np.ndarray | None:
    """The reference (``kind=None``) or a classic mistake: no keepdims, leading axes only, ones only, axis 0…"""
    extra = g.ndim - len(shape)
    lead = g.sum(axis=tuple(range(extra))) if extra > 0 else g
    ones = tuple(i for i, (n, m) in enumerate(zip(shape, lead.shape)) if n == 1 and m != 1)
    try:
        if kind is None:
            return lead.sum(axis=ones, keepdims=True) if ones else lead
        if kind == "no_keepdims":
            return lead.sum(axis=ones) if ones else None
        if kind == "lead_only":
            return lead if ones else None
        if kind == "ones_only":
            ax = tuple(i for i, (n, m) in enumerate(zip(shape, g.shape)) if n == 1 and m != 1)
            return g.sum(axis=ax, keepdims=True) if extra else None
        if kind == "axis0":
            return g.sum(axis=0) if g.shape != shape else None
        if kind == "mean":
            r = unbroadcast_variant(g, shape)
            return r * r.size / g.size if r.size != g.size else None
        if kind == "first":
            return g.reshape(-1)[: int(np.prod(shape))].reshape(shape) if g.shape != shape else None
    except ValueError:
        return None
    return None


UNBROADCAST_MISTAKES = {
    "no_keepdims": "drops the axes of length 1 that it summed over: sum them with keepdims=True so the result "
                   "has exactly the operand's shape",
    "lead_only": "sums away the leading axes only: an axis where the operand has length 1 was copied too, so its "
                 "gradient must also be summed there (keepdims=True)",
    "ones_only": "sums over the axes of length 1 only: the axes the operand lacks (broadcast in front) must be "
                 "summed away too",
    "axis0": "always sums over axis 0: sum over the leading axes the operand lacks and over every axis where it "
             "has length 1",
    "mean": "averages where the copies' gradients must be added: every copy of a broadcast entry sends its "
            "gradient back, and the chain rule sums them (sum, not mean)",
    "first": "keeps one copy's gradient: a broadcast entry was used in every copy, so add all of their "
             "gradients (sum)",
}


def check_unbroadcast(unbroadcast: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``unbroadcast(grad, shape)``: ``grad`` summed back to ``shape`` (leading axes, then axes of length 1)."""
    name = fname(unbroadcast, "unbroadcast")
    for gshape, shape, seed in (cases if cases is not None else UNBROADCAST_CASES):
        gshape, shape = tuple(int(v) for v in gshape), tuple(int(v) for v in shape)
        g = np.random.default_rng(int(seed) + 500).standard_normal(gshape)
        ref = unbroadcast_variant(g, shape)
        case = f"{name}(grad, {shape}) with grad of shape {gshape}"
        got = invoke(unbroadcast, name, g.copy(), shape, allowed_text="NumPy")
        if got is None:
            fail(f"{name} returned None: return the summed gradient, an array of shape {shape}", case, kind="none")
        first = {UNBROADCAST_MISTAKES[k]: v for k in UNBROADCAST_MISTAKES
                 if (v := unbroadcast_variant(g, shape, k)) is not None}
        judge(got, ref, f"the result of {name}", case, show_values, first=first, gradient=False)
        if np.shape(host(got)) != shape:
            fail(f"the result of {name} has shape {np.shape(got)}, expected {shape}", case, kind="shape")
    ok(f"{name} looks correct: every broadcast gradient is summed back to its operand's shape")
