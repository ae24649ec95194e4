"""Draw a computation graph with Graphviz, so backprop can be *seen*, in or out of a notebook.

Every value is a box showing its label (if any), data and grad; every operation is a
small oval between its operands and its result, so ``a * b`` reads ``a -> (*) -> c``.

The picture is a pure function of the graph: node ids come from the order of a
breadth-first walk from the root over ``_prev`` (never from ``id()``), so building
the same graph twice gives byte-identical DOT.  The walk is iterative, so a
100,000-deep chain is fine, and ``max_nodes`` and ``max_edges`` keep big graphs readable
(and keep ``dot`` from running for minutes) by drawing the part nearest the root and saying
how much was left out.  Files are written atomically (`micrograd.files.write_atomic`).

``expand=True`` draws the lecture's view (`micrograd.lecture`): a fused neuron as its products,
its sum and its activation, ``x * 3`` as a leaf 3 and a ``*`` node.  ``rankdir="auto"`` (the
default) lays a deep graph out top to bottom, so it fits a screen instead of a long strip.
``render(root, "page.html")`` writes the step-by-step page (`micrograd.page`).

Only this module imports `graphviz`; the engine never does.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import graphviz

from .engine import Value
from .files import write_atomic
from .lecture import Lecture

__all__ = ["DEFAULT_MAX_EDGES", "DEFAULT_MAX_NODES", "FORMATS", "INSTALL_HINT", "GraphvizNotFoundError", "draw_dot",
           "render"]

DEFAULT_MAX_NODES = 500
"""Values drawn by default: more is unreadable, and ``dot`` can take minutes on a big tangled graph."""

DEFAULT_MAX_EDGES = 500
"""Edges drawn by default into values already in the picture (reused values, wide sums): see `draw_dot`."""

FORMATS = ("svg", "png", "pdf", "dot", "html")
"""Output formats `render` picks from a file's extension (``.gv`` is also accepted for DOT; ``.html`` is the
step-by-step page)."""

INSTALL_HINT = "apt-get install graphviz, brew install graphviz, or conda install graphviz"
"""How to get Graphviz's ``dot`` program, named in every error about it being missing."""

_RANKDIRS = ("auto", "LR", "RL", "TB", "BT")
_MAX_LABEL = 40  # characters of a user label shown; longer ones are cut with an ellipsis
# How much work dot may get, counted in virtual nodes: an edge spanning k ranks of the layout makes k - 1 of
# them, and dot's crossing minimisation grows steeply with their number (measured on 2 cores: 1,560 took 0.4 s
# and 3,540 took 8 s with every edge shaping the ranks; 3,000 took 0.6 s and 30,000 took 10 s with extra
# edges left out of the ranking).  See _select.
_TIGHT_LAYOUT = 1_000
_LOOSE_LAYOUT = 3_000


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
    rankdir: str = "auto",
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    max_edges: int | None = DEFAULT_MAX_EDGES,
    precision: int = 4,
    expand: bool | Lecture = False,
) -> graphviz.Digraph:
    """The graph that produced `root`, as a `graphviz.Digraph`.

    The result displays itself in Jupyter and has ``.source``, ``.pipe()`` and
    ``.render()``; `render` below writes it to a file and survives a missing ``dot``.

    Args:
        root: the output value; everything it was computed from is drawn.
        format: output format used by ``.pipe()`` / ``.render()`` (``"svg"``, ``"png"`` ...).
        rankdir: ``"LR"`` (inputs on the left), ``"RL"``, ``"TB"``, ``"BT"``, or ``"auto"``: LR while
            the picture is at most about a screen wide, else whichever of LR and TB is closer
            to a screen's shape (a deep graph becomes a tall picture instead of a long strip).
        max_nodes: most values to draw (``None``: no limit).  The values nearest the root
            are kept (breadth-first) and a note node says how many were left out.
        max_edges: most edges drawn into values that are already in the picture, i.e. beyond the
            one edge that first reaches each value: a reused value, or a wide sum over values
            drawn before (``None``: no limit, and no bound on ``dot``'s time).  Long such edges
            (a leaf reused at every level of a deep graph) stop shaping the layout and are drawn
            only while a fixed layout budget lasts.  So ``dot`` lays any picture out in about a
            second (a sum of 250 sums of the same 249 leaves has 62,751 edges and ran ``dot``
            for more than 300 s); the note says how many edges were left out, and operations
            missing some inputs are drawn dashed.
        precision: digits after the decimal point for data and grad.
        expand: draw fused neurons and folded constants as the lecture's nodes (each product,
            the sum, the activation), with their values and gradients; a `micrograd.lecture.Lecture`
            here is used as it is (so a drawing and an explanation share their nodes).

    Raises TypeError for a root that is not a Value, ValueError for a bad option.
    """
    return _draw(root, format, rankdir, max_nodes, max_edges, precision, expand)[0]


