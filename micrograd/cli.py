"""The ``micrograd`` command line: differentiate an expression and draw its graph, or run the demo.

    micrograd graph "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3 -o graph.svg

Exit status: 0 on success; 2 for any bad input (one line on stderr, never a traceback);
1 when the environment fails us (Graphviz's ``dot`` missing or crashing, an internal error).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import __version__

PROG = "micrograd"

_GRAPH_EPILOG = """\
expression grammar:
  numbers, variables, + - * / ** (right-associative), unary - and +, parentheses,
  and one-argument calls of: abs cos exp log relu sigmoid sin softplus sqrt tanh.
  Every variable needs exactly one NAME=NUMBER, and every NAME=NUMBER must be used.
  The text is parsed, never executed.  An expression starting with '-' goes after
  '--' (options first):  micrograd graph -o g.svg -- "-x**2" x=3

results:
  the value and d value / d variable are printed at full precision.  A result or
  gradient that overflows to inf or nan is an error (exit status 2), as is any
  domain error (log(-1), x/0, sqrt'(0), ...).

output:
  -o picks the format by extension: .svg .png .pdf need Graphviz's 'dot'; .dot/.gv
  do not.  If 'dot' is missing the DOT source is written next to the output instead.

exit status:
  0 success; 2 bad input (one line on stderr); 1 Graphviz's 'dot' missing or failing.
"""


class _UsageError(Exception):
    """A bad command line; argparse would otherwise print usage lines and exit."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        hint = f"see '{self.prog} --help'"
        if message.startswith("unrecognized arguments: -"):
            hint = "an expression starting with '-' goes after '--', options first: micrograd graph -o g.svg -- -x x=1"
        raise _UsageError(f"{message} ({hint})")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default ``sys.argv[1:]``) and return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(with_demo=_command(args_list) == "demo")
    except ImportError as e:
        return _fail(f"the demo is not available ({_one_line(str(e))})")
    try:
        args = parser.parse_args(args_list)
    except _UsageError as e:
        return _fail(str(e))
    except SystemExit as e:  # --help and --version print and exit 0
        return e.code if isinstance(e.code, int) else 0
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug, but still one line rather than a traceback
        print(f"{PROG}: internal error (please report it): {type(e).__name__}: {_one_line(str(e))}", file=sys.stderr)
        return 1


def build_parser(with_demo: bool = False) -> argparse.ArgumentParser:
    """The argument parser; the demo's own arguments are only loaded (from `micrograd.tour`) when asked for.

    Loading them lazily keeps ``micrograd graph`` independent of the demo and its imports.
    """
    parser = _Parser(prog=PROG, description="A scalar autodiff engine for learning backprop.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)

    graph = commands.add_parser(
        "graph", help="differentiate an expression and draw its computation graph",
        description="Evaluate EXPRESSION, run backward, print the value and gradients, and draw the graph.",
        epilog=_GRAPH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    graph.add_argument("expression", help='e.g. "tanh(x*w + b)"')
    graph.add_argument("assignments", nargs="*", default=[], metavar="NAME=NUMBER",
                       help="a value for each variable")
    graph.add_argument("-o", "--output", default="graph.svg", type=_output_path,
                       help="file to write, .svg .png .pdf .dot or .gv (default: graph.svg)")
    graph.add_argument("--no-graph", action="store_true", help="only print the value and gradients")
    graph.add_argument("--max-nodes", type=positive_int, default=None, metavar="N",
                       help="draw at most N values (default: 500); a note says how many were left out")
    graph.add_argument("--rankdir", choices=("LR", "RL", "TB", "BT"), default="LR",
                       help="layout direction (default: LR, inputs on the left)")
    graph.set_defaults(handler=_run_graph)

    demo = commands.add_parser("demo", help="a guided tour of backprop", description="A guided tour of backprop.")
    if with_demo:
        importlib.import_module("micrograd.tour").add_arguments(demo)
    demo.set_defaults(handler=_run_demo)
    return parser


# ---------------------------------------------------------------- commands
def _run_graph(args: argparse.Namespace) -> int:
    from .expr import ExpressionError, parse, parse_assignments

    try:
        values = parse_assignments(args.assignments)
        result = parse(args.expression).build(values)
        result.backward()
    except ExpressionError as e:
        return _fail(str(e))

    gradients = result.gradients
    width = max((len(name) for name in gradients), default=0)
    print(f"value = {result.value.data!r}")
    for name, g in gradients.items():
        print(f"d/d{name:<{width}} = {g!r}")
    if args.no_graph:
        return 0

    import graphviz

    from .draw import GraphvizNotFoundError, render

    options: dict[str, Any] = {"rankdir": args.rankdir}
    if args.max_nodes is not None:
        options["max_nodes"] = args.max_nodes
    try:
        path = render(result.value, args.output, **options)
    except GraphvizNotFoundError as e:
        print(f"{PROG}: error: {_one_line(str(e))}", file=sys.stderr)
        return 1
    except graphviz.CalledProcessError as e:
        detail = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        print(f"{PROG}: error: Graphviz's dot failed: {_one_line(detail[0] if detail else str(e))}", file=sys.stderr)
        return 1
    except OSError as e:
        return _fail(f"cannot write {str(e.filename or args.output)!r}: {e.strerror or e}")
    print(f"graph written to {path}")
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    try:
        status: int = importlib.import_module("micrograd.tour").run(args)
    except ImportError as e:  # the tour, or a demo it loads, is not installed
        return _fail(f"the demo is not available ({_one_line(str(e))})")
    return status


# ---------------------------------------------------------------- helpers
def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv`: the top level has only flags, so it is the first non-flag."""
    return next((a for a in argv if not a.startswith("-")), None)


def _output_path(text: str) -> str:
    extensions = (".svg", ".png", ".pdf", ".dot", ".gv")
    if not text.lower().endswith(extensions):
        raise argparse.ArgumentTypeError(f"{text!r} must end in one of {' '.join(extensions)}")
    return text


def positive_int(text: str) -> int:
    """argparse type for counts (--max-nodes, --steps): a whole number >= 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return n


def _one_line(text: str) -> str:
    """`text` with line breaks and other unprintable characters escaped, so errors stay one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {_one_line(message)}", file=sys.stderr)
    return 2
