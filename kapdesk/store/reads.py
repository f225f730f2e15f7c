"""The record's read side: entries with their corrections, patients, sessions, events."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import json
import operator
import uuid
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session as OrmSession

from kapdesk.clinical.accounts import signature
from kapdesk.clinical.vitals import highest_pressures
from kapdesk.store import models as m
from kapdesk.store.engine import fold
from kapdesk.store.errors import NotFoundError
from kapdesk.store.types import UTCDateTime, UUIDText, from_utc_text
from kapdesk.store.views import CORRECTABLE, ENTERED_IN_ERROR, EntryView, build_views

# How many patients the patients page lists at once; the search reaches all of them.
PATIENTS_SHOWN = 50
# A reading's columns as vitals_table reads them: id, time taken, the six values of
# clinical/vitals.VitalsReading in its order, source, who recorded it and when.
READING_COLUMNS = (
    "id",
    "taken_at",
    "systolic",
    "diastolic",
    "heart_rate",
    "spo2",
    "respiratory_rate",
    "temperature_c",
    "source",
    "recorded_by",
    "recorded_at",
)


@dataclasses.dataclass
class SessionFigures:
    """What the patients page says of a session besides its times (session_figures)."""

    doses: list[tuple[str, float]] = dataclasses.field(default_factory=list)
    highest_bp: tuple[int, int | None] | None = None
    # The reading highest by diastolic, when higher than highest_bp's (highest_pressures).
    highest_diastolic: tuple[int, int] | None = None
    overridden: bool = False  # ended with discharge criteria unmet, by an override


class RecordReads:
    """Queries over the record; RecordStore adds the writes."""

    _engine: Engine

    def entry(self, kind: str, entry_id: uuid.UUID) -> EntryView:
        table = m.ENTITY_TABLES[kind]
        with OrmSession(self._engine) as orm:
            row = orm.get(table, entry_id)
            if row is None:
                raise NotFoundError(f"No {kind} entry with that id is in the record.")
            return build_views(orm, kind, [row])[0]

    def new_entry_row(self, kind: str, entry_id: uuid.UUID) -> Any:
        """An entry just written, as stored (its columns by name, as entry_rows gives
        them): read back by its key in one plain query, without the ORM and the views
        a correction needs, for the entry made a second ago (issue 10)."""
        name = m.ENTITY_TABLES[kind].__tablename__
        columns = ", ".join(c.name for c in m.Base.metadata.tables[name].columns)
        with self._engine.connect() as connection:
            found = connection.exec_driver_sql(
                f"SELECT {columns} FROM {name} WHERE id = ?", (str(entry_id),)
            ).fetchone()
        if found is None:
            raise NotFoundError(f"No {kind} entry with that id is in the record.")
        return _row_maker(name)(tuple(found))

    def entries(self, kind: str, session_id: uuid.UUID) -> list[EntryView]:
        """A session's entries of one kind, oldest first by clinical time, with corrections."""
        rows, _corrected = self.entry_rows(kind, session_id)
        with OrmSession(self._engine) as orm:
            return build_views(orm, kind, rows, session_id)

    def entry_rows(self, kind: str, session_id: uuid.UUID) -> tuple[list[Any], set[uuid.UUID]]:
        """A session's entries of one kind as stored, oldest first by clinical time (each
        row's columns by name), and the ids of those corrected since: what opening a long
        session reads (issue 10). A corrected entry's values are ``entry(kind, id)``'s.

        Plain rows converted column by column: a six-hour 1 Hz session is 21,600
        readings, and an ORM object each with its type processing cost ~60 µs a row.
        """
        name = m.ENTITY_TABLES[kind].__tablename__
        columns = [c.name for c in m.Base.metadata.tables[name].columns]
        raw, corrected = self._session_rows(kind, columns, session_id)
        make_row = _row_maker(name)
        return [make_row(r) for r in raw], {uuid.UUID(found) for found in corrected}

    def _session_rows(
        self,
        kind: str,
        columns: Sequence[str],
        session_id: uuid.UUID,
        *,
        as_written: bool = False,
    ) -> tuple[Sequence[Any], set[str]]:
        """A session's rows of one kind (``columns`` of each), oldest first by clinical
        time (``as_written``: in the order written), and the ids (text) of those
        corrected since."""
        name = m.ENTITY_TABLES[kind].__tablename__
        # Same instant and same second of recording: the order written (rowid). The
        # session's index holds its rows in that order: no sort.
        order = "rowid" if as_written else f"{CORRECTABLE[kind].time_field}, recorded_at, rowid"
        query = f"SELECT {', '.join(columns)} FROM {name} WHERE session_id = ? ORDER BY {order}"
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(query, (str(session_id),)).fetchall()
            return rows, _corrected_ids(connection, kind, session_id)

    def vitals_table(self, session_id: uuid.UUID) -> tuple[list[Sequence[Any]], set[str]]:
        """A session's readings as stored, as columns (``READING_COLUMNS``, each in the
        order written; text as SQLite keeps it: ids, UTC instants); and the ids (text) of
        readings corrected since, whose values are ``entry("vitals", id)``'s.

        Nothing is sorted or made per row: opening a six-hour 1 Hz session reads 21,600
        readings, and the session state keeps them as columns, ordered by time taken
        from their instants (session/readings.py). SQLite's sort of them by time (a
        temporary B-tree) was as long as reading them; a Python row and object per value
        (237,600) took 70-110 ms, SQLite joining each column into one text 15 (issue 10).
        """
        with self._engine.connect() as connection:
            found = connection.exec_driver_sql(_JOINED_READINGS, (str(session_id),)).one()
        read = _split_readings(found)
        if read is not None:
            return read
        # A value holding the separator (only in a damaged record): row by row.
        rows, corrected = self._session_rows("vitals", READING_COLUMNS, session_id, as_written=True)
        return [list(column) for column in zip(*rows, strict=True)], corrected

    def patients(self) -> list[EntryView]:
        with OrmSession(self._engine) as orm:
            rows = orm.scalars(select(m.Patient).order_by(m.Patient.recorded_at)).all()
            views = build_views(orm, "patient", list(rows))
        return sorted(views, key=lambda v: str(v.current["display_name"]).casefold())

    def recent_patients(self, limit: int = PATIENTS_SHOWN) -> list[EntryView]:
        """The patients seen or added most recently, newest first, at most ``limit``.

        Reads the newest sessions through their start index and the newest patients in
        the order added, never a whole table: the same cost at ten clinic years as on
        the first day.
        """
        with self._engine.connect() as conn:
            ids = conn.execute(
                text(
                    "SELECT id FROM ("
                    "  SELECT patient_id AS id, started_at AS at FROM"
                    "    (SELECT patient_id, started_at FROM sessions"
                    "     ORDER BY started_at DESC LIMIT :sessions)"
                    "  UNION ALL"
                    "  SELECT id, recorded_at FROM"
                    "    (SELECT id, recorded_at FROM patients ORDER BY rowid DESC LIMIT :n)"
                    ") GROUP BY id ORDER BY max(at) DESC LIMIT :n"
                ),
                {"n": limit, "sessions": limit * 20},
            ).scalars()
            return self._patient_views([uuid.UUID(i) for i in ids])

    def find_patients(self, words: str, limit: int = PATIENTS_SHOWN) -> list[EntryView]:
        """Patients whose current name or record number (corrections applied) holds
        ``words``, ignoring case, ordered by name, at most ``limit``.

        The match runs in SQLite over the patients table (thousands of short rows), so
        only the patients shown are read into Python.
        """
        needle = fold(words.strip())
        if not needle:
            return self.recent_patients(limit)
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        name, number = (
            _current_patient_field("display_name"),
            _current_patient_field("record_number"),
        )
        with self._engine.connect() as conn:
            ids = conn.execute(
                text(
                    f"SELECT p.id FROM patients AS p"
                    f" WHERE kapdesk_fold({name}) LIKE :pattern ESCAPE '\\'"
                    f" OR kapdesk_fold({number}) LIKE :pattern ESCAPE '\\'"
                    f" ORDER BY kapdesk_fold({name}), p.rowid LIMIT :n"
                ),
                {"pattern": pattern, "n": limit},
            ).scalars()
            return self._patient_views([uuid.UUID(i) for i in ids])

    def same_patients(self, name: str, date_of_birth: str | None) -> list[EntryView]:
        """Patients already in the record with this name (case and accents aside) and this
        date of birth (or none, as none given): a second record for one person is asked
        about before it is made (QA: two identical patients were added without a word)."""
        wanted = fold(name.strip())
        born = (date_of_birth or "").strip()
        return [
            view
            for view in self.find_patients(name)
            if fold(str(view.current["display_name"])) == wanted
            and str(view.current.get("date_of_birth") or "") == born
        ]

    def same_patient_question(self, name: str, date_of_birth: str | None) -> str | None:
        """The question to ask before a second record of one person is made (same_patients),
        or None if there is none like it."""
        same = self.same_patients(name, date_of_birth) if name.strip() else []
        if not same:
            return None
        current = same[0].current
        number = current.get("record_number")
        return (
            f"{current['display_name']}"
            + (f", born {date_of_birth.strip()}," if date_of_birth else "")
            + " is already in the record"
            + (f" (record number {number})" if number else "")
            + (f", with {len(same) - 1} more like it" if len(same) > 1 else "")
            + ": adding them again makes a second record of one person, which cannot be "
            "removed. Esc goes back to find them (Ctrl+F); to add this patient anyway, press "
            "Enter again."
        )

    def record_number_taken(self, number: str) -> bool:
        """Whether a patient's current record number (corrections applied) is ``number``,
        ignoring case."""
        current = _current_patient_field("record_number")
        with self._engine.connect() as conn:
            found = conn.execute(
                text(
                    f"SELECT 1 FROM patients AS p WHERE {current} IS NOT NULL"
                    f" AND kapdesk_fold({current}) = :number LIMIT 1"
                ),
                {"number": fold(number.strip())},
            ).first()
        return found is not None

    def patient_count(self) -> int:
        return self.count("patient")

    def _patient_views(self, ids: list[uuid.UUID]) -> list[EntryView]:
        with OrmSession(self._engine) as orm:
            rows = {
                row.id: row for row in orm.scalars(select(m.Patient).where(m.Patient.id.in_(ids)))
            }
            return build_views(orm, "patient", [rows[i] for i in ids if i in rows])

    def sessions(self, patient_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
        """Sessions, newest first; all patients' when patient_id is None."""
        with OrmSession(self._engine) as orm:
            query = select(m.Session).order_by(m.Session.started_at.desc())
            if patient_id is not None:
                query = query.where(m.Session.patient_id == patient_id)
            return [_session_dict(s) for s in orm.scalars(query)]

    def session_figures(self, patient_id: uuid.UUID) -> dict[uuid.UUID, SessionFigures]:
        """Each of a patient's sessions at a glance, for the patients page (issue 12): the
        doses given (drug, mg, in order), the highest blood pressure (by systolic) and
        diastolic, and whether it was ended by an override.
        Corrections applied. One query per table for all the patient's sessions."""
        figures: dict[uuid.UUID, SessionFigures] = {}
        of_patient = "session_id IN (SELECT id FROM sessions WHERE patient_id = ?)"
        with self._engine.connect() as connection:
            doses = connection.exec_driver_sql(
                f"SELECT session_id, id, drug, mg FROM doses WHERE {of_patient} "
                "ORDER BY given_at, rowid",
                (str(patient_id),),
            ).fetchall()
            readings = connection.exec_driver_sql(
                f"SELECT session_id, id, systolic, diastolic FROM vitals_readings "
                f"WHERE {of_patient} AND systolic IS NOT NULL",
                (str(patient_id),),
            ).fetchall()
            corrected = corrected_doses_and_readings(connection, patient_id)
            overrides = connection.exec_driver_sql(
                f"SELECT session_id FROM session_events WHERE {of_patient} "
                "AND kind = 'discharge' AND json_extract(payload, '$.override_reason') "
                "IS NOT NULL",
                (str(patient_id),),
            ).fetchall()
        for (session,) in overrides:
            figures.setdefault(uuid.UUID(session), SessionFigures()).overridden = True
        for session, entry_id, drug, mg in doses:
            if entry_id in corrected:
                current = self.entry("dose", uuid.UUID(entry_id)).current
                if current.get(ENTERED_IN_ERROR):
                    continue  # never given
                drug, mg = current["drug"], current["mg"]
            figures.setdefault(uuid.UUID(session), SessionFigures()).doses.append((drug, mg))
        pressures: dict[uuid.UUID, list[tuple[int, int | None]]] = {}
        for session, entry_id, systolic, diastolic in readings:
            if entry_id in corrected:
                current = self.entry("vitals", uuid.UUID(entry_id)).current
                systolic, diastolic = current["systolic"], current["diastolic"]
                if systolic is None:
                    continue
            pressures.setdefault(uuid.UUID(session), []).append((systolic, diastolic))
        for session_id, taken in pressures.items():
            found = figures.setdefault(session_id, SessionFigures())
            highest_at, diastolic_at = highest_pressures(taken)
            found.highest_bp = None if highest_at is None else taken[highest_at]
            if diastolic_at is not None:
                systolic, diastolic = taken[diastolic_at]
                found.highest_diastolic = (systolic, diastolic or 0)  # ranked by it: never 0
        return figures

    def readings_count(self, session_id: uuid.UUID) -> int:
        """The session's vitals readings, corrected or not (one indexed count)."""
        with self._engine.connect() as connection:
            found = connection.exec_driver_sql(
                "SELECT count(*) FROM vitals_readings WHERE session_id = ?", (str(session_id),)
            ).scalar_one()
        return int(found)

    def session_audit_head(self, session_id: uuid.UUID) -> tuple[int, str] | None:
        """(number, hash) of the newest audit event about this session or anything in it
        (its entries, events, infusion stops, and corrections of them): printed on its
        report, so a paper copy can be checked against the record (issue 12)."""
        rows = " UNION ALL ".join(
            f"SELECT id FROM {table} WHERE session_id = :s"
            for table in (
                "doses",
                "vitals_readings",
                "observations",
                "scale_scores",
                "session_events",
                "infusion_stops",
            )
        )
        query = (
            f"WITH rows(id) AS (SELECT :s UNION ALL {rows}) "
            "SELECT seq, hash FROM audit_events WHERE entity_id IN (SELECT id FROM rows) "
            "OR entity_id IN (SELECT id FROM corrections WHERE target_id IN "
            "(SELECT id FROM rows)) ORDER BY seq DESC LIMIT 1"
        )
        with self._engine.connect() as connection:
            found = connection.execute(text(query), {"s": str(session_id)}).first()
        return None if found is None else (int(found[0]), str(found[1]))

    def infusion_stops(self, session_id: uuid.UUID) -> dict[uuid.UUID, dt.datetime]:
        """When each of a session's IV infusions stopped, by dose id."""
        with OrmSession(self._engine) as orm:
            rows = orm.execute(
                select(m.InfusionStop.dose_id, m.InfusionStop.stopped_at).where(
                    m.InfusionStop.session_id == session_id
                )
            ).all()
        return {row[0]: row[1] for row in rows}

    def clinician_names(self) -> dict[uuid.UUID, str]:
        """Each clinician as the log and the report name them: an account's newest name
        and credentials ("Ana Ruiz, MD"), else the login the entry was made under."""
        with OrmSession(self._engine) as orm:
            names = {c.id: c.display_name for c in orm.scalars(select(m.Clinician))}
            versions = orm.execute(
                select(
                    m.ClinicianAccount.clinician_id,
                    m.ClinicianAccount.display_name,
                    m.ClinicianAccount.credentials,
                ).order_by(m.ClinicianAccount.clinician_id, m.ClinicianAccount.version)
            )
            for clinician_id, display_name, credentials in versions:
                names[clinician_id] = signature(display_name, credentials)
        return names

    def account_names(self) -> dict[uuid.UUID, str]:
        """Only the clinicians with accounts, as clinician_names names them."""
        with OrmSession(self._engine) as orm:
            holders = set(orm.scalars(select(m.ClinicianAccount.clinician_id).distinct()))
        if not holders:
            return {}
        return {i: name for i, name in self.clinician_names().items() if i in holders}

    def open_sessions(self) -> list[dict[str, Any]]:
        """Sessions never ended (kapdesk was closed, crashed, or the laptop died), newest first."""
        with OrmSession(self._engine) as orm:
            query = (
                select(m.Session)
                .where(m.Session.ended_at.is_(None))
                .order_by(m.Session.started_at.desc())
            )
            return [_session_dict(s) for s in orm.scalars(query)]

    def last_activity(self, session_id: uuid.UUID) -> dt.datetime:
        """The latest moment anything was recorded for a session."""
        tables = [
            "vitals_readings",
            "observations",
            "doses",
            "scale_scores",
            "infusion_stops",
            "session_events",
        ]
        union = " UNION ALL ".join(
            f"SELECT max(recorded_at) AS at FROM {t} WHERE session_id = :sid" for t in tables
        )
        with self._engine.connect() as conn:
            latest = conn.execute(
                text(
                    f"SELECT max(at) FROM ({union} UNION ALL "
                    "SELECT recorded_at FROM sessions WHERE id = :sid)"
                ),
                {"sid": str(session_id)},
            ).scalar_one()
        if latest is None:
            raise NotFoundError("No session with that id is in the record.")
        return from_utc_text(latest)

    def session(self, session_id: uuid.UUID) -> dict[str, Any]:
        with OrmSession(self._engine) as orm:
            return _session_dict(get_row(orm, m.Session, session_id, "session"))

    def count(self, kind: str) -> int:
        table = m.ENTITY_TABLES[kind].__tablename__
        with self._engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    def session_events(self, session_id: uuid.UUID) -> list[dict[str, Any]]:
        """A session's events, oldest first, with who recorded each."""
        with OrmSession(self._engine) as orm:
            rows = orm.scalars(
                select(m.SessionEvent)
                .where(m.SessionEvent.session_id == session_id)
                .order_by(m.SessionEvent.at, m.SessionEvent.recorded_at)
            ).all()
            return [_event_dict(r) for r in rows]

    def session_event(self, event_id: uuid.UUID) -> dict[str, Any]:
        with OrmSession(self._engine) as orm:
            return _event_dict(get_row(orm, m.SessionEvent, event_id, "session event"))


# Each reading column joined by SQLite into one text, without the sort an ORDER BY in
# the aggregate costs (3x); with the rowid, which puts them back in the order written if
# SQLite read them in another. NULL: "" in a text, "nan" in a number. The source is free
# text (a device's name may hold a comma): as hex. A temperature with the 17 digits that
# give back its double exactly.
_SEPARATOR = ","
_TEXT_READING_COLUMNS = frozenset({"id", "taken_at", "recorded_by", "recorded_at"})


def _reading_text(name: str) -> str:
    """How SQLite writes a reading column's value into the column's joined text."""
    if name == "source":
        return "ifnull(hex(source), '')"
    if name == "temperature_c":
        return "CASE WHEN temperature_c IS NULL THEN 'nan' ELSE printf('%.17g', temperature_c) END"
    if name in _TEXT_READING_COLUMNS:
        return f"ifnull({name}, '')"
    return f"ifnull({name}, 'nan')"


# Last, whether each reading was corrected since, a "0" or "1" each: asked of each row as
# it is read, where a join of the session's readings to the corrections read them all a
# second time (29 ms at six hours, issue 10).
_READINGS_TABLE = m.VitalsReading.__tablename__
_JOINED_READINGS = (
    f"SELECT count(*), group_concat(rowid, '{_SEPARATOR}'), "
    + ", ".join(f"group_concat({_reading_text(n)}, '{_SEPARATOR}')" for n in READING_COLUMNS)
    + ", group_concat(EXISTS (SELECT 1 FROM corrections AS c WHERE c.target_kind = 'vitals' "
    + f"AND c.target_id = {_READINGS_TABLE}.id), '')"
    + f" FROM {_READINGS_TABLE} WHERE session_id = ?"
)


def _split_readings(found: Sequence[Any]) -> tuple[list[Sequence[Any]], set[str]] | None:
    """The columns of _JOINED_READINGS's one row, in the order written, values as a row
    would give them, and the ids of the readings corrected since; None if a column does
    not hold one value per reading (a separator inside a value: only in a damaged
    record)."""
    import numpy as np  # here: the store loads before the first window, numpy need not

    count, rowids, *joined, flags = found
    if not count:
        return [[] for _ in READING_COLUMNS], set()
    order = _parsed(rowids, count, np.int64)
    if order is None or len(str(flags)) != count:
        return None
    columns: list[Sequence[Any]] = []
    for name, text_ in zip(READING_COLUMNS, joined, strict=True):
        if name in _TEXT_READING_COLUMNS or name == "source":
            parts = str(text_).split(_SEPARATOR)
            if len(parts) != count:
                return None
            if name == "source":
                names = {h: bytes.fromhex(h).decode("utf-8") for h in set(parts)}
                parts = list(map(names.__getitem__, parts))
            columns.append(parts)
        else:
            numbers = _numbers(str(text_), count, whole=name != "temperature_c")
            if numbers is None:
                return None
            columns.append(numbers)
    ids, corrected = columns[READING_COLUMNS.index("id")], set()
    at = str(flags).find("1")
    while at != -1:  # a few at most
        corrected.add(str(ids[at]))
        at = str(flags).find("1", at + 1)
    if (np.diff(order) <= 0).any():  # not read in the order written (two readings at least)
        pick = operator.itemgetter(*np.argsort(order, kind="stable").tolist())
        columns = [list(pick(column)) for column in columns]
    return columns, corrected


def _parsed(text_: str, count: int, dtype: Any = float) -> Any:
    """``count`` numbers joined by _SEPARATOR ("nan" for NULL), as an array of ``dtype``;
    None if the text is not that."""
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns of text it stopped reading at
        try:
            parsed = np.fromstring(text_, dtype=dtype, sep=_SEPARATOR)
        except (ValueError, DeprecationWarning):
            return None
    return parsed if parsed.size == count else None


def _numbers(text_: str, count: int, *, whole: bool) -> list[Any] | None:
    """A number column as SQLite joined it, each value as a row gives it: an int (a
    float for a REAL column, ``whole=False``), None for NULL. 21,600 of them in ~1 ms
    (int() on each took 5)."""
    import numpy as np

    if len(text_) == 4 * count - 1 and text_.count("nan") == count:
        return [None] * count  # a value never taken (respiratory rate, temperature)
    if whole and "n" not in text_:  # every value taken: whole numbers read fastest
        integers = _parsed(text_, count, np.int64)
        if integers is not None:
            return integers.tolist()  # type: ignore[no-any-return]
    parsed = _parsed(text_, count)
    if parsed is None:
        parts = text_.split(_SEPARATOR)
        return [_number(part) for part in parts] if len(parts) == count else None
    missing = np.isnan(parsed)
    if whole:
        present = parsed[~missing]
        if not np.array_equal(present, np.trunc(present)):
            return [_number(part) for part in text_.split(_SEPARATOR)]  # a REAL stored there
        values = np.where(missing, 0, parsed).astype(np.int64).astype(object)
    else:
        values = parsed.astype(object)
    values[missing] = None
    return values.tolist()  # type: ignore[no-any-return]


def _number(part: str) -> Any:
    """One value as a row gives it: int, float, None for NULL, or the text (not a number,
    in a damaged record) as the record holds it."""
    if part == "nan":
        return None
    for kind in (int, float):
        try:
            return kind(part)
        except ValueError:
            pass
    return part


def _corrected_ids(connection: Any, kind: str, session_id: uuid.UUID) -> set[str]:
    """The ids (text) of a session's entries of one kind corrected since. A join, not
    "target_id IN (SELECT id ...)": the list SQLite builds of a six-hour session's 21,600
    reading ids took 21 ms, the join 3.5 (issue 10)."""
    name = m.ENTITY_TABLES[kind].__tablename__
    found = connection.exec_driver_sql(
        f"SELECT DISTINCT c.target_id FROM corrections AS c JOIN {name} AS e "
        "ON e.id = c.target_id WHERE c.target_kind = ? AND e.session_id = ?",
        (kind, str(session_id)),
    )
    return {row[0] for row in found}


def corrected_doses_and_readings(connection: Any, patient_id: uuid.UUID) -> set[str]:
    """Ids of the patient's doses and readings corrected since: the few whose current
    values are read entry by entry, the rest straight from their rows."""
    of_patient = "session_id IN (SELECT id FROM sessions WHERE patient_id = ?)"
    return {
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT DISTINCT target_id FROM corrections WHERE target_kind IN "
            f"('dose', 'vitals') AND target_id IN (SELECT id FROM doses WHERE "
            f"{of_patient} UNION ALL SELECT id FROM vitals_readings WHERE {of_patient})",
            (str(patient_id), str(patient_id)),
        )
    }


