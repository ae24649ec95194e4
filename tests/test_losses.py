"""Losses and softmax against torch.nn.functional (float64), at ordinary and extreme inputs."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import nn
from micrograd.engine import Value


@pytest.fixture(scope="module")
def torch():
    """PyTorch, the oracle; tests that use it skip without it, the closed-form tests do not."""
    return pytest.importorskip("torch")


def F():
    import torch

    return torch.nn.functional


def values(xs):
    return [Value(x) for x in xs]


def t64(xs, grad=False):
    import torch

    return torch.tensor(xs, dtype=torch.float64, requires_grad=grad)


def check(loss: Value, vs: list[Value], tloss, tx, rel=1e-12, abs_=1e-15):
    """Our loss and input gradient equal torch's."""
    tloss.backward()
    loss.backward()
    assert math.isfinite(loss.data)
    assert loss.data == pytest.approx(tloss.item(), rel=rel, abs=abs_)
    assert [v.grad for v in vs] == pytest.approx(tx.grad.flatten().tolist(), rel=1e-10, abs=1e-15)


# ---------------------------------------------------------------- mse
@pytest.mark.parametrize("preds, targets", [
    ([0.5, -1.5, 2.0], [1.0, -1.0, 0.0]),
    ([1e150, -3.0], [-1e150, 2.0]),
    ([1e-200, 0.0], [0.0, 1e-200]),
])
def test_mse_matches_torch(torch, preds, targets):
    vs, tx = values(preds), t64(preds, grad=True)
    check(nn.mse_loss(vs, targets), vs, F().mse_loss(tx, t64(targets)), tx)


def test_mse_sum_reduction_and_value_targets():
    p, t = values([1.0, 2.0]), values([0.0, 4.0])
    loss = nn.mse_loss(p, t, reduction="sum")
    loss.backward()
    assert loss.data == 5.0  # closed form: 1^2 + 2^2
    assert [v.grad for v in p] == [2.0, -4.0] and [v.grad for v in t] == [-2.0, 4.0]


def test_mse_nested_and_scalar_inputs(torch):
    v = Value(3.0)
    assert nn.mse_loss(v, 1.0).data == 4.0  # a bare Value (an MLP with one output) is accepted
    p = [[Value(1.0), Value(2.0)], [Value(3.0), Value(5.0)]]
    tp = t64([[1.0, 2.0], [3.0, 5.0]], grad=True)
    tgt = [[0.0, 0.0], [1.0, 1.0]]
    check(nn.mse_loss(p, tgt), [x for row in p for x in row], F().mse_loss(tp, t64(tgt)), tp)


def test_losses_accept_plain_floats():
    assert nn.mse_loss([1.0, 3.0], [0.0, 0.0]).data == 5.0
    assert nn.cross_entropy([0.0, 0.0], 1).data == pytest.approx(math.log(2), rel=1e-15)
    assert nn.hinge_loss([0.5, -2.0], [1, 1]).data == pytest.approx((0.5 + 3.0) / 2, rel=1e-15)
    assert nn.binary_cross_entropy_with_logits([0.0], [1.0]).data == pytest.approx(math.log(2), rel=1e-15)


# ---------------------------------------------------------------- BCE with logits
@pytest.mark.parametrize("logits, targets", [
    ([0.3, -1.2, 2.5, 0.0], [1.0, 0.0, 1.0, 0.0]),
    ([0.3, -1.2, 2.5], [0.25, 0.5, 0.9]),  # soft labels
    ([1000.0, -1000.0, 1000.0, -1000.0], [1.0, 0.0, 0.0, 1.0]),  # saturated, right and wrong
    ([40.0, -40.0, 745.0, -745.0], [1.0, 0.0, 0.0, 1.0]),
])
def test_bce_with_logits_matches_torch(torch, logits, targets):
    vs, tx = values(logits), t64(logits, grad=True)
    check(nn.binary_cross_entropy_with_logits(vs, targets),
          vs, F().binary_cross_entropy_with_logits(tx, t64(targets)), tx)


