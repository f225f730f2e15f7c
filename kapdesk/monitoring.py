"""Clinical safety around a live session: screening, the dosing gate, alerts, due checks,
sedation scales and discharge. Combines the LiveSession with the pure rules; no widgets.

The app assists and records; the clinician decides. Every refusal here can be
overridden with a reason, and every override is recorded with who and when.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapdesk.clinical.alerts import Alert, AlertThresholds, Level, evaluate, pre_dose_caution
from kapdesk.clinical.discharge import DischargeFacts, DischargeItem, evaluate_discharge
from kapdesk.clinical.elapsed import format_elapsed
from kapdesk.clinical.entries import clean_text
from kapdesk.clinical.protocols import Protocol
from kapdesk.clinical.scales import REMS_CHECK_ID, SCALES
from kapdesk.clinical.schedule import (
    CheckStatus,
    Recorded,
    SessionTimes,
    State,
    check_statuses,
    next_check,
    vitals_items,
)
from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES, WHY_IT_MATTERS
from kapdesk.clinical.vitals import ValidationError, VitalsReading
from kapdesk.live_session import LiveSession, LogEntry, SessionSummary
from kapdesk.store.errors import ImmutableError

LABEL_GUIDANCE = (
    "SPRAVATO label, as a general guide: if blood pressure is above 140 systolic or 90 "
    "diastolic before dosing, weigh benefit and risk and consider delaying the session."
)


@dataclass(frozen=True)
class StoredAlert:
    id: uuid.UUID
    at: dt.datetime
    level: Level
    reading: str
    reason: str
    action: str
    acknowledged_by: str | None


@dataclass(frozen=True)
class DoseGate:
    allowed: bool
    message: str
    caution: Alert | None = None  # set when an acknowledgement with a reason unlocks dosing


class SessionMonitor:
    def __init__(
        self,
        live: LiveSession,
        protocol: Protocol | None,
        thresholds: AlertThresholds | None = None,
    ) -> None:
        self.live = live
        self.protocol = protocol
        self.thresholds = thresholds or AlertThresholds()

    # ------------------------------------------------------------ screening

    def screening(self) -> Mapping[str, Any] | None:
        found = [e for e in self.live.events if e["kind"] == "screening"]
        return found[-1]["payload"] if found else None

    def record_screening(
        self,
        contraindications: Mapping[str, bool],
        medicines: Mapping[str, bool],
        intention: str,
        decision: str | None = None,
    ) -> LogEntry:
        """Store the answers; any "yes" needs an explicit decision with a reason."""
        if set(contraindications) != set(CONTRAINDICATIONS) or set(medicines) != set(MEDICINES):
            raise ValidationError("screening", "Answer every screening question, yes or no.")
        flagged = [CONTRAINDICATIONS[k] for k, yes in contraindications.items() if yes]
        reason = (decision or "").strip()
        if flagged and not reason:
            raise ValidationError(
                "decision",
                f"“{flagged[0]}” was answered yes. {WHY_IT_MATTERS} To proceed, record your "
                "decision and its reason.",
            )
        payload = {
            "contraindications": dict(contraindications),
            "medicines": dict(medicines),
            "intention": clean_text(intention, "The intention") if intention.strip() else "",
            "decision": clean_text(reason, "The decision", limit=2000) if reason else None,
        }
        return self.live.add_event("screening", payload)

    # --------------------------------------------------------------- dosing

    def pre_dose_readings(self) -> list[VitalsReading]:
        first = self.live.first_dose_at
        return [
            _reading(v.current)
            for v in self._views("vitals")
            if first is None or v.current["taken_at"] < first
        ]

    def baseline(self) -> tuple[float, float] | None:
        return self.live.baseline()

    def dose_gate(self) -> DoseGate:
        """Whether the next dose may be recorded, and what must happen first if not."""
        if self.live.first_dose_at is not None:
            return DoseGate(True, "")
        if self.screening() is None:
            return DoseGate(False, "Record the screening first (Ctrl+G).")
        readings = self.pre_dose_readings()
        if not any(r.systolic is not None for r in readings):
            return DoseGate(False, "Record a pre-dose blood pressure first (Ctrl+B).")
        caution = pre_dose_caution(readings, self.thresholds)
        acknowledged = any(e["kind"] == "dose_caution_ack" for e in self.live.events)
        if caution is not None and not acknowledged:
            return DoseGate(False, f"{caution.reason} {LABEL_GUIDANCE}", caution)
        return DoseGate(True, "")

    def acknowledge_dose_caution(self, reason: str) -> LogEntry:
        gate = self.dose_gate()
        if gate.caution is None:
            raise ValidationError("reason", "There is no pre-dose caution to acknowledge.")
        text = clean_text(reason, "The reason to dose", limit=2000)
        return self.live.add_event(
            "dose_caution_ack", {"reason": text, "reading": gate.caution.reading}
        )

    def add_dose(self, **values: Any) -> LogEntry:
        gate = self.dose_gate()
        if not gate.allowed:
            raise ValidationError("dose", gate.message)
        return self.live.add_dose(**values)

    # --------------------------------------------------------------- alerts

    def add_vitals(self, entry: LogEntry) -> list[LogEntry]:
        """Evaluate a stored reading; store each alert it raises. Returns the alert entries."""
        views = sorted(self._views("vitals"), key=lambda v: v.current["taken_at"])
        index = next(i for i, v in enumerate(views) if v.id == entry.id)
        reading = _reading(views[index].current)
        previous = _reading(views[index - 1].current) if index else None
        alerts = evaluate(
            reading, baseline=self.baseline(), previous=previous, thresholds=self.thresholds
        )
        stored = []
        for alert in alerts:
            stored.append(
                self.live.add_event(
                    "alert",
                    {
                        "rule": alert.rule,
                        "level": alert.level.value,
                        "reading": alert.reading,
                        "reason": alert.reason,
                        "action": alert.action,
                        "source": alert.source,
                        "vitals_id": str(entry.id),
                        "taken_at": views[index].current["taken_at"].isoformat(),
                    },
                )
            )
        return stored

    def alerts(self) -> list[StoredAlert]:
        acks = {e["payload"]["alert_id"]: e for e in self.live.events if e["kind"] == "alert_ack"}
        found = []
        for event in self.live.events:
            if event["kind"] != "alert":
                continue
            ack = acks.get(str(event["id"]))
            payload = event["payload"]
            found.append(
                StoredAlert(
                    id=event["id"],
                    at=event["at"],
                    level=Level(payload["level"]),
                    reading=payload["reading"],
                    reason=payload["reason"],
                    action=payload["action"],
                    acknowledged_by=None
                    if ack is None
                    else self.live.clinician_name(ack["recorded_by"]),
                )
            )
        return found

    def open_alerts(self) -> list[StoredAlert]:
        pending = [a for a in self.alerts() if a.acknowledged_by is None]
        return sorted(pending, key=lambda a: (a.level is not Level.URGENT, a.at))

    def acknowledge(self, alert_id: uuid.UUID) -> LogEntry:
        return self.live.add_event("alert_ack", {"alert_id": str(alert_id)})

    def rechecks(self) -> list[dt.datetime]:
        """A recheck 5 minutes after each urgent reading (CLINICAL.md, urgent rule)."""
        times = []
        for event in self.live.events:
            if event["kind"] == "alert" and event["payload"]["level"] == Level.URGENT.value:
                taken = dt.datetime.fromisoformat(event["payload"]["taken_at"])
                times.append(taken + dt.timedelta(minutes=5))
        return sorted(set(times))

    # ---------------------------------------------------------------- checks

    def times(self) -> SessionTimes:
        live = self.live
        start, stop = live.infusion_times()  # cached: this runs on every clock tick
        return SessionTimes(live.started_at, live.first_dose_at, start, stop, live.ended_at)

    def statuses(self) -> list[CheckStatus]:
        if self.protocol is None:
            return []
        recorded = [
            Recorded(v.current["taken_at"], vitals_items(_reading(v.current)))
            for v in self._views("vitals")
        ] + [
            Recorded(v.current["scored_at"], frozenset({v.current["scale_id"]}))
            for v in self._views("scale_score")
        ]
        return check_statuses(
            self.protocol, self.times(), recorded, self.live.now(), self.rechecks()
        )

    def next_check_text(self) -> tuple[str, State | None]:
        """The header line: what is due next and in how long, or what is overdue."""
        if self.protocol is None:
            return (f"No monitoring protocol named “{self.live.protocol}” is loaded.", None)
        statuses = self.statuses()
        status = next_check(statuses)
        overdue = sum(1 for s in statuses if s.state is State.OVERDUE)
        if status is None:
            return ("No checks pending.", None)
        label = status.occurrence.label
        due = status.occurrence.due_at
        now = self.live.now()
        if status.state is State.OVERDUE:
            late = "" if due is None else f" by {format_elapsed(now - due)}"
            more = f" ({overdue} overdue)" if overdue > 1 else ""
            return (f"OVERDUE{late}: {label}{more}", State.OVERDUE)
        if status.state is State.DUE:
            return (f"Due now: {label}", State.DUE)
        assert due is not None
        return (f"Next: {label} in {format_elapsed(due - now)}", State.UPCOMING)

    # ---------------------------------------------------------------- scales

    def add_scale(self, scale_id: str, value: int) -> LogEntry:
        scale = SCALES[scale_id]
        scale.level(value)  # refuses a level the scale does not have
        return self.live.add_scale_score(scale_id, [value])

    def add_rems_check(self, sedation: bool, dissociation: bool, respiratory: bool) -> LogEntry:
        return self.live.add_scale_score(
            REMS_CHECK_ID, [int(sedation), int(dissociation), int(respiratory)]
        )

    def scale_points(self) -> list[tuple[float, str, int]]:
        """(minutes from the first dose, scale id, value) for the strip under the chart."""
        origin = self.live.first_dose_at or self.live.started_at
        points = []
        for view in self._views("scale_score"):
            if view.current["scale_id"] in SCALES:
                minutes = (view.current["scored_at"] - origin).total_seconds() / 60
                points.append((minutes, view.current["scale_id"], view.current["answers"][0]))
        return sorted(points)

    # ------------------------------------------------------------- discharge

    def discharge_items(self, confirmed: frozenset[str] = frozenset()) -> list[DischargeItem]:
        if self.protocol is None:
            return []
        latest = {scale_id: None for scale_id in (*SCALES, REMS_CHECK_ID)}
        for view in sorted(self._views("scale_score"), key=lambda v: v.current["scored_at"]):
            latest[view.current["scale_id"]] = view.current["answers"]
        with_bp = [v.current for v in self._views("vitals") if v.current["systolic"] is not None]
        last_bp = max(with_bp, key=lambda c: c["taken_at"], default=None)
        rems = latest[REMS_CHECK_ID]
        facts = DischargeFacts(
            now=self.live.now(),
            first_dose_at=self.live.first_dose_at,
            infusion_stop=self.times().infusion_stop,
            latest_moaas=latest["moaas"][0] if latest["moaas"] else None,
            latest_rass=latest["rass"][0] if latest["rass"] else None,
            dissociation_present=None if rems is None else bool(rems[1]),
            latest_bp=None if last_bp is None else (last_bp["systolic"], last_bp["diastolic"]),
            baseline=self.baseline(),
            confirmed=confirmed,
        )
        return evaluate_discharge(self.protocol.discharge, facts, self.thresholds)

    def end(
        self,
        confirmed: frozenset[str] = frozenset(),
        *,
        override_reason: str | None = None,
        ready_to_leave_minutes: int | None = None,
    ) -> SessionSummary:
        """End the session; with criteria unmet, only with an override reason (recorded)."""
        if self.live.ended_at is not None:
            raise ImmutableError("This session has already ended; its end time stays as recorded.")
        unmet = [item.label for item in self.discharge_items(confirmed) if not item.met]
        reason = (override_reason or "").strip()
        if unmet and not reason:
            raise ValidationError(
                "discharge",
                "Not all discharge criteria are met: " + "; ".join(unmet) + ". To end "
                "anyway, give the reason for the override.",
            )
        payload = {
            "unmet": unmet,
            "confirmed": sorted(confirmed),
            "override_reason": clean_text(reason, "The reason", limit=2000) if reason else None,
            "ready_to_leave_minutes": ready_to_leave_minutes,
            "rems": self.rems_summary(),
        }
        self.live.add_event("discharge", payload)
        return self.live.end()

    def rems_summary(self) -> dict[str, Any]:
        """The REMS Patient Monitoring Form's figures, as captured (CLINICAL.md, REMS)."""
        live = self.live
        first = live.first_dose_at
        end = live.ended_at or live.now()
        bp = sorted(
            (v.current for v in self._views("vitals") if v.current["systolic"] is not None),
            key=lambda c: c["taken_at"],
        )

        def text(c: Mapping[str, Any] | None) -> str | None:
            return None if c is None else f"{c['systolic']}/{c['diastolic']}"

        pre = [c for c in bp if first is None or c["taken_at"] < first]
        near_40 = None
        if first is not None:
            window = [c for c in bp if abs((c["taken_at"] - first).total_seconds() / 60 - 40) <= 10]
            near_40 = min(
                window,
                key=lambda c: abs((c["taken_at"] - first).total_seconds() / 60 - 40),
                default=None,
            )
        screening = self.screening() or {}
        caution = pre_dose_caution([_reading(c) for c in pre], self.thresholds)
        last_alerts = evaluate(_reading(bp[-1]), thresholds=self.thresholds) if bp else []
        return {
            "minutes_first_dose_to_end": None
            if first is None
            else round((end - first).total_seconds() / 60),
            "bp_pre_dose": text(pre[-1] if pre else None),
            "bp_at_40_minutes": text(near_40),
            "bp_before_end": text(bp[-1] if bp else None),
            "vitals_acceptable_before_dosing": bool(pre) and caution is None,
            "vitals_acceptable_before_end": bool(bp) and not last_alerts,
            "lot_numbers": sorted(
                {v.current["lot_number"] for v in self._views("dose") if v.current["lot_number"]}
            ),
            "concomitant_medicines": {
                MEDICINES[k]: v for k, v in screening.get("medicines", {}).items()
            },
        }

    # ------------------------------------------------------------- internals

    def _views(self, kind: str) -> list[Any]:
        return self.live.views(kind)


def _reading(values: Mapping[str, Any]) -> VitalsReading:
    return VitalsReading(
        systolic=values["systolic"],
        diastolic=values["diastolic"],
        heart_rate=values["heart_rate"],
        spo2=values["spo2"],
        respiratory_rate=values["respiratory_rate"],
        temperature_c=values["temperature_c"],
    )
