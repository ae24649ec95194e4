from micrograd.cli import entry_point

entry_point()
