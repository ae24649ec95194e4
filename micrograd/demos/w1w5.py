"""Seed 002's backpropagation walk-through: a 2-2-2 sigmoid network, w1...w8, one step by hand.

The tutorial derives dE/dw5 and dE/dw1 with the chain rule, updates all eight weights
with learning rate 0.5 (biases fixed), then trains for 10,000 steps.  Its `NeuralNetwork`
class hard-codes those deltas; here the network is built from labelled `Value`s, so
`backward()` finds the same numbers by itself and the graph can be drawn.  Targets are
0.01 and 0.99 as in the walk-through (the seed's code has 0.09, a typo).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from micrograd import Value
from micrograd.demos.plotting import out_path, progress, save_graph
from micrograd.optim import SGD
from micrograd.walkthrough import explain

INPUTS = (0.05, 0.10)
WEIGHTS = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)  # w1..w8
BIASES = (0.35, 0.60)  # b1 (hidden layer), b2 (output layer): shared per layer, never trained
TARGETS = (0.01, 0.99)
LEARNING_RATE = 0.5
STEPS = 10_000

# The walk-through's printed results (9 significant digits), shown next to ours
TUTORIAL = {"E_total": 0.298371109, "dE/dw5": 0.082167041, "dE/dw1": 0.000438568,
            "w5+": 0.35891648, "w1+": 0.149780716}


def _named(v: Value, label: str) -> Value:
    v.label = label
    return v


class Network:
    """The tutorial's network: eight weight Values and the fixed inputs, biases and targets."""

    def __init__(self) -> None:
        self.w = [Value(x, label=f"w{k}") for k, x in enumerate(WEIGHTS, start=1)]
        self.i1, self.i2 = (Value(x, label=f"i{k}", requires_grad=False) for k, x in enumerate(INPUTS, start=1))
        self.b1, self.b2 = (Value(x, label=f"b{k}", requires_grad=False) for k, x in enumerate(BIASES, start=1))
        self.t1, self.t2 = (Value(x, label=f"target_o{k}", requires_grad=False) for k, x in enumerate(TARGETS, 1))

    def forward(self) -> dict[str, Value]:
        """Every named quantity of the walk-through, from net_h1 to E_total, in the seed's operation order."""
        w1, w2, w3, w4, w5, w6, w7, w8 = self.w
        v: dict[str, Value] = {}

        def neuron(h: str, wa: Value, xa: Value, wb: Value, xb: Value, bias: Value) -> None:
            products = [_named(w * x, f"{w.label}*{x.label}") for w, x in ((wa, xa), (wb, xb))]
            v[f"net_{h}"] = _named(products[0] + products[1] + bias, f"net_{h}")
            v[f"out_{h}"] = _named(v[f"net_{h}"].sigmoid(), f"out_{h}")

        neuron("h1", w1, self.i1, w2, self.i2, self.b1)
        neuron("h2", w3, self.i1, w4, self.i2, self.b1)
        neuron("o1", w5, v["out_h1"], w6, v["out_h2"], self.b2)
        neuron("o2", w7, v["out_h1"], w8, v["out_h2"], self.b2)
        v["E_o1"] = _named(0.5 * (self.t1 - v["out_o1"]) ** 2, "E_o1")
        v["E_o2"] = _named(0.5 * (self.t2 - v["out_o2"]) ** 2, "E_o2")
        v["E_total"] = _named(v["E_o1"] + v["E_o2"], "E_total")
        return v


def _fmt(x: float) -> str:
    return f"{x:.12g}"


def main(out_dir: str | Path | None = None, steps: int | None = None, seed: int = 0,
         quick: bool = False) -> dict[str, Any]:
    """One forward/backward/update step printed in full, then `steps` more updates (10,000 even in quick mode:
    about a second).  `seed` is unused: every number here is fixed by the tutorial."""
    steps = STEPS if steps is None else steps
    net = Network()
    opt = SGD(net.w, lr=LEARNING_RATE)

    values = net.forward()
    loss = values["E_total"]
    opt.zero_grad()
    loss.backward()
    w1, w5 = net.w[0], net.w[4]
    grads = {"dE/dw5": w5.grad, "dE/dw1": w1.grad}
    print(f"forward pass, inputs {INPUTS}, targets {TARGETS}:")
    for h in ("h1", "h2", "o1", "o2"):
        print(f"  net_{h} = {_fmt(values['net_' + h].data):<16} out_{h} = {_fmt(values['out_' + h].data)}")
    print(f"E_total = {_fmt(loss.data):<16} (walk-through: {TUTORIAL['E_total']})")
    print(f"dE/dw5  = {_fmt(grads['dE/dw5']):<16} (walk-through: {TUTORIAL['dE/dw5']})")
    print(f"dE/dw1  = {_fmt(grads['dE/dw1']):<16} (walk-through: {TUTORIAL['dE/dw1']})")
    # the walk-through's chain rule for w5 and w1, step by step: 0.74136507 × 0.186815602 = 0.138498562 ...
    walkthrough = explain(loss).table(digits=9, only=[w5, w1])
    print(f"\nthe backward pass, step by step, as the walk-through derives dE/dw5 and dE/dw1:\n{walkthrough}\n")
    svg = save_graph(loss, out_path(out_dir, "w1w5_graph.svg"))  # drawn now, while the grads are this step's

    opt.step()
    after_one = [w.data for w in net.w]
    print(f"after one update (learning rate {LEARNING_RATE}; walk-through: w5+ = {TUTORIAL['w5+']}, "
          f"w1+ = {TUTORIAL['w1+']}):")
    for row in range(2):
        print("  " + "  ".join(f"w{k + 1} = {_fmt(after_one[k]):<14}" for k in range(4 * row, 4 * row + 4)))

    for _ in progress(range(1, steps), total=steps - 1, desc="w1w5"):
        loss = net.forward()["E_total"]  # the error after the updates so far
        opt.zero_grad()
        loss.backward()
        opt.step()
    error = net.forward()["E_total"].data
    print(f"E_total after {steps:,} updates = {_fmt(error)}")
    if steps == STEPS:  # the walk-through says 0.0000351085 "after 10,000": it is one update short
        print(f"  (the walk-through's 0.0000351085 is the error after 9,999 updates: {_fmt(loss.data)})")
    return {
        "forward": {name: v.data for name, v in values.items()},
        "E_total": values["E_total"].data,
        "dE/dw5": grads["dE/dw5"],
        "dE/dw1": grads["dE/dw1"],
        "weights_after_one": after_one,
        "steps": steps,
        "error_after": error,
        "walkthrough": walkthrough,
        "files": [str(svg)],
    }


if __name__ == "__main__":
    from micrograd.demos.options import run_as_script

    run_as_script(main)
