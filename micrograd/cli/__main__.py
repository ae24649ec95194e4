"""``python -m micrograd.cli``: the same command line as ``micrograd`` (see `micrograd.cli.main`)."""

from micrograd.cli import entry_point

entry_point()
