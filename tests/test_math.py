"""micrograd.math: Python's `math` on numbers (bit for bit, exceptions included) and on Values (IEEE, with
derivatives of every order), checked against the standard library, C99's special values, central finite
differences, PyTorch float64 and mpmath."""

from __future__ import annotations

import copy
import math as stdmath
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd.math as mm
from micrograd import Value, grad
from micrograd import mathrules as rules
from micrograd.testing import SPECIAL_POINTS, Domain, gradcheck, gradgradcheck, special_floats

# ---------------------------------------------------------------- helpers


def same(a: Any, b: Any) -> bool:
    """Bit-level equality for floats (nan == nan, 0.0 != -0.0), plain equality and type for the rest."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a != a and b != b) or (a == b and stdmath.copysign(1.0, a) == stdmath.copysign(1.0, b))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def outcome(fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """What a call does: ("returns", value) or ("raises", exception type)."""
    try:
        return "returns", fn(*args)
    except Exception as e:  # noqa: BLE001 - the type is the observation
        return "raises", type(e)


def close(a: float, b: float, rtol: float = 1e-12, atol: float = 0.0) -> bool:
    """IEEE-aware closeness: nan matches nan, an inf matches the same inf."""
    if a != a or b != b:
        return a != a and b != b
    if stdmath.isinf(a) or stdmath.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def derivatives(fn: Callable[..., Any], xs: list[float], order: int) -> list[float]:
    """The `order`-th derivative of fn along each input alone (d^k f / d x_i^k), by micrograd.grad."""
    out = []
    for i in range(len(xs)):
        leaves = [Value(x) for x in xs]
        y: Any = fn(*leaves)
        for k in range(order):
            (y,) = grad(y, leaves[i], create_graph=k < order - 1)
        out.append(y.data)
    return out


def has(name: str) -> bool:
    return hasattr(stdmath, name)


# ---------------------------------------------------------------- the functions under test
# name -> (domain where it is smooth, for finite differences and oracles)
UNARY: dict[str, Domain] = {
    "exp": Domain(-20, 20), "exp2": Domain(-20, 20), "expm1": Domain(-20, 20),
    "log": Domain(0.01, 100), "log1p": Domain(-0.99, 100), "log2": Domain(0.01, 100), "log10": Domain(0.01, 100),
    "sqrt": Domain(0.01, 100), "cbrt": Domain(-100, 100, avoid=(0.0,), margin=0.05),
    "sin": Domain(-10, 10), "cos": Domain(-10, 10), "tan": Domain(-1.5, 1.5),
    "asin": Domain(-0.98, 0.98), "acos": Domain(-0.98, 0.98), "atan": Domain(-10, 10),
    "sinh": Domain(-10, 10), "cosh": Domain(-10, 10), "tanh": Domain(-5, 5),
    "asinh": Domain(-10, 10), "acosh": Domain(1.02, 100), "atanh": Domain(-0.98, 0.98),
    "erf": Domain(-4, 4), "erfc": Domain(-4, 4),
    "gamma": Domain(-4.9, 20, avoid=(0.0, -1.0, -2.0, -3.0, -4.0), margin=0.05),
    "lgamma": Domain(-4.9, 50, avoid=(0.0, -1.0, -2.0, -3.0, -4.0), margin=0.05),
    "fabs": Domain(-10, 10, avoid=(0.0,)), "degrees": Domain(-100, 100), "radians": Domain(-1000, 1000),
}
UNARY = {name: domain for name, domain in UNARY.items() if has(name)}

# name -> (domains of the two operands, extra condition)
BINARY: dict[str, tuple[Domain, Domain, Callable[[float, float], bool]]] = {
    # away from the origin and from the branch cut (y = 0, x < 0), where atan2 jumps from pi to -pi
    "atan2": (Domain(-10, 10), Domain(-10, 10), lambda y, x: stdmath.hypot(x, y) > 0.1 and (x > 0 or abs(y) > 0.01)),
    "pow": (Domain(0.1, 10), Domain(-3, 3), lambda x, y: True),
    "log": (Domain(0.1, 100), Domain(0.1, 10, avoid=(1.0,), margin=0.05), lambda x, b: True),
    "copysign": (Domain(-10, 10, avoid=(0.0,)), Domain(-10, 10, avoid=(0.0,)), lambda x, y: True),
    # away from the jumps: x / y at least 0.01 from a whole number (fmod) or from a half (remainder)
    "fmod": (Domain(-10, 10), Domain(-5, 5, avoid=(0.0,), margin=0.3),
             lambda x, y: abs(x / y - round(x / y)) > 0.01 and abs(x / y) > 0.01),
    "remainder": (Domain(-10, 10), Domain(-5, 5, avoid=(0.0,), margin=0.3),
                  lambda x, y: abs(abs(x / y - round(x / y)) - 0.5) > 0.01),
    "hypot": (Domain(-10, 10), Domain(-10, 10), lambda x, y: stdmath.hypot(x, y) > 0.1),
}

TORCH_UNARY = {  # torch's name for each function (None: torch has no such function)
    "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log", "log1p": "log1p", "log2": "log2",
    "log10": "log10", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos",
    "atan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "asinh": "asinh", "acosh": "acosh",
    "atanh": "atanh", "erf": "erf", "erfc": "erfc", "lgamma": "lgamma", "fabs": "abs", "degrees": "rad2deg",
    "radians": "deg2rad", "floor": "floor", "ceil": "ceil", "trunc": "trunc",
}

anything = st.one_of(special_floats(), st.integers(-1000, 1000))


# ---------------------------------------------------------------- the names
def test_every_name_of_math_and_nothing_else():
    """A drop-in: the running Python's math names, all of them, and no others in __all__."""
    public = {name for name in dir(stdmath) if not name.startswith("_")}
    assert set(mm.__all__) == public
    missing = [name for name in public if not hasattr(mm, name)]
    assert missing == []
    for name in ("e", "pi", "tau", "inf", "nan"):
        assert same(getattr(mm, name), getattr(stdmath, name))


