"""The ten-clinic-year record bench_scale.py measures on, built through the store API.

2,001 patients (one of them the demo patient), 20,002 finished sessions of the shape in
CLINICAL.md: a screening, two pre-dose readings, two esketamine devices, readings every
4 minutes to 128 minutes, a dozen observations, MOAA/S and REMS scores, an alert with its
acknowledgement and the discharge: 59 records a session, 1.18 M records and as many
audit events. Every entry goes through RecordStore's own methods (validation, the stored
form, its chained audit event); RecordStore.grouped() only puts a batch of sessions in
one transaction, so the build takes minutes instead of hours.

The record is cached outside the repository, keyed by BUILDER_VERSION and its size: a
changed builder builds a new one.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.store import RecordStore

BUILDER_VERSION = 1
PASSPHRASE = "benchmark passphrase for a ten year record"
ZONE = "Europe/London"
FULL_PATIENTS = 2_000  # and the demo patient
SESSIONS_EACH = 10
SESSIONS_PER_TRANSACTION = 25
END = dt.datetime(2026, 11, 1, 18, 0, tzinfo=dt.UTC)
YEARS = 10

GIVEN = [
    "Ada",
    "Ben",
    "Cara",
    "Dev",
    "Ela",
    "Finn",
    "Gita",
    "Hugo",
    "Ines",
    "Jon",
    "Kira",
    "Liam",
    "Maya",
    "Noor",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Vik",
    "Wren",
    "Xavi",
    "Yara",
    "Zoe",
    "Alba",
    "Bruno",
    "Cleo",
    "Dario",
    "Esme",
    "Felix",
    "Greta",
    "Hana",
    "Ivo",
    "Juno",
    "Kai",
    "Lena",
    "Milo",
    "Nina",
]
FAMILY = [
    "Abbott",
    "Baker",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ibrahim",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zielinski",
    "Adeyemi",
    "Brennan",
    "Costa",
    "Dimitrov",
    "Evans",
    "Ferreira",
    "Gallagher",
    "Hughes",
    "Iyer",
    "Jovanovic",
    "Kim",
    "Larsen",
    "Mendes",
    "Nakamura",
]
NOTES = (
    ("Intention: to meet the grief with less fear.", ["calm"]),
    ("Escort waiting in the lobby.", []),
    ("Mild tingling in hands reported.", ["talking"]),
    ("", ["eyes closed"]),
    ("Describes floating; breathing slow and even.", ["dissociated"]),
    ("", ["tearful"]),
    ("Brief nausea, settled with stillness.", ["nausea"]),
    ("Talking about childhood home, warm affect.", ["talking", "calm"]),
    ("", ["asleep"]),
    ("Oriented, sitting up, drinking water.", ["calm"]),
    ("Steady walking to bathroom with support.", []),
    ("Reflecting on the session with the therapist.", ["talking"]),
)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kapdesk-bench"


def record_folder(patients: int) -> Path:
    return cache_root() / f"scale-v{BUILDER_VERSION}-{patients}p" / "data"


def state_folder(patients: int) -> Path:
    """$XDG_STATE_HOME for the app measured on this record: where its anchor mirror is."""
    return record_folder(patients).parent / "state"


def patient_name(number: int) -> str:
    given = GIVEN[number % len(GIVEN)]
    family = FAMILY[(number // len(GIVEN)) % len(FAMILY)]
    return f"{given} {family}-{number:04d}"


class SimulatedClock:
    def __init__(self) -> None:
        self.now = END - dt.timedelta(days=365 * YEARS)

    def __call__(self) -> dt.datetime:
        return self.now


def ensure_record(patients: int, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """The cached record of ``patients`` patients (built now if absent)."""
    folder = record_folder(patients)
    if (folder.parent / "complete").exists():
        return folder
    if folder.parent.exists():
        shutil.rmtree(folder.parent)  # an interrupted build of ours: nothing else lives there
    folder.parent.mkdir(parents=True)
    say(f"building a record of {patients + 1} patients in {folder} (cached for later runs)")
    started = time.perf_counter()
    build(folder, patients, say=say)
    (folder.parent / "complete").write_text(f"{time.perf_counter() - started:.0f} s\n")
    return folder


def build(folder: Path, patients: int, *, say=print) -> None:  # type: ignore[no-untyped-def]
    from kapdesk.local.demo import create_demo

    rng = random.Random(10)
    clock = SimulatedClock()
    span = dt.timedelta(days=365 * YEARS - 2)
    # Each patient's sessions a week or two apart, starting anywhere in the ten years.
    visits: list[tuple[dt.datetime, int]] = []
    for number in range(patients):
        first = clock.now + dt.timedelta(seconds=rng.uniform(0, span.total_seconds() * 0.97))
        when = first
        for _ in range(SESSIONS_EACH):
            day = when.replace(hour=9 + rng.randrange(6), minute=rng.choice((0, 15, 30, 45)))
            visits.append((min(day, END - dt.timedelta(days=2)), number))
            when += dt.timedelta(days=rng.randrange(6, 16))
    visits.sort()
    store = RecordStore.open(
        folder,
        passphrase=lambda _request: PASSPHRASE,
        use_keyring=False,
        create=True,
        clock=clock,
        anchor_mirror=state_folder(patients) / "kapdesk" / "anchors",
    )
    with store:
        ids: dict[int, uuid.UUID] = {}
        done = 0
        last_said = time.perf_counter()
        for start in range(0, len(visits), SESSIONS_PER_TRANSACTION):
            with store.grouped():
                for when, number in visits[start : start + SESSIONS_PER_TRANSACTION]:
                    clock.now = when - dt.timedelta(minutes=31)
                    if number not in ids:
                        ids[number] = store.add_patient(
                            patient_name(number),
                            date_of_birth=f"{1950 + number % 50}-{1 + number % 12:02d}-15",
                            record_number=f"MRN-{number:06d}",
                            weight_kg=55 + number % 40,
                        )
                    _session(store, clock, ids[number], when, rng)
            done += SESSIONS_PER_TRANSACTION
            if time.perf_counter() - last_said > 30:
                last_said = time.perf_counter()
                say(f"  {min(done, len(visits)):,} of {len(visits):,} sessions")
        clock.now = END
        create_demo(store, END)
        # The demo's running session ends too: the record is one of finished sessions.
        for session in store.open_sessions():
            clock.now = END + dt.timedelta(minutes=1)
            store.end_session(session["id"])


def _session(
    store: RecordStore,
    clock: SimulatedClock,
    patient: uuid.UUID,
    first_dose: dt.datetime,
    rng: random.Random,
) -> None:
    def at(minutes: float) -> dt.datetime:
        when = first_dose + dt.timedelta(minutes=minutes)
        clock.now = when + dt.timedelta(seconds=20)
        return when

    session = store.start_session(
        patient, protocol="SPRAVATO REMS", zone_name=ZONE, started_at=at(-30)
    )
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
    vitals_minutes = [-20, -8, *range(4, 129, 4)]
    notes = dict(zip(range(-15, 125, 12), NOTES, strict=False))
    scores = {40: ("moaas", [4]), 76: ("moaas", [4]), 100: ("moaas", [5]), 124: ("moaas", [5])}
    rems = {40: [1, 1, 0], 100: [0, 0, 0]}
    alert_at = 36
    for minute in sorted({*vitals_minutes, *notes, *scores, 0, 5}):
        if minute in (0, 5):
            store.add_dose(
                session,
                drug="esketamine",
                route="intranasal",
                mg=28,
                device_count=1,
                lot_number="LOT-2024-7",
                given_at=at(minute),
            )
        if minute in notes:
            text, tags = notes[minute]
            store.add_observation(session, text, tags=tags, observed_at=at(minute))
        if minute in vitals_minutes:
            rise = 0 if minute < 0 else 34 * pow(2.718, -(((minute - 40) / 32) ** 2))
            reading = {
                "systolic": round(126 + rise + rng.uniform(-3, 3)),
                "diastolic": round(80 + rise * 0.55 + rng.uniform(-2, 2)),
                "heart_rate": round(72 + rise * 0.3 + rng.uniform(-3, 3)),
                "spo2": 97 + rng.choice((0, 0, 1, -1)),
            }
            vitals = store.add_vitals(session, reading, taken_at=at(minute))
            if minute == alert_at:
                alert = store.add_session_event(
                    session,
                    "alert",
                    {
                        "level": "caution",
                        "rule": "bp_caution",
                        "reading": f"{reading['systolic']}/{reading['diastolic']}",
                        "reason": "blood pressure above 140/90",
                        "action": "Recheck in 5 minutes; stay with the patient.",
                        "vitals_id": str(vitals),
                        "taken_at": at(minute).isoformat(),
                    },
                    at=at(minute),
                )
                store.add_session_event(
                    session, "alert_ack", {"alert_id": str(alert)}, at=at(minute + 1)
                )
        if minute in scores:
            scale, answers = scores[minute]
            store.add_scale_score(session, scale, answers, scored_at=at(minute))
        if minute in rems:
            store.add_scale_score(session, "rems", rems[minute], scored_at=at(minute))
    store.add_session_event(
        session,
        "discharge",
        {
            "criteria": 6,
            "unmet": [],
            "confirmed": ["escort", "no_driving"],
            "override_reason": None,
            "ready_to_leave_minutes": 110,
            "rems": {},
        },
        at=at(130),
    )
    store.end_session(session, ended_at=at(131))


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else FULL_PATIENTS
    print(ensure_record(count))
