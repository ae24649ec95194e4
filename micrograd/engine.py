"""A scalar reverse-mode autodiff engine.

A `Value` remembers its parents and the `Primitive` that made it.  A primitive is a
forward function and the rule for its partial derivatives, written once, side by
side in the table below.  The same rule serves `backward()` (called with floats)
and `grad(create_graph=True)` (called with the Values themselves, so the
derivative is itself a graph that can be differentiated again).

Nodes hold no closures, so a graph has no reference cycles and is freed by
reference counting the moment its root is dropped.

Numerics: every primitive is stable over all finite inputs.  Overflow follows
IEEE semantics (``exp(1000)`` is ``inf``).  Leaving an operation's domain (log
of a non-positive number, sqrt of a negative, 0 to a negative power, a negative
base to a fractional power, division by zero) raises `DomainError`, which names
the operation and the operand, and so does an infinite derivative met during
backward (sqrt at 0).

Neurons: `dot(weights, inputs, bias, activation)` is a whole neuron as one node,
and `dots()` makes a layer of them that share one tuple of inputs.  They are the
hot path of every network, so their forward sum and their backward step are
loops of their own (`_dot_nodes`, `_DotNode._accumulate`) rather than calls
through the table; tests hold both to the DOT rules bit for bit.

Zero gradients: a node whose incoming gradient is exactly 0.0 passes nothing on
(in float mode), and a graph walk never enters the subgraph behind a flat node (a
ReLU whose output is 0, or abs at 0: its partials are all 0).  This is exact — 0 times any
finite partial is 0 — and it makes backward through dead ReLUs and satisfied
hinge losses free, as in a hand-written backward.  The visible differences from
PyTorch: where a partial is itself inf or NaN behind a zero gradient, PyTorch
produces NaN and micrograd leaves the gradient at 0; and an interior node that
only a flat node leads to is not visited, so its `.grad` is not reset.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias, TypeVar, cast

Scalar: TypeAlias = "Value | int | float"
_F = TypeVar("_F", bound=Callable[..., Any])


class DomainError(ValueError):
    """An operation was applied outside its mathematical domain."""

    def __init__(self, op: str, operand: float, why: str) -> None:
        super().__init__(f"{op}: {why} (got {operand!r})")
        self.op, self.operand = op, operand


# ---------------------------------------------------------------- grad mode
_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("micrograd_grad_enabled", default=True)


def is_grad_enabled() -> bool:
    """Whether operations are being recorded in this thread / context."""
    return _grad_enabled.get()


class no_grad:
    """Record nothing inside: for evaluation and for optimizer updates.

    Works as a context manager and as a decorator.  The flag is a context
    variable, so other threads (and asyncio tasks) keep recording.
    """

    def __enter__(self) -> None:
        self._token = _grad_enabled.set(False)

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.reset(self._token)

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


# ---------------------------------------------------------------- primitives
class Primitive:
    """A scalar operation: its forward function and its partial derivatives.

    ``forward(*xs[, const])`` maps floats to a float.  ``partials(*xs, out[, const])``
    returns d out / d x_i for every parent; it receives floats during `backward()`
    and Values under ``grad(create_graph=True)``, so write it with arithmetic and
    with primitives (``micrograd.exp``, ``micrograd.cos`` ...), which accept both.
    With ``const=True`` the last argument is a non-differentiable parameter (a slope,
    an exponent), passed to ``forward`` after the inputs and to ``partials`` after ``out``.
    With ``flat_at_zero=True`` the primitive promises that wherever its output is
    exactly 0, every partial is exactly 0 (ReLU's flat side), so graph walks need
    not look behind such a node: a dead unit costs nothing in backward.

    Calling a primitive on floats returns a float; on any `Value`, a recorded Value::

        cube = Primitive("cube", lambda x: x ** 3, lambda x, out: (3 * x ** 2,))
        y = cube(Value(2.0))        # y.data == 8.0; y.backward() gives 12.0
    """

    __slots__ = ("name", "forward", "partials", "const", "flat_at_zero")

    def __init__(self, name: str, forward: Callable[..., float], partials: Callable[..., Sequence[Any]],
                 *, const: bool = False, flat_at_zero: bool = False) -> None:
        self.name, self.forward, self.partials, self.const = name, forward, partials, const
        self.flat_at_zero = flat_at_zero

    def __call__(self, *args: Scalar) -> Any:
        inputs, const = (args[:-1], _to_float(args[-1])) if self.const else (args, None)
        if any(isinstance(a, Value) for a in inputs):
            return _record(self, tuple(map(_as_value, inputs)), const)
        floats = [_to_float(a) for a in inputs]
        return self.forward(*floats) if const is None else self.forward(*floats, const)

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


def _checked(op: str, ok: Callable[..., bool], why: str, fn: Callable[..., float]) -> Callable[..., float]:
    """Wrap a float function with a domain check and IEEE overflow (inf)."""

    def forward(*xs: float) -> float:
        if not ok(*xs):
            raise DomainError(op, xs[0], why)
        try:
            return fn(*xs)
        except OverflowError:
            return math.inf

    return forward


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise DomainError("div", b, "division by zero")
    return a / b


def _power(x: float, c: float) -> float:
    """x ** c for a constant exponent, with IEEE overflow to a signed inf."""
    if (x == 0 and c < 0) or (x < 0 and c != int(c)):
        raise DomainError("pow", x, "0 to a negative power or a negative base to a fractional power")
    try:
        return x ** c
    except OverflowError:
        return -math.inf if x < 0 and c % 2 == 1 else math.inf


def _sign(x: Any) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _dot(bias: float, *wx: float) -> float:  # wx = (w0..wn-1, x0..xn-1), summed left to right like micrograd
    n = len(wx) // 2
    acc = bias
    for w, x in zip(wx[:n], wx[n:]):
        acc += w * x
    return acc


def _dot_partials(bias: Any, *wx_out: Any) -> tuple[Any, ...]:  # d/d bias = 1, d/d w_i = x_i, d/d x_i = w_i
    n = (len(wx_out) - 1) // 2
    return (1.0, *wx_out[n:2 * n], *wx_out[:n])


# the rules below call these (defined further down) on floats or Values
POW: Primitive
POWC: Primitive
exp: Primitive
log: Primitive
sqrt: Primitive
tanh: Primitive
sigmoid: Primitive
softplus: Primitive
relu: Primitive
sin: Primitive
cos: Primitive

# name                 forward                                                     partials (xs..., out[, const])
ADD = Primitive("+", lambda a, b: a + b, lambda a, b, out: (1.0, 1.0))
MUL = Primitive("*", lambda a, b: a * b, lambda a, b, out: (b, a))
DIV = Primitive("/", _divide, lambda a, b, out: (1.0 / b, -out / b))
POW = Primitive("**", _checked("pow", lambda a, b: a > 0 or (a == 0 and b >= 0), "base must be > 0 "
                               "(or 0 with an exponent >= 0) when the exponent is a Value", math.pow),
                lambda a, b, out: (b * POW(a, b - 1.0) if a > 0 or _data(b) != 0 else 0.0,
                                   out * log(a) if a > 0 else 0.0))
SHIFT = Primitive("+{}", lambda x, c: x + c, lambda x, out, c: (1.0,), const=True)
SCALE = Primitive("*{}", lambda x, c: x * c, lambda x, out, c: (c,), const=True)
POWC = Primitive("**{}", _power, lambda x, out, c: (c * POWC(x, c - 1) if c != 0 else 0.0,), const=True)
SUM = Primitive("sum", lambda *xs: math.fsum(xs), lambda *args: (1.0,) * (len(args) - 1))
DOT = Primitive("dot", _dot, _dot_partials)
EXP = Primitive("exp", _checked("exp", lambda x: True, "", math.exp), lambda x, out: (out,))
LOG = Primitive("log", _checked("log", lambda x: x > 0, "operand must be > 0", math.log), lambda x, out: (1.0 / x,))
SQRT = Primitive("sqrt", _checked("sqrt", lambda x: x >= 0, "operand must be >= 0", math.sqrt),
                 lambda x, out: (0.5 / out,))
TANH = Primitive("tanh", math.tanh, lambda x, out: (1.0 - out * out,))
SIGMOID = Primitive("sigmoid", _sigmoid, lambda x, out: (out * (1.0 - out),))
SOFTPLUS = Primitive("softplus", lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))), lambda x, out: (sigmoid(x),))
RELU = Primitive("ReLU", lambda x: x if x > 0 else 0.0, lambda x, out: (1.0 if out > 0 else 0.0,),
                 flat_at_zero=True)
LEAKY_RELU = Primitive("leaky_relu({})", lambda x, c: x if x > 0 else c * x, lambda x, out, c: (1.0 if x > 0 else c,),
                       const=True)
ABS = Primitive("abs", abs, lambda x, out: (_sign(x),), flat_at_zero=True)
SIN = Primitive("sin", _checked("sin", math.isfinite, "operand must be finite", math.sin), lambda x, out: (cos(x),))
COS = Primitive("cos", _checked("cos", math.isfinite, "operand must be finite", math.cos), lambda x, out: (-sin(x),))

# functions that accept floats or Values (the rules above use them for create_graph)
exp, log, sqrt, tanh, sigmoid, softplus, relu, sin, cos = EXP, LOG, SQRT, TANH, SIGMOID, SOFTPLUS, RELU, SIN, COS


def _dot_then(act: Primitive) -> Primitive:
    """act(bias + w . x) as one node: a whole neuron.  act's slope must depend on its output alone."""

    def forward(bias: float, *wx: float) -> float:
        return act.forward(_dot(bias, *wx))

    def partials(bias: Any, *wx_out: Any) -> tuple[Any, ...]:  # chain rule: act's slope times dot's partials
        (slope,) = act.partials(None, wx_out[-1])
        linear = _dot_partials(bias, *wx_out)
        return linear if isinstance(slope, float) and slope == 1.0 else tuple(slope * d for d in linear)

    return Primitive(f"{act.name}(dot)", forward, partials, flat_at_zero=act.flat_at_zero)


DOT_RELU, DOT_TANH, DOT_SIGMOID = _dot_then(RELU), _dot_then(TANH), _dot_then(SIGMOID)
_NEURON_RULES = {None: DOT, RELU: DOT_RELU, TANH: DOT_TANH, SIGMOID: DOT_SIGMOID}
_NEURON_ACTIVATIONS = {rule: act for act, rule in _NEURON_RULES.items()}


def leaky_relu(x: Scalar, slope: float = 0.01) -> Any:
    """x for x > 0, else slope * x; on a float or a Value."""
    return LEAKY_RELU(x, slope)


# ---------------------------------------------------------------- Value
def _to_float(x: object) -> float:
    if isinstance(x, float):
        return x
    if isinstance(x, (str, bytes, complex)) or x is None or not hasattr(type(x), "__float__"):
        raise TypeError(f"a Value holds a real number, not {type(x).__name__}")
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"a Value holds a real number, not {type(x).__name__}") from None


