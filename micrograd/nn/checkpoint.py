"""Checkpoint files: the JSON format, its validation, and safe reading and writing.

A checkpoint is one JSON object::

    {"format": "micrograd-model", "version": 1,
     "architecture": {...},                      # what Module.architecture() returns
     "parameters": {"layers.0.neurons.0.w": [...], ...}}   # Module.named_tensors(), as numbers

`Module.save` and `Module.load` (micrograd/nn/module.py) call `write` and `read` here.
Start at `read`: what it refuses before reading, and why.

Writing goes through `micrograd.files.write_atomic`, the package's one way to write a file:
all at once or not at all, through a symlink to its target, never over something that is not a
regular file (a FIFO, a device such as /dev/null, a directory), and with errors that name the
path the caller gave.  Reading (`read`) refuses the same non-regular files, and anything larger
than a size limit (`DEFAULT_MAX_BYTES`, overridable), before reading a byte, so a symlink to
/dev/zero or a FIFO cannot hang the program or fill its memory.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

from ..engine import Value
from ..files import write_atomic

__all__ = ["FORMAT", "FORMAT_VERSION", "DEFAULT_MAX_BYTES", "CheckpointError", "Nested",
           "state_dict", "values_from", "write", "read"]

FORMAT = "micrograd-model"
FORMAT_VERSION = 1

#: `read`'s default size limit: 8 MiB.  A parameter takes at most 26 bytes in a checkpoint (a float
#: written by repr, a comma and a space), so this admits models of about 300,000 parameters, far
#: beyond what a scalar engine trains in reasonable time; pass ``max_bytes=`` for larger ones.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

#: A tensor as nested lists of Values: a Value, a list of Values, a list of lists, ...
Nested: TypeAlias = "Value | Sequence[Nested]"


class CheckpointError(ValueError):
    """A checkpoint (file or state dict) is malformed, does not fit the model, or is not a file to
    read or replace; the model and the file on disk were not changed."""


# ---------------------------------------------------------------- the document
def state_dict(architecture: dict[str, Any], named_tensors: Sequence[tuple[str, Nested]]) -> dict[str, Any]:
    """The checkpoint document: format marker, version, architecture and each tensor's numbers."""
    return {"format": FORMAT, "version": FORMAT_VERSION, "architecture": architecture,
            "parameters": {name: _nested_data(t) for name, t in named_tensors}}


