"""The engine: `Value`, the one place nodes are made (`make_node`), and the one reverse walk.

Read it top to bottom.  What each operation computes and how it differentiates is in the rule
table, `micrograd/primitives.py`; the fast neuron nodes are in `micrograd/fused.py`.

A node keeps its parents (`_prev`) and the `Primitive` that made it, never a closure, so a
graph has no reference cycles and is freed the moment its root is dropped.  The lecture's
protocol works too: ``Value(data, _children, _op)`` and a node's ``_backward()``.

The reverse walk visits each interior node after every node that uses it (a topological
order, found iteratively: depth is limited by memory, not the C stack) and applies the chain
rule there: d root/d parent += d node/d parent * d root/d node.  Gradients of one pass live in a
dictionary, so passes from several threads do not mix; `backward()` then adds them to the
leaves (as PyTorch does: k calls add k times) and shows each interior node its own.  A ReLU
whose output is 0 passes nothing back, whatever comes from above (as in PyTorch), so the walk
never enters the graph behind it: a dead unit costs nothing.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias, TypeVar

from . import primitives as rules
from .primitives import Closure, Primitive, add_into, as_float, constant_of, local_derivatives, primitive_of  # noqa: F401  (reading a node)

Scalar: TypeAlias = "Value | int | float"
_F = TypeVar("_F", bound=Callable[..., Any])


class DomainError(ValueError):
    """An operation applied outside its domain.  The engine follows IEEE (nan, ±inf) and never raises it;
    callers such as the command line use it to report a nan with the operation that made it."""

    def __init__(self, op: str, operand: float, why: str) -> None:
        super().__init__(f"{op}: {why} (got {operand!r})")
        self.op, self.operand = op, operand


# ---------------------------------------------------------------- grad mode
_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("micrograd_grad_enabled", default=True)
_saved_modes: contextvars.ContextVar[tuple[bool, ...]] = contextvars.ContextVar("micrograd_saved_modes", default=())


def is_grad_enabled() -> bool:
    """Whether operations are being recorded in this thread (or asyncio task)."""
    return _grad_enabled.get()


class set_grad_enabled:
    """Record operations (True) or not (False) inside: a context manager and a decorator.

    As in PyTorch.  The flag is a context variable, so other threads keep their own; one
    instance may be entered again while in use, even from several threads at once.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        _saved_modes.set((*_saved_modes.get(), _grad_enabled.get()))
        _grad_enabled.set(self.mode)

    def __exit__(self, *exc: object) -> None:
        *rest, previous = _saved_modes.get()
        _saved_modes.set(tuple(rest))
        _grad_enabled.set(previous)

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def no_grad() -> set_grad_enabled:
    """Record nothing inside: for evaluation and optimizer updates (``with no_grad():``, ``@no_grad()``)."""
    return set_grad_enabled(False)


def enable_grad() -> set_grad_enabled:
    """Record again inside a `no_grad` block."""
    return set_grad_enabled(True)


