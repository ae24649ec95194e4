"""Hypothesis profiles: deterministic in CI (the default), random with HYPOTHESIS_PROFILE=dev; Ctrl-C as at a
terminal."""

import os
import signal

import pytest
from hypothesis import settings

# derandomize: the same examples on every run, so CI never flakes on a newly found input.
# deadline=None: graphs built under create_graph vary a lot in cost; timing is not under test.
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
# dev: random examples and the example database, to hunt for new counterexamples locally.
settings.register_profile("dev", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def _ctrl_c_as_at_a_terminal() -> None:
    """The Ctrl-C tests play a user at a terminal, where SIGINT is not ignored.  A harness that starts the
    suite as a background job of a non-interactive shell (``pytest &`` in a script) has SIGINT ignored, and
    every child inherits that, which `micrograd.interrupt` rightly respects; so the suite takes Python's
    usual handler back, and its children start with the default again.  The ignored case has its own test
    (`test_a_command_started_with_ctrl_c_ignored_keeps_ignoring_it`)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
