"""The options every demo takes (``--out --steps --seed --quick``) and running one demo as a script.

Shared by ``micrograd demo`` (`micrograd.cli.demo`) and ``python micrograd/demos/NAME.py``, so
both read the same options the same way.  This module imports no demo and nothing heavy: the
command line reads it before any demo is loaded, and `positive_int` also serves ``micrograd graph``.

User errors (an output folder that cannot be written, a bad number) are one line on stderr and
exit status 2, never a traceback; Ctrl-C is one line and exit status 130.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..interrupt import OUTPUT_CLOSED, interrupted, run_as_program, run_guarded, silence_stdout

__all__ = ["DEFAULT_OUT", "EXIT_USAGE", "DemoMain", "UsageError", "add_arguments",
           "check_out_dir", "one_line", "positive_int", "run_as_script", "run_script"]

DemoMain = Callable[..., dict[str, Any]]
"""A demo's entry point: ``main(out_dir, steps, seed, quick) -> dict`` with the numbers and ``"files"``."""

DEFAULT_OUT = "micrograd-out"
"""Where the pictures go when no ``--out`` is given (relative to the working directory)."""

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake in the command line, reported as one line and exit status 2."""


def positive_int(text: str) -> int:
    """argparse type for counts (--max-nodes, --steps): a whole number >= 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return n


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--out --steps --seed --quick`` to `parser` (the CLI's ``demo`` subparser, or one script's parser)."""
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                        help=f"folder for the SVG and PNG files (default: ./{DEFAULT_OUT})")
    parser.add_argument("--steps", metavar="N", type=positive_int, default=None,
                        help="training length instead of each demo's default (updates; epochs for cnn)")
    parser.add_argument("--seed", metavar="S", type=int, default=0,
                        help="seed for data and initial weights; the same seed gives the same output (default: 0)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer steps and samples, for CI (the printed checks stay exact)")


def check_out_dir(out: Path) -> None:
    """Create `out` and prove a file can be written there, before any demo spends time training.

    Raises `UsageError` naming the folder when it cannot be made or written (a file in the way,
    no permission, a NUL byte in the name).
    """
    probe = out / f".micrograd-write-test-{secrets.token_hex(6)}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        finally:  # also after a Ctrl-C just as the file was made: never leave it behind
            with contextlib.suppress(OSError):
                os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot write to output folder {str(out)!r}: {reason}") from None
    except ValueError as exc:  # a NUL byte: no operating system takes it
        raise UsageError(f"cannot write to output folder {str(out)!r}: {exc}") from None


def run_script(main: DemoMain, argv: Sequence[str] | None = None) -> int:
    """``python micrograd/demos/NAME.py [--out DIR] [--steps N] [--seed S] [--quick]``: one demo, the CLI's options.

    The description is the first line of the demo's docstring.  Returns the exit status: 0, 2 after a
    one-line error, 130 after Ctrl-C (one line, see `micrograd.interrupt.run_guarded`).
    """
    return run_guarded(functools.partial(_run_demo, main, argv))


def run_as_script(main: DemoMain) -> NoReturn:
    """A demo's ``if __name__ == "__main__":`` block: `run_script`, then end the process with its status."""
    run_as_program(functools.partial(_run_demo, main, None))


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line (argparse prints its usage line too, then exits)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _run_demo(main: DemoMain, argv: Sequence[str] | None) -> int:
    module = sys.modules.get(main.__module__)
    doc = (getattr(module, "__doc__", None) or "A micrograd demo.").strip().splitlines()[0]
    try:
        parser = _Parser(description=doc)
        add_arguments(parser)
        args = parser.parse_args(argv)
        check_out_dir(Path(args.out))
        result = main(out_dir=Path(args.out), steps=args.steps, seed=args.seed, quick=args.quick)
        for path in result.get("files", []):
            print(f"wrote {path}")
    except UsageError as exc:
        return usage_error(str(exc))
    except BrokenPipeError:  # stdout closed early (`python moons.py | head`)
        silence_stdout()
        return usage_error(OUTPUT_CLOSED)
    except OSError as exc:  # a picture the system refused (disk full, a FIFO in the way)
        return usage_error(f"cannot write {str(exc.filename)!r}: {exc.strerror or exc}")
    return 0


def usage_error(message: str, status: int = EXIT_USAGE, label: str = "error") -> int:
    """Print ``micrograd: LABEL: MESSAGE`` (one line) on stderr and return `status` (bad input: 2); the
    demo scripts' and the CLI's (``micrograd.cli.console.fail``) one way to report an error.

    KeyboardInterrupt instead if Ctrl-C was pressed: the error is then its doing (numpy's import
    stopped half-way, ``dot`` killed by the same Ctrl-C), see `micrograd.interrupt.interrupted`.
    """
    if interrupted():
        raise KeyboardInterrupt
    print(f"micrograd: {label}: {one_line(message)}", file=sys.stderr)
    return status


def one_line(text: str) -> str:
    """`text` with line breaks and other unprintable characters escaped, so a message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
