"""IEEE 754 semantics in every primitive: NaN and inf propagate, nothing raises, and every value
and gradient at special points (0, -0, ±inf, nan, huge, tiny, domain edges) is what PyTorch's
float64 autograd gives.  The oracle is torch (skipped without it); the closed forms below it
are checked without any oracle."""

from __future__ import annotations

import inspect
import itertools
import math
import re
import struct
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given as hyp_given
from hypothesis import settings
from hypothesis import strategies as st

from micrograd import Value, dot, grad, vsum
from micrograd import primitives as P
from micrograd.fused import DOT, DOT_RELU, DOT_SIGMOID, DOT_TANH

SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.5, 1e308, -1e308, 5e-324, math.inf, -math.inf, math.nan]
CONSTS = [0.0, 1.0, -1.0, 2.0, 3.0, 0.5, -0.5, math.inf, math.nan]


def same(a: float, b: float) -> bool:
    """Equal, or both nan, or equal to 1e-12 relative (libm differences in the last bits)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or (math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300))


def torch_ops() -> dict[str, Callable[..., Any]]:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    return {
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
        "**": torch.pow,
        "//": lambda a, b: torch.div(a, b, rounding_mode="floor"), "%": torch.remainder,
        "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
        "softplus": lambda x: torch.logaddexp(x, torch.zeros_like(x)), "ReLU": torch.relu, "abs": torch.abs,
        "sin": torch.sin, "cos": torch.cos,
        "+{}": lambda x, c: x + c, "*{}": lambda x, c: x * c,
        "**{}": lambda x, c: torch.pow(x, torch.tensor(c, dtype=torch.float64)),  # pow(x, 0.5) would be sqrt(x)
        "leaky_relu({})": lambda x, c: F.leaky_relu(x, c),
        "sum": lambda *xs: torch.stack(xs).sum(),
    }


def oracle(op: str, xs: list[float], const: float | None) -> tuple[float, list[float]]:
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = torch_ops()[op](*ts) if const is None else torch_ops()[op](*ts, const)
    gs = torch.autograd.grad(out, ts, allow_unused=True)
    return out.item(), [0.0 if g is None else g.item() for g in gs]


def ours(rule: P.Primitive, xs: list[float], const: float | None) -> tuple[float, list[float], list[float]]:
    vs = [Value(x) for x in xs]
    out = rule(*vs) if const is None else rule(*vs, const)
    out.backward()
    return out.data, [v.grad for v in vs], [g.data for g in grad(rule(*vs) if const is None else rule(*vs, const),
                                                                  vs, create_graph=True)]


def cases() -> list[tuple[str, list[float], float | None]]:
    out: list[tuple[str, list[float], float | None]] = []
    for rule in P.TABLE.values():
        if rule.const:
            out += [(rule.name, [x], c) for x in SPECIAL for c in CONSTS]
        elif rule.name == "sum":
            out += [(rule.name, list(xs), None) for xs in itertools.product(SPECIAL[:4] + SPECIAL[7:], repeat=2)]
        else:
            arity = len(inspect.signature(rule.partials).parameters) - 1  # partials(*xs, out)
            out += [(rule.name, list(xs), None) for xs in itertools.product(SPECIAL, repeat=arity)]
    return out


def test_every_rule_has_an_oracle() -> None:
    pytest.importorskip("torch")
    assert set(P.TABLE) <= set(torch_ops())


@pytest.mark.parametrize("name", sorted(P.TABLE))
def test_rule_matches_pytorch_float64_at_special_points(name: str) -> None:
    """Every value and gradient, through backward() and grad(create_graph=True), at every special point."""
    rule = P.TABLE[name]
    bad = []
    for op, xs, const in (c for c in cases() if c[0] == name):
        value, grads, graph_grads = ours(rule, xs, const)
        want_value, want_grads = oracle(op, xs, const)
        if not (same(value, want_value) and all(map(same, grads, want_grads))
                and all(map(same, graph_grads, want_grads))):
            bad.append((xs, const, value, grads, graph_grads, want_value, want_grads))
    assert not bad, f"{name}: {len(bad)} cases differ from PyTorch, e.g. {bad[:3]}"


def test_nothing_raises_anywhere() -> None:
    """Without an oracle: no special point makes any primitive raise, in any mode."""
    for rule in P.TABLE.values():
        for _, xs, const in (c for c in cases() if c[0] == rule.name):
            ours(rule, xs, const)


# ----------------------------------------------------------------- the examples, closed forms
def test_nan_never_becomes_a_number() -> None:
    assert math.isnan(Value(math.nan).relu().data)
    assert math.isnan(dot([Value(1.0)], [Value(math.nan)], activation="relu").data)
    assert math.isnan((Value(1.0) + 0 * Value(10.0) ** 400).relu().data)  # 0 * inf is nan
    for rule in (DOT, DOT_RELU, DOT_TANH, DOT_SIGMOID):
        assert math.isnan(rule.forward(0.5, 1.0, math.nan)), rule.name
        assert math.isnan(dot([Value(1.0)], [Value(math.nan)], Value(0.5), activation=rule.activation).data)


def test_overflow_gives_inf_or_nan_never_an_exception() -> None:
    assert vsum([Value(1e308), Value(1e308)]).data == math.inf
    assert math.isnan(vsum([Value(math.inf), Value(-math.inf)]).data)
    assert vsum([Value(0.1)] * 10).data == math.fsum([0.1] * 10)  # still correctly rounded when finite
    assert (Value(1.1e155) * Value(1.1e155)).data == math.inf
    assert math.isnan((Value(-2.0) ** math.inf).data - math.inf)  # (-2)**inf = inf, as C's pow
    assert (Value(-2.0) ** math.inf).data == math.inf
    assert math.isnan((Value(-2.0) ** math.nan).data)
    assert (Value(1.0) / 0).data == math.inf and (Value(-1.0) / 0).data == -math.inf
    assert math.isnan((Value(0.0) / 0).data)


def test_powers_follow_pytorch() -> None:
    a, b = Value(-2.0), Value(3.0)
    y = a ** b
    y.backward()
    assert (y.data, a.grad) == (-8.0, 12.0) and math.isnan(b.grad)  # d/db = out * log(a), log(-2) = nan
    x = Value(0.5)
    y = 0 ** x
    y.backward()
    assert (y.data, x.grad) == (0.0, 0.0)  # 0 ** x is flat at x > 0
    a, b = Value(5e-324), Value(0.0)
    y = a ** b
    y.backward()
    assert (y.data, a.grad) == (1.0, 0.0)  # x ** 0 is 1 for every x: flat in x


def test_op_names_of_nodes_with_special_constants() -> None:
    assert (Value(2.0) * math.inf)._op == "*inf"
    assert (Value(2.0) + math.nan)._op == "+nan"
    assert (Value(2.0) ** -math.inf)._op == "**-inf"
    assert (Value(2.0) * 1e300)._op == "*1e+300"


def test_one_semantics_in_every_mode() -> None:
    x = Value(0.0)
    y = x.sqrt() * 0.0 + x  # sqrt'(0) = inf, times 0 upstream: nan, as PyTorch
    y.backward()
    (g,) = grad(x.sqrt() * 0.0 + x, x)
    (gg,) = grad(x.sqrt() * 0.0 + x, x, create_graph=True)
    assert math.isnan(x.grad) and math.isnan(g.data) and math.isnan(gg.data)


def test_relu_passes_nothing_back_even_nan_like_pytorch() -> None:
    x = Value(-1.0)
    y = x.relu() * math.nan
    y.backward()
    assert x.grad == 0.0  # threshold_backward: 0 where the output is 0, whatever comes from above


def test_python_numeric_protocol() -> None:
    a, b = Value(7.5), Value(2.0)
    assert (+a) is a
    r = a % b
    q = a // b
    r.backward()
    assert (r.data, q.data) == (1.5, 3.0)
    assert (a.grad, b.grad) == (1.0, -3.0)  # d(a % b) = 1 and -floor(a / b)
    a.grad = 0.0
    q.backward()
    assert a.grad == 0.0  # floor division is piecewise constant
    assert (7.5 % Value(2.0)).data == 1.5 and (7.5 // Value(2.0)).data == 3.0
    assert ((-7.5) % Value(2.0)).data == (-7.5) % 2.0 == 0.5  # the divisor's sign, as Python


def test_numpy_scalars_are_stored_as_python_floats() -> None:
    np = pytest.importorskip("numpy")
    for x in (np.float64(1e308), np.float32(2.5), np.int64(3)):
        v = Value(x)
        assert type(v.data) is float
        assert (v * 10).data == float(x) * 10  # float arithmetic: inf, no numpy warning


def test_custom_rule_written_with_python_operators_follows_ieee_in_every_mode() -> None:
    """A user's partials with ``a / out`` raise ZeroDivisionError on floats at 0; the engine evaluates
    them again on constant Values (IEEE), so backward() agrees with grad(create_graph=True)."""
    hypot = P.Primitive("hypot", math.hypot, lambda a, b, out: (a / out, b / out))
    inv = P.Primitive("inv", lambda x: 1 / x if x else math.inf, lambda x, out: (-1 / x**2,))
    for rule, xs, want in ((hypot, [0.0, 0.0], [math.nan, math.nan]), (inv, [0.0], [-math.inf])):
        vs = [Value(x) for x in xs]
        rule(*vs).backward()
        by_graph = [g.data for g in grad(rule(*vs), vs, create_graph=True)]
        by_float = [g.data for g in grad(rule(*vs), vs)]
        for got in ([v.grad for v in vs], by_graph, by_float):
            assert all(map(same, got, want)), (rule, got)


def test_ints_beyond_the_floats_round_to_inf() -> None:
    assert Value(10**400).data == math.inf and Value(-(10**400)).data == -math.inf
    assert (Value(1.0) * 10**400).data == math.inf and (Value(1.0) + -(10**400)).data == -math.inf


def test_partials_of_the_wrong_length_are_refused_in_every_mode() -> None:
    short = P.Primitive("mul", lambda a, b: a * b, lambda a, b, out: (b,))  # d/db forgotten
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(ValueError, match="mul: partials returned 1 derivatives for 2 inputs"):
        short(a, b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0)  # refused before anything was added
    for create_graph in (False, True):
        with pytest.raises(ValueError, match="1 derivatives for 2 inputs"):
            grad(short(a, b), [a, b], create_graph=create_graph)


def _rule_of_arity(n: int, const: bool, returns: Any) -> P.Primitive:
    """x_1 * ... * x_n (times c when `const`), whose partials return `returns(true_partials)`."""
    def forward(*args: float) -> float:
        return math.prod(args)

    def partials(*args: Any) -> Any:
        xs = args[:n]
        c = args[-1] if const else 1.0
        true = tuple(c * math.prod(x for j, x in enumerate(xs) if j != i) for i in range(n))
        return returns(true)

    return P.Primitive("prod", forward, partials, const=const)


_SHAPES = {  # what the partials return instead of their n derivatives, and what must be said
    "too few": (lambda ds: ds[:-1], ValueError, "partials returned {m} derivatives for {n} inputs", -1),
    "too many": (lambda ds: (*ds, 0.0), ValueError, "partials returned {m} derivatives for {n} inputs", 1),
    "a number": (lambda ds: ds[0], TypeError, "partials must return a tuple, one derivative per input, not {t}", 0),
    "a generator": (lambda ds: (d for d in ds), TypeError,
                    "partials must return a tuple, one derivative per input, not generator", 0),
}


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("const", [False, True])
@pytest.mark.parametrize("shape", list(_SHAPES))
def test_partials_of_the_wrong_shape_are_refused_before_anything_is_added(n: int, const: bool, shape: str) -> None:
    """Every arity the chain step handles by hand (1, 2) and the general one (3), with and without a
    parameter: too few or too many derivatives, a bare number or a generator is refused naming the
    rule, in backward() and in grad() of both modes, and no .grad has changed."""
    how, error, message, extra = _SHAPES[shape]
    rule = _rule_of_arity(n, const, how)
    xs = [Value(1.5 + i) for i in range(n)]
    text = "^prod: " + re.escape(message.format(m=n + extra, n=n, t="@")).replace("@", "(float|Value)") + "$"

    def out() -> Value:
        return rule(*xs, 2.0) if const else rule(*xs)

    with pytest.raises(error, match=text):
        (out() + xs[0]).backward()  # the walk reaches the rule's node after the + has added into x0: it
    assert [x.grad for x in xs[1:]] == [0.0] * (n - 1)  # must refuse before adding anything itself
    for x in xs:
        x.grad = 0.0
    for create_graph in (False, True):
        with pytest.raises(error, match=text):
            grad(out(), xs, create_graph=create_graph)
        assert [x.grad for x in xs] == [0.0] * n


def test_a_forward_written_with_python_operators_follows_ieee_and_one_with_math_is_named():
    """A rule's forward that raises on floats (1 / 0) is evaluated again on constant Values, as its
    partials are: the node holds inf, like the built-in rules.  One that calls a function of floats
    (math.log) has no IEEE answer to give: a ValueError names the rule and says what to use."""
    recip = P.Primitive("recip", lambda x: 1 / x, lambda x, out: (-out * out,))
    assert recip(Value(0.0)).data == math.inf and recip(Value(-0.0)).data == -math.inf
    xlogx = P.Primitive("xlogx", lambda x: x * math.log(x), lambda x, out: (math.log(x) + 1,))
    with pytest.raises(ValueError, match=r"^xlogx: math domain error; write the rule with operators and micrograd"):
        xlogx(Value(0.0))
    y = Value(0.0)
    node = xlogx(Value(2.0)) + y * 0.0  # a valid forward; the partial at 0 is the one that fails
    assert node.data == 2.0 * math.log(2.0)
    z = xlogx(y + 1.0)  # forward at 1 is fine; now its partial at a point where math.log raises
    z._prev[0].data = 0.0
    with pytest.raises(ValueError, match="^xlogx: math domain error; write the rule"):
        z.backward()


def _exact_sum(xs: list[float]) -> float:
    """The oracle: the sum in exact rationals, rounded once; IEEE's inf/nan where a term is not finite."""
    infinite = {x for x in xs if not math.isfinite(x)}
    if infinite:
        return infinite.pop() if len(infinite) == 1 and not any(x != x for x in infinite) else math.nan
    total = sum(map(Fraction, xs), Fraction(0))
    if total == 0:  # IEEE's exact zero: -0.0 only from -0.0s alone (x + -x is +0.0)
        return -0.0 if all(math.copysign(1.0, x) < 0 for x in xs) else 0.0
    try:
        return float(total)
    except OverflowError:
        return math.inf if total > 0 else -math.inf


