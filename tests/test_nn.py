"""Neuron / Layer / MLP: micrograd 0.1.0 compatibility, PyTorch as the oracle for outputs and gradients."""

from __future__ import annotations

import math
import random

import pytest

from micrograd import nn
from micrograd.engine import Value
from micrograd.optim import Adam


@pytest.fixture
def torch():
    """PyTorch, the oracle; tests that need it skip without it (the micrograd-compatibility tests do not)."""
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- helpers
def micrograd_reference_init(seed: int, nin: int, nouts: list[int]) -> list[float]:
    """micrograd 0.1.0's init rule written out independently: per neuron, nin draws of
    random.uniform(-1, 1) in order, then a bias of 0."""
    random.seed(seed)
    sizes = [nin, *nouts]
    params: list[float] = []
    for i in range(len(nouts)):
        for _ in range(sizes[i + 1]):
            params += [random.uniform(-1, 1) for _ in range(sizes[i])]
            params.append(0.0)
    return params


def micrograd_reference_forward(params: list[float], nin: int, nouts: list[int], x: list[float]) -> float:
    """micrograd's forward in plain floats: act = b, then act += w_i * x_i left to right; ReLU except last."""
    it = iter(params)
    sizes = [nin, *nouts]
    h = list(x)
    for i in range(len(nouts)):
        out = []
        for _ in range(sizes[i + 1]):
            ws = [next(it) for _ in range(sizes[i])]
            act = next(it)
            for w, xi in zip(ws, h):
                act = act + w * xi
            out.append(max(act, 0.0) if i < len(nouts) - 1 else act)
        h = out
    assert len(h) == 1
    return h[0]


def torch_activation(name: str, t, slope: float):
    import torch

    return {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z,
            "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, slope)}[name](t)


def torch_params(model: nn.MLP) -> list:
    import torch

    out = []
    for layer in model.layers:
        w = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        has_bias = layer.neurons[0].b is not None
        b = (torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
             if has_bias else None)
        out.append((w, b))
    return out


def torch_forward(model: nn.MLP, tparams, x):
    h = x
    for layer, (w, b) in zip(model.layers, tparams):
        z = h @ w.T + (b if b is not None else 0.0)
        n0 = layer.neurons[0]
        h = torch_activation(n0.activation, z, n0.negative_slope)
    return h


def torch_grads_in_our_order(tparams) -> list[float]:
    gs: list[float] = []
    for w, b in tparams:
        for j in range(w.shape[0]):
            gs += w.grad[j].tolist()
            if b is not None:
                gs.append(b.grad[j].item())
    return gs


# ---------------------------------------------------------------- micrograd compatibility
@pytest.mark.parametrize("seed, nin, nouts", [(0, 3, [4, 4, 1]), (1337, 3, [4, 4, 1]), (1337, 2, [16, 16, 1])])
def test_seeded_mlp_equals_micrograd_init_and_forward_exactly(seed, nin, nouts):
    random.seed(seed)
    model = nn.MLP(nin, nouts)
    expected = micrograd_reference_init(seed, nin, nouts)
    assert [p.data for p in model.parameters()] == expected
    for x in ([0.5, -1.25, 2.0][:nin], [3.0, 0.1, -0.7][:nin]):
        assert model(x).data == micrograd_reference_forward(expected, nin, nouts, x)
        assert model([Value(v) for v in x]).data == micrograd_reference_forward(expected, nin, nouts, x)


def test_global_random_consumed_like_micrograd_so_later_draws_agree():
    random.seed(5)
    nn.MLP(2, [3, 1])
    after_model = random.random()
    micrograd_reference_init(5, 2, [3, 1])
    assert random.random() == after_model


def test_rng_argument_matches_global_seeding():
    random.seed(42)
    a = nn.MLP(2, [5, 2])
    b = nn.MLP(2, [5, 2], rng=random.Random(42))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


def test_rng_argument_leaves_global_random_untouched():
    random.seed(3)
    before = random.getstate()
    nn.MLP(4, [8, 1], rng=random.Random(0))
    assert random.getstate() == before


def test_micrograd_reprs_and_attributes():
    random.seed(0)
    model = nn.MLP(2, [3, 1])
    assert repr(model.layers[0].neurons[0]) == "ReLUNeuron(2)"
    assert repr(model.layers[1].neurons[0]) == "LinearNeuron(3)"
    assert repr(model.layers[1]) == "Layer of [LinearNeuron(3)]"
    assert repr(model) == ("MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)], "
                           "Layer of [LinearNeuron(3)]]")
    n = model.layers[0].neurons[0]
    assert n.nonlin is True and model.layers[1].neurons[0].nonlin is False
    assert len(n.w) == 2 and isinstance(n.b, Value) and n.b.data == 0.0
    assert n.parameters() == n.w + [n.b]
    assert len(model.parameters()) == 3 * 3 + 1 * 4
    # a layer of one neuron returns a bare Value, several a list
    assert isinstance(model.layers[1]([1.0, 2.0, 3.0]), Value)
    assert isinstance(model.layers[0]([1.0, 2.0]), list)
    assert isinstance(nn.Neuron(2)([1.0, 2.0]), Value)
    assert nn.Module().parameters() == []


def test_module_zero_grad():
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_micrograd_readme_neuron_example():
    from micrograd import nn as mnn  # the README spells it this way

    n = mnn.Neuron(2)
    x = [Value(1.0), Value(-2.0)]
    y = n(x)
    y.backward()
    expected = n.b.data + n.w[0].data * 1.0 + n.w[1].data * -2.0
    assert y.data == max(expected, 0.0)
    assert x[0].grad == (n.w[0].data if expected > 0 else 0.0)


def test_micrograd_demo_training_loop_runs_and_matches_torch(torch):
    """The demo notebook's loop, verbatim in spirit: builtin sum() over Values, zero_grad, p.data -= lr * p.grad."""
    rng = random.Random(7)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(12)]
    y = [1 if a * b > 0 else -1 for a, b in X]
    random.seed(1337)
    model = nn.MLP(2, [8, 8, 1])
    tparams = torch_params(model)

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    tX, ty = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    for k in range(8):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad

        scores = torch_forward(model, tparams, tX)[:, 0]
        flat = [t for w, b in tparams for t in (w, b)]
        t_loss = torch.relu(1 - ty * scores).mean() + 1e-4 * sum((t * t).sum() for t in flat)
        for t in flat:
            t.grad = None
        t_loss.backward()
        assert total_loss.data == pytest.approx(t_loss.item(), rel=1e-12)
        with torch.no_grad():
            for t in flat:
                t -= learning_rate * t.grad
        assert 0.0 <= acc <= 1.0

    ours = [p.data for p in model.parameters()]
    theirs = [v for w, b in tparams for j in range(w.shape[0]) for v in [*w[j].tolist(), b[j].item()]]
    assert ours == pytest.approx(theirs, abs=1e-10)


