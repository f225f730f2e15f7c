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
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from kapdesk import __version__
from kapdesk.clinical.entries import clean_text
from kapdesk.clinical.vitals import ValidationError
from kapdesk.store import migrate
from kapdesk.store.anchor import ANCHOR_FILE, Anchors
from kapdesk.store.engine import DATABASE_FILE, Preflight, make_engine
from kapdesk.store.errors import (
    MigrationFailedError,
    MissingFileError,
    NoRecordError,
    RecordIncompleteError,
    SchemaAlteredError,
    StoreError,
)
from kapdesk.store.examine import (
    Examination,
    examine,
    incomplete_sentence,
    keep_evidence,
    stamp,
)
from kapdesk.store.fileio import ensure_private, fsync_directory
from kapdesk.store.folder import (
    check_folder,
    check_space,
    folder_error,
    holds_record,
    prepare_folder,
)
from kapdesk.store.lock import LOCK_FILE, DataFolderLock
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
    anchor: Anchors
    migrated_from: str | None = None
    # What a person accepted as lost when opening (kapdesk accept-loss), to be audited.
    accepted_loss: dict[str, Any] | None = None
    read_only: bool = False
    # A write-ahead log older than the database, set aside before opening: what it was
    # kept as, and what folding it in would have undone (audited).
    older_log: dict[str, Any] | None = None

    def close(self) -> None:
        try:
            self.engine.dispose()
        finally:
            try:
                self.anchor.close()
            finally:
                self.lock.release()


def open_record(
    folder: Path,
    passphrase: PassphraseSource,
    *,
    use_keyring: bool,
    now: Callable[[], dt.datetime],
    create: bool = False,
    accept_loss: str | None = None,
    mirror: Path | None = None,
) -> OpenedRecord:
    """Open the record in ``folder``; ``mirror``: the folder outside it that holds the
    anchor's mirror (store/anchor.py), None for none."""
    check_folder(folder, create=create)
    if folder.is_dir():
        check_space(folder)
    made_folder = not folder.exists()
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
            mirror=mirror,
        )
    except BaseException:
        lock.release()
        if made_folder and not holds_record(folder):
            _remove_empty(folder)  # a creation given up (no passphrase): leave no trace
        raise


def unlock_existing(folder: Path, passphrase: PassphraseSource) -> tuple[KeyVault, bytes]:
    """The key file and the key of a folder that holds a record."""
    database = folder / DATABASE_FILE
    if not database.exists() and not _creation_interrupted(folder):
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
    mirror: Path | None,
) -> OpenedRecord:
    database = folder / DATABASE_FILE
    started = time.perf_counter()
    if accept_loss is not None:
        # The audit trail's one word on why entries were given up: never empty (tamper
        # QA: `accept-loss --reason ""` went ahead, and the trail said "reason": "").
        try:
            accept_loss = clean_text(accept_loss, "The reason for accepting the loss", limit=2000)
        except ValidationError as exc:
            raise StoreError(f"{exc} Nothing was changed.") from None
    if not database.exists() and not KeyVault.exists(folder):
        if not create:  # the folder was emptied after check_folder looked
            raise NoRecordError(f"There is no kapdesk record in {folder}; nothing was created.")
        return _create(
            folder, passphrase, use_keyring=use_keyring, now=now, lock=lock, mirror=mirror
        )
    vault, key = unlock_existing(folder, passphrase)
    if not database.exists():
        # A mirror of this record under any folder's name (anchor.mirror_name), or the
        # name mirrors had before: looking for the old name alone, the guard never met a
        # mirror written since, and an empty record was made under a used id (tamper QA).
        if mirror is not None and any(mirror.glob(f"{vault.database_id}.*anchor")):
            raise MissingFileError(
                f"The database file {DATABASE_FILE} is missing from {folder}, though this "
                "computer has written to this record before. Restore the record from a "
                "backup; nothing was changed."
            )
        log.warning("finishing a record creation that was interrupted")
        return _initialise(folder, vault, key, now=now, lock=lock, mirror=mirror)
    anchor = Anchors(folder, key, vault.database_id, mirror)

    found = examine(folder, key, vault, anchor)
    older_log = None
    if found.older_log:
        # Proven older than the database, which is complete without it: kept beside it
        # under another name, never folded in, and the record opened as it is.
        older_log = _set_older_log_aside(folder, found, now)
        found = examine(folder, key, vault, anchor)
        if found.older_log or found.problems:  # the database alone was checked: not met
            raise RecordIncompleteError(
                incomplete_sentence(folder, found.problems), found.finding, found.problems
            )
    check_space(folder, found.wal.replayed_bytes)
    if found.check.facts_covered and not found.check.anchored:
        # Opening would cover the record's facts afresh and so hide that one was removed.
        raise SchemaAlteredError(
            f"The record's own facts in {database.name} were changed outside kapdesk (its "
            "anchor entry is gone, though its audit trail recorded it). kapdesk will not "
            "write to it. Copy the data folder for inspection, run “kapdesk verify”, and "
            "restore the latest backup into a new folder; nothing was changed."
        )
    if found.check.schema_problems:
        listed = "; ".join(found.check.schema_problems[:5])
        raise SchemaAlteredError(
            f"The structure of {database.name} was changed outside kapdesk ({listed}), so "
            "its entries can no longer be trusted to be stored as shown. kapdesk will not "
            "write to it. Copy the data folder for inspection, run “kapdesk verify”, and "
            "restore the latest backup into a new folder; nothing was changed."
        )
    if found.problems and accept_loss is None:
        raise RecordIncompleteError(
            incomplete_sentence(folder, found.problems), found.finding, found.problems
        )
    if accept_loss is not None and not found.problems and older_log is None:
        raise StoreError(
            "The record has no missing or damaged entries to accept: its end and its "
            "write-ahead log are whole, so open it as usual. If “kapdesk verify” finds a "
            "damaged page, accepting a loss cannot mend it: restore the latest backup into "
            "a new folder. Nothing was changed."
        )
    accepted = None
    if found.problems:
        accepted = {**found.finding, "reason": accept_loss}
        accepted["kept"] = keep_evidence(folder, found, anchor, now)
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
    return OpenedRecord(
        folder, vault, key, engine, lock, anchor, migrated, accepted, older_log=older_log
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

    head = migrate.head_revision()
    target: Path | None = None
    if check.holds_data:
        target = _free_name(folder / BACKUP_FOLDER, f"before-schema-{head}-{stamp(now)}")
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
    mirror: Path | None,
) -> OpenedRecord:
    # The marker goes first: if creation is interrupted after the key file is
    # written, the next open knows no record was ever stored and finishes the job.
    marker = folder / CREATING_FILE
    marker.touch(mode=0o600)
    fsync_directory(folder)
    try:
        vault, key = KeyVault.create(folder, passphrase, use_keyring=use_keyring)
    except BaseException:
        if not KeyVault.exists(folder):
            marker.unlink(missing_ok=True)  # nothing was created after all
        raise
    ensure_private(vault.path)
    return _initialise(folder, vault, key, now=now, lock=lock, mirror=mirror)