@settings(max_examples=300)
@hyp_given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                              st.sampled_from([1e308, -1e308, math.inf, -math.inf, 1.7976931348623157e308])),
                    min_size=1, max_size=8))
def test_vsum_is_the_correctly_rounded_sum_even_where_partial_sums_overflow(xs: list[float]) -> None:
    """vsum promises math.fsum's correctly rounded sum; fsum itself raises where a partial sum leaves
    the floats (1e308 + 1e308 - 1e308 is 1e308) or where inf meets -inf; the exact sum in rationals
    (then rounded once) is the oracle, and IEEE's inf or nan where a term is not finite."""
    got, want = vsum([Value(x) for x in xs]).data, _exact_sum(xs)
    assert struct.pack("<d", got) == struct.pack("<d", want) or (got != got and want != want), (xs, got, want)


def test_relu_keeps_negative_zero_as_micrograd_does() -> None:
    """micrograd 0.1.0's relu is ``0 if x < 0 else x``: the sign of a zero passes through, on its own
    node and inside a fused neuron (after IEEE's sum: 0.0 + -0.0 is 0.0, -0.0 + -0.0 is -0.0); the
    slope there is 0 (flat)."""
    x = Value(-0.0)
    y = x.relu()
    assert math.copysign(1.0, y.data) == -1.0
    assert math.copysign(1.0, dot([Value(1.0)], [Value(-0.0)], 0.0, "relu").data) == 1.0
    assert math.copysign(1.0, dot([Value(1.0)], [Value(-0.0)], -0.0, "relu").data) == -1.0
    y.backward()
    assert x.grad == 0.0


