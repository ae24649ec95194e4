"""Each operation and its derivative said in words, for `micrograd.explain`'s tables and the step-by-step page.

The seeds' textbook explains backprop rule by rule: an addition passes the upstream gradient on
unchanged, a product passes it times the *other* input, and so on.  This module writes those
rules for one node of a real graph, with the graph's own names and numbers::

    ∂(all_price·tax)/∂all_price = tax = 1.1

`Names` gives every node a short name (its label; a number for an unlabelled constant; a short
expression such as ``x·x`` for an unlabelled node; else ``#k``).  `rule` says a local derivative
in words, `forward` says how a value was computed.  The number at the end of each sentence is
the engine's own (passed in), so the words can never disagree with the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .engine import Value
from .fused import DotRule
from .primitives import (
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
    Closure,
    Primitive,
    constant_of,
    primitive_of,
)

__all__ = ["Names", "expression", "forward", "number", "rule"]

# precedence of a written expression: what needs parentheses where
_LOWEST, _SUM, _PRODUCT, _POWER, _ATOM = 0, 1, 2, 3, 4
_MAX_LABEL = 40  # characters of a label shown (as in micrograd.draw); longer ones end in an ellipsis
_RULE_WIDTH = 40  # longest expression spelled out in a rule; beyond it the rule names the node
Term = tuple[str, int]  # text and precedence

_FUNCTIONS: dict[Primitive, str] = {EXP: "exp", LOG: "log", SQRT: "sqrt", TANH: "tanh", SIGMOID: "sigmoid",
                                    SOFTPLUS: "softplus", RELU: "relu", ABS: "abs", SIN: "sin", COS: "cos"}


def number(x: float, digits: int = 6) -> str:
    """`x` with `digits` significant digits, trailing zeros dropped: 715, 1.1, 0.0821670, 1e-08."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def _is_number(text: str) -> bool:
    try:
        return float(text) >= 0
    except ValueError:
        return False


def _term(x: float, digits: int) -> Term:
    text = number(x, digits)
    return text, (_ATOM if not text.startswith("-") else _LOWEST)


def _wrap(term: Term, least: int) -> str:
    text, prec = term
    return text if prec >= least else f"({text})"


def _clean(text: str, width: int) -> str:
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def expression(node: Value, args: Sequence[Term], digits: int = 6) -> Term:
    """What `node` computes, written over `args` (its parents, as names or numbers)."""
    rule, c = primitive_of(node), constant_of(node)
    a = args[0] if args else ("", _ATOM)
    if rule is ADD or rule is SUM:
        text = _wrap(a, _SUM)
        for t in args[1:]:  # a + (-2) reads a - 2
            negative_number = t[1] == _LOWEST and t[0].startswith("-") and " " not in t[0]
            text += f" - {t[0][1:]}" if negative_number else f" + {_wrap(t, _SUM)}"
        return text, _SUM
    if rule is SUB:  # the right side of a minus keeps its parentheses: a - (b + c), a - (-b)
        b = args[1]
        return f"{_wrap(a, _SUM)} - {_wrap(b, _POWER if b[0].startswith('-') else _PRODUCT)}", _SUM
    if rule is SHIFT and c is not None:
        sign, size = ("-", -c) if c < 0 else ("+", c)
        return f"{_wrap(a, _SUM)} {sign} {number(size, digits)}", _SUM
    if rule is MUL:
        return f"{_wrap(a, _PRODUCT)}·{_wrap(args[1], _PRODUCT)}", _PRODUCT
    if rule is SCALE and c is not None:
        if c == -1:
            return f"-{_wrap(a, _POWER)}", _PRODUCT
        return f"{_wrap(a, _PRODUCT)}·{_wrap(_term(c, digits), _PRODUCT)}", _PRODUCT
    if rule in (DIV, FLOORDIV, MOD):
        op = {DIV: "/", FLOORDIV: "//", MOD: " % "}[rule]
        return f"{_wrap(a, _PRODUCT)}{op}{_wrap(args[1], _POWER)}", _PRODUCT
    if rule is POW:
        return f"{_wrap(a, _ATOM)}**{_wrap(args[1], _ATOM)}", _POWER
    if rule is POWC and c is not None:
        return f"{_wrap(a, _ATOM)}**{_wrap(_term(c, digits), _ATOM)}", _POWER
    if rule is LEAKY_RELU and c is not None:
        return f"leaky_relu({a[0]}, {number(c, digits)})", _ATOM
    if rule in _FUNCTIONS:
        return f"{_FUNCTIONS[rule]}({a[0]})", _ATOM
    if isinstance(rule, DotRule):
        n = (len(args) - 1) // 2
        products = [f"{_wrap(w, _PRODUCT)}·{_wrap(x, _PRODUCT)}" for w, x in zip(args[1:n + 1], args[n + 1:])]
        terms = [args[0][0], *products]
        linear = " + ".join(terms)
        act = rule.activation
        if act is None:
            return linear, _SUM
        return f"{_FUNCTIONS.get(act, act.name)}({linear})", _ATOM
    op = node._op or "?"
    if isinstance(rule, Closure) and op in ("+", "*", "-", "/") and len(args) == 2:  # made the lecture's way
        return f"{_wrap(a, _PRODUCT)} {op} {_wrap(args[1], _PRODUCT)}", (_SUM if op in "+-" else _PRODUCT)
    if len(args) == 1 and op.startswith("**"):
        return f"{_wrap(a, _ATOM)}{op}", _POWER
    return f"{op}({', '.join(t[0] for t in args)})", _ATOM


