"""Jupyter display: a bare `Value` as the last expression of a cell shows its graph.

Why here and not a ``_repr_svg_`` method on `Value`: the engine is the file a learner reads
first, and it knows nothing of drawing.  So this module registers an IPython display
formatter for `Value` instead.  ``import micrograd`` does that by itself inside IPython or
Jupyter (it imports this module only when IPython is already running); elsewhere,
``%load_ext micrograd.notebook`` does it by hand.

The picture is `micrograd.draw.draw_dot` with at most `NOTEBOOK_MAX_NODES` values (those
nearest the output; a note in the picture says how many were left out), so a big graph stays
a picture you can read in a cell.  Without Graphviz's ``dot`` the formatter gives nothing and
IPython falls back to the text ``Value(data=..., grad=...)``.
"""

from __future__ import annotations

from typing import Any

import graphviz

from .draw import draw_dot
from .engine import Value

__all__ = ["NOTEBOOK_MAX_NODES", "load_ipython_extension", "svg", "unload_ipython_extension"]

NOTEBOOK_MAX_NODES = 20
"""Values drawn for a bare Value in a cell: about what fits a notebook cell at a readable size (an MLP's output and its
nearest inputs: about 1000 x 1100 px).  A long chain still makes a tall column."""

_SVG = "image/svg+xml"


def svg(value: Value) -> str | None:
    """The SVG drawing of `value`'s graph, or None when Graphviz's ``dot`` is missing or fails (text is shown)."""
    try:
        return draw_dot(value, max_nodes=NOTEBOOK_MAX_NODES).pipe(format="svg", encoding="utf-8")
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
        return None


def load_ipython_extension(ipython: Any) -> None:
    """Register the SVG formatter for `Value` with this IPython shell (``%load_ext micrograd.notebook``)."""
    ipython.display_formatter.formatters[_SVG].for_type(Value, svg)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the formatter again (``%unload_ext micrograd.notebook``): Values show as text."""
    ipython.display_formatter.formatters[_SVG].pop(Value, None)
