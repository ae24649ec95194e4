"""Small data sets generated in-package, so the demos need neither sklearn nor downloads.

Every generator takes a `seed` and draws from its own `random.Random(seed)`, so the data
is the same on every machine and never disturbs (or depends on) the global RNG.
"""

from __future__ import annotations

import math
import random
from typing import TypeVar

T = TypeVar("T")

Image = list[list[list[float]]]  # [channel][row][column], the layout micrograd.nn.Conv2d reads

SHAPE_CLASSES: tuple[str, ...] = ("horizontal", "vertical", "diagonal \\", "diagonal /")


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles, labelled 0 (upper) and 1 (lower), like sklearn's `make_moons`.

    The points are spaced evenly along each arc (as sklearn does), shuffled, then jittered
    with Gaussian noise of standard deviation `noise`.
    """
    if n_samples < 2:
        raise ValueError(f"make_moons needs at least 2 samples, got {n_samples}")
    rng = random.Random(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    points: list[tuple[float, float, int]] = []
    for i in range(n_out):
        t = math.pi * i / (n_out - 1) if n_out > 1 else 0.0
        points.append((math.cos(t), math.sin(t), 0))
    for i in range(n_in):
        t = math.pi * i / (n_in - 1) if n_in > 1 else 0.0
        points.append((1.0 - math.cos(t), 0.5 - math.sin(t), 1))
    rng.shuffle(points)
    xs = [[x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)] for x, y, _ in points]
    return xs, [label for _, _, label in points]


def make_blobs_classification(n_samples: int = 500, n_features: int = 20, n_classes: int = 3, scale: float = 100.0,
                              seed: int = 0) -> tuple[list[list[float]], list[int]]:
    """Features uniform in [0, scale) and labels uniform in {0..n_classes-1}, like seed 003's
    ``torch.rand(500, 20) * 100`` and ``torch.randint(0, 3, (500,))`` (random labels: the
    point of that example is the gradient, not the fit)."""
    rng = random.Random(seed)
    xs = [[rng.random() * scale for _ in range(n_features)] for _ in range(n_samples)]
    return xs, [rng.randrange(n_classes) for _ in range(n_samples)]


def _stroke(kind: int, size: int, rng: random.Random) -> list[tuple[int, int]]:
    """The pixels of one straight stroke of class `kind`, of random length and position."""
    length = rng.randint(size // 2 + 1, size - 1)
    if kind in (0, 1):  # horizontal / vertical
        fixed = rng.randrange(1, size - 1)
        start = rng.randint(0, size - length)
        pixels = [(fixed, start + i) for i in range(length)]
        return pixels if kind == 0 else [(c, r) for r, c in pixels]
    r0 = rng.randint(0, size - length)
    c0 = rng.randint(0, size - length)
    if kind == 2:  # "\": down and to the right
        return [(r0 + i, c0 + i) for i in range(length)]
    return [(r0 + i, c0 + length - 1 - i) for i in range(length)]  # "/"


def make_shapes(n_samples: int = 200, size: int = 8, noise: float = 0.15,
                seed: int = 0) -> tuple[list[Image], list[int]]:
    """Tiny one-channel images of a single stroke: horizontal, vertical, ``\\`` or ``/``.

    A stand-in for MNIST that a scalar engine can train on in seconds: each class is one
    orientation, which is exactly what a 3x3 convolution filter can learn to detect.  The
    stroke has random length, position and brightness (0.7 to 1.0) and every pixel gets
    Gaussian noise; classes are balanced and shuffled.  Returns ``(images, labels)`` with
    each image as ``[1][size][size]``.
    """
    if size < 4:
        raise ValueError(f"make_shapes needs images of at least 4x4, got {size}")
    rng = random.Random(seed)
    labels = [i % len(SHAPE_CLASSES) for i in range(n_samples)]
    rng.shuffle(labels)
    images: list[Image] = []
    for label in labels:
        pixels = [[0.0] * size for _ in range(size)]
        brightness = rng.uniform(0.7, 1.0)
        for r, c in _stroke(label, size, rng):
            pixels[r][c] = brightness
        images.append([[[p + rng.gauss(0.0, noise) for p in row] for row in pixels]])
    return images, labels


def train_test_split(xs: list[T], ys: list[int],
                     test_fraction: float = 0.25) -> tuple[list[T], list[int], list[T], list[int]]:
    """The first part for training, the last `test_fraction` held out (the generators already shuffle)."""
    n_test = round(len(xs) * test_fraction)
    cut = len(xs) - n_test
    return xs[:cut], ys[:cut], xs[cut:], ys[cut:]
