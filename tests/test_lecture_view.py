"""The lecture's view (micrograd.lecture, ``draw_dot(expand=True)``) and the layout that fits a screen.

The reference for "the lecture's picture" is the graph karpathy/micrograd itself builds: a neuron
as ``sum((wi*xi for ...), b).tanh()`` of separate nodes, ``x * 2`` with a constant leaf 2.  The
expanded drawing of the fused node must show the same boxes (values and gradients) as the
drawing of that graph, built independently here from primitive operations.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from floats import bits
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import Value, dot, no_grad
from micrograd.draw import draw_dot
from micrograd.engine import topological_order
from micrograd.lecture import Lecture

SVG = "{http://www.w3.org/2000/svg}"
B = 6.8813735870195432


def drawn(root: Value, **options: object) -> tuple[Counter[tuple[str, ...]], Counter[str]]:
    """The boxes drawn (each box's texts) and the operation ovals, as multisets."""
    svg = draw_dot(root, **options).pipe(format="svg")  # type: ignore[arg-type]
    boxes: Counter[tuple[str, ...]] = Counter()
    ops: Counter[str] = Counter()
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") != "node":
            continue
        title = g.find(f"{SVG}title")
        texts = tuple(t.text or "" for t in g.iter(f"{SVG}text"))
        if title is not None and (title.text or "").startswith("op"):
            ops[texts[0]] += 1
        else:
            boxes[texts] += 1
    return boxes, ops


def leaves() -> list[Value]:
    return [Value(2.0, label="x1"), Value(0.0, label="x2"), Value(-3.0, label="w1"), Value(1.0, label="w2"),
            Value(B, label="b")]


def test_expanded_neuron_draws_what_micrograd_draws() -> None:
    x1, x2, w1, w2, b = leaves()
    fused = dot([w1, w2], [x1, x2], b, "tanh")
    fused.label = "o"
    fused.backward()
    expanded = drawn(fused, expand=True)

    x1, x2, w1, w2, b = leaves()  # micrograd's Neuron.__call__, node by node
    act = sum((wi * xi for wi, xi in zip([w1, w2], [x1, x2])), b)
    o = act.tanh()  # type: ignore[union-attr]
    o.label = "o"
    o.backward()
    assert expanded == drawn(o)
    assert expanded[1] == Counter({"*": 2, "+": 2, "tanh": 1})
    # and the engine's own view is still one node
    assert drawn(fused)[1] == Counter({"tanh(dot)": 1})


def test_folded_constants_draw_as_constant_leaves() -> None:
    x = Value(1.0, label="x")
    y = (x * 2 + 1).relu()  # micrograd's trace_graph example
    y.backward()
    x2 = Value(1.0, label="x")
    reference = (x2 * Value(2.0, requires_grad=False) + Value(1.0, requires_grad=False)).relu()
    reference.backward()
    assert drawn(y, expand=True) == drawn(reference)
    assert drawn(y)[1] == Counter({"*2": 1, "+1": 1, "ReLU": 1})


def test_subtraction_draws_as_micrograds_sum_with_a_negation() -> None:
    a, b = Value(3.0, label="a"), Value(5.0, label="b")
    y = (a - b) * a
    y.backward()
    a2, b2 = Value(3.0, label="a"), Value(5.0, label="b")
    reference = (a2 + b2 * Value(-1.0, requires_grad=False)) * a2  # micrograd's a - b: a + (-b), -b = b * -1
    reference.backward()
    assert drawn(y, expand=True) == drawn(reference)
    assert drawn(y)[1] == Counter({"-": 1, "*": 1})


def test_an_expansion_never_loses_a_constant_parent() -> None:
    """A product of constants is itself a constant, not a node: the lecture's a + b * -1 of a constant b, or
    w·x of a constant weight and input, would drop b (or w and x) from the picture.  Such a node stands for itself."""
    pred, target = Value(3.0, label="pred"), Value(2.0, label="target", requires_grad=False)
    loss = (pred - target) ** 2
    loss.backward()
    assert Lecture().expansion(loss._prev[0]) is None
    boxes, ops = drawn(loss, expand=True)
    assert any("target" in texts for texts in boxes) and ops == Counter({"-": 1, "**2": 1})
    w, x = Value(2.0, label="w", requires_grad=False), Value(5.0, label="x", requires_grad=False)
    neuron = dot([w], [x], Value(1.0, label="b"), "tanh")
    assert Lecture().expansion(neuron) is None and Lecture().parents(neuron) == (neuron._prev[0], w, x)
    with_grad = dot([Value(2.0)], [x], Value(1.0), "tanh")  # a weight that requires grad: expanded as before
    assert Lecture().expansion(with_grad) is not None


@given(st.floats(), st.floats())
def test_subtraction_stand_in_holds_its_value_bit_for_bit(a: float, b: float) -> None:
    node = Value(a) - Value(b)
    out = Lecture().stand_in(node)
    assert out is not node and out._op == "+"
    assert bits(out.data) == bits(node.data)


@settings(max_examples=80)
@given(st.integers(0, 4), st.sampled_from(["linear", "relu", "tanh", "sigmoid"]),
       st.lists(st.floats(-4, 4), min_size=9, max_size=9))
def test_stand_ins_hold_the_fused_values_bit_for_bit(n: int, act: str, numbers: list[float]) -> None:
    w = [Value(numbers[i]) for i in range(n)]
    x = [Value(numbers[4 + i]) for i in range(n)]
    node = dot(w, x, Value(numbers[8]), act)
    (node * 1.0).backward()
    lecture = Lecture()
    out = lecture.stand_in(node)
    assert out is not node and bits(out.data) == bits(node.data)
    assert out.grad == pytest.approx(node.grad)
    expansion = lecture.expansion(node)
    assert expansion is not None and expansion.nodes[0] is out
    assert [v._op for v in expansion.nodes].count("*") == n
    assert lecture.stand_in(node) is out  # made once


def test_expansion_is_recorded_inside_no_grad_and_leaves_the_graph_alone() -> None:
    x1, x2, w1, w2, b = leaves()
    node = dot([w1, w2], [x1, x2], b, "relu")
    before = [(v.grad, v._prev) for v in (x1, x2, w1, w2, b, node)]
    with no_grad():
        out = Lecture().stand_in(node)
    assert out.requires_grad and out._op == "ReLU"
    assert [(v.grad, v._prev) for v in (x1, x2, w1, w2, b, node)] == before


def test_lecture_order_is_the_engines_walk_with_neurons_spliced_in() -> None:
    x1, x2, w1, w2, b = leaves()
    y = x1 * w1 + x2
    assert Lecture().order(y) == topological_order((y,))  # nothing to expand
    z = dot([w1], [y], b, "tanh") * 3
    order = Lecture().order(z)
    assert [v._op for v in order] == ["*", "tanh", "+", "*", "+", "*"]
    assert Lecture(expand=False).order(z) == topological_order((z,))


# ---------------------------------------------------------------- layout
def svg_size(root: Value, **options: object) -> tuple[float, float]:
    svg = draw_dot(root, **options).pipe(format="svg").decode()  # type: ignore[arg-type]
    w, h = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()  # type: ignore[union-attr]
    return float(w) * 4 / 3, float(h) * 4 / 3  # px at 96 dpi


def test_w1w5_graph_fits_a_screen() -> None:
    """Seed 002's network was a 5343 x 419 px strip; auto layout makes it about square, so it fits when scaled."""
    w1w5 = pytest.importorskip("micrograd.demos.w1w5")
    net = w1w5.Network()
    loss = net.forward()["E_total"]
    loss.backward()
    strip = svg_size(loss, rankdir="LR")
    assert strip[0] > 10 * strip[1]  # the old picture
    width, height = svg_size(loss)
    assert 0.6 < width / height < 1.8 and width <= 1920 and height <= 1700, (width, height)


def test_small_graphs_keep_the_lectures_left_to_right_layout() -> None:
    x1, x2, w1, w2, b = leaves()
    o = (x1 * w1 + x2 * w2 + b).tanh()
    assert "rankdir=LR" in draw_dot(o).source
    chain = x1
    for _ in range(30):
        chain = chain.tanh()
    assert "rankdir=TB" in draw_dot(chain).source  # 30 deep: a column, not a 9,000 px strip
    assert "rankdir=LR" in draw_dot(chain, rankdir="LR").source  # asked for explicitly
