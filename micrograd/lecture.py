"""The lecture's view of a graph: fused neurons and folded constants as karpathy/micrograd builds them.

Why: this package computes a neuron as one node (`micrograd.fused`: ``tanh(dot)`` with parents
``(b, *w, *x)``) and folds a number into the operation that uses it (``x * 3`` is one node ``*3``
with one parent).  The lecture, and the seeds' textbook, show a neuron as n products ``w_i·x_i``,
a chain of additions starting from the bias (micrograd's ``sum(..., self.b)``), and the
activation; ``x * 3`` as a leaf 3 and a ``*`` node; and ``a - b`` (one node ``-`` here) as
``a + b * -1``.  To explain or draw a graph so that it matches that arithmetic, a `Lecture`
stands the lecture's nodes in for each such node.

The stand-in nodes are ordinary engine nodes, made with the same primitives from the same
parents, so every value is the fused node's value bit for bit (the fused sum is the same
left-to-right sum) and `micrograd.primitives.local_derivatives` works on them.  Nothing in the
original graph changes: the stand-ins are new nodes whose parents are the original ones, and
only the stand-ins' own ``.grad`` is set (from the fused node's ``.grad``, for drawing).

Start at `Lecture.stand_in`.  Used by `micrograd.explain`, `micrograd.draw` (``expand=True``)
and the step-by-step page.
"""

from __future__ import annotations

from dataclasses import dataclass

from .engine import Value, enable_grad, topological_order
from .fused import DotRule
from .primitives import SCALE, SHIFT, SUB, SUM, constant_of, local_derivatives, primitive_of

__all__ = ["Expansion", "Lecture"]


@dataclass(frozen=True, eq=False)
class Expansion:
    """The lecture's nodes for one fused or folded `node`.

    `out` stands for `node` (same data, same label); `nodes` are the new interior nodes, `out`
    first, each before its parents (the order the reverse walk takes them).  Their parents are
    the original node's parents, or new constant leaves for a folded number.
    """

    node: Value
    out: Value
    nodes: tuple[Value, ...]


class Lecture:
    """One graph seen the lecture's way.  Build one per explanation or drawing and ask it for nodes.

    With ``expand=False`` every node stands for itself (the engine's own view), so code can
    take a `Lecture` either way.  Stand-ins are made once per node, so asking twice gives the
    same objects: an explanation and a drawing made with one `Lecture` name the same nodes.
    """

    def __init__(self, expand: bool = True) -> None:
        self.expand = expand
        self._expansions: dict[Value, Expansion | None] = {}

    def expansion(self, node: Value) -> Expansion | None:
        """The lecture's nodes for `node`, or None if it is already a lecture node (or ``expand`` is off)."""
        if not self.expand:
            return None
        if node not in self._expansions:
            self._expansions[node] = _expand(node)
        return self._expansions[node]

    def stand_in(self, node: Value) -> Value:
        """The node that stands for `node` in the lecture's graph (`node` itself unless it is fused or folded)."""
        e = self.expansion(node)
        return node if e is None else e.out

    def parents(self, node: Value) -> tuple[Value, ...]:
        """`node`'s parents in the lecture's graph: the stand-ins of ``node._prev``, in the same order."""
        if not self.expand:
            return node._prev
        return tuple(self.stand_in(p) for p in node._prev)

    def order(self, root: Value, *, skip_flat: bool = True) -> list[Value]:
        """The lecture's interior nodes reachable from `root`, each before its parents.

        The engine's `topological_order` with each fused or folded node replaced by its
        expansion, so it is the order of the engine's own reverse walk, and (with
        `skip_flat`) leaves out what no gradient reaches: a ReLU whose output is 0 and
        everything behind it.  With ``skip_flat=False``, every interior node.
        """
        order: list[Value] = []
        for node in topological_order((root,), skip_flat=skip_flat):
            e = self.expansion(node)
            order.extend((node,) if e is None else e.nodes)
        return order


def _expand(node: Value) -> Expansion | None:
    """Build the lecture's nodes for a fused neuron (DotRule), a folded ``x + c`` / ``x * c`` node, or ``a - b``."""
    rule = primitive_of(node)
    if rule is None or not node._prev:
        return None
    with enable_grad():  # the stand-ins are recorded even when the caller is inside no_grad()
        if isinstance(rule, DotRule):
            out, made = _neuron(node, rule)
        elif rule is SCALE or rule is SHIFT:
            (x,) = node._prev
            c = Value(constant_of(node), requires_grad=False)
            out = x * c if rule is SCALE else x + c
            made = [out]
        elif rule is SUB:  # micrograd's a - b: a + (-b), and -b is b * -1
            a, b = node._prev
            negated = b * Value(-1.0, requires_grad=False)
            out = a + negated
            made = [negated, out]
        else:
            return None
    nodes = tuple(m for m in reversed(made) if m._prev)  # out first, each before its parents
    if not set(node._prev) <= {p for m in nodes for p in m._prev}:  # a product of constants is a constant: the
        return None  # lecture's nodes would lose a parent (b in a - b, w and x in w·x), so the node stands for itself
    out.label = node.label
    _pass_gradient(out, nodes, node.grad)
    return Expansion(node, out, nodes)


def _neuron(node: Value, rule: DotRule) -> tuple[Value, list[Value]]:
    """micrograd's neuron: products w_i·x_i, then b + p_0 + p_1 + ... left to right, then the activation.

    Returns the last node and every node made, parents first.  A neuron with no inputs is
    ``sum(b)`` (one node, so the stand-in is never the bias leaf itself).
    """
    prev = node._prev
    n = (len(prev) - 1) // 2
    bias, weights, inputs = prev[0], prev[1:n + 1], prev[n + 1:]
    made: list[Value] = []
    acc = bias
    for w, x in zip(weights, inputs):
        p = w * x
        made.append(p)
        acc = acc + p
        made.append(acc)
    if not made:
        acc = SUM(bias)
        made.append(acc)
    if rule.activation is not None:
        acc = rule.activation(acc)
        made.append(acc)
    return acc, made


def _pass_gradient(out: Value, nodes: tuple[Value, ...], g: float) -> None:
    """Set the stand-ins' ``.grad`` to what `g` flowing into `out` gives them, by the engine's arithmetic.

    Only the new nodes are touched, so a drawing of the lecture's graph shows the gradients
    the fused node's ``.grad`` implies.
    """
    own = set(nodes)
    grads: dict[Value, float] = {out: g}
    for m in nodes:
        gm = grads.get(m)
        if gm is None:
            continue
        for p, d in zip(m._prev, local_derivatives(m)):
            if p in own:
                grads[p] = grads.get(p, 0.0) + d * gm
    for m in nodes:
        m.grad = grads.get(m, 0.0)
