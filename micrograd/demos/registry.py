"""The demos by name, in the tour's order, and how to load one.

A demo is loaded (imported) only when it runs, so ``micrograd demo apple`` does not pay for
the imports of the cnn demo.  This module imports no demo statically and no demo imports it.
"""

from __future__ import annotations

import importlib

from .options import DemoMain, UsageError

__all__ = ["DEMOS", "load"]

# name -> what it shows; the order is the tour's order (simplest first)
DEMOS: dict[str, str] = {
    "apple": "backprop by hand: 2 apples, 3 oranges, 10% tax; the price and every gradient, to the last digit",
    "w1w5": "the classic 2-2-2 sigmoid walk-through: dE/dw5, dE/dw1, one update, then 10,000",
    "xor": "a 2-5-1 sigmoid network learns XOR",
    "moons": "micrograd's demo: MLP(2, [16, 16, 1]) with a hinge loss separates two moons",
    "mathdrop": "Black-Scholes code written for Python's math, differentiated by changing one import: its Greeks",
    "classifier": "a 20 -> 13 -> 8 -> 3 classifier's first-layer gradient, checked against PyTorch",
    "cnn": "Conv2d -> ReLU -> MaxPool2d -> dense learns tiny 8x8 stroke images",
}


def load(name: str) -> DemoMain:
    """The `main` of demo `name`; `UsageError` (listing the names) for an unknown one."""
    if name not in DEMOS:
        raise UsageError(f"unknown demo {name!r}; valid names: {', '.join(DEMOS)}")
    module = importlib.import_module(f"micrograd.demos.{name}")
    main: DemoMain = module.main
    return main
