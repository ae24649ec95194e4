"""`micrograd graph`: right answers, one-line errors for every bad input, and nothing ever executed."""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import math
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import micrograd
from micrograd import Value, draw_dot, files
from micrograd.cli import commands, main
from micrograd.cli import graph as graph_command
from micrograd.cli.expression import MAX_LENGTH, MAX_NODES, ExpressionError, evaluate, parse
from micrograd.draw import render

# `main` imports these modules (and graphviz) lazily; they are imported above so that the Guard below sees what
# running a command does, not Python setting modules up (dataclasses and namedtuples call exec when defined).
assert commands.run and graph_command.run and render

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
FUNCTIONS = ("abs", "cos", "exp", "leaky_relu", "linear", "log", "relu", "sigmoid", "sin", "softplus", "sqrt", "tanh")


# ---------------------------------------------------------------- helpers
class Guard:
    """Records any attempt to run code: eval, exec, or a compile that is not ast-only."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        real_compile = builtins.compile

        def fake_eval(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(f"eval{args!r}")
            raise AssertionError("eval called")

        def fake_exec(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(f"exec{args!r}")
            raise AssertionError("exec called")

        def checked_compile(source: Any, filename: Any, mode: Any, flags: int = 0, *args: Any, **kwargs: Any) -> Any:
            if not flags & ast.PyCF_ONLY_AST:
                self.calls.append(f"compile({source!r}, mode={mode!r})")
            return real_compile(source, filename, mode, flags, *args, **kwargs)

        saved = builtins.eval, builtins.exec, builtins.compile
        builtins.eval, builtins.exec, builtins.compile = fake_eval, fake_exec, checked_compile
        try:
            yield
        finally:
            builtins.eval, builtins.exec, builtins.compile = saved


def run_cli(argv: list[str]) -> tuple[int, str, str, list[str]]:
    """main(argv) in-process: (status, stdout, stderr, code-execution attempts)."""
    out, err, guard = io.StringIO(), io.StringIO(), Guard()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), guard.active():
        status = main(argv)
    return status, out.getvalue(), err.getvalue(), guard.calls


def assert_well_behaved(status: int, out: str, err: str, calls: list[str]) -> None:
    """Exit 0 with an answer, or exit 2 with exactly one 'micrograd: error:' line; never run code."""
    assert calls == []
    assert "Traceback" not in err and "Traceback" not in out
    assert status in (0, 2), (status, err)
    if status == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and err.endswith("\n"), err
        assert lines[0].startswith("micrograd: error: ")
    else:  # a result that is inf or nan (IEEE 754) is named in one warning line
        assert err == "" or (len(err.splitlines()) == 1 and err.startswith("micrograd: warning: not finite: ")), err


def parse_output(out: str) -> tuple[float, dict[str, float]]:
    value, grads = None, {}
    for line in out.splitlines():
        key, sep, number = line.partition(" = ")
        if key == "value":
            value = float(number)
        elif key.startswith("d/d") and sep:
            grads[key[3:].strip()] = float(number)
    assert value is not None, out
    return value, grads


# ---------------------------------------------------------------- the example from the issue
def test_graph_example_prints_value_gradients_and_writes_svg(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "graph.svg"
    x, w, b = 0.5, -1.2, 0.3
    status = main(["graph", "tanh(x*w + b)", f"x={x}", f"w={w}", f"b={b}", "-o", str(target)])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    value, grads = parse_output(out)
    t = math.tanh(x * w + b)
    dt = 1 - t * t  # tanh' = 1 - tanh^2; chain rule through x*w + b
    assert value == pytest.approx(t, rel=1e-14)
    assert list(grads) == ["x", "w", "b"]
    assert grads["x"] == pytest.approx(dt * w, rel=1e-12)
    assert grads["w"] == pytest.approx(dt * x, rel=1e-12)
    assert grads["b"] == pytest.approx(dt, rel=1e-12)
    assert out.splitlines()[-1] == f"graph written to {target}"

    texts = [t.text or "" for t in ET.parse(target).getroot().iter(f"{SVG}text")]
    for name, data in [("x", x), ("w", w), ("b", b)]:
        i = texts.index(name)  # a labelled leaf: label, data, grad in one node
        assert texts[i + 1] == f"data {data:.4f}"
        assert texts[i + 2] == f"grad {grads[name]:.4f}"
    assert "tanh" in texts and f"data {t:.4f}" in texts


def test_cli_builds_the_same_graph_as_python() -> None:
    built = parse("tanh(x*w + b) / 2 - x**2").build({"x": 0.5, "w": -1.2, "b": 0.3})
    built.backward()
    x, w, b = Value(0.5, label="x"), Value(-1.2, label="w"), Value(0.3, label="b")
    by_hand = (x * w + b).tanh() / 2 - x ** 2
    by_hand.backward()
    assert draw_dot(built.value).source == draw_dot(by_hand).source


def test_entry_point_runs_as_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "micrograd", "graph", "(apple*apple_num + orange*orange_num) * tax",
         "apple=100", "apple_num=2", "orange=150", "orange_num=3", "tax=1.1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    value, grads = parse_output(done.stdout)
    apple, apple_num, orange, orange_num, tax = 100, 2, 150, 3, 1.1
    assert value == pytest.approx((apple * apple_num + orange * orange_num) * tax, rel=1e-14)  # 715
    assert grads == pytest.approx({"apple": apple_num * tax, "apple_num": apple * tax, "orange": orange_num * tax,
                                   "orange_num": orange * tax, "tax": apple * apple_num + orange * orange_num},
                                  rel=1e-14)
    assert done.stdout.splitlines()[-1] == "graph written to graph.svg"  # the default name, in the cwd
    assert ET.parse(tmp_path / "graph.svg").getroot().tag == f"{SVG}svg"


@pytest.mark.parametrize("text, x, value, grad", [
    ("-x**2", 3.0, -9.0, -6.0),           # ** binds tighter than unary minus
    ("2**3**2 + x", 1.0, 513.0, 1.0),     # ** is right-associative
    ("x - -x + +x", 2.0, 6.0, 3.0),
    ("2**-1*x", 4.0, 2.0, 0.5),
    ("(x + 1) / (x - 1)", 3.0, 2.0, -0.5),  # d/dx = -2/(x-1)^2
    ("1 / x", 4.0, 0.25, -1 / 16),
    ("sqrt(abs(x)) * relu(x) + softplus(0) * sigmoid(0)", 4.0, 8 + math.log(2) / 2, 3.0),  # 1.5*sqrt(x)
    ("exp(log(x)) + sin(x)**2 + cos(x)**2", 0.7, 1.7, 1.0),
])
def test_grammar_examples(text: str, x: float, value: float, grad: float) -> None:
    start = time.perf_counter()
    status, out, err, calls = run_cli(["graph", "--no-graph", "--", text, f"x={x}"])
    assert time.perf_counter() - start < 5
    assert_well_behaved(status, out, err, calls)
    assert status == 0, err
    got_value, grads = parse_output(out)
    assert got_value == pytest.approx(value, rel=1e-12)
    assert grads["x"] == pytest.approx(grad, rel=1e-12)


# ---------------------------------------------------------------- bad input: one line, exit 2
BAD = [
    (["graph", "x +", "x=1"], "syntax error"),
    (["graph", "", ], "empty"),
    (["graph", "open('f')"], "unknown function 'open'"),
    (["graph", "x.real", "x=1"], "attribute access"),
    (["graph", "x[0]", "x=1"], "subscripts"),
    (["graph", "(lambda: 1)()"], "only the named functions"),
    (["graph", "lambda: 1"], "lambda"),
    (["graph", "exp(x, x)", "x=1"], "exactly one argument"),
    (["graph", "exp()"], "exactly one argument"),
    (["graph", "exp(x=1)"], "keyword"),
    (["graph", "exp(*x)", "x=1"], "starred"),
    (["graph", "exp(**x)", "x=1"], "keyword"),
    (["graph", "x // 2", "x=1"], "'//'"),
    (["graph", "not x", "x=1"], "'not'"),
    (["graph", "x < 1", "x=1"], "comparisons"),
    (["graph", "'a' * 2"], "strings"),
    (["graph", "True + 1"], "not a real number"),
    (["graph", "1j * x", "x=1"], "not a real number"),
    (["graph", "x * y", "x=1"], "'y' has no value"),
    (["graph", "x", "x=1", "y=2"], "'y' is given a value but is not in the expression"),
    (["graph", "x", "x=1", "x=2"], "twice"),
    (["graph", "x", "x"], "NAME=NUMBER"),
    (["graph", "x", "x=abc"], "not a number"),
    (["graph", "x", "x=1e400"], "finite"),
    (["graph", "x", "x=nan"], "finite"),
    (["graph", "x", "1x=2"], "not a valid variable name"),
    (["graph", "exp + 1", "exp=1"], "is a function"),
    (["graph", "__class__", "__class__=1"], "'__'"),
    (["graph", "1e400 * x", "x=1"], "too large"),
    (["graph", "9" * 5000], "syntax error"),  # Python's 4300-digit limit
    (["graph", "x" * (MAX_LENGTH + 1)], "too long"),
    (["graph", "--", "-" * 9000 + "x", "x=1"], "nested too deeply"),
    (["graph", "(" * 500 + "x" + ")" * 500, "x=1"], "syntax error"),  # too many nested parentheses
    (["graph", "+".join(["*".join(["x"] * 20)] * 150), "x=1"], "too large"),  # ~6000 nodes in 6000 chars
    (["graph", "x", "x=1", "-o", "out.jpg"], "--output"),
    (["graph", "x", "x=1", "-o", "a\0b.svg"], "NUL byte"),
    (["graph", "x", "x=1", "--max-nodes", "0"], "--max-nodes"),
    (["graph", "x", "x=1", "--rankdir", "up"], "--rankdir"),
    (["graph", "-x", "x=1"], "goes after '--'"),
    (["graph"], "required: expression"),
    ([], "required"),
    (["nonsense"], "invalid choice"),
    (["graph", "x", "x=1", "--bogus"], "unrecognized"),
]


@pytest.mark.parametrize("argv, message", BAD, ids=[" ".join(a)[:40] for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    status, out, err, calls = run_cli([*argv[:1], "--no-graph", *argv[1:]] if argv[:1] == ["graph"] else argv)
    assert time.perf_counter() - start < 5
    assert_well_behaved(status, out, err, calls)
    assert status == 2
    assert message in err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- IEEE 754 results: printed, warned, never an error
INF, NAN = math.inf, math.nan
# (expression, x, value, d value/dx): closed forms under IEEE 754 arithmetic; these were errors (exit 2)
# before the engine followed IEEE, and the torch test below holds them to PyTorch float64.
IEEE = [
    ("log(x)", -1.0, NAN, -1.0),  # log(-1) is undefined; d log x = 1/x is -1 all the same
    ("x / 0", 1.0, INF, INF),  # d(x/0)/dx = 1/0
    ("sqrt(x)", 0.0, 0.0, INF),  # d sqrt x = 1/(2 sqrt x)
    ("(-8) ** (1/3) + x", 1.0, NAN, 1.0),  # a negative base to a fractional power: nan, not a complex number
    ("exp(x)", 1000.0, INF, INF),  # overflow
    ("exp(x) - exp(x)", 1000.0, NAN, NAN),  # inf - inf
    ("sin(exp(x))", 1000.0, NAN, NAN),  # sin(inf)
    ("x ** 200", 100.0, INF, INF),  # 1e400 overflows
    ("x ** -1.5", 1e-200, 1e300, -INF),  # the value is 1e300, the derivative -1.5e500
    ("10**10**10 * 0 + x", 2.0, NAN, 1.0),  # inf * 0 is nan, at once (never a 10**10-digit integer)
    ("relu(x + 0*10**400)", 1.0, NAN, 1.0),  # nan stays nan through relu: never 0.0
    ("sigmoid(x*(10**400))", -1.0, 0.0, NAN),  # sigmoid(-inf) = 0; its slope 0 times inf
    ("leaky_relu(x) * 10**400", -1.0, -INF, INF),  # 0.01 * x, then overflow
]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b or (math.isfinite(b) and a == pytest.approx(b, rel=1e-12))


@pytest.mark.parametrize("text, x, value, grad", IEEE, ids=[t for t, *_ in IEEE])
def test_inf_and_nan_results_are_printed_and_named_in_one_warning(text: str, x: float, value: float, grad: float,
                                                                  tmp_path: Path) -> None:
    target = tmp_path / "g.svg"
    status, out, err, calls = run_cli(["graph", "-o", str(target), "--", text, f"x={x!r}"])
    assert_well_behaved(status, out, err, calls)
    assert status == 0
    got_value, grads = parse_output(out)
    assert _same(got_value, value) and _same(grads["x"], grad), out
    bad = [f"value = {got_value!r}"] * (not math.isfinite(value)) + [f"d/dx = {grads['x']!r}"] * (
        not math.isfinite(grad))
    assert err == f"micrograd: warning: not finite: {', '.join(bad)} (IEEE 754, as in PyTorch: an overflow gives " \
                  "inf, an undefined result nan)\n"
    assert out.splitlines()[-1] == f"graph written to {target}"  # a graph with inf and nan in it is drawn
    texts = [t.text or "" for t in ET.parse(target).getroot().iter(f"{SVG}text")]
    shown = str(value) if not math.isfinite(value) else f"{value:.4e}" if abs(value) >= 1e6 else f"{value:.4f}"
    assert f"data {shown}" in texts  # the drawing shows the same inf or nan


@pytest.mark.parametrize("text, x, value, grad", IEEE, ids=[t for t, *_ in IEEE])
def test_inf_and_nan_results_match_pytorch(text: str, x: float, value: float, grad: float) -> None:
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    big = torch.tensor(math.inf, dtype=torch.float64)  # 10**400 and 10**10**10 overflow to inf
    functions = {"log": torch.log, "sqrt": torch.sqrt, "exp": torch.exp, "sin": torch.sin, "relu": torch.relu,
                 "sigmoid": torch.sigmoid, "leaky_relu": torch.nn.functional.leaky_relu}
    source = text.replace("10**10**10", "big").replace("10**400", "big").replace("(-8) ** (1/3)", "neg_cbrt")
    neg_cbrt = torch.tensor(-8.0, dtype=torch.float64) ** (1 / 3)
    out = eval(source, {"__builtins__": {}}, {**functions, "x": t, "big": big, "neg_cbrt": neg_cbrt})  # our text
    out.backward()
    status, printed, _, _ = run_cli(["graph", "--no-graph", "--", text, f"x={x!r}"])
    assert status == 0
    got_value, grads = parse_output(printed)
    assert _same(out.item(), value) and _same(t.grad.item(), grad)  # the closed forms above are PyTorch's too
    assert _same(got_value, out.item()) and _same(grads["x"], t.grad.item())


def test_node_limit_is_what_stops_a_big_flat_expression() -> None:
    text = "+".join(["*".join(["x"] * 20)] * 150)
    assert len(text) < MAX_LENGTH
    nodes = sum(isinstance(n, (ast.Name, ast.BinOp)) for n in ast.walk(ast.parse(text, mode="eval")))
    assert nodes > MAX_NODES
    with pytest.raises(ExpressionError, match="too large"):
        parse(text)
    smaller = "+".join(["*".join(["x"] * 20)] * 100)  # ~4000 nodes: allowed
    result = evaluate(smaller, {"x": 1.01})
    assert result.value.data == pytest.approx(100 * 1.01 ** 20, rel=1e-12)
    assert result.gradients["x"] == pytest.approx(100 * 20 * 1.01 ** 19, rel=1e-12)


@pytest.mark.parametrize("where", ["missing-dir/g.svg", "afile/g.svg", "afile/g.dot"])
def test_unwritable_output_is_one_line_exit_2(where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("not a directory")
    status = main(["graph", "x*2", "x=1", "-o", str(tmp_path / where)])
    out, err = capsys.readouterr()
    assert status == 2
    assert out.splitlines() == ["value = 2.0", "d/dx = 2.0"]  # the answer is still given
    assert len(err.splitlines()) == 1 and err.startswith("micrograd: error: cannot write ")


def test_missing_dot_keeps_the_source_and_names_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.chdir(tmp_path)
    status = main(["graph", "x*y", "x=2", "y=3"])
    out, err = capsys.readouterr()
    assert status == 1
    assert parse_output(out) == (6.0, {"x": 3.0, "y": 2.0})
    (line,) = err.splitlines()
    assert line.startswith("micrograd: error: ")
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz", "graph.dot"):
        assert hint in line
    assert not (tmp_path / "graph.svg").exists()
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8").startswith("digraph")


def test_max_nodes_and_rankdir_options_reach_the_drawing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "g.dot"
    status = main(["graph", "tanh(tanh(tanh(x)))", "x=0.5", "-o", str(target), "--max-nodes", "2", "--rankdir", "TB"])
    assert status == 0, capsys.readouterr().err
    source = target.read_text(encoding="utf-8")
    assert "rankdir=TB" in source and "2 more nodes not drawn" in source  # 4 values, 2 drawn


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"micrograd {micrograd.__version__}"
    assert main(["graph", "--help"]) == 0
    assert "expression grammar" in capsys.readouterr().out


def test_demo_without_tour_module_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "micrograd.demos.registry", None)  # makes its import fail
    assert main(["demo"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "demo is not available" in err
    # graph never needs the tour
    assert main(["graph", "--no-graph", "x", "x=1"]) == 0


# ---------------------------------------------------------------- outputs the system refuses: one line, exit 2
def _cli_process(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **env}
    return subprocess.run([sys.executable, "-m", "micrograd", *argv], cwd=cwd, env=environ, capture_output=True,
                          timeout=120)


@pytest.mark.parametrize("argv, what", [
    (["graph", "\u00e9", "\u00e9=1", "--no-graph"], "'\\xe9' (in the result)"),
    (["graph", "x*\u03b2", "x=2", "\u03b2=3", "-o", "g.svg"], "'\\u03b2' (in the result)"),
    (["graph", "x", "x=1", "-o", "gr\u00e4ph.svg"], "'\\xe4' (in the output path)"),
])
def test_names_an_ascii_terminal_cannot_show_are_one_line_exit_2(argv: list[str], what: str,
                                                                 tmp_path: Path) -> None:
    done = _cli_process(argv, tmp_path, PYTHONIOENCODING="ascii")
    assert done.returncode == 2
    assert done.stdout == b""  # nothing half-printed
    (line,) = done.stderr.decode("ascii").splitlines()
    assert line.startswith("micrograd: error: cannot print ") and what in line and "PYTHONIOENCODING=utf-8" in line
    assert list(tmp_path.iterdir()) == []  # and nothing drawn
    ok = _cli_process(argv, tmp_path, PYTHONIOENCODING="utf-8")
    assert ok.returncode == 0 and ok.stderr == b""  # the same command is fine where it can be shown


def test_an_undecodable_output_name_is_one_line_exit_2(tmp_path: Path) -> None:
    name = os.fsdecode(b"g\xff.svg")  # bytes no UTF-8 terminal can show: argv carries them as a surrogate
    status, out, err, _ = run_cli(["graph", "x", "x=1", "-o", str(tmp_path / name)])
    assert status == 2 and out == "" and err.startswith("micrograd: error: cannot print ") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_closed_stdout_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["graph", "x", "x=1", "--no-graph"]) == 2
    err = capsys.readouterr().err
    assert err == "micrograd: error: the output was closed before everything was printed\n"


@pytest.mark.parametrize("name", ["g.svg", "g.png", "g.dot"])
def test_a_full_disk_is_one_line_exit_2_and_leaves_no_file(name: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    status = main(["graph", "x*2", "x=1", "-o", str(tmp_path / name)])
    out, err = capsys.readouterr()
    assert status == 2 and out.splitlines() == ["value = 2.0", "d/dx = 2.0"]
    assert err == f"micrograd: error: cannot write {str(tmp_path / name)!r}: No space left on device\n"
    assert list(tmp_path.iterdir()) == []  # no 0-byte picture, no temporary file


def test_a_real_file_size_limit_keeps_the_old_picture(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the write fail part-way (EFBIG), as a full disk does; the old file stays whole."""
    resource = pytest.importorskip("resource")
    old = b"<svg>the old picture</svg>"
    (tmp_path / "g.png").write_bytes(old)
    limit = resource.RLIMIT_FSIZE

    def small_files() -> None:
        resource.setrlimit(limit, (2000, resource.getrlimit(limit)[1]))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "micrograd", "graph", "tanh(x*w + b)", "x=1", "w=2", "b=3",
                           "-o", "g.png"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          preexec_fn=small_files)
    assert done.returncode == 2, done.stderr
    assert done.stderr == "micrograd: error: cannot write 'g.png': File too large\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.png"] and (tmp_path / "g.png").read_bytes() == old