def _constant(x: object) -> Value:
    return Value(x, requires_grad=False)


class Value:
    """A scalar in a computation graph: its data, its gradient, and how it was made."""

    __slots__ = ("data", "grad", "label", "requires_grad", "_prev", "_rule", "_const")

    def __init__(self, data: object, *, label: str = "", requires_grad: bool = True) -> None:
        self.data: float = _to_float(data)
        self.grad: float = 0.0
        self.label = label
        self.requires_grad = requires_grad
        self._prev: tuple[Value, ...] = ()
        self._rule: Primitive | None = None
        self._const: float | None = None

    @property
    def _op(self) -> str:
        """The operation that made this node ('' for a leaf), e.g. '*' or '**2'."""
        rule = self._rule
        if rule is None:
            return ""
        return rule.name.format(_fmt(self._const)) if self._const is not None else rule.name

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    # -- primitives as operators -------------------------------------------------------
    def __add__(self, other: Scalar) -> Value:
        return _record(ADD, (self, other)) if isinstance(other, Value) else _record(SHIFT, (self,), _to_float(other))

    def __mul__(self, other: Scalar) -> Value:
        return _record(MUL, (self, other)) if isinstance(other, Value) else _record(SCALE, (self,), _to_float(other))

    def __truediv__(self, other: Scalar) -> Value:
        return _record(DIV, (self, _as_value(other)))

    def __pow__(self, other: Scalar) -> Value:
        return _record(POW, (self, other)) if isinstance(other, Value) else _record(POWC, (self,), _to_float(other))

    def exp(self) -> Value: return _record(EXP, (self,))
    def log(self) -> Value: return _record(LOG, (self,))
    def sqrt(self) -> Value: return _record(SQRT, (self,))
    def tanh(self) -> Value: return _record(TANH, (self,))
    def sigmoid(self) -> Value: return _record(SIGMOID, (self,))
    def softplus(self) -> Value: return _record(SOFTPLUS, (self,))
    def relu(self) -> Value: return _record(RELU, (self,))
    def leaky_relu(self, slope: float = 0.01) -> Value: return _record(LEAKY_RELU, (self,), _to_float(slope))
    def abs(self) -> Value: return _record(ABS, (self,))
    def sin(self) -> Value: return _record(SIN, (self,))
    def cos(self) -> Value: return _record(COS, (self,))
    __abs__ = abs

    # -- derived operators -------------------------------------------------------------
    def __neg__(self) -> Value: return self * -1.0  # -self
    def __radd__(self, other: Scalar) -> Value: return self + other  # other + self
    def __sub__(self, other: Scalar) -> Value: return self + (-other)  # self - other
    def __rsub__(self, other: Scalar) -> Value: return (-self) + other  # other - self
    def __rmul__(self, other: Scalar) -> Value: return self * other  # other * self
    def __rtruediv__(self, other: Scalar) -> Value: return _constant(other) / self  # other / self
    def __rpow__(self, other: Scalar) -> Value: return _constant(other) ** self  # other ** self

    # -- comparisons read the data (for max(), sorting, masks); they record nothing ----
    def __lt__(self, other: Scalar) -> bool: return self.data < _data(other)
    def __le__(self, other: Scalar) -> bool: return self.data <= _data(other)
    def __gt__(self, other: Scalar) -> bool: return self.data > _data(other)
    def __ge__(self, other: Scalar) -> bool: return self.data >= _data(other)
    def __float__(self) -> float: return self.data
    __hash__ = object.__hash__  # identity: Values are graph nodes, not numbers

    # -- gradients ---------------------------------------------------------------------
    def backward(self, gradient: float = 1.0) -> None:
        """Add d self / d leaf (times `gradient`) to every leaf's `.grad`.

        Leaves accumulate, as in PyTorch: k calls add exactly k times the gradient.
        Interior nodes are reset first, so after the call each holds its gradient
        from this pass alone (what a graph drawing should show) -- except those
        behind a dead ReLU, which this pass never visits (their gradient is 0).
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a Value that does not require grad "
                               "(made under no_grad() or from constants only)")
        order = _topo_order((self,))
        for node in order:
            node.grad = 0.0
        self.grad += _to_float(gradient)
        for node in order:
            g = node.grad
            if g == 0.0 or (node.data == 0.0 and _is_flat(node)):  # nothing to pass on (see "Zero gradients")
                continue
            if type(node) is _DotNode:  # a neuron: its own loop, the same arithmetic (see _DotNode)
                node._accumulate(g)
                continue
            parents = node._prev
            for parent, d in zip(parents, _local_partials(node, parents, False)):
                if parent.requires_grad:
                    parent.grad += d * g


_new_value = object.__new__
_get_requires_grad = operator.attrgetter("requires_grad")


def _data(x: Scalar) -> float:
    return x.data if isinstance(x, Value) else x


def _fmt(c: float) -> str:
    return str(int(c)) if c == int(c) and abs(c) < 1e15 else repr(c)


def _record(rule: Primitive, parents: tuple[Value, ...], const: float | None = None) -> Value:
    """Apply `rule` to the parents' data and, if gradients are wanted, remember how."""
    n = len(parents)  # the common arities unpacked by hand: cheaper than any loop, and this runs per node
    xs = (parents[0].data,) if n == 1 else (parents[0].data, parents[1].data) if n == 2 else [p.data for p in parents]
    out = _new_value(Value)
    out.data = rule.forward(*xs) if const is None else rule.forward(*xs, const)
    out.grad, out.label = 0.0, ""
    if _grad_enabled.get() and (parents[0].requires_grad or any(map(_get_requires_grad, parents))):
        out.requires_grad, out._prev, out._rule, out._const = True, parents, rule, const
    else:
        out.requires_grad, out._prev, out._rule, out._const = False, (), None, None
    return out