def values_from(doc: object, architecture: dict[str, Any], named_tensors: Sequence[tuple[str, Nested]],
                n_parameters: int, where: str) -> list[float]:
    """Check a whole document against a model; return its numbers in the model's `parameters()` order.

    Raises `CheckpointError` naming `where` (a path, or "state_dict") and the first problem:
    a missing or extra key, another format or version, another architecture, a tensor of another
    shape, or an entry that is not a finite number.
    """

    def fail(what: str) -> CheckpointError:
        return CheckpointError(f"{where}: {what}")

    if not isinstance(doc, Mapping):
        raise fail(f"expected a JSON object at the top level, got {type(doc).__name__}")
    keys = {"format", "version", "architecture", "parameters"}
    missing, extra = sorted(keys - set(doc)), sorted(set(doc) - keys)
    if missing:
        raise fail(f"missing key(s) {', '.join(map(repr, missing))}")
    if extra:
        raise fail(f"unexpected key(s) {', '.join(map(repr, extra))}")
    if doc["format"] != FORMAT:
        raise fail(f"not a micrograd model checkpoint (format is {doc['format']!r}, expected {FORMAT!r})")
    version = doc["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version != FORMAT_VERSION:
        raise fail(f"unsupported format version {version!r} (this micrograd reads version {FORMAT_VERSION})")
    if doc["architecture"] != architecture:
        raise fail(f"architecture mismatch: the checkpoint holds {_show(doc['architecture'])}, "
                   f"this model is {json.dumps(architecture)}")
    params = doc["parameters"]
    if not isinstance(params, Mapping):
        raise fail(f"'parameters' must be an object, got {type(params).__name__}")
    names = [name for name, _ in named_tensors]
    missing, extra = [n for n in names if n not in params], sorted(set(params) - set(names))
    if missing:
        raise fail(f"missing parameter(s) {', '.join(map(repr, missing))}")
    if extra:
        raise fail(f"unexpected parameter(s) {', '.join(map(repr, extra))}")
    values: list[float] = []
    for name, t in named_tensors:
        _collect(params[name], t, f"parameter {name!r}", values, fail)
    if len(values) != n_parameters:  # named_tensors() and parameters() disagree: a bug in a subclass
        raise fail(f"{len(values)} values for {n_parameters} parameters")
    return values


def _nested_data(t: Nested) -> Any:
    return t.data if isinstance(t, Value) else [_nested_data(x) for x in t]


def _shape(t: Nested) -> list[int]:
    shape: list[int] = []
    while not isinstance(t, Value):
        shape.append(len(t))
        if not t:
            break
        t = t[0]
    return shape


def _flat(x: Any) -> Iterator[Any]:
    if isinstance(x, list):
        for item in x:
            yield from _flat(item)
    else:
        yield x


def _collect(x: object, t: Nested, where: str, out: list[float], fail: Callable[[str], CheckpointError]) -> None:
    """Append the numbers of `x` to `out`, checking that `x` has the shape of the model's tensor `t`."""
    if isinstance(t, Value):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise fail(f"{where}: expected a number, got {_show(x)}")
        try:
            v = float(x)
        except OverflowError:  # an integer too large for a float
            v = math.inf
        if not math.isfinite(v):
            raise fail(f"{where}: expected a finite number, got {x!r}")
        out.append(v)
        return
    if not isinstance(x, list):
        raise fail(f"{where}: expected a list of {len(t)} (shape {_shape(t)}), got {type(x).__name__}")
    if len(x) != len(t):
        raise fail(f"{where}: has {len(x)} entries, the model expects {len(t)} (shape {_shape(t)})")
    for i, (xi, ti) in enumerate(zip(x, t)):
        _collect(xi, ti, f"{where}[{i}]", out, fail)


def _show(x: object) -> str:
    """`x` as JSON if it is JSON-able (how the user wrote it in the file), else its repr."""
    try:
        return json.dumps(x)
    except (TypeError, ValueError, RecursionError):
        return repr(x)


def _dumps(state: Mapping[str, Any]) -> str:
    """JSON with one tensor per line: readable, diffable, and floats written by repr (exact)."""
    lines = ["{", f'  "format": {json.dumps(state["format"])},', f'  "version": {json.dumps(state["version"])},',
             f'  "architecture": {json.dumps(state["architecture"])},']
    items = [f"    {json.dumps(k)}: {json.dumps(v, allow_nan=False)}" for k, v in state["parameters"].items()]
    if items:
        lines += ['  "parameters": {', ",\n".join(items), "  }", "}"]
    else:
        lines += ['  "parameters": {}', "}"]
    return "\n".join(lines) + "\n"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a checkpoint (parameters must be finite numbers)")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


# ---------------------------------------------------------------- files
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_CLOEXEC_NOCTTY = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # so that opening a FIFO that slipped past the check cannot block


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse_special(st: os.stat_result, where: str, doing: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise CheckpointError(f"{where}: is {_kind(st.st_mode)}, not a regular file; refusing to {doing} it")


def write(path: str | os.PathLike[str], state: Mapping[str, Any]) -> None:
    """Write the checkpoint document `state` to `path`, atomically (`micrograd.files.write_atomic`).

    Refuses a non-finite parameter with `CheckpointError` (JSON has no NaN) before touching
    anything.  The file rules are `write_atomic`'s: a symlink is written through to its target;
    a directory, FIFO, device or socket is refused, and so is what ``open(path, "w")`` would
    refuse (a read-only file, a missing directory), with an OSError naming `path`, never the
    temporary file; an overwritten file keeps its permission bits.
    """
    where = os.fspath(path)
    for name, values in state["parameters"].items():
        bad = next((v for v in _flat(values) if not math.isfinite(v)), None)
        if bad is not None:
            raise CheckpointError(f"{where}: cannot save, parameter {name!r} holds {bad!r}")
    write_atomic(where, _dumps(state))


def read(path: str | os.PathLike[str], max_bytes: int | None = DEFAULT_MAX_BYTES) -> object:
    """The parsed JSON document in the file at `path` (not yet checked against a model).

    Refuses with `CheckpointError`, before reading a byte: a path that is not a regular file
    (directory, FIFO, device such as /dev/zero, also through a symlink) and a file larger than
    `max_bytes` (default `DEFAULT_MAX_BYTES`; None for no limit).  Also raises `CheckpointError`
    for a file that is not UTF-8, is empty, or is not valid JSON (NaN and Infinity included).
    A missing file raises FileNotFoundError, as open() does.
    """
    where = os.fspath(path)
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0):
        raise ValueError(f"max_bytes must be a non-negative int or None, got {max_bytes!r}")
    _refuse_special(os.stat(where), where, "read")  # before opening: opening a device or FIFO can block
    fd = os.open(where, os.O_RDONLY | _NONBLOCK | _CLOEXEC_NOCTTY)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        _refuse_special(st, where, "read")
        limit = math.inf if max_bytes is None else max_bytes
        if st.st_size > limit:
            raise CheckpointError(f"{where}: the file has {st.st_size} bytes, more than the limit of {max_bytes} "
                                  "(pass max_bytes= to load a larger checkpoint)")
        raw = f.read() if max_bytes is None else f.read(max_bytes + 1)
    if max_bytes is not None and len(raw) > max_bytes:  # it grew while we looked
        raise CheckpointError(f"{where}: the file has more than the limit of {max_bytes} bytes "
                              "(pass max_bytes= to load a larger checkpoint)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CheckpointError(f"{where}: not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    if not text.strip():
        raise CheckpointError(f"{where}: the file is empty")
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{where}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno}); "
                              "the file may be truncated or corrupted") from None
    except ValueError as e:
        raise CheckpointError(f"{where}: {e}") from None
    except RecursionError:
        raise CheckpointError(f"{where}: JSON nested too deeply to be a checkpoint") from None
