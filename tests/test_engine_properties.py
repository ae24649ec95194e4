"""Property tests of the engine: every primitive and random expression DAGs.

Ground truth comes from three independent places: central finite differences
(`micrograd.testing.gradcheck` / `gradgradcheck`), plain-float closed forms
(`Op.reference`, the math module), and two other autodiff libraries used as
oracles (HIPS autograd and PyTorch in float64), for first and second derivatives.
"""

from __future__ import annotations

import functools
import math
import threading

import pytest
from floats import bits
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd.primitives as primitives
from micrograd import Value, dot, grad, is_grad_enabled, no_grad, vsum
from micrograd.fused import DOT, NEURON_RULES
from micrograd.primitives import ADD, LEAKY_RELU, LOG, POWC, SCALE, SHIFT, TABLE
from micrograd.testing import OPS, Expr, Op, expressions, gradcheck, gradgradcheck

OPS_BY_NAME = {op.name: op for op in OPS}
SMALL = settings(max_examples=50)
DAGS = settings(max_examples=100)


def close(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def leaves(xs):
    return [Value(x) for x in xs]


# ---------------------------------------------------------------- every primitive
def test_every_engine_primitive_has_a_checked_op():
    """OPS follows the rule table: a primitive added to the table (or a fused neuron rule) without an Op in
    micrograd.testing.OPS would go untested, and an Op of a primitive no longer in the table tests nothing."""
    table = set(TABLE.values()) | set(NEURON_RULES.values())
    covered = {op.primitive for op in OPS}
    assert table - covered == set() and covered - table == set()


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@SMALL
@given(data=st.data())
def test_primitive_value_matches_closed_form(op: Op, data):
    args, const = data.draw(op.arguments(), label="args, const")
    extra = () if const is None else (const,)
    value = op.apply(*leaves(args), *extra)
    assert isinstance(value, Value) and value.requires_grad
    assert close(value.data, op.reference(*args, *extra))


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@SMALL
@given(data=st.data())
def test_primitive_first_derivatives_match_finite_differences(op: Op, data):
    args, const = data.draw(op.arguments(), label="args, const")
    extra = () if const is None else (const,)
    assert gradcheck(lambda *xs: op.apply(*xs, *extra), args)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@SMALL
@given(data=st.data())
def test_primitive_second_derivatives_match_finite_differences(op: Op, data):
    args, const = data.draw(op.arguments(), label="args, const")
    extra = () if const is None else (const,)
    assert gradgradcheck(lambda *xs: op.apply(*xs, *extra), args)


PLAIN = [op for op in OPS if op.consts is None and op.name not in ("neg", "sum") and "dot" not in op.name]


@pytest.mark.parametrize("op", PLAIN, ids=lambda op: op.name)
@SMALL
@given(data=st.data())
def test_primitive_on_floats_is_its_forward(op: Op, data):
    """Calling a Primitive on floats returns the float its recorded node would hold."""
    args, _ = data.draw(op.arguments())
    prim = op.primitive
    assert prim is not None
    out = prim(*args)
    assert isinstance(out, float) and out == prim(*leaves(args)).data == prim.forward(*args)


@pytest.mark.parametrize("prim, c, x, expected", [
    (SHIFT, 2.0, 3.0, 1.0),           # d(x + 2)/dx
    (SCALE, 2.0, 3.0, 2.0),           # d(2x)/dx
    (POWC, 2.0, 3.0, 6.0),            # d(x**2)/dx
    (LEAKY_RELU, 0.1, -1.0, 0.1),     # d leaky_relu(x, 0.1)/dx at x < 0
], ids=["SHIFT", "SCALE", "POWC", "LEAKY_RELU"])
def test_const_primitive_called_on_a_value_differentiates(prim, c, x, expected):
    """Regression (found by these tests, fixed in 53de2a8): the constant used to become a parent, so the
    partials got (x, c, out) where they expect (x, out, c): SCALE(Value(3), 2) had derivative 6."""
    v = Value(x)
    out = prim(v, c)
    assert out.data == prim.forward(x, c)
    assert grad(out, v)[0].data == expected


# ---------------------------------------------------------------- numerics at the edges
EVERYWHERE = ["exp", "tanh", "sigmoid", "softplus", "relu", "abs", "sin", "cos", "neg"]


@pytest.mark.parametrize("name", EVERYWHERE)
@SMALL
@given(x=st.floats(allow_nan=False, allow_infinity=False))
def test_primitive_is_stable_over_all_finite_inputs(name, x):
    """No exception and no NaN for any finite input, in the value, the derivative and the second derivative."""
    op = OPS_BY_NAME[name]
    v = Value(x)
    y = op.apply(v)
    (d,) = grad(y, v, create_graph=True)
    (dd,) = grad(d, v)
    assert not any(math.isnan(t) for t in (y.data, d.data, dd.data))
    if name != "exp":
        assert math.isfinite(y.data) and math.isfinite(d.data)


@pytest.mark.parametrize("x", [1000.0, -1000.0])
def test_exp_overflow_is_inf_and_underflow_is_zero(x):
    v = Value(x)
    y = v.exp()
    y.backward()
    assert y.data == v.grad == (math.inf if x > 0 else 0.0)


def test_abs_has_slope_zero_at_zero_like_pytorch():
    for x, slope in ((0.0, 0.0), (-0.0, 0.0), (0.5, 1.0), (-0.5, -1.0), (1e-300, 1.0), (-1e-300, -1.0)):
        v = Value(x)
        assert grad(abs(v), v)[0].data == slope
        (d,) = grad(v.abs(), v, create_graph=True)
        assert d.data == slope


def test_saturating_primitives_at_extremes():
    assert Value(-1000.0).sigmoid().data == 0.0 and Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).softplus().data == 1000.0 and Value(-1000.0).softplus().data == 0.0
    assert Value(800.0).tanh().data == 1.0
    x = Value(-800.0)
    x.softplus().backward()
    assert x.grad == 0.0


