"""The engine core: semantics, compatibility, deep graphs, threads, memory, bad input, numerics.

Derivative rules are property-tested against finite differences and oracles in
test_engine_properties.py; here each expectation comes from a closed form.
"""

from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import tarfile
import threading
import weakref
from fractions import Fraction
from pathlib import Path

import pytest

import micrograd
from micrograd import DomainError, Primitive, Value, dot, fused, grad, no_grad, vsum
from micrograd import engine as engine_module


def test_public_import_paths_are_one_class() -> None:
    assert micrograd.Value is engine_module.Value


# ----------------------------------------------------------------- micrograd compatibility
def test_karpathy_sanity_check_values_match_closed_form() -> None:
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    # z = 3x + 2 = -10; q = relu(z) + z x = 40; h = z^2 = 100; y = h + q + q x = -20
    assert y.data == -20.0
    # dy/dx = dh/dx + (1 + x) dq/dx + q, with dq/dx = z + 3x (relu is off), dh/dx = 2 z * 3
    dq = -10.0 + 3 * -4.0
    assert x.grad == 2 * -10.0 * 3 + (1 + -4.0) * dq + 40.0


def _fetch_upstream_sdist(tmp: Path) -> Path:
    """Download micrograd 0.1.0's sdist from PyPI at test time (never vendored)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--no-build-isolation",
           "micrograd==0.1.0", "-d", str(tmp), "-q"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    archives = list(tmp.glob("micrograd-0.1.0.tar.gz"))
    if done.returncode != 0 or not archives:
        if os.environ.get("CI"):
            pytest.fail(f"could not download micrograd 0.1.0 in CI: {done.stderr[-500:]}")
        pytest.skip("micrograd 0.1.0 sdist not downloadable here")
    return archives[0]


def test_upstream_micrograd_test_suite_passes_unchanged(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    archive = _fetch_upstream_sdist(tmp_path)
    with tarfile.open(archive) as tar:
        member = tar.getmember("micrograd-0.1.0/test/test_engine.py")
        source = tar.extractfile(member)
        assert source is not None
        test_file = tmp_path / "test_upstream_engine.py"
        test_file.write_bytes(source.read())
    # run in a clean directory so `micrograd` resolves to this package, not the sdist's
    env = {**os.environ, "PYTHONPATH": str(Path(micrograd.__file__).parent.parent)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_micrograd_attributes() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a * b
    assert (c.data, c.grad, c._op) == (6.0, 0, "*")
    assert c._prev == (a, b)
    assert a._op == "" and a._prev == ()
    assert repr(c) == "Value(data=6.0, grad=0.0)"
    assert (a ** 2)._op == "**2"


# ----------------------------------------------------------------- construction
@pytest.mark.parametrize("good, expected", [(3, 3.0), (2.5, 2.5), (True, 1.0), (Fraction(1, 4), 0.25)])
def test_value_accepts_real_numbers(good: object, expected: float) -> None:
    v = Value(good)
    assert v.data == expected and type(v.data) is float


def test_value_accepts_numpy_scalars() -> None:
    np = pytest.importorskip("numpy")
    assert Value(np.float32(0.5)).data == 0.5
    assert Value(np.int64(7)).data == 7.0


@pytest.mark.parametrize("bad, name", [("abc", "str"), (None, "NoneType"), ([1], "list"), (1j, "complex"),
                                       (b"1", "bytes"), ({}, "dict")])
def test_value_rejects_non_numbers_naming_the_type(bad: object, name: str) -> None:
    with pytest.raises(TypeError, match=name):
        Value(bad)
    with pytest.raises(TypeError, match=name):
        Value(1.0) + bad  # type: ignore[operator]


def test_label_is_kept() -> None:
    assert Value(1.0, label="x").label == "x"
    assert "label='x'" in repr(Value(1.0, label="x"))


# ----------------------------------------------------------------- operators, closed forms
def test_operators_with_numbers_on_either_side() -> None:
    x = Value(3.0)
    cases = {
        "x+2": (x + 2, 5.0, 1.0), "2+x": (2 + x, 5.0, 1.0), "x-2": (x - 2, 1.0, 1.0), "2-x": (2 - x, -1.0, -1.0),
        "x*2": (x * 2, 6.0, 2.0), "2*x": (2 * x, 6.0, 2.0), "x/2": (x / 2, 1.5, 0.5), "2/x": (2 / x, 2 / 3, -2 / 9),
        "x**2": (x ** 2, 9.0, 6.0), "2**x": (2 ** x, 8.0, 8.0 * math.log(2)), "-x": (-x, -3.0, -1.0),
    }
    for name, (y, value, slope) in cases.items():
        (g,) = grad(y, x)
        assert y.data == pytest.approx(value, rel=1e-15), name
        assert g.data == pytest.approx(slope, rel=1e-15), name


def test_value_to_the_value() -> None:
    a, b = Value(2.0), Value(3.0)
    y = a ** b
    y.backward()
    assert y.data == 8.0
    assert a.grad == pytest.approx(3 * 2.0 ** 2) and b.grad == pytest.approx(8.0 * math.log(2.0))


def test_division_is_exact_ieee_division() -> None:
    # a / b computed as one correctly rounded division, not a * (1/b)
    assert (Value(0.1) / Value(3.0)).data == 0.1 / 3.0
    assert (Value(1.0) / 49).data == 1.0 / 49


@pytest.mark.parametrize("method, x, value, slope", [
    ("exp", 0.5, math.exp(0.5), math.exp(0.5)),
    ("log", 2.0, math.log(2.0), 0.5),
    ("tanh", 0.3, math.tanh(0.3), 1 - math.tanh(0.3) ** 2),
    ("sigmoid", 0.3, 1 / (1 + math.exp(-0.3)), math.exp(-0.3) / (1 + math.exp(-0.3)) ** 2),
    ("relu", -1.0, 0.0, 0.0), ("relu", 2.0, 2.0, 1.0),
    ("softplus", 0.3, math.log(1 + math.exp(0.3)), 1 / (1 + math.exp(-0.3))),
    ("sqrt", 4.0, 2.0, 0.25), ("abs", -2.0, 2.0, -1.0), ("abs", 0.0, 0.0, 0.0),
    ("sin", 0.7, math.sin(0.7), math.cos(0.7)), ("cos", 0.7, math.cos(0.7), -math.sin(0.7)),
])
def test_methods_value_and_slope(method: str, x: float, value: float, slope: float) -> None:
    v = Value(x)
    y = getattr(v, method)()
    y.backward()
    assert y.data == pytest.approx(value, rel=1e-14, abs=1e-300)
    assert v.grad == pytest.approx(slope, rel=1e-12, abs=1e-300)


def test_leaky_relu_slope() -> None:
    v = Value(-2.0)
    y = v.leaky_relu(0.1)
    y.backward()
    assert (y.data, v.grad) == (pytest.approx(-0.2), pytest.approx(0.1))
    assert Value(-2.0).leaky_relu().data == pytest.approx(-0.02)
    assert micrograd.leaky_relu(-3.0, 0.5) == -1.5


def test_functions_accept_floats_and_values() -> None:
    assert micrograd.tanh(0.5) == math.tanh(0.5)
    assert isinstance(micrograd.tanh(Value(0.5)), Value)


def test_comparisons_read_data_and_record_nothing() -> None:
    a, b = Value(1.0), Value(2.0)
    assert a < b and b > a and a <= 1 and b >= 2.0
    assert max([a, b]) is b
    assert a != Value(1.0)  # Values are nodes: equality is identity
    assert len({a, b, a}) == 2


# ----------------------------------------------------------------- backward semantics
def test_repeated_backward_adds_exactly_k_times() -> None:
    a = Value(2.0)
    d = (a * a) ** 2  # micrograd bug #53: twice gave 96
    for k in range(1, 4):
        d.backward()
        assert a.grad == 32.0 * k


def test_fan_out_is_exact() -> None:
    a = Value(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0


def test_backward_gradient_argument_scales() -> None:
    x = Value(3.0)
    (x * x).backward(gradient=0.5)
    assert x.grad == 3.0


def test_interior_grads_show_the_last_pass() -> None:
    x = Value(3.0)
    h = x * 2
    y = h * h
    y.backward()
    y.backward()
    assert h.grad == 2 * h.data  # this pass only, not accumulated
    assert x.grad == 2 * (2 * h.data * 2)


def test_requires_grad_false_leaf_gets_nothing_and_is_not_walked() -> None:
    x = Value(2.0)
    c = Value(5.0, requires_grad=False)
    y = x * c
    y.backward()
    assert x.grad == 5.0 and c.grad == 0.0
    z = c * c  # nothing to differentiate: a constant
    assert not z.requires_grad and z._prev == ()
    with pytest.raises(RuntimeError, match="does not require grad"):
        z.backward()


def test_constant_branch_is_not_walked() -> None:
    calls = []

    def spy_partials(x: float, out: float) -> tuple[float]:
        calls.append(x)
        return (1.0,)

    spy = Primitive("spy", lambda x: x, spy_partials)
    c = spy(Value(1.0, requires_grad=False))
    x = Value(2.0)
    (x * c).backward()
    assert calls == [] and x.grad == 1.0


def test_leaf_backward_accumulates() -> None:
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


# ----------------------------------------------------------------- grad()
def test_grad_leaves_dot_grad_untouched() -> None:
    x, y = Value(2.0), Value(5.0)
    z = x * y + x
    gx, gy = grad(z, [x, y])
    assert (gx.data, gy.data) == (6.0, 2.0)
    assert (x.grad, y.grad, z.grad) == (0.0, 0.0, 0.0)


def test_grad_outputs_weights_several_outputs() -> None:
    x = Value(2.0)
    (g,) = grad([x * x, x * 3], [x], grad_outputs=[1.0, 10.0])
    assert g.data == 4.0 + 30.0
    with pytest.raises(ValueError, match="grad_outputs"):
        grad([x * x], [x], grad_outputs=[1.0, 2.0])


def test_grad_of_unrelated_input_is_zero() -> None:
    x, u = Value(2.0), Value(1.0)
    (g,) = grad(x * x, [u])
    assert g.data == 0.0


def test_higher_order_derivatives_of_x4() -> None:
    x = Value(2.0)
    y = x ** 4
    (g1,) = grad(y, x, create_graph=True)
    (g2,) = grad(g1, x, create_graph=True)
    (g3,) = grad(g2, x, create_graph=True)
    (g4,) = grad(g3, x, create_graph=True)
    assert (g1.data, g2.data, g3.data, g4.data) == (32.0, 48.0, 48.0, 24.0)


def test_higher_order_through_every_primitive() -> None:
    # d2/dx2 of sin(x) * exp(x) = 2 cos(x) exp(x)
    x = Value(0.3)
    (g1,) = grad(x.sin() * x.exp(), x, create_graph=True)
    (g2,) = grad(g1, x)
    assert g2.data == pytest.approx(2 * math.cos(0.3) * math.exp(0.3), rel=1e-14)
    # d2/dx2 tanh = -2 tanh (1 - tanh^2)
    t = math.tanh(0.4)
    x = Value(0.4)
    (g1,) = grad(x.tanh(), x, create_graph=True)
    assert grad(g1, x)[0].data == pytest.approx(-2 * t * (1 - t * t), rel=1e-13)


def test_mixed_partials() -> None:
    x, y = Value(1.5), Value(-0.5)
    f = x * x * y + y.exp() * x
    (fx,) = grad(f, x, create_graph=True)
    (fxy,) = grad(fx, y)
    assert fxy.data == pytest.approx(2 * 1.5 + math.exp(-0.5), rel=1e-15)


def test_backward_can_follow_create_graph_gradients() -> None:
    x = Value(3.0)
    (g,) = grad(x ** 3, x, create_graph=True)  # 3 x^2
    g.backward()
    assert x.grad == 18.0


# ----------------------------------------------------------------- no_grad
def test_no_grad_records_nothing() -> None:
    x = Value(2.0)
    with no_grad():
        y = x * 3 + 1
        assert not micrograd.is_grad_enabled()
    assert micrograd.is_grad_enabled()
    assert y.data == 7.0 and not y.requires_grad and y._prev == ()


def test_no_grad_as_decorator() -> None:
    @no_grad()
    def update(v: Value) -> Value:
        return v * 2

    out = update(Value(1.0))
    assert not out.requires_grad and (Value(1.0) * 2).requires_grad


def test_no_grad_is_per_thread() -> None:
    seen: dict[str, bool] = {}
    inside, release = threading.Event(), threading.Event()

    def other_thread() -> None:
        inside.wait()
        seen["other"] = (Value(1.0) * 2).requires_grad
        release.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with no_grad():
        inside.set()
        release.wait(10)
        seen["here"] = (Value(1.0) * 2).requires_grad
    t.join()
    assert seen == {"other": True, "here": False}


# ----------------------------------------------------------------- deep and wide graphs
def test_million_deep_chain() -> None:
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0 + 1e-7
    y.backward()
    assert x.grad == 1.0
    assert y.data == pytest.approx(0.5 + 0.1, rel=1e-6)


def test_builtin_sum_of_a_million_values() -> None:
    values = [Value(float(i % 7)) for i in range(1_000_000)]
    total = sum(values)
    total.backward()
    assert total.data == sum(float(i % 7) for i in range(1_000_000))
    assert values[0].grad == 1.0 and values[-1].grad == 1.0


def test_deep_chain_grad_with_create_graph() -> None:
    x = Value(1.0)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    (g,) = grad(y, x, create_graph=True)
    assert g.data == 1.0


def test_nary_sum_and_dot() -> None:
    xs = [Value(float(i)) for i in range(5)]
    ws = [Value(0.5 * i) for i in range(5)]
    s = vsum(xs)
    assert s.data == 10.0 and s._op == "sum"
    d = dot(ws, xs, 1.0)
    d.backward()
    assert d.data == 1.0 + sum(0.5 * i * i for i in range(5))
    assert [w.grad for w in ws] == [float(i) for i in range(5)]
    assert [x.grad for x in xs] == [0.5 * i for i in range(5)]
    assert dot([Value(2.0)], [3.0]).data == 6.0  # plain numbers become constants
    with pytest.raises(ValueError, match="2 weights for 1 inputs"):
        dot([Value(1.0), Value(2.0)], [1.0])


def test_dot_equals_micrograds_left_to_right_sum_exactly() -> None:
    import random

    rng = random.Random(5)
    ws = [Value(rng.uniform(-1, 1)) for _ in range(40)]
    xs = [rng.uniform(-3, 3) for _ in range(40)]
    b = Value(rng.uniform(-1, 1))
    expected = b.data
    for w, x in zip(ws, xs):
        expected = expected + w.data * x
    assert dot(ws, xs, b).data == expected
    # dot() sums straight from the parents' data; DOT's table forward must agree bit for bit
    floats = [b.data, *(w.data for w in ws), *xs]
    assert fused.DOT.forward(*floats) == expected
    assert fused.DOT(*floats) == expected


def test_empty_sum_is_zero() -> None:
    assert vsum([]).data == 0.0


# ----------------------------------------------------------------- memory: no cycles
def _build(x: Value) -> Value:
    y = x
    for i in range(200):
        y = (y * 1.01 + i).tanh() + x * y
    return y


def test_dropped_graph_is_freed_by_refcounting_alone() -> None:
    class Probe(Value):
        __slots__ = ("__weakref__",)

    gc.collect()
    gc.disable()
    try:
        leaf = Probe(0.5)
        root = _build(leaf)
        root.backward()
        ref = weakref.ref(leaf)
        del leaf
        assert ref() is not None  # kept alive by the graph
        del root
        assert ref() is None  # freed without the cyclic collector
    finally:
        gc.enable()


def test_no_node_is_in_a_reference_cycle() -> None:
    gc.collect()
    gc.disable()
    try:
        root = _build(Value(0.5))
        (g,) = grad(root, root._prev[0], create_graph=True)
        del root, g
        assert gc.collect() == 0  # nothing unreachable for the cyclic collector to find
    finally:
        gc.enable()


# ----------------------------------------------------------------- numerics
@pytest.mark.parametrize("x", [-1000.0, 1000.0])
def test_saturating_functions_are_stable(x: float) -> None:
    for method, value, slope in [
        ("tanh", math.copysign(1.0, x), 0.0),
        ("sigmoid", 1.0 if x > 0 else 0.0, 0.0),
        ("softplus", max(x, 0.0), 1.0 if x > 0 else 0.0),
    ]:
        v = Value(x)
        y = getattr(v, method)()
        y.backward()
        assert y.data == value and v.grad == slope, method


def test_sigmoid_far_negative_keeps_relative_precision() -> None:
    assert Value(-700.0).sigmoid().data == pytest.approx(math.exp(-700.0), rel=1e-12)
    assert Value(-30.0).softplus().data == pytest.approx(math.exp(-30.0), rel=1e-12)


def test_exp_overflow_is_ieee_inf() -> None:
    v = Value(1000.0)
    y = v.exp()
    assert y.data == math.inf
    y.backward()
    assert v.grad == math.inf
    assert (Value(10.0) ** 400).data == math.inf


def test_leaving_a_domain_gives_ieee_values_not_errors() -> None:
    """C99/IEEE 754 (and PyTorch): the engine never raises DomainError; test_ieee.py checks every rule."""
    assert Value(-1.0).log().data != Value(-1.0).log().data  # nan
    assert Value(0.0).log().data == -math.inf
    assert math.isnan(Value(-4.0).sqrt().data) and math.isnan((Value(-8.0) ** 0.5).data)
    assert (Value(0.0) ** -1).data == math.inf and (Value(1.0) / 0).data == math.inf
    assert (Value(-2.0) ** Value(2.0)).data == 4.0
    assert issubclass(DomainError, ValueError)  # still exported for callers that report nan as an error


def test_infinite_derivative_is_inf() -> None:
    x = Value(0.0)
    y = x.sqrt()
    y.backward()
    assert (y.data, x.grad) == (0.0, math.inf)  # d sqrt(x)/dx = 1 / (2 sqrt(x)), as PyTorch


def test_zero_to_the_zero_is_one_with_zero_slopes() -> None:
    a, b = Value(0.0), Value(0.0)
    y = a ** b
    y.backward()
    assert (y.data, a.grad, b.grad) == (1.0, 0.0, 0.0)


def test_overflowing_power_gives_signed_inf_in_both_directions() -> None:
    x = Value(-1e200)
    y = x ** 3
    y.backward()
    assert y.data == -math.inf and x.grad == math.inf  # 3 x^2 overflows to +inf


def test_negative_base_integer_power_is_fine() -> None:
    x = Value(-2.0)
    y = x ** 3
    y.backward()
    assert (y.data, x.grad) == (-8.0, 12.0)


def test_zero_gradient_times_inf_partial_is_nan_as_pytorch() -> None:
    x = Value(1000.0)
    y = x.exp() * 0.0  # exp'(1000) = inf, upstream 0: 0 * inf = nan (the same in every mode)
    y.backward()
    assert math.isnan(x.grad)


# ----------------------------------------------------------------- custom primitives
def test_custom_primitive_through_backward_and_grad() -> None:
    cube = Primitive("cube", lambda x: x ** 3, lambda x, out: (3 * x ** 2,))
    assert cube(2.0) == 8.0
    x = Value(2.0)
    y = cube(x)
    assert y._op == "cube"
    y.backward()
    assert x.grad == 12.0
    (g1,) = grad(cube(x), x, create_graph=True)
    (g2,) = grad(g1, x, create_graph=True)
    (g3,) = grad(g2, x)
    assert (g1.data, g2.data, g3.data) == (12.0, 12.0, 6.0)


def test_custom_binary_primitive_mixes_numbers_and_values() -> None:
    hypot = Primitive("hypot", math.hypot, lambda a, b, out: (a / out, b / out))
    a = Value(3.0)
    h = hypot(a, 4.0)
    h.backward()
    assert (h.data, a.grad) == (5.0, 0.6)


def test_importing_micrograd_stays_light() -> None:
    """`import micrograd` loads the engine and its table only; explain, drawing, math, nn load on first use."""
    code = ("import sys; before = set(sys.modules); import micrograd; "
            "print(sorted(m for m in set(sys.modules) - before if m.startswith('micrograd')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(["micrograd", "micrograd.engine", "micrograd.fused", "micrograd.primitives"])
    x = Value(3.0)
    assert micrograd.explain(x * x + x).gradient(x) == 7.0  # the lazy wrappers work
    assert sum(p.product for p in micrograd.paths(x * x + x, x)) == 7.0