def _draw(root: Value, format: str, rankdir: str, max_nodes: int | None, max_edges: int | None, precision: int,
          expand: bool | Lecture) -> tuple[graphviz.Digraph, list[Value]]:
    """`draw_dot`, also returning the values drawn: value ``i`` is node ``v{i}``, its operation ``op{i}``."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot() needs a Value, not {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, not {rankdir!r}")
    for name, limit, least in (("max_nodes", max_nodes, 1), ("max_edges", max_edges, 0)):
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < least):
            kind = "a positive int" if least else "an int >= 0"
            raise ValueError(f"{name} must be {kind} or None, not {limit!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 17:
        raise ValueError(f"precision must be an int from 0 to 17, not {precision!r}")

    lecture = expand if isinstance(expand, Lecture) else Lecture(bool(expand))
    top = lecture.stand_in(root)
    picture = _select(top, max_nodes, max_edges, lecture.parents)
    total_nodes, total_edges = _count(top, lecture.parents)
    hidden_nodes = total_nodes - len(picture.order)
    hidden_edges = total_edges - len(picture.edges)

    dot = graphviz.Digraph("micrograd", format=format)
    if rankdir == "auto":
        rankdir = _auto_rankdir(picture)
        if rankdir == "TB":  # a deep graph: tighter ranks, so it fits a screen
            dot.attr(ranksep="0.3", nodesep="0.15")
    dot.attr(rankdir=rankdir)
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", arrowsize="0.7")
    note = "more"
    lines = []
    if hidden_nodes:
        lines.append(f"\u2026 {hidden_nodes:,} more node{'s' if hidden_nodes != 1 else ''} not drawn")
    if picture.trimmed:  # the edge budget, not only the node budget, left something out
        lines.append(f"\u2026 {hidden_edges:,} more edge{'s' if hidden_edges != 1 else ''} not drawn "
                     "(dashed operations lack some)")
    if lines:
        dot.node(note, "<" + "<BR/>".join(html.escape(line, quote=False) for line in lines) + ">",
                 shape="note", style="dashed", fontcolor="gray30")

    loose = {"constraint": "false"} if picture.loose else {}  # see _select
    inputs: dict[int, list[tuple[int, bool]]] = {}
    for k, (parent, child) in enumerate(picture.edges):
        inputs.setdefault(child, []).append((parent, k in picture.extras))
    for i, node in enumerate(picture.order):
        # shape=plain: the node is exactly the table, so edges start and end at the box (shape=none
        # keeps an invisible outline taller than the table, and edges stop short of it)
        dot.node(f"v{i}", _value_label(node, precision), shape="plain")
        if not node._prev:
            continue
        op = f"op{i}"
        dashed = {"style": "dashed"} if i in picture.trimmed else {}
        dot.node(op, _html(node._op or "?"), shape="ellipse", width="0", height="0", margin="0.04,0.02", **dashed)
        for j, extra in inputs.get(i, ()):
            dot.edge(f"v{j}", op, **(loose if extra else {}))
        if i in picture.incomplete:
            dot.edge(note, op, style="dashed", color="gray50")
        dot.edge(op, f"v{i}")
    return dot, picture.order


def render(root_or_digraph: Value | graphviz.Digraph, path: str | os.PathLike[str],
           **options: object) -> Path:
    """Write the drawing to `path` in the format its extension names, and return the path.

    ``.dot`` / ``.gv`` need only Python; ``.svg``, ``.png`` and ``.pdf`` run Graphviz's
    ``dot``.  If ``dot`` is missing, nothing is lost: the DOT source is written next to
    `path` (``graph.svg`` -> ``graph.dot``) and `GraphvizNotFoundError` says where and how
    to install Graphviz.  `options` go to `draw_dot` when a Value is given.

    ``.html`` writes the step-by-step page of backpropagation (`micrograd.page`): one file that
    works offline, with the lecture's drawing (``expand=True`` unless an option says otherwise)
    and the walk of `micrograd.explain`.  It needs a Value whose backward pass has a step
    (ValueError for a constant), and Graphviz's ``dot``.

    Every file is written with `micrograd.files.write_atomic`: all or nothing (never a 0-byte or
    half-written picture on a full disk or an interrupt), through a symlink to its target, and
    never over a directory, FIFO or device (`OSError` naming `path`).
    """
    target = Path(path)
    ext = target.suffix.lower().lstrip(".")
    fmt = "dot" if ext == "gv" else ext
    if fmt not in FORMATS:
        raise ValueError(f"cannot tell the format from {str(target)!r}: "
                         f"use one of the extensions {', '.join('.' + f for f in FORMATS)}, .gv")
    if fmt == "html":
        if not isinstance(root_or_digraph, Value):
            raise TypeError(f"an HTML page needs a Value, not {type(root_or_digraph).__name__}")
        return write_atomic(target, _page(root_or_digraph, target, **options))  # type: ignore[arg-type]
    if isinstance(root_or_digraph, Value):
        dot = draw_dot(root_or_digraph, **options)  # type: ignore[arg-type]
    elif isinstance(root_or_digraph, graphviz.Digraph):
        if options:
            raise TypeError(f"drawing options {sorted(options)} only apply when drawing a Value")
        dot = root_or_digraph
    else:
        raise TypeError(f"render() needs a Value or a graphviz.Digraph, not {type(root_or_digraph).__name__}")

    if fmt == "dot":
        return write_atomic(target, dot.source)
    try:
        data = dot.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        fallback = write_atomic(target.with_suffix(".dot"), dot.source)
        raise GraphvizNotFoundError(fallback) from None
    return write_atomic(target, data)


def _page(root: Value, target: Path, format: str = "svg", rankdir: str = "auto", *,
          max_nodes: int | None = DEFAULT_MAX_NODES, max_edges: int | None = DEFAULT_MAX_EDGES,
          precision: int = 4, expand: bool = True) -> str:
    """The step-by-step page: the drawing of the lecture's graph and the walk over the same nodes."""
    from .page import page_html
    from .walkthrough import explain

    if not root.requires_grad:
        raise ValueError("the value does not depend on anything that requires grad: there is no backward pass to "
                         "step through")
    lecture = Lecture(expand)
    dot, order = _draw(root, "svg", rankdir, max_nodes, max_edges, precision, lecture)
    try:
        svg = dot.pipe(format="svg", quiet=True).decode("utf-8")
    except graphviz.ExecutableNotFound:
        fallback = write_atomic(target.with_suffix(".dot"), dot.source)
        raise GraphvizNotFoundError(fallback) from None
    value_ids = {node: f"v{i}" for i, node in enumerate(order)}
    op_ids = {node: f"op{i}" for i, node in enumerate(order) if node._prev}
    return page_html(explain(root, lecture=lecture), svg, value_ids, op_ids, lambda x: _number(x, precision))