@pytest.mark.parametrize("make, x", [
    (lambda x: x ** 3.0, 1e200), (lambda x: x ** Value(3.0), 1e200), (lambda x: x ** -2.0, 1e-200),
], ids=["x**3", "x**Value(3)", "x**-2"])
def test_power_overflow_backward_gives_inf(make, x):
    """Regression (fixed in 53de2a8): the forward overflowed to inf (IEEE, as documented) but backward
    raised OverflowError, because the partial c * x ** (c - 1) used Python's float ** (which raises)."""
    v = Value(x)
    y = make(v)
    assert y.data == math.inf
    y.backward()
    assert abs(v.grad) == math.inf


@pytest.mark.parametrize("x, c, expected", [
    (-1e200, 3.0, -math.inf), (-1e200, 2.0, math.inf), (1e200, 3.0, math.inf), (-1e200, 4.0, math.inf),
    (1e-200, -3.0, math.inf), (-1e-200, -3.0, -math.inf), (-1e-200, -2.0, math.inf), (0.5, -2000.0, math.inf),
])
def test_power_overflow_has_the_sign_of_the_true_result(x, c, expected):
    assert (Value(x) ** c).data == expected


def test_integer_power_derivatives_near_zero():
    """Regression (fixed in 53de2a8): d/dx x**0 is 0 and d2/dx2 x**1 is 0 everywhere, but at (or very
    near) x = 0 the partial c * x ** (c - 1) evaluated 0 ** -1 and raised DomainError or OverflowError."""
    for x in (0.0, 1e-310):
        v = Value(x)
        assert grad(v ** 0, v)[0].data == 0.0
        (d,) = grad(v ** 1, v, create_graph=True)
        assert grad(d, v)[0].data == 0.0
        (d,) = grad(v ** 2, v, create_graph=True)
        (dd,) = grad(d, v, create_graph=True)
        assert dd.data == 2.0 and grad(dd, v)[0].data == 0.0  # d3/dx3 x**2 = 0