def test_never_writes_over_a_fifo_or_a_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "pipe.svg")
    (tmp_path / "null.svg").symlink_to(os.devnull)
    for name, reason in (("pipe.svg", "not a regular file (a FIFO)"), ("null.svg", "not a regular file (a device)")):
        assert main(["graph", "x", "x=1", "-o", str(tmp_path / name)]) == 2  # at once: a FIFO is never opened
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"cannot write {str(tmp_path / name)!r}: {reason}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null.svg", "pipe.svg"]
    assert (tmp_path / "null.svg").is_symlink()


def test_an_interrupt_is_one_line_exit_130_and_restores_the_handler(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    import signal

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(files.os, "fsync", interrupted)  # in the middle of writing the picture
    assert main(["graph", "x", "x=1", "-o", str(tmp_path / "g.svg")]) == 130
    out, err = capsys.readouterr()
    assert err == "micrograd: interrupted\n" and "Traceback" not in out
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is before  # main() called from Python leaves Ctrl-C as it was


def test_the_function_names_are_the_activation_vocabulary_plus_the_others(capsys: pytest.CaptureFixture[str]) -> None:
    from micrograd.cli import expression
    from micrograd.cli.expression import ACTIVATION_NAMES, OTHER_FUNCTION_NAMES
    from micrograd.primitives import ACTIVATIONS

    assert tuple(ACTIVATIONS) == ACTIVATION_NAMES
    assert set(expression.FUNCTIONS) == set(FUNCTIONS) == set(ACTIVATIONS) | set(OTHER_FUNCTION_NAMES)
    assert main(["graph", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert f"activations (as in MLP and dot): {' '.join(ACTIVATIONS)}" in help_text
    assert f"other functions:                 {' '.join(OTHER_FUNCTION_NAMES)}" in help_text
    x = 0.7
    for name, expected in (("linear", x), ("leaky_relu", x), ("relu", x), ("tanh", math.tanh(x)),
                           ("sigmoid", 1 / (1 + math.exp(-x)))):
        assert evaluate(f"{name}(x)", {"x": x}).value.data == pytest.approx(expected, rel=1e-15)
    assert evaluate("leaky_relu(x)", {"x": -2.0}).gradients == {"x": 0.01}  # PyTorch's default negative_slope


# ---------------------------------------------------------------- nothing is ever executed
ATTACKS = [
    "__import__('os').system('touch SENTINEL')",
    "__import__('os')",
    "().__class__.__bases__[0].__subclasses__()",
    "exp.__globals__",
    "exp(x).__class__",
    "open('SENTINEL', 'w')",
    "eval(\"open('SENTINEL','w')\")",
    "exec(\"open('SENTINEL','w')\")",
    "compile('1', 'f', 'exec')",
    "globals()",
    "__builtins__",
    "breakpoint()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "f\"{__import__('os').system('touch SENTINEL')}\"",
    "(lambda: __import__('os').system('touch SENTINEL'))()",
    "exp(x) if __import__('os').system('touch SENTINEL') else 0",
    "(s := open('SENTINEL', 'w'))",
    "x.__class__.__mro__",
    "getattr(x, '__class__')",
    "exp((__import__('os').system('touch SENTINEL')))",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_code_is_never_executed(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err, calls = run_cli(["graph", text, "x=1", "-o", "g.dot"])
    assert_well_behaved(status, out, err, calls)
    assert status == 2
    assert not (tmp_path / "SENTINEL").exists()
    assert list(tmp_path.iterdir()) == []


def test_guard_would_notice_eval() -> None:
    guard = Guard()
    with guard.active(), pytest.raises(AssertionError):
        eval("1")  # the guard itself works, so the tests above can fail
    with guard.active():
        compile("1", "<t>", "eval")
    assert len(guard.calls) == 2


# ---------------------------------------------------------------- fuzzing: arbitrary text
EXPRESSION_CHARS = "xyz0123456789.+-*/()% e,=_[]'\"<>:!~\\\n\tabcdefghijklmnopqrstuvw"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=80), st.text(alphabet=EXPRESSION_CHARS, max_size=60)),
       dashdash=st.booleans(),
       assignments=st.lists(st.sampled_from(["x=0.5", "y=-2", "z=3", "x=2", "q", "x=", "=1", "y=inf"]), max_size=3))
def test_fuzz_text_answers_or_fails_in_one_line(text: str, dashdash: bool, assignments: list[str]) -> None:
    argv = ["graph", "--no-graph", *(["--"] if dashdash else []), text, *assignments]
    status, out, err, calls = run_cli(argv)
    assert_well_behaved(status, out, err, calls)
    event(f"exit status {status}")
    if status == 0 and not dashdash and out.startswith("usage:"):  # text was -h, --help or --he...
        assert text.startswith("-")
        return
    if status == 0:  # IEEE 754: inf and nan are results too, and then (only then) a warning names them
        value, grads = parse_output(out)
        finite = math.isfinite(value) and all(math.isfinite(g) for g in grads.values())
        assert (err == "") is finite, err


# ---------------------------------------------------------------- fuzzing: arbitrary Python ASTs
NAMES = ["x", "y", "z", *FUNCTIONS, "open", "eval", "__import__", "__class__", "os", "print", "True", "None", "_"]
load = ast.Load()


def _constants() -> st.SearchStrategy[ast.expr]:
    return st.builds(ast.Constant, st.one_of(
        st.integers(-(10 ** 400), 10 ** 400), st.integers(-10, 10), st.floats(), st.text(max_size=5),
        st.binary(max_size=3), st.booleans(), st.none(), st.complex_numbers(max_magnitude=10), st.just(...)))


def _leaves() -> st.SearchStrategy[ast.expr]:
    return st.one_of(st.builds(ast.Name, st.sampled_from(NAMES), st.just(load)), _constants())


def _compound(kids: st.SearchStrategy[ast.expr]) -> st.SearchStrategy[ast.expr]:
    binops = [ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod, ast.MatMult, ast.LShift,
              ast.RShift, ast.BitOr, ast.BitAnd, ast.BitXor]
    unops = [ast.USub, ast.UAdd, ast.Not, ast.Invert]
    funcs = st.one_of(st.builds(ast.Name, st.sampled_from(NAMES), st.just(load)), kids)
    kw = st.builds(ast.keyword, st.one_of(st.none(), st.sampled_from(["x", "key"])), kids)
    return st.one_of(
        st.builds(ast.BinOp, kids, st.sampled_from(binops).map(lambda op: op()), kids),
        st.builds(ast.BinOp, kids, st.sampled_from(binops[:5]).map(lambda op: op()), kids),
        st.builds(ast.UnaryOp, st.sampled_from(unops).map(lambda op: op()), kids),
        st.builds(ast.Call, funcs, st.lists(st.one_of(kids, st.builds(ast.Starred, kids, st.just(load))),
                                            max_size=3), st.lists(kw, max_size=2)),
        st.builds(ast.Call, st.builds(ast.Name, st.sampled_from(FUNCTIONS), st.just(load)),
                  st.lists(kids, min_size=1, max_size=1), st.just([])),
        st.builds(ast.Attribute, kids, st.sampled_from(["real", "__class__", "system", "__globals__"]),
                  st.just(load)),
        st.builds(ast.Subscript, kids, kids, st.just(load)),
        st.builds(lambda body: ast.Lambda(ast.arguments([], [], None, [], [], None, []), body), kids),
        st.builds(ast.Compare, kids, st.lists(st.sampled_from([ast.Lt(), ast.Eq(), ast.Is(), ast.In()]),
                                              min_size=1, max_size=1), st.lists(kids, min_size=1, max_size=1)),
        st.builds(ast.BoolOp, st.sampled_from([ast.And(), ast.Or()]), st.lists(kids, min_size=2, max_size=3)),
        st.builds(ast.IfExp, kids, kids, kids),
        st.builds(ast.Tuple, st.lists(kids, max_size=3), st.just(load)),
        st.builds(ast.List, st.lists(kids, max_size=3), st.just(load)),
        st.builds(ast.Set, st.lists(kids, min_size=1, max_size=3)),
        st.builds(ast.Dict, st.lists(kids, min_size=1, max_size=1), st.lists(kids, min_size=1, max_size=1)),
        st.builds(lambda e: ast.NamedExpr(ast.Name("x", ast.Store()), e), kids),
        st.builds(lambda e, it: ast.ListComp(e, [ast.comprehension(ast.Name("x", ast.Store()), it, [], 0)]),
                  kids, kids),
        st.builds(lambda e: ast.JoinedStr([ast.FormattedValue(e, -1, None)]), kids),
    )


def _whitelisted(tree: ast.expr) -> bool:
    """The grammar, checked independently of micrograd.cli.expression."""
    allowed = (ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant, ast.Load, ast.Add, ast.Sub, ast.Mult,
               ast.Div, ast.Pow, ast.USub, ast.UAdd)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            return False
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and len(node.args) == 1
                and not node.keywords and not isinstance(node.args[0], ast.Starred)):
            return False
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool)
                                               or not isinstance(node.value, (int, float))):
            return False
    return True


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(tree=st.recursive(_leaves(), _compound, max_leaves=12), xs=st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_fuzz_python_asts_never_run_and_only_the_grammar_answers(tree: ast.expr, xs: list[float]) -> None:
    try:
        text = ast.unparse(ast.fix_missing_locations(ast.Expression(tree)))
    except Exception:  # an impossible combination (e.g. an f-string ast.unparse cannot quote)
        assume(False)
        raise
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in ("x", "y", "z")}
    assignments = [f"{name}={x}" for name, x in zip("xyz", xs) if name in used]
    status, out, err, calls = run_cli(["graph", "--no-graph", "--", text, *assignments])
    assert_well_behaved(status, out, err, calls)
    event(f"exit status {status}")
    if status == 0:
        assert _whitelisted(ast.parse(text, mode="eval").body), text


