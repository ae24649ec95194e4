"""SGD / Adam / AdamW trajectories against torch.optim (float64, single-tensor implementation)."""

from __future__ import annotations

import inspect
import itertools
import math
import random

import pytest

from micrograd import nn
from micrograd.engine import Value, vsum
from micrograd.optim import SGD, Adam, AdamW


@pytest.fixture(scope="module")
def torch():
    """PyTorch, the oracle; tests that use it skip without it, the closed-form tests do not."""
    return pytest.importorskip("torch")

START = [0.5, -1.5, 2.0, 0.1, -0.3, 1.2]
CENTRES = [1.0, 2.0, -1.0, 0.5, 0.0, -2.0]
SCALES = [1.0, 0.5, 2.0, 3.0, 0.1, 1.5]


def objective(p: list[Value]) -> Value:
    """A smooth, non-separable function whose gradient does not vanish quickly."""
    terms = [a * (x - c) ** 2 for a, x, c in zip(SCALES, p, CENTRES)]
    terms.append(0.3 * (p[0] * p[1]).sin())
    terms.append(0.1 * (p[2] * p[3]) ** 2)
    terms.append((p[4] - p[5]).tanh())
    return vsum(terms)


def torch_objective(t):
    import torch

    a, c = torch.tensor(SCALES, dtype=torch.float64), torch.tensor(CENTRES, dtype=torch.float64)
    return ((a * (t - c) ** 2).sum() + 0.3 * torch.sin(t[0] * t[1]) + 0.1 * (t[2] * t[3]) ** 2
            + torch.tanh(t[4] - t[5]))


def run_with_shared_gradients(make_ours, make_torch, steps=300, lr_change=None):
    """Both optimizers see the same gradient every step (computed by us at our parameters), so any
    difference in the update formulas accumulates in the trajectory."""
    import torch

    params = [Value(v) for v in START]
    tparam = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt, topt = make_ours(params), make_torch([tparam])
    for k in range(steps):
        if lr_change is not None and k == steps // 2:
            opt.lr = lr_change
            topt.param_groups[0]["lr"] = lr_change
        opt.zero_grad()
        objective(params).backward()
        tparam.grad = torch.tensor([p.grad for p in params], dtype=torch.float64)
        opt.step()
        topt.step()
        assert [p.data for p in params] == pytest.approx(tparam.tolist(), rel=1e-9, abs=1e-9), f"step {k}"
    return params, tparam


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.05},
    {"lr": 0.05, "weight_decay": 0.01},
    {"lr": 0.02, "momentum": 0.9},
    {"lr": 0.02, "momentum": 0.9, "weight_decay": 0.05},
    {"lr": 0.02, "momentum": 0.5, "dampening": 0.3},
    {"lr": 0.02, "momentum": 0.9, "nesterov": True},
])
def test_sgd_trajectory_matches_torch(torch, kwargs):
    params, tparam = run_with_shared_gradients(lambda ps: SGD(ps, **kwargs),
                                               lambda ts: torch.optim.SGD(ts, foreach=False, **kwargs))
    # and it actually optimised: the objective went down from the start
    assert objective(params).data < objective([Value(v) for v in START]).data


@pytest.mark.parametrize("kwargs", [
    {},
    {"lr": 0.01},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.02, "betas": (0.3, 0.5)},  # 1 - beta1 >= 0.5: torch's other lerp branch
    {"lr": 0.02, "betas": (0.0, 0.0), "eps": 1e-3},
    {"lr": 0.01, "eps": 0.5},
])
def test_adam_trajectory_matches_torch(torch, kwargs):
    run_with_shared_gradients(lambda ps: Adam(ps, **kwargs), lambda ts: torch.optim.Adam(ts, foreach=False, **kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.02, "weight_decay": 0.3}])
def test_adamw_trajectory_matches_torch(torch, kwargs):
    run_with_shared_gradients(lambda ps: AdamW(ps, **kwargs),
                              lambda ts: torch.optim.AdamW(ts, foreach=False, **kwargs))


