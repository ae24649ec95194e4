"""`micrograd demo`: run the worked examples in `micrograd.demos`, one after another.

The CLI owns the top-level parser; this module owns the `demo` subcommand's options
(`add_arguments`) and what running it means (`run`).  Each demo is a plain script,
``demos/NAME.py`` with a ``main(out_dir, steps, seed, quick) -> dict``, so the same code runs
as ``micrograd demo NAME``, as ``python demos/NAME.py`` (via `run_script`) and from tests.

User errors (an unknown demo, an output folder that cannot be written) are one line on
stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from micrograd.cli import positive_int
from micrograd.plotting import DEFAULT_OUT

DemoMain = Callable[..., dict[str, Any]]

# name -> what it shows; the order is the tour's order (simplest first)
DEMOS: dict[str, str] = {
    "apple": "backprop by hand: 2 apples, 3 oranges, 10% tax; the price and every gradient, to the last digit",
    "w1w5": "the classic 2-2-2 sigmoid walk-through: dE/dw5, dE/dw1, one update, then 10,000",
    "xor": "a 2-5-1 sigmoid network learns XOR",
    "moons": "micrograd's demo: MLP(2, [16, 16, 1]) with a hinge loss separates two moons",
    "classifier": "a 20 -> 13 -> 8 -> 3 classifier's first-layer gradient, checked against PyTorch",
    "cnn": "Conv2d -> ReLU -> MaxPool2d -> dense learns tiny 8x8 stroke images",
}

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake in the command line, reported as one line and exit status 2."""


def add_arguments(parser: argparse.ArgumentParser, *, names: bool = True) -> None:
    """Add the demo options to `parser` (the CLI's `demo` subparser, or a single script's parser)."""
    if names:
        width = max(map(len, DEMOS))
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = "demos:\n" + "\n".join(f"  {name:<{width}}  {text}" for name, text in DEMOS.items()) + (
            "\n\nexamples:\n  micrograd demo                  # the whole tour (about 20 s)\n"
            "  micrograd demo w1w5 --out pics  # one demo, pictures in ./pics\n"
            "  micrograd demo --quick          # fewer steps, as CI runs it")
        parser.add_argument("names", nargs="*", metavar="NAME",
                            help=f"demos to run, in order (default: the whole tour): {', '.join(DEMOS)}")
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                        help=f"folder for the SVG and PNG files (default: ./{DEFAULT_OUT})")
    parser.add_argument("--steps", metavar="N", type=positive_int, default=None,
                        help="training length instead of each demo's default (updates; epochs for cnn)")
    parser.add_argument("--seed", metavar="S", type=int, default=0,
                        help="seed for data and initial weights; the same seed gives the same output (default: 0)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer steps and samples, for CI (the printed checks stay exact)")


def load(name: str) -> DemoMain:
    """The `main` of demo `name` (imported on demand: a demo's imports cost only when it runs)."""
    if name not in DEMOS:
        raise UsageError(f"unknown demo {name!r}; valid names: {', '.join(DEMOS)}")
    module = importlib.import_module(f"micrograd.demos.{name}")
    main: DemoMain = module.main
    return main


def check_out_dir(out: Path) -> None:
    """Create `out` and prove a file can be written there, before any demo spends time training."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".micrograd-write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot write to output folder {str(out)!r}: {reason}") from None


def run(args: argparse.Namespace) -> int:
    """Run the demos named in `args` (all of them if none), then say where the pictures went."""
    try:
        mains = [(name, load(name)) for name in (args.names or list(DEMOS))]
        out = Path(args.out)
        check_out_dir(out)
    except UsageError as exc:
        return _usage_error(exc)
    files: list[str] = []
    start = time.perf_counter()
    mode = ", quick mode" if args.quick else ""
    print(f"micrograd demo: {len(mains)} demo{'s' * (len(mains) != 1)} (seed {args.seed}{mode}); "
          f"pictures go to {out.resolve()}", flush=True)
    try:
        for name, main in mains:
            print(f"\n== {name}: {DEMOS[name]}", flush=True)
            t0 = time.perf_counter()
            result = main(out_dir=out, steps=args.steps, seed=args.seed, quick=args.quick)
            files.extend(result.get("files", []))
            print(f"   ({name} took {time.perf_counter() - t0:.1f} s)", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    elapsed = time.perf_counter() - start
    print(f"\nRan {len(mains)} demo{'s' * (len(mains) != 1)} in {elapsed:.1f} s; "
          f"wrote {len(files)} file{'s' * (len(files) != 1)} to {out.resolve()}:")
    for path in files:
        print(f"  {Path(path).name}")
    return 0


def run_script(main: DemoMain, argv: Sequence[str] | None = None) -> int:
    """`python demos/NAME.py [--out DIR] [--steps N] [--seed S] [--quick]`: one demo, same options as the CLI."""
    module = sys.modules.get(main.__module__)
    name = Path(getattr(module, "__file__", None) or "demo").stem
    parser = argparse.ArgumentParser(description=DEMOS.get(name, "a micrograd demo"))
    add_arguments(parser, names=False)
    args = parser.parse_args(argv)
    try:
        check_out_dir(Path(args.out))
    except UsageError as exc:
        return _usage_error(exc)
    result = main(out_dir=Path(args.out), steps=args.steps, seed=args.seed, quick=args.quick)
    for path in result.get("files", []):
        print(f"wrote {path}")
    return 0


def _usage_error(exc: UsageError) -> int:
    print(f"micrograd: error: {exc}", file=sys.stderr)
    return EXIT_USAGE
