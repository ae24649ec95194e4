"""micrograd.explain: the seeds' step-by-step backward pass, computed for any graph.

Expected numbers come from outside the walk: seed 000's own program output (its MulLayer /
AddLayer code prints ``110.00000000000001 2.2 3.3000000000000003 165.0 650``), closed forms,
``backward()`` (a separate walk in the engine, which `explain` must reproduce step for step),
and PyTorch in float64 as an oracle.
"""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd
from micrograd import Value, dot, no_grad, vsum
from micrograd.testing import OPS, Expr, expressions
from micrograd.walkthrough import PathLimitError, explain, path_sum, paths

DAGS = settings(max_examples=150)


def bits(x: float) -> bytes:
    """Compare floats bit for bit (tells -0.0 from 0.0 and lets nan equal nan)."""
    return struct.pack("<d", x)


def shopping() -> dict[str, Value]:
    """Seed 000: 2 apples at 100, 3 oranges at 150, 10% tax, built in the book's order."""
    v = {"apple": Value(100, label="apple"), "apple_num": Value(2, label="apple_num"),
         "orange": Value(150, label="orange"), "orange_num": Value(3, label="orange_num"),
         "tax": Value(1.1, label="tax")}
    v["apple_price"] = v["apple"] * v["apple_num"]
    v["orange_price"] = v["orange"] * v["orange_num"]
    v["all_price"] = v["apple_price"] + v["orange_price"]
    v["price"] = v["all_price"] * v["tax"]
    for name, value in v.items():
        value.label = name
    return v


# ---------------------------------------------------------------- seed 000, by hand
def test_shopping_walk_has_the_books_intermediate_numbers() -> None:
    v = shopping()
    ex = explain(v["price"])
    by_edge = {(s.node.label, s.parent.label): s for s in ex.steps}
    # dprice = 1 -> dall_price, dtax = 1 * 1.1, 1 * 650
    assert by_edge["price", "all_price"].upstream == 1.0
    assert by_edge["price", "all_price"].contribution == 1.1
    assert by_edge["price", "tax"].contribution == 650.0
    # the sum passes 1.1 on unchanged
    assert by_edge["all_price", "apple_price"].local == 1.0
    assert by_edge["all_price", "apple_price"].contribution == 1.1
    assert by_edge["all_price", "orange_price"].contribution == 1.1
    # each product passes 1.1 times the other input: the book's printed line, digit for digit
    printed = {"apple_num": 110.00000000000001, "apple": 2.2, "orange": 3.3000000000000003, "orange_num": 165.0,
               "tax": 650.0}
    for leaf, number in printed.items():
        assert ex.gradient(v[leaf]) == number
    assert by_edge["apple_price", "apple"].local == 2.0  # the flipped input
    assert by_edge["orange_price", "orange_num"].local == 150.0
    assert v["price"].data == 715.0000000000001
    assert len(ex.steps) == 8  # one per edge


def test_shopping_table_reads_like_the_book() -> None:
    text = str(explain(shopping()["price"]))
    assert "∂(all_price·tax)/∂all_price = tax = 1.1" in text
    assert "∂(all_price·tax)/∂tax = all_price = 650" in text
    assert "∂(apple_price + orange_price)/∂apple_price = 1" in text
    assert "∂(apple·apple_num)/∂apple_num = apple = 100" in text
    assert "∂price/∂apple_num = 110" in text
    header = next(line for line in text.splitlines() if line.startswith("step"))
    for column in ("node", "value", "upstream", "parent", "local derivative", "contribution", "total"):
        assert column in header


def test_markdown_table_has_one_row_per_step() -> None:
    md = explain(shopping()["price"]).to_markdown()
    lines = md.splitlines()
    assert lines[0].startswith("| step | node |") and lines[1].startswith("|---:|")
    assert len([line for line in lines if line.startswith("| ")]) == 1 + 8
    assert "| apple_num |" in md