# ---------------------------------------------------------------- against PyTorch
@pytest.mark.parametrize("activation", list(nn.ACTIVATIONS))
@pytest.mark.parametrize("bias", [True, False])
def test_mlp_outputs_and_gradients_match_torch(torch, activation, bias):
    model = nn.MLP(3, [5, 4, 2], activation=activation, bias=bias, init="xavier", rng=random.Random(11),
                   negative_slope=0.1)
    xs = [[0.3, -1.2, 2.0], [-0.7, 0.05, 1.5], [1.1, 1.1, -2.2]]
    tparams = torch_params(model)
    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    tout = torch_forward(model, tparams, tx)
    # a scalar objective that mixes both outputs of every sample
    tobj = (tout[:, 0] * 1.5 - tout[:, 1] * 0.5).sum()
    tobj.backward()

    vx = [[Value(v) for v in row] for row in xs]
    outs = [model(row) for row in vx]
    obj = sum(o[0] * 1.5 - o[1] * 0.5 for o in outs)
    obj.backward()

    assert [o.data for out in outs for o in out] == pytest.approx(tout.flatten().tolist(), rel=1e-12, abs=1e-14)
    assert [p.grad for p in model.parameters()] == pytest.approx(torch_grads_in_our_order(tparams), rel=1e-10,
                                                                  abs=1e-12)
    assert [v.grad for row in vx for v in row] == pytest.approx(tx.grad.flatten().tolist(), rel=1e-10, abs=1e-12)


def test_output_activation():
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", rng=random.Random(0))
    linear = nn.MLP(2, [3, 1], rng=random.Random(0))
    x = [0.4, -0.9]
    z = linear(x).data
    assert model(x).data == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-15)
    assert repr(model.layers[-1].neurons[0]) == "SigmoidNeuron(3)"


