"""Draw a computation graph with Graphviz, so backprop can be *seen*, in or out of a notebook.

Every value is a box showing its label (if any), data and grad; every operation is a
small oval between its operands and its result, so ``a * b`` reads ``a -> (*) -> c``.

The picture is a pure function of the graph: node ids come from the order of a
breadth-first walk from the root over ``_prev`` (never from ``id()``), so building
the same graph twice gives byte-identical DOT.  The walk is iterative, so a
100,000-deep chain is fine, and ``max_nodes`` keeps big graphs readable (and keeps
``dot`` from running for minutes) by drawing the part nearest the root and saying
how much was left out.

Only this module imports `graphviz`; the engine never does.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path

import graphviz

from .engine import Value

__all__ = ["DEFAULT_MAX_NODES", "FORMATS", "INSTALL_HINT", "GraphvizNotFoundError", "draw_dot", "render"]

DEFAULT_MAX_NODES = 500
"""Values drawn by default: more is unreadable, and ``dot`` can take minutes on a big tangled graph."""

FORMATS = ("svg", "png", "pdf", "dot")
"""Output formats `render` picks from a file's extension (``.gv`` is also accepted for DOT)."""

INSTALL_HINT = "apt-get install graphviz, brew install graphviz, or conda install graphviz"
"""How to get Graphviz's ``dot`` program, named in every error about it being missing."""

_RANKDIRS = ("LR", "RL", "TB", "BT")
_MAX_LABEL = 40  # characters of a user label shown; longer ones are cut with an ellipsis


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Graphviz's ``dot`` is not installed; the DOT source was saved to `dot_path` instead.

    A subclass of `graphviz.ExecutableNotFound` (a `RuntimeError`), so code that already
    handles the graphviz package's error handles this one too.
    """

    def __init__(self, dot_path: Path) -> None:
        RuntimeError.__init__(
            self,
            f"Graphviz's 'dot' program was not found on PATH (install it: {INSTALL_HINT}); "
            f"the DOT source was written to {dot_path} instead",
        )
        self.dot_path = dot_path


def draw_dot(
    root: Value,
    format: str = "svg",
    rankdir: str = "LR",
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    precision: int = 4,
) -> graphviz.Digraph:
    """The graph that produced `root`, as a `graphviz.Digraph`.

    The result displays itself in Jupyter and has ``.source``, ``.pipe()`` and
    ``.render()``; `render` below writes it to a file and survives a missing ``dot``.

    Args:
        root: the output value; everything it was computed from is drawn.
        format: output format used by ``.pipe()`` / ``.render()`` (``"svg"``, ``"png"`` ...).
        rankdir: ``"LR"`` (inputs on the left), ``"RL"``, ``"TB"`` or ``"BT"``.
        max_nodes: most values to draw (``None``: no limit).  The values nearest the root
            are kept and a note node says how many were left out.
        precision: digits after the decimal point for data and grad.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot() needs a Value, not {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, not {rankdir!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, not {max_nodes!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 17:
        raise ValueError(f"precision must be an int from 0 to 17, not {precision!r}")

    order = _walk(root)
    shown = len(order) if max_nodes is None else min(max_nodes, len(order))
    hidden = len(order) - shown
    ids = {node: i for i, node in enumerate(order)}

    dot = graphviz.Digraph("micrograd", format=format)
    dot.attr(rankdir=rankdir)
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", arrowsize="0.7")
    note = "more"
    if hidden:
        dot.node(note, _html(f"\u2026 {hidden:,} more node{'s' if hidden != 1 else ''} not drawn"),
                 shape="note", style="dashed", fontcolor="gray30")

    for i, node in enumerate(order[:shown]):
        dot.node(f"v{i}", _value_label(node, precision), shape="none", margin="0")
        if not node._prev:
            continue
        op = f"op{i}"
        dot.node(op, _html(node._op or "?"), shape="ellipse", width="0", height="0", margin="0.04,0.02")
        truncated = False
        for parent in node._prev:
            j = ids[parent]
            if j < shown:
                dot.edge(f"v{j}", op)
            else:
                truncated = True
        if truncated:
            dot.edge(note, op, style="dashed", color="gray50")
        dot.edge(op, f"v{i}")
    return dot


def render(root_or_digraph: Value | graphviz.Digraph, path: str | os.PathLike[str],
           **options: object) -> Path:
    """Write the drawing to `path` in the format its extension names, and return the path.

    ``.dot`` / ``.gv`` need only Python; ``.svg``, ``.png`` and ``.pdf`` run Graphviz's
    ``dot``.  If ``dot`` is missing, nothing is lost: the DOT source is written next to
    `path` (``graph.svg`` -> ``graph.dot``) and `GraphvizNotFoundError` says where and how
    to install Graphviz.  `options` go to `draw_dot` when a Value is given.
    """
    target = Path(path)
    ext = target.suffix.lower().lstrip(".")
    fmt = "dot" if ext == "gv" else ext
    if fmt not in FORMATS:
        raise ValueError(f"cannot tell the format from {str(target)!r}: "
                         f"use one of the extensions {', '.join('.' + f for f in FORMATS)}, .gv")
    if isinstance(root_or_digraph, Value):
        dot = draw_dot(root_or_digraph, **options)  # type: ignore[arg-type]
    elif isinstance(root_or_digraph, graphviz.Digraph):
        if options:
            raise TypeError(f"drawing options {sorted(options)} only apply when drawing a Value")
        dot = root_or_digraph
    else:
        raise TypeError(f"render() needs a Value or a graphviz.Digraph, not {type(root_or_digraph).__name__}")

    if fmt == "dot":
        target.write_text(dot.source, encoding="utf-8")
        return target
    try:
        data = dot.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        fallback = target.with_suffix(".dot")
        fallback.write_text(dot.source, encoding="utf-8")
        raise GraphvizNotFoundError(fallback) from None
    target.write_bytes(data)
    return target


# ---------------------------------------------------------------- helpers
def _walk(root: Value) -> list[Value]:
    """Every value `root` depends on, breadth-first from the root (so the root is first).

    Iterative, and the order depends only on the graph's shape and ``_prev`` order.
    """
    order = [root]
    seen = {root}
    i = 0
    while i < len(order):
        for parent in order[i]._prev:
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
        i += 1
    return order


def _number(x: float, precision: int) -> str:
    """Fixed point like 715.0000 where readable, scientific for tiny and huge values."""
    if not math.isfinite(x):
        return str(x)
    if x == 0 or 1e-3 <= abs(x) < 1e6:
        return f"{x:.{precision}f}"
    return f"{x:.{precision}e}"


def _clean(text: str) -> str:
    """A user string made safe for a one-line Graphviz HTML label (escaped, printable, short)."""
    if len(text) > _MAX_LABEL:
        text = text[: _MAX_LABEL - 1] + "\u2026"
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return html.escape(text, quote=False)


def _html(text: str) -> str:
    return f"<{_clean(text)}>"


def _value_label(node: Value, precision: int) -> str:
    """One row: label | data | grad.  Constants (no grad wanted) are grey and show no grad."""
    cells = []
    if node.label:
        cells.append(f"<B>{_clean(node.label)}</B>")
    cells.append(f"data {_number(node.data, precision)}")
    if node.requires_grad:
        cells.append(f"grad {_number(node.grad, precision)}")
    bg = "" if node.requires_grad else ' BGCOLOR="gray92"'
    row = "".join(f"<TD{bg}>{c}</TD>" for c in cells)
    return f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4"><TR>{row}</TR></TABLE>>'
