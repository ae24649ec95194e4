"""The rule table: every primitive's forward function and its partial derivatives, side by side.

Start reading at the table below (``ADD = ...``).  Each row is one operation:

    NAME = Primitive("name", forward, partials)

``forward(*xs)`` maps floats to a float.  ``partials(*xs, out)`` returns d out / d x_i for every
input x_i.  The same partials serve both modes of differentiation: during `backward()` they
receive floats; under ``grad(create_graph=True)`` they receive the Values themselves, so the
derivative is recorded and can be differentiated again.  That is why they are written with
arithmetic and with the primitives below (``exp(x)``, ``div(a, b)``), which accept both.

Numbers follow IEEE 754 like PyTorch and C's math library, never Python's exceptions: ``log(0)``
is -inf, ``log(-1)``, ``0/0`` and ``sqrt(-1)`` are nan, ``1/0`` is inf, overflow is inf, and nan
goes in, nan comes out.  So one graph gives one answer in every mode, and a bad number shows up
where it was made instead of stopping the program.

This module knows nothing of the engine: a primitive applied to a `Value` asks the Value's
class to record the node (``type(x).record``), so the table stays a table.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, NoReturn

Partials = Callable[..., Sequence[Any]]


class DomainError(ValueError):
    """An operation applied outside its domain.  The engine follows IEEE (nan, ±inf) and never raises it;
    callers such as the command line use it to report a nan with the operation that made it."""

    def __init__(self, op: str, operand: float, why: str) -> None:
        super().__init__(f"{op}: {why} (got {operand!r})")
        self.op, self.operand = op, operand


class Primitive:
    """A scalar operation: its forward function and its partial derivatives.

    ``forward(*xs[, const])`` maps floats to a float.  ``partials(*xs, out[, const])`` returns
    d out / d x_i for every input (floats during `backward()`, Values under
    ``grad(create_graph=True)``: write it with arithmetic and primitives such as
    ``micrograd.exp``).  With ``const=True`` the last argument is a non-differentiable
    parameter (a slope, an exponent), passed to ``forward`` after the inputs and to
    ``partials`` after ``out``.  With ``flat_at_zero=True`` the primitive promises that wherever
    its output is exactly 0 every partial is exactly 0 whatever comes from above (ReLU's flat
    side, as PyTorch's threshold_backward), so a graph walk need not look behind such a node.

    Called on numbers it returns a float; on any `Value`, a recorded Value::

        cube = Primitive("cube", lambda x: x ** 3, lambda x, out: (3 * x ** 2,))
        y = cube(Value(2.0))        # y.data == 8.0; y.backward() gives 12.0
    """

    __slots__ = ("name", "forward", "partials", "const", "flat_at_zero")

    def __init__(self, name: str, forward: Callable[..., float], partials: Partials,
                 *, const: bool = False, flat_at_zero: bool = False) -> None:
        self.name, self.forward, self.partials = name, forward, partials
        self.const, self.flat_at_zero = const, flat_at_zero

    def __call__(self, *args: Any) -> Any:
        for x in args:  # just an optimization: floats go straight to the forward (partials call us so)
            if type(x) is not float:
                break
        else:
            return self.forward(*args)
        inputs, const = (args[:-1], as_float(args[-1])) if self.const else (args, None)
        for x in inputs:
            record = getattr(type(x), "record", None)
            if record is not None:  # a Value: its class records the node
                return record(self, inputs, const)
        floats = [as_float(x) for x in inputs]
        return self.forward(*floats) if const is None else self.forward(*floats, const)

    def forward_at(self, parents: Sequence[Any], const: float | None = None) -> float:
        """``forward`` of the parents' data (and `const`): the number a new node holds.

        Where a rule written with Python's operators raises (``1 / 0``, overflow), it is evaluated
        again on constant Values, which follow IEEE, as its partials are.  A ValueError of its own
        (a `DomainError`) stands; any other (``math.log(0)``) is one ValueError naming the rule.
        A complex result (Python's ``(-4) ** 0.5``) is nan; anything else not a number, a TypeError.
        """
        f, n = self.forward, len(parents)  # the common arities called by hand: just an optimization, it runs per node
        try:
            if const is not None:
                out = f(parents[0].data, const) if n == 1 else f(*[p.data for p in parents], const)
            elif n == 2:
                out = f(parents[0].data, parents[1].data)
            else:
                out = f(parents[0].data) if n == 1 else f(*[p.data for p in parents])
        except ArithmeticError as error:
            out = data(self._on_constants(error, self.forward, [p.data for p in parents], const, type(parents[0])))
        except ValueError as error:
            self._refuse(error)
        return out if type(out) is float else self._real(out)

    def _real(self, out: Any) -> float:
        if isinstance(out, complex):  # a real operation without a real result: IEEE's nan
            return math.nan
        try:
            return as_float(out)
        except TypeError:
            raise TypeError(f"{self.name}: forward returned {type(out).__name__}, not a number") from None

    def _float_partials(self, xs: Sequence[float], out: float, const: float | None, cls: type) -> Sequence[Any]:
        """The partials on floats, with the same fallbacks as `forward_at` (the node's class `cls` makes
        constants); not yet checked for their number."""
        try:
            return self.partials(*xs, out) if const is None else self.partials(*xs, out, const)
        except ArithmeticError as error:
            return [data(d) for d in self._counted(self._on_constants(error, self.partials, [*xs, out], const, cls),
                                                   len(xs))]
        except ValueError as error:
            self._refuse(error)

    def _on_constants(self, error: Exception, fn: Callable[..., Any], xs: Sequence[float], const: float | None,
                      cls: type) -> Any:
        """`fn` (the forward or the partials) on constant Values of `xs` (and `const`), where it raised
        `error` on floats: Values follow IEEE.  If `fn` calls a function of floats there (``math.log``),
        it has no IEEE answer: a ValueError naming the rule says so."""
        constant = next(k for k in cls.__mro__ if "record" in vars(k))  # the engine's Value, not a subclass's __init__
        args = [constant(x, requires_grad=False) for x in (*xs, *([] if const is None else [const]))]
        try:
            return fn(*args)
        except TypeError:
            raise ValueError(f"{self.name}: raised {error!r} on floats; write the rule with operators and "
                             "micrograd.math, which give inf and nan there (IEEE)") from error

    def _refuse(self, error: ValueError) -> NoReturn:
        if isinstance(error, DomainError):  # the rule's own refusal, already naming it
            raise error
        raise ValueError(f"{self.name}: {error}; write the rule with operators and micrograd.math, which give inf "
                         "and nan where Python raises (IEEE)") from error

    def local_derivatives(self, xs: Sequence[Any], out: Any, const: float | None) -> Sequence[Any]:
        """d out / d x_i for each input (Values: the derivative is recorded), called with the parameter if
        the rule has one.  ValueError if the rule gives a different number of partials than inputs
        (as PyTorch); TypeError naming the rule if it uses functions of floats (``math``), which
        cannot be differentiated again."""
        try:
            ds = self.partials(*xs, out) if const is None else self.partials(*xs, out, const)
        except TypeError as error:
            raise TypeError(f"{self.name}: {error} (to be differentiated again, under grad(create_graph=True), "
                            "write the partials with operators and micrograd.math)") from error
        except ArithmeticError as error:  # Python's arithmetic on the parameter (1 / c at c = 0): a constant Value
            if const is None:  # of it follows IEEE
                raise
            ds = self._on_constants(error, lambda c: self.partials(*xs, out, c), [], const, type(out))
        return self._counted(ds, len(xs))

    def _counted(self, ds: Any, n: int) -> Sequence[Any]:
        """`ds` if it is a sequence of `n` derivatives; else a ValueError naming the rule (a TypeError
        if it is no sequence at all, such as a bare number)."""
        if not isinstance(ds, Sequence) or isinstance(ds, (str, bytes)):
            raise TypeError(f"{self.name}: partials must return a tuple, one derivative per input, "
                            f"not {type(ds).__name__}")
        if len(ds) != n:
            raise ValueError(f"{self.name}: partials returned {len(ds)} derivatives for {n} inputs")
        return ds

    def float_partials(self, node: Any) -> Sequence[Any]:
        """The partials at `node` as numbers (IEEE: inf and nan where Python would raise)."""
        xs = [p.data for p in node._prev]
        return self._counted(self._float_partials(xs, node.data, node._const, type(node)), len(xs))

    def chain(self, node: Any, create_graph: bool) -> None:
        """The chain rule at `node` (its ``_backward()``): add ``d node/d parent * node.grad`` to each
        parent's ``.grad``.  The reverse walk calls it once per node, children first; a rule with a
        faster way to do the same arithmetic (micrograd.fused) overrides it."""
        g, parents, const = node.grad, node._prev, node._const
        n = len(parents)
        if create_graph:  # the partials of Values: recorded, so differentiable again
            ds = self.local_derivatives(parents, node, const)
        else:  # the partials of floats; the common arities called by hand (just an optimization: it runs per node)
            partials, out = self.partials, node.data
            try:
                if n == 1:
                    ds = partials(parents[0].data, out) if const is None else partials(parents[0].data, out, const)
                elif n == 2 and const is None:
                    ds = partials(parents[0].data, parents[1].data, out)
                else:
                    xs = [p.data for p in parents]
                    ds = partials(*xs, out) if const is None else partials(*xs, out, const)
            except (ArithmeticError, ValueError):  # again, with the fallbacks
                ds = self._float_partials([p.data for p in parents], out, const, type(node))
        if type(ds) is not tuple or len(ds) != n:  # checked before anything is added, as PyTorch
            ds = self._counted(ds, n)
        if n == 1:  # again the common arities by hand
            if parents[0].requires_grad:
                parents[0].grad += ds[0] * g
        elif n == 2:
            a, b = parents
            if a.requires_grad:
                a.grad += ds[0] * g
            if b.requires_grad:
                b.grad += ds[1] * g
        else:
            for parent, d in zip(parents, ds):
                if parent.requires_grad:
                    parent.grad += d * g

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        # a built-in rule pickles by name, so a pickled graph finds the same table after loading
        return (primitive_named, (self.name,)) if TABLE.get(self.name) is self else super().__reduce_ex__(protocol)

    def __copy__(self) -> Primitive:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Primitive:
        return self  # a rule is a constant: copies of a graph share the table


class Closure(Primitive):
    """The rule of a node made the lecture's way: ``out = Value(t, (x,), 'tanh'); out._backward = fn``.

    ``fn`` reads ``out.grad`` and adds into its parents' ``.grad``: it is the node's chain-rule
    step, as in the lecture.  `grad()` needs partial derivatives it can differentiate, which a
    closure does not give, so it refuses such graphs.
    """

    __slots__ = ("fn",)

    def __init__(self, op: str, fn: Callable[[], None] | None) -> None:
        super().__init__(op, _no_forward, _no_partials)
        self.fn = fn

    def chain(self, node: Any, create_graph: bool) -> None:
        if self.fn is not None:
            self.fn()


def _no_forward(*xs: float) -> float:
    raise TypeError("a node made with Value(data, _children, _op) has no forward rule")


def _no_partials(*xs: Any) -> tuple[Any, ...]:
    raise TypeError("this node was made the lecture's way, with a _backward closure: grad() needs partial "
                    "derivatives it can differentiate again; define the operation as a micrograd.Primitive")


# ---------------------------------------------------------------- reading a node
def primitive_of(node: Any) -> Primitive | None:
    """The primitive that made `node` (None for a leaf or a constant)."""
    return node._rule


def constant_of(node: Any) -> float | None:
    """The number folded into `node`'s operation: c in ``x + c``, ``x * c``, ``x ** c``, a leaky slope."""
    return node._const


def local_derivatives(node: Any) -> tuple[float, ...]:
    """d node / d parent for each parent in ``node._prev``, as floats (IEEE: may be inf or nan)."""
    rule = node._rule
    if rule is None or not node._prev:
        return ()
    return tuple(rule.float_partials(node))


def as_float(x: object) -> float:
    """`x` as a Python float; a TypeError naming the type for anything that is not a real number."""
    if type(x) is float:
        return x
    if isinstance(x, (str, bytes, complex)) or x is None or not hasattr(type(x), "__float__"):
        raise TypeError(f"a Value holds a real number, not {type(x).__name__}")
    try:
        return float(x)  # type: ignore[arg-type]
    except OverflowError:  # an int beyond the floats: IEEE rounds it to ±inf
        return math.inf if x > 0 else -math.inf  # type: ignore[operator]
    except (TypeError, ValueError):
        raise TypeError(f"a Value holds a real number, not {type(x).__name__}") from None


def data(x: Any) -> float:
    """The number inside `x`, a Value or a number (for tests inside partials: never compare Values)."""
    return x if isinstance(x, (int, float)) else x.data


# ---------------------------------------------------------------- IEEE forwards
def ieee(fn: Callable[..., float], on_error: Callable[..., float]) -> Callable[..., float]:
    """`fn` (a function of `math`), returning ``on_error(*xs)``, the IEEE 754 (and PyTorch) value,
    where Python's math raises."""

    def forward(*xs: float) -> float:
        try:
            return fn(*xs)
        except (ValueError, ZeroDivisionError, OverflowError):
            return on_error(*xs)

    return forward


def _divide_by_zero(a: float, b: float) -> float:
    if a == 0 or a != a:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _pow_error(x: float, c: float) -> float:
    """What C's pow gives where math.pow raises: 0 to a negative power, overflow, a negative base."""
    odd = c == c and math.isfinite(c) and c == int(c) and int(c) % 2 == 1
    if x == 0:
        return math.copysign(math.inf, x) if odd else math.inf
    if x < 0 and not (math.isfinite(c) and c == int(c)):
        return math.nan  # a negative base to a fractional power
    return -math.inf if x < 0 and odd else math.inf  # overflow


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # nan stays nan here
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))  # log(1 + e^x) without overflow; nan -> nan


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0  # 0 at 0 and at nan, as torch.sgn


