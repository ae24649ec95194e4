"""Python's `math`, differentiable: ``import micrograd.math as math`` and existing code takes Values.

Every name of the running Python's `math` module is here (``__all__`` is exactly that list:
``exp2`` and ``cbrt`` from Python 3.11, ``sumprod`` 3.12, ``fma`` 3.13, as in `math`).  On numbers each
function returns exactly what `math` returns, raising what `math` raises (``log(-1)`` is a
ValueError): numbers in, Python's semantics.  When any argument is a `Value` it records a node
and returns a Value, whose number follows IEEE 754 like PyTorch instead of raising
(``log(Value(-1))`` is nan, ``exp(Value(1000))`` inf): a graph gives one answer in every mode.
The rules (forward and derivative of each function) are in `micrograd/mathrules.py` and
`micrograd/primitives.py`; this file only decides which to call.

- floor, ceil and trunc of a Value are Values (a float, with a zero gradient), since a graph
  holds floats; modf and frexp give Values where `math` gives floats.
- isfinite, isinf, isnan and isclose read the number (``.data``) and return a bool.
- Functions of whole numbers (factorial, comb, perm, gcd, lcm, isqrt) and of the float grid
  (nextafter, ulp) have no derivative: on a Value they raise TypeError, naming ``.data``.

Importing `micrograd` does not import this module; ``import micrograd.math`` does.
"""

from __future__ import annotations

import math as _math
import operator
import sys
from collections.abc import Iterable
from functools import reduce
from typing import Any, SupportsIndex, overload

from . import mathrules as rules
from .engine import Value
from .primitives import ABS, COS, EXP, LOG, POW, POWC, SIN, SQRT, SUM, TANH, Primitive, as_float, div

Real = float  # an int or a float (and anything `math` takes); a Value is not one
Number = Value | float

e, pi, tau, inf, nan = _math.e, _math.pi, _math.tau, _math.inf, _math.nan


def _record(rule: Primitive, args: Iterable[Any], const: float | None = None) -> Value:
    """The node of `rule` on `args` (Values and numbers): what every function below does on Values."""
    return Value.record(rule, tuple(args), const)


def _is_value(*xs: object) -> bool:
    return any(isinstance(x, Value) for x in xs)


