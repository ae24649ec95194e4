"""Conv2d, MaxPool2d, AvgPool2d on nested lists [C][H][W]: PyTorch as the oracle, plus the rot180 identity."""

from __future__ import annotations

import math
import random
import zlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from micrograd import nn
from micrograd.engine import Value


def oracle():
    """PyTorch and its functional API, the oracle; a test that needs it skips without it."""
    torch = pytest.importorskip("torch")
    return torch, torch.nn.functional


def rand_image(rng: random.Random, c: int, h: int, w: int) -> list[list[list[float]]]:
    return [[[rng.uniform(-2, 2) for _ in range(w)] for _ in range(h)] for _ in range(c)]


def as_values(img):
    return [[[Value(v) for v in row] for row in plane] for plane in img]


def flat(nested):
    if isinstance(nested, Value):
        return [nested]
    return [v for item in nested for v in flat(item)]


def data(nested):
    return [v.data for v in flat(nested)]


def grads(nested):
    return [v.grad for v in flat(nested)]


def conv_against_torch(cin, cout, h, w, k, s, p, bias, seed):
    """Forward and all gradients of a random Conv2d equal torch's conv2d."""
    torch, F = oracle()
    rng = random.Random(seed)
    conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias, rng=rng)
    img = rand_image(rng, cin, h, w)
    x = as_values(img)
    out = conv(x)

    tw = torch.tensor([[[[v.data for v in row] for row in wc] for wc in wo] for wo in conv.weight],
                      dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([b.data for b in conv.bias], dtype=torch.float64, requires_grad=True) if bias else None
    tx = torch.tensor([img], dtype=torch.float64, requires_grad=True)
    tout = F.conv2d(tx, tw, tb, stride=s, padding=p)[0]
    assert [len(out), len(out[0]), len(out[0][0])] == list(tout.shape)
    assert data(out) == pytest.approx(tout.flatten().tolist(), rel=1e-12, abs=1e-13)

    # upstream gradient: arbitrary coefficients, so every output's gradient matters
    coeffs = [rng.uniform(-1, 1) for _ in range(tout.numel())]
    (tout.flatten() * torch.tensor(coeffs, dtype=torch.float64)).sum().backward()
    sum(c * o for c, o in zip(coeffs, flat(out))).backward()
    assert grads(x) == pytest.approx(tx.grad.flatten().tolist(), rel=1e-10, abs=1e-12)
    ours = [p.grad for p in conv.parameters()]
    theirs = tw.grad.flatten().tolist() + (tb.grad.tolist() if bias else [])
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("k, s, p", [
    (3, 1, 0), (3, 1, 1), (3, 2, 1), (3, 1, 2), (2, 2, 0), (1, 1, 0), (3, 3, 1),
    ((2, 3), (1, 2), (0, 1)), ((3, 1), 2, (1, 0)),
])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(k, s, p, bias):
    conv_against_torch(2, 3, 6, 5, k, s, p, bias, seed=zlib.crc32(repr((k, s, p, bias)).encode()))


@given(cin=st.integers(1, 3), cout=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
       ph=st.integers(0, 2), pw=st.integers(0, 2), seed=st.integers(0, 10**6))
@settings(max_examples=40)
def test_conv2d_random_shapes_match_torch(cin, cout, h, w, kh, kw, sh, sw, ph, pw, seed):
    assume(h + 2 * ph >= kh and w + 2 * pw >= kw)
    conv_against_torch(cin, cout, h, w, (kh, kw), (sh, sw), (ph, pw), bias=True, seed=seed)


def test_conv2d_input_gradient_is_full_convolution_with_rot180_kernel():
    """dL/dX = full convolution of dL/dY with the kernel rotated 180 degrees; dL/dK = X (valid-correlated) with
    dL/dY; dL/db = sum dL/dY.  Computed here with plain Python arithmetic."""
    rng = random.Random(5)
    h, w, kh, kw = 5, 6, 3, 2
    conv = nn.Conv2d(1, 1, (kh, kw), rng=rng)
    conv.bias[0].data = 0.25
    img = rand_image(rng, 1, h, w)
    x = as_values(img)
    out = conv(x)
    ho, wo = h - kh + 1, w - kw + 1
    g = [[rng.uniform(-1, 1) for _ in range(wo)] for _ in range(ho)]
    sum(g[i][j] * out[0][i][j] for i in range(ho) for j in range(wo)).backward()

    k = [[v.data for v in row] for row in conv.weight[0][0]]
    rot = [row[::-1] for row in k[::-1]]
    padded = [[0.0] * (wo + 2 * (kw - 1)) for _ in range(ho + 2 * (kh - 1))]
    for i in range(ho):
        for j in range(wo):
            padded[i + kh - 1][j + kw - 1] = g[i][j]
    expected_dx = [[math.fsum(padded[i + a][j + b] * rot[a][b] for a in range(kh) for b in range(kw))
                    for j in range(w)] for i in range(h)]
    assert grads(x) == pytest.approx([v for row in expected_dx for v in row], rel=1e-12, abs=1e-14)

    expected_dk = [math.fsum(img[0][i + a][j + b] * g[i][j] for i in range(ho) for j in range(wo))
                   for a in range(kh) for b in range(kw)]
    assert [p.grad for p in conv.parameters()][:-1] == pytest.approx(expected_dk, rel=1e-12)
    assert conv.bias[0].grad == pytest.approx(math.fsum(v for row in g for v in row), rel=1e-12)

    # and the forward is a cross-correlation (no flip), as in PyTorch
    expected_y = [0.25 + math.fsum(img[0][i + a][j + b] * k[a][b] for a in range(kh) for b in range(kw))
                  for i in range(ho) for j in range(wo)]
    assert data(out) == pytest.approx(expected_y, rel=1e-12)


def test_conv2d_parameters_use_torch_layout():
    """Weights copied from a torch Conv2d in parameters() order reproduce torch's output."""
    torch, F = oracle()
    torch.manual_seed(0)
    tconv = torch.nn.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=1).double()
    conv = nn.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=1, rng=random.Random(0))
    flat_torch = tconv.weight.detach().flatten().tolist() + tconv.bias.detach().tolist()
    params = conv.parameters()
    assert len(params) == len(flat_torch)
    for p, v in zip(params, flat_torch):
        p.data = v
    img = rand_image(random.Random(1), 2, 4, 5)
    expected = tconv(torch.tensor([img], dtype=torch.float64))[0]
    assert data(conv(img)) == pytest.approx(expected.flatten().tolist(), rel=1e-12, abs=1e-14)
    assert conv.weight[2][1][1][0] is params[2 * 12 + 1 * 6 + 1 * 3 + 0]
    assert params[-3:] == conv.bias


