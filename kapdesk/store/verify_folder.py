"""`kapdesk verify` on a data folder: the database checks of store/verify.py, and the checks of
what lies outside it: the write-ahead log, the anchor, and backups taken earlier.

``verify_folder`` opens the record read-only: it appends no event, folds no log into the
database and leaves every file of the record as it found it (SQLite's derived -shm
index aside).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from kapdesk.store import wal
from kapdesk.store.anchor import ANCHOR_FILE, Anchors, compare_anchor
from kapdesk.store.backup import check_backup_whole, read_manifest
from kapdesk.store.engine import ANCHOR_META, DATABASE_FILE, make_engine, read_only_companions
from kapdesk.store.errors import BackupError, DiskFullError, StoreError
from kapdesk.store.examine import examine
from kapdesk.store.folder import check_folder, folder_error
from kapdesk.store.lock import DataFolderLock
from kapdesk.store.opening import unlock_existing
from kapdesk.store.vault import PassphraseSource
from kapdesk.store.verify import (
    BACKUP_FILES,
    Check,
    Progress,
    VerifyReport,
    no_progress,
    unreadable_check,
    verify_record,
)


def _tables(conn: Connection) -> set[str]:
    return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())


def _head(conn: Connection) -> int:
    return int(conn.execute(text("SELECT coalesce(max(seq), 0) FROM audit_events")).scalar_one())


def _hash_at(conn: Connection, seq: int) -> str | None:
    found = conn.execute(text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": seq}).scalar()
    return None if found is None else str(found)


def anchor_check(conn: Connection, anchors: Anchors) -> Check:
    """The record reaches at least as far as kapdesk last wrote it (store/anchor.py)."""
    check = Check("End of the record against its anchor")
    if not {"audit_events", "kapdesk_meta"} <= _tables(conn):
        check.problems.append("the audit trail is gone, so the record's end cannot be compared")
        check.summary = "cannot be compared"
        return check
    reading = anchors.read()
    anchor = reading.anchor
    anchored = bool(
        conn.execute(
            text("SELECT count(*) FROM kapdesk_meta WHERE name = :n"), {"n": ANCHOR_META}
        ).scalar_one()
    )
    head = _head(conn)
    problem, _missing = compare_anchor(
        anchor,
        damaged=reading.damaged,
        beside_missing=reading.beside_missing,
        head_seq=head,
        hash_at_anchor=_hash_at(conn, anchor.seq) if anchor else None,
        anchored=anchored,
    )
    if problem:
        check.problems.append(problem)
        check.summary = "the newest entries may be missing"
    elif anchor is None:
        check.summary = "no anchor yet (record last opened by an older kapdesk)"
    elif head - anchor.seq > 1:
        # More than the one event a crash between a commit and the anchor's move leaves:
        # the anchor could not be written (tamper QA: kapdesk.anchor made immutable, 36
        # entries, and verify said "[ok] ... the anchor is at #11"). The record checks out;
        # what the anchor is for does not, so it is said.
        check.summary = (
            f"the record reaches event #{head}; its anchor is {head - anchor.seq} events "
            f"behind (#{anchor.seq}): kapdesk was stopped while saving, or could not update "
            f"{ANCHOR_FILE} (see the log: then have the data folder's files made writable). "
            "The next entry moves it"
        )
    else:
        check.summary = f"the record reaches event #{head}; the anchor is at #{anchor.seq}"
    return check


def wal_check(state: wal.WalState) -> Check:
    check = Check("Write-ahead log")
    if state.damaged:
        where = (
            "its header"
            if state.header_damaged
            else f"frame {(state.first_invalid_frame or 0) + 1} of {state.frames}"
        )
        check.problems.append(
            f"the log is damaged at {where}, and at least {state.acknowledged_after_break} "
            "saved transactions follow the damage: opening the record for writing would "
            "drop them for good"
        )
        check.summary = "damaged"
    elif state.frames == 0:
        check.summary = "empty (every entry is in the database file)"
    elif state.header_damaged:
        check.summary = (
            "holds nothing SQLite would read (its header does not check out, and no "
            "saved transaction is behind it)"
        )
    elif state.first_invalid_frame is not None:
        check.summary = (
            f"{state.replayed_commits} transactions, then a write torn by a crash (the "
            "entry in flight was never reported saved)"
        )
    else:
        check.summary = f"{state.replayed_commits} transactions, intact"
    return check


def backup_check(
    conn: Connection, database_id: str, sources: Iterable[Path], named: Iterable[Path] = ()
) -> list[Check]:
    """The record holds at least what each earlier backup of it held, and the same history.

    A backup that cannot be read is a problem too: the clinic's copy would not restore
    (tamper QA: verify said "The record is intact", exit 0, for a backup cut in half).
    Those ``named`` on the command line are read whole, every byte against its checksum;
    those kept in backups/ by their manifest (reading each whole would take as long as
    copying it)."""
    check = Check("Backups taken earlier")
    if "audit_events" not in _tables(conn):
        check.summary = "cannot be compared without the audit trail"
        return [check]
    files = Check(BACKUP_FILES)
    head = _head(conn)
    compared = other = 0
    whole = {path.resolve() for path in named}
    for source in sources:
        try:
            manifest = (
                check_backup_whole(source) if source.resolve() in whole else read_manifest(source)
            )
        except BackupError as exc:
            why = str(exc).replace(" Choose another backup file.", "").rstrip(".")
            files.problems.append(f"{source}: {why}")
            continue
        if manifest.get("database_id") != database_id:
            other += 1
            continue
        compared += 1
        events = int(manifest.get("audit_events", 0))
        taken = manifest.get("created_at", "an unknown time")
        if head < events:
            check.problems.append(
                f"the record holds {head} audit events, fewer than the {events} in the backup "
                f"{source.name} taken at {taken}: {events - head} events and the entries "
                "they record are missing"
            )
        elif manifest.get("head_hash") and _hash_at(conn, events) != manifest["head_hash"]:
            check.problems.append(
                f"audit event #{events} differs from the one in the backup {source.name} "
                f"taken at {taken}: the record's history was replaced"
            )
    check.summary = f"{compared} backup{'s' if compared != 1 else ''} of this record compared"
    if other:
        check.summary += f"; {other} of other records skipped"
    if not files.problems:
        return [check]
    files.summary = (
        f"{len(files.problems)} would not restore: keep "
        f"{'it' if len(files.problems) == 1 else 'them'} aside and take a new backup"
    )
    return [check, files]


VERIFY_NEEDS_BYTES = 1 << 20  # SQLite's index of the write-ahead log (-shm), and a lock


def _room_to_read(folder: Path) -> None:
    """Reading the record makes SQLite's small index of its write-ahead log beside it: on
    a full disk it could not, and verify called an intact record "damaged or belongs to
    another record" (tamper QA). Said as what it is, before anything is opened."""
    free = shutil.disk_usage(folder).free
    if free < VERIFY_NEEDS_BYTES:
        raise DiskFullError(
            f"The disk holding {folder} is full ({free // 1024} KB free): even reading the "
            "record needs about 1 MB beside it. Free some space and run “kapdesk verify” "
            "again. Nothing was changed, and this says nothing about the record itself."
        )