def test_importing_micrograd_does_not_import_math_or_func():
    """Importing micrograd stays as light as it was: micrograd.math, mathrules and func load on demand."""
    code = "import sys, micrograd; print(sorted(m for m in sys.modules if m.startswith('micrograd')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for module in ("micrograd.math", "micrograd.mathrules", "micrograd.func"):
        assert f"'{module}'" not in loaded


def test_mathrules_imports_only_the_primitives():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(rules))
    relative = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level}
    absolute = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert relative == {"primitives"}
    assert not any(name.startswith("micrograd") for name in absolute)


# ---------------------------------------------------------------- numbers in: exactly Python's math
ONE_ARG = [name for name in (*UNARY, "floor", "ceil", "trunc", "modf", "frexp", "isfinite", "isinf", "isnan", "ulp")
           if has(name)]


@pytest.mark.parametrize("name", ONE_ARG)
@settings(max_examples=60)
@given(x=anything)
def test_one_argument_on_numbers_is_math_bit_for_bit(name, x):
    assert same(outcome(getattr(mm, name), x), outcome(getattr(stdmath, name), x))


TWO_ARGS = ["atan2", "pow", "log", "copysign", "fmod", "remainder", "hypot", "nextafter", "isclose"]


@pytest.mark.parametrize("name", TWO_ARGS)
@settings(max_examples=60)
@given(x=anything, y=anything)
def test_two_arguments_on_numbers_are_math_bit_for_bit(name, x, y):
    assert same(outcome(getattr(mm, name), x, y), outcome(getattr(stdmath, name), x, y))


@settings(max_examples=60)
@given(xs=st.lists(anything, max_size=5), ys=st.lists(anything, max_size=5), i=st.integers(-1100, 1100))
def test_many_arguments_on_numbers_are_math_bit_for_bit(xs, ys, i):
    assert same(outcome(mm.fsum, xs), outcome(stdmath.fsum, xs))
    assert same(outcome(mm.prod, xs), outcome(stdmath.prod, xs))
    assert same(outcome(lambda: mm.prod(xs, start=2.5)), outcome(lambda: stdmath.prod(xs, start=2.5)))
    assert same(outcome(mm.hypot, *xs), outcome(stdmath.hypot, *xs))
    assert same(outcome(mm.dist, xs, ys), outcome(stdmath.dist, xs, ys))
    for x in xs:
        assert same(outcome(mm.ldexp, x, i), outcome(stdmath.ldexp, x, i))
    if has("sumprod"):
        assert same(outcome(mm.sumprod, xs, ys), outcome(stdmath.sumprod, xs, ys))  # type: ignore[attr-defined]
    if has("fma") and len(xs) >= 3:
        assert same(outcome(mm.fma, *xs[:3]), outcome(stdmath.fma, *xs[:3]))  # type: ignore[attr-defined]


