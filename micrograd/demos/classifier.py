"""Seed 003's PyTorch example rebuilt on scalars: a 20 -> 13 -> 8 -> 3 classifier's gradient.

The seed draws ``X = torch.rand(500, 20) * 100`` and random labels in {0, 1, 2}, builds
Linear(20, 13, bias=False) -> ReLU -> Linear(13, 8, bias=False) -> sigmoid -> Linear(8, 3),
takes the mean cross-entropy and prints ``net.linear1.weight.grad``.  Here the data comes
from a seeded Python RNG (the demo must run without torch), the weights are drawn like
torch.nn.Linear's (uniform in +-1/sqrt(fan_in)), and every one of the 260 first-layer
gradients comes out of one scalar `backward()`.  When PyTorch is installed, the same
model with the same weights is run in torch (float64) and the two gradients compared.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from micrograd import Value
from micrograd.demos.datasets import make_blobs_classification
from micrograd.demos.plotting import figure, out_path, save
from micrograd.nn import Layer, Sequential, cross_entropy

N_SAMPLES, N_FEATURES, N_CLASSES = 500, 20, 3
QUICK_SAMPLES = 100
HIDDEN1, HIDDEN2 = 13, 8

Matrix = list[list[float]]


def build(seed: int) -> Sequential:
    """The seed's three layers, initialised like torch.nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    rng = random.Random(seed + 1)  # not the data's stream: weights and data are independent draws
    model = Sequential(Layer(N_FEATURES, HIDDEN1, activation="relu", bias=False, rng=rng),
                       Layer(HIDDEN1, HIDDEN2, activation="sigmoid", bias=False, rng=rng),
                       Layer(HIDDEN2, N_CLASSES, activation="linear", rng=rng))
    for layer in model.modules:
        assert isinstance(layer, Layer)
        bound = 1.0 / math.sqrt(len(layer.neurons[0].w))
        for p in layer.parameters():
            p.data = rng.uniform(-bound, bound)
    return model


def weights(layer: Layer) -> Matrix:
    """A layer's weights as [out][in], torch's `Linear.weight` layout."""
    return [[w.data for w in n.w] for n in layer.neurons]


def _layers(model: Sequential) -> list[Layer]:
    layers = [m for m in model.modules if isinstance(m, Layer)]
    assert len(layers) == 3
    return layers


