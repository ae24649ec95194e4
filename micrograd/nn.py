"""Neural-network building blocks on top of the scalar engine.

`Module`, `Neuron`, `Layer` and `MLP` keep karpathy/micrograd 0.1.0's names,
attributes, reprs and default initialisation (the same draws from `random`,
in the same order), so a seeded model is bit-for-bit micrograd's and code
written for micrograd runs unchanged.  On top of that: activations, other
initialisations, a seedable RNG, optional biases, 2-D convolution and pooling,
PyTorch-style losses, and atomic, validated JSON checkpoints.

A neuron's weighted sum is one n-ary `dot` node rather than micrograd's chain of
2n nodes: the value is identical (same left-to-right order), the graph is far
smaller, so forward and backward are faster.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import operator
import os
import random
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

from .engine import Value, _all_values, _as_values, _dot_nodes, dots, exp, log, relu, sigmoid, softplus, tanh, vsum

__all__ = [
    "FORMAT", "FORMAT_VERSION", "ACTIVATIONS", "INITS",
    "CheckpointError", "Module", "Neuron", "Layer", "MLP", "Sequential", "Flatten", "Activation",
    "Conv2d", "MaxPool2d", "AvgPool2d",
    "mse_loss", "binary_cross_entropy_with_logits", "cross_entropy", "hinge_loss", "softmax", "log_softmax",
]

Scalar: TypeAlias = "Value | int | float"
#: A nested list of Values (a "tensor"): a Value, a list of Values, a list of lists ...
Nested: TypeAlias = "Value | list[Nested]"

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "linear")
INITS = ("uniform", "he", "xavier")
_ACT_REPR = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "linear": "Linear"}

# Shared zero bias for bias-free neurons: a constant never receives a gradient, so one object serves all graphs.
_ZERO = Value(0.0, requires_grad=False)


class RandomSource(Protocol):
    """What initialisation needs from an RNG: the `random` module and `random.Random` both qualify."""

    def uniform(self, a: float, b: float) -> float: ...
    def gauss(self, mu: float, sigma: float) -> float: ...


def _rng(rng: RandomSource | None) -> RandomSource:
    """The given RNG, else the global `random` module (so ``random.seed`` works as in micrograd)."""
    if rng is None:
        return random
    return rng


_FUSED_ACTIVATIONS = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid}


def _activation_fn(name: str, negative_slope: float) -> Callable[[Value], Value] | None:
    if name == "relu":
        return Value.relu
    if name == "tanh":
        return Value.tanh
    if name == "sigmoid":
        return Value.sigmoid
    if name == "leaky_relu":
        return functools.partial(Value.leaky_relu, slope=negative_slope)
    if name == "linear":
        return None
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


def _check_size(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return n


def _draw(init: str, rng: RandomSource, fan_in: int, fan_out: int) -> float:
    """One initial weight.  'uniform' is micrograd's U(-1, 1): exactly one `rng.uniform` call per weight."""
    if init == "uniform":
        return rng.uniform(-1, 1)
    if init == "he":  # Kaiming normal for ReLU nets: keeps the activations' variance through depth
        return rng.gauss(0.0, 1.0) * math.sqrt(2.0 / fan_in)
    if init == "xavier":  # Glorot uniform (torch.nn.init.xavier_uniform_) for tanh / sigmoid nets
        a = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a)
    raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")


def _check_init(init: str) -> None:
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")


