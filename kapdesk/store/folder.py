"""The data folder as a place for a record: usable, this user's, with room, holding one or not.

Each refusal is a sentence saying what is wrong with the folder and what to do,
raised before anything in it is touched.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from kapdesk.store.engine import DATABASE_FILE
from kapdesk.store.errors import DiskFullError, FolderUnusableError, NoRecordError, StoreError
from kapdesk.store.fileio import ensure_private
from kapdesk.store.vault import KeyVault

WAL_SUFFIX = "-wal"
# Space an open needs beyond what the write-ahead log may add to the database when it is
# folded in: SQLite's index of the log (-shm, 32 KiB) and the first entries' log frames.
MIN_FREE_BYTES = 1 << 20


def prepare_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    ensure_private(folder)


# What a record leaves in its folder beside the database and the key file.
RECORD_PARTS = (f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm", "kapdesk.anchor")


# What may be in a data folder before its record is made: what kapdesk itself puts there
# (logs, settings, the lock, backups before an upgrade) and the clinic's own protocols,
# instruments and surveys (README). Hidden files (.DS_Store) are the system's.
OWN_NAMES = frozenset(
    {"logs", "settings.json", "protocols", "instruments", "surveys", "backups", "kapdesk.lock"}
)


def holds_record(folder: Path) -> bool:
    return (folder / DATABASE_FILE).exists() or KeyVault.exists(folder)


def stray_parts(folder: Path) -> list[str]:
    """Pieces of a record in a folder with no database and no key file."""
    if holds_record(folder):
        return []
    return [name for name in RECORD_PARTS if os.path.lexists(folder / name)]


def check_folder(folder: Path, *, create: bool) -> None:
    """Refuse, with a sentence, a data folder kapdesk cannot or must not use."""
    try:
        if folder.exists() and not folder.is_dir():
            raise FolderUnusableError(
                f"{folder} is a file, not a folder, so it cannot hold a kapdesk record. Choose "
                "a folder with --data-dir (or $KAPDESK_HOME); nothing was changed."
            )
        if folder.is_dir() and hasattr(os, "geteuid") and folder.stat().st_uid != os.geteuid():
            raise FolderUnusableError(
                f"The data folder {folder} belongs to another user account, and kapdesk only "
                "uses a folder of the account it runs in (a record's files are private to "
                "one account). Start kapdesk as that user, or choose your own folder with "
                "--data-dir; nothing was changed."
            )
        strays = stray_parts(folder) if folder.is_dir() else []
        if strays:
            raise FolderUnusableError(
                f"{folder} holds pieces of a record ({', '.join(strays)}) but no database "
                "and no key file. kapdesk will not create a record over them: move them "
                "aside (they may be needed to recover a record) or choose an empty folder; "
                "nothing was changed."
            )
        others = others_files(folder) if create and folder.is_dir() else []
        if others:
            # kapdesk makes its folder private (0700) and writes its files into it: made in
            # a shared folder, or in /, it locked others out of theirs (tamper QA).
            shown = ", ".join(others[:3]) + (
                f" and {len(others) - 3} more" if len(others) > 3 else ""
            )
            raise FolderUnusableError(
                f"{folder} already holds other files ({shown}) and no kapdesk record. A "
                "record is kept in a folder of its own: choose a new or empty folder with "
                "--data-dir (or $KAPDESK_HOME); nothing was changed."
            )
        if not create and not holds_record(folder):
            raise NoRecordError(
                f"There is no kapdesk record in {folder}. Check the folder name (--data-dir "
                "or $KAPDESK_HOME); a new record is created only by starting the app. "
                "Nothing was created."
            )
    except OSError as exc:
        raise folder_error(folder, exc) from None


def others_files(folder: Path) -> list[str]:
    """The names in ``folder``, holding no record, that are not kapdesk's (OWN_NAMES) nor
    hidden, sorted; empty if the folder holds a record."""
    if holds_record(folder):
        return []
    return sorted(
        name
        for name in os.listdir(folder)
        if not name.startswith(".") and name.casefold() not in OWN_NAMES
    )


def folder_error(folder: Path, exc: OSError) -> StoreError:
    """The sentence for an operating-system refusal to use the data folder."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return DiskFullError(
            f"The disk holding {folder} is full, so kapdesk cannot open the record. Free some "
            "space and start again; the record is intact and nothing was changed."
        )
    if exc.errno == errno.EROFS:
        return FolderUnusableError(
            f"The data folder {folder} cannot be used ({reason}): the disk is read-only. "
            "Check that it is the right disk and that it is not write-protected, or choose "
            "another folder with --data-dir; nothing was changed."
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return FolderUnusableError(
            f"The data folder {folder} cannot be used ({reason}): this user account may not "
            "write there. Choose a folder of your own with --data-dir, or ask for the "
            "folder's permissions to be fixed; nothing was changed."
        )
    if exc.errno == errno.ENOTDIR:
        return FolderUnusableError(
            f"{folder} cannot be a data folder ({reason}): part of its path is a file. "
            "Choose a folder with --data-dir; nothing was changed."
        )
    return FolderUnusableError(
        f"The data folder {folder} cannot be used ({reason}). Check that the disk is "
        "connected and not read-only, or choose another folder with --data-dir; nothing "
        "was changed."
    )


def check_space(folder: Path, log_bytes: int = 0) -> None:
    """Refuse to open for writing without the room to fold the log in and write entries.

    ``log_bytes``: what the write-ahead log will add to the database at most (the frames
    SQLite replays, store/wal.py), not its size on disk, which may be mostly stale.
    """
    needed = MIN_FREE_BYTES + log_bytes
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DiskFullError(
            f"The disk holding {folder} is full: {size_text(free)} free, and kapdesk needs at "
            f"least {size_text(needed)} to open the record and save entries. Free some space on "
            "that disk and start again; the record was not opened, and nothing in it was "
            "changed."
        )


def size_text(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"
