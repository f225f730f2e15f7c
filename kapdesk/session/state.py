"""What the record holds for one session, typed and kept in step with each write.

Read from the store once when a session opens; after that each write puts its
own entry, so nothing re-reads the whole session.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.entries import Route
from kapdesk.clinical.instants import to_micros
from kapdesk.clinical.schedule import RecordedTimes
from kapdesk.clinical.vitals import VitalsReading
from kapdesk.local.memory import return_freed_heap
from kapdesk.session.entries import (
    TIME_FIELD,
    Stored,
    StoredDose,
    StoredObservation,
    StoredScore,
    StoredVitals,
    from_row,
    typed,
)
from kapdesk.session.readings import Readings
from kapdesk.store import RecordStore

ENTRY_KINDS = tuple(TIME_FIELD)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A stored session event: screening, alert, acknowledgement, decision, discharge."""

    id: uuid.UUID
    kind: str
    at: dt.datetime
    payload: Mapping[str, Any]
    recorded_by: uuid.UUID


# Readings past which opening a session hands back what reading them took (a 1 Hz
# monitor's first ~15 minutes): see SessionState.__init__.
MANY_READINGS = 1000


class SessionState:
    _dose_in_error = False  # a dose marked entered in error (never unmarked): first_dose_at

    def __init__(
        self,
        store: RecordStore,
        session_id: uuid.UUID,
        thresholds: AlertThresholds | None = None,
    ) -> None:
        self.store = store
        self.id = session_id
        # The urgent BP (systolic, diastolic) a pre-dose reading is left out of the baseline
        # at: the clinic's thresholds, CLINICAL.md's by default.
        limits = thresholds or AlertThresholds()
        self.urgent_bp = (limits.urgent_systolic, limits.urgent_diastolic)
        # Every kind but the readings: a few hundred entries in the longest session.
        self._entries: dict[str, dict[uuid.UUID, Stored]] = {
            kind: {} for kind in ENTRY_KINDS if kind != "vitals"
        }
        self._kind_of: dict[uuid.UUID, str] = {}
        # The readings, as columns in clinical-time order (session/readings.py): the chart,
        # the schedule and the alert rules walk them in that order.
        self._readings = Readings()
        # When each vital sign and scale was recorded, for the due checks (clinical/schedule.py).
        self.recorded = RecordedTimes()
        with _collection_paused():
            for kind in ENTRY_KINDS:
                if kind == "vitals":
                    self._load_readings(store)
                    continue
                rows, corrected = store.entry_rows(kind, session_id)
                self._load(
                    [
                        typed(kind, store.entry(kind, row.id))
                        if row.id in corrected
                        else from_row(kind, row)
                        for row in rows
                    ]
                )
        if len(self._readings) >= MANY_READINGS:
            # A long session's read filled SQLite's page caches and freed as much heap as
            # it keeps (the columns read, numpy's working arrays): both handed back
            # (issue 10, memory after six hours). Not for a short session: the cache
            # serves the next patient opened.
            store.release_memory()
            return_freed_heap()
        self.events: list[SessionEvent] = []
        self._from_events: dict[str, tuple[int, Any]] = {}
        self._events_by_id: dict[uuid.UUID, SessionEvent] = {}
        for stored_event in store.session_events(session_id):
            self.put_event(stored_event)
        self.stops: dict[uuid.UUID, dt.datetime] = store.infusion_stops(session_id)
        self._clinicians = store.clinician_names()
        self._signed = store.account_names()
        self.reload_session()
        patient = store.entry("patient", self.row["patient_id"])
        self.patient_name: str = patient.current["display_name"]
        self.weight_kg: float | None = patient.current["weight_kg"]

    # ------------------------------------------------------------- the session row

    def reload_session(self) -> None:
        self.row = self.store.session(self.id)
        self.zone = ZoneInfo(self.row["zone_name"])

    @property
    def protocol(self) -> str:
        return str(self.row["protocol"])

    @property
    def started_at(self) -> dt.datetime:
        return self.row["started_at"]  # type: ignore[no-any-return]

    @property
    def first_dose_at(self) -> dt.datetime | None:
        """T0: the first dose given. The record sets it once, at the first dose recorded;
        should that dose be marked entered in error, the first dose given since is T0
        (None before one): the minimum observation after dosing ran from a dose never
        given, up to the real dose's wait too short."""
        first: dt.datetime | None = self.row["first_dose_at"]
        if first is None or not self._dose_in_error:  # asked many times an entry: kept
            return first
        given = self.doses()
        return given[0].at if given else None

    @property
    def ended_at(self) -> dt.datetime | None:
        return self.row["ended_at"]  # type: ignore[no-any-return]

    def local_clock(self, at: dt.datetime) -> str:
        return at.astimezone(self.zone).strftime("%H:%M")

    def clinician_name(self, clinician_id: uuid.UUID) -> str:
        if clinician_id not in self._clinicians:
            self._clinicians = self.store.clinician_names()
            self._signed = self.store.account_names()
        return self._clinicians.get(clinician_id, "unknown")

    def signed_name(self, clinician_id: uuid.UUID) -> str:
        """The name an entry is signed with in the log: an account holder's ("Ana Ruiz,
        MD"); "" for the login an entry was made under before the record had accounts."""
        if clinician_id not in self._clinicians:
            self.clinician_name(clinician_id)  # an account added since the session opened
        return self._signed.get(clinician_id, "")

    # ----------------------------------------------------------------- entries

    def _load_readings(self, store: RecordStore) -> None:
        columns, corrected = store.vitals_table(self.id)
        self._readings.load(
            columns,
            [
                typed("vitals", store.entry("vitals", uuid.UUID(entry_id)))  # type: ignore[misc]
                for entry_id in sorted(corrected)
            ],
        )
        for item, times in self._readings.item_times().items():
            self.recorded.extend_micros(item, times, in_order=True)

    def _load(self, entries: list[Stored]) -> None:
        """Entries of one kind (not readings) as read, in the order recorded."""
        self.recorded.extend((entry.at, _items(entry)) for entry in entries)
        for entry in entries:
            self._entries[entry.kind][entry.id] = entry
            self._kind_of[entry.id] = entry.kind
            if isinstance(entry, StoredDose) and entry.content.entered_in_error:
                self._dose_in_error = True

    def put(self, entry: Stored) -> None:
        """Add a new entry or replace a corrected one."""
        previous: Stored | None
        if isinstance(entry, StoredVitals):
            previous = self._readings.put(entry)
        else:
            previous = self._entries[entry.kind].get(entry.id)
            self._entries[entry.kind][entry.id] = entry
            self._kind_of[entry.id] = entry.kind
            if isinstance(entry, StoredDose) and entry.content.entered_in_error:
                self._dose_in_error = True
        if previous is not None:
            self.recorded.remove(previous.at, _items(previous))
        self.recorded.add(entry.at, _items(entry))

    def add_new(self, kind: str, entry_id: uuid.UUID) -> Stored:
        """An entry just written (never corrected yet), read back as stored."""
        entry = from_row(kind, self.store.new_entry_row(kind, entry_id))
        self.put(entry)
        return entry

    def reload(self, kind: str, entry_id: uuid.UUID) -> Stored:
        entry = typed(kind, self.store.entry(kind, entry_id))
        self.put(entry)
        return entry

    def entry(self, kind: str, entry_id: uuid.UUID | str) -> Stored:
        if kind == "vitals":
            return self._readings.get(entry_id)
        return self._entries[kind][_as_uuid(entry_id)]

    def kind_of(self, entry_id: uuid.UUID | str) -> str | None:
        """The kind of the entry with this id, "event" for a session event, None if neither."""
        if self._readings.has(entry_id):
            return "vitals"
        entry_id = _as_uuid(entry_id)
        if entry_id in self._events_by_id:
            return "event"
        return self._kind_of.get(entry_id)

    def event(self, event_id: uuid.UUID | str) -> SessionEvent:
        return self._events_by_id[_as_uuid(event_id)]

    def all_entries(self) -> Iterator[Stored]:
        """Every entry, each kind in the order kept (the readings made one by one: for a
        report or an export, not for what a tick or an entry does)."""
        for kind in ENTRY_KINDS:
            if kind == "vitals":
                yield from self._readings
            else:
                yield from self._entries[kind].values()

    def log_rows(self) -> tuple[list[int], list[uuid.UUID | str]]:
        """Every entry's instant (microseconds since the epoch) and id, each kind in the
        order kept: two columns, the readings' straight from theirs (ids as text)."""
        instants: list[int] = []
        ids: list[uuid.UUID | str] = []
        for kind in ENTRY_KINDS:
            if kind == "vitals":
                instants += self._readings.micros()
                ids += self._readings.ids()
            else:
                entries = self._entries[kind].values()
                instants += (to_micros(e.at) for e in entries)
                ids += (e.id for e in entries)
        return instants, ids

    def recorders(self) -> set[uuid.UUID]:
        """Everyone who recorded an entry of this session (not the corrections)."""
        found = self._readings.recorders()
        for entries in self._entries.values():
            found.update(entry.recorded_by for entry in entries.values())
        return found

    def readings(self) -> Readings:
        """Every vitals reading, oldest first by the time it was taken (made into a
        StoredVitals only when one is looked at)."""
        return self._readings

    def reading_before(self, stored: StoredVitals) -> StoredVitals | None:
        """The reading taken just before this one, if any (a binary search, not a scan)."""
        at = self._readings.index_of(stored.id)
        return self._readings[at - 1] if at else None

    def reading_after(self, stored: StoredVitals) -> StoredVitals | None:
        at = self._readings.index_of(stored.id) + 1
        return self._readings[at] if at < len(self._readings) else None

    def doses(self, *, entered_in_error: bool = False) -> list[StoredDose]:
        """The doses given, in the order given; those marked entered in error (never
        given: the log shows them struck through) only if asked for."""
        doses: list[StoredDose] = list(self._entries["dose"].values())  # type: ignore[arg-type]
        return sorted(
            (d for d in doses if entered_in_error or not d.content.entered_in_error), key=_at
        )

    def observations(self) -> list[StoredObservation]:
        return list(self._entries["observation"].values())  # type: ignore[arg-type]

    def scores(self) -> list[StoredScore]:
        return sorted(self._entries["scale_score"].values(), key=_at)  # type: ignore[arg-type]

    def pre_dose_values(self) -> list[VitalsReading]:
        """The values of the readings taken before the first dose (all, before one)."""
        first = self.first_dose_at
        readings = self._readings
        end = len(readings) if first is None else readings.first_at_or_after(first)
        return [readings.reading_at(i) for i in range(end)]

    def baseline(self) -> tuple[float, float] | None:
        """The pre-dose baseline: the mean of the BP readings before the first dose,
        leaving out those at the urgent level (``urgent_bp``) when any other was taken. An
        urgent pre-dose reading calls for a recheck; it is not the patient's baseline. Xvfb
        QA: 182/112 and a mistyped 300/20 before 138/86 made the baseline 207/73, and 179/95
        after the dose, +41 over the reading the clinician dosed on, raised no rise alert;
        the discharge criterion then counted 150/92 as "within 20 of baseline"."""
        if self.first_dose_at is None:
            return None
        readings = self._readings
        pre = list(readings.with_bp(readings.first_at_or_after(self.first_dose_at)))
        if not pre:
            return None
        systolic, diastolic = readings.column("systolic"), readings.column("diastolic")
        urgent_systolic, urgent_diastolic = self.urgent_bp
        settled = [
            i for i in pre if systolic[i] < urgent_systolic and diastolic[i] < urgent_diastolic
        ]
        used = settled or pre
        return (
            sum(systolic[i] for i in used) / len(used),
            sum(diastolic[i] for i in used) / len(used),
        )

    # -------------------------------------------------------------- infusions

    def running_infusions(self) -> list[uuid.UUID]:
        return [
            dose.id
            for dose in self.doses()
            if dose.content.route is Route.IV and dose.id not in self.stops
        ]

    def infusion_times(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """When IV infusion first started, and (once all have stopped) when the last stopped."""
        ivs = [d for d in self.doses() if d.content.route is Route.IV]
        start = min((d.at for d in ivs), default=None)
        stopped = bool(ivs) and all(d.id in self.stops for d in ivs)
        return start, max(self.stops.values()) if stopped else None

    # ------------------------------------------------------------------ events

    def put_event(self, event: Mapping[str, Any]) -> SessionEvent:
        stored = _event(event)
        self.events.append(stored)
        self._events_by_id[stored.id] = stored
        return stored

    def events_of(self, kind: str) -> list[SessionEvent]:
        return [e for e in self.events if e.kind == kind]

    def from_events(self, name: str, make: Callable[[SessionState], T]) -> T:
        """``make(self)``, a value made from the events alone, kept until another event is
        stored (they are only ever added)."""
        kept = self._from_events.get(name)
        if kept is None or kept[0] != len(self.events):
            kept = self._from_events[name] = (len(self.events), make(self))
        return kept[1]


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """No garbage collection while a session is read: its tens of thousands of new
    objects set off collections that walk every object alive, a quarter of the time to
    open a long session (issue 10). Reading makes no reference cycles to collect."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _items(entry: Stored) -> frozenset[str]:
    """What an entry holds as the due checks see it: vital signs taken, or a scale."""
    if isinstance(entry, StoredVitals):
        return entry.reading.items
    if isinstance(entry, StoredScore):
        return frozenset({entry.content.scale_id})
    return frozenset()


def _at(entry: Stored) -> dt.datetime:
    return entry.at


def _as_uuid(entry_id: uuid.UUID | str) -> uuid.UUID:
    """An id as the log may hand it back: a reading's as the text of its column."""
    return entry_id if isinstance(entry_id, uuid.UUID) else uuid.UUID(entry_id)


def _event(event: Mapping[str, Any]) -> SessionEvent:
    return SessionEvent(
        id=event["id"],
        kind=event["kind"],
        at=event["at"],
        payload=event["payload"],
        recorded_by=event["recorded_by"],
    )
