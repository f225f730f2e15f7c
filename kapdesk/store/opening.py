"""Opening a data folder: check, lock, unlock, examine, migrate, or create a new record.

The order matters. Nothing is written until the folder is locked, the key is
proven, and the record has been examined read-only: the write-ahead log read
frame by frame (store/wal.py), the database checked through a read-only
connection, and the newest audit event compared with the anchor kept outside
the database (store/anchor.py). A file that cannot be opened is never deleted,
overwritten or recreated, and a record that may have lost acknowledged
entries is not opened for writing (which would fold a damaged log into the
database for good) until a person accepts the loss.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from kapdesk import __version__
from kapdesk.store import migrate, wal
from kapdesk.store.anchor import (
    ANCHOR_FILE,
    Anchor,
    AnchorDamagedError,
    AnchorFile,
    compare_anchor,
)
from kapdesk.store.engine import DATABASE_FILE, Preflight, make_engine, preflight
from kapdesk.store.errors import (
    DiskFullError,
    FolderUnusableError,
    MigrationFailedError,
    MissingFileError,
    NewerVersionError,
    NoRecordError,
    RecordIncompleteError,
    SchemaAlteredError,
    StoreError,
)
from kapdesk.store.fileio import ensure_private, fsync_directory
from kapdesk.store.lock import DataFolderLock
from kapdesk.store.vault import KeyVault, PassphraseSource

log = logging.getLogger(__name__)

# Left behind only if the very first creation of a record was interrupted.
CREATING_FILE = ".kapdesk.db.creating"
BACKUP_FOLDER = "backups"
WAL_SUFFIX = "-wal"
# Space an open needs beyond what the write-ahead log may add to the database when it is
# folded in: SQLite's index of the log (-shm, 32 KiB) and the first entries' log frames.
MIN_FREE_BYTES = 1 << 20


@dataclass
class OpenedRecord:
    folder: Path
    vault: KeyVault
    key: bytes
    engine: Engine
    lock: DataFolderLock
    anchor: AnchorFile
    migrated_from: str | None = None
    # What a person accepted as lost when opening (kapdesk accept-loss), to be audited.
    accepted_loss: dict[str, Any] | None = None
    read_only: bool = False

    def close(self) -> None:
        try:
            self.engine.dispose()
        finally:
            try:
                self.anchor.close()
            finally:
                self.lock.release()


@dataclass(frozen=True)
class Examination:
    """What the read-only checks found, before anything is opened for writing."""

    wal: wal.WalState
    check: Preflight
    anchor: Anchor | None
    problems: tuple[str, ...] = ()  # each a sentence: acknowledged entries may be missing
    missing_events: int | None = 0  # None: cannot be counted
    finding: dict[str, Any] = field(default_factory=dict)


def prepare_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    ensure_private(folder)


def holds_record(folder: Path) -> bool:
    return (folder / DATABASE_FILE).exists() or KeyVault.exists(folder)


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
        if not create and not holds_record(folder):
            raise NoRecordError(
                f"There is no kapdesk record in {folder}. Check the folder name (--data-dir "
                "or $KAPDESK_HOME); a new record is created only by starting the app. "
                "Nothing was created."
            )
    except OSError as exc:
        raise folder_error(folder, exc) from None


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


def check_space(folder: Path) -> None:
    """Refuse to open for writing without the room to fold the log in and write entries."""
    log_bytes = _size(folder / f"{DATABASE_FILE}{WAL_SUFFIX}")
    needed = MIN_FREE_BYTES + log_bytes
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DiskFullError(
            f"The disk holding {folder} is full: {_mib(free)} free, and kapdesk needs at "
            f"least {_mib(needed)} to open the record and save entries. Free some space and "
            "start again. The record is intact; nothing was changed."
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"


def open_record(
    folder: Path,
    passphrase: PassphraseSource,
    *,
    use_keyring: bool,
    now: Callable[[], dt.datetime],
    create: bool = False,
    accept_loss: str | None = None,
) -> OpenedRecord:
    check_folder(folder, create=create)
    if folder.is_dir():
        check_space(folder)
    try:
        prepare_folder(folder)
        lock = DataFolderLock(folder)
        lock.acquire()
    except OSError as exc:
        raise folder_error(folder, exc) from None
    try:
        return _open_locked(
            folder,
            passphrase,
            use_keyring=use_keyring,
            now=now,
            lock=lock,
            create=create,
            accept_loss=accept_loss,
        )
    except BaseException:
        lock.release()
        raise


def unlock_existing(folder: Path, passphrase: PassphraseSource) -> tuple[KeyVault, bytes]:
    """The key file and the key of a folder that holds a record."""
    database = folder / DATABASE_FILE
    if not database.exists() and not (folder / CREATING_FILE).exists():
        raise MissingFileError(
            f"The database file {DATABASE_FILE} is missing from {folder}, though its key "
            "file is there. Restore the record from a backup; nothing was changed."
        )
    vault = KeyVault.load(folder)
    return vault, vault.unlock(passphrase)


def _open_locked(
    folder: Path,
    passphrase: PassphraseSource,
    *,
    use_keyring: bool,
    now: Callable[[], dt.datetime],
    lock: DataFolderLock,
    create: bool,
    accept_loss: str | None,
) -> OpenedRecord:
    database = folder / DATABASE_FILE
    started = time.perf_counter()
    if not database.exists() and not KeyVault.exists(folder):
        if not create:  # the folder was emptied after check_folder looked
            raise NoRecordError(f"There is no kapdesk record in {folder}; nothing was created.")
        return _create(folder, passphrase, use_keyring=use_keyring, now=now, lock=lock)
    vault, key = unlock_existing(folder, passphrase)
    if not database.exists():
        log.warning("finishing a record creation that was interrupted")
        return _initialise(folder, vault, key, now=now, lock=lock)
    anchor = AnchorFile(folder, key, vault.database_id)

    found = examine(folder, key, vault, anchor)
    if found.check.schema_problems:
        listed = "; ".join(found.check.schema_problems[:5])
        raise SchemaAlteredError(
            f"The structure of {database.name} was changed outside kapdesk ({listed}), so "
            "its entries can no longer be trusted to be stored as shown. kapdesk will not "
            "write to it. Copy the data folder for inspection, run “kapdesk verify”, and "
            "restore the latest backup into a new folder; nothing was changed."
        )
    if found.problems and accept_loss is None:
        raise RecordIncompleteError(incomplete_sentence(folder, found.problems), found.finding)
    if accept_loss is not None and not found.problems:
        raise StoreError(
            "The record has no missing or damaged entries to accept: open it as usual. "
            "Nothing was changed."
        )
    accepted = None
    if found.problems:
        accepted = {**found.finding, "reason": accept_loss}
        _keep_evidence(folder, found, now)
    engine = make_engine(database, key)
    check = found.check
    try:
        if check.revision != migrate.head_revision():
            _migrate(folder, vault, key, engine, check, now)
        vault.add_missing_check()
    except BaseException:
        engine.dispose()
        raise
    log.info("record opened in %.0f ms", (time.perf_counter() - started) * 1000)
    migrated = check.revision if check.revision != migrate.head_revision() else None
    return OpenedRecord(folder, vault, key, engine, lock, anchor, migrated, accepted)


def examine(folder: Path, key: bytes, vault: KeyVault, anchor_file: AnchorFile) -> Examination:
    """The read-only checks, in an order that changes nothing on disk.

    Raises a StoreError for what makes the record unusable (damaged database, wrong
    record, newer schema); returns what may mean missing entries, and (in the
    preflight) any change to the record's structure.
    """
    database = folder / DATABASE_FILE
    log_state = wal.inspect(Path(f"{database}{WAL_SUFFIX}"))
    try:
        anchor = anchor_file.read()
        anchor_damaged = False
    except AnchorDamagedError:
        anchor, anchor_damaged = None, True
    check = preflight(database, key, anchor_seq=anchor.seq if anchor else None)
    if check.revision is None or check.database_id != vault.database_id:
        raise StoreError(
            f"{database.name} and the key file in its folder belong to different records. "
            "Restore the folder from a backup; nothing was changed."
        )
    if check.revision not in migrate.known_revisions():
        raise NewerVersionError(
            f"This record was written by a newer kapdesk (schema {check.revision}); this is "
            f"kapdesk {__version__}. Install the newer version to open it; nothing was changed."
        )
    problems: list[str] = []
    finding: dict[str, Any] = {"record_events": check.head_seq}
    if log_state.damaged:
        problems.append(_wal_sentence(log_state))
        finding["wal"] = {
            "first_invalid_frame": log_state.first_invalid_frame,
            "acknowledged_after_damage": log_state.acknowledged_after_break,
            "header_damaged": log_state.header_damaged,
        }
    anchor_problem, missing = compare_anchor(
        anchor,
        damaged=anchor_damaged,
        head_seq=check.head_seq,
        hash_at_anchor=check.anchor_event_hash,
        anchored=check.anchored,
    )
    if anchor_problem:
        problems.append(anchor_problem)
        finding["anchor"] = {
            "anchor_events": anchor.seq if anchor else None,
            "missing_events": missing,
        }
    return Examination(log_state, check, anchor, tuple(problems), missing, finding)


def _wal_sentence(state: wal.WalState) -> str:
    count = state.acknowledged_after_break
    transactions = f"{count} saved transaction{'s' if count != 1 else ''}"
    if state.header_damaged:
        return (
            f"The header of the write-ahead log ({DATABASE_FILE}{WAL_SUFFIX}) is damaged, so "
            f"the {transactions} in it (the newest entries) would be ignored if the record "
            "were opened"
        )
    return (
        f"The write-ahead log ({DATABASE_FILE}{WAL_SUFFIX}) is damaged at frame "
        f"{(state.first_invalid_frame or 0) + 1} of {state.frames}, and at least "
        f"{transactions} (the newest entries) were written after the damage: opening the "
        "record would drop them for good"
    )


def incomplete_sentence(folder: Path, problems: tuple[str, ...]) -> str:
    return (
        ". ".join(problems)
        + f". Before anything else, copy the whole data folder {folder} somewhere safe: it "
        "may be needed to recover those entries. Then restore the latest backup into a new "
        "folder, or, if this record must be used as it is, run “kapdesk accept-loss --reason "
        "…” to open it and write the loss into its audit trail. Nothing was changed."
    )


def _keep_evidence(folder: Path, found: Examination, now: Callable[[], dt.datetime]) -> None:
    """Before an accepted loss is opened, keep copies of what opening would fold or replace."""
    stamp = _stamp(now)
    log_file = folder / f"{DATABASE_FILE}{WAL_SUFFIX}"
    if found.wal.damaged and log_file.exists():
        kept = folder / f"{log_file.name}.damaged-{stamp}"
        shutil.copyfile(log_file, kept)
        ensure_private(kept)
        with kept.open("rb+") as handle:
            os.fsync(handle.fileno())
    anchor = folder / ANCHOR_FILE
    if "anchor" in found.finding and anchor.exists():
        anchor.rename(folder / f"{ANCHOR_FILE}.replaced-{stamp}")
    fsync_directory(folder)
    log.warning("opening a record with an accepted loss; evidence kept beside it")


def _stamp(now: Callable[[], dt.datetime]) -> str:
    return now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _migrate(
    folder: Path,
    vault: KeyVault,
    key: bytes,
    engine: Engine,
    check: Preflight,
    now: Callable[[], dt.datetime],
) -> None:
    # Imported here: backups import opening's constants, and most opens never migrate.
    from kapdesk.store.backup import write_backup

    head = migrate.head_revision()
    target: Path | None = None
    if check.holds_data:
        target = _free_name(folder / BACKUP_FOLDER, f"before-schema-{head}-{_stamp(now)}")
        target.parent.mkdir(exist_ok=True, mode=0o700)
        write_backup(engine, key, vault, target, now=now)
        log.info("backup taken before migrating from schema %s", check.revision)
    try:
        with engine.connect() as connection:
            migrate.upgrade(connection)
            connection.commit()
    except Exception as exc:  # noqa: BLE001 - any failure of a migration gets the same sentence
        log.error("migration from schema %s failed: %s", check.revision, type(exc).__name__)
        kept = f" A backup taken just before is at {target}." if target else ""
        raise MigrationFailedError(
            f"Upgrading the record from schema {check.revision} to {head} failed "
            f"({type(exc).__name__}); the record stays at schema {check.revision}, as it "
            f"was.{kept} Start kapdesk again to retry; if it fails again, keep the folder as "
            "it is and contact support."
        ) from None
    log.info("migrated from schema %s to %s", check.revision, head)


def _free_name(folder: Path, stem: str) -> Path:
    """A backup name not yet taken (two upgrades in one second must not collide)."""
    candidate = folder / f"{stem}.kapbak"
    number = 1
    while candidate.exists():
        number += 1
        candidate = folder / f"{stem}-{number}.kapbak"
    return candidate


def _create(
    folder: Path,
    passphrase: PassphraseSource,
    *,
    use_keyring: bool,
    now: Callable[[], dt.datetime],
    lock: DataFolderLock,
) -> OpenedRecord:
    # The marker goes first: if creation is interrupted after the key file is
    # written, the next open knows no record was ever stored and finishes the job.
    marker = folder / CREATING_FILE
    marker.touch(mode=0o600)
    fsync_directory(folder)
    stray_anchor = folder / ANCHOR_FILE
    if stray_anchor.exists():  # another record's, left in an emptied folder: keep it aside
        _set_aside(stray_anchor, now)
    vault, key = KeyVault.create(folder, passphrase, use_keyring=use_keyring)
    ensure_private(vault.path)
    return _initialise(folder, vault, key, now=now, lock=lock)


def _initialise(
    folder: Path,
    vault: KeyVault,
    key: bytes,
    *,
    now: Callable[[], dt.datetime],
    lock: DataFolderLock,
    schema: str = "head",
) -> OpenedRecord:
    """Build the database beside its final name and rename it into place when complete.

    ``schema`` is only ever not head in tests that need a record of an older schema.
    """
    marker = folder / CREATING_FILE
    building = folder / f"{DATABASE_FILE}.building"
    if building.exists():
        _set_aside(building, now)
    engine = make_engine(building, key, create=True)
    try:
        with engine.connect() as connection:
            migrate.upgrade(connection, schema)
            connection.commit()
            connection.execute(
                text("INSERT INTO kapdesk_meta (name, value) VALUES (:n, :v)"),
                [
                    {"n": "database_id", "v": vault.database_id},
                    {"n": "created_by", "v": f"kapdesk {__version__}"},
                ],
            )
            connection.commit()
            # A standalone file before the rename: no write-ahead log left beside it.
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    for leftover in (Path(f"{building}-wal"), Path(f"{building}-shm")):
        if leftover.exists() and leftover.stat().st_size == 0:
            leftover.unlink()
    database = folder / DATABASE_FILE
    os.replace(building, database)
    ensure_private(database)
    fsync_directory(folder)
    marker.unlink(missing_ok=True)
    fsync_directory(folder)
    log.info("new record created (key kept by %s)", vault.method)
    anchor = AnchorFile(folder, key, vault.database_id)
    return OpenedRecord(folder, vault, key, make_engine(database, key), lock, anchor)


def _set_aside(path: Path, now: Callable[[], dt.datetime]) -> None:
    """Keep an unexplained file under a new name instead of deleting it."""
    path.rename(path.with_name(f"{path.name}.interrupted-{_stamp(now)}"))
