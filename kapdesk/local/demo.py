"""`kapdesk demo`: a clearly marked demo patient with one finished and one running session.

Generated every time from these rules, never shipped as a database file. The
finished session follows the shape in CLINICAL.md: intranasal esketamine 56 mg
as two devices five minutes apart, a baseline near 128/82, a rise peaking about
40 minutes after the first device, settling by two hours.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Callable

from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.store import RecordStore

DEMO_NAME = "DEMO — Alex Sample (not a real patient)"
DEMO_RECORD_NUMBER = "DEMO-0001"
DEMO_ZONE = "Europe/London"

FINISHED_NOTES: tuple[tuple[int, str, list[str]], ...] = (
    (-25, "Intention: to meet the grief with less fear.", ["calm"]),
    (-10, "Screening reviewed; escort (partner) waiting in lobby.", []),
    (3, "Mild tingling in hands reported.", ["talking"]),
    (12, "", ["eyes closed"]),
    (24, "Describes 'floating'; breathing slow and even.", ["dissociated"]),
    (38, "", ["tearful"]),
    (52, "Brief nausea, settled with stillness.", ["nausea"]),
    (75, "Talking about childhood home, warm affect.", ["talking", "calm"]),
    (100, "Oriented, sitting up, drinking water.", ["calm"]),
    (125, "Steady walking to bathroom with support.", []),
)


def _bp_at(minutes: float, rng: random.Random) -> tuple[int, int, int, int]:
    """A rise over a 128/82 baseline that peaks near 40 minutes and settles by two hours."""
    rise = 0.0 if minutes < 0 else 36 * math.exp(-(((minutes - 40) / 32) ** 2))
    systolic = 128 + rise + rng.uniform(-3, 3)
    diastolic = 82 + rise * 0.55 + rng.uniform(-2, 2)
    heart_rate = 72 + rise * 0.35 + rng.uniform(-3, 3)
    spo2 = 97 + rng.choice((0, 0, 1, -1))
    return round(systolic), round(diastolic), round(heart_rate), spo2


def create_demo(store: RecordStore, now: dt.datetime) -> tuple[uuid.UUID, uuid.UUID]:
    """Add the demo patient with a finished session yesterday and one running now."""
    rng = random.Random(42)
    patient = store.add_patient(
        DEMO_NAME,
        date_of_birth="1985-06-15",
        record_number=DEMO_RECORD_NUMBER,
        weight_kg=70,
        is_demo=True,
    )
    first_device = now - dt.timedelta(days=1, hours=3)
    finished = store.start_session(
        patient,
        protocol="SPRAVATO REMS",
        zone_name=DEMO_ZONE,
        started_at=first_device - dt.timedelta(minutes=30),
    )
    _session_entries(store, finished, first_device, last_minute=130, rng=rng)
    store.end_session(finished, ended_at=first_device + dt.timedelta(minutes=135))

    first_device = now - dt.timedelta(minutes=47)
    running = store.start_session(
        patient,
        protocol="SPRAVATO REMS",
        zone_name=DEMO_ZONE,
        started_at=first_device - dt.timedelta(minutes=30),
    )
    _session_entries(store, running, first_device, last_minute=45, rng=rng)
    return finished, running


def _session_entries(
    store: RecordStore,
    session: uuid.UUID,
    first_device: dt.datetime,
    *,
    last_minute: int,
    rng: random.Random,
) -> None:
    def at(minutes: float) -> dt.datetime:
        return first_device + dt.timedelta(minutes=minutes)

    # (minute, the write at that minute), in the order they happen.
    writes: list[tuple[float, Callable[[dt.datetime], object]]] = []

    def vitals(values: tuple[int, int, int, int]) -> Callable[[dt.datetime], object]:
        systolic, diastolic, heart_rate, spo2 = values
        reading = {"systolic": systolic, "diastolic": diastolic, "heart_rate": heart_rate}
        return lambda when: store.add_vitals(session, {**reading, "spo2": spo2}, taken_at=when)

    def score(scale: str, answers: list[int]) -> Callable[[dt.datetime], object]:
        return lambda when: store.add_scale_score(session, scale, answers, scored_at=when)

    def note(text: str, tags: list[str]) -> Callable[[dt.datetime], object]:
        return lambda when: store.add_observation(session, text, tags=tags, observed_at=when)

    def dose(when: dt.datetime) -> object:
        return store.add_dose(
            session,
            drug="esketamine",
            route="intranasal",
            mg=28,
            device_count=1,
            lot_number="DEMO-LOT-1",
            given_at=when,
        )

    for minute in (-20, -8):
        writes.append((minute, vitals(_bp_at(minute, rng))))
    for minute in (0, 5):
        writes.append((minute, dose))
    minute = 10
    while minute <= last_minute:
        writes.append((minute, vitals(_bp_at(minute, rng))))
        minute += 5 if minute < 60 else 15
    for note_minute, text, tags in FINISHED_NOTES:
        if note_minute <= last_minute:
            writes.append((note_minute, note(text, tags)))
    for minute, moaas in ((40, 4), (75, 4), (100, 5), (125, 5)):
        if minute <= last_minute:
            writes.append((minute, score("moaas", [moaas])))
    for minute, answers in ((40, [1, 1, 0]), (100, [0, 0, 0])):
        if minute <= last_minute:
            writes.append((minute, score("rems", answers)))
    store.add_session_event(
        session,
        "screening",
        {
            "contraindications": dict.fromkeys(CONTRAINDICATIONS, False),
            "medicines": dict.fromkeys(MEDICINES, False),
            "intention": "To meet the grief with less fear.",
            "decision": None,
        },
        at=at(-25),
    )
    for when, write in sorted(writes, key=lambda w: w[0]):
        write(at(when))
