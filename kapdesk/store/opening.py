"""Opening a data folder: lock, unlock, check, migrate, or create a new record.

The order matters. Nothing is written until the folder is locked, the key is
proven, and the read-only preflight has passed; a file that cannot be opened
is never deleted, overwritten or recreated.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from kapdesk import __version__
from kapdesk.store import migrate
from kapdesk.store.engine import DATABASE_FILE, Preflight, make_engine, preflight
from kapdesk.store.errors import (
    FolderUnusableError,
    MissingFileError,
    NewerVersionError,
    StoreError,
)
from kapdesk.store.fileio import ensure_private, fsync_directory
from kapdesk.store.lock import DataFolderLock
from kapdesk.store.vault import KeyVault, PassphraseSource

log = logging.getLogger(__name__)

# Left behind only if the very first creation of a record was interrupted.
CREATING_FILE = ".kapdesk.db.creating"
BACKUP_FOLDER = "backups"


@dataclass
class OpenedRecord:
    folder: Path
    vault: KeyVault
    key: bytes
    engine: Engine
    lock: DataFolderLock

    def close(self) -> None:
        self.engine.dispose()
        self.lock.release()


def prepare_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    ensure_private(folder)


def open_record(
    folder: Path,
    passphrase: PassphraseSource,
    *,
    use_keyring: bool,
    now: Callable[[], dt.datetime],
) -> OpenedRecord:
    try:
        prepare_folder(folder)
        lock = DataFolderLock(folder)
        lock.acquire()
    except OSError as exc:
        raise FolderUnusableError(
            f"The data folder {folder} cannot be used ({exc.strerror or exc}). Check that the "
            "disk is connected and not read-only, or choose another folder with --data-dir; "
            "nothing was changed."
        ) from None
    try:
        return _open_locked(folder, passphrase, use_keyring=use_keyring, now=now, lock=lock)
    except BaseException:
        lock.release()
        raise


def _open_locked(
    folder: Path,
    passphrase: PassphraseSource,
    *,
    use_keyring: bool,
    now: Callable[[], dt.datetime],
    lock: DataFolderLock,
) -> OpenedRecord:
    database = folder / DATABASE_FILE
    started = time.perf_counter()
    if not database.exists():
        if not KeyVault.exists(folder):
            return _create(folder, passphrase, use_keyring=use_keyring, now=now, lock=lock)
        if not (folder / CREATING_FILE).exists():
            raise MissingFileError(
                f"The database file {DATABASE_FILE} is missing from {folder}, though its key "
                "file is there. Restore the record from a backup; nothing was changed."
            )
        vault = KeyVault.load(folder)
        key = vault.unlock(passphrase)
        log.warning("finishing a record creation that was interrupted")
        return _initialise(folder, vault, key, now=now, lock=lock)

    vault = KeyVault.load(folder)
    key = vault.unlock(passphrase)
    check = preflight(database, key)
    _check_identity(check, vault, database)
    if check.revision not in migrate.known_revisions():
        raise NewerVersionError(
            f"This record was written by a newer kapdesk (schema {check.revision}); this is "
            f"kapdesk {__version__}. Install the newer version to open it; nothing was changed."
        )
    engine = make_engine(database, key)
    try:
        if check.revision != migrate.head_revision():
            _migrate(folder, vault, key, engine, check, now)
    except BaseException:
        engine.dispose()
        raise
    log.info("record opened in %.0f ms", (time.perf_counter() - started) * 1000)
    return OpenedRecord(folder, vault, key, engine, lock)


def _check_identity(check: Preflight, vault: KeyVault, database: Path) -> None:
    if check.revision is None or check.database_id != vault.database_id:
        raise StoreError(
            f"{database.name} and the key file in its folder belong to different records. "
            "Restore the folder from a backup; nothing was changed."
        )


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

    if check.holds_data:
        stamp = now().strftime("%Y%m%dT%H%M%SZ")
        target = folder / BACKUP_FOLDER / f"before-schema-{migrate.head_revision()}-{stamp}.kapbak"
        target.parent.mkdir(exist_ok=True, mode=0o700)
        write_backup(engine, key, vault, target, now=now)
        log.info("backup taken before migrating from schema %s", check.revision)
    with engine.connect() as connection:
        migrate.upgrade(connection)
        connection.commit()
    log.info("migrated from schema %s to %s", check.revision, migrate.head_revision())


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
    return OpenedRecord(folder, vault, key, make_engine(database, key), lock)


def _set_aside(path: Path, now: Callable[[], dt.datetime]) -> None:
    """Keep an unexplained file under a new name instead of deleting it."""
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    path.rename(path.with_name(f"{path.name}.interrupted-{stamp}"))