def test_numbers_in_raise_what_math_raises():
    """Python semantics on numbers: the same exceptions (micrograd.math.log(-1) is a ValueError)."""
    for call in (lambda m: m.log(-1), lambda m: m.sqrt(-1.0), lambda m: m.exp(1000.0), lambda m: m.gamma(0),
                 lambda m: m.fmod(1.0, 0.0), lambda m: m.log("e")):
        kind, error = outcome(call, stdmath)
        assert kind == "raises" and outcome(call, mm) == ("raises", error)


@pytest.mark.parametrize("name, args", [
    ("factorial", (5,)), ("comb", (7, 3)), ("perm", (7, 3)), ("perm", (5,)), ("gcd", (12, 18)), ("gcd", ()),
    ("lcm", (4, 6)), ("isqrt", (99,)), ("factorial", (-1,)), ("comb", (2.0, 1)), ("isqrt", (10**40,))])
def test_whole_number_functions_are_math(name, args):
    assert same(outcome(getattr(mm, name), *args), outcome(getattr(stdmath, name), *args))


@pytest.mark.parametrize("name, args", [
    ("factorial", (Value(3.0),)), ("comb", (5, Value(2.0))), ("perm", (Value(5.0),)), ("gcd", (4, Value(6.0))),
    ("lcm", (Value(4.0), 6)), ("isqrt", (Value(9.0),)), ("nextafter", (Value(1.0), 2.0)), ("ulp", (Value(1.0),)),
    ("ldexp", (1.0, Value(2.0))), ("ldexp", (Value(1.0), Value(2.0)))])
def test_functions_without_a_derivative_refuse_values(name, args):
    with pytest.raises(TypeError, match=r"micrograd\.math\.\w+ takes numbers.*\.data"):
        getattr(mm, name)(*args)


# ---------------------------------------------------------------- Values in: the same numbers, IEEE where math raises
@pytest.mark.parametrize("name", [*UNARY])
@settings(max_examples=60)
@given(x=special_floats())
def test_values_hold_what_math_returns(name, x):
    kind, expected = outcome(getattr(stdmath, name), x)
    y = getattr(mm, name)(Value(x))
    assert isinstance(y, Value) and y.requires_grad
    if kind == "returns":
        assert same(y.data, expected)
    else:  # an IEEE value: checked against C99 below and against PyTorch in test_special_points_match_torch
        assert stdmath.isnan(y.data) or stdmath.isinf(y.data)


@pytest.mark.parametrize("name", TWO_ARGS[:6])
@settings(max_examples=60)
@given(x=special_floats(), y=special_floats())
def test_binary_values_hold_what_math_returns(name, x, y):
    kind, expected = outcome(getattr(stdmath, name), x, y)
    for args in ((Value(x), Value(y)), (Value(x), y), (x, Value(y))):
        out = getattr(mm, name)(*args)
        assert isinstance(out, Value)
        if kind == "returns":
            assert same(out.data, expected)  # where math raises: test_binary_special_points_match_torch


# C99 Annex F (and IEEE 754) values where Python's math raises; the right-hand side is the standard's.
inf, nan = stdmath.inf, stdmath.nan
C99 = [
    ("log", (0.0,), -inf), ("log", (-0.0,), -inf), ("log", (-1.0,), nan), ("log", (-inf,), nan),
    ("log2", (0.0,), -inf), ("log10", (0.0,), -inf), ("log2", (-2.0,), nan), ("log1p", (-1.0,), -inf),
    ("log1p", (-2.0,), nan), ("sqrt", (-1.0,), nan), ("exp", (1000.0,), inf), ("exp2", (2000.0,), inf),
    ("expm1", (1000.0,), inf), ("sinh", (1000.0,), inf), ("sinh", (-1000.0,), -inf), ("cosh", (-1000.0,), inf),
    ("tan", (inf,), nan), ("sin", (-inf,), nan), ("cos", (inf,), nan), ("asin", (2.0,), nan), ("acos", (-2.0,), nan),
    ("acosh", (0.5,), nan), ("atanh", (1.0,), inf), ("atanh", (-1.0,), -inf), ("atanh", (2.0,), nan),
    ("gamma", (0.0,), inf), ("gamma", (-0.0,), -inf), ("gamma", (-1.0,), nan), ("gamma", (-inf,), nan),
    ("gamma", (172.0,), inf), ("gamma", (-5e-324,), -inf), ("lgamma", (0.0,), inf), ("lgamma", (-2.0,), inf),
    ("lgamma", (1e306,), inf), ("fmod", (1.0, 0.0), nan), ("fmod", (inf, 1.0), nan), ("remainder", (1.0, 0.0), nan),
    ("remainder", (-inf, 2.0), nan), ("pow", (0.0, -1.0), inf), ("pow", (-0.0, -1.0), -inf),
    ("pow", (-8.0, 1 / 3), nan), ("pow", (10.0, 400.0), inf), ("ldexp", (1.0, 5000), inf),
    ("ldexp", (-1.0, 5000), -inf), ("log", (8.0, 1.0), inf),
    ("floor", (inf,), inf), ("floor", (-0.0,), -0.0), ("ceil", (-0.5,), -0.0), ("trunc", (-0.5,), -0.0),
    ("floor", (nan,), nan), ("ceil", (-inf,), -inf),
]