# ---------------------------------------------------------------- Module and checkpoints
FORMAT = "micrograd-model"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint (file or state dict) is malformed or does not fit the model; the model was not changed."""


class Module:
    """Base class: anything with parameters.  Subclasses override `parameters()` (as in micrograd);
    overriding `named_tensors()` and `architecture()` as well gives richer checkpoints."""

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def named_tensors(self) -> list[tuple[str, Nested]]:
        """The parameters grouped into named nested lists (what a checkpoint stores), in `parameters()` order."""
        ps = self.parameters()
        return [("parameters", list(ps))] if ps else []

    def architecture(self) -> dict[str, Any]:
        """A JSON-able description of the shape of the model, stored in checkpoints to catch mismatches."""
        return {"type": type(self).__name__, "parameters": len(self.parameters())}

    # -- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot: format marker, version, architecture and every parameter's value."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "architecture": self.architecture(),
            "parameters": {name: _nested_data(t) for name, t in self.named_tensors()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy values from `state` into this model's parameters (the same Value objects, so optimizers
        holding them keep working).  Everything is validated first: on error nothing changes."""
        self._apply(_validated(state, self, "state_dict"))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a human-readable JSON checkpoint atomically (a crash never leaves a half-written file)."""
        state = self.state_dict()
        for name, values in state["parameters"].items():
            bad = next((v for v in _flat(values) if not math.isfinite(v)), None)
            if bad is not None:
                raise CheckpointError(f"{os.fspath(path)}: cannot save, parameter {name!r} holds {bad!r}")
        _atomic_write(path, _dumps(state))

    def load(self, path: str | os.PathLike[str]) -> None:
        """Fill this model's parameters in place from a checkpoint written by `save`.

        Raises `CheckpointError` (a ValueError naming the file) for a truncated, corrupted or
        mismatched file, and leaves the model unchanged.
        """
        where = os.fspath(path)
        with open(path, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CheckpointError(f"{where}: not a UTF-8 text file ({e.reason} at byte {e.start})") from None
        if not text.strip():
            raise CheckpointError(f"{where}: the file is empty")
        try:
            doc = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as e:
            raise CheckpointError(f"{where}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno}); "
                                  "the file may be truncated or corrupted") from None
        except ValueError as e:
            raise CheckpointError(f"{where}: {e}") from None
        except RecursionError:
            raise CheckpointError(f"{where}: JSON nested too deeply to be a checkpoint") from None
        self._apply(_validated(doc, self, where))

    def _apply(self, values: list[float]) -> None:
        for p, v in zip(self.parameters(), values):
            p.data = v


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a checkpoint (parameters must be finite numbers)")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _nested_data(t: Nested) -> Any:
    return t.data if isinstance(t, Value) else [_nested_data(x) for x in t]


def _shape(t: Nested) -> list[int]:
    shape: list[int] = []
    while not isinstance(t, Value):
        shape.append(len(t))
        if not t:
            break
        t = t[0]
    return shape


def _flat(x: Any) -> Iterator[Any]:
    if isinstance(x, list):
        for item in x:
            yield from _flat(item)
    else:
        yield x


def _validated(doc: object, model: Module, where: str) -> list[float]:
    """Check a whole checkpoint document against `model`; return the parameter values in `parameters()` order."""

    def fail(what: str) -> CheckpointError:
        return CheckpointError(f"{where}: {what}")

    if not isinstance(doc, Mapping):
        raise fail(f"expected a JSON object at the top level, got {type(doc).__name__}")
    keys = {"format", "version", "architecture", "parameters"}
    missing, extra = sorted(keys - set(doc)), sorted(set(doc) - keys)
    if missing:
        raise fail(f"missing key(s) {', '.join(map(repr, missing))}")
    if extra:
        raise fail(f"unexpected key(s) {', '.join(map(repr, extra))}")
    if doc["format"] != FORMAT:
        raise fail(f"not a micrograd model checkpoint (format is {doc['format']!r}, expected {FORMAT!r})")
    version = doc["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version != FORMAT_VERSION:
        raise fail(f"unsupported format version {version!r} (this micrograd reads version {FORMAT_VERSION})")
    arch = model.architecture()
    if doc["architecture"] != arch:
        raise fail(f"architecture mismatch: the checkpoint holds {json.dumps(doc['architecture'])}, "
                   f"this model is {json.dumps(arch)}")
    params = doc["parameters"]
    if not isinstance(params, Mapping):
        raise fail(f"'parameters' must be an object, got {type(params).__name__}")
    tensors = model.named_tensors()
    names = [name for name, _ in tensors]
    missing, extra = [n for n in names if n not in params], sorted(set(params) - set(names))
    if missing:
        raise fail(f"missing parameter(s) {', '.join(map(repr, missing))}")
    if extra:
        raise fail(f"unexpected parameter(s) {', '.join(map(repr, extra))}")
    values: list[float] = []
    for name, t in tensors:
        _collect(params[name], t, f"parameter {name!r}", values, fail)
    if len(values) != len(model.parameters()):  # named_tensors() and parameters() disagree: a bug in a subclass
        raise fail(f"{len(values)} values for {len(model.parameters())} parameters")
    return values


def _collect(x: object, t: Nested, where: str, out: list[float],
             fail: Callable[[str], CheckpointError]) -> None:
    if isinstance(t, Value):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise fail(f"{where}: expected a number, got {json.dumps(x) if _jsonable(x) else repr(x)}")
        try:
            v = float(x)
        except OverflowError:
            v = math.inf
        if not math.isfinite(v):
            raise fail(f"{where}: expected a finite number, got {x!r}")
        out.append(v)
        return
    if not isinstance(x, list):
        raise fail(f"{where}: expected a list of {len(t)} (shape {_shape(t)}), got {type(x).__name__}")
    if len(x) != len(t):
        raise fail(f"{where}: has {len(x)} entries, the model expects {len(t)} (shape {_shape(t)})")
    for i, (xi, ti) in enumerate(zip(x, t)):
        _collect(xi, ti, f"{where}[{i}]", out, fail)


def _jsonable(x: object) -> bool:
    try:
        json.dumps(x)
    except (TypeError, ValueError):
        return False
    return True


def _dumps(state: Mapping[str, Any]) -> str:
    """JSON with one parameter tensor per line: readable, diffable, and floats written by repr (exact)."""
    lines = ["{", f'  "format": {json.dumps(state["format"])},', f'  "version": {json.dumps(state["version"])},',
             f'  "architecture": {json.dumps(state["architecture"])},']
    items = [f"    {json.dumps(k)}: {json.dumps(v, allow_nan=False)}" for k, v in state["parameters"].items()]
    if items:
        lines += ['  "parameters": {', ",\n".join(items), "  }", "}"]
    else:
        lines += ['  "parameters": {}', "}"]
    return "\n".join(lines) + "\n"


def _atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write to a temporary file in the same directory, fsync, then os.replace over `path`."""
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    tmp = os.path.join(directory, f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666 & ~umask, like open(..., "w")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))  # overwriting keeps the old permissions
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # persist the rename itself (POSIX only)
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# ---------------------------------------------------------------- micrograd-compatible MLP
class _Weights(list[Value]):
    """`Neuron.w`: a plain list to its users that tells its neuron when it changes, so the neuron
    can keep the tuple ``(b, *w)`` that `dots` shares across calls (see `Layer.__call__`)."""

    __slots__ = ("_neuron",)
    _neuron: Neuron


