"""micrograd: a scalar reverse-mode autodiff engine for learning and teaching backprop."""

from __future__ import annotations

from typing import Any

from .engine import (
    DomainError,
    Primitive,
    Value,
    cos,
    dot,
    dots,
    exp,
    grad,
    is_grad_enabled,
    leaky_relu,
    log,
    no_grad,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    tanh,
    vsum,
)

__version__ = "0.2.0"


def draw_dot(root: Value, **options: Any) -> Any:
    """Render the graph behind `root` with Graphviz (see `micrograd.draw.draw_dot`)."""
    from .draw import draw_dot as _draw_dot

    return _draw_dot(root, **options)


__all__ = [
    "DomainError", "Primitive", "Value", "cos", "dot", "dots", "draw_dot", "exp", "grad", "is_grad_enabled",
    "leaky_relu", "log", "no_grad", "relu", "sigmoid", "sin", "softplus", "sqrt", "tanh", "vsum",
]
