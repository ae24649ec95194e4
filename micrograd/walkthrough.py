"""Backpropagation explained step by step, for any expression: the seeds' walk-through, computed.

The textbook (seed 000) walks the backward pass of a shopping bill by hand: the price's own
gradient is 1; the tax product passes 1 × 1.1 to the subtotal and 1 × 650 to the tax; the sum
passes 1.1 on to both prices unchanged; each product passes 1.1 times its *other* input on:
2.2, 110, 3.3, 165.  `explain` performs that walk on a real graph and records every step::

    ex = micrograd.explain(price)
    print(ex)                  # the table: node, upstream, local derivative in words, contribution, total
    ex.steps[0].contribution   # 1.1
    ex.gradient(apple)         # 2.2, what backward() puts in apple.grad

Each step is one edge of the graph: the node whose gradient is passed on, the parent that
receives it, the upstream gradient d root / d node, the local derivative d node / d parent,
and their product, computed exactly as the engine computes it (``local * upstream``) and in
the engine's order (`micrograd.engine.topological_order`).  Where a value is used more than
once, its contributions add up (`Explanation.meetings`): for ``x*x + x`` at 3 that is
1 + 3 + 3 = 7.  No ``.grad`` is touched.

Fused neurons and folded constants are shown as the lecture computes them (`micrograd.lecture`):
each product ``w_i·x_i``, the chain of additions, the activation.  Sums of contributions then
equal ``backward()``'s gradients to rounding (a product of three numbers rounds differently in
another order); ``expand=False`` walks the engine's own nodes and agrees bit for bit.

`paths` lists every path from a leaf to the root with the product of the local derivatives
along it: their sum is the gradient (the chain rule on a graph).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .engine import Value
from .lecture import Lecture
from .primitives import SUM, Closure, local_derivatives, primitive_of
from .words import Names, forward, number, rule

__all__ = ["DEFAULT_PATH_LIMIT", "Explanation", "Meeting", "Path", "PathLimitError", "Step", "explain", "path_sum",
           "paths"]

DEFAULT_PATH_LIMIT = 10_000
"""Most paths `paths` lists: their number can double with every layer of a graph."""


@dataclass(frozen=True, eq=False)
class Step:
    """One edge of the backward pass: `node` passes `contribution` = `local` × `upstream` to `parent`.

    `upstream` is d root / d node, `local` is d node / d parent (the parent at position `slot`
    of the node's parents), `total` is the parent's gradient after this step, and `rule` says
    the local derivative in words, e.g. ``∂(a·b)/∂a = b = 3``.
    """

    node: Value
    parent: Value
    slot: int
    upstream: float
    local: float
    contribution: float
    total: float
    rule: str


@dataclass(frozen=True, eq=False)
class Meeting:
    """A value used more than once: the contributions its uses pass back, in walk order, and their sum."""

    node: Value
    name: str
    contributions: tuple[float, ...]
    total: float

    def text(self, digits: int = 6) -> str:
        """``x: 1 + 3 + 3 = 7``."""
        terms = " + ".join(number(c, digits) if not c < 0 else f"({number(c, digits)})" for c in self.contributions)
        return f"{self.name}: {terms} = {number(self.total, digits)}"

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True, eq=False)
class Path:
    """One way from a leaf up to the root: `nodes` from the leaf to the root, `locals[i]` = d nodes[i+1] / d nodes[i].

    `product` multiplies the local derivatives from the root down (as the walk does:
    ``local * upstream``); the products of all paths sum to the gradient.
    """

    nodes: tuple[Value, ...]
    locals: tuple[float, ...]
    product: float
    names: tuple[str, ...]

    def text(self, digits: int = 6) -> str:
        """``x → x·x → x·x + x: 3 × 1 = 3``."""
        factors = " × ".join(number(d, digits) for d in self.locals) or "1"
        return f"{' → '.join(self.names)}: {factors} = {number(self.product, digits)}"

    def __str__(self) -> str:
        return self.text()


class PathLimitError(ValueError):
    """More paths than the limit: listing them is pointless (their number doubles with each layer)."""


class Explanation:
    """The backward pass from `root`, step by step (see the module docstring).

    Attributes: `root` (the Value explained), `out` (the node standing for it in the lecture's
    graph: `root` itself unless it is a fused neuron or a folded constant), `steps` in walk
    order, `lecture` (the `micrograd.lecture.Lecture` whose nodes the steps name), `names`.
    """

    def __init__(self, root: Value, lecture: Lecture, steps: Sequence[Step], gradients: dict[Value, float],
                 names: Names) -> None:
        self.root, self.lecture, self.names = root, lecture, names
        self.out = lecture.stand_in(root)
        self.steps = tuple(steps)
        self._gradients = gradients

    def gradient(self, node: Value) -> float:
        """d root / d node as the walk sums it: what ``backward()`` leaves in ``node.grad`` (0 if not reached)."""
        return self._gradients.get(self.lecture.stand_in(node), 0.0)

    @property
    def gradients(self) -> dict[Value, float]:
        """Every gradient the walk computed, by (lecture) node: the root's seed 1 and each total."""
        return dict(self._gradients)

    @property
    def leaves(self) -> list[Value]:
        """The leaves that receive a gradient, in the order the walk first reaches them."""
        return list(dict.fromkeys(s.parent for s in self.steps if not s.parent._prev))

    @property
    def meetings(self) -> list[Meeting]:
        """The values whose gradient is a sum of several contributions (fan-out), in walk order."""
        parts: dict[Value, list[float]] = {}
        for s in self.steps:
            parts.setdefault(s.parent, []).append(s.contribution)
        return [Meeting(v, self.names(v), tuple(cs), self._gradients[v]) for v, cs in parts.items() if len(cs) > 1]

    def forward(self) -> list[tuple[Value, str]]:
        """The forward pass, node by node (each after its parents), with how each value was computed."""
        order = self.lecture.order(self.root, skip_flat=False)[::-1]
        return [(v, forward(v, self.names)) for v in order]

    def relevant(self, targets: Iterable[Value]) -> list[Step]:
        """The steps on some path from the root to one of `targets` (e.g. the weights a tutorial follows)."""
        reach = {self.lecture.stand_in(t) for t in targets}
        keep = []
        for s in reversed(self.steps):  # a node's own steps come after every step into it
            if s.parent in reach:
                reach.add(s.node)
                keep.append(s)
        return keep[::-1]

    # -- tables -----------------------------------------------------------------------
    def _rows(self, steps: Sequence[Step], digits: int) -> list[list[str]]:
        rows = []
        for k, s in enumerate(steps, start=1):
            words = s.rule if digits == self.names.digits else rule(s.node, s.slot, s.local, self.names, digits)
            rows.append([str(k), self._node_cell(s.node), number(s.node.data, digits), number(s.upstream, digits),
                         self.names(s.parent), words, number(s.contribution, digits), number(s.total, digits)])
        return rows

    def _node_cell(self, node: Value) -> str:
        name = self.names(node)
        op = node._op
        return f"{name} ({op})" if op and not self.names.spelled(node) else name

    def _header(self) -> list[str]:
        r = self.names.atom(self.out)
        return ["step", "node", "value", f"upstream ∂{r}/∂node", "parent", "local derivative ∂node/∂parent",
                "contribution", "total"]

    def table(self, digits: int = 6, only: Iterable[Value] | None = None) -> str:
        """The walk as a text table, then where contributions meet and the gradients.

        `digits` significant digits per number; `only` keeps the steps leading to those values.
        """
        targets = None if only is None else list(only)
        steps = self.steps if targets is None else self.relevant(targets)
        r = self.names.atom(self.out)
        name, what = self.names(self.out), self.names.expression(self.out) if self.out._prev else ""
        lines = [f"backward pass from {name}{f' = {what}' if what and what != name and len(what) <= 60 else ''} = "
                 f"{number(self.out.data, digits)}, starting from ∂{r}/∂{r} = 1.",
                 "Each step passes contribution = upstream × local from a node to one of its parents; "
                 "a value's gradient is the total of what it receives."]
        if targets is not None:
            lines.append(f"Shown: the {len(steps)} of {len(self.steps)} steps that lead to "
                         f"{', '.join(self.names(self.lecture.stand_in(t)) for t in targets)}.")
        rows = self._rows(steps, digits)
        if rows:
            lines += ["", *_aligned([self._header(), *rows], numeric={0, 2, 3, 6, 7})]
        else:
            lines.append("(no steps: nothing behind the root needs a gradient, or no gradient passes through it)")
        legend = self.names.legend()
        if legend:
            lines += ["", "unlabelled nodes: " + "; ".join(f"{k} = {text}" for k, text in legend)]
        shown = set(steps)
        meetings = [m for m in self.meetings if targets is None or any(s.parent is m.node for s in shown)]
        if meetings:
            lines += ["", "where contributions meet (a value used more than once adds what each use passes back):"]
            lines += [f"  {m.text(digits)}" for m in meetings]
        leaves = self.leaves if targets is None else [self.lecture.stand_in(t) for t in targets]
        if leaves:
            lines += ["", "gradients: " + ", ".join(f"∂{r}/∂{self.names(v)} = {number(self.gradient(v), digits)}"
                                                   for v in leaves)]
        return "\n".join(lines)

    def to_markdown(self, digits: int = 6, only: Iterable[Value] | None = None) -> str:
        """The table as Markdown, for notes and slides (same columns as `table`)."""
        steps = self.steps if only is None else self.relevant(only)
        cells = [self._header(), *self._rows(steps, digits)]
        esc = [[c.replace("|", "\\|") for c in row] for row in cells]
        out = ["| " + " | ".join(esc[0]) + " |", "|" + "|".join("---:" if i in {0, 2, 3, 6, 7} else "---"
                                                               for i in range(len(esc[0]))) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in esc[1:]]
        meetings = self.meetings
        if meetings:
            out += ["", "Where contributions meet: " + "; ".join(f"`{m.text(digits)}`" for m in meetings)]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<Explanation of {self.names(self.out)}: {len(self.steps)} steps>"


def _aligned(rows: Sequence[Sequence[str]], numeric: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.rjust(w) if i in numeric and n else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return lines


# ---------------------------------------------------------------- the walk
def _check_root(root: object) -> Value:
    if not isinstance(root, Value):
        raise TypeError(f"explain() needs a Value, not {type(root).__name__}")
    return root


def explain(root: Value, *, expand: bool = True, lecture: Lecture | None = None, digits: int = 6) -> Explanation:
    """The backward pass from `root`, step by step, without touching any ``.grad``.

    `expand` shows fused neurons and folded constants as the lecture's nodes (products, sums,
    the activation); pass a `micrograd.lecture.Lecture` as `lecture` to share its nodes with a
    drawing.  `digits`: significant digits in the rule texts.  A root that does not require
    grad (a constant) has no backward pass: RuntimeError, as ``backward()``.  A node made the
    lecture's way (a ``_backward`` closure) can only be run: its closure runs on ``.grad``
    values that are saved first and put back after.
    """
    root = _check_root(root)
    if not root.requires_grad:
        raise RuntimeError("explain() on a Value that does not require grad (made under no_grad() or from constants "
                           "only): there is no backward pass")
    lecture = Lecture(expand) if lecture is None else lecture
    out = lecture.stand_in(root)
    names = Names(lecture.parents, digits=digits, output=out)
    grads: dict[Value, float] = {out: 1.0}
    steps: list[Step] = []
    for node in lecture.order(root):
        g = grads.get(node)
        if g is None:
            continue
        rule_ = primitive_of(node)
        if isinstance(rule_, Closure):  # made the lecture's way: its _backward does the arithmetic
            for slot, p, d, c in _closure_edges(node, rule_, g):
                q = lecture.stand_in(p)
                grads[q] = total = grads.get(q, 0.0) + c  # the closure's `parent.grad += ...`
                steps.append(Step(node, q, slot, g, d, c, total, rule(node, slot, d, names)))
            continue
        for slot, (p, d) in enumerate(zip(node._prev, local_derivatives(node))):
            if not p.requires_grad:
                continue
            q = lecture.stand_in(p)
            c = d * g  # the engine's arithmetic (Primitive.chain), in its order
            grads[q] = total = grads.get(q, 0.0) + c
            steps.append(Step(node, q, slot, g, d, c, total, rule(node, slot, d, names)))
    return Explanation(root, lecture, steps, grads, names)


def _closure_edges(node: Value, rule_: Closure, g: float) -> list[tuple[int, Value, float, float]]:
    """(slot, parent, local, contribution) for a node made the lecture's way, one per distinct parent.

    The contribution is what the node's ``_backward`` adds for upstream `g` (what the engine
    does); the local derivative is what it adds for upstream 1.
    """
    with_g, with_one = _run_closure(node, rule_, g), _run_closure(node, rule_, 1.0)
    slots = {p: i for i, p in reversed(list(enumerate(node._prev)))}
    return [(slots[p], p, with_one[p], c) for p, c in with_g.items()]


def _run_closure(node: Value, rule_: Closure, g: float) -> dict[Value, float]:
    """What the node's ``_backward`` closure adds to each parent's ``.grad`` when ``node.grad`` is `g`.

    The closure can only work on ``.grad``: it runs with the node's ``.grad`` set to `g` and its
    parents' set to 0, and every ``.grad`` is put back as it was, even if the closure raises.
    """
    parents = tuple(dict.fromkeys(node._prev))
    saved, saved_g = [p.grad for p in parents], node.grad
    try:
        for p in parents:
            p.grad = 0.0
        node.grad = g
        rule_.chain(node, False)
        return {p: p.grad for p in parents if p.requires_grad}
    finally:
        for p, s in zip(parents, saved):
            p.grad = s
        node.grad = saved_g


def _edges(node: Value) -> list[tuple[int, Value, float]]:
    """(slot, parent, local derivative) for every parent that requires grad."""
    rule_ = primitive_of(node)
    if isinstance(rule_, Closure):
        return [(slot, p, d) for slot, p, d, _ in _closure_edges(node, rule_, 1.0)]
    return [(slot, p, d) for slot, (p, d) in enumerate(zip(node._prev, local_derivatives(node))) if p.requires_grad]


def paths(root: Value, leaf: Value, *, limit: int = DEFAULT_PATH_LIMIT, expand: bool = True) -> list[Path]:
    """Every path from `leaf` up to `root` along which the gradient flows, with the product of its local derivatives.

    The sum of the products is d root / d leaf (the chain rule on a graph: one term per path).
    A value used twice by one node (``x*x``) gives two paths.  No path goes through a ReLU
    whose output is 0, as no gradient does.  Paths are found from the root down, each edge
    taken in the order of the node's parents.  `expand` as in `explain`.

    Raises `PathLimitError` (a ValueError) when there are more than `limit` paths: their
    number doubles with every layer of a network, and `explain` gives the sum without them.
    """
    root, leaf = _check_root(root), _check_root(leaf)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive int, not {limit!r}")
    lecture = Lecture(expand)
    top, target = lecture.stand_in(root), lecture.stand_in(leaf)
    names = Names(lecture.parents, output=top)
    if top is target:
        return [Path((top,), (), 1.0, (names(top),))]
    order = lecture.order(root)
    edges = {node: _edges(node) for node in order}
    ways: dict[Value, int] = {target: 1}
    for node in reversed(order):  # parents first: count the paths from each node down to the target
        if node is not target:
            ways[node] = sum(ways.get(lecture.stand_in(p), 0) for _, p, _ in edges[node])
    count = ways.get(top, 0) if top in edges else 0
    if count > limit:
        raise PathLimitError(
            f"{names(target)} reaches {names(top)} along {count:,} paths, more than limit={limit:,}; their sum is "
            f"the gradient all the same: explain() (or backward()) computes it without listing them")
    found: list[Path] = []
    stack: list[tuple[tuple[Value, ...], tuple[float, ...], float]] = [((top,), (), 1.0)]
    while stack:
        trail, locals_, acc = stack.pop()
        node = trail[-1]
        if node is target:
            found.append(Path(trail[::-1], locals_[::-1], acc, tuple(names(v) for v in trail[::-1])))
            continue
        for _, p, d in reversed(edges.get(node, ())):  # reversed onto the stack: taken in the parents' order
            q = lecture.stand_in(p)
            if ways.get(q, 0):
                stack.append(((*trail, q), (*locals_, d), d * acc))
    return found


def path_sum(found: Iterable[Path]) -> float:
    """The sum of the paths' products (correctly rounded; IEEE where they are infinite: inf - inf is nan): the
    gradient, by the chain rule on a graph."""
    return SUM.forward(*(p.product for p in found))
