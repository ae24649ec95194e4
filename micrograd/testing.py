"""Check derivative rules: finite-difference checks and hypothesis strategies.

A derivative rule is easy to get subtly wrong (a sign on one branch, a factor
lost under ``create_graph``), and a few hand-picked test points rarely find it.
This module gives the two pieces that do:

* `gradcheck` / `gradgradcheck` compare the engine's first / second derivatives
  of any function of Values with central finite differences and, on failure,
  raise an ``AssertionError`` with a table of every partial derivative.
* hypothesis strategies (hypothesis is only imported when you call them):
  `Domain.floats` for inputs inside an operation's domain, `Op.arguments` for
  an operation's operands, and `expressions` for random expression DAGs (shared
  subexpressions, fan-out, every engine primitive, plus your own `Op`s), each
  paired with a plain-float evaluator (`Expr.reference`) and a hook
  (`Expr.evaluate`) for oracle backends such as PyTorch.

Example::

    from hypothesis import given
    from micrograd.testing import Domain, gradcheck, gradgradcheck

    @given(Domain(-3, 3).floats())
    def test_my_rule(x):
        assert gradcheck(my_primitive, [x]) and gradgradcheck(my_primitive, [x])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .engine import (
    ABS,
    ADD,
    COS,
    DIV,
    DOT,
    DOT_RELU,
    DOT_SIGMOID,
    DOT_TANH,
    EXP,
    LEAKY_RELU,
    LOG,
    MUL,
    POW,
    POWC,
    RELU,
    SCALE,
    SHIFT,
    SIGMOID,
    SIN,
    SOFTPLUS,
    SQRT,
    SUM,
    TANH,
    Primitive,
    Value,
    dot,
    grad,
    no_grad,
    vsum,
)

if TYPE_CHECKING:  # hypothesis is a test dependency, not a runtime one
    from hypothesis.strategies import DrawFn, SearchStrategy

Number = int | float

__all__ = [
    "OPS", "Domain", "Expr", "Node", "Op", "expressions", "gradcheck", "gradgradcheck", "numeric_gradient",
    "op_from_primitive",
]


# ---------------------------------------------------------------- finite-difference checks
def _as_floats(inputs: Sequence[Value | Number]) -> list[float]:
    xs = [float(x.data) if isinstance(x, Value) else float(x) for x in inputs]
    bad = [i for i, x in enumerate(xs) if not math.isfinite(x)]
    if bad:
        raise ValueError(f"inputs must be finite; inputs[{bad[0]}] is {xs[bad[0]]}")
    return xs


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "name", None) or getattr(fn, "__qualname__", None) or repr(fn)


def _evaluate(fn: Callable[..., Any], xs: Sequence[float]) -> float:
    """fn at xs as a float, recording nothing (finite differences need no graph)."""
    with no_grad():
        out = fn(*(Value(x) for x in xs))
    return float(out.data) if isinstance(out, Value) else float(out)


def _shifted(xs: Sequence[float], i: int, h: float) -> list[float]:
    ys = list(xs)
    ys[i] += h
    return ys


def _central(f: Callable[[Sequence[float]], Sequence[float]], xs: Sequence[float], j: int, eps: float,
             what: str) -> list[float]:
    """(f(x + eps e_j) - f(x - eps e_j)) / (2 eps), elementwise, naming the failure if f is undefined there."""
    try:
        up, down = f(_shifted(xs, j, eps)), f(_shifted(xs, j, -eps))
    except ValueError as e:  # DomainError is a ValueError
        raise ValueError(f"{what}: cannot take central differences at inputs[{j}] = {xs[j]!r} +- {eps}: {e}. "
                         "Keep the inputs at least eps away from the edge of the domain.") from e
    return [(u - d) / (2.0 * eps) for u, d in zip(up, down)]


def numeric_gradient(fn: Callable[..., Value | Number], inputs: Sequence[Value | Number], *,
                     eps: float = 1e-6) -> list[float]:
    """Central differences d fn / d inputs[i]: the engine-independent side of `gradcheck`."""
    xs = _as_floats(inputs)
    return [_central(lambda ys: [_evaluate(fn, ys)], xs, j, eps, "numeric_gradient")[0] for j in range(len(xs))]


def _allowed(numeric: float, atol: float, rtol: float) -> float:
    return atol + rtol * abs(numeric)


def _close(a: float, b: float, atol: float, rtol: float) -> bool:
    """|a - b| <= atol + rtol * |b|, the test of torch.autograd.gradcheck and numpy.allclose; NaN never passes."""
    return abs(a - b) <= _allowed(b, atol, rtol)


def _table(title: str, header: Sequence[str], rows: Sequence[tuple[Sequence[str], float, float, float, float]]) -> str:
    """The report of a failed check: one row per partial derivative, failures marked."""
    cells = [[*header, "analytic", "numeric", "error", "allowed"]]
    cells += [[*keys, *(f"{v:.10g}" for v in values)] for keys, *values in rows]
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    lines = [title] + ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    for k, (_, _, _, error, allowed) in enumerate(rows):
        if not error <= allowed:  # NaN fails too
            lines[k + 2] += "  <-- FAIL"
    return "\n".join(lines)


# Results of grad(), backward() and grad(create_graph=True) are computed with the same rules on the
# same floats, so they must agree to rounding; this is far tighter than any finite-difference check.
_SAME_RTOL, _SAME_ATOL = 1e-9, 1e-12


def _check_finite(value: float, what: str, xs: Sequence[float]) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{what}: the function is {value} at {tuple(xs)}; finite differences need finite values")


def _engine_grads(fn: Callable[..., Any], xs: Sequence[float], what: str) -> list[float]:
    """d fn / d x by grad(), cross-checked against backward() (the two entry points must agree)."""
    __tracebackhide__ = True
    leaves = [Value(x) for x in xs]
    out = fn(*leaves)
    if not isinstance(out, Value):  # a constant function
        return [0.0] * len(xs)
    _check_finite(out.data, what, xs)
    by_grad = [g.data for g in grad(out, leaves)]
    if out.requires_grad:
        out.backward()
        by_backward = [leaf.grad for leaf in leaves]
        for i, (a, b) in enumerate(zip(by_grad, by_backward)):
            if not _close(b, a, _SAME_ATOL, _SAME_RTOL):
                raise AssertionError(f"{what}: grad() and backward() disagree on d/d inputs[{i}] at {tuple(xs)}: "
                                     f"{a!r} vs {b!r}")
    return by_grad


def gradcheck(fn: Callable[..., Value | Number], inputs: Sequence[Value | Number], *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare every d fn / d inputs[i] from the engine with a central difference.

    ``fn`` takes ``len(inputs)`` Values and returns a Value; ``inputs`` are numbers
    (or Values, whose data is used and whose ``.grad`` is left alone).  A partial
    passes when ``|analytic - numeric| <= atol + rtol * |numeric|`` (as in
    ``torch.autograd.gradcheck``).  The engine's derivative is taken with both
    `grad` and ``backward()``, which must agree.

    Returns True; raises ``AssertionError`` with a table of every partial if one
    fails, and ``ValueError`` if fn is not finite or not defined within eps of the inputs.
    """
    __tracebackhide__ = True  # pytest: end the traceback at the caller's test
    what = f"gradcheck({_name(fn)})"
    xs = _as_floats(inputs)
    analytic = _engine_grads(fn, xs, what)
    rows = []
    for i in range(len(xs)):
        numeric = _central(lambda ys: [_evaluate(fn, ys)], xs, i, eps, what)[0]
        rows.append(((str(i), repr(xs[i])), analytic[i], numeric, abs(analytic[i] - numeric),
                     _allowed(numeric, atol, rtol)))
    if all(r[3] <= r[4] for r in rows):
        return True
    raise AssertionError(_table(
        f"{what}: analytic and numeric first derivatives disagree at inputs {tuple(xs)}\n"
        f"(eps={eps}, atol={atol}, rtol={rtol}; allowed = atol + rtol * |numeric|)", ("input", "x"), rows))


