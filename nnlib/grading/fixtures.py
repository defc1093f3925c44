"""Named test functions that checks hand to a learner's code (f for a derivative, a gradient for descent).

They are pure NumPy and hold no answer: a function the learner differentiates never has its gradient here
(the references live in the checks, on the trusted side), and the gradients handed to ``gd_step`` are of
functions no exercise differentiates.  The grading worker execs only the ones its policy names.  The trusted
grader sends them to the sandboxed worker by name
(``NAME`` below), so a check passes the same function in the notebook and in the grader.
"""

from __future__ import annotations

import numpy as np


def f_quadratic(x):
    """x² − 6x + 10 (the lecture's example)."""
    return x * x - 6 * x + 10


def f_sin(x):
    return np.sin(x)


def f_exp(x):
    return np.exp(x)


def f_cube(x):
    return x ** 3


def f_cos(x):
    return np.cos(x)


def z_bowl(p):
    """z = x² + y² − 6x + 10."""
    return float(p[0] ** 2 + p[1] ** 2 - 6 * p[0] + 10)


def z_bowl_grad(p):
    return np.array([2 * p[0] - 6, 2 * p[1]])


def q_wave(p):
    """Σ_i i sin p_i + ‖p‖² (separable)."""
    return float(np.sum(np.sin(p) * np.arange(1, p.size + 1)) + p @ p)


def r_coupled(p):
    """Σ_i p_i p_(i+1) + exp(p_0 p_(-1)) + Σ sin p_i: every partial derivative depends on other coordinates."""
    return float(np.sum(p[:-1] * p[1:]) + np.exp(0.3 * p[0] * p[-1]) + np.sum(np.sin(p)))


def t_cubic(p):
    """x³ − 3xy + 2y² + 1 (coupled, not a bowl)."""
    return float(p[0] ** 3 - 3 * p[0] * p[1] + 2 * p[1] ** 2 + 1)


def quartic_grad(p):
    """∇ of Σ p_i⁴."""
    return 4 * p ** 3


def twice(p):
    """∇ of ‖p‖²."""
    return 2 * p


def rosenbrock_grad(p):
    """∇ of (1 − x)² + 10 (y − x²)² (coupled coordinates)."""
    x, y = p[0], p[1]
    return np.array([-2 * (1 - x) - 40 * x * (y - x * x), 20 * (y - x * x)])


ALL = [f_quadratic, f_sin, f_exp, f_cube, f_cos, z_bowl, z_bowl_grad, q_wave, r_coupled, t_cubic, quartic_grad, twice,
       rosenbrock_grad]
NAME = {f: f.__name__ for f in ALL}
BY_NAME = {f.__name__: f for f in ALL}