@pytest.mark.parametrize("name, args, expected", [case for case in C99 if has(case[0])])
def test_values_follow_c99_where_math_raises(name, args, expected):
    out = getattr(mm, name)(Value(args[0]), *args[1:])
    assert isinstance(out, Value) and same(out.data, expected)


def test_math_on_a_value_names_micrograd_math():
    """The standard library refuses a Value instead of dropping its gradient (x + math.exp(x * x) would give 1.0)."""
    x = Value(0.5)
    with pytest.raises(TypeError, match=r"micrograd\.math.*|\.data"):
        stdmath.exp(x * x)
    (g,) = grad(x + mm.exp(x * x), x)
    assert g.data == pytest.approx(1 + 2 * 0.5 * stdmath.exp(0.25), rel=1e-15)  # 2.2840254166877414


# ---------------------------------------------------------------- rounding functions
@pytest.mark.parametrize("name", ["floor", "ceil", "trunc"])
@given(x=special_floats())
def test_rounding_a_value_gives_a_value_with_zero_gradient(name, x):
    v = Value(x)
    y = getattr(mm, name)(v)
    assert isinstance(y, Value) and isinstance(y.data, float)
    if stdmath.isfinite(x):
        assert y.data == getattr(stdmath, name)(x)  # the number math gives, as a float
        (g,) = grad(y * 3.0, v)
        assert same(g.data, 0.0)
    else:
        assert same(y.data, x)


@settings(max_examples=60)
@given(x=special_floats())
def test_modf_and_frexp_of_a_value(x):
    v = Value(x)
    frac, whole = mm.modf(v)
    assert same((frac.data, whole.data), stdmath.modf(x))
    m, k = mm.frexp(v)
    assert same((m.data, k), stdmath.frexp(x))
    if stdmath.isfinite(x) and x != 0:
        assert [g.data for g in grad(frac, v)] == [1.0] and [g.data for g in grad(whole, v)] == [0.0]
        assert grad(m, v)[0].data == (2.0 ** -k if -k < 1024 else inf)  # m = x * 2^-k (inf past the largest float)
        assert grad(mm.ldexp(v, 7), v)[0].data == 128.0


# ---------------------------------------------------------------- sums and products
def test_fsum_is_correctly_rounded_on_values():
    xs = [Value(0.1) for _ in range(10)]
    total = mm.fsum(xs)
    left_to_right = 0.0
    for _ in range(10):
        left_to_right += 0.1
    assert total.data == 1.0 == stdmath.fsum([0.1] * 10) != left_to_right  # 0.9999999999999999
    assert [g.data for g in grad(total, xs)] == [1.0] * 10
    assert same(mm.fsum([Value(1e308), 1e308]).data, inf)  # math.fsum raises OverflowError; IEEE says inf
    assert same(mm.fsum([Value(inf), -inf]).data, nan)


@settings(max_examples=60)
@given(xs=st.lists(st.floats(-10, 10), min_size=1, max_size=6), start=st.sampled_from([1, 2.5, -1.0]))
def test_prod_on_values_multiplies_like_math_prod(xs, start):
    leaves = [Value(x) for x in xs]
    p = mm.prod(leaves, start=start)
    assert same(p.data, stdmath.prod(xs, start=start))
    for i, g in enumerate(grad(p, leaves)):  # d/dx_i = start * product of the others
        assert g.data == pytest.approx(start * stdmath.prod(xs[:i] + xs[i + 1:]), rel=1e-12, abs=1e-12)


