"""``micrograd demo [NAME ...]``: the guided tour, running the demos of `micrograd.demos` one after another.

The demos, their order and their options live in `micrograd.demos` (imported here only when
the subcommand runs); this module runs them, times them and says where the pictures went.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .console import EXIT_OK, UsageError, check_encodable

__all__ = ["TOUR_SECONDS", "add_arguments", "run"]

TOUR_SECONDS = 15
"""How long the whole tour takes: ``time micrograd demo`` in fresh runs gave 14.5, 14.9 and 15.7 s wall
(14.5-15.8 s CPU; seed 0, Python 3.11, a 2-core machine).  Said the same way in ``--help`` and the README."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``demo`` subcommand's arguments: the demo names, then the options every demo takes."""
    from ..demos.options import add_arguments as add_demo_options
    from ..demos.registry import DEMOS

    width = max(map(len, DEMOS))
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "demos:\n" + "\n".join(f"  {name:<{width}}  {text}" for name, text in DEMOS.items()) + (
        f"\n\nexamples:\n  micrograd demo                  # the whole tour (about {TOUR_SECONDS} s)\n"
        "  micrograd demo w1w5 --out pics  # one demo, pictures in ./pics\n"
        "  micrograd demo --quick          # fewer steps, as CI runs it")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"demos to run, in order (default: the whole tour): {', '.join(DEMOS)}")
    add_demo_options(parser)


def run(args: argparse.Namespace) -> int:
    """Run the demos named in `args` (all of them if none), then say where the pictures went."""
    from ..demos.options import UsageError as DemoUsageError
    from ..demos.options import check_out_dir
    from ..demos.registry import DEMOS, load

    out = Path(args.out)
    try:
        mains = [(name, load(name)) for name in (args.names or list(DEMOS))]
        where = str(out.resolve())
        check_encodable(where, "the output folder")  # before anything is made or run, not after the training
        check_out_dir(out)
    except DemoUsageError as exc:
        raise UsageError(str(exc)) from None
    except ImportError as exc:  # a demo, or a library it needs, is not installed
        raise UsageError(f"the demo is not available ({exc})") from None
    except ValueError as exc:  # a NUL byte in --out: Path.resolve refuses it
        raise UsageError(f"cannot write to output folder {str(out)!r}: {exc}") from None
    files: list[str] = []
    start = time.perf_counter()
    mode = ", quick mode" if args.quick else ""
    s = "s" * (len(mains) != 1)
    print(f"micrograd demo: {len(mains)} demo{s} (seed {args.seed}{mode}); pictures go to {where}", flush=True)
    for name, main in mains:
        print(f"\n== {name}: {DEMOS[name]}", flush=True)
        t0 = time.perf_counter()
        try:
            result = main(out_dir=out, steps=args.steps, seed=args.seed, quick=args.quick)
        except BrokenPipeError:  # stdout closed, not a picture: `micrograd.cli.main` says so
            raise
        except OSError as exc:  # a picture the system refused (disk full, a FIFO in the way)
            raise UsageError(f"cannot write {str(exc.filename)!r}: {exc.strerror or exc}") from None
        files.extend(result.get("files", []))
        print(f"   ({name} took {time.perf_counter() - t0:.1f} s)", flush=True)
    elapsed = time.perf_counter() - start
    print(f"\nRan {len(mains)} demo{s} in {elapsed:.1f} s; "
          f"wrote {len(files)} file{'s' * (len(files) != 1)} to {where}:")
    for path in files:
        print(f"  {Path(path).name}")
    return EXIT_OK