def test_only_keeps_the_steps_that_lead_to_a_leaf() -> None:
    v = shopping()
    ex = explain(v["price"])
    kept = ex.relevant([v["apple"]])
    assert [(s.node.label, s.parent.label) for s in kept] == [
        ("price", "all_price"), ("all_price", "apple_price"), ("apple_price", "apple")]
    assert [s.contribution for s in kept] == [1.1, 1.1, 2.2]
    assert "Shown: the 3 of 8 steps" in ex.table(only=[v["apple"]])


# ---------------------------------------------------------------- fan-out, closed forms
def test_fan_out_contributions_meet_and_sum() -> None:
    x = Value(3.0, label="x")
    ex = explain(x * x + x)
    (meeting,) = ex.meetings
    assert meeting.node is x
    assert sorted(meeting.contributions) == [1.0, 3.0, 3.0]  # 1 from "+ x", 3 from each x in x·x
    assert meeting.total == ex.gradient(x) == 2 * 3.0 + 1  # d(x² + x)/dx = 2x + 1
    assert "x: 1 + 3 + 3 = 7" in str(ex)
    assert "∂(x·x)/∂x = x = 3" in str(ex)


@pytest.mark.parametrize(("build", "closed_form"), [
    (lambda x: (x ** 3).tanh(), lambda x: 3 * x ** 2 * (1 - math.tanh(x ** 3) ** 2)),
    (lambda x: (x * 2 + 1).relu(), lambda x: 2.0 if 2 * x + 1 > 0 else 0.0),
    (lambda x: x.exp() / (x.exp() + 1), lambda x: math.exp(x) / (math.exp(x) + 1) ** 2),
    (lambda x: (x.sin() ** 2 + x.cos() ** 2).log(), lambda x: 0.0),
    (lambda x: 3 - x * x.sigmoid(), lambda x: -(1 / (1 + math.exp(-x))) * (1 + x * (1 - 1 / (1 + math.exp(-x))))),
])
@pytest.mark.parametrize("x", [-1.3, 0.4, 2.0])
def test_gradient_matches_closed_form(build, closed_form, x: float) -> None:
    leaf = Value(x, label="x")
    ex = explain(build(leaf))
    assert ex.gradient(leaf) == pytest.approx(closed_form(x), rel=1e-12, abs=1e-12)


def test_explain_touches_no_grad() -> None:
    v = shopping()
    for i, value in enumerate(v.values()):
        value.grad = 1000.0 + i
    before = {name: value.grad for name, value in v.items()}
    explain(v["price"])
    assert {name: value.grad for name, value in v.items()} == before


def test_dead_relu_passes_nothing_back() -> None:
    x = Value(-2.0, label="x")
    h = (x * 3).relu()
    out = h + x
    ex = explain(out)
    assert [(s.node, s.parent) for s in ex.steps if s.parent is x] == [(out, x)]  # only through "+ x"
    assert ex.gradient(x) == 1.0
    assert paths(out, x)[0].nodes == (x, out) and len(paths(out, x)) == 1
    assert explain((x * 3).relu() * 1.0).steps[1:] == ()  # nothing behind the flat node


def test_constants_get_no_steps_and_root_must_require_grad() -> None:
    x = Value(2.0, label="x")
    c = Value(5.0, requires_grad=False)
    ex = explain(x * c)
    assert [s.parent for s in ex.steps] == [x]
    with pytest.raises(RuntimeError, match="does not require grad"):
        explain(c * 2)
    with pytest.raises(TypeError, match="needs a Value"):
        explain(3.0)  # type: ignore[arg-type]


# ---------------------------------------------------------------- neurons: the lecture's arithmetic
B = 6.8813735870195432  # the lecture's neuron: n = 0.8813735870195432, o = tanh(n) = 1/sqrt(2)


def lecture_leaves() -> tuple[Value, ...]:
    return (Value(2.0, label="x1"), Value(0.0, label="x2"), Value(-3.0, label="w1"), Value(1.0, label="w2"),
            Value(B, label="b"))


