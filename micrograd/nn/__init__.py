"""Neural networks on the scalar engine: micrograd's `Neuron`, `Layer`, `MLP`, and more.

Where to start reading: `mlp.py` (micrograd's three classes, each neuron one `dot` node),
then `module.py` (the `Module` base class: parameters, zero_grad, checkpoints).  The rest:
`conv.py` (Conv2d and pooling on [C][H][W] nested lists), `losses.py` (PyTorch's losses and
softmax), `init.py` (initial weights), `checkpoint.py` (the JSON file format and safe file I/O).

Everything is importable from here: ``from micrograd.nn import MLP, cross_entropy``.
"""

from __future__ import annotations

from ..primitives import ACTIVATIONS
from .checkpoint import DEFAULT_MAX_BYTES, FORMAT, FORMAT_VERSION, CheckpointError, Nested
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .init import INITS, RandomSource
from .losses import binary_cross_entropy_with_logits, cross_entropy, hinge_loss, log_softmax, mse_loss, softmax
from .mlp import MLP, Activation, Flatten, Layer, Neuron, Sequential
from .module import Module

__all__ = [
    "ACTIVATIONS", "INITS", "FORMAT", "FORMAT_VERSION", "DEFAULT_MAX_BYTES", "Nested", "RandomSource",
    "CheckpointError", "Module", "Neuron", "Layer", "MLP", "Sequential", "Flatten", "Activation",
    "Conv2d", "MaxPool2d", "AvgPool2d",
    "mse_loss", "binary_cross_entropy_with_logits", "cross_entropy", "hinge_loss", "softmax", "log_softmax",
]
