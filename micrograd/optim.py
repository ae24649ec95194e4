"""Optimizers with torch.optim's signatures and exact update formulas.

`SGD`, `Adam` and `AdamW` take their arguments in PyTorch's positional order, so a call copied
from PyTorch means the same thing here, and each step performs the same floating-point
operations, in the same order, as PyTorch's single-tensor implementations: a trajectory matches
``torch.optim`` in float64 to rounding (the tests check 1e-9 after hundreds of steps).
Arithmetic follows IEEE 754 as PyTorch's does: 0/0 is nan and x/0 is inf, never an exception
(``Adam([p], eps=0.0)`` with a zero gradient makes p nan, as in PyTorch).  Parameters are
updated through ``.data`` only; nothing is recorded in the graph.

Start at `SGD.step`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .engine import Value
from .primitives import div

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]


def _check(name: str, value: float, low: float = 0.0, high: float | None = None) -> float:
    """A finite float in [low, high) (or [low, inf) without `high`); else ValueError, like torch."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"invalid {name}: expected a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < low or (high is not None and v >= high):
        bound = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"invalid {name}: {value!r} (must be finite and {bound})")
    return v


def _maximum(a: float, b: float) -> float:
    """torch.maximum for two floats: the larger, and nan if either is nan (Python's max ignores a nan second)."""
    if a != a or b != b:
        return math.nan
    return a if a >= b else b


class Optimizer:
    """Holds the parameter list; `zero_grad()` clears the gradients, `step()` updates the data."""

    def __init__(self, params: Iterable[Value]) -> None:
        if not isinstance(params, Iterable):
            raise TypeError(f"params must be an iterable of Values (e.g. model.parameters()), "
                            f"got {type(params).__name__}")
        self.params: list[Value] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"optimizer parameters must be Values, got {type(p).__name__}")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError("some parameters appear more than once (each would be updated twice)")

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0 before the next `backward()` (gradients add up)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter's `.data` from its `.grad`."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: ``SGD(params, lr, momentum, dampening, weight_decay, nesterov)``,
    torch.optim.SGD's order and defaults.

    As in torch: g = grad + weight_decay * p (L2); with momentum, the buffer starts as g on the
    first step, then buf = momentum * buf + (1 - dampening) * g, and the step uses buf (or
    g + momentum * buf with Nesterov); p -= lr * step.  ``maximize=True`` climbs instead.
    ValueError for a negative or non-finite lr, momentum or weight_decay, and for Nesterov
    without momentum or with dampening.
    """

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params)
        self.lr = _check("lr", lr)
        self.momentum = _check("momentum", momentum)
        self.dampening = _check("dampening", dampening, low=-math.inf)
        self.weight_decay = _check("weight_decay", weight_decay)
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        self.nesterov = bool(nesterov)
        self.maximize = bool(maximize)
        self.momentum_buffers: list[float] | None = None

    def step(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        params = self.params
        if mu == 0:
            for p in params:
                g = -p.grad if self.maximize else p.grad
                if wd != 0:
                    g = g + wd * p.data
                p.data += -lr * g
            return
        bufs = self.momentum_buffers
        first = bufs is None
        if bufs is None:
            bufs = self.momentum_buffers = [0.0] * len(params)
        keep = 1 - self.dampening
        for i, p in enumerate(params):
            g = -p.grad if self.maximize else p.grad
            if wd != 0:
                g = g + wd * p.data
            buf = g if first else bufs[i] * mu + keep * g
            bufs[i] = buf
            p.data += -lr * (g + mu * buf if self.nesterov else buf)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) as torch.optim.Adam computes it:
    ``Adam(params, lr, betas, eps, weight_decay, amsgrad)``, torch's order and defaults.

    g = grad (+ weight_decay * p, L2; see `AdamW` for the decoupled form);
    m = lerp(m, g, 1 - beta1); v = beta2 * v + (1 - beta2) * g * g (with ``amsgrad``, the running
    maximum of v is used below instead of v); p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    ``maximize=True`` climbs instead.  ValueError for a negative or non-finite lr, eps or
    weight_decay, and for betas outside [0, 1).
    """

    _decoupled = False

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params)
        self.lr = _check("lr", lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"invalid betas: expected a pair, got {betas!r}")
        self.betas = (_check("beta1", betas[0], high=1.0), _check("beta2", betas[1], high=1.0))
        self.eps = _check("eps", eps)
        self.weight_decay = _check("weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)
        self.maximize = bool(maximize)
        self.t = 0
        self.exp_avg = [0.0] * len(self.params)
        self.exp_avg_sq = [0.0] * len(self.params)
        self.max_exp_avg_sq = [0.0] * len(self.params) if self.amsgrad else None

    def step(self) -> None:
        lr, (beta1, beta2), eps, wd = self.lr, self.betas, self.eps, self.weight_decay
        self.t += 1
        t = float(self.t)
        w1, w2 = 1 - beta1, 1 - beta2
        step_size = lr / (1 - beta1 ** t)  # beta1 < 1: never a division by zero
        bias2_sqrt = (1 - beta2 ** t) ** 0.5
        decay = 1 - lr * wd
        m, v, vmax = self.exp_avg, self.exp_avg_sq, self.max_exp_avg_sq
        for i, p in enumerate(self.params):
            g = -p.grad if self.maximize else p.grad
            if wd != 0:
                if self._decoupled:
                    p.data *= decay
                else:
                    g = g + wd * p.data
            mi = m[i]
            # torch's lerp: start + w * (end - start) for w < 0.5, else end - (end - start) * (1 - w)
            m[i] = mi = mi + w1 * (g - mi) if w1 < 0.5 else g - (g - mi) * (1 - w1)
            v[i] = vi = v[i] * beta2 + w2 * g * g
            if vmax is not None:
                vmax[i] = vi = _maximum(vmax[i], vi)
            p.data += div(-step_size * mi, math.sqrt(vi) / bias2_sqrt + eps)  # IEEE: eps=0 with v=0 is nan


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW, Loshchilov & Hutter 2019): p *= 1 - lr *
    weight_decay before the Adam step.  ``AdamW(params, lr, betas, eps, weight_decay, amsgrad)``,
    torch's order and defaults (weight_decay 0.01)."""

    _decoupled = True

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