def _local_partials(node: Value, parents: tuple[Value, ...], as_values: bool) -> Sequence[Any]:
    """d node / d parent for each of `node`'s parents: floats, or Values that extend the graph."""
    rule, const = node._rule, node._const
    assert rule is not None
    n = len(parents)
    if as_values:
        xs: tuple[Any, ...] = (*parents, node)
    elif n == 1:  # the common arities unpacked by hand: cheaper than any loop, and this runs per node
        xs = (parents[0].data, node.data)
    elif n == 2:
        xs = (parents[0].data, parents[1].data, node.data)
    else:
        xs = (*[p.data for p in parents], node.data)
    if const is not None:
        xs = (*xs, const)
    try:
        return rule.partials(*xs)
    except (ZeroDivisionError, DomainError):  # e.g. sqrt at 0, or x ** 0.5 at 0
        raise DomainError(node._op, parents[0].data, "the derivative is infinite here") from None


def _topo_order(roots: Iterable[Value]) -> list[Value]:
    """The interior nodes reachable from `roots`, each before all of its parents.

    Iterative depth-first search, so depth is limited by memory, not the C stack.
    Leaves and nodes that do not require grad are never entered, nor is anything
    behind a flat node (a `flat_at_zero` primitive whose output is 0): no gradient
    can flow through it, so a dead ReLU hides its whole subgraph.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    for root in roots:
        if root._rule is None or root in seen:
            continue
        seen.add(root)
        if _is_flat(root):
            order.append(root)  # nothing to visit behind it
            continue
        nodes, parents = [root], [iter(root._prev)]  # the path from the root, and where each stands
        while parents:
            for p in parents[-1]:
                if p._rule is not None and p not in seen:
                    seen.add(p)
                    if p.data == 0.0 and _is_flat(p):
                        order.append(p)  # nothing to visit behind it
                        continue
                    nodes.append(p)
                    parents.append(iter(p._prev))
                    break
            else:
                parents.pop()
                order.append(nodes.pop())
    order.reverse()
    return order


def _is_flat(node: Value) -> bool:
    """No gradient can pass through `node`: a `flat_at_zero` primitive whose output is exactly 0."""
    rule = node._rule
    return rule is not None and rule.flat_at_zero and node.data == 0.0


def grad(outputs: Value | Sequence[Value], inputs: Value | Sequence[Value],
         grad_outputs: Scalar | Sequence[Scalar] | None = None, create_graph: bool = False) -> tuple[Value, ...]:
    """d(sum of grad_outputs[i] * outputs[i]) / d inputs[j], leaving every `.grad` untouched.

    With ``create_graph=True`` the gradients are recorded Values, so they can be
    differentiated again (derivatives of any order); otherwise they are constants.
    An input the outputs do not depend on gets 0.
    """
    outs = [outputs] if isinstance(outputs, Value) else list(outputs)
    ins = [inputs] if isinstance(inputs, Value) else list(inputs)
    if grad_outputs is None:
        seeds: list[Any] = [1.0] * len(outs)
    else:
        seeds = [grad_outputs] if not isinstance(grad_outputs, Sequence) else list(grad_outputs)
    if len(seeds) != len(outs):
        raise ValueError(f"grad_outputs has {len(seeds)} entries for {len(outs)} outputs")
    acc: dict[Value, Any] = {}
    for out, seed in zip(outs, seeds):
        if out.requires_grad:
            acc[out] = acc[out] + seed if out in acc else seed
    for node in _topo_order(outs):
        g = acc.get(node)
        if g is None or (not create_graph and g == 0.0) or _is_flat(node):
            continue
        parents = node._prev
        for parent, d in zip(parents, _local_partials(node, parents, create_graph)):
            if parent.requires_grad:
                acc[parent] = acc[parent] + d * g if parent in acc else d * g
    return tuple(_as_result(acc.get(x, 0.0), create_graph) for x in ins)


def _as_result(g: Any, create_graph: bool) -> Value:
    if isinstance(g, Value):
        return g if create_graph else _constant(g.data)
    return _constant(g)


# ---------------------------------------------------------------- n-ary helpers
def vsum(values: Iterable[Scalar]) -> Value:
    """Sum as one node (not a chain), so long sums stay cheap to build and walk."""
    parents = tuple(map(_as_value, values))
    return _record(SUM, parents) if parents else _constant(0.0)


def dot(weights: Sequence[Scalar], inputs: Sequence[Scalar], bias: Scalar = 0.0,
        activation: Primitive | None = None) -> Value:
    """activation(bias + sum(w_i * x_i)) as one node: a neuron, with no node per product or per sum.

    The sum equals micrograd's left-to-right sum bit for bit.  `activation` is None
    (the plain weighted sum), `relu`, `tanh` or `sigmoid`.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"dot: {len(weights)} weights for {len(inputs)} inputs")
    return dots([(bias, *weights)], inputs, activation)[0]