def test_conv2d_output_pixel_is_one_dot_node():
    conv = nn.Conv2d(2, 1, 2, rng=random.Random(0))
    y = conv(rand_image(random.Random(0), 2, 3, 3))[0][1][1]
    assert y._op == "dot" and len(y._prev) == 1 + 2 * (2 * 2 * 2)


def test_conv2d_default_init_is_he_in_torch_weight_order():
    conv = nn.Conv2d(2, 3, 2, rng=random.Random(9))
    r = random.Random(9)
    std = math.sqrt(2.0 / (2 * 2 * 2))
    assert [p.data for p in conv.parameters()] == [r.gauss(0.0, 1.0) * std for _ in range(24)] + [0.0] * 3


# ---------------------------------------------------------------- pooling
@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("k, s", [(2, None), (2, 1), (3, 2), ((2, 3), (1, 2)), (1, None)])
def test_pools_match_torch(pool, k, s):
    torch, F = oracle()
    rng = random.Random(3)
    img = rand_image(rng, 2, 5, 6)
    x = as_values(img)
    module = nn.MaxPool2d(k, s) if pool == "max" else nn.AvgPool2d(k, s)
    out = module(x)
    tx = torch.tensor([img], dtype=torch.float64, requires_grad=True)
    tf = F.max_pool2d if pool == "max" else F.avg_pool2d
    tout = tf(tx, k, s)[0]
    assert [len(out), len(out[0]), len(out[0][0])] == list(tout.shape)
    assert data(out) == pytest.approx(tout.flatten().tolist(), rel=1e-13)
    coeffs = [rng.uniform(-1, 1) for _ in range(tout.numel())]
    (tout.flatten() * torch.tensor(coeffs, dtype=torch.float64)).sum().backward()
    sum(c * o for c, o in zip(coeffs, flat(out))).backward()
    assert grads(x) == pytest.approx(tx.grad.flatten().tolist(), rel=1e-12, abs=1e-15)


def test_maxpool_routes_gradient_to_argmax_and_ties_like_torch():
    torch, F = oracle()
    img = [[[1.0, 5.0, 2.0, 2.0], [5.0, 0.0, 2.0, 2.0]]]  # a tie in each window
    x = as_values(img)
    out = nn.MaxPool2d(2)(x)
    assert out[0][0][0] is x[0][0][1]  # the output is the arg-max input itself
    sum(flat(out)).backward()
    tx = torch.tensor([img], dtype=torch.float64, requires_grad=True)
    F.max_pool2d(tx, 2).sum().backward()
    assert grads(x) == tx.grad.flatten().tolist()