def test_fused_neuron_is_explained_as_products_sum_and_activation() -> None:
    x1, x2, w1, w2, b = lecture_leaves()
    o = dot([w1, w2], [x1, x2], b, "tanh")
    o.label = "o"
    ex = explain(o)
    ops = [s.node._op for s in ex.steps]
    assert ops.count("tanh") == 1 and ops.count("*") == 4 and ops.count("+") == 4  # 2 products, b + p1, + p2
    text = str(ex)
    assert "∂tanh(b + w1·x1 + w2·x2)/∂(b + w1·x1 + w2·x2) = 1 - o**2 = 0.5" in text
    assert "∂(w1·x1)/∂w1 = x1 = 2" in text
    # the lecture's gradients (closed form: do/dn = 1 - o² = 1/2)
    expected = {x1: -1.5, w1: 1.0, x2: 0.5, w2: 0.0, b: 0.5}
    for leaf, g in expected.items():
        assert ex.gradient(leaf) == pytest.approx(g, abs=1e-15)
    # the engine's own view: one step per parent of the one fused node
    engine_view = explain(o, expand=False)
    assert [s.parent for s in engine_view.steps] == [b, w1, w2, x1, x2]
    assert "∂tanh(b + w1·x1 + w2·x2)/∂w1 = (1 - o**2)·x1 = 1" in str(engine_view)


def test_neuron_made_the_lectures_way_is_explained_through_its_backward() -> None:
    x1, x2, w1, w2, b = lecture_leaves()
    n = x1 * w1 + x2 * w2 + b
    t = math.tanh(n.data)
    o = Value(t, (n,), "tanh", label="o")

    def _backward() -> None:
        n.grad += (1 - t ** 2) * o.grad

    o._backward = _backward
    ex = explain(o)
    first = ex.steps[0]
    assert (first.node, first.parent, first.local) == (o, n, pytest.approx(0.5))
    assert "_backward" in first.rule
    for leaf, g in {x1: -1.5, w1: 1.0, x2: 0.5, w2: 0.0, b: 0.5}.items():
        assert ex.gradient(leaf) == pytest.approx(g, abs=1e-15)
    assert n.grad == 0.0 and o.grad == 0.0  # the closure ran on saved-and-restored .grad


def test_explain_works_inside_no_grad() -> None:
    x1, x2, w1, w2, b = lecture_leaves()
    o = dot([w1, w2], [x1, x2], b, "relu")
    with no_grad():
        ex = explain(o)
    assert ex.gradient(w1) == 2.0 and len(ex.steps) == 9


def test_folded_constants_read_as_the_lectures_nodes() -> None:
    x = Value(2.0, label="x")
    y = 3 - x * 4
    ex = explain(y)
    assert "∂(x·4)/∂x = 4" in str(ex)
    assert ex.gradient(x) == -4.0
    assert explain(y, expand=False).gradient(x) == -4.0


def test_subtraction_reads_with_its_parentheses_and_sign() -> None:
    a, b, c = Value(3.0, label="a"), Value(5.0, label="b"), Value(1.0, label="c")
    y = a - (b + c)
    text = str(explain(y, expand=False))
    assert "a - (b + c) = -3" in text
    assert "∂(a - (b + c))/∂(b + c) = -1" in text and "∂(a - (b + c))/∂a = 1" in text
    assert explain(y).gradient(b) == explain(y, expand=False).gradient(b) == -1.0
    assert "a - (-b) = 8" in str(explain(a - (-b), expand=False))
    target = Value(2.0, label="target", requires_grad=False)  # a constant keeps its name in the lecture's view too
    assert "(a - target)**2 = 1" in str(explain((a - target) ** 2))


# ---------------------------------------------------------------- paths
def test_paths_of_the_fan_out_example() -> None:
    x = Value(3.0, label="x")
    y = x * x + x
    found = paths(y, x)
    assert sorted(p.product for p in found) == [1.0, 3.0, 3.0]
    assert all(p.nodes[0] is x and p.nodes[-1] is y for p in found)
    assert path_sum(found) == 7.0
    assert "x → x·x → out: 3 × 1 = 3" in [str(p) for p in found]  # an unlabelled output is "out"
    assert [str(p) for p in paths(y, y)] == ["out: 1 = 1"]