def dots(rows: Sequence[Sequence[Scalar]], inputs: Sequence[Scalar],
         activation: Primitive | None = None) -> list[Value]:
    """One `dot` node per row ``(bias, *weights)``, all on the same inputs: a whole layer in one call.

    The nodes share one tuple of inputs and keep each row that is already a tuple of
    Values as it is: a layer that passes the same row tuples every call (as `nn.Layer`
    does) adds one object per neuron to the graph, and the garbage collector has
    nothing else to follow.
    """
    if activation not in _NEURON_RULES:
        raise ValueError(f"dot: activation must be None, relu, tanh or sigmoid, not {activation!r}")
    inputs = inputs if isinstance(inputs, (list, tuple)) else list(inputs)
    checked = [_as_values(row) for row in rows]
    for row in checked:
        if len(row) != len(inputs) + 1:
            raise ValueError(f"dot: {len(row) - 1} weights for {len(inputs)} inputs")
    return _dot_nodes(checked, inputs, activation)


def _dot_nodes(rows: Sequence[tuple[Value, ...]], inputs: Sequence[Scalar],
               activation: Primitive | None) -> list[Value]:
    """`dots` after its checks: each row is a tuple of Values, one longer than `inputs`.

    The hot path of every network, so each sum is taken straight from the parents'
    data (the loop of DOT's forward, which a test holds it to bit for bit).
    """
    rule = _NEURON_RULES[activation]
    xdata = [x.data for x in inputs if type(x) in _NODE_TYPES]  # type: ignore[union-attr]
    if len(xdata) == len(inputs):
        xs = cast("tuple[Value, ...]", inputs if type(inputs) is tuple else tuple(inputs))
    else:  # numbers (or Value subclasses) among the inputs: make Values of them and read again
        xs = tuple(map(_as_value, inputs))
        xdata = [x.data for x in xs]
    is_relu, squash = activation is RELU, None if activation is None else activation.forward
    recording = _grad_enabled.get()
    every_row_records = recording and bool(xs) and (xs[0].requires_grad or any(map(_get_requires_grad, xs)))
    out: list[Value] = []
    for row in rows:
        weights = iter(row)
        acc = next(weights).data
        for w, x in zip(weights, xdata):
            acc += w.data * x
        if is_relu:  # RELU's forward inline (held to it by a test): a call per neuron is a tenth of the work
            if not acc > 0:
                acc = 0.0
        elif squash is not None:
            acc = squash(acc)
        if not (every_row_records or (recording and any(map(_get_requires_grad, row)))):
            out.append(_constant(acc))
            continue
        node = _new_value(_DotNode)
        node.data = acc
        node.grad = 0.0
        node.label = ""
        node.requires_grad = True
        node._rule = rule
        node._const = None
        node._params = row
        node._inputs = xs
        out.append(node)
    return out


