"""Check derivative rules: finite-difference checks and hypothesis strategies.

A derivative rule is easy to get subtly wrong (a sign on one branch, a factor
lost under ``create_graph``), and a few hand-picked test points rarely find it.
This package gives the two pieces that do:

* `gradcheck` / `gradgradcheck` (in `micrograd.testing.gradcheck`; start there)
  compare the engine's first / second derivatives of any function of Values with
  central finite differences and, on failure, raise an ``AssertionError`` with a
  table of every partial derivative.  They need nothing but micrograd.
* hypothesis strategies (in `micrograd.testing.strategies`): `Domain.floats` for
  inputs where a function is smooth, `Op.arguments` for an operation's operands,
  and `expressions` for random expression DAGs (shared subexpressions, fan-out,
  every engine primitive, plus your own `Op`s), each paired with a plain-float
  evaluator (`Expr.reference`) and a hook (`Expr.evaluate`) for oracle backends
  such as PyTorch.  They need hypothesis: ``pip install "micrograd[testing]"``;
  without it, importing one of them raises ``ModuleNotFoundError`` saying so.

Example::

    from hypothesis import given
    from micrograd.testing import Domain, gradcheck, gradgradcheck

    @given(Domain(-3, 3).floats())
    def test_my_rule(x):
        assert gradcheck(my_primitive, [x]) and gradgradcheck(my_primitive, [x])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .gradcheck import gradcheck, gradgradcheck, numeric_gradient

if TYPE_CHECKING:
    from .strategies import (
        OPS,
        SPECIAL_POINTS,
        Domain,
        Expr,
        Node,
        Op,
        expressions,
        op_from_primitive,
        special_floats,
    )

__all__ = [
    "OPS", "SPECIAL_POINTS", "Domain", "Expr", "Node", "Op", "expressions", "gradcheck", "gradgradcheck",
    "numeric_gradient", "op_from_primitive", "special_floats",
]


def __getattr__(name: str) -> Any:
    """The strategies, imported on first use (PEP 562), so `gradcheck` works on a plain install.

    Raises ``ModuleNotFoundError`` naming the ``micrograd[testing]`` extra when hypothesis is missing.
    """
    if name in __all__:  # the names of .gradcheck are already bound; the rest live in .strategies
        return getattr(importlib.import_module(".strategies", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
