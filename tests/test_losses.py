"""Losses and softmax against torch.nn.functional (float64), at ordinary and extreme inputs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import nn
from micrograd.engine import Value

torch = pytest.importorskip("torch")
F = torch.nn.functional


def values(xs):
    return [Value(x) for x in xs]


def t64(xs, grad=False):
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
def test_mse_matches_torch(preds, targets):
    vs, tx = values(preds), t64(preds, grad=True)
    check(nn.mse_loss(vs, targets), vs, F.mse_loss(tx, t64(targets)), tx)


def test_mse_sum_reduction_and_value_targets():
    p, t = values([1.0, 2.0]), values([0.0, 4.0])
    loss = nn.mse_loss(p, t, reduction="sum")
    loss.backward()
    assert loss.data == 5.0  # closed form: 1^2 + 2^2
    assert [v.grad for v in p] == [2.0, -4.0] and [v.grad for v in t] == [-2.0, 4.0]


def test_mse_nested_and_scalar_inputs():
    v = Value(3.0)
    assert nn.mse_loss(v, 1.0).data == 4.0  # a bare Value (an MLP with one output) is accepted
    p = [[Value(1.0), Value(2.0)], [Value(3.0), Value(5.0)]]
    tp = t64([[1.0, 2.0], [3.0, 5.0]], grad=True)
    tgt = [[0.0, 0.0], [1.0, 1.0]]
    check(nn.mse_loss(p, tgt), [x for row in p for x in row], F.mse_loss(tp, t64(tgt)), tp)


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
def test_bce_with_logits_matches_torch(logits, targets):
    vs, tx = values(logits), t64(logits, grad=True)
    check(nn.binary_cross_entropy_with_logits(vs, targets),
          vs, F.binary_cross_entropy_with_logits(tx, t64(targets)), tx)


def test_bce_tiny_loss_keeps_relative_precision():
    # For a confidently right logit the loss is log1p(exp(-x)) ~ exp(-x): computed without cancellation.
    x = 30.0
    assert nn.binary_cross_entropy_with_logits([x], [1.0]).data == pytest.approx(math.log1p(math.exp(-x)), rel=1e-14)
    assert nn.binary_cross_entropy_with_logits([-x], [0.0]).data == pytest.approx(math.log1p(math.exp(-x)),
                                                                                  rel=1e-14)


def test_bce_gradients_for_logits_and_targets():
    x, y = values([0.7, -2.0]), values([0.3, 0.9])
    tx, ty = t64([0.7, -2.0], grad=True), t64([0.3, 0.9], grad=True)
    F.binary_cross_entropy_with_logits(tx, ty).backward()
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
def test_cross_entropy_matches_torch(logits, target):
    vs, tx = values(logits), t64(logits, grad=True)
    check(nn.cross_entropy(vs, target), vs, F.cross_entropy(tx, torch.tensor(target)), tx)


def test_cross_entropy_extreme_gradient_is_softmax_minus_one_hot():
    vs = values([1000.0, -1000.0])
    loss = nn.cross_entropy(vs, 1)
    loss.backward()
    assert loss.data == 2000.0  # closed form: logsumexp - logit[1] = 1000 - (-1000)
    assert [v.grad for v in vs] == [1.0, -1.0]


def test_cross_entropy_batch_matches_torch():
    rows = [[0.1, 2.0, -1.0], [3.0, 3.0, 0.0], [-0.5, 0.25, 8.0]]
    targets = [1, 0, 0]
    vs = [values(r) for r in rows]
    tx = t64(rows, grad=True)
    check(nn.cross_entropy(vs, targets), [v for r in vs for v in r],
          F.cross_entropy(tx, torch.tensor(targets)), tx)


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=6), st.data())
@settings(max_examples=40)
def test_cross_entropy_property_matches_torch(logits, data):
    target = data.draw(st.integers(0, len(logits) - 1))
    vs, tx = values(logits), t64(logits, grad=True)
    check(nn.cross_entropy(vs, target), vs, F.cross_entropy(tx, torch.tensor(target)), tx, rel=1e-10, abs_=1e-12)


@pytest.mark.parametrize("logits", [[0.5, -2.0, 1.5], [1000.0, 999.0, -1000.0], [-800.0, -801.0]])
def test_softmax_and_log_softmax_match_torch(logits):
    tx = t64(logits, grad=True)
    weights = [1.0, -2.0, 0.5][: len(logits)]
    vs = values(logits)
    sm = nn.softmax(vs)
    assert [s.data for s in sm] == pytest.approx(F.softmax(tx, 0).tolist(), rel=1e-12, abs=1e-300)
    assert math.fsum(s.data for s in sm) == pytest.approx(1.0, rel=1e-15)
    # gradient of a weighted sum of the outputs (a vector-Jacobian product)
    (F.softmax(tx, 0) * t64(weights)).sum().backward()
    sum(w * s for w, s in zip(weights, sm)).backward()
    assert [v.grad for v in vs] == pytest.approx(tx.grad.tolist(), rel=1e-10, abs=1e-15)

    tx2, vs2 = t64(logits, grad=True), values(logits)
    lsm = nn.log_softmax(vs2)
    assert [s.data for s in lsm] == pytest.approx(F.log_softmax(tx2, 0).tolist(), rel=1e-12)
    (F.log_softmax(tx2, 0) * t64(weights)).sum().backward()
    sum(w * s for w, s in zip(weights, lsm)).backward()
    assert [v.grad for v in vs2] == pytest.approx(tx2.grad.tolist(), rel=1e-10, abs=1e-15)


# ---------------------------------------------------------------- hinge
@pytest.mark.parametrize("scores, labels", [
    ([0.5, -0.3, 2.0, -4.0], [1, 1, -1, -1]),
    ([1e6, -1e6], [1, 1]),
    ([3.0, -3.0], [1, -1]),  # all margins satisfied: zero loss, zero gradient
])
def test_hinge_matches_torch(scores, labels):
    vs, tx = values(scores), t64(scores, grad=True)
    tl = torch.relu(1 - t64(labels) * tx).mean()
    check(nn.hinge_loss(vs, labels), vs, tl, tx)


def test_hinge_is_micrograd_demo_loss():
    scores, labels = values([0.5, -0.3, 2.0]), [1, 1, -1]
    demo = sum((1 + -yi * si).relu() for yi, si in zip(labels, scores)) * (1.0 / 3)
    assert nn.hinge_loss(scores, labels).data == pytest.approx(demo.data, rel=1e-15)


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
    (lambda: nn.cross_entropy([1.0, 2.0], 1.0), "must be an int"),
    (lambda: nn.cross_entropy([], 0), "no logits"),
    (lambda: nn.cross_entropy([[1.0, 2.0]], [0, 1]), "1 samples but 2 targets"),
    (lambda: nn.cross_entropy(1.0, 0), "single number"),
    (lambda: nn.softmax([]), "no logits"),
    (lambda: nn.mse_loss([1.0], [1.0], reduction="none"), "reduction"),
])
def test_clear_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