# ---------------------------------------------------------------- fuzzing: right answers
# An expression tree as tuples, evaluated independently with HIPS autograd.
Tree = Any
VARS = ("x", "y", "z")


def _trees() -> st.SearchStrategy[Tree]:
    leaf = st.one_of(st.tuples(st.just("var"), st.sampled_from(VARS)),
                     st.tuples(st.just("num"), st.sampled_from([0, 0.5, 1, 2, 3, 1.5, 0.25, 10])))
    return st.recursive(leaf, lambda kids: st.one_of(
        st.tuples(st.just("bin"), st.sampled_from(["+", "-", "*", "/", "**"]), kids, kids),
        st.tuples(st.just("neg"), kids),
        st.tuples(st.just("pos"), kids),
        st.tuples(st.just("call"), st.sampled_from(FUNCTIONS), kids)), max_leaves=8)


def _to_ast(t: Tree) -> ast.expr:
    kind = t[0]
    if kind == "var":
        return ast.Name(t[1], load)
    if kind == "num":
        return ast.Constant(t[1])
    if kind == "bin":
        op = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow}[t[1]]()
        return ast.BinOp(_to_ast(t[2]), op, _to_ast(t[3]))
    if kind in ("neg", "pos"):
        return ast.UnaryOp(ast.USub() if kind == "neg" else ast.UAdd(), _to_ast(t[1]))
    return ast.Call(ast.Name(t[1], load), [_to_ast(t[2])], [])