def test_learning_rate_can_be_changed_between_steps_like_torch_param_groups(torch):
    run_with_shared_gradients(lambda ps: Adam(ps, lr=0.05), lambda ts: torch.optim.Adam(ts, lr=0.05, foreach=False),
                              lr_change=0.005)
    run_with_shared_gradients(lambda ps: SGD(ps, lr=0.05, momentum=0.8),
                              lambda ts: torch.optim.SGD(ts, lr=0.05, momentum=0.8, foreach=False), lr_change=0.01)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_independent_trajectories_agree(torch, name):
    """Each side computes its own gradients at its own parameters (no sharing) for 200 steps."""
    params = [Value(v) for v in START]
    tparam = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    if name == "sgd":
        opt, topt = SGD(params, lr=0.01, momentum=0.9), torch.optim.SGD([tparam], lr=0.01, momentum=0.9,
                                                                         foreach=False)
    else:
        opt, topt = Adam(params, lr=0.01), torch.optim.Adam([tparam], lr=0.01, foreach=False)
    for _ in range(200):
        opt.zero_grad()
        objective(params).backward()
        opt.step()
        topt.zero_grad()
        torch_objective(tparam).backward()
        topt.step()
    assert [p.data for p in params] == pytest.approx(tparam.tolist(), rel=1e-9, abs=1e-9)


def test_mlp_training_with_adam_matches_torch(torch):
    rng = random.Random(0)
    X = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(8)]
    Y = [rng.uniform(-1, 1) for _ in range(8)]
    model = nn.MLP(3, [6, 1], activation="tanh", init="xavier", rng=random.Random(1))
    W1 = torch.tensor([[w.data for w in n.w] for n in model.layers[0].neurons], dtype=torch.float64,
                      requires_grad=True)
    b1 = torch.tensor([n.b.data for n in model.layers[0].neurons], dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor([[w.data for w in model.layers[1].neurons[0].w]], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([model.layers[1].neurons[0].b.data], dtype=torch.float64, requires_grad=True)
    opt = Adam(model.parameters(), lr=0.03)
    topt = torch.optim.Adam([W1, b1, W2, b2], lr=0.03, foreach=False)
    tX, tY = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    for _ in range(60):
        loss = nn.mse_loss([model(x) for x in X], Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch.nn.functional.mse_loss((torch.tanh(tX @ W1.T + b1) @ W2.T + b2)[:, 0], tY)
        topt.zero_grad()
        tloss.backward()
        topt.step()
    theirs = [v for j in range(6) for v in [*W1[j].tolist(), b1[j].item()]] + W2[0].tolist() + b2.tolist()
    assert [p.data for p in model.parameters()] == pytest.approx(theirs, rel=1e-9, abs=1e-9)
    assert loss.data < 0.5 * nn.mse_loss([0.0] * 8, Y).data  # it learned something


def test_first_steps_closed_form():
    """SGD: p - lr * g.  Adam's first step moves every parameter by lr * sign(g) (up to eps)."""
    p = Value(1.0)
    p.grad = 4.0
    SGD([p], lr=0.1).step()
    assert p.data == 1.0 - 0.1 * 4.0
    q = Value(1.0)
    q.grad = -250.0
    Adam([q], lr=0.01, eps=0.0).step()
    assert q.data == pytest.approx(1.01, rel=1e-15)


def test_zero_grad_clears_every_parameter():
    params = [Value(1.0), Value(2.0)]
    opt = Adam(params)
    for p in params:
        p.grad = 3.0
    opt.zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=-0.1),
    lambda ps: SGD(ps, lr=math.nan),
    lambda ps: SGD(ps, lr=math.inf),
    lambda ps: SGD(ps, lr="0.1"),  # type: ignore[arg-type]
    lambda ps: SGD(ps, lr=0.1, momentum=-0.5),
    lambda ps: SGD(ps, lr=0.1, weight_decay=-1.0),
    lambda ps: SGD(ps, lr=0.1, nesterov=True),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    lambda ps: Adam(ps, lr=-1e-3),
    lambda ps: Adam(ps, betas=(1.0, 0.999)),
    lambda ps: Adam(ps, betas=(0.9, -0.1)),
    lambda ps: Adam(ps, betas=(0.9,)),  # type: ignore[arg-type]
    lambda ps: Adam(ps, eps=-1e-8),
    lambda ps: Adam(ps, weight_decay=-0.1),
    lambda ps: AdamW(ps, weight_decay=math.nan),
    lambda ps: SGD([], lr=0.1),
    lambda ps: SGD(ps + ps, lr=0.1),
])
def test_invalid_hyperparameters_raise_value_error(make):
    with pytest.raises(ValueError):
        make([Value(1.0)])


