"""Small durable file operations shared by the vault, backups and restore."""

from __future__ import annotations

import contextlib
import os
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
