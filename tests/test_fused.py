"""The speed path held to the rule table bit for bit.

`fused.dot_nodes` computes each neuron's sum inline and `DotRule.chain` does the chain-rule step
with its own loops; both must give exactly (IEEE bits, -0.0 and nan included) what the rule's own
`forward` and the generic `Primitive.chain` give.  Inputs include special values and aliasing
(a weight that is also an input, a parameter used twice).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from floats import bits
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd.engine as engine
from micrograd import Value, dots
from micrograd.fused import DOT, DOT_RELU, DOT_SIGMOID, DOT_TANH, NEURON_RULES, DotRule, dot_nodes
from micrograd.primitives import Primitive

RULES = [DOT, DOT_RELU, DOT_TANH, DOT_SIGMOID]
numbers = st.one_of(
    st.floats(-5, 5, allow_nan=False), st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e300, -1e300]))


def run_chain(node: Value, g: float, step: Any) -> list[bytes]:
    """The parents' .grad (as bits, parents in order) after one chain-rule step from node.grad = g."""
    for p in node._prev:
        p.grad = 0.0
    node.grad = g
    step(node, False)
    return [bits(p.grad) for p in node._prev]


def generic_chain(node: Value, g: float) -> list[bytes]:
    return run_chain(node, g, lambda n, cg: Primitive.chain(n._rule, n, cg))  # type: ignore[arg-type]


def fused_chain(node: Value, g: float) -> list[bytes]:
    return run_chain(node, g, node._rule.chain)  # type: ignore[union-attr]


@settings(max_examples=300)
@given(st.integers(0, 6), st.data(), st.sampled_from(RULES), numbers, st.booleans())
def test_forward_and_chain_are_the_rules_bit_for_bit(n: int, data: st.DataObject, rule: DotRule, g: float,
                                                     alias: bool) -> None:
    ws = [Value(data.draw(numbers)) for _ in range(n)]
    xs = [Value(data.draw(numbers)) for _ in range(n)]
    if alias and n >= 2:
        xs[0] = ws[1]  # a weight that is also an input
        ws[0] = ws[1]  # a parameter used twice
    b = Value(data.draw(numbers))
    (node,) = dot_nodes([(b, *ws)], xs, rule)
    want = rule.forward(b.data, *(w.data for w in ws), *(x.data for x in xs))
    assert bits(node.data) == bits(want)
    assert fused_chain(node, g) == generic_chain(node, g)  # the same sums, added in the same order


def test_create_graph_mode_uses_the_table() -> None:
    w, x, b = Value(0.5), Value(-2.0), Value(0.25)
    (node,) = dots([(b, w)], [x], "tanh")
    node.grad = Value(1.0)  # type: ignore[assignment]
    node._rule.chain(node, True)  # type: ignore[union-attr]
    assert all(isinstance(p.grad, Value) for p in (w, x, b))  # recorded, so differentiable again


def test_activation_names_and_primitives_choose_the_same_rule() -> None:
    for name, act in (("linear", None), ("relu", DOT_RELU.activation), ("tanh", DOT_TANH.activation),
                      ("sigmoid", DOT_SIGMOID.activation)):
        assert dots([(Value(0.0), Value(1.0))], [Value(0.5)], name)[0]._rule is NEURON_RULES[act]
        assert dots([(Value(0.0), Value(1.0))], [Value(0.5)], act)[0]._rule is NEURON_RULES[act]


def test_engine_file_is_short_and_has_no_speed_special_cases() -> None:
    source = Path(engine.__file__).read_text()
    assert len(source.splitlines()) <= 350
    assert "fused" not in source.replace("micrograd/fused.py", "") and "DotRule" not in source
    walk = source[source.index("def _walk("):source.index("def grad(")]
    assert "type(" not in walk and "isinstance" not in walk  # the fast path plugs in through the rule
    assert source.count("_new(Value)") == 2  # make_node, and _rebuild restoring a pickled graph


def test_every_activation_name_works_in_dot_and_matches_the_unfused_graph() -> None:
    """One vocabulary: each name of ACTIVATIONS means the same in dot/dots as the Value methods."""
    from micrograd.primitives import ACTIVATIONS

    unfused = {"linear": lambda v: v, "relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid,
               "leaky_relu": lambda v: v.leaky_relu(0.2)}
    assert set(unfused) == set(ACTIVATIONS)
    for name, act in unfused.items():
        for xv in (-1.5, 0.7):
            w, x, b = Value(0.8), Value(xv), Value(0.1)
            fused = dots([(b, w)], [x], name, negative_slope=0.2)[0]
            fused.backward()
            grads = (w.grad, x.grad, b.grad)
            w2, x2, b2 = Value(0.8), Value(xv), Value(0.1)
            plain = act(b2 + w2 * x2)
            plain.backward()
            assert fused.data == plain.data, name
            assert grads == (w2.grad, x2.grad, b2.grad), name