def test_bce_tiny_loss_keeps_relative_precision():
    # For a confidently right logit the loss is log1p(exp(-x)) ~ exp(-x): computed without cancellation.
    x = 30.0
    assert nn.binary_cross_entropy_with_logits([x], [1.0]).data == pytest.approx(math.log1p(math.exp(-x)), rel=1e-14)
    assert nn.binary_cross_entropy_with_logits([-x], [0.0]).data == pytest.approx(math.log1p(math.exp(-x)),
                                                                                  rel=1e-14)


def test_bce_gradients_for_logits_and_targets(torch):
    x, y = values([0.7, -2.0]), values([0.3, 0.9])
    tx, ty = t64([0.7, -2.0], grad=True), t64([0.3, 0.9], grad=True)
    F().binary_cross_entropy_with_logits(tx, ty).backward()
    nn.binary_cross_entropy_with_logits(x, y).backward()
    assert [v.grad for v in x] == pytest.approx(tx.grad.tolist(), rel=1e-12)
    assert [v.grad for v in y] == pytest.approx(ty.grad.tolist(), rel=1e-12)


# ---------------------------------------------------------------- cross entropy and softmax
@pytest.mark.parametrize("logits, target", [
    ([0.2, -1.0, 3.0, 0.5], 2),
    ([0.2, -1.0, 3.0, 0.5], 1),
    ([1000.0, -1000.0], 0),
    ([1000.0, -1000.0], 1),
    ([-1000.0, -1000.0, -1000.0], 2),
    ([5.0], 0),
])
def test_cross_entropy_matches_torch(torch, logits, target):
    vs, tx = values(logits), t64(logits, grad=True)
    check(nn.cross_entropy(vs, target), vs, F().cross_entropy(tx, torch.tensor(target)), tx)


def test_cross_entropy_extreme_gradient_is_softmax_minus_one_hot():
    vs = values([1000.0, -1000.0])
    loss = nn.cross_entropy(vs, 1)
    loss.backward()
    assert loss.data == 2000.0  # closed form: logsumexp - logit[1] = 1000 - (-1000)
    assert [v.grad for v in vs] == [1.0, -1.0]


def test_cross_entropy_batch_matches_torch(torch):
    rows = [[0.1, 2.0, -1.0], [3.0, 3.0, 0.0], [-0.5, 0.25, 8.0]]
    targets = [1, 0, 0]
    vs = [values(r) for r in rows]
    tx = t64(rows, grad=True)
    check(nn.cross_entropy(vs, targets), [v for r in vs for v in r],
          F().cross_entropy(tx, torch.tensor(targets)), tx)


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=6), st.data())
@settings(max_examples=40)
def test_cross_entropy_property_matches_torch(torch, logits, data):
    target = data.draw(st.integers(0, len(logits) - 1))
    vs, tx = values(logits), t64(logits, grad=True)
    check(nn.cross_entropy(vs, target), vs, F().cross_entropy(tx, torch.tensor(target)), tx, rel=1e-10, abs_=1e-12)


@pytest.mark.parametrize("logits", [[0.5, -2.0, 1.5], [1000.0, 999.0, -1000.0], [-800.0, -801.0]])
def test_softmax_and_log_softmax_match_torch(torch, logits):
    tx = t64(logits, grad=True)
    weights = [1.0, -2.0, 0.5][: len(logits)]
    vs = values(logits)
    sm = nn.softmax(vs)
    assert [s.data for s in sm] == pytest.approx(F().softmax(tx, 0).tolist(), rel=1e-12, abs=1e-300)
    assert math.fsum(s.data for s in sm) == pytest.approx(1.0, rel=1e-15)
    # gradient of a weighted sum of the outputs (a vector-Jacobian product)
    (F().softmax(tx, 0) * t64(weights)).sum().backward()
    sum(w * s for w, s in zip(weights, sm)).backward()
    assert [v.grad for v in vs] == pytest.approx(tx.grad.tolist(), rel=1e-10, abs=1e-15)

    tx2, vs2 = t64(logits, grad=True), values(logits)
    lsm = nn.log_softmax(vs2)
    assert [s.data for s in lsm] == pytest.approx(F().log_softmax(tx2, 0).tolist(), rel=1e-12)
    (F().log_softmax(tx2, 0) * t64(weights)).sum().backward()
    sum(w * s for w, s in zip(weights, lsm)).backward()
    assert [v.grad for v in vs2] == pytest.approx(tx2.grad.tolist(), rel=1e-10, abs=1e-15)


