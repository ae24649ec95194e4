"""Bit-for-bit comparison of floats, shared by the tests that hold one computation to another."""

from __future__ import annotations

import math
import struct


def bits(x: float) -> bytes:
    """The IEEE bits, so -0.0 differs from 0.0; every nan alike: IEEE 754 leaves the sign and payload
    of a nan result unspecified, and CPython's specialised float operations may commute operands."""
    return struct.pack("<d", math.nan if x != x else x)
