"""Ending a session: the protocol's discharge criteria, the override, and the REMS figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapdesk.clinical.alerts import RECHECK_MINUTES, AlertThresholds, evaluate, pre_dose_caution
from kapdesk.clinical.discharge import DischargeFacts, DischargeItem, evaluate_discharge
from kapdesk.clinical.entries import clean_text
from kapdesk.clinical.protocols import Protocol
from kapdesk.clinical.scales import MOAAS, RASS, REMS_CHECK_ID, SCALES
from kapdesk.clinical.schedule import RECHECK_EARLY
from kapdesk.clinical.screening import MEDICINES
from kapdesk.clinical.vitals import ValidationError, VitalsReading, highest_pressures
from kapdesk.session.alerting import recheck_opens
from kapdesk.session.dosing import screening
from kapdesk.session.entries import StoredVitals
from kapdesk.session.state import SessionState

# Minutes after the first dose the REMS form asks a blood pressure for, and how far
# from it a reading may be (CLINICAL.md, REMS section).
REMS_BP_MINUTE = 40
REMS_BP_WINDOW = 10


@dataclass(frozen=True)
class SessionSummary:
    duration: dt.timedelta
    doses: int
    total_mg: float
    readings: int
    highest_bp: tuple[int, int, str] | None  # systolic, diastolic, clock time
    # The reading with the highest diastolic, when it is not highest_bp's diastolic.
    highest_diastolic: tuple[int, int, str] | None = None
    # The discharge criteria unmet when the session was ended, and the override's reason.
    unmet: tuple[str, ...] = ()
    criteria: int = 0
    override_reason: str | None = None

    def highest_words(self) -> str | None:
        """ "165/100 at 10:05", and the highest diastolic when another reading has it:
        150/112 is urgent by its diastolic (CLINICAL.md, >= 110) and went unsaid (QA)."""
        if self.highest_bp is None:
            return None
        systolic, diastolic, at = self.highest_bp
        words = f"{systolic}/{diastolic} at {at}"
        if self.highest_diastolic is not None:
            systolic, diastolic, at = self.highest_diastolic
            words += f"; highest diastolic {systolic}/{diastolic} at {at}"
        return words


def _latest_scores(
    state: SessionState,
) -> tuple[dict[str, tuple[int, ...] | None], dt.datetime | None]:
    """The latest answers of each scale and of the REMS check (None: never scored), and
    when that REMS check was made."""
    latest: dict[str, tuple[int, ...] | None] = dict.fromkeys((*SCALES, REMS_CHECK_ID))
    checked_at = None
    for score in state.scores():
        latest[score.content.scale_id] = score.content.answers
        if score.content.scale_id == REMS_CHECK_ID:
            checked_at = score.at
    return latest, checked_at


def sedation_not_resolved(state: SessionState) -> list[str]:
    """The latest MOAA/S and RASS scores that do not say sedation has resolved, as the
    scales word them ("MOAA/S 4: lethargic ..."): what a REMS check saying "sedation
    absent" would contradict."""
    latest, _checked_at = _latest_scores(state)
    said = []
    for scale in (MOAAS, RASS):
        answers = latest[scale.id]
        if answers and answers[0] != scale.resolved:
            said.append(scale.label(answers[0]))
    return said


def breathing_slow(state: SessionState, thresholds: AlertThresholds) -> str | None:
    """The latest respiratory rate, if below the caution level ("RR 6/min at 10:27"): what
    a REMS check saying "respiratory depression absent" would contradict."""
    latest = _latest_taken(state, "respiratory_rate")
    if latest is None or latest[0] >= thresholds.respiratory_rate_caution:
        return None
    return f"RR {latest[0]:g}/min at {state.local_clock(latest[1])}"


