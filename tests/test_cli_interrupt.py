"""Ctrl-C at any moment of ``micrograd demo`` / ``micrograd graph``: one line, exit status 130, no traceback.

The signal is sent to a real process at delays from 0.05 s to 1.5 s after `main` can first run: while
the subcommand's modules are imported (matplotlib, graphviz, nn: 0.2-0.5 s in), while training, while
Graphviz draws.  Before that, the interpreter, site's .pth files and the ``micrograd`` package that the
console script must import to reach ``micrograd.cli.main`` run with Python's own handling, which no
program can replace; so the child says when that import is done (a byte on a pipe) and the delays count
from there.  The child then runs exactly what the console script runs.  The installed console script
itself is interrupted too, at delays that leave room for a slow start.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DELAYS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


# what the console script runs, with a byte on fd READY once `import micrograd` is over
_CHILD = """
import os, sys
import micrograd
os.write(int(os.environ["READY"]), b"1")
from micrograd.cli import main
sys.argv[0] = "micrograd"
sys.exit(main())
"""


def _interrupt(argv: list[str], delay: float, cwd: Path) -> tuple[int, str, str]:
    """Start the CLI, wait until `main` can run, wait `delay` more, press Ctrl-C; (status, stdout, stderr)."""
    read, write = os.pipe()
    try:
        child = subprocess.Popen([sys.executable, "-c", _CHILD, *argv], cwd=cwd, env={**_env(), "READY": str(write)},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, pass_fds=(write,))
        os.close(write)
        ready, _, _ = select.select([read], [], [], 60)
        assert ready and os.read(read, 1) == b"1", "the child never got past `import micrograd`"
    finally:
        os.close(read)
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    return child.returncode, out, err


def _check(status: int, err: str, out_dir: Path) -> None:
    assert "Traceback" not in err, err
    assert status in (0, 130), (status, err)  # 0 only if the command had already finished
    if status == 130:
        assert err == "micrograd: interrupted\n"  # one line
    assert not [p.name for p in out_dir.iterdir() if p.name.endswith(".tmp")]  # no half-written picture left


@pytest.mark.parametrize("delay", DELAYS)
def test_ctrl_c_during_the_tour(delay: float, tmp_path: Path) -> None:
    status, _, err = _interrupt(["demo", "--out", str(tmp_path)], delay, tmp_path)
    _check(status, err, tmp_path)
    assert status == 130  # the tour takes many seconds: it was running


@pytest.mark.parametrize("delay", DELAYS)
def test_ctrl_c_during_graph(delay: float, tmp_path: Path) -> None:
    expression = "+".join(["tanh(x*y + z) * sigmoid(x - y)"] * 60)  # ~500 values: dot runs for a while
    status, _, err = _interrupt(["graph", expression, "x=0.3", "y=-1", "z=2", "--max-nodes", "2000",
                                 "-o", str(tmp_path / "g.png")], delay, tmp_path)
    _check(status, err, tmp_path)
    if status == 130:
        assert not (tmp_path / "g.png").exists() or (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("delay", [0.75, 1.5])
def test_ctrl_c_reaches_the_installed_console_script(delay: float, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("micrograd")
    if not script.is_file():
        pytest.skip("the console script is not installed next to this Python")
    child = subprocess.Popen([str(script), "demo", "--out", str(tmp_path)], cwd=tmp_path, env=_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    _check(child.returncode, err, tmp_path)
    assert child.returncode == 130


def test_the_entry_module_imports_nothing_heavy() -> None:
    """The console script imports micrograd.cli before main runs: that import must be over at once."""
    code = ("import sys, micrograd.cli; print(sorted(m for m in ('argparse', 'graphviz', 'matplotlib', "
            "'micrograd.cli.commands', 'micrograd.cli.graph', 'micrograd.demos', 'micrograd.draw', 'tqdm') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _wrapped_interrupt(*args: object, **kwargs: object) -> int:
    """What Python 3.11 does to a Ctrl-C that lands while a class is being made (matplotlib's import):
    the KeyboardInterrupt comes out wrapped in a RuntimeError."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as interrupt:
        raise RuntimeError("Error calling __set_name__ on '_axis_method_wrapper' instance") from interrupt


def test_a_wrapped_ctrl_c_is_still_an_interrupt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from micrograd.cli import demo as demo_command
    from micrograd.cli import main
    from micrograd.demos import options
    from micrograd.demos.options import caused_by_interrupt

    assert caused_by_interrupt(RuntimeError("x").with_traceback(None)) is False
    monkeypatch.setattr(demo_command, "run", _wrapped_interrupt)
    assert main(["demo", "apple", "--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "micrograd: interrupted\n"
    assert options.run_script(_wrapped_interrupt, ["--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "micrograd: interrupted\n"
