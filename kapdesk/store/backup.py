"""Encrypted backups and restores.

A backup is one zip file: the database copied page by page through SQLite's
online backup API (so it is consistent while kapdesk runs, and stays
encrypted with the record's key), the key file (which holds the key only
wrapped, or only a reference to the keyring), and a manifest. Restoring
needs the secret the record already needs: the passphrase, or on the same
computer the keyring entry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from kapdesk import __version__
from kapdesk.store.anchor import Anchors
from kapdesk.store.engine import DATABASE_FILE, connect, preflight
from kapdesk.store.errors import BackupError, StoreError
from kapdesk.store.fileio import (
    ensure_private,
    fsync_directory,
    is_plain_file,
    write_file_atomically,
)
from kapdesk.store.folder import RECORD_PARTS
from kapdesk.store.lock import LOCK_FILE, DataFolderLock
from kapdesk.store.vault import VAULT_FILE, KeyVault, PassphraseSource, parse_vault

BACKUP_FORMAT = "kapdesk-backup/1"
MANIFEST = "manifest.json"
MEMBERS = {MANIFEST, VAULT_FILE, DATABASE_FILE}
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    sha256: str
    audit_events: int
    portable: bool  # restorable on another computer (with the passphrase)


def write_backup(
    engine: Engine,
    key: bytes,
    vault: KeyVault,
    target: Path,
    *,
    now: Callable[[], dt.datetime],
    recovery: PassphraseSource | None = None,
) -> BackupInfo:
    """Write a backup to ``target`` atomically; an existing file there is never replaced.

    With ``recovery``, a keyring-protected record's key goes into the backup wrapped
    under a recovery passphrase, so the backup restores on another computer.
    """
    key_file = vault.path.read_bytes()
    portable = vault.method == "passphrase"
    if recovery is not None and vault.method == "keyring":
        key_file = json.dumps(vault.portable_document(key, recovery), indent=2).encode()
        portable = True
    target = target.expanduser().resolve()
    if target.exists():
        raise BackupError(
            f"{target} already exists. Choose a new file name; the existing file was not touched."
        )
    if not target.parent.is_dir():
        raise BackupError(
            f"The folder {target.parent} does not exist. Create it or choose another."
        )
    copy = target.with_name(f".{target.name}.db.partial")
    partial = target.with_name(f".{target.name}.partial")
    try:
        events, head_hash = _copy_database(engine, key, copy)
        manifest = {
            "format": BACKUP_FORMAT,
            "kapdesk": __version__,
            "created_at": now().astimezone(dt.UTC).isoformat(),
            "database_id": vault.database_id,
            "key_method": "passphrase" if portable else vault.method,
            "portable": portable,
            # The newest audit event in the copy: a record later found holding fewer
            # events, or another event under this number, lost or replaced its history.
            "audit_events": events,
            "head_hash": head_hash,
        }
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
            archive.writestr(VAULT_FILE, key_file)
            archive.write(copy, DATABASE_FILE)
        ensure_private(partial)
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.link(partial, target)  # fails rather than replacing a file that appeared meanwhile
        partial.unlink()
        fsync_directory(target.parent)
    except OSError as exc:
        raise BackupError(
            f"The backup could not be written to {target.parent} ({exc.strerror or exc}). "
            "Check the space and permissions there; the record itself is unchanged."
        ) from None
    finally:
        for leftover in (copy, partial, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return BackupInfo(target, target.stat().st_size, _sha256(target), events, portable)


def _copy_database(engine: Engine, key: bytes, copy: Path) -> tuple[int, str | None]:
    """Copy through the online backup API and check the copy; returns its newest audit event."""
    destination = connect(copy, key, "rwc")
    try:
        raw = engine.raw_connection()
        try:
            raw.driver_connection.backup(destination)  # type: ignore[union-attr]
        finally:
            raw.close()
        # The copy must stand alone in one file, without a write-ahead log.
        destination.execute("PRAGMA journal_mode = DELETE").fetchall()
        problems = destination.execute("PRAGMA cipher_integrity_check").fetchall()
        integrity = destination.execute("PRAGMA integrity_check").fetchall()
        if problems or integrity != [("ok",)]:
            raise BackupError(
                "The backup copy failed its integrity check, so no backup was written. Run "
                "“kapdesk verify” on the record."
            )
        newest = destination.execute(
            "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (int(newest[0]), str(newest[1])) if newest else (0, None)
    finally:
        destination.close()
        ensure_private(copy)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(source: Path) -> dict[str, Any]:
    """Open a backup file and check its shape; raises BackupError with a sentence."""
    if not source.exists():
        raise BackupError(f"There is no file {source}.")
    if not is_plain_file(source.resolve()):
        raise BackupError(
            f"{source} is {'a folder' if source.is_dir() else 'not a plain file'}, not a "
            "backup file. Give the .kapbak file itself; nothing was changed."
        )
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            if names != MEMBERS:
                raise BackupError(f"{source.name} is not a kapdesk backup (unexpected contents).")
            manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
            parse_vault(archive.read(VAULT_FILE), f"{VAULT_FILE} in {source.name}")
    except (zipfile.BadZipFile, ValueError, RecursionError, KeyError, OSError, EOFError):
        raise BackupError(
            f"{source.name} is not a kapdesk backup, or it is damaged. Choose another backup file."
        ) from None
    except StoreError as exc:
        raise BackupError(str(exc)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{source.name} is not a kapdesk backup this version can read.")
    events, head = manifest.get("audit_events"), manifest.get("head_hash")
    if type(events) is not int or events < 0 or not isinstance(head, str | None):
        raise BackupError(f"{source.name} has a damaged manifest. Choose another backup file.")
    return manifest


def restore_backup(
    source: Path,
    folder: Path,
    passphrase: PassphraseSource,
    *,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    mirror: Path | None = None,
) -> dict[str, Any]:
    """Put a backup into an empty data folder; refuses to overwrite an existing record.

    Returns the backup's manifest, with "this_computer_reached" when the anchor's mirror
    shows this computer had recorded beyond the backup. On any failure the folder is left
    as it was: one this call created is removed.
    """
    if source.is_dir():
        raise BackupError(
            f"{source} is a folder, not a backup file. Give the .kapbak file itself; "
            "nothing was changed."
        )
    manifest = read_manifest(source)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        ensure_private(folder)
        lock = DataFolderLock(folder)
        lock.acquire()
    except OSError as exc:
        raise BackupError(
            f"The backup cannot be restored into {folder} ({exc.strerror or exc}). Choose "
            "an empty folder you can write to; nothing was changed."
        ) from None
    try:
        try:
            reached = _restore_locked(source, folder, passphrase, now, mirror)
        finally:
            lock.release()
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                (folder / LOCK_FILE).unlink(missing_ok=True)
                folder.rmdir()
        raise
    return {**manifest, "this_computer_reached": reached}


def _restore_locked(
    source: Path,
    folder: Path,
    passphrase: PassphraseSource,
    now: Callable[[], dt.datetime],
    mirror: Path | None,
) -> int | None:
    database = folder / DATABASE_FILE
    staging = folder / f".{DATABASE_FILE}.restoring"
    existing_vault = folder / VAULT_FILE
    try:
        with zipfile.ZipFile(source) as archive:
            vault_bytes = archive.read(VAULT_FILE)
            parts = [name for name in RECORD_PARTS if os.path.lexists(folder / name)]
            if (
                database.exists()
                or parts
                or (existing_vault.exists() and existing_vault.read_bytes() != vault_bytes)
            ):
                raise BackupError(
                    f"{folder} already holds a kapdesk record or parts of one, and restoring "
                    "never overwrites one. Restore into an empty folder (use --data-dir); "
                    "nothing was changed."
                )
            with archive.open(DATABASE_FILE) as packed, staging.open("wb") as unpacked:
                while chunk := packed.read(COPY_CHUNK):
                    unpacked.write(chunk)
                unpacked.flush()
                os.fsync(unpacked.fileno())
        ensure_private(staging)
        vault = KeyVault(folder, parse_vault(vault_bytes, VAULT_FILE))
        key = vault.unlock(passphrase)
        try:
            check = preflight(staging, key, full_check=True)
        except StoreError:
            raise BackupError(
                f"The database inside {source.name} is damaged, so it cannot be restored. "
                "Choose another backup; nothing was changed."
            ) from None
        if check.database_id != vault.database_id:
            raise BackupError(f"{source.name} is inconsistent: its key file and database differ.")
        if not existing_vault.exists():
            write_file_atomically(existing_vault, vault_bytes)
        os.replace(staging, database)
        fsync_directory(folder)
        # The restored record's end, anchored: anything shorter from now on is a loss. The
        # mirror may say this computer had got further: the restore was asked for, so it
        # moves back too, and the caller is told how far the record had come.
        anchors = Anchors(folder, key, vault.database_id, mirror)
        reached = anchors.read().anchor
        try:
            if check.head_hash is not None:
                anchors.write(check.head_seq, check.head_hash, now())
        finally:
            anchors.close()
        if reached is not None and reached.seq > check.head_seq:
            return reached.seq
        return None
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise BackupError(
            f"The database inside {source.name} is damaged (it fails its checksum), so it "
            "cannot be restored. Choose another backup; nothing was changed."
        ) from None
    except OSError as exc:
        raise BackupError(
            f"The backup could not be restored into {folder} ({exc.strerror or exc}). Check "
            "the space and permissions there; nothing was restored."
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