# ---------------------------------------------------------------- Value
class Value:
    """A scalar in a computation graph: its data, its gradient, and how it was made.

    ``Value(data, _children=(), _op='', label='')`` is micrograd's constructor: with children it
    makes a node the lecture's way, whose ``_backward`` you then set to a closure.
    ``requires_grad=False`` makes a constant: it gets no gradient and nothing behind it is walked.
    """

    __slots__ = ("data", "grad", "label", "requires_grad", "_prev", "_rule", "_const")

    def __init__(self, data: object, _children: Iterable[Value] = (), _op: str = "", label: str = "",
                 *, requires_grad: bool = True) -> None:
        self.data: float = as_float(data)
        self.grad, self.label, self.requires_grad = 0.0, label, requires_grad
        self._prev: tuple[Value, ...] = tuple(_children)
        self._rule: Primitive | None = Closure(_op, None) if self._prev or _op else None
        self._const: float | None = None

    @classmethod
    def record(cls, rule: Primitive, inputs: Sequence[Scalar], const: float | None = None) -> Value:
        """Apply `rule` to `inputs` (Values or numbers) and record the node; how a `Primitive` calls us."""
        return _apply(rule, tuple(map(as_value, inputs)), const)

    @property
    def _op(self) -> str:
        """The operation that made this node ('' for a leaf), e.g. '*' or '**2'."""
        rule, const = self._rule, self._const
        return "" if rule is None else rule.name if const is None else rule.name.format(_fmt(const))

    @property
    def _backward(self) -> Callable[[], None]:
        """The lecture's local step: add d self/d parent * self.grad to each parent's .grad."""
        return functools.partial(_local_step, self)

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        self._rule = Closure(self._op, closure)

    def item(self) -> float:
        """The number (PyTorch's name); ``.data`` is the same."""
        return self.data

    def __float__(self) -> float:
        raise TypeError("float() of a Value would drop its gradient: use .data (or .item()) for the number, "
                        "and micrograd.math instead of math for functions of Values")

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    # -- primitives as operators ---------------------------------------------------
    def __add__(self, other: Scalar) -> Value: return _binary(rules.ADD, rules.SHIFT, self, other)
    def __mul__(self, other: Scalar) -> Value: return _binary(rules.MUL, rules.SCALE, self, other)
    def __pow__(self, other: Scalar) -> Value: return _binary(rules.POW, rules.POWC, self, other)
    def __truediv__(self, other: Scalar) -> Value: return _apply(rules.DIV, (self, as_value(other)))
    def __floordiv__(self, other: Scalar) -> Value: return _apply(rules.FLOORDIV, (self, as_value(other)))
    def __mod__(self, other: Scalar) -> Value: return _apply(rules.MOD, (self, as_value(other)))
    def exp(self) -> Value: return _apply(rules.EXP, (self,))
    def log(self) -> Value: return _apply(rules.LOG, (self,))
    def sqrt(self) -> Value: return _apply(rules.SQRT, (self,))
    def tanh(self) -> Value: return _apply(rules.TANH, (self,))
    def sigmoid(self) -> Value: return _apply(rules.SIGMOID, (self,))
    def softplus(self) -> Value: return _apply(rules.SOFTPLUS, (self,))
    def relu(self) -> Value: return _apply(rules.RELU, (self,))
    def abs(self) -> Value: return _apply(rules.ABS, (self,))
    def sin(self) -> Value: return _apply(rules.SIN, (self,))
    def cos(self) -> Value: return _apply(rules.COS, (self,))
    def leaky_relu(self, negative_slope: float = 0.01) -> Value:
        return _apply(rules.LEAKY_RELU, (self,), as_float(negative_slope))
    __abs__ = abs

    # -- derived operators ---------------------------------------------------------
    def __pos__(self) -> Value: return self  # +self
    def __neg__(self) -> Value: return self * -1.0  # -self
    def __radd__(self, other: Scalar) -> Value: return self + other  # other + self
    def __sub__(self, other: Scalar) -> Value: return self + (-other)  # self - other
    def __rsub__(self, other: Scalar) -> Value: return (-self) + other  # other - self
    def __rmul__(self, other: Scalar) -> Value: return self * other  # other * self
    def __rtruediv__(self, other: Scalar) -> Value: return as_value(other) / self  # other / self
    def __rfloordiv__(self, other: Scalar) -> Value: return as_value(other) // self  # other // self
    def __rmod__(self, other: Scalar) -> Value: return as_value(other) % self  # other % self
    def __rpow__(self, other: Scalar) -> Value: return as_value(other) ** self  # other ** self

    # -- comparisons read the data (for max(), sorting, masks); they record nothing
    def __lt__(self, other: Scalar) -> bool: return self.data < _data(other)
    def __le__(self, other: Scalar) -> bool: return self.data <= _data(other)
    def __gt__(self, other: Scalar) -> bool: return self.data > _data(other)
    def __ge__(self, other: Scalar) -> bool: return self.data >= _data(other)
    __hash__ = object.__hash__  # identity: Values are graph nodes, not numbers

    # -- gradients -----------------------------------------------------------------
    def backward(self, gradient: float = 1.0) -> None:
        """Add d self/d leaf (times `gradient`) to every leaf's ``.grad``, as PyTorch does.

        k calls, from any threads, add exactly the sum of k passes.  Each interior node is
        shown the gradient of the last pass (what a drawing should show), except nodes only
        reachable through a dead ReLU, which no pass visits.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a Value that does not require grad "
                               "(made under no_grad() or from constants only)")
        grads = _walk(topological_order((self,)), {self: as_float(gradient)}, create_graph=False)
        with _ACCUMULATING:
            for node, g in grads.items():
                if node._prev:
                    node.grad = g
                else:
                    node.grad += g

    def __reduce__(self) -> Any:
        # the graph as a flat list (parents first), so pickle and deepcopy never recurse along it
        order = topological_order((self,), skip_flat=False)[::-1] or [self]
        index = {node: i for i, node in enumerate(order)}
        records = [(n.data, n.grad, n.label, n.requires_grad, n._rule, n._const,
                    tuple(index.get(p, p) for p in n._prev)) for n in order]
        return (_rebuild, (records,))


def _fmt(c: float) -> str:
    return str(int(c)) if c == c and abs(c) < 1e15 and c == int(c) else repr(c)


def _data(x: Scalar) -> float:
    return x.data if isinstance(x, Value) else x


def as_value(x: Scalar) -> Value:
    """`x` itself if it is a Value, else a constant Value of it."""
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


_new = object.__new__
_ACCUMULATING = threading.Lock()  # backward() adds a pass to the leaves one thread at a time


# ---------------------------------------------------------------- making nodes
def make_node(data: float, parents: tuple[Value, ...], rule: Primitive, const: float | None = None) -> Value:
    """A new node holding `data` = ``rule.forward`` of the parents' data: the one place nodes are made.

    It records its parents and rule only if gradients are wanted: grad mode is on and some
    parent requires grad.  Otherwise it is a constant.
    """
    out = _new(Value)
    out.data = data if type(data) is float else as_float(data)
    out.grad, out.label = 0.0, ""
    if _grad_enabled.get() and (parents[0].requires_grad or any(p.requires_grad for p in parents)):
        out.requires_grad, out._prev, out._rule, out._const = True, parents, rule, const
    else:
        out.requires_grad, out._prev, out._rule, out._const = False, (), None, None
    return out


def _apply(rule: Primitive, parents: tuple[Value, ...], const: float | None = None) -> Value:
    # just an optimization: the common arities unpacked by hand (cheaper than a loop; this runs per node)
    n = len(parents)
    xs = (parents[0].data,) if n == 1 else (parents[0].data, parents[1].data) if n == 2 else [p.data for p in parents]
    return make_node(rule.forward(*xs) if const is None else rule.forward(*xs, const), parents, rule, const)


def _binary(rule: Primitive, folded: Primitive, a: Value, b: Scalar) -> Value:
    """a op b; a number b is folded into the node (``x * 3`` is one node '*3' with one parent)."""
    return _apply(rule, (a, b)) if isinstance(b, Value) else _apply(folded, (a,), as_float(b))


def _rebuild(records: list[tuple[Any, ...]]) -> Value:
    """The inverse of `Value.__reduce__`."""
    nodes: list[Value] = []
    for data, grad, label, requires_grad, rule, const, parents in records:
        node = _new(Value)
        node.data, node.grad, node.label, node.requires_grad = data, grad, label, requires_grad
        node._prev = tuple(nodes[p] if isinstance(p, int) else p for p in parents)
        node._rule, node._const = rule, const
        nodes.append(node)
    return nodes[-1]


# ---------------------------------------------------------------- the reverse walk
def topological_order(roots: Iterable[Value], *, skip_flat: bool = True) -> list[Value]:
    """The interior nodes reachable from `roots`, each before all of its parents.

    Iterative depth-first search.  Leaves and constants are not entered, and (with
    `skip_flat`) neither is a flat node (a ReLU whose output is 0) nor anything behind it:
    no gradient passes through it.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[tuple[Value, Any]] = []
    for root in roots:
        if root._rule is None or root in seen or (skip_flat and _is_flat(root)):
            continue
        seen.add(root)
        stack.append((root, iter(root._prev)))
        while stack:
            for p in stack[-1][1]:
                if p._rule is not None and p not in seen:
                    seen.add(p)
                    if not (skip_flat and p.data == 0.0 and _is_flat(p)):
                        stack.append((p, iter(p._prev)))
                        break
            else:
                order.append(stack.pop()[0])
    order.reverse()
    return order