# ---------------------------------------------------------------- helpers
@dataclass(frozen=True)
class _Picture:
    """What `draw_dot` draws, positions counting in `order`.

    order: values in breadth-first order from the root; edges: operand edges (parent, child) drawn;
    extras: which of `edges` reach a value already drawn (not the edge that first reached it);
    loose: whether those extra edges are left out of the ranking (``constraint=false``);
    incomplete: values whose operation lost inputs to the node budget (a dashed edge from the note);
    trimmed: values whose operation lost input edges to the edge budget (drawn dashed).
    """

    order: list[Value]
    edges: list[tuple[int, int]]
    extras: set[int]
    loose: bool
    incomplete: set[int]
    trimmed: set[int]


def _own_parents(node: Value) -> tuple[Value, ...]:
    return node._prev


def _select(root: Value, max_nodes: int | None, max_edges: int | None,
            parents: Callable[[Value], tuple[Value, ...]] = _own_parents) -> _Picture:
    """Choose what to draw so that ``dot`` finishes in about a second whatever the graph.

    Breadth-first from the root over the parents (iterative; the order depends only on the
    graph's shape).  A parent seen for the first time is drawn, with the edge that reached it,
    while fewer than `max_nodes` values are drawn: those first edges form a tree.  An edge into a
    value already drawn (an extra edge) costs one of `max_edges`.

    What makes ``dot`` slow is long edges, not many: an edge spanning k ranks becomes k - 1
    virtual nodes for the crossing minimisation (a leaf reused at every level of a deep graph is
    the usual culprit).  If every edge can shape the ranks within _TIGHT_LAYOUT virtual nodes
    (bounded with longest-path ranks, which dot's optimal ranking never exceeds), all do: the
    usual picture.  Otherwise the ranks follow the tree alone and extra edges are kept, in walk
    order, while their spans add up to at most _LOOSE_LAYOUT virtual nodes.  With
    ``max_edges=None`` nothing is left out and nothing bounds the time ``dot`` takes.
    """
    order = [root]
    index = {root: 0}
    depth = [0]  # in the tree of first edges
    edges: list[tuple[int, int]] = []
    extras: set[int] = set()
    incomplete: set[int] = set()
    trimmed: set[int] = set()
    i = 0
    while i < len(order):
        for parent in parents(order[i]):
            j = index.get(parent)
            if j is None:
                if max_nodes is not None and len(order) >= max_nodes:
                    incomplete.add(i)
                    continue
                j = index[parent] = len(order)
                order.append(parent)
                depth.append(depth[i] + 1)
            elif max_edges is not None and len(extras) >= max_edges:
                trimmed.add(i)
                continue
            else:
                extras.add(len(edges))
            edges.append((j, i))
        i += 1
    if max_edges is None or _virtual_nodes(len(order), edges, incomplete) <= _TIGHT_LAYOUT:
        return _Picture(order, edges, extras, False, incomplete, trimmed)
    # value v is at rank -2 depth[v] and its operation at -2 depth[v] - 1: an extra edge j -> op of i spans
    # |2 depth[j] - 2 depth[i] - 1| ranks (a negative span is an edge drawn backwards)
    kept: list[tuple[int, int]] = []
    kept_extras: set[int] = set()
    spent = 0
    for k, (j, i) in enumerate(edges):
        if k in extras:
            cost = abs(2 * depth[j] - 2 * depth[i] - 1) - 1
            if spent + cost > _LOOSE_LAYOUT:
                trimmed.add(i)
                continue
            spent += cost
            kept_extras.add(len(kept))
        kept.append((j, i))
    return _Picture(order, kept, kept_extras, True, incomplete, trimmed)


