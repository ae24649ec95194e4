"""The step-by-step page (``render(root, "page.html")``) in a real browser: Chromium driven by Playwright.

Each test loads the page from a file:// URL, steps through every state with the keyboard and
with the buttons, reads the numbers the page shows and compares them with closed forms
(seed 000's shopping bill; the lecture's neuron), and checks that the page logs no error and
asks the network for nothing.  Without Chromium or Playwright the tests skip, except in CI
(``CI`` set), where they fail.  The run saves ``docs/explain-page.png``, the README's screenshot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from micrograd import Value, dot
from micrograd.draw import render

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "explain-page.png"
LAPTOP = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = [what for what, ok in (("playwright (pip install playwright)", sync_playwright is not None),
                                     (f"chromium at {CHROMIUM} (apt-get install chromium)", CHROMIUM.exists()))
               if not ok]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test needs {' and '.join(missing)}: CI must install them")
        pytest.skip(f"needs {' and '.join(missing)}")
    assert sync_playwright is not None
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A loaded page with everything it logged and requested."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport=LAPTOP)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"{m.type}: {m.text}") if m.type in (
            "error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def state(self) -> dict[str, Any]:
        p = self.page
        step, total = map(int, re.fullmatch(r"step (\d+) of (\d+)", p.inner_text("#counter")).groups())  # type: ignore[union-attr]
        return {"step": step, "total": total, "phase": p.inner_text("#phase").lower(), "title": p.inner_text("#title"),
                "lines": p.locator("#lines div").all_inner_texts(),
                "table": [row.locator("td").all_inner_texts() for row in p.locator("#extra tr").all()[1:]],
                "highlighted": sorted(p.eval_on_selector_all(
                    "svg g.current, svg g.forward, svg g.receiving",
                    "gs => gs.map(g => g.querySelector('title').textContent + ':' + g.getAttribute('class'))"))}

    def boxes(self) -> dict[str, list[str]]:
        """Each value box's texts, keyed by its label (unlabelled boxes by their Graphviz name)."""
        return self.page.eval_on_selector_all("svg g.node", """gs => Object.fromEntries(gs
            .filter(g => g.querySelector('title').textContent.startsWith('v'))
            .map(g => { const t = [...g.querySelectorAll('text')].map(x => x.textContent);
                        const key = t[0].startsWith('data') ? g.querySelector('title').textContent : t[0];
                        return [key, t]; }))""")

    def close(self) -> None:
        self.page.close()


def shopping() -> tuple[Value, dict[str, Value]]:
    v = {"apple": Value(100, label="apple"), "apple_num": Value(2, label="apple_num"),
         "orange": Value(150, label="orange"), "orange_num": Value(3, label="orange_num"),
         "tax": Value(1.1, label="tax")}
    v["apple_price"] = v["apple"] * v["apple_num"]
    v["orange_price"] = v["orange"] * v["orange_num"]
    v["all_price"] = v["apple_price"] + v["orange_price"]
    v["price"] = v["all_price"] * v["tax"]
    for name, value in v.items():
        value.label = name
    return v["price"], v


# closed forms for the shopping bill, d price / d value, and the book's numbers
GRADIENTS = {"price": 1.0, "all_price": 1.1, "tax": 650.0, "apple_price": 1.1, "orange_price": 1.1,
             "apple": 2 * 1.1, "apple_num": 100 * 1.1, "orange": 3 * 1.1, "orange_num": 150 * 1.1}
VALUES = {"apple_price": 200.0, "orange_price": 450.0, "all_price": 650.0, "price": 715.0}
# each backward edge: upstream × local = contribution (the book's arithmetic)
EDGES = {("price", "all_price"): (1, 1.1, 1.1), ("price", "tax"): (1, 650, 650),
         ("all_price", "apple_price"): (1.1, 1, 1.1), ("all_price", "orange_price"): (1.1, 1, 1.1),
         ("apple_price", "apple"): (1.1, 2, 2.2), ("apple_price", "apple_num"): (1.1, 100, 110),
         ("orange_price", "orange"): (1.1, 3, 3.3), ("orange_price", "orange_num"): (1.1, 150, 165)}


