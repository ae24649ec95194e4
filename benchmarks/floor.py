"""The floor: the moons step written by hand in plain Python, no graph at all.

Lists of floats and explicit loops; the forward keeps each layer's activations and
the backward walks them in reverse.  The arithmetic is micrograd's, operation for
operation (bias first, then w_i * x_i left to right; the hinge as 1 + (-y * score);
the data loss as builtin sum times 1/n; the L2 term as alpha * sum(p * p)), so the
loss matches an engine's to rounding of gradient accumulation order.  Like any
hand-written backward it skips units whose derivative is known to be zero (a flat
ReLU or hinge).  This is the cost of the arithmetic itself in CPython, the floor
for any engine on Python floats.
"""

from __future__ import annotations

import random


class FloorMLP:
    """Weights as lists of floats, drawn in micrograd's order from the global `random`."""

    def __init__(self, nin: int, nouts: list[int]) -> None:
        sizes = [nin, *nouts]
        # Per layer, per neuron, per input: random.uniform(-1, 1), exactly as micrograd's Neuron; bias 0.
        self.w = [[[random.uniform(-1, 1) for _ in range(sizes[i])] for _ in range(sizes[i + 1])]
                  for i in range(len(nouts))]
        self.b = [[0.0] * sizes[i + 1] for i in range(len(nouts))]

    def parameters(self) -> list[float]:
        """All parameters in micrograd's order (per neuron: weights, then bias)."""
        return [p for lw, lb in zip(self.w, self.b) for wn, bn in zip(lw, lb) for p in (*wn, bn)]

    def set_parameters(self, values: list[float]) -> None:
        """Overwrite every parameter, in `parameters()` order."""
        it = iter(values)
        for lw, lb in zip(self.w, self.b):
            for j, wn in enumerate(lw):
                wn[:] = [next(it) for _ in wn]
                lb[j] = next(it)

    def step(self, X: list[list[float]], y: list[int], k: int) -> tuple[float, float]:  # noqa: N803
        """One SGD step on (X, y); returns (loss, accuracy) before the update, like the demo."""
        W, B = self.w, self.b
        nlayers = len(W)
        # ---- forward: every layer's output for every sample
        acts: list[list[list[float]]] = []  # acts[s][l] = input of layer l for sample s (l = nlayers: output)
        losses: list[float] = []
        correct = 0
        for xs, yi in zip(X, y):
            a = xs
            per_layer = [a]
            for li in range(nlayers):
                out = []
                last = li == nlayers - 1
                for wn, bn in zip(W[li], B[li]):
                    act = bn
                    for wi, xi in zip(wn, a):
                        act = act + wi * xi
                    out.append(act if last else (0.0 if act < 0 else act))
                a = out
                per_layer.append(a)
            acts.append(per_layer)
            score = a[0]
            u = 1 + score * -yi
            losses.append(0.0 if u < 0 else u)
            correct += (yi > 0) == (score > 0)
        loss_sum = 0.0  # builtin sum() over Values adds left to right; sum() of floats may not (3.12+)
        for li_loss in losses:
            loss_sum = loss_sum + li_loss
        data_loss = loss_sum * (1.0 / len(losses))
        alpha = 1e-4
        reg = 0.0
        for lw, lb in zip(W, B):
            for wn, bn in zip(lw, lb):
                for p in wn:
                    reg = reg + p * p
                reg = reg + bn * bn
        total = data_loss + alpha * reg

        # ---- backward: d total / d every parameter
        gW = [[[0.0] * len(wn) for wn in lw] for lw in W]
        gB = [[0.0] * len(lb) for lb in B]
        dl = 1.0 / len(losses)  # d total / d loss_i
        for per_layer, yi, li_loss in zip(acts, y, losses):
            if li_loss <= 0:  # relu of the hinge is flat here: nothing flows back
                continue
            gout = [dl * -yi]  # d / d score
            for li in range(nlayers - 1, -1, -1):
                a_in, a_out = per_layer[li], per_layer[li + 1]
                last = li == nlayers - 1
                gin = [0.0] * len(a_in)
                for j, (wn, g) in enumerate(zip(W[li], gout)):
                    if not last and a_out[j] <= 0:  # relu'(act) = 0
                        continue
                    gw = gW[li][j]
                    gB[li][j] += g
                    for i, (wi, xi) in enumerate(zip(wn, a_in)):
                        gw[i] += xi * g
                        gin[i] += wi * g
                gout = gin
        # L2 term: d (alpha * p*p) / dp = 2 * alpha * p, accumulated as micrograd does (p * alpha, twice)
        for lw, lb, glw, glb in zip(W, B, gW, gB):
            for j, (wn, gw) in enumerate(zip(lw, glw)):
                for i, p in enumerate(wn):
                    gw[i] += p * alpha + p * alpha
                glb[j] += lb[j] * alpha + lb[j] * alpha

        # ---- update (sgd)
        learning_rate = 1.0 - 0.9 * k / 100
        for lw, lb, glw, glb in zip(W, B, gW, gB):
            for j, (wn, gw) in enumerate(zip(lw, glw)):
                for i in range(len(wn)):
                    wn[i] -= learning_rate * gw[i]
                lb[j] -= learning_rate * glb[j]
        return total, correct / len(losses)
