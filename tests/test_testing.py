"""Tests of the derivative-checking toolkit itself (micrograd.testing)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from micrograd import Primitive, Value, grad
from micrograd.testing import (
    OPS,
    Domain,
    Expr,
    Node,
    Op,
    expressions,
    gradcheck,
    gradgradcheck,
    numeric_gradient,
    op_from_primitive,
)

SMALL = settings(max_examples=50)


def off_by(delta: float) -> Primitive:
    """f(x) = 2x whose rule claims 2 + delta."""
    return Primitive("off_by", lambda x: 2.0 * x, lambda x, out: (2.0 + delta,))


# ---------------------------------------------------------------- gradcheck
def test_gradcheck_accepts_correct_derivatives_of_numbers_and_values():
    assert gradcheck(lambda x, y: x * y.sin() + (x / y).exp(), [1.5, 2])
    x = Value(0.3)
    assert gradcheck(lambda a: a.tanh() * a, [x])
    assert x.grad == 0.0  # the caller's Values are not touched
    assert gradcheck(lambda: Value(1.0) * 2.0, [])  # no inputs, nothing to compare


def test_gradcheck_reports_a_table_of_every_partial():
    wrong_in_y = Primitive("wrong_in_y", lambda x, y: x * y, lambda x, y, out: (y, x + 1.0))
    with pytest.raises(AssertionError) as info:
        gradcheck(wrong_in_y, [2.0, 3.0])
    lines = str(info.value).splitlines()
    assert lines[0] == "gradcheck(wrong_in_y): analytic and numeric first derivatives disagree at inputs (2.0, 3.0)"
    assert lines[1] == "(eps=1e-06, atol=1e-05, rtol=0.001; allowed = atol + rtol * |numeric|)"
    assert lines[2].split() == ["input", "x", "analytic", "numeric", "error", "allowed"]
    row0, row1 = lines[3].split(), lines[4].split()
    assert row0[:3] == ["0", "2.0", "3"] and math.isclose(float(row0[3]), 3.0) and "FAIL" not in lines[3]
    assert row1[:3] == ["1", "3.0", "3"] and math.isclose(float(row1[3]), 2.0) and row1[-2:] == ["<--", "FAIL"]
    assert math.isclose(float(row1[4]), 1.0, rel_tol=1e-6) and math.isclose(float(row1[5]), 1e-5 + 2e-3, rel_tol=1e-6)
    assert len(lines) == 5


@pytest.mark.parametrize("delta, atol, rtol, passes", [
    (1e-4, 1e-3, 0.0, True),     # within atol
    (1e-4, 0.0, 1e-5, False),    # 1e-4 > rtol * 2
    (1e-4, 0.0, 1e-3, True),     # 1e-4 <= rtol * 2
    (1e-4, 1e-5, 1e-5, False),
    (-1e-4, 1e-5, 1e-5, False),  # the error is absolute
    (0.0, 0.0, 1e-8, True),
])
def test_gradcheck_tolerance_is_atol_plus_rtol_times_numeric(delta, atol, rtol, passes):
    f = off_by(delta)
    if passes:
        assert gradcheck(f, [0.7], atol=atol, rtol=rtol)
    else:
        with pytest.raises(AssertionError):
            gradcheck(f, [0.7], atol=atol, rtol=rtol)


def test_gradcheck_uses_eps():
    """Central differences of x**3 are off by eps**2 (the third derivative / 6)."""
    assert numeric_gradient(lambda x: x ** 3, [1.0], eps=1e-2)[0] == pytest.approx(3.0 + 1e-4, abs=1e-9)
    assert gradcheck(lambda x: x ** 3, [1.0], eps=1e-6, atol=1e-7, rtol=0.0)
    with pytest.raises(AssertionError, match="eps=0.01"):
        gradcheck(lambda x: x ** 3, [1.0], eps=1e-2, atol=1e-7, rtol=0.0)


def test_numeric_gradient_is_a_central_difference():
    g = numeric_gradient(lambda x, y: x * y + y.exp(), [2.0, 0.0])
    assert g[0] == pytest.approx(0.0, abs=1e-9) and g[1] == pytest.approx(3.0, abs=1e-9)
    assert numeric_gradient(lambda x: x * x, [Value(3)]) == [pytest.approx(6.0, abs=1e-8)]


def test_checks_refuse_points_they_cannot_check():
    # IEEE: log(5e-7 - 1e-6) is nan, not an error; the check says where it could not look
    with pytest.raises(ValueError, match=r"cannot take central differences at inputs\[0\] = 5e-07 \+- 1e-06: "
                                         r"a value there is nan"):
        gradcheck(lambda x: x.log(), [5e-7])
    with pytest.raises(ValueError, match=r"a value there is -?inf"):
        gradcheck(lambda x: 1.0 / x, [1e-6])  # 1 / (x - eps) = 1 / 0
    with pytest.raises(ValueError, match="cannot take central differences"):
        gradgradcheck(lambda x: x.sqrt(), [1e-7])
    with pytest.raises(ValueError, match=r"the function is inf"):
        gradcheck(lambda x: x.exp(), [1000.0])
    with pytest.raises(ValueError, match=r"the function is inf"):
        gradgradcheck(lambda x: x.exp(), [1000.0])
    with pytest.raises(ValueError, match=r"inputs must be finite; inputs\[1\] is nan"):
        gradcheck(lambda x, y: x * y, [1.0, math.nan])


def test_constant_functions_pass():
    assert gradcheck(lambda x: 3.0, [1.0]) and gradgradcheck(lambda x: 3.0, [1.0])
    assert gradcheck(lambda x: Value(3.0), [1.0]) and gradgradcheck(lambda x: Value(3.0), [1.0])
    assert gradgradcheck(lambda x, y: x + y * 2.0, [1.0, 2.0])  # a constant first derivative


def test_gradcheck_catches_backward_disagreeing_with_grad(monkeypatch):
    def broken_backward(self, gradient=1.0):
        for leaf in self._prev:
            leaf.grad += 123.0

    monkeypatch.setattr(Value, "backward", broken_backward)
    with pytest.raises(AssertionError, match=r"grad\(\) and backward\(\) disagree on d/d inputs\[0\]"):
        gradcheck(lambda x: x * 2.0, [1.0])


# ---------------------------------------------------------------- gradgradcheck
def test_gradgradcheck_accepts_mixed_second_derivatives():
    assert gradgradcheck(lambda x, y: x * y.sin() + (x / y).exp() + x ** 3, [0.5, 1.25])


def test_gradgradcheck_catches_a_rule_that_escapes_the_graph():
    """x.data in a rule is invisible to gradcheck (the first derivative is right) but kills d2."""
    escaping = Primitive("escaping_cube", lambda x: x ** 3, lambda x, out: (3 * getattr(x, "data", x) ** 2,))
    assert gradcheck(escaping, [1.5])
    with pytest.raises(AssertionError) as info:
        gradgradcheck(escaping, [1.5])
    lines = str(info.value).splitlines()
    assert lines[0].startswith("gradgradcheck(escaping_cube): analytic and numeric second derivatives")
    assert lines[2].split() == ["i", "j", "analytic", "numeric", "error", "allowed"]
    row = lines[3].split()
    assert row[:3] == ["0", "0", "0"] and math.isclose(float(row[3]), 9.0, rel_tol=1e-6) and "FAIL" in lines[3]


# cos with the sign of its derivative wrong: invisible to first derivatives of rules that use it
bad_cos = Primitive("bad_cos", math.cos, lambda x, out: (math.sin(x) if not isinstance(x, Value) else x.sin(),))


def test_gradgradcheck_table_has_every_pair():
    """sin(x * y) whose d/dx rule uses bad_cos: the first derivatives are right, row i = 0 of the Hessian is not."""
    sin_xy = Primitive("sin_xy", lambda x, y: math.sin(x * y),
                       lambda x, y, out: (y * bad_cos(x * y), x * (x * y).cos() if isinstance(x, Value)
                                          else x * math.cos(x * y)))
    assert gradcheck(sin_xy, [0.5, 1.5])
    with pytest.raises(AssertionError) as info:
        gradgradcheck(sin_xy, [0.5, 1.5])
    rows = [line.split() for line in str(info.value).splitlines()[3:]]
    assert [r[:2] for r in rows] == [["0", "0"], ["0", "1"], ["1", "0"], ["1", "1"]]
    assert [r[-1] == "FAIL" for r in rows] == [True, True, False, False]


def test_gradgradcheck_catches_rules_that_differ_on_values_and_floats():
    two_faced = Primitive("two_faced", lambda x: x * x,
                          lambda x, out: (2 * x if isinstance(x, Value) else 2.5 * x,))
    with pytest.raises(AssertionError, match=r"d/d inputs\[0\] is 3.0 with create_graph=True but 3.75 without"):
        gradgradcheck(two_faced, [1.5])


# ---------------------------------------------------------------- strategies
def test_domain_membership():
    d = Domain(-1.0, 1.0, (0.0,), 0.1)
    assert 0.5 in d and 0.1 in d and -1.0 in d and 1.0 in d and 3 not in d
    assert 0.05 not in d and -0.0999 not in d and 1.5 not in d and "x" not in d and math.nan not in d


@SMALL
@given(st.data())
def test_domain_floats_stay_in_the_domain(data):
    d = Domain(-3.0, 5.0, (0.0, 2.0), 0.25)
    x = data.draw(d.floats())
    assert -3.0 <= x <= 5.0 and abs(x) >= 0.25 and abs(x - 2.0) >= 0.25 and x in d


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@settings(max_examples=20)
@given(data=st.data())
def test_op_arguments_are_accepted(op: Op, data):
    args, const = data.draw(op.arguments())
    assert len(args) in op.arities and op.accepts(args, const)
    assert (const is None) == (op.consts is None)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_accepts_answers_for_any_operands(op: Op):
    """accepts() is asked about any float (special_points=True draws them): it says no, it never raises."""
    specials = [0.0, -0.0, 1.0, math.inf, -math.inf, math.nan, 1e308]
    for x in specials:
        for const in ([None] if op.consts is None else specials):
            for k in op.arities:
                assert op.accepts([x] * k, const) in (True, False)
                if not math.isfinite(x) or (const is not None and not math.isfinite(const)):
                    assert not op.accepts([x] * k, const)


def test_powc_avoids_zero_where_the_derivatives_are_singular():
    powc = next(op for op in OPS if op.name == "powc")
    assert powc.accepts([0.0], 2.0) and powc.accepts([-1.0], 3.0) and not powc.accepts([-1.0], 0.5)
    assert not powc.accepts([0.1], -1.0) and powc.accepts([0.3], -1.0) and not powc.accepts([0.1], 1.5)
    assert powc.accepts([0.0], 0.0) and powc.accepts([0.0], 1.0)


@SMALL
@given(expressions())
def test_expressions_are_safe_where_they_are_checked(e: Expr):
    values = list(e.inputs)
    assert all(-2.0 <= x <= 2.0 for x in e.inputs) and len(e.inputs) == e.n_inputs
    for node in e.nodes:
        args = [values[i] for i in node.args]
        assert node.op.accepts(args, node.const), (node, args)
        values.append(node.op.call(node.op.reference, args, node.const))
        # every value is moderate; so is the output, a sum of the nodes nothing else used
        assert abs(values[-1]) <= (50.0 * len(args) if node is e.nodes[-1] and node.op.name == "sum" else 50.0)
    assert values[-1] == e.reference(*e.inputs)
    uses = e.uses()
    assert all(uses[e.n_inputs:-1]) and uses[-1] == 0  # everything feeds the output, the last node


def test_expressions_share_subexpressions_and_use_every_op():
    seen: set[str] = set()
    shapes = {"shared node": 0, "same operand twice": 0, "fan-out >= 3": 0, "6+ nodes": 0}

    @settings(derandomize=True, database=None, max_examples=300)
    @given(expressions())
    def collect(e):
        seen.update(n.op.name for n in e.nodes)
        shapes["shared node"] += any(u >= 2 for u in e.uses()[e.n_inputs:])
        shapes["same operand twice"] += any(len(n.args) >= 2 and len(set(n.args)) < len(n.args) for n in e.nodes)
        shapes["fan-out >= 3"] += max(e.uses()) >= 3
        shapes["6+ nodes"] += len(e.nodes) >= 6

    collect()
    assert seen == {op.name for op in OPS}
    assert all(count >= 30 for count in shapes.values()), shapes  # each in at least 10% of the DAGs


def test_expression_evaluators_and_repr():
    tanh = next(op for op in OPS if op.name == "tanh")
    mul = next(op for op in OPS if op.name == "mul")
    shift = next(op for op in OPS if op.name == "shift")
    e = Expr(2, (Node(mul, (0, 0)), Node(tanh, (2,)), Node(shift, (3,), 1.5)), (0.5, -1.0))
    assert repr(e) == "Expr(\n  x0, x1 = 0.5, -1.0\n  v0 = x0 * x0\n  v1 = tanh(v0)\n  v2 = v1 + 1.5\n)"
    assert e.reference(0.5, 3.0) == math.tanh(0.25) + 1.5
    x = Value(0.5)
    assert e(x, Value(3.0)).data == e.reference(0.5, 3.0)
    assert grad(e(x, Value(0.0)), x)[0].data == pytest.approx((1 - math.tanh(0.25) ** 2) * 2 * 0.5)
    calls = []
    backend = {"mul": lambda a, b: calls.append("mul") or a * b, "tanh": math.tanh, "shift": lambda a, c: a + c}
    assert e.evaluate([0.5, 0.0], backend) == math.tanh(0.25) + 1.5 and calls == ["mul"]
    with pytest.raises(TypeError, match="takes 2 inputs, got 1"):
        e(x)
    assert repr(tanh) == "Op('tanh')" and tanh.render(["a"], None) == "tanh(a)"
    leaky = next(op for op in OPS if op.name == "leaky_relu")
    assert leaky.render(["a"], 0.5) == "leaky_relu(a, 0.5)"


def test_user_ops_for_expressions():
    cube = Primitive("cube", lambda x: x ** 3, lambda x, out: (3 * x ** 2,))
    op = op_from_primitive(cube, Domain(-2.0, 2.0))
    assert op.name == "cube" and op.arities == (1,) and op.primitive is cube and op.reference(2.0) == 8.0
    assert op.accepts([1.0]) and not op.accepts([3.0])
    with pytest.raises(ValueError, match="one Domain per operand"):
        op_from_primitive(cube)
    with pytest.raises(ValueError, match="at least one op"):
        expressions(ops=[])
    only = find(expressions(ops=[op], max_inputs=1), lambda e: len(e.nodes) >= 2,
                settings=settings(derandomize=True, database=None))
    assert {n.op.name for n in only.nodes} <= {"cube", "tanh", "sum"}


def test_extra_ops_are_drawn_for_about_half_of_the_nodes():
    cube = op_from_primitive(Primitive("cube", lambda x: x ** 3, lambda x, out: (3 * x ** 2,)), Domain(-2.0, 2.0))
    counts = {"cube": 0, "other": 0}

    @settings(derandomize=True, database=None, max_examples=100)
    @given(expressions(extra_ops=[cube]))
    def collect(e):
        for node in e.nodes:
            counts["cube" if node.op is cube else "other"] += 1

    collect()
    assert 0.25 < counts["cube"] / (counts["cube"] + counts["other"]) < 0.6, counts


def test_special_point_expressions_print_as_python():
    """nan and inf print as math.nan and math.inf, so a counterexample pastes into Python as it is."""
    mul = next(op for op in OPS if op.name == "mul")
    shift = next(op for op in OPS if op.name == "shift")
    e = Expr(2, (Node(mul, (0, 1)), Node(shift, (2,), -math.inf)), (math.nan, math.inf))
    assert repr(e) == "Expr(\n  x0, x1 = math.nan, math.inf\n  v0 = x0 * x1\n  v1 = v0 + -math.inf\n)"


def test_special_point_expressions_go_anywhere():
    """special_points=True: every op on any operand, inputs and constants from special_floats."""
    seen = {"nan": 0, "inf": 0, "-0.0": 0, "out of domain": 0}

    @settings(derandomize=True, database=None, max_examples=300)
    @given(expressions(special_points=True))
    def collect(e):
        xs = e.inputs
        seen["nan"] += any(math.isnan(x) for x in xs)
        seen["inf"] += any(math.isinf(x) for x in xs)
        seen["-0.0"] += any(x == 0 and math.copysign(1.0, x) < 0 for x in xs)
        seen["out of domain"] += any(not n.op.accepts([xs[i] for i in n.args], n.const)
                                     for n in e.nodes if all(i < e.n_inputs for i in n.args))
        assert all(e.uses()[: e.n_inputs]) or e.n_inputs == 1  # unused inputs are dropped

    collect()
    assert all(count >= 10 for count in seen.values()), seen  # each in at least 1 graph in 30


def test_unused_inputs_are_dropped_down_to_min_inputs():
    @settings(derandomize=True, database=None, max_examples=100)
    @given(expressions(min_inputs=2, max_inputs=4))
    def check(e):
        uses = e.uses()[: e.n_inputs]
        assert e.n_inputs >= 2 and len(e.inputs) == e.n_inputs
        assert all(uses) or e.n_inputs == 2

    check()


# ---------------------------------------------------------------- without hypothesis
WITHOUT_HYPOTHESIS = r"""
import importlib.abc, sys