@settings(max_examples=60)
@given(p=st.lists(st.floats(-10, 10), min_size=1, max_size=5), q=st.lists(st.floats(-10, 10), min_size=5, max_size=5))
def test_hypot_and_dist_on_values(p, q):
    q = q[:len(p)]
    ps, qs = [Value(x) for x in p], [Value(x) for x in q]
    h, d = mm.hypot(*ps), mm.dist(ps, qs)
    assert same(h.data, stdmath.hypot(*p)) and same(d.data, stdmath.dist(p, q))
    hp = [g.data for g in grad(h, ps)]
    dp = [g.data for g in grad(d, [*ps, *qs])]
    for i in range(len(p)):  # d hypot / d x_i = x_i / hypot; d dist / d p_i = (p_i - q_i) / dist = -d / d q_i
        assert hp[i] == pytest.approx(p[i] / h.data if h.data else 0.0, rel=1e-12)
        assert dp[i] == pytest.approx((p[i] - q[i]) / d.data if d.data else 0.0, rel=1e-12, abs=1e-300)
        assert dp[len(p) + i] == -dp[i]


def test_hypot_and_dist_have_a_zero_gradient_at_the_origin():
    xs = [Value(0.0), Value(-0.0)]
    assert [g.data for g in grad(mm.hypot(*xs), xs)] == [0.0, 0.0]
    assert [g.data for g in grad(mm.dist(xs, [0.0, 0.0]), xs)] == [0.0, 0.0]
    with pytest.raises(ValueError, match="same number of dimensions"):
        mm.dist([Value(1.0)], [1.0, 2.0])


@pytest.mark.skipif(not has("sumprod"), reason="math.sumprod is Python 3.12+")
@settings(max_examples=40)
@given(p=st.lists(st.floats(-10, 10), min_size=1, max_size=4), q=st.lists(st.floats(-10, 10), min_size=4, max_size=4))
def test_sumprod_on_values(p, q):
    q = q[:len(p)]
    ps, qs = [Value(x) for x in p], [Value(x) for x in q]
    s = mm.sumprod(ps, qs)
    assert same(s.data, stdmath.sumprod(p, q))  # type: ignore[attr-defined]
    assert [g.data for g in grad(s, [*ps, *qs])] == [*q, *p]


@pytest.mark.skipif(not has("fma"), reason="math.fma is Python 3.13+")
def test_fma_on_values():
    x, y, z = Value(0.1), Value(10.0), Value(-1.0)
    out = mm.fma(x, y, z)
    assert same(out.data, stdmath.fma(0.1, 10.0, -1.0)) and out.data != 0.1 * 10.0 - 1.0  # type: ignore[attr-defined]
    assert [g.data for g in grad(out, [x, y, z])] == [10.0, 0.1, 1.0]


