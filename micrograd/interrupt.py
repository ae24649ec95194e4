"""Ctrl-C as one clean stop, shared by ``micrograd`` (the CLI) and the demo scripts.

Why not Python's own handling: its KeyboardInterrupt is raised wherever Python code happens to be
running when the signal is handled, and when that is a weakref callback, a ``__del__`` or a
garbage-collector callback (importlib's module-lock cache is one, during any import), Python cannot
raise it there: it prints "Exception ignored in ..." with a traceback and carries on as if the key
had never been pressed.  And C code that the interrupt stops (numpy's import, a ``dot`` killed by
the same Ctrl-C) often reports it as an error of its own.  `run_guarded` handles all of it:
a swallowed Ctrl-C is delivered again a moment later, an error that follows a Ctrl-C is the
Ctrl-C's doing, and a repeat while the first one unwinds is ignored rather than cutting the cleanup
short.  SIGTERM (``kill``) and SIGHUP (a closed terminal) end it through the same cleanup.
`exit_process` then ends the process without finalizing half-imported C extensions.

Imports nothing but the standard library: the CLI enters this before anything else loads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import Any, NoReturn

__all__ = ["EXIT_INTERRUPTED", "exit_process", "interrupted", "run_as_program", "run_guarded", "silence_stdout",
           "stop_on_interrupt"]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C
GOODBYE = "micrograd: interrupted"
OUTPUT_CLOSED = "the output was closed before everything was printed"
REDELIVERY_DELAY = 0.01  # seconds before a swallowed Ctrl-C is sent again (again and again, if swallowed again)
REPEAT_WINDOW = 1.0  # seconds after a delivered Ctrl-C in which another one is taken as a repeat and ignored
_HAS_ALARM = hasattr(signal, "setitimer")  # POSIX; Windows keeps Python's own behaviour for swallowed ones
# a terminal closed (SIGHUP) or `kill` (SIGTERM): end as Python's default would, but through the cleanup
_ENDING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Our signals wait inside (they are handled when it ends, by whatever handler is then in place), so
    that handlers and hooks are swapped as one step.  A signal already received may still be handled."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, ())  # read first: blocking may itself run a handler
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGALRM, *_ENDING})
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


class stop_on_interrupt:  # noqa: N801 -- a context manager, named like contextlib's
    """Within ``with stop_on_interrupt():`` a Ctrl-C raises KeyboardInterrupt in the main thread, even if it
    first lands where Python cannot raise it; a repeat within `REPEAT_WINDOW` seconds is ignored.

    It does nothing outside the main thread (Python lets only the main thread handle signals); a SIGINT
    that is ignored (a background job of a shell, ``nohup``) or handled from C stays so.  A swallowed
    Ctrl-C is sent again with a one-shot SIGALRM timer, only if nobody else uses SIGALRM or the timer;
    otherwise Python's own report stands.  SIGTERM and SIGHUP, if they
    had Python's default, raise SystemExit(128 + signal) inside, so ``finally`` blocks (temporary
    files) run; while one stop unwinds, further Ctrl-C, SIGTERM or SIGHUP are ignored for `REPEAT_WINDOW`
    seconds.  Leaving the block puts back every handler and ``sys.unraisablehook`` (or leaves `then` on
    those signals, if given); a signal while it is being left is not raised by us, and one that waited
    until the end goes to the handler then in place.
    """

    def __init__(self, then: Callable[[int, FrameType | None], Any] | None = None) -> None:
        self.pressed = False  # whether Ctrl-C was pressed inside: see `interrupted`
        self._then = then  # the SIGINT handler to leave in place (default: the one found on entering)
        self._active = False
        self._closing = False  # leaving the block: the work is done, a Ctrl-C now is too late to stop it
        self._delivered_at: float | None = None  # when a KeyboardInterrupt last reached the program
        self._armed = False  # a swallowed Ctrl-C waits on our SIGALRM timer
        self._previous_handler: Any = None
        self._previous_alarm: Any = None
        self._previous_hook: Any = None
        self._previous_ending: dict[int, Any] = {}

    @property
    def pending(self) -> bool:
        """Whether a Ctrl-C that Python swallowed is still waiting to be sent again."""
        return self._armed

    def __enter__(self) -> stop_on_interrupt:
        if threading.current_thread() is not threading.main_thread():
            return self
        try:
            with _signals_held():
                self.pressed, self._delivered_at, self._armed, self._closing = False, None, False, False
                self._previous_hook, self._previous_handler = sys.unraisablehook, signal.getsignal(signal.SIGINT)
                self._active = True  # from here on, __exit__ puts back whatever was changed
                self._previous_ending = {sig: signal.signal(sig, self._on_end) for sig in _ENDING
                                         if signal.getsignal(sig) is signal.SIG_DFL}
                if self._previous_handler in (signal.SIG_IGN, None):  # Ctrl-C ignored, or not Python's: keep it
                    return self
                if _HAS_ALARM:
                    sys.unraisablehook = self._on_unraisable
                signal.signal(signal.SIGINT, self._on_signal)
        except BaseException:  # a Ctrl-C that waited is handled as the signals are let through: undo, go on
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._closing = True
        if not self._active:
            return
        self._disarm()  # first: a timer going off while our signals wait would find SIG_DFL and kill us
        with _signals_held():
            self._active = False
            previous = self._previous_handler
            if previous not in (signal.SIG_IGN, None):
                signal.signal(signal.SIGINT, previous if self._then is None else self._then)
            for sig, handler in self._previous_ending.items():
                signal.signal(sig, handler if self._then is None else self._then)
            sys.unraisablehook = self._previous_hook

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.pressed = True
        if self._stopping():
            return
        raise KeyboardInterrupt

    def _on_end(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGHUP: exit as a shell reports it (128 + signal), running every ``finally`` on the way,
        so no temporary file is left behind."""
        if self._stopping():
            return
        raise SystemExit(128 + signum)

    def _stopping(self) -> bool:
        """Whether the program is already stopping (a Ctrl-C, SIGTERM or SIGHUP raised less than
        `REPEAT_WINDOW` seconds ago: let its cleanup and goodbye finish) or its work is done; if not,
        it stops now."""
        now = time.monotonic()
        if self._closing or (self._delivered_at is not None and now - self._delivered_at < REPEAT_WINDOW):
            return True
        self._taken(now)
        return False

    def _taken(self, now: float) -> None:
        """The program now stops for this Ctrl-C: no timer may send it again."""
        self._delivered_at = now
        self._disarm()

    def _on_unraisable(self, unraisable: Any) -> None:
        if self._active and issubclass(unraisable.exc_type, KeyboardInterrupt) and self._arm():
            self._delivered_at = None  # it never reached the program: the next delivery must raise
            return
        self._previous_hook(unraisable)

    def _arm(self) -> bool:
        if self._armed:
            return True
        if threading.current_thread() is not threading.main_thread():  # signal.signal would refuse
            return False
        if signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0) or signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL:
            return False  # the timer or SIGALRM is somebody else's
        self._previous_alarm = signal.signal(signal.SIGALRM, self._on_alarm)
        signal.setitimer(signal.ITIMER_REAL, REDELIVERY_DELAY)
        self._armed = True
        return True

    def _disarm(self) -> None:
        if not self._armed:
            return
        self._armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous_alarm)

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if self._armed:
            self._on_signal(signal.SIGINT, frame)


