"""The neuron fast path: fused dot+activation nodes (micrograd.fused), and `Layer`'s one-call path.

Every shortcut is held to the slow, obvious computation it replaces, bit for bit: a fused node to
the dot rule followed by the activation's rule; `dots` to one `dot` per row; a dot node's own
chain step to the generic `Primitive.chain`; a layer's one call (with its row cache) to every
neuron computed from scratch by hand, after every kind of change a user can make.
"""

from __future__ import annotations

import copy
import math
import pickle
import random
from typing import Any

import pytest
from floats import bits
from hypothesis import example, given, settings
from hypothesis import strategies as st

from micrograd import Value, dot, dots, grad, nn, no_grad, primitives, sqrt
from micrograd.engine import topological_order
from micrograd.fused import DOT, DOT_RELU, DOT_SIGMOID, DOT_TANH
from micrograd.primitives import EXP, RELU, SIGMOID, TANH, Primitive, primitive_of

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
EDGE = st.sampled_from([0.0, -0.0, 5e-324, -5e-324, math.inf, -math.inf, math.nan, 1e308, -1e308])
ACTS = [None, "relu", "tanh", "sigmoid"]


# ---------------------------------------------------------------- fused forward
@given(st.lists(st.tuples(ANY_FLOAT | EDGE, ANY_FLOAT | EDGE), max_size=6), ANY_FLOAT | EDGE)
@example(pairs=[], bias=-0.0)  # ReLU(-0.0) is +0.0
@example(pairs=[(0.0, -1.0)], bias=-0.0)
@example(pairs=[(math.nan, 1.0)], bias=0.0)  # NaN stays NaN through the inline ReLU
def test_fused_relu_forward_is_relu_of_the_dot_bit_for_bit(pairs, bias):
    ws, xs = [w for w, _ in pairs], [x for _, x in pairs]
    floats = [bias, *ws, *xs]
    expected = RELU.forward(DOT.forward(*floats))
    node = dot([Value(w) for w in ws], [Value(x) for x in xs], Value(bias), "relu")
    assert bits(node.data) == bits(expected)  # dot_nodes inlines ReLU's forward: it must stay the same function
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
        out = dot(ws, xs, b, "relu") if fused else dot(ws, xs, b).relu()
        (out * 1.7).backward()
        return [bits(v.grad) for v in (b, *ws, *xs)], bits(out.data)

    assert build(True) == build(False)


# ---------------------------------------------------------------- dots(): a layer in one call
def _rows(rng: random.Random, n_rows: int, n_in: int) -> list[tuple[Value, ...]]:
    return [tuple(Value(rng.uniform(-1, 1)) for _ in range(n_in + 1)) for _ in range(n_rows)]


@pytest.mark.parametrize("act", ACTS)
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


def test_activation_names_and_primitives_mean_the_same():
    rows, xs = _rows(random.Random(3), 2, 3), [Value(0.5), Value(-1.0), Value(2.0)]
    for name, prim in [("linear", None), ("relu", RELU), ("tanh", TANH), ("sigmoid", SIGMOID)]:
        a, b = dots(rows, xs, name), dots(rows, xs, prim)
        assert [(o._op, bits(o.data)) for o in a] == [(o._op, bits(o.data)) for o in b]


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
    with pytest.raises(ValueError, match="activation must be linear, relu, tanh or sigmoid"):
        dots([(0.0, 1.0)], [1.0], EXP)
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        dots([(0.0, 1.0)], [1.0], "gelu")
    with pytest.raises(TypeError, match="real number"):
        dots([(0.0, "w")], [1.0])


def test_dots_records_nothing_under_no_grad():
    with no_grad():
        out = dots([(Value(1.0), Value(2.0)), (Value(-1.0), Value(0.5))], [Value(3.0)], "relu")
    assert [o.data for o in out] == [7.0, 0.5]
    assert all(not o.requires_grad and o._prev == () for o in out)


def test_a_fresh_dot_node_holds_no_gradient_and_no_label():
    (out,) = dots([(Value(1.0), Value(2.0))], [Value(3.0)])
    assert out.grad == 0.0 and out.label == "" and out._op == "dot"


@pytest.mark.parametrize(("act", "op"), [(None, "dot"), ("relu", "ReLU(dot)"), ("tanh", "tanh(dot)"),
                                         ("sigmoid", "sigmoid(dot)")])
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
    (b,) = dots(iter([[Value(0.5), w]]), [x])
    assert b.data == 6.5
    b.backward()
    assert w.grad == 3.0 and x.grad == 2.0