# ---------------------------------------------------------------- domain edges
# IEEE 754 everywhere: leaving a domain gives inf or nan, never an error (tests/test_ieee.py holds every rule to
# PyTorch float64 at special points; the properties below hold every mode of differentiation to each other).
def test_domain_edges_that_are_allowed():
    assert Value(0.0).sqrt().data == 0.0
    assert (Value(0.0) ** 2.0).data == 0.0 and (Value(-2.0) ** 3.0).data == -8.0
    assert (Value(0.0) ** Value(2.0)).data == 0.0 and (Value(0.0) ** Value(0.0)).data == 1.0
    x, y = Value(0.0), Value(2.0)
    assert [g.data for g in grad(x ** y, [x, y])] == [0.0, 0.0]  # d/dy 0**y = 0 for y > 0


@pytest.mark.parametrize("create_graph", [False, True])
def test_zero_to_the_power_of_a_zero_value_has_zero_slopes(create_graph):
    """Regression (fixed in 6174702): 0 ** y with y a Value holding 0 is allowed (0**0 = 1) and backward gave
    slopes (0, 0), but grad(create_graph=True) raised DomainError: POW's rule tested `b != 0`, which for a
    Value b compares identity (always True), so it evaluated POW(0, -1)."""
    a, b = Value(0.0), Value(0.0)
    y = a ** b
    assert y.data == 1.0
    assert [g.data for g in grad(y, [a, b], create_graph=create_graph)] == [0.0, 0.0]


# ---------------------------------------------------------------- random expression DAGs
@DAGS
@given(expressions())
def test_dag_value_matches_float_evaluator(e: Expr):
    assert close(e(*leaves(e.inputs)).data, e.reference(*e.inputs), rel=1e-9, abs_=1e-9)


@DAGS
@given(expressions())
def test_dag_first_derivatives_match_finite_differences(e: Expr):
    assert gradcheck(e, e.inputs)


@DAGS
@given(expressions())
def test_dag_second_derivatives_match_finite_differences(e: Expr):
    assert gradgradcheck(e, e.inputs)


# Oracles.  Their backends only translate op names; each library differentiates on its own.
# a ** b (both differentiable) is written exp(b * log(a)) (a > 0 in these DAGs): at b == 0 both torch.pow and
# autograd's power mask the exponent-0 case in their first derivative with a constant, so their mixed second
# derivative d2/da db of a**b is wrong there (torch gives 0, autograd a, the truth is 1/a).
def _operators(pow_, where, floor):
    return {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
        "pow": pow_, "neg": lambda a: -a, "shift": lambda a, c: a + c, "rshift": lambda a, c: c + a,
        "rsub": lambda a, c: c - a, "scale": lambda a, c: a * c, "rscale": lambda a, c: c * a,
        "rdiv": lambda a, c: c / a, "powc": lambda a, c: a ** c, "rpow": lambda a, c: c ** a,
        "leaky_relu": lambda a, c: where(a > 0, a, c * a),
        "mod": lambda a, b: a % b, "modc": lambda a, c: a % c, "rmod": lambda a, c: c % a,
        "floordiv": lambda a, b: floor(a / b), "floordivc": lambda a, c: floor(a / c),
        "rfloordiv": lambda a, c: floor(c / a),
        "sum": lambda *xs: functools.reduce(lambda s, t: s + t, xs),
        "dot": lambda b, *wx: functools.reduce(lambda s, t: s + t, [w * x for w, x in zip(wx[::2], wx[1::2])], b),
    }


def _with_neurons(ops):
    """The fused neuron ops as the backend's own dot followed by its own activation."""
    def neuron(act):
        return lambda *xs: ops[act](ops["dot"](*xs))
    return {**ops, **{f"dot_{act}": neuron(act) for act in ("relu", "tanh", "sigmoid")}}


def autograd_backend():
    anp = pytest.importorskip("autograd.numpy")
    return _with_neurons({
        **_operators(lambda a, b: anp.exp(b * anp.log(a)), anp.where, anp.floor),
        "exp": anp.exp, "log": anp.log, "sqrt": anp.sqrt, "tanh": anp.tanh, "sin": anp.sin, "cos": anp.cos,
        "sigmoid": lambda a: 1.0 / (1.0 + anp.exp(-a)), "softplus": lambda a: anp.logaddexp(0.0, a),
        "relu": lambda a: anp.maximum(a, 0.0), "abs": anp.abs,
    })