def _creation_interrupted(folder: Path) -> bool:
    """Only the first creation, cut short, leaves a key file and no database: its marker
    is there, and nothing a record that was used leaves behind."""
    leftovers = (ANCHOR_FILE, f"{DATABASE_FILE}-wal", BACKUP_FOLDER)
    return (folder / CREATING_FILE).exists() and not any(
        os.path.lexists(folder / name) for name in leftovers
    )


def _initialise(
    folder: Path,
    vault: KeyVault,
    key: bytes,
    *,
    now: Callable[[], dt.datetime],
    lock: DataFolderLock,
    mirror: Path | None = None,
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
    anchor = Anchors(folder, key, vault.database_id, mirror)
    return OpenedRecord(folder, vault, key, make_engine(database, key), lock, anchor)


def _remove_empty(folder: Path) -> None:
    """Remove a folder this open made, if it holds nothing but the lock file."""
    try:
        (folder / LOCK_FILE).unlink(missing_ok=True)
        folder.rmdir()
    except OSError:
        pass  # something else is in it now: leave it


def older_log_sentence(older: dict[str, Any]) -> str:
    """What opening did with a write-ahead log older than the database, for the clinician."""
    undoes = older.get("events_it_would_undo")
    if older.get("diverges"):
        what = "was another copy's of this record, not this database's"
        harm = "folding it in would have put that copy's entries in place of this record's newest"
    else:
        what = "was older than the database beside it, an earlier copy"
        harm = (
            f"folding it in would have undone the newest {undoes} audit events and their entries"
            if undoes
            else "folding it in would have damaged the database"
        )
    return (
        f"The record's write-ahead log ({DATABASE_FILE}-wal) {what}, put back (by a backup "
        f"or sync tool, or by hand): {harm}. "
        f"It was set aside, kept as {', '.join(older.get('kept_as', []))}; the record is "
        "complete without it and was opened as it is, and this is written in its audit trail."
    )


def _set_older_log_aside(
    folder: Path, found: Examination, now: Callable[[], dt.datetime]
) -> dict[str, Any]:
    """Rename the database's older write-ahead log (and its index) aside, and say so."""
    suffix = stamp(now)
    kept: list[str] = []
    for companion in (f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"):
        path = folder / companion
        if path.exists():
            target = path.with_name(f"{companion}.older-{suffix}")
            path.rename(target)
            kept.append(target.name)
    fsync_directory(folder)
    log.warning("a write-ahead log older than the database was set aside as %s", kept)
    return {
        "kept_as": kept,
        "frames": found.wal.frames,
        "events_it_would_undo": found.older_log_undoes,
        "diverges": found.older_log_diverges,
        "record_events": found.check.head_seq,
    }


def _set_aside(path: Path, now: Callable[[], dt.datetime]) -> None:
    """Keep an unexplained file under a new name instead of deleting it."""
    path.rename(path.with_name(f"{path.name}.interrupted-{stamp(now)}"))
