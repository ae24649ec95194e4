"""micrograd's demo notebook: an MLP(2, [16, 16, 1]) separates two interleaving moons.

As in karpathy/micrograd's `demo.ipynb`: 100 points with noise 0.1, labels -1/+1, the
max-margin (hinge) loss mean(relu(1 - y * score)) plus 1e-4 * sum(p^2), full-batch
gradient descent for 100 steps with the learning rate falling from 1.0 to 0.1
(lr = 1.0 - 0.9 * k / 100).  The moons are generated in-package, so no sklearn.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from micrograd import Value, no_grad, vsum
from micrograd.demos.datasets import make_moons
from micrograd.demos.plotting import figure, out_path, progress, save, say
from micrograd.nn import MLP, hinge_loss
from micrograd.optim import SGD

N_SAMPLES, NOISE = 100, 0.1
ALPHA = 1e-4  # L2 regularisation strength
STEPS, QUICK_STEPS = 100, 30
GRID, QUICK_GRID = 70, 40  # decision-boundary resolution (cells along x)


def _score(model: MLP, x: list[float]) -> Value:
    out = model(x)
    assert isinstance(out, Value)
    return out


def loss_and_accuracy(model: MLP, xs: list[list[float]], ys: list[int]) -> tuple[Value, float]:
    """The notebook's objective: hinge data loss + ALPHA * L2, and the fraction classified right."""
    scores = [_score(model, x) for x in xs]
    data_loss = hinge_loss(scores, ys)
    reg_loss = ALPHA * vsum([p * p for p in model.parameters()])
    accuracy = sum((s.data > 0) == (y > 0) for s, y in zip(scores, ys)) / len(ys)
    return data_loss + reg_loss, accuracy


def main(out_dir: str | Path | None = None, steps: int | None = None, seed: int = 0,
         quick: bool = False) -> dict[str, Any]:
    """Train, print loss and accuracy every 10 steps, plot the decision boundary and the curves."""
    steps = steps if steps is not None else QUICK_STEPS if quick else STEPS
    xs, labels = make_moons(N_SAMPLES, noise=NOISE, seed=seed)
    ys = [2 * label - 1 for label in labels]  # 0/1 -> -1/+1 for the hinge loss
    model = MLP(2, [16, 16, 1], rng=random.Random(seed))
    opt = SGD(model.parameters(), lr=1.0)
    print(f"MLP(2, [16, 16, 1]), ReLU, {len(model.parameters())} parameters; {N_SAMPLES} moons (noise {NOISE}, "
          f"seed {seed}); hinge loss + {ALPHA:g} L2; {steps} full-batch steps, lr 1.0 -> 0.1")
    losses: list[float] = []
    accuracies: list[float] = []
    for k in progress(range(steps), total=steps, desc="moons"):
        loss, acc = loss_and_accuracy(model, xs, ys)
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * k / STEPS  # the notebook's schedule, over its 100 steps
        opt.step()
        losses.append(loss.data)
        accuracies.append(acc)
        if k % 10 == 0 or k == steps - 1:
            say(f"  step {k:3d}  loss {loss.data:.6f}  accuracy {acc:.0%}")
    with no_grad():
        final_loss, final_acc = loss_and_accuracy(model, xs, ys)
    print(f"after {steps} steps: loss {final_loss.data:.6f}, accuracy {final_acc:.0%}")

    png = out_path(out_dir, "moons.png")
    _plot(png, model, xs, labels, losses, accuracies, final_acc, grid=QUICK_GRID if quick else GRID, seed=seed)
    return {"steps": steps, "loss": final_loss.data, "accuracy": final_acc, "losses": losses,
            "accuracies": accuracies, "files": [str(png)]}


@no_grad()
def _plot(path: Path, model: MLP, xs: list[list[float]], labels: list[int], losses: list[float],
          accuracies: list[float], accuracy: float, *, grid: int, seed: int) -> None:
    """Left: the data over the model's decision regions; right: loss and accuracy per step."""
    x_lo, x_hi = min(p[0] for p in xs) - 0.5, max(p[0] for p in xs) + 0.5
    y_lo, y_hi = min(p[1] for p in xs) - 0.5, max(p[1] for p in xs) + 0.5
    nx = grid
    ny = max(2, round(grid * (y_hi - y_lo) / (x_hi - x_lo)))
    gx = [x_lo + (x_hi - x_lo) * i / (nx - 1) for i in range(nx)]
    gy = [y_lo + (y_hi - y_lo) * j / (ny - 1) for j in range(ny)]
    scores = [[_score(model, [x, y]).data for x in gx] for y in gy]

    fig, (ax, ax_loss) = figure(ncols=2, width=11.5, height=4.6)
    ax.contourf(gx, gy, scores, levels=[-1e300, 0.0, 1e300], colors=["#f4c7c3", "#c6dbef"], alpha=0.9)
    ax.contour(gx, gy, scores, levels=[0.0], colors="k", linewidths=1.2)
    classes = ((0, "tab:red", "o", "class 0 (y = −1)"), (1, "tab:blue", "s", "class 1 (y = +1)"))
    for label, color, marker, name in classes:
        pts = [p for p, lab in zip(xs, labels) if lab == label]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], c=color, marker=marker, s=22, edgecolors="k",
                   linewidths=0.5, label=name)
    ax.plot([], [], color="k", linewidth=1.2, label="decision boundary (score = 0)")
    ax.set(xlim=(x_lo, x_hi), ylim=(y_lo, y_hi), xlabel="x₁", ylabel="x₂",
           title=f"Decision regions: training accuracy {accuracy:.0%}")
    ax.legend(loc="lower left", fontsize="small", framealpha=0.9)

    steps = range(len(losses))
    ax_loss.plot(steps, losses, color="tab:red", linewidth=1.6, label="loss (hinge + L2)")
    ax_loss.set(yscale="log", xlabel="step", ylabel="loss (log scale)", title="Training curves")
    ax_loss.grid(True, alpha=0.3)
    ax_acc = ax_loss.twinx()
    ax_acc.plot(steps, accuracies, color="tab:blue", linewidth=1.6, label="accuracy")
    ax_acc.set(ylabel="training accuracy", ylim=(0.0, 1.02))
    lines = ax_loss.get_lines() + ax_acc.get_lines()
    ax_loss.legend(lines, [str(line.get_label()) for line in lines], loc="center right")
    fig.suptitle(f"Two moons, MLP(2, [16, 16, 1]), {len(losses)} steps of gradient descent (seed {seed})")
    save(fig, path)


if __name__ == "__main__":
    from micrograd.demos.options import run_as_script

    run_as_script(main)
