"""Hypothesis strategies for derivative tests: domains, operations and random expression DAGs.

Hand-picked test points rarely find the input where a rule goes wrong; a search
does.  This module gives hypothesis what it needs to search:

* `Domain` (start here): an interval minus neighbourhoods of kinks and poles.
  The engine follows IEEE 754 and never raises on a domain edge (log(0) is -inf,
  sqrt(-1) is nan), so a Domain no longer keeps you away from errors: it keeps
  inputs where a function is smooth, so that finite differences mean something.
* `Op`: one operation, as the engine does it and as plain floats do it;
  `OPS` holds every primitive of the engine's rule table (`micrograd.primitives`)
  and of the fused neuron nodes (`micrograd.fused`), through each public way of
  calling it; `op_from_primitive` makes an `Op` of your own `Primitive`.
* `expressions`: random expression DAGs (`Expr`) with shared subexpressions and
  fan-out, checked at a safe point, or anywhere including 0, ±inf and nan
  (``special_points=True``), with a plain-float evaluator (`Expr.reference`) and
  a hook for oracle backends such as PyTorch (`Expr.evaluate`).

Needs hypothesis (``pip install "micrograd[testing]"``); `micrograd.testing.gradcheck` does not.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

try:
    from hypothesis import strategies as st
    from hypothesis.strategies import DrawFn, SearchStrategy
except ModuleNotFoundError as missing:  # hypothesis is an extra, not a dependency
    if (missing.name or "").partition(".")[0] != "hypothesis":
        raise
    raise ModuleNotFoundError(
        "micrograd.testing's strategies (Domain, Op, OPS, expressions) need hypothesis, which a plain install "
        'lacks: pip install "micrograd[testing]"', name=missing.name) from missing

from ..engine import vsum
from ..fused import DOT, DOT_RELU, DOT_SIGMOID, DOT_TANH, dot
from ..primitives import (
    ABS,
    ADD,
    COS,
    DIV,
    EXP,
    FLOORDIV,
    LEAKY_RELU,
    LOG,
    MOD,
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
    SUB,
    SUM,
    TANH,
    Primitive,
)

__all__ = ["OPS", "SPECIAL_POINTS", "Domain", "Expr", "Node", "Op", "expressions", "op_from_primitive",
           "special_floats"]


# ---------------------------------------------------------------- domains
@dataclass(frozen=True)
class Domain:
    """An interval [low, high] minus a neighbourhood of radius `margin` around each point in `avoid`.

    `avoid` holds the points where an operation is singular or has a kink (0 for
    ``abs``, ``relu``, ``1/x``); staying `margin` away keeps central differences,
    which straddle the point, meaningful.  Outside a Domain the engine still gives
    an answer (IEEE: inf, nan, a one-sided slope); it is just not one that finite
    differences can confirm.
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
        return st.floats(self.low, self.high, allow_nan=False, allow_infinity=False).filter(self.__contains__)


#: Where rules break: signed zeros, ±1, the smallest subnormal, the largest float, where exp over- and
#: underflows (709.78, -745.13), ±inf and nan.  `special_floats` draws these most often.
SPECIAL_POINTS: tuple[float, ...] = (
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, math.inf, -math.inf, math.nan,
    5e-324, -5e-324, sys.float_info.min, 1e-300, -1e-300, 1e300, -1e300, sys.float_info.max, -sys.float_info.max,
    709.0, 710.0, -745.0, -746.0, 1e16, -1e16,
)


def special_floats() -> SearchStrategy[float]:
    """Any float: a quarter of the draws ±0.0, ±inf or nan, a quarter `SPECIAL_POINTS`, a quarter moderate
    values, a quarter anything (shrinks towards 0.0)."""
    return st.one_of(st.sampled_from((0.0, -0.0, math.inf, -math.inf, math.nan)), st.sampled_from(SPECIAL_POINTS),
                     st.floats(-4.0, 4.0), st.floats())


# ---------------------------------------------------------------- operations
def _always(*args: float) -> bool:
    return True


