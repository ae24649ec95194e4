"""One engine in its own process, driven by run.py one request at a time.

Usage: ``python worker.py ENGINE [ENGINE_PATH]`` with ENGINE one of ours, micrograd, torch,
floor.  ENGINE_PATH (the directory holding that engine's ``micrograd`` package) goes first
on sys.path, and the worker checks the package really came from there, so our micrograd
and micrograd 0.1.0 never share a process.  Requests and replies are JSON lines on
stdin / stdout; anything else the engine prints goes to stderr.  Every timing is
`time.perf_counter` inside this process; the cyclic GC stays on, as users run it, and the
time it takes is measured with `gc.callbacks`.
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import os
import platform
import pstats
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import workloads

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_RECURSION_LIMIT = sys.getrecursionlimit()  # before main() raises it for micrograd


class GCTimer:
    """Seconds spent in the cyclic garbage collector, via gc.callbacks."""

    def __init__(self) -> None:
        self.total = 0.0
        self.collections = 0
        self._t0 = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._t0
            self.collections += 1


class Worker:
    """Holds the engine and the state of each workload between requests."""

    def __init__(self, engine: str, path: str | None) -> None:
        self.engine = engine
        self.gc_timer = GCTimer()
        self.ns: dict[str, Any] = {}
        self.floor: Any = None
        self.builds: dict[str, Callable[..., Any]] = {}
        self.value: Any = None
        if engine in ("ours", "micrograd"):
            assert path is not None
            sys.path.insert(0, path)
            import micrograd
            import micrograd.engine

            where = os.path.dirname(os.path.abspath(micrograd.__file__))
            if os.path.dirname(where) != os.path.abspath(path):
                raise SystemExit(f"worker {engine}: imported micrograd from {where}, not from {path}")
            self.value = micrograd.engine.Value
            self.version = getattr(micrograd, "__version__", "0.1.0" if engine == "micrograd" else "?")
            self.location = where
        elif engine == "torch":
            import torch
            import torch_shim

            self.value = torch_shim.Value
            self.version = torch.__version__
            self.location = os.path.dirname(torch.__file__)
        elif engine == "floor":
            self.version, self.location = "(plain Python)", os.path.join(HERE, "floor.py")
        else:
            raise SystemExit(f"unknown engine {engine!r}")

    # ------------------------------------------------------------ info
    def info(self) -> dict[str, Any]:
        out = {"engine": self.engine, "version": self.version, "location": self.location,
               "python": platform.python_version(), "implementation": platform.python_implementation()}
        if self.engine == "torch":
            import torch

            out["torch_threads"] = torch.get_num_threads()
        return out

    # ------------------------------------------------------------ (a) moons
    def moons_setup(self, points: int, seed: int) -> dict[str, Any]:
        """Build the model from `seed` (fresh) and return its initial parameters."""
        import random

        X, y = workloads.make_moons(points)  # noqa: N806
        if self.engine == "floor":
            import floor

            random.seed(seed)
            self.floor = floor.FloorMLP(2, [16, 16, 1])
            self.ns = {"X": X, "y": y}
            return {"params": self.floor.parameters()}
        self.ns = {"X": X, "y": y, "SEED": seed, "__name__": "moons"}
        exec(compile(workloads.moons_code(self.engine), "<moons_step>", "exec"), self.ns)
        return {"params": [float(p.data) for p in self.ns["model"].parameters()]}

    def _step(self, k: int) -> tuple[float, float]:
        if self.engine == "floor":
            return self.floor.step(self.ns["X"], self.ns["y"], k)
        loss, acc = self.ns["step"](k)
        return float(loss), float(acc)

    def _parameters(self) -> list[float]:
        if self.engine == "floor":
            return self.floor.parameters()
        return [float(p.data) for p in self.ns["model"].parameters()]

    def _set_parameters(self, values: list[float]) -> None:
        if self.engine == "floor":
            self.floor.set_parameters(values)
            return
        for p, v in zip(self.ns["model"].parameters(), values):
            p.data = v if self.engine != "torch" else p.data.new_tensor(v)

    def moons_step(self, k: int, keep: bool = True) -> dict[str, Any]:
        """One timed training step k; returns its time, the loss and the GC time inside it.

        With ``keep=False`` the parameters are put back afterwards (outside the timing), so the
        same step can be timed again: a repetition, for a steadier figure on a busy machine.
        """
        before = None if keep else self._parameters()
        gc0, n0 = self.gc_timer.total, self.gc_timer.collections
        c0 = time.process_time()
        t0 = time.perf_counter()
        loss, acc = self._step(k)
        t = time.perf_counter() - t0
        cpu = time.process_time() - c0
        if before is not None:
            self._set_parameters(before)
        return {"time": t, "cpu": cpu, "loss": loss, "acc": acc, "gc_time": self.gc_timer.total - gc0,
                "gc_collections": self.gc_timer.collections - n0}

    def moons_phases(self, points: int, seed: int, steps: int) -> dict[str, Any]:
        """Median time of each phase of the step: forward (loss()), zero_grad, backward, update, freeing the graph."""
        self.moons_setup(points, seed)
        if self.engine == "floor":
            return {}
        ns = self.ns
        model, loss = ns["model"], ns["loss"]
        phases: dict[str, list[float]] = {k: [] for k in ("forward", "zero_grad", "backward", "update", "free")}
        for k in range(steps + 1):
            t0 = time.perf_counter()
            total_loss, acc = loss()
            t1 = time.perf_counter()
            model.zero_grad()
            t2 = time.perf_counter()
            total_loss.backward()
            t3 = time.perf_counter()
            learning_rate = 1.0 - 0.9 * k / 100
            for p in model.parameters():
                p.data -= learning_rate * p.grad
            t4 = time.perf_counter()
            del total_loss, acc
            t5 = time.perf_counter()
            if k:  # step 0 is the warm-up
                for name, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                    phases[name].append(dt)
        return {name: statistics.median(v) for name, v in phases.items()}

    def moons_profile(self, points: int, seed: int, steps: int, top: int) -> dict[str, Any]:
        """cProfile of `steps` training steps (after one warm-up): the top functions by own time."""
        self.moons_setup(points, seed)
        self._step(0)
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for k in range(1, steps + 1):
            self._step(k)
        prof.disable()
        wall = time.perf_counter() - t0
        stats = pstats.Stats(prof, stream=io.StringIO())
        raw = stats.stats  # type: ignore[attr-defined]
        total = sum(v[2] for v in raw.values())
        rows = []
        for (filename, line, func), (_cc, nc, tt, ct, _callers) in raw.items():
            short = os.path.basename(filename) if filename != "~" else ""
            rows.append({"function": f"{short}:{line}({func})" if short else func, "ncalls": nc,
                         "tottime": tt, "cumtime": ct})
        rows.sort(key=lambda r: -r["tottime"])
        return {"total": total, "wall": wall, "steps": steps, "top": rows[:top],
                "by_cumtime": sorted(rows, key=lambda r: -r["cumtime"])[:top]}

    # ------------------------------------------------------------ (b) general graphs
    def graph_setup(self, key: str, target_ops: int, width: int) -> dict[str, Any]:
        """Generate and compile the graph's source once, outside the timing."""
        source, ops, depth = workloads.general_graph_source(target_ops, width)
        self.builds[key] = workloads.compile_build(source)
        return {"ops": ops, "depth": depth}

    def graph_run(self, key: str, width: int) -> dict[str, Any]:
        """Forward (build) + backward + drop; returns times and a few numbers to compare engines by."""
        build, Value = self.builds[key], self.value  # noqa: N806
        data = workloads.general_leaf_data(width)
        gc0 = self.gc_timer.total
        c0 = time.process_time()
        t0 = time.perf_counter()
        root, leaves = build(Value, data)
        t1 = time.perf_counter()
        root.backward()
        t2 = time.perf_counter()
        root_value = float(root.data)
        grads = [float(v.grad) for v in leaves[:8]]
        del root, leaves
        t3 = time.perf_counter()
        cpu = time.process_time() - c0
        return {"forward": t1 - t0, "backward": t2 - t1, "free": t3 - t2, "total": t3 - t0, "cpu": cpu,
                "gc_time": self.gc_timer.total - gc0, "root": root_value, "grads": grads}

    # ------------------------------------------------------------ (c) memory
    def memory(self, steps: int) -> dict[str, Any]:
        """tracemalloc: the bytes a constant chain's graph keeps alive, per operation.

        Only the build is traced: tracemalloc walks the whole Python stack on every
        allocation, which makes micrograd's recursive backward quadratic under it.
        """
        if self.engine == "torch":
            return {"error": "tracemalloc cannot see PyTorch's C++ allocations"}
        Value = self.value  # noqa: N806
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        root = workloads.constant_chain(Value, steps)
        graph = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        root.backward()  # a graph that was built is a graph that gets used
        del root
        ops = 2 * steps
        return {"ops": ops, "graph_bytes": graph, "per_node": graph / ops}

    # ------------------------------------------------------------ (d) chain scaling
    def chain_run(self, steps: int, gc_off: bool = False) -> dict[str, Any]:
        """Forward + backward + drop of a param chain of 3 * steps operations.

        ``gc_off=True`` is a diagnostic: the cyclic GC is disabled for the run (and re-enabled
        after), to show how much of the growth with size is the collector's."""
        Value = self.value  # noqa: N806
        gc0 = self.gc_timer.total
        was_enabled = gc.isenabled()
        if gc_off:
            gc.disable()
        try:
            c0 = time.process_time()
            t0 = time.perf_counter()
            root, (a, b) = workloads.param_chain(Value, steps)
            t1 = time.perf_counter()
            root.backward()
            t2 = time.perf_counter()
            grads = [float(a.grad), float(b.grad)]
            del root, a, b
            t3 = time.perf_counter()
            cpu = time.process_time() - c0
        except (RecursionError, MemoryError) as e:
            return {"error": f"{type(e).__name__}: {e}"}
        finally:
            if was_enabled:
                gc.enable()
        return {"forward": t1 - t0, "backward": t2 - t1, "free": t3 - t2, "total": t3 - t0, "cpu": cpu,
                "gc_time": self.gc_timer.total - gc0, "grads": grads}

    def default_limit_probe(self, sizes: list[int]) -> dict[str, Any]:
        """The longest chain (in operations) whose backward works under Python's default recursion limit."""
        saved = sys.getrecursionlimit()
        sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
        ok = 0
        try:
            for nodes in sizes:
                try:
                    root, _ = workloads.param_chain(self.value, nodes // 3)
                    root.backward()
                    del root
                except RecursionError:
                    return {"limit": DEFAULT_RECURSION_LIMIT, "works_up_to": ok, "fails_at": 3 * (nodes // 3)}
                ok = 3 * (nodes // 3)
        finally:
            sys.setrecursionlimit(saved)
        return {"limit": DEFAULT_RECURSION_LIMIT, "works_up_to": ok, "fails_at": None}


def serve(worker_factory: Callable[[], Worker], out: io.TextIOBase) -> None:
    """Answer requests until 'exit' or end of input."""
    try:
        worker = worker_factory()
    except BaseException as e:  # report the failure to the parent instead of dying silently
        out.write(json.dumps({"error": f"{type(e).__name__}: {e}"}) + "\n")
        out.flush()
        return
    out.write(json.dumps({"ready": True, **worker.info()}) + "\n")
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req.pop("cmd")
        if cmd == "exit":
            break
        try:
            reply = getattr(worker, cmd)(**req)
        except Exception as e:  # noqa: BLE001 - any failure is a result to report, not a crash
            reply = {"error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def main() -> None:
    engine = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else None
    out = sys.stdout
    sys.stdout = sys.stderr  # the protocol owns stdout; stray prints go to stderr
    if engine == "micrograd":
        # micrograd 0.1.0's build_topo recurses once per node on the longest path: give it room.
        sys.setrecursionlimit(10_000_000)
    # Every engine runs in a thread with a large stack, so deep graphs meet the same conditions.
    threading.stack_size(1 << 30)
    t = threading.Thread(target=serve, args=(lambda: Worker(engine, path), out))
    t.start()
    t.join()


if __name__ == "__main__":
    main()