def torch_gradient(model: Sequential, xs: Matrix, ys: list[int]) -> tuple[float, Matrix] | None:
    """The loss and first-layer gradient of the same network in PyTorch (float64); None without torch."""
    try:
        import torch
    except ImportError:
        return None
    l1, l2, l3 = _layers(model)
    w1 = torch.tensor(weights(l1), dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor(weights(l2), dtype=torch.float64)
    w3 = torch.tensor(weights(l3), dtype=torch.float64)
    b3 = torch.tensor([n.b.data for n in l3.neurons if n.b is not None], dtype=torch.float64)
    x = torch.tensor(xs, dtype=torch.float64)
    zhat = torch.nn.functional.linear(torch.sigmoid(torch.relu(x @ w1.T) @ w2.T), w3, b3)
    loss = torch.nn.functional.cross_entropy(zhat, torch.tensor(ys, dtype=torch.int64))
    loss.backward()
    assert w1.grad is not None
    return loss.item(), w1.grad.tolist()


def _print_matrix(m: Matrix, per_line: int = 10) -> None:
    for start in range(0, len(m[0]), per_line):
        cols = range(start, min(start + per_line, len(m[0])))
        print("  columns " + f"{cols[0]}-{cols[-1]}:")
        for i, row in enumerate(m):
            print(f"  {i:2d} " + " ".join(f"{row[j]:9.2e}" for j in cols))


def main(out_dir: str | Path | None = None, steps: int | None = None, seed: int = 0,
         quick: bool = False) -> dict[str, Any]:
    """Print the loss and the 13 x 20 gradient of the first layer; compare with torch when it is installed;
    draw the gradient as a heat map.  No training (`steps` is unused): the seed's point is the gradient itself.
    """
    n = QUICK_SAMPLES if quick else N_SAMPLES
    xs, ys = make_blobs_classification(n, N_FEATURES, N_CLASSES, scale=100.0, seed=seed)
    model = build(seed)
    layer1 = _layers(model)[0]
    logits = [model(x) for x in xs]
    loss = cross_entropy(logits, ys)
    loss.backward()
    grad = [[w.grad for w in neuron.w] for neuron in layer1.neurons]
    print(f"{n} samples x {N_FEATURES} features in [0, 100), labels in {{0, 1, 2}} (seed {seed}); "
          f"20 -> 13 ReLU -> 8 sigmoid -> 3, {len(model.parameters())} parameters")
    print(f"mean cross-entropy = {loss.data:.12f}  ({sum(1 for _ in _graph_size(loss)):,} graph nodes)")
    print(f"first layer's gradient d loss / d W1 ({len(grad)} x {len(grad[0])}), like net.linear1.weight.grad:")
    _print_matrix(grad)

    result: dict[str, Any] = {"samples": n, "loss": loss.data, "grad": grad,
                              "weights": [weights(layer) for layer in _layers(model)],
                              "bias": [nb.b.data for nb in _layers(model)[2].neurons if nb.b is not None],
                              "torch": None}
    reference = torch_gradient(model, xs, ys)
    if reference is None:
        print("PyTorch is not installed: skipping the comparison (pip install torch==2.13.0 to see it)")
    else:
        torch_loss, torch_grad = reference
        diff = max(abs(a - b) for row, trow in zip(grad, torch_grad) for a, b in zip(row, trow))
        scale = max(abs(b) for trow in torch_grad for b in trow)
        print(f"PyTorch, same weights, float64: loss {torch_loss:.12f} (difference {abs(torch_loss - loss.data):.1e}); "
              f"gradient max |difference| {diff:.1e} (largest entry {scale:.1e})")
        result["torch"] = {"loss": torch_loss, "grad": torch_grad, "max_abs_diff": diff}
    png = out_path(out_dir, "classifier_gradient.png")
    _plot(png, grad, None if reference is None else reference[1], n, seed)
    result["files"] = [str(png)]
    return result


def _plot(path: Path, grad: Matrix, torch_grad: Matrix | None, n: int, seed: int) -> None:
    """Left: d loss / d W1 as a heat map; right: each entry against PyTorch's (on the diagonal if they agree)."""
    fig, (ax, ax_cmp) = figure(ncols=2, width=12.0, height=4.4)
    bound = max(abs(v) for row in grad for v in row)
    im = ax.imshow(grad, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
    fig.colorbar(im, ax=ax, label="d loss / d weight")
    ax.set(xlabel="input feature (column of W1)", ylabel="hidden ReLU unit (row of W1)",
           title=f"First layer's gradient, {len(grad)} x {len(grad[0])}", xticks=range(0, len(grad[0]), 2),
           yticks=range(len(grad)))
    if torch_grad is None:
        ax_cmp.text(0.5, 0.5, "PyTorch not installed:\nno comparison", ha="center", va="center", fontsize=12)
        ax_cmp.set_axis_off()
    else:
        ours = [v for row in grad for v in row]
        theirs = [v for row in torch_grad for v in row]
        ax_cmp.plot([-bound, bound], [-bound, bound], color="gray", linewidth=0.8, label="y = x")
        ax_cmp.scatter(theirs, ours, s=12, color="tab:purple", label=f"{len(ours)} entries of d loss / d W1")
        diff = max(abs(a - b) for a, b in zip(ours, theirs))
        ax_cmp.set(xlabel="PyTorch (float64)", ylabel="micrograd",
                   title=f"Same weights in PyTorch: max |diff| {diff:.1e}")
        ax_cmp.grid(True, alpha=0.3)
        ax_cmp.legend(loc="upper left")
    fig.suptitle(f"Seed 003's classifier: 20 -> 13 ReLU -> 8 sigmoid -> 3, mean cross-entropy over {n} samples "
                 f"(seed {seed})")
    save(fig, path)


def _graph_size(root: Value) -> list[Value]:
    """Every node behind `root` (to show how many scalars one backward pass visits)."""
    seen = {root}
    stack = [root]
    while stack:
        for p in stack.pop()._prev:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return list(seen)


if __name__ == "__main__":
    from micrograd.demos.options import run_as_script

    run_as_script(main)
