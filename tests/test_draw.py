"""micrograd.draw: real Graphviz output, read back as XML, checked against closed-form numbers."""

from __future__ import annotations

import gc
import math
import random
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest
from hypothesis import HealthCheck, given, settings

import micrograd
from micrograd import Value, files, vsum
from micrograd.draw import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, GraphvizNotFoundError, draw_dot, render
from micrograd.testing import Expr, expressions

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


# ---------------------------------------------------------------- edges start at the box (shape=plain)
def _points(text: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", text)]


def _off_box(point: tuple[float, float], box: tuple[float, float, float, float]) -> float:
    """How far `point` lies outside the rectangle (x0, y0, x1, y1): 0 on or inside it."""
    (x, y), (x0, y0, x1, y1) = point, box
    return math.hypot(max(x0 - x, 0.0, x - x1), max(y0 - y, 0.0, y - y1))


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_edges_start_and_end_at_the_value_boxes(rankdir: str, tmp_path: Path) -> None:
    """With shape=none the invisible outline is taller than the table and edges stop short of it (issue 13)."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b + a).tanh()
    out.backward()
    root = ET.parse(render(out, tmp_path / "g.svg", rankdir=rankdir)).getroot()
    boxes: dict[str, tuple[float, float, float, float]] = {}
    ends: list[tuple[str, str, tuple[float, float], list[tuple[float, float]]]] = []
    for g in root.iter(f"{SVG}g"):
        title = g.findtext(f"{SVG}title") or ""
        if g.get("class") == "node" and re.fullmatch(r"v\d+", title):
            pts = [p for poly in g.iter(f"{SVG}polygon") for p in _points(poly.get("points", ""))]
            xs, ys = [x for x, _ in pts], [y for _, y in pts]
            boxes[title] = (min(xs), min(ys), max(xs), max(ys))
        elif g.get("class") == "edge":
            tail, head = title.replace("&#45;", "-").split("->")
            path = g.find(f"{SVG}path")
            arrow = g.find(f"{SVG}polygon")
            assert path is not None and arrow is not None
            ends.append((tail, head, _points(path.get("d", "").lstrip("M"))[0], _points(arrow.get("points", ""))))
    assert len(boxes) == 5 and len(ends) == 8  # values: out, the sum, the product, a, b
    for tail, head, start, arrow in ends:
        if tail in boxes:
            assert _off_box(start, boxes[tail]) <= 1.0, (tail, start, boxes[tail])
        if head in boxes:
            assert min(_off_box(p, boxes[head]) for p in arrow) <= 1.0, (head, arrow, boxes[head])
    assert 'shape=plain' in draw_dot(out).source and "shape=none" not in draw_dot(out).source


# ---------------------------------------------------------------- any graph draws in seconds: nodes and edges bounded
def _sum_of_sums(leaves: int = 249, sums: int = 250) -> Value:
    xs = [Value(float(i)) for i in range(leaves)]
    return vsum([vsum(xs) for _ in range(sums)])


def _operand_edges(source: str) -> int:
    return len(re.findall(r"^\tv\d+ -> op\d+", source, flags=re.M))


def test_a_sum_of_sums_is_cut_to_the_edge_budget_and_says_so() -> None:
    root = _sum_of_sums()  # 500 values, 250 + 250 * 249 = 62,500 operand edges (+ 251 op -> value edges)
    src = draw_dot(root).source
    drawn = _operand_edges(src)
    assert src.count("[label=<<TABLE") == 500 == DEFAULT_MAX_NODES  # every value fits the node budget ...
    assert drawn == 499 + DEFAULT_MAX_EDGES  # ... but only one edge reaches each, plus the budget of extra edges
    assert f"\u2026 {62_500 - drawn:,} more edges not drawn (dashed operations lack some)" in src
    assert "more nodes" not in src
    assert "constraint=false" not in src  # every edge spans one rank: all of them may shape the layout
    # the first inner sum reaches the 249 leaves; 500 extra edges complete two more sums (498) and give the
    # fourth 2 of its 249: the other 247 sums are drawn dashed, missing inputs
    assert len(re.findall(r"^\top\d+ \[.*style=dashed", src, flags=re.M)) == 250 - 3
    unbounded = draw_dot(root, max_edges=None).source
    assert _operand_edges(unbounded) == 62_500 and "not drawn" not in unbounded


def _reuse_chain(n: int) -> tuple[Value, Value]:
    x = Value(0.5, label="x")
    y = x
    for _ in range(n):
        y = y * x + x  # each step uses x twice: the leaf is reused at every depth of the graph
    return y, x


@pytest.mark.parametrize("max_edges", [0, 1, 7])
def test_max_edges_bounds_the_edges_into_values_already_drawn(max_edges: int) -> None:
    y, _ = _reuse_chain(20)
    src = draw_dot(y, max_edges=max_edges).source
    assert src.count("[label=<<TABLE") == 41  # all values: 1 leaf + 20 products + 20 sums
    assert _operand_edges(src) == 40 + max_edges  # one edge reaching each non-root value, then the budget
    assert f"\u2026 {80 - 40 - max_edges} more edges not drawn" in src
    assert "not drawn" not in draw_dot(y, max_edges=40).source


def test_small_graphs_keep_every_edge_in_the_layout() -> None:
    x, w, b = Value(0.5, label="x"), Value(-1.2, label="w"), Value(0.3, label="b")
    for root in ((x * w + b).tanh() / 2 - x ** 2, x * x + x, _reuse_chain(5)[0]):
        src = draw_dot(root).source
        assert "constraint=false" not in src and "not drawn" not in src and "dashed" not in src


def test_a_leaf_reused_at_every_depth_leaves_the_ranking_to_the_first_edges() -> None:
    """Edges from one leaf to every level of a 500-value graph span hundreds of ranks: drawn with all of them
    shaping the layout, dot ran for minutes.  They are drawn loose, and only as many as the layout budget holds."""
    y, x = _reuse_chain(250)
    src = draw_dot(y).source
    leaf = re.search(r"^\t(v\d+) \[label=<.*<B>x</B>", src, flags=re.M)
    assert leaf
    from_leaf = re.findall(rf"^\t{leaf.group(1)} -> op\d+(.*)$", src, flags=re.M)
    assert 1 < len(from_leaf) < 500 and sum("constraint=false" in attrs for attrs in from_leaf) == len(from_leaf) - 1
    assert "more edges not drawn" in src


@pytest.mark.parametrize("max_edges", [-1, 2.5, True])
def test_bad_max_edges_is_rejected(max_edges: object) -> None:
    with pytest.raises(ValueError, match="max_edges"):
        draw_dot(Value(1.0), max_edges=max_edges)  # type: ignore[arg-type]


def _complete_dag(n: int) -> Value:
    values = [Value(1.0)]
    for _ in range(1, n):
        values.append(vsum(values))  # each value sums all before it: n^2 / 2 edges, long ones
    return values[-1]


def _random_dag(n: int, seed: int = 0) -> Value:
    rng = random.Random(seed)
    values = [Value(rng.random()) for _ in range(5)]
    for _ in range(n):
        a, b, c = rng.choice(values), rng.choice(values), rng.choice(values)
        values.append(a * b + c)
    return values[-1]


def test_tangled_graphs_draw_within_the_edge_budget() -> None:
    for root in (_complete_dag(700), _random_dag(3000), _sum_of_sums(), _reuse_chain(250)[0]):
        src = draw_dot(root).source
        assert src.count("[label=<<TABLE") <= DEFAULT_MAX_NODES
        assert _operand_edges(src) <= DEFAULT_MAX_NODES - 1 + DEFAULT_MAX_EDGES


@pytest.mark.parametrize("shape", ["sum_of_sums", "complete", "random", "reuse"])
def test_any_graph_renders_in_seconds(shape: str, tmp_path: Path) -> None:
    """The issue's sum of 250 sums (62,751 edges) ran dot for more than 300 s; a leaf reused at each of 60 levels
    took 72 s with 64 of its edges.  Drawn within the budgets, each renders in about a second (at most 2 s
    measured on 2 busy cores): the timeout is generous, and it is the only timing asserted."""
    build = {"sum_of_sums": "_sum_of_sums()", "complete": "_complete_dag(700)", "random": "_random_dag(3000)",
             "reuse": "_reuse_chain(250)[0]"}[shape]
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_draw import _complete_dag, _random_dag, _reuse_chain, _sum_of_sums
        from micrograd.draw import render
        render({build}, {str(tmp_path / "g.svg")!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ET.parse(tmp_path / "g.svg").getroot().tag == f"{SVG}svg"


# ---------------------------------------------------------------- inf and nan draw like any number
def test_inf_and_nan_values_and_constants_are_drawn(tmp_path: Path) -> None:
    x = Value(2.0, label="x")
    big = x * math.inf  # a folded constant inf: its node name is "*inf"
    out = (big - big).relu() + (x / 0.0)  # inf - inf = nan; relu(nan) = nan; x / 0 = inf
    out.backward()
    nodes, _ = svg_nodes(render(out, tmp_path / "g.svg"))
    texts = {t for ts in nodes.values() for t in ts}
    assert {"*inf", "data inf", "data nan", "grad nan"} <= texts, texts
    assert render(out, tmp_path / "g.dot").read_text(encoding="utf-8").startswith("digraph")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions(special_points=True, max_nodes=10))
def test_any_graph_at_special_points_draws(expr: Expr) -> None:
    """0, -0.0, ±inf, nan and the extreme floats, through every op: drawing never raises (no "internal error")."""
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(expr.inputs)]
    out = expr(*xs)
    if isinstance(out, Value):
        out.backward()
        src = draw_dot(out, precision=3).source
        assert src.count("[label=<<TABLE") >= 1
        for x in expr.inputs:
            if not math.isfinite(x):
                assert f"data {x}" in src  # shown as IEEE names it: inf, -inf, nan


# ---------------------------------------------------------------- files are written whole or not at all
@pytest.mark.parametrize("name", ["g.svg", "g.png", "g.pdf", "g.dot"])
def test_a_failed_write_leaves_no_file(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError, match="No space left") as info:
        render(apple_graph(), tmp_path / name)
    assert info.value.filename == str(tmp_path / name)
    assert list(tmp_path.iterdir()) == []  # neither a 0-byte picture nor a temporary file


def test_render_never_replaces_a_fifo_or_a_device(tmp_path: Path) -> None:
    import os
    import stat

    os.mkfifo(tmp_path / "pipe.svg")
    with pytest.raises(OSError, match="FIFO"):
        render(apple_graph(), tmp_path / "pipe.svg")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe.svg").st_mode)
    (tmp_path / "null.dot").symlink_to(os.devnull)
    with pytest.raises(OSError, match="not a regular file"):
        render(apple_graph(), tmp_path / "null.dot")
    assert (tmp_path / "null.dot").is_symlink() and not stat.S_ISREG(os.stat(os.devnull).st_mode)
    real = tmp_path / "real.svg"
    (tmp_path / "link.svg").symlink_to(real)
    render(apple_graph(), tmp_path / "link.svg")
    assert (tmp_path / "link.svg").is_symlink() and real.read_bytes().startswith(b"<?xml")