def _sum(*xs: float) -> float:
    """The correctly rounded sum (math.fsum), with IEEE's answer where fsum raises instead."""
    try:
        total = math.fsum(xs)  # an exact zero is +0.0, except -0.0 + -0.0 + ... (IEEE)
        return total if total or not all(math.copysign(1.0, x) < 0 for x in xs) else -0.0
    except (OverflowError, ValueError):
        infinite = [x for x in xs if not math.isfinite(x)]
        if infinite:  # the finite terms cannot change it: one kind of inf, or nan (inf - inf, or a nan)
            return infinite[0] if all(x == infinite[0] for x in infinite) else math.nan
        exact = sum(map(Fraction, xs), Fraction(0))  # a partial sum beyond the floats: exactly, then
        try:  # rounded once (slow, but only here)
            return float(exact)
        except OverflowError:  # the total itself is beyond the floats
            return math.inf if exact > 0 else -math.inf


def _floordiv(a: float, b: float) -> float:
    try:
        return a // b
    except ZeroDivisionError:
        return _divide_by_zero(a, b)


def _mod(a: float, b: float) -> float:
    try:
        return a % b  # the divisor's sign, as torch.remainder
    except ZeroDivisionError:
        return math.nan


_nan = lambda *xs: math.nan  # noqa: E731


