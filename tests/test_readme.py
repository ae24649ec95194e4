"""Every code block in README.md runs as written, and every output it quotes is what really comes out.

A reader copies one block at a time, so each block runs on its own: a ```python block in a fresh
interpreter, in an empty temporary directory (files it writes land there), and then, as pytest
would, each ``test_*`` function the block defines is called.  A ```console block runs each
``$ micrograd ...`` command and compares its output with the lines quoted under it.

Conventions, as HTML comments on the line before a block (blank lines may separate them):

* ``<!-- readme-test: expect AssertionError -->``: the block is meant to fail (a bug the reader is
  shown how to find); running it must raise that exception.
* ``<!-- readme-test: output -->`` on a ```text block: it quotes the output of the python block
  before it (what it prints, then ``Type: message`` and the exception's notes, as hypothesis adds
  them).  The quote must be a run of consecutive lines of that output: it may leave out lines
  at either end (say, a library's changing wording), never change one.
* ``<!-- readme-test: skip REASON -->``: not run; the reason is required.

```sh blocks are install commands (``pip install ...``), which a test cannot run; the README's
test command among them is run by CI (`.ci/run` checks they have not drifted).  Any other kind
of block, or a ```text block without a marker, fails here, so nothing in the README is unchecked.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(r"^<!--\s*readme-test:\s*(?P<kind>[a-z]+)\s*(?P<arg>.*?)\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>[A-Za-z0-9_+-]*)\s*$")
RUNNER = r"""
import json, sys, traceback
path, label, report = sys.argv[1:4]
namespace = {"__name__": "__main__"}
error = None
try:
    exec(compile(open(path, encoding="utf-8").read(), label, "exec"), namespace)
    for name, fn in list(namespace.items()):  # as pytest would: the test functions the block defines
        if name.startswith("test_") and callable(fn) and getattr(fn, "__module__", None) == "__main__":
            fn()
except Exception as e:
    error = {"type": type(e).__name__, "message": str(e), "notes": [str(n) for n in getattr(e, "__notes__", [])],
             "traceback": traceback.format_exc()}
sys.stdout.flush()
with open(report, "w", encoding="utf-8") as f:
    json.dump(error, f)
"""


@dataclass(frozen=True)
class Block:
    """One fenced code block: its language, first line of code (1-based), text, and marker, if any."""

    lang: str
    line: int
    code: str
    marker: str = ""
    arg: str = ""

    @property
    def id(self) -> str:
        return f"{self.lang or 'plain'}-line{self.line}"


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, each with the readme-test marker just before it."""
    found: list[Block] = []
    lines = text.splitlines()
    marker, arg = "", ""
    k = 0
    while k < len(lines):
        line = lines[k]
        fence, mark = FENCE.match(line), MARKER.match(line.strip())
        if mark:
            marker, arg = mark["kind"], mark["arg"]
        elif fence:
            end = next((j for j in range(k + 1, len(lines)) if lines[j].startswith("```")), None)
            if end is None:
                raise ValueError(f"README.md:{k + 1}: a code block that is never closed")
            found.append(Block(fence["lang"], k + 2, "\n".join(lines[k + 1:end]) + "\n", marker, arg))
            marker, arg = "", ""
            k = end
        elif line.strip():
            marker, arg = "", ""  # a marker applies to the block right after it only
        k += 1
    return found


BLOCKS = blocks(README.read_text(encoding="utf-8"))
PYTHON = [b for b in BLOCKS if b.lang == "python"]
CONSOLE = [b for b in BLOCKS if b.lang == "console"]
QUOTES = [b for b in BLOCKS if b.lang == "text" and b.marker == "output"]


def _skip_if_marked(block: Block) -> None:
    if block.marker == "skip":
        pytest.skip(f"README.md:{block.line}: {block.arg}")


@dataclass(frozen=True)
class Outcome:
    stdout: str
    stderr: str
    error: dict[str, object] | None

    def report(self) -> list[str]:
        """What the block printed, then the exception as ``Type: message`` and its notes."""
        lines = self.stdout.splitlines()
        if self.error is not None:
            lines += f"{self.error['type']}: {self.error['message']}".splitlines()
            for note in self.error["notes"]:  # type: ignore[attr-defined]
                lines += str(note).splitlines()
        return [line.rstrip() for line in lines]


def run_python(block: Block, tmp_path: Path) -> Outcome:
    """The block in a fresh interpreter in `tmp_path`, its test functions called after it."""
    script = tmp_path / "readme_block.py"
    script.write_text(block.code, encoding="utf-8")
    report = tmp_path / ".readme_block_report.json"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(script), f"README.md:{block.line}", str(report)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0 and report.exists(), f"the block's interpreter died:\n{proc.stdout}{proc.stderr}"
    return Outcome(proc.stdout, proc.stderr, json.loads(report.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def outcome_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Block], Outcome]:
    """Runs each python block once for all the tests of this module (a quote's test reuses its block's run)."""
    done: dict[Block, Outcome] = {}

    def outcome(block: Block) -> Outcome:
        if block not in done:
            done[block] = run_python(block, tmp_path_factory.mktemp(block.id))
        return done[block]

    return outcome


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.id)
def test_python_block_runs(block: Block, outcome_of: Callable[[Block], Outcome]) -> None:
    _skip_if_marked(block)
    outcome = outcome_of(block)
    error = outcome.error
    if block.marker == "expect":
        assert error is not None, f"README.md:{block.line}: expected {block.arg}, but the block ran without one"
        assert error["type"] == block.arg, f"README.md:{block.line}: expected {block.arg}:\n{error['traceback']}"
    else:
        assert error is None, f"README.md:{block.line} fails as written:\n{error['traceback'] if error else ''}"