def test_non_value_parameters_are_rejected():
    with pytest.raises(TypeError, match="must be Values"):
        SGD([1.0], lr=0.1)
    with pytest.raises(TypeError, match="model.parameters"):
        SGD(nn.MLP(2, [1]), lr=0.1)


# ---------------------------------------------------------------- PyTorch's positional order
def test_signatures_are_torch_optims_in_order_and_defaults():
    """Written out from torch.optim's documentation (2.x): a positional call means the same thing."""
    def positional(cls):
        ps = list(inspect.signature(cls).parameters.values())
        return [(p.name, p.default) for p in ps if p.kind is p.POSITIONAL_OR_KEYWORD]

    assert positional(SGD) == [("params", inspect.Parameter.empty), ("lr", 1e-3), ("momentum", 0.0),
                               ("dampening", 0.0), ("weight_decay", 0.0), ("nesterov", False)]
    adam = [("params", inspect.Parameter.empty), ("lr", 1e-3), ("betas", (0.9, 0.999)), ("eps", 1e-8),
            ("weight_decay", 0.0), ("amsgrad", False)]
    assert positional(Adam) == adam
    assert positional(AdamW) == adam[:4] + [("weight_decay", 1e-2), ("amsgrad", False)]


def test_positional_sgd_means_dampening_then_weight_decay_closed_form():
    p = Value(1.0)
    opt = SGD([p], 0.1, 0.9, 0.5, 0.25)  # lr, momentum, dampening, weight_decay
    assert (opt.momentum, opt.dampening, opt.weight_decay) == (0.9, 0.5, 0.25)
    p.grad = 2.0
    opt.step()  # g = 2 + 0.25 * 1 = 2.25; first buffer = g; p = 1 - 0.1 * 2.25
    assert p.data == 1.0 - 0.1 * 2.25
    p.grad = 2.0
    opt.step()  # g = 2 + 0.25 * p; buf = 0.9 * 2.25 + (1 - 0.5) * g
    g = 2.0 + 0.25 * (1.0 - 0.1 * 2.25)
    assert p.data == (1.0 - 0.1 * 2.25) - 0.1 * (0.9 * 2.25 + 0.5 * g)


@pytest.mark.parametrize("args", [(0.05,), (0.02, 0.9), (0.02, 0.5, 0.3), (0.02, 0.5, 0.3, 0.05),
                                  (0.02, 0.9, 0.0, 0.05, True)])
def test_positional_sgd_calls_mean_what_they_mean_in_torch(torch, args):
    run_with_shared_gradients(lambda ps: SGD(ps, *args), lambda ts: torch.optim.SGD(ts, *args, foreach=False),
                              steps=100)


@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
@pytest.mark.parametrize("args", [(0.02,), (0.02, (0.8, 0.9)), (0.02, (0.8, 0.9), 1e-3),
                                  (0.02, (0.8, 0.9), 1e-3, 0.1), (0.02, (0.8, 0.9), 1e-3, 0.1, True)])
def test_positional_adam_calls_mean_what_they_mean_in_torch(torch, cls, args):
    ours, theirs = {"Adam": (Adam, torch.optim.Adam), "AdamW": (AdamW, torch.optim.AdamW)}[cls]
    run_with_shared_gradients(lambda ps: ours(ps, *args), lambda ts: theirs(ts, *args, foreach=False), steps=100)