def _pow_da(a: Any, b: Any) -> Any:
    """d(a ** b)/da = b * a ** (b - 1); 0 where b == 0 and a ** (b - 1) is infinite (0 * inf), as PyTorch.
    Elsewhere it stays a product with b, so the mixed second derivative (1/a at b = 0) survives."""
    slope = pow_(a, b - 1.0)
    return 0.0 if data(b) == 0 and not math.isfinite(data(slope)) else b * slope


def _pow_db(a: Any, b: Any, out: Any) -> Any:
    """d(a ** b)/db = a ** b * log(a); 0 where a == 0 and b >= 0 (0 * -inf), as PyTorch."""
    return 0.0 if data(a) == 0 and data(b) >= 0 else out * log(a)

# the rules' partials call these (bound below) on floats or Values
div: Primitive
powc: Primitive
pow_: Primitive
exp: Primitive
log: Primitive
sigmoid: Primitive
sin: Primitive
cos: Primitive
floor_div: Primitive

# name                 forward                                   partials (xs..., out[, const])  source: calculus
ADD = Primitive("+", operator.add, lambda a, b, out: (1.0, 1.0))
MUL = Primitive("*", operator.mul, lambda a, b, out: (b, a))
SUB = Primitive("-", operator.sub, lambda a, b, out: (1.0, -1.0))  # a - b, one node (micrograd: a + b * -1)
DIV = Primitive("/", ieee(operator.truediv, _divide_by_zero), lambda a, b, out: (div(1.0, b), -div(out, b)))
POW = Primitive("**", ieee(math.pow, _pow_error), lambda a, b, out: (_pow_da(a, b), _pow_db(a, b, out)))  # a ** b
SHIFT = Primitive("+{}", operator.add, lambda x, out, c: (1.0,), const=True)  # x + c, c a number
SCALE = Primitive("*{}", operator.mul, lambda x, out, c: (c,), const=True)  # x * c
POWC = Primitive("**{}", ieee(math.pow, _pow_error),
                 lambda x, out, c: (0.0 if c == 0 else c * powc(x, c - 1.0),), const=True)  # x ** c