def _active_guard() -> stop_on_interrupt | None:
    """The `stop_on_interrupt` whose handler SIGINT has now: the process's signal table is where it lives."""
    guard = getattr(signal.getsignal(signal.SIGINT), "__self__", None)
    return guard if isinstance(guard, stop_on_interrupt) else None


def interrupted(exc: BaseException | None = None) -> bool:
    """Whether a Ctrl-C is behind `exc` (with None: whether Ctrl-C was pressed inside the active guard),
    so the program should stop with "interrupted" rather than report that error.

    True if a KeyboardInterrupt is in `exc`'s chain (Python 3.11 wraps one raised while a class is being
    made, as in matplotlib's import, in a RuntimeError), or if Ctrl-C was pressed inside the active
    `stop_on_interrupt`: C code that an interrupt stops (numpy's import, a ``dot`` killed by the same
    Ctrl-C) often reports it as an error of its own with no trace of the KeyboardInterrupt.  When True,
    the program is taken to be stopping: a swallowed Ctrl-C will not be sent again.
    """
    guard = _active_guard()
    seen: set[int] = set()
    cause = exc
    while cause is not None and id(cause) not in seen and not isinstance(cause, KeyboardInterrupt):
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    if not (isinstance(cause, KeyboardInterrupt) or (guard is not None and guard.pressed)):
        return False
    if guard is not None and threading.current_thread() is threading.main_thread():
        guard._taken(time.monotonic())
    return True


