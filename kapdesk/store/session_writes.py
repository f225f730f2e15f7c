"""Writes of a session's entries: its start and end, doses, infusion stops, readings,
observations, scale scores and events. Nothing is added to a session once it has ended."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.clinical.entries import (
    clean_tags,
    clean_text,
    validate_dose,
    validate_scale_score,
    zone_name_problem,
)
from kapdesk.clinical.vitals import ValidationError, validate_vitals
from kapdesk.store import models as m
from kapdesk.store.audit import canonical_json
from kapdesk.store.errors import ImmutableError
from kapdesk.store.reads import get_row
from kapdesk.store.types import from_utc_text, to_utc_text
from kapdesk.store.views import ENTERED_IN_ERROR
from kapdesk.store.writing import ChainedWriter, NewRow, new_row, refuse_before_start

SESSION_EVENT_KINDS = frozenset(
    {
        "screening",
        "alert",
        "alert_ack",
        "alert_cleared",
        "dose_caution_ack",
        "dose_above_usual",
        "discharge",
        "no_protocol",
        "intention",
        "self_report",
        "survey_handover",
        "survey_return",
        "handover",
    }
)
# A correction made after the end can raise or withdraw an alert, and an alert can be
# acknowledged once the patient has left; the patient's reflection survey is filled in
# once the effects have worn off (issue 13). Nothing else is added to an ended session.
AFTER_END_EVENT_KINDS = frozenset(
    {
        "alert",
        "alert_ack",
        "alert_cleared",
        "dose_above_usual",  # a dose corrected after the end, past the warning
        "self_report",
        "survey_handover",
        "survey_return",
    }
)


class SessionWrites(ChainedWriter):
    def start_session(
        self,
        patient_id: uuid.UUID,
        *,
        protocol: str,
        zone_name: str,
        started_at: dt.datetime | None = None,
        first_event: tuple[str, Mapping[str, Any]] | None = None,
    ) -> uuid.UUID:
        """A new session; ``first_event`` (such as why it has no protocol) is stored in the
        same transaction, so the session never exists without it."""
        now = self._now()
        problem = zone_name_problem(zone_name) if isinstance(zone_name, str) else "no name"
        if problem is not None:
            raise ValidationError(
                "zone_name", f"“{zone_name}” is not a time zone name such as Europe/London."
            )
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
        if first_event is None:
            return self._append("session", session)
        kind, payload = first_event
        with self._saving("the session") as cursor:
            session_id = self._insert(cursor, "session", session, {})
            event = self._event_row(session_id, kind, payload, session[1]["started_at"], now)
            self._insert(cursor, "session_event", event, {"kind": kind})
        return session_id

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
            session = self._open_session_row(cursor, session_id, given)
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
        if self.entry("dose", dose_id).current.get(ENTERED_IN_ERROR):  # type: ignore[attr-defined]
            raise ValidationError(
                "dose",
                "That dose is marked entered in error: never given, it has no infusion to stop.",
            )
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
        return self._append("infusion_stop", row, session_id=dose.session_id)

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
            taken_at=(taken := self._entry_time(taken_at, now)),
            source=clean_text(source, "Source", limit=80).strip(),
            recorded_at=now,
            recorded_by=self.clinician_id,
            **reading.as_dict(),
        )
        return self._append("vitals", row, session_id=session_id, at=taken)

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
            observed_at=(observed := self._entry_time(observed_at, now)),
            text=body if body == "" else clean_text(body, "The observation"),
            tags=canonical_json(list(clean)),
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        return self._append("observation", row, session_id=session_id, at=observed)

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
            scored_at=(scored := self._entry_time(scored_at, now)),
            scale_id=score.scale_id,
            answers=canonical_json(list(score.answers)),
            total=score.total,
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
        return self._append("scale_score", row, session_id=session_id, at=scored)

    def add_session_event(
        self,
        session_id: uuid.UUID,
        kind: str,
        payload: Mapping[str, Any],
        *,
        at: dt.datetime | None = None,
    ) -> uuid.UUID:
        """Append a session event (screening, alert, acknowledgement, discharge...)."""
        now = self._now()
        when = self._entry_time(at, now)
        row = self._event_row(session_id, kind, payload, when, now)
        if kind in AFTER_END_EVENT_KINDS:
            if at is not None:
                self._not_before_it_began(session_id, when)
            return self._append("session_event", row, details={"kind": kind})
        return self._append(
            "session_event",
            row,
            session_id=session_id,
            details={"kind": kind},
            at=None if at is None else when,
        )

    def _not_before_it_began(self, session_id: uuid.UUID, at: dt.datetime) -> None:
        """An event given its own time, for a session that may have ended: not dated
        before the session began (tamper QA: an alert and a discharge thirty days back)."""
        cursor = self._writer.cursor()
        try:
            session = self._session_row(cursor, session_id)
        finally:
            cursor.close()
        refuse_before_start(at, from_utc_text(session["started_at"]), session["zone_name"])

    def _event_row(
        self,
        session_id: uuid.UUID,
        kind: str,
        payload: Mapping[str, Any],
        at: dt.datetime,
        now: dt.datetime,
    ) -> NewRow:
        if kind not in SESSION_EVENT_KINDS:
            raise ValidationError("kind", f"“{kind}” is not a kind of session event.")
        try:
            body = canonical_json(dict(payload))
        except (TypeError, ValueError):
            raise ValidationError(
                "payload", "The event holds a value that cannot be stored."
            ) from None
        if len(body) > 100_000:
            raise ValidationError("payload", "The event is too large to store.")
        return new_row(
            m.SessionEvent,
            session_id=session_id,
            kind=kind,
            at=at,
            payload=body,
            recorded_at=now,
            recorded_by=self.clinician_id,
        )
