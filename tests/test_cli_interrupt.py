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
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DELAYS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


# what the console script runs (or, with MODULE set, what a demo script's `__main__` block runs), with a
# byte on fd READY once what runs before either can take Ctrl-C over is imported (micrograd, micrograd.cli
# and its micrograd.interrupt, the demo): importing those is Python's, not ours (a cold cache made it 50 ms)
_CHILD = """
import importlib, os, sys
import micrograd
from micrograd.cli import entry_point  # what the console script imports before anything can take over
from micrograd.demos.options import run_as_script
demo = importlib.import_module(os.environ["MODULE"]) if os.environ.get("MODULE") else None
if os.environ["READY"]:
    os.write(int(os.environ["READY"]), b"1")
if demo is not None:
    sys.argv[0] = demo.__file__
    run_as_script(demo.main)
sys.argv[0] = "micrograd"
sys.exit(entry_point())
"""


def _interrupt(argv: list[str], delay: float, cwd: Path, module: str = "", ignoring_ctrl_c: bool = False,
               sent: int = signal.SIGINT) -> tuple[int, str, str]:
    """Start the CLI (or the demo script `module`), wait until `main` can run, wait `delay` more, press
    Ctrl-C (or the signal `sent`); (status, stdout, stderr).  `ignoring_ctrl_c`: started as a shell starts a
    background job."""
    read, write = os.pipe()
    try:
        child = subprocess.Popen([sys.executable, "-c", _CHILD, *argv], cwd=cwd,
                                 env={**_env(), "READY": str(write), "MODULE": module},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, pass_fds=(write,),
                                 preexec_fn=_ignore_ctrl_c if ignoring_ctrl_c else None)
        os.close(write)
        ready, _, _ = select.select([read], [], [], 60)
        assert ready and os.read(read, 1) == b"1", "the child never got past `import micrograd`"
    finally:
        os.close(read)
    time.sleep(delay)
    child.send_signal(sent)
    out, err = child.communicate(timeout=120)
    return child.returncode, out, err


def _handlers() -> tuple[Any, ...]:
    """What `main` must leave as it found: every signal handler it may set, the unraisable hook, the timer."""
    return (*(signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGALRM, signal.SIGTERM, signal.SIGHUP)),
            sys.unraisablehook, signal.getitimer(signal.ITIMER_REAL))


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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


@pytest.mark.parametrize("delay", (0.05, 0.2, 0.4, 0.75, 1.5))
def test_ctrl_c_during_a_demo_script(delay: float, tmp_path: Path) -> None:
    """``python -m micrograd.demos.cnn`` (about 5 s): matplotlib is imported inside, after the script took
    Ctrl-C over."""
    status, _, err = _interrupt(["--out", str(tmp_path)], delay, tmp_path, module="micrograd.demos.cnn")
    _check(status, err, tmp_path)
    assert status == 130