@dataclass(frozen=True, eq=False)
class Op:
    """One operation as the strategies use it: how the engine does it and how plain floats do.

    ``apply(*values[, const])`` builds the engine graph (through the public
    operators, methods or a `Primitive`); ``reference(*floats[, const])`` is an
    independent plain-float implementation (the math module / closed form), which
    may raise outside the op's domain.  ``domains`` gives one `Domain` per operand
    (the last is reused for variadic ops), ``consts`` a strategy factory for the
    non-differentiable constant, if any, and ``ok`` any extra condition on
    operands and constant.  ``arities`` lists the operand counts the op accepts.
    ``primitive`` is the engine primitive it exercises; ``show`` renders a call
    for `Expr`'s repr.
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
        """Whether the op is smooth enough at these operands for finite differences to check it."""
        if const is not None and not math.isfinite(const):
            return False
        extra = () if const is None else (const,)
        return all(a in self.domain(k) for k, a in enumerate(args)) and self.ok(*args, *extra)

    def call(self, fn: Callable[..., Any], args: Sequence[Any], const: float | None) -> Any:
        """fn (``apply``, ``reference`` or a backend's) on the operands, with the constant last if there is one."""
        return fn(*args) if const is None else fn(*args, const)

    def render(self, args: Sequence[str], const: float | None) -> str:
        """This op applied to operand names, as source text (for `Expr`'s repr)."""
        c = None if const is None else _Literal(const)
        if self.show:
            return self.show.format(*args, c=c)
        extra = [] if c is None else [repr(c)]
        return f"{self.name}({', '.join([*args, *extra])})"

    def arguments(self) -> SearchStrategy[tuple[tuple[float, ...], float | None]]:
        """(operands, const) inside the op's domain, for checking the op on its own."""

        @st.composite
        def draw(draw: DrawFn) -> tuple[tuple[float, ...], float | None]:
            const = draw(self.consts()) if self.consts is not None else None
            k = draw(st.sampled_from(self.arities))
            args = tuple(draw(self.domain(i).floats()) for i in range(k))
            return args, const

        return draw().filter(lambda ac: self.accepts(*ac))


@dataclass(frozen=True)
class _Literal:
    """A float whose repr is Python source: ``math.inf`` and ``math.nan`` instead of ``inf`` and ``nan``."""

    x: float

    def __repr__(self) -> str:
        if math.isnan(self.x):
            return "math.nan"
        if math.isinf(self.x):
            return "math.inf" if self.x > 0 else "-math.inf"
        return repr(self.x)


def op_from_primitive(primitive: Primitive, *domains: Domain, reference: Callable[..., float] | None = None,
                      ok: Callable[..., bool] = _always) -> Op:
    """An `Op` for your own `Primitive`, so `expressions` mixes it into random DAGs.

    One `Domain` per operand.  ``reference`` defaults to the primitive's own
    forward function: the DAG tests then check your partials, not your forward.
    Raises ``ValueError`` without a Domain.
    """
    if not domains:
        raise ValueError("op_from_primitive needs one Domain per operand")
    return Op(primitive.name, primitive, reference or primitive.forward, tuple(domains), (len(domains),), ok=ok,
              primitive=primitive)


def _consts(low: float, high: float) -> Callable[[], SearchStrategy[float]]:
    def strategy() -> SearchStrategy[float]:
        return st.floats(low, high, allow_nan=False, allow_infinity=False)

    return strategy


def _exponents() -> SearchStrategy[float]:
    return st.sampled_from([2.0, 3.0, 1.0, 0.0, -1.0, -2.0, 0.5, 1.5, -0.5, 2.5])


def _powc_ok(x: float, c: float) -> bool:
    if not (math.isfinite(x) and math.isfinite(c)):
        return False
    if c != int(c):
        return x >= 0.25  # a fractional power needs a positive base, away from the singular 0
    return c >= 0 or abs(x) >= 0.25  # x**-1, x**-2 ... are singular at 0


def _between_jumps(a: float, b: float) -> bool:
    """a % b and a // b jump where a / b is an integer; central differences must not straddle a jump."""
    if not (math.isfinite(a) and abs(b) >= 0.25 and math.isfinite(b)):
        return False
    q = a / b
    return abs(q - round(q)) >= 1e-3


def _dot_reference(*xs: float) -> float:
    return xs[0] + math.fsum(w * x for w, x in zip(xs[1::2], xs[2::2]))


def _dot_apply(*xs: Any, activation: str | None = None) -> Any:
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

#: Every primitive of the rule table (`micrograd.primitives.TABLE`) and every fused neuron rule
#: (`micrograd.fused.NEURON_RULES`), through each public way of calling it.  ``expressions`` draws from
#: these; a test holds this list to the table, so a new primitive cannot go untested.
OPS: tuple[Op, ...] = (
    Op("add", lambda a, b: a + b, lambda a, b: a + b, (_R,), (2,), primitive=ADD, show="{0} + {1}"),
    Op("sub", lambda a, b: a - b, lambda a, b: a - b, (_R,), (2,), primitive=SUB, show="{0} - {1}"),
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
    Op("mod", lambda a, b: a % b, lambda a, b: a % b, (_R, _NONZERO), (2,), ok=_between_jumps, primitive=MOD,
       show="{0} % {1}"),
    Op("modc", lambda a, c: a % c, lambda a, c: a % c, (_R,), consts=_consts(-3, 3), ok=_between_jumps,
       primitive=MOD, show="{0} % {c!r}"),
    Op("rmod", lambda a, c: c % a, lambda a, c: c % a, (_NONZERO,), consts=_consts(-3, 3),
       ok=lambda a, c: _between_jumps(c, a), primitive=MOD, show="{c!r} % {0}"),
    Op("floordiv", lambda a, b: a // b, lambda a, b: a // b, (_R, _NONZERO), (2,), ok=_between_jumps,
       primitive=FLOORDIV, show="{0} // {1}"),
    Op("floordivc", lambda a, c: a // c, lambda a, c: a // c, (_R,), consts=_consts(-3, 3), ok=_between_jumps,
       primitive=FLOORDIV, show="{0} // {c!r}"),
    Op("rfloordiv", lambda a, c: c // a, lambda a, c: c // a, (_NONZERO,), consts=_consts(-3, 3),
       ok=lambda a, c: _between_jumps(c, a), primitive=FLOORDIV, show="{c!r} // {0}"),
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
    Op("dot_relu", functools.partial(_dot_apply, activation="relu"), lambda *xs: max(_dot_reference(*xs), 0.0),
       (_R,), (1, 3, 5), ok=_neuron_ok, primitive=DOT_RELU),
    Op("dot_tanh", functools.partial(_dot_apply, activation="tanh"), lambda *xs: math.tanh(_dot_reference(*xs)),
       (_R,), (1, 3, 5), primitive=DOT_TANH),
    Op("dot_sigmoid", functools.partial(_dot_apply, activation="sigmoid"),
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
    """A random expression DAG over ``n_inputs`` inputs, with a point to evaluate it at.

    Calling it on Values builds the engine graph; `reference` evaluates the same
    DAG on plain floats with each op's independent reference; `evaluate` runs it
    with any other backend (a mapping from op name to function), e.g. PyTorch
    tensors or HIPS autograd boxes, for oracle tests.  The output is the last
    node; every other node feeds into it.  `inputs` is the point: from
    `expressions()` one where each op's operands lie inside its `Domain` and every
    value is moderate (the output may be a sum of several moderate values); from
    ``expressions(special_points=True)`` any point, 0, ±inf and nan included.
    """

    n_inputs: int
    nodes: tuple[Node, ...]
    inputs: tuple[float, ...] = field(default=())

    def evaluate(self, xs: Sequence[Any], backend: Mapping[str, Callable[..., Any]] | None = None) -> Any:
        """The output, computing node ``k`` as ``backend[op.name](*operands[, const])`` (default: op.apply).

        Raises ``TypeError`` if ``len(xs)`` is not ``n_inputs``.
        """
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
        point = ", ".join(repr(_Literal(x)) for x in self.inputs) or "()"
        lines = [f"{', '.join(names[:self.n_inputs])} = {point}"]
        for k, node in enumerate(self.nodes):
            lines.append(f"{names[self.n_inputs + k]} = {node.op.render([names[i] for i in node.args], node.const)}")
        return "Expr(\n  " + "\n  ".join(lines) + "\n)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis (and IPython) print dataclasses field by field; print the program instead, each line
        at the printer's indentation (``break_`` keeps it), so it lines up inside a falsifying example."""
        first, *rest = repr(self).split("\n")
        printer.text(first)
        for line in rest:
            printer.break_()
            printer.text(line)


_SAFE = next(op for op in OPS if op.name == "tanh")  # defined and bounded everywhere: the fallback
# the output node that sums the unused nodes: a sum is defined for any operands (it still goes by "sum", so
# backends need nothing new)
_OUTPUT = Op("sum", lambda *xs: vsum(xs), lambda *xs: math.fsum(xs), (Domain(-math.inf, math.inf),),
             (2, 3, 4, 5, 6, 7, 8, 9), primitive=SUM)


def expressions(*, ops: Iterable[Op] = OPS, extra_ops: Iterable[Op] = (), min_inputs: int = 1,
                max_inputs: int = 3, max_nodes: int = 8, input_domain: Domain = Domain(-2.0, 2.0),
                bound: float = 50.0, special_points: bool = False) -> SearchStrategy[Expr]:
    """Random expression DAGs (a hypothesis strategy), with inputs where they are safe to check.

    Operands are drawn from the inputs and all earlier nodes that lie in the op's
    `Domain`, so subexpressions are shared and fan out (including ``x * x``).  The
    result must stay within ``bound``, so finite differences stay meaningful; when
    no operand fits or the result is too large, the node becomes ``tanh`` of its
    first operand.  ``extra_ops`` adds your own ops (see `op_from_primitive`),
    drawn for about half of the nodes.  Nodes that nothing uses are summed into
    the output; inputs that nothing uses are dropped, down to ``min_inputs``.

    With ``special_points=True`` there is no safety at all: inputs and constants
    come from `special_floats` (0, -0.0, ±inf, nan, the largest and smallest
    floats, ...), any earlier value may be any operand, and ``input_domain`` and
    ``bound`` are ignored.  For properties that must hold everywhere (every mode
    of differentiation gives the same answer, nothing raises), not for finite
    differences; `Expr.reference` may raise there.  Raises ``ValueError`` without ops.
    """
    builtin, extra = list(ops), list(extra_ops)
    if not builtin and not extra:
        raise ValueError("expressions needs at least one op")

    def pick(draw: DrawFn) -> Op:
        # your ops are what is under test: draw them for about half of the nodes, not 1 in len(OPS)
        use_extra = bool(extra) and (not builtin or draw(st.booleans()))
        return draw(st.sampled_from(extra if use_extra else builtin))

    @st.composite
    def safe(draw: DrawFn) -> Expr:
        n = draw(st.integers(min_inputs, max_inputs))
        xs = tuple(draw(input_domain.floats()) for _ in range(n))
        values = list(xs)
        nodes: list[Node] = []
        for _ in range(draw(st.integers(1, max_nodes))):
            op = pick(draw)
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
        return _with_output(n, nodes, xs, min_inputs)

    @st.composite
    def anywhere(draw: DrawFn) -> Expr:
        n = draw(st.integers(min_inputs, max_inputs))
        xs = tuple(draw(special_floats()) for _ in range(n))
        nodes: list[Node] = []
        for _ in range(draw(st.integers(1, max_nodes))):
            op = pick(draw)
            k = draw(st.sampled_from(op.arities))
            last = n + len(nodes) - 1  # newest first, as above
            args = tuple(last - draw(st.integers(0, last)) for _ in range(k))
            const = draw(special_floats()) if op.consts is not None else None
            nodes.append(Node(op, args, const))
        return _with_output(n, nodes, xs, min_inputs)

    return anywhere() if special_points else safe()


def _with_output(n: int, nodes: list[Node], xs: tuple[float, ...], min_inputs: int) -> Expr:
    """The DAG in its plainest form: inputs nothing uses dropped (down to `min_inputs`), so a shrunk
    counterexample shows only what matters, and the nodes nothing uses summed into the output."""
    used = Expr(n, tuple(nodes)).uses()
    keep = [i for i in range(n) if used[i]]
    keep = sorted(keep + [i for i in range(n) if not used[i]][:max(0, min_inputs - len(keep))])
    index = {old: new for new, old in enumerate([*keep, *range(n, n + len(nodes))])}
    nodes = [Node(node.op, tuple(index[i] for i in node.args), node.const) for node in nodes]
    n, xs = len(keep), tuple(xs[i] for i in keep)
    used = Expr(n, tuple(nodes)).uses()
    sinks = [n + k for k in range(len(nodes)) if not used[n + k]]
    if len(sinks) > 1:
        nodes = [*nodes, Node(_OUTPUT, tuple(sinks))]
    return Expr(n, tuple(nodes), xs)


def _try(node: Node, values: Sequence[float]) -> float | None:
    try:
        value = float(node.op.call(node.op.reference, [values[i] for i in node.args], node.const))
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value if math.isfinite(value) else None
