"""Seed 002's second example: a 2-5-1 sigmoid network learns XOR.

The seed trains its hand-written `NeuralNetwork(2, 5, 1)` for 10,000 updates, each on one
pattern drawn with `random.choice`, learning rate 0.5, error 1/2 (t - o)^2.  Here the
network is `MLP(2, [5, 1])` with sigmoid units and the loop is the same; the only
difference is micrograd's per-neuron biases, trained like the weights (the seed shares
one fixed bias per layer).  XOR is the classic problem no single neuron can solve:
the hidden layer has to invent the features.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from micrograd import Value, no_grad
from micrograd.demos.plotting import figure, out_path, progress, save
from micrograd.nn import MLP
from micrograd.optim import SGD

PATTERNS: list[tuple[list[float], float]] = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
LEARNING_RATE = 0.5
STEPS, QUICK_STEPS = 10_000, 6_000
EVERY = 50  # updates between evaluations on all four patterns (for the curves)


def _output(model: MLP, x: list[float]) -> Value:
    out = model(x)
    assert isinstance(out, Value)  # one output neuron: the layer returns a bare Value, as in micrograd
    return out


@no_grad()
def evaluate(model: MLP) -> tuple[list[float], float]:
    """The network's output on each pattern and the seed's total error, sum of 1/2 (t - o)^2."""
    outs = [_output(model, x).data for x, _ in PATTERNS]
    return outs, sum(0.5 * (t - o) ** 2 for o, (_, t) in zip(outs, PATTERNS))


def main(out_dir: str | Path | None = None, steps: int | None = None, seed: int = 0,
         quick: bool = False) -> dict[str, Any]:
    """Train on one random pattern per update; print the truth table; plot error and outputs over training."""
    steps = steps if steps is not None else QUICK_STEPS if quick else STEPS
    rng = random.Random(seed)
    model = MLP(2, [5, 1], activation="sigmoid", output_activation="sigmoid", rng=rng)
    opt = SGD(model.parameters(), lr=LEARNING_RATE)
    print(f"MLP(2, [5, 1]), sigmoid units, {len(model.parameters())} parameters; SGD lr {LEARNING_RATE}, "
          f"{steps:,} updates on one random pattern each (seed {seed})")

    history: list[tuple[int, list[float], float]] = [(0, *evaluate(model))]
    for k in progress(range(1, steps + 1), total=steps, desc="xor"):
        x, target = rng.choice(PATTERNS)
        loss = 0.5 * (target - _output(model, x)) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        if k % EVERY == 0 or k == steps:
            history.append((k, *evaluate(model)))

    outs, error = evaluate(model)
    correct = sum((o > 0.5) == (t > 0.5) for o, (_, t) in zip(outs, PATTERNS))
    print("  x1 x2 | target | output")
    for (x, t), o in zip(PATTERNS, outs):
        print(f"   {x[0]:.0f}  {x[1]:.0f} |   {t:.0f}    | {o:.4f}")
    print(f"total error {error:.6g}; accuracy {correct}/4 = {correct / 4:.0%}")

    png = out_path(out_dir, "xor_training.png")
    fig, (ax_err, ax_out) = figure(ncols=2, width=11.0, height=4.2)
    xs = [k for k, _, _ in history]
    ax_err.plot(xs, [e for _, _, e in history], color="tab:red", linewidth=1.6)
    ax_err.set(yscale="log", xlabel="update", ylabel="total error  ½Σ(t − o)²  over the 4 patterns",
               title="Error (log scale)")
    ax_err.grid(True, alpha=0.3)
    for i, (x, t) in enumerate(PATTERNS):
        ax_out.plot(xs, [o[i] for _, o, _ in history], linewidth=1.6,
                    linestyle="-" if t else "--", label=f"input ({x[0]:.0f}, {x[1]:.0f}) → target {t:.0f}")
    ax_out.axhline(0.5, color="gray", linewidth=0.8, linestyle=":")
    ax_out.set(ylim=(-0.02, 1.02), xlabel="update", ylabel="network output", title="Output for each input")
    ax_out.legend(loc="center right", fontsize="small")
    ax_out.grid(True, alpha=0.3)
    fig.suptitle(f"XOR with a 2-5-1 sigmoid network (SGD, lr {LEARNING_RATE}, seed {seed}): "
                 f"{correct}/4 correct after {steps:,} updates")
    save(fig, png)
    return {"steps": steps, "outputs": outs, "error": error, "accuracy": correct / 4,
            "history": [(k, e) for k, _, e in history], "files": [str(png)]}


if __name__ == "__main__":
    from micrograd.demos.options import run_as_script

    run_as_script(main)
