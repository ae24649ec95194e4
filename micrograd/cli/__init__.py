"""The ``micrograd`` command line: differentiate an expression and draw its graph, or run the demos.

    micrograd graph "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3 -o graph.svg
    micrograd demo

Start at `main`; the parser is in `micrograd.cli.commands`, each subcommand in its own module
(`micrograd.cli.graph`, `micrograd.cli.demo`), the expression language in
`micrograd.cli.expression`.  ``[project.scripts] micrograd = "micrograd.cli:main"``.

Exit status: 0 on success; 2 for any bad input or an output the system refuses (one line on
stderr, never a traceback); 1 when the environment fails us (Graphviz's ``dot`` missing or
crashing, an internal error); 130 after Ctrl-C, at any moment (one line).

Why this module imports only `signal` and `sys`: the console script imports it before `main`
runs, and a Ctrl-C that lands before `main` has taken over gets Python's traceback.  So `main`
takes over first and everything else is imported inside it.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default ``sys.argv[1:]``) and return the exit status.

    Ctrl-C at any moment, imports included, ends with one line on stderr and status 130;
    a failure to print (an ASCII-only terminal, a closed pipe) with one line and status 2.
    """
    previous = signal.getsignal(signal.SIGINT)
    installed = _stop_on_first_interrupt()
    try:
        from .commands import run

        return run(argv)
    except KeyboardInterrupt:
        print("micrograd: interrupted", file=sys.stderr)
        return 130
    except UnicodeEncodeError as e:  # a result the terminal's encoding cannot show
        print(f"micrograd: error: cannot print {e.object[e.start:e.end]!r} in this output's encoding "
              f"({e.encoding}); set PYTHONIOENCODING=utf-8", file=sys.stderr)
        return 2
    except BrokenPipeError:  # stdout closed early (`micrograd demo | head`)
        _silence_stdout()
        print("micrograd: error: the output was closed before everything was printed", file=sys.stderr)
        return 2
    finally:
        if installed:  # main() called from Python code (tests, notebooks): leave its Ctrl-C as it was
            signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def _stop_on_first_interrupt() -> bool:
    """Make Ctrl-C raise KeyboardInterrupt once and ignore repeats while we stop; False if Python does not
    let us (not the main thread), and then Python's own KeyboardInterrupt is what `main` catches."""
    try:
        signal.signal(signal.SIGINT, _interrupted)
    except ValueError:
        return False
    return True


def _interrupted(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the one-line goodbye
    raise KeyboardInterrupt


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail again on the closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests): nothing to flush
        pass
