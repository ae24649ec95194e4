"""`Module`, the base class of every model: its parameters, its checkpoints, its gradients.

As in micrograd, a model is anything with ``parameters()``.  A container (`Layer`, `MLP`,
`Sequential`) instead lists its parts in ``named_children()``; then its parameters, the names
of its tensors in a checkpoint and its architecture are derived from those parts, here,
once, rather than written out again in every class.

Start at `Module` below; the checkpoint methods at its end hand over to `checkpoint.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..engine import Value
from . import checkpoint
from .checkpoint import DEFAULT_MAX_BYTES, Nested

__all__ = ["Module", "positive_int"]


def positive_int(name: str, n: object) -> int:
    """`n` if it is an int >= 1 (a size: inputs, outputs, channels); else a ValueError naming `name`."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return n


class Module:
    """Base class: anything with parameters.

    A micrograd-style subclass overrides `parameters()` alone.  A container overrides
    `named_children()` instead and gets `parameters()`, `named_tensors()` and `architecture()`
    from its children.  A module with tensors of its own (a neuron's ``w`` and ``b``, a
    convolution's ``weight``) overrides `parameters()` and `named_tensors()`, and
    `architecture()` to describe its hyperparameters.
    """

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0 (gradients add up across `backward()` calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def named_children(self) -> list[tuple[str, Module]]:
        """The sub-modules, each with the prefix of its tensors' names ("layers.0"), in parameter order."""
        return []

    def parameters(self) -> list[Value]:
        """Every trainable Value, in a fixed order (the order optimizers and checkpoints use)."""
        return [p for _, child in self.named_children() for p in child.parameters()]

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def named_tensors(self) -> list[tuple[str, Nested]]:
        """The parameters grouped into named nested lists (what a checkpoint stores), in `parameters()` order.

        A container's names are its children's, prefixed ("layers.1.neurons.0.w"); a module
        without children stores its `parameters()` as one flat list named "parameters".
        """
        children = self.named_children()
        if children:
            return [(f"{prefix}.{name}", t) for prefix, child in children for name, t in child.named_tensors()]
        ps = self.parameters()
        return [("parameters", ps)] if ps else []

    def architecture(self) -> dict[str, Any]:
        """A JSON-able description of the model's shape, stored in checkpoints to catch a mismatch.

        A container lists its children's architectures, grouped by the prefix of their names
        (children "layers.0", "layers.1" under "layers"; children named by number alone under
        "modules").  A module without children records its type and parameter count.
        """
        arch: dict[str, Any] = {"type": type(self).__name__}
        children = self.named_children()
        if not children:
            arch["parameters"] = len(self.parameters())
        for prefix, child in children:
            group = prefix.rpartition(".")[0] or "modules"
            arch.setdefault(group, []).append(child.architecture())
        return arch

    # -- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot: format marker, version, architecture and every parameter's value."""
        return checkpoint.state_dict(self.architecture(), self.named_tensors())

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy values from `state` into this model's parameters (the same Value objects, so an
        optimizer holding them keeps working).  Everything is checked first: on a `CheckpointError`
        nothing has changed."""
        self._assign(self._values_from(state, "state_dict"))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a human-readable JSON checkpoint to `path`, atomically: a crash never leaves a
        half-written file.  See `micrograd.nn.checkpoint.write` for what is refused and raised."""
        checkpoint.write(path, self.state_dict())

    def load(self, path: str | os.PathLike[str], *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> None:
        """Fill this model's parameters in place from a checkpoint written by `save`.

        Raises `CheckpointError` (a ValueError naming the file) for a file that is truncated,
        corrupted, made for another architecture, not a regular file, or larger than `max_bytes`
        (default 8 MiB, `DEFAULT_MAX_BYTES`; None for no limit); the model is then unchanged.
        """
        where = os.fspath(path)
        self._assign(self._values_from(checkpoint.read(where, max_bytes), where))

    def _values_from(self, doc: object, where: str) -> list[float]:
        return checkpoint.values_from(doc, self.architecture(), self.named_tensors(), len(self.parameters()), where)

    def _assign(self, values: list[float]) -> None:
        for p, v in zip(self.parameters(), values):
            p.data = v