def torch_backend():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    return _with_neurons({
        **_operators(lambda a, b: torch.exp(b * torch.log(a)), torch.where, torch.floor),
        "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "tanh": torch.tanh, "sin": torch.sin,
        "cos": torch.cos, "sigmoid": torch.sigmoid, "softplus": F.softplus, "relu": torch.relu, "abs": torch.abs,
        "leaky_relu": lambda a, c: F.leaky_relu(a, c),
        # torch differentiates remainder(tensor, tensor) in both operands, remainder(number, tensor) in neither
        "rmod": lambda a, c: torch.remainder(torch.tensor(c, dtype=a.dtype), a),
    })


def engine_derivatives(e: Expr):
    xs = leaves(e.inputs)
    first = grad(e(*xs), xs, create_graph=True)
    return [g.data for g in first], [[h.data for h in grad(g, xs)] for g in first]


ORACLE_REL, ORACLE_ABS = 1e-9, 1e-9  # two exact methods; only rounding differs


def assert_all_close(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert close(a, b, ORACLE_REL, ORACLE_ABS), (ours, theirs)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # a derivative that is constant
@DAGS
@given(expressions())
def test_dag_derivatives_match_hips_autograd(e: Expr):
    backend = autograd_backend()
    import autograd
    import autograd.numpy as anp

    f = lambda v: e.evaluate([v[i] for i in range(e.n_inputs)], backend)  # noqa: E731
    x = anp.array(e.inputs, dtype=float)
    g, h = autograd.grad(f)(x), autograd.hessian(f)(x)
    first, second = engine_derivatives(e)
    assert_all_close(first, list(g))
    for i in range(e.n_inputs):
        assert_all_close(second[i], list(h[i]))


@DAGS
@given(expressions())
def test_dag_derivatives_match_torch_create_graph(e: Expr):
    backend = torch_backend()
    import torch

    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in e.inputs]
    out = e.evaluate(xs, backend)
    first = torch.autograd.grad(out, xs, create_graph=True, allow_unused=True)
    second = []
    for g in first:
        if g is None or not g.requires_grad:
            second.append([0.0] * len(xs))
            continue
        row = torch.autograd.grad(g, xs, retain_graph=True, allow_unused=True)
        second.append([0.0 if h is None else h.item() for h in row])
    ours_first, ours_second = engine_derivatives(e)
    assert close(e(*leaves(e.inputs)).data, out.item(), ORACLE_REL, ORACLE_ABS)
    assert_all_close(ours_first, [0.0 if g is None else g.item() for g in first])
    for a, b in zip(ours_second, second):
        assert_all_close(a, b)


@SMALL
@given(expressions(max_nodes=12))
def test_backward_and_grad_agree_and_reset_interior_nodes(e: Expr):
    xs = leaves(e.inputs)
    out = e(*xs)
    expected = [g.data for g in grad(out, xs)]
    assert all(x.grad == 0.0 for x in xs)  # grad() leaves .grad alone
    out.backward()
    out.backward()  # leaves accumulate, interior nodes are reset then refilled
    assert all(close(x.grad, 2 * g) for x, g in zip(xs, expected))
    assert out.grad == 1.0


# ---------------------------------------------------------------- one graph, one answer, anywhere
ANYWHERE = settings(max_examples=300)


def _outcome(f) -> tuple:
    """("ok", the floats f returns) or ("error", the exception's type and message)."""
    try:
        return ("ok", tuple(f()))
    except Exception as err:  # noqa: BLE001 - an error is an outcome to compare, whatever it is
        return ("error", type(err).__name__, str(err))


def _same(a: tuple, b: tuple) -> bool:
    if a[0] == "ok" == b[0]:
        return len(a[1]) == len(b[1]) and all(bits(x) == bits(y) for x, y in zip(a[1], b[1]))
    return a == b