def _current_patient_field(field: str) -> str:
    """SQL for a patient's current ``field``: from its newest correction that changed it
    (a correction may set a record number to nothing), else as first written."""
    changed = (
        "FROM corrections AS c WHERE c.target_id = p.id AND c.target_kind = 'patient'"
        f" AND json_type(c.changes, '$.{field}') IS NOT NULL"
    )
    return (
        f"(CASE WHEN EXISTS (SELECT 1 {changed})"
        f" THEN (SELECT json_extract(c.changes, '$.{field}') {changed}"
        " ORDER BY c.rowid DESC LIMIT 1)"
        f" ELSE p.{field} END)"
    )


def get_row(orm: OrmSession, table: type[Any], row_id: uuid.UUID, label: str) -> Any:
    row = orm.get(table, row_id)
    if row is None:
        raise NotFoundError(f"No {label} with that id is in the record.")
    return row


def _event_dict(row: m.SessionEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "at": row.at,
        "payload": json.loads(row.payload),
        "recorded_at": row.recorded_at,
        "recorded_by": row.recorded_by,
    }


def _session_dict(session: m.Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "patient_id": session.patient_id,
        "protocol": session.protocol,
        "zone_name": session.zone_name,
        "started_at": session.started_at,
        "first_dose_at": session.first_dose_at,
        "ended_at": session.ended_at,
    }