# ---------------------------------------------------------------- flat nodes
def test_the_flat_rules_are_relu_and_the_relu_neuron():
    rules = [v for v in vars(primitives).values() if isinstance(v, Primitive)]
    rules += [DOT, DOT_RELU, DOT_TANH, DOT_SIGMOID]
    assert {r.name for r in rules if r.flat_at_zero} == {"ReLU", "ReLU(dot)"}


@given(st.floats(-1e6, 0.0) | st.just(-0.0))
def test_flat_rules_have_zero_partials_where_their_output_is_zero(x):
    if RELU.forward(x) == 0.0:
        assert RELU.partials(x, RELU.forward(x)) == (0.0,)
    floats = (x, 1.0, 1.0)  # bias x + 1 * 1: the pre-activation is x + 1
    out = DOT_RELU.forward(*floats)
    if out == 0.0:
        assert all(d == 0.0 for d in DOT_RELU.partials(*floats, out))


def test_backward_does_not_walk_behind_a_dead_relu():
    x = Value(0.0)
    hidden = sqrt(x)  # its derivative at 0 is infinite: 0 * inf would be nan if it were walked
    dead = (hidden - 1.0).relu()
    assert dead.data == 0.0
    assert topological_order((dead,)) == []  # nothing behind the flat node is entered, nor the node itself
    out = dead * 3.0 + x
    assert all(node is not hidden for node in topological_order((out,)))
    out.backward()
    assert x.grad == 1.0  # only the live path x -> out
    (g,) = grad(out, x)
    assert g.data == 1.0


def test_a_dead_neuron_passes_no_nan_from_an_infinite_input():
    """A ReLU whose output is 0 passes nothing back (PyTorch's threshold_backward), not 0 * inf."""
    w, b = Value(-1.0), Value(0.0)
    x = Value(math.inf, requires_grad=False)
    dead = dot([w], [x], b, "relu")  # -inf, then ReLU: 0
    assert dead.data == 0.0
    (dead * 2.0 + w).backward()
    assert w.grad == 1.0 and b.grad == 0.0


def test_a_live_relu_passes_its_gradient_and_a_flat_one_stops_it_in_create_graph_too():
    x = Value(2.0)
    live, dead = (x * x).relu(), (-x * x).relu()
    (g_live,) = grad(live, x, create_graph=True)
    (g_dead,) = grad(dead, x, create_graph=True)
    assert g_live.data == 4.0 and grad(g_live, x)[0].data == 2.0
    assert g_dead.data == 0.0 and grad(g_dead, x)[0].data == 0.0


# ---------------------------------------------------------------- a neuron's chain step
@pytest.mark.parametrize("act", ACTS)
@given(data=st.data())
def test_neuron_chain_step_is_the_generic_rule_bit_for_bit(act, data):
    """backward() runs a dot node's own loop (DotRule.chain); it must add exactly what the generic
    Primitive.chain adds from the rule's partials, in the same order, also when Values repeat."""
    n = data.draw(st.integers(1, 5))
    pool_size = data.draw(st.integers(1, 2 * n + 1))  # fewer Values than slots: some appear twice
    start = data.draw(st.lists(st.floats(-5, 5), min_size=pool_size, max_size=pool_size))
    slots = data.draw(st.lists(st.integers(0, pool_size - 1), min_size=2 * n + 1, max_size=2 * n + 1))
    constant = data.draw(st.lists(st.booleans(), min_size=pool_size, max_size=pool_size))
    seed, g = data.draw(st.floats(-5, 5)), data.draw(st.floats(-3, 3).filter(lambda v: v != 0.0))

    def build():
        pool = [Value(v, requires_grad=not c) for v, c in zip(start, constant)]
        vals = [pool[i] for i in slots]
        return pool, dot(vals[1:n + 1], vals[n + 1:], vals[0], act)

    pool, node = build()
    if not node.requires_grad:
        return
    rule = primitive_of(node)
    assert rule is not None
    for k, p in enumerate(pool):
        p.grad = seed * (k + 1)  # gradients already there
    node.grad = g
    rule.chain(node, False)
    twin_pool, twin = build()
    for k, p in enumerate(twin_pool):
        p.grad = seed * (k + 1)
    twin.grad = g
    Primitive.chain(rule, twin, False)
    assert [bits(p.grad) for p in pool] == [bits(p.grad) for p in twin_pool]