def g6(x: float) -> str:
    return f"{x:.6g}"


def test_shopping_page_steps_through_forward_and_backward(browser: Any, tmp_path: Path) -> None:
    price, v = shopping()
    path = render(price, tmp_path / "page.html")
    page = Page(browser, path)
    try:
        states = [page.state()]
        total = states[0]["total"]
        assert total == 1 + 4 + 1 + 8  # overview, 4 values computed, the seed, 8 edges, then the end (step 14)
        assert states[0]["phase"] == "overview"
        start_boxes = page.boxes()
        assert start_boxes["apple"] == ["apple", "data 100.0000", "grad ?"]  # inputs known, nothing else yet
        assert start_boxes["price"] == ["price", "data ?", "grad ?"]
        for _ in range(total):
            page.page.keyboard.press("ArrowRight")
            states.append(page.state())
        assert [s["step"] for s in states] == list(range(total + 1))
        phases = [s["phase"] for s in states]
        assert phases == ["overview"] + ["forward"] * 4 + ["seed"] + ["backward"] * 8 + ["done"]

        # forward: each value computed from its inputs, with the numbers
        forward_lines = [s["lines"][0] for s in states[1:5]]
        assert forward_lines[-1] == "price = all_price·tax = 650·1.1 = 715"
        assert "apple_price = apple·apple_num = 100·2 = 200" in forward_lines
        for s in states[1:5]:
            assert any(h.endswith(" forward") for h in s["highlighted"])

        # backward: every edge once, upstream × local = contribution, as the book computes it
        seen = set()
        for s in states[6:14]:
            node, parent = re.fullmatch(r"Backward pass: (\w+) → (\w+)", s["title"]).groups()  # type: ignore[union-attr]
            upstream, local, contribution = EDGES[node, parent]
            assert s["lines"][0].endswith(f"= {g6(upstream)}"), s["lines"]
            assert s["lines"][1].startswith("local") and s["lines"][1].endswith(f"= {g6(local)}")
            assert s["lines"][2] == f"contribution = {g6(upstream)} × {g6(local)} = {g6(contribution)}"
            assert f"{parent}.grad = 0 + {g6(contribution)} = {g6(GRADIENTS[parent])}" in s["lines"][3]
            assert any(h.endswith(":node receiving") for h in s["highlighted"])  # the parent, in green
            assert sum(":edge current" in h for h in s["highlighted"]) == 2  # node -> op -> parent
            seen.add((node, parent))
        assert seen == set(EDGES)

        # the end: every gradient, in the table and in every box
        done = states[-1]
        assert {row[0]: row[2] for row in done["table"]} == {
            name: g6(GRADIENTS[name]) for name in ("apple", "apple_num", "orange", "orange_num", "tax")}
        boxes = page.boxes()
        for name, g in GRADIENTS.items():
            assert boxes[name][-1] == f"grad {g:.4f}", name
        for name, x in VALUES.items():
            assert boxes[name][1] == f"data {x:.4f}"

        # and back again with the keyboard
        for k in range(total - 1, -1, -1):
            page.page.keyboard.press("ArrowLeft")
            assert page.state()["step"] == k
        assert page.boxes()["price"] == ["price", "data ?", "grad ?"]
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.close()