def _telling_the_neuron(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    @functools.wraps(method)
    def changed(self: _Weights, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        neuron = getattr(self, "_neuron", None)  # unset while pickle rebuilds the list
        if neuron is not None:
            neuron._refresh_row()
        return result

    return changed


for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert", "pop",
              "remove", "clear", "sort", "reverse"):
    setattr(_Weights, _name, _telling_the_neuron(_name))


class Neuron(Module):
    """act(b + sum_i w_i x_i) as a single node (e.g. ``ReLU(dot)``); a leaky ReLU gets a node of its own.

    Defaults are micrograd's: ReLU (``nonlin=True``) or linear, weights drawn
    ``random.uniform(-1, 1)`` one per input, bias 0.
    """

    def __init__(self, nin: int, nonlin: bool = True, *, activation: str | None = None,
                 negative_slope: float = 0.01, init: str = "uniform", bias: bool = True,
                 rng: RandomSource | None = None, fan_out: int = 1) -> None:
        _check_size("nin", nin)
        _check_init(init)
        if activation is None:
            activation = "relu" if nonlin else "linear"
        elif not nonlin and activation != "linear":
            raise ValueError(f"nonlin=False contradicts activation={activation!r}")
        self.negative_slope = float(negative_slope)
        self._w: _Weights = _Weights()
        self._b: Value | None = None
        self.activation = activation
        r = _rng(rng)
        self.w = [Value(_draw(init, r, nin, fan_out)) for _ in range(nin)]
        self.b = Value(0.0) if bias else None

    @property
    def w(self) -> list[Value]:
        """The weights, a list (as in micrograd); assignable, and changes to it are seen by the next call."""
        return self._w

    @w.setter
    def w(self, weights: Iterable[Value]) -> None:
        self._w = _Weights(weights)
        self._w._neuron = self
        self._refresh_row()

    @property
    def b(self) -> Value | None:
        """The bias (None for a neuron made with ``bias=False``); assignable."""
        return self._b

    @b.setter
    def b(self, bias: Value | None) -> None:
        self._b = bias
        self._refresh_row()

    def _refresh_row(self) -> None:
        # A new tuple (new identity) whenever the weights, bias or activation change: Layer checks identity.
        state = self.__dict__
        if "_w" in state and "_b" in state:  # not while copy or pickle is still filling the neuron in
            self._row = (_ZERO if self._b is None else self._b, *self._w)

    def __getstate__(self) -> dict[str, Any]:  # copy and pickle keep the activation by name ...
        return {k: v for k, v in self.__dict__.items() if k not in ("_fused", "_act", "_row")}

    def __setstate__(self, state: dict[str, Any]) -> None:  # ... and rebuild what hangs off it
        self.__dict__.update(state)
        self.activation = state["_activation"]

    @property
    def activation(self) -> str:
        """One of `ACTIVATIONS`; assignable."""
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        act = _activation_fn(name, self.negative_slope)
        # relu, tanh and sigmoid go inside the dot node (one node per neuron); leaky_relu follows it
        self._fused = _FUSED_ACTIVATIONS.get(name)
        self._act = None if self._fused is not None else act
        self._activation = name
        self._refresh_row()

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: True for a non-linear neuron.  Setting it switches between ReLU and linear."""
        return self._activation != "linear"

    @nonlin.setter
    def nonlin(self, value: bool) -> None:
        if not value:
            self.activation = "linear"
        elif self._activation == "linear":
            self.activation = "relu"

    def __call__(self, x: Sequence[Scalar]) -> Value:
        (act,) = dots([self._row], x, self._fused)
        f = self._act
        return act if f is None else f(act)

    def parameters(self) -> list[Value]:
        return self.w + [self.b] if self.b is not None else list(self.w)

    def named_tensors(self) -> list[tuple[str, Nested]]:
        named: list[tuple[str, Nested]] = [("w", list(self.w))]
        return named + [("b", self.b)] if self.b is not None else named

    def architecture(self) -> dict[str, Any]:
        arch: dict[str, Any] = {"type": "Neuron", "nin": len(self.w), "activation": self._activation,
                                "bias": self.b is not None}
        if self._activation == "leaky_relu":
            arch["negative_slope"] = self.negative_slope
        return arch

    def __repr__(self) -> str:
        return f"{_ACT_REPR[self._activation]}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons reading the same inputs.  Keyword arguments go to every `Neuron`.

    Like micrograd, a layer of one neuron returns a bare Value rather than a list.
    """

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        _check_size("nout", nout)
        kwargs.setdefault("fan_out", nout)
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]
        self._rows: list[tuple[Value, ...]] = []  # the neurons' rows at the last call
        self._one_call = False  # whether they can all go through one dots() call

    def __call__(self, x: Sequence[Scalar] | Scalar) -> Value | list[Value]:
        if isinstance(x, (Value, int, float)):
            x = [x]
        elif not isinstance(x, (list, tuple)):
            x = list(x)  # any iterable: it is read once per neuron
        neurons = self.neurons
        rows = self._rows_for_one_call()
        if rows is not None and len(x) == len(rows[0]) - 1:
            # the whole layer in one node-making call, sharing the inputs and the neurons' row tuples
            out = _dot_nodes(rows, x, neurons[0]._fused)
        else:
            xs = _as_values(x)  # plain numbers become constants once here, not once per neuron
            out = [n(xs) for n in neurons]
        return out[0] if len(out) == 1 else out

    def _rows_for_one_call(self) -> list[tuple[Value, ...]] | None:
        """The neurons' ``(b, *w)`` tuples if one `dots` call can make the whole layer, else None."""
        neurons = self.neurons
        try:
            rows = [n._row for n in neurons]
        except AttributeError:  # something other than a Neuron among them
            return None
        if len(rows) != len(self._rows) or not all(map(operator.is_, rows, self._rows)):
            # first call, or a neuron, weight, bias or activation changed since the last one
            act = neurons[0]._fused if neurons else None
            self._rows = rows
            self._one_call = bool(rows) and all(
                type(n) is Neuron and n._act is None and n._fused is act for n in neurons) and all(
                len(row) == len(rows[0]) and _all_values(row) for row in rows)
        return rows if self._one_call else None

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def named_tensors(self) -> list[tuple[str, Nested]]:
        return [(f"neurons.{i}.{name}", t) for i, n in enumerate(self.neurons) for name, t in n.named_tensors()]

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

    ``MLP(nin, nouts)`` is micrograd's MLP exactly (ReLU hidden layers, linear output, uniform init).
    """

    def __init__(self, nin: int, nouts: Sequence[int], *, activation: str = "relu",
                 output_activation: str = "linear", **kwargs: Any) -> None:
        sizes = [_check_size("nin", nin)] + [_check_size("each entry of nouts", n) for n in nouts]
        if len(sizes) < 2:
            raise ValueError("nouts must list at least one layer size")
        for name in (activation, output_activation):
            _activation_fn(name, 0.0)  # validate both, even if there is no hidden layer
        n = len(sizes) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], activation=activation if i < n - 1 else output_activation,
                             **kwargs) for i in range(n)]

    def __call__(self, x: Sequence[Scalar] | Scalar) -> Value | list[Value]:
        out: Any = x
        for layer in self.layers:
            out = layer(out)
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_tensors(self) -> list[tuple[str, Nested]]:
        return [(f"layers.{i}.{name}", t) for i, layer in enumerate(self.layers) for name, t in layer.named_tensors()]

    def architecture(self) -> dict[str, Any]:
        return {"type": "MLP", "layers": [layer.architecture() for layer in self.layers]}

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


# ---------------------------------------------------------------- composition helpers
def _map_nested(f: Callable[[Value], Value], x: Any) -> Any:
    if isinstance(x, Value):
        return f(x)
    if isinstance(x, (int, float)):
        return f(Value(x, requires_grad=False))
    return [_map_nested(f, v) for v in x]


class Activation(Module):
    """An element-wise activation over any nested list (e.g. after a Conv2d inside `Sequential`)."""

    def __init__(self, activation: str, negative_slope: float = 0.01) -> None:
        self._fn = _activation_fn(activation, negative_slope)
        self.activation, self.negative_slope = activation, float(negative_slope)

    def __call__(self, x: Any) -> Any:
        fn = self._fn
        return x if fn is None else _map_nested(fn, x)

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
        return list(_flat(x))

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

    def parameters(self) -> list[Value]:
        return [p for m in self.modules for p in m.parameters()]

    def named_tensors(self) -> list[tuple[str, Nested]]:
        return [(f"{i}.{name}", t) for i, m in enumerate(self.modules) for name, t in m.named_tensors()]

    def architecture(self) -> dict[str, Any]:
        return {"type": "Sequential", "modules": [m.architecture() for m in self.modules]}

    def __repr__(self) -> str:
        return f"Sequential({', '.join(repr(m) for m in self.modules)})"


# ---------------------------------------------------------------- convolution and pooling
def _pair(name: str, v: int | Sequence[int], minimum: int) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, int) else tuple(v)
    if len(pair) != 2 or any(isinstance(p, bool) or not isinstance(p, int) or p < minimum for p in pair):
        raise ValueError(f"{name} must be an integer >= {minimum} or a pair of them, got {v!r}")
    return pair[0], pair[1]


def _image(x: Any, channels: int | None, who: str) -> list[list[list[Value]]]:
    """Validate a [C][H][W] nested list and turn plain numbers into constants (once)."""
    if isinstance(x, (Value, int, float)) or not x or isinstance(x[0], (Value, int, float)):
        raise ValueError(f"{who}: expected a nested list [C][H][W]")
    if not x[0] or isinstance(x[0][0], (Value, int, float)) or not x[0][0]:
        raise ValueError(f"{who}: expected a nested list [C][H][W] with H, W >= 1")
    if channels is not None and len(x) != channels:
        raise ValueError(f"{who}: expected {channels} input channel(s), got {len(x)}")
    h, w = len(x[0]), len(x[0][0])
    out = []
    for c, plane in enumerate(x):
        if len(plane) != h or any(len(row) != w for row in plane):
            raise ValueError(f"{who}: channel {c} is not {h}x{w} (every channel must have the same H and W)")
        out.append([[v if isinstance(v, Value) else Value(v, requires_grad=False) for v in row] for row in plane])
    return out


def _out_size(who: str, size: int, pad: int, k: int, s: int) -> int:
    n = (size + 2 * pad - k) // s + 1
    if size + 2 * pad < k:
        raise ValueError(f"{who}: input size {size} (padding {pad}) is smaller than the kernel ({k})")
    return n


class Conv2d(Module):
    """2-D cross-correlation (PyTorch's Conv2d) of one image given as nested lists [C][H][W].

    Each output pixel is one `dot` node over the in-bounds part of its window (zero padding
    contributes nothing, so it is left out of the graph); one `dots` call makes a pixel's nodes
    for every output channel, sharing the window's inputs.  `weight` is [out][in][kh][kw] like
    PyTorch; `parameters()` lists the weights in that order, then the biases.  Default init is
    He (fan_in = in_channels * kh * kw), bias 0.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0, *, bias: bool = True,
                 init: str = "he", rng: RandomSource | None = None) -> None:
        self.in_channels = _check_size("in_channels", in_channels)
        self.out_channels = _check_size("out_channels", out_channels)
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        _check_init(init)
        r = _rng(rng)
        kh, kw = self.kernel_size
        fan_in, fan_out = in_channels * kh * kw, out_channels * kh * kw
        self.weight = [[[[Value(_draw(init, r, fan_in, fan_out)) for _ in range(kw)] for _ in range(kh)]
                        for _ in range(in_channels)] for _ in range(out_channels)]
        self.bias: list[Value] | None = [Value(0.0) for _ in range(out_channels)] if bias else None

    def __call__(self, x: Sequence[Sequence[Sequence[Scalar]]]) -> list[list[list[Value]]]:
        img = _image(x, self.in_channels, "Conv2d")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        h, w = len(img[0]), len(img[0][0])
        ho, wo = _out_size("Conv2d", h, ph, kh, sh), _out_size("Conv2d", w, pw, kw, sw)
        cin, weight = range(self.in_channels), self.weight
        biases: list[Value] = self.bias if self.bias is not None else [_ZERO] * self.out_channels
        out: list[list[list[Value]]] = [[[] for _ in range(ho)] for _ in range(self.out_channels)]
        # per clipped window, one row (bias, *flattened weights) per output channel: one dots() call per pixel
        kernels: dict[tuple[int, int, int, int], list[tuple[Value, ...]]] = {}
        for oy in range(ho):
            top = oy * sh - ph
            i0, i1 = max(0, -top), min(kh, h - top)
            for ox in range(wo):
                left = ox * sw - pw
                j0, j1 = max(0, -left), min(kw, w - left)
                key = (i0, i1, j0, j1)
                rows = kernels.get(key)
                if rows is None:
                    rows = kernels[key] = [
                        _as_values([b, *(wc[i][j] for wc in wo_ for i in range(i0, i1) for j in range(j0, j1))])
                        for wo_, b in zip(weight, biases)]
                patch = [img[c][top + i][left + j] for c in cin for i in range(i0, i1) for j in range(j0, j1)]
                for o, node in enumerate(_dot_nodes(rows, patch, None)):
                    out[o][oy].append(node)
        return out

    def parameters(self) -> list[Value]:
        ps = [v for wo_ in self.weight for wc in wo_ for row in wc for v in row]
        return ps + self.bias if self.bias is not None else ps

    def named_tensors(self) -> list[tuple[str, Nested]]:
        named: list[tuple[str, Nested]] = [("weight", self.weight)]  # type: ignore[list-item]
        return named + [("bias", list(self.bias))] if self.bias is not None else named

    def architecture(self) -> dict[str, Any]:
        return {"type": "Conv2d", "in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "bias": self.bias is not None}

    def __repr__(self) -> str:
        extra = "" if self.bias is not None else ", bias=False"
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}{extra})")