def verify_folder(
    folder: Path,
    passphrase: PassphraseSource,
    backups: Iterable[Path] = (),
    *,
    mirror: Path | None = None,
    progress: Progress = no_progress,
) -> VerifyReport:
    """Verify the record in ``folder`` without writing to it; raises StoreError if it
    cannot be opened at all (no record, wrong key, damaged or newer database)."""
    check_folder(folder, create=False)
    _room_to_read(folder)
    lock = DataFolderLock(folder)
    try:
        lock.acquire()
    except OSError as exc:
        raise folder_error(folder, exc) from None
    try:
        vault, key = unlock_existing(folder, passphrase)
        anchors = Anchors(folder, key, vault.database_id, mirror)
        database = folder / DATABASE_FILE
        found = examine(folder, key, vault, anchors)
        if found.older_log:
            # Read through it, the record looked damaged and cut short (tamper QA).
            undoes = found.older_log_undoes
            if found.older_log_diverges:
                what = "is another copy's of this record, put back: read with it, the record"
                harm = " would hold that copy's entries in place of its own newest"
            else:
                what = "is older than the database, an earlier copy put back: read with it"
                harm = (
                    f", the record would lose its newest {undoes} audit events"
                    if undoes
                    else ", the record would look damaged"
                )
            raise StoreError(
                f"The write-ahead log beside the record ({DATABASE_FILE}-wal) {what}{harm}. "
                "The database alone is complete. kapdesk sets the log aside the next "
                "time it opens the record (start kapdesk, or run “kapdesk backup”); verify "
                "again then. Nothing was changed."
            )
        with read_only_companions(database):
            engine = make_engine(database, key, read_only=True)
            try:
                report = verify_record(engine, progress)
                report.checks.append(wal_check(found.wal))
                kept = sorted((folder / "backups").glob("*.kapbak"))
                outside: list[tuple[str, Callable[[Connection], list[Check]]]] = [
                    (
                        "End of the record against its anchor",
                        lambda c: [anchor_check(c, anchors)],
                    ),
                    (
                        "Backups taken earlier",
                        lambda c: backup_check(
                            c, vault.database_id, [*backups, *kept], named=backups
                        ),
                    ),
                ]
                for name, check in outside:
                    try:
                        with engine.connect() as conn:
                            report.checks.extend(check(conn))
                    except DBAPIError as exc:
                        report.checks.append(unreadable_check(name, exc))
            finally:
                engine.dispose()
        return report
    finally:
        lock.release()
