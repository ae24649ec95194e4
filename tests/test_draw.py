"""micrograd.draw: real Graphviz output, read back as XML, checked against closed-form numbers."""

from __future__ import annotations

import gc
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest

import micrograd
from micrograd import Value
from micrograd.draw import DEFAULT_MAX_NODES, GraphvizNotFoundError, draw_dot, render

SVG = "{http://www.w3.org/2000/svg}"

# seed 000: 2 apples at 100, 3 oranges at 150, tax 1.1
APPLE, APPLE_NUM, ORANGE, ORANGE_NUM, TAX = 100.0, 2.0, 150.0, 3.0, 1.1


def apple_graph() -> Value:
    apple, apple_num = Value(APPLE, label="apple"), Value(APPLE_NUM, label="apple_num")
    orange, orange_num = Value(ORANGE, label="orange"), Value(ORANGE_NUM, label="orange_num")
    tax = Value(TAX, label="tax")
    apple_price = apple * apple_num
    apple_price.label = "apple_price"
    orange_price = orange * orange_num
    orange_price.label = "orange_price"
    total = apple_price + orange_price
    total.label = "total"
    price = total * tax
    price.label = "price"
    price.backward()
    return price


def svg_nodes(path: Path) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Node title -> the texts drawn in it, and the edges as (tail title, head title)."""
    root = ET.parse(path).getroot()
    nodes, edges = {}, []
    for g in root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        assert title is not None and title.text is not None
        texts = [t.text or "" for t in g.iter(f"{SVG}text")]
        if g.get("class") == "node":
            nodes[title.text] = texts
        elif g.get("class") == "edge":
            tail, head = title.text.split("->")
            edges.append((tail, head))
    return nodes, edges


def shown_number(texts: list[str], field: str) -> float:
    (match,) = [t for t in texts if t.startswith(field + " ")]
    return float(match.split()[1])


def test_apple_graph_svg_shows_labels_data_and_closed_form_grads(tmp_path: Path) -> None:
    path = render(apple_graph(), tmp_path / "apple.svg")
    assert path == tmp_path / "apple.svg"
    nodes, edges = svg_nodes(path)

    # product and sum rule by hand: price = (apple*apple_num + orange*orange_num) * tax
    total = APPLE * APPLE_NUM + ORANGE * ORANGE_NUM
    expected = {  # label: (data, d price / d label)
        "price": (total * TAX, 1.0),
        "total": (total, TAX),
        "tax": (TAX, total),
        "apple_price": (APPLE * APPLE_NUM, TAX),
        "orange_price": (ORANGE * ORANGE_NUM, TAX),
        "apple": (APPLE, APPLE_NUM * TAX),
        "apple_num": (APPLE_NUM, APPLE * TAX),
        "orange": (ORANGE, ORANGE_NUM * TAX),
        "orange_num": (ORANGE_NUM, ORANGE * TAX),
    }
    assert expected["price"][0] == pytest.approx(715) and expected["tax"][1] == pytest.approx(650)
    by_label = {texts[0]: (title, texts) for title, texts in nodes.items() if title.startswith("v")}
    assert set(by_label) == set(expected)
    for label, (data, grad) in expected.items():
        _, texts = by_label[label]
        assert texts[1:] == [f"data {data:.4f}", f"grad {grad:.4f}"], label
        assert shown_number(texts, "data") == pytest.approx(data, abs=5e-5)
        assert shown_number(texts, "grad") == pytest.approx(grad, abs=5e-5)

    # every operation is its own node between operands and result
    ops = {title: texts for title, texts in nodes.items() if title.startswith("op")}
    assert sorted(t[0] for t in ops.values()) == ["*", "*", "*", "+"]
    title = {label: t for label, (t, _) in by_label.items()}
    wiring = {(a, b) for a, b in edges}
    for result, operands in [("price", ["total", "tax"]), ("total", ["apple_price", "orange_price"]),
                             ("apple_price", ["apple", "apple_num"]), ("orange_price", ["orange", "orange_num"])]:
        (op,) = [o for o in ops if (o, title[result]) in wiring]
        assert {a for a, b in wiring if b == op} == {title[x] for x in operands}
    assert len(edges) == 3 * len(ops)


def test_same_graph_twice_gives_identical_dot() -> None:
    def build() -> Value:
        x, y = Value(0.5, label="x"), Value(-1.5, label="y")
        shared = x * y  # used twice: must be drawn once
        out = (shared.tanh() + shared / y - x ** 2).relu() + (2.0 - shared).exp().log()
        out.backward()
        return out

    first = build()
    junk = [Value(float(i)) for i in range(1000)]  # different id()s for the second build
    second = build()
    a, b = draw_dot(first).source, draw_dot(second).source
    assert a == b
    del junk
    gc.collect()
    assert draw_dot(build()).source == a
    # node ids are walk positions, never addresses
    names = set(re.findall(r"^\t(\S+) \[", a, flags=re.M)) - {"node", "edge"}
    assert all(re.fullmatch(r"v\d+|op\d+", n) for n in names), names
    assert str(id(first)) not in a


def test_shared_parents_are_drawn_once_and_in_operand_order() -> None:
    x = Value(3.0, label="x")
    y = Value(4.0, label="y")
    q = x / y
    sq = x * x
    src = draw_dot(q + sq).source
    assert src.count("<B>x</B>") == 1
    # operands keep their order: the numerator's edge comes before the denominator's
    vx = re.search(r"^\t(v\d+) \[label=<.*<B>x</B>", src, flags=re.M)
    vy = re.search(r"^\t(v\d+) \[label=<.*<B>y</B>", src, flags=re.M)
    assert vx and vy
    assert src.index(f"\t{vx.group(1)} -> ") < src.index(f"\t{vy.group(1)} -> ")
    # x*x: two edges from x into the same op
    assert len(re.findall(rf"^\t{vx.group(1)} -> (op\d+)", src, flags=re.M)) == 3


def chain(n: int) -> tuple[Value, int]:
    """A chain of n operations above one leaf: n + 1 values."""
    y = x = Value(0.1, label="x")
    for i in range(n):
        y = y * 1.0001 if i % 2 else y + 0.5
    assert x.label == "x"
    return y, n + 1


@pytest.mark.parametrize("n, limit", [(120, 50), (49, 50), (50, 50), (10, 1)])
def test_max_nodes_draws_the_nearest_values_and_counts_the_rest(n: int, limit: int) -> None:
    root, total = chain(n)
    src = draw_dot(root, max_nodes=limit).source
    values = re.findall(r"^\tv\d+ \[", src, flags=re.M)
    assert len(values) == min(limit, total)
    hidden = total - limit
    if hidden > 0:
        assert f"\u2026 {hidden:,} more node{'s' if hidden > 1 else ''} not drawn" in src
        assert re.search(r"^\tmore -> op\d+ \[.*dashed", src, flags=re.M)
    else:
        assert "not drawn" not in src and "more" not in src


def test_max_nodes_counts_a_shared_dag_exactly() -> None:
    # a ladder where every rung reuses the previous two values: distinct values = 2 + rungs
    a, b = Value(1.0), Value(2.0)
    for _ in range(300):
        a, b = b, (a * b).tanh()
    # values: 2 leaves + 300 products + 300 tanhs
    src = draw_dot(b, max_nodes=100).source
    assert f"\u2026 {602 - 100:,} more nodes not drawn" in src
    assert draw_dot(b, max_nodes=None).source.count("[label=<<TABLE") == 602
    assert draw_dot(b).source.count("[label=<<TABLE") == DEFAULT_MAX_NODES


def test_deep_chain_draws_without_recursion_error(tmp_path: Path) -> None:
    root, total = chain(100_000)
    root.backward()
    dot = draw_dot(root, max_nodes=100)
    assert f"\u2026 {total - 100:,} more nodes not drawn" in dot.source
    nodes, _ = svg_nodes(render(dot, tmp_path / "deep.svg"))
    assert ["\u2026 99,901 more nodes not drawn"] in nodes.values()
    # the root is drawn with its value and grad 1
    assert shown_number(nodes["v0"], "grad") == 1.0
    assert shown_number(nodes["v0"], "data") == pytest.approx(root.data, abs=5e-5)
    # no limit: still iterative, far past Python's recursion limit
    deep, n = chain(5000)
    assert draw_dot(deep, max_nodes=None).source.count("[label=<<TABLE") == n


def test_missing_dot_writes_the_source_and_says_how_to_install(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    root = apple_graph()
    target = tmp_path / "graph.svg"
    with pytest.raises(GraphvizNotFoundError) as info:
        render(root, target)
    assert isinstance(info.value, graphviz.ExecutableNotFound)  # existing handlers still catch it
    message = str(info.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in message
    assert info.value.dot_path == tmp_path / "graph.dot"
    assert str(tmp_path / "graph.dot") in message
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8") == draw_dot(root).source
    assert not target.exists()
    # .dot itself needs no Graphviz at all
    assert render(root, tmp_path / "direct.dot").read_text(encoding="utf-8") == draw_dot(root).source


def test_png_and_pdf_by_extension(tmp_path: Path) -> None:
    root = apple_graph()
    assert render(root, tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert render(root, tmp_path / "g.PDF").read_bytes().startswith(b"%PDF")
    assert render(root, tmp_path / "g.gv").read_text(encoding="utf-8").startswith("digraph")
    with pytest.raises(ValueError, match="extension"):
        render(root, tmp_path / "g.jpg")
    assert not (tmp_path / "g.jpg").exists()


def test_awkward_labels_and_numbers_render(tmp_path: Path) -> None:
    x = Value(1e-8, label='a<b>&"c"\nd')
    big = Value(2.5e12, label="big")
    c = x * big / 4  # 4 becomes a constant leaf: grey, no grad
    c.label = "{not|a|record}"
    c.backward()
    nodes, _ = svg_nodes(render(c, tmp_path / "odd.svg"))
    texts = {t for ts in nodes.values() for t in ts}
    assert 'a<b>&"c"\\nd' in texts  # escaped, and the newline shown as \n rather than breaking the label
    assert "{not|a|record}" in texts
    assert "data 1.0000e-08" in texts and "data 2.5000e+12" in texts
    assert f"grad {2.5e12 / 4:.4e}" in texts  # d c / d x = big / 4
    (const,) = [ts for ts in nodes.values() if ts == ["data 4.0000"]]
    assert const


def test_digraph_api_and_package_shortcut() -> None:
    root = apple_graph()
    dot = micrograd.draw_dot(root, rankdir="TB", format="png")
    assert isinstance(dot, graphviz.Digraph)
    assert dot.format == "png" and "rankdir=TB" in dot.source
    assert dot.source == draw_dot(root, "png", "TB").source
    bundle = draw_dot(root)._repr_mimebundle_()  # what Jupyter calls to display it
    assert "<svg" in bundle["image/svg+xml"]
    assert draw_dot(root).pipe(format="svg").startswith(b"<?xml")


@pytest.mark.parametrize("kwargs, error", [
    ({"rankdir": "XY"}, ValueError), ({"max_nodes": 0}, ValueError), ({"max_nodes": 2.5}, ValueError),
    ({"precision": -1}, ValueError),
])
def test_bad_options_are_rejected(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        draw_dot(Value(1.0), **kwargs)  # type: ignore[arg-type,unused-ignore]


def test_non_values_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        draw_dot(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        render("x", tmp_path / "x.svg")  # type: ignore[arg-type,unused-ignore]
    with pytest.raises(TypeError):
        render(draw_dot(Value(1.0)), tmp_path / "x.svg", max_nodes=3)


def test_precision_option() -> None:
    src = draw_dot(Value(2.0 / 3.0), precision=2).source
    assert "data 0.67<" in src
