"""`kapdesk demo`'s second patient: a course of eight IM ketamine sessions (issue 13), so
the course view shows something real on first start.

PHQ-9 falls from 19 to 4 (response by the fifth session, remission at the eighth), GAD-7
from 15 to 4; PHQ-9 item 9 was answered "Several days" at the first session (an alert,
acknowledged); the pre-dose baseline creeps up from about 122/78 to 146/92, so the last
two doses went ahead past the pre-dose caution with a reason, and the course view flags
the rising baseline. Generated from these rules every time, never shipped as a file.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Callable
from zoneinfo import ZoneInfo

from kapdesk.clinical.alerts import evaluate
from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.clinical.self_report import Answer, Instrument, Survey, score
from kapdesk.clinical.self_report_files import load_instruments
from kapdesk.clinical.self_report_record import self_report_payload, urgent_alert_payload
from kapdesk.clinical.vitals import VitalsReading, validate_vitals
from kapdesk.resources import resource
from kapdesk.store import RecordStore

COURSE_NAME = "DEMO — Jordan Course (not a real patient)"
COURSE_ZONE = "Europe/London"
WEIGHT_KG = 80

# Days before today, local morning; the last session three days ago.
DAYS_AGO = (45, 41, 38, 34, 27, 20, 13, 3)
DOSES_MG = (40, 40, 50, 50, 55, 60, 60, 60)  # 0.5 to 0.75 mg/kg IM
BASELINES = ((122, 78), (124, 79), (127, 80), (129, 82), (133, 84), (137, 86), (142, 89),
             (146, 92))  # fmt: skip
PHQ9 = (19, 17, 15, 12, 9, 7, 5, 4)
GAD7 = (15, 14, 12, 10, 8, 7, 5, 4)
INTENTIONS = (
    "To understand why I cannot rest.",
    "To be kinder to myself.",
    "To look at the anger without running.",
    "To feel my body again.",
    "To let the grief move.",
    "To stay with what comes.",
    "To listen to what I need.",
    "To say goodbye to the old fear.",
)
WHAT_CAME_UP = (
    "Mostly blankness, then my father's workshop.",
    "A long corridor and a feeling of being watched, then relief.",
    "Anger at work, and that it was never about work.",
    "Warmth in my hands. I cried and it was all right.",
    "My grandmother's garden; I could breathe there.",
    "Less to see this time, more quiet.",
    "That I have been holding my breath for years.",
    "Gratitude. It felt like an ending.",
)
SURVEY = Survey(id="after_session", name="After the session", instruments=())


def create_demo_course(store: RecordStore, now: dt.datetime) -> list[uuid.UUID]:
    """Add the course patient, their notes and eight ended sessions; the sessions' ids."""
    rng = random.Random(13)
    instruments = load_instruments([resource("instruments")]).instruments
    zone = ZoneInfo(COURSE_ZONE)
    patient = store.add_patient(
        COURSE_NAME,
        date_of_birth="1979-03-02",
        record_number="DEMO-0002",
        weight_kg=WEIGHT_KG,
        is_demo=True,
    )
    today = now.astimezone(zone).date()

    def morning(days_ago: int, minutes: float = 0) -> dt.datetime:
        day = today - dt.timedelta(days=days_ago)
        local = dt.datetime.combine(day, dt.time(10, 0), tzinfo=zone)
        return (local + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)

    first = DAYS_AGO[0]
    store.add_course_note(
        patient,
        "course",
        "Course 1: treatment-resistant depression; eight IM sessions planned with "
        "integration after each.",
        written_at=morning(first + 7, -60),
    )
    for goal in ("Sleep through most nights.", "Return to work three days a week."):
        store.add_course_note(patient, "goal", goal, written_at=morning(first + 7, -50))
    store.add_course_note(
        patient,
        "preparation",
        "Psychoeducation on dissociation and nausea; agreed signals for 'pause' and "
        "'I need to talk'. Partner will drive home.",
        written_at=morning(first + 7, -40),
    )
    sessions = []
    for number, days_ago in enumerate(DAYS_AGO, 1):

        def at(minutes: float, d: int = days_ago) -> dt.datetime:
            return morning(d, minutes)

        session = _session(store, patient, number, at, rng)
        _survey(store, session, number, at(150), instruments)
        if number in (1, 4, 8):
            store.add_course_note(
                patient,
                "integration",
                f"Integration after session {number}: {WHAT_CAME_UP[number - 1]} "
                "We linked it to the goals above.",
                session_id=session,
                written_at=morning(days_ago - 1, 240),
            )
        sessions.append(session)
    return sessions