def run_guarded(run: Callable[[], int], then: Callable[[int, FrameType | None], Any] | None = None) -> int:
    """`run()`'s exit status, or `EXIT_INTERRUPTED` after one line, "micrograd: interrupted", on stderr if
    Ctrl-C was pressed: however it surfaced (a KeyboardInterrupt, an error it caused, a swallowed one
    still pending when `run` returned).  `then`: the handler to leave on SIGINT, SIGTERM and SIGHUP
    afterwards (default: the caller's, put back).  SIGTERM/SIGHUP come out as SystemExit(128 + signal)."""
    guard = stop_on_interrupt(then)
    said = False
    try:
        with guard:
            try:
                status = run()
                if not guard.pending:
                    return status
            except Exception as exc:
                if not interrupted(exc):
                    raise
            except KeyboardInterrupt:
                pass
            guard._taken(time.monotonic())
            said = True
            print(GOODBYE, file=sys.stderr)
    except KeyboardInterrupt:  # pressed as the guard was put up or taken down, and the caller's handler raised
        pass
    if not said:
        with contextlib.suppress(KeyboardInterrupt):
            print(GOODBYE, file=sys.stderr)
    return EXIT_INTERRUPTED


def run_as_program(run: Callable[[], int]) -> NoReturn:
    """`run_guarded(run)`, then end the process with its status (`exit_process`): what a console script or
    a demo's ``__main__`` block does.  A signal after the work is done, as the process ends, is ignored."""
    try:
        status = run_guarded(run, then=_too_late)
    except SystemExit as stop:  # SIGTERM/SIGHUP (128 + signal), or argparse's --help (0)
        status = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    exit_process(status)


def _too_late(signum: int, frame: FrameType | None) -> None:
    """A signal once `run_as_program`'s work is over: the output is complete, the process is ending."""


def exit_process(status: int) -> NoReturn:
    """End the program with `status`, as ``sys.exit`` does, once stdout and stderr are flushed (a stdout
    closed under us is one line and status 2); after a Ctrl-C (`EXIT_INTERRUPTED`), SIGTERM or SIGHUP
    (128 + signal) end it at once, without the interpreter's finalization.

    Why: a Ctrl-C can cut short the import of a C extension (numpy, matplotlib), and finalizing such a
    half-made module can abort the process ("Fatal Python error: PyThreadState_Get", status -6) after
    "interrupted" was printed: seen in 3 of ~900 interrupted tours on a loaded 2-core machine.  Our own
    cleanup (temporary files) has already run by then, as the KeyboardInterrupt unwound.
    """
    with contextlib.suppress(ValueError):  # not the main thread: no signal handler runs there anyway
        for sig in (signal.SIGINT, *_ENDING):  # a signal now must not break the flush or the finalization
            signal.signal(sig, signal.SIG_IGN)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left before the last lines
        silence_stdout()
        if status == 0:
            print(f"micrograd: error: {OUTPUT_CLOSED}", file=sys.stderr)
            status = 2
    except (OSError, ValueError, AttributeError):  # closed, or not a real stream
        pass
    if status == EXIT_INTERRUPTED or status - 128 in _ENDING:  # stopped half-way: see above
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def silence_stdout() -> None:
    """Point stdout at /dev/null once it was closed under us, so the final flush does not fail on it again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests): nothing to flush
        pass
