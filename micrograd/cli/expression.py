"""The expression language of ``micrograd graph``: a safe calculator that builds micrograd graphs from text.

Why a parser of our own: the command line takes expressions from users, and text
must never reach ``eval``/``exec``.  The text is parsed with ``ast.parse(mode="eval")``
(which only builds a syntax tree) and every node is checked against a short whitelist
before anything is computed: numbers, variables, ``+ - * / **``, unary ``-``/``+``,
parentheses and one-argument calls of `FUNCTIONS`: the activations of
`micrograd.primitives.ACTIVATIONS` (the names ``MLP`` and ``dot`` take; ``leaky_relu`` with
PyTorch's default ``negative_slope=0.01``) and the other functions of the engine.

The graph built is the one Python would build with `Value` variables and float
literals: ``x*2`` records ``*2``, ``x/2`` divides by a constant leaf.  Literal-only
parts are computed with the engine's float rules (so ``10**10**10`` is ``inf`` at once,
never a huge integer; there is no other constant folding).  Evaluation is iterative,
so depth is limited only by Python's parser (about 3,000 levels).

Numbers follow the engine: IEEE 754, as in PyTorch, never a Python exception.  ``log(-1)`` is
nan, ``x/0`` is inf, an overflow is inf, and nan propagates (``relu(nan)`` is nan, not 0), so a
value or a gradient can be inf or nan; `Evaluation.non_finite` names them.  The inputs must be
finite (a variable's value, a literal such as ``1e400``): an infinite input is always a typo.

Every problem with the text raises `ExpressionError`, a `ValueError` with a one-line message.
"""

from __future__ import annotations

import ast
import keyword
import math
import numbers
import operator
import unicodedata
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .. import primitives as P
from ..engine import Value

__all__ = ["ACTIVATION_NAMES", "FUNCTIONS", "MAX_LENGTH", "MAX_NODES", "OTHER_FUNCTION_NAMES", "Evaluation",
           "Expression", "ExpressionError", "evaluate", "parse", "parse_assignments"]

MAX_LENGTH = 10_000
"""Longest expression accepted, in characters."""

MAX_NODES = 5_000
"""Most numbers, variables and operations in one expression."""


def _linear(x: Any) -> Any:
    """The "linear" activation: the identity (no node is recorded, as in ``MLP``'s linear layers)."""
    return x


_ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    name: _linear if rule is None else P.leaky_relu if rule is P.LEAKY_RELU else rule
    for name, rule in P.ACTIVATIONS.items()
}
_OTHERS: dict[str, Callable[[Any], Any]] = {
    "abs": P.ABS, "cos": P.cos, "exp": P.exp, "log": P.log, "sin": P.sin, "softplus": P.softplus, "sqrt": P.sqrt,
}

ACTIVATION_NAMES: tuple[str, ...] = tuple(P.ACTIVATIONS)
"""The activation names, shared with ``MLP``, ``dot``/``dots`` and the CLI help."""

OTHER_FUNCTION_NAMES: tuple[str, ...] = tuple(sorted(_OTHERS))
"""The other callable functions."""

FUNCTIONS: Mapping[str, Callable[[Any], Any]] = MappingProxyType({**_ACTIVATIONS, **_OTHERS})
"""The callable functions: each takes one argument, a float or a `Value`."""

Operand = Value | float

# ast operator: (rule for two floats, rule when a Value is involved).  Literal-only parts follow the
# engine's float rules: (-8)**(1/3) is nan as x**(1/3) is at x=-8 (not a complex number), 1/0 is inf
# (not ZeroDivisionError), and 10**400 overflows to inf (not a 400-digit int).
_BINARY: dict[type[ast.operator], tuple[Callable[[float, float], float], Callable[[Operand, Operand], Operand]]] = {
    ast.Add: (P.ADD.forward, operator.add),
    ast.Sub: (P.SUB.forward, operator.sub),
    ast.Mult: (P.MUL.forward, operator.mul),
    ast.Div: (P.DIV.forward, operator.truediv),
    ast.Pow: (P.POWC.forward, operator.pow),
}
_OPERATOR_NAMES = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.Invert: "~", ast.Not: "not",
}
_NOT_ALLOWED = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Slice: "slices",
    ast.Lambda: "lambda", ast.Compare: "comparisons", ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expressions", ast.NamedExpr: "assignment expressions (:=)",
    ast.Tuple: "tuples", ast.List: "lists", ast.Set: "sets", ast.Dict: "dicts",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions", ast.JoinedStr: "f-strings", ast.FormattedValue: "f-strings",
    ast.Starred: "starred arguments", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
}
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant, ast.Load,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.UAdd, ast.USub)