def _session(
    store: RecordStore,
    patient: uuid.UUID,
    number: int,
    at: Callable[[float], dt.datetime],
    rng: random.Random,
) -> uuid.UUID:
    index = number - 1
    systolic, diastolic = BASELINES[index]
    session = store.start_session(
        patient,
        protocol="IM injection",
        zone_name=COURSE_ZONE,
        started_at=at(-30),
    )
    store.add_session_event(
        session,
        "screening",
        {
            "contraindications": dict.fromkeys(CONTRAINDICATIONS, False),
            "medicines": dict.fromkeys(MEDICINES, False),
            "intention": INTENTIONS[index],
            "decision": None,
        },
        at=at(-25),
    )
    for minute in (-20, -8):
        reading = {
            "systolic": systolic + rng.randint(-2, 2),
            "diastolic": diastolic + rng.randint(-1, 1),
            "heart_rate": 74 + rng.randint(-3, 3),
            "spo2": 97,
        }
        store.add_vitals(session, reading, taken_at=at(minute))
    if systolic > 140:
        store.add_session_event(
            session,
            "dose_caution_ack",
            {
                "reason": "Asymptomatic, rechecked after rest; agreed with the prescriber to "
                "dose and re-screen BP before the next session.",
                "reading": f"{systolic}/{diastolic}",
            },
            at=at(-3),
        )
    store.add_dose(session, drug="ketamine", route="im", mg=DOSES_MG[index], given_at=at(0))
    previous: VitalsReading | None = None
    for minute in range(10, 130, 10):
        rise = 30 * math.exp(-(((minute - 40) / 30) ** 2))
        reading = {
            "systolic": round(systolic + rise + rng.uniform(-3, 3)),
            "diastolic": round(diastolic + rise * 0.5 + rng.uniform(-2, 2)),
            "heart_rate": round(76 + rise * 0.3 + rng.uniform(-3, 3)),
            "spo2": 97 + rng.choice((0, 0, 1, -1)),
        }
        vitals_id = store.add_vitals(session, reading, taken_at=at(minute))
        # Alerts as the rules raised them at the time, each acknowledged a minute later.
        checked = validate_vitals(reading)
        for alert in evaluate(checked, baseline=(systolic, diastolic), previous=previous):
            payload = {
                "rule": alert.rule,
                "level": alert.level.value,
                "reading": alert.reading,
                "reason": alert.reason,
                "action": alert.action,
                "source": alert.source,
                "vitals_id": str(vitals_id),
                "taken_at": at(minute).isoformat(),
            }
            raised = store.add_session_event(session, "alert", payload, at=at(minute))
            store.add_session_event(
                session, "alert_ack", {"alert_id": str(raised)}, at=at(minute + 1)
            )
        previous = checked
    for minute, moaas in ((30, 4), (60, 5), (120, 5)):
        store.add_scale_score(session, "moaas", [moaas], scored_at=at(minute))
    store.add_session_event(
        session,
        "discharge",
        {
            "criteria": 4,
            "unmet": [],
            "confirmed": [],
            "override_reason": None,
            "ready_to_leave_minutes": None,
            "rems": {},
        },
        at=at(135),
    )
    store.end_session(session, ended_at=at(135))
    return session


def _survey(
    store: RecordStore,
    session: uuid.UUID,
    number: int,
    when: dt.datetime,
    instruments: dict[str, Instrument],
) -> None:
    index = number - 1
    reflection: dict[str, Answer | None] = {
        "intensity": min(10, 4 + index % 4),
        "safety": 3 if number > 2 else 2,
        "support": 4,
        "tone": "mixed" if number < 4 else "pleasant",
        "insight": min(4, 1 + index // 2),
        "distress": max(0, 2 - index // 3),
        "what_came_up": WHAT_CAME_UP[index],
        "intention": "Closer than last time." if number > 1 else None,
    }
    phq9 = _items(PHQ9[index], 9, item9=1 if number == 1 else 0)
    gad7 = _items(GAD7[index], 7)
    for instrument_id, answers in (("reflection", reflection), ("phq9", phq9), ("gad7", gad7)):
        instrument = instruments[instrument_id]
        result = score(instrument, answers)
        store.add_session_event(
            session, "self_report", self_report_payload(SURVEY, instrument, result), at=when
        )
        if result.urgent:
            alert = store.add_session_event(
                session, "alert", urgent_alert_payload(instrument, result), at=when
            )
            store.add_session_event(
                session, "alert_ack", {"alert_id": str(alert)}, at=when + dt.timedelta(minutes=2)
            )


def _items(total: int, count: int, *, item9: int = 0) -> dict[str, Answer | None]:
    """Item answers (0-3) that add up to ``total``, item 9 as given."""
    answers = [0] * count
    left = total - item9
    if count >= 9:
        answers[8] = item9
    for i in range(count):
        if i == 8:
            continue
        answers[i] = min(3, left)
        left -= answers[i]
    assert left == 0, "the total does not fit the items"
    return {str(i + 1): a for i, a in enumerate(answers)}
