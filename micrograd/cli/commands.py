"""The ``micrograd`` parser and dispatch: which subcommand runs, with which options.

Each subcommand's module (`micrograd.cli.graph`, `micrograd.cli.demo`) adds its own options
(``add_arguments``) and runs them (``run``).  The demo's options come from the demo registry, which
is only imported when ``demo`` is asked for, so ``micrograd graph`` never depends on the demos.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from .. import __version__
from ..interrupt import interrupted
from .console import EXIT_FAILURE, PROG, UsageError, fail

__all__ = ["build_parser", "run"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line (argparse prints usage lines and exits)."""

    def error(self, message: str) -> NoReturn:
        hint = f"see '{self.prog} --help'"
        if message.startswith("unrecognized arguments: -"):
            hint = "an expression starting with '-' goes after '--', options first: micrograd graph -o g.svg -- -x x=1"
        raise UsageError(f"{message} ({hint})")


def run(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default ``sys.argv[1:]``) and run the subcommand; return the exit status.

    Bad input is one line and status 2; an unexpected exception (a bug) is one line and status 1.
    KeyboardInterrupt and output-stream errors are left to `micrograd.cli.main`.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(with_demo=_command(args_list) == "demo")
    except ImportError as e:
        return fail(f"the demo is not available ({e})")
    try:
        args = parser.parse_args(args_list)
    except UsageError as e:
        return fail(str(e))
    except SystemExit as e:  # --help and --version print and exit 0
        return e.code if isinstance(e.code, int) else 0
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as e:
        return fail(str(e))
    except (KeyboardInterrupt, UnicodeEncodeError, BrokenPipeError):
        raise
    except Exception as e:  # a bug, but still one line rather than a traceback
        if interrupted(e):  # a Ctrl-C that Python or C code turned into another error
            raise KeyboardInterrupt from None
        return fail(f"{type(e).__name__}: {e}", EXIT_FAILURE, "internal error (please report it)")


def build_parser(with_demo: bool = False) -> argparse.ArgumentParser:
    """The argument parser; the demo's options are only loaded (from `micrograd.demos`) when asked for."""
    from . import graph

    parser = _Parser(prog=PROG, description="A scalar autodiff engine for learning backprop.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)

    graph_parser = commands.add_parser(
        "graph", help="differentiate an expression and draw its computation graph",
        description="Evaluate EXPRESSION, run backward, print the value and gradients, and draw the graph.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    graph.add_arguments(graph_parser)
    graph_parser.set_defaults(handler=graph.run)

    demo_parser = commands.add_parser("demo", help="a guided tour of backprop: the demos, one after another",
                                      description="A guided tour of backprop.")
    if with_demo:
        from .demo import add_arguments as add_demo_arguments
        from .demo import run as run_demo

        add_demo_arguments(demo_parser)
        demo_parser.set_defaults(handler=run_demo)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv`: the top level has only flags, so it is the first non-flag."""
    return next((a for a in argv if not a.startswith("-")), None)