def discharge_items(
    state: SessionState,
    protocol: Protocol | None,
    thresholds: AlertThresholds,
    now: dt.datetime,
    confirmed: frozenset[str] = frozenset(),
) -> list[DischargeItem]:
    if protocol is None:
        return []
    latest, checked_at = _latest_scores(state)
    readings = state.readings()
    last = readings.last_with_bp()  # from the columns: the panel asks at every reading
    last_bp = None if last is None else readings.reading_at(last)
    first = state.first_dose_at
    if last is not None and first is not None and readings[last].at < first:
        # The pre-dose reading says nothing of the patient now (Xvfb QA: "met" on it).
        last_bp = None
    # The one before it, since the first dose: "consistent at a safe level" (CLINICAL.md).
    before = None if last_bp is None or last is None else readings.last_with_bp(before=last)
    previous_bp = None
    if before is not None and (first is None or readings[before].at >= first):
        values = readings.reading_at(before)
        previous_bp = (values.systolic or 0, values.diastolic or 0, readings[before].at)
    # The recheck an urgent reading calls for, if no BP has been taken since it opened.
    opens = recheck_opens(state)
    rems = latest[REMS_CHECK_ID]
    moaas, rass = latest["moaas"], latest["rass"]
    _start, stop = state.infusion_times()
    facts = DischargeFacts(
        now=now,
        first_dose_at=state.first_dose_at,
        infusion_stop=stop,
        latest_moaas=moaas[0] if moaas else None,
        latest_rass=rass[0] if rass else None,
        dissociation_present=None if rems is None else bool(rems[1]),
        dissociation_checked_at=checked_at,
        latest_bp=None if last_bp is None else (last_bp.systolic or 0, last_bp.diastolic or 0),
        previous_bp=previous_bp,
        baseline=state.baseline(),
        confirmed=confirmed,
        recheck_from=opens,
        respiratory_depression=None if rems is None else bool(rems[2]),
        latest_spo2=_latest_since(state, "spo2", first),
        latest_rr=_latest_since(state, "respiratory_rate", first),
    )
    return evaluate_discharge(protocol.discharge, facts, thresholds)


def _latest_since(
    state: SessionState, column: str, since: dt.datetime | None
) -> tuple[float, dt.datetime] | None:
    """The latest value of a reading's ``column`` taken at or after ``since`` (the first
    dose), with when; None if none was, or there is no dose yet."""
    latest = None if since is None else _latest_taken(state, column)
    return latest if latest is not None and since is not None and latest[1] >= since else None


def _latest_taken(state: SessionState, column: str) -> tuple[float, dt.datetime] | None:
    """The latest value of a reading's ``column`` that was taken, with when; None if none
    was. From the columns, newest first: the panel asks at every reading."""
    readings = state.readings()
    values = readings.column(column)
    for index in range(len(values) - 1, -1, -1):
        value = values[index]
        if value is not None and value == value:  # taken (not None, nor NaN as read)
            return float(value), readings[index].at
    return None


def discharge_payload(
    items: list[DischargeItem],
    confirmed: frozenset[str],
    override_reason: str | None,
    ready_to_leave_minutes: int | str | None,
    rems: dict[str, Any],
) -> dict[str, Any]:
    """The discharge decision as stored; with criteria unmet, only with an override reason."""
    minutes = _ready_minutes(ready_to_leave_minutes)
    unmet = [item.label for item in items if not item.met]
    reason = (override_reason or "").strip()
    if unmet and not reason:
        raise ValidationError(
            "discharge",
            "Not all discharge criteria are met: " + "; ".join(unmet) + ". To end "
            "anyway, give the reason for the override.",
        )
    return {
        "criteria": len(items),  # none: no protocol, so nothing was checked
        "unmet": unmet,
        "confirmed": sorted(confirmed),
        # An override only where something was unmet: a reason typed with every criterion
        # met (or none, without a protocol) was stored as one, and the log, the patients
        # page and the course said "ended by override" of a session that met them all. It
        # is kept as the clinician's note on the end.
        "override_reason": clean_text(reason, "The reason", limit=2000)
        if reason and unmet
        else None,
        "note": clean_text(reason, "The note", limit=2000) if reason and not unmet else None,
        "ready_to_leave_minutes": minutes,
        "rems": rems,
    }


# The REMS form's "if there were no 2-hour minimum, when would the patient have been ready
# to leave?" (CLINICAL.md): minutes from the first device, within one day.
MAX_READY_MINUTES = 24 * 60