def test_relu_of_negative_zero_is_torchs() -> None:
    torch = pytest.importorskip("torch")
    want = torch.relu(torch.tensor(-0.0, dtype=torch.float64)).item()
    assert math.copysign(1.0, Value(-0.0).relu().data) == math.copysign(1.0, want)


class _Param(Value):
    """A Value subclass with a constructor of its own (a name), as a user might write."""

    __slots__ = ()

    def __init__(self, data: float, name: str = "") -> None:
        super().__init__(data, label=name)


def test_a_rules_own_error_and_its_python_errors_are_told_apart() -> None:
    """Python's arithmetic errors (1 / k at k = 0, in the forward or the partials, with the parameter
    too) get IEEE's answer from constant Values; an error the rule raises on purpose (a DomainError)
    stands as it is; a result that is complex is nan, one that is no number a TypeError naming the
    rule; a Value subclass with its own constructor does not stop the fallback."""
    def inv_forward(x: float) -> float:
        if x == 0:
            raise P.DomainError("inv", x, "division by zero")
        return 1.0 / x

    inv = P.Primitive("inv", inv_forward, lambda x, out: (-out * out,))
    with pytest.raises(P.DomainError, match=r"^inv: division by zero \(got 0.0\)$"):
        inv(Value(0.0))
    over = P.Primitive("over", lambda x, k: x / k, lambda x, out, k: (1 / k,), const=True)
    x = Value(2.0)
    y = over(x, 0.0)
    assert y.data == math.inf
    y.backward()
    assert x.grad == math.inf  # d(x / k)/dx = 1 / k, at k = 0: inf, as Value(1.0) / 0.0 gives
    (g,) = grad(over(x, 0.0), [x], create_graph=True)
    assert g.data == math.inf
    short = P.Primitive("short", lambda a, b: a * b, lambda a, b, out: (1 / b,))  # d/db forgotten
    with pytest.raises(ValueError, match=r"^short: partials returned 1 derivatives for 2 inputs$"):
        short(Value(1.0), Value(0.0)).backward()  # its 1 / 0 is not what is wrong with it
    root = P.Primitive("root", lambda x: x ** 0.5, lambda x, out: (0.5 / out,))
    assert math.isnan(root(Value(-4.0)).data)  # Python's (-4) ** 0.5 is complex: no real result
    nothing = P.Primitive("nothing", lambda x: None, lambda x, out: (0.0,))
    with pytest.raises(TypeError, match=r"^nothing: forward returned NoneType, not a number$"):
        nothing(Value(1.0))
    recip = P.Primitive("recip", lambda x: 1 / x, lambda x, out: (-out * out,))
    p = _Param(0.0, "p")
    z = recip(p)
    assert z.data == math.inf
    z.backward()
    assert p.grad == -math.inf


def test_partials_that_use_math_cannot_be_differentiated_again_and_say_so() -> None:
    logish = P.Primitive("logish", lambda x: x * math.log(x), lambda x, out: (math.log(x) + 1.0,))
    x = Value(2.0)
    (g,) = grad(logish(x), [x])
    assert g.data == math.log(2.0) + 1.0
    with pytest.raises(TypeError, match=r"^logish: .*write the partials with operators and micrograd.math"):
        grad(logish(x), [x], create_graph=True)