class _Pool2d(Module):
    def __init__(self, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None) -> None:
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair("stride", stride, 1)

    def _windows(self, x: Any) -> Iterator[tuple[int, int, int, list[Value]]]:
        who = type(self).__name__
        img = _image(x, None, who)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        h, w = len(img[0]), len(img[0][0])
        ho, wo = _out_size(who, h, 0, kh, sh), _out_size(who, w, 0, kw, sw)
        for c, plane in enumerate(img):
            for oy in range(ho):
                rows = plane[oy * sh: oy * sh + kh]
                for ox in range(wo):
                    yield c, oy, ox, [v for row in rows for v in row[ox * sw: ox * sw + kw]]

    def _pool(self, window: list[Value]) -> Value:
        raise NotImplementedError

    def __call__(self, x: Sequence[Sequence[Sequence[Scalar]]]) -> list[list[list[Value]]]:
        out: list[list[list[Value]]] = []
        for c, oy, ox, window in self._windows(x):
            if oy == 0 and ox == 0:
                out.append([])
            if ox == 0:
                out[c].append([])
            out[c][oy].append(self._pool(window))
        return out

    def architecture(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "kernel_size": list(self.kernel_size), "stride": list(self.stride)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2d(_Pool2d):
    """Max over each window.  The output *is* the arg-max input Value, so the gradient flows to it
    alone, with no extra node.  Ties go to the first in row-major order and NaN wins, as in PyTorch."""

    def _pool(self, window: list[Value]) -> Value:
        best = window[0]
        m = best.data
        for v in window:
            d = v.data
            if d > m or d != d:
                best, m = v, d
        return best


class AvgPool2d(_Pool2d):
    """Mean over each window: one sum node divided by the window size, so each input gets grad / size."""

    def _pool(self, window: list[Value]) -> Value:
        return vsum(window) / len(window)


# ---------------------------------------------------------------- losses
def _pairs(a: Any, b: Any, who: str, out: list[tuple[Any, Any]] | None = None) -> list[tuple[Any, Any]]:
    """Flatten two equally-shaped (possibly nested) sequences of scalars into pairs."""
    out = [] if out is None else out
    a_scalar, b_scalar = isinstance(a, (Value, int, float)), isinstance(b, (Value, int, float))
    if a_scalar and b_scalar:
        out.append((a, b))
        return out
    if a_scalar or b_scalar:
        raise ValueError(f"{who}: inputs and targets have different shapes")
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"{who}: {len(a)} inputs but {len(b)} targets")
    for x, y in zip(a, b):
        _pairs(x, y, who, out)
    return out