@pytest.mark.parametrize("make", [
    lambda ps, t: (SGD(ps, 0.05, maximize=True), t.optim.SGD, dict(lr=0.05, maximize=True)),
    lambda ps, t: (SGD(ps, 0.02, 0.9, maximize=True), t.optim.SGD, dict(lr=0.02, momentum=0.9, maximize=True)),
    lambda ps, t: (Adam(ps, 0.02, amsgrad=True, maximize=True), t.optim.Adam,
                   dict(lr=0.02, amsgrad=True, maximize=True)),
    lambda ps, t: (AdamW(ps, 0.02, weight_decay=0.3, amsgrad=True), t.optim.AdamW,
                   dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
])
def test_amsgrad_and_maximize_match_torch(torch, make):
    def ours(ps):
        return make(ps, torch)[0]

    def theirs(ts):
        _, cls, kwargs = make([Value(0.0)], torch)
        return cls(ts, foreach=False, **kwargs)

    run_with_shared_gradients(ours, theirs, steps=100)


# ---------------------------------------------------------------- IEEE: never an exception (issue 12)
def test_adam_with_zero_eps_and_zero_gradient_is_nan_like_torch_closed_form():
    for opt_cls in (Adam, AdamW):
        p = Value(1.0)
        opt = opt_cls([p], eps=0.0)
        p.grad = 0.0
        opt.step()  # m = v = 0: -lr * 0 / (0 + 0) = nan, as in PyTorch
        assert math.isnan(p.data)


def test_adam_with_zero_eps_and_an_underflowing_gradient_is_infinite_closed_form():
    p, q = Value(1.0), Value(1.0)
    opt = Adam([p, q], lr=0.1, eps=0.0)
    p.grad, q.grad = 1e-200, -1e-200  # g * g underflows to 0, m does not: +-x / 0
    opt.step()
    assert (p.data, q.data) == (-math.inf, math.inf)


SPECIAL_GRADS = [0.0, -0.0, 1.0, -3.0, 1e308, -1e308, 5e-324, math.inf, -math.inf, math.nan]
OPTIMIZERS = {
    "sgd": (lambda ps: SGD(ps, 0.1), lambda t, ts: t.optim.SGD(ts, 0.1, foreach=False)),
    "sgd momentum wd": (lambda ps: SGD(ps, 0.1, 0.9, 0.1, 0.01),
                        lambda t, ts: t.optim.SGD(ts, 0.1, 0.9, 0.1, 0.01, foreach=False)),
    "sgd nesterov": (lambda ps: SGD(ps, 0.1, 0.9, nesterov=True),
                     lambda t, ts: t.optim.SGD(ts, 0.1, 0.9, nesterov=True, foreach=False)),
    "adam": (lambda ps: Adam(ps), lambda t, ts: t.optim.Adam(ts, foreach=False)),
    "adam eps=0 wd": (lambda ps: Adam(ps, 0.1, (0.9, 0.999), 0.0, 0.1),
                      lambda t, ts: t.optim.Adam(ts, 0.1, (0.9, 0.999), 0.0, 0.1, foreach=False)),
    "adam amsgrad eps=0": (lambda ps: Adam(ps, 0.1, (0.5, 0.5), 0.0, 0.0, True),
                           lambda t, ts: t.optim.Adam(ts, 0.1, (0.5, 0.5), 0.0, 0.0, True, foreach=False)),
    "adamw eps=0": (lambda ps: AdamW(ps, 0.1, eps=0.0), lambda t, ts: t.optim.AdamW(ts, 0.1, eps=0.0, foreach=False)),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_special_gradients_give_torchs_parameters_and_never_raise(torch, name):
    """Every pair of special gradients over two steps, from special starting points: the parameters
    are PyTorch's float64 result (nan where it gives nan, the same infinity where it gives one), to
    rounding: PyTorch fuses multiply-adds, so a cancellation between huge terms can leave it a
    residue of the size of their rounding error where plain float arithmetic gives 0."""
    ours_make, torch_make = OPTIMIZERS[name]
    starts = [0.0, 1.0, -1e308, math.inf]
    for g1, g2 in itertools.product(SPECIAL_GRADS, SPECIAL_GRADS):
        params = [Value(v) for v in starts]
        tparam = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
        opt, topt = ours_make(params), torch_make(torch, [tparam])
        for g in (g1, g2):
            for p in params:
                p.grad = g
            tparam.grad = torch.full((len(starts),), g, dtype=torch.float64)
            opt.step()
            topt.step()
        pairs = [([p.data for p in params], tparam.tolist())]
        state = topt.state[tparam]
        for ours_key, torch_key in [("exp_avg", "exp_avg"), ("exp_avg_sq", "exp_avg_sq"),
                                    ("max_exp_avg_sq", "max_exp_avg_sq"), ("momentum_buffers", "momentum_buffer")]:
            if getattr(opt, ours_key, None) is not None:  # the optimizer's state, too (nan where torch's is)
                pairs.append((getattr(opt, ours_key), state[torch_key].tolist()))
        for ours_list, theirs_list in pairs:
            for start, ours, theirs in zip(starts, ours_list, theirs_list):
                scale = max([1.0] + [abs(v) for v in (start, g1, g2) if math.isfinite(v)])
                if math.isfinite(theirs):
                    assert abs(ours - theirs) <= 1e-12 * scale, (g1, g2, start, ours, theirs)
                else:
                    assert (ours != ours and theirs != theirs) or ours == theirs, (g1, g2, start, ours, theirs)
