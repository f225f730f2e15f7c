"""Small durable file operations shared by the vault, backups and restore."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path


def fsync_directory(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomically(path: Path, data: bytes) -> None:
    """Write beside, fsync, rename over: a crash leaves the old file or the new, never half."""
    temporary = path.with_name(f".{path.name}.partial")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    fsync_directory(path.parent)


def ensure_private(path: Path) -> None:
    """Owner-only permissions (0700 folders, 0600 files) where the platform has them."""
    if os.name == "posix":
        path.chmod(0o700 if path.is_dir() else 0o600)


def read_small_file(path: Path, *, limit: int) -> bytes:
    """A plain file's bytes, never following a link or blocking on a FIFO put in its place.

    FileNotFoundError if it is missing; OSError if it is not a plain file of at most
    ``limit`` bytes.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise OSError(errno.EINVAL, "not a plain file of the expected size", str(path))
        return os.read(fd, limit + 1)
    finally:
        os.close(fd)


def is_plain_file(path: Path) -> bool:
    """True for a regular file (a link is not followed)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