def test_paths_products_multiply_local_derivatives_along_the_path() -> None:
    v = shopping()
    (path,) = paths(v["price"], v["apple"])
    assert [n.label for n in path.nodes] == ["apple", "apple_price", "all_price", "price"]
    assert path.locals == (2.0, 1.0, 1.1)
    assert path.product == 2.2


def test_path_limit_gives_a_clear_error() -> None:
    x = Value(1.0, label="x")
    y = x
    for _ in range(20):
        y = y + y  # every level doubles the paths: 2**20
    with pytest.raises(PathLimitError, match=r"x reaches .* along 1,048,576 paths, more than limit=10,000"):
        paths(y, x)
    small = x
    for _ in range(5):
        small = small * 1.0 + small
    found = paths(small, x, limit=32)
    assert len(found) == 32 and path_sum(found) == 2.0 ** 5  # d/dx of 2^5 x
    with pytest.raises(ValueError, match="limit must be a positive int"):
        paths(small, x, limit=0)


def test_path_to_an_unrelated_leaf_is_empty() -> None:
    x, z = Value(1.0, label="x"), Value(2.0, label="z")
    assert paths(x * 2, z) == []


# ---------------------------------------------------------------- properties over random DAGs
def _build(e: Expr) -> tuple[list[Value], Value]:
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(e.inputs)]
    return xs, e(*xs)


def _every_node(root: Value) -> list[Value]:
    seen, stack = {root}, [root]
    while stack:
        for p in stack.pop()._prev:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return list(seen)


@DAGS
@given(expressions())
def test_engine_view_reproduces_backward_bit_for_bit(e: Expr) -> None:
    """expand=False: every step is the engine's; each node's total is backward()'s .grad, bit for bit."""
    xs, out = _build(e)
    if not out.requires_grad:
        return
    ex = explain(out, expand=False)
    out.backward()
    totals: dict[Value, float] = {}
    for s in ex.steps:
        assert bits(s.contribution) == bits(s.local * s.upstream)  # contribution = local × upstream
        totals[s.parent] = totals.get(s.parent, 0.0) + s.contribution
        assert bits(s.total) == bits(totals[s.parent])  # the running total
        assert bits(s.upstream) == bits(s.node.grad)  # a node passes on its whole gradient
    for node in _every_node(out):
        if node is not out and node.requires_grad and node in totals:
            assert bits(totals[node]) == bits(node.grad), node
    for x in xs:
        assert bits(ex.gradient(x)) == bits(x.grad)


@DAGS
@given(expressions())
def test_lecture_view_sums_to_backward(e: Expr) -> None:
    """expand=True (neurons as products and sums): contributions sum to every leaf's gradient, to rounding."""
    xs, out = _build(e)
    if not out.requires_grad:
        return
    ex = explain(out)
    out.backward()
    totals: dict[Value, float] = {}
    for s in ex.steps:
        assert bits(s.contribution) == bits(s.local * s.upstream)
        totals[s.parent] = totals.get(s.parent, 0.0) + s.contribution
        assert bits(s.upstream) == bits(ex.gradient(s.node))
    for x in xs:
        assert totals.get(x, 0.0) == pytest.approx(x.grad, rel=1e-9, abs=1e-12)


def test_path_sum_follows_ieee_where_paths_are_infinite() -> None:
    """inf - inf is nan and a partial sum beyond the floats is no error (math.fsum raised both), as the gradient."""
    a, b = Value(1.0, label="a"), Value(math.inf, label="b")
    y = a * b - a * b
    y.backward()
    assert math.isnan(path_sum(paths(y, a))) and math.isnan(a.grad)
    c = Value(1e308, label="c")
    z = a * c + a * c - a * c  # the partial sum 2e308 overflows; the sum of the three paths is 1e308
    assert path_sum(paths(z, a)) == 1e308