def _is_flat(node: Value) -> bool:
    rule = node._rule
    return rule is not None and rule.flat_at_zero and node.data == 0.0


def _walk(order: list[Value], grads: dict[Value, Any], create_graph: bool) -> dict[Value, Any]:
    """Apply the chain rule at each node of `order`; `grads` starts with the roots' seeds."""
    for node in order:
        g = grads.get(node)
        if g is not None:
            node._rule.chain(node, g, grads, create_graph)  # type: ignore[union-attr]
    return grads


def _local_step(node: Value) -> None:
    """``node._backward()``: one chain-rule step from ``node.grad`` into its parents' ``.grad``."""
    if node._rule is not None and node._prev:
        grads: dict[Value, Any] = {}
        node._rule.chain(node, node.grad, grads, False)
        for parent, g in grads.items():
            parent.grad += g


def grad(outputs: Value | Sequence[Value], inputs: Value | Sequence[Value],
         grad_outputs: Scalar | Sequence[Scalar] | None = None, create_graph: bool = False) -> tuple[Value, ...]:
    """d(sum of grad_outputs[i] * outputs[i]) / d inputs[j], leaving every `.grad` untouched.

    With ``create_graph=True`` the gradients are recorded Values, so they can be
    differentiated again (derivatives of any order); otherwise they are constants.
    An input the outputs do not depend on gets 0.  As `torch.autograd.grad`.
    """
    outs = [outputs] if isinstance(outputs, Value) else list(outputs)
    ins = [inputs] if isinstance(inputs, Value) else list(inputs)
    seeds: list[Any] = [1.0] * len(outs) if grad_outputs is None else (
        list(grad_outputs) if isinstance(grad_outputs, Sequence) else [grad_outputs])
    if len(seeds) != len(outs):
        raise ValueError(f"grad_outputs has {len(seeds)} entries for {len(outs)} outputs")
    grads: dict[Value, Any] = {}
    for out, seed in zip(outs, seeds):
        if out.requires_grad:
            add_into(grads, out, seed if isinstance(seed, Value) else as_float(seed))
    order = topological_order(outs)
    for node in order:
        if isinstance(node._rule, Closure):
            node._rule.partials()
    _walk(order, grads, create_graph)
    results = [grads.get(x, 0.0) for x in ins]
    return tuple(g if create_graph and isinstance(g, Value) else Value(_data(g), requires_grad=False) for g in results)


def vsum(values: Iterable[Scalar]) -> Value:
    """Sum as one node (not a chain of additions), correctly rounded (math.fsum), cheap to walk."""
    parents = tuple(map(as_value, values))
    return _apply(rules.SUM, parents) if parents else Value(0.0, requires_grad=False)
