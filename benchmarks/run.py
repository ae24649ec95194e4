"""The speed suite: our engine against micrograd 0.1.0, PyTorch and hand-written Python, side by side.

    python benchmarks/run.py [--quick] [--only a,b,c,d] [--out benchmarks/RESULTS.md]

(a) micrograd's moons demo step, the same code text on every engine; (b) general unfused
graphs of mixed ops with fan-out, ~3k and ~60k operations; (c) bytes per node of a constant
chain; (d) a chain from 10^4 to 10^6 operations.  Each engine lives in its own worker process
(worker.py) and the runs are interleaved round-robin, so all engines see the same machine
load; every figure is a median over repetitions after a warm-up.  micrograd 0.1.0 is
installed from PyPI at benchmark time into a cache directory outside the repository (never
into it) and only ever imported by its own worker.

The run prints a table of ratios, writes RESULTS.md (numbers, machine, profile of our engine)
and exits non-zero only if a correctness check fails (initial weights or losses differ).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORKER = HERE / "worker.py"
MICROGRAD_PIN = "micrograd==0.1.0"
LOSS_TOLERANCE = 1e-9

LABELS = {"ours": "ours", "micrograd": "micrograd 0.1.0", "torch": "PyTorch 0-dim", "floor": "hand-written"}


def log(msg: str) -> None:
    """Progress goes to stderr, so stdout is only the table."""
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- sizes
@dataclass(frozen=True)
class Sizes:
    """How much work each workload does; --quick shrinks everything for CI."""

    moons_points: int
    moons_steps: int  # step 0 is the warm-up; the rest are timed and loss-checked
    moons_reps: int  # extra timings of each step for the fast engines (ours, the floor), taken in pairs
    phase_steps: int  # for our engine; the slow comparators get a fifth of them
    profile_steps: int
    graphs: tuple[tuple[str, int, int], ...]  # (label, target operations, width)
    graph_reps: tuple[int, ...]
    memory_steps: int
    chain_nodes: tuple[int, ...]
    chain_reps: tuple[int, ...]
    probe_nodes: tuple[int, ...]  # chain lengths tried under the default recursion limit


FULL = Sizes(moons_points=100, moons_steps=10, moons_reps=10, phase_steps=10, profile_steps=5,
             graphs=(("~3k", 3_000, 32), ("~60k", 60_000, 128)), graph_reps=(9, 5),
             memory_steps=50_000, chain_nodes=(10_000, 100_000, 1_000_000), chain_reps=(7, 3, 2),
             probe_nodes=(300, 1_000, 3_000, 10_000, 100_000))
QUICK = Sizes(moons_points=20, moons_steps=3, moons_reps=1, phase_steps=1, profile_steps=1,
              graphs=(("~300", 300, 8), ("~1.5k", 1_500, 16)), graph_reps=(2, 2),
              memory_steps=1_000, chain_nodes=(1_000, 10_000), chain_reps=(2, 1), probe_nodes=(300, 1_000, 3_000))


# ---------------------------------------------------------------- workers
class EngineError(RuntimeError):
    """A worker reported a failure for one request."""


class Engine:
    """A worker process for one engine, spoken to with JSON lines."""

    def __init__(self, name: str, path: Path | None) -> None:
        self.name, self.label, self.path = name, LABELS[name], path
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
        cmd = [sys.executable, str(WORKER), name] + ([str(path)] if path else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                     cwd=tempfile.gettempdir())
        self.info = self._read()
        if "error" in self.info:
            raise EngineError(f"{self.label}: {self.info['error']}")

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise EngineError(f"{self.label}: worker exited (code {self.proc.wait()})")
        return json.loads(line)

    def call(self, cmd: str, **kwargs: Any) -> dict[str, Any]:
        """One request; raises EngineError if the worker reports one."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **kwargs}) + "\n")
        self.proc.stdin.flush()
        reply = self._read()
        if "error" in reply:
            raise EngineError(f"{self.label}: {cmd}: {reply['error']}")
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"cmd": "exit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def rotated(items: Sequence[Engine], r: int) -> list[Engine]:
    """Round r starts with a different engine, so no engine always runs right after another."""
    r %= len(items)
    return list(items[r:]) + list(items[:r])


# ---------------------------------------------------------------- micrograd 0.1.0
def _valid_micrograd(path: Path) -> bool:
    """True if `path` holds karpathy's micrograd 0.1.0 (not ours, which shares the name)."""
    engine = path / "micrograd" / "engine.py"
    if not engine.is_file():
        return False
    text = engine.read_text(encoding="utf-8", errors="replace")
    return "_backward" in text and "class Value" in text and "Primitive" not in text