def _first_derivatives(fn: Callable[..., Any], xs: Sequence[float]) -> list[float]:
    out = fn(*(leaves := [Value(x) for x in xs]))
    if not isinstance(out, Value):
        return [0.0] * len(xs)
    return [g.data for g in grad(out, leaves)]


def gradgradcheck(fn: Callable[..., Value | Number], inputs: Sequence[Value | Number], *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare every second derivative d2 fn / d x_i d x_j with central differences of the first.

    The analytic side differentiates ``grad(fn, x, create_graph=True)`` again, so
    this checks that derivative rules still hold when they are evaluated on
    Values (a rule that escapes the graph, e.g. with ``float(x)`` or ``math.cos``,
    fails here and passes `gradcheck`).  The numeric side is a central difference of
    the engine's first derivative, as in ``torch.autograd.gradgradcheck``.  The
    first derivatives with and without ``create_graph`` must also agree.

    Returns True; raises ``AssertionError`` with a table if any entry fails.
    """
    __tracebackhide__ = True
    what = f"gradgradcheck({_name(fn)})"
    xs = _as_floats(inputs)
    n = len(xs)
    leaves = [Value(x) for x in xs]
    out = fn(*leaves)
    if not isinstance(out, Value):
        return True  # a constant: every derivative is exactly 0
    _check_finite(out.data, what, xs)
    first = grad(out, leaves, create_graph=True)
    plain = _first_derivatives(fn, xs)
    for i, (g, p) in enumerate(zip(first, plain)):
        if not _close(g.data, p, _SAME_ATOL, _SAME_RTOL):
            raise AssertionError(f"{what}: d/d inputs[{i}] is {g.data!r} with create_graph=True but {p!r} without, "
                                 f"at {tuple(xs)}; the derivative rule computes different things on Values and floats")
    analytic = [[h.data for h in grad(g, leaves)] for g in first]
    # numeric[j][i] = d/dx_j of (d fn / d x_i): one pair of evaluations per j gives a whole column
    numeric = [_central(lambda ys: _first_derivatives(fn, ys), xs, j, eps, what) for j in range(n)]
    rows = []
    for i in range(n):
        for j in range(n):
            a, d = analytic[i][j], numeric[j][i]
            rows.append(((str(i), str(j)), a, d, abs(a - d), _allowed(d, atol, rtol)))
    if all(r[3] <= r[4] for r in rows):
        return True
    raise AssertionError(_table(
        f"{what}: analytic and numeric second derivatives d2/dx_i dx_j disagree at inputs {tuple(xs)}\n"
        f"(eps={eps}, atol={atol}, rtol={rtol}; allowed = atol + rtol * |numeric|)", ("i", "j"), rows))


# ---------------------------------------------------------------- domains
@dataclass(frozen=True)
class Domain:
    """An interval [low, high] minus a neighbourhood of radius `margin` around each point in `avoid`.

    `avoid` holds the points where an operation is singular or has a kink (0 for
    ``abs``, ``relu``, ``1/x``); staying `margin` away keeps central differences,
    which straddle the point, meaningful.
    """

    low: float
    high: float
    avoid: tuple[float, ...] = ()
    margin: float = 1e-2

    def __contains__(self, x: object) -> bool:
        if not isinstance(x, (int, float)) or not self.low <= x <= self.high:
            return False
        return all(abs(x - a) >= self.margin for a in self.avoid)

    def floats(self) -> SearchStrategy[float]:
        """Finite floats in this domain (a hypothesis strategy)."""
        from hypothesis import strategies as st

        return st.floats(self.low, self.high, allow_nan=False, allow_infinity=False).filter(self.__contains__)


# ---------------------------------------------------------------- operations
def _always(*args: float) -> bool:
    return True


@dataclass(frozen=True, eq=False)
class Op:
    """One operation as the strategies use it: how the engine does it and how plain floats do.

    ``apply(*values[, const])`` builds the engine graph (through the public
    operators, methods or a `Primitive`); ``reference(*floats[, const])`` is an
    independent plain-float implementation (the math module / closed form).
    ``domains`` gives one `Domain` per operand (the last is reused for variadic
    ops), ``consts`` a strategy factory for the non-differentiable constant, if
    any, and ``ok`` any extra condition on operands and constant.  ``arities``
    lists the operand counts the op accepts.  ``primitive`` is the engine
    primitive it exercises; ``show`` renders a call for `Expr`'s repr.
    """

    name: str
    apply: Callable[..., Any]
    reference: Callable[..., float]
    domains: tuple[Domain, ...]
    arities: tuple[int, ...] = (1,)
    consts: Callable[[], SearchStrategy[float]] | None = None
    ok: Callable[..., bool] = _always
    primitive: Primitive | None = None
    show: str = ""

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def domain(self, k: int) -> Domain:
        """The domain of operand k (variadic ops reuse their last domain)."""
        return self.domains[min(k, len(self.domains) - 1)]

    def accepts(self, args: Sequence[float], const: float | None = None) -> bool:
        """Whether the op is defined and smooth enough to check at these operands."""
        extra = () if const is None else (const,)
        return all(a in self.domain(k) for k, a in enumerate(args)) and self.ok(*args, *extra)

    def call(self, fn: Callable[..., Any], args: Sequence[Any], const: float | None) -> Any:
        """fn (``apply``, ``reference`` or a backend's) on the operands, with the constant last if there is one."""
        return fn(*args) if const is None else fn(*args, const)

    def render(self, args: Sequence[str], const: float | None) -> str:
        """This op applied to operand names, as source text (for `Expr`'s repr)."""
        if self.show:
            return self.show.format(*args, c=const)
        extra = [] if const is None else [repr(const)]
        return f"{self.name}({', '.join([*args, *extra])})"

    def arguments(self) -> SearchStrategy[tuple[tuple[float, ...], float | None]]:
        """(operands, const) inside the op's domain, for checking the op on its own."""
        from hypothesis import strategies as st

        @st.composite
        def draw(draw: DrawFn) -> tuple[tuple[float, ...], float | None]:
            const = draw(self.consts()) if self.consts is not None else None
            k = draw(st.sampled_from(self.arities))
            args = tuple(draw(self.domain(i).floats()) for i in range(k))
            return args, const

        return draw().filter(lambda ac: self.accepts(*ac))


def op_from_primitive(primitive: Primitive, *domains: Domain, reference: Callable[..., float] | None = None,
                      ok: Callable[..., bool] = _always) -> Op:
    """An `Op` for your own `Primitive`, so `expressions` mixes it into random DAGs.

    One `Domain` per operand.  ``reference`` defaults to the primitive's own
    forward function: the DAG tests then check your partials, not your forward.
    """
    if not domains:
        raise ValueError("op_from_primitive needs one Domain per operand")
    return Op(primitive.name, primitive, reference or primitive.forward, tuple(domains), (len(domains),), ok=ok,
              primitive=primitive)


def _consts(low: float, high: float) -> Callable[[], SearchStrategy[float]]:
    def strategy() -> SearchStrategy[float]:
        from hypothesis import strategies as st

        return st.floats(low, high, allow_nan=False, allow_infinity=False)

    return strategy


def _exponents() -> SearchStrategy[float]:
    from hypothesis import strategies as st

    return st.sampled_from([2.0, 3.0, 1.0, 0.0, -1.0, -2.0, 0.5, 1.5, -0.5, 2.5])


def _powc_ok(x: float, c: float) -> bool:
    if c != int(c):
        return x >= 0.25  # a fractional power needs a positive base, away from the singular 0
    return c >= 0 or abs(x) >= 0.25  # x**-1, x**-2 ... are singular at 0


def _dot_reference(*xs: float) -> float:
    return xs[0] + math.fsum(w * x for w, x in zip(xs[1::2], xs[2::2]))


def _dot_apply(*xs: Any, activation: Any = None) -> Any:
    return dot(list(xs[1::2]), list(xs[2::2]), xs[0], activation)


def _neuron_ok(*xs: float) -> bool:
    return abs(_dot_reference(*xs)) >= 1e-2  # away from ReLU's kink at a pre-activation of 0


def _ref_sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _ref_softplus(x: float) -> float:
    return math.log1p(math.exp(x)) if x < 30 else x + math.log1p(math.exp(-x))


_R = Domain(-10.0, 10.0)                        # operands of ops that are smooth everywhere
_WIDE = Domain(-20.0, 20.0)                     # where tanh, sigmoid, ... are interesting but still not flat
_NONZERO = Domain(-10.0, 10.0, (0.0,), 0.25)    # away from the pole of 1/x
_KINKED = Domain(-10.0, 10.0, (0.0,), 1e-2)     # away from the kink of abs, relu, leaky_relu
_POSITIVE = Domain(0.05, 100.0)                 # log, sqrt
_BASE = Domain(0.25, 5.0)                       # base of Value ** Value
_EXPONENT = Domain(-3.0, 3.0)

#: Every engine primitive, through each public way of calling it.  ``expressions`` draws from these.
OPS: tuple[Op, ...] = (
    Op("add", lambda a, b: a + b, lambda a, b: a + b, (_R,), (2,), primitive=ADD, show="{0} + {1}"),
    Op("sub", lambda a, b: a - b, lambda a, b: a - b, (_R,), (2,), primitive=ADD, show="{0} - {1}"),
    Op("mul", lambda a, b: a * b, lambda a, b: a * b, (_R,), (2,), primitive=MUL, show="{0} * {1}"),
    Op("div", lambda a, b: a / b, lambda a, b: a / b, (_R, _NONZERO), (2,), primitive=DIV, show="{0} / {1}"),
    Op("pow", lambda a, b: a ** b, math.pow, (_BASE, _EXPONENT), (2,), primitive=POW, show="{0} ** {1}"),
    Op("neg", lambda a: -a, lambda a: -a, (_R,), primitive=SCALE, show="-{0}"),
    Op("shift", lambda a, c: a + c, lambda a, c: a + c, (_R,), consts=_consts(-3, 3), primitive=SHIFT,
       show="{0} + {c!r}"),
    Op("rshift", lambda a, c: c + a, lambda a, c: c + a, (_R,), consts=_consts(-3, 3), primitive=SHIFT,
       show="{c!r} + {0}"),
    Op("rsub", lambda a, c: c - a, lambda a, c: c - a, (_R,), consts=_consts(-3, 3), primitive=SHIFT,
       show="{c!r} - {0}"),
    Op("scale", lambda a, c: a * c, lambda a, c: a * c, (_R,), consts=_consts(-3, 3), primitive=SCALE,
       show="{0} * {c!r}"),
    Op("rscale", lambda a, c: c * a, lambda a, c: c * a, (_R,), consts=_consts(-3, 3), primitive=SCALE,
       show="{c!r} * {0}"),
    Op("rdiv", lambda a, c: c / a, lambda a, c: c / a, (_NONZERO,), consts=_consts(-3, 3), primitive=DIV,
       show="{c!r} / {0}"),
    Op("powc", lambda a, c: a ** c, lambda a, c: a ** c, (Domain(-5.0, 5.0),), consts=_exponents, ok=_powc_ok,
       primitive=POWC, show="{0} ** {c!r}"),
    Op("rpow", lambda a, c: c ** a, lambda a, c: c ** a, (_EXPONENT,), consts=_consts(0.25, 4), primitive=POW,
       show="{c!r} ** {0}"),
    Op("exp", lambda a: a.exp(), math.exp, (_WIDE,), primitive=EXP),
    Op("log", lambda a: a.log(), math.log, (_POSITIVE,), primitive=LOG),
    Op("sqrt", lambda a: a.sqrt(), math.sqrt, (_POSITIVE,), primitive=SQRT),
    Op("tanh", lambda a: a.tanh(), math.tanh, (_WIDE,), primitive=TANH),
    Op("sigmoid", lambda a: a.sigmoid(), _ref_sigmoid, (_WIDE,), primitive=SIGMOID),
    Op("softplus", lambda a: a.softplus(), _ref_softplus, (_WIDE,), primitive=SOFTPLUS),
    Op("relu", lambda a: a.relu(), lambda a: max(a, 0.0), (_KINKED,), primitive=RELU),
    Op("leaky_relu", lambda a, c: a.leaky_relu(c), lambda a, c: a if a > 0 else c * a, (_KINKED,),
       consts=_consts(-1, 1), primitive=LEAKY_RELU),
    Op("abs", abs, abs, (_KINKED,), primitive=ABS, show="abs({0})"),
    Op("sin", lambda a: a.sin(), math.sin, (_WIDE,), primitive=SIN),
    Op("cos", lambda a: a.cos(), math.cos, (_WIDE,), primitive=COS),
    Op("sum", lambda *xs: vsum(xs), lambda *xs: math.fsum(xs), (_R,), (1, 2, 3, 4), primitive=SUM),
    Op("dot", _dot_apply, _dot_reference, (_R,), (1, 3, 5), primitive=DOT),
    Op("dot_relu", functools.partial(_dot_apply, activation=RELU), lambda *xs: max(_dot_reference(*xs), 0.0),
       (_R,), (1, 3, 5), ok=_neuron_ok, primitive=DOT_RELU),
    Op("dot_tanh", functools.partial(_dot_apply, activation=TANH), lambda *xs: math.tanh(_dot_reference(*xs)),
       (_R,), (1, 3, 5), primitive=DOT_TANH),
    Op("dot_sigmoid", functools.partial(_dot_apply, activation=SIGMOID),
       lambda *xs: _ref_sigmoid(_dot_reference(*xs)), (_R,), (1, 3, 5), primitive=DOT_SIGMOID),
)


# ---------------------------------------------------------------- expression DAGs
@dataclass(frozen=True)
class Node:
    """One operation in an `Expr`: operands are indices into inputs followed by earlier nodes."""

    op: Op
    args: tuple[int, ...]
    const: float | None = None


@dataclass(frozen=True)
class Expr:
    """A random expression DAG over ``n_inputs`` inputs, with a point where it is safe to check.

    Calling it on Values builds the engine graph; `reference` evaluates the same
    DAG on plain floats with each op's independent reference; `evaluate` runs it
    with any other backend (a mapping from op name to function), e.g. PyTorch
    tensors or HIPS autograd boxes, for oracle tests.  The output is the last
    node; every other node feeds into it.  `inputs` is a point where each op's
    operands lie inside its `Domain` and every value is moderate (the output may
    be a sum of several moderate values).
    """

    n_inputs: int
    nodes: tuple[Node, ...]
    inputs: tuple[float, ...] = field(default=())

    def evaluate(self, xs: Sequence[Any], backend: Mapping[str, Callable[..., Any]] | None = None) -> Any:
        """The output, computing node ``k`` as ``backend[op.name](*operands[, const])`` (default: op.apply)."""
        if len(xs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} inputs, got {len(xs)}")
        values: list[Any] = list(xs)
        for node in self.nodes:
            fn = node.op.apply if backend is None else backend[node.op.name]
            values.append(node.op.call(fn, [values[i] for i in node.args], node.const))
        return values[-1]

    def __call__(self, *xs: Any) -> Any:
        return self.evaluate(xs)

    def reference(self, *xs: float) -> float:
        """The output on plain floats, engine-free: the independent evaluator to compare with."""
        return float(self.evaluate(xs, {node.op.name: node.op.reference for node in self.nodes}))

    def uses(self) -> list[int]:
        """How many times each input and node is used as an operand (fan-out)."""
        counts = [0] * (self.n_inputs + len(self.nodes))
        for node in self.nodes:
            for i in node.args:
                counts[i] += 1
        return counts

    def __repr__(self) -> str:
        """As a small program, so hypothesis prints a counterexample you can paste."""
        names = [f"x{i}" for i in range(self.n_inputs)] + [f"v{k}" for k in range(len(self.nodes))]
        lines = [f"{', '.join(names[:self.n_inputs])} = {', '.join(map(repr, self.inputs)) or '()'}"]
        for k, node in enumerate(self.nodes):
            lines.append(f"{names[self.n_inputs + k]} = {node.op.render([names[i] for i in node.args], node.const)}")
        return "Expr(\n  " + "\n  ".join(lines) + "\n)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis (and IPython) print dataclasses field by field; print the program instead."""
        printer.text(repr(self))


_SAFE = next(op for op in OPS if op.name == "tanh")  # defined and bounded everywhere: the fallback
# the output node that sums the unused nodes: a sum is defined for any operands (it still goes by "sum", so
# backends need nothing new)
_OUTPUT = Op("sum", lambda *xs: vsum(xs), lambda *xs: math.fsum(xs), (Domain(-math.inf, math.inf),),
             (2, 3, 4, 5, 6, 7, 8, 9), primitive=SUM)


def expressions(*, ops: Iterable[Op] = OPS, extra_ops: Iterable[Op] = (), min_inputs: int = 1,
                max_inputs: int = 3, max_nodes: int = 8, input_domain: Domain = Domain(-2.0, 2.0),
                bound: float = 50.0) -> SearchStrategy[Expr]:
    """Random expression DAGs (a hypothesis strategy), with inputs where they are safe to check.

    Operands are drawn from the inputs and all earlier nodes that lie in the op's
    `Domain`, so subexpressions are shared and fan out (including ``x * x``).  The
    result must stay within ``bound``, so finite differences stay meaningful; when
    no operand fits or the result is too large, the node becomes ``tanh`` of its
    first operand.  ``extra_ops`` adds your own ops (see `op_from_primitive`),
    drawn for about half of the nodes.  Nodes that nothing uses are summed into
    the output.
    """
    from hypothesis import strategies as st

    builtin, extra = list(ops), list(extra_ops)
    if not builtin and not extra:
        raise ValueError("expressions needs at least one op")

    @st.composite
    def draw(draw: DrawFn) -> Expr:
        n = draw(st.integers(min_inputs, max_inputs))
        xs = tuple(draw(input_domain.floats()) for _ in range(n))
        values = list(xs)
        nodes: list[Node] = []
        for _ in range(draw(st.integers(1, max_nodes))):
            # your ops are what is under test: draw them for about half of the nodes, not 1 in len(OPS)
            use_extra = bool(extra) and (not builtin or draw(st.booleans()))
            op = draw(st.sampled_from(extra if use_extra else builtin))
            k = draw(st.sampled_from(op.arities))
            args = []
            for j in range(k):
                # operands inside the op's domain, newest first: shrinks towards a chain, and any earlier value
                # can be drawn again (shared subexpressions, fan-out, x * x)
                fits = [i for i in reversed(range(len(values))) if values[i] in op.domain(j)] or [len(values) - 1]
                args.append(fits[draw(st.integers(0, len(fits) - 1))])
            const = draw(op.consts()) if op.consts is not None else None
            node = Node(op, tuple(args), const)
            value = _try(node, values) if op.accepts([values[i] for i in args], const) else None
            if value is None or not abs(value) <= bound:  # no operand fits, or the result is too large
                node = Node(_SAFE, node.args[:1])
                value = math.tanh(values[args[0]])
            nodes.append(node)
            values.append(value)
        used = Expr(n, tuple(nodes)).uses()
        sinks = [n + k for k in range(len(nodes)) if not used[n + k]]
        if len(sinks) > 1:
            nodes.append(Node(_OUTPUT, tuple(sinks)))
        return Expr(n, tuple(nodes), xs)

    return draw()


def _try(node: Node, values: Sequence[float]) -> float | None:
    try:
        value = float(node.op.call(node.op.reference, [values[i] for i in node.args], node.const))
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value if math.isfinite(value) else None
