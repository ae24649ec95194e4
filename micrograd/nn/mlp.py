"""micrograd's `Neuron`, `Layer` and `MLP`, and the small modules that compose with them.

Start at `Neuron`: a list of weights ``w``, a bias ``b`` and an activation, as in
micrograd.  Its weighted sum is one `dot` node (micrograd.fused) instead of micrograd's
chain of 2n nodes: the same value, bit for bit (the same left-to-right sum), in a far smaller
graph.  `Layer` makes all its neurons' nodes in one `dot_nodes` call and keeps each neuron's
``(b, *w)`` row from one call to the next, re-checking cheaply that the neuron has not changed.

The names, attributes, reprs and default initialisation (the same draws from `random`, in the
same order) are micrograd 0.1.0's, so ``random.seed(1337); MLP(2, [16, 16, 1])`` is micrograd's
model to the last bit and code written for micrograd runs unchanged.  Activations are named as
everywhere in the package (`micrograd.primitives.ACTIVATIONS`: "linear", "relu", "tanh",
"sigmoid", "leaky_relu"; the leaky slope is ``negative_slope``, as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..engine import Scalar, Value, as_value
from ..fused import DotRule, dot, dot_nodes, neuron_rule
from ..primitives import ACTIVATIONS, Primitive, activation
from .checkpoint import Nested
from .init import RandomSource, check_init, draw, resolve_rng
from .module import Module, positive_int

__all__ = ["Neuron", "Layer", "MLP", "Activation", "Flatten", "Sequential"]

_REPR = {"linear": "Linear", "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU"}


def _rule(name: object) -> Primitive | None:
    """The primitive an activation name stands for (None for "linear"); a ValueError lists the names."""
    if not isinstance(name, str):  # a name, not a primitive or None, as the vocabulary is written down
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return activation(name)


def _inputs(x: Iterable[Scalar] | Scalar) -> Sequence[Scalar]:
    """`x` as a list or tuple: a single number is one input, any other iterable is read once."""
    if isinstance(x, (Value, int, float)):
        return [x]
    return x if isinstance(x, (list, tuple)) else list(x)


class Neuron(Module):
    """activation(b + sum_i w_i x_i): ``w`` a list of Values, ``b`` a Value, as in micrograd.

    Defaults are micrograd's: ReLU (``nonlin=True``) or linear, weights drawn
    ``random.uniform(-1, 1)``, one per input, bias 0.  ``w`` and ``b`` are plain attributes:
    assign them or change the list in place, and the next call uses what is there.
    relu, tanh and sigmoid go inside the neuron's one node (``ReLU(dot)``); leaky_relu, which
    has a parameter, is a node of its own after the sum.  ``bias=False`` makes ``b`` None.
    ``fan_out`` (the layer's width) only matters to ``init="xavier"``.
    """

    def __init__(self, nin: int, nonlin: bool = True, *, activation: str | None = None,
                 negative_slope: float = 0.01, init: str = "uniform", bias: bool = True,
                 rng: RandomSource | None = None, fan_out: int = 1) -> None:
        positive_int("nin", nin)
        check_init(init)
        if activation is None:
            activation = "relu" if nonlin else "linear"
        elif not nonlin and activation != "linear":
            raise ValueError(f"nonlin=False contradicts activation={activation!r}")
        _rule(activation)
        r = resolve_rng(rng)
        self.w: list[Value] = [Value(draw(init, r, nin, fan_out)) for _ in range(nin)]
        self.b: Value | None = Value(0.0) if bias else None
        self.activation: str = activation
        self.negative_slope = float(negative_slope)

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: True for a non-linear neuron.  Setting it switches between ReLU and linear."""
        return self.activation != "linear"

    @nonlin.setter
    def nonlin(self, value: bool) -> None:
        if not value:
            self.activation = "linear"
        elif self.activation == "linear":
            self.activation = "relu"

    def __call__(self, x: Iterable[Scalar] | Scalar) -> Value:
        """The neuron's output for inputs `x` (Values or numbers, as many as weights; else ValueError)."""
        act = _rule(self.activation)
        bias = 0.0 if self.b is None else self.b
        if act is not None and act.const:  # a parameterised activation (leaky_relu): its own node
            out: Value = act(dot(self.w, _inputs(x), bias), self.negative_slope)
            return out
        return dot(self.w, _inputs(x), bias, act)

    def parameters(self) -> list[Value]:
        return self.w + [self.b] if self.b is not None else list(self.w)

    def named_tensors(self) -> list[tuple[str, Nested]]:
        named: list[tuple[str, Nested]] = [("w", list(self.w))]
        return named + [("b", self.b)] if self.b is not None else named

    def architecture(self) -> dict[str, Any]:
        arch: dict[str, Any] = {"type": "Neuron", "nin": len(self.w), "activation": self.activation,
                                "bias": self.b is not None}
        if self.activation == "leaky_relu":
            arch["negative_slope"] = self.negative_slope
        return arch

    def __repr__(self) -> str:
        return f"{_REPR.get(self.activation, self.activation)}Neuron({len(self.w)})"


#: What `Layer` remembers of its neurons between calls, one entry per neuron: a copy of its ``w``
#: list, its ``b`` and the class of ``b``, its activation and its class.
_Key = list[tuple[list[Any], Any, type, Any, type]]
#: A layer's one-call plan: the neurons' rows ``(b, *w)``, the fused rule, and an activation with a
#: parameter (leaky_relu) applied after it; None when the layer must go neuron by neuron.
_Plan = tuple[list[tuple[Value, ...]], DotRule, Primitive | None] | None
_IDENTITY = object.__eq__  # what == is for a class that does not define it


def _plan_of(key: _Key) -> _Plan:
    """The plan for neurons as `key` records them (a snapshot: the plan and what it was made from agree)."""
    if not key or any(cls is not Neuron for *_, cls in key):
        return None
    name = key[0][3]
    if any(k[3] != name for k in key):
        return None
    act = _rule(name)
    after = act if act is not None and act.const else None
    # numbers in a row become constants, a missing bias a constant 0
    rows = [tuple(map(as_value, (0.0 if b is None else b, *w))) for w, b, *_ in key]
    if len({len(row) for row in rows}) != 1:  # neurons of different sizes: each names its own mismatch
        return None
    return rows, neuron_rule(None if after is not None else act), after


class Layer(Module):
    """`nout` neurons reading the same inputs; keyword arguments go to every `Neuron`.

    Like micrograd, a layer of one neuron returns a bare Value rather than a list.  When the
    neurons are plain `Neuron`s with one activation, the whole layer is one `dot_nodes` call
    whose nodes share one tuple of inputs.  Each call compares every neuron (its class, activation,
    ``b`` and ``w`` item by item) with what the last call saw, in one comparison, and makes the rows
    again if anything changed, so changes made in any way are seen; otherwise the rows are reused,
    so a call costs one comparison per weight rather than building and checking every row again.
    Leaky slopes are read at each call.
    """

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        positive_int("nout", nout)
        kwargs.setdefault("fan_out", nout)
        self.neurons: list[Any] = [Neuron(nin, **kwargs) for _ in range(nout)]
        self._memo: tuple[_Key, _Plan] | None = None  # the last plan and what it was made from

    def __call__(self, x: Iterable[Scalar] | Scalar) -> Value | list[Value]:
        """`nout` Values for `nin` inputs (Values or numbers); one bare Value when `nout` is 1.
        ValueError naming both counts when the number of inputs is not `nin`."""
        xs = _inputs(x)
        plan = self._one_call()
        if plan is None:  # other callables, subclasses or mixed activations: neuron by neuron
            values = tuple(map(as_value, xs))  # numbers become constants once, not once per neuron
            out = [n(values) for n in self.neurons]
        else:
            rows, rule, after = plan
            if len(xs) != len(rows[0]) - 1:
                raise ValueError(f"dot: {len(rows[0]) - 1} weights for {len(xs)} inputs")
            out = dot_nodes(rows, xs, rule)
            if after is not None:  # the slopes are read at each call
                out = [after(o, n.negative_slope) for o, n in zip(out, self.neurons)]
        return out[0] if len(out) == 1 else out

    def _one_call(self) -> _Plan:
        """The plan of the last call if no neuron changed since, else a new one.

        The check is one comparison, made in C, of what each neuron is now with what the plan was
        made from (`_Key`).  Python compares items by identity first, then by ``==``, which Values
        do not define; a plan whose ``b`` or ``w`` holds anything that does define it (a number, a
        Value subclass with an elementwise ``==``), or whose ``w`` is not a list, is not remembered,
        and a bias replaced by such a thing changes the class compared.  A weight replaced in place
        by such a thing after a plan is remembered is the one change it can miss.
        """
        try:
            key = [(n.w, n.b, type(n.b), n.activation, type(n)) for n in self.neurons]
        except AttributeError:  # not all neurons are Neurons
            return None
        memo = self._memo
        try:
            if memo is not None and key == memo[0]:
                return memo[1]
        except (TypeError, ValueError):  # a w that cannot be compared with a list (a numpy array): changed
            pass
        by_identity = all(type(w) is list and all(type(v).__eq__ is _IDENTITY for v in (b, *w)) for w, b, *_ in key)
        key = [(list(w), *rest) for w, *rest in key]  # copies, so a change in place shows next time
        plan = _plan_of(key)
        self._memo = (key, plan) if by_identity else None  # one assignment: threads see both or neither
        return plan

    def named_children(self) -> list[tuple[str, Module]]:
        return [(f"neurons.{i}", n) for i, n in enumerate(self.neurons)]

    def architecture(self) -> dict[str, Any]:
        first = self.neurons[0].architecture()
        arch: dict[str, Any] = {"type": "Layer", "nin": first["nin"], "nout": len(self.neurons)}
        arch.update((k, v) for k, v in first.items() if k not in ("type", "nin"))
        if any(n.architecture() != first for n in self.neurons):  # hand-edited layer: describe every neuron
            arch["neurons"] = [n.architecture() for n in self.neurons]
        return arch

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A stack of `Layer`s: `activation` on the hidden layers, `output_activation` (default linear) on the last.

    ``MLP(nin, nouts)`` is micrograd's MLP exactly (ReLU hidden layers, linear output, uniform
    init).  Other keyword arguments (``init``, ``bias``, ``rng``, ``negative_slope``) go to
    every `Neuron`.
    """

    def __init__(self, nin: int, nouts: Sequence[int], *, activation: str = "relu",
                 output_activation: str = "linear", **kwargs: Any) -> None:
        sizes = [positive_int("nin", nin)] + [positive_int("each entry of nouts", n) for n in nouts]
        if len(sizes) < 2:
            raise ValueError("nouts must list at least one layer size")
        _rule(activation)  # both checked, even if there is no hidden layer
        _rule(output_activation)
        n = len(sizes) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], activation=activation if i < n - 1 else output_activation,
                             **kwargs) for i in range(n)]

    def __call__(self, x: Iterable[Scalar] | Scalar) -> Value | list[Value]:
        """The last layer's output for `nin` inputs: a bare Value when it has one neuron, else a list."""
        out: Any = x
        for layer in self.layers:
            out = layer(out)
        return out

    def named_children(self) -> list[tuple[str, Module]]:
        return [(f"layers.{i}", layer) for i, layer in enumerate(self.layers)]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