class ExpressionError(ValueError):
    """The text is not a valid expression, or it cannot be evaluated; the message is one line."""


@dataclass(frozen=True)
class Expression:
    """A checked expression: safe to build, any number of times, with different values."""

    source: str
    variables: tuple[str, ...]  # in order of first appearance
    tree: ast.Expression

    def build(self, values: Mapping[str, float]) -> Evaluation:
        """Build the graph with one labelled leaf per variable (no backward pass yet).

        `values` must give exactly the expression's variables, each a finite number.
        """
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise ExpressionError(f"variable {missing[0]!r} has no value (give it as {missing[0]}=NUMBER)")
        unused = [name for name in values if name not in self.variables]
        if unused:
            raise ExpressionError(f"variable {unused[0]!r} is given a value but is not in the expression")
        leaves: dict[str, Value] = {}
        for name, number in values.items():
            if not isinstance(number, numbers.Real) or isinstance(number, bool) or not math.isfinite(number):
                raise ExpressionError(f"variable {name!r} must be a finite number, not {number!r}")
            leaves[name] = Value(float(number), label=name)
        result = _build(self.tree.body, leaves)
        root = result if isinstance(result, Value) else Value(result, requires_grad=False)
        return Evaluation(root, leaves)


@dataclass(frozen=True)
class Evaluation:
    """The root of a built graph and its variable leaves (in the order the values were given)."""

    value: Value
    variables: Mapping[str, Value]

    def backward(self) -> None:
        """Fill every variable's ``.grad`` with d value / d variable (IEEE numbers: inf and nan included)."""
        if self.value.requires_grad:
            self.value.backward()

    @property
    def gradients(self) -> dict[str, float]:
        """d value / d variable, for each variable."""
        return {name: leaf.grad for name, leaf in self.variables.items()}

    @property
    def non_finite(self) -> list[str]:
        """What came out inf or nan, as printed: ``"value = nan"``, ``"d/dx = inf"`` ..., in print order."""
        bad = [] if math.isfinite(self.value.data) else [f"value = {self.value.data!r}"]
        return bad + [f"d/d{name} = {g!r}" for name, g in self.gradients.items() if not math.isfinite(g)]