def _virtual_nodes(n: int, edges: list[tuple[int, int]], incomplete: set[int]) -> int:
    """An upper bound on the virtual nodes of dot's layout when every edge shapes the ranks.

    Ranks from the longest path to the root (value steps L: value at -2L, its operation at
    -2L - 1) are a valid ranking, and dot's network simplex finds one with total edge length no
    larger, so summing (span - 1) over these ranks bounds what dot will make.  The note node sits
    one rank before the deepest operation it points to.
    """
    longest = _depths(n, edges)
    total = sum(2 * longest[j] - 2 * longest[i] - 2 for j, i in edges)
    if incomplete:
        deepest = max(longest[i] for i in incomplete)
        total += sum(2 * deepest - 2 * longest[i] for i in incomplete)
    return total


def _depths(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """For values 0..n-1 (0 the root) joined by drawn edges (value, its user): the operations on the
    longest path from each value to the root, in Kahn's order from the root (a value's depth is
    final once all its users are done)."""
    into: dict[int, list[int]] = {}
    uses = [0] * n  # drawn edges out of each value, towards the root
    for j, i in edges:
        into.setdefault(i, []).append(j)
        uses[j] += 1
    depth = [0] * n
    done = [0] * n
    ready = [0] if n else []
    while ready:
        i = ready.pop()
        for j in into.get(i, ()):
            depth[j] = max(depth[j], depth[i] + 1)
            done[j] += 1
            if done[j] == uses[j]:
                ready.append(j)
    return depth


def _count(root: Value, parents: Callable[[Value], tuple[Value, ...]] = _own_parents) -> tuple[int, int]:
    """How many values `root` depends on (itself included) and how many operand edges join them."""
    seen = {root}
    stack = [root]
    edges = 0
    while stack:
        prev = parents(stack.pop())
        edges += len(prev)
        for parent in prev:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return len(seen), edges


# sizes in points for choosing a layout: a value box, an op oval, Graphviz's default rank and node gaps
_BOX_W, _BOX_H, _OP, _RANKSEP, _NODESEP = 170.0, 22.0, 25.0, 36.0, 18.0
_SCREEN_W, _SCREEN_ASPECT = 1350.0, 16 / 10  # about 1800 px wide at 96 dpi; a laptop screen's shape


def _auto_rankdir(picture: _Picture) -> str:
    """"LR" while the picture is about a screen wide at most; else the direction whose shape is nearer a screen's.

    Estimated from the drawn graph's depth (operations on the longest path from the root) and
    breadth (most values at one depth), so no layout has to be run twice.
    """
    n = len(picture.order)
    depth = _depths(n, picture.edges)
    levels = max(depth) if n else 0
    breadth = max((depth.count(d) for d in range(levels + 1)), default=1)
    lr = ((levels + 1) * _BOX_W + levels * (_OP + 2 * _RANKSEP), breadth * (_BOX_H + _NODESEP))
    if lr[0] <= _SCREEN_W:
        return "LR"
    tb = (breadth * (_BOX_W + _NODESEP), (levels + 1) * _BOX_H + levels * (_OP + 2 * _RANKSEP))
    off = [abs(math.log(w / h / _SCREEN_ASPECT)) for w, h in (lr, tb)]
    return "TB" if off[1] < off[0] else "LR"


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
