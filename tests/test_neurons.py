"""The neuron fast path: fused dot+activation nodes, dots() for a whole layer, flat nodes in backward.

Every shortcut here is held to the slow, obvious computation it replaces, bit for bit.
"""

from __future__ import annotations

import copy
import math
import pickle
import random
import struct

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from micrograd import engine, nn
from micrograd.engine import DOT, DOT_RELU, RELU, SIGMOID, TANH, Primitive, Value, dot, dots, grad, relu, sqrt


def bits(x: float) -> bytes:
    """The exact IEEE bits, so -0.0 differs from 0.0 and a NaN equals itself."""
    return struct.pack("<d", x)


ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
EDGE = st.sampled_from([0.0, -0.0, 5e-324, -5e-324, math.inf, -math.inf, math.nan, 1e308, -1e308])


# ---------------------------------------------------------------- fused forward
@given(st.lists(st.tuples(ANY_FLOAT | EDGE, ANY_FLOAT | EDGE), max_size=6), ANY_FLOAT | EDGE)
@example(pairs=[], bias=-0.0)  # ReLU(-0.0) is +0.0
@example(pairs=[(0.0, -1.0)], bias=-0.0)
@example(pairs=[(math.nan, 1.0)], bias=0.0)
def test_fused_relu_forward_is_relu_of_the_dot_bit_for_bit(pairs, bias):
    ws, xs = [w for w, _ in pairs], [x for _, x in pairs]
    floats = [bias, *ws, *xs]
    expected = RELU.forward(DOT.forward(*floats))
    node = dot([Value(w) for w in ws], [Value(x) for x in xs], Value(bias), relu)
    assert bits(node.data) == bits(expected)  # dots() inlines ReLU's forward: it must stay the same function
    assert bits(DOT_RELU.forward(*floats)) == bits(expected)


@pytest.mark.parametrize("act", [TANH, SIGMOID])
@given(pairs=st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), max_size=5), bias=st.floats(-50, 50))
def test_fused_smooth_forward_is_the_activation_of_the_dot(act, pairs, bias):
    ws, xs = [w for w, _ in pairs], [x for _, x in pairs]
    node = dot([Value(w) for w in ws], [Value(x) for x in xs], Value(bias), act)
    assert node.data == act.forward(DOT.forward(bias, *ws, *xs))


@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(-3, 3)), min_size=1, max_size=6), st.floats(-3, 3))
def test_fused_relu_gradients_equal_two_nodes_bit_for_bit(pairs, bias):
    """One ReLU(dot) node gives exactly the gradients of a dot node followed by a ReLU node."""
    def build(fused: bool):
        ws, xs, b = [Value(w) for w, _ in pairs], [Value(x) for _, x in pairs], Value(bias)
        out = dot(ws, xs, b, relu) if fused else dot(ws, xs, b).relu()
        (out * 1.7).backward()
        return [bits(v.grad) for v in (b, *ws, *xs)], bits(out.data)

    assert build(True) == build(False)


# ---------------------------------------------------------------- dots(): a layer in one call
def _rows(rng: random.Random, n_rows: int, n_in: int) -> list[tuple[Value, ...]]:
    return [tuple(Value(rng.uniform(-1, 1)) for _ in range(n_in + 1)) for _ in range(n_rows)]


@pytest.mark.parametrize("act", [None, RELU, TANH, SIGMOID])
def test_dots_is_one_dot_per_row(act):
    rng = random.Random(1)
    rows, xs = _rows(rng, 5, 4), [Value(rng.uniform(-2, 2)) for _ in range(4)]
    outs = dots(rows, xs, act)
    singles = [dot(list(r[1:]), xs, r[0], act) for r in rows]
    assert [bits(o.data) for o in outs] == [bits(s.data) for s in singles]
    assert all(o._op == s._op and o._prev == s._prev for o, s in zip(outs, singles))
    every = [*{id(v): v for r in rows for v in r}.values(), *xs]
    for outputs in (outs, singles):
        assert [bits(g.data) for g in grad(outputs, every)] == [bits(g.data) for g in grad(singles, every)]


def test_dots_shares_one_inputs_tuple_and_keeps_row_tuples():
    rng = random.Random(2)
    rows, xs = _rows(rng, 3, 2), tuple(Value(rng.uniform(-1, 1)) for _ in range(2))
    outs = dots(rows, xs, RELU)
    assert all(o._inputs is xs for o in outs)  # type: ignore[attr-defined]
    assert all(o._params is r for o, r in zip(outs, rows))  # type: ignore[attr-defined]


