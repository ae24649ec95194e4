"""The engine: `Value`, the one place nodes are made (`make_node`), and the one reverse walk.

Read it top to bottom.  What each operation computes and how it differentiates is in the rule
table, `micrograd/primitives.py`; the fast neuron nodes are in `micrograd/fused.py`.

A node keeps its parents (`_prev`) and the `Primitive` that made it, never a closure, so a
graph has no reference cycles and is freed the moment its root is dropped.  The lecture's
protocol works too: ``Value(data, _children, _op)`` and a node's ``_backward()``.

The reverse walk visits each interior node after every node that uses it (a topological
order, found iteratively: depth is limited by memory, not the C stack) and applies the chain
rule there: parent.grad += d node/d parent * node.grad.  One pass runs at a time (a lock), so
threads never mix their sums.  A ReLU whose output is 0 passes nothing back, whatever comes from
above (as in PyTorch), so the walk never enters the graph behind it: a dead unit costs nothing.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias, TypeVar

from . import primitives as rules
from .primitives import ADD, MUL, POW, POWC, SCALE, SHIFT, SUB, Closure, Primitive, as_float

Scalar: TypeAlias = "Value | int | float"
_F = TypeVar("_F", bound=Callable[..., Any])


# ---------------------------------------------------------------- grad mode
_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("micrograd_grad_enabled", default=True)
_saved_modes: contextvars.ContextVar[tuple[bool, ...]] = contextvars.ContextVar("micrograd_saved_modes", default=())


def is_grad_enabled() -> bool:
    """Whether operations are being recorded in this thread (or asyncio task)."""
    return _grad_enabled.get()


class set_grad_enabled:
    """Record operations (True) or not (False) inside: a context manager and a decorator, as in PyTorch.
    The flag is a context variable, so other threads keep their own; one instance may be entered
    again while in use, even from several threads at once."""

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
        self.data, self.grad, self.label, self.requires_grad = as_float(data), 0.0, label, requires_grad
        self._prev: tuple[Value, ...] = tuple(_children)
        self._rule: Primitive | None = Closure(_op, None) if self._prev or _op else None
        self._const: float | None = None

    @classmethod
    def record(cls, rule: Primitive, inputs: Sequence[Scalar], const: float | None = None) -> Value:
        """Apply `rule` to `inputs` (Values or numbers) and record the node: how a `Primitive` calls us."""
        return make_node(rule, tuple(map(as_value, inputs)), const)

    @property
    def _op(self) -> str:
        """The operation that made this node ('' for a leaf), e.g. '*' or '**2'."""
        rule, const = self._rule, self._const
        return "" if rule is None else rule.name if const is None else rule.name.format(_fmt(const))

    @property
    def _backward(self) -> Callable[[], None]:
        """The lecture's local step: add d self/d parent * self.grad to each parent's .grad."""
        return functools.partial(self._rule.chain, self, False) if self._rule is not None else _nothing

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
    # a number is folded into the node: x * 3 is one node '*3' with one parent
    def __add__(self, other: Scalar) -> Value:
        return make_node(ADD, (self, other)) if isinstance(other, Value) else make_node(SHIFT, (self,), as_float(other))

    def __mul__(self, other: Scalar) -> Value:
        return make_node(MUL, (self, other)) if isinstance(other, Value) else make_node(SCALE, (self,), as_float(other))

    def __sub__(self, other: Scalar) -> Value:  # a number is negated as a float (-np.uint8(3) wraps, -0 is +0)
        return make_node(SUB, (self, other)) if isinstance(other, Value) else self + -as_float(other)

    def __pow__(self, other: Scalar) -> Value:
        return make_node(POW, (self, other)) if isinstance(other, Value) else make_node(POWC, (self,), as_float(other))

    def __truediv__(self, other: Scalar) -> Value: return make_node(rules.DIV, (self, as_value(other)))
    def __floordiv__(self, other: Scalar) -> Value: return make_node(rules.FLOORDIV, (self, as_value(other)))
    def __mod__(self, other: Scalar) -> Value: return make_node(rules.MOD, (self, as_value(other)))
    def exp(self) -> Value: return make_node(rules.EXP, (self,))
    def log(self) -> Value: return make_node(rules.LOG, (self,))
    def sqrt(self) -> Value: return make_node(rules.SQRT, (self,))
    def tanh(self) -> Value: return make_node(rules.TANH, (self,))
    def sigmoid(self) -> Value: return make_node(rules.SIGMOID, (self,))
    def softplus(self) -> Value: return make_node(rules.SOFTPLUS, (self,))
    def relu(self) -> Value: return make_node(rules.RELU, (self,))
    def abs(self) -> Value: return make_node(rules.ABS, (self,))
    def sin(self) -> Value: return make_node(rules.SIN, (self,))
    def cos(self) -> Value: return make_node(rules.COS, (self,))
    def leaky_relu(self, negative_slope: float = 0.01) -> Value:
        return make_node(rules.LEAKY_RELU, (self,), as_float(negative_slope))
    __abs__ = abs

    # -- derived operators ---------------------------------------------------------
    def __pos__(self) -> Value: return self  # +self
    def __neg__(self) -> Value: return self * -1.0  # -self
    def __radd__(self, other: Scalar) -> Value: return self + other  # other + self
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

        The lecture's algorithm: order the nodes so each comes before its parents, then call
        each node's ``_backward()``.  Leaves accumulate (k calls add k passes, from any threads:
        one pass at a time); each interior node it visits is reset first, so it shows this pass alone.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a Value that does not require grad "
                               "(made under no_grad() or from constants only)")
        with _ONE_PASS_AT_A_TIME:
            order, flat = _sorted((self,))
            for node in order + flat:
                node.grad = 0.0
            self.grad += as_float(gradient)
            _walk(order, create_graph=False)

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


_new, _recording = object.__new__, _grad_enabled.get  # (is_grad_enabled without a call in between)
_ONE_PASS_AT_A_TIME = threading.RLock()  # passes keep their sums in .grad: one at a time, from any thread


def _nothing() -> None:
    """A leaf's ``_backward()``: it has no parents to pass anything to."""


