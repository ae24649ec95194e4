"""The workloads, written once and run unchanged on every engine.

Every engine gets the same code: the moons step is one code text (`MOONS_STEP`) that
each worker compiles after its own two import lines (`IMPORTS`); the graph, memory
and chain workloads are functions that receive the engine's `Value` and use only
operators that micrograd 0.1.0 also supports (+ - * / ** relu, builtin sum).  This
module never imports an engine itself, so the two ``micrograd`` packages never meet.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

# ---------------------------------------------------------------- (a) the moons step
#: The import lines, the only text that differs between engines.
IMPORTS: dict[str, str] = {
    "ours": "from micrograd.engine import Value\nfrom micrograd.nn import MLP\n",
    "micrograd": "from micrograd.engine import Value\nfrom micrograd.nn import MLP\n",
    "torch": "from torch_shim import Value, MLP\n",
}

#: micrograd's demo.ipynb, verbatim: the model cell, the loss cell (svm max-margin + L2) and the
#: body of its `for k in range(100):` optimisation loop as `step(k)` (minus the print).  X, y
#: (plain lists; the batch_size branch is never taken, so numpy is not needed) and SEED come from
#: the worker; `random.seed` is called right before the model is built, as in the notebook.
MOONS_STEP = '''
random.seed(SEED)
model = MLP(2, [16, 16, 1]) # 2-layer neural network

# loss function
def loss(batch_size=None):

    # inline DataLoader :)
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = [list(map(Value, xrow)) for xrow in Xb]

    # forward the model to get scores
    scores = list(map(model, inputs))

    # svm "max-margin" loss
    losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum((p*p for p in model.parameters()))
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)

def step(k):

    # forward
    total_loss, acc = loss()

    # backward
    model.zero_grad()
    total_loss.backward()

    # update (sgd)
    learning_rate = 1.0 - 0.9*k/100
    for p in model.parameters():
        p.data -= learning_rate * p.grad

    return total_loss.data, acc
'''


def moons_code(engine: str) -> str:
    """The full text one engine runs: its imports, then the shared step."""
    return "import random\n" + IMPORTS[engine] + MOONS_STEP


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 1337) -> tuple[list[list[float]], list[int]]:
    """sklearn-style two moons in pure Python (own RNG, so the global `random` stays untouched).

    Labels are -1/+1 as in the demo (``y = y*2 - 1``).
    """
    rng = random.Random(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    pts: list[tuple[float, float, int]] = []
    for i in range(n_out):
        t = math.pi * i / max(n_out - 1, 1)
        pts.append((math.cos(t), math.sin(t), -1))
    for i in range(n_in):
        t = math.pi * i / max(n_in - 1, 1)
        pts.append((1.0 - math.cos(t), 0.5 - math.sin(t), 1))
    rng.shuffle(pts)
    return [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for a, b, _ in pts], [c for _, _, c in pts]


# ---------------------------------------------------------------- (b) general graphs
# Each template makes one node from its own parent {a} and a second, random parent {b}
# (fan-out and skip connections).  All keep |value| <= 1 when |a|, |b| <= 1, so no engine
# ever meets overflow or denormals.  The op count is what the source applies.
_TEMPLATES: list[tuple[str, int]] = [
    ("{a} * {b}", 1),
    ("({a} + {b}) * 0.5", 2),
    ("({a} - {b}) * 0.5", 2),
    ("({a}.relu() - {b}) * 0.5", 3),
    ("{a} ** 2 * {b}", 2),
    ("{a} / (1 + {b} * {b})", 3),
    ("{a} * 0.9 + {b} * 0.1", 3),
    ("-{a} * {b}", 2),
]


def general_graph_source(target_ops: int, width: int, seed: int = 6) -> tuple[str, int, int]:
    """Straight-line source of ``build(Value, leaf_data) -> (root, leaves)``: a layered random DAG.

    Layer 0 is `width` leaves.  Node j of each new layer combines node j of the previous
    layer with a random earlier node (half the time from the previous layer, otherwise
    from any layer), through a random template; layers are added until `target_ops`
    operations are reached, and the root is builtin ``sum()`` of the last layer.
    Returns (source, operations, depth in layers).
    """
    rng = random.Random(seed)
    lines = ["def build(Value, leaf_data):"]
    lines += [f"    v{j} = Value(leaf_data[{j}])" for j in range(width)]
    layers: list[list[int]] = [list(range(width))]
    next_id, ops = width, 0
    while ops + width < target_ops:
        prev, new = layers[-1], []
        for j in range(width):
            other = rng.choice(prev) if rng.random() < 0.5 else rng.choice(rng.choice(layers))
            text, n = _TEMPLATES[rng.randrange(len(_TEMPLATES))]
            lines.append(f"    v{next_id} = " + text.format(a=f"v{prev[j]}", b=f"v{other}"))
            new.append(next_id)
            next_id += 1
            ops += n
        layers.append(new)
    ops += width  # sum() over the last layer: 0 + v, then width - 1 more additions
    lines.append("    root = sum([" + ", ".join(f"v{j}" for j in layers[-1]) + "])")
    lines.append("    return root, [" + ", ".join(f"v{j}" for j in range(width)) + "]")
    return "\n".join(lines) + "\n", ops, len(layers)


def general_leaf_data(width: int, seed: int = 7) -> list[float]:
    """The leaves' values, uniform in [-1, 1]."""
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(width)]


def compile_build(source: str) -> Callable[[Any, list[float]], tuple[Any, list[Any]]]:
    """Compile the generated source once (outside any timing)."""
    ns: dict[str, Any] = {}
    exec(compile(source, "<general_graph>", "exec"), ns)
    return ns["build"]


# ---------------------------------------------------------------- (c) memory, (d) scaling
def constant_chain(Value: Any, steps: int) -> Any:  # noqa: N803 - an engine's class, passed in
    """x <- x * 0.5 + 0.25, `steps` times: 2 operations per step, each with a Python constant."""
    x = Value(1.0)
    for _ in range(steps):
        x = x * 0.5 + 0.25
    return x


def param_chain(Value: Any, steps: int) -> tuple[Any, list[Any]]:  # noqa: N803
    """x <- relu(x * a + b) with leaves a, b shared by every step: 3 operations per step."""
    a, b, x = Value(0.5), Value(0.25), Value(1.0)
    for _ in range(steps):
        x = (x * a + b).relu()
    return x, [a, b]