def _reduce(terms: list[Any], reduction: str, who: str) -> Value:
    if not terms:
        raise ValueError(f"{who}: no inputs")
    total = vsum(terms)
    if reduction == "mean":
        return total / len(terms)
    if reduction == "sum":
        return total
    raise ValueError(f"{who}: reduction must be 'mean' or 'sum', got {reduction!r}")


def mse_loss(preds: Any, targets: Any, reduction: str = "mean") -> Value:
    """Mean of (pred - target)^2, like torch.nn.functional.mse_loss.  Nested lists are compared element-wise."""
    terms = []
    for p, t in _pairs(preds, targets, "mse_loss"):
        d = p - t
        terms.append(d * d)
    return _reduce(terms, reduction, "mse_loss")


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Value:
    """Mean of -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed as
    y * softplus(-x) + (1 - y) * softplus(x): softplus is stable, so logits of any size give finite
    losses, and hard 0/1 labels take one term each (no cancellation).  Gradient: sigmoid(x) - y."""
    terms: list[Any] = []
    for x, y in _pairs(logits, targets, "binary_cross_entropy_with_logits"):
        if not isinstance(y, Value) and y == 1:
            terms.append(softplus(-x))
        elif not isinstance(y, Value) and y == 0:
            terms.append(softplus(x))
        else:
            terms.append(y * softplus(-x) + (1 - y) * softplus(x))
    return _reduce(terms, reduction, "binary_cross_entropy_with_logits")


