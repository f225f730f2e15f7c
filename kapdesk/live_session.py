"""One session in progress: the record and the rules combined for the workspace. No widgets.

Everything shown is derived from stored instants: the clocks are now minus the
stored start or first dose, so a suspended laptop or a restart cannot skew them.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from kapdesk.clinical.elapsed import describe_gap, format_t_plus
from kapdesk.clinical.entries import ROUTE_LABELS, Route
from kapdesk.clinical.notation import parse_vitals_line
from kapdesk.clinical.scales import REMS_CHECK_ID, REMS_QUESTIONS, SCALES
from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.clinical.vitals import describe_vitals
from kapdesk.store import RecordStore
from kapdesk.store.views import EntryView

Clock = Callable[[], dt.datetime]
LOG_KINDS = ("observation", "vitals", "dose", "scale_score")
SYSTEM_TAG = "kapdesk"  # notes kapdesk itself writes (resumption, clock jumps)
# Wall clock against monotonic: a difference beyond this is a sleep or a clock change.
CLOCK_JUMP_THRESHOLD = dt.timedelta(seconds=90)


@dataclass(frozen=True)
class LogEntry:
    kind: str
    id: uuid.UUID
    at: dt.datetime
    clock: str
    t_plus: str
    text: str
    original: str | None  # what the entry said before it was corrected
    reasons: tuple[str, ...]
    is_system: bool = False


@dataclass(frozen=True)
class ChartData:
    """Readings on a time axis of minutes from the first dose (or the start, before one)."""

    minutes: list[float]
    systolic: list[float]
    diastolic: list[float]
    heart_rate: list[float]
    mean_arterial: list[float]
    labels: list[str]
    dose_minutes: list[float]
    baseline: tuple[float, float] | None  # (systolic, diastolic) before the first dose


@dataclass(frozen=True)
class SessionSummary:
    duration: dt.timedelta
    doses: int
    total_mg: float
    readings: int
    highest_bp: tuple[int, int, str] | None  # systolic, diastolic, clock time


class LiveSession:
    def __init__(self, store: RecordStore, session_id: uuid.UUID, clock: Clock) -> None:
        self.store = store
        self.id = session_id
        self._now = clock
        self._entries: dict[tuple[str, uuid.UUID], EntryView] = {}
        for kind in LOG_KINDS:
            for view in store.entries(kind, session_id):
                self._entries[(kind, view.id)] = view
        self._stops = store.infusion_stops(session_id)
        self.events: list[dict[str, Any]] = store.session_events(session_id)
        self._clinicians = store.clinician_names()
        self._refresh_session()
        patient = next(p for p in store.patients() if p.id == self._session["patient_id"])
        self.patient_name: str = patient.current["display_name"]
        self.weight_kg: float | None = patient.current["weight_kg"]
        self._last_wall: dt.datetime | None = None
        self._last_mono: float | None = None

    # ------------------------------------------------------------- state

    def _refresh_session(self) -> None:
        self._session = self.store.session(self.id)
        self.zone = ZoneInfo(self._session["zone_name"])

    @property
    def protocol(self) -> str:
        return str(self._session["protocol"])

    @property
    def started_at(self) -> dt.datetime:
        return self._session["started_at"]  # type: ignore[no-any-return]

    @property
    def first_dose_at(self) -> dt.datetime | None:
        return self._session["first_dose_at"]  # type: ignore[no-any-return]

    @property
    def ended_at(self) -> dt.datetime | None:
        return self._session["ended_at"]  # type: ignore[no-any-return]

    def since_start(self) -> dt.timedelta:
        return (self.ended_at or self._now()) - self.started_at

    def since_first_dose(self) -> dt.timedelta | None:
        if self.first_dose_at is None:
            return None
        return (self.ended_at or self._now()) - self.first_dose_at

    def local_clock(self, at: dt.datetime) -> str:
        return at.astimezone(self.zone).strftime("%H:%M")

    # ------------------------------------------------------------ writes

    def add_observation(self, text: str, tags: Sequence[str] = ()) -> LogEntry:
        entry_id = self.store.add_observation(self.id, text, tags=tags)
        return self._cache("observation", entry_id)

    def add_vitals_line(self, line: str) -> LogEntry:
        """Store a reading typed as ``132/84 76 97``; ValidationError if it is malformed."""
        return self.add_vitals(parse_vitals_line(line))

    def add_vitals(self, values: Mapping[str, Any], *, source: str = "manual") -> LogEntry:
        entry_id = self.store.add_vitals(self.id, values, source=source)
        return self._cache("vitals", entry_id)

    def add_dose(
        self,
        *,
        drug: str,
        route: str,
        mg: float | str,
        lot_number: str | None = None,
        device_count: int | str | None = None,
    ) -> LogEntry:
        entry_id = self.store.add_dose(
            self.id,
            drug=drug,
            route=route,
            mg=mg,
            lot_number=lot_number,
            device_count=device_count,
        )
        self._refresh_session()
        return self._cache("dose", entry_id)

    def add_scale_score(self, scale_id: str, answers: Sequence[int]) -> LogEntry:
        entry_id = self.store.add_scale_score(self.id, scale_id, answers)
        return self._cache("scale_score", entry_id)

    def add_event(self, kind: str, payload: Mapping[str, Any]) -> LogEntry:
        """Record a session event (alert, acknowledgement, screening, decision)."""
        event_id = self.store.add_session_event(self.id, kind, payload)
        self.events = self.store.session_events(self.id)
        event = next(e for e in self.events if e["id"] == event_id)
        return self._event_entry(event)

    def clinician_name(self, clinician_id: uuid.UUID) -> str:
        if clinician_id not in self._clinicians:
            self._clinicians = self.store.clinician_names()
        return self._clinicians.get(clinician_id, "unknown")

    def running_infusions(self) -> list[uuid.UUID]:
        return [
            key[1]
            for key, view in self._entries.items()
            if key[0] == "dose" and view.current["route"] == Route.IV and key[1] not in self._stops
        ]

    def stop_infusion(self, dose_id: uuid.UUID) -> LogEntry:
        self.store.stop_infusion(dose_id)
        self._stops = self.store.infusion_stops(self.id)
        return self._cache("dose", dose_id)

    def correct(
        self, kind: str, entry_id: uuid.UUID, changes: Mapping[str, Any], reason: str
    ) -> LogEntry:
        self.store.correct(kind, entry_id, changes, reason=reason)
        return self._cache(kind, entry_id)

    def end(self) -> SessionSummary:
        self.store.end_session(self.id)
        self._refresh_session()
        return self.summary()

    def note_resumption(self) -> LogEntry:
        """Write the gap since the last entry into the log when a session is picked up again."""
        last = self.store.last_activity(self.id)
        now = self._now()
        text = (
            f"Session resumed in kapdesk at {self.local_clock(now)}; nothing was recorded "
            f"between {self.local_clock(last)} and {self.local_clock(now)} "
            f"(gap {describe_gap(now - last)})."
        )
        return self.add_observation(text, [SYSTEM_TAG])

    def check_clock(self, wall: dt.datetime, monotonic: float) -> LogEntry | None:
        """Note in the log when the wall clock moved unlike the monotonic clock."""
        previous_wall, previous_mono = self._last_wall, self._last_mono
        self._last_wall, self._last_mono = wall, monotonic
        if previous_wall is None or previous_mono is None:
            return None
        drift = (wall - previous_wall) - dt.timedelta(seconds=monotonic - previous_mono)
        if abs(drift) < CLOCK_JUMP_THRESHOLD:
            return None
        direction = "ahead" if drift > dt.timedelta(0) else "back"
        return self.add_observation(
            f"The computer's clock moved {describe_gap(abs(drift))} {direction} of kapdesk's "
            "timer (the laptop slept, or its clock was changed). The session clocks follow "
            "the stored start, so they remain right.",
            [SYSTEM_TAG],
        )

    # ------------------------------------------------------------- reads

    def log(self) -> list[LogEntry]:
        """Every entry, newest first by clinical time."""
        entries = [self._log_entry(kind, view) for (kind, _), view in self._entries.items()]
        entries += [self._event_entry(event) for event in self.events]
        return sorted(entries, key=lambda e: e.at, reverse=True)

    def _event_entry(self, event: Mapping[str, Any]) -> LogEntry:
        return LogEntry(
            kind="event",
            id=event["id"],
            at=event["at"],
            clock=self.local_clock(event["at"]),
            t_plus=format_t_plus(event["at"], self.first_dose_at),
            text=describe_event(event, self.clinician_name(event["recorded_by"])),
            original=None,
            reasons=(),
            is_system=True,
        )

    def views(self, kind: str) -> list[EntryView]:
        """This session's entries of one kind, with their corrections applied."""
        return [view for (k, _), view in self._entries.items() if k == kind]

    def now(self) -> dt.datetime:
        return self._now()

    def entry(self, kind: str, entry_id: uuid.UUID) -> EntryView:
        return self._entries[(kind, entry_id)]

    def chart(self) -> ChartData:
        readings = sorted(
            (v for (k, _), v in self._entries.items() if k == "vitals"),
            key=lambda v: v.current["taken_at"],
        )
        origin = self.first_dose_at or self.started_at
        data = ChartData([], [], [], [], [], [], [], self.baseline())
        for view in readings:
            values = view.current
            at = values["taken_at"]
            data.minutes.append((at - origin).total_seconds() / 60)
            for series, name in (
                (data.systolic, "systolic"),
                (data.diastolic, "diastolic"),
                (data.heart_rate, "heart_rate"),
            ):
                value = values[name]
                series.append(math.nan if value is None else float(value))
            systolic, diastolic = values["systolic"], values["diastolic"]
            data.mean_arterial.append(
                math.nan if systolic is None else diastolic + (systolic - diastolic) / 3
            )
            data.labels.append(f"{self.local_clock(at)}  {format_t_plus(at, self.first_dose_at)}")
        for (kind, _), view in self._entries.items():
            if kind == "dose":
                data.dose_minutes.append((view.current["given_at"] - origin).total_seconds() / 60)
        return data

    def baseline(self) -> tuple[float, float] | None:
        """The pre-dose baseline: the mean of the BP readings before the first dose."""
        first = self.first_dose_at
        if first is None:
            return None
        pre = [
            v.current
            for v in self.views("vitals")
            if v.current["systolic"] is not None and v.current["taken_at"] < first
        ]
        if not pre:
            return None
        return (
            sum(c["systolic"] for c in pre) / len(pre),
            sum(c["diastolic"] for c in pre) / len(pre),
        )

    def infusion_times(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """When IV infusion first started, and (once all have stopped) when the last stopped."""
        ivs = [v for v in self.views("dose") if v.current["route"] == Route.IV]
        start = min((v.current["given_at"] for v in ivs), default=None)
        stopped = len(self._stops) == len(ivs) and bool(ivs)
        return start, max(self._stops.values()) if stopped else None

    def summary(self) -> SessionSummary:
        doses = [v for (k, _), v in self._entries.items() if k == "dose"]
        readings = [v for (k, _), v in self._entries.items() if k == "vitals"]
        highest = max(
            (r for r in readings if r.current["systolic"] is not None),
            key=lambda r: (r.current["systolic"], r.current["diastolic"]),
            default=None,
        )
        return SessionSummary(
            duration=self.since_start(),
            doses=len(doses),
            total_mg=sum(d.current["mg"] for d in doses),
            readings=len(readings),
            highest_bp=None
            if highest is None
            else (
                highest.current["systolic"],
                highest.current["diastolic"],
                self.local_clock(highest.current["taken_at"]),
            ),
        )

    # --------------------------------------------------------- internals

    def _cache(self, kind: str, entry_id: uuid.UUID) -> LogEntry:
        view = self.store.entry(kind, entry_id)
        self._entries[(kind, entry_id)] = view
        return self._log_entry(kind, view)

    def _log_entry(self, kind: str, view: EntryView) -> LogEntry:
        at = view.current[_TIME_FIELD[kind]]
        describe = _DESCRIBE[kind]
        current = describe(self, view.id, view.current)
        original = describe(self, view.id, view.original) if view.is_corrected else None
        tags = view.current.get("tags") or []
        return LogEntry(
            kind=kind,
            id=view.id,
            at=at,
            clock=self.local_clock(at),
            t_plus=format_t_plus(at, self.first_dose_at),
            text=current,
            original=original if original != current else None,
            reasons=tuple(c.reason for c in view.corrections),
            is_system=kind == "observation" and SYSTEM_TAG in tags,
        )

    def _describe_vitals(self, _id: uuid.UUID, values: Mapping[str, Any]) -> str:
        return describe_vitals(values)

    def _describe_observation(self, _id: uuid.UUID, values: Mapping[str, Any]) -> str:
        tags = [t for t in values["tags"] if t != SYSTEM_TAG]
        prefix = f"[{', '.join(tags)}] " if tags else ""
        return f"{prefix}{values['text']}".strip()

    def _describe_scale(self, _id: uuid.UUID, values: Mapping[str, Any]) -> str:
        return describe_scale(values["scale_id"], values["answers"])

    def _describe_dose(self, dose_id: uuid.UUID, values: Mapping[str, Any]) -> str:
        route = ROUTE_LABELS[Route(values["route"])]
        parts = [f"{values['drug'].capitalize()} {values['mg']:g} mg, {route}"]
        if self.weight_kg:
            parts.append(f"{values['mg'] / self.weight_kg:.2f} mg/kg")
        if values["device_count"]:
            parts.append(f"{values['device_count']} device{'s' * (values['device_count'] > 1)}")
        if values["lot_number"]:
            parts.append(f"lot {values['lot_number']}")
        if values["route"] == Route.IV:
            stopped = self._stops.get(dose_id)
            parts.append(f"stopped {self.local_clock(stopped)}" if stopped else "infusion running")
        return " · ".join(parts)


def describe_scale(scale_id: str, answers: Sequence[int]) -> str:
    if scale_id == REMS_CHECK_ID:
        parts = [
            f"{question.lower()} {'yes' if answer else 'no'}"
            for question, answer in zip(REMS_QUESTIONS, answers, strict=False)
        ]
        return "REMS check: " + ", ".join(parts)
    scale = SCALES.get(scale_id)
    if scale is None or not answers:
        return f"{scale_id}: {list(answers)}"
    return scale.label(answers[0])


def describe_event(event: Mapping[str, Any], who: str) -> str:
    payload = event["payload"]
    kind = event["kind"]
    if kind == "alert":
        # The suggested action is in the banner and the stored event; the log says the finding.
        return f"{payload['level'].upper()} alert: {payload['reason']}"
    if kind == "alert_ack":
        return f"Alert acknowledged by {who}."
    if kind == "dose_caution_ack":
        return f"Pre-dose caution acknowledged by {who}: {payload['reason']}"
    if kind == "screening":
        yes = [CONTRAINDICATIONS.get(k, k) for k, v in payload["contraindications"].items() if v]
        meds = [MEDICINES.get(k, k) for k, v in payload["medicines"].items() if v]
        text = "Screening: " + (
            ("contraindication or caution: " + ", ".join(yes)) if yes else "no contraindications"
        )
        if meds:
            text += "; concomitant: " + ", ".join(meds)
        if payload.get("decision"):
            text += f". Decision by {who}: {payload['decision']}"
        return text + "."
    if kind == "discharge":
        if payload.get("override_reason"):
            return (
                f"Session ended by {who} with criteria unmet ({', '.join(payload['unmet'])}): "
                f"{payload['override_reason']}"
            )
        return f"Discharge criteria met; session ended by {who}."
    return kind


_TIME_FIELD = {
    "observation": "observed_at",
    "vitals": "taken_at",
    "dose": "given_at",
    "scale_score": "scored_at",
}
_DESCRIBE: dict[str, Callable[[LiveSession, uuid.UUID, Mapping[str, Any]], str]] = {
    "observation": LiveSession._describe_observation,
    "vitals": LiveSession._describe_vitals,
    "dose": LiveSession._describe_dose,
    "scale_score": LiveSession._describe_scale,
}