# ---------------------------------------------------------------- Layer's one-call path
_ACT = {"relu": lambda v: 0.0 if v < 0 else v,  # micrograd's relu: -0.0 and nan pass through
        "tanh": math.tanh, "linear": lambda v: v,
        "sigmoid": lambda v: 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))}


def _from_scratch(layer: nn.Layer, x: list[Value]) -> list[float]:
    """Each neuron's output computed by hand from its current w, b and activation: micrograd's
    left-to-right sum b + w_0 x_0 + w_1 x_1 + ..., then the activation's formula."""
    outs = []
    for n in layer.neurons:
        acc = 0.0 if n.b is None else n.b.data
        for w, v in zip(n.w, x):
            acc = acc + (w.data if isinstance(w, Value) else w) * v.data
        if n.activation == "leaky_relu":
            outs.append(acc if acc > 0 else n.negative_slope * acc)
        else:
            outs.append(_ACT[n.activation](acc))
    return outs


def _outputs(layer: nn.Layer, x: list[Value]) -> list[Value]:
    out = layer(x)
    return out if isinstance(out, list) else [out]


def _by_neuron(layer: nn.Layer, x: list[Value]) -> list[Value]:
    return [nn.Neuron.__call__(n, x) for n in layer.neurons]


def _check(layer: nn.Layer, x: list[Value]) -> None:
    """The layer's outputs equal every neuron recomputed from scratch, and its gradients equal those of
    the neurons called one by one (a separate code path without the cache)."""
    out = _outputs(layer, x)
    assert [bits(o.data) for o in out] == [bits(v) for v in _from_scratch(layer, x)]
    ref = _by_neuron(layer, x)
    params = [p for n in layer.neurons for p in n.parameters() if isinstance(p, Value)]
    assert [bits(g.data) for g in grad(out, params + x)] == [bits(g.data) for g in grad(ref, params + x)]


def test_layer_in_one_call_equals_its_neurons_one_by_one():
    layer = nn.Layer(3, 4, rng=random.Random(0))
    x = [Value(v) for v in (0.5, -1.0, 2.0)]
    out = layer(x)
    assert isinstance(out, list) and len({o._prev[len(o._prev) - 3:] for o in out}) == 1  # one inputs tuple
    _check(layer, x)


def _changes(layer: nn.Layer) -> list[tuple[str, Any]]:
    """Every kind of change to a layer's neurons, each keeping the layer 2 inputs wide."""
    n = layer.neurons[min(1, len(layer.neurons) - 1)]

    def every(name: str, value: Any) -> None:
        for m in layer.neurons:
            setattr(m, name, value)

    def bias_data() -> None:
        if n.b is not None:
            n.b.data = -30.0

    def weight_data() -> None:
        if isinstance(n.w[1], Value):
            n.w[1].data = -4.0

    return [
        ("w[i] = Value", lambda: n.w.__setitem__(0, Value(9.0))),
        ("w[i].data = x", weight_data),
        ("w[a:b] = [...]", lambda: n.w.__setitem__(slice(0, 2), [Value(-1.0), Value(2.0)])),
        ("w = new list", lambda: setattr(n, "w", [Value(0.25), Value(0.75)])),
        ("b = Value", lambda: setattr(n, "b", Value(3.0))),
        ("b.data = x", bias_data),
        ("w.reverse()", lambda: n.w.reverse()),
        ("w.sort()", lambda: n.w.sort(key=lambda v: v.data if isinstance(v, Value) else v)),
        ("w.append, w.pop(0)", lambda: (n.w.append(Value(5.0)), n.w.pop(0))),
        ("w.insert, del w[-1]", lambda: (n.w.insert(0, Value(-6.0)), n.w.__delitem__(-1))),
        ("w.remove, w.extend", lambda: (n.w.remove(n.w[0]), n.w.extend([Value(7.0)]))),
        ("w += [...], w.clear, w *= 2", lambda: (n.w.clear(), n.w.__iadd__([Value(0.5)]), n.w.__imul__(2))),
        ("w[i] = a number", lambda: n.w.__setitem__(1, 0.5)),
        ("b = None", lambda: setattr(n, "b", None)),
        ("b back", lambda: setattr(n, "b", Value(0.125))),
        ("one activation tanh", lambda: setattr(n, "activation", "tanh")),
        ("one activation leaky_relu", lambda: setattr(n, "activation", "leaky_relu")),
        ("all leaky_relu", lambda: every("activation", "leaky_relu")),
        ("negative_slope", lambda: setattr(n, "negative_slope", 0.5)),
        ("all sigmoid", lambda: every("activation", "sigmoid")),
        ("nonlin = False everywhere", lambda: every("nonlin", False)),
        ("nonlin = True everywhere", lambda: every("nonlin", True)),
        ("two neurons share one w", lambda: setattr(layer.neurons[0], "w", n.w)),
        ("the shared w changes", lambda: n.w.__setitem__(0, Value(-2.5))),
        ("neurons[i] = other", lambda: layer.neurons.__setitem__(-1, nn.Neuron(2, nonlin=False,
                                                                                rng=random.Random(7)))),
        ("neurons.reverse()", lambda: layer.neurons.reverse()),
        ("neurons.append", lambda: layer.neurons.append(nn.Neuron(2, rng=random.Random(8)))),
        ("neurons = fewer", lambda: setattr(layer, "neurons", layer.neurons[:max(1, len(layer.neurons) - 1)])),
    ]