class Names:
    """Short names for the nodes of one graph, fixed on first use.

    A node's name is its label; else, for a constant, its number; else the expression it
    computes over its parents' names when that is at most `width` characters (``x·x + x``);
    else ``#k``, numbered in the order names are first asked for.  An unlabelled `output` is
    ``out``, so the table's headers read ``∂out/∂node``.  `parents` gives a node's parents
    (``lambda v: v._prev``, or a `micrograd.lecture.Lecture`'s ``parents``).
    """

    def __init__(self, parents: Callable[[Value], tuple[Value, ...]], *, digits: int = 6, width: int = 20,
                 output: Value | None = None) -> None:
        self.parents, self.digits, self.width, self.output = parents, digits, width, output
        self._terms: dict[Value, Term] = {}
        self._legend: dict[Value, None] = {}  # the interior nodes named #k, in order
        self._spelled: set[Value] = set()  # the nodes named by what they compute
        self._count = 0

    def __call__(self, node: Value) -> str:
        return self.term(node)[0]

    def atom(self, node: Value) -> str:
        """The name, in parentheses if it is an expression: for ``∂(x·x + x)/∂x``."""
        return _wrap(self.term(node), _ATOM)

    def term(self, node: Value) -> Term:
        """The name and its precedence (a label or a number is an atom; ``a + b`` needs parentheses in a product)."""
        if node in self._terms:
            return self._terms[node]
        stack = [node]  # name the parents first, without recursion
        while stack:
            v = stack[-1]
            if v in self._terms:
                stack.pop()
                continue
            missing = [] if v.label or not v._prev else [p for p in self.parents(v) if p not in self._terms]
            if missing:
                stack.extend(dict.fromkeys(missing))
                continue
            stack.pop()
            self._terms[v] = self._name(v)
        return self._terms[node]

    def _name(self, v: Value) -> Term:
        if v.label:  # a label such as "w5*out_h1" is put in parentheses inside expressions; "w5" is not
            label = _clean(v.label, _MAX_LABEL)
            return label, (_ATOM if label.isidentifier() or _is_number(label) else _LOWEST)
        if v is self.output and v._prev:
            return "out", _ATOM
        if not v._prev:
            if not v.requires_grad:
                return _term(v.data, self.digits)
            return self._numbered()
        term = expression(v, [self._terms[p] for p in self.parents(v)], self.digits)
        if len(term[0]) <= self.width:
            self._spelled.add(v)
            return term
        self._legend[v] = None
        return self._numbered()

    def _numbered(self) -> Term:
        self._count += 1
        return f"#{self._count}", _ATOM

    def numbered(self, node: Value) -> bool:
        """Whether `node` is named ``#k`` (its expression was too long): see `legend`."""
        return node in self._legend

    def spelled(self, node: Value) -> bool:
        """Whether `node`'s name is the expression it computes (so the name already shows its operation)."""
        self.term(node)
        return node in self._spelled

    def expression(self, node: Value) -> str:
        """What `node` computes over its parents' names (``x·w + b``), whatever its own name."""
        return expression(node, [self.term(p) for p in self.parents(node)], self.digits)[0]

    def legend(self) -> list[tuple[str, str]]:
        """(``#k``, what it computes) for every numbered node named so far, in order."""
        return [(self(v), expression(v, [self.term(p) for p in self.parents(v)], self.digits)[0])
                for v in self._legend]


_NOTE = "\0"  # a formula that is a remark on the number rather than an expression


def _side(node: Value) -> str:
    """Which side of a ReLU's kink the node's (only) input is on."""
    x = node._prev[0].data
    return "> 0" if x > 0 else "<= 0" if x <= 0 else "is nan"


def _slope(rule: DotRule, out: str) -> str | None:
    """The activation's slope in words, at the neuron's output `out` (None: no activation)."""
    act = rule.activation
    if act is None:
        return None
    if act is TANH:
        return f"(1 - {out}**2)"
    if act is SIGMOID:
        return f"{out}·(1 - {out})"
    return f"{act.name}'"