def _ready_minutes(value: int | str | None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        minutes = int(str(value).strip())
    except ValueError:
        minutes = -1
    if not 0 <= minutes <= MAX_READY_MINUTES:
        raise ValidationError(
            "ready_to_leave_minutes",
            f"“{value}” is not minutes until ready to leave: write a whole number from 0 "
            f"to {MAX_READY_MINUTES}, or leave it empty.",
        )
    return minutes


def rems_summary(
    state: SessionState, thresholds: AlertThresholds, now: dt.datetime
) -> dict[str, Any]:
    """The REMS Patient Monitoring Form's figures, as captured (CLINICAL.md, REMS)."""
    first = state.first_dose_at
    end = state.ended_at or now
    readings = state.readings()
    bp = [readings[i] for i in readings.with_bp()]

    def text(stored: StoredVitals | None) -> str | None:
        if stored is None:
            return None
        return f"{stored.reading.systolic}/{stored.reading.diastolic}"

    pre = [r for r in bp if first is None or r.at < first]
    near_40 = None
    if first is not None:

        def off_40(r: StoredVitals) -> float:
            return abs((r.at - first).total_seconds() / 60 - REMS_BP_MINUTE)

        window = [r for r in bp if off_40(r) <= REMS_BP_WINDOW]
        near_40 = min(window, key=off_40, default=None)
    screened = screening(state) or {}
    pre_readings: list[VitalsReading] = [r.reading for r in pre]
    caution = pre_dose_caution(pre_readings, thresholds)
    # An urgent pre-dose reading not rechecked before the dose (CLINICAL.md: two readings
    # 5 minutes apart) leaves the vitals not acceptable, whatever came a minute after it.
    # Xvfb QA: "yes" with 182/112 taken a minute before the dose.
    recheck = dt.timedelta(minutes=RECHECK_MINUTES) - RECHECK_EARLY
    unrechecked = any(
        any(a.rule == "bp_urgent" for a in evaluate(r.reading, thresholds=thresholds))
        and not any(later.at >= r.at + recheck for later in pre)
        for r in pre
    )
    # Before the end: the latest two readings since the dose raising no alert, and no
    # recheck after an urgent one still due, as the discharge BP criterion asks ("until
    # values remain consistent at a safe level"). Xvfb QA: "yes" on the form while the
    # discharge check said not met, the recheck after 190/115 still due.
    since_dose = [r for r in bp if first is None or r.at >= first]
    steady = len(since_dose) >= 2 and not any(
        evaluate(r.reading, thresholds=thresholds) for r in since_dose[-2:]
    )
    return {
        "minutes_first_dose_to_end": None
        if first is None
        else round((end - first).total_seconds() / 60),
        "bp_pre_dose": text(pre[-1] if pre else None),
        "bp_at_40_minutes": text(near_40),
        "bp_before_end": text(bp[-1] if bp else None),
        "vitals_acceptable_before_dosing": bool(pre) and caution is None and not unrechecked,
        "vitals_acceptable_before_end": steady and recheck_opens(state) is None,
        "lot_numbers": sorted(
            {d.content.lot_number for d in state.doses() if d.content.lot_number}
        ),
        "concomitant_medicines": {
            MEDICINES[k]: v for k, v in _mapping(screened.get("medicines", {})).items()
        },
    }


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def summary(state: SessionState, now: dt.datetime) -> SessionSummary:
    doses = state.doses()
    readings = state.readings()
    highest_at, diastolic_at = highest_pressures(
        list(zip(readings.column("systolic"), readings.column("diastolic"), strict=True))
    )
    highest = None if highest_at is None else readings[highest_at]
    by_diastolic = None if diastolic_at is None else readings[diastolic_at]

    def figures(stored: StoredVitals | None) -> tuple[int, int, str] | None:
        if stored is None:
            return None
        reading = stored.reading
        return reading.systolic or 0, reading.diastolic or 0, state.local_clock(stored.at)

    # The latest discharge decision (a session has one; "latest" if a record has two).
    decisions = state.events_of("discharge")
    decision = decisions[-1].payload if decisions and state.ended_at is not None else {}
    return SessionSummary(
        unmet=tuple(decision.get("unmet") or ()),
        criteria=int(decision.get("criteria") or 0),
        override_reason=decision.get("override_reason"),
        duration=(state.ended_at or now) - state.started_at,
        doses=len(doses),
        total_mg=sum(d.content.mg for d in doses),
        readings=len(readings),
        highest_bp=figures(highest),
        highest_diastolic=figures(by_diastolic),
    )
