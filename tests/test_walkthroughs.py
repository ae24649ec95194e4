"""The walk-throughs in the terminal: ``micrograd graph ... --explain`` and the apple and w1w5 demos, whose
`explain` tables show the textbooks' intermediate numbers, step by step.

Seed 000 prints its layers' results (``110.00000000000001 2.2 3.3000000000000003 165.0 650``) and
walks 1 → 1.1 → 2.2, 3.3, 110, 165, 650.  Seed 002 is a translation of the "step by step
backpropagation example" whose published intermediate values (9 significant digits) are the
reference below: ∂E/∂out_o1 = 0.74136507, ∂out_o1/∂net_o1 = 0.186815602, ∂E/∂w5 = 0.082167041,
∂E_o1/∂out_h1 = 0.055399425, ∂E_o2/∂out_h1 = -0.019049119, ∂E/∂out_h1 = 0.036350306,
∂out_h1/∂net_h1 = 0.241300709, ∂E/∂w1 = 0.000438568.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from micrograd.cli import main
from micrograd.walkthrough import explain

TUTORIAL = 1e-9  # the walk-through rounds to 9 significant digits, and computes from rounded intermediates


def test_shopping_walk_through_shows_the_books_numbers() -> None:
    apple = pytest.importorskip("micrograd.demos.apple")
    price, leaves = apple.build()
    ex = explain(price)
    rows = {(s.node.label, s.parent.label): s for s in ex.steps}
    assert rows["price", "all_price"].contribution == 1.1  # 1 → 1.1
    assert rows["all_price", "apple_price"].upstream == 1.1
    assert [ex.gradient(leaves[n]) for n in ("apple_num", "apple", "orange", "orange_num", "tax")] == [
        110.00000000000001, 2.2, 3.3000000000000003, 165.0, 650.0]  # the book's printed line
    text = ex.table()
    for row in ("∂(apple·apple_num)/∂apple = apple_num = 2", "2.2", "3.3", "110", "165", "650"):
        assert row in text


def test_w1w5_walk_through_shows_the_tutorials_numbers() -> None:
    w1w5 = pytest.importorskip("micrograd.demos.w1w5")
    net = w1w5.Network()
    loss = net.forward()["E_total"]
    w1, w5 = net.w[0], net.w[4]
    ex = explain(loss)
    steps = ex.relevant([w5, w1])
    by = {(s.node.label, s.parent.label): s for s in steps}

    assert by["out_o1", "net_o1"].upstream == pytest.approx(0.74136507, abs=TUTORIAL)  # ∂E/∂out_o1
    assert by["out_o1", "net_o1"].local == pytest.approx(0.186815602, abs=TUTORIAL)  # sigmoid' = out(1 - out)
    assert by["out_o1", "net_o1"].contribution == pytest.approx(0.138498562, abs=TUTORIAL)  # δ_o1
    assert by["w5*out_h1", "w5"].local == pytest.approx(0.593269992, abs=TUTORIAL)  # ∂net_o1/∂w5 = out_h1
    assert ex.gradient(w5) == pytest.approx(0.082167041, abs=TUTORIAL)
    assert by["w5*out_h1", "out_h1"].contribution == pytest.approx(0.055399425, abs=TUTORIAL)  # ∂E_o1/∂out_h1
    assert by["w7*out_h1", "out_h1"].contribution == pytest.approx(-0.019049119, abs=TUTORIAL)  # ∂E_o2/∂out_h1
    (meeting,) = [m for m in ex.meetings if m.node.label == "out_h1"]
    assert meeting.total == pytest.approx(0.036350306, abs=TUTORIAL)  # the two uses of out_h1 add up
    assert by["out_h1", "net_h1"].local == pytest.approx(0.241300709, abs=TUTORIAL)
    assert ex.gradient(w1) == pytest.approx(0.000438568, abs=TUTORIAL)

    loss.backward()  # and the table agrees with the engine
    assert ex.gradient(w5) == w5.grad and ex.gradient(w1) == w1.grad

    text = ex.table(digits=9, only=[w5, w1])
    for number in ("0.74136507", "0.186815602", "0.138498562", "0.0821670406", "0.0553994247", "-0.0190491183",
                   "0.0363503064", "0.241300709", "0.000438567734"):
        assert number in text
    assert f"Shown: the {len(steps)} of {len(ex.steps)} steps that lead to w5, w1." in text


def test_apple_demo_prints_the_walk_through(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apple = pytest.importorskip("micrograd.demos.apple")
    result = apple.main(out_dir=tmp_path)
    out = capsys.readouterr().out
    assert "the backward pass, step by step" in out and result["walkthrough"] in out
    # 1 -> 1.1 -> 2.2, 3.3, 110, 165, 650: each row ends with its contribution and the running total
    expected = {("price", "all_price"): "1.1", ("price", "tax"): "650", ("all_price", "apple_price"): "1.1",
                ("orange_price", "orange"): "3.3", ("orange_price", "orange_num"): "165",
                ("apple_price", "apple"): "2.2", ("apple_price", "apple_num"): "110"}
    rows = [line.split() for line in result["walkthrough"].splitlines() if line[:4].strip().isdigit()]
    assert len(rows) == 8  # one per edge
    found = {(row[1], row[5]): row[-2] for row in rows}  # step, node, (op), value, upstream, parent, ...
    for edge, number in expected.items():
        assert found[edge] == number, (edge, found)


def test_w1w5_demo_prints_the_walk_through(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w1w5 = pytest.importorskip("micrograd.demos.w1w5")
    result = w1w5.main(out_dir=tmp_path, steps=1)
    out = capsys.readouterr().out
    assert result["walkthrough"] in out
    for number in ("0.74136507", "0.186815602", "0.138498562", "0.0821670406", "0.0363503064", "0.241300709",
                   "0.000438567734"):
        assert number in result["walkthrough"]
    assert "out_h1: (-0.0190491183) + 0.0553994247 = 0.0363503064" in result["walkthrough"]


def test_graph_explain_prints_the_table_after_the_gradients(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "x*x + x", "x=3", "--explain", "--no-graph"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["value = 12.0", "d/dx = 7.0"]
    assert out[3].startswith("backward pass from out = x·x + x = 12")
    assert "  x: 1 + 3 + 3 = 7" in out  # d(x² + x)/dx = 2x + 1
    assert out[-1] == "gradients: ∂out/∂x = 7"
    rows = [line.split() for line in out if line[:4].strip().isdigit()]
    assert [row[-1] for row in rows] == ["1", "1", "4", "7"]  # x's running total: 1, then 1 + 3, then + 3


def test_graph_explain_of_a_constant_says_there_is_nothing_to_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "2*3", "--explain", "--no-graph"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "no backward pass to explain: the value does not depend on any variable")


def test_graph_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "page.html"
    assert main(["graph", "tanh(x*w + b)", "x=0.5", "w=-1.2", "b=0.3", "-o", str(target)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"graph written to {target}"
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Backpropagation, step by step" in text
    assert main(["graph", "2*3", "-o", str(tmp_path / "const.html")]) == 2
    assert "no backward pass" in capsys.readouterr().err
    assert not (tmp_path / "const.html").exists()
