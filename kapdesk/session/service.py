"""One session in progress: each clinical act is one call that stores, applies the rules and
tells the listeners what changed. No widgets.

Everything shown is derived from stored instants: the clocks are now minus the
stored start or first dose, so a suspended laptop or a restart cannot skew them.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.discharge import DischargeItem
from kapdesk.clinical.elapsed import describe_gap
from kapdesk.clinical.entries import (
    ROUTE_LABELS,
    Route,
    UnusualDose,
    clean_text,
    instant_of_clock,
    unusual_dose,
    validate_dose,
)
from kapdesk.clinical.instants import to_micros
from kapdesk.clinical.notation import parse_vitals_line, split_clock_time
from kapdesk.clinical.protocols import Protocol
from kapdesk.clinical.scales import REMS_CHECK_ID, SCALES, emergency_sign
from kapdesk.clinical.schedule import CheckStatus, State, unmet_needs
from kapdesk.clinical.vitals import (
    UnusualReading,
    ValidationError,
    unusual_reading,
    validate_vitals,
)
from kapdesk.session import alerting, checks, discharge, dosing
from kapdesk.session.alerting import StoredAlert
from kapdesk.session.chart_series import ChartData, chart_data, scale_points
from kapdesk.session.discharge import SessionSummary
from kapdesk.session.dosing import DoseGate
from kapdesk.session.entries import (
    CLOCK_TIME,
    ENTERED_IN_ERROR,
    FIELD_LABELS,
    TIME_FIELD,
    TIMED_KINDS,
    Dose,
    Score,
    Stored,
    StoredVitals,
    typed,
)
from kapdesk.session.events import SessionEvents
from kapdesk.session.protocols import NO_PROTOCOL
from kapdesk.session.state import ENTRY_KINDS, SessionState
from kapdesk.session.wording import SYSTEM_TAG, LogEntry, event_entry, event_instant, log_entry
from kapdesk.store import RecordStore
from kapdesk.store.errors import ImmutableError

Clock = Callable[[], dt.datetime]
# Wall clock against monotonic: a difference beyond this is a sleep or a clock change.
CLOCK_JUMP_THRESHOLD = dt.timedelta(seconds=90)
# How far behind the session's start (or first dose) the clock may be before entries are
# refused: a clock corrected by a few seconds is not a clock set back.
CLOCK_SLACK = dt.timedelta(minutes=1)
# How far back the dose form looks for the patient's previous dose by the protocol's route.
PREVIOUS_SESSIONS_LOOKED_AT = 12
# A dose marked entered in error is kept as it was (store/views.py, ENTERED_IN_ERROR).
DOSE_IN_ERROR_KEPT = (
    "This dose is marked entered in error and stays as it is. A dose given is recorded "
    "anew (Ctrl+D)."
)


def _first(row: tuple[int, object]) -> int:
    return row[0]


@dataclass(frozen=True)
class Outcome:
    """What one act did: its entry in the log, and the alerts it raised or withdrew."""

    entry: LogEntry
    alerts: tuple[LogEntry, ...] = ()
    notice: str = ""  # what else changed, to be said (the pre-dose baseline moved)


class SessionService:
    def __init__(
        self,
        store: RecordStore,
        session_id: uuid.UUID,
        *,
        clock: Clock,
        protocol: Protocol | None,
        thresholds: AlertThresholds | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.thresholds = thresholds or AlertThresholds()
        self.state = SessionState(store, session_id, self.thresholds)
        self.protocol = protocol
        self.events = SessionEvents()
        self._now = clock
        self.monotonic = monotonic  # seconds: the wall clock's check, the views' short waits
        self._last_clocks: tuple[dt.datetime, float] | None = None
        self._chart: ChartData | None = None

    # ------------------------------------------------------------------ reads

    @property
    def id(self) -> uuid.UUID:
        return self.state.id

    @property
    def patient_name(self) -> str:
        return self.state.patient_name

    @property
    def weight_kg(self) -> float | None:
        return self.state.weight_kg

    @property
    def protocol_name(self) -> str:
        return self.state.protocol

    def esketamine_session(self) -> bool:
        """An esketamine (SPRAVATO) session: a dose of it given, or a protocol for it (an
        intranasal route, or the REMS protocol named). What the REMS form and its "ready
        to leave" question are for."""
        return (
            any(dose.content.drug == "esketamine" for dose in self.state.doses())
            or (self.protocol is not None and self.protocol.route == "intranasal")
            or "REMS" in self.protocol_name
        )

    NOT_REMS = (
        "The REMS Patient Monitoring Form is for esketamine (SPRAVATO) sessions, and this "
        "session has no esketamine dose and no esketamine protocol; nothing was saved. The "
        "session report holds its record"  # each caller says how to make one
    )

    @property
    def started_at(self) -> dt.datetime:
        return self.state.started_at

    @property
    def first_dose_at(self) -> dt.datetime | None:
        return self.state.first_dose_at

    @property
    def ended_at(self) -> dt.datetime | None:
        return self.state.ended_at

    def now(self) -> dt.datetime:
        return self._now()

    def since_start(self) -> dt.timedelta:
        return (self.ended_at or self._now()) - self.started_at

    def since_first_dose(self) -> dt.timedelta | None:
        if self.first_dose_at is None:
            return None
        return (self.ended_at or self._now()) - self.first_dose_at

    def local_clock(self, at: dt.datetime) -> str:
        return self.state.local_clock(at)

    def corrections_of(self, kind: str, entry_id: uuid.UUID) -> list[str]:
        """Each correction of an entry, oldest first: when, by whom, what it set and why.
        The log shows the first wording struck through and the reasons; an entry corrected
        twice lost its middle version and both times there (QA: 600, then 60, then 990 mg
        read "600 struck, 990", the 60 that stood between said nowhere)."""
        if kind not in ENTRY_KINDS:
            return []
        names = self.store.clinician_names()
        said = []
        for correction in self.store.entry(kind, entry_id).corrections:
            # Every field it set (a dose's drug and route too), but a score's total, which
            # follows from its answers.
            changed = ", ".join(
                f"{FIELD_LABELS.get(name) or name.replace('_', ' ').capitalize()}: "
                f"{self._value_words(name, value)}"
                for name, value in correction.changes.items()
                if name != "total"
            )
            said.append(
                f"{self.local_clock(correction.recorded_at)} by "
                f"{names.get(correction.recorded_by, '?')}: {changed or 'changed'}; reason: "
                f"{correction.reason}"
            )
        return said

    def _value_words(self, name: str, value: Any) -> str:
        if name == ENTERED_IN_ERROR:
            return "never given"
        if value is None:
            return "none"
        if name == "route":
            return ROUTE_LABELS[Route(value)]
        if isinstance(value, dt.datetime):
            return self.local_clock(value)
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value) or "none"
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    def log(self) -> list[LogEntry]:
        """Every entry and kapdesk's own lines, newest first by clinical time (the log
        view makes them a row at a time from ``log_rows`` and ``describe``)."""
        # Of one instant, the line written last first, as the log view places them.
        rows = sorted(reversed(list(zip(*self.log_rows(), strict=True))), reverse=True, key=_first)
        return [self.describe(entry_id) for _at, entry_id in rows]

    def log_rows(self) -> tuple[list[int], list[uuid.UUID | str]]:
        """The instant (microseconds since the epoch) and id of every line of the log, as
        two columns in the order written (entries, then kapdesk's lines, each in the order
        recorded): what the log needs to place its rows; the words come from ``describe``
        when a row is shown. A reading's id is the text of its column (session/readings.py).
        """
        instants, ids = self.state.log_rows()
        for event in self.state.events:
            instants.append(to_micros(event_instant(event)))
            ids.append(event.id)
        return instants, ids

    def describe(self, entry_id: uuid.UUID | str) -> LogEntry:
        """The log line of an entry or event of this session."""
        kind = self.state.kind_of(entry_id)
        if kind is None:
            raise KeyError(entry_id)
        if kind == "event":
            return event_entry(self.state, self.state.event(entry_id))
        return log_entry(self.state, self.state.entry(kind, entry_id))

    def entry(self, kind: str, entry_id: uuid.UUID) -> Stored:
        return self.state.entry(kind, entry_id)

    def chart(self) -> ChartData:
        """The chart's readings: built once, then extended by each newest reading."""
        if self._chart is None:
            self._chart = chart_data(self.state)
        return self._chart

    def scale_points(self) -> list[tuple[float, str, int]]:
        return scale_points(self.state)

    def alerts(self) -> list[StoredAlert]:
        return alerting.alerts(self.state)

    def open_alerts(self) -> list[StoredAlert]:
        return alerting.open_alerts(self.state)

    def screening(self) -> Mapping[str, Any] | None:
        return dosing.screening(self.state)

    def intention(self) -> str:
        """The patient's intention for this session, in their words: the latest stated
        (issue 13), else the one written at screening; "" when none was recorded."""
        stated = self.state.events_of("intention")
        if stated:
            return str(stated[-1].payload["text"])
        return str((self.screening() or {}).get("intention") or "")

    def dose_gate(self) -> DoseGate:
        return dosing.dose_gate(self.state, self.thresholds)

    def dose_defaults(self) -> dosing.DoseDefaults:
        """What the dose form starts with: the protocol's drug and route, then the amount of
        the patient's previous dose by that route (this session's, then earlier sessions',
        looking back at most PREVIOUS_SESSIONS_LOOKED_AT sessions)."""
        route = self.protocol.route if self.protocol else None
        previous: list[Dose] = [d.content for d in reversed(self.state.doses())]
        earlier = [
            s for s in self.store.sessions(self.state.row["patient_id"]) if s["id"] != self.id
        ]
        for session in earlier[:PREVIOUS_SESSIONS_LOOKED_AT]:
            if any(route is None or d.route == route for d in previous):
                break
            views = self.store.entries("dose", session["id"])
            given = [typed("dose", v).content for v in reversed(views)]
            previous += [d for d in given if isinstance(d, Dose) and not d.entered_in_error]
        return dosing.dose_defaults(self.protocol, previous)

    def running_infusions(self) -> list[uuid.UUID]:
        return self.state.running_infusions()

    def infusion_words(self, dose_id: uuid.UUID) -> str:
        """An infusion as the screen names it: "of 35 mg started 09:00"."""
        dose = self.state.entry("dose", dose_id)
        mg = dose.content.mg if isinstance(dose.content, Dose) else 0
        return f"of {mg:g} mg started {self.local_clock(dose.at)}"

    @property
    def protocol_label(self) -> str:
        """The protocol as the header names it."""
        return "no protocol" if self.protocol_name == NO_PROTOCOL else self.protocol_name

    def statuses(self) -> list[CheckStatus]:
        return checks.statuses(self.state, self.protocol, self._now())

    def next_check(self) -> tuple[str, State | None]:
        return checks.next_check_text(self.state, self.protocol, self._now())

    def discharge_items(self, confirmed: frozenset[str] = frozenset()) -> list[DischargeItem]:
        return discharge.discharge_items(
            self.state, self.protocol, self.thresholds, self._now(), confirmed
        )

    def summary(self) -> SessionSummary:
        return discharge.summary(self.state, self._now())

    def sedation_not_resolved(self) -> list[str]:
        return discharge.sedation_not_resolved(self.state)

    def breathing_slow(self) -> str | None:
        return discharge.breathing_slow(self.state, self.thresholds)

    def rems_summary(self) -> dict[str, Any]:
        return discharge.rems_summary(self.state, self.thresholds, self._now())

    # ----------------------------------------------------------- the acts

    def record_observation(self, text: str, tags: Sequence[str] = ()) -> LogEntry:
        self._refuse_if_ended()
        entry_id = self.store.add_observation(self.id, text, tags=tags)
        return self._added("observation", entry_id)

    def record_vitals_line(
        self, line: str, *, source: str = "manual", unusual_confirmed: bool = False
    ) -> Outcome:
        """Store a reading typed as ``132/84 76 97`` (``at 10:05``: taken then, not now),
        apply the alert rules, tell the views."""
        rest, clock = split_clock_time(line)
        values = parse_vitals_line(rest)
        return self.record_vitals(
            values,
            source=source,
            unusual_confirmed=unusual_confirmed,
            taken_at=None if clock is None else self.instant_of(clock),
        )

    def record_vitals_fields(
        self,
        values: Mapping[str, Any],
        clock: str | None = None,
        *,
        unusual_confirmed: bool = False,
    ) -> Outcome:
        """A reading typed value by value; ``clock``: the time it was taken (``10:05``),
        if before now, as ``at 10:05`` on the line."""
        return self.record_vitals(
            values,
            unusual_confirmed=unusual_confirmed,
            taken_at=None if clock is None else self.instant_of(clock),
        )

    def instant_of(self, clock: str) -> dt.datetime:
        """The instant a clock time typed for this session names (``10:05``): within the
        session, in its zone; ValidationError otherwise (clinical/entries.instant_of_clock).
        Not the minute of the first dose: a reading then is before or after it, and which
        decides the pre-dose baseline (Xvfb QA: 15:51 for a dose at 15:51:29 made a
        post-dose reading part of the baseline, unsaid)."""
        at = instant_of_clock(
            clock,
            now=self._now(),
            zone=self.state.zone,
            earliest=self.started_at,
            ended=self.ended_at,
        )
        dosed = self.first_dose_at
        # The minute typed, not the instant: in the minute the session began it is the
        # start itself, and 16:19 for a session begun at 16:19:42 and a dose at 16:20:03
        # was refused as the dose's minute, leaving no time before the dose (Xvfb QA).
        typed = at.replace(second=0, microsecond=0)
        if dosed is not None and typed <= dosed < typed + dt.timedelta(minutes=1):
            minute = typed.astimezone(self.state.zone)
            before = (minute - dt.timedelta(minutes=1)).strftime("%H:%M")
            after = (minute + dt.timedelta(minutes=1)).strftime("%H:%M")
            raise ValidationError(
                "time",
                f"{minute:%H:%M} is the minute of the first dose (given at "
                f"{dosed.astimezone(self.state.zone):%H:%M:%S}): give {before} for before "
                f"it, {after} for after it.",
            )
        return at

    def _baseline_words(self) -> str | None:
        baseline = self.state.baseline()
        return None if baseline is None else f"{baseline[0]:.0f}/{baseline[1]:.0f}"

    def _baseline_notice(self, before: str | None) -> str:
        """Said when an entry's time or values moved the pre-dose baseline: it decides the
        notable-rise alerts and a discharge criterion (Xvfb QA: it moved unsaid)."""
        after = self._baseline_words()
        if before == after or self.first_dose_at is None:
            return ""
        if after is None:
            return f"There is no pre-dose blood pressure now (the baseline was {before})."
        was = f" (was {before})" if before is not None else ""
        return f"The pre-dose baseline is now {after}{was}."

    def record_vitals(
        self,
        values: Mapping[str, Any],
        *,
        source: str = "manual",
        unusual_confirmed: bool = False,
        taken_at: dt.datetime | None = None,
    ) -> Outcome:
        """A typed reading at the edge of the plausible (clinical/vitals.unusual_reading)
        raises UnusualReading unless ``unusual_confirmed``; a device's is stored as sent.
        ``taken_at``: when it was taken, if before now (the reading after it, and the
        alerts, are looked at again)."""
        self._refuse_if_ended()
        if source == "manual" and not unusual_confirmed:
            unusual = unusual_reading(validate_vitals(values))
            if unusual is not None:
                raise UnusualReading("systolic", unusual)
        baseline = self._baseline_words() if taken_at is not None else None
        entry_id = self.store.add_vitals(self.id, values, source=source, taken_at=taken_at)
        entry = self._added("vitals", entry_id)
        stored = self.state.entry("vitals", entry_id)
        assert isinstance(stored, StoredVitals)
        readings = self.state.readings()
        if readings.index_of(entry_id) == len(readings) - 1:
            raised = [
                self._store_event("alert", alerting.alert_payload(alert, stored))
                for alert in alerting.evaluate_reading(self.state, stored, self.thresholds)
            ]
        elif self.first_dose_at is not None and stored.at < self.first_dose_at:
            raised = self._reconcile_alerts()  # a late pre-dose reading moves the baseline
        else:  # entered with an earlier time: it, and the reading after it, look again
            after = self.state.reading_after(stored)
            raised = self._reconcile_alerts([stored] if after is None else [stored, after])
        self._chart_changed(stored)
        if raised:
            self.events.alerts_changed.emit(self.open_alerts())
        notice = self._baseline_notice(baseline) if taken_at is not None else ""
        return Outcome(entry, tuple(raised), notice)

    def record_dose(
        self,
        *,
        unusual_confirmed: bool = False,
        caution_reason: str | None = None,
        **values: Any,
    ) -> LogEntry:
        """A dose, through the dosing gate; the session's first dose sets T0. One above
        the usual range (clinical/entries.unusual_dose) raises UnusualDose unless
        ``unusual_confirmed``: the clinician has seen that sentence and records it.
        ``caution_reason``: the reason to dose past the gate's caution, stored with it."""
        self._refuse_if_ended()
        gate = self.dose_gate()
        caution = None
        if not gate.allowed:
            if gate.caution is None or caution_reason is None:
                raise ValidationError("dose", gate.message)
            caution = dosing.caution_ack_payload(
                gate, caution_reason, further=self.first_dose_at is not None
            )
        first = self.first_dose_at is None
        above = self._unusual_dose(values, confirmed=True)
        # The protocol's pre-dose check not met (a BP without its SpO2): said before the
        # first dose, as a dose above the usual range is, and kept with the dose if given
        # past it. Met no longer once the dose is in, it went unsaid (Xvfb QA).
        unmet = self._pre_dose_unmet() if first else None
        running = self._infusion_running(values.get("route"))
        unusual = " ".join(filter(None, (above, unmet, running))) or None
        if unusual is not None and not unusual_confirmed:
            ask = (
                "Check the amount: Enter again records it."
                if above
                else "Enter again records the dose without it."
                if unmet
                else "Enter again records a second infusion."
            )
            raise UnusualDose("mg" if above else "dose", f"{unusual} {ask}")
        # The warning overruled stays in the record, by whom: in the dose's transaction,
        # so that no crash between two saves leaves the dose without it.
        # The reason to dose past a caution goes in with the dose it let through, never
        # alone: given, and the dose form then closed, it stood in the log as a "Further
        # dose despite ..." no dose followed, and the course counted an override (Xvfb QA).
        with self.store.grouped():
            acks = [] if caution is None else self._store_dose_caution(caution)
            entry_id = self.store.add_dose(self.id, **values)
            warned = self._warning_overruled(entry_id, unusual)
        for ack in acks:
            self._event_added(ack)
        if acks[1:]:
            self.events.alerts_changed.emit(self.open_alerts())
        self.state.reload_session()
        entry = self._added("dose", entry_id)
        if warned is not None:
            self._event_added(warned)
        if first:
            self._restate_times()
        self._chart_changed()
        self.events.session_changed.emit(None)
        return entry

    def _pre_dose_unmet(self) -> str | None:
        """What the protocol's pre-dose check still lacks, as a sentence; None if met (or
        no protocol has one)."""
        if self.protocol is None:
            return None
        times = checks.session_times(self.state)
        for status in self.statuses():
            check = status.occurrence
            if check.due_at is not None or status.state is State.DONE:
                continue
            missing = unmet_needs(check, times, self.state.recorded)
            if missing:
                return (
                    f"The protocol's pre-dose check ({check.label}) is not met: no "
                    f"{' and no '.join(missing)} recorded before this first dose."
                )
        return None

    def _infusion_running(self, route: object) -> str | None:
        """An IV dose while an infusion runs: said once, and kept with the dose if given
        (Xvfb QA: a second infusion went in without a word, and Ctrl+I then stopped only
        the newest)."""
        if str(getattr(route, "value", route)).lower() != Route.IV.value:
            return None
        running = self.state.running_infusions()
        if not running:
            return None
        dose = self.state.entry("dose", running[-1])
        mg = getattr(dose.content, "mg", 0)
        return (
            f"An IV infusion ({mg:g} mg, started {self.local_clock(dose.at)}) is still "
            "running: stop it first (Ctrl+I twice) if this replaces it."
        )

    def _unusual_dose(
        self,
        values: Mapping[str, Any],
        *,
        confirmed: bool,
        corrected: uuid.UUID | None = None,
    ) -> str | None:
        """Why a dose is above the usual range with the session's other doses of the drug
        by the route, or None; UnusualDose unless ``confirmed`` (the clinician saw that
        sentence). ``corrected``: the dose whose values ``values`` change."""
        if corrected is not None:
            was = self.state.entry("dose", corrected).content
            assert isinstance(was, Dose)
            values = {
                "drug": was.drug,
                "route": was.route.value,
                "mg": was.mg,
                "lot_number": was.lot_number,
                "device_count": was.device_count,
                **values,
            }
        dose = validate_dose(
            values.get("drug"),
            values.get("route"),
            values.get("mg"),
            values.get("lot_number"),
            values.get("device_count"),
        )
        given = sum(
            d.content.mg
            for d in self.state.doses()
            if d.id != corrected and d.content.drug == dose.drug and d.content.route is dose.route
        )
        unusual = unusual_dose(dose, self.weight_kg, given)
        if unusual is not None and not confirmed:
            raise UnusualDose("mg", f"{unusual} Check the amount: Enter again records it.")
        return unusual

    def stop_infusion(self, dose_id: uuid.UUID | None = None) -> LogEntry:
        self._refuse_if_ended()
        running = self.running_infusions()
        if not running:
            raise ValidationError("dose", "No IV infusion is running.")
        if dose_id is not None and dose_id not in running:
            # Stopped already, or marked entered in error: never given, never running.
            raise ValidationError("dose", "That infusion is not running.")
        dose = dose_id or running[-1]
        self.store.stop_infusion(dose)
        self.state.stops = self.store.infusion_stops(self.id)
        entry = log_entry(self.state, self.state.entry("dose", dose))
        self.events.entry_changed.emit(entry)
        self.events.session_changed.emit(None)
        return entry

    def record_scale(self, scale_id: str, value: int) -> LogEntry:
        self._refuse_if_ended()
        SCALES[scale_id].level(value)  # refuses a level the scale does not have
        return self._score(scale_id, [value])

    def record_rems_check(self, sedation: bool, dissociation: bool, respiratory: bool) -> LogEntry:
        self._refuse_if_ended()
        return self._score(REMS_CHECK_ID, [int(sedation), int(dissociation), int(respiratory)])

    def record_screening(
        self,
        contraindications: Mapping[str, bool],
        medicines: Mapping[str, bool],
        intention: str,
        decision: str | None = None,
    ) -> LogEntry:
        self._refuse_if_ended()
        payload = dosing.screening_payload(contraindications, medicines, intention, decision)
        return self._store_event("screening", payload)

    def record_intention(self, text: str) -> LogEntry:
        """State (or restate) the session's intention; the earlier wording stays in the log."""
        self._refuse_if_ended()
        words = clean_text(text, "The intention", limit=500).strip()
        if words == self.intention():
            raise ValidationError("intention", "That is the intention already recorded.")
        return self._store_event("intention", {"text": words})

    def note_survey(self, kind: str, payload: Mapping[str, Any]) -> LogEntry:
        """The hand-over to the patient's survey, or the clinician's return: the time the
        screen was the patient's is in the log (QA)."""
        assert kind in ("survey_handover", "survey_return")
        return self._store_event(kind, payload)

    def note_handover(self, from_id: uuid.UUID, to_id: uuid.UUID, how: str) -> LogEntry | None:
        """Another clinician has signed in during the session (issue 14): the log says who
        handed it to whom. The sign-in itself is in the audit trail (store.sign_in)."""
        if self.ended_at is not None or from_id == to_id:
            return None
        return self._store_event(
            "handover",
            {"from_clinician_id": str(from_id), "to_clinician_id": str(to_id), "how": how},
        )

    def record_self_report(
        self, response: Mapping[str, Any], alert: Mapping[str, Any] | None
    ) -> uuid.UUID | None:
        """A patient's survey response (session/survey.py), also once the session has
        ended; and, where it holds an urgent answer, the alert, stored at once. Returns
        the alert's id."""
        self._store_event("self_report", response)
        if alert is None:
            return None
        stored = self.store.add_session_event(self.id, "alert", alert)
        event = self.state.put_event(self.store.session_event(stored))
        self.events.entry_added.emit(event_entry(self.state, event))
        self.events.alerts_changed.emit(self.open_alerts())
        return stored

    def acknowledge_dose_caution(self, reason: str) -> LogEntry:
        """The pre-dose caution weighed, with the reason to dose; and the BP caution alerts
        of the pre-dose readings, acknowledged with it in one transaction: they stayed on
        the banner for a second Ctrl+K, and ended the session "not acknowledged" (QA)."""
        self._refuse_if_ended()
        further = self.first_dose_at is not None
        payload = dosing.caution_ack_payload(self.dose_gate(), reason, further=further)
        with self.store.grouped():
            caution_ack, *acks = self._store_dose_caution(payload)
        entry = self._event_added(caution_ack)
        for ack in acks:
            self._event_added(ack)
        if acks:
            self.events.alerts_changed.emit(self.open_alerts())
        return entry

    def _store_dose_caution(self, payload: Mapping[str, Any]) -> list[uuid.UUID]:
        """The reason to dose past the caution, and the alerts it covers acknowledged with
        it: before the first dose every reading is a pre-dose one, and their BP cautions
        are what was weighed; any other alert, and any after a dose, waits for its own
        Ctrl+K. Inside the caller's transaction; the ids, the reason's first."""
        covered = (
            []
            if payload.get("further_dose")
            else [alert for alert in self.open_alerts() if alert.rule == "bp_caution"]
        )
        ids = [self.store.add_session_event(self.id, "dose_caution_ack", payload)]
        ids += [
            self.store.add_session_event(
                self.id, "alert_ack", {"alert_id": str(alert.id), "with_dose_caution": True}
            )
            for alert in covered
        ]
        return ids

    def alert_reading(self, alert: StoredAlert) -> str:
        """What the banner quotes of an alert: its reading, and a score corrected since."""
        return alerting.reading_now(self.state, alert)

    def acknowledge_alert(self, alert_id: uuid.UUID | None = None) -> LogEntry | None:
        """Record that the alert (by default the one in the banner) was seen, by whom."""
        pending = self.open_alerts()
        if alert_id is None:
            if not pending:
                return None
            alert_id = pending[0].id
        elif alert_id not in {a.id for a in pending}:
            raise ValidationError("alert", "That alert is already acknowledged or withdrawn.")
        entry = self._store_event("alert_ack", {"alert_id": str(alert_id)})
        self.events.alerts_changed.emit(self.open_alerts())
        return entry

    def correct(
        self,
        kind: str,
        entry_id: uuid.UUID,
        changes: Mapping[str, Any],
        reason: str,
        *,
        unusual_confirmed: bool = False,
    ) -> Outcome:
        """A correction (the original stays readable), and for a reading the alerts again.
        A dose corrected to above the usual range is refused once, as a new one is (second
        QA pass: 680 mg corrected to 900 went in without a word)."""
        if kind == "dose" and self.state.kind_of(entry_id) == "dose":
            marked = self.state.entry(kind, entry_id).content
            if isinstance(marked, Dose) and marked.entered_in_error:
                raise ValidationError("changes", DOSE_IN_ERROR_KEPT)
        if CLOCK_TIME in changes:  # typed as 10:05: the instant it names in this session
            if kind not in TIMED_KINDS:
                raise ValidationError("time", "A dose's time is not corrected: it sets T0.")
            clock = str(changes[CLOCK_TIME])
            changes = {k: v for k, v in changes.items() if k != CLOCK_TIME}
            changes[TIME_FIELD[kind]] = self.instant_of(clock)
        # Judged again only when the amount, drug or route changes: a lot number put right
        # on a dose recorded past the warning is not warned of a second time.
        judged = kind == "dose" and not {"mg", "drug", "route"}.isdisjoint(changes)
        unusual = (
            self._unusual_dose(changes, confirmed=unusual_confirmed, corrected=entry_id)
            if judged
            else None
        )
        baseline = self._baseline_words()
        t0 = self.first_dose_at
        sign = self._corrected_sign(kind, entry_id, changes)
        # The correction, its warning line and its alert: all or none.
        with self.store.grouped():
            self.store.correct(kind, entry_id, changes, reason=reason)
            warned = self._warning_overruled(entry_id, unusual)
            alert_id = None
            if sign is not None:
                scored_at = changes.get("scored_at") or self.state.entry(kind, entry_id).at
                alert_id = self._store_sign(sign, entry_id, scored_at)
        if warned is not None:
            self._event_added(warned)
        stored = self.state.reload(kind, entry_id)
        entry = log_entry(self.state, stored)
        self.events.entry_changed.emit(entry)
        if kind == "dose":  # its warning's line says what became of it
            for warning in self.state.events_of("dose_above_usual"):
                if warning.payload.get("dose_id") == str(entry_id):
                    self.events.entry_changed.emit(event_entry(self.state, warning))
        changed: list[LogEntry] = []
        if kind == "vitals":
            changed = self._reconcile_alerts()
            if changed:
                self.events.alerts_changed.emit(self.open_alerts())
        if alert_id is not None:
            changed = [self._event_added(alert_id)]
            if self.ended_at is not None:
                changed.append(self._acknowledged_after_end(alert_id))
            self.events.alerts_changed.emit(self.open_alerts())
        elif kind == "scale_score":
            self.events.alerts_changed.emit(self.open_alerts())  # its alert says the new score
        if kind in ("vitals", "dose", "scale_score"):
            self._chart_changed()
        if self.first_dose_at != t0:
            # The first dose marked entered in error: T0 is the next dose given, or none
            # yet; every line's T+, the clocks and the checks are reckoned from it again.
            self._restate_times()
            self.events.session_changed.emit(None)
        return Outcome(entry, tuple(changed), self._baseline_notice(baseline))

    def end(
        self,
        confirmed: frozenset[str] = frozenset(),
        *,
        override_reason: str | None = None,
        ready_to_leave_minutes: int | str | None = None,
    ) -> SessionSummary:
        """End the session; with criteria unmet, only with an override reason (recorded)."""
        self._refuse_if_ended()
        payload = discharge.discharge_payload(
            self.discharge_items(confirmed),
            confirmed,
            override_reason,
            ready_to_leave_minutes,
            self.rems_summary(),
        )
        # The discharge and the session's end in one transaction: a crash between two
        # saves left a discharge line on a session still running.
        with self.store.grouped():
            discharged = self.store.add_session_event(self.id, "discharge", payload)
            self.store.end_session(self.id)
        self._event_added(discharged)
        self.state.reload_session()
        for alert in self.open_alerts():  # their lines now say they were never acknowledged
            self.events.entry_changed.emit(event_entry(self.state, self.state.event(alert.id)))
        summary = self.summary()
        self.events.session_changed.emit(None)
        self.events.ended.emit(summary)
        return summary

    def note_resumption(self) -> LogEntry | None:
        """Write the gap since the last entry into the log when a session is picked up
        again, then raise any alert a reading calls for that was never raised (kapdesk
        stopped between storing a reading and its alert; the QA of issue 11 found the
        demo's running session resumed with ten readings over 140/90 and no alert)."""
        last = self.store.last_activity(self.id)
        now = self._now()
        clock = self.local_clock
        if last - now > CLOCK_SLACK:
            # The last entry is dated after now: it was not "less than a minute" ago (tamper
            # QA: said so after the clock was set back, and after an entry made while it
            # was ahead, hiding real gaps).
            text = (
                f"Session resumed in kapdesk at {clock(now)}; the last entry is dated "
                f"{clock(last)}, {describe_gap(last - now)} after the computer's time now: "
                "its clock is behind, or was ahead when that entry was made. Check the "
                "computer's clock."
            )
        elif now - last < dt.timedelta(minutes=1):  # a restart, not a gap ("gap 0 min")
            text = (
                f"Session resumed in kapdesk at {clock(now)}, less than a minute after the "
                "last entry."
            )
        else:
            text = (
                f"Session resumed in kapdesk at {clock(now)}; nothing was recorded between "
                f"{clock(last)} and {clock(now)} (gap {describe_gap(now - last)})."
            )
        try:
            note: LogEntry | None = self.record_observation(text, [SYSTEM_TAG])
        except ValidationError:
            note = None  # the clock is before the session: the first entry says so
        self.raise_missing_alerts()
        return note

    def raise_missing_alerts(self) -> list[LogEntry]:
        """Raise the alerts this open session's readings call for that were never raised
        (alerting.never_raised): a reading stored just before kapdesk stopped, or readings
        written without the rules (the demo's). Withdraws nothing."""
        if self.ended_at is not None:
            return []
        raised = [
            self._store_event("alert", payload)
            for payload in alerting.never_raised(self.state, self.thresholds)
        ]
        if raised:
            self.events.alerts_changed.emit(self.open_alerts())
        return raised

    def check_clock(self) -> LogEntry | None:
        """Note in the log when the wall clock moved unlike the monotonic clock."""
        if self.ended_at is not None:
            return None
        wall, monotonic = self._now(), self.monotonic()
        previous, self._last_clocks = self._last_clocks, (wall, monotonic)
        if previous is None:
            return None
        drift = (wall - previous[0]) - dt.timedelta(seconds=monotonic - previous[1])
        if abs(drift) < CLOCK_JUMP_THRESHOLD:
            return None
        direction = "ahead" if drift > dt.timedelta(0) else "back"
        try:
            return self.record_observation(
                f"The computer's clock moved {describe_gap(abs(drift))} {direction} of "
                "kapdesk's timer (the laptop slept, or its clock was changed). The session "
                "clocks follow the stored start, so they remain right.",
                [SYSTEM_TAG],
            )
        except ValidationError:
            return None  # set back before the session: the next entry is refused, and says so

    # ---------------------------------------------------------- internals

    def _refuse_if_ended(self) -> None:
        if self.ended_at is not None:
            raise ImmutableError(
                f"This session ended at {self.local_clock(self.ended_at)}; nothing more can be "
                "added to it. To change an entry, correct it; for a new session, start one."
            )
        self._refuse_if_clock_behind()

    def _refuse_if_clock_behind(self) -> None:
        """Nothing new is stored at a time before the session began, or before its first
        dose once that is in: the computer's clock has been set back. Tamper QA: resumed
        after a crash with the clock two hours behind, a reading went in at T-119 as a
        pre-dose reading, moved the baseline, and the banner advised on dosing a patient
        already dosed; the report kept it so."""
        now = self._now()
        floor, what = self.started_at, "this session began"
        if self.first_dose_at is not None and self.first_dose_at > floor:
            floor, what = self.first_dose_at, "the first dose was given"
        if now < floor - CLOCK_SLACK:
            clock = self.local_clock
            # Which clock was wrong cannot be told from here: set back now (a restart
            # after a crash), or ahead then and set right since, which refused every
            # entry until the clock caught up, and the sentence said only "set back".
            raise ValidationError(
                "clock",
                f"The computer's clock says {clock(now)}, before {what} ({clock(floor)}); "
                "nothing was stored. If the clock is behind, set it right and enter this "
                f"again. If it is right, it was ahead then: this session takes entries again "
                f"from {clock(floor)}. Meanwhile note entries on paper with their times.",
            )

    def _added(self, kind: str, entry_id: uuid.UUID) -> LogEntry:
        entry = log_entry(self.state, self.state.add_new(kind, entry_id))
        self.events.entry_added.emit(entry)
        return entry

    def _score(self, scale_id: str, answers: list[int]) -> LogEntry:
        # A score that is an emergency sign (MOAA/S 1 or 0, RASS -4 or -5, respiratory
        # depression at a REMS check) raises an urgent alert, as a reading does (Xvfb QA:
        # MOAA/S 0 went in with one key and nothing else happened); in the score's
        # transaction, so no crash between two saves leaves the score without it.
        sign = emergency_sign(scale_id, answers)
        with self.store.grouped():
            entry_id = self.store.add_scale_score(self.id, scale_id, answers)
            alert_id = None if sign is None else self._store_sign(sign, entry_id, None)
        entry = self._added("scale_score", entry_id)
        self._chart_changed(scores_only=True)
        if alert_id is not None:
            self._event_added(alert_id)
            self.events.alerts_changed.emit(self.open_alerts())
        return entry

    def _corrected_sign(
        self, kind: str, entry_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> dict[str, str] | None:
        """The emergency sign a score's correction makes of it (MOAA/S 4 corrected to 1),
        unless the score raised its alert already: alerted on once a score; one corrected
        away from a sign keeps its alert, acknowledged by a person, not withdrawn."""
        if kind != "scale_score" or "answers" not in changes:
            return None
        score = self.state.entry(kind, entry_id).content
        assert isinstance(score, Score)
        try:
            answers = [int(answer) for answer in changes["answers"]]
        except (TypeError, ValueError):
            return None  # refused by the store's check, with its sentence
        sign = emergency_sign(score.scale_id, answers)
        alerted = any(
            e.payload.get("score_id") == str(entry_id) for e in self.state.events_of("alert")
        )
        return None if alerted else sign

    def _store_sign(
        self, sign: Mapping[str, str], score_id: uuid.UUID, scored_at: dt.datetime | None
    ) -> uuid.UUID:
        payload: dict[str, Any] = {**sign, "source": "the clinician's score"}
        payload["score_id"] = str(score_id)
        if scored_at is not None:  # a correction's: when the score was taken
            payload["taken_at"] = scored_at.isoformat()
        return self.store.add_session_event(self.id, "alert", payload)

    def _warning_overruled(self, dose_id: uuid.UUID, warning: str | None) -> uuid.UUID | None:
        """Store the line saying a dose went in past the warning (None: it was not)."""
        if warning is None:
            return None
        payload = {"dose_id": str(dose_id), "warning": warning}
        return self.store.add_session_event(self.id, "dose_above_usual", payload)

    def _store_event(self, kind: str, payload: Mapping[str, Any]) -> LogEntry:
        return self._event_added(self.store.add_session_event(self.id, kind, payload))

    def _event_added(self, event_id: uuid.UUID) -> LogEntry:
        """An event just stored: into the state, and its line into the log."""
        event = self.state.put_event(self.store.session_event(event_id))
        kind, payload = event.kind, event.payload
        entry = event_entry(self.state, event)
        self.events.entry_added.emit(entry)
        if kind in ("alert_ack", "alert_cleared"):  # the alert's own line says what became of it
            alert = self.state.event(uuid.UUID(payload["alert_id"]))
            self.events.entry_changed.emit(event_entry(self.state, alert))
        return entry

    def _reconcile_alerts(self, readings: Sequence[StoredVitals] | None = None) -> list[LogEntry]:
        plan = alerting.reconcile(self.state, self.thresholds, readings)
        lines = [self._store_event("alert_cleared", p) for p in plan.withdraw]
        for payload, restated in zip(plan.raise_, plan.restates, strict=True):
            raised = self._store_event("alert", payload)
            lines.append(raised)
            if restated is not None:
                # Acknowledged with the correction, by whoever made it (it is theirs).
                carried = {"alert_id": str(raised.id), "restates": str(restated.id)}
                lines.append(self._store_event("alert_ack", carried))
            elif self.ended_at is not None:
                lines.append(self._acknowledged_after_end(raised.id))
        return lines

    def _acknowledged_after_end(self, alert_id: uuid.UUID) -> LogEntry:
        """An alert a correction raises after the session ended, acknowledged with it by
        whoever made it: nothing acknowledges on a past session's screen, and it stood
        "NOT ACKNOWLEDGED" for good (Xvfb QA)."""
        return self._store_event("alert_ack", {"alert_id": str(alert_id), "after_end": True})

    def _chart_changed(
        self, appended: StoredVitals | None = None, *, scores_only: bool = False
    ) -> None:
        """Tell the chart; a new newest reading is appended to its data, anything else
        (an earlier time, a correction, a dose) has it built again."""
        chart = self._chart
        if chart is not None and not scores_only:
            if appended is not None and chart.fits(appended):
                chart.append(appended)
            else:
                self._chart = None
        self.events.chart_changed.emit(None)

    def _restate_times(self) -> None:
        """The first dose sets T0: every earlier line's T+ is now written against it."""
        self.events.log_restated.emit(None)