def _scalars(values: Any, who: str) -> list[Any]:
    if isinstance(values, (Value, int, float)):
        raise ValueError(f"{who}: expected a sequence of logits, got a single number")
    vs = list(values)
    if not vs:
        raise ValueError(f"{who}: no logits")
    for v in vs:
        if not isinstance(v, (Value, int, float)):
            raise ValueError(f"{who}: expected numbers or Values, got {type(v).__name__}")
    return vs


def _shifted(vs: list[Any]) -> list[Any]:
    """values - max(values.data): the max is a constant, so this changes nothing but the range of exp."""
    m = max(v.data if isinstance(v, Value) else float(v) for v in vs)
    return [v - m for v in vs]


def softmax(values: Sequence[Scalar]) -> list[Value]:
    """exp(v_i) / sum_j exp(v_j), computed after subtracting the largest value so exp never overflows."""
    es = [exp(s) for s in _shifted(_scalars(values, "softmax"))]
    total = vsum(es)
    return [e / total for e in es]


def log_softmax(values: Sequence[Scalar]) -> list[Value]:
    """v_i - logsumexp(v), stable for any finite inputs."""
    s = _shifted(_scalars(values, "log_softmax"))
    lse = log(vsum([exp(x) for x in s]))
    return [x - lse for x in s]