@functools.cache
def _row_maker(table: str) -> Callable[[tuple[Any, ...]], Any]:
    """A function from a stored row of ``table`` to a row with its columns by name, each
    converted as its column type says (UUID text, UTC text, or as stored). Written out
    per table, like a namedtuple's own code: a loop over the columns testing each
    value's converter cost more than the conversions (issue 10)."""
    columns = m.Base.metadata.tables[table].columns
    shape = collections.namedtuple(f"{table}_row", [c.name for c in columns])  # type: ignore[misc]
    made = []
    for index, column in enumerate(columns):
        value = f"r[{index}]"
        if isinstance(column.type, UUIDText):
            convert = "new_uuid" if column.primary_key else "known_uuid"  # ids do not repeat
        elif isinstance(column.type, UTCDateTime):
            convert = "utc"
        else:
            made.append(value)
            continue
        made.append(f"None if {value} is None else {convert}({value})")
    names = {"shape": shape, "new_uuid": uuid.UUID, "known_uuid": _uuid, "utc": from_utc_text}
    return eval(f"lambda r: shape({', '.join(made)})", names)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=4096)
def _uuid(text_: str) -> uuid.UUID:
    """UUIDs repeat down a session (its id, the clinician): parsed once each."""
    return uuid.UUID(text_)