def test_avgpool_spreads_gradient_evenly():
    x = as_values([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    out = nn.AvgPool2d(3)(x)
    assert out[0][0][0].data == 5.0
    out[0][0][0].backward()
    assert grads(x) == [1 / 9] * 9


@given(c=st.integers(1, 2), h=st.integers(1, 6), w=st.integers(1, 6), k=st.integers(1, 3), s=st.integers(1, 3),
       seed=st.integers(0, 10**6))
@settings(max_examples=30)
def test_pools_random_shapes_match_torch(c, h, w, k, s, seed):
    torch, F = oracle()
    assume(h >= k and w >= k)
    img = rand_image(random.Random(seed), c, h, w)
    tx = torch.tensor([img], dtype=torch.float64)
    assert data(nn.MaxPool2d(k, s)(img)) == pytest.approx(F.max_pool2d(tx, k, s).flatten().tolist(), rel=1e-13)
    assert data(nn.AvgPool2d(k, s)(img)) == pytest.approx(F.avg_pool2d(tx, k, s).flatten().tolist(), rel=1e-13)


# ---------------------------------------------------------------- NaN and inf (issue 12)
NAN, INF = math.nan, math.inf
SPECIAL_IMAGES = [
    [[[NAN, 1.0, 2.0, 5.0], [3.0, 4.0, NAN, NAN]]],           # one NaN in a window; two NaNs in another
    [[[-INF, -INF, 1.0, INF], [-INF, -INF, INF, 2.0]]],        # all -inf (ties at the bottom); inf ties
    [[[1e308, 1e308, INF, -INF], [1e308, 1e308, 0.0, 0.0]]],   # a sum that overflows; inf + -inf
    [[[NAN, -INF, 0.0, -0.0], [INF, NAN, -0.0, 0.0]]],
]


def same(a: float, b: float) -> bool:
    return (a != a and b != b) or a == b or abs(a - b) <= 1e-12 * abs(b)


@pytest.mark.parametrize("img", SPECIAL_IMAGES)
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pools_with_nan_and_inf_match_torch(img, pool):
    torch, F = oracle()
    x = as_values(img)
    out = (nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2))(x)
    tx = torch.tensor([img], dtype=torch.float64, requires_grad=True)
    tout = (F.max_pool2d if pool == "max" else F.avg_pool2d)(tx, 2)[0]
    assert all(map(same, data(out), tout.flatten().tolist()))
    sum(flat(out)).backward()
    tout.sum().backward()
    assert all(map(same, grads(x), tx.grad.flatten().tolist()))


def test_maxpool_propagates_nan_closed_form():
    """PyTorch's rule (val > max || isnan(val), row-major): a NaN wins, the last of several NaNs."""
    x = as_values([[[1.0, NAN, 3.0, 2.0], [NAN, 0.5, -INF, -INF]]])
    out = nn.MaxPool2d(2)(x)
    assert out[0][0][0] is x[0][1][0]  # the last NaN in the first window
    assert out[0][0][1] is x[0][0][2]  # 3.0, an ordinary max
    y = as_values([[[-INF, -INF], [-INF, -INF]]])
    assert nn.MaxPool2d(2)(y)[0][0][0] is y[0][0][0]  # all equal: the first


def test_avgpool_follows_ieee_closed_form():
    out = nn.AvgPool2d(2)([[[INF, -INF], [1.0, 2.0]], [[1e308, 1e308], [1e308, 1e308]], [[NAN, 1.0], [1.0, 1.0]]])
    assert math.isnan(out[0][0][0].data)  # inf + -inf
    assert out[1][0][0].data == INF  # the sum overflows, as PyTorch's does
    assert math.isnan(out[2][0][0].data)


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_conv2d_nonfinite_weight_with_padding_matches_torch(bad, padding):
    """Padding is zeros; 0 * nan and 0 * inf are nan, so a bad weight reaches every output, as in PyTorch."""
    torch, F = oracle()
    rng = random.Random(17)
    conv = nn.Conv2d(1, 2, 3, padding=padding, rng=rng)
    conv.weight[1][0][0][0].data = bad
    img = rand_image(rng, 1, 4, 4)
    x = as_values(img)
    out = conv(x)
    tw = torch.tensor([[[[v.data for v in row] for row in wc] for wc in wo] for wo in conv.weight],
                      dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([b.data for b in conv.bias], dtype=torch.float64, requires_grad=True)
    tx = torch.tensor([img], dtype=torch.float64, requires_grad=True)
    tout = F.conv2d(tx, tw, tb, padding=padding)[0]
    assert all(map(same, data(out), tout.flatten().tolist()))
    sum(flat(out)).backward()
    tout.sum().backward()
    assert all(map(same, grads(x), tx.grad.flatten().tolist()))
    assert all(map(same, [p.grad for p in conv.parameters()], tw.grad.flatten().tolist() + tb.grad.tolist()))


def test_conv2d_nan_closed_form():
    """A NaN weight makes every pixel of its output channel NaN, padding included; a NaN input makes
    exactly the pixels whose window covers it NaN; finite weights keep the padding out of the graph."""
    conv = nn.Conv2d(1, 2, 3, padding=1, rng=random.Random(0))
    img = rand_image(random.Random(1), 1, 4, 4)
    out = conv(img)
    assert len(out[0][0][0]._prev) == 1 + 2 * 4  # a corner sees a 2x2 window: the padding is not in the graph
    conv.weight[0][0][2][2].data = NAN
    out = conv(img)
    assert all(math.isnan(v) for v in data(out[0])) and not any(math.isnan(v) for v in data(out[1]))
    conv.weight[0][0][2][2].data = 0.5
    img[0][0][0] = NAN
    out = conv(img)
    nan_at = {(o, i, j) for o in range(2) for i in range(4) for j in range(4) if math.isnan(out[o][i][j].data)}
    assert nan_at == {(o, i, j) for o in range(2) for i in range(2) for j in range(2)}


# ---------------------------------------------------------------- a small CNN
def test_small_cnn_with_sequential_matches_torch():
    torch, F = oracle()
    rng = random.Random(21)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, rng=rng), nn.Activation("relu"), nn.MaxPool2d(2),
        nn.Conv2d(2, 2, 2, rng=rng), nn.Activation("tanh"), nn.AvgPool2d(1), nn.Flatten(),
        nn.Layer(2 * 2 * 2, 3, nonlin=False, rng=rng),
    )
    img = rand_image(rng, 1, 6, 6)
    x = as_values(img)
    logits = model(x)
    loss = nn.cross_entropy(logits, 2)
    loss.backward()

    c1, c2, lin = model.modules[0], model.modules[3], model.modules[7]

    def tensor_of(conv):
        w = torch.tensor([[[[v.data for v in row] for row in wc] for wc in wo] for wo in conv.weight],
                         dtype=torch.float64, requires_grad=True)
        b = torch.tensor([b.data for b in conv.bias], dtype=torch.float64, requires_grad=True)
        return w, b

    (w1, b1), (w2, b2) = tensor_of(c1), tensor_of(c2)
    wl = torch.tensor([[w.data for w in n.w] for n in lin.neurons], dtype=torch.float64, requires_grad=True)
    bl = torch.tensor([n.b.data for n in lin.neurons], dtype=torch.float64, requires_grad=True)
    tx = torch.tensor([img], dtype=torch.float64, requires_grad=True)
    h = F.max_pool2d(torch.relu(F.conv2d(tx, w1, b1, padding=1)), 2)
    h = F.avg_pool2d(torch.tanh(F.conv2d(h, w2, b2)), 1).flatten()
    tlogits = wl @ h + bl
    tloss = F.cross_entropy(tlogits[None], torch.tensor([2]))
    tloss.backward()

    assert [v.data for v in logits] == pytest.approx(tlogits.tolist(), rel=1e-12)
    assert loss.data == pytest.approx(tloss.item(), rel=1e-12)
    theirs = (w1.grad.flatten().tolist() + b1.grad.tolist() + w2.grad.flatten().tolist() + b2.grad.tolist()
              + [v for j in range(3) for v in [*wl.grad[j].tolist(), bl.grad[j].item()]])
    assert [p.grad for p in model.parameters()] == pytest.approx(theirs, rel=1e-10, abs=1e-13)
    assert grads(x) == pytest.approx(tx.grad.flatten().tolist(), rel=1e-10, abs=1e-13)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("call, match", [
    (lambda: nn.Conv2d(2, 1, 3)(rand_image(random.Random(0), 1, 4, 4)), "expected 2 input channel"),
    (lambda: nn.Conv2d(1, 1, 3)([[[1.0, 2.0], [3.0, 4.0]]]), "smaller than the kernel"),
    (lambda: nn.Conv2d(1, 1, 2)([[[1.0, 2.0], [3.0]]]), "same H and W"),
    (lambda: nn.Conv2d(1, 1, 2)([[1.0, 2.0], [3.0, 4.0]]), r"\[C\]\[H\]\[W\]"),  # type: ignore[list-item]
    (lambda: nn.Conv2d(1, 1, 0), "kernel_size"),
    (lambda: nn.Conv2d(1, 1, 2, stride=0), "stride"),
    (lambda: nn.Conv2d(1, 1, 2, padding=-1), "padding"),
    (lambda: nn.Conv2d(0, 1, 2), "in_channels"),
    (lambda: nn.MaxPool2d(3)([[[1.0, 2.0], [3.0, 4.0]]]), "smaller than the kernel"),
    (lambda: nn.AvgPool2d((1, 2, 3)), "kernel_size"),
])
def test_conv_and_pool_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
