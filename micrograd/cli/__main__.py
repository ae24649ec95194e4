"""``python -m micrograd.cli``: the same command line as ``micrograd`` (see `micrograd.cli.main`)."""

from micrograd.cli import console

console()
