"""Smoke test of the speed suite: `benchmarks/run.py --quick` runs, and its output is well formed.

No timing assertions (CI machines vary).  What must hold everywhere: the table, the loss check
(our engine and the hand-written floor give micrograd's loss), and the report file.

The run gets micrograd 0.1.0 the way a fresh machine does: with an empty cache directory of
its own, `run.py` pip-installs it from PyPI into that cache, so the result never depends on
what an earlier run left behind.  Without network the comparator is missing: the checks
against micrograd then skip, except under CI (CI=1), where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"


def _table(stdout: str) -> list[list[str]]:
    """The rows of the first Markdown table printed, as lists of stripped cells."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines]


def _pip_cache() -> str:
    """pip's own download cache, kept when the benchmarks' cache is emptied (the wheel is not the point)."""
    if os.environ.get("PIP_CACHE_DIR"):
        return os.environ["PIP_CACHE_DIR"]
    return str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if k != "MICROGRAD_010_PATH"}
    env.update(XDG_CACHE_HOME=str(out / "cache"), PIP_CACHE_DIR=_pip_cache())
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--no-profile",
         "--out", str(out / "RESULTS.md"), "--json", str(out / "results.json")],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    return proc, out


def _need_micrograd(out: Path) -> None:
    """Skip (fail under CI) when micrograd 0.1.0 could not be installed: no network here."""
    missing = json.loads((out / "results.json").read_text())["missing"]
    if "micrograd" in missing:
        why = f"micrograd 0.1.0 unavailable: {missing['micrograd']}"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


def test_quick_run_succeeds(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, _ = quick_run
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_table_is_well_formed(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, _ = quick_run
    rows = _table(proc.stdout)
    header, sep, body = rows[0], rows[1], rows[2:]
    assert header[:3] == ["workload", "metric", "ours"]
    assert "hand-written" in header and header[-1] == "met"
    assert all(set(c) <= {"-"} for c in sep)
    assert {len(r) for r in body} == {len(header)}
    workloads = [r[0] for r in body]
    for prefix in ("(a)", "(b)", "(c)", "(d)"):
        assert any(w.startswith(prefix) for w in workloads), prefix
    ours = header.index("ours")
    for r in body:
        if r[1] in ("ms / step", "µs / node", "bytes / node"):
            assert float(r[ours].replace(",", "")) > 0, r
    floor = header.index("hand-written")
    assert float(body[0][floor].replace(",", "")) > 0


def test_loss_check_passes(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """Whatever the reference (micrograd 0.1.0, or ours without it), every engine starts from the same
    weights and ends each step within 1e-9 of its loss."""
    proc, out = quick_run
    assert "loss check: PASS" in proc.stdout
    results = json.loads((out / "results.json").read_text())["results"]
    check = results["a"]["loss_check"]
    assert check["passed"] and "floor" in check["gated"]
    assert all(results["a"]["params_equal"].values())
    engines = results["a"]["engines"]
    assert {"ours", "floor"} <= set(engines)
    reference = engines[check["reference"]]["losses"]
    for name in ("ours", "floor"):
        assert len(engines[name]["losses"]) == len(reference)
        assert max(abs(a - b) for a, b in zip(engines[name]["losses"], reference)) < 1e-9


def test_micrograd_010_installs_into_an_empty_cache(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """A fresh machine: nothing cached, so run.py installs micrograd 0.1.0 from PyPI into the cache, not the repo."""
    proc, out = quick_run
    _need_micrograd(out)
    target = out / "cache" / "micrograd-bench" / "micrograd-0.1.0"
    assert f"micrograd 0.1.0: installed from PyPI into {target}" in proc.stderr
    engine = (target / "micrograd" / "engine.py").read_text()
    assert "class Value" in engine and "Primitive" not in engine  # karpathy's, not ours
    assert not list(ROOT.glob("micrograd-0.1.0*")) and not (ROOT / "benchmarks" / "micrograd").exists()


def test_ours_gives_micrograd_010s_losses(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """With micrograd 0.1.0 present it is the reference, and ours is held to it."""
    proc, out = quick_run
    _need_micrograd(out)
    results = json.loads((out / "results.json").read_text())["results"]
    check = results["a"]["loss_check"]
    assert check["reference"] == "micrograd" and check["gated"] == ["ours", "floor"] and check["passed"]
    assert "micrograd" in results["a"]["engines"] and results["a"]["params_equal"]["ours"]
    assert max(check["deltas"][name] for name in ("ours", "floor")) < 1e-9
    engines = results["a"]["engines"]  # the spread line reads each engine's step times, one per timed step
    assert all(len(engines[n]["step_ms"]) == engines[n]["n"] for n in ("ours", "micrograd", "floor"))
    by_step = [m / o for m, o in zip(engines["micrograd"]["step_ms"], engines["ours"]["step_ms"])]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("spread over the steps of (a)"))
    assert f"micrograd ÷ ours step by step {min(by_step):.0f}× to {max(by_step):.0f}×" in line


def test_missing_comparator_is_reported(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = quick_run
    missing = json.loads((out / "results.json").read_text())["missing"]
    assert proc.stdout.count("comparator MISSING") == len(missing)


def test_without_micrograd_covers_ours_and_the_floor(tmp_path: Path) -> None:
    """No micrograd 0.1.0 (no cache, no network): the run still works and says the comparator is missing."""
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", "a", "--no-fetch", "--no-torch", "--no-profile",
         "--micrograd-path", str(empty), "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "comparator MISSING: micrograd 0.1.0" in proc.stdout
    assert "loss check: PASS" in proc.stdout
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    assert set(results["a"]["engines"]) == {"ours", "floor"}
    assert results["a"]["loss_check"]["reference"] == "ours"
    assert results["a"]["loss_check"]["gated"] == ["floor"]


def test_report_file(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = quick_run
    text = (out / "RESULTS.md").read_text()
    assert "## Machine" in text and "nproc" in text and "Python" in text
    assert "| workload" in text


def test_paired_timings_and_gc_off_diagnostic(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """Ours and the floor time each step more than once (parameters restored, or the loss check above
    would fail), their ratio is taken step by step, and (d) has its GC-off pass."""
    _, out = quick_run
    results = json.loads((out / "results.json").read_text())["results"]
    a = results["a"]
    assert a["engines"]["ours"]["timings_per_step"] == a["engines"]["floor"]["timings_per_step"] == a["reps"] + 1
    assert a["floor_ratio"] > 0 and a["floor_ratio_cpu"] > 0
    assert set(results["d"]["sizes_gc_off"]) == set(results["d"]["sizes"])
    assert all("ours" in per for per in results["d"]["sizes_gc_off"].values())