def test_dots_accepts_numbers_and_lists_as_rows_and_inputs():
    w = Value(2.0)
    (a, b) = dots([[1.0, w], (0.5, 3)], [4.0])
    assert a.data == 1.0 + 2.0 * 4.0 and b.data == 0.5 + 3 * 4.0
    a.backward()
    assert w.grad == 4.0
    assert not b.requires_grad  # numbers only: a constant, nothing recorded
    assert dots([], [1.0]) == []


def test_dots_errors_name_the_problem():
    with pytest.raises(ValueError, match="dot: 1 weights for 2 inputs"):
        dots([(Value(0.0), Value(1.0))], [1.0, 2.0])
    with pytest.raises(ValueError, match="dot: 3 weights for 2 inputs"):
        dots([(0.0, 1.0, 2.0, 3.0)], [1.0, 2.0])
    with pytest.raises(ValueError, match="dot: 2 weights for 1 inputs"):
        dot([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="activation must be None, relu, tanh or sigmoid"):
        dots([(0.0, 1.0)], [1.0], engine.EXP)
    with pytest.raises(TypeError, match="real number"):
        dots([(0.0, "w")], [1.0])


def test_dots_records_nothing_under_no_grad():
    with engine.no_grad():
        out = dots([(Value(1.0), Value(2.0)), (Value(-1.0), Value(0.5))], [Value(3.0)], RELU)
    assert [o.data for o in out] == [7.0, 0.5]
    assert all(not o.requires_grad and o._prev == () for o in out)


def test_a_fresh_dot_node_holds_no_gradient_and_no_label():
    (out,) = dots([(Value(1.0), Value(2.0))], [Value(3.0)])
    assert out.grad == 0.0 and out.label == "" and out._op == "dot"


@pytest.mark.parametrize(("act", "op"), [(None, "dot"), (RELU, "ReLU(dot)"), (TANH, "tanh(dot)"),
                                         (SIGMOID, "sigmoid(dot)")])
def test_neuron_nodes_are_named_after_their_activation(act, op):
    assert dot([Value(1.0)], [Value(2.0)], Value(0.5), act)._op == op  # what a graph drawing shows


def test_constant_rows_on_inputs_that_require_grad_are_recorded():
    """Whether a node records depends on every parent: here only the second input needs a gradient."""
    x0, x1 = Value(2.0, requires_grad=False), Value(5.0)
    rows = [(Value(1.0, requires_grad=False), Value(3.0, requires_grad=False), Value(4.0, requires_grad=False))] * 2
    outs = dots(rows, [x0, x1])
    assert all(o.requires_grad for o in outs)
    outs[0].backward()
    assert x1.grad == 4.0 and x0.grad == 0.0


def test_dots_reads_rows_and_inputs_given_as_iterators_or_lists():
    w, x = Value(2.0), Value(3.0)
    (a,) = dots([(v for v in (Value(1.0), w))], iter([x]))  # a row and the inputs as iterators
    assert a.data == 7.0
    (b,) = dots(iter([[Value(0.5), w]]), [x])  # a list row of Values becomes a tuple
    assert b.data == 6.5 and type(b._params) is tuple  # type: ignore[attr-defined]
    b.backward()
    assert w.grad == 3.0 and x.grad == 2.0


# ---------------------------------------------------------------- flat nodes
def test_primitives_flat_at_zero_are_exactly_these():
    flat = {v for v in vars(engine).values() if isinstance(v, Primitive) and v.flat_at_zero}
    assert flat == {engine.RELU, engine.ABS, engine.DOT_RELU}


@given(st.floats(-1e6, 0.0) | st.just(-0.0))
def test_flat_primitives_have_zero_partials_where_their_output_is_zero(x):
    for prim in (engine.RELU, engine.ABS):
        if prim.forward(x) == 0.0:
            assert prim.partials(x, prim.forward(x)) == (0.0,)
    floats = (x, 1.0, 1.0)  # bias x + 1 * 1: the pre-activation is x + 1
    out = DOT_RELU.forward(*floats)
    if out == 0.0:
        assert all(d == 0.0 for d in DOT_RELU.partials(*floats, out))


def test_backward_does_not_walk_behind_a_dead_relu():
    x = Value(0.0)
    hidden = sqrt(x)  # its derivative at 0 is infinite: computing it would raise DomainError
    dead = (hidden - 1.0).relu()
    assert dead.data == 0.0
    assert engine._topo_order((dead,)) == [dead]  # nothing behind the flat node is even entered
    out = dead * 3.0 + x
    assert all(node is not hidden for node in engine._topo_order((out,)))
    out.backward()
    assert x.grad == 1.0  # only the live path x -> out
    (g,) = grad(out, x)
    assert g.data == 1.0


def test_a_dead_neuron_passes_no_nan_from_an_infinite_input():
    """0 times an infinite partial behind a flat node: micrograd leaves the gradient at 0 (documented)."""
    w, b = Value(-1.0), Value(0.0)
    x = Value(math.inf, requires_grad=False)
    dead = dot([w], [x], b, relu)  # -inf, then ReLU: 0
    assert dead.data == 0.0
    (dead * 2.0 + w).backward()
    assert w.grad == 1.0 and b.grad == 0.0  # only the live path; no NaN from 0 * inf


def test_a_live_relu_passes_its_gradient_and_a_flat_one_stops_it_in_create_graph_too():
    x = Value(2.0)
    live, dead = (x * x).relu(), (-x * x).relu()
    (g_live,) = grad(live, x, create_graph=True)
    (g_dead,) = grad(dead, x, create_graph=True)
    assert g_live.data == 4.0 and grad(g_live, x)[0].data == 2.0
    assert g_dead.data == 0.0 and grad(g_dead, x)[0].data == 0.0


# ---------------------------------------------------------------- Layer's one-call path
def _per_neuron(layer: nn.Layer, x: list[Value]) -> list[Value]:
    return [n(x) for n in layer.neurons]


_ACT = {"relu": RELU.forward, "tanh": math.tanh, "linear": lambda v: v,
        "leaky_relu": lambda v: v if v > 0 else 0.01 * v}


def _from_scratch(layer: nn.Layer, x: list[Value]) -> list[float]:
    """Each neuron's output computed from its current w, b and activation, by hand."""
    outs = []
    for n in layer.neurons:
        acc = 0.0 if n.b is None else n.b.data
        for w, v in zip(n.w, x):
            acc = acc + (w.data if isinstance(w, Value) else w) * v.data
        outs.append(_ACT[n.activation](acc))
    return outs


def _same(a: list[Value], b: list[Value]) -> bool:
    return [bits(v.data) for v in a] == [bits(v.data) for v in b]


def test_layer_in_one_call_equals_its_neurons_one_by_one():
    layer = nn.Layer(3, 4, rng=random.Random(0))
    x = [Value(v) for v in (0.5, -1.0, 2.0)]
    out, ref = layer(x), _per_neuron(layer, x)
    assert isinstance(out, list) and _same(out, ref)
    params = layer.parameters()
    assert [bits(g.data) for g in grad(out, params + x)] == [bits(g.data) for g in grad(ref, params + x)]


def test_layer_sees_every_change_to_its_neurons():
    layer = nn.Layer(2, 3, rng=random.Random(0))
    x = [Value(1.5), Value(-0.5)]
    n = layer.neurons[1]
    changes = [
        lambda: n.w.__setitem__(0, Value(9.0)),
        lambda: n.w.__setitem__(slice(0, 2), [Value(-1.0), Value(2.0)]),
        lambda: setattr(n, "w", [Value(0.25), Value(0.75)]),
        lambda: setattr(n, "b", Value(3.0)),
        lambda: n.w.reverse(),
        lambda: setattr(n, "activation", "tanh"),      # mixed activations: neuron by neuron
        lambda: setattr(n, "activation", "leaky_relu"),
        lambda: setattr(n, "activation", "relu"),
        lambda: setattr(n, "b", None),
        lambda: layer.neurons.__setitem__(2, nn.Neuron(2, nonlin=False, rng=random.Random(7))),
    ]
    assert [o.data for o in layer(x)] == _from_scratch(layer, x)
    for change in changes:
        change()
        out = layer(x)
        assert [o.data for o in out] == _from_scratch(layer, x) and _same(out, _per_neuron(layer, x))


def test_a_neuron_subclass_keeps_its_own_call():
    class Doubled(nn.Neuron):
        def __call__(self, x):
            return super().__call__(x) * 2.0

    layer = nn.Layer(2, 2, rng=random.Random(0))
    layer.neurons[0] = Doubled(2, rng=random.Random(3))
    x = [Value(1.0), Value(2.0)]
    out = layer(x)
    assert out[0].data == 2.0 * nn.Neuron.__call__(layer.neurons[0], x).data
    assert out[0]._op == "*2"


def test_neuron_weights_stay_a_list_through_copy_and_pickle():
    n = nn.Neuron(3, rng=random.Random(0))
    assert isinstance(n.w, list) and n.w == list(n.w) and len(n.w + [n.b]) == 4  # micrograd's own idiom
    for twin in (copy.deepcopy(n), pickle.loads(pickle.dumps(n))):
        assert [w.data for w in twin.w] == [w.data for w in n.w]
        twin.w[0] = Value(100.0)  # tells the copy, not the original
        x = [1.0, 0.0, 0.0]
        assert twin(x).data == 100.0 and n(x).data == max(n.w[0].data, 0.0)


def test_layer_takes_any_iterable_and_plain_numbers_and_names_a_wrong_length():
    layer = nn.Layer(3, 2, rng=random.Random(4))
    values = [0.5, -1.5, 2.0]
    expected = [o.data for o in layer([Value(v) for v in values])]
    assert [o.data for o in layer(iter(values))] == expected
    assert [o.data for o in layer(v for v in values)] == expected
    assert [o.data for o in layer(tuple(values))] == expected
    with pytest.raises(ValueError, match="dot: 3 weights for 2 inputs"):
        layer([1.0, 2.0])


def test_layer_with_plain_numbers_among_the_weights_still_computes():
    layer = nn.Layer(2, 2, rng=random.Random(5))
    layer.neurons[0].w[1] = 0.5  # type: ignore[call-overload]  # a number, not a Value: made a constant per call
    x = [Value(2.0), Value(3.0)]
    assert [o.data for o in layer(x)] == _from_scratch(layer, x)



# ---------------------------------------------------------------- a neuron's backward step
@pytest.mark.parametrize("act", [None, RELU, TANH, SIGMOID])
@given(data=st.data())
def test_neuron_backward_step_is_the_rule_bit_for_bit(act, data):
    """backward() runs a dot node's own loop; it must add exactly what the generic rule adds, in its order."""
    n = data.draw(st.integers(1, 5))
    pool_size = data.draw(st.integers(1, 2 * n + 1))  # fewer Values than slots: some appear twice
    start = data.draw(st.lists(st.floats(-5, 5), min_size=pool_size, max_size=pool_size))
    slots = data.draw(st.lists(st.integers(0, pool_size - 1), min_size=2 * n + 1, max_size=2 * n + 1))
    constant = data.draw(st.lists(st.booleans(), min_size=pool_size, max_size=pool_size))
    seed, g = data.draw(st.floats(-5, 5)), data.draw(st.floats(-3, 3).filter(lambda v: v != 0.0))

    def build():
        pool = [Value(v, requires_grad=not c) for v, c in zip(start, constant)]
        for k, p in enumerate(pool):
            p.grad = seed * (k + 1)  # leaves accumulate onto what they hold
        vals = [pool[i] for i in slots]
        node = dot(vals[1:n + 1], vals[n + 1:], vals[0], act)
        return pool, node

    pool, node = build()
    if not node.requires_grad or engine._is_flat(node):
        return
    node.backward(g)  # the dot node's own loop
    twin_pool, twin = build()
    parents = twin._prev
    for parent, d in zip(parents, engine._local_partials(twin, parents, False)):  # the rule, generically
        if parent.requires_grad:
            parent.grad += d * g
    assert [bits(p.grad) for p in pool] == [bits(p.grad) for p in twin_pool]


def test_a_layer_of_other_callables_calls_each_one():
    layer = nn.Layer(2, 2, rng=random.Random(0))
    x = [Value(1.0), Value(2.0)]
    layer(x)  # the one-call path, remembered
    layer.neurons[1] = lambda xs: xs[0] * xs[1]  # not a Neuron: no row to share
    out = layer(x)
    assert out[1].data == 2.0 and out[0].data == nn.Neuron.__call__(layer.neurons[0], x).data
    layer.neurons = []
    assert layer(x) == []
