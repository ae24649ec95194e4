"""Finite-difference checks of derivative rules: `gradcheck` and `gradgradcheck`.

A derivative rule is easy to get subtly wrong (a sign on one branch, a factor lost
under ``create_graph``), and nothing in the engine can tell: it applies whatever
rule it is given.  These checks compare the engine's first and second derivatives
of any function of Values with central finite differences, the engine-independent
side, and on failure raise an ``AssertionError`` with a table of every partial
derivative.  They need nothing beyond micrograd itself.

Start at `gradcheck`; `gradgradcheck` is the same check one order up, and
`numeric_gradient` is the finite-difference side on its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..engine import Value, grad, no_grad

Number = int | float

__all__ = ["gradcheck", "gradgradcheck", "numeric_gradient"]


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
    """(f(x + eps e_j) - f(x - eps e_j)) / (2 eps), elementwise, naming the failure if f is undefined there.

    The engine follows IEEE 754 (log(-1) is nan, 1/0 is inf), so a step out of the
    domain shows as a non-finite value; a user's own rule may raise instead.
    """
    try:
        up, down = f(_shifted(xs, j, eps)), f(_shifted(xs, j, -eps))
    except (ValueError, ArithmeticError) as e:  # DomainError is a ValueError; ZeroDivisionError, OverflowError
        raise ValueError(f"{what}: cannot take central differences at inputs[{j}] = {xs[j]!r} +- {eps}: {e}. "
                         "Keep the inputs at least eps away from the edge of the domain.") from e
    bad = next((v for v in (*up, *down) if not math.isfinite(v)), None)
    if bad is not None:
        raise ValueError(f"{what}: cannot take central differences at inputs[{j}] = {xs[j]!r} +- {eps}: "
                         f"a value there is {bad}. Keep the inputs at least eps away from the edge of the domain.")
    return [(u - d) / (2.0 * eps) for u, d in zip(up, down)]


def numeric_gradient(fn: Callable[..., Value | Number], inputs: Sequence[Value | Number], *,
                     eps: float = 1e-6) -> list[float]:
    """Central differences d fn / d inputs[i]: the engine-independent side of `gradcheck`.

    Returns one float per input; raises ``ValueError`` if fn is not finite within eps of the inputs.
    """
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
    passes when ``|analytic - numeric| <= atol + rtol * |numeric|`` (the test of
    ``torch.autograd.gradcheck``).  The engine's derivative is taken with both
    `grad` and ``backward()``, which must agree.

    Returns True; raises ``AssertionError`` with a table of every partial if one
    fails, and ``ValueError`` if fn is not finite (or not defined) within eps of the inputs.
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
    Values (a rule that escapes the graph, e.g. with ``x.data`` or ``math.cos``,
    fails here and passes `gradcheck`).  The numeric side is a central difference of
    the engine's first derivative, as in ``torch.autograd.gradgradcheck``.  The
    first derivatives with and without ``create_graph`` must also agree.

    Returns True; raises ``AssertionError`` with a table if any entry fails, and
    ``ValueError`` as `gradcheck` does.
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
