"""What every ``micrograd`` subcommand shares: its name, exit statuses, one-line messages, safe printing.

The rule these helpers keep: a user's mistake, or an output the system refuses, is one line on
stderr and exit status 2, never a traceback; a result is printed whole or not at all.
"""

from __future__ import annotations

import sys
from typing import TextIO

from ..demos.options import EXIT_USAGE, one_line
from ..demos.options import usage_error as fail  # `fail(message, status=2, label="error")`: one line on stderr

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "PROG", "UsageError", "check_encodable", "fail", "one_line",
           "unencodable", "warn"]

PROG = "micrograd"

EXIT_OK = 0
EXIT_FAILURE = 1  # the environment failed us: Graphviz missing or crashing, an internal error
# EXIT_USAGE (2): bad input, the command line, the expression, an output path the system refuses


class UsageError(Exception):
    """Bad input to a subcommand, reported by `main` as one line and exit status 2."""


def warn(message: str) -> None:
    """Print ``micrograd: warning: MESSAGE`` (one line) on stderr; the command goes on."""
    print(f"{PROG}: warning: {one_line(message)}", file=sys.stderr)


def unencodable(text: str, stream: TextIO | None = None) -> str | None:
    """The first run of characters in `text` that `stream` (default: stdout) cannot write in its encoding, e.g.
    'é' on an ASCII-only terminal; None if it can write all of `text`."""
    stream = sys.stdout if stream is None else stream
    encoding = getattr(stream, "encoding", None) or "utf-8"
    errors = getattr(stream, "errors", None) or "strict"
    try:
        text.encode(encoding, errors)
    except UnicodeEncodeError as e:
        return e.object[e.start:e.end]
    except LookupError:  # an encoding Python does not know: it could not print anything either
        return text
    return None


def check_encodable(text: str, what: str) -> None:
    """Raise `UsageError` unless stdout can print `text` (`what` says what it is), before anything is done."""
    bad = unencodable(text)
    if bad is not None:
        encoding = getattr(sys.stdout, "encoding", None) or "?"
        raise UsageError(f"cannot print {bad!r} (in {what}) in this output's encoding ({encoding}); "
                         "set PYTHONIOENCODING=utf-8 or use ASCII names")