def test_layer_sees_every_kind_of_change_to_its_neurons():
    layer = nn.Layer(2, 3, rng=random.Random(0))
    x = [Value(1.5), Value(-0.5)]
    _check(layer, x)
    for name, change in _changes(layer):
        change()
        try:
            _check(layer, x)
        except AssertionError as e:  # pragma: no cover - names the change in the failure
            raise AssertionError(f"after {name}: {e}") from e


N_CHANGES = len(_changes(nn.Layer(2, 3)))
OPS = st.tuples(st.sampled_from(["call", "change", "grow", "shrink", "activation", "all"]),
                st.integers(0, 3 * N_CHANGES), st.sampled_from(list(nn.ACTIVATIONS)))


@settings(max_examples=200)
@given(st.lists(OPS, min_size=8, max_size=24), st.lists(st.floats(-3, 3), min_size=2, max_size=2))
@example(ops=[("grow", 1, ""), ("activation", 2, "tanh"), ("call", 0, ""), ("activation", 2, "relu")], xs=[1.0, 2.0])
def test_layer_after_any_sequence_of_changes_equals_a_recomputation(ops, xs):
    """Random sequences of the changes above, of neurons growing and shrinking and of activations
    changing, with calls in between: at each call (and at the end) the layer equals a
    recomputation, or names the size mismatch if a neuron no longer takes 2 inputs."""
    layer = nn.Layer(2, 3, rng=random.Random(1))
    x = [Value(v) for v in xs]

    def call() -> None:
        if {len(m.w) for m in layer.neurons} == {2}:
            _check(layer, x)
        else:
            with pytest.raises(ValueError, match="weights for 2 inputs"):
                layer(x)

    call()
    for op in ops:
        n = layer.neurons[op[1] % len(layer.neurons)]
        if op[0] == "call":
            call()
        elif op[0] == "change":
            if {len(m.w) for m in layer.neurons} == {2}:  # the changes are written for 2-input neurons
                _changes(layer)[op[1] % N_CHANGES][1]()
        elif op[0] == "grow":
            n.w.append(Value(0.25 * op[1]))
        elif op[0] == "shrink" and len(n.w) > 1:
            n.w.pop()
        elif op[0] == "activation":
            n.activation = op[2]
        elif op[0] == "all":
            for m in layer.neurons:
                m.activation = op[2]
    call()


def test_a_neuron_that_changes_size_is_named_and_then_works_again():
    layer = nn.Layer(2, 3, rng=random.Random(0))
    x = [Value(1.0), Value(2.0)]
    layer(x)
    layer.neurons[1].w.append(Value(1.0))
    with pytest.raises(ValueError, match="dot: 3 weights for 2 inputs"):
        layer(x)
    layer.neurons[1].w.pop()
    _check(layer, x)
    for n in layer.neurons:
        n.w.append(Value(0.5))  # every neuron now takes 3 inputs
    with pytest.raises(ValueError, match="dot: 3 weights for 2 inputs"):
        layer(x)
    _check(layer, x + [Value(-1.0)])


