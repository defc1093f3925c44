"""The error function and the standard normal distribution, on any backend (no SciPy).

    erf(x)  = (2/√π) ∫₀ˣ e^{−t²} dt,        erfc(x) = 1 − erf(x),
    Φ(x)    = P(Z ≤ x) = ½ erfc(−x/√2),      φ(x) = Φ'(x) = e^{−x²/2} / √(2π)   (Z ~ N(0, 1)).

GELU (``nnlib.activations_extra``) needs Φ.  NumPy has no erf, SciPy is not a runtime dependency, and
``math.erf`` is a Python-level scalar function (a loop over elements), so erf is computed here with array
operations of the current backend (``nnlib.backend.xp``): the same code runs on NumPy, CuPy and the strict
test backend.

The method is W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations for the
error function", Mathematics of Computation 23, 1969; the CALERF routine of SPECFUN), with y = |x|:

    y ≤ 0.46875       erf(x)  = x · A(y²) / B(y²)                         (A, B of degree 4)
    0.46875 < y ≤ 4   erfc(y) = e^{−y²} · C(y) / D(y)                      (C, D of degree 8)
    y > 4             erfc(y) = e^{−y²}/y · (1/√π − z P(z)/Q(z)),  z = 1/y²  (P, Q of degree 5 and 4)

and erfc(−y) = 2 − erfc(y).  e^{−y²} is computed as e^{−s²} · e^{−(y − s)(y + s)} with s = y rounded down
to a multiple of 1/16 (s² is then exact), so the cancellation in y² costs nothing.  The approximations
themselves are accurate far below float64 rounding; the results are within a few units in the last place
of the exact values (tests/test_new_layers.py compares them with ``math.erf``/``math.erfc``).  Unlike
1 − erf, ``erfc`` keeps its relative accuracy in the tail (erfc(26) ≈ 5.7e−296).

Speed: all three branches are evaluated for every element on clamped copies of y (so every branch is
finite) and one is chosen arithmetically (``_select``) — about 55 elementwise passes, most in place, no
Python loop over elements, no data-dependent indexing (which would synchronise a GPU).
"""

from __future__ import annotations

import math
from typing import Any

from nnlib import backend as B

Array = Any

__all__ = ["erf", "erfc", "normal_cdf", "normal_pdf"]

_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_THRESH = 0.46875
_INV_SQRT_PI = 5.6418958354775628695e-1
_INV_SQRT2 = 0.70710678118654752440
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_Y_MAX = 30.0  # erfc(y) underflows to exactly 0 in float64 from y ≈ 27.3 on; clamping keeps inf out


def _ratio(num_coef: tuple, den_coef: tuple, t: Array, n: int) -> Array:
    """Cody's Horner scheme (((c_n+1 t + c_0) t + c_1) t … + c_n) / (((t + d_0) t + d_1) t … + d_n), in place."""
    xp = B.xp
    num = t * num_coef[-1]
    den = t + den_coef[0]
    for i in range(n):
        num += num_coef[i]
        num *= t
        if i:
            den += den_coef[i]
        den *= t
    num += num_coef[n]
    den += den_coef[n]
    return xp.divide(num, den, out=num)


def _small(x: Array) -> Array:
    """erf(x) for |x| ≤ 0.46875 (evaluated on x clamped into that interval)."""
    xs = B.xp.clip(x, -_THRESH, _THRESH)
    r = _ratio(_A, _B, xs * xs, 3)
    r *= xs
    return r


def _erfc_tail(y: Array) -> Array:
    """erfc(y) for y = |x| > 0.46875 (any y ≥ 0 is accepted; the caller discards y ≤ 0.46875)."""
    xp = B.xp
    y = xp.minimum(y, _Y_MAX)
    mid = _ratio(_C, _D, xp.minimum(y, 4.0), 7)
    yb = xp.maximum(y, 4.0)
    z = yb * yb
    xp.divide(1.0, z, out=z)
    big = _ratio(_P, _Q, z, 4)
    big *= z
    xp.subtract(_INV_SQRT_PI, big, out=big)
    big /= yb
    r = _select(y <= 4.0, mid, big)
    s = y * 16.0
    xp.trunc(s, out=s)
    s *= 0.0625  # s = y rounded down to a multiple of 1/16: s² is exact
    d = y - s
    d *= y + s  # y² − s² as (y − s)(y + s): no cancellation
    s *= s
    xp.negative(s, out=s)
    xp.exp(s, out=s)
    xp.negative(d, out=d)
    xp.exp(d, out=d)
    s *= d  # e^{−y²} = e^{−s²} e^{−(y² − s²)}
    s *= r
    return s
def _select(cond: Array, a: Array, b: Array) -> Array:
    """a where cond, else b, for finite a and b: a·cond + b·¬cond is exact (x + 0 = x) and, with boolean
    factors, several times faster than ``xp.where`` on NumPy (0.6 against 4.5 ms for 600,000 numbers)."""
    out = a * cond
    out += b * ~cond
    return out


def erf(x: Array) -> Array:
    """erf(x) elementwise, to float64 precision (Cody 1969, see the module docstring)."""
    xp = B.xp
    y = xp.abs(x)
    e = _erfc_tail(y)
    xp.subtract(1.0, e, out=e)
    tail = xp.copysign(e, x)  # erf(−x) = −erf(x): ±(1 − erfc|x|)
    return _select(y <= _THRESH, _small(x), tail).astype(x.dtype, copy=False)


def erfc(x: Array) -> Array:
    """erfc(x) = 1 − erf(x) elementwise, accurate in relative terms in the right tail too."""
    y = B.xp.abs(x)
    e = _erfc_tail(y)
    small = _small(x)
    small *= -1.0
    small += 1.0
    return _select(y <= _THRESH, small, _select(x > 0, e, 2.0 - e)).astype(x.dtype, copy=False)


def normal_cdf(x: Array) -> Array:
    """Φ(x) = ½ erfc(−x/√2): the standard normal CDF, relatively accurate in the left tail (Φ(−30) ≈ 4.9e−198)."""
    return 0.5 * erfc(-x * _INV_SQRT2)


def normal_pdf(x: Array) -> Array:
    """φ(x) = e^{−x²/2} / √(2π)."""
    return B.xp.exp(-0.5 * x * x) * _INV_SQRT_2PI