SUM = Primitive("sum", _sum, lambda *xs_out: (1.0,) * (len(xs_out) - 1))
EXP = Primitive("exp", ieee(math.exp, lambda x: math.inf), lambda x, out: (out,))
LOG = Primitive("log", ieee(math.log, lambda x: -math.inf if x == 0 else math.nan), lambda x, out: (div(1.0, x),))
SQRT = Primitive("sqrt", ieee(math.sqrt, _nan), lambda x, out: (div(0.5, out),))
TANH = Primitive("tanh", math.tanh, lambda x, out: (1.0 - out * out,))
SIGMOID = Primitive("sigmoid", _sigmoid, lambda x, out: (out * (1.0 - out),))
SOFTPLUS = Primitive("softplus", _softplus, lambda x, out: (sigmoid(x),))
RELU = Primitive("ReLU", lambda x: 0.0 if x < 0 else x, lambda x, out: (0.0 if out <= 0 else 1.0,),
                 flat_at_zero=True)  # relu(-0.0) is -0.0, as micrograd's and PyTorch's
LEAKY_RELU = Primitive("leaky_relu({})", lambda x, c: x if x > 0 else c * x,
                       lambda x, out, c: (1.0 if data(x) > 0 else c,), const=True)
ABS = Primitive("abs", abs, lambda x, out: (_sign(data(x)),))
SIN = Primitive("sin", ieee(math.sin, _nan), lambda x, out: (cos(x),))
COS = Primitive("cos", ieee(math.cos, _nan), lambda x, out: (-sin(x),))
FLOORDIV = Primitive("//", _floordiv, lambda a, b, out: (0.0, 0.0))  # piecewise constant
MOD = Primitive("%", _mod, lambda a, b, out: (1.0, -floor_div(a, b)))  # a - b * floor(a / b)