def test_a_size_change_seen_during_a_neuron_by_neuron_call_is_not_forgotten():
    """A change noticed by a call that then went neuron by neuron (mixed activations) must still
    stop the one-call path later: a longer row would otherwise be cut silently to the inputs."""
    layer = nn.Layer(2, 3, rng=random.Random(0))
    x = [Value(1.0), Value(2.0)]
    layer(x)
    layer.neurons[1].w.append(Value(1.0))
    layer.neurons[2].activation = "tanh"
    with pytest.raises(ValueError, match="dot: 3 weights for 2 inputs"):
        layer(x)
    layer.neurons[2].activation = "relu"
    with pytest.raises(ValueError, match="dot: 3 weights for 2 inputs"):
        layer(x)
    layer.neurons[1].w.pop()
    _check(layer, x)


def test_neuron_is_plain_like_micrograd():
    n = nn.Neuron(3, rng=random.Random(0))
    assert type(n.w) is list and type(n.b) is Value
    assert {"w", "b"} <= set(vars(n))  # plain attributes, no properties or list subclass in between
    assert n.parameters() == n.w + [n.b]  # micrograd's own idiom
    x = [1.0, 2.0, 3.0]
    n.w[0] = Value(100.0)
    assert n(x).data == max(100.0 + n.w[1].data * 2.0 + n.w[2].data * 3.0, 0.0)
    n.w = [Value(1.0), Value(1.0), Value(1.0)]
    n.b = Value(-5.0)
    assert n(x).data == 1.0


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


def test_copies_and_pickles_of_neurons_and_layers_are_independent():
    layer = nn.Layer(3, 2, rng=random.Random(0))
    x = [1.0, 0.0, 0.0]
    before = [o.data for o in layer(x)]
    for twin in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        n = twin.neurons[0]
        assert type(n.w) is list and [w.data for w in n.w] == [w.data for w in layer.neurons[0].w]
        n.w[0] = Value(100.0)  # changes the copy, not the original
        assert twin(x)[0].data == 100.0
        assert [o.data for o in layer(x)] == before


def test_layer_takes_any_iterable_and_plain_numbers_and_names_a_wrong_length():
    layer = nn.Layer(3, 2, rng=random.Random(4))
    values = [0.5, -1.5, 2.0]
    expected = [o.data for o in layer([Value(v) for v in values])]
    assert [o.data for o in layer(iter(values))] == expected
    assert [o.data for o in layer(v for v in values)] == expected
    assert [o.data for o in layer(tuple(values))] == expected
    with pytest.raises(ValueError, match="dot: 3 weights for 2 inputs"):
        layer([1.0, 2.0])


def test_layer_converts_float_inputs_once_for_all_neurons():
    for layer in (nn.Layer(3, 4, nonlin=False, rng=random.Random(0)),
                  nn.Layer(3, 4, activation="leaky_relu", rng=random.Random(0))):
        layer.neurons[1].activation = "tanh"  # mixed: the neuron-by-neuron path
        for _ in range(2):
            outs = layer([1.0, 2.0, 3.0])
            dots_ = [o if "dot" in o._op else o._prev[0] for o in outs]
            constants = [{id(p) for p in d._prev if not p.requires_grad} for d in dots_]
            assert len(constants[0]) == 3 and all(c == constants[0] for c in constants)
            layer.neurons[1].activation = layer.neurons[0].activation  # and then the one-call path


def test_a_layer_of_other_callables_calls_each_one():
    layer = nn.Layer(2, 2, rng=random.Random(0))
    x = [Value(1.0), Value(2.0)]
    layer(x)  # the one-call path, remembered
    layer.neurons[1] = lambda xs: xs[0] * xs[1]  # not a Neuron: no row to share
    out = layer(x)
    assert out[1].data == 2.0 and out[0].data == nn.Neuron.__call__(layer.neurons[0], x).data
    layer.neurons = []
    assert layer(x) == []


@pytest.mark.parametrize("activation", list(nn.ACTIVATIONS))
def test_nan_input_gives_nan_output_through_neuron_layer_and_mlp(activation):
    """NaN never becomes a number: not through the inline ReLU, not through a dead unit (issue 12)."""
    rng = random.Random(2)
    neuron = nn.Neuron(2, activation=activation, rng=rng)
    neuron.b.data = -100.0  # a dead ReLU unit for any ordinary input: still nan for a nan input
    assert math.isnan(neuron([math.nan, 1.0]).data)
    layer = nn.Layer(2, 3, activation=activation, rng=rng)
    assert all(math.isnan(o.data) for o in layer([1.0, math.nan]))
    model = nn.MLP(2, [4, 4, 2], activation=activation, output_activation=activation, rng=rng)
    assert all(math.isnan(o.data) for o in model([math.nan, 0.0]))
    model.layers[0].neurons[0].w[0].data = math.nan  # a nan weight reaches every output
    assert all(math.isnan(o.data) for o in model([1.0, 1.0]))