@ANYWHERE
@given(expressions(special_points=True, max_nodes=10))
def test_one_graph_gives_one_result_in_every_mode(e: Expr):
    """Issue 12: backward(), grad() and grad(create_graph=True) on one graph give the same floats bit for bit
    (nan alike), or the same error, over random graphs at 0, -0.0, ±inf, nan, the largest and smallest floats."""
    xs = leaves(e.inputs)
    out = e(*xs)
    by_grad = _outcome(lambda: [g.data for g in grad(out, xs)])
    by_graph = _outcome(lambda: [g.data for g in grad(out, xs, create_graph=True)])

    def by_backward():
        out.backward()
        return [x.grad for x in xs]

    by_walk = _outcome(by_backward)
    # backward() adds each gradient into .grad, which starts at 0.0: 0.0 + g (so a -0.0 gradient shows as 0.0)
    added = ("ok", tuple(0.0 + g for g in by_grad[1])) if by_grad[0] == "ok" else by_grad
    assert _same(by_grad, by_graph) and _same(added, by_walk), (
        f"grad(): {by_grad}\ngrad(create_graph=True): {by_graph}\nbackward(): {by_walk}")


@ANYWHERE
@given(expressions(special_points=True, max_nodes=10))
def test_nothing_raises_anywhere(e: Expr):
    """IEEE 754: no operation raises on any input, in the value, the gradient in every mode, and the second
    derivative (tests/test_ieee.py checks each rule on its own against PyTorch)."""
    xs = leaves(e.inputs)
    out = e(*xs)
    grad(out, xs)
    first = grad(out, xs, create_graph=True)
    for g in first:
        if g.requires_grad:
            grad(g, xs)
    out.backward()


def test_special_point_graphs_reach_the_special_points():
    """The two properties above see nan, ±inf and 0 as inputs and as constants, and every op."""
    seen = {"nan input": 0, "inf input": 0, "zero input": 0, "special constant": 0}
    ops: set[str] = set()

    @settings(derandomize=True, database=None, max_examples=300)
    @given(expressions(special_points=True))
    def collect(e):
        ops.update(n.op.name for n in e.nodes)
        seen["nan input"] += any(math.isnan(x) for x in e.inputs)
        seen["inf input"] += any(math.isinf(x) for x in e.inputs)
        seen["zero input"] += any(x == 0 for x in e.inputs)
        seen["special constant"] += any(n.const is not None and not math.isfinite(n.const) for n in e.nodes)

    collect()
    assert ops == {op.name for op in OPS}
    assert all(count >= 15 for count in seen.values()), seen  # each in at least 5% of the graphs


# ---------------------------------------------------------------- grad()
@SMALL
@given(expressions(min_inputs=2, max_inputs=2), st.floats(-3, 3), st.floats(-3, 3))
def test_grad_is_linear_in_grad_outputs(e: Expr, w1, w2):
    x, y = leaves(e.inputs)
    f = e(x, y)
    g = f.sin() * y
    combined = grad([f, g], [x, y], grad_outputs=[w1, w2])
    separate = [grad(f, [x, y]), grad(g, [x, y])]
    for k in range(2):
        assert close(combined[k].data, w1 * separate[0][k].data + w2 * separate[1][k].data, 1e-12, 1e-12)


def test_grad_outputs_scalar_value_and_mismatch():
    x = Value(3.0)
    y = x * x
    assert grad(y, x, grad_outputs=2.0)[0].data == 12.0
    assert grad([y], [x], grad_outputs=[Value(0.5)])[0].data == 3.0
    assert grad([y, y], [x])[0].data == 12.0  # the same output twice counts twice
    with pytest.raises(ValueError, match="grad_outputs has 2 entries for 1 outputs"):
        grad(y, x, grad_outputs=[1.0, 2.0])


def test_grad_of_several_outputs_some_of_them_leaves():
    x = Value(2.0)
    y = x * x
    assert grad([x, y], x)[0].data == 1.0 + 4.0
    assert grad([y, x, y], [x])[0].data == 4.0 + 1.0 + 4.0
    assert grad([Value(1.0, requires_grad=False), y], x)[0].data == 4.0