# functions that accept numbers or Values (the partials above use them for create_graph)
div, powc, pow_, exp, log, sigmoid, sin, cos, floor_div = DIV, POWC, POW, EXP, LOG, SIGMOID, SIN, COS, FLOORDIV
sqrt, tanh, softplus, relu = SQRT, TANH, SOFTPLUS, RELU


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """x for x > 0, else negative_slope * x (PyTorch's name and default); on a number or a Value."""
    return LEAKY_RELU(x, negative_slope)


TABLE: dict[str, Primitive] = {p.name: p for p in (
    ADD, MUL, SUB, DIV, POW, SHIFT, SCALE, POWC, SUM, EXP, LOG, SQRT, TANH, SIGMOID, SOFTPLUS, RELU, LEAKY_RELU, ABS,
    SIN, COS, FLOORDIV, MOD)}


def primitive_named(name: str) -> Primitive:
    """The built-in primitive called `name` (how a pickled graph finds its rules again)."""
    return TABLE[name]


# The activation vocabulary shared by nn, dot/dots, the expression language and the CLI.
ACTIVATIONS: dict[str, Primitive | None] = {
    "linear": None, "relu": RELU, "tanh": TANH, "sigmoid": SIGMOID, "leaky_relu": LEAKY_RELU,
}


def activation(name: str | Primitive | None) -> Primitive | None:
    """The primitive for an activation name (None for "linear"); a ValueError lists the names."""
    if name is None or isinstance(name, Primitive):
        return name
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]