def _target_index(t: Any, n: int, who: str) -> int:
    try:
        if isinstance(t, bool):
            raise TypeError
        k = operator.index(t)  # ints, numpy integers; not floats
    except TypeError:
        raise ValueError(f"{who}: target index must be an int, got {t!r}") from None
    if not 0 <= k < n:
        raise ValueError(f"{who}: target index {k} out of range for {n} classes")
    return k


def cross_entropy(logits: Any, target_index: int | Sequence[int], reduction: str = "mean") -> Value:
    """-log softmax(logits)[target], like torch.nn.functional.cross_entropy.

    One sample: ``cross_entropy([l0, l1, ...], k)``.  A batch: a list of logit lists and a list of
    indices (mean over the batch).  Uses log-sum-exp with the max logit subtracted, so logits of
    +-1000 give a finite loss and the exact gradient softmax - one-hot.
    """
    who = "cross_entropy"
    if isinstance(target_index, Sequence) and not isinstance(target_index, str):
        batch, targets = list(logits), list(target_index)
        if len(batch) != len(targets):
            raise ValueError(f"{who}: {len(batch)} samples but {len(targets)} targets")
    else:
        batch, targets = [logits], [target_index]
    terms = []
    for row, t in zip(batch, targets):
        s = _shifted(_scalars(row, who))
        k = _target_index(t, len(s), who)
        terms.append(log(vsum([exp(x) for x in s])) - s[k])
    return _reduce(terms, reduction, who)


def hinge_loss(scores: Any, labels: Any, reduction: str = "mean") -> Value:
    """micrograd's max-margin loss: mean of relu(1 - y * score) with labels y = +-1."""
    terms = [relu(1.0 - y * s) for s, y in _pairs(scores, labels, "hinge_loss")]
    return _reduce(terms, reduction, "hinge_loss")

