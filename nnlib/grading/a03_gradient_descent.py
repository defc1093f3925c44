"""Assignment 3 — gradient descent: forward and central differences, one step, the whole path.

Test functions are the named ones in :mod:`nnlib.grading.fixtures`; the non-separable ones catch
perturbations that are not undone and coordinate-by-coordinate steps.  The exact gradients of the functions
``numerical_gradient`` is tested on live here (:data:`_GRAD`), never in the fixtures the grading worker holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nnlib.grading import fixtures as F
from nnlib.grading import rules
from nnlib.grading._core import close, fail, fname, invoke, judge, ok

ALLOWED: list = []
ALLOWED_TEXT = "NumPy and the functions f, z, grad_z defined for you"

_LABEL = {F.f_quadratic: "x² − 6x + 10", F.f_sin: "sin x", F.f_exp: "exp x", F.f_cube: "x³", F.f_cos: "cos x",
          F.z_bowl: "z = x² + y² − 6x + 10", F.q_wave: "Σ_i i sin p_i + ‖p‖²",
          F.r_coupled: "Σ p_i p_(i+1) + exp(0.3 p_0 p_(−1)) + Σ sin p_i", F.t_cubic: "x³ − 3xy + 2y² + 1",
          F.z_bowl_grad: "∇z",
          F.quartic_grad: "∇ Σ p_i⁴", F.twice: "∇ ‖p‖²", F.rosenbrock_grad: "∇ of (1 − x)² + 10 (y − x²)²"}
_EXACT = {F.f_quadratic: lambda x: 2 * x - 6, F.f_sin: np.cos, F.f_exp: np.exp, F.f_cube: lambda x: 3 * x * x,
          F.f_cos: lambda x: -np.sin(x)}


def _q_wave_grad(p):
    return np.cos(p) * np.arange(1, p.size + 1) + 2 * p


def _r_coupled_grad(p):
    g = np.cos(p).astype(np.float64)
    g[:-1] += p[1:]
    g[1:] += p[:-1]
    e = np.exp(0.3 * p[0] * p[-1])
    g[0] += 0.3 * p[-1] * e
    g[-1] += 0.3 * p[0] * e
    return g


def _t_cubic_grad(p):
    return np.array([3 * p[0] ** 2 - 3 * p[1], -3 * p[0] + 4 * p[1]])


_GRAD = {F.q_wave: _q_wave_grad, F.r_coupled: _r_coupled_grad, F.t_cubic: _t_cubic_grad}

DERIVATIVE_CASES = [(F.f_quadratic, 6.0, 0.01), (F.f_quadratic, 0.0, 0.1), (F.f_sin, 1.0, 1e-3)]
GRADIENT_CASES = [(F.t_cubic, [2.0, -1.0]), (F.q_wave, [0.3, -1.2, 2.0]), (F.r_coupled, [0.5, -1.0, 1.5, 0.25])]
STEP_CASES = [(F.z_bowl_grad, [6.0, -2.0], 0.01), (F.z_bowl_grad, [0.0, 1.0], 0.25),
              (F.rosenbrock_grad, [0.5, 1.5], 0.02)]
DESCENT_CASES = [(F.z_bowl_grad, [6.0, -2.0], 0.01, 5), (F.z_bowl_grad, [0.0, 3.0], 0.3, 12),
                 (F.rosenbrock_grad, [-0.5, 1.0], 0.01, 6)]


def _call(fn: Callable, name: str, *args: object) -> object:
    return invoke(fn, name, *args, allowed=ALLOWED, allowed_text=ALLOWED_TEXT)


def _fn_advice(exc: object) -> str | None:
    if "'function'" in exc.message:
        return ("a function was used as a number: `grad` is a function — call it, grad(p), to get the "
                "gradient at p")
    return None


def _number(got: object) -> float | None:
    try:
        a = np.asarray(got, dtype=np.float64).reshape(-1)
        return float(a[0]) if a.size == 1 else None
    except (TypeError, ValueError):
        return None


def check_numerical_derivative(numerical_derivative: Callable, cases: Sequence | None = None,
                               show_values: bool = True) -> None:
    """``numerical_derivative(f, x, dx)``: the lecture's forward difference (f(x + Δx) − f(x)) / Δx.

    ``cases``: list of (fixture function, x, dx).
    """
    name = fname(numerical_derivative, "numerical_derivative")
    show = show_values
    for f, x, dx in (DERIVATIVE_CASES if cases is None else cases):
        x, dx = float(x), float(dx)
        case = f"{name}(f, x={x}, dx={dx}) for f(x) = {_LABEL[f]}"
        got = _call(numerical_derivative, name, f, x, dx)
        ref = (f(x + dx) - f(x)) / dx
        g = _number(got) if got is not None else None
        if got is None:
            fail(f"{name} returned None: return the estimate (is there a `return` at the end?)", case)
        if g is None:
            fail(f"{name} should return one number, got {got!r}"[:300], case)
        if abs(g - ref) <= 1e-9 * max(1.0, abs(ref)):
            continue
        shown = f": got {g:.6g}, expected {ref:.6g}" if show else ""

        def near(v: float, g: float = g) -> bool:
            return abs(g - v) <= 1e-9 * max(1.0, abs(v))

        central = (f(x + dx) - f(x - dx)) / (2 * dx)
        exact = float(_EXACT[f](x)) if f in _EXACT else None
        if exact is not None and near(exact) and near(central):
            fail(f"{name} returns f'(x) exactly — the exact derivative, or the central difference (exact for a "
                 f"quadratic) — but this exercise asks for the lecture's forward difference "
                 f"(f(x + Δx) − f(x)) / Δx{shown}", case)
        if near(central):
            fail(f"{name} computes the central difference (f(x+Δx) − f(x−Δx))/2Δx — a better estimate, but this "
                 f"exercise asks for the lecture's forward difference (f(x+Δx) − f(x))/Δx{shown}", case)
        if exact is not None and near(exact):
            fail(f"{name} returns the exact derivative f'(x) (worked out by hand), not an estimate from f: compute "
                 f"(f(x + Δx) − f(x)) / Δx with the f it is given{shown}", case)
        if near((f(x) - f(x - dx)) / dx):
            fail(f"{name} computes the backward difference (f(x) − f(x−Δx))/Δx: the lecture's estimate steps "
                 f"forward, (f(x + Δx) − f(x))/Δx{shown}", case)
        if near(-ref):
            fail(f"{name} has the wrong sign: (f(x + Δx) − f(x)) / Δx{shown}", case)
        if near(ref * dx):
            fail(f"{name} forgot to divide by Δx{shown}", case)
        if near(ref / 2):
            fail(f"{name} divides by 2Δx: the forward difference divides by Δx, (f(x + Δx) − f(x)) / Δx{shown}",
                 case)
        if near(2 * central):
            fail(f"{name} divides f(x+Δx) − f(x−Δx) by Δx: that is twice the central difference (it should be "
                 f"2Δx), and the exercise asks for the forward difference (f(x + Δx) − f(x)) / Δx{shown}", case)
        if near(ref * dx * dx):
            fail(f"{name} multiplies by Δx: divide, (f(x + Δx) − f(x)) / Δx{shown}", case)
        if near(f(x + dx) - f(x) / dx):
            fail(f"{name} computes f(x + Δx) − f(x) / Δx: division binds tighter than subtraction, so put "
                 f"parentheses around the difference, (f(x + Δx) − f(x)) / Δx{shown}", case)
        if near(f(x + dx) / dx):
            fail(f"{name} computes f(x + Δx) / Δx: the slope divides the change f(x + Δx) − f(x) by Δx{shown}",
                 case)
        for own in (1.0, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8):
            if own != dx and (near((f(x + own) - f(x)) / own) or near(f(x + own) - f(x))):
                fail(f"{name} uses its own step Δx = {own:g}: use the dx it is given (here {dx:g}){shown}", case)
        fail(f"{name} does not compute (f(x + Δx) − f(x)) / Δx{shown}", case)
    ok(f"{name} looks correct" + (" (slope 6.01 at x = 6 with Δx = 0.01)" if cases is None else ""))


def check_numerical_gradient(numerical_gradient: Callable, cases: Sequence | None = None,
                             show_values: bool = True) -> None:
    """``numerical_gradient(f, p, h)``: central differences ∂f/∂p_i ≈ (f(p + h e_i) − f(p − h e_i)) / 2h.

    ``cases``: list of (fixture function, p).  ``p`` must be left unchanged.
    """
    name = fname(numerical_gradient, "numerical_gradient")
    show = show_values
    h = 1e-5
    for f, p in (GRADIENT_CASES if cases is None else cases):
        p = np.asarray(p, dtype=np.float64)
        case = f"{name}(f, p, h=1e-5) for f(p) = {_LABEL[f]} at p of shape {p.shape}" + (
            f", p = {p.tolist()}" if show else "")
        p_in = p.copy()
        got = _call(numerical_gradient, name, f, p_in, h)
        if not np.array_equal(p_in, p):
            fail(f"{name} changed p: after perturbing an entry, put it back (or perturb a copy of p), so p is "
                 "as it was when the function returns", case)
        ref = _GRAD[f](p)
        eye = np.eye(p.size)
        forward = np.array([(f(p + h * e) - f(p)) / h for e in eye])
        # perturbations never undone: entry i is evaluated with entries < i still shifted
        drift, q = [], p.copy()
        for i in range(p.size):
            plus, minus = q.copy(), q.copy()
            plus[i] += h
            minus[i] -= h
            drift.append((f(plus) - f(minus)) / (2 * h))
            q[i] += h
        halfway, q = [], p.copy()
        for i in range(p.size):
            q[i] += h
            fp = f(q)
            q[i] -= 2 * h
            fm = f(q)
            halfway.append((fp - fm) / (2 * h))  # left at p_i − h
        gshape = np.shape(got) if got is not None else None
        if gshape is not None and gshape != p.shape and int(np.prod(gshape)) == p.size:
            fail(f"the gradient from {name} has shape {gshape}: return an array shaped like p, {p.shape}", case)
        judge(got, ref, f"the gradient from {name}", case, show, tol=1e-6, gradient=False, first={
            "is a forward difference (f(p + h e_i) − f(p)) / h: use the central difference "
            "(f(p + h e_i) − f(p − h e_i)) / 2h, accurate to O(h²)": forward,
            "is computed with earlier perturbations still in place: after evaluating f(p + h e_i) and "
            "f(p − h e_i), restore p_i before moving on to the next entry": np.array(drift),
            "is computed with earlier perturbations still in place (each p_i is left at p_i − h): restore p_i "
            "before moving on to the next entry": np.array(halfway),
            "is missing the factor ½: the central difference divides by 2h": 2 * ref,
            "perturbs every entry at once (p ± h in all coordinates): move one entry at a time, "
            "p ± h e_i with e_i the i-th unit vector": np.full(p.shape, (f(p + h) - f(p - h)) / (2 * h)),
            "reuses the perturbation vector without resetting it: entry i is estimated with entries 0 … i − 1 "
            "still shifted — make a fresh e = np.zeros_like(p) for each i": np.array(
                [(f(p + h * (np.arange(p.size) <= i)) - f(p - h * (np.arange(p.size) <= i))) / (2 * h)
                 for i in range(p.size)]),
            "has the wrong sign: (f(p + h e_i) − f(p − h e_i)) / 2h": -ref,
            "has its last entry left at 0: the loop stops one entry short — range(p.size) covers every entry":
                np.concatenate([ref[:-1], [0.0]]) if p.size > 1 else None,
            "is made of whole numbers: the gradient array has an integer dtype, so every estimate was cut to "
            "an integer — create it with np.zeros(p.shape) (float)": np.trunc(
                [(f(p + h * e) - f(p - h * e)) / (2 * h) for e in eye]),
            "computes f(p + h e_i) − f(p − h e_i) / 2h: division binds tighter than subtraction, so put "
            "parentheses around the difference": np.array([f(p + h * e) - f(p - h * e) / (2 * h) for e in eye]),
        }, constants={"h": h, "2h": 2 * h})
        rules.array_result(got, name, "an array shaped like p", case)
    ok(f"{name} looks correct")


def check_gd_step(gd_step: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``gd_step(grad, p, eta)``: one step of gradient descent, p − η ∇f(p); p is not modified.

    ``cases``: list of (fixture gradient, p, eta).
    """
    name = fname(gd_step, "gd_step")
    show = show_values
    for grad, p, eta in (STEP_CASES if cases is None else cases):
        p, eta = np.asarray(p, dtype=np.float64), float(eta)
        case = f"{name}(grad, p, eta={eta}) for grad = {_LABEL[grad]}" + (f", p = {p.tolist()}" if show else "")
        p_in = p.copy()
        got = invoke(gd_step, name, grad, p_in, eta, allowed=ALLOWED, allowed_text=ALLOWED_TEXT, advice=_fn_advice)
        ref = p - eta * grad(p)
        if got is None:
            fail(f"{name} returned None: return the new point p − η ∇f(p)", case)
        if not np.array_equal(p_in, p):
            fail(f"{name} changed p in place: return a new point p − η ∇f(p) and leave p as it was", case)
        seq = p.copy()
        for i in range(p.size):
            seq[i] = seq[i] - eta * grad(seq)[i]
        judge(got, ref, f"the new point from {name}", case, show, gradient=False, first={
            "goes uphill: gradient descent subtracts the gradient, p − η ∇f(p)": p + eta * grad(p),
            "forgets the learning rate η: p − η ∇f(p)": p - grad(p),
            "returns the step −η ∇f(p) instead of the new point p − η ∇f(p)": -eta * grad(p),
            "moves one coordinate at a time, recomputing the gradient after each: all coordinates move "
            "together, with ∇f evaluated once at the old point p": seq,
            "divides by η: the step is p − η ∇f(p), η times the gradient": p - grad(p) / eta,
            "evaluates the gradient at the wrong point: use ∇f at the old point p, p_new = p − η ∇f(p)":
                p - eta * grad(p - eta * grad(p)),
            "uses η² instead of η: p − η ∇f(p)": p - eta ** 2 * grad(p),
            }, constants={"η": eta})
        rules.array_result(got, name, "the new point as an array shaped like p", case)
    ok(f"{name} looks correct" + (" ((6, −2) → (5.94, −1.96) with η = 0.01)" if cases is None else ""))