def test_buttons_slider_and_play(browser: Any, tmp_path: Path) -> None:
    price, _ = shopping()
    page = Page(browser, render(price, tmp_path / "page.html"))
    try:
        p = page.page
        total = page.state()["total"]
        assert p.is_disabled("#prev") and p.is_disabled("#first")
        for k in range(1, total + 1):
            p.click("#next")
            assert page.state()["step"] == k
        assert p.is_disabled("#next") and p.is_disabled("#last")
        for k in range(total - 1, total - 4, -1):
            p.click("#prev")
            assert page.state()["step"] == k
        p.click("#first")
        assert page.state()["step"] == 0
        p.click("#last")
        assert page.state()["phase"] == "done"
        p.keyboard.press("Home")
        assert page.state()["step"] == 0
        p.keyboard.press("End")
        assert page.state()["step"] == total
        p.fill("#slider", "7")
        assert page.state()["step"] == 7 and page.state()["phase"] == "backward"

        p.click("#first")
        p.click("#play")  # about a step a second
        assert p.inner_text("#play").endswith("Pause")
        p.wait_for_function("document.getElementById('counter').textContent.startsWith('step 2 ')", timeout=10_000)
        p.click("#play")
        stopped = page.state()["step"]
        assert p.inner_text("#play").endswith("Play")
        p.wait_for_timeout(1500)
        assert page.state()["step"] == stopped  # paused stays paused
        p.keyboard.press("Space")  # the space bar plays too
        p.wait_for_function(f"!document.getElementById('counter').textContent.startsWith('step {stopped} ')",
                            timeout=10_000)
        p.keyboard.press("Space")
        p.click("#zoom")
        assert p.inner_text("#zoom") == "Fit to window"
        p.keyboard.press("z")
        assert p.inner_text("#zoom") == "Actual size"
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.close()


def test_neuron_page_shows_the_lectures_nodes_and_gradients(browser: Any, tmp_path: Path) -> None:
    """A fused neuron is stepped through as the lecture computes it: products, sums, tanh; then the screenshot."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    o = dot([w1, w2], [x1, x2], b, "tanh")
    o.label = "o"
    page = Page(browser, render(o, tmp_path / "neuron.html"))
    try:
        p = page.page
        p.keyboard.press("End")
        done = page.state()
        # do/dn = 1 - o² = 1/2 (closed form), times each product's other input
        assert {row[0]: float(row[2]) for row in done["table"]} == pytest.approx(
            {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}, abs=1e-6)
        p.keyboard.press("Home")
        titles = []
        for _ in range(done["total"]):
            p.keyboard.press("ArrowRight")
            titles.append(page.state()["title"])
        assert "Backward pass: o → b + w1·x1 + w2·x2" in titles  # the tanh node passes to the sum
        assert "Backward pass: w1·x1 → w1" in titles  # and a product to a weight
        ops = sorted(t for t in page.page.eval_on_selector_all(
            "svg g.node", "gs => gs.map(g => g.querySelector('title').textContent.startsWith('op') ? "
            "g.querySelector('text').textContent : '')") if t)
        assert ops == ["*", "*", "+", "+", "tanh"]  # the lecture's nodes, not one tanh(dot)
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.close()


def test_screenshot_for_the_readme(browser: Any, tmp_path: Path) -> None:
    """The README's picture: the shopping bill half-way through the backward pass, on a laptop-sized window."""
    price, _ = shopping()
    page = Page(browser, render(price, tmp_path / "page.html"))
    try:
        p = page.page
        target = None
        for _ in range(page.state()["total"]):
            p.keyboard.press("ArrowRight")
            if page.state()["title"] == "Backward pass: orange_price → orange":
                target = page.state()
                break
        assert target is not None and "contribution = 1.1 × 3 = 3.3" in target["lines"]
        SCREENSHOT.parent.mkdir(exist_ok=True)
        p.screenshot(path=str(SCREENSHOT))
        assert SCREENSHOT.stat().st_size > 10_000
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.close()


def test_page_is_one_offline_file(tmp_path: Path) -> None:
    """No script, style, font or image comes from anywhere else (checked without a browser too)."""
    price, _ = shopping()
    text = render(price, tmp_path / "page.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", text)
    assert not re.search(r"@import|url\(", text)
    assert list(tmp_path.iterdir()) == [tmp_path / "page.html"]


def test_page_of_a_constant_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no backward pass"):
        render(Value(2.0, requires_grad=False) * 3, tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()


def test_labels_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    """A label is text, never markup: it is escaped in the title, the drawing and the step data."""
    evil = "</script><script>alert(1)</script><b>"
    x = Value(2.0, label=evil)
    y = x * x
    y.label = "y&<z>"
    text = render(y, tmp_path / "page.html").read_text(encoding="utf-8")
    assert evil not in text and "<b>" not in text
    assert text.count("<script") == 2  # the data and the code, nothing else
