"""micrograd: a scalar reverse-mode autodiff engine for learning and teaching backprop.

Where to start reading: `micrograd/engine.py` (Value and the reverse walk), then
`micrograd/primitives.py` (each operation's forward and derivative, side by side).
"""

from __future__ import annotations

from typing import Any

from .engine import DomainError, Value, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled, vsum
from .fused import dot, dots
from .primitives import Primitive, cos, exp, leaky_relu, log, relu, sigmoid, sin, softplus, sqrt, tanh

__version__ = "0.3.0"


def draw_dot(root: Value, **options: Any) -> Any:
    """Render the graph behind `root` with Graphviz (see `micrograd.draw.draw_dot`)."""
    from .draw import draw_dot as _draw_dot

    return _draw_dot(root, **options)


__all__ = [
    "DomainError", "Primitive", "Value", "cos", "dot", "dots", "draw_dot", "enable_grad", "exp", "grad",
    "is_grad_enabled", "leaky_relu", "log", "no_grad", "relu", "set_grad_enabled", "sigmoid", "sin", "softplus",
    "sqrt", "tanh", "vsum",
]
