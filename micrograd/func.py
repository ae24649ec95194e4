"""Function transforms with JAX's names: `grad`, `value_and_grad`, `jacobian`, `hessian`, `jvp`, `vjp`.

A transform takes a function of numbers and returns the function that computes its
derivative, numbers in and numbers out::

    from micrograd.func import grad
    import micrograd.math as math

    df = grad(lambda x: x * math.sin(x))        # x sin x  ->  sin x + x cos x
    df(2.0)                                     # 0.0770037537313969, a float
    grad(grad(grad(lambda x: x ** 4)))(2.0)     # 48.0 = 24 x

Each call makes fresh leaves for the differentiated arguments, runs the function once to
record its graph, and walks it back with `micrograd.grad`.  Arguments may be numbers or
(nested) lists, tuples and dicts of numbers; a derivative has the argument's shape.  `argnums`
picks the arguments to differentiate, an int or a tuple of ints (then a tuple comes back).

Composition: when the function's graph reaches Values that require grad and that the
transform did not make itself (its arguments inside another transform, a model's parameters
the function closes over), the derivative is recorded with ``create_graph=True`` and returned
as a Value, so it can be differentiated again (``grad(grad(f))``; a gradient penalty reaching
the parameters); otherwise it is a float.  So ``x * grad(lambda y: x * y)(3.0)`` stays a
function of x (no "perturbation confusion"), and nothing is silently cut off.

Everything runs in reverse mode: `jacobian` is one reverse pass per output (JAX's jacrev),
`hessian` a jacobian of a jacobian, and `jvp` the "double vjp" trick (J t = d/du <J^T u, t>:
two reverse passes whatever the number of outputs; Townsend, "A new trick for calculating
Jacobian vector products", 2017).  Transforms record even inside `no_grad()`, as torch.func's
do: their result must not depend on a context outside the function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from .engine import Value, enable_grad, topological_order, vsum
from .engine import grad as _reverse
from .primitives import Primitive

ArgNums = int | Sequence[int]

# the variable made for a Value argument: a new node, so each argument has its own derivative
# even when the same Value is passed twice, and the derivative still flows back to the Value
IDENTITY = Primitive("identity", lambda x: x, lambda x, out: (1.0,))


# ---------------------------------------------------------------- argument trees
def _flatten(tree: Any, what: str) -> tuple[list[Any], Callable[[list[Any]], Any]]:
    """The numbers in a (nested) list / tuple / dict, in order, and the function that puts new ones back."""
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(item, what) for item in tree]
        counts = [len(leaves) for leaves, _ in parts]

        def rebuild_sequence(leaves: list[Any]) -> Any:
            items, start = [], 0
            for (_, rebuild), n in zip(parts, counts):
                items.append(rebuild(leaves[start:start + n]))
                start += n
            if isinstance(tree, list):
                return items
            return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)  # a namedtuple

        return [leaf for leaves, _ in parts for leaf in leaves], rebuild_sequence
    if isinstance(tree, dict):
        keys = list(tree)
        values, rebuild_values = _flatten([tree[k] for k in keys], what)
        return values, lambda leaves: dict(zip(keys, rebuild_values(leaves)))
    if isinstance(tree, bool) or not isinstance(tree, (int, float, Value)):
        raise TypeError(f"{what} must be a real number (int, float or Value) or a list, tuple or dict of them, "
                        f"not {type(tree).__name__}")
    return [tree], lambda leaves: leaves[0]


def _argnums(argnums: ArgNums, transform: str) -> tuple[tuple[int, ...], bool]:
    """argnums as a tuple, and whether it was a single int (then the result is not a tuple)."""
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return (argnums,), True
    if isinstance(argnums, (tuple, list)) and argnums and all(
            isinstance(i, int) and not isinstance(i, bool) for i in argnums):
        return tuple(argnums), False
    raise TypeError(f"{transform}: argnums must be an int or a non-empty tuple of ints, not {argnums!r}")


def _positions(nums: tuple[int, ...], n_args: int, transform: str) -> list[int]:
    positions = [i + n_args if i < 0 else i for i in nums]
    bad = [i for i, p in zip(nums, positions) if not 0 <= p < n_args]
    if bad:
        raise ValueError(f"{transform}: argnums {bad[0]} is out of range for a call with {n_args} positional "
                         f"argument{'s' if n_args != 1 else ''}")
    if len(set(positions)) != len(positions):
        raise ValueError(f"{transform}: argnums {nums!r} names an argument twice")
    return positions


class _Trace:
    """One call of a transformed function: its variables, its output, and how to give results back."""

    def __init__(self, f: Callable[..., Any], args: tuple[Any, ...], positions: Sequence[int],
                 kwargs: dict[str, Any], transform: str) -> None:
        self.transform = transform
        call_args = list(args)
        self.variables: list[Value] = []
        self.own: set[Value] = set()  # the leaves made here (for numbers); Values get an IDENTITY node
        self.shapes: list[tuple[int, int, Callable[[list[Any]], Any]]] = []
        with enable_grad():  # a transform records even inside no_grad()
            for p in positions:
                leaves, rebuild = _flatten(args[p], f"{transform}: argument {p}")
                start = len(self.variables)
                for x in leaves:
                    if isinstance(x, Value) and x.requires_grad:
                        self.variables.append(IDENTITY(x))
                    else:
                        leaf = Value(x.data if isinstance(x, Value) else x)
                        self.own.add(leaf)
                        self.variables.append(leaf)
                self.shapes.append((start, len(self.variables), rebuild))
                call_args[p] = rebuild(self.variables[start:])
            self.out = f(*call_args, **kwargs)
        self.outputs, self.rebuild_out = _flatten(self.out, f"{transform}: the function's output")

    def nested(self, *extra: Any) -> bool:
        """Whether the graph reaches Values this call did not make (the function is itself being
        differentiated): then derivatives are recorded Values, not floats."""
        roots = [v for v in (*self.outputs, *extra) if isinstance(v, Value) and v.requires_grad]
        if any(r._rule is None and r not in self.own for r in roots):
            return True
        for node in topological_order(roots, skip_flat=False):
            for p in node._prev:
                if p._rule is None and p.requires_grad and p not in self.own:
                    return True
        return False

    def derivatives(self, outputs: Sequence[Any], seeds: Sequence[Any] | None, create_graph: bool,
                    wrt: Sequence[Value] | None = None) -> list[Any]:
        """d (sum of seeds[i] * outputs[i]) / d variable, for every variable (0.0 where nothing depends on it)."""
        wrt = self.variables if wrt is None else wrt
        seeds = [1.0] * len(outputs) if seeds is None else seeds
        live = [(o, s) for o, s in zip(outputs, seeds) if isinstance(o, Value) and o.requires_grad]
        if not live:
            return [0.0] * len(wrt)
        with enable_grad():
            return list(_reverse([o for o, _ in live], list(wrt), [s for _, s in live], create_graph=create_graph))

    def per_argument(self, values: list[Any]) -> list[Any]:
        """`values` (one per variable) in the shapes of the differentiated arguments."""
        return [rebuild(values[start:end]) for start, end, rebuild in self.shapes]


def _result(x: Any, nested: bool) -> Any:
    """A number to give back: a Value only inside another transform (and only if it still depends on something)."""
    if isinstance(x, Value):
        return x if nested and x.requires_grad else x.data
    return float(x)


def _results(xs: Sequence[Any], nested: bool) -> list[Any]:
    return [_result(x, nested) for x in xs]


def _scalar_output(trace: _Trace) -> Any:
    out = trace.out
    if isinstance(out, bool) or not isinstance(out, (int, float, Value)):
        raise TypeError(f"{trace.transform}: the function must return one real number (a float or a Value), "
                        f"not {type(out).__name__}; use jacobian for a function with several outputs")
    return out


# ---------------------------------------------------------------- the transforms
def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., tuple[Any, Any]]:
    """The function returning ``(f(*args), grad(f, argnums)(*args))``, one forward and one reverse pass.

    f must return one number.  The gradient has the shape of the argument (a tuple over
    `argnums` if it is a tuple).  Errors: TypeError for a bad `argnums`, argument or output;
    ValueError for an `argnums` out of range.
    """
    return _value_and_grad(f, argnums, "value_and_grad")


def _value_and_grad(f: Callable[..., Any], argnums: ArgNums, transform: str) -> Callable[..., tuple[Any, Any]]:
    nums, single = _argnums(argnums, transform)

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        trace = _Trace(f, args, _positions(nums, len(args), transform), kwargs, transform)
        out = _scalar_output(trace)
        nested = trace.nested()
        grads = trace.per_argument(_results(trace.derivatives([out], None, nested), nested))
        return _result(out, nested), grads[0] if single else tuple(grads)

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The function computing d f / d args[argnums] (f must return one number); see `value_and_grad`."""
    value_and_grad_f = _value_and_grad(f, argnums, "grad")

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The function computing the Jacobian J[i][j] = d f_i / d x_j, one reverse pass per output (JAX's jacrev).

    f returns a number or a (nested) list / tuple / dict of numbers; the result has the
    output's shape, and in place of each output number the shape of the argument (a tuple
    over `argnums` if it is a tuple).  So a number-to-number f gives a number, a list-to-number
    f a list (its gradient) and a list-to-list f a list of rows.
    """
    nums, single = _argnums(argnums, "jacobian")

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        trace = _Trace(f, args, _positions(nums, len(args), "jacobian"), kwargs, "jacobian")
        nested = trace.nested()
        rows = []
        for out in trace.outputs:
            grads = trace.per_argument(_results(trace.derivatives([out], None, nested), nested))
            rows.append(grads[0] if single else tuple(grads))
        return trace.rebuild_out(rows)

    return jacobian_f


def hessian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The function computing the Hessian H[i][j] = d2 f / d x_i d x_j of a number-valued f.

    The jacobian of the jacobian (as JAX's ``jacfwd(jacrev(f))``, here both in reverse mode):
    for a list argument a list of rows; with a tuple `argnums` of number arguments, ``H[i][j]``
    = d2 f / d x_i d x_j; list arguments nest like JAX's pytrees (``H[0][k][1]`` = d2 f / d v_k d w).
    """
    return jacobian(jacobian(f, argnums), argnums)


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``(f(*primals), vjp_fn)``: vjp_fn(cotangent) is the vector-Jacobian product u^T J, one reverse pass.

    The cotangent has the output's shape; vjp_fn returns a tuple with one entry per primal,
    each of that primal's shape.  vjp_fn can be called any number of times (the graph is kept).
    """
    trace = _Trace(f, primals, range(len(primals)), {}, "vjp")
    nested = trace.nested()

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        seeds, _ = _flatten(cotangent, "vjp: the cotangent")
        if len(seeds) != len(trace.outputs):
            raise ValueError(f"vjp: the cotangent has {len(seeds)} numbers for an output of {len(trace.outputs)}")
        create_graph = nested or trace.nested(*seeds)
        return tuple(trace.per_argument(_results(trace.derivatives(trace.outputs, seeds, create_graph),
                                                 create_graph)))

    return trace.rebuild_out(_results(trace.outputs, nested)), vjp_fn


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J t)``: the Jacobian-vector product, the derivative of f along `tangents`.

    `primals` and `tangents` are sequences of the arguments (as JAX's), the tangents of the
    same shapes.  Computed in reverse mode by the double-vjp trick: with dummy cotangents u,
    g(u) = u^T J is recorded (create_graph), and J t = d <g(u), t> / d u, another reverse pass.
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (or lists) of the arguments")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    trace = _Trace(f, tuple(primals), range(len(primals)), {}, "jvp")
    ts: list[Any] = []
    for p, (start, end, _) in enumerate(trace.shapes):
        leaves, _ = _flatten(tangents[p], f"jvp: tangent {p}")
        if len(leaves) != end - start:
            raise ValueError(f"jvp: tangent {p} has {len(leaves)} numbers for a primal of {end - start}")
        ts += leaves
    nested = trace.nested(*ts)
    u = [Value(1.0) for _ in trace.outputs]  # dummy cotangents: u^T J is linear in u, so their value is moot
    ut_j = trace.derivatives(trace.outputs, u, create_graph=True)
    with enable_grad():  # t · (u^T J) must be recorded, even under no_grad: d/du of it is J t
        along = vsum([t * g for t, g in zip(ts, ut_j) if isinstance(g, Value)])
    tangent_out = trace.derivatives([along], None, nested, wrt=u)
    return trace.rebuild_out(_results(trace.outputs, nested)), trace.rebuild_out(_results(tangent_out, nested))


__all__ = ["grad", "hessian", "jacobian", "jvp", "value_and_grad", "vjp"]
