"""Initial weights: micrograd's uniform(-1, 1), He (Kaiming normal) and Xavier (Glorot uniform).

`draw` makes one weight.  Every rule takes exactly one draw from the RNG per weight, in the
order the weights are made, so ``random.seed(s)`` followed by ``MLP(...)`` gives micrograd's
weights and leaves `random` in the state micrograd would leave it in.
"""

from __future__ import annotations

import math
import random
from typing import Protocol

__all__ = ["INITS", "RandomSource", "resolve_rng", "check_init", "draw"]

#: The initialisation rules `Neuron`, `Layer`, `MLP` and `Conv2d` accept.
INITS = ("uniform", "he", "xavier")


class RandomSource(Protocol):
    """What initialisation needs from an RNG: the `random` module and `random.Random` both qualify."""

    def uniform(self, a: float, b: float) -> float: ...
    def gauss(self, mu: float, sigma: float) -> float: ...


def resolve_rng(rng: RandomSource | None) -> RandomSource:
    """`rng`, or the global `random` module when it is None (so ``random.seed`` works as in micrograd)."""
    return random if rng is None else rng


def check_init(init: str) -> str:
    """`init` if it names a rule in `INITS`; else a ValueError listing them."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    return init


def draw(init: str, rng: RandomSource, fan_in: int, fan_out: int) -> float:
    """One initial weight of a unit with `fan_in` inputs in a layer of `fan_out` units.

    "uniform": micrograd's U(-1, 1).  "he": N(0, 1) * sqrt(2 / fan_in), Kaiming normal for ReLU
    nets (He et al. 2015; keeps the activations' variance through depth).  "xavier": U(-a, a)
    with a = sqrt(6 / (fan_in + fan_out)), torch.nn.init.xavier_uniform_ (Glorot & Bengio 2010)
    for tanh and sigmoid nets.
    """
    if init == "uniform":
        return rng.uniform(-1, 1)
    if init == "he":
        return rng.gauss(0.0, 1.0) * math.sqrt(2.0 / fan_in)
    if init == "xavier":
        a = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a)
    raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