def parse(source: str) -> Expression:
    """Parse and check `source`; raise `ExpressionError` if anything is not allowed.

    Only ``ast.parse`` sees the text, and it only builds a tree; nothing is run.
    """
    if not isinstance(source, str):
        raise ExpressionError(f"an expression is text, not {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(source):,} characters; the limit is {MAX_LENGTH:,})")
    text = source.strip()
    if not text:
        raise ExpressionError("the expression is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings would print lines of their own
            tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        where = f" (line {e.lineno}, column {e.offset})" if e.lineno and e.lineno > 1 else \
            f" (column {e.offset})" if e.offset else ""
        raise ExpressionError(f"syntax error: {e.msg}{where}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply") from None
    except ValueError as e:  # e.g. null bytes on some Python versions
        raise ExpressionError(f"syntax error: {e}") from None
    return Expression(source, _check(tree), tree)


def evaluate(source: str, values: Mapping[str, float]) -> Evaluation:
    """Parse `source`, build its graph with `values` and run backward: the whole calculator."""
    result = parse(source).build(values)
    result.backward()
    return result


def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """``["x=0.5", "w=-1.2"]`` -> ``{"x": 0.5, "w": -1.2}``, rejecting bad names, numbers and repeats."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # the parser normalises identifiers the same way
        if not sep:
            raise ExpressionError(f"expected NAME=NUMBER, got {item!r}")
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ExpressionError(f"{name!r} is not a valid variable name")
        _check_name(name)
        if name in values:
            raise ExpressionError(f"variable {name!r} is given a value twice")
        try:
            x = float(number)
        except ValueError:
            raise ExpressionError(f"the value of {name!r} is not a number: {number!r}") from None
        if not math.isfinite(x):
            raise ExpressionError(f"the value of {name!r} must be finite, not {number.strip()!r}")
        values[name] = x
    return values


# ---------------------------------------------------------------- checking
def _check_name(name: str) -> None:
    if name in FUNCTIONS:
        raise ExpressionError(f"{name!r} is a function, not a variable (call it: {name}(...))")
    if name.startswith("__"):
        raise ExpressionError(f"names starting with '__' are not allowed ({name!r})")


def _literal(node: ast.Constant) -> float:
    """The float a literal stands for; only real numbers are numbers."""
    v = node.value
    if isinstance(v, (str, bytes)):
        raise ExpressionError("strings are not allowed")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ExpressionError(f"{v!r} is not a real number")
    try:
        x = float(v)
    except OverflowError:
        raise ExpressionError("a number in the expression is too large") from None
    if not math.isfinite(x):
        raise ExpressionError("a number in the expression is too large (it would be infinite)")
    return x


def _check(tree: ast.Expression) -> tuple[str, ...]:
    """Raise `ExpressionError` for the first node not in the whitelist; return the variable names."""
    names: dict[str, tuple[int, int]] = {}
    callees: set[int] = set()  # id()s of the Name nodes that are called, not read
    count = 0
    for node in ast.walk(tree):  # iterative, parents before children
        if isinstance(node, (ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call)):
            count += 1
            if count > MAX_NODES:
                raise ExpressionError(f"the expression is too large (more than {MAX_NODES:,} numbers, "
                                      "variables and operations)")
        if isinstance(node, ast.Call):
            _check_call(node)
            callees.add(id(node.func))
        elif isinstance(node, ast.BinOp) and type(node.op) not in _BINARY or \
                isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.USub, ast.UAdd)):
            symbol = _OPERATOR_NAMES.get(type(node.op), type(node.op).__name__)
            raise ExpressionError(f"operator {symbol!r} is not supported (use + - * / ** and parentheses)")
        elif isinstance(node, ast.Constant):
            _literal(node)
        elif isinstance(node, ast.Name) and id(node) not in callees:
            if not isinstance(node.ctx, ast.Load):
                raise ExpressionError(f"cannot assign to {node.id!r}")
            _check_name(node.id)
            names.setdefault(node.id, (node.lineno, node.col_offset))
        elif not isinstance(node, _ALLOWED):
            what = _NOT_ALLOWED.get(type(node), type(node).__name__)
            detail = f" (.{node.attr})" if isinstance(node, ast.Attribute) else ""
            raise ExpressionError(f"{what} not allowed{detail}: only numbers, variables, + - * / **, "
                                  "parentheses and function calls")
    return tuple(sorted(names, key=names.__getitem__))


def _check_call(node: ast.Call) -> None:
    func = node.func
    if isinstance(func, ast.Attribute):
        raise ExpressionError(f"attribute access not allowed (.{func.attr})")
    if not isinstance(func, ast.Name):
        raise ExpressionError("only the named functions can be called: " + ", ".join(FUNCTIONS))
    if func.id not in FUNCTIONS:
        raise ExpressionError(f"unknown function {func.id!r} (the functions are {', '.join(FUNCTIONS)})")
    if node.keywords:
        raise ExpressionError(f"{func.id}() takes no keyword arguments")
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise ExpressionError(f"{func.id}() takes no starred arguments")
    if len(node.args) != 1:
        raise ExpressionError(f"{func.id}() takes exactly one argument ({len(node.args)} given)")


# ---------------------------------------------------------------- building
def _children(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return [node.args[0]]
    return []


def _build(tree: ast.expr, leaves: Mapping[str, Value]) -> Operand:
    """Evaluate a checked tree bottom-up with an explicit stack (no recursion)."""
    todo: list[tuple[ast.expr, bool]] = [(tree, False)]
    done: list[Operand] = []
    while todo:
        node, children_done = todo.pop()
        if isinstance(node, ast.Constant):
            done.append(_literal(node))
        elif isinstance(node, ast.Name):
            done.append(leaves[node.id])
        elif not children_done:
            todo.append((node, True))
            todo.extend((child, False) for child in reversed(_children(node)))
        elif isinstance(node, ast.BinOp):
            right, left = done.pop(), done.pop()
            on_floats, on_values = _BINARY[type(node.op)]
            if isinstance(left, Value) or isinstance(right, Value):
                done.append(on_values(left, right))
            else:
                done.append(on_floats(left, right))
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                done.append(-done.pop())
        elif isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            done.append(FUNCTIONS[node.func.id](done.pop()))
        else:  # pragma: no cover - _check lets nothing else through
            raise ExpressionError(f"{type(node).__name__} not allowed")
    assert len(done) == 1
    return done[0]