class NoHypothesis(importlib.abc.MetaPathFinder):  # a plain install: hypothesis is not there
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "hypothesis":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoHypothesis())
try:
    import hypothesis
except ModuleNotFoundError:
    print("hypothesis: blocked")

import micrograd, micrograd.nn, micrograd.optim, micrograd.testing
from micrograd.testing import gradcheck, gradgradcheck, numeric_gradient
print("gradcheck:", gradcheck(lambda x: x * x, [3.0]), gradgradcheck(lambda x: x * x, [3.0]))
for statement in ("from micrograd.testing import Domain", "from micrograd.testing import expressions",
                  "import micrograd.testing.strategies", "micrograd.testing.OPS"):
    try:
        exec(statement)
    except ModuleNotFoundError as e:
        print(f"{statement}: ModuleNotFoundError name={e.name}: {e}")
    else:
        print(f"{statement}: imported")
print("loaded:", sorted(m for m in sys.modules if m.partition(".")[0] == "hypothesis"))
"""


def test_strategies_without_hypothesis_say_which_extra_to_install():
    """A plain install lacks hypothesis: gradcheck works, a strategy names the extra (not a bare import error)."""
    done = subprocess.run([sys.executable, "-c", WITHOUT_HYPOTHESIS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "hypothesis: blocked" and lines[1] == "gradcheck: True True"
    advice = ('need hypothesis, which a plain install lacks: pip install "micrograd[testing]"')
    for line, statement in zip(lines[2:6], ("from micrograd.testing import Domain",
                                            "from micrograd.testing import expressions",
                                            "import micrograd.testing.strategies", "micrograd.testing.OPS")):
        assert line.startswith(f"{statement}: ModuleNotFoundError name=hypothesis: ") and line.endswith(advice), line
    assert lines[6] == "loaded: []"