# ---------------------------------------------------------------- making nodes
def make_node(rule: Primitive, parents: tuple[Value, ...], const: float | None = None,
              data: float | None = None) -> Value:
    """A new node holding `data` (a float), by default ``rule.forward_at(parents, const)``, which makes
    it one: the one place nodes are made.  It records its parents and rule if grad mode is on and some
    parent requires grad; else it is a constant.  (The neuron loop computes `data` itself.)"""
    if data is None:
        data = rule.forward_at(parents, const)
    out = _new(Value)
    out.data = data
    out.grad = 0.0  # one slot per statement: four in one would build a tuple (this runs per node)
    out.label = ""
    if _recording() and (parents[0].requires_grad or any(p.requires_grad for p in parents)):
        out.requires_grad = True
        out._prev = parents
        out._rule = rule
        out._const = const
    else:
        out.requires_grad = False
        out._prev, out._rule, out._const = (), None, None
    return out


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
    """The interior nodes reachable from `roots`, each before all of its parents (iterative DFS).
    Leaves and constants are not entered, nor (with `skip_flat`) a flat node (a ReLU whose output
    is 0) or anything behind it: no gradient passes through it."""
    return _sorted(roots, skip_flat)[0]


def _sorted(roots: Iterable[Value], skip_flat: bool = True) -> tuple[list[Value], list[Value]]:
    """`topological_order`, and the flat nodes it met (they receive a gradient but pass none on)."""
    order: list[Value] = []
    flat: list[Value] = []
    seen: set[Value] = set()
    for root in roots:
        if root._rule is None or root in seen:
            continue
        seen.add(root)
        if skip_flat and _is_flat(root):
            flat.append(root)
            continue
        path, todo = [root], [iter(root._prev)]  # the nodes from the root down, and the parents each has left
        while todo:
            for p in todo[-1]:
                if p._rule is not None and p not in seen:
                    seen.add(p)
                    if skip_flat and p.data == 0.0 and _is_flat(p):
                        flat.append(p)
                        continue
                    path.append(p)
                    todo.append(iter(p._prev))
                    break
            else:
                todo.pop()
                order.append(path.pop())
    order.reverse()
    return order, flat


def _is_flat(node: Value) -> bool:
    rule = node._rule
    return rule is not None and rule.flat_at_zero and node.data == 0.0


def _walk(order: list[Value], create_graph: bool) -> None:
    """The chain rule at each node, children before parents: each adds d node/d parent * node.grad
    into its parents' ``.grad`` (Values under `create_graph`, so the result is a graph too)."""
    for node in order:
        node._rule.chain(node, create_graph)  # type: ignore[union-attr]


def grad(outputs: Value | Sequence[Value], inputs: Value | Sequence[Value],
         grad_outputs: Scalar | Sequence[Scalar] | None = None, create_graph: bool = False) -> tuple[Value, ...]:
    """d(sum of grad_outputs[i] * outputs[i]) / d inputs[j], leaving every `.grad` as it was.

    With ``create_graph=True`` the gradients are recorded Values, so they can be
    differentiated again (derivatives of any order); otherwise they are constants.
    An input the outputs do not depend on gets 0.  As `torch.autograd.grad`.  It is the same
    walk as `backward()`: it borrows the ``.grad`` of the nodes it visits and gives them back.
    """
    outs = [outputs] if isinstance(outputs, Value) else list(outputs)
    ins = [inputs] if isinstance(inputs, Value) else list(inputs)
    seeds: list[Any] = [1.0] * len(outs) if grad_outputs is None else (
        list(grad_outputs) if isinstance(grad_outputs, Sequence) else [grad_outputs])
    if len(seeds) != len(outs):
        raise ValueError(f"grad_outputs has {len(seeds)} entries for {len(outs)} outputs")
    with _ONE_PASS_AT_A_TIME, set_grad_enabled(create_graph):  # create_graph records, even under no_grad
        order, flat = _sorted(outs)
        closure = next((n._rule for n in order if isinstance(n._rule, Closure)), None)
        if closure is not None:
            closure.partials()  # refuses, naming Primitive
        touched = list(dict.fromkeys([*outs, *order, *flat, *(p for n in order for p in n._prev), *ins]))
        saved = [n.grad for n in touched]
        try:
            for n in touched:
                n.grad = 0.0
            for out, seed in zip(outs, seeds):
                if out.requires_grad:
                    out.grad += seed if isinstance(seed, Value) else as_float(seed)  # type: ignore[assignment]
            _walk(order, create_graph)
            results = [x.grad if x.requires_grad else 0.0 for x in ins]
        finally:
            for n, g in zip(touched, saved):
                n.grad = g
    return tuple(g if create_graph and isinstance(g, Value) else Value(_data(g), requires_grad=False) for g in results)


def vsum(values: Iterable[Scalar]) -> Value:
    """Sum as one node (not a chain of additions), correctly rounded (math.fsum), cheap to walk."""
    parents = tuple(map(as_value, values))
    return make_node(rules.SUM, parents) if parents else Value(0.0, requires_grad=False)