def test_grad_with_value_seeds_returns_constants_unless_create_graph():
    x = Value(2.0)
    y = x * x
    (plain,) = grad(y, x, grad_outputs=[Value(0.5)])
    assert plain.data == 2.0 and plain.requires_grad is False and plain._prev == ()
    s = Value(0.5)
    (recorded,) = grad(y, x, grad_outputs=[s], create_graph=True)
    assert recorded.data == 2.0 and grad(recorded, s)[0].data == 4.0  # d/ds (s * 2x) = 2x


def test_grad_of_unrelated_constant_and_interior_inputs():
    x, z = Value(2.0), Value(5.0)
    h = x * 3.0
    y = h.tanh()
    gx, gz, gh, gy = grad(y, [x, z, h, y])
    assert gz.data == 0.0 and gy.data == 1.0
    assert close(gh.data, 1 - math.tanh(6.0) ** 2) and close(gx.data, 3 * gh.data)
    assert all(g.requires_grad is False for g in (gx, gz, gh, gy))
    assert grad(x, x)[0].data == 1.0  # an input is its own output
    c = Value(1.0, requires_grad=False)
    assert grad(c * 2.0, c)[0].data == 0.0  # nothing to differentiate


def test_create_graph_results_are_differentiable_only_when_asked():
    x = Value(1.5)
    y = x * x * x
    (plain,) = grad(y, x)
    (graph,) = grad(y, x, create_graph=True)
    assert plain.data == graph.data == 3 * 1.5 ** 2
    assert not plain.requires_grad and graph.requires_grad
    assert grad(graph, x)[0].data == 6 * 1.5
    assert grad(plain, x)[0].data == 0.0
    (lin,) = grad(x + 1.0, x, create_graph=True)
    assert lin.data == 1.0 and grad(lin, x)[0].data == 0.0  # a constant derivative


def test_deep_chain_has_no_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(5_000):  # 10_000 nodes, far past the default recursion limit
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    assert grad(y, x)[0].data == 1.0


def test_diamond_is_visited_once():
    x = Value(2.0)
    a = x * x
    b = a + a      # fan-out of a
    c = b * a      # 2 a**2 = 2 x**4
    assert grad(c, x)[0].data == 8 * 2.0 ** 3
    c.backward()
    assert x.grad == 64.0 and a.grad == 2 * 2 * 4.0 and b.grad == 4.0


def test_backward_needs_a_graph_and_accepts_a_seed():
    with pytest.raises(RuntimeError) as info:
        Value(1.0, requires_grad=False).backward()
    assert str(info.value) == ("backward() on a Value that does not require grad "
                               "(made under no_grad() or from constants only)")
    with no_grad():
        y = Value(1.0) * 2.0
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    x = Value(2.0)
    (x * 5.0).backward(3)
    assert x.grad == 15.0
    leaf = Value(1.0)
    leaf.backward(2.0)
    leaf.backward()
    assert leaf.grad == 3.0


# ---------------------------------------------------------------- no_grad
def test_no_grad_records_nothing_and_restores():
    x = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert is_grad_enabled() is False
        y = x * x + 1.0
        with no_grad():
            z = y.exp()
        assert not is_grad_enabled()
    assert is_grad_enabled() is True
    assert y.data == 5.0 and not y.requires_grad and y._op == "" and not z.requires_grad
    assert grad(y, x)[0].data == 0.0
    assert (x * x).requires_grad


def test_no_grad_as_decorator_and_other_threads_still_record():
    seen = {}

    def worker():
        seen["thread"] = is_grad_enabled()

    @no_grad()
    def f(v):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        return v * 2.0, is_grad_enabled()

    out, enabled = f(Value(1.0))
    assert f.__name__ == "f" and not enabled and not out.requires_grad and seen["thread"]
    assert is_grad_enabled()


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError), no_grad():
        Value(-1.0).log()
        raise ZeroDivisionError
    assert is_grad_enabled()