def test_layer_sees_a_new_slope_and_a_neuron_of_another_class_with_the_same_weights():
    """What the layer compares between calls includes each neuron's slope and class, not only
    its weights: a leaky slope changed, or a neuron swapped for a subclass instance holding
    the very same w and b, must show in the next call."""
    layer = nn.Layer(1, 2, activation="leaky_relu", negative_slope=0.1, rng=random.Random(0))
    for n in layer.neurons:
        n.w, n.b = [Value(1.0)], Value(0.0)
    x = [Value(-2.0)]  # every pre-activation is -2: the slope decides the output
    assert [o.data for o in layer(x)] == [-0.2, -0.2]
    layer.neurons[1].negative_slope = 0.5
    assert [o.data for o in layer(x)] == [-0.2, -1.0]

    class Doubled(nn.Neuron):
        def __call__(self, x):  # type: ignore[no-untyped-def]
            return super().__call__(x) * 2

    twin = Doubled(1, activation="leaky_relu", negative_slope=0.1)
    twin.w, twin.b = layer.neurons[0].w, layer.neurons[0].b  # the same objects as the neuron it replaces
    layer.neurons[0] = twin
    assert [o.data for o in layer(x)] == [-0.4, -1.0]


def test_a_new_bias_is_seen_even_if_it_claims_to_equal_the_old_one():
    """The layer tells biases apart by identity, as the neuron does: a Value subclass whose ``==``
    answers with a truthy Value (as tensor libraries do) must not pass for the bias it replaces."""

    class Elementwise(Value):
        __slots__ = ()
        __hash__ = Value.__hash__

        def __eq__(self, other: object) -> Value:  # type: ignore[override]
            return Value(1.0)

    layer = nn.Layer(2, 3, rng=random.Random(0))
    x = [Value(0.5), Value(-1.5)]
    layer(x)
    layer.neurons[0].b = Elementwise(5.0)
    assert [o.data for o in layer(x)] == [nn.Neuron.__call__(n, x).data for n in layer.neurons]


@pytest.mark.parametrize("change", ["slope", "bias", "weight"])
def test_a_number_changed_to_an_equal_one_of_another_sign_is_seen(change: str):
    """0.0 == -0.0, but they are different numbers (bit patterns, and -0.0 * -1 is 0.0 not -0.0):
    a layer must not mistake one for the other when a slope, a bias or a weight given as a
    number changes sign at zero.  The neuron computed on its own is the reference."""
    layer = nn.Layer(1, 1, activation="leaky_relu" if change == "slope" else "linear")
    n = layer.neurons[0]
    if change == "slope":
        n.w, n.b, n.negative_slope, x = [Value(1.0)], Value(0.0), -0.0, [-1.0]
    elif change == "bias":
        n.w, n.b, x = [Value(-0.0)], 0.0, [1.0]
    else:
        n.w, n.b, x = [0.0], Value(-0.0), [1.0]
    layer(x)
    if change == "slope":
        n.negative_slope = 0.0
    elif change == "bias":
        n.b = -0.0
    else:
        n.w[0] = -0.0
    assert bits(layer(x).data) == bits(nn.Neuron.__call__(n, x).data)


def test_a_layer_whose_w_becomes_an_array_or_holds_numbers_still_equals_its_neurons():
    """A w that is no list (a numpy array, which cannot be compared with one) or that holds numbers
    is never taken for unchanged: each call equals the neurons computed on their own."""
    import numpy as np  # in the test extra
    layer = nn.Layer(2, 2, rng=random.Random(0))
    x = [Value(0.5), Value(-1.5)]
    layer(x)  # a plan is remembered for the list weights
    for n in layer.neurons:
        n.w = np.array(n.w, dtype=object)
    for _ in range(2):
        assert [o.data for o in layer(x)] == [nn.Neuron.__call__(n, x).data for n in layer.neurons]
    layer.neurons[0].w = [2.0, Value(1.0)]
    for k in range(2):
        layer.neurons[0].w[0] = float(k)
        assert [o.data for o in layer(x)] == [nn.Neuron.__call__(n, x).data for n in layer.neurons]