# ---------------------------------------------------------------- hinge
@pytest.mark.parametrize("scores, labels", [
    ([0.5, -0.3, 2.0, -4.0], [1, 1, -1, -1]),
    ([1e6, -1e6], [1, 1]),
    ([3.0, -3.0], [1, -1]),  # all margins satisfied: zero loss, zero gradient
])
def test_hinge_matches_torch(torch, scores, labels):
    vs, tx = values(scores), t64(scores, grad=True)
    tl = torch.relu(1 - t64(labels) * tx).mean()
    check(nn.hinge_loss(vs, labels), vs, tl, tx)


def test_hinge_is_micrograd_demo_loss():
    scores, labels = values([0.5, -0.3, 2.0]), [1, 1, -1]
    demo = sum((1 + -yi * si).relu() for yi, si in zip(labels, scores)) * (1.0 / 3)
    assert nn.hinge_loss(scores, labels).data == pytest.approx(demo.data, rel=1e-15)


# ---------------------------------------------------------------- NaN, inf and overflow (issue 12)
NAN, INF = math.nan, math.inf
SPECIAL = [0.0, 1.5, -2.0, INF, -INF, NAN, 1e308, -1e308, 1.1e154]
PAIRS = list(itertools.product(SPECIAL, SPECIAL))


def same(a: float, b: float) -> bool:
    return (a != a and b != b) or a == b or abs(a - b) <= 1e-12 * abs(b)


def run_ours(fn, xs):
    vs = values(xs)
    out = fn(vs)
    out.backward()
    return [out.data, *(v.grad for v in vs)]


def run_torch(fn, xs):
    tx = t64(xs, grad=True)
    out = fn(tx)
    out.backward()
    return [out.item(), *tx.grad.tolist()]


def special_cases():
    w = [1.0, -2.0]
    return {
        "mse": (lambda v: nn.mse_loss(v, [0.5, -1.0]), lambda t: F().mse_loss(t, t64([0.5, -1.0]))),
        "mse sum": (lambda v: nn.mse_loss(v, [0.5, -1.0], reduction="sum"),
                    lambda t: F().mse_loss(t, t64([0.5, -1.0]), reduction="sum")),
        "cross_entropy": (lambda v: nn.cross_entropy(v, 1), lambda t: F().cross_entropy(t, t64(1.0).long())),
        "hinge": (lambda v: nn.hinge_loss(v, [1, -1]), lambda t: (1 - t64([1.0, -1.0]) * t).relu().mean()),
        "softmax": (lambda v: sum(a * b for a, b in zip(w, nn.softmax(v))),
                    lambda t: (F().softmax(t, 0) * t64(w)).sum()),
        "log_softmax": (lambda v: sum(a * b for a, b in zip(w, nn.log_softmax(v))),
                        lambda t: (F().log_softmax(t, 0) * t64(w)).sum()),
    }


@pytest.mark.parametrize("name", ["mse", "mse sum", "cross_entropy", "hinge", "softmax", "log_softmax"])
def test_losses_at_special_points_match_torch(torch, name):
    """Every pair from {0, 1.5, -2, +-inf, nan, +-1e308, 1.1e154}: the loss and both gradients are
    PyTorch's float64 answer (nan where it gives nan), and nothing raises."""
    ours_fn, torch_fn = special_cases()[name]
    for xs in PAIRS:
        ours, theirs = run_ours(ours_fn, list(xs)), run_torch(torch_fn, list(xs))
        assert all(map(same, ours, theirs)), (name, xs, ours, theirs)


