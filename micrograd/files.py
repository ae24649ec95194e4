"""Write an output file all at once or not at all, and never over something that is not a file.

Why: a picture written in place is left 0 bytes or half-written when the disk fills or the
program is interrupted, and renaming a new file over a path turns a symlink, a FIFO or a device
node (as root: ``/dev/null``) into a regular file.  `write_atomic` writes a temporary file in
the target's directory, flushes it to disk and renames it over the target in one step (a POSIX
rename is atomic), so the target holds the old bytes or the new ones, never a mix.

Used by `micrograd.draw.render` (svg, png, pdf, dot) and the demos' pictures; a reader starts at
`write_atomic`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Replace the file at `path` with `data` (str is written as UTF-8) in one step; return `path` as a Path.

    The rules are `open(path, "w")`'s, minus the truncation:

    - a symlink is followed: the file it points to is replaced and the link stays a link;
    - an existing target that is not a regular file (directory, FIFO, device, socket) is refused
      before anything is written, so a FIFO never blocks and ``/dev/null`` is never replaced;
    - an existing file that ``open(path, "w")`` would refuse (no write permission) is refused;
    - an existing file keeps its permission bits; a new one gets ``0o666 & ~umask``.

    Raises `OSError` (with ``filename`` the path given, never the temporary file) when the target is
    refused or the write fails (no such folder, disk full, ...); then the target is unchanged and
    no temporary file is left behind.  A NUL byte in `path` raises `ValueError`, as `open` does.
    """
    given = os.fspath(path)
    if "\0" in given:
        raise ValueError(f"embedded null byte in the path {given!r}")
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    target = os.path.realpath(given)  # follows every symlink, also a dangling one (its target is created)
    try:
        mode = _writable_regular_file(target)
        _replace(target, payload, mode)
    except OSError as e:
        raise type(e)(e.errno, e.strerror or str(e), given) from None
    return Path(given)


def _writable_regular_file(target: str) -> int | None:
    """The permission bits of the existing `target`, None if it does not exist; raise if it must not be replaced."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        if os.path.islink(target):  # realpath stops at a symlink loop
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), target) from None
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), target)
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a special file")
        raise OSError(errno.EINVAL, f"not a regular file ({kind}); refusing to replace it", target)
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), target)
    return stat.S_IMODE(st.st_mode)


def _replace(target: str, payload: bytes, mode: int | None) -> None:
    """Write `payload` to a fresh temporary file next to `target`, fsync it, and rename it over `target`."""
    directory = os.path.dirname(target)
    tmp, fd = "", -1
    try:  # from before the file is made: a Ctrl-C the moment os.open returns must not leave it behind either
        while fd < 0:
            # the name is cut so that a target name near the system's limit (255 bytes) still has a temporary name
            tmp = os.path.join(directory, f".{os.path.basename(target)[:64]}.{secrets.token_hex(6)}.tmp")
            with contextlib.suppress(FileExistsError):  # a 48-bit name collision: draw another name
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666 & ~umask, like open()
        f = os.fdopen(fd, "wb")
        fd = -2  # the file object closes it now
        with f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:  # also KeyboardInterrupt: never leave the temporary file behind, nor its descriptor
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename itself durable (POSIX only)
        dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