# ---------------------------------------------------------------- initialisation
def test_he_init_is_randn_times_sqrt_2_over_fan_in():
    layer = nn.Layer(6, 3, init="he", rng=random.Random(4))
    r = random.Random(4)
    expected = [r.gauss(0.0, 1.0) * math.sqrt(2.0 / 6) for _ in range(18)]
    assert [w.data for n in layer.neurons for w in n.w] == expected
    assert all(n.b.data == 0.0 for n in layer.neurons)


def test_xavier_init_is_glorot_uniform_with_layer_fan_out():
    layer = nn.Layer(6, 3, init="xavier", rng=random.Random(4))
    r = random.Random(4)
    a = math.sqrt(6.0 / (6 + 3))
    assert [w.data for n in layer.neurons for w in n.w] == [r.uniform(-a, a) for _ in range(18)]


def test_init_scales_statistically():
    """He weights have variance 2/fan_in; Xavier weights lie within the Glorot bound."""
    he = nn.Layer(50, 40, init="he", rng=random.Random(0))
    ws = [w.data for n in he.neurons for w in n.w]
    var = sum(w * w for w in ws) / len(ws)
    assert var == pytest.approx(2 / 50, rel=0.1)
    xa = nn.Layer(50, 40, init="xavier", rng=random.Random(0))
    bound = math.sqrt(6 / 90)
    ws = [w.data for n in xa.neurons for w in n.w]
    assert max(abs(w) for w in ws) <= bound and max(abs(w) for w in ws) > 0.9 * bound


# ---------------------------------------------------------------- graph shape and options
def test_neuron_weighted_sum_is_one_dot_node():
    n = nn.Neuron(4, nonlin=False, rng=random.Random(0))
    y = n([1.0, 2.0, 3.0, 4.0])
    assert y._op == "dot" and len(y._prev) == 2 * 4 + 1
    r = nn.Neuron(4, rng=random.Random(0))([1.0, 2.0, 3.0, 4.0])
    assert r._op == "ReLU(dot)" and len(r._prev) == 2 * 4 + 1  # the activation goes inside the same node
    leaky = nn.Neuron(4, activation="leaky_relu", rng=random.Random(0))([1.0, 2.0, 3.0, 4.0])
    assert leaky._op == "leaky_relu(0.01)" and leaky._prev[0]._op == "dot"  # not fused: its own node


def test_layer_converts_float_inputs_once_for_all_neurons():
    layer = nn.Layer(3, 4, nonlin=False, rng=random.Random(0))
    outs = layer([1.0, 2.0, 3.0])
    constants = [{id(p) for p in o._prev if not p.requires_grad} for o in outs]  # the inputs, as constants
    assert len(constants[0]) == 3 and all(c == constants[0] for c in constants)


def test_bias_false_has_no_bias_parameters():
    model = nn.MLP(3, [4, 2], bias=False, rng=random.Random(0))
    assert len(model.parameters()) == 3 * 4 + 4 * 2
    assert all(n.b is None for layer in model.layers for n in layer.neurons)
    y = model([1.0, 2.0, 3.0])
    sum(y).backward()  # still differentiable without biases
    assert any(p.grad != 0 for p in model.parameters())


def test_nonlin_flag_and_activation_are_linked():
    n = nn.Neuron(2, rng=random.Random(0))
    n.nonlin = False
    assert n.activation == "linear" and repr(n) == "LinearNeuron(2)"
    n.nonlin = True
    assert n.activation == "relu"
    t = nn.Neuron(2, activation="tanh", rng=random.Random(0))
    assert t.nonlin and repr(t) == "TanhNeuron(2)"
    t.nonlin = True
    assert t.activation == "tanh"


def test_a_linear_neuron_is_not_clamped():
    n = nn.Neuron(1, nonlin=False, rng=random.Random(0))
    assert n([-1000.0 if n.w[0].data > 0 else 1000.0]).data < 0