@pytest.mark.parametrize("delay", [1.5, 3.0])  # counted from the start: leave room for a slow interpreter start
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
    from micrograd.interrupt import interrupted

    assert interrupted(RuntimeError("x")) is False
    monkeypatch.setattr(demo_command, "run", _wrapped_interrupt)
    assert main(["demo", "apple", "--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "micrograd: interrupted\n"
    assert options.run_script(_wrapped_interrupt, ["--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "micrograd: interrupted\n"


# A Ctrl-C that lands where Python cannot raise it: the handler runs inside a weakref callback, a
# __del__ or a gc callback (Python 3.13's importlib drops module locks through a weakref callback, so
# an interrupt during any import can land there).  `raise_signal` sends it to this very thread, and the
# Python function called right after is where the handler runs, still inside the callback.
_SWALLOWED = """
import gc, signal, sys, time, weakref
from micrograd.interrupt import stop_on_interrupt

def press_ctrl_c():
    signal.raise_signal(signal.SIGINT)
    (lambda: None)()  # the handler runs here, inside the callback

class Thing:
    def __del__(self):
        press_ctrl_c()

def in_gc(phase, info):
    if phase == "start" and not fired:
        fired.append(1)
        press_ctrl_c()

fired = []
where = sys.argv[1]

def work():
    if where == "weakref":
        thing = Thing.__new__(type("Plain", (), {}))
        ref = weakref.ref(thing, lambda _: press_ctrl_c())
        del thing
    elif where == "__del__":
        Thing()
    else:
        gc.callbacks.append(in_gc)
        gc.collect()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        time.sleep(0.01)
    print("finished")

try:
    if sys.argv[2] == "guarded":
        with stop_on_interrupt():
            work()
    else:
        work()
except KeyboardInterrupt:
    print("interrupted")
"""


@pytest.mark.parametrize("where", ["weakref", "__del__", "gc"])
def test_a_ctrl_c_python_swallows_is_delivered_again(where: str) -> None:
    def run(mode: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", _SWALLOWED, where, mode], env=_env(), capture_output=True,
                              text=True, timeout=60)

    plain = run("plain")  # the control: without the guard Python prints a traceback and carries on
    assert "Exception ignored" in plain.stderr and "KeyboardInterrupt" in plain.stderr, plain.stderr
    assert plain.stdout == "finished\n"
    guarded = run("guarded")
    assert guarded.stderr == ""
    assert guarded.stdout == "interrupted\n"


# The whole command and a demo script, with the Ctrl-C landing in a garbage collection.
_GC_INTERRUPT = """
import gc, signal, sys
fired = []
def in_gc(phase, info):  # the first collection once the command has taken Ctrl-C over
    if phase == "start" and not fired and signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        fired.append(1)
        signal.raise_signal(signal.SIGINT)
        (lambda: None)()
gc.callbacks.append(in_gc)
if sys.argv[1] == "cli":
    from micrograd.cli import entry_point
    sys.argv[1:] = ["demo", "moons", "--out", sys.argv[2]]
    entry_point()
from micrograd.demos import moons
from micrograd.demos.options import run_as_script
sys.argv[1:] = ["--out", sys.argv[2]]
run_as_script(moons.main)
"""


@pytest.mark.parametrize("entry", ["cli", "script"])
def test_a_ctrl_c_during_garbage_collection_stops_the_demo(entry: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _GC_INTERRUPT, entry, str(tmp_path)], env=_env(), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    _check(done.returncode, done.stderr, tmp_path)
    assert done.returncode == 130


def _ctrl_c_turned_into(error: Exception) -> object:
    """A stand-in for C code that Ctrl-C stops and that reports it as an error of its own (numpy's import
    gives ImportError "initialization failed"; ``dot`` killed by the same Ctrl-C gives CalledProcessError)."""

    def stopped(*args: object, **kwargs: object) -> object:
        try:
            signal.raise_signal(signal.SIGINT)
            (lambda: None)()  # the handler runs here
        except KeyboardInterrupt:
            pass
        raise error

    return stopped


def _called_process_error() -> Exception:
    import graphviz

    return graphviz.CalledProcessError(-2, ["dot"], stderr=b"")


@pytest.mark.parametrize("where, error", [
    ("demo", ImportError("initialization failed")),  # "the demo is not available"
    ("demo", RuntimeError("initialization failed")),  # "internal error"
    ("demo", OSError(5, "Input/output error")),
    ("graph", "CalledProcessError"),  # "Graphviz's dot failed"
    ("script", OSError(5, "Input/output error")),  # python micrograd/demos/NAME.py: "cannot write"
    ("script", ImportError("initialization failed")),
])
def test_an_error_that_ctrl_c_caused_is_reported_as_the_interrupt(
        where: str, error: Exception | str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from micrograd import draw
    from micrograd.cli import demo as demo_command
    from micrograd.cli import main
    from micrograd.demos import options

    handlers = _handlers()
    raised = _called_process_error() if error == "CalledProcessError" else error
    assert isinstance(raised, Exception)
    if where == "demo":
        monkeypatch.setattr(demo_command, "run", _ctrl_c_turned_into(raised))
        status = main(["demo", "apple", "--out", str(tmp_path)])
    elif where == "graph":
        monkeypatch.setattr(draw, "render", _ctrl_c_turned_into(raised))
        status = main(["graph", "x*y", "x=1", "y=2", "-o", str(tmp_path / "g.svg")])
    else:
        status = options.run_script(_ctrl_c_turned_into(raised), ["--out", str(tmp_path)])  # type: ignore[arg-type]
    assert (status, capsys.readouterr().err) == (130, "micrograd: interrupted\n")
    assert _handlers() == handlers


def test_the_same_errors_without_ctrl_c_are_still_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from micrograd.cli import demo as demo_command
    from micrograd.cli import main

    def broken(*args: object) -> int:
        raise ImportError("initialization failed")

    monkeypatch.setattr(demo_command, "run", broken)
    assert main(["demo", "apple", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == ("micrograd: internal error (please report it): ImportError: "
                                       "initialization failed\n")


_EXIT = """
import atexit, sys
from micrograd.interrupt import exit_process
atexit.register(lambda: print("finalized"))
print("kept", end="")  # still in stdout's buffer (a pipe): exit_process must flush it
print("also kept", end="", file=sys.stderr)
exit_process(int(sys.argv[1]))
"""


@pytest.mark.parametrize("status", [0, 2, 130])
def test_exit_process_skips_finalization_only_after_ctrl_c(status: int) -> None:
    """After Ctrl-C a C extension whose import was cut short can crash the interpreter's finalization,
    so the process then ends at once (no atexit handlers), with its output flushed."""
    env = {k: v for k, v in _env().items() if k != "PYTHONUNBUFFERED"}  # "kept" must wait in the buffer
    done = subprocess.run([sys.executable, "-c", _EXIT, str(status)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == status
    assert done.stdout == ("kept" if status == 130 else "keptfinalized\n")
    assert done.stderr == "also kept"


def _press_ctrl_c() -> None:
    signal.raise_signal(signal.SIGINT)
    (lambda: None)()  # a Python call: where the handler runs


def test_a_repeat_ctrl_c_while_stopping_is_ignored_but_a_later_one_stops_again() -> None:
    from micrograd.interrupt import REPEAT_WINDOW, stop_on_interrupt

    with stop_on_interrupt():
        with pytest.raises(KeyboardInterrupt):
            _press_ctrl_c()
        _press_ctrl_c()  # pressed again while the first one unwinds: nothing raised
        time.sleep(REPEAT_WINDOW + 0.05)  # the first was caught and the program went on: Ctrl-C works again
        with pytest.raises(KeyboardInterrupt):
            _press_ctrl_c()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_ctrl_c_swallowed_just_before_the_end_still_counts(capsys: pytest.CaptureFixture[str]) -> None:
    import weakref

    from micrograd.interrupt import run_guarded

    class Thing:
        pass

    def swallow_one_and_finish() -> int:
        thing = Thing()
        ref = weakref.ref(thing, lambda _: _press_ctrl_c())
        del thing  # the callback runs: Python swallows the KeyboardInterrupt raised there
        assert ref() is None
        return 0  # before the Ctrl-C could be sent again

    assert run_guarded(swallow_one_and_finish) == 130
    assert capsys.readouterr().err == "micrograd: interrupted\n"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_callers_alarm_and_timer_are_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A program (or pytest-timeout) that runs `main` under its own SIGALRM keeps its timer and handler,
    and its alarm going off inside `main` is its own, not a Ctrl-C."""
    from micrograd.cli import demo as demo_command
    from micrograd.cli import main

    rang: list[str] = []

    def alarm_inside(*args: object) -> int:
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        time.sleep(0.2)  # the alarm goes off during the sleep
        rang.append("inside")
        return 0

    previous = signal.signal(signal.SIGALRM, lambda *_: rang.append("alarm"))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        assert main(["graph", "x*y", "x=2", "y=3", "--no-graph"]) == 0
        assert 25.0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30.0
        monkeypatch.setattr(demo_command, "run", alarm_inside)
        assert main(["demo", "apple", "--out", str(tmp_path)]) == 0
        assert rang == ["alarm", "inside"]  # the caller's handler ran, inside main
        assert "interrupted" not in capsys.readouterr().err
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        handler = signal.signal(signal.SIGALRM, previous)
    assert handler is not None and handler not in (signal.SIG_DFL, signal.SIG_IGN)


def test_main_in_another_thread_leaves_the_signal_handling_alone(capsys: pytest.CaptureFixture[str]) -> None:
    import threading

    from micrograd.cli import main

    before = _handlers()
    statuses: list[int] = []
    worker = threading.Thread(target=lambda: statuses.append(main(["graph", "x*y", "x=2", "y=3", "--no-graph"])))
    worker.start()
    worker.join(60)
    assert statuses == [0]
    assert _handlers() == before


def test_a_command_started_with_ctrl_c_ignored_keeps_ignoring_it(tmp_path: Path) -> None:
    """A shell starts a background job (``micrograd graph ... &``) with SIGINT ignored: it must stay so."""
    expression = "+".join(["tanh(x*y + z) * sigmoid(x - y)"] * 60)
    status, out, err = _interrupt(["graph", expression, "x=0.3", "y=-1", "z=2", "-o", str(tmp_path / "g.svg")],
                                  0.2, tmp_path, ignoring_ctrl_c=True)
    assert (status, err) == (0, "")
    assert "graph written to" in out


@pytest.mark.parametrize("ending", ["SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("delay", [0.3, 0.6, 1.0])
def test_kill_or_a_closed_terminal_leaves_no_temporary_file(ending: str, delay: float, tmp_path: Path) -> None:
    """SIGTERM (kill) and SIGHUP (the terminal closed) end the command as Python would (status 128 + signal,
    nothing printed), but through the cleanup: no hidden ``.tmp`` file is left in the output folder."""
    number = getattr(signal, ending)
    expression = "+".join(["tanh(x*y + z) * sigmoid(x - y)"] * 60)
    status, _, err = _interrupt(["graph", expression, "x=0.3", "y=-1", "z=2", "--max-nodes", "2000",
                                 "-o", str(tmp_path / "g.svg")], delay, tmp_path, sent=number)
    assert "Traceback" not in err, err
    assert status in (0, 128 + number), (status, err)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("after", [0.0, 0.001, 0.003, 0.006, 0.01, 0.02])
def test_ctrl_c_as_the_command_ends_is_still_clean(after: float, tmp_path: Path) -> None:
    """The work is done (its last line printed) and the process is ending: a Ctrl-C then gives no traceback
    and no death by signal; either the command's own status or the one-line goodbye and 130."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD, "graph", "x*y", "x=2", "y=3", "-o", "g.svg"], cwd=tmp_path,
                             env={**_env(), "READY": "", "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    last = ""
    while "graph written to" not in last:  # the last line, once the picture is written
        last = child.stdout.readline()
        assert last, "the command ended before saying it wrote the picture"
    time.sleep(after)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert (child.returncode, err) in ((0, ""), (130, "micrograd: interrupted\n"))


def _press_ctrl_c_on_creating(suffix: str, real_open: Any) -> Any:
    def opening(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        if flags & os.O_CREAT and os.fspath(path).endswith(suffix):
            signal.raise_signal(signal.SIGINT)  # handled at the next line of Python: right after the file was made
        return fd

    return opening


def test_ctrl_c_the_moment_the_temporary_file_is_made_leaves_nothing(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    from micrograd.files import write_atomic

    monkeypatch.setattr(os, "open", _press_ctrl_c_on_creating(".tmp", os.open))
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "g.svg", b"<svg/>")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_the_moment_the_write_test_file_is_made_leaves_nothing(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    from micrograd.demos.options import check_out_dir

    monkeypatch.setattr(os, "open", _press_ctrl_c_on_creating("", os.open))
    with pytest.raises(KeyboardInterrupt):
        check_out_dir(tmp_path / "out")
    monkeypatch.undo()
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("argv", [["--steps", "-1"], ["--bogus"], ["--seed", "x"]])
def test_a_demo_script_says_bad_options_in_one_line(argv: list[str], tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "micrograd.demos.apple", "--out", str(tmp_path), *argv],
                          env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("micrograd: error: "), done.stderr
    assert "--help" in done.stderr


def test_a_swallowed_ctrl_c_leaves_a_callers_timer_alone() -> None:
    """With the caller's timer running, the guard must not borrow SIGALRM: Python's own report stands
    (here: the caller's unraisable hook gets it) and the caller's timer and handler are untouched."""
    import weakref

    from micrograd.interrupt import stop_on_interrupt

    class Thing:
        pass

    reported: list[type[BaseException]] = []
    previous_hook = sys.unraisablehook
    previous_alarm = signal.signal(signal.SIGALRM, lambda *_: None)
    sys.unraisablehook = lambda unraisable: reported.append(unraisable.exc_type)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        caller_alarm = signal.getsignal(signal.SIGALRM)
        with stop_on_interrupt() as guard:
            thing = Thing()
            ref = weakref.ref(thing, lambda _: _press_ctrl_c())
            del thing
            assert ref() is None and not guard.pending
            assert signal.getsignal(signal.SIGALRM) is caller_alarm
            assert 25.0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30.0
        assert reported == [KeyboardInterrupt]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_alarm)
        sys.unraisablehook = previous_hook


def test_a_sigterm_during_a_write_ends_through_the_cleanup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SIGTERM and SIGHUP while the picture's temporary file is being synced: SystemExit(128 + the first),
    the file removed (the second signal, handled in the middle of the cleanup, must not cut it short)."""
    from micrograd.files import write_atomic
    from micrograd.interrupt import stop_on_interrupt

    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        both = {signal.SIGTERM, signal.SIGHUP}  # together, as systemd sends them: one is handled in the cleanup
        signal.pthread_sigmask(signal.SIG_BLOCK, both)
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGHUP)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, both)
        (lambda: None)()

    before = _handlers()
    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(SystemExit) as ended, stop_on_interrupt():
        write_atomic(tmp_path / "g.svg", b"<svg/>")
    monkeypatch.undo()
    assert ended.value.code in (128 + signal.SIGTERM, 128 + signal.SIGHUP)
    assert list(tmp_path.iterdir()) == []
    assert _handlers() == before


@pytest.mark.parametrize("then", [0.002, 0.01, 0.05])
def test_sigterm_then_ctrl_c_still_ends_as_sigterm(then: float, tmp_path: Path) -> None:
    expression = "+".join(["tanh(x*y + z) * sigmoid(x - y)"] * 60)
    read, write = os.pipe()
    try:
        child = subprocess.Popen([sys.executable, "-c", _CHILD, "graph", expression, "x=0.3", "y=-1", "z=2",
                                  "--max-nodes", "2000", "-o", str(tmp_path / "g.svg")], cwd=tmp_path,
                                 env={**_env(), "READY": str(write)}, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, pass_fds=(write,))
        os.close(write)
        assert select.select([read], [], [], 60)[0] and os.read(read, 1) == b"1"
    finally:
        os.close(read)
    time.sleep(0.4)
    child.send_signal(signal.SIGTERM)
    time.sleep(then)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert (child.returncode, err) in ((128 + signal.SIGTERM, ""), (0, "")), err
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_sigterm_is_handled_when_ctrl_c_is_ignored(tmp_path: Path) -> None:
    expression = "+".join(["tanh(x*y + z) * sigmoid(x - y)"] * 60)
    status, _, err = _interrupt(["graph", expression, "x=0.3", "y=-1", "z=2", "--max-nodes", "2000",
                                 "-o", str(tmp_path / "g.svg")], 0.4, tmp_path, ignoring_ctrl_c=True,
                                sent=signal.SIGTERM)
    assert (status, err) in ((128 + signal.SIGTERM, ""), (0, "")), err
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
