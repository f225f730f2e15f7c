"""The write path every entry takes: one durable transaction with its chained audit event.

Every write is its own transaction: the entry, and its audit event chained to
the one before, are committed (the write-ahead log fsynced) before the method
returns, and only then does the anchor move. A write that fails leaves the
record exactly as it was and raises SaveFailedError with a sentence for the user.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlcipher3
from sqlalchemy import Engine, Table, text

from kapdesk.clinical.entries import clean_entry_time
from kapdesk.clinical.vitals import ValidationError
from kapdesk.store import models as m
from kapdesk.store.anchor import ANCHOR_FILE
from kapdesk.store.audit import GENESIS_HASH, canonical_json, event_hash, row_digest, stored_form
from kapdesk.store.engine import ANCHOR_META, DATABASE_FILE
from kapdesk.store.errors import ImmutableError, NotFoundError, SaveFailedError, StoreError
from kapdesk.store.opening import OpenedRecord
from kapdesk.store.types import from_utc_text, to_utc_text
from kapdesk.store.verify import SCHEMA_ENTITY

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


class ChainedWriter:
    """Appends rows and their audit events; RecordStore builds its entries on it."""

    _opened: OpenedRecord
    _engine: Engine
    _writer: Any  # the store's own SQLCipher connection for writes
    _now: Clock
    _head: tuple[int, str]
    _pending_head: tuple[int, str]
    clinician_id: uuid.UUID
    # The database file as opened (device, inode): see _still_in_place.
    _file_identity: tuple[int, int] | None = None
    # Its write-ahead log's, as found after a commit (SQLite makes it at the first write),
    # and its size then: nothing in kapdesk shrinks it while the record is open.
    _wal_identity: tuple[int, int] | None = None
    _wal_size = 0

    def _entry_time(self, value: dt.datetime | None, now: dt.datetime) -> dt.datetime:
        return now if value is None else clean_entry_time(value, now)

    def _append(
        self,
        kind: str,
        row: NewRow,
        *,
        session_id: uuid.UUID | None = None,
        details: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> uuid.UUID:
        # session_id: the session must exist and not have ended (nor begun after ``at``,
        # the entry's time), checked inside the same transaction as the insert.
        with self._saving(f"the {kind.replace('_', ' ')}") as cursor:
            if session_id is not None:
                self._open_session_row(cursor, session_id, at)
            return self._insert(cursor, kind, row, details or {})

    def _insert(self, cursor: Any, kind: str, row: NewRow, details: dict[str, Any]) -> uuid.UUID:
        """Insert the row's stored form: exactly what the audit digest covers.

        Plain DBAPI with prepared SQL and no ORM instance: SQLAlchemy's unit of work
        and statement machinery cost more than the encrypted, fsynced commit itself
        (benchmarks/bench_store.py). A trigger planted from outside could skip the row
        without an error, so the insert must report the one row it wrote; the record's
        structure is compared with the migrations' at every open (store/engine.py).
        """
        table, values = row
        values.setdefault("id", m.new_id())
        stored = stored_form(table, values, self._engine.dialect)
        cursor.execute(_insert_sql(table.name, tuple(stored)), tuple(stored.values()))
        row_id: uuid.UUID = values["id"]
        if cursor.rowcount != 1:
            raise _not_as_written(kind)
        self._audit(cursor, "create", kind, row_id, row_digest(stored), details)
        return row_id

    @classmethod
    def _open_session_row(
        cls, cursor: Any, session_id: uuid.UUID, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        """The session's row; refused once the session has ended, or for an entry whose
        time ``at`` is before it began: the clock-time path refused one, and a reading
        sent thirty days back went in as pre-dose, into the baseline (tamper QA)."""
        session = cls._session_row(cursor, session_id)
        if at is not None:
            refuse_before_start(at, from_utc_text(session["started_at"]), session["zone_name"])
        if session["ended_at"] is not None:
            ended = from_utc_text(session["ended_at"]).astimezone(ZoneInfo(session["zone_name"]))
            raise ImmutableError(
                f"Not saved: this session ended at {ended:%H:%M} ({session['zone_name']}), and "
                "nothing more can be added to it. Correct an existing entry instead, or start "
                "a new session."
            )
        return session

    @staticmethod
    def _session_row(cursor: Any, session_id: uuid.UUID) -> dict[str, Any]:
        row = _fetch_stored(cursor, "sessions", session_id)
        if row is None:
            raise NotFoundError("No session with that id is in the record.")
        return row

    def _set_session(
        self, cursor: Any, session_id: uuid.UUID, action: str, column: str, value: dt.datetime
    ) -> None:
        """Set a session's first dose or end, once (a trigger refuses a second time)."""
        assert column in {"first_dose_at", "ended_at"}
        cursor.execute(
            f"UPDATE sessions SET {column} = ? WHERE id = ?", (to_utc_text(value), str(session_id))
        )
        written = cursor.rowcount
        stored = _fetch_stored(cursor, "sessions", session_id)
        if written != 1 or stored is None or stored[column] != to_utc_text(value):
            raise _not_as_written("session")
        self._audit(cursor, action, "session", session_id, row_digest(stored), {})

    def _audit(
        self,
        cursor: Any,
        action: str,
        kind: str | None,
        entity_id: uuid.UUID | str | None,
        digest: str | None,
        details: dict[str, Any],
    ) -> None:
        seq, prev_hash = self._pending_head[0] + 1, self._pending_head[1]
        actor = getattr(self, "clinician_id", None)
        fields: dict[str, Any] = {
            "seq": seq,
            "at": to_utc_text(self._now()),
            "actor_id": None if actor is None else str(actor),
            "action": action,
            "entity_kind": kind,
            "entity_id": None if entity_id is None else str(entity_id),
            "record_digest": digest,
            "details": canonical_json(details),
            "prev_hash": prev_hash,
        }
        chained = event_hash(fields)
        fields["hash"] = chained
        cursor.execute(_insert_sql("audit_events", tuple(fields)), tuple(fields.values()))
        if cursor.rowcount != 1:
            raise _not_as_written("audit event")
        self._pending_head = (seq, chained)

    _group: Any = None  # the cursor of the open grouped transaction (grouped()), if any

    @contextlib.contextmanager
    def grouped(self) -> Iterator[None]:
        """Many entries in one durable transaction: entries that stand or fall together (a
        dose and the line saying it went in past a warning), or bulk loading.

        Each entry is validated, inserted and audited exactly as on its own, inside a
        savepoint, so a refused entry is rolled back alone; only the commit, its fsync and
        the anchor come once, at the end. Nothing inside is saved until the block ends
        without an error.
        """
        if self._group is not None:
            raise RuntimeError("grouped() does not nest")
        with self._saving("the grouped entries") as cursor:
            self._group = cursor  # each entry's own _saving becomes a savepoint in it
            try:
                yield
            finally:
                self._group = None

    @contextlib.contextmanager
    def _saving_in_group(self, what: str) -> Iterator[Any]:
        cursor, head = self._group, self._pending_head
        try:
            cursor.execute("SAVEPOINT entry")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK TO entry")
                cursor.execute("RELEASE entry")
                self._pending_head = head
                raise
            cursor.execute("RELEASE entry")
        except sqlcipher3.Error as exc:
            raise _save_failed(what, exc) from None

    @contextlib.contextmanager
    def _saving(self, what: str) -> Iterator[Any]:
        """One durable transaction; the chain head in memory moves only after COMMIT returns.

        The head is read again inside the transaction (one indexed row): if anything
        else appended to the record, the chain continues after it instead of every
        later save failing on a stale head. Then the anchor moves (store/anchor.py).
        """
        if self._group is not None:
            with self._saving_in_group(what) as cursor:
                yield cursor
            return
        self._still_in_place(what)
        try:
            cursor = self._writer.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                self._pending_head = _current_head(cursor)
                if self._pending_head != self._head:
                    log.warning("the audit chain moved outside this process; continuing after it")
                yield cursor
                cursor.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
            self._head = self._pending_head
            self._note_wal()
            self._move_anchor()
        except sqlcipher3.Error as exc:
            raise _save_failed(what, exc) from None
        except OSError as exc:
            raise SaveFailedError(
                f"Not saved: {what} could not be written ({exc.strerror or exc}). "
                "The record is unchanged; check the disk and enter it again."
            ) from None

    def _still_in_place(self, what: str) -> None:
        """Refuse to write once the database file is no longer where it was opened: the
        open file keeps taking writes after its folder is deleted, renamed or moved, and
        each entry was said stored where nobody would find it again (tamper QA: three
        entries typed after the folder was deleted, gone at the next start)."""
        if self._file_identity is None:
            return
        path = self._opened.folder / DATABASE_FILE
        if _identity(path) != self._file_identity:
            raise SaveFailedError(
                f"Not saved: {what} could not be written, because the record is no longer "
                f"at {path}: the data folder was deleted, renamed or moved while kapdesk was "
                "open. Note entries on paper; put the folder back where it was (or restore "
                "the latest backup there), then start kapdesk again. Nothing was stored."
            )
        if self._wal_identity is not None and _identity(self._wal_path()) != self._wal_identity:
            # Its write-ahead log was deleted or replaced under it (a clean-up or sync
            # tool): SQLite goes on writing into the deleted file, each entry said saved,
            # and a crash loses all written since the last checkpoint (tamper QA: 97
            # entries). What it holds goes into the database file while the deleted file
            # is still open here; nothing more is written into it.
            rescued = self._rescue_wal()
            raise SaveFailedError(
                f"Not saved: {what} could not be written, because another program removed "
                f"the record's write-ahead log ({self._wal_path().name}) while kapdesk was "
                "open. "
                + (
                    "The entries saved before are safe in the record. "
                    if rescued
                    else "The entries saved before may not be safe: keep this window open. "
                )
                + "Note this entry on paper, quit kapdesk and start it again, then enter it; "
                "keep the data folder out of clean-up and sync tools."
            )
        self._refuse_cut_wal(what)

    def _refuse_cut_wal(self, what: str) -> None:
        if self._wal_identity is None or not self._wal_cut_short():
            return
        # No checkpoint: what the cut log held is gone from the disk, and copying its
        # pages into the database would write the gap into it.
        raise SaveFailedError(
            f"Not saved: {what} could not be written, because another program cut the "
            f"record's write-ahead log ({self._wal_path().name}) short while kapdesk was open: "
            "the newest entries saved before may be missing from the record. Keep this "
            "window open and copy those entries from the log on screen onto paper; then quit "
            "kapdesk, run kapdesk verify, and keep the data folder out of clean-up and sync "
            "tools."
        )

    def _wal_path(self) -> Path:
        return self._opened.folder / (DATABASE_FILE + "-wal")

    def _note_wal(self) -> None:
        """After a commit: the write-ahead log it went into, to find it again (above)."""
        if self._wal_identity is None:
            self._wal_identity = _identity(self._wal_path())
        with contextlib.suppress(OSError):
            self._wal_size = os.stat(self._wal_path()).st_size

    def _wal_cut_short(self) -> bool:
        """Whether the log (the one noted) is now shorter than after the last commit, or
        its header no longer SQLite's: cut by another program. SQLite goes on writing
        after the cut, and its header gone, nothing in it is read again (tamper QA: the
        log truncated to nothing, 12 entries said saved, all lost at the next start)."""
        try:  # os-level calls: each save asks (a Python file object cost ~40 µs)
            descriptor = os.open(self._wal_path(), os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            return False  # gone: the identity check says so
        try:
            size = os.fstat(descriptor).st_size
            head = os.read(descriptor, 4)
        except OSError:
            return False
        finally:
            os.close(descriptor)
        if size < self._wal_size:
            return True
        return len(head) == 4 and int.from_bytes(head, "big") not in WAL_MAGIC

    def _rescue_wal(self) -> bool:
        """Copy the deleted log's committed pages into the database file (a checkpoint,
        read through the file still open here); whether all of them went in."""
        try:
            busy, _frames, _copied = self._writer.execute("PRAGMA wal_checkpoint(FULL)").fetchone()
        except sqlcipher3.Error:
            log.exception("the write-ahead log could not be checkpointed")
            return False
        return not busy

    @property
    def writes_committed(self) -> int:
        """The audit events committed so far: every write to the record adds one, so a
        view made earlier is current while this has not changed (ui/review_ahead.py)."""
        return self._head[0]

    def _read_head(self) -> tuple[int, str]:
        return _current_head(self._writer.cursor())

    def _move_anchor(self) -> None:
        """Anchor the committed head; a failure here loses nothing (the anchor stays behind)."""
        seq, head_hash = self._head
        if seq == 0:
            return
        try:
            self._opened.anchor.write(seq, head_hash, self._now())
        except OSError as exc:
            log.warning("the anchor could not be moved (%s); the entry is saved", exc.strerror)
            self._anchor_stuck = str(exc.strerror or exc)
        else:
            self._anchor_stuck = None

    # Why kapdesk.anchor could not be moved at the last write (None: it was).
    _anchor_stuck: str | None = None

    def _cover_record_facts(self, migrated_from: str | None) -> None:
        """Bring the record's own facts under the audit trail, and anchor it.

        kapdesk_meta rows and the schema revision are not clinical entries, but a
        changed database id or schema revision must be as detectable as a changed
        reading. Records from before this was done get their events on the first open
        by this version, with the anchor.
        """
        with self._engine.connect() as conn:
            meta = {
                str(n): str(v)
                for n, v in conn.execute(text("SELECT name, value FROM kapdesk_meta"))
            }
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        if ANCHOR_META in meta and migrated_from is None:
            self._move_anchor()
            return
        with self._saving("the record's facts") as cursor:
            if ANCHOR_META not in meta:
                cursor.execute(
                    "INSERT INTO kapdesk_meta (name, value) VALUES (?, ?)",
                    (ANCHOR_META, ANCHOR_FILE),
                )
                for name, value in sorted(meta.items()):
                    digest = row_digest({"name": name, "value": value})
                    self._audit(cursor, "cover", "meta", name, digest, {})
                digest = row_digest({"name": ANCHOR_META, "value": ANCHOR_FILE})
                self._audit(cursor, "create", "meta", ANCHOR_META, digest, {})
            digest = row_digest({"version_num": version})
            self._audit(cursor, "schema", "schema", SCHEMA_ENTITY, digest, {"from": migrated_from})


NewRow = tuple[Table, dict[str, Any]]


def new_row(model: type[m.Base], **values: Any) -> NewRow:
    """A row to insert: its table and every column's value (the id may come later)."""
    table: Table = model.__table__  # type: ignore[assignment]
    columns, required, nullable = _column_sets(table)
    given = values.keys()
    if not given <= columns or not required <= given:
        unknown, missing = sorted(given - columns), sorted(required - given)
        raise TypeError(f"{table.name}: unknown {unknown}, missing {missing}")
    return table, {**values, **{name: None for name in nullable if name not in given}}


@functools.cache
def _column_sets(table: Table) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """A table's column names, those an insert must give, and those that may be NULL."""
    columns = frozenset(c.name for c in table.columns)
    required = frozenset(c.name for c in table.columns if not c.nullable and c.name != "id")
    return columns, required, tuple(c.name for c in table.columns if c.nullable)


def refuse_before_start(at: dt.datetime, started: dt.datetime, zone_name: str) -> None:
    """An entry, event or corrected time dated before its session began is refused: the
    clock-time path refused one, and a reading sent thirty days back went in as pre-dose,
    into the baseline (tamper QA)."""
    if at < started:
        began = started.astimezone(ZoneInfo(zone_name))
        raise ValidationError(
            "time",
            f"Not saved: that time is before this session began ({began:%Y-%m-%d %H:%M}, "
            f"{zone_name}); check the time and enter it again.",
        )


# The first four bytes of a write-ahead log, big-endian (sqlite.org/fileformat2.html#walformat).
WAL_MAGIC = (0x377F0682, 0x377F0683)


def _identity(path: Path) -> tuple[int, int] | None:
    """A file's (device, inode), None if there is none at ``path``."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


@functools.cache
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _fetch_stored(cursor: Any, table: str, row_id: uuid.UUID) -> dict[str, Any] | None:
    """A row as SQLite holds it (text, numbers, nulls), by column name."""
    cursor.execute(f"SELECT * FROM {table} WHERE id = ?", (str(row_id),))
    row = cursor.fetchone()
    if row is None:
        return None
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def _current_head(cursor: Any) -> tuple[int, str]:
    cursor.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
    row = cursor.fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


def _not_as_written(what: str) -> SaveFailedError:
    log.error("a write of %s did not store its row as written", what)
    return SaveFailedError(
        f"Not saved: the {what} was not stored as written, although the database reported "
        "no error. Its structure was changed outside kapdesk. Stop entering into this "
        "record: copy the data folder and run “kapdesk verify”. The entry is not stored."
    )


def _save_failed(what: str, original: Exception) -> StoreError:
    name = getattr(original, "sqlite_errorname", "")
    message = str(original)
    log.error("write of %s failed: %s %s", what, type(original).__name__, name)
    if "append-only" in message or "set once" in message:
        return ImmutableError(
            f"Not saved: {what} would change an entry already in the record. Record a "
            "correction instead; the original stays as written."
        )
    if name == "SQLITE_FULL":
        return SaveFailedError(
            f"Not saved: the disk is full, so {what} could not be written. Free some space "
            "and enter it again; the record is unchanged."
        )
    if name.startswith("SQLITE_READONLY") or name in {"SQLITE_PERM", "SQLITE_CANTOPEN"}:
        return SaveFailedError(
            f"Not saved: the data folder cannot be written to, so {what} was not stored. "
            "Check that the disk is not read-only or removed, then enter it again; the "
            "record is unchanged."
        )
    if name in {"SQLITE_CORRUPT", "SQLITE_NOTADB"} or "malformed" in message:
        # Entering it again cannot help (tamper QA: this sentence said so at opening a
        # record with a damaged page).
        return SaveFailedError(
            f"Not saved: the record's database file is damaged, so {what} could not be "
            "written. Note entries on paper, keep the data folder as it is, run “kapdesk "
            "verify”, and restore the latest backup into a new folder."
        )
    if isinstance(original, sqlcipher3.IntegrityError) and "FOREIGN KEY" in message:
        return NotFoundError(
            f"Not saved: {what} refers to a session or patient that is not in the record."
        )
    return SaveFailedError(
        f"Not saved: {what} could not be written ({name or type(original).__name__}). The "
        "record is unchanged; enter it again, and if this repeats run “kapdesk verify”."
    )