@DAGS
@given(expressions(max_nodes=6))
def test_paths_sum_to_the_gradient(e: Expr) -> None:
    xs, out = _build(e)
    if not out.requires_grad:
        return
    out.backward()
    for x in xs:
        for expand in (True, False):
            found = paths(out, x, limit=100_000, expand=expand)
            assert path_sum(found) == pytest.approx(x.grad, rel=1e-9, abs=1e-12)
            for p in found:
                assert p.nodes[0] is x and len(p.locals) == len(p.nodes) - 1
                assert p.nodes[-1] is out if not expand else bits(p.nodes[-1].data) == bits(out.data)


TORCH_OPS = ("add", "sub", "mul", "div", "pow", "neg", "shift", "rshift", "rsub", "scale", "rscale", "rdiv", "powc",
             "rpow", "mod", "modc", "rmod", "exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "relu", "abs", "sin",
             "cos", "leaky_relu", "sum", "dot", "dot_relu", "dot_tanh", "dot_sigmoid")


@settings(max_examples=60)
@given(expressions(ops=[op for op in OPS if op.name in TORCH_OPS]))
def test_gradients_match_torch(e: Expr) -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional

    def plus(*xs):  # noqa: ANN001, ANN202
        total = xs[0]
        for t in xs[1:]:
            total = total + t
        return total

    def linear(b, *wx):  # noqa: ANN001, ANN202
        n = len(wx) // 2
        return plus(b, *[w * x for w, x in zip(wx[0::2][:n], wx[1::2][:n])])

    backend = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
        "pow": lambda a, b: torch.exp(b * torch.log(a)), "neg": lambda a: -a, "shift": lambda a, c: a + c,
        "rshift": lambda a, c: c + a, "rsub": lambda a, c: c - a, "scale": lambda a, c: a * c,
        "rscale": lambda a, c: c * a, "rdiv": lambda a, c: c / a, "powc": lambda a, c: a ** c,
        "rpow": lambda a, c: c ** a, "mod": torch.remainder, "modc": lambda a, c: torch.remainder(a, c),
        "rmod": lambda a, c: torch.remainder(torch.tensor(c, dtype=torch.float64), a),
        "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
        "softplus": F.softplus, "relu": torch.relu, "abs": torch.abs, "sin": torch.sin, "cos": torch.cos,
        "leaky_relu": lambda a, c: F.leaky_relu(a, c), "sum": plus, "dot": linear,
        "dot_relu": lambda *xs: torch.relu(linear(*xs)), "dot_tanh": lambda *xs: torch.tanh(linear(*xs)),
        "dot_sigmoid": lambda *xs: torch.sigmoid(linear(*xs)),
    }
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in e.inputs]
    t_out = e.evaluate(ts, backend)
    t_grads = torch.autograd.grad(t_out, ts, allow_unused=True)
    xs, out = _build(e)
    if not out.requires_grad:
        return
    ex = explain(out)
    for x, g in zip(xs, t_grads):
        assert ex.gradient(x) == pytest.approx(0.0 if g is None else g.item(), rel=1e-9, abs=1e-9)


@settings(max_examples=60)
@given(st.integers(0, 4), st.sampled_from(["linear", "relu", "tanh", "sigmoid"]),
       st.lists(st.floats(-3, 3), min_size=9, max_size=9))
def test_neuron_steps_hold_for_every_activation(n: int, act: str, numbers: list[float]) -> None:
    w = [Value(numbers[i], label=f"w{i}") for i in range(n)]
    x = [Value(numbers[4 + i], label=f"x{i}") for i in range(n)]
    b = Value(numbers[8], label="b")
    o = vsum([dot(w, x, b, act), b])
    ex, engine_view = explain(o), explain(o, expand=False)
    o.backward()
    for leaf in (*w, *x, b):
        assert bits(engine_view.gradient(leaf)) == bits(leaf.grad)
        assert ex.gradient(leaf) == pytest.approx(leaf.grad, rel=1e-12, abs=1e-15)


def test_explain_is_exported_from_the_package() -> None:
    x = Value(2.0, label="x")
    assert micrograd.explain(x * x).gradient(x) == 4.0
    assert micrograd.paths(x * x, x)[0].product == 2.0
