"""The ``micrograd`` command line: differentiate an expression and draw its graph, or run the demos.

    micrograd graph "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3 -o graph.svg
    micrograd demo

Start at `main`; the parser is in `micrograd.cli.commands`, each subcommand in its own module
(`micrograd.cli.graph`, `micrograd.cli.demo`), the expression language in
`micrograd.cli.expression`.  ``[project.scripts] micrograd = "micrograd.cli:entry_point"``.

Exit status: 0 on success; 2 for any bad input or an output the system refuses (one line on
stderr, never a traceback); 1 when the environment fails us (Graphviz's ``dot`` missing or
crashing, an internal error); 130 after Ctrl-C, at any moment (one line).

Why this module imports only `functools` and `micrograd.interrupt` (standard library only): the
console script imports it before `main` runs, and a Ctrl-C that lands before `main` has taken over
gets Python's traceback.  So `main` takes over first and everything else is imported inside it.
What runs before this module cannot be guarded by any program: the interpreter's start, site's
``.pth`` files, and the ``micrograd`` package itself (the engine, ~15 ms), which the console script
must import to reach this subpackage.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NoReturn

from ..interrupt import OUTPUT_CLOSED, run_as_program, run_guarded, silence_stdout

__all__ = ["entry_point", "main"]


def entry_point() -> NoReturn:
    """The ``micrograd`` console script (and ``python -m micrograd``): `main`, then exit with its status."""
    run_as_program(functools.partial(_run, None))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default ``sys.argv[1:]``) and return the exit status.

    Ctrl-C at any moment, imports included, ends with one line on stderr and status 130;
    a failure to print (an ASCII-only terminal, a closed pipe) with one line and status 2.
    """
    return run_guarded(functools.partial(_run, argv))


def _run(argv: Sequence[str] | None) -> int:
    from .console import fail

    try:
        from .commands import run

        return run(argv)
    except UnicodeEncodeError as e:  # a result the terminal's encoding cannot show
        return fail(f"cannot print {e.object[e.start:e.end]!r} in this output's encoding ({e.encoding}); "
                    "set PYTHONIOENCODING=utf-8")
    except BrokenPipeError:  # stdout closed early (`micrograd demo | head`)
        silence_stdout()
        return fail(OUTPUT_CLOSED)
