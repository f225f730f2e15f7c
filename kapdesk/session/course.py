"""A patient's course of treatment as the course view shows it: one CourseSession per
session of the current course, built from one read of the record (issue 13)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from kapdesk.clinical.course import CourseSession
from kapdesk.clinical.vitals import highest_pressures
from kapdesk.store import RecordStore
from kapdesk.store.course_record import SessionRows
from kapdesk.store.views import EntryView


def current_course_start(notes: Sequence[EntryView]) -> dt.datetime | None:
    """When the patient's current course began: the newest "new course" note, if any."""
    starts = [n.current["written_at"] for n in notes if n.current["kind"] == "course"]
    return max(starts, default=None)


def course_sessions(
    store: RecordStore,
    patient_id: uuid.UUID,
    *,
    since: dt.datetime | None = None,
    weight_kg: float | None = None,
) -> list[CourseSession]:
    """The patient's sessions started at or after ``since`` (all when None), oldest first."""
    rows = [
        r
        for r in store.course_rows(patient_id)
        if since is None or r.session["started_at"] >= since
    ]
    return [_course_session(number, row, weight_kg) for number, row in enumerate(rows, 1)]


def _course_session(number: int, rows: SessionRows, weight_kg: float | None) -> CourseSession:
    session = rows.session
    first_dose = session["first_dose_at"]
    drugs = [drug for _at, drug, _mg in rows.doses]
    total_mg = sum(mg for _at, _drug, mg in rows.doses) if rows.doses else None
    # The mean of every BP reading before the first dose, as the course's rising-baseline
    # rule reads it across sessions (clinical/course.py). The session screen's own baseline
    # leaves an urgent pre-dose reading out (SessionState.baseline); here the last reading
    # before the dose is named besides (last_pre_dose).
    pre = [(s, d) for at, s, d in rows.readings if first_dose is not None and at < first_dose]
    pre_s = round(sum(s for s, _d in pre) / len(pre)) if pre else None
    pre_d_values = [d for _s, d in pre if d is not None]
    pre_d = round(sum(pre_d_values) / len(pre_d_values)) if pre_d_values else None
    last_pre_dose = next(
        ((s, d) for s, d in reversed(pre) if s is not None and d is not None), None
    )
    pressures = [(s, d) for _at, s, d in rows.readings]
    peak_at, diastolic_at = highest_pressures(pressures)
    peak = None if peak_at is None else pressures[peak_at]
    highest_diastolic = None
    if diastolic_at is not None:
        systolic, diastolic = pressures[diastolic_at]
        highest_diastolic = (systolic, diastolic or 0)  # never None: it ranks by it
    alerts, urgent, overrides = _counts(rows.events)
    scores, item9 = _scores(rows.events)
    return CourseSession(
        session_id=session["id"],
        number=number,
        started_at=session["started_at"],
        zone_name=session["zone_name"],
        protocol=session["protocol"],
        ended=session["ended_at"] is not None,
        drug=" + ".join(dict.fromkeys(drugs)) if drugs else None,
        dose_mg=total_mg,
        dose_mg_per_kg=round(total_mg / weight_kg, 2) if total_mg and weight_kg else None,
        pre_dose_systolic=pre_s,
        pre_dose_diastolic=pre_d,
        peak_systolic=None if peak is None else peak[0],
        peak_diastolic=None if peak is None or not peak[1] else peak[1],
        alerts=alerts,
        urgent_alerts=urgent,
        overrides=overrides,
        scores=scores,
        phq9_item9=item9,
        highest_diastolic=highest_diastolic,
        last_pre_dose=last_pre_dose,
    )


def _counts(events: Sequence[tuple[uuid.UUID, str, dict[str, Any]]]) -> tuple[int, int, int]:
    """Alerts that still stand (one withdrawn by a correction is not counted), the urgent
    among them, and the clinician's overrides: a dose given despite a caution, or a
    discharge with criteria unmet."""
    withdrawn = {p.get("alert_id") for _id, kind, p in events if kind == "alert_cleared"}
    standing = [
        p for event_id, kind, p in events if kind == "alert" and str(event_id) not in withdrawn
    ]
    urgent = sum(1 for p in standing if p.get("level") == "urgent")
    overrides = sum(
        1
        for _id, kind, p in events
        if kind == "dose_caution_ack" or (kind == "discharge" and p.get("override_reason"))
    )
    return len(standing), urgent, overrides


def _scores(
    events: Sequence[tuple[uuid.UUID, str, dict[str, Any]]],
) -> tuple[dict[str, int | None], int | None]:
    """The highest total of each scored instrument in the session, and the highest PHQ-9
    item 9 answer of any response in it: a repeat survey in the same session never makes
    it look better, nor hides an earlier "thoughts of self-harm" (QA). An incomplete
    response counts only when the session has no scored one."""
    scores: dict[str, int | None] = {}
    item9: int | None = None
    for _id, kind, payload in events:
        if kind != "self_report" or payload.get("scored") is False:
            continue
        instrument = str(payload.get("instrument"))
        total = payload.get("total")
        before = scores.get(instrument)
        if instrument not in scores or (total is not None and (before is None or total > before)):
            scores[instrument] = total
        if instrument == "phq9":
            answer = payload.get("answers", {}).get("9")
            if isinstance(answer, int) and (item9 is None or answer > item9):
                item9 = answer
    return scores, item9
