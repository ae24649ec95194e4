"""PyTorch as a scalar engine: 0-dim float64 tensors, on the graph micrograd builds.

`Value(x)` makes a leaf tensor that requires grad, and `MLP` has micrograd's structure
(each neuron is ``sum(w_i * x_i, b)``: one mul and one add per input, then relu), so
the moons code text runs unchanged and autograd records the same unfused graph.
Only `zero_grad` differs: PyTorch wants ``p.grad = None``, not ``0``.
"""

from __future__ import annotations

import random
from typing import Any

import torch

torch.set_default_dtype(torch.float64)


def Value(data: Any) -> torch.Tensor:  # noqa: N802 - stands in for micrograd's class
    """A 0-dim float64 leaf tensor that records operations on it."""
    return torch.tensor(float(data), dtype=torch.float64, requires_grad=True)


class Module:
    """micrograd's Module, with PyTorch's way to clear gradients."""

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def parameters(self) -> list[torch.Tensor]:
        return []


class Neuron(Module):
    """w drawn from the global `random` in micrograd's order; the sum is left to right from b."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: list[Any]) -> torch.Tensor:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[torch.Tensor]:
        return self.w + [self.b]


class Layer(Module):
    """A list of neurons; one output is returned bare, as in micrograd."""

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: list[Any]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[torch.Tensor]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    """Layers of ReLU neurons and a linear last layer."""

    def __init__(self, nin: int, nouts: list[int]) -> None:
        sz = [nin, *nouts]
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x: list[Any]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[torch.Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]
