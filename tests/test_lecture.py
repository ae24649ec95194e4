"""The micrograd lecture's protocol: ``Value(data, _children, _op, label)``, ``_backward()`` per node,
and nodes made the lecture's way (a closure) honoured by ``backward()``.

The numbers are the lecture's neuron: o = tanh(x1*w1 + x2*w2 + b) with b chosen so that
n = 0.8813735870195432 and o = tanh(n) = 1/sqrt(2); closed form: do/dn = 1 - o**2 = 0.5.
"""

from __future__ import annotations

import math

import pytest

from micrograd import Primitive, Value, grad

B = 6.8813735870195432


def lecture_neuron() -> tuple[Value, ...]:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(B, label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    return x1, x2, w1, w2, b, x1w1, x2w2, s, n, o


def expected() -> dict[str, float]:
    dn = 1 - math.tanh(2.0 * -3.0 + 0.0 * 1.0 + B) ** 2  # closed form, ~0.5
    return {"x1": -3.0 * dn, "w1": 2.0 * dn, "x2": 1.0 * dn, "w2": 0.0 * dn, "b": dn}


def check(x1: Value, x2: Value, w1: Value, w2: Value, b: Value) -> None:
    want = expected()
    got = {"x1": x1.grad, "w1": w1.grad, "x2": x2.grad, "w2": w2.grad, "b": b.grad}
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert (round(x1.grad, 6), round(w1.grad, 6), round(x2.grad, 6), round(w2.grad, 6), round(b.grad, 6)) == (
        -1.5, 1.0, 0.5, 0.0, 0.5)


def test_constructor_is_micrographs_positionally() -> None:
    a = Value(2.0)
    c = Value(5.0, (a,), "magic", "c")
    assert (c.data, c._prev, c._op, c.label) == (5.0, (a,), "magic", "c")
    assert Value(1.0)._prev == () and Value(1.0)._op == ""


def test_backward_on_the_lecture_neuron() -> None:
    x1, x2, w1, w2, b, *_, o = lecture_neuron()
    assert o.data == pytest.approx(1 / math.sqrt(2), rel=1e-15)
    o.backward()
    check(x1, x2, w1, w2, b)


def test_manual_walk_with_backward_steps() -> None:
    """The lecture's manual backward: o.grad = 1, then each node's _backward() from the top."""
    x1, x2, w1, w2, b, x1w1, x2w2, s, n, o = lecture_neuron()
    o.grad = 1.0
    for node in (o, n, s, x1w1, x2w2, b, x1, x2, w1, w2):  # leaves' _backward() is a no-op
        node._backward()
    check(x1, x2, w1, w2, b)
    assert n.grad == pytest.approx(0.5) and s.grad == pytest.approx(0.5)


def lecture_tanh(x: Value) -> Value:
    """tanh the lecture's way: the node, then a closure that adds into the parent's grad."""
    t = (math.exp(2 * x.data) - 1) / (math.exp(2 * x.data) + 1)
    out = Value(t, (x,), "tanh")

    def _backward() -> None:
        x.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def lecture_mul(a: Value, b: Value) -> Value:
    out = Value(a.data * b.data, (a, b), "*")

    def _backward() -> None:
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    out._backward = _backward
    return out


def test_node_made_the_lectures_way_is_honoured_by_backward() -> None:
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(B)
    o = lecture_tanh(lecture_mul(x1, w1) + lecture_mul(x2, w2) + b)
    assert o._op == "tanh"
    o.backward()
    check(x1, x2, w1, w2, b)
    o.backward()  # a second pass adds exactly the same again, like any node
    assert b.grad == pytest.approx(2 * expected()["b"])


def test_lecture_node_with_a_repeated_parent() -> None:
    x = Value(3.0)
    y = lecture_mul(x, x)  # x*x: both closure lines add into x
    (y + x).backward()
    assert x.grad == 7.0  # 2x + 1


def test_lecture_node_and_its_parents_are_left_as_they_were_in_grad_mode() -> None:
    x = Value(3.0)
    y = lecture_mul(x, Value(2.0))
    x.grad = 5.0
    with pytest.raises(TypeError, match="Primitive"):
        grad(y, x)
    assert x.grad == 5.0 and y.grad == 0.0


def test_grad_refuses_closures_pointing_to_primitive() -> None:
    x = Value(0.5)
    y = lecture_tanh(x) * 2
    with pytest.raises(TypeError, match=r"micrograd\.Primitive"):
        grad(y, x)


def test_the_same_op_as_a_primitive_works_in_grad() -> None:
    tanh = Primitive("tanh", math.tanh, lambda x, out: (1 - out * out,))
    x = Value(0.5)
    (g,) = grad(tanh(x), x, create_graph=True)
    (gg,) = grad(g, x)
    t = math.tanh(0.5)
    assert g.data == pytest.approx(1 - t * t) and gg.data == pytest.approx(-2 * t * (1 - t * t))


def test_overriding_backward_of_an_engine_node() -> None:
    x = Value(2.0)
    y = x * 3
    calls = []
    y._backward = lambda: calls.append(y.grad)
    y.backward()
    assert calls == [1.0] and x.grad == 0.0  # the user's closure replaced the rule's step