# ---------------------------------------------------------------- derivatives against finite differences
@pytest.mark.parametrize("name", [*UNARY])
@settings(max_examples=25)
@given(data=st.data())
def test_unary_first_and_second_derivatives_match_finite_differences(name, data):
    x = data.draw(UNARY[name].floats())
    fn = getattr(mm, name)
    assert gradcheck(fn, [x], rtol=1e-5, atol=1e-6)
    assert gradgradcheck(fn, [x], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", [*BINARY])
@settings(max_examples=25)
@given(data=st.data())
def test_binary_first_and_second_derivatives_match_finite_differences(name, data):
    da, db, ok = BINARY[name]
    a, b = data.draw(da.floats()), data.draw(db.floats())
    if not ok(a, b):
        return
    fn = getattr(mm, name)
    assert gradcheck(fn, [a, b], rtol=1e-5, atol=1e-6)
    assert gradgradcheck(fn, [a, b], rtol=1e-4, atol=1e-5)


@settings(max_examples=25)
@given(xs=st.lists(st.floats(-5, 5), min_size=2, max_size=6))
def test_many_argument_derivatives_match_finite_differences(xs):
    n = len(xs) // 2
    if stdmath.hypot(*xs) < 0.1 or stdmath.dist(xs[:n], xs[n:2 * n]) < 0.1:
        return  # hypot and dist have a kink at 0
    for fn in (lambda *v: mm.hypot(*v), lambda *v: mm.fsum(v), lambda *v: mm.prod(v),
               lambda *v: mm.dist(v[:n], v[n:2 * n]),
               lambda *v: mm.ldexp(v[0], -3) * mm.modf(v[1] * 0.1 + 0.05)[0]):  # modf's part in (-1, 1): no jump
        assert gradcheck(fn, xs, rtol=1e-5, atol=1e-6)
        assert gradgradcheck(fn, xs, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- derivatives against PyTorch float64
def torch_derivatives(fn: Callable[..., Any], xs: list[float], order: int) -> list[float]:
    import torch

    out = []
    for i in range(len(xs)):
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        y = fn(*ts)
        for k in range(order):
            if not y.requires_grad:  # the previous derivative was a constant
                y = torch.zeros((), dtype=torch.float64)
                break
            (y,) = torch.autograd.grad(y, ts[i], create_graph=k < order - 1, allow_unused=True)
            if y is None:
                y = torch.zeros((), dtype=torch.float64)
        out.append(float(y.detach()))
    return out


def torch_unary(name: str) -> Callable[..., Any]:
    import torch

    if name == "gamma":  # torch has no gamma: exp(lgamma) times the sign (negative on (-1, 0), (-3, -2), ...)
        return lambda t: torch.exp(torch.lgamma(t)) * (1 - 2 * (torch.floor(t) % 2) * (t < 0))
    if name == "cbrt":
        return lambda t: torch.sign(t) * torch.abs(t) ** (1 / 3)
    return getattr(torch, TORCH_UNARY[name])


@pytest.mark.parametrize("name", [*UNARY])
@settings(max_examples=20)
@given(data=st.data())
def test_unary_derivatives_of_orders_1_to_3_match_torch(name, data):
    pytest.importorskip("torch")
    x = data.draw(UNARY[name].floats())
    for order in (1, 2, 3):
        ours, theirs = derivatives(getattr(mm, name), [x], order), torch_derivatives(torch_unary(name), [x], order)
        assert close(ours[0], theirs[0], rtol=1e-9, atol=1e-12), (name, x, order, ours, theirs)


def torch_binary(name: str) -> Callable[..., Any]:
    import torch

    return {"atan2": torch.atan2, "pow": torch.pow, "log": lambda x, b: torch.log(x) / torch.log(b),
            "copysign": torch.copysign, "fmod": torch.fmod, "hypot": torch.hypot,
            "remainder": lambda x, y: x - y * torch.round(x / y)}[name]  # torch.round: half to even, as IEEE


@pytest.mark.parametrize("name", [*BINARY])
@settings(max_examples=20)
@given(data=st.data())
def test_binary_derivatives_of_orders_1_and_2_match_torch(name, data):
    pytest.importorskip("torch")
    da, db, ok = BINARY[name]
    a, b = data.draw(da.floats()), data.draw(db.floats())
    if not ok(a, b):
        return
    for order in (1, 2):
        ours = derivatives(getattr(mm, name), [a, b], order)
        theirs = torch_derivatives(torch_binary(name), [a, b], order)
        assert all(close(o, t, rtol=1e-9, atol=1e-12) for o, t in zip(ours, theirs)), (name, a, b, order, ours, theirs)


def test_special_points_match_torch():
    """Values and first derivatives at 0, +-0, +-inf, nan, subnormals, overflow edges, against PyTorch float64."""
    torch = pytest.importorskip("torch")
    for name in [n for n in (*UNARY, "floor", "ceil", "trunc") if n in TORCH_UNARY and has(n)]:
        fn = getattr(torch, TORCH_UNARY[name])
        for x in SPECIAL_POINTS:
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            y = fn(t)
            (dt,) = torch.autograd.grad(y, t)
            v = Value(x)
            out = getattr(mm, name)(v)
            (dv,) = grad(out, v)
            # atol: torch flushes some results at subnormal size to 0 (log1p(5e-324)); math and we do not
            assert close(out.data, float(y.detach()), rtol=1e-13, atol=1e-300), (name, x, out.data, float(y))
            if name == "acosh" and x < 1:  # acosh is nan there and so is our slope; torch's 1/sqrt(x^2 - 1) is not
                assert stdmath.isnan(out.data) and stdmath.isnan(dv.data)
                continue
            assert close(dv.data, float(dt), rtol=1e-12, atol=1e-300), (name, x, dv.data, float(dt))


BINARY_POINTS = [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, inf, -inf, nan, 5e-324, 1e300, -1e300]


def binary_differs_from_torch(name: str, a: float, b: float, out: float) -> bool:
    """Where our first derivatives of a binary function differ from torch's at a special point, on purpose."""
    if name == "hypot" and a == b == 0:  # ours 0 (the subgradient of torch's norms); torch.hypot 0/0 = nan
        return True
    if name == "fmod" and stdmath.isnan(out):  # d/dy where fmod is nan (y = 0, x = +-inf): ours nan, torch's
        quotient = a / b if b else nan if a == 0 or a != a else inf  # -trunc(x / y) is +-inf unless x / y is nan
        return not stdmath.isnan(quotient)
    if name == "atan2" and a * a + b * b == 0 and not a == b == 0:  # torch: x^2 + y^2 underflows to 0, masked to
        return True  # 0; ours (x / h) / h with h = hypot(x, y) overflows to inf, the slope's nearest float
    if name == "copysign" and stdmath.isinf(a):  # d/dx is +-1; torch computes out / x = inf / inf = nan
        return True
    # log(x, base) = log(x) / log(base) where one is the smallest subnormal and the other quotient is 0: our chain
    # multiplies 0 by d log(x)/dx = 1/x, which overflows to inf (nan); torch's log backward divides by x instead (0)
    return name == "log" and (a, b) in {(5e-324, inf), (5e-324, 0.0), (5e-324, -0.0), (1.0, 5e-324)}


def test_binary_special_points_match_torch():
    """Values and both first derivatives on a grid of special points, against PyTorch float64."""
    torch = pytest.importorskip("torch")
    for name in ("atan2", "pow", "log", "copysign", "fmod", "hypot"):
        fn = torch_binary(name)
        for a in BINARY_POINTS:
            for b in BINARY_POINTS:
                ta, tb = (torch.tensor(z, dtype=torch.float64, requires_grad=True) for z in (a, b))
                y = fn(ta, tb)
                theirs = [0.0 if d is None else float(d) for d in torch.autograd.grad(y, (ta, tb), allow_unused=True)]
                va, vb = Value(a), Value(b)
                out = getattr(mm, name)(va, vb)
                ours = [d.data for d in grad(out, [va, vb])]
                assert close(out.data, float(y.detach()), rtol=1e-13, atol=1e-300), (name, a, b, out.data, float(y))
                agree = all(close(o, t, rtol=1e-12, atol=1e-300) for o, t in zip(ours, theirs))
                assert agree != binary_differs_from_torch(name, a, b, out.data), (name, a, b, ours, theirs)


# ---------------------------------------------------------------- digamma and polygamma
def test_digamma_and_polygamma_match_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    points = [1e-8, 0.3, 1.0, 1.4616321449683622, 2.5, 7.75, 9.999, 10.5, 33.3, 1e4, 1e15, -0.5, -1.3, -7.25,
              -20.9, -1e4 + 0.25, -1.9999999999999964, -3 + 1e-9, -1e-300]
    for n in range(4):
        for x in points:
            ref = float(mpmath.polygamma(n, x))  # inf where it is beyond the largest float
            got = rules.polygamma_float(n, x)
            # relative accuracy, except next to a zero of psi^(n), where the error is absolute (~1e-16 * |terms|)
            assert close(got, ref) or abs(got - ref) <= 4e-15 * abs(ref) + 1e-15, (n, x, got, ref)


@settings(max_examples=200)
@given(x=st.one_of(st.floats(-30, 30), st.floats(1e-10, 1e10)), n=st.integers(0, 4))
def test_polygamma_matches_torch(x, n):
    """A wide sweep against torch.special.polygamma, whose own error is up to ~1e-9 (Cephes' zeta: its
    trigamma(1) is 1.6449340676 against pi^2/6 = 1.6449340668); the precise oracle is mpmath, above."""
    torch = pytest.importorskip("torch")
    if x < 0.5 and abs(x - round(x)) < 1e-6:
        return  # at and next to the poles torch's reflection loses digits (psi(-2 + 3.6e-15) is 0.6% off); see mpmath
    ref = float(torch.special.polygamma(n, torch.tensor(x, dtype=torch.float64)))
    got = rules.polygamma_float(n, x)
    terms = abs(rules.polygamma_float(n, abs(x) + 1.0)) + (stdmath.pi ** (n + 1) if x < 0 else 0.0)
    assert close(got, ref) or abs(got - ref) <= 1e-8 * abs(ref) + 1e-12 * terms, (n, x, got, ref)


def test_polygamma_special_values():
    psi = rules.polygamma_float
    assert same(psi(0, 0.0), -inf) and same(psi(0, -0.0), inf) and same(psi(0, -3.0), nan)
    assert same(psi(1, 0.0), inf) and same(psi(1, -2.0), inf) and same(psi(2, 0.0), -inf) and same(psi(2, -2.0), nan)
    assert same(psi(0, inf), inf) and same(psi(1, inf), 0.0) and same(psi(2, inf), -0.0)
    assert same(psi(0, -inf), nan) and same(psi(3, nan), nan)
    assert psi(0, 1.0) == pytest.approx(-0.5772156649015329, rel=1e-15)  # -Euler's gamma
    assert psi(1, 1.0) == pytest.approx(stdmath.pi ** 2 / 6, rel=1e-15)  # zeta(2)
    assert psi(1, 0.5) == pytest.approx(stdmath.pi ** 2 / 2, rel=1e-15)
    with pytest.raises(ValueError, match="order n"):
        rules.polygamma(-1, 1.0)


@pytest.mark.parametrize("x", [0.25, 1.5, 6.0, 17.5, -0.5, -2.75])
def test_lgamma_differentiates_to_any_order(x):
    """lgamma' = digamma, then polygamma(1), (2), (3): each partial is itself a recorded rule (mpmath: mp.diff)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    for order in (1, 2, 3, 4):
        expected = float(mpmath.diff(mpmath.loggamma, x, order)) if x > 0 else float(mpmath.polygamma(order - 1, x))
        assert close(derivatives(mm.lgamma, [x], order)[0], expected, rtol=1e-13), (x, order)


def test_gamma_second_derivative_is_the_closed_form():
    """Gamma'' = Gamma (digamma^2 + trigamma) (DLMF 5.15.1), with torch's digamma and trigamma as the oracle."""
    torch = pytest.importorskip("torch")
    for x in (0.3, 1.0, 2.5, 7.0):
        t = torch.tensor(x, dtype=torch.float64)
        psi0, psi1 = float(torch.special.digamma(t)), float(torch.special.polygamma(1, t))
        assert derivatives(mm.gamma, [x], 2)[0] == pytest.approx(stdmath.gamma(x) * (psi0 ** 2 + psi1), rel=1e-8)


def test_pow_mixed_second_derivative_at_exponent_0():
    """Where PyTorch masks d(a ** b)/da to a constant 0 at b == 0 and so loses d2/da db, the table keeps it."""
    a, b = Value(2.0), Value(0.0)
    (da,) = grad(mm.pow(a, b), a, create_graph=True)
    assert grad(da, b)[0].data == 0.5  # d/db (b a^(b-1)) = a^(b-1) (1 + b log a) = 1/a at b = 0


# ---------------------------------------------------------------- a drop-in, a table that pickles
def drop_in(math: Any, x: Any) -> Any:
    """Code written for Python's math: a damped oscillation, an error function, an angle and a distance."""
    return math.exp(-x * x / 2) * math.cos(3 * x) + math.erf(x / 2) + math.atan2(x, 1.5) + math.hypot(x, 2)


@settings(max_examples=40)
@given(x=st.floats(-3, 3))
def test_import_micrograd_math_as_math_makes_code_differentiable(x):
    assert same(drop_in(mm, x), drop_in(stdmath, x))  # numbers: Python's answer
    v = Value(x)
    y = drop_in(mm, v)
    assert same(y.data, drop_in(stdmath, x))
    (g,) = grad(y, v)
    expected = (stdmath.exp(-x * x / 2) * (-x * stdmath.cos(3 * x) - 3 * stdmath.sin(3 * x))  # closed form
                + stdmath.exp(-x * x / 4) / stdmath.sqrt(stdmath.pi) + 1.5 / (x * x + 2.25) + x / stdmath.hypot(x, 2))
    assert g.data == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_graphs_of_math_rules_pickle_and_copy():
    x = Value(0.7)
    y = mm.lgamma(x) + mm.erf(x) + mm.ldexp(x, 3) + rules.polygamma(2, x)
    for twin in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        assert twin.data == y.data
        leaf = next(n for n in _nodes(twin) if not n._prev)
        assert grad(twin, leaf)[0].data == grad(y, x)[0].data
    assert pickle.loads(pickle.dumps(rules.LGAMMA)) is rules.LGAMMA


def _nodes(root: Value) -> list[Value]:
    seen, stack, out = set(), [root], []
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            out.append(node)
            stack.extend(node._prev)
    return out
