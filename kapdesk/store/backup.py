"""Encrypted backups and restores.

A backup is one zip file: the database copied page by page through SQLite's
online backup API (so it is consistent while kapdesk runs, and stays
encrypted with the record's key), the key file (which holds the key only
wrapped, or only a reference to the keyring), and a manifest. Restoring
needs the secret the record already needs: the passphrase, or on the same
computer the keyring entry.

The record is read once: the backup API reads every page through SQLCipher,
which authenticates each, and writes the copy. The copy then gets one check,
SQLite's quick_check (every b-tree page of the copy read back and authenticated,
proving what was written to disk), from the file cache; it is packed into the zip
while the zip's SHA-256 is taken from the bytes as they are written. (Before,
a full integrity_check and a cipher_integrity_check of the copy, and a re-read of
the finished file for its hash, made it five passes: 28 s at ten clinic years.
Index consistency is the source's, copied byte for byte; verify checks it.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Engine

from kapdesk import __version__
from kapdesk.store.anchor import Anchors
from kapdesk.store.engine import DATABASE_FILE, connect, preflight, quick_check
from kapdesk.store.errors import BackupError, StoreError
from kapdesk.store.fileio import (
    ensure_private,
    fsync_directory,
    is_plain_file,
    write_file_atomically,
)
from kapdesk.store.folder import MIN_FREE_BYTES, RECORD_PARTS, size_text
from kapdesk.store.lock import LOCK_FILE, DataFolderLock
from kapdesk.store.vault import VAULT_FILE, KeyVault, PassphraseSource, parse_vault

BACKUP_FORMAT = "kapdesk-backup/1"
MANIFEST = "manifest.json"
MEMBERS = {MANIFEST, VAULT_FILE, DATABASE_FILE}
COPY_CHUNK = 1 << 20
STEP_PAGES = 4096  # pages copied between two progress reports (16 MiB)

# (what is being done, how far, out of how much)
Progress = Callable[[str, int, int], None]


def no_progress(_what: str, _done: int, _total: int) -> None:
    pass


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    sha256: str
    audit_events: int
    portable: bool  # restorable on another computer (with the passphrase)


# A backup's own unfinished files (".NAME.kapbak.partial", ".NAME.kapbak.db.partial" and
# the latter's -wal, -shm and -journal) left by a backup stopped hard (killed, a power cut),
# and older than this: no backup under way is that slow to touch them.
_STALE_PARTIAL = re.compile(r"^\..+\.kapbak(\.db)?\.partial(-wal|-shm|-journal)?$")
STALE_PARTIAL_AGE = dt.timedelta(hours=1)


def _remove_stale_partials(folder: Path) -> None:
    """Remove the unfinished files of backups stopped hard in ``folder`` (encrypted, but
    100 MB or more each on a clinic's stick, tamper QA), only kapdesk's own by their
    names, and only those untouched for STALE_PARTIAL_AGE by the file system's clock."""
    now = dt.datetime.now(dt.UTC)
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not _STALE_PARTIAL.match(name):
            continue
        path = folder / name
        with contextlib.suppress(OSError):
            changed = dt.datetime.fromtimestamp(path.lstat().st_mtime, dt.UTC)
            if now - changed > STALE_PARTIAL_AGE and is_plain_file(path):
                path.unlink()


def write_backup(
    engine: Engine,
    key: bytes,
    vault: KeyVault,
    target: Path,
    *,
    now: Callable[[], dt.datetime],
    recovery: PassphraseSource | None = None,
    progress: Progress = no_progress,
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
    _remove_stale_partials(target.parent)
    try:
        events, head_hash = _copy_database(engine, key, copy, progress)
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
        digest = _pack(partial, copy, manifest, key_file, progress)
        os.link(partial, target)  # fails rather than replacing a file that appeared meanwhile
        partial.unlink()
        fsync_directory(target.parent)
    except OSError as exc:
        raise BackupError(
            f"The backup could not be written to {target.parent} ({exc.strerror or exc}). "
            "Check the space and permissions there; the record itself is unchanged."
        ) from None
    except sqlcipher3.Error as exc:  # SQLite's own "database or disk is full" (tamper QA)
        raise BackupError(
            f"The backup could not be written to {target.parent} ({exc}). Check the space "
            "and permissions there; no backup was written and the record is unchanged."
        ) from None
    finally:
        for leftover in (copy, partial, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            # Not there, or a disk that takes nothing (read-only: its EROFS raised here
            # hid the sentence above behind "an unexpected error", tamper QA).
            with contextlib.suppress(OSError):
                leftover.unlink()
    return BackupInfo(target, target.stat().st_size, digest, events, portable)


class _HashingWriter:
    """A write-only file for zipfile that hashes what passes through it. It cannot seek,
    so zipfile writes each member's sizes after its data and never goes back: the hash
    is the finished file's."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._position = 0
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self._handle.write(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        self._handle.flush()


def _private_file(path: Path) -> int:
    """A new empty file only its owner can read, from its first byte (a backup's partial
    files were world-readable until finished; their contents are encrypted, issue 10 QA)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def _pack(
    partial: Path, copy: Path, manifest: dict[str, Any], key_file: bytes, progress: Progress
) -> str:
    """Write the zip in one pass; returns its SHA-256."""
    size = copy.stat().st_size
    with os.fdopen(_private_file(partial), "wb") as handle:
        writer = _HashingWriter(handle)
        with zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
            archive.writestr(VAULT_FILE, key_file)
            member = archive.open(DATABASE_FILE, "w", force_zip64=size >= zipfile.ZIP64_LIMIT)
            with member, copy.open("rb") as database:
                done = 0
                while chunk := database.read(COPY_CHUNK):
                    member.write(chunk)
                    done += len(chunk)
                    if done % (COPY_CHUNK * 16) == 0:
                        progress("writing the backup file", done, size)
        handle.flush()
        os.fsync(handle.fileno())
    progress("writing the backup file", size, size)
    return writer.digest.hexdigest()


def _copy_database(
    engine: Engine, key: bytes, copy: Path, progress: Progress
) -> tuple[int, str | None]:
    """Copy through the online backup API and check the copy; returns its newest audit event."""
    os.close(_private_file(copy))  # SQLite keeps an existing file's permissions
    destination = connect(copy, key, "rwc")
    try:
        raw = engine.raw_connection()
        source: Any = raw.driver_connection
        try:
            # One read transaction around every step: the copy is of one moment, and an
            # entry saved meanwhile (through the store's writer) does not restart it.
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchall()
            source.backup(
                destination,
                pages=STEP_PAGES,
                progress=lambda _status, remaining, total: progress(
                    "copying the record", total - remaining, total
                ),
                sleep=0,
            )
        finally:
            if source.in_transaction:
                source.execute("ROLLBACK")
            raw.close()
        # The copy must stand alone in one file, without a write-ahead log.
        destination.execute("PRAGMA journal_mode = DELETE").fetchall()
        progress("checking the copy", 0, 1)
        if quick_check(destination):
            raise BackupError(
                "The backup copy failed its integrity check, so no backup was written. Run "
                "“kapdesk verify” on the record."
            )
        progress("checking the copy", 1, 1)
        newest = destination.execute(
            "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (int(newest[0]), str(newest[1])) if newest else (0, None)
    finally:
        destination.close()
        ensure_private(copy)


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


def check_backup_whole(source: Path) -> dict[str, Any]:
    """read_manifest, and every byte of the backup read back against its checksums: a
    backup cut short or with a byte changed inside its database was passed by verify
    while restore refused it (tamper QA). Raises BackupError with a sentence."""
    manifest = read_manifest(source)
    try:
        with zipfile.ZipFile(source) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError):
        bad = "?"
    if bad is not None:
        raise BackupError(
            f"{source.name} is damaged (its contents fail their checksum), so it would not restore"
        )
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
    _room_to_restore(source, folder)
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


def _room_to_restore(source: Path, folder: Path) -> None:
    """Refuse before anything is made unless the disk holds the database unpacked and the
    room the record then needs to open (check_space): with too little, the files were
    written whole, then the record could not open, and the restore was said to have
    failed, though a retry found a record there (tamper QA)."""
    try:
        with zipfile.ZipFile(source) as archive:
            unpacked = archive.getinfo(DATABASE_FILE).file_size
    except (OSError, KeyError, zipfile.BadZipFile):
        return  # said, with what to do, where it is read
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None:
        return
    needed = unpacked + MIN_FREE_BYTES + (1 << 20)  # the key file, anchor and lock besides
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise BackupError(
            f"The disk holding {folder} has {size_text(free)} free, and restoring this backup "
            f"needs {size_text(needed)}. Free some space there, or restore into a folder on "
            "another disk; nothing was changed."
        )


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
            # Private from its first byte, as the record's files are (tamper QA: made
            # 0644 and only then made private, and left so by a restore stopped hard).
            with contextlib.suppress(FileNotFoundError):
                staging.unlink()  # a restore stopped hard before: its part
            private = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with archive.open(DATABASE_FILE) as packed, open(private, "wb") as unpacked:
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
        # folder's mirror may say this computer had got further (the record restored in
        # place): the restore was asked for, so it moves back too. The caller is told how
        # far the record had come, here or in its copies in other folders, whose mirrors
        # are read and left as they are.
        anchors = Anchors(folder, key, vault.database_id, mirror)
        here, elsewhere = anchors.read().anchor, anchors.furthest_elsewhere()
        reached = max((a for a in (here, elsewhere) if a), key=lambda a: a.seq, default=None)
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