class _DotNode(Value):
    """A `dot` node.  Its parents (bias, *weights, *inputs) are kept as two tuples, so the
    neurons of a layer share one tuple of inputs and reuse their row tuples."""

    __slots__ = ("_params", "_inputs")
    _params: tuple[Value, ...]
    _inputs: tuple[Value, ...]

    @property
    def _prev(self) -> tuple[Value, ...]:  # type: ignore[override]
        return self._params + self._inputs

    def _accumulate(self, g: float) -> None:
        """backward()'s step for this node: the products of the rule's partials (slope, slope * x_i,
        slope * w_i) with `g`, added to the parents in the rule's order, without first gathering
        2n + 1 partials: about half the cost of the generic step.  A test holds it to the rule bit for bit."""
        rule = self._rule
        assert rule is not None
        act = _NEURON_ACTIVATIONS[rule]
        slope = 1.0 if act is None else act.partials(None, self.data)[0]
        bias, *weights = self._params
        if bias.requires_grad:
            bias.grad += slope * g
        inputs = self._inputs
        if slope == 1.0:  # the rule's partials are then x_i and w_i themselves
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


_NODE_TYPES = frozenset({Value, _DotNode})


def _as_value(x: Scalar) -> Value:
    return x if isinstance(x, Value) else _constant(x)


def _all_values(xs: Iterable[object]) -> bool:
    return set(map(type, xs)) <= _NODE_TYPES or all(map(isinstance, xs, itertools.repeat(Value)))


def _as_values(xs: Iterable[Scalar]) -> tuple[Value, ...]:
    """`xs` as a tuple of Values: the very tuple when it already is one (so it can be shared)."""
    xs = xs if isinstance(xs, (list, tuple)) else list(xs)
    if _all_values(xs):
        values = cast("Sequence[Value]", xs)
        return values if type(values) is tuple else tuple(values)
    return tuple(map(_as_value, xs))
