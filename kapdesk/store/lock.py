"""One running kapdesk per data folder, held by an OS lock for the life of the process.

The OS drops the lock when the process dies, however it dies, so a crash never
leaves a stale lock behind.

A lock on a file can be defeated by deleting the file: the next kapdesk
creates a new one and locks that. On POSIX the lock is therefore taken on the
data folder itself, which cannot be removed while the record is in it (and
which SQLite never locks, so the two cannot interfere). ``kapdesk.lock`` is
locked too, for Windows (where an open file cannot be deleted) and for older
kapdesk versions, and carries the holder's process id for people. It is never
followed if it is a symbolic link.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

from kapdesk.store.errors import FolderUnusableError, InstanceLockedError

LOCK_FILE = "kapdesk.lock"

_HELD_ELSEWHERE = InstanceLockedError(
    "Another kapdesk is already using this data folder. Switch to that window, or close it "
    "first; nothing was changed."
)


class DataFolderLock:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK_FILE
        self._folder_fd: int | None = None
        self._file_fd: int | None = None

    def acquire(self) -> None:
        try:
            self._folder_fd = _lock_folder(self.folder)
            self._file_fd = _lock_file(self.path)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        # Closing a descriptor releases the lock held through it.
        for fd in (self._file_fd, self._folder_fd):
            if fd is not None:
                os.close(fd)
        self._file_fd = self._folder_fd = None


def _lock_file(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise FolderUnusableError(
                f"{path.name} in {path.parent} is a link to another file, which kapdesk never "
                "follows. Remove the link (it holds nothing) and start again; nothing was changed."
            ) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FolderUnusableError(
                f"{path.name} in {path.parent} is not a plain file. Remove it (it holds nothing) "
                "and start again; nothing was changed."
            )
        _lock_descriptor(fd)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    except BaseException:
        os.close(fd)
        raise
    return fd


if sys.platform == "win32":  # pragma: no cover - exercised on Windows builds
    import msvcrt

    def _lock_descriptor(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            raise _HELD_ELSEWHERE from None

    def _lock_folder(folder: Path) -> int | None:
        return None  # an open kapdesk.lock cannot be deleted on Windows

else:
    import fcntl

    def _lock_descriptor(fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _HELD_ELSEWHERE from None

    def _lock_folder(folder: Path) -> int | None:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            _lock_descriptor(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd
