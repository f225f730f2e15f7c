"""RecordStore: open the encrypted record, append entries durably, read them with their history.

Every write is its own transaction: the entry, and its audit event chained to
the one before, are committed (the write-ahead log fsynced) before the method
returns. A write that fails leaves the record exactly as it was and raises
SaveFailedError with a sentence for the user.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlcipher3
from sqlalchemy import Engine, Table, select, text
from sqlalchemy.orm import Session as OrmSession

from kapdesk import __version__
from kapdesk.clinical.entries import (
    clean_entry_time,
    clean_tags,
    clean_text,
    validate_dose,
    validate_patient,
    validate_scale_score,
)
from kapdesk.clinical.vitals import ValidationError, validate_vitals
from kapdesk.store import models as m
from kapdesk.store.anchor import ANCHOR_FILE
from kapdesk.store.audit import (
    GENESIS_HASH,
    canonical_json,
    event_hash,
    row_digest,
    stored_form,
)
from kapdesk.store.backup import BackupInfo, write_backup
from kapdesk.store.engine import ANCHOR_META, DATABASE_FILE, connect_writer
from kapdesk.store.errors import (
    DiskFullError,
    FolderUnusableError,
    ImmutableError,
    NotFoundError,
    SaveFailedError,
    StoreError,
)
from kapdesk.store.opening import OpenedRecord, open_record
from kapdesk.store.reads import RecordReads, get_row
from kapdesk.store.types import to_utc_text
from kapdesk.store.vault import PassphraseSource, no_passphrase
from kapdesk.store.verify import SCHEMA_ENTITY, VerifyReport, anchor_check, verify_record
from kapdesk.store.views import CORRECTABLE

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

SESSION_EVENT_KINDS = frozenset(
    {"screening", "alert", "alert_ack", "dose_caution_ack", "discharge"}
)


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class RecordStore(RecordReads):
    """The clinical record of one data folder, unlocked and locked to this process.

    Writes live here; the read-side queries are in RecordReads (kapdesk/store/reads.py).
    """

    def __init__(self, opened: OpenedRecord, clock: Clock, login_name: str) -> None:
        self._opened = opened
        self._engine: Engine = opened.engine
        self._writer = connect_writer(opened.folder / DATABASE_FILE, opened.key)
        self._now = clock
        self._head = self._pending_head = self._read_head()
        self.clinician_id = self._clinician_for(login_name)

    @classmethod
    def open(
        cls,
        folder: Path | str,
        *,
        passphrase: PassphraseSource = no_passphrase,
        clock: Clock = system_clock,
        login_name: str = "clinician",
        use_keyring: bool = True,
        create: bool = False,
        accept_loss: str | None = None,
    ) -> RecordStore:
        """Unlock and open the record in ``folder``.

        ``create``: make a new record if the folder holds none (only starting the app,
        after the user confirmed the folder, and ``demo`` do). ``accept_loss``: the
        reason a person gave for opening a record whose newest entries may be missing
        (kapdesk accept-loss); the loss is written into the audit trail.
        """
        opened = open_record(
            Path(folder),
            passphrase,
            use_keyring=use_keyring,
            now=clock,
            create=create,
            accept_loss=accept_loss,
        )
        store: RecordStore | None = None
        try:
            store = cls(opened, clock, login_name)
            store.record_event("unlock", {"method": opened.vault.method, "kapdesk": __version__})
            if opened.accepted_loss is not None:
                store.record_event("loss_accepted", opened.accepted_loss)
            store._cover_record_facts(opened.migrated_from)
        except BaseException as exc:
            store.close() if store is not None else opened.close()
            if isinstance(exc, SaveFailedError):
                raise _open_failed(Path(folder), exc) from None
            raise
        return store

    @property
    def folder(self) -> Path:
        return self._opened.folder

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def database_id(self) -> str:
        return self._opened.vault.database_id

    @property
    def key_method(self) -> str:
        """How the record key is kept: "keyring" or "passphrase"."""
        return self._opened.vault.method

    def close(self) -> None:
        try:
            self._writer.close()
        finally:
            self._opened.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- writes

    def add_patient(
        self,
        display_name: str,
        *,
        date_of_birth: dt.date | str | None = None,
        record_number: str | None = None,
        weight_kg: float | str | None = None,
        is_demo: bool = False,
    ) -> uuid.UUID:
        now = self._now()
        details = validate_patient(
            display_name, date_of_birth, record_number, weight_kg, today=now.date()
        )
        patient = new_row(
            m.Patient,
            display_name=details.display_name,
            date_of_birth=details.date_of_birth.isoformat() if details.date_of_birth else None,
            record_number=details.record_number,
            weight_kg=details.weight_kg,
            is_demo=is_demo,
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        return self._append("patient", patient)

    def start_session(
        self,
        patient_id: uuid.UUID,
        *,
        protocol: str,
        zone_name: str,
        started_at: dt.datetime | None = None,
    ) -> uuid.UUID:
        now = self._now()
        try:
            ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                "zone_name", f"“{zone_name}” is not a time zone name such as Europe/London."
            ) from None
        # An unknown patient_id is refused by the foreign key, as NotFoundError.
        session = new_row(
            m.Session,
            patient_id=patient_id,
            protocol=clean_text(protocol, "Protocol", limit=120).strip(),
            zone_name=zone_name,
            started_at=self._entry_time(started_at, now),
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        return self._append("session", session)

    def end_session(self, session_id: uuid.UUID, *, ended_at: dt.datetime | None = None) -> None:
        now = self._now()
        end = self._entry_time(ended_at, now)
        with self._saving("the end of the session") as cursor:
            session = self._session_row(cursor, session_id)
            if session["ended_at"] is not None:
                raise ImmutableError(
                    "This session has already ended; its end time stays as recorded."
                )
            if to_utc_text(end) < session["started_at"]:
                raise ValidationError("ended_at", "A session cannot end before it started.")
            self._set_session(cursor, session_id, "end", "ended_at", end)

    def add_dose(
        self,
        session_id: uuid.UUID,
        *,
        drug: str,
        route: str,
        mg: float | str,
        given_at: dt.datetime | None = None,
        lot_number: str | None = None,
        device_count: int | str | None = None,
    ) -> uuid.UUID:
        """Record a dose; the session's first dose sets its T0 (first_dose_at), once."""
        now = self._now()
        entry = validate_dose(drug, route, mg, lot_number, device_count)
        given = self._entry_time(given_at, now)
        dose = new_row(
            m.Dose,
            session_id=session_id,
            given_at=given,
            drug=entry.drug.value,
            route=entry.route.value,
            mg=entry.mg,
            lot_number=entry.lot_number,
            device_count=entry.device_count,
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        with self._saving("the dose") as cursor:
            session = self._session_row(cursor, session_id)
            dose_id = self._insert(cursor, "dose", dose, {})
            if session["first_dose_at"] is None:
                self._set_session(cursor, session_id, "first_dose", "first_dose_at", given)
        return dose_id

    def stop_infusion(
        self, dose_id: uuid.UUID, *, stopped_at: dt.datetime | None = None
    ) -> uuid.UUID:
        """Record the end of an IV infusion (once); the dose entry holds its start."""
        now = self._now()
        stop = self._entry_time(stopped_at, now)
        with OrmSession(self._engine) as orm:
            dose = get_row(orm, m.Dose, dose_id, "dose")
            stopped = orm.scalar(select(m.InfusionStop.id).where(m.InfusionStop.dose_id == dose_id))
        if dose.route != "iv":
            raise ValidationError("dose", "Only an IV infusion has a stop time.")
        if stopped is not None:
            raise ImmutableError("This infusion is already recorded as stopped.")
        if stop < dose.given_at:
            raise ValidationError("stopped_at", "An infusion cannot stop before it started.")
        row = new_row(
            m.InfusionStop,
            session_id=dose.session_id,
            dose_id=dose_id,
            stopped_at=stop,
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        return self._append("infusion_stop", row)

    def add_vitals(
        self,
        session_id: uuid.UUID,
        values: Mapping[str, Any],
        *,
        taken_at: dt.datetime | None = None,
        source: str = "manual",
    ) -> uuid.UUID:
        now = self._now()
        reading = validate_vitals(values)
        row = new_row(
            m.VitalsReading,
            session_id=session_id,
            taken_at=self._entry_time(taken_at, now),
            source=clean_text(source, "Source", limit=80).strip(),
            recorded_at=now,
            recorded_by=self.clinician_id,
            **reading.as_dict(),
        )
        return self._append("vitals", row, session_id=session_id)

    def add_observation(
        self,
        session_id: uuid.UUID,
        text_: str,
        *,
        tags: Sequence[str] = (),
        observed_at: dt.datetime | None = None,
    ) -> uuid.UUID:
        now = self._now()
        clean = clean_tags(tags)
        # A tag alone ("asleep") is a complete observation; otherwise text is required.
        body = "" if clean and isinstance(text_, str) and not text_.strip() else text_
        row = new_row(
            m.Observation,
            session_id=session_id,
            observed_at=self._entry_time(observed_at, now),
            text=body if body == "" else clean_text(body, "The observation"),
            tags=canonical_json(list(clean)),
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        return self._append("observation", row, session_id=session_id)

    def add_scale_score(
        self,
        session_id: uuid.UUID,
        scale_id: str,
        answers: Sequence[int],
        *,
        total: int | None = None,
        scored_at: dt.datetime | None = None,
    ) -> uuid.UUID:
        now = self._now()
        score = validate_scale_score(scale_id, answers, total)
        row = new_row(
            m.ScaleScore,
            session_id=session_id,
            scored_at=self._entry_time(scored_at, now),
            scale_id=score.scale_id,
            answers=canonical_json(list(score.answers)),
            total=score.total,
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        return self._append("scale_score", row, session_id=session_id)

    def correct(
        self, kind: str, entry_id: uuid.UUID, changes: Mapping[str, Any], *, reason: str
    ) -> uuid.UUID:
        """Append a correction to an entry; the entry itself stays as first written."""
        if kind not in CORRECTABLE:
            raise ValidationError("kind", f"Entries of kind “{kind}” cannot be corrected.")
        reason_text = clean_text(reason, "The reason for the correction", limit=2000)
        current = self.entry(kind, entry_id).current
        stored_changes = CORRECTABLE[kind].clean_changes(current, changes, now=self._now())
        now = self._now()
        row = new_row(
            m.Correction,
            target_kind=kind,
            target_id=entry_id,
            changes=canonical_json(stored_changes),
            reason=reason_text,
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        return self._append("correction", row, details={"target_kind": kind})

    def add_session_event(
        self,
        session_id: uuid.UUID,
        kind: str,
        payload: Mapping[str, Any],
        *,
        at: dt.datetime | None = None,
    ) -> uuid.UUID:
        """Append a session event (screening, alert, acknowledgement, discharge...)."""
        if kind not in SESSION_EVENT_KINDS:
            raise ValidationError("kind", f"“{kind}” is not a kind of session event.")
        now = self._now()
        try:
            body = canonical_json(dict(payload))
        except (TypeError, ValueError):
            raise ValidationError(
                "payload", "The event holds a value that cannot be stored."
            ) from None
        if len(body) > 100_000:
            raise ValidationError("payload", "The event is too large to store.")
        row = new_row(
            m.SessionEvent,
            session_id=session_id,
            kind=kind,
            at=self._entry_time(at, now),
            payload=body,
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        return self._append("session_event", row, details={"kind": kind})

    def record_event(self, action: str, details: Mapping[str, Any] | None = None) -> None:
        """An audit event about the record as a whole (unlock, export, backup, restore)."""
        with self._saving("the audit event") as cursor:
            self._audit(cursor, action, None, None, None, dict(details or {}))

    def backup(self, target: Path, *, recovery: PassphraseSource | None = None) -> BackupInfo:
        """Write an encrypted backup file and record that it was taken."""
        opened = self._opened
        info = write_backup(
            self._engine, opened.key, opened.vault, target, now=self._now, recovery=recovery
        )
        self.record_event(
            "backup",
            {
                "sha256": info.sha256,
                "bytes": info.size,
                "audit_events": info.audit_events,
                "portable": info.portable,
            },
        )
        return info

    def verify(self) -> VerifyReport:
        """Every check of ``kapdesk verify``, on the open record, without writing to it."""
        report = verify_record(self._engine)
        with self._engine.connect() as conn:
            report.checks.append(anchor_check(conn, self._opened.anchor))
        return report

    # -------------------------------------------------------------- internals

    def _entry_time(self, value: dt.datetime | None, now: dt.datetime) -> dt.datetime:
        return now if value is None else clean_entry_time(value, now)

    def _append(
        self,
        kind: str,
        row: NewRow,
        *,
        session_id: uuid.UUID | None = None,
        details: dict[str, Any] | None = None,
    ) -> uuid.UUID:
        # session_id is checked by the foreign key, inside the same transaction.
        with self._saving(f"the {kind.replace('_', ' ')}") as cursor:
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

    @contextlib.contextmanager
    def _saving(self, what: str) -> Iterator[Any]:
        """One durable transaction; the chain head in memory moves only after COMMIT returns.

        The head is read again inside the transaction (one indexed row): if anything
        else appended to the record, the chain continues after it instead of every
        later save failing on a stale head. Then the anchor moves (store/anchor.py).
        """
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
            self._move_anchor()
        except sqlcipher3.Error as exc:
            raise _save_failed(what, exc) from None
        except OSError as exc:
            raise SaveFailedError(
                f"Not saved: {what} could not be written ({exc.strerror or exc}). "
                "The record is unchanged; check the disk and enter it again."
            ) from None

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

    def _clinician_for(self, login_name: str) -> uuid.UUID:
        with OrmSession(self._engine) as orm:
            found = orm.scalar(select(m.Clinician.id).where(m.Clinician.login_name == login_name))
        if found is not None:
            return found
        clinician = new_row(
            m.Clinician, login_name=login_name, display_name=login_name, created_at=self._now()
        )
        return self._append("clinician", clinician)


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


def _open_failed(folder: Path, exc: SaveFailedError) -> StoreError:
    """Opening writes an unlock event; its failure is about the folder, not an entry."""
    if "disk is full" in str(exc):
        return DiskFullError(
            f"The disk holding {folder} is full, so kapdesk cannot open the record. Free "
            "some space and start again; the record is intact and nothing was changed."
        )
    if "cannot be written to" in str(exc):
        return FolderUnusableError(
            f"The record in {folder} cannot be written to, so kapdesk cannot open it. Check "
            "that the disk is connected and not read-only, then start again; the record is "
            "intact."
        )
    return exc


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
    if isinstance(original, sqlcipher3.IntegrityError) and "FOREIGN KEY" in message:
        return NotFoundError(
            f"Not saved: {what} refers to a session or patient that is not in the record."
        )
    return SaveFailedError(
        f"Not saved: {what} could not be written ({name or type(original).__name__}). The "
        "record is unchanged; enter it again, and if this repeats run “kapdesk verify”."
    )
