"""The `micrograd` command line (placeholder until the CLI lands)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    print("micrograd")
    return 0
