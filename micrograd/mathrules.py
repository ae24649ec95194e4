"""The rule table, second half: Python's `math` beyond the Value operators (used by `micrograd.math`).

Read `micrograd/primitives.py` first: this file is laid out the same way, one row per operation,

    NAME = Rule("name", forward, partials)

``forward(*xs)`` maps floats to a float: exactly what `math` returns wherever `math` returns,
and where `math` raises (a domain error or an overflow) the IEEE 754 value that C99 and PyTorch
give instead (``log2(0)`` is -inf, ``acos(2)`` nan, ``gamma(0)`` inf, ``sinh(1000)`` inf).
``partials(*xs, out)`` gives d out / d x_i, written with arithmetic and with primitives of
both tables (``exp(x)``, ``div(a, b)``, ``digamma(x)``), which accept floats and Values, so
every partial can itself be differentiated: lgamma's partial is digamma, digamma's is
polygamma(1), polygamma(n)'s is polygamma(n + 1), and so on to any order.

`math` has no digamma or polygamma, so they are here (`polygamma_float`), to about 1e-15 relative
error away from their zeros.  A `Rule` is a `Primitive` that pickles by its name, so a saved
graph finds this table again.

This module imports only `micrograd.primitives`: the rules know nothing of the engine.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from .primitives import Primitive, data, div, exp, ieee, sqrt


class Rule(Primitive):
    """A row of this table: a `Primitive` that pickles by name (see `rule_named`)."""

    __slots__ = ()

    def __reduce__(self) -> Any:
        return (rule_named, (self.name,))


# ---------------------------------------------------------------- IEEE forwards
_nan = lambda *xs: math.nan  # noqa: E731
_inf = lambda *xs: math.inf  # noqa: E731
_signed_inf = lambda x, *rest: math.copysign(math.inf, x)  # noqa: E731  sinh, ldexp overflow; atanh(+-1)


def _log_error(x: float) -> float:
    return -math.inf if x == 0 else math.nan  # log of 0 is -inf, of a negative number (or -inf) nan


def _log1p_error(x: float) -> float:
    return -math.inf if x == -1 else math.nan


def _atanh_error(x: float) -> float:
    return math.copysign(math.inf, x) if abs(x) == 1 else math.nan


def _gamma_error(x: float) -> float:
    """C99 tgamma where math.gamma raises: a pole (signed at 0, nan at a negative integer), -inf, overflow."""
    if x == 0:
        return math.copysign(math.inf, x)
    if x < 0 and (x == -math.inf or x == math.floor(x)):
        return math.nan
    if x > 0:
        return math.inf
    return -math.inf if math.floor(x) % 2 else math.inf  # next to a negative pole: gamma's sign there


def _integral(fn: Callable[[float], int]) -> Callable[[float], float]:
    """floor, ceil or trunc as a float, as C and PyTorch give it: inf and nan stay, and so does the sign of 0."""

    def forward(x: float) -> float:
        return math.copysign(float(fn(x)), x) if math.isfinite(x) else x

    return forward


def _copysign_slope(x: float, y: float) -> float:
    """d copysign(x, y) / dx = sign(x) * sign bit of y; 0 at x == 0 (as PyTorch); nan for nan."""
    if x != x:
        return x
    return 0.0 if x == 0 else math.copysign(1.0, x) * math.copysign(1.0, y)


def _quotient(a: float, b: float, r: float) -> float:
    """The whole number n with a == n * b + r, from fmod's or remainder's r: d r / d b == -n."""
    if r != r or math.isinf(b):
        return r if r != r else 0.0  # nan in, nan out; x - 0 * inf for an infinite divisor
    q = (a - r) / b
    return float(round(q)) if math.isfinite(q) else q


def _fma(x: float, y: float, z: float) -> float:
    fma = getattr(math, "fma", None)  # Python 3.13+
    if fma is not None:
        try:
            return float(fma(x, y, z))
        except (ValueError, OverflowError):
            pass
    return x * y + z  # only reached where the result is inf or nan (or on Python < 3.13: rounded twice)


def _sumprod(*pq: float) -> float:
    n = len(pq) // 2
    sumprod = getattr(math, "sumprod", None)  # Python 3.12+
    if sumprod is not None:
        return float(sumprod(pq[:n], pq[n:]))
    return _fsum(*map(operator.mul, pq[:n], pq[n:]))


def _fsum(*xs: float) -> float:
    try:
        return math.fsum(xs)
    except (OverflowError, ValueError):  # fsum raises where IEEE says inf or nan; left-to-right says which
        total = 0.0
        for x in xs:
            total += x
        return total


def _hypot_partials(*xs_out: Any) -> tuple[Any, ...]:
    # d hypot / d x_i = x_i / hypot; at the origin 0, the subgradient PyTorch's norms use
    *xs, out = xs_out
    return tuple(0.0 if data(out) == 0 else div(x, out) for x in xs)


def _atan2_partials(y: Any, x: Any, out: Any) -> tuple[Any, Any]:
    # x / (x^2 + y^2) and -y / (x^2 + y^2), as (x / h) / h with h = hypot: no overflow or underflow in x^2 + y^2;
    # 0 at the origin, as PyTorch
    h = hypot(y, x)
    return (0.0, 0.0) if data(h) == 0 else (div(div(x, h), h), -div(div(y, h), h))


def _dist_partials(*pq_out: Any) -> tuple[Any, ...]:
    *pq, out = pq_out
    n = len(pq) // 2
    ds = [0.0 if data(out) == 0 else div(p - q, out) for p, q in zip(pq[:n], pq[n:])]
    return (*ds, *(-d for d in ds))


def _dist(*pq: float) -> float:
    n = len(pq) // 2
    return math.dist(pq[:n], pq[n:])


# ---------------------------------------------------------------- digamma and polygamma
# Bernoulli numbers B_2, B_4, ..., B_30 (DLMF Table 24.2.1)
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
              -174611 / 330, 854513 / 138, -236364091 / 2730, 8553103 / 6, -23749461029 / 870,
              8615841276005 / 14322)


def polygamma_float(n: int, x: float) -> float:
    """psi^(n)(x), the n-th derivative of digamma = d/dx ln Gamma(x), for a whole n >= 0, on a float.

    Source: DLMF 5.15 (https://dlmf.nist.gov/5.15).  For x > 0 the recurrence 5.15.5,
    psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n! / x^(n+1), moves x up to 10 + n, where the asymptotic
    series 5.11.2 (n = 0) and 5.15.8 (n >= 1) converge to double precision within 15 Bernoulli
    terms; the sum is taken with math.fsum.  For x < 0 the reflection formula 5.15.6,
    psi(1 - x) - psi(x) = pi cot(pi x), differentiated n times, brings x to 1 - x > 1:
    d^n/dx^n cot(pi x) = pi^n Q_n(cot(pi x)) with Q_0(c) = c, Q_{k+1}(c) = -(1 + c^2) Q_k'(c),
    and cot(pi x) is taken at r = x minus its nearest whole number (exact), as tan(pi (1/2 - |r|)) near
    its zeros, so neither large |x| nor half-integers lose accuracy.
    Accuracy: about 1e-15 relative (checked against mpmath in tests/test_math.py), except near a
    zero of psi^(n), where the error is about 1e-16 absolute.

    IEEE values, as PyTorch where it is consistent: the poles at 0 are signed like the zero
    (digamma(0.0) = -inf, digamma(-0.0) = inf); at a negative whole number psi^(n) is +inf for n odd
    (both sides agree) and nan for n even (they disagree); psi(inf) = inf, psi^(n)(inf) = 0;
    psi^(n)(-inf) and psi^(n)(nan) are nan.
    """
    if x != x or x == -math.inf:
        return math.nan
    if x == math.inf:
        return math.inf if n == 0 else (0.0 if n % 2 else -0.0)
    if x <= 0:
        if x == math.floor(x):  # a pole
            if x == 0:  # psi^(n)(x) ~ (-1)^(n+1) n! / x^(n+1) near 0
                return math.copysign(math.inf, (-1.0) ** (n + 1) * math.copysign(1.0, x) ** (n + 1))
            return math.inf if n % 2 else math.nan
        r = x - round(x)  # exact, in [-1/2, 1/2]; cot(pi x) = cot(pi r)
        c = 1.0 / math.tan(math.pi * r) if abs(r) < 0.25 else math.copysign(math.tan(math.pi * (0.5 - abs(r))), r)
        q = [0.0, 1.0]  # Q_0(c) = c; q[i] is the coefficient of c^i
        for _ in range(n):
            dq = [i * q[i] for i in range(1, len(q))] + [0.0, 0.0]  # Q'(c), padded to the new degree
            q = [-(dq[i] + (dq[i - 2] if i >= 2 else 0.0)) for i in range(len(q) + 1)]  # -(1 + c^2) Q'(c)
        poly = q[-1]
        for coefficient in reversed(q[:-1]):  # Horner (from the leading coefficient: no 0 * inf when c is inf)
            poly = poly * c + coefficient
        return (-1.0) ** n * polygamma_float(n, 1.0 - x) - math.pi ** (n + 1) * poly
    return _polygamma_positive(n, x)


def _polygamma_positive(n: int, x: float) -> float:
    factorial = float(math.factorial(n)) if n <= 170 else math.inf
    terms: list[float] = []
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
    while x < 10 + n:  # recurrence 5.15.5: psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n+1) n! / x^(n+1)
        terms.append(sign * factorial * _power(1.0 / x, n + 1) if n else -1.0 / x)
        x += 1.0
    t = 1.0 / x
    t2 = t * t
    if n == 0:  # 5.11.2: ln x - 1/(2x) - sum B_2k / (2k x^2k)
        terms += [math.log(x), -0.5 * t]
        power = t2
        for k, b in enumerate(_BERNOULLI, 1):
            terms.append(-b / (2 * k) * power)
            power *= t2
    else:  # 5.15.8: (-1)^(n+1) [(n-1)!/x^n + n!/(2 x^(n+1)) + sum B_2k (2k+n-1)!/(2k)! / x^(2k+n)]
        tn = t ** n
        terms += [sign * factorial / n * tn, sign * factorial / 2 * tn * t]
        power = tn * t2
        for k, b in enumerate(_BERNOULLI, 1):
            ratio = float(math.prod(range(2 * k + 1, 2 * k + n)))  # (2k+n-1)! / (2k)!
            terms.append(sign * b * ratio * power)
            power *= t2
    return _fsum(*terms)


def _power(t: float, k: int) -> float:
    try:
        return t ** k
    except OverflowError:  # Python raises where IEEE says inf (t > 0 here)
        return math.inf


def _two_to(i: float) -> float:
    """2 ** i for a whole i, inf where it overflows: d ldexp(x, i) / dx."""
    try:
        return math.ldexp(1.0, int(i))
    except OverflowError:
        return math.inf


# the rules' partials call these (bound below) on floats or Values
digamma: Primitive
hypot: Primitive
cosh: Primitive
sinh: Primitive


def polygamma(n: int, x: Any) -> Any:
    """psi^(n)(x) (torch.special.polygamma's argument order), on a float or a Value; n a whole number >= 0."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"polygamma: the order n must be a whole number >= 0, not {n!r}")
    return POLYGAMMA(x, float(n))


LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)  # d erf / dx = 2/sqrt(pi) exp(-x^2)
DEGREE, DEGREES_PER_RADIAN = math.pi / 180.0, 180.0 / math.pi  # CPython's degToRad and radToDeg

# name                 forward                                   partials (xs..., out[, const])  source: calculus
EXP2 = Rule("exp2", ieee(getattr(math, "exp2", lambda x: math.pow(2.0, x)), _inf), lambda x, out: (out * LN2,))
EXPM1 = Rule("expm1", ieee(math.expm1, _inf), lambda x, out: (exp(x),))
LOG1P = Rule("log1p", ieee(math.log1p, _log1p_error), lambda x, out: (div(1.0, 1.0 + x),))
LOG2 = Rule("log2", ieee(math.log2, _log_error), lambda x, out: (div(1.0, x * LN2),))
LOG10 = Rule("log10", ieee(math.log10, _log_error), lambda x, out: (div(1.0, x * LN10),))
CBRT = Rule("cbrt", getattr(math, "cbrt", lambda x: math.copysign(abs(x) ** (1 / 3), x)),
            lambda x, out: (div(1.0, 3.0 * out * out),))
TAN = Rule("tan", ieee(math.tan, _nan), lambda x, out: (1.0 + out * out,))  # sec^2 = 1 + tan^2
ASIN = Rule("asin", ieee(math.asin, _nan), lambda x, out: (div(1.0, sqrt((1.0 - x) * (1.0 + x))),))
ACOS = Rule("acos", ieee(math.acos, _nan), lambda x, out: (-div(1.0, sqrt((1.0 - x) * (1.0 + x))),))
ATAN = Rule("atan", math.atan, lambda x, out: (div(1.0, 1.0 + x * x),))
ATAN2 = Rule("atan2", math.atan2, _atan2_partials)
SINH = Rule("sinh", ieee(math.sinh, _signed_inf), lambda x, out: (cosh(x),))
COSH = Rule("cosh", ieee(math.cosh, _inf), lambda x, out: (sinh(x),))
ASINH = Rule("asinh", math.asinh, lambda x, out: (div(1.0, hypot(x, 1.0)),))  # 1/sqrt(x^2 + 1), no overflow
ACOSH = Rule("acosh", ieee(math.acosh, _nan), lambda x, out: (div(1.0, sqrt(x - 1.0) * sqrt(x + 1.0)),))
ATANH = Rule("atanh", ieee(math.atanh, _atanh_error), lambda x, out: (div(1.0, (1.0 - x) * (1.0 + x)),))
ERF = Rule("erf", math.erf, lambda x, out: (TWO_OVER_SQRT_PI * exp(-(x * x)),))
ERFC = Rule("erfc", math.erfc, lambda x, out: (-TWO_OVER_SQRT_PI * exp(-(x * x)),))
GAMMA = Rule("gamma", ieee(math.gamma, _gamma_error), lambda x, out: (out * digamma(x),))  # DLMF 5.2.2
LGAMMA = Rule("lgamma", ieee(math.lgamma, _inf), lambda x, out: (digamma(x),))
DIGAMMA = Rule("digamma", lambda x: polygamma_float(0, x), lambda x, out: (polygamma(1, x),))
POLYGAMMA = Rule("polygamma({})", lambda x, n: polygamma_float(int(n), x),
                 lambda x, out, n: (polygamma(int(n) + 1, x),), const=True)  # n is the constant
HYPOT = Rule("hypot", math.hypot, _hypot_partials)  # n-ary: sqrt(x_0^2 + x_1^2 + ...)
DIST = Rule("dist", _dist, _dist_partials)  # parents (*p, *q): hypot of p - q
COPYSIGN = Rule("copysign", math.copysign, lambda x, y, out: (_copysign_slope(data(x), data(y)), 0.0))
FMOD = Rule("fmod", ieee(math.fmod, _nan),  # x - n y, n = trunc(x / y)
            lambda x, y, out: (1.0, -_quotient(data(x), data(y), data(out))))
REMAINDER = Rule("remainder", ieee(math.remainder, _nan),  # x - n y, n = x / y rounded half to even
                 lambda x, y, out: (1.0, -_quotient(data(x), data(y), data(out))))
DEGREES = Rule("degrees", lambda x: x * DEGREES_PER_RADIAN, lambda x, out: (DEGREES_PER_RADIAN,))
RADIANS = Rule("radians", lambda x: x * DEGREE, lambda x, out: (DEGREE,))
FLOOR = Rule("floor", _integral(math.floor), lambda x, out: (0.0,))  # piecewise constant
CEIL = Rule("ceil", _integral(math.ceil), lambda x, out: (0.0,))
TRUNC = Rule("trunc", lambda x: math.modf(x)[1], lambda x, out: (0.0,))  # modf keeps inf, nan and -0.0
FRAC = Rule("frac", lambda x: math.modf(x)[0], lambda x, out: (1.0,))  # x - trunc(x), math.modf's first half
LDEXP = Rule("ldexp({})", ieee(lambda x, i: math.ldexp(x, int(i)), _signed_inf),  # x * 2^i, i the constant
             lambda x, out, i: (_two_to(i),))
FMA = Rule("fma", _fma, lambda x, y, z, out: (y, x, 1.0))  # x * y + z rounded once
SUMPROD = Rule("sumprod", _sumprod,  # parents (*p, *q): sum of p_i q_i, d/dp_i = q_i, d/dq_i = p_i
               lambda *pq_out: (*pq_out[len(pq_out) // 2:-1], *pq_out[:len(pq_out) // 2]))

# functions that accept numbers or Values (the partials above use them for create_graph)
digamma, hypot, cosh, sinh = DIGAMMA, HYPOT, COSH, SINH

TABLE: dict[str, Rule] = {rule.name: rule for rule in (
    EXP2, EXPM1, LOG1P, LOG2, LOG10, CBRT, TAN, ASIN, ACOS, ATAN, ATAN2, SINH, COSH, ASINH, ACOSH, ATANH, ERF,
    ERFC, GAMMA, LGAMMA, DIGAMMA, POLYGAMMA, HYPOT, DIST, COPYSIGN, FMOD, REMAINDER, DEGREES, RADIANS, FLOOR,
    CEIL, TRUNC, FRAC, LDEXP, FMA, SUMPROD)}


def rule_named(name: str) -> Rule:
    """The rule of this table called `name` (how a pickled graph finds it again)."""
    return TABLE[name]
