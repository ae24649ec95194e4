"""Ctrl-C as one clean stop, shared by ``micrograd`` (the CLI) and the demo scripts.

Why not Python's own handling: its KeyboardInterrupt is raised wherever Python code happens to be
running when the signal is handled, and when that is a weakref callback, a ``__del__`` or a
garbage-collector callback (importlib's module-lock cache is one, during any import), Python cannot
raise it there: it prints "Exception ignored in ..." with a traceback and carries on as if the key
had never been pressed.  Within `stop_on_interrupt` such a swallowed Ctrl-C is delivered again a
moment later (by a SIGALRM timer; Windows has none and keeps Python's behaviour), where it can be
raised; and a second Ctrl-C while the first one unwinds (files being cleaned up, the goodbye line)
is ignored rather than cutting that short.

Imports only the standard library's signal handling: the CLI enters this before anything else loads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType, TracebackType
from typing import Any, NoReturn

__all__ = ["EXIT_INTERRUPTED", "exit_process", "interrupted", "stop_on_interrupt"]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C

REDELIVERY_DELAY = 0.01  # seconds; long enough for the callback that swallowed the interrupt to return
_HAS_ALARM = hasattr(signal, "setitimer")


class stop_on_interrupt:  # noqa: N801 -- a context manager, named like contextlib's
    """Within ``with stop_on_interrupt():`` a Ctrl-C raises one KeyboardInterrupt in the main thread, even
    if it first lands where Python cannot raise it; repeats are ignored until the block is left.

    Outside the main thread Python does not let a program handle signals: then this does nothing and
    Python's own KeyboardInterrupt is what the caller sees.  Leaving the block restores the SIGINT
    and SIGALRM handlers and ``sys.unraisablehook`` that were there before (a swallowed Ctrl-C is sent
    again with a SIGALRM timer, so the block also owns ``ITIMER_REAL``).
    """

    def __init__(self) -> None:
        self.pressed = False  # whether Ctrl-C was pressed inside: see `interrupted`
        self._active = False
        self._raised = False
        self._previous_handler: Any = None
        self._previous_alarm: Any = None
        self._previous_hook = sys.unraisablehook

    def __enter__(self) -> stop_on_interrupt:
        try:
            self._previous_handler = signal.signal(signal.SIGINT, self._on_signal)
        except ValueError:  # not the main thread
            return self
        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._on_unraisable
        if _HAS_ALARM:
            self._previous_alarm = signal.signal(signal.SIGALRM, self._on_alarm)
        self._active = True
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if not self._active:
            return
        self._active = False
        sys.unraisablehook = self._previous_hook
        if _HAS_ALARM:
            signal.setitimer(signal.ITIMER_REAL, 0)
            alarm = self._previous_alarm
            signal.signal(signal.SIGALRM, signal.SIG_DFL if alarm is None else alarm)
        previous = self._previous_handler
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.pressed = True
        if self._raised:  # a second Ctrl-C must not interrupt the cleanup or the one-line goodbye
            return
        self._raised = True
        raise KeyboardInterrupt

    def _on_unraisable(self, unraisable: Any) -> None:
        if not (self._active and issubclass(unraisable.exc_type, KeyboardInterrupt)):
            self._previous_hook(unraisable)
            return
        self._raised = False  # it never reached the program: the next delivery must raise again
        if _HAS_ALARM:  # a timer signal, handled in the main thread once the swallowing callback is over
            signal.setitimer(signal.ITIMER_REAL, REDELIVERY_DELAY)

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        self._on_signal(signal.SIGINT, frame)


def interrupted(exc: BaseException | None = None) -> bool:
    """Whether a Ctrl-C is behind `exc` (or behind the error being reported, if None), so the program
    should stop with "interrupted" rather than report the error.

    True if a KeyboardInterrupt is in `exc`'s chain (Python 3.11 wraps one raised while a class is being
    made, as in matplotlib's import, in a RuntimeError), or if Ctrl-C was pressed inside the active
    `stop_on_interrupt`: C code that an interrupt stops (numpy's import, a ``dot`` killed by the same
    Ctrl-C) often reports it as an error of its own with no trace of the KeyboardInterrupt.
    """
    guard = getattr(signal.getsignal(signal.SIGINT), "__self__", None)
    if isinstance(guard, stop_on_interrupt) and guard.pressed:
        return True
    seen: set[int] = set()
    cause = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def exit_process(status: int) -> NoReturn:
    """End the program with `status`, as ``sys.exit`` does; but after a Ctrl-C (status 130) end it at once,
    once stdout and stderr are flushed, without the interpreter's finalization.

    Why: a Ctrl-C can cut short the import of a C extension (numpy, matplotlib), and finalizing such a
    half-made module can abort the process ("Fatal Python error: PyThreadState_Get", status -6) after
    "interrupted" was printed: seen in 3 of ~900 interrupted tours on a loaded 2-core machine.  Our own
    cleanup (temporary files) has already run by then, as the KeyboardInterrupt unwound.
    """
    if status == EXIT_INTERRUPTED:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):  # closed, or not a real stream
                stream.flush()
        os._exit(status)
    sys.exit(status)
