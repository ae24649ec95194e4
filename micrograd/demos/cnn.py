"""Seed 001's convolutional network, small enough for a scalar engine: Conv2d -> ReLU -> MaxPool2d -> dense.

The seed writes convolution and pooling forward *and* backward by hand in numpy (four
nested loops each way).  Here only the forward is written (`micrograd.nn.Conv2d`,
`MaxPool2d`): the backward passes come from the engine.  The data are 8x8 one-channel
images of a single noisy stroke (horizontal, vertical, ``\\`` or ``/``) generated in
`micrograd.demos.datasets`, so 3x3 filters have something to find: after training, they look
like small edge detectors.  A quarter of the images are held out to measure accuracy.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from micrograd import Value, no_grad
from micrograd.demos.datasets import SHAPE_CLASSES, Image, make_shapes, train_test_split
from micrograd.demos.plotting import blank_figure, out_path, progress, save
from micrograd.nn import Activation, Conv2d, Flatten, Layer, MaxPool2d, Sequential, cross_entropy
from micrograd.optim import Adam

SIZE, FILTERS, NOISE = 8, 4, 0.15
SAMPLES, EPOCHS, LR = 400, 6, 0.02
QUICK_SAMPLES, QUICK_EPOCHS, QUICK_LR = 200, 4, 0.03
BATCH = 16


def build(rng: random.Random) -> Sequential:
    """8x8 -> Conv2d(1, 4, 3) -> 4x6x6 -> ReLU -> MaxPool2d(2) -> 4x3x3 -> flatten 36 -> 4 class scores."""
    pooled = FILTERS * ((SIZE - 2) // 2) ** 2
    return Sequential(Conv2d(1, FILTERS, 3, rng=rng), Activation("relu"), MaxPool2d(2), Flatten(),
                      Layer(pooled, len(SHAPE_CLASSES), activation="linear", init="xavier", rng=rng))


def _logits(model: Sequential, image: Image) -> list[Value]:
    out = model(image)
    assert isinstance(out, list)
    return out


@no_grad()
def predict(model: Sequential, images: list[Image]) -> list[int]:
    """The highest-scoring class for each image."""
    preds = []
    for image in images:
        scores = [v.data for v in _logits(model, image)]
        preds.append(max(range(len(scores)), key=scores.__getitem__))
    return preds


def accuracy(model: Sequential, images: list[Image], labels: list[int]) -> float:
    return sum(p == y for p, y in zip(predict(model, images), labels)) / len(labels)


def main(out_dir: str | Path | None = None, steps: int | None = None, seed: int = 0,
         quick: bool = False) -> dict[str, Any]:
    """Train with Adam on mini-batches of 16; print accuracy per epoch; plot examples, filters and curves.

    `steps` is the number of epochs here (one epoch = one pass over the training images).
    """
    n, epochs, lr = (QUICK_SAMPLES, QUICK_EPOCHS, QUICK_LR) if quick else (SAMPLES, EPOCHS, LR)
    epochs = epochs if steps is None else steps
    images, labels = make_shapes(n, size=SIZE, noise=NOISE, seed=seed)
    x_train, y_train, x_test, y_test = train_test_split(images, labels, test_fraction=0.25)
    rng = random.Random(seed)
    model = build(rng)
    opt = Adam(model.parameters(), lr=lr)
    print(f"{n} {SIZE}x{SIZE} images of one stroke ({', '.join(SHAPE_CLASSES)}; noise {NOISE}, seed {seed}): "
          f"{len(x_train)} to train, {len(x_test)} held out")
    print(f"Conv2d(1, {FILTERS}, 3) -> ReLU -> MaxPool2d(2) -> Linear(36, 4): {len(model.parameters())} parameters; "
          f"Adam lr {lr}, batches of {BATCH}, {epochs} epochs")

    batch_losses: list[float] = []
    epoch_acc: list[tuple[float, float]] = [(accuracy(model, x_train, y_train), accuracy(model, x_test, y_test))]
    order = list(range(len(x_train)))
    n_batches = -(-len(order) // BATCH)
    print(f"  before training: train accuracy {epoch_acc[0][0]:.0%}, held-out {epoch_acc[0][1]:.0%} "
          f"(chance {1 / len(SHAPE_CLASSES):.0%})")
    for epoch in range(1, epochs + 1):
        rng.shuffle(order)
        losses = []
        for b in progress(range(n_batches), total=n_batches, desc=f"cnn epoch {epoch}/{epochs}"):
            batch = order[b * BATCH:(b + 1) * BATCH]
            loss = cross_entropy([_logits(model, x_train[i]) for i in batch], [y_train[i] for i in batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.data)
        batch_losses.extend(losses)
        epoch_acc.append((accuracy(model, x_train, y_train), accuracy(model, x_test, y_test)))
        print(f"  epoch {epoch}/{epochs}: mean loss {sum(losses) / len(losses):.4f}, "
              f"train accuracy {epoch_acc[-1][0]:.0%}, held-out {epoch_acc[-1][1]:.0%}")
    train_acc, test_acc = epoch_acc[-1]

    png = out_path(out_dir, "cnn.png")
    _plot(png, model, x_test, y_test, batch_losses, epoch_acc, n_batches, seed)
    return {"samples": n, "epochs": epochs, "train_accuracy": train_acc, "test_accuracy": test_acc,
            "batch_losses": batch_losses, "files": [str(png)]}


def _plot(path: Path, model: Sequential, x_test: list[Image], y_test: list[int], batch_losses: list[float],
          epoch_acc: list[tuple[float, float]], n_batches: int, seed: int) -> None:
    """Held-out examples with predictions, the learned filters, and the training curves."""
    fig = blank_figure(width=13.0, height=4.8)
    panels: Any = fig.subfigures(1, 3, width_ratios=[1.25, 0.75, 1.3])
    left, middle, right = panels

    preds = predict(model, x_test)
    per_class = [[i for i, y in enumerate(y_test) if y == c][:2] for c in range(len(SHAPE_CLASSES))]
    shown = [i for pair in zip(*per_class) for i in pair]
    axes = left.subplots(2, len(SHAPE_CLASSES))
    for ax, i in zip(axes.flat, shown):
        ax.imshow(x_test[i][0], cmap="gray_r", vmin=-0.3, vmax=1.2)
        ok = preds[i] == y_test[i]
        ax.set_title(f"{SHAPE_CLASSES[y_test[i]]}\npredicted {SHAPE_CLASSES[preds[i]]}", fontsize=8,
                     color="black" if ok else "red")
        ax.set_xticks([])
        ax.set_yticks([])
    left.suptitle("Held-out images (true / predicted)")

    conv = model.modules[0]
    assert isinstance(conv, Conv2d)
    faxes = middle.subplots(2, 2)
    for k, ax in enumerate(faxes.flat):
        kernel = [[v.data for v in row] for row in conv.weight[k][0]]
        bound = max(abs(v) for row in kernel for v in row) or 1.0
        ax.imshow(kernel, cmap="RdBu_r", vmin=-bound, vmax=bound)
        ax.set_title(f"filter {k + 1}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    middle.suptitle("Learned 3x3 filters\n(red +, blue −)")

    ax_loss = right.subplots()
    ax_loss.plot([k / n_batches for k in range(1, len(batch_losses) + 1)], batch_losses, color="tab:red",
                 linewidth=1.0, alpha=0.8, label="batch loss (cross-entropy)")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Training")
    ax_loss.grid(True, alpha=0.3)
    ax_acc = ax_loss.twinx()
    epochs = range(len(epoch_acc))
    ax_acc.plot(epochs, [a for a, _ in epoch_acc], "o-", color="tab:blue", label="train accuracy")
    ax_acc.plot(epochs, [b for _, b in epoch_acc], "s--", color="tab:green", label="held-out accuracy")
    ax_acc.set(ylabel="accuracy", ylim=(0.0, 1.02))
    lines = ax_loss.get_lines() + ax_acc.get_lines()
    ax_loss.legend(lines, [str(line.get_label()) for line in lines], loc="center right", fontsize="small")
    fig.suptitle(f"CNN on 8x8 strokes (seed {seed}): held-out accuracy {epoch_acc[-1][1]:.0%}, "
                 f"chance {1 / len(SHAPE_CLASSES):.0%}", fontweight="bold")
    save(fig, path)


if __name__ == "__main__":
    from micrograd.demos.options import run_as_script

    run_as_script(main)
