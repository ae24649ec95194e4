"""The worked examples of the reference tutorials, installed as `micrograd.demos`."""