def obtain_micrograd(explicit: str | None, fetch: bool) -> tuple[Path | None, str]:
    """micrograd 0.1.0 on a path of its own: --micrograd-path, else the cache, else pip install --target."""
    if explicit:
        p = Path(explicit).resolve()
        return (p, f"given by --micrograd-path {p}") if _valid_micrograd(p) else (
            None, f"--micrograd-path {p} does not hold micrograd 0.1.0")
    cache_root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "micrograd-bench"
    target = cache_root / "micrograd-0.1.0"
    if _valid_micrograd(target):
        return target, f"cached at {target} (installed from PyPI by an earlier run)"
    if not fetch:
        return None, "not cached and --no-fetch given"
    log(f"installing {MICROGRAD_PIN} from PyPI into {target} (outside the repository) ...")
    cache_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="mg010-", dir=cache_root))
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check",
           "--no-compile", "--timeout", "20", "--retries", "1", "--target", str(tmp), MICROGRAD_PIN]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        shutil.rmtree(tmp, ignore_errors=True)
        return None, "pip install timed out"
    if proc.returncode != 0 or not _valid_micrograd(tmp):
        shutil.rmtree(tmp, ignore_errors=True)
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"pip install {MICROGRAD_PIN} failed: {tail}"
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target, f"installed from PyPI into {target}"


