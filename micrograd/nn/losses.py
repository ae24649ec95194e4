"""Losses and softmax, as torch.nn.functional defines them, built from engine operations.

Each loss takes predictions and targets as Values or numbers, flat or nested lists of the same
shape, and returns one Value (the mean by default, ``reduction="sum"`` for the sum).  Every
function is written so that large inputs stay finite where the mathematics is finite (the
max logit is subtracted before exp; softplus instead of log(1 + exp)), and so that special
inputs give PyTorch's answer: a NaN anywhere gives NaN, overflow gives inf, never an exception.
One deliberate difference: `binary_cross_entropy_with_logits` at an infinite logit gives the
loss's limit (0 or inf) where PyTorch's formula gives 0 * inf = nan.

Start at `mse_loss`, the simplest; `cross_entropy` shows the max-subtraction trick.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

from ..engine import Scalar, Value, as_value, vsum
from ..primitives import exp, log, relu, softplus

__all__ = ["mse_loss", "binary_cross_entropy_with_logits", "cross_entropy", "hinge_loss", "softmax", "log_softmax"]


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
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{who}: reduction must be 'mean' or 'sum', got {reduction!r}")
    if not terms:
        raise ValueError(f"{who}: no inputs")
    total = vsum(terms)  # IEEE: an overflowing sum is inf, inf + -inf is nan
    return total / len(terms) if reduction == "mean" else total


def mse_loss(preds: Any, targets: Any, reduction: str = "mean") -> Value:
    """Mean of (pred - target)^2, like torch.nn.functional.mse_loss.  Nested lists are compared
    element-wise; a bare Value and a number are one pair.  ValueError for different shapes."""
    terms = []
    for p, t in _pairs(preds, targets, "mse_loss"):
        d = p - t
        terms.append(d * d)
    return _reduce(terms, reduction, "mse_loss")


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Value:
    """Mean of -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] over logits x and targets y in [0, 1].

    Computed as y * softplus(-x) + (1 - y) * softplus(x): softplus never overflows, so logits of
    any size give finite losses, and hard 0/1 labels (numbers) take one term each, so a
    confident right answer keeps its tiny loss exactly.  Gradient: sigmoid(x) - y, as PyTorch's.
    An infinite logit gives the limit (0 when it is right, inf when it is wrong); PyTorch computes
    (1 - y) x - log sigmoid(x) and gets 0 * inf = nan there.
    """
    terms: list[Any] = []
    for x, y in _pairs(logits, targets, "binary_cross_entropy_with_logits"):
        if not isinstance(y, Value) and y == 1:
            terms.append(softplus(-x))
        elif not isinstance(y, Value) and y == 0:
            terms.append(softplus(x))
        else:
            terms.append(y * softplus(-x) + (1 - y) * softplus(x))
    return _reduce(terms, reduction, "binary_cross_entropy_with_logits")


def _scalars(values: Any, who: str) -> list[Value]:
    """A non-empty list of logits as Values (numbers become constants)."""
    if isinstance(values, (Value, int, float)):
        raise ValueError(f"{who}: expected a sequence of logits, got a single number")
    vs = list(values)
    if not vs:
        raise ValueError(f"{who}: no logits")
    for v in vs:
        if not isinstance(v, (Value, int, float)):
            raise ValueError(f"{who}: expected numbers or Values, got {type(v).__name__}")
    return [as_value(v) for v in vs]


def _shifted(vs: list[Value]) -> list[Value]:
    """values - max(values): the max is taken as a constant (softmax does not change when every
    input moves by the same amount), so exp never overflows.  A NaN anywhere makes the max NaN,
    so every output is NaN, as in PyTorch; an infinite max gives inf - inf = nan, as in PyTorch."""
    data = [v.data for v in vs]
    m = math.nan if any(d != d for d in data) else max(data)
    return [v - m for v in vs]


def softmax(values: Sequence[Scalar]) -> list[Value]:
    """exp(v_i) / sum_j exp(v_j) for a list of logits, like torch.softmax over one dimension."""
    es = [exp(s) for s in _shifted(_scalars(values, "softmax"))]
    total = vsum(es)
    return [e / total for e in es]


def log_softmax(values: Sequence[Scalar]) -> list[Value]:
    """v_i - logsumexp(v) for a list of logits, like torch.log_softmax: stable for any finite inputs."""
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
    +-1000 give a finite loss and the exact gradient softmax - one-hot.  ValueError for an index
    out of range or not an int.
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
