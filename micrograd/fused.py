"""The speed path: a whole neuron, activation(bias + w . x), as one node.

Nothing here is needed to understand backpropagation; it is what makes networks fast.  A
neuron built the lecture's way is 2n + 2 nodes (n products, n additions, the activation);
`dot` makes it one node whose rule (`DotRule`) is built from the activation's own rule, and
`dots` makes a whole layer in one call, its nodes sharing one tuple of inputs.

Two loops are written out by hand because they run for every neuron of every step: the
forward sum in `dot_nodes`, and the chain-rule step in `DotRule.chain` (both with ReLU's
forward and slope inline).  Each performs exactly the arithmetic of the rule
(`DotRule.forward` / `DotRule.partials`), in the same order, and tests hold them to it bit
for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .engine import Scalar, Value, as_value, make_node
from .primitives import LEAKY_RELU, RELU, SIGMOID, TANH, Primitive
from .primitives import activation as _activation


def _dot(bias: float, *wx: float) -> float:  # wx = (w_0..w_n-1, x_0..x_n-1); summed left to right, as micrograd
    n = len(wx) // 2
    acc = bias
    for w, x in zip(wx[:n], wx[n:]):
        acc += w * x
    return acc


class DotRule(Primitive):
    """activation(bias + sum_i w_i x_i), parents ``(bias, *weights, *inputs)``; the activation's slope
    must depend on its output alone (ReLU, tanh, sigmoid), so the rule needs no inner node."""

    __slots__ = ("activation",)

    def __init__(self, act: Primitive | None) -> None:
        def forward(bias: float, *wx: float) -> float:
            total = _dot(bias, *wx)
            return total if act is None else act.forward(total)

        def partials(bias: Any, *wx_out: Any) -> tuple[Any, ...]:
            # d/d bias = 1, d/d w_i = x_i, d/d x_i = w_i, each times the activation's slope (chain rule)
            n = (len(wx_out) - 1) // 2
            linear = (1.0, *wx_out[n:2 * n], *wx_out[:n])
            if act is None:
                return linear
            (slope,) = act.partials(None, wx_out[-1])
            return linear if isinstance(slope, float) and slope == 1.0 else tuple(slope * d for d in linear)

        name = "dot" if act is None else f"{act.name}(dot)"
        super().__init__(name, forward, partials, flat_at_zero=act is not None and act.flat_at_zero)
        self.activation = act

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (neuron_rule, (self.activation,))  # pickled graphs find the same rule object again

    def chain(self, node: Any, create_graph: bool) -> None:
        """`Primitive.chain` without gathering 2n + 1 partials first: the same products, in the same order."""
        if create_graph:
            return super().chain(node, create_graph)
        act, g = self.activation, node.grad
        if act is RELU:  # RELU's partial inline, as in dot_nodes; held to it by a test
            slope = 0.0 if node.data <= 0 else 1.0
        else:
            slope = 1.0 if act is None else act.partials(None, node.data)[0]
        prev = node._prev
        n = (len(prev) - 1) // 2
        bias, weights, inputs = prev[0], prev[1:n + 1], prev[n + 1:]
        if bias.requires_grad:
            bias.grad += slope * g
        if slope == 1.0:  # the partials are then x_i and w_i themselves
            for w, x in zip(weights, inputs):
                if w.requires_grad:
                    w.grad += x.data * g
            for w, x in zip(weights, inputs):
                if x.requires_grad:
                    x.grad += w.data * g
        else:
            for w, x in zip(weights, inputs):
                if w.requires_grad:
                    w.grad += slope * x.data * g
            for w, x in zip(weights, inputs):
                if x.requires_grad:
                    x.grad += slope * w.data * g
        return None


DOT, DOT_RELU, DOT_TANH, DOT_SIGMOID = DotRule(None), DotRule(RELU), DotRule(TANH), DotRule(SIGMOID)
NEURON_RULES: dict[Primitive | None, DotRule] = {None: DOT, RELU: DOT_RELU, TANH: DOT_TANH, SIGMOID: DOT_SIGMOID}


def neuron_rule(act: str | Primitive | None) -> DotRule:
    """The fused rule for an activation name ("linear", "relu", "tanh", "sigmoid") or primitive."""
    rule = NEURON_RULES.get(_activation(act))
    if rule is None:
        raise ValueError(f"dot: activation must be linear, relu, tanh or sigmoid, not {act!r}")
    return rule


_VALUES = frozenset({Value})


def dot(weights: Sequence[Scalar], inputs: Sequence[Scalar], bias: Scalar = 0.0,
        activation: str | Primitive | None = None, negative_slope: float = 0.01) -> Value:
    """activation(bias + sum_i w_i x_i) as one node: a neuron.

    The sum is micrograd's left-to-right sum, bit for bit.  `activation` is a name of
    `micrograd.primitives.ACTIVATIONS`: None or "linear" (the weighted sum), "relu", "tanh" and
    "sigmoid" inside the node; "leaky_relu" (with `negative_slope`, a parameter, so not fusable)
    as a node of its own after it.  ValueError if the lengths differ or the name is unknown.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"dot: {len(weights)} weights for {len(inputs)} inputs")
    return dots([(bias, *weights)], inputs, activation, negative_slope)[0]


def dots(rows: Sequence[Sequence[Scalar]], inputs: Sequence[Scalar],
         activation: str | Primitive | None = None, negative_slope: float = 0.01) -> list[Value]:
    """One `dot` node per row ``(bias, *weights)``, all on the same inputs: a whole layer in one call.

    Rows that are already tuples of Values are kept as they are, so a layer that passes the
    same row tuples every call (as `nn.Layer` does) allocates little.  `activation` as in `dot`.
    """
    act = _activation(activation)
    if act is LEAKY_RELU:
        return [LEAKY_RELU(v, negative_slope) for v in dots(rows, inputs, None)]
    rule = neuron_rule(act)
    inputs = inputs if isinstance(inputs, (list, tuple)) else list(inputs)
    checked = [row if type(row) is tuple and set(map(type, row)) <= _VALUES else tuple(map(as_value, row))
               for row in rows]
    for row in checked:
        if len(row) != len(inputs) + 1:
            raise ValueError(f"dot: {len(row) - 1} weights for {len(inputs)} inputs")
    return dot_nodes(checked, inputs, rule)


def dot_nodes(rows: Sequence[tuple[Value, ...]], inputs: Sequence[Scalar], rule: DotRule) -> list[Value]:
    """`dots` after its checks: each row a tuple of Values one longer than `inputs`.

    The hot path of every network: each sum is taken straight from the parents' data, the
    loop of the rule's forward, which a test holds it to bit for bit.
    """
    given = inputs if type(inputs) is tuple else tuple(inputs)
    xdata = [x.data for x in given if type(x) is Value]
    xs: tuple[Value, ...] = given  # type: ignore[assignment]  # (checked just below)
    if len(xdata) != len(xs):  # numbers among the inputs: make constants of them
        xs = tuple(map(as_value, given))
        xdata = [x.data for x in xs]
    act = rule.activation
    is_relu, squash = act is RELU, None if act is None else act.forward
    out = []
    for row in rows:
        weights = iter(row)
        acc = next(weights).data
        for w, x in zip(weights, xdata):
            acc += w.data * x
        if is_relu:  # RELU's forward inline (a call per neuron is a tenth of the work); held to it by a test
            if acc < 0.0:
                acc = 0.0
        elif squash is not None:
            acc = squash(acc)
        out.append(make_node(rule, row + xs, None, acc))  # data=acc (by position: a keyword costs, per neuron)
    return out