# ---------------------------------------------------------------- machine
def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": nproc, "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "implementation": platform.python_implementation(), "platform": platform.platform(),
            "loadavg_start": _loadavg()}


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def git_state() -> str:
    """Which version of our engine was measured: the commit, and whether micrograd/ had local changes."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "micrograd"],
                               capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.TimeoutExpired):
        return "git state unknown"
    changed = sorted(line[3:] for line in dirty if line.strip())
    if not head:
        return "git state unknown"
    return f"commit {head}" + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


# ---------------------------------------------------------------- (a) moons
def run_moons(engines: list[Engine], sz: Sizes, ref: str) -> dict[str, Any]:
    """Interleaved training steps on every engine from the same seed; times, losses, and the checks."""
    seed = 1337
    params = {e.name: e.call("moons_setup", points=sz.moons_points, seed=seed)["params"] for e in engines}
    ref_params = params[ref]
    params_equal = {name: p == ref_params for name, p in params.items()}
    steps: dict[str, list[dict[str, Any]]] = {e.name: [] for e in engines}
    # The fast engines (ours and the floor) take each step several more times, alternating with each other
    # (parameters restored after each repetition), so their ratio compares timings taken side by side.
    fast = [e for e in engines if e.name in ("ours", "floor")]
    for k in range(sz.moons_steps):
        reps: dict[str, list[dict[str, Any]]] = {e.name: [] for e in engines}
        for r in range(sz.moons_reps):
            for e in rotated(fast, r):
                reps[e.name].append(e.call("moons_step", k=k, keep=False))
        for e in rotated(engines, k):
            res = e.call("moons_step", k=k)
            reps[e.name].append(res)
            res["step_time"] = statistics.median(x["time"] for x in reps[e.name])
            res["step_cpu"] = statistics.median(x["cpu"] for x in reps[e.name])
            res["timings"] = len(reps[e.name])
            steps[e.name].append(res)
            log(f"[a] moons step {k + 1}/{sz.moons_steps} {e.label:16s} {res['step_time'] * 1e3:9.1f} ms "
                f"(median of {res['timings']})  loss {res['loss']!r}")
    out: dict[str, Any] = {"points": sz.moons_points, "steps": sz.moons_steps, "reps": sz.moons_reps,
                           "n_params": len(ref_params), "params_equal": params_equal, "engines": {}}
    for name, rs in steps.items():
        timed = rs[1:] if len(rs) > 1 else rs
        t = [r["step_time"] for r in timed]
        out["engines"][name] = {
            "ms": statistics.median(t) * 1e3, "min_ms": min(t) * 1e3, "max_ms": max(t) * 1e3, "n": len(t),
            "step_ms": [x * 1e3 for x in t],
            "timings_per_step": timed[0]["timings"],
            "cpu_ms": statistics.median(r["step_cpu"] for r in timed) * 1e3,
            "gc_share": sum(r["gc_time"] for r in timed) / sum(r["time"] for r in timed),
            "losses": [r["loss"] for r in rs], "accs": [r["acc"] for r in rs]}
    if "ours" in steps and "floor" in steps:  # step by step, timings taken side by side
        pairs = list(zip(steps["ours"], steps["floor"]))[1:] or list(zip(steps["ours"], steps["floor"]))
        out["floor_ratio"] = statistics.median(o["step_time"] / f["step_time"] for o, f in pairs)
        out["floor_ratio_cpu"] = statistics.median(o["step_cpu"] / f["step_cpu"] for o, f in pairs)
    # the loss check: every engine against the reference, step by step
    ref_losses = out["engines"][ref]["losses"]
    deltas = {name: max(abs(a - b) for a, b in zip(v["losses"], ref_losses))
              for name, v in out["engines"].items() if name != ref}
    gated = [n for n in ("ours", "floor") if n in deltas]
    out["loss_check"] = {"reference": ref, "deltas": deltas, "gated": gated, "tolerance": LOSS_TOLERANCE,
                         "passed": all(deltas[n] < LOSS_TOLERANCE for n in gated) and all(params_equal.values())}
    for e in engines:
        if e.name == "floor":
            continue
        log(f"[a] phases: {e.label}")
        n = sz.phase_steps if e.name == "ours" else max(1, sz.phase_steps // 5)
        out["engines"][e.name]["phases"] = e.call("moons_phases", points=sz.moons_points, seed=seed, steps=n)
        out["engines"][e.name]["phase_steps"] = n
    return out


def profile_ours(engines: list[Engine], sz: Sizes) -> dict[str, Any] | None:
    ours = next((e for e in engines if e.name == "ours"), None)
    if ours is None:
        return None
    log("[a] profiling our engine on the moons step (cProfile) ...")
    return ours.call("moons_profile", points=sz.moons_points, seed=1337, steps=sz.profile_steps, top=15)


# ---------------------------------------------------------------- (b) general graphs
def run_graphs(engines: list[Engine], sz: Sizes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (label, target, width), reps in zip(sz.graphs, sz.graph_reps):
        setups = {e.name: e.call("graph_setup", key=label, target_ops=target, width=width) for e in engines}
        ops, depth = setups[engines[0].name]["ops"], setups[engines[0].name]["depth"]
        runs: dict[str, list[dict[str, Any]]] = {e.name: [] for e in engines}
        for r in range(reps + 1):  # round 0 is the warm-up
            for e in rotated(engines, r):
                res = e.call("graph_run", key=label, width=width)
                if r:
                    runs[e.name].append(res)
                log(f"[b] graph {label} round {r}/{reps} {e.label:16s} {res['total'] / ops * 1e6:8.2f} us/node")
        res_by: dict[str, Any] = {}
        base = runs[engines[0].name][0]
        for name, rs in runs.items():
            med = {k: statistics.median(x[k] for x in rs) / ops * 1e6 for k in ("forward", "backward", "free", "total")}
            agree = (abs(rs[0]["root"] - base["root"]) <= 1e-9 * max(1.0, abs(base["root"])) and all(
                abs(a - b) <= 1e-9 * max(1e-12, abs(b)) for a, b in zip(rs[0]["grads"], base["grads"])))
            res_by[name] = {"us_per_node": med["total"], "parts": med, "n": len(rs), "agrees": agree,
                            "cpu_us_per_node": statistics.median(x["cpu"] for x in rs) / ops * 1e6,
                            "gc_share": sum(x["gc_time"] for x in rs) / sum(x["total"] for x in rs)}
        out[label] = {"ops": ops, "depth": depth, "width": width, "engines": res_by}
    return out


# ---------------------------------------------------------------- (c) memory
def run_memory(engines: list[Engine], sz: Sizes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in engines:
        log(f"[c] memory {e.label}")
        try:
            out[e.name] = e.call("memory", steps=sz.memory_steps)
        except EngineError as err:
            out[e.name] = {"error": str(err).split(": ", 2)[-1]}
    return out


# ---------------------------------------------------------------- (d) chain scaling
def run_chain(engines: list[Engine], sz: Sizes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    no_gc: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for i, (nodes, reps) in enumerate(zip(sz.chain_nodes, sz.chain_reps)):
        steps = nodes // 3
        ops = 3 * steps
        warm = 1 if i == 0 else 0
        # as users run it (the cyclic GC on), then the diagnostic with the GC off
        for results, gc_off, n_reps in ((out, False, reps), (no_gc, True, max(1, reps // 2))):
            runs: dict[str, list[dict[str, Any]]] = {e.name: [] for e in engines}
            for r in range(n_reps + warm):
                for e in rotated(engines, r):
                    if e.name in failed:
                        continue
                    try:
                        res = e.call("chain_run", steps=steps, gc_off=gc_off)
                    except EngineError as err:
                        failed[e.name] = f"failed at {ops:,} nodes: {str(err).split(': ', 2)[-1]}"
                        log(f"[d] {e.label}: {failed[e.name]}")
                        continue
                    if r >= warm:
                        runs[e.name].append(res)
                    log(f"[d] chain {ops:>9,} nodes{' (GC off)' if gc_off else ''} round {r + 1 - warm}/{n_reps} "
                        f"{e.label:16s} {res['total'] / ops * 1e6:8.2f} us/node")
            results[str(ops)] = {
                name: {"us_per_node": statistics.median(x["total"] for x in rs) / ops * 1e6,
                       "cpu_us_per_node": statistics.median(x["cpu"] for x in rs) / ops * 1e6,
                       "parts": {k: statistics.median(x[k] for x in rs) / ops * 1e6
                                 for k in ("forward", "backward", "free")},
                       "gc_share": sum(x["gc_time"] for x in rs) / sum(x["total"] for x in rs), "n": len(rs)}
                for name, rs in runs.items() if rs}
    probe = {}
    for e in engines:
        log(f"[d] default recursion limit probe: {e.label}")
        probe[e.name] = e.call("default_limit_probe", sizes=list(sz.probe_nodes))
    return {"sizes": out, "sizes_gc_off": no_gc, "failed": failed, "probe": probe}


# ---------------------------------------------------------------- the report
def fmt(x: float | None, unit: str = "") -> str:
    """A number with sensible precision, or a dash."""
    if x is None:
        return "—"
    if x >= 100:
        s = f"{x:,.0f}"
    elif x >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


def ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.1f}×"


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, padded so it also reads well in a terminal."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def _getter(table: dict[str, Any], key: str) -> Callable[[str], float | None]:
    """engine name -> table[engine][key], or None for an engine that was not measured."""
    return lambda n: table[n][key] if n in table else None


@dataclass
class Report:
    """Everything measured, and the rendering of it."""

    args: argparse.Namespace
    sizes: Sizes
    machine: dict[str, Any]
    engines: dict[str, dict[str, Any]]
    missing: dict[str, str]
    results: dict[str, Any] = field(default_factory=dict)
    targets: list[tuple[str, str, bool | None]] = field(default_factory=list)

    def val(self, *path: str) -> Any:
        d: Any = self.results
        for p in path:
            if not isinstance(d, dict) or p not in d:
                return None
            d = d[p]
        return d

    def summary_rows(self) -> list[list[str]]:
        """One row per measurement: each engine's figure, then the ratios the issue asks about."""
        rows: list[list[str]] = []

        def row(workload: str, metric: str, get: Callable[[str], float | None], target: str = "",
                met: bool | None = None, floor_x: float | None = None) -> None:
            v = {n: get(n) for n in LABELS}
            vs_floor = ratio(v["ours"], v["floor"]) if floor_x is None else f"{floor_x:.1f}×"
            rows.append([workload, metric, *(fmt(v[n]) if n not in self.missing else "missing" for n in LABELS),
                         ratio(v["micrograd"], v["ours"]), ratio(v["torch"], v["ours"]), vs_floor,
                         target, {True: "yes", False: "NO", None: "—"}[met]])

        a = self.val("a", "engines")
        if a:
            ms = {n: a[n]["ms"] for n in a}
            mg_x = ms["micrograd"] / ms["ours"] if "micrograd" in ms and "ours" in ms else None
            fl_x = self.val("a", "floor_ratio")  # step by step, side by side (see the notes)
            row("(a) moons step", "ms / step", lambda n: ms.get(n), "≥150× mg, ≤3× floor",
                None if mg_x is None or fl_x is None else mg_x >= 150 and fl_x <= 3, fl_x)
        for label, g in (self.val("b") or {}).items():
            e = g["engines"]
            big = label == self.sizes.graphs[-1][0]
            met = None
            if big and "micrograd" in e and "ours" in e:
                met = e["micrograd"]["us_per_node"] / e["ours"]["us_per_node"] >= 6
            row(f"(b) graph {label} ({g['ops']:,} ops)", "µs / node", _getter(e, "us_per_node"),
                "≥6× mg" if big else "", met)
        c = self.val("c")
        if c:
            per = {n: c[n].get("per_node") for n in c}
            met = None if per.get("micrograd") is None or per.get("ours") is None else (
                per["ours"] <= min(200, per["micrograd"] / 5))
            row(f"(c) constant chain ({self.sizes.memory_steps * 2:,} ops)", "bytes / node", lambda n: per.get(n),
                "≤200 B, ≤1/5 of mg", met)
        d = self.val("d", "sizes")
        if d:
            for ops, per in d.items():
                row(f"(d) chain {int(ops):,} ops", "µs / node", _getter(per, "us_per_node"))
            lin = self.linearity()
            if "ours" in lin:
                rows.append(["(d) chain, largest ÷ smallest", "µs/node ratio",
                             *(f"{lin[n]:.2f}" if n in lin else ("failed" if n in self.val("d", "failed") else "—")
                               for n in LABELS), "", "", "", "≤1.5 (linear)", "yes" if lin["ours"] <= 1.5 else "NO"])
            lin_off = self.linearity("sizes_gc_off")
            if "ours" in lin_off:
                rows.append(["(d) same, cyclic GC off (diagnostic)", "µs/node ratio",
                             *(f"{lin_off[n]:.2f}" if n in lin_off else "—" for n in LABELS), "", "", "", "", "—"])
            probe = self.val("d", "probe") or {}
            if probe:
                def deepest(n: str) -> str:
                    if n not in probe:
                        return "missing" if n in self.missing else "—"
                    pr = probe[n]
                    return f"fails at {pr['fails_at']:,}" if pr["fails_at"] else f"≥{pr['works_up_to']:,}"
                limit = next(iter(probe.values()))["limit"]
                rows.append([f"(d) backward, default recursion limit ({limit})", "longest chain",
                             *(deepest(n) for n in LABELS), "", "", "", "", "—"])
        return rows

    def linearity(self, key: str = "sizes") -> dict[str, float]:
        """µs/node at the largest size over µs/node at the smallest, per engine that ran both."""
        d = self.val("d", key) or {}
        sizes = list(d)
        if len(sizes) < 2:
            return {}
        lo, hi = d[sizes[0]], d[sizes[-1]]
        return {n: hi[n]["us_per_node"] / lo[n]["us_per_node"] for n in lo if n in hi}

    def headline(self) -> str | None:
        """The one line for the README."""
        a = self.val("a", "engines")
        if not a or "ours" not in a:
            return None
        ours = a["ours"]["ms"]
        text = (f"**Speed:** one training step of micrograd's moons demo (MLP 2-16-16-1, {self.val('a', 'points')} "
                f"points, same code) takes {fmt(ours)} ms")
        if "micrograd" in a:
            text += f" vs {fmt(a['micrograd']['ms'])} ms in micrograd 0.1.0 ({a['micrograd']['ms'] / ours:.0f}× faster)"
        if "torch" in a:
            text += f" and {fmt(a['torch']['ms'])} ms with PyTorch 0-dim tensors"
        if "floor" in a:
            text += f"; {self.val('a', 'floor_ratio'):.1f}× the time of the same step hand-written in plain Python"
        text += ", with the same loss"
        b = self.val("b")
        big = b[self.sizes.graphs[-1][0]]["engines"] if b and self.sizes.graphs[-1][0] in b else {}
        c = self.val("c") or {}
        extra = []
        if "micrograd" in big and "ours" in big:
            extra.append(f"{big['micrograd']['us_per_node'] / big['ours']['us_per_node']:.1f}× faster per node on a "
                         f"general {self.sizes.graphs[-1][0]}-node graph")
        if c.get("micrograd", {}).get("per_node") and c.get("ours", {}).get("per_node"):
            extra.append(f"{c['micrograd']['per_node'] / c['ours']['per_node']:.1f}× less memory per node")
        if extra:
            text += "; " + " and ".join(extra) + " than micrograd"
        m = self.machine
        return text + (f" ({m['nproc']}-core {m['cpu']}, Python {m['python']}; "
                       "[benchmarks/RESULTS.md](benchmarks/RESULTS.md)).")

    # -- text ------------------------------------------------------------------------------
    def table(self) -> str:
        header = ["workload", "metric", *LABELS.values(), "mg ÷ ours", "torch ÷ ours", "ours ÷ floor", "target",
                  "met"]
        return md_table(header, self.summary_rows())

    def checks(self) -> list[str]:
        out = []
        lc = self.val("a", "loss_check")
        if lc:
            ok = "PASS" if lc["passed"] else "FAIL"
            peq = self.val("a", "params_equal")
            deltas = ", ".join(f"{LABELS[n]} {d:.1e}" for n, d in lc["deltas"].items())
            out.append(f"loss check: {ok} — max |Δloss| vs {LABELS[lc['reference']]} over "
                       f"{self.val('a', 'steps')} steps: {deltas} (tolerance {lc['tolerance']:g}; gated: "
                       f"{', '.join(LABELS[n] for n in lc['gated'])}); initial parameters identical: "
                       f"{'yes' if all(peq.values()) else 'NO: ' + ', '.join(n for n, v in peq.items() if not v)} "
                       f"({self.val('a', 'n_params')} parameters)")
        a = self.val("a", "engines")
        if a and "ours" in a:
            cpu = {n: v["cpu_ms"] for n, v in a.items()}
            parts = [f"{LABELS[n]} {fmt(cpu[n])} ms" for n in cpu]
            ratios = []
            if "micrograd" in cpu:
                ratios.append(f"micrograd ÷ ours {cpu['micrograd'] / cpu['ours']:.1f}×")
            if "floor" in cpu:
                ratios.append(f"ours ÷ floor {self.val('a', 'floor_ratio_cpu'):.1f}×")
            out.append("moons step on CPU time (less sensitive to a busy machine): " + ", ".join(parts)
                       + (f" ({', '.join(ratios)})" if ratios else ""))
            floor = a.get("floor")
            if floor and "micrograd" in a:  # how much one run's ratio moves with the machine, step by step
                by_step = sorted(m / o for m, o in zip(a["micrograd"]["step_ms"], a["ours"]["step_ms"]))
                out.append(f"spread over the steps of (a): the hand-written step took {fmt(floor['min_ms'])} to "
                           f"{fmt(floor['max_ms'])} ms ({floor['max_ms'] / floor['min_ms']:.2f}× apart; its work "
                           f"changes little from step to step, only the dead units it skips); micrograd ÷ ours "
                           f"step by step {by_step[0]:.0f}× to {by_step[-1]:.0f}× "
                           f"(median {statistics.median(by_step):.0f}×)")
        for name, why in self.missing.items():
            out.append(f"comparator MISSING: {LABELS[name]} — {why}; its columns and ratios are not measured")
        return out

    def markdown(self) -> str:
        m, s = self.machine, self.sizes
        lines = ["# Benchmark results", "",
                 f"Generated by `python benchmarks/run.py{' --quick' if self.args.quick else ''}"
                 f"{' --only ' + self.args.only if self.args.only else ''}` on "
                 f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} in {self.results.get('elapsed', 0):.0f} s.", "",
                 "## Machine", "",
                 f"- CPU: {m['cpu']} — nproc {m['nproc']}, memory {m['memory']}",
                 f"- Python {m['python']} ({m['implementation']}), {m['platform']}",
                 f"- load average (1, 5, 15 min) at start: {m['loadavg_start']}; at end: {m.get('loadavg_end', 'n/a')} "
                 "(the machine is shared; interleaving gives every engine the same conditions)", "",
                 "## Engines", ""]
        for name, info in self.engines.items():
            extra = f", {info['torch_threads']} threads" if "torch_threads" in info else ""
            if name == "ours":
                extra += f", {git_state()}"
            lines.append(f"- **{LABELS[name]}** {info['version']}{extra} — `{info['location']}`")
        for name, why in self.missing.items():
            lines.append(f"- **{LABELS[name]}**: MISSING — {why}")
        lines += ["", "## Summary", "", self.table(), "", *(f"- {c}" for c in self.checks()), ""]
        hl = self.headline()
        if hl:
            lines += ["Headline for the README:", "", "> " + hl, ""]
        lines += self.details()
        lines += ["## Method", "",
                  "- The targets are the project's (issue 11, the redesign keeping the speed of the engine before "
                  "it): moons step ≥150× micrograd 0.1.0 and ≤3× the hand-written floor, ≥6× micrograd per node "
                  "on the ~60k-node graph, ≤200 bytes per node. Ratios move between runs on a shared machine "
                  "(about ±10%): one run is one sample.",
                  "- Every engine runs in its own worker process (`benchmarks/worker.py`), which puts that engine's "
                  "directory first on `sys.path` and checks the `micrograd` it imported came from there. "
                  "micrograd 0.1.0 is pip-installed from PyPI at benchmark time into a cache directory outside the "
                  "repository. Requests go round-robin, rotating the order each round, so the engines are "
                  "interleaved under the same machine load.",
                  "- Times are `time.perf_counter` inside the worker; figures are medians over the timed repetitions; "
                  "the first step / round is a warm-up and is not counted (the larger chain sizes have none: "
                  "the smallest warmed the worker up). The cyclic GC stays on, as users run it; `GC %` is the share "
                  "of the timed work spent in collections (measured with `gc.callbacks`). `CPU` columns are "
                  "`time.process_time`, less sensitive to other load on a shared machine.",
                  "- (a) is the code of micrograd's `demo.ipynb` (model, `loss()`, the body of the training loop), one "
                  "text for all engines (`benchmarks/workloads.py`, `MOONS_STEP`); only the two import lines differ. "
                  "For PyTorch, `Value` makes a 0-dim float64 leaf tensor and `MLP` has micrograd's structure "
                  "(`benchmarks/torch_shim.py`), so autograd records micrograd's unfused graph; our engine runs its "
                  "own `micrograd.nn.MLP` (one `ReLU(dot)` node per neuron, a layer per `dots()` call). "
                  f"Data: {s.moons_points} two-moons points "
                  "(own RNG); weights: `random.seed(1337)` then the model, checked equal across engines. Each "
                  f"step's loss is compared with the reference engine's; |Δ| < {LOSS_TOLERANCE:g} is required of "
                  "ours and the floor.",
                  "- The floor (`benchmarks/floor.py`) is the same step written by hand on lists of floats: the same "
                  "arithmetic in the same order, explicit loops, no numpy, no graph; like any hand-written backward "
                  "it skips units whose derivative is zero (a dead ReLU, a satisfied hinge).",
                  f"- (b) a random layered DAG (seeded) of {len(s.graphs)} sizes: every node combines its own parent "
                  "with a random earlier one through one of eight expressions (`*`, `+`, `-`, constants, `relu`, "
                  "`**2`, `/`, negation), then builtin `sum()` of the last layer; generated once as straight-line "
                  "source and run identically on each engine. µs/node = (build + backward + dropping the graph) / "
                  "operations in the source. The root and leaf gradients are compared across engines.",
                  "- (c) `x = x * 0.5 + 0.25` repeated: tracemalloc bytes held by the graph after the build, per "
                  "operation (micrograd turns each constant into a node; that counts). Only the build is traced: "
                  "tracemalloc walks the whole stack on each allocation, which makes a recursive backward quadratic.",
                  "- (d) `x = relu(x * a + b)` with shared leaves a, b, for 10^4..10^6 operations; micrograd gets "
                  "`sys.setrecursionlimit(10**7)` and every worker runs in a thread with a 1 GiB stack.", ""]
        return "\n".join(lines)

    def where_time_goes(self, prof: dict[str, Any]) -> list[str]:
        """The profile in a few sentences: phases (no profiler), GC share, and the top functions."""
        ours = (self.val("a", "engines") or {}).get("ours", {})
        lines = ["In short:", ""]
        ph = ours.get("phases")
        if ph:
            tot = sum(ph.values())
            lines.append("- Phases of a step, timed without a profiler: " + ", ".join(
                f"{name} {v / tot * 100:.0f}%" for name, v in sorted(ph.items(), key=lambda kv: -kv[1])) + ".")
        if "gc_share" in ours:
            lines.append(f"- The cyclic GC takes {ours['gc_share'] * 100:.0f}% of the timed steps, although the "
                         "graph has no cycles (Values are GC-tracked objects, so every allocation counts toward "
                         "a collection).")
        ours_files = ("engine.py", "primitives.py", "fused.py", "mlp.py")
        engine_rows = [r for r in prof["top"] if r["function"].startswith(ours_files)][:5]
        if engine_rows:
            lines.append("- Top engine functions by own time under cProfile: " + ", ".join(
                f"`{r['function']}` {r['tottime'] / prof['total'] * 100:.0f}%" for r in engine_rows) + ".")
        return [*lines, ""]

    def details(self) -> list[str]:
        out: list[str] = []
        a = self.val("a")
        if a:
            out += ["## (a) moons step", "",
                    f"{a['points']} points, {a['steps']} steps from the same seed (step 0 warm-up, "
                    f"{a['steps'] - 1} timed). Ours and the hand-written floor time every step "
                    f"{a['reps'] + 1} times, alternating with each other (parameters restored after each extra "
                    "timing), and a step's time is the median of those; the slow comparators time each step once. "
                    "`ours ÷ floor` is the median over the steps of the two engines' ratio at that step, so it "
                    "compares timings taken side by side"
                    + (f": {a['floor_ratio']:.2f}× wall time, {a['floor_ratio_cpu']:.2f}× CPU time."
                       if "floor_ratio" in a else "."), ""]
            rows = []
            for n, v in a["engines"].items():
                rows.append([LABELS[n], fmt(v["ms"]), f"{fmt(v['min_ms'])} – {fmt(v['max_ms'])}", fmt(v["cpu_ms"]),
                             str(v["n"]), str(v["timings_per_step"]), f"{v['gc_share'] * 100:.0f}%"])
            out += [md_table(["engine", "median ms/step", "min – max", "median CPU ms/step", "steps",
                              "timings per step", "GC %"], rows), ""]
            names = list(a["engines"])
            lrows = [[str(k), *(repr(a["engines"][n]["losses"][k]) for n in names)] for k in range(a["steps"])]
            out += ["Loss after each step (before its update, as the demo prints it):", "",
                    md_table(["step", *(LABELS[n] for n in names)], lrows), ""]
            prow = []
            for n, v in a["engines"].items():
                ph = v.get("phases")
                if ph:
                    tot = sum(ph.values())
                    prow.append([LABELS[n], *(f"{ph[k] * 1e3:.1f} ({ph[k] / tot * 100:.0f}%)" for k in ph),
                                 f"{tot * 1e3:.1f}"])
            if prow:
                out += ["Where each engine's step goes (median ms over "
                        + ", ".join(f"{v['phase_steps']} steps of {LABELS[n]}" for n, v in a["engines"].items()
                                    if "phase_steps" in v) + ", in a separate run after the timed one; the "
                        "absolute times move with the machine's load, the shares much less):", "",
                        md_table(["engine", "forward `loss()`", "`zero_grad()`", "`backward()`", "SGD update",
                                  "freeing the graph", "total"], prow), ""]
        prof = self.results.get("profile")
        if prof:
            out += ["## Profile of our engine on the moons step", ""]
            out += self.where_time_goes(prof)
            out += [
                    f"cProfile over {prof['steps']} steps after a warm-up ({prof['wall'] * 1e3 / prof['steps']:.0f} "
                    f"ms/step under the profiler; it inflates per-call costs, so read shares, not absolute times). "
                    "Top functions by own time:", ""]
            rows = [[r["function"], f"{r['ncalls']:,}", f"{r['tottime'] * 1e3 / prof['steps']:.1f}",
                     f"{r['tottime'] / prof['total'] * 100:.1f}%", f"{r['cumtime'] / prof['total'] * 100:.1f}%"]
                    for r in prof["top"]]
            out += [md_table(["function", "calls", "own ms/step", "own %", "cumulative %"], rows), ""]
            rows = [[r["function"], f"{r['cumtime'] / prof['total'] * 100:.1f}%"] for r in prof["by_cumtime"]]
            out += ["By cumulative time:", "", md_table(["function", "cumulative %"], rows), ""]
        b = self.val("b")
        if b:
            out += ["## (b) general graphs", ""]
            rows = []
            for label, g in b.items():
                for n, v in g["engines"].items():
                    p = v["parts"]
                    rows.append([f"{label}: {g['ops']:,} ops, width {g['width']}, {g['depth']} layers", LABELS[n],
                                 fmt(v["us_per_node"]), fmt(p["forward"]), fmt(p["backward"]), fmt(p["free"]),
                                 fmt(v["cpu_us_per_node"]), f"{v['gc_share'] * 100:.0f}%", str(v["n"]),
                                 "yes" if v["agrees"] else "NO"])
            out += ["µs per operation (median); forward is building the graph, free is dropping it.", "",
                    md_table(["graph", "engine", "µs/node", "forward", "backward", "free", "CPU µs/node", "GC %", "n",
                              "same root & grads"], rows), ""]
        c = self.val("c")
        if c:
            out += ["## (c) memory", ""]
            rows = [[LABELS[n], fmt(v.get("per_node")), f"{v['graph_bytes'] / 2**20:.1f} MiB" if "graph_bytes" in v
                     else v.get("error", "")] for n, v in c.items()]
            out += [md_table(["engine", "bytes / node", "graph total"], rows), ""]
        d = self.val("d")
        if d:
            out += ["## (d) chain scaling", ""]
            rows = []
            for ops, per in d["sizes"].items():
                for n, v in per.items():
                    p = v["parts"]
                    rows.append([f"{int(ops):,}", LABELS[n], fmt(v["us_per_node"]), fmt(p["forward"]),
                                 fmt(p["backward"]), fmt(p["free"]), fmt(v["cpu_us_per_node"]),
                                 f"{v['gc_share'] * 100:.0f}%", str(v["n"])])
            out += [md_table(["ops", "engine", "µs/node", "forward", "backward", "free", "CPU µs/node", "GC %", "n"],
                             rows), ""]
            for n, why in d["failed"].items():
                out.append(f"- {LABELS[n]}: {why}")
            if "micrograd" in self.engines and "micrograd" not in d["failed"]:
                out.append("- micrograd 0.1.0 completed every size with `sys.setrecursionlimit(10**7)` in a thread "
                           "with a 1 GiB stack; our engine and PyTorch ran with the default limit.")
            for n, pr in (d.get("probe") or {}).items():
                state = (f"fails from {pr['fails_at']:,} operations (works up to {pr['works_up_to']:,})"
                         if pr["fails_at"] else f"works at every length tried, up to {pr['works_up_to']:,}")
                out.append(f"- {LABELS[n]} under Python's default recursion limit ({pr['limit']}): backward {state}")
            lin = self.linearity()
            if lin:
                out.append("- µs/node at the largest size ÷ at the smallest: "
                           + ", ".join(f"{LABELS[n]} {v:.2f}" for n, v in lin.items()))
            off = d.get("sizes_gc_off") or {}
            lin_off = self.linearity("sizes_gc_off")
            if off:
                sizes = "; ".join(f"{int(ops):,} ops: " + ", ".join(f"{LABELS[n]} {fmt(v['us_per_node'])}"
                                                                  for n, v in per.items()) for ops, per in off.items())
                out.append("- Diagnostic, the same chains with the cyclic GC disabled during the run (µs/node, "
                           f"median): {sizes}. Largest ÷ smallest: "
                           + ", ".join(f"{LABELS[n]} {v:.2f}" for n, v in lin_off.items()) + ".")
                if lin.get("ours", 0) > 1.5 >= lin_off.get("ours", 2):
                    out.append("- So the growth of our per-node time is the collector's: every full collection walks "
                               "all live objects, and a graph of 10⁶ nodes no longer fits in the caches.")
            out.append("")
        return out


