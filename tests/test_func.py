"""micrograd.func: JAX's transforms (grad, value_and_grad, jacobian, hessian, jvp, vjp) on plain Python functions,
checked against closed forms and torch.func (jacrev, hessian, jvp, vjp) in float64."""

from __future__ import annotations

import math as stdmath
from collections import namedtuple
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd.math as mm
from micrograd import Value, no_grad
from micrograd import grad as reverse
from micrograd.func import grad, hessian, jacobian, jvp, value_and_grad, vjp

# torch.func's own imports warn about torch.jit.script; nothing of ours
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def flat(tree: Any) -> list[float]:
    if isinstance(tree, (list, tuple)):
        return [x for item in tree for x in flat(item)]
    if isinstance(tree, dict):
        return flat(list(tree.values()))
    return [float(tree)]


def assert_close(ours: Any, theirs: Any, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    a, b = flat(ours), flat(theirs)
    assert len(a) == len(b), (ours, theirs)
    for x, y in zip(a, b):
        assert abs(x - y) <= atol + rtol * abs(y), (ours, theirs)


# ---------------------------------------------------------------- closed forms
def test_grad_composes_to_any_order():
    assert grad(grad(grad(lambda x: x ** 4)))(2.0) == 48.0  # 24 x
    assert grad(grad(grad(grad(lambda x: x ** 4))))(2.0) == 24.0
    assert grad(grad(grad(grad(grad(lambda x: x ** 4)))))(2.0) == 0.0
    f = lambda x: mm.sin(x) * mm.exp(x)  # noqa: E731
    d2 = grad(grad(f))
    assert d2(0.7) == pytest.approx(2 * stdmath.exp(0.7) * stdmath.cos(0.7), rel=1e-14)  # (e^x sin x)'' = 2 e^x cos x


def test_floats_in_floats_out():
    for result in (grad(lambda x: x * x)(3.0), grad(lambda x: 3.0)(1.0), value_and_grad(lambda x: x * x)(3)[0],
                   jacobian(lambda x: [x, 2 * x])(1.0)[1], hessian(lambda x: x ** 3)(2.0)):
        assert type(result) is float
    assert grad(lambda x: x * x)(3.0) == 6.0 and grad(lambda x: 3.0)(1.0) == 0.0


def test_value_and_grad_and_argnums():
    f = lambda x, y, z: x * y * y + mm.log(z)  # noqa: E731
    assert value_and_grad(f)(2.0, 3.0, 4.0) == (18.0 + stdmath.log(4.0), 9.0)
    assert grad(f, 1)(2.0, 3.0, 4.0) == 12.0
    assert grad(f, -1)(2.0, 3.0, 4.0) == 0.25
    assert grad(f, (0, 2))(2.0, 3.0, 4.0) == (9.0, 0.25)
    assert grad(f, [2, 0])(2.0, 3.0, 4.0) == (0.25, 9.0)  # the order asked for
    assert grad(lambda x, *, scale: scale * x * x)(3.0, scale=2.0) == 12.0  # keywords pass through


def test_arguments_may_be_lists_tuples_and_dicts():
    Point = namedtuple("Point", "x y")
    f = lambda p, q: p["a"] * q[0].x + p["b"] ** 2 * q[1][0] * q[0].y  # noqa: E731
    p, q = {"a": 2.0, "b": 3.0}, (Point(5.0, 7.0), [11.0])
    gp, gq = grad(f, (0, 1))(p, q)
    assert gp == {"a": 5.0, "b": 2 * 3.0 * 11.0 * 7.0}
    assert gq == (Point(2.0, 9.0 * 11.0), [9.0 * 7.0]) and isinstance(gq[0], Point)
    assert grad(lambda xs: sum(x * x for x in xs))([1.0, 2.0, 3.0]) == [2.0, 4.0, 6.0]


def test_jacobian_shapes_follow_jax():
    assert jacobian(lambda x: x * x)(3.0) == 6.0  # number -> number: a number
    assert jacobian(lambda x: [x, x * x])(3.0) == [1.0, 6.0]  # number -> list: a list
    assert jacobian(lambda v: v[0] * v[1])([2.0, 5.0]) == [5.0, 2.0]  # list -> number: the gradient
    assert jacobian(lambda v: [v[0] * v[1], v[0] + v[1]])([2.0, 5.0]) == [[5.0, 2.0], [1.0, 1.0]]  # J[i][j]
    assert jacobian(lambda x, y: (x * y, x), (0, 1))(2.0, 5.0) == ((5.0, 2.0), (1.0, 0.0))
    assert jacobian(lambda v: {"s": v[0] + v[1]})([1.0, 1.0]) == {"s": [1.0, 1.0]}


def test_hessian_of_a_quadratic_form_is_its_matrix():
    a = [[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]]
    f = lambda v: 0.5 * sum(v[i] * a[i][j] * v[j] for i in range(3) for j in range(3))  # noqa: E731
    assert hessian(f)([0.3, -1.2, 2.0]) == a
    h = hessian(lambda x, y: x * x * y + y ** 3, (0, 1))(2.0, 3.0)  # blocks ((d2/dx2, d2/dxdy), (d2/dydx, d2/dy2))
    assert h == ((6.0, 4.0), (4.0, 18.0))


def test_jvp_and_vjp_closed_forms():
    f = lambda x, y: [x * y, mm.sin(x) + y * y, mm.exp(x - y)]  # noqa: E731
    out, tangent = jvp(f, (1.0, 2.0), (1.0, 0.5))
    assert out == [2.0, stdmath.sin(1.0) + 4.0, stdmath.exp(-1.0)]
    assert_close(tangent, [2.0 * 1.0 + 1.0 * 0.5, stdmath.cos(1.0) + 4.0 * 0.5, stdmath.exp(-1.0) * 0.5], rtol=1e-15)
    out, pullback = vjp(f, 1.0, 2.0)
    assert out == [2.0, stdmath.sin(1.0) + 4.0, stdmath.exp(-1.0)]
    u = [1.0, -1.0, 2.0]
    expected = (2.0 - stdmath.cos(1.0) + 2 * stdmath.exp(-1.0), 1.0 - 4.0 - 2 * stdmath.exp(-1.0))
    assert_close(pullback(u), expected, rtol=1e-15)
    assert_close(pullback(u), expected, rtol=1e-15)  # the graph is kept: call it again
    assert vjp(lambda x: x * x, 3.0)[1](1.0) == (6.0,)  # one entry per primal, as JAX


def test_outputs_that_do_not_depend_on_the_inputs_get_zeros():
    assert jacobian(lambda x, y: [x, 7.0, y * 0 + 1])(1.0, 2.0) == [1.0, 0.0, 0.0]
    assert jvp(lambda x: [2.0, x], (1.0,), (3.0,)) == ([2.0, 1.0], [0.0, 3.0])
    assert vjp(lambda x: [2.0, x], 1.0)[1]([5.0, 3.0]) == (3.0,)


# ---------------------------------------------------------------- nesting: derivatives stay differentiable
def test_no_perturbation_confusion():
    """d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x: the inner derivative stays a function of the outer x
    (Siskind and Pearlmutter's example; a transform that returned a float inside would give x instead)."""
    assert grad(lambda x: x * grad(lambda y: x * y)(3.0))(2.0) == 4.0
    assert grad(lambda x: grad(lambda y: x * y * y)(x))(3.0) == 2.0 * 3.0 * 2.0  # d/dx 2 x y |_{y=x} = 4x


def test_a_derivative_that_depends_on_outside_values_is_a_value():
    """Never silently wrong: a gradient penalty's gradient reaches the parameters."""
    w = Value(3.0)
    g = grad(lambda x: w * x * x)(2.0)  # 2 w x
    assert isinstance(g, Value) and g.data == 12.0
    (dw,) = reverse((g - 1.0) ** 2, w)  # d/dw (2 w x - 1)^2 = 2 (2wx - 1) 2x
    assert dw.data == 2 * 11.0 * 4.0
    assert type(grad(lambda x: Value(3.0, requires_grad=False) * x)(2.0)) is float  # constants do not count


def test_the_same_value_passed_twice_gets_two_partials():
    v = Value(3.0)
    da, db = grad(lambda a, b: a * b * b, (0, 1))(v, v)
    assert (da.data, db.data) == (9.0, 18.0)
    assert reverse(da + db, v)[0].data == 2 * 3.0 + 4 * 3.0  # d/dv (v^2 + 2 v^2)


def test_transforms_record_inside_no_grad():
    with no_grad():
        assert grad(lambda x: x ** 3)(2.0) == 12.0
        assert hessian(lambda x: x ** 3)(2.0) == 12.0


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("argnums", ["0", 1.0, True, (), (0, "1"), None])
def test_bad_argnums_types(argnums):
    with pytest.raises(TypeError, match="argnums must be an int or a non-empty tuple of ints"):
        grad(lambda x: x, argnums)


def test_bad_argnums_values():
    with pytest.raises(ValueError, match="argnums 1 is out of range for a call with 1 positional argument"):
        grad(lambda x: x, 1)(2.0)
    with pytest.raises(ValueError, match="argnums -3 is out of range"):
        jacobian(lambda x, y: x, -3)(2.0, 1.0)
    with pytest.raises(ValueError, match="names an argument twice"):
        grad(lambda x, y: x, (0, -2))(2.0, 1.0)


def test_grad_needs_one_number_out():
    with pytest.raises(TypeError, match="must return one real number.*not list; use jacobian"):
        grad(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="output must be a real number"):
        grad(lambda x: "x")(1.0)
    with pytest.raises(TypeError, match="output must be a real number"):
        jacobian(lambda x: [x, None])(1.0)


@pytest.mark.parametrize("arg", ["1.0", None, True, 1 + 2j, [1.0, "a"]])
def test_arguments_must_be_real_numbers(arg):
    with pytest.raises(TypeError, match="argument 0 must be a real number"):
        grad(lambda x: 1.0)(arg)


def test_jvp_and_vjp_check_shapes():
    with pytest.raises(TypeError, match="primals and tangents must be tuples"):
        jvp(lambda x: x, 1.0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        jvp(lambda x: x, (1.0,), (1.0, 2.0))
    with pytest.raises(ValueError, match="tangent 0 has 1 numbers for a primal of 2"):
        jvp(lambda v: v[0], ([1.0, 2.0],), (1.0,))
    _, pullback = vjp(lambda x: [x, x], 1.0)
    with pytest.raises(ValueError, match="the cotangent has 1 numbers for an output of 2"):
        pullback(1.0)


# ---------------------------------------------------------------- against torch.func
def rosenbrock(m: Any, xs: Any) -> Any:
    return sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(len(xs) - 1))


def mixed(m: Any, xs: Any, y: Any) -> Any:
    """A vector function of a list and a number, through several math functions."""
    return [m.sin(xs[0]) * y + m.exp(xs[1] / 4), m.log1p(xs[0] ** 2) * m.atan2(y, 1.5 + xs[1] ** 2),
            m.tanh(xs[0] * xs[1] - y), m.hypot(xs[0], xs[1], 1.0 + y * y) * m.erf(y)]


class TorchMath:
    """The math names `mixed` uses, for torch tensors."""

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.sin, self.exp, self.log1p, self.atan2, self.tanh, self.erf = (
            torch.sin, torch.exp, torch.log1p, torch.atan2, torch.tanh, torch.erf)

    def hypot(self, *xs: Any) -> Any:
        return self.torch.sqrt(sum(x * x for x in xs))


def as_tensor(x: Any) -> Any:
    import torch

    return torch.tensor(x, dtype=torch.float64)


vectors = st.lists(st.floats(-2, 2), min_size=2, max_size=2)
numbers = st.floats(-2, 2)


@settings(max_examples=25)
@given(xs=vectors, y=numbers)
def test_jacobian_matches_torch_jacrev(xs, y):
    torch = pytest.importorskip("torch")
    tm = TorchMath()
    ours = jacobian(lambda v, w: mixed(mm, v, w), (0, 1))(xs, y)
    jx, jy = torch.func.jacrev(lambda v, w: torch.stack(mixed(tm, v, w)), argnums=(0, 1))(as_tensor(xs), as_tensor(y))
    for i in range(4):
        assert_close(ours[i][0], jx[i].tolist())
        assert_close(ours[i][1], float(jy[i]))


@settings(max_examples=25)
@given(xs=st.lists(st.floats(-2, 2), min_size=3, max_size=3), y=numbers)
def test_hessian_matches_torch(xs, y):
    torch = pytest.importorskip("torch")
    tm = TorchMath()
    ours = hessian(lambda v: rosenbrock(mm, v))(xs)
    theirs = torch.func.hessian(lambda v: rosenbrock(tm, v))(as_tensor(xs))
    assert_close(ours, theirs.tolist())
    scalar = lambda m, v, w: sum(mixed(m, v, w))  # noqa: E731
    ours_blocks = hessian(lambda v, w: scalar(mm, v, w), (0, 1))(xs[:2], y)
    theirs_blocks = torch.func.hessian(lambda v, w: scalar(tm, v, w), argnums=(0, 1))(as_tensor(xs[:2]), as_tensor(y))
    # list arguments are pytrees, as in JAX: H[0][i] = (d2/dv_i dv, d2/dv_i dw), H[1] = (d2/dw dv, d2/dw2)
    (hv, hw), ((tvv, tvw), (twv, tww)) = ours_blocks, theirs_blocks
    for i in range(2):
        assert_close(hv[i][0], tvv[i].tolist())
        assert_close(hv[i][1], float(tvw[i]))
    assert_close(hw[0], twv.tolist())
    assert_close(hw[1], float(tww))


@settings(max_examples=25)
@given(xs=vectors, y=numbers, tx=vectors, ty=numbers)
def test_jvp_matches_torch(xs, y, tx, ty):
    torch = pytest.importorskip("torch")
    tm = TorchMath()
    out, tangent = jvp(lambda v, w: mixed(mm, v, w), (xs, y), (tx, ty))
    t_out, t_tangent = torch.func.jvp(lambda v, w: torch.stack(mixed(tm, v, w)), (as_tensor(xs), as_tensor(y)),
                                      (as_tensor(tx), as_tensor(ty)))
    assert_close(out, t_out.tolist())
    assert_close(tangent, t_tangent.tolist())


@settings(max_examples=25)
@given(xs=vectors, y=numbers, u=st.lists(st.floats(-2, 2), min_size=4, max_size=4))
def test_vjp_matches_torch(xs, y, u):
    torch = pytest.importorskip("torch")
    tm = TorchMath()
    out, pullback = vjp(lambda v, w: mixed(mm, v, w), xs, y)
    t_out, t_pullback = torch.func.vjp(lambda v, w: torch.stack(mixed(tm, v, w)), as_tensor(xs), as_tensor(y))
    assert_close(out, t_out.tolist())
    gx, gy = pullback(u)
    tgx, tgy = t_pullback(as_tensor(u))
    assert_close(gx, tgx.tolist())
    assert_close(gy, float(tgy))


@settings(max_examples=25)
@given(x=st.floats(-1.5, 1.5))
def test_third_derivative_matches_torch_func(x):
    torch = pytest.importorskip("torch")
    f = lambda m, x: m.sin(x) * m.exp(-x * x) + m.atan(3 * x)  # noqa: E731
    tm = TorchMath()
    tm.atan = torch.atan  # type: ignore[attr-defined]
    ours = grad(grad(grad(lambda x: f(mm, x))))(x)
    theirs = torch.func.grad(torch.func.grad(torch.func.grad(lambda x: f(tm, x))))(as_tensor(x))
    assert_close(ours, float(theirs), rtol=1e-10, atol=1e-10)


def test_jvp_vjp_and_jacobian_record_under_no_grad() -> None:
    from micrograd import no_grad

    with no_grad():
        assert jvp(lambda x: x**3, (2.0,), (1.0,)) == (8.0, 12.0)  # d(x^3) = 3x^2 = 12 at 2
        out, pullback = vjp(lambda x: x**3, 2.0)
        assert (out, pullback(1.0)) == (8.0, (12.0,))
        assert jacobian(lambda x, y: [x * y, x + y], argnums=(0, 1))(2.0, 3.0) == [(3.0, 2.0), (1.0, 1.0)]
