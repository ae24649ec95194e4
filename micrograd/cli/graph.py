"""``micrograd graph EXPRESSION NAME=NUMBER ...``: evaluate, differentiate, print, and draw.

    micrograd graph "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3 -o graph.svg

The text is parsed by `micrograd.cli.expression` (never executed), the graph drawn by
`micrograd.draw.render`.  The output is printed whole or not at all: names the terminal cannot
show, or an output path the system refuses, are found before anything is printed or written.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..demos.options import positive_int
from .console import EXIT_FAILURE, EXIT_OK, check_encodable, fail, warn
from .expression import ACTIVATION_NAMES, OTHER_FUNCTION_NAMES, ExpressionError, parse, parse_assignments

__all__ = ["EXTENSIONS", "add_arguments", "epilog", "run"]

EXTENSIONS = (".svg", ".png", ".pdf", ".dot", ".gv", ".html")
"""What ``-o`` may end in: the format is chosen by extension."""

_EPILOG = """\
expression grammar:
  numbers, variables, + - * / ** (right-associative), unary - and +, parentheses,
  and one-argument calls of
    activations (as in MLP and dot): {activations}
    other functions:                 {functions}
  (linear(x) is x; leaky_relu has PyTorch's negative_slope=0.01).
  Every variable needs exactly one NAME=NUMBER (a finite number), and every NAME=NUMBER
  must be used.  The text is parsed, never executed.  An expression starting with '-'
  goes after '--' (options first):  micrograd graph -o g.svg -- "-x**2" x=3

results:
  the value and d value / d variable are printed at full precision.  Numbers follow
  IEEE 754 as in PyTorch: log(-1) and 0/0 are nan, x/0 and overflow are inf, and nan
  propagates (relu(nan) is nan).  A result or gradient that is inf or nan is printed as
  such ('inf', '-inf', 'nan'), drawn as such, and named in a one-line warning on stderr;
  the exit status stays 0.

output:
  -o picks the format by extension: .svg .png .pdf need Graphviz's 'dot'; .dot/.gv do
  not; .html is a page that steps through the backward pass.  If 'dot' is missing the
  DOT source is written next to the output instead.  Files are written whole or not at
  all (a temporary file renamed into place), through a symlink to its target, and never
  over a directory, FIFO or device.  A big graph is drawn in part (--max-nodes, and at
  most {edges} extra edges), with a note saying what was left out.

exit status:
  0 success; 2 bad input or an output that cannot be written (one line on stderr);
  1 Graphviz's 'dot' missing or failing; 130 interrupted (Ctrl-C).
"""


def epilog() -> str:
    """The help's grammar, results, output and exit-status sections (the function names come from the engine)."""
    from ..draw import DEFAULT_MAX_EDGES

    return _EPILOG.format(activations=" ".join(ACTIVATION_NAMES), functions=" ".join(OTHER_FUNCTION_NAMES),
                          edges=f"{DEFAULT_MAX_EDGES:,}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``graph`` subcommand's arguments and help."""
    from ..draw import DEFAULT_MAX_NODES

    parser.epilog = epilog()
    parser.add_argument("expression", help='e.g. "tanh(x*w + b)"')
    parser.add_argument("assignments", nargs="*", default=[], metavar="NAME=NUMBER",
                        help="a value for each variable")
    parser.add_argument("-o", "--output", default="graph.svg", type=_output_path,
                        help=f"file to write, {' '.join(EXTENSIONS)} (default: graph.svg)")
    parser.add_argument("--no-graph", action="store_true", help="only print the value and gradients")
    parser.add_argument("--explain", action="store_true",
                        help="after the gradients, print the backward pass step by step: each edge's upstream "
                             "gradient, local derivative (its rule in words) and contribution, and where "
                             "contributions add up")
    parser.add_argument("--max-nodes", type=positive_int, default=None, metavar="N",
                        help=f"draw at most N values (default: {DEFAULT_MAX_NODES}); a note says how many were "
                             "left out")
    parser.add_argument("--rankdir", choices=("auto", "LR", "RL", "TB", "BT"), default="auto",
                        help="layout direction (default: auto: LR, inputs on the left, unless the graph is "
                             "too deep for a screen, then TB)")


def run(args: argparse.Namespace) -> int:
    """Evaluate, differentiate and print; then draw unless ``--no-graph``.  Returns the exit status."""
    try:
        values = parse_assignments(args.assignments)
        result = parse(args.expression).build(values)
    except ExpressionError as e:
        return fail(str(e))
    result.backward()

    gradients = result.gradients
    width = max((len(name) for name in gradients), default=0)
    lines = [f"value = {result.value.data!r}"]
    lines += [f"d/d{name:<{width}} = {g!r}" for name, g in gradients.items()]
    if args.explain:
        lines += ["", _explanation(result.value)]
    text = "\n".join(lines) + "\n"
    check_encodable(text, "the result")  # before printing or drawing anything: all or nothing
    if not args.no_graph:
        check_encodable(f"graph written to {args.output}\n", "the output path")
    sys.stdout.write(text)
    sys.stdout.flush()
    if result.non_finite:
        warn(f"not finite: {', '.join(result.non_finite)} (IEEE 754, as in PyTorch: an overflow gives inf, "
             "an undefined result nan)")
    if args.no_graph:
        return EXIT_OK
    return _draw(result.value, args)


def _explanation(root: Any) -> str:
    """The ``--explain`` table (`micrograd.explain`), or why there is none."""
    from ..walkthrough import explain

    if not root.requires_grad:
        return "no backward pass to explain: the value does not depend on any variable"
    return explain(root).table()


def _draw(root: Any, args: argparse.Namespace) -> int:
    import graphviz

    from ..draw import GraphvizNotFoundError, render

    options: dict[str, Any] = {"rankdir": args.rankdir}
    if args.max_nodes is not None:
        options["max_nodes"] = args.max_nodes
    try:
        path = render(root, args.output, **options)
    except GraphvizNotFoundError as e:
        return fail(str(e), EXIT_FAILURE)
    except graphviz.CalledProcessError as e:
        detail = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        return fail(f"Graphviz's dot failed: {detail[0] if detail else e}", EXIT_FAILURE)
    except OSError as e:
        return fail(f"cannot write {str(e.filename or args.output)!r}: {e.strerror or e}")
    except ValueError as e:  # what render refuses to draw (an HTML page of a constant)
        return fail(f"cannot write {str(args.output)!r}: {e}")
    print(f"graph written to {path}")
    return EXIT_OK


def _output_path(text: str) -> str:
    """argparse type for ``-o``: a path ending in a known extension, without a NUL byte (no OS takes one)."""
    if not text.lower().endswith(EXTENSIONS):
        raise argparse.ArgumentTypeError(f"{text!r} must end in one of {' '.join(EXTENSIONS)}")
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r} contains a NUL byte, which no file name can")
    return text