# ---------------------------------------------------------------- the public surface of a Value
def test_values_made_from_constants_do_not_require_grad():
    c = Value(2.0, requires_grad=False)
    assert (c * 3.0).requires_grad is False and (c + c).requires_grad is False
    assert (1.0 / Value(2.0)).requires_grad is True and (Value(2.0) / 4.0)._prev[1].requires_grad is False
    leaf = Value(1.5)
    assert leaf._prev == () and leaf._op == "" and leaf.grad == 0.0 and leaf.requires_grad is True
    import numpy as np
    with pytest.raises(TypeError, match="^a Value holds a real number, not ndarray$"):
        Value(np.array([1.0, 2.0]))
    assert Value(np.float64(0.25)).data == 0.25 and Value(np.array(0.5)).data == 0.5
    x = Value(1.0)
    assert (c * x).requires_grad
    with pytest.raises(TypeError, match="real number, not str"):
        Value("1.0")
    with pytest.raises(TypeError, match="not complex"):
        Value(1j)
    with pytest.raises(TypeError, match="not NoneType"):
        Value(None)
    with pytest.raises(TypeError, match="not list"):
        Value([1.0])
    assert Value(3).data == 3.0 and isinstance(Value(3).data, float) and Value(True).data == 1.0


def test_operation_names_and_repr():
    x = Value(2.0, label="x")
    assert repr(x) == "Value(data=2.0, grad=0.0, label='x')" and repr(Value(1.0)) == "Value(data=1.0, grad=0.0)"
    assert x._op == ""
    assert (x ** 2)._op == "**2" and (x ** 0.5)._op == "**0.5" and (x + 3)._op == "+3" and (x * -1.5)._op == "*-1.5"
    assert (x ** 1e20)._op == "**1e+20" and (x * 1e15)._op == "*1000000000000000.0"
    assert x.leaky_relu(0.1)._op == "leaky_relu(0.1)" and (x * x)._op == "*" and x.tanh()._op == "tanh"
    assert vsum([x, x])._op == "sum" and dot([x], [x])._op == "dot" and (x ** x)._op == "**"
    assert repr(ADD) == "Primitive('+')" and LOG.name == "log"
    y = x * 2.0
    assert repr(y) == "Value(data=4.0, grad=0.0)" and y.label == ""  # a new node starts with grad 0
    y.backward()
    assert repr(y) == "Value(data=4.0, grad=1.0)" and x.grad == 2.0
    assert (-x)._op == "*-1" and (x - 1.0)._op == "+-1" and (2.0 - x)._op == "+2" and (1.0 / x)._op == "/"
    assert (x - y)._op == "-" and (x - y)._prev == (x, y)  # one node, not micrograd's x + y * -1


@given(st.floats(), st.floats(), st.floats())
def test_subtraction_is_the_sum_with_the_negation_bit_for_bit(a: float, b: float, seed: float) -> None:
    """a - b is one node, but every number is that of a + (-b), the nodes micrograd makes for it: values,
    gradients (backward and create_graph), -0.0, inf and nan included (IEEE: a - b is a + (-b) exactly)."""
    def run(f):
        x, y = Value(a), Value(b)
        out = f(x, y)
        (out * seed).backward()
        firsts = grad(out * seed, [x, y], create_graph=True)
        return [bits(v) for v in (out.data, x.grad, y.grad, *(g.data for g in firsts))]

    assert run(lambda x, y: x - y) == run(lambda x, y: x + (-y))


def test_comparisons_read_the_data_and_hash_by_identity():
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a and a < 1.5 and b >= 2.0 and not (a > 1.0)
    same = Value(1.0)
    assert not (a < same) and a <= same and not (a > same) and a >= same and not (a < 1.0) and a <= 1.0
    assert max([a, b]) is b and b.data == 2.0
    assert len({a, Value(1.0)}) == 2


def test_reflected_operators():
    x = Value(2.0)
    cases = {
        "3 + x": (3 + x, 5.0, 1.0), "3 - x": (3 - x, 1.0, -1.0), "x - 3": (x - 3, -1.0, 1.0),
        "3 * x": (3 * x, 6.0, 3.0), "3 / x": (3 / x, 1.5, -0.75), "x / 4": (x / 4, 0.5, 0.25),
        "3 ** x": (3 ** x, 9.0, 9 * math.log(3)), "-x": (-x, -2.0, -1.0), "abs(-x)": (abs(-x), 2.0, 1.0),
        "x - x": (x - x, 0.0, 0.0),
    }
    for name, (y, value, derivative) in cases.items():
        assert close(y.data, value) and close(grad(y, x)[0].data, derivative), name