def _has_var(t: Tree) -> bool:
    return t[0] == "var" or any(isinstance(c, tuple) and _has_var(c) for c in t[1:])


class Hazard(Exception):
    """Near a singularity, a kink or overflow: the comparison would test rounding, not correctness."""


def _reference(t: Tree, env: dict[str, Any], check: bool) -> Any:
    """Evaluate with autograd.numpy; with `check`, raise Hazard near domain edges and kinks."""
    kind = t[0]
    if kind == "var":
        return env[t[1]]
    if kind == "num":
        return float(t[1])
    if kind in ("neg", "pos"):
        v = _reference(t[1], env, check)
        return -v if kind == "neg" else v
    if kind == "bin":
        a, b = _reference(t[2], env, check), _reference(t[3], env, check)
        if check:
            fa, fb = float(a), float(b)
            if t[1] == "/" and abs(fb) < 1e-3:
                raise Hazard
            if t[1] == "**":
                if _has_var(t[3]):
                    if fa < 1e-3:  # a Value exponent needs a positive base
                        raise Hazard
                elif (fa < 0 and fb != int(fb)) or (abs(fa) < 1e-3 and fb < 2) or abs(fb) > 50:
                    raise Hazard
        if t[1] == "+":
            r = a + b
        elif t[1] == "-":
            r = a - b
        elif t[1] == "*":
            r = a * b
        elif t[1] == "/":
            r = a / b
        else:
            r = a ** b
        if check and not abs(float(r)) < 1e6:
            raise Hazard
        return r
    name, v = t[1], _reference(t[2], env, check)
    if check:
        fv = float(v)
        if (name in ("log", "sqrt") and fv < 1e-3) or (name in ("abs", "relu", "leaky_relu") and abs(fv) < 1e-6) \
                or (name == "exp" and fv > 12):
            raise Hazard
    functions: dict[str, Callable[[Any], Any]] = {
        "abs": anp.abs, "cos": anp.cos, "exp": anp.exp, "log": anp.log, "sin": anp.sin, "sqrt": anp.sqrt,
        "tanh": anp.tanh, "relu": lambda u: anp.where(u > 0, u, 0.0), "linear": lambda u: u,
        "leaky_relu": lambda u: anp.where(u > 0, u, 0.01 * u),
        "sigmoid": lambda u: 0.5 * (anp.tanh(u / 2) + 1),  # a different formula from the engine's
        "softplus": lambda u: anp.logaddexp(0.0, u),
    }
    return functions[name](v)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(tree=_trees(), point=st.lists(st.integers(-3000, 3000).map(lambda i: i / 1000), min_size=3, max_size=3))