def _source(quote: Block) -> Block:
    before = [b for b in PYTHON if b.line < quote.line]
    assert before, f"README.md:{quote.line}: an output quote with no python block before it"
    return before[-1]


def _is_run_of(quoted: list[str], actual: list[str]) -> bool:
    n = len(quoted)
    return any(actual[k:k + n] == quoted for k in range(len(actual) - n + 1))


@pytest.mark.parametrize("quote", QUOTES, ids=lambda b: b.id)
def test_quoted_output_is_what_the_block_prints(quote: Block, outcome_of: Callable[[Block], Outcome]) -> None:
    source = _source(quote)
    _skip_if_marked(source)
    quoted = [line.rstrip() for line in quote.code.splitlines()]
    actual = outcome_of(source).report()
    assert quoted and _is_run_of(quoted, actual), (
        f"README.md:{quote.line} quotes output that the block at line {source.line} does not print.\n"
        "--- quoted\n" + "\n".join(quoted) + "\n--- printed now\n" + "\n".join(actual))


def _commands(block: Block) -> list[tuple[str, list[str]]]:
    """(command, the output lines quoted under it) for each ``$ `` line of a console block."""
    found: list[tuple[str, list[str]]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found:
            found[-1][1].append(line.rstrip())
        elif line.strip():
            raise AssertionError(f"README.md:{block.line}: output before any `$ ` command: {line!r}")
    return found


@pytest.mark.parametrize("block", CONSOLE, ids=lambda b: b.id)
def test_console_block_prints_what_it_quotes(block: Block, tmp_path: Path) -> None:
    _skip_if_marked(block)
    commands = _commands(block)
    assert commands, f"README.md:{block.line}: a console block without a `$ ` command"
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (the commands draw graphs)")
    for command, quoted in commands:
        argv = shlex.split(command)
        assert argv[0] == "micrograd", f"README.md:{block.line}: only `micrograd` commands are run here: {command}"
        proc = subprocess.run([sys.executable, "-m", "micrograd", *argv[1:]], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})
        printed = [line.rstrip() for line in (proc.stdout + proc.stderr).splitlines()]
        assert proc.returncode == 0, f"README.md:{block.line}: `{command}` exited {proc.returncode}:\n{proc.stderr}"
        assert printed == quoted, (f"README.md:{block.line}: `{command}` prints\n" + "\n".join(printed)
                                   + "\n--- but the README quotes\n" + "\n".join(quoted))


def test_every_block_is_checked() -> None:
    """No block slips past: python and console run, text is a checked quote (or skipped with a reason), sh is
    an install command."""
    problems = []
    for b in BLOCKS:
        if b.marker not in ("", "expect", "output", "skip"):
            problems.append(f"README.md:{b.line}: unknown marker readme-test: {b.marker}")
        elif b.marker == "skip" and not b.arg:
            problems.append(f"README.md:{b.line}: readme-test: skip needs a reason")
        elif b.marker == "expect" and (b.lang != "python" or not b.arg.isidentifier()):
            problems.append(f"README.md:{b.line}: readme-test: expect goes on a python block and names an exception")
        elif b.lang in ("python", "console"):
            continue
        elif b.lang == "text":
            if b.marker not in ("output", "skip"):
                problems.append(f"README.md:{b.line}: a text block must be a checked quote (readme-test: output)")
        elif b.lang == "sh":
            commands = [c.strip() for line in b.code.splitlines() if line.strip() for c in line.split("&&")]
            if not commands or not commands[0].startswith("pip install"):
                problems.append(f"README.md:{b.line}: an sh block is an install command (pip install ...)")
        else:
            problems.append(f"README.md:{b.line}: a ```{b.lang} block that nothing checks (python, console, text)")
    assert not problems, "\n".join(problems)


def test_the_parser_reads_markers_and_blocks() -> None:
    text = "\n".join([
        "intro", "<!-- readme-test: expect AssertionError -->", "", "```python", "assert False", "```",
        "prose", "<!-- readme-test: output -->", "```text", "AssertionError: ", "```",
        "<!-- readme-test: skip needs a GPU -->", "not right before", "```python", "x = 1", "```",
        "```console", "$ micrograd --version", "micrograd 1", "```",
    ])
    found = blocks(text)
    assert [(b.lang, b.line, b.marker, b.arg) for b in found] == [
        ("python", 5, "expect", "AssertionError"), ("text", 10, "output", ""), ("python", 15, "", ""),
        ("console", 18, "", "")]
    assert found[0].code == "assert False\n"
    assert _commands(found[3]) == [("micrograd --version", ["micrograd 1"])]
    assert _is_run_of(["b", "c"], ["a", "b", "c", "d"]) and not _is_run_of(["b", "d"], ["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="never closed"):
        blocks("```python\nx = 1\n")