def test_a_number_is_subtracted_as_a_float():
    """x - c negates c as a float, as Python's x - c does: in c's own type -np.uint8(3) wraps to 253 and -0 is
    +0, so -0.0 - 0 lost its sign (IEEE and PyTorch: -0.0)."""
    import numpy as np  # in the test extra

    for zero in (0, False, np.int64(0), 0.0):
        assert bits((Value(-0.0) - zero).data) == bits(-0.0 - zero) == bits(-0.0), zero
    for c in (np.uint8(3), np.uint64(3), np.int8(-128), np.True_, True, np.float32(0.1)):
        assert bits((Value(5.0) - c).data) == bits(5.0 - float(c)), c
    assert (Value(5.0) - 10 ** 400).data == -math.inf  # an int beyond the floats rounds to inf (IEEE)
    with pytest.raises(TypeError, match="real number, not str"):
        Value(1.0) - "3"  # noqa: B018 - the error is the point


def test_leaky_relu_default_slope_and_function_forms():
    x = Value(-2.0)
    assert x.leaky_relu().data == -0.02 and grad(x.leaky_relu(), x)[0].data == 0.01
    assert primitives.leaky_relu(-2.0) == -0.02 and primitives.leaky_relu(-2.0, negative_slope=0.5) == -1.0
    assert primitives.leaky_relu(x, 0.5).data == -1.0 and primitives.leaky_relu(3, 0.5) == 3.0
    assert primitives.relu(-1.0) == 0.0 and primitives.exp(0.0) == 1.0 and primitives.sqrt(4) == 2.0


def test_vsum_and_dot_accept_constants_and_check_lengths():
    x, y = Value(2.0), Value(3.0)
    s = vsum([x, 1.0, y, y])
    assert s.data == 9.0 and [g.data for g in grad(s, [x, y])] == [1.0, 2.0]
    d = dot([x, y], [4.0, x], bias=1.0)
    assert d.data == 1 + 8 + 6 and [g.data for g in grad(d, [x, y])] == [4.0 + 3.0, 2.0]
    b = Value(0.5)
    assert [g.data for g in grad(dot([x], [y], b), [b, x, y])] == [1.0, 3.0, 2.0]
    assert dot([], []).data == 0.0
    with pytest.raises(ValueError, match="dot: 2 weights for 1 inputs"):
        dot([x, y], [1.0])


def test_dot_sums_left_to_right_like_micrograd():
    ws, xs = [Value(1e16), Value(1.0), Value(-1e16)], [1.0, 1.0, 1.0]
    chained = 0.0
    for w, x in zip(ws, xs):
        chained += w.data * x
    assert dot(ws, xs).data == chained == 0.0  # not fsum's 1.0


def test_vsum_of_nothing_is_a_zero_constant():
    s = vsum([])
    assert s.data == 0.0 and s.requires_grad is False
    assert vsum(v for v in [Value(1.0), 2.0]).data == 3.0


@SMALL
@given(st.integers(0, 4).flatmap(lambda n: st.tuples(
    st.floats(-10, 10), st.lists(st.floats(-10, 10), min_size=n, max_size=n),
    st.lists(st.floats(-10, 10), min_size=n, max_size=n))))
def test_dot_primitive_is_dot(bwx):
    """DOT called directly (on floats or Values, operands bias, w..., x...) is what dot() records."""
    b, ws, xs = bwx
    flat = [b, *ws, *xs]
    fast = dot([Value(w) for w in ws], [Value(x) for x in xs], Value(b))
    assert DOT(*flat) == DOT.forward(*flat) == fast.data == DOT(*leaves(flat)).data
    assert close(fast.data, b + math.fsum(w * x for w, x in zip(ws, xs)), 1e-9, 1e-9)
    assert gradcheck(lambda *vs: DOT(*vs), flat) and gradgradcheck(lambda *vs: DOT(*vs), flat)


def test_vsum_is_one_node_and_exact():
    parts = [Value(0.1) for _ in range(10)]
    s = vsum(parts)
    assert s.data == 1.0 and len(s._prev) == 10
