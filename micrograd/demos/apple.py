"""Seed 000's shopping graph: 2 apples at 100, 3 oranges at 150, 10% tax.

The book builds this graph by hand from `MulLayer`/`AddLayer` objects and calls each
layer's `backward` in reverse order.  Here the same graph is five labelled `Value`s and
one `backward()`; the engine applies the same local rules (a product passes the upstream
gradient times the *other* input, a sum passes it through), so the numbers agree with
the book to the last digit: price 715.0000000000001, d apple_num 110.00000000000001 ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from micrograd import Value
from micrograd.demos.plotting import out_path, save_graph
from micrograd.walkthrough import explain

INPUTS = ("apple_num", "apple", "orange", "orange_num", "tax")  # the order the book prints them


def build() -> tuple[Value, dict[str, Value]]:
    """((apple * apple_num) + (orange * orange_num)) * tax, every node labelled."""
    apple, apple_num = Value(100, label="apple"), Value(2, label="apple_num")
    orange, orange_num = Value(150, label="orange"), Value(3, label="orange_num")
    tax = Value(1.1, label="tax")
    apple_price = apple * apple_num
    apple_price.label = "apple_price"
    orange_price = orange * orange_num
    orange_price.label = "orange_price"
    all_price = apple_price + orange_price
    all_price.label = "all_price"
    price = all_price * tax
    price.label = "price"
    leaves = {"apple": apple, "apple_num": apple_num, "orange": orange, "orange_num": orange_num, "tax": tax}
    return price, leaves


def main(out_dir: str | Path | None = None, steps: int | None = None, seed: int = 0,
         quick: bool = False) -> dict[str, Any]:
    """Print the price and d price / d input for all five inputs; draw the graph.

    `steps`, `seed` and `quick` are accepted for a uniform demo signature; nothing here is random or trained.
    """
    price, leaves = build()
    price.backward()
    print(f"price = (apple*apple_num + orange*orange_num) * tax = {price.data!r}")
    width = max(len(name) for name in INPUTS)
    for name in INPUTS:
        print(f"  d price / d {name:<{width}} = {leaves[name].grad!r}")
    walkthrough = explain(price).table()  # the book's walk: 1 -> 1.1 -> 2.2, 3.3, 110, 165, 650
    print(f"\nthe backward pass, step by step, as the book walks it:\n{walkthrough}")
    svg = save_graph(price, out_path(out_dir, "apple_graph.svg"))
    return {"price": price.data, "grads": {name: leaves[name].grad for name in INPUTS}, "walkthrough": walkthrough,
            "files": [str(svg)]}


if __name__ == "__main__":
    from micrograd.demos.options import run_as_script

    run_as_script(main)