def test_fuzz_valid_expressions_match_autograd(tree: Tree, point: list[float]) -> None:
    text = ast.unparse(ast.Expression(_to_ast(tree)))
    used = [v for v in VARS if v in {n.id for n in ast.walk(ast.parse(text, mode="eval"))
                                     if isinstance(n, ast.Name)} - set(FUNCTIONS)]
    env = dict(zip(VARS, point))
    status, out, err, calls = run_cli(["graph", "--no-graph", "--", text, *(f"{v}={env[v]!r}" for v in used)])
    assert_well_behaved(status, out, err, calls)
    try:
        with np.errstate(all="ignore"):
            _reference(tree, env, check=True)
    except Hazard:
        assume(False)  # the CLI was still well-behaved above; the numbers are not compared here
    assert status == 0, (text, err)
    value, grads = parse_output(out)
    assert list(grads) == used

    def f(args: Any) -> Any:
        return _reference(tree, dict(zip(used, args)) | {v: env[v] for v in VARS if v not in used}, check=False)

    args = np.array([env[v] for v in used], dtype=float)
    with np.errstate(all="ignore"):
        expected_value = float(f(args))
        expected_grads = autograd.grad(f)(args) if used else []
    assert value == pytest.approx(expected_value, rel=1e-9, abs=1e-9), text
    for name, g in zip(used, expected_grads):
        assert grads[name] == pytest.approx(float(g), rel=1e-7, abs=1e-7), (text, name)
