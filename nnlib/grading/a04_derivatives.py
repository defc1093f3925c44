"""Assignment 4 — derivatives of the activations (σ', tanh', ReLU', softplus') and the chain rule F'(x).

The learner may use NumPy and the functions themselves (sigmoid, tanh, relu, softplus), not nnlib's
derivatives.  Inputs include z = 0 (ReLU'(0) = 0 by the convention the course uses) and |z| = 800, where a
careless formula overflows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnlib import activations as A
from nnlib.grading import rules
from nnlib.grading._core import fail, fname, host, invoke, judge, ok

ALLOWED = [A.sigmoid, A.tanh, A.relu, A.softplus]
ALLOWED_TEXT = "NumPy and sigmoid, tanh, relu, softplus (the functions, not their derivatives)"


def _softplus(z: Any) -> Any:
    return np.logaddexp(0, z)


DERIVATIVES: dict[str, tuple[str, Callable, Callable]] = {
    "sigmoid": ("σ(z) = 1/(1 + e^(−z))", A.sigmoid, A.sigmoid_prime),
    "tanh": ("tanh z", np.tanh, A.tanh_prime),
    "relu": ("ReLU(z) = max(0, z)", A.relu, lambda z: (np.asarray(z) > 0).astype(np.float64)),
    "softplus": ("softplus(z) = ln(1 + e^z)", _softplus, A.softplus_prime),
    "chain": ("F(x) = (x² + 1)^(1/2)", lambda x: np.sqrt(x * x + 1), lambda x: x / np.sqrt(x * x + 1)),
}
STABLE = {"sigmoid": "Write the derivative through the function itself: σ'(z) = σ(z)(1 − σ(z)) with the given sigmoid",
          "tanh": "Write the derivative through the function itself: tanh'(z) = 1 − tanh²(z) with np.tanh",
          "softplus": "softplus'(z) = e^z/(1 + e^z) is the sigmoid σ(z): return the given sigmoid(z)",
          "chain": "Write F'(x) = x / √(x² + 1) without exponentials"}
CASES = [np.linspace(-5, 5, 24), np.array([[-2.0, -0.5, 0.0], [0.75, 1.5, 3.0]])]
LARGE = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])


def suspects(name: str, z: np.ndarray) -> dict[str, np.ndarray]:
    with np.errstate(all="ignore"):
        s = A.sigmoid(z)
        t = np.tanh(z)
        common = {"returns the function itself instead of its derivative": DERIVATIVES[name][1](z),
                  "has the opposite sign": -DERIVATIVES[name][2](z)}
        table = {
            "sigmoid": {"is σ(z)(1 + σ(z)): the derivative is σ(z)(1 − σ(z))": s * (1 + s),
                        "is 1 − σ(z) = e^(−z)/(1 + e^(−z)): the quotient rule gives e^(−z)/(1 + e^(−z))² "
                        "= σ(z)(1 − σ(z))": 1 - s,
                        "is σ(z)²: the derivative is σ(z)(1 − σ(z))": s * s,
                        "is σ(σ(z))(1 − σ(σ(z))): σ is applied twice — use s = sigmoid(z), then s (1 − s)":
                            A.sigmoid(s) * (1 - A.sigmoid(s))},
            "tanh": {"is 1 − tanh z: the derivative is 1 − tanh² z (square it)": 1 - t,
                     "is 1 + tanh² z: the derivative is 1 − tanh² z": 1 + t * t,
                     "is 1/cosh z: the derivative is 1/cosh² z = 1 − tanh² z": 1 / np.cosh(z),
                     "is tanh z (1 − tanh z), the sigmoid's pattern: tanh' is 1 − tanh² z": t * (1 - t),
                     "is σ'(z) = σ(z)(1 − σ(z)), the sigmoid's derivative: tanh' is 1 − tanh² z": s * (1 - s),
                     "is 1 − 2 tanh z: the derivative is 1 − tanh² z (tanh squared, not doubled)": 1 - 2 * t},
            "relu": {"is 1 where z < 0: ReLU' is 1 for z > 0 and 0 for z < 0": (z < 0).astype(float),
                     "is 1 at z = 0: ReLU is not differentiable there, and the course (like PyTorch) uses "
                     "ReLU'(0) = 0 — use z > 0, not z >= 0": (z >= 0).astype(float),
                     "is −1 where z < 0 (np.sign): ReLU' is 0 there, 1 for z > 0": np.sign(z),
                     "gives 0.5 at z = 0: the course (like PyTorch) uses ReLU'(0) = 0": np.heaviside(z, 0.5)},
            "softplus": {"is σ(−z): d/dz ln(1 + e^z) = e^z/(1 + e^z) = σ(z)": A.sigmoid(-z),
                         "is e^z: the chain rule gives e^z/(1 + e^z) = σ(z)": np.exp(np.minimum(z, 700)),
                         "is σ(z)(1 − σ(z)), the second derivative of softplus: softplus'(z) = σ(z)":
                             s * (1 - s)},
            "chain": {"forgets the inner derivative 2x: F'(x) = ½(x² + 1)^(−1/2) · 2x": 0.5 / np.sqrt(z * z + 1),
                      "forgets the ½ of the outer derivative: F'(x) = ½(x² + 1)^(−1/2) · 2x":
                          2 * z / np.sqrt(z * z + 1),
                      "uses the exponent +½ in the outer derivative: d/du u^(1/2) = ½ u^(−1/2)":
                          z * np.sqrt(z * z + 1),
                      "divides by x² + 1 instead of its square root: ½ u^(−1/2) · 2x = x / √(x² + 1)":
                          z / (z * z + 1),
                      "uses integer division //: x // √(x² + 1) rounds down to a whole number — use /":
                          z // np.sqrt(z * z + 1)},
        }
    return {**common, **table[name]}


def _advice(exc: Any) -> str | None:
    if "arrays can be converted to Python scalars" in exc.message or "ambiguous" in exc.message:
        return ("a function for one number was given an array: math.exp, float(), int() and `if z > 0` work "
                "on one number — use np.exp and elementwise comparisons ((z > 0).astype(float), np.where), "
                "which work on whole arrays")
    return None


def check_derivative(fn: Callable, name: str, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``fn(z)``, elementwise on arrays, must equal the derivative of the activation ``name``.

    ``name``: "sigmoid", "tanh", "relu", "softplus", or "chain" for F(x) = √(x² + 1).  Compared with the
    exact derivative (and the reference with central differences).  ``cases``: list of input arrays.
    """
    if name not in DERIVATIVES:
        raise ValueError(f"check_derivative: unknown name {name!r}; choose one of {sorted(DERIVATIVES)}")
    label, f, fprime = DERIVATIVES[name]
    fn_name = fname(fn, f"{name}_prime")
    show = show_values
    zs = [np.asarray(z, dtype=np.float64) for z in (CASES if cases is None else cases)]
    if name in ("sigmoid", "tanh", "softplus", "chain") and cases is None:
        zs.append(LARGE)
    for z in zs:
        case = f"{fn_name}(z) for the derivative of {label}, z of shape {z.shape}" + (
            f", z = {np.round(z, 4).tolist()}" if show and z.size <= 6 else "")
        z_in = z.copy()
        got = invoke(fn, fn_name, z_in, allowed=ALLOWED, allowed_text=ALLOWED_TEXT, advice=_advice)
        if not np.array_equal(z_in, z):
            fail(f"{fn_name} changed its input z in place: compute a new array", case)
        with np.errstate(all="ignore"):
            ref = np.asarray(fprime(z), dtype=np.float64)
        try:
            g = host(got)
        except (TypeError, ValueError):
            fail(f"{fn_name} should return an array of numbers, got {type(got).__name__}", case)
        if got is None:
            fail(f"{fn_name} returned None: return the array of derivatives (is there a `return` at the end?)", case)
        if g.shape == ref.shape and not np.all(np.isfinite(g)):
            bad = z[~np.isfinite(g)]
            at = bad.reshape(-1)[0] if bad.size else None
            where = f" at z = {at:g}" if at is not None else ""
            if at is not None and abs(at) < 100:
                fail(f"{fn_name} returns NaN or inf{where}: a division by zero (or 0/0) there — avoid dividing "
                     f"by z or by something that can be 0", case)
            fail(f"{fn_name} returns NaN or inf{where}: an exponential overflowed there (e^800 is beyond float64's "
                 f"range, and inf/inf is NaN). {STABLE.get(name, STABLE['sigmoid'])}, which stays finite", case)
        judge(got, ref, f"{fn_name}(z)", case, show, first=suspects(name, z), gradient=False)
        rules.array_result(got, fn_name, "an array shaped like z", case, floats=name == "relu")
    rules.no_loop(fn, fn_name, "apply NumPy's elementwise operations (np.exp, np.tanh, z > 0, np.where) to the "
                  "whole array z at once")
    ok(f"{fn_name} looks correct (matches the derivative of {label})")