def check_gradient_descent(gradient_descent: Callable, cases: Sequence | None = None,
                           show_values: bool = True) -> None:
    """``gradient_descent(grad, p0, eta, steps)``: the path, an array (steps + 1, d) starting with p0.

    ``cases``: list of (fixture gradient, p0, eta, steps).
    """
    name = fname(gradient_descent, "gradient_descent")
    show = show_values
    for grad, p0, eta, steps in (DESCENT_CASES if cases is None else cases):
        p0, eta, steps = np.asarray(p0, dtype=np.float64), float(eta), int(steps)
        case = f"{name}(grad, p0, eta={eta}, steps={steps}) for grad = {_LABEL[grad]}" + (
            f", p0 = {p0.tolist()}" if show else "")
        p_in = p0.copy()
        got = _call(gradient_descent, name, grad, p_in, eta, steps)
        path = [p0.copy()]
        for _ in range(steps):
            path.append(path[-1] - eta * grad(path[-1]))
        ref = np.array(path)
        if not np.array_equal(p_in, p0):
            fail(f"{name} changed p0 in place: start from a copy (p = np.array(p0, dtype=float)) and leave p0 as "
                 "it was", case)
        if got is None:
            fail(f"{name} returned None: return the path, an array of shape {ref.shape}", case)
        try:
            g = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            fail(f"{name} should return the path as an array of shape {ref.shape} (one row per point)", case)
        if g.shape == (steps, p0.size) and close(g, ref[1:]):
            fail(f"the path from {name} leaves out the starting point: put p0 first, shape (steps + 1, d) "
                 f"= {ref.shape}", case)
        if g.shape == (steps, p0.size) and close(g, ref[:-1]):
            fail(f"the path from {name} stops one step short: take `steps` steps after p0, shape {ref.shape}", case)
        if g.shape == (steps + 2, p0.size):
            fail(f"the path from {name} has {steps + 2} points: take exactly `steps` = {steps} steps, so the path "
                 f"has steps + 1 points including p0, shape {ref.shape}", case)
        if g.shape == ref.shape and np.all(g == g[-1]) and steps > 0:
            fail(f"every row of the path from {name} is the same point: append a copy of p at each step "
                 "(p = p − η ∇f(p) makes a new array; p -= ... changes the one already in the list)", case)
        if g.shape == ref.shape and close(g[-1], ref[-2]) and not close(g, ref):
            fail(f"the path from {name} lags one step behind: each row is the point after that many steps", case)
        if g.shape == tuple(reversed(ref.shape)) and close(g.T, ref):
            fail(f"the path from {name} is transposed: one row per point, shape (steps + 1, d) = {ref.shape}", case)
        if g.shape == p0.shape and steps > 0 and close(g, ref[-1]):
            fail(f"{name} returns only the final point: return the whole path, one row per point, shape "
                 f"(steps + 1, d) = {ref.shape}", case)
        seq, up, late = [p0.copy()], [p0.copy()], [p0 - eta * grad(p0)]
        for _ in range(steps):
            q = seq[-1].copy()
            for i in range(q.size):
                q[i] = q[i] - eta * grad(q)[i]
            seq.append(q)
            up.append(up[-1] + eta * grad(up[-1]))
            late.append(late[-1] - eta * grad(late[-1]))
        judge(g, ref, f"the path from {name}", case, show, gradient=False, first={
            "repeats the first step: every step starts from p0 — take the next step from the newest point, "
            "p_(k+1) = p_k − η ∇f(p_k)": np.array([p0] + [p0 - eta * grad(p0)] * steps),
            "moves one coordinate at a time, recomputing the gradient after each: all coordinates move together, "
            "with ∇f evaluated once per step at the current point": np.array(seq),
            "goes uphill: gradient descent subtracts the gradient, p − η ∇f(p)": np.array(up),
            "starts one step late: the first row should be p0 itself, then the point after 1 step, …":
                np.array(late)}, constants={"η": eta})
    ok(f"{name} looks correct")
