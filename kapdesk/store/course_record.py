"""A patient's course of treatment in the record: course notes (goals, preparation and
integration notes, the start of a new course), and what the course view reads of every
session in one pass per table (issue 13)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.clinical.entries import clean_text
from kapdesk.clinical.vitals import ValidationError
from kapdesk.store import models as m
from kapdesk.store.reads import corrected_doses_and_readings
from kapdesk.store.types import from_utc_text
from kapdesk.store.views import ENTERED_IN_ERROR, EntryView, build_views
from kapdesk.store.writing import ChainedWriter, new_row

# "course" starts a new course of treatment: the sessions and scores before it belong to
# the earlier course, and the new one's baseline is its own first score.
COURSE_NOTE_KINDS = {
    "course": "New course of treatment",
    "goal": "Goal",
    "preparation": "Preparation note",
    "integration": "Integration note",
}
# Session events the course view counts (their payloads are canonical JSON).
COURSE_EVENT_KINDS = ("alert", "alert_cleared", "dose_caution_ack", "discharge", "self_report")


@dataclass
class SessionRows:
    """One session's stored facts the course view needs, corrections applied."""

    session: dict[str, Any]
    doses: list[tuple[dt.datetime, str, float]] = field(default_factory=list)
    readings: list[tuple[dt.datetime, int, int | None]] = field(default_factory=list)
    events: list[tuple[uuid.UUID, str, dict[str, Any]]] = field(default_factory=list)


class CourseRecord(ChainedWriter):
    entry: Callable[[str, uuid.UUID], EntryView]  # RecordReads'

    def add_course_note(
        self,
        patient_id: uuid.UUID,
        kind: str,
        text_: str,
        *,
        session_id: uuid.UUID | None = None,
        written_at: dt.datetime | None = None,
    ) -> uuid.UUID:
        """A dated course note; linked to a session (which may have ended: integration
        comes after) where it is about one of this patient's."""
        if kind not in COURSE_NOTE_KINDS:
            raise ValidationError("kind", f"“{kind}” is not a kind of course note.")
        now = self._now()
        body = clean_text(text_, f"The {COURSE_NOTE_KINDS[kind].lower()}", limit=20_000)
        row = new_row(
            m.CourseNote,
            patient_id=patient_id,
            session_id=session_id,
            kind=kind,
            written_at=self._entry_time(written_at, now),
            text=body,
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        with self._saving("the course note") as cursor:
            if session_id is not None:
                session = self._session_row(cursor, session_id)
                if session["patient_id"] != str(patient_id):
                    raise ValidationError(
                        "session_id", "That session is another patient's; the note was not saved."
                    )
            return self._insert(cursor, "course_note", row, {"kind": kind})

    def course_notes(self, patient_id: uuid.UUID) -> list[EntryView]:
        """A patient's course notes, oldest first by the date written, with corrections."""
        with OrmSession(self._engine) as orm:
            rows = list(
                orm.scalars(
                    select(m.CourseNote)
                    .where(m.CourseNote.patient_id == patient_id)
                    .order_by(m.CourseNote.written_at, m.CourseNote.recorded_at)
                )
            )
            views = build_views(orm, "course_note", rows)
        return sorted(views, key=lambda v: v.current["written_at"])

    def course_rows(self, patient_id: uuid.UUID) -> list[SessionRows]:
        """Every session of the patient, oldest first, with its doses, BP readings and the
        events the course counts: one query per table, whatever the number of sessions."""
        of_patient = "session_id IN (SELECT id FROM sessions WHERE patient_id = ?)"
        kinds = ", ".join(f"'{k}'" for k in COURSE_EVENT_KINDS)
        pid = (str(patient_id),)
        with self._engine.connect() as connection:
            sessions = connection.exec_driver_sql(
                "SELECT id, started_at, first_dose_at, ended_at, zone_name, protocol "
                "FROM sessions WHERE patient_id = ? ORDER BY started_at, rowid",
                pid,
            ).fetchall()
            doses = connection.exec_driver_sql(
                f"SELECT session_id, id, given_at, drug, mg FROM doses WHERE {of_patient} "
                "ORDER BY given_at, rowid",
                pid,
            ).fetchall()
            readings = connection.exec_driver_sql(
                "SELECT session_id, id, taken_at, systolic, diastolic FROM vitals_readings "
                f"WHERE {of_patient} AND systolic IS NOT NULL ORDER BY taken_at, rowid",
                pid,
            ).fetchall()
            events = connection.exec_driver_sql(
                f"SELECT session_id, id, kind, payload FROM session_events WHERE {of_patient} "
                f"AND kind IN ({kinds}) ORDER BY at, recorded_at, rowid",
                pid,
            ).fetchall()
            corrected = corrected_doses_and_readings(connection, patient_id)
        by_id: dict[str, SessionRows] = {}
        for sid, started, first_dose, ended, zone, protocol in sessions:
            by_id[sid] = SessionRows(
                {
                    "id": uuid.UUID(sid),
                    "started_at": from_utc_text(started),
                    "first_dose_at": from_utc_text(first_dose) if first_dose else None,
                    "ended_at": from_utc_text(ended) if ended else None,
                    "zone_name": zone,
                    "protocol": protocol,
                }
            )
        for sid, entry_id, given, drug, mg in doses:
            given_at = from_utc_text(given)
            if entry_id in corrected:
                current = self.entry("dose", uuid.UUID(entry_id)).current
                if current.get(ENTERED_IN_ERROR):
                    # Never given; the session's T0, set at the first dose recorded, is
                    # the first dose given (SessionState.first_dose_at).
                    by_id[sid].session["first_dose_at"] = None
                    continue
                given_at, drug, mg = current["given_at"], current["drug"], current["mg"]
            by_id[sid].doses.append((given_at, drug, mg))
        for rows in by_id.values():
            if rows.session["first_dose_at"] is None and rows.doses:
                rows.session["first_dose_at"] = min(at for at, _drug, _mg in rows.doses)
        for sid, entry_id, taken, systolic, diastolic in readings:
            taken_at = from_utc_text(taken)
            if entry_id in corrected:
                current = self.entry("vitals", uuid.UUID(entry_id)).current
                taken_at, systolic, diastolic = (
                    current["taken_at"],
                    current["systolic"],
                    current["diastolic"],
                )
                if systolic is None:
                    continue
            by_id[sid].readings.append((taken_at, systolic, diastolic))
        for sid, event_id, kind, payload in events:
            by_id[sid].events.append((uuid.UUID(event_id), kind, json.loads(payload)))
        return list(by_id.values())