# ---------------------------------------------------------------- composition
def _map_nested(f: Any, x: Any) -> Any:
    if isinstance(x, Value):
        return f(x)
    if isinstance(x, (int, float)):
        return f(Value(x, requires_grad=False))
    return [_map_nested(f, v) for v in x]


def _flatten(x: Any, out: list[Any]) -> list[Any]:
    if isinstance(x, (list, tuple)):
        for item in x:
            _flatten(item, out)
    else:
        out.append(x)
    return out


class Activation(Module):
    """An element-wise activation over any nested list (e.g. after a Conv2d inside `Sequential`).

    `activation` is one of `micrograd.primitives.ACTIVATIONS`; ``negative_slope`` is leaky_relu's.
    """

    def __init__(self, activation: str, negative_slope: float = 0.01) -> None:
        _rule(activation)
        self.activation, self.negative_slope = activation, float(negative_slope)

    def __call__(self, x: Any) -> Any:
        act = _rule(self.activation)
        if act is None:
            return x
        if act.const:
            slope = self.negative_slope
            return _map_nested(lambda v: act(v, slope), x)
        return _map_nested(act, x)

    def architecture(self) -> dict[str, Any]:
        arch: dict[str, Any] = {"type": "Activation", "activation": self.activation}
        if self.activation == "leaky_relu":
            arch["negative_slope"] = self.negative_slope
        return arch

    def __repr__(self) -> str:
        return f"Activation({self.activation!r})"


class Flatten(Module):
    """Nested lists (e.g. a conv output [C][H][W]) to one flat list, row-major like torch.flatten."""

    def __call__(self, x: Any) -> list[Any]:
        return _flatten(x, [])

    def architecture(self) -> dict[str, Any]:
        return {"type": "Flatten"}

    def __repr__(self) -> str:
        return "Flatten()"


class Sequential(Module):
    """Modules applied in order; parameters and checkpoints concatenate theirs ("0.weight", "2.layers.0...")."""

    def __init__(self, *modules: Module) -> None:
        self.modules = list(modules)

    def __call__(self, x: Any) -> Any:
        for m in self.modules:
            x = m(x)
        return x

    def named_children(self) -> list[tuple[str, Module]]:
        return [(str(i), m) for i, m in enumerate(self.modules)]

    def __repr__(self) -> str:
        return f"Sequential({', '.join(repr(m) for m in self.modules)})"