# ---------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, for CI smoke tests (seconds)")
    p.add_argument("--only", default="", help="comma-separated subset of a,b,c,d")
    p.add_argument("--out", default=None,
                   help="write the Markdown report here (default: benchmarks/RESULTS.md; none with --quick)")
    p.add_argument("--json", default=None, help="also write every measurement as JSON")
    p.add_argument("--micrograd-path", default=os.environ.get("MICROGRAD_010_PATH"),
                   help="a directory holding micrograd 0.1.0's package (default: cache, else pip install)")
    p.add_argument("--no-fetch", action="store_true", help="never touch the network for micrograd 0.1.0")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile of our engine")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only = {x.strip() for x in args.only.split(",") if x.strip()} or {"a", "b", "c", "d"}
    if only - {"a", "b", "c", "d"}:
        raise SystemExit(f"--only takes a subset of a,b,c,d, not {args.only!r}")
    sz = QUICK if args.quick else FULL
    out_path = args.out if args.out is not None else (None if args.quick else str(HERE / "RESULTS.md"))
    t_start = time.perf_counter()
    mach = machine()

    missing: dict[str, str] = {}
    mg_path, why = obtain_micrograd(args.micrograd_path, fetch=not args.no_fetch)
    log(f"micrograd 0.1.0: {why}")
    if mg_path is None:
        missing["micrograd"] = why
    if args.no_torch:
        missing["torch"] = "left out (--no-torch)"
    else:
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            missing["torch"] = "not installed"

    specs = [("ours", REPO), ("micrograd", mg_path), ("torch", None), ("floor", None)]
    engines: list[Engine] = []
    try:
        for name, path in specs:
            if name in missing:
                continue
            try:
                engines.append(Engine(name, path))
            except EngineError as err:
                missing[name] = f"worker failed to start: {err}"
                log(f"WARNING: {err}")
        if "ours" not in {e.name for e in engines}:
            raise SystemExit("our engine's worker failed to start")
        graph_engines = [e for e in engines if e.name != "floor"]
        rep = Report(args, sz, mach, {e.name: e.info for e in engines}, missing)
        ref = "micrograd" if "micrograd" not in missing else "ours"
        if "a" in only:
            rep.results["a"] = run_moons(engines, sz, ref)
            if not args.no_profile:
                rep.results["profile"] = profile_ours(engines, sz)
        if "b" in only:
            rep.results["b"] = run_graphs(graph_engines, sz)
        if "c" in only:
            rep.results["c"] = run_memory(graph_engines, sz)
        if "d" in only:
            rep.results["d"] = run_chain(graph_engines, sz)
    finally:
        for e in engines:
            e.close()
    rep.results["elapsed"] = time.perf_counter() - t_start
    mach["loadavg_end"] = _loadavg()

    print(rep.table())
    for c in rep.checks():
        print(c)
    hl = rep.headline()
    if hl:
        print("\nREADME headline:\n" + hl)
    if out_path:
        Path(out_path).write_text(rep.markdown(), encoding="utf-8")
        log(f"wrote {out_path}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": mach, "engines": rep.engines, "missing": missing,
                                               "results": rep.results}, indent=1), encoding="utf-8")
    lc = rep.val("a", "loss_check")
    return 1 if lc is not None and not lc["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