def _formula(node: Value, slot: int, names: Sequence[Term], out: Term, d: float, digits: int) -> str | None:
    """The local derivative d node / d parent[slot] as a formula over names (None: only the number)."""
    rule, c = primitive_of(node), constant_of(node)
    x = names[0] if names else ("", _ATOM)
    if rule in (ADD, SUM, SHIFT, SUB):
        return None  # 1 (-1 for what is subtracted): the sum passes the upstream gradient on, with its sign
    if rule is MUL:
        return names[1 - slot][0]  # the other input (the seeds' "flipped" input)
    if rule is SCALE:
        return None  # the folded number itself
    if rule is DIV:
        a, b = names
        return f"1/{_wrap(b, _POWER)}" if slot == 0 else f"-{_wrap(a, _PRODUCT)}/{_wrap(b, _ATOM)}**2"
    if rule is POW:
        a, b = names
        return (f"{_wrap(b, _PRODUCT)}·{_wrap(a, _ATOM)}**({b[0]} - 1)" if slot == 0
                else f"{_wrap(out, _PRODUCT)}·log({a[0]})")
    if rule is POWC and c is not None:
        if c in (0, 1):
            return None
        if c == 2:
            return f"2·{_wrap(x, _PRODUCT)}"
        return f"{number(c, digits)}·{_wrap(x, _ATOM)}**{_wrap(_term(c - 1, digits), _ATOM)}"
    if rule is EXP:
        return out[0]
    if rule is LOG:
        return f"1/{_wrap(x, _POWER)}"
    if rule is SQRT:
        return f"1/(2·{_wrap(out, _PRODUCT)})"
    if rule is TANH:
        return f"1 - {_wrap(out, _ATOM)}**2"
    if rule is SIGMOID:
        return f"{_wrap(out, _PRODUCT)}·(1 - {out[0]})"
    if rule is SOFTPLUS:
        return f"sigmoid({x[0]})"
    if rule is RELU or rule is LEAKY_RELU:
        return f"{_NOTE}{_wrap(x, _PRODUCT)} {_side(node)}"
    if rule is ABS:
        return f"sign({x[0]})"
    if rule is SIN:
        return f"cos({x[0]})"
    if rule is COS:
        return f"-sin({x[0]})"
    if rule is FLOORDIV:
        return None  # a step function: flat almost everywhere
    if rule is MOD:
        a, b = names
        return None if slot == 0 else f"-floor({a[0]}/{_wrap(b, _POWER)})"
    if isinstance(rule, DotRule):
        n = (len(names) - 1) // 2
        slope = _slope(rule, _wrap(out, _ATOM))
        if slot == 0:
            return None if slope is None else slope.removeprefix("(").removesuffix(")")
        other = names[slot + n] if slot <= n else names[slot - n]  # a weight's input, an input's weight
        return other[0] if slope is None else f"{slope}·{_wrap(other, _PRODUCT)}"
    if isinstance(rule, Closure):
        return f"{_NOTE}from its _backward, made the lecture's way"
    return None


def rule(node: Value, slot: int, d: float, names: Names, digits: int | None = None) -> str:
    """d node / d parent in words, e.g. ``∂(a·b)/∂a = b = 3``; `slot` indexes the node's parents.

    `digits`: significant digits of the numbers (default: the names').
    """
    digits = names.digits if digits is None else digits
    parents = names.parents(node)
    terms = [names.term(p) for p in parents]
    expr = expression(node, terms, digits)
    if len(expr[0]) > _RULE_WIDTH:  # a wide sum: ∂y/∂a, not the whole sum spelled out
        expr = names.term(node)
    value = number(d, digits)
    formula = _formula(node, slot, terms, names.term(node), d, digits)
    head = f"∂{_wrap(expr, _ATOM)}/∂{_wrap(terms[slot], _ATOM)}"
    if formula is None or formula == value:
        return f"{head} = {value}"
    if formula.startswith(_NOTE):
        return f"{head} = {value} ({formula[len(_NOTE):]})"
    return f"{head} = {formula} = {value}"


def forward(node: Value, names: Names) -> str:
    """How `node`'s value was computed, e.g. ``price = all_price·tax = 650·1.1 = 715``."""
    digits = names.digits
    parents = names.parents(node)
    if not parents:
        kind = "a constant" if not node.requires_grad else "an input"
        return f"{names(node)} = {number(node.data, digits)} ({kind})"
    symbolic = expression(node, [names.term(p) for p in parents], digits)[0]
    numeric = expression(node, [_term(p.data, digits) for p in parents], digits)[0]
    name = names(node)
    head = name if name == symbolic else f"{name} = {symbolic}"
    return f"{head} = {numeric} = {number(node.data, digits)}"
