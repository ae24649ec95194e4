"""micrograd.files.write_atomic: all or nothing, through symlinks, never over what is not a regular file.

Failures are real where the machine allows (a FIFO, /dev/null, a directory, a symlink loop, a file-size
limit in a child process) and simulated only for a full disk (os.fsync raising ENOSPC).
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from micrograd import files
from micrograd.files import write_atomic


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_text_and_bytes_and_returns_the_path(tmp_path: Path) -> None:
    assert write_atomic(tmp_path / "a.txt", "h\u00e9llo\n") == tmp_path / "a.txt"
    assert (tmp_path / "a.txt").read_bytes() == "h\u00e9llo\n".encode()
    write_atomic(str(tmp_path / "b.bin"), b"\x00\xff")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert _leftovers(tmp_path) == []


def test_new_file_gets_umask_permissions_and_overwrite_keeps_the_old_ones(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new", "x")
        with open(tmp_path / "by-open", "w") as f:  # what open(path, "w") gives, the reference
            f.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == stat.S_IMODE(os.stat(tmp_path / "by-open").st_mode)
    target = tmp_path / "kept"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_atomic(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(os.stat(target).st_mode) == 0o640


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real" / "picture.svg"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    dangling = tmp_path / "dangling.svg"
    dangling.symlink_to(tmp_path / "real" / "later.svg")
    write_atomic(dangling, "made")  # as open(path, "w") does: the link's target is created
    assert dangling.is_symlink() and (tmp_path / "real" / "later.svg").read_text() == "made"
    assert _leftovers(tmp_path) == [] and _leftovers(real.parent) == []


def test_a_fifo_is_refused_at_once_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="FIFO") as info:
        write_atomic(fifo, "x")  # opening it would block until a reader came
    assert info.value.filename == str(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _leftovers(tmp_path) == []


def test_a_device_behind_a_symlink_is_refused_and_left_alone(tmp_path: Path) -> None:
    if not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        pytest.skip("no character device at os.devnull")
    link = tmp_path / "null.svg"
    link.symlink_to(os.devnull)
    with pytest.raises(OSError, match="device") as info:
        write_atomic(link, "x")
    assert info.value.filename == str(link)  # the path the caller gave, not /dev/null or a temporary file
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode) and link.is_symlink()


def test_a_directory_and_a_symlink_loop_are_refused(tmp_path: Path) -> None:
    (tmp_path / "folder.svg").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        write_atomic(tmp_path / "folder.svg", "x")
    assert info.value.filename == str(tmp_path / "folder.svg")
    loop = tmp_path / "loop.svg"
    loop.symlink_to(loop)
    with pytest.raises(OSError) as info2:
        write_atomic(loop, "x")
    assert info2.value.errno == errno.ELOOP and loop.is_symlink()
    assert _leftovers(tmp_path) == []


def test_a_missing_folder_names_the_given_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        write_atomic(tmp_path / "no" / "such" / "g.svg", "x")
    assert info.value.filename == str(tmp_path / "no" / "such" / "g.svg")


def test_a_name_near_the_length_limit_is_written_and_a_longer_one_refused(tmp_path: Path) -> None:
    longest = "g" * (os.pathconf(tmp_path, "PC_NAME_MAX") - 4) + ".svg"  # as long as the file system allows
    write_atomic(tmp_path / longest, "x")  # the temporary name must not be longer than the target's
    assert (tmp_path / longest).read_text() == "x"
    with pytest.raises(OSError) as info:
        write_atomic(tmp_path / ("g" + longest), "x")
    assert info.value.errno == errno.ENAMETOOLONG and info.value.filename == str(tmp_path / ("g" + longest))
    assert _leftovers(tmp_path) == []


def test_a_nul_byte_is_a_value_error_as_with_open(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        open(tmp_path / "a\0b", "w")  # noqa: SIM115 - the reference behaviour
    with pytest.raises(ValueError, match="null byte"):
        write_atomic(str(tmp_path / "a\0b"), "x")


def test_refuses_what_open_for_writing_refuses(tmp_path: Path) -> None:
    target = tmp_path / "read-only.svg"
    target.write_text("old")
    os.chmod(target, 0o444)
    try:
        with open(target, "a"):
            open_refuses = False  # root may write anything: then so may we
    except PermissionError:
        open_refuses = True
    if open_refuses:
        with pytest.raises(PermissionError) as info:
            write_atomic(target, "new")
        assert info.value.filename == str(target) and target.read_text() == "old"
    else:
        write_atomic(target, "new")
        assert target.read_text() == "new"
    assert _leftovers(tmp_path) == []


def test_a_full_disk_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "g.png"
    target.write_bytes(b"old picture")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError) as info:
        write_atomic(target, b"new picture" * 1000)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert target.read_bytes() == b"old picture"
    with pytest.raises(OSError):
        write_atomic(tmp_path / "fresh.png", b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.png"]  # no 0-byte file, no temporary


def test_an_interrupt_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "g.svg", "x")
    assert list(tmp_path.iterdir()) == []


def test_a_real_file_size_limit_leaves_no_partial_file(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes write() fail with EFBIG part-way, as a full disk does (Python ignores SIGXFSZ)."""
    pytest.importorskip("resource")  # POSIX only
    script = textwrap.dedent(f"""
        import resource, sys
        from micrograd.files import write_atomic
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        try:
            write_atomic({str(tmp_path / "big.bin")!r}, b"x" * 100_000)
        except OSError as e:
            print(e.errno, e.filename)
            sys.exit(3)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stdout.split() == [str(errno.EFBIG), str(tmp_path / "big.bin")]
    assert list(tmp_path.iterdir()) == []
