"""micrograd: a scalar reverse-mode autodiff engine for learning and teaching backprop.

Where to start reading: `micrograd/engine.py` (Value and the reverse walk), then
`micrograd/primitives.py` (each operation's forward and derivative, side by side).
"""

from __future__ import annotations

import sys
from typing import Any

from .engine import Value, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled, vsum
from .fused import dot, dots
from .primitives import DomainError, Primitive, cos, exp, leaky_relu, log, relu, sigmoid, sin, softplus, sqrt, tanh

__version__ = "0.3.0"


def draw_dot(root: Value, **options: Any) -> Any:
    """Render the graph behind `root` with Graphviz (see `micrograd.draw.draw_dot`)."""
    from .draw import draw_dot as _draw_dot

    return _draw_dot(root, **options)


def explain(root: Value, **options: Any) -> Any:
    """The backward pass from `root`, step by step (see `micrograd.walkthrough.explain`)."""
    from .walkthrough import explain as _explain  # imported on first use: `import micrograd` stays light

    return _explain(root, **options)


def paths(root: Value, leaf: Value, **options: Any) -> Any:
    """Every path from `leaf` to `root` with its product of local derivatives (`micrograd.walkthrough.paths`)."""
    from .walkthrough import paths as _paths

    return _paths(root, leaf, **options)


def _show_graphs_in_notebooks() -> None:
    """Inside IPython/Jupyter, a bare Value at the end of a cell shows its graph (micrograd.notebook)."""
    ipython = sys.modules.get("IPython")  # only if IPython is running already: never import it
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is not None and hasattr(shell, "display_formatter"):
        from .notebook import load_ipython_extension

        load_ipython_extension(shell)


_show_graphs_in_notebooks()

__all__ = [
    "DomainError", "Primitive", "Value", "cos", "dot", "dots", "draw_dot", "enable_grad", "exp", "explain", "grad",
    "is_grad_enabled", "leaky_relu", "log", "no_grad", "paths", "relu", "set_grad_enabled", "sigmoid", "sin",
    "softplus", "sqrt", "tanh", "vsum",
]
