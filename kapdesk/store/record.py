"""RecordStore: open the encrypted record, append entries durably, read them with their history.

The write path is in store/writing.py, a session's entries in store/session_writes.py,
the reads in store/reads.py; this module opens and closes the record and holds what
is not one session's: patients, corrections, the record's own events, backup, verify.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as OrmSession

from kapdesk import __version__
from kapdesk.clinical.entries import (
    clean_text,
    validate_patient,
)
from kapdesk.clinical.vitals import ValidationError
from kapdesk.store import models as m
from kapdesk.store.accounts import ClinicianAccounts
from kapdesk.store.anchor import ANCHOR_FILE
from kapdesk.store.audit import (
    canonical_json,
)
from kapdesk.store.course_record import CourseRecord
from kapdesk.store.engine import DATABASE_FILE, IntegrityCheck, connect_writer
from kapdesk.store.errors import (
    DiskFullError,
    FolderUnusableError,
    SaveFailedError,
    StoreError,
    WrongPassphraseError,
)
from kapdesk.store.opening import OpenedRecord, open_record
from kapdesk.store.reads import RecordReads
from kapdesk.store.session_writes import SessionWrites
from kapdesk.store.types import from_utc_text
from kapdesk.store.vault import PassphraseSource, no_passphrase
from kapdesk.store.verify import (
    Progress,
    VerifyReport,
    no_progress,
    unreadable_check,
    verify_record,
)
from kapdesk.store.views import CORRECTABLE
from kapdesk.store.writing import new_row, refuse_before_start

if TYPE_CHECKING:
    from kapdesk.store.backup import BackupInfo
    from kapdesk.store.backup import Progress as BackupProgress
    from kapdesk.store.export_csv import ExportInfo

# The entries of a session, whose times lie within it.
SESSION_KINDS = frozenset({"vitals", "observation", "dose", "scale_score"})
log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# How far this computer's clock may be behind the record's newest event at opening before
# it is said (clock_behind): more than a clock set right by the network moves it.
CLOCK_BEHIND = dt.timedelta(minutes=5)


class RecordStore(RecordReads, SessionWrites, CourseRecord, ClinicianAccounts):
    """The clinical record of one data folder, unlocked and locked to this process.

    Reads come from RecordReads, a session's entries from SessionWrites, a patient's
    course notes and course figures from CourseRecord, clinicians' accounts and who is
    signed in from ClinicianAccounts.
    """

    def __init__(self, opened: OpenedRecord, clock: Clock, login_name: str) -> None:
        self._opened = opened
        self._engine: Engine = opened.engine
        self._writer = connect_writer(opened.folder / DATABASE_FILE, opened.key)
        found = os.stat(opened.folder / DATABASE_FILE)
        self._file_identity = (found.st_dev, found.st_ino)
        self._now = clock
        self._head = self._pending_head = self._read_head()
        # When the record was last written, and this computer's time, before this open
        # writes anything (clock_behind).
        self._last_written = self._newest_event_at()
        self._opened_at = clock()
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
        anchor_mirror: Path | None = None,
    ) -> RecordStore:
        """Unlock and open the record in ``folder``.

        ``create``: make a new record if the folder holds none (only starting the app,
        after the user confirmed the folder, and ``demo`` do). ``accept_loss``: the
        reason a person gave for opening a record whose newest entries may be missing
        (kapdesk accept-loss); the loss is written into the audit trail. ``anchor_mirror``:
        the folder outside the data folder that keeps a copy of the anchor.
        """
        opened = open_record(
            Path(folder),
            passphrase,
            use_keyring=use_keyring,
            now=clock,
            create=create,
            accept_loss=accept_loss,
            mirror=anchor_mirror,
        )
        store: RecordStore | None = None
        try:
            store = cls(opened, clock, login_name)
            store.record_event("unlock", {"method": opened.vault.method, "kapdesk": __version__})
            if opened.older_log is not None:
                store.record_event("older_log_set_aside", opened.older_log)
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
    def older_log(self) -> dict[str, Any] | None:
        """A write-ahead log older than the database, set aside at this open (what it
        was kept as), if one was."""
        return self._opened.older_log

    @property
    def accepted_loss(self) -> dict[str, Any] | None:
        """What a person accepted as missing when this record was opened, if anything."""
        return self._opened.accepted_loss

    def _newest_event_at(self) -> dt.datetime | None:
        with self._engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT at FROM audit_events ORDER BY seq DESC LIMIT 1"
            ).scalar()
        return None if found is None else from_utc_text(found)

    @property
    def clock_behind(self) -> str | None:
        """A sentence when this computer's clock, at opening, was behind the record's
        newest event by more than CLOCK_BEHIND: what is entered now would be dated before
        what was entered then, and the audit trail would run backwards (tamper QA: a clock
        three days behind went unnoticed, and verify called the record intact)."""
        last = self._last_written
        if last is None or self._opened_at >= last - CLOCK_BEHIND:
            return None
        return (
            f"This computer's clock says {self._opened_at:%Y-%m-%d %H:%M} UTC, but the record "
            f"was last written at {last:%Y-%m-%d %H:%M} UTC: the clock is behind, and what "
            "is entered now would be dated before what was entered then. Set this "
            "computer's date and time right, then start kapdesk again."
        )

    @property
    def anchor_problem(self) -> str | None:
        """A sentence when the anchor in the data folder could not be moved at the last
        write: it then stays at an older event, and a copy of the record cut back to it
        would not be noticed (tamper QA: said only in the log, and verify called it fine)."""
        if self._anchor_stuck is None:
            return None
        return (
            f"kapdesk could not update {ANCHOR_FILE} in the data folder "
            f"({self._anchor_stuck}): entries are stored as usual, but an older copy of the "
            "record put in its place would be harder to tell. Have the data folder's files "
            "made writable for this user, then restart kapdesk."
        )

    @property
    def anchor_mirror_problem(self) -> str | None:
        """A sentence when the anchor's copy outside the data folder could not be written
        at the last write: that copy is what tells an older copy of the record put back
        in the data folder, with its own anchor, from the record as it was (tamper QA: a
        read-only state folder was said only in the log)."""
        where = self._opened.anchor.mirror_problem
        if where is None:
            return None
        return (
            f"kapdesk could not write the record's check copy in {where}: if this record "
            "were replaced by an older copy of itself, kapdesk could not tell. Entries are "
            "stored as usual. Have that folder made writable for this user, then restart "
            "kapdesk."
        )

    @property
    def key_method(self) -> str:
        """How the record key is kept: "keyring" or "passphrase"."""
        return self._opened.vault.method

    def confirms_passphrase(self, passphrase: str) -> bool:
        """Whether ``passphrase`` is this record's (a passphrase-protected record only): the
        clinician's proof when coming back from the patient's survey (issue 13)."""
        if self.key_method != "passphrase":
            return False
        try:
            key = self._opened.vault.unwrap(passphrase)
        except WrongPassphraseError:
            return False
        return hmac.compare_digest(key, self._opened.key)

    def release_memory(self) -> None:
        """Hand back what SQLite keeps in its connections' page caches: a long session's
        reads fill them (several MiB), and a closed session screen has no use for them
        (issue 10). Nothing is lost: pages are read again when needed."""
        if not self._writer.in_transaction:
            self._writer.execute("PRAGMA shrink_memory")
        with self._engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA shrink_memory")

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
        self._refuse_a_taken_record_number(details.record_number)
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

    def _refuse_a_taken_record_number(self, number: str | None) -> None:
        """Two patients under one number (QA: a second "QA-77", without a birth date or
        weight, listed beside the first): a session could go to the wrong one."""
        if number and self.record_number_taken(number):
            raise ValidationError(
                "record_number",
                f"Record number {number} is already another patient's. "
                "Search for it (Ctrl+F) to open that patient, or check the number.",
            )

    def correct(
        self, kind: str, entry_id: uuid.UUID, changes: Mapping[str, Any], *, reason: str
    ) -> uuid.UUID:
        """Append a correction to an entry; the entry itself stays as first written."""
        if kind not in CORRECTABLE:
            raise ValidationError("kind", f"Entries of kind “{kind}” cannot be corrected.")
        reason_text = clean_text(
            reason, "The reason for the correction", limit=2000, field="reason"
        )
        current = self.entry(kind, entry_id).current
        stored_changes = CORRECTABLE[kind].clean_changes(current, changes, now=self._now())
        self._refuse_a_time_outside_its_session(kind, entry_id, stored_changes)
        number = stored_changes.get("record_number") if kind == "patient" else None
        if number and number.strip().casefold() != str(current["record_number"] or "").casefold():
            self._refuse_a_taken_record_number(number)  # corrected to another's number
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

    def _refuse_a_time_outside_its_session(
        self, kind: str, entry_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> None:
        """A corrected time within its session, as a new entry's is, and never a dose's: it
        sets T0 (tamper QA: corrections moved a reading, a note and a dose thirty days
        before the session; the screens refused only the typed ones)."""
        field = CORRECTABLE[kind].time_field
        if kind not in SESSION_KINDS or field not in changes:
            return
        if kind == "dose":
            raise ValidationError("time", "A dose's time is not corrected: it sets T0.")
        table = m.ENTITY_TABLES[kind]
        with OrmSession(self._engine) as orm:
            session_id = orm.scalar(select(table.session_id).where(table.id == entry_id))  # type: ignore[attr-defined]
        session = self.session(uuid.UUID(str(session_id)))
        at = from_utc_text(changes[field])
        zone = ZoneInfo(session["zone_name"])
        refuse_before_start(at, session["started_at"], session["zone_name"])
        if session["ended_at"] is not None and at > session["ended_at"]:
            raise ValidationError(
                "time",
                f"That time is after this session ended "
                f"({session['ended_at'].astimezone(zone):%Y-%m-%d %H:%M}, "
                f"{session['zone_name']}); check the time and enter it again.",
            )

    def export_csv(
        self,
        folder: Path,
        *,
        patient_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> ExportInfo:
        """The record (or a patient's, or a session's) as CSV files in a new ``folder``,
        and the audit event that says who exported what, when, and where to."""
        self.note_export_begun(folder, patient_id=patient_id, session_id=session_id)
        info = self.write_csv(
            folder, patient_id=patient_id, session_id=session_id, progress=progress
        )
        self.note_export(info, patient_id=patient_id, session_id=session_id)
        return info

    def note_export_begun(
        self,
        folder: Path,
        *,
        patient_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
    ) -> None:
        """In the audit trail before a file is written: an export stopped part way (the
        process killed) left plain-text files of patients and none in the trail, whose
        "export" event comes once all are written (tamper QA)."""
        self.record_event(
            "export_begun",
            {"format": "csv", **_scope(patient_id, session_id), "folder": str(folder)},
        )

    def write_csv(
        self,
        folder: Path,
        *,
        patient_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> ExportInfo:
        """The files alone, without the audit event: safe in a worker thread; then
        note_export on the writer's thread (as copy_for_backup and note_backup)."""
        from kapdesk.store.export_csv import export_csv  # not needed to open a record

        return export_csv(
            self._engine, folder, patient_id=patient_id, session_id=session_id, progress=progress
        )

    def note_export(
        self,
        info: ExportInfo,
        *,
        patient_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
    ) -> None:
        self.record_event(
            "export",
            {
                "format": "csv",
                **_scope(patient_id, session_id),
                "folder": str(info.folder),
                "rows": info.rows,
            },
        )

    def record_event(self, action: str, details: Mapping[str, Any] | None = None) -> None:
        """An audit event about the record as a whole (unlock, export, backup, restore)."""
        with self._saving("the audit event") as cursor:
            self._audit(cursor, action, None, None, None, dict(details or {}))

    def backup(
        self,
        target: Path,
        *,
        recovery: PassphraseSource | None = None,
        progress: BackupProgress | None = None,
    ) -> BackupInfo:
        """Write an encrypted backup file and record that it was taken.

        ``progress(what, done, total)`` is called as the copy and the file advance.
        """
        info = self.copy_for_backup(target, recovery=recovery, progress=progress)
        self.note_backup(info)
        return info

    def copy_for_backup(
        self,
        target: Path,
        *,
        recovery: PassphraseSource | None = None,
        progress: BackupProgress | None = None,
    ) -> BackupInfo:
        """The backup file alone, without its audit event: safe in a worker thread (it
        reads through its own pooled connection); then note_backup on the writer's."""
        from kapdesk.store.backup import no_progress as quiet
        from kapdesk.store.backup import write_backup  # not needed to open a record

        opened = self._opened
        return write_backup(
            self._engine,
            opened.key,
            opened.vault,
            target,
            now=self._now,
            recovery=recovery,
            progress=progress or quiet,
        )

    def note_backup(self, info: BackupInfo) -> None:
        """Record in the audit trail that a backup was taken."""
        self.record_event(
            "backup",
            {
                "sha256": info.sha256,
                "bytes": info.size,
                "audit_events": info.audit_events,
                "portable": info.portable,
            },
        )

    def verify(
        self, progress: Progress = no_progress, stop: Callable[[], bool] | None = None
    ) -> VerifyReport:
        """Every check of ``kapdesk verify``, on the open record, without writing to it.

        Safe to call from a worker thread (it takes its own pooled connection);
        ``progress(what, done, total)`` is called from that thread now and then, and
        ``stop()`` asked: True ends it with VerifyStopped.
        """
        from kapdesk.store.verify_folder import anchor_check  # with backups: not at open

        report = verify_record(self._engine, progress, stop)
        try:
            with self._engine.connect() as conn:
                report.checks.append(anchor_check(conn, self._opened.anchor))
        except DBAPIError as exc:
            report.checks.append(unreadable_check("End of the record against its anchor", exc))
        return report

    def integrity_check(self) -> IntegrityCheck:
        """The check of every page, on a read-only connection of its own, for a
        background thread (opening no longer makes it: issue 10)."""
        return IntegrityCheck(self.folder / DATABASE_FILE, self._opened.key)

    # -------------------------------------------------------------- internals

    def _clinician_for(self, login_name: str) -> uuid.UUID:
        with OrmSession(self._engine) as orm:
            found = orm.scalar(select(m.Clinician.id).where(m.Clinician.login_name == login_name))
        if found is not None:
            return found
        clinician = new_row(
            m.Clinician, login_name=login_name, display_name=login_name, created_at=self._now()
        )
        return self._append("clinician", clinician)


def _scope(patient_id: uuid.UUID | None, session_id: uuid.UUID | None) -> dict[str, Any]:
    """What an export holds, for its audit events."""
    if session_id is not None:
        return {"session_id": str(session_id)}
    if patient_id is not None:
        return {"patient_id": str(patient_id)}
    return {"whole_record": True}


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
