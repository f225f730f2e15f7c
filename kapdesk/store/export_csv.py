"""The record as CSV files, for a researcher or the clinic's EHR (issue 12).

One file per kind, written into a new folder the clinician chose: ``patients.csv``,
``sessions.csv``, ``doses.csv``, ``infusion_stops.csv``, ``vitals.csv``, ``observations.csv``,
``scale_scores.csv``, ``events.csv``, ``course_notes.csv``, ``corrections.csv``. Rows are
as they were recorded; a correction is a row of ``corrections.csv`` that names the entry it corrects
(``target_kind``, ``target_id``) and the corrected values, and every corrected row says
how often it was corrected (``corrections``). Times are given twice: in UTC (ISO 8601,
``…Z``) and in the session's clinic time zone (ISO 8601 with its offset). COLUMNS says
what each column holds; the README lists it too. A text cell a spreadsheet would read as
a formula (it begins with =, +, -, @, a tab or a carriage return) is written with a
leading ' (tamper QA: a patient named =HYPERLINK(...) went out as a live link).

Streamed: rows go from the database to the file in batches, so exporting ten clinic years
never holds a table in memory. The files are plain text by their nature, so they are
written only where the clinician chose, owner-only (0600), never to a temporary file on
the way, and a stopped or failed export removes the files it had begun.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from kapdesk.store.errors import StoreError
from kapdesk.store.types import from_utc_text

BATCH = 2000
Progress = Callable[[str, int, int], None]


class ExportError(StoreError):
    pass


@dataclasses.dataclass(frozen=True)
class Table:
    """One exported file: its source table, time columns and what each column means."""

    file: str
    table: str
    columns: tuple[tuple[str, str], ...]  # (stored column, meaning)
    times: tuple[str, ...] = ()  # stored UTC columns, each written as _utc and _local
    session_column: str | None = "session_id"  # how rows belong to a session
    kind: str | None = None  # the correctable kind, for the "corrections" column
    # Columns worked out from the record rather than stored in the row (DERIVED).
    derived: tuple[tuple[str, str], ...] = ()


# A first dose marked entered in error (never given) leaves the stored first_dose_at, which
# is set once; T0 is then the first dose given (Xvfb QA: the export named the phantom dose).
T0_MEANING = (
    "T0: the first dose given (a dose marked entered in error is not); empty if none. "
    "Written _utc and _local"
)
IN_ERROR_MEANING = "1 if the dose was marked entered in error (never given), else 0"


RECORDED = (
    ("recorded_at", "when kapdesk stored the row"),
    ("recorded_by", "the clinician (id; name in recorded_by_name) who entered it"),
)
TABLES: tuple[Table, ...] = (
    Table(
        "patients.csv",
        "patients",
        (
            ("id", "patient id"),
            ("display_name", "name as first recorded (see corrections.csv)"),
            ("date_of_birth", "ISO date"),
            ("record_number", "the clinic's record number"),
            ("weight_kg", "kg"),
            ("is_demo", "1 for kapdesk's generated demo patient"),
            *RECORDED,
        ),
        times=("recorded_at",),
        session_column=None,
        kind="patient",
    ),
    Table(
        "sessions.csv",
        "sessions",
        (
            ("id", "session id"),
            ("patient_id", "patients.csv id"),
            ("protocol", "monitoring protocol name"),
            ("zone_name", "the clinic's IANA time zone for the session"),
            ("started_at", "session start"),
            ("first_dose_at", "the first dose recorded, set once (see t0); empty if none"),
            ("ended_at", "session end; empty if it was never ended"),
            *RECORDED,
        ),
        times=("started_at", "first_dose_at", "ended_at", "recorded_at"),
        session_column="id",
        derived=(("t0", T0_MEANING),),
    ),
    Table(
        "doses.csv",
        "doses",
        (
            ("id", "dose id"),
            ("session_id", "sessions.csv id"),
            ("given_at", "when given"),
            ("drug", "ketamine or esketamine"),
            ("route", "iv, im, intranasal or sublingual"),
            ("mg", "mg"),
            ("lot_number", "lot"),
            ("device_count", "intranasal devices"),
            *RECORDED,
        ),
        times=("given_at", "recorded_at"),
        kind="dose",
        derived=(("entered_in_error", IN_ERROR_MEANING),),
    ),
    # When each IV infusion stopped: its length was in the report only (QA).
    Table(
        "infusion_stops.csv",
        "infusion_stops",
        (
            ("id", "stop id"),
            ("session_id", "sessions.csv id"),
            ("dose_id", "doses.csv id of the infusion (its given_at is the start)"),
            ("stopped_at", "when the infusion stopped"),
            *RECORDED,
        ),
        times=("stopped_at", "recorded_at"),
    ),
    Table(
        "vitals.csv",
        "vitals_readings",
        (
            ("id", "reading id"),
            ("session_id", "sessions.csv id"),
            ("taken_at", "when taken"),
            ("systolic", "mmHg"),
            ("diastolic", "mmHg"),
            ("heart_rate", "/min"),
            ("spo2", "%"),
            ("respiratory_rate", "/min"),
            ("temperature_c", "°C"),
            ("source", "manual, or the device"),
            *RECORDED,
        ),
        times=("taken_at", "recorded_at"),
        kind="vitals",
    ),
    Table(
        "observations.csv",
        "observations",
        (
            ("id", "observation id"),
            ("session_id", "sessions.csv id"),
            ("observed_at", "when observed"),
            ("text", "the observation"),
            ("tags", "JSON list of quick tags"),
            *RECORDED,
        ),
        times=("observed_at", "recorded_at"),
        kind="observation",
    ),
    Table(
        "scale_scores.csv",
        "scale_scores",
        (
            ("id", "score id"),
            ("session_id", "sessions.csv id"),
            ("scored_at", "when scored"),
            ("scale_id", "moaas, rass, or rems (the REMS check)"),
            ("answers", "JSON list of item answers"),
            ("total", "the scale's total"),
            *RECORDED,
        ),
        times=("scored_at", "recorded_at"),
        kind="scale_score",
    ),
    Table(
        "events.csv",
        "session_events",
        (
            ("id", "event id"),
            ("session_id", "sessions.csv id"),
            ("kind", "screening, alert, alert_ack, alert_cleared, discharge, …"),
            ("at", "when"),
            ("payload", "JSON: what the event says"),
            *RECORDED,
        ),
        times=("at", "recorded_at"),
    ),
    Table(
        "course_notes.csv",
        "course_notes",
        (
            ("id", "note id"),
            ("patient_id", "patients.csv id"),
            ("session_id", "sessions.csv id of the session it is about; empty if none"),
            ("kind", "course (a new course begins), goal, preparation or integration"),
            ("written_at", "the note's date"),
            ("text", "the note as first written (see corrections.csv)"),
            *RECORDED,
        ),
        times=("written_at", "recorded_at"),
        kind="course_note",
    ),
    Table(
        "corrections.csv",
        "corrections",
        (
            ("id", "correction id"),
            ("target_kind", "patient, dose, vitals, observation, scale_score or course_note"),
            ("target_id", "the id of the corrected row, in its file"),
            ("changes", "JSON: each corrected field and its new value"),
            ("reason", "why it was corrected"),
            *RECORDED,
        ),
        times=("recorded_at",),
        session_column=None,
    ),
)


_SESSION_COLUMNS = [c for t in TABLES if t.file == "sessions.csv" for c, _m in t.columns]


def column_names(table: Table) -> list[str]:
    """The header of ``table``'s file: each time twice, the clinician's name beside the id,
    and for a correctable kind how often the row was corrected."""
    names: list[str] = []
    for column, _meaning in table.columns:
        if column in table.times:
            names += [f"{column}_utc", f"{column}_local"]
        else:
            names.append(column)
        if column == "recorded_by":
            names.append("recorded_by_name")
    if table.kind is not None:
        names.append("corrections")
    for column, _meaning in table.derived:
        names += [f"{column}_utc", f"{column}_local"] if column == "t0" else [column]
    return names


@dataclasses.dataclass(frozen=True)
class ExportInfo:
    folder: Path
    rows: dict[str, int]  # file name -> data rows written

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def export_csv(
    engine: Engine,
    folder: Path,
    *,
    patient_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    progress: Progress | None = None,
) -> ExportInfo:
    """Write the record (or one patient's, or one session's) as CSV files into ``folder``,
    which must not exist yet (its parent must). Safe in a worker thread: it reads through
    its own pooled connection and writes nothing to the record (the caller writes the
    audit event). ``progress`` may raise to stop; the files begun are then removed."""
    folder = Path(folder)
    if folder.exists():
        raise ExportError(
            f"{folder} already exists. Choose a new folder name; nothing was written or changed."
        )
    if not folder.parent.is_dir():
        raise ExportError(f"{folder.parent} is not a folder; nothing was written.")
    try:
        folder.mkdir(mode=0o700)
    except OSError as exc:
        raise ExportError(
            f"The export folder {folder} could not be made ({exc.strerror}); nothing was written."
        ) from None
    written: dict[str, int] = {}
    report = progress or (lambda _what, _done, _total: None)
    try:
        with engine.connect() as connection:
            raw: Any = connection.connection.driver_connection
            scope = _Scope(raw, patient_id, session_id)
            totals = {t.file: scope.count(t) for t in TABLES}
            grand = sum(totals.values()) or 1
            done = 0
            names = dict(raw.execute("SELECT id, display_name FROM clinicians").fetchall())
            corrected = _correction_counts(raw)
            voided, t0 = _entered_in_error(raw)
            for table in TABLES:
                count = 0
                with _private_file(folder / table.file) as out:
                    writer = csv.writer(out)
                    writer.writerow(column_names(table))
                    for row in scope.rows(table):
                        line = _format(table, row, names, corrected)
                        if table.file == "doses.csv":
                            line.append(1 if str(row[0]) in voided else 0)
                        elif table.file == "sessions.csv":
                            line += _t0_cells(row, t0)
                        writer.writerow(line)
                        count += 1
                        if count % BATCH == 0:
                            report(table.file, done + count, grand)
                written[table.file] = count
                done += count
                report(table.file, done, grand)
    except BaseException as exc:
        for name in [t.file for t in TABLES]:
            with contextlib.suppress(OSError):
                (folder / name).unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()
        if isinstance(exc, OSError):  # a full disk ended in an unexpected error (QA)
            raise ExportError(
                f"The export could not be written to {folder.parent} "
                f"({exc.strerror or exc}). Check the space and permissions there; nothing "
                "was kept and the record is unchanged."
            ) from None
        raise
    return ExportInfo(folder, written)


class _Scope:
    """The rows of each table that belong to the export: all, a patient's, a session's."""

    def __init__(
        self, raw: Any, patient_id: uuid.UUID | None, session_id: uuid.UUID | None
    ) -> None:
        self.raw = raw
        self.one_session = session_id is not None
        if session_id is not None:
            found = raw.execute(
                "SELECT patient_id FROM sessions WHERE id = ?", (str(session_id),)
            ).fetchone()
            if found is None:
                raise ExportError("No session with that id is in the record; nothing written.")
            self.sessions = ("SELECT ?", (str(session_id),))
            self.patients = ("SELECT ?", (found[0],))
        elif patient_id is not None:
            found = raw.execute("SELECT 1 FROM patients WHERE id = ?", (str(patient_id),))
            if found.fetchone() is None:
                raise ExportError("No patient with that id is in the record; nothing written.")
            self.sessions = ("SELECT id FROM sessions WHERE patient_id = ?", (str(patient_id),))
            self.patients = ("SELECT ?", (str(patient_id),))
        else:
            self.sessions = self.patients = None  # type: ignore[assignment]

    def _where(self, table: Table) -> tuple[str, tuple[Any, ...]]:
        if self.sessions is None:
            return "", ()
        if table.table == "patients":
            return f" WHERE t.id IN ({self.patients[0]})", self.patients[1]
        if table.table == "course_notes" and not self.one_session:
            # A patient's notes, those about no one session included.
            return f" WHERE t.patient_id IN ({self.patients[0]})", self.patients[1]
        if table.table == "corrections":
            # The corrections of the rows exported, whichever file they are in.
            parts: list[str] = []
            params: list[Any] = []
            for other in TABLES:
                if other.kind is None:
                    continue
                where, args = self._where(other)
                parts.append(f"SELECT t.id FROM {other.table} AS t{where}")
                params += args
            return f" WHERE t.target_id IN ({' UNION ALL '.join(parts)})", tuple(params)
        assert table.session_column is not None
        return f" WHERE t.{table.session_column} IN ({self.sessions[0]})", self.sessions[1]

    def count(self, table: Table) -> int:
        where, args = self._where(table)
        found = self.raw.execute(f"SELECT count(*) FROM {table.table} AS t{where}", args)
        return int(found.fetchone()[0])

    def rows(self, table: Table) -> Iterator[Sequence[Any]]:
        where, args = self._where(table)
        columns = ", ".join(f"t.{c}" for c, _m in table.columns)
        zone = "s.zone_name" if table.session_column is not None else "NULL"
        join = ""
        if table.session_column is not None:
            join = f" LEFT JOIN sessions AS s ON s.id = t.{table.session_column}"
        cursor = self.raw.execute(
            f"SELECT {columns}, {zone} FROM {table.table} AS t{join}{where} ORDER BY t.rowid",
            args,
        )
        while batch := cursor.fetchmany(BATCH):
            yield from batch


def _entered_in_error(raw: Any) -> tuple[set[str], dict[str, str | None]]:
    """The ids of the doses marked entered in error, and for each session that had one,
    its first dose given (UTC text, None if none was): a few rows of a large record."""
    voided = {
        str(target)
        for (target,) in raw.execute(
            "SELECT target_id FROM corrections WHERE target_kind = 'dose' "
            "AND json_extract(changes, '$.entered_in_error') = 1"
        ).fetchall()
    }
    t0: dict[str, str | None] = {}
    for dose_id in voided:
        found = raw.execute("SELECT session_id FROM doses WHERE id = ?", (dose_id,)).fetchone()
        if found is None:
            continue
        session = str(found[0])
        given = [
            str(at)
            for at, other in raw.execute(
                "SELECT given_at, id FROM doses WHERE session_id = ?", (session,)
            ).fetchall()
            if str(other) not in voided
        ]
        t0[session] = min(given) if given else None
    return voided, t0


def _t0_cells(row: Sequence[Any], t0: dict[str, str | None]) -> list[str]:
    """A sessions.csv row's t0_utc and t0_local: its first_dose_at unless that dose was
    marked entered in error."""
    *values, zone_name = row
    session, first = str(values[0]), values[_SESSION_COLUMNS.index("first_dose_at")]
    at = t0.get(session, first)
    if at is None:
        return ["", ""]
    local = from_utc_text(at).astimezone(ZoneInfo(zone_name)).isoformat() if zone_name else ""
    return [str(at), local]


def _correction_counts(raw: Any) -> dict[str, int]:
    """How often each corrected row was corrected: one entry per corrected row, not per
    row of the record."""
    found = raw.execute("SELECT target_id, count(*) FROM corrections GROUP BY target_id")
    return {str(target): int(count) for target, count in found.fetchall()}


_ZONES: dict[str, ZoneInfo] = {}


# What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """``value`` as a CSV text cell a spreadsheet shows and never runs: a leading ' when it
    begins as a formula would."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _format(
    table: Table, row: Sequence[Any], names: dict[str, str], corrected: dict[str, int]
) -> list[Any]:
    *values, zone_name = row
    zone = None
    if zone_name:
        zone = _ZONES.get(zone_name) or _ZONES.setdefault(zone_name, ZoneInfo(zone_name))
    out: list[Any] = []
    for (column, _meaning), value in zip(table.columns, values, strict=True):
        if column in table.times:
            if value is None:
                out += ["", ""]
            else:
                instant = from_utc_text(value)
                local = instant.astimezone(zone).isoformat() if zone is not None else ""
                out += [value, local]
        elif isinstance(value, str):
            out.append(spreadsheet_safe(value))
        else:
            out.append("" if value is None else value)
        if column == "recorded_by":
            # A name is text as any other (tamper QA: an account named "=HYPERLINK(...)").
            out.append(spreadsheet_safe(names.get(value, "")))
    if table.kind is not None:
        out.append(corrected.get(str(values[0]), 0))
    return out


@contextlib.contextmanager
def _private_file(path: Path) -> Iterator[Any]:
    """A new file only its owner may read, for text: never an existing one."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(descriptor, "w", encoding="utf-8", newline="") as out:
        yield out