@pytest.mark.parametrize("targets", [[1.0, 0.0], [0.3, 0.9], [NAN, 1.0]])
def test_bce_at_special_finite_points_matches_torch(torch, targets):
    finite = [x for x in SPECIAL if not math.isinf(x)]
    for xs in itertools.product(finite, finite):
        ours = run_ours(lambda v: nn.binary_cross_entropy_with_logits(v, targets), list(xs))
        theirs = run_torch(lambda t: F().binary_cross_entropy_with_logits(t, t64(targets)), list(xs))
        assert all(map(same, ours, theirs)), (xs, ours, theirs)


def test_bce_at_infinite_logits_is_the_limit():
    """Closed form, a deliberate difference from PyTorch, whose formula (1 - y) x - log sigmoid(x)
    gives 0 * inf = nan for every infinite logit: here the loss is its limit, -log sigmoid(inf) = 0
    for a right answer and inf for a wrong one, and the gradient is sigmoid(x) - y, as PyTorch's."""
    cases = [(INF, 1.0, 0.0, 0.0), (-INF, 0.0, 0.0, 0.0), (INF, 0.0, INF, 1.0), (-INF, 1.0, INF, -1.0),
             (INF, 0.25, INF, 0.75), (-INF, 0.25, INF, -0.25)]
    for x, y, loss, slope in cases:
        v = Value(x)
        out = nn.binary_cross_entropy_with_logits([v], [y])
        out.backward()
        assert (out.data, v.grad) == (loss, slope), (x, y)


def test_nan_anywhere_gives_nan_closed_form():
    for fn in (lambda v: nn.mse_loss(v, [0.0, 0.0]), lambda v: nn.cross_entropy(v, 0),
               lambda v: nn.cross_entropy(v, 1), lambda v: nn.hinge_loss(v, [1, 1]),
               lambda v: nn.binary_cross_entropy_with_logits(v, [1, 0]), lambda v: nn.log_softmax(v)[0],
               lambda v: nn.softmax(v)[1]):
        for xs in ([NAN, 1.0], [1.0, NAN]):  # wherever the nan is (Python's max would hide it in one order)
            assert math.isnan(fn(values(xs)).data)
    assert all(math.isnan(o.data) for o in nn.softmax([NAN, 0.0, 1.0]))


def test_overflow_gives_inf_not_an_exception_closed_form():
    ps = [Value(1.1e154), Value(1.1e154)]
    loss = nn.mse_loss(ps, [0, 0])  # each square is finite, their sum is not: inf, as PyTorch
    loss.backward()
    assert loss.data == INF
    assert [p.grad for p in ps] == [1.1e154, 1.1e154]  # 2 * d / n: finite
    assert nn.mse_loss([Value(1e200)], [-1e200]).data == INF
    assert nn.hinge_loss([-1e308, -1e308], [1, 1]).data == INF
    assert nn.cross_entropy([1e308, -1e308], 1).data == INF


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("call, match", [
    (lambda: nn.mse_loss([1.0, 2.0], [1.0]), "2 inputs but 1 targets"),
    (lambda: nn.mse_loss([], []), "no inputs"),
    (lambda: nn.mse_loss([[1.0], 2.0], [[1.0], [2.0]]), "different shapes"),
    (lambda: nn.binary_cross_entropy_with_logits([1.0], [1.0, 0.0]), "1 inputs but 2 targets"),
    (lambda: nn.hinge_loss([1.0, 2.0, 3.0], [1, -1]), "3 inputs but 2 targets"),
    (lambda: nn.cross_entropy([1.0, 2.0], 2), "out of range"),
    (lambda: nn.cross_entropy([1.0, 2.0], -1), "out of range"),
    (lambda: nn.cross_entropy([1.0, 2.0], True), "must be an int"),
    (lambda: nn.cross_entropy([1.0, 2.0], 1.0), "must be an int"),  # type: ignore[arg-type]
    (lambda: nn.cross_entropy([], 0), "no logits"),
    (lambda: nn.cross_entropy([[1.0, 2.0]], [0, 1]), "1 samples but 2 targets"),
    (lambda: nn.cross_entropy(1.0, 0), "single number"),
    (lambda: nn.softmax([]), "no logits"),
    (lambda: nn.mse_loss([1.0], [1.0], reduction="none"), "reduction"),
])
def test_clear_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