def _number(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _no_derivative(name: str, *xs: object) -> None:
    if _is_value(*xs):
        raise TypeError(f"math.{name}() has no derivative, so micrograd.math.{name} takes numbers, not Values; "
                        f"pass v.data (the float) to use the number")


# ---------------------------------------------------------------- powers and logarithms
@overload
def exp(x: Value) -> Value: ...
@overload
def exp(x: Real) -> float: ...
def exp(x: Any) -> Any:
    """e ** x."""
    return _record(EXP, (x,)) if isinstance(x, Value) else _math.exp(x)


if sys.version_info >= (3, 11):
    @overload
    def exp2(x: Value) -> Value: ...
    @overload
    def exp2(x: Real) -> float: ...
    def exp2(x: Any) -> Any:
        """2 ** x (Python 3.11+)."""
        return _record(rules.EXP2, (x,)) if isinstance(x, Value) else _math.exp2(x)

    @overload
    def cbrt(x: Value) -> Value: ...
    @overload
    def cbrt(x: Real) -> float: ...
    def cbrt(x: Any) -> Any:
        """The real cube root (Python 3.11+).  Its derivative is inf at 0."""
        return _record(rules.CBRT, (x,)) if isinstance(x, Value) else _math.cbrt(x)


@overload
def expm1(x: Value) -> Value: ...
@overload
def expm1(x: Real) -> float: ...
def expm1(x: Any) -> Any:
    """e ** x - 1, accurate for small x."""
    return _record(rules.EXPM1, (x,)) if isinstance(x, Value) else _math.expm1(x)


@overload
def log(x: Value, base: Number = ..., /) -> Value: ...
@overload
def log(x: Real, base: Value, /) -> Value: ...
@overload
def log(x: Real, base: Real = ..., /) -> float: ...
def log(x: Any, base: Any = None, /) -> Any:
    """The natural logarithm, or with `base`, log(x) / log(base) (as `math` computes it)."""
    if not _is_value(x, base):
        return _math.log(x) if base is None else _math.log(x, base)
    logx = _record(LOG, (x,)) if isinstance(x, Value) else LOG(x)
    return logx if base is None else div(logx, _record(LOG, (base,)) if isinstance(base, Value) else LOG(base))


@overload
def log1p(x: Value) -> Value: ...
@overload
def log1p(x: Real) -> float: ...
def log1p(x: Any) -> Any:
    """log(1 + x), accurate for small x."""
    return _record(rules.LOG1P, (x,)) if isinstance(x, Value) else _math.log1p(x)


@overload
def log2(x: Value) -> Value: ...
@overload
def log2(x: Real) -> float: ...
def log2(x: Any) -> Any:
    """The base-2 logarithm."""
    return _record(rules.LOG2, (x,)) if isinstance(x, Value) else _math.log2(x)


@overload
def log10(x: Value) -> Value: ...
@overload
def log10(x: Real) -> float: ...
def log10(x: Any) -> Any:
    """The base-10 logarithm."""
    return _record(rules.LOG10, (x,)) if isinstance(x, Value) else _math.log10(x)


@overload
def pow(x: Value, y: Number, /) -> Value: ...
@overload
def pow(x: Real, y: Value, /) -> Value: ...
@overload
def pow(x: Real, y: Real, /) -> float: ...
def pow(x: Any, y: Any, /) -> Any:
    """x ** y as a float (math.pow); on Values with a number exponent, the ``x ** c`` node."""
    if isinstance(y, Value):
        return _record(POW, (x, y))
    return _record(POWC, (x,), as_float(y)) if isinstance(x, Value) else _math.pow(x, y)


@overload
def sqrt(x: Value) -> Value: ...
@overload
def sqrt(x: Real) -> float: ...
def sqrt(x: Any) -> Any:
    """The square root.  Its derivative is inf at 0."""
    return _record(SQRT, (x,)) if isinstance(x, Value) else _math.sqrt(x)


# ---------------------------------------------------------------- trigonometry and hyperbolic functions
@overload
def sin(x: Value) -> Value: ...
@overload
def sin(x: Real) -> float: ...
def sin(x: Any) -> Any:
    """The sine of x radians."""
    return _record(SIN, (x,)) if isinstance(x, Value) else _math.sin(x)


@overload
def cos(x: Value) -> Value: ...
@overload
def cos(x: Real) -> float: ...
def cos(x: Any) -> Any:
    """The cosine of x radians."""
    return _record(COS, (x,)) if isinstance(x, Value) else _math.cos(x)


@overload
def tan(x: Value) -> Value: ...
@overload
def tan(x: Real) -> float: ...
def tan(x: Any) -> Any:
    """The tangent of x radians."""
    return _record(rules.TAN, (x,)) if isinstance(x, Value) else _math.tan(x)


@overload
def asin(x: Value) -> Value: ...
@overload
def asin(x: Real) -> float: ...
def asin(x: Any) -> Any:
    """The arc sine, in radians; on a Value nan outside [-1, 1], and the derivative is inf at +-1."""
    return _record(rules.ASIN, (x,)) if isinstance(x, Value) else _math.asin(x)


@overload
def acos(x: Value) -> Value: ...
@overload
def acos(x: Real) -> float: ...
def acos(x: Any) -> Any:
    """The arc cosine, in radians; on a Value nan outside [-1, 1], and the derivative is -inf at +-1."""
    return _record(rules.ACOS, (x,)) if isinstance(x, Value) else _math.acos(x)


@overload
def atan(x: Value) -> Value: ...
@overload
def atan(x: Real) -> float: ...
def atan(x: Any) -> Any:
    """The arc tangent, in radians."""
    return _record(rules.ATAN, (x,)) if isinstance(x, Value) else _math.atan(x)


@overload
def atan2(y: Value, x: Number, /) -> Value: ...
@overload
def atan2(y: Real, x: Value, /) -> Value: ...
@overload
def atan2(y: Real, x: Real, /) -> float: ...
def atan2(y: Any, x: Any, /) -> Any:
    """The angle of the point (x, y), in [-pi, pi].  The derivative at the origin is 0, as PyTorch's."""
    return _record(rules.ATAN2, (y, x)) if _is_value(y, x) else _math.atan2(y, x)


@overload
def sinh(x: Value) -> Value: ...
@overload
def sinh(x: Real) -> float: ...
def sinh(x: Any) -> Any:
    """The hyperbolic sine."""
    return _record(rules.SINH, (x,)) if isinstance(x, Value) else _math.sinh(x)


@overload
def cosh(x: Value) -> Value: ...
@overload
def cosh(x: Real) -> float: ...
def cosh(x: Any) -> Any:
    """The hyperbolic cosine."""
    return _record(rules.COSH, (x,)) if isinstance(x, Value) else _math.cosh(x)


@overload
def tanh(x: Value) -> Value: ...
@overload
def tanh(x: Real) -> float: ...
def tanh(x: Any) -> Any:
    """The hyperbolic tangent."""
    return _record(TANH, (x,)) if isinstance(x, Value) else _math.tanh(x)


@overload
def asinh(x: Value) -> Value: ...
@overload
def asinh(x: Real) -> float: ...
def asinh(x: Any) -> Any:
    """The inverse hyperbolic sine."""
    return _record(rules.ASINH, (x,)) if isinstance(x, Value) else _math.asinh(x)


@overload
def acosh(x: Value) -> Value: ...
@overload
def acosh(x: Real) -> float: ...
def acosh(x: Any) -> Any:
    """The inverse hyperbolic cosine; on a Value nan below 1, and the derivative is inf at 1."""
    return _record(rules.ACOSH, (x,)) if isinstance(x, Value) else _math.acosh(x)


@overload
def atanh(x: Value) -> Value: ...
@overload
def atanh(x: Real) -> float: ...
def atanh(x: Any) -> Any:
    """The inverse hyperbolic tangent; on a Value +-inf at +-1 and nan beyond."""
    return _record(rules.ATANH, (x,)) if isinstance(x, Value) else _math.atanh(x)


@overload
def degrees(x: Value) -> Value: ...
@overload
def degrees(x: Real) -> float: ...
def degrees(x: Any) -> Any:
    """Radians to degrees."""
    return _record(rules.DEGREES, (x,)) if isinstance(x, Value) else _math.degrees(x)


@overload
def radians(x: Value) -> Value: ...
@overload
def radians(x: Real) -> float: ...
def radians(x: Any) -> Any:
    """Degrees to radians."""
    return _record(rules.RADIANS, (x,)) if isinstance(x, Value) else _math.radians(x)


# ---------------------------------------------------------------- special functions
@overload
def erf(x: Value) -> Value: ...
@overload
def erf(x: Real) -> float: ...
def erf(x: Any) -> Any:
    """The error function, 2/sqrt(pi) * integral of exp(-t^2) from 0 to x."""
    return _record(rules.ERF, (x,)) if isinstance(x, Value) else _math.erf(x)


@overload
def erfc(x: Value) -> Value: ...
@overload
def erfc(x: Real) -> float: ...
def erfc(x: Any) -> Any:
    """1 - erf(x), accurate for large x."""
    return _record(rules.ERFC, (x,)) if isinstance(x, Value) else _math.erfc(x)


@overload
def gamma(x: Value) -> Value: ...
@overload
def gamma(x: Real) -> float: ...
def gamma(x: Any) -> Any:
    """The gamma function; its derivative is gamma(x) * digamma(x) (`micrograd.mathrules.digamma`)."""
    return _record(rules.GAMMA, (x,)) if isinstance(x, Value) else _math.gamma(x)


@overload
def lgamma(x: Value) -> Value: ...
@overload
def lgamma(x: Real) -> float: ...
def lgamma(x: Any) -> Any:
    """log |gamma(x)|; its derivative is digamma(x) (`micrograd.mathrules.digamma`)."""
    return _record(rules.LGAMMA, (x,)) if isinstance(x, Value) else _math.lgamma(x)


# ---------------------------------------------------------------- sums, products, distances
def fsum(iterable: Iterable[Number], /) -> Any:
    """The correctly rounded sum; on Values one node (micrograd's `vsum`), inf or nan where math.fsum raises."""
    items = list(iterable)
    return _record(SUM, items) if _is_value(*items) else _math.fsum(items)


def prod(iterable: Iterable[Any], /, *, start: Any = 1) -> Any:
    """start * x_0 * x_1 * ..., multiplied left to right as math.prod does (one node per product on Values)."""
    items = list(iterable)
    if not _is_value(start, *items):
        return _math.prod(items, start=start)
    if type(start) is int and start == 1 and items:  # 1 * x is x: begin with x, as math.prod's result equals
        start, items = items[0], items[1:]
    return reduce(operator.mul, items, start)


if sys.version_info >= (3, 12):
    def sumprod(p: Iterable[Any], q: Iterable[Any], /) -> Any:
        """sum(p_i * q_i), with math.sumprod's extended precision (Python 3.12+); on Values one node."""
        ps, qs = list(p), list(q)
        if not _is_value(*ps, *qs):
            return _math.sumprod(ps, qs)
        if len(ps) != len(qs):
            raise ValueError("Inputs are not the same length")
        return _record(rules.SUMPROD, (*ps, *qs))


if sys.version_info >= (3, 13):
    def fma(x: Any, y: Any, z: Any, /) -> Any:
        """x * y + z, rounded once (Python 3.13+)."""
        return _record(rules.FMA, (x, y, z)) if _is_value(x, y, z) else _math.fma(x, y, z)


def hypot(*coordinates: Any) -> Any:
    """sqrt(sum of x_i ** 2) without overflow, any number of coordinates; the gradient at the origin is 0."""
    return _record(rules.HYPOT, coordinates) if _is_value(*coordinates) else _math.hypot(*coordinates)


def dist(p: Iterable[Any], q: Iterable[Any], /) -> Any:
    """The Euclidean distance between points p and q (equal lengths); the gradient is 0 where p == q."""
    ps, qs = tuple(p), tuple(q)
    if not _is_value(*ps, *qs):
        return _math.dist(ps, qs)
    if len(ps) != len(qs):
        raise ValueError("both points must have the same number of dimensions")
    return _record(rules.DIST, (*ps, *qs))


# ---------------------------------------------------------------- signs, remainders, rounding
@overload
def fabs(x: Value) -> Value: ...
@overload
def fabs(x: Real) -> float: ...
def fabs(x: Any) -> Any:
    """|x| as a float; its derivative at 0 is 0, as PyTorch's."""
    return _record(ABS, (x,)) if isinstance(x, Value) else _math.fabs(x)


@overload
def copysign(x: Value, y: Number, /) -> Value: ...
@overload
def copysign(x: Real, y: Value, /) -> Value: ...
@overload
def copysign(x: Real, y: Real, /) -> float: ...
def copysign(x: Any, y: Any, /) -> Any:
    """|x| with the sign of y.  d/dx is +-1 (0 at x == 0, as PyTorch), d/dy is 0."""
    return _record(rules.COPYSIGN, (x, y)) if _is_value(x, y) else _math.copysign(x, y)


@overload
def fmod(x: Value, y: Number, /) -> Value: ...
@overload
def fmod(x: Real, y: Value, /) -> Value: ...
@overload
def fmod(x: Real, y: Real, /) -> float: ...
def fmod(x: Any, y: Any, /) -> Any:
    """x - n * y with n = trunc(x / y) (C's fmod: the sign of x).  d/dx = 1, d/dy = -n."""
    return _record(rules.FMOD, (x, y)) if _is_value(x, y) else _math.fmod(x, y)


@overload
def remainder(x: Value, y: Number, /) -> Value: ...
@overload
def remainder(x: Real, y: Value, /) -> Value: ...
@overload
def remainder(x: Real, y: Real, /) -> float: ...
def remainder(x: Any, y: Any, /) -> Any:
    """IEEE 754 remainder: x - n * y, n = x / y rounded half to even.  d/dx = 1, d/dy = -n."""
    return _record(rules.REMAINDER, (x, y)) if _is_value(x, y) else _math.remainder(x, y)


@overload
def floor(x: Value) -> Value: ...
@overload
def floor(x: Any) -> int: ...
def floor(x: Any) -> Any:
    """The largest whole number <= x: an int, or for a Value a Value (a float) with a zero gradient."""
    return _record(rules.FLOOR, (x,)) if isinstance(x, Value) else _math.floor(x)


@overload
def ceil(x: Value) -> Value: ...
@overload
def ceil(x: Any) -> int: ...
def ceil(x: Any) -> Any:
    """The smallest whole number >= x: an int, or for a Value a Value (a float) with a zero gradient."""
    return _record(rules.CEIL, (x,)) if isinstance(x, Value) else _math.ceil(x)


@overload
def trunc(x: Value) -> Value: ...
@overload
def trunc(x: Any) -> int: ...
def trunc(x: Any) -> Any:
    """x rounded towards 0: an int, or for a Value a Value (a float) with a zero gradient."""
    return _record(rules.TRUNC, (x,)) if isinstance(x, Value) else _math.trunc(x)


@overload
def modf(x: Value) -> tuple[Value, Value]: ...
@overload
def modf(x: Real) -> tuple[float, float]: ...
def modf(x: Any) -> Any:
    """(fractional part, whole part), both with the sign of x; on a Value, Values with slopes 1 and 0."""
    return (_record(rules.FRAC, (x,)), _record(rules.TRUNC, (x,))) if isinstance(x, Value) else _math.modf(x)


@overload
def frexp(x: Value) -> tuple[Value, int]: ...
@overload
def frexp(x: Real) -> tuple[float, int]: ...
def frexp(x: Any) -> Any:
    """(m, k) with x == m * 2 ** k and 0.5 <= |m| < 1; on a Value, m is a Value (d m / d x = 2 ** -k)."""
    if not isinstance(x, Value):
        return _math.frexp(x)
    k = _math.frexp(x.data)[1]
    return _record(rules.LDEXP, (x,), float(-k)), k


@overload
def ldexp(x: Value, i: int, /) -> Value: ...
@overload
def ldexp(x: Real, i: int, /) -> float: ...
def ldexp(x: Any, i: Any, /) -> Any:
    """x * 2 ** i for a whole number i (not a Value: it has no derivative); d/dx = 2 ** i."""
    _no_derivative("ldexp", i)
    return _record(rules.LDEXP, (x,), float(operator.index(i))) if isinstance(x, Value) else _math.ldexp(x, i)


# ---------------------------------------------------------------- predicates read the number
def isfinite(x: Any) -> bool:
    """Neither inf nor nan (of the number inside a Value)."""
    return _math.isfinite(_number(x))


def isinf(x: Any) -> bool:
    """+-inf (of the number inside a Value)."""
    return _math.isinf(_number(x))


def isnan(x: Any) -> bool:
    """nan (of the number inside a Value)."""
    return _math.isnan(_number(x))


def isclose(a: Any, b: Any, *, rel_tol: float = 1e-09, abs_tol: float = 0.0) -> bool:
    """math.isclose on the numbers (of Values, their data)."""
    return _math.isclose(_number(a), _number(b), rel_tol=rel_tol, abs_tol=abs_tol)


# ---------------------------------------------------------------- no derivative: numbers only
def factorial(n: SupportsIndex, /) -> int:
    """n! for a whole number n >= 0 (math.factorial)."""
    _no_derivative("factorial", n)
    return _math.factorial(n)


def comb(n: SupportsIndex, k: SupportsIndex, /) -> int:
    """The number of ways to choose k of n items (math.comb)."""
    _no_derivative("comb", n, k)
    return _math.comb(n, k)


def perm(n: SupportsIndex, k: SupportsIndex | None = None, /) -> int:
    """The number of ordered choices of k of n items (math.perm)."""
    _no_derivative("perm", n, k)
    return _math.perm(n, k)


def gcd(*integers: SupportsIndex) -> int:
    """The greatest common divisor (math.gcd)."""
    _no_derivative("gcd", *integers)
    return _math.gcd(*integers)


def lcm(*integers: SupportsIndex) -> int:
    """The least common multiple (math.lcm)."""
    _no_derivative("lcm", *integers)
    return _math.lcm(*integers)


def isqrt(n: SupportsIndex, /) -> int:
    """The integer square root (math.isqrt)."""
    _no_derivative("isqrt", n)
    return _math.isqrt(n)


def nextafter(x: Real, y: Real, /, *args: Any, **kwargs: Any) -> float:
    """The next float after x towards y (math.nextafter): a step on the float grid, with no derivative."""
    _no_derivative("nextafter", x, y)
    return _math.nextafter(x, y, *args, **kwargs)


def ulp(x: Real, /) -> float:
    """The value of the last bit of x (math.ulp): a property of the float grid, with no derivative."""
    _no_derivative("ulp", x)
    return _math.ulp(x)


__all__ = sorted(name for name in dir(_math) if not name.startswith("_"))