@pytest.mark.parametrize("kwargs, match", [
    ({"nin": 0, "nouts": [1]}, "nin"),
    ({"nin": 2, "nouts": []}, "at least one"),
    ({"nin": 2, "nouts": [0]}, "nouts"),
    ({"nin": 2.5, "nouts": [1]}, "nin"),
    ({"nin": 2, "nouts": [1], "activation": "gelu"}, "activation"),
    ({"nin": 2, "nouts": [1], "init": "orthogonal"}, "init"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.MLP(**kwargs)


def test_one_activation_vocabulary_and_one_slope_name():
    """The names are micrograd.primitives.ACTIVATIONS everywhere; the leaky slope is `negative_slope`."""
    from micrograd.primitives import ACTIVATIONS

    assert list(nn.ACTIVATIONS) == list(ACTIVATIONS) == ["linear", "relu", "tanh", "sigmoid", "leaky_relu"]
    for name in ACTIVATIONS:
        nn.MLP(2, [2, 1], activation=name, output_activation=name)
        nn.Activation(name)
        assert nn.Neuron(2, activation=name).activation == name
    x = Value(-2.0)
    n = nn.Neuron(1, activation="leaky_relu", negative_slope=0.25, rng=random.Random(0))
    n.w[0].data = 1.0
    assert n([x]).data == -0.5 and nn.Activation("leaky_relu", negative_slope=0.25)(x).data == -0.5
    for make in (lambda: nn.Neuron(2, activation="gelu"), lambda: nn.Activation("ReLU"),
                 lambda: nn.Layer(2, 2, activation="swish")):
        with pytest.raises(ValueError, match="choose one of linear, relu, tanh, sigmoid, leaky_relu"):
            make()
    n = nn.Neuron(2)
    n.activation = "gelu"  # a plain attribute: the next call names the problem
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        n([1.0, 2.0])


def test_nonlin_false_with_nonlinear_activation_is_rejected():
    with pytest.raises(ValueError, match="contradicts"):
        nn.Neuron(2, nonlin=False, activation="tanh")


def test_wrong_input_length_is_a_clear_error():
    model = nn.MLP(3, [2, 1], rng=random.Random(0))
    with pytest.raises(ValueError, match="3 weights for 2 inputs"):
        model([1.0, 2.0])


# ---------------------------------------------------------------- Module: derived from children
def test_a_container_gets_parameters_names_and_architecture_from_its_children():
    class Twin(nn.Module):
        def __init__(self) -> None:
            self.left, self.right = nn.Layer(2, 1, rng=random.Random(0)), nn.Neuron(2, rng=random.Random(1))

        def named_children(self):
            return [("left", self.left), ("right", self.right)]

    t = Twin()
    assert t.parameters() == t.left.parameters() + t.right.parameters()
    assert [name for name, _ in t.named_tensors()] == ["left.neurons.0.w", "left.neurons.0.b", "right.w", "right.b"]
    assert t.architecture() == {"type": "Twin", "modules": [t.left.architecture(), t.right.architecture()]}
    for p in t.parameters():
        p.grad = 1.0
    t.zero_grad()
    assert all(p.grad == 0.0 for p in t.parameters())


def test_architectures_keep_the_version_1_checkpoint_format():
    """Literal architectures written by micrograd 0.2.0's nn.py, so its checkpoints still load."""
    m = nn.MLP(2, [3, 1], activation="tanh", bias=False)
    assert m.architecture() == {"type": "MLP", "layers": [
        {"type": "Layer", "nin": 2, "nout": 3, "activation": "tanh", "bias": False},
        {"type": "Layer", "nin": 3, "nout": 1, "activation": "linear", "bias": False}]}
    s = nn.Sequential(nn.Flatten(), nn.Activation("leaky_relu", 0.2), nn.AvgPool2d(2))
    assert s.architecture() == {"type": "Sequential", "modules": [
        {"type": "Flatten"}, {"type": "Activation", "activation": "leaky_relu", "negative_slope": 0.2},
        {"type": "AvgPool2d", "kernel_size": [2, 2], "stride": [2, 2]}]}

    class Affine(nn.Module):  # micrograd style: parameters() only
        def __init__(self) -> None:
            self.a = Value(1.0)

        def parameters(self):
            return [self.a]

    assert Affine().architecture() == {"type": "Affine", "parameters": 1}
    assert [n for n, _ in Affine().named_tensors()] == ["parameters"]


# ---------------------------------------------------------------- training
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_xor_trains_to_full_accuracy(seed):
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    Y = [0, 1, 1, 0]
    model = nn.MLP(2, [8, 1], activation="tanh", init="xavier", rng=random.Random(seed))
    opt = Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        loss = nn.binary_cross_entropy_with_logits([model(x) for x in X], Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    predictions = [int(model(x).data > 0) for x in X]
    assert predictions == Y
    assert loss.data < 0.05
