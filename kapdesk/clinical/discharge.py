"""Discharge readiness against a protocol's criteria (CLINICAL.md, REMS section).

Lists every criterion with whether it is met and why; the clinician decides.
Ending anyway is an override with a reason, recorded by the caller.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.elapsed import format_t_plus, minute_up
from kapdesk.clinical.protocols import DischargeRules
from kapdesk.clinical.scales import MOAAS, RASS


@dataclass(frozen=True)
class DischargeFacts:
    now: dt.datetime
    first_dose_at: dt.datetime | None
    infusion_stop: dt.datetime | None = None
    latest_moaas: int | None = None
    latest_rass: int | None = None
    dissociation_present: bool | None = None  # the latest REMS check's answer
    dissociation_checked_at: dt.datetime | None = None  # ... and when it was made
    latest_bp: tuple[int, int] | None = None
    # The BP reading before the latest since the first dose, and when it was taken:
    # CLINICAL.md (REMS), "until values remain consistent at a safe level".
    previous_bp: tuple[int, int, dt.datetime] | None = None
    baseline: tuple[float, float] | None = None
    confirmed: frozenset[str] = frozenset()
    # From when a BP reading counts as the recheck an urgent reading calls for (CLINICAL.md:
    # "two readings 5 min apart"), while none has been taken since; None: none is due.
    recheck_from: dt.datetime | None = None
    # The latest REMS check's answer on respiratory depression (None: never checked), and
    # the latest SpO2 and respiratory rate taken since the first dose, with when.
    respiratory_depression: bool | None = None
    latest_spo2: tuple[float, dt.datetime] | None = None
    latest_rr: tuple[float, dt.datetime] | None = None


@dataclass(frozen=True)
class DischargeItem:
    label: str
    met: bool
    detail: str


def evaluate_discharge(
    rules: DischargeRules, facts: DischargeFacts, thresholds: AlertThresholds | None = None
) -> list[DischargeItem]:
    limits = thresholds or AlertThresholds()
    items = []
    if rules.minimum_minutes is not None:
        items.append(_minimum("the first dose", facts.first_dose_at, rules.minimum_minutes, facts))
    if rules.minimum_minutes_after_infusion_stop is not None:
        items.append(
            _minimum(
                "the infusion stopped",
                facts.infusion_stop,
                rules.minimum_minutes_after_infusion_stop,
                facts,
            )
        )
    if rules.sedation_resolved:
        items.append(_sedation(facts))
    if rules.dissociation_resolved:
        if facts.dissociation_present is None:
            # Said for any drug: "No REMS check recorded" read as an esketamine rule in an
            # IV ketamine session (QA). The check's questions are asked with Ctrl+J.
            items.append(
                DischargeItem(
                    "Dissociation resolved",
                    False,
                    "Not checked yet: Ctrl+J asks whether dissociation (and sedation, and "
                    "slowed breathing) is present.",
                )
            )
        else:
            items.append(
                DischargeItem(
                    "Dissociation resolved",
                    not facts.dissociation_present,
                    f"Latest check{_when(facts.dissociation_checked_at, facts)}: dissociation "
                    + ("present." if facts.dissociation_present else "absent."),
                )
            )
    items.append(_breathing(facts, limits))
    items.append(_blood_pressure(rules, facts, limits))
    for label in rules.checklist:
        met = label in facts.confirmed
        items.append(DischargeItem(label, met, "Confirmed." if met else "Not yet confirmed."))
    return items


def _breathing(facts: DischargeFacts, limits: AlertThresholds) -> DischargeItem:
    """CLINICAL.md (REMS): observe "until sedation, dissociation and respiratory depression
    have resolved". Met on what was seen since the first dose: the latest check says no
    respiratory depression, and the latest SpO2 and respiratory rate taken are not below
    their caution levels (a patient at SpO2 86 % and RR 7 read as fit to leave, QA). With
    nothing seen, not met: resolution is a finding, not an absence of one."""
    label = (
        f"Breathing resolved (no respiratory depression; SpO2 {limits.spo2_caution} % or "
        f"more, RR {limits.respiratory_rate_caution}/min or more)"
    )
    seen: list[str] = []
    wrong: list[str] = []
    if facts.respiratory_depression is not None:
        words = f"check{_when(facts.dissociation_checked_at, facts)}: respiratory depression " + (
            "present" if facts.respiratory_depression else "absent"
        )
        (wrong if facts.respiratory_depression else seen).append(words)
    for taken, name, unit, caution in (
        (facts.latest_spo2, "SpO2", " %", limits.spo2_caution),
        (facts.latest_rr, "RR", "/min", limits.respiratory_rate_caution),
    ):
        if taken is not None:
            value, at = taken
            words = f"{name} {value:g}{unit}{_when(at, facts)}"
            (wrong if value < caution else seen).append(words)
    if wrong:
        return DischargeItem(label, False, "Latest " + "; ".join(wrong) + ".")
    if not seen:
        return DischargeItem(
            label,
            False,
            "Not seen since the first dose: take SpO2 (Ctrl+B) or answer the check (Ctrl+J).",
        )
    # What was not taken is said beside what was: the label names an RR, and an item met
    # with none recorded read as one seen (Xvfb QA).
    unseen = [
        name
        for name, taken in (("SpO2", facts.latest_spo2), ("RR", facts.latest_rr))
        if taken is None
    ]
    missing = f" {' and '.join(unseen)} not recorded since the first dose." if unseen else ""
    return DischargeItem(label, True, "Latest " + "; ".join(seen) + "." + missing)


def _when(at: dt.datetime | None, facts: DischargeFacts) -> str:
    """ " at T+95": a check made at the first dose, "absent" before anything began, read
    as resolved with nothing to say how old it was (Xvfb QA)."""
    return "" if at is None else f" at {format_t_plus(at, facts.first_dose_at)}"


def _minimum(
    since: str, start: dt.datetime | None, minutes: float, facts: DischargeFacts
) -> DischargeItem:
    label = f"At least {minutes:g} minutes since {since}"
    if start is None:
        return DischargeItem(label, False, f"Not yet: {since} is not recorded.")
    elapsed = (facts.now - start).total_seconds() / 60
    # Whole minutes, counted down as the T+ clock counts them: rounded, 119.5 read "120 of
    # 120 minutes" beside NOT MET (Xvfb QA saw "2 of 120" at 00:01:42).
    return DischargeItem(
        label, elapsed >= minutes, f"{math.floor(elapsed)} of {minutes:g} minutes."
    )


def _sedation(facts: DischargeFacts) -> DischargeItem:
    # Either scale may be the one in use; each that was scored must show resolution.
    label = (
        f"Sedation resolved ({MOAAS.name} {MOAAS.resolved}, {RASS.name} {RASS.resolved}; "
        "each scale that was scored)"
    )
    scored = [
        (scale, value)
        for scale, value in ((MOAAS, facts.latest_moaas), (RASS, facts.latest_rass))
        if value is not None
    ]
    if not scored:
        return DischargeItem(label, False, "No sedation score recorded.")
    met = all(value == scale.resolved for scale, value in scored)
    detail = "; ".join(f"latest {scale.label(value)}" for scale, value in scored)
    return DischargeItem(label, met, detail[0].upper() + detail[1:] + ".")


def _blood_pressure(
    rules: DischargeRules, facts: DischargeFacts, limits: AlertThresholds
) -> DischargeItem:
    margin = rules.bp_margin_over_baseline
    label = (
        f"BP below caution ({limits.caution_systolic}/{limits.caution_diastolic}) "
        f"or within {margin:g} mmHg of baseline; not below "
        f"{limits.low_systolic}/{limits.low_diastolic}; the latest two readings"
    )
    if facts.latest_bp is None:
        said = "since the first dose" if facts.first_dose_at is not None else "recorded"
        return DischargeItem(label, False, f"No blood pressure {said}.")
    systolic, diastolic = facts.latest_bp
    base = f"; baseline {facts.baseline[0]:.0f}/{facts.baseline[1]:.0f}" if facts.baseline else ""
    if facts.recheck_from is not None:
        # Xvfb QA: met on a latest 132/84 while the recheck after an urgent 185/112 was
        # still counting down in the header.
        opens = format_t_plus(
            minute_up(facts.recheck_from, facts.first_dose_at), facts.first_dose_at
        )
        return DischargeItem(
            label,
            False,
            f"The recheck after an urgent reading is still due (a BP from {opens} counts); "
            f"latest {systolic}/{diastolic}{base}.",
        )
    unsafe = _bp_unsafe(systolic, diastolic, margin, facts, limits)
    if unsafe:
        return DischargeItem(label, False, f"Latest {systolic}/{diastolic} {unsafe}{base}.")
    # One safe reading is not yet values that "remain consistent at a safe level" (CLINICAL.md,
    # REMS): Xvfb QA, met by a 138/86 taken three minutes after 200/125.
    previous = facts.previous_bp
    if previous is None:
        return DischargeItem(
            label,
            False,
            f"Latest {systolic}/{diastolic}, the only one "
            + ("since the first dose" if facts.first_dose_at is not None else "recorded")
            + f": take another to show it stays at a safe level{base}.",
        )
    before = _bp_unsafe(previous[0], previous[1], margin, facts, limits)
    if before:
        return DischargeItem(
            label,
            False,
            f"Latest {systolic}/{diastolic}, but the one before, {previous[0]}/{previous[1]}"
            f"{_when(previous[2], facts)}, {before}: take another to show it stays at a safe "
            f"level{base}.",
        )
    return DischargeItem(
        label,
        True,
        f"Latest {systolic}/{diastolic}, and {previous[0]}/{previous[1]} before it{base}.",
    )


def _bp_unsafe(
    systolic: int, diastolic: int, margin: float, facts: DischargeFacts, limits: AlertThresholds
) -> str:
    """Why a reading is not at a safe level to leave on ("" if it is): over the caution
    level and more than the margin over the baseline, at the urgent level (near a high
    baseline is no comfort there), or below the low level."""
    if systolic >= limits.urgent_systolic or diastolic >= limits.urgent_diastolic:
        return "is at the urgent level"
    # Nor is a fall: "below caution" and "within the margin" were both true of 82/44
    # after a baseline of 138/86, and a patient about to faint met the criterion (QA).
    if limits.is_low(systolic, diastolic):
        return f"is below the low level {limits.low_systolic}/{limits.low_diastolic}"
    below = systolic <= limits.caution_systolic and diastolic <= limits.caution_diastolic
    near = facts.baseline is not None and (
        systolic - facts.baseline[0] <= margin and diastolic - facts.baseline[1] <= margin
    )
    return "" if below or near else "is above caution and more than the margin over baseline"
