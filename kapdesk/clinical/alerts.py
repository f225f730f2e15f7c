"""Alert rules for a vitals reading: table-driven, each traceable to CLINICAL.md.

The app assists and records; the clinician decides. Every threshold is a
clinic setting (AlertThresholds) with CLINICAL.md's default, and every alert
carries the rule that raised it and what the clinic's guidance suggests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kapdesk.clinical.vitals import VitalsReading, describe_vitals


class Level(StrEnum):
    CAUTION = "caution"
    URGENT = "urgent"


@dataclass(frozen=True)
class AlertThresholds:
    """Defaults from CLINICAL.md, "Default thresholds"; a clinic may change each."""

    caution_systolic: int = 140  # SPRAVATO label: > 140 systolic, weigh benefit and risk
    caution_diastolic: int = 90  # ... or > 90 diastolic
    urgent_systolic: int = 180  # local escalation protocols: >= 180 systolic
    urgent_diastolic: int = 110  # ... or >= 110 diastolic
    rise_systolic: int = 40  # SPRAVATO label data: +40 systolic over pre-dose baseline
    rise_diastolic: int = 25  # ... or +25 diastolic
    spo2_caution: int = 92  # clinic practice: < 92 % caution
    spo2_urgent: int = 90  # ... < 90 % urgent
    heart_rate_high: int = 120  # local escalation protocols: > 120 sustained
    heart_rate_low: int = 50  # ... or < 50
    # Not in CLINICAL.md's table, which is about the rise ketamine causes: a fall (a
    # faint, a vasovagal reaction) went unflagged and met discharge at 78/42 (QA). The
    # usual definition of hypotension, systolic < 90; diastolic < 50 leaves out the
    # healthy resting 110/58. A clinic sets its own.
    low_systolic: int = 90
    low_diastolic: int = 50
    # Respiratory depression, which REMS monitors (CLINICAL.md), has no number there: a
    # rate of 6/min raised nothing (QA). Sedation monitoring's usual lines: below 10/min
    # is slow breathing to watch, below 8/min needs action now. A clinic sets its own.
    respiratory_rate_caution: int = 10
    respiratory_rate_urgent: int = 8

    def is_low(self, systolic: float, diastolic: float) -> bool:
        """Below the low BP level, by either figure: the alert and discharge both ask."""
        return systolic < self.low_systolic or diastolic < self.low_diastolic


# How far a clinic may move each threshold from CLINICAL.md's default. Stricter is allowed
# within reason; looser than these would let a dangerous reading pass without an alert.
THRESHOLD_BOUNDS: dict[str, tuple[int, int]] = {
    "caution_systolic": (120, 160),
    "caution_diastolic": (75, 100),
    "urgent_systolic": (150, 200),
    "urgent_diastolic": (95, 120),
    "rise_systolic": (20, 60),
    "rise_diastolic": (10, 40),
    "spo2_caution": (90, 96),
    "spo2_urgent": (85, 92),
    "heart_rate_high": (100, 150),
    "heart_rate_low": (40, 60),
    "low_systolic": (80, 100),
    "low_diastolic": (40, 60),
    "respiratory_rate_caution": (8, 12),
    "respiratory_rate_urgent": (6, 10),
}
THRESHOLD_LABELS: dict[str, str] = {
    "caution_systolic": "Caution above, systolic (mmHg)",
    "caution_diastolic": "Caution above, diastolic (mmHg)",
    "urgent_systolic": "Urgent at or above, systolic (mmHg)",
    "urgent_diastolic": "Urgent at or above, diastolic (mmHg)",
    "rise_systolic": "Notable rise over baseline, systolic (mmHg)",
    "rise_diastolic": "Notable rise over baseline, diastolic (mmHg)",
    "spo2_caution": "SpO2 caution below (%)",
    "spo2_urgent": "SpO2 urgent below (%)",
    "heart_rate_high": "Heart rate high above (/min)",
    "heart_rate_low": "Heart rate low below (/min)",
    "low_systolic": "Low BP below, systolic (mmHg)",
    "low_diastolic": "Low BP below, diastolic (mmHg)",
    "respiratory_rate_caution": "Respiratory rate caution below (/min)",
    "respiratory_rate_urgent": "Respiratory rate urgent below (/min)",
}


def threshold_problems(values: dict[str, object]) -> list[str]:
    """Why a clinic's thresholds cannot be used, in sentences; empty if they can."""
    problems = []
    for name, value in values.items():
        if name not in THRESHOLD_BOUNDS:
            problems.append(f"“{name}” is not an alert threshold.")
            continue
        low, high = THRESHOLD_BOUNDS[name]
        if type(value) is not int or not low <= value <= high:
            problems.append(
                f"{THRESHOLD_LABELS[name]} must be a whole number from {low} to {high}."
            )
    if problems:
        return problems
    merged = AlertThresholds(**values)  # type: ignore[arg-type]
    if merged.caution_systolic >= merged.urgent_systolic:
        problems.append("The systolic caution level must be below the urgent level.")
    if merged.caution_diastolic >= merged.urgent_diastolic:
        problems.append("The diastolic caution level must be below the urgent level.")
    if merged.spo2_urgent >= merged.spo2_caution:
        problems.append("The SpO2 urgent level must be below the caution level.")
    if merged.respiratory_rate_urgent >= merged.respiratory_rate_caution:
        problems.append("The respiratory rate urgent level must be below the caution level.")
    return problems


EMERGENCY_SIGNS = (
    "chest pain",
    "shortness of breath",
    "sudden severe headache",
    "visual disturbance",
    "seizure",
    "reduced consciousness",
)
URGENT_ACTION = (
    "Recheck in 5 minutes and escalate per clinic protocol. Emergency care regardless "
    "of numbers for: " + ", ".join(EMERGENCY_SIGNS) + "."
)
RECHECK_MINUTES = 5  # CLINICAL.md: "two readings 5 min apart at that level"


@dataclass(frozen=True)
class Alert:
    rule: str
    level: Level
    reading: str
    reason: str
    action: str
    source: str

    @property
    def needs_recheck(self) -> bool:
        return self.level is Level.URGENT


@dataclass(frozen=True)
class Context:
    reading: VitalsReading
    baseline: tuple[float, float] | None  # pre-dose (systolic, diastolic)
    previous: VitalsReading | None  # the reading before this one, for "sustained"
    thresholds: AlertThresholds
    dosed: bool | None = None  # taken after the first dose; None: not known


@dataclass(frozen=True)
class Rule:
    rule: str
    level: Level
    applies: Callable[[Context], bool]
    reason: Callable[[Context], str]
    action: str | Callable[[Context], str]
    source: str


CAUTION_BEFORE_DOSING = "Before dosing: weigh benefit and risk, consider delaying."
CAUTION_AFTER_DOSING = "Keep checking as scheduled; recheck sooner if it keeps rising."


def _caution_action(c: Context) -> str:
    """What the label's caution asks, for when the reading was taken: both halves in one
    line were cut at 1024x600 after the first, and a glance after dosing read only the
    advice for before it (QA)."""
    if c.dosed is None:
        return f"{CAUTION_BEFORE_DOSING} During a session: keep checking as scheduled."
    return CAUTION_AFTER_DOSING if c.dosed else CAUTION_BEFORE_DOSING


def _bp(c: Context) -> str:
    return f"{c.reading.systolic}/{c.reading.diastolic}"


def _has_bp(c: Context) -> bool:
    return c.reading.systolic is not None and c.reading.diastolic is not None


def _sys(c: Context) -> int:
    return c.reading.systolic or 0  # only read where _has_bp(c) holds


def _dia(c: Context) -> int:
    return c.reading.diastolic or 0


def _base(c: Context) -> tuple[float, float]:
    return c.baseline or (0.0, 0.0)  # only read where a baseline exists


def _rise(c: Context) -> tuple[float, float]:
    return _sys(c) - _base(c)[0], _dia(c) - _base(c)[1]


def _crossed(c: Context, systolic: int, diastolic: int, how: str, urgent: bool = False) -> str:
    """What crossed the line, in words that never contradict the reading: "BP 166/98 is
    above 140/90" when both did, "BP 138/92: diastolic above 90" when one did (QA:
    "BP 138/92 is above 140/90" read as a false alarm)."""
    over_sys = _sys(c) >= systolic if urgent else _sys(c) > systolic
    over_dia = _dia(c) >= diastolic if urgent else _dia(c) > diastolic
    level = " the urgent level" if urgent else ""
    if over_sys and over_dia:
        return f"BP {_bp(c)} is {how}{level} {systolic}/{diastolic}."
    which, limit = ("systolic", systolic) if over_sys else ("diastolic", diastolic)
    return f"BP {_bp(c)}: {which} {how} {limit}" + (" (urgent level)." if urgent else ".")


def _low(c: Context) -> bool:
    return _has_bp(c) and c.thresholds.is_low(_sys(c), _dia(c))


def _below(c: Context) -> str:
    """ "BP 78/42 is below 90/50", or which of the two is: "BP 96/46: diastolic below 50"."""
    low_sys = _sys(c) < c.thresholds.low_systolic
    low_dia = _dia(c) < c.thresholds.low_diastolic
    if low_sys and low_dia:
        return f"BP {_bp(c)} is below {c.thresholds.low_systolic}/{c.thresholds.low_diastolic}."
    which, limit = (
        ("systolic", c.thresholds.low_systolic)
        if low_sys
        else ("diastolic", c.thresholds.low_diastolic)
    )
    return f"BP {_bp(c)}: {which} below {limit}."


RULES: tuple[Rule, ...] = (
    Rule(
        "bp_urgent",
        Level.URGENT,
        lambda c: (
            _has_bp(c)
            and (
                _sys(c) >= c.thresholds.urgent_systolic or _dia(c) >= c.thresholds.urgent_diastolic
            )
        ),
        lambda c: _crossed(
            c,
            c.thresholds.urgent_systolic,
            c.thresholds.urgent_diastolic,
            "at or above",
            urgent=True,
        ),
        URGENT_ACTION,
        "CLINICAL.md, Default thresholds: urgent (local clinic escalation protocols)",
    ),
    Rule(
        "bp_rise",
        Level.CAUTION,
        lambda c: (
            _has_bp(c)
            and c.baseline is not None
            and (
                _rise(c)[0] >= c.thresholds.rise_systolic
                or _rise(c)[1] >= c.thresholds.rise_diastolic
            )
        ),
        lambda c: (
            f"BP {_bp(c)} is {_rise(c)[0]:+.0f}/{_rise(c)[1]:+.0f} over the pre-dose "
            f"baseline {_base(c)[0]:.0f}/{_base(c)[1]:.0f}"
            f" (notable: +{c.thresholds.rise_systolic} or +{c.thresholds.rise_diastolic})."
        ),
        "Recheck sooner and watch for symptoms; consider the clinic's escalation steps.",
        "CLINICAL.md, Default thresholds: notable rise (SPRAVATO label data)",
    ),
    Rule(
        "bp_caution",
        Level.CAUTION,
        lambda c: (
            _has_bp(c)
            and (
                _sys(c) > c.thresholds.caution_systolic or _dia(c) > c.thresholds.caution_diastolic
            )
        ),
        lambda c: _crossed(
            c, c.thresholds.caution_systolic, c.thresholds.caution_diastolic, "above"
        ),
        _caution_action,
        "CLINICAL.md, Default thresholds: pre-dose caution (SPRAVATO label)",
    ),
    Rule(
        "bp_low",
        Level.CAUTION,
        _low,
        _below,
        "Have the patient lie flat and recheck in 5 minutes; ask about dizziness and watch "
        "for fainting. Escalate per clinic protocol if it stays low or with symptoms.",
        "Low blood pressure: not in CLINICAL.md's table; systolic < 90 is the usual "
        "definition of hypotension (a clinic setting)",
    ),
    Rule(
        "spo2_urgent",
        Level.URGENT,
        lambda c: c.reading.spo2 is not None and c.reading.spo2 < c.thresholds.spo2_urgent,
        lambda c: f"SpO2 {c.reading.spo2}% is below {c.thresholds.spo2_urgent}%.",
        "Check the probe and the airway now; stimulate, give oxygen per clinic protocol, "
        "and escalate. Recheck in 5 minutes.",
        "CLINICAL.md, Default thresholds: SpO2 < 90 % urgent (clinic practice, REMS)",
    ),
    Rule(
        "spo2_caution",
        Level.CAUTION,
        lambda c: (
            c.reading.spo2 is not None
            and c.thresholds.spo2_urgent <= c.reading.spo2 < c.thresholds.spo2_caution
        ),
        lambda c: f"SpO2 {c.reading.spo2}% is below {c.thresholds.spo2_caution}%.",
        "Check the probe and the patient's breathing; recheck soon.",
        "CLINICAL.md, Default thresholds: SpO2 < 92 % caution (clinic practice)",
    ),
    Rule(
        "respiratory_rate_urgent",
        Level.URGENT,
        lambda c: (
            c.reading.respiratory_rate is not None
            and c.reading.respiratory_rate < c.thresholds.respiratory_rate_urgent
        ),
        lambda c: (
            f"Respiratory rate {c.reading.respiratory_rate}/min is below "
            f"{c.thresholds.respiratory_rate_urgent}/min."
        ),
        "Check the airway and breathing now: rouse the patient, give oxygen per clinic "
        "protocol, and escalate. Recheck in 5 minutes.",
        "Respiratory depression (monitored under REMS, CLINICAL.md); the rate is not in "
        "CLINICAL.md: below 8/min is sedation monitoring's usual line (a clinic setting)",
    ),
    Rule(
        "respiratory_rate_caution",
        Level.CAUTION,
        lambda c: (
            c.reading.respiratory_rate is not None
            and c.thresholds.respiratory_rate_urgent
            <= c.reading.respiratory_rate
            < c.thresholds.respiratory_rate_caution
        ),
        lambda c: (
            f"Respiratory rate {c.reading.respiratory_rate}/min is below "
            f"{c.thresholds.respiratory_rate_caution}/min."
        ),
        "Watch the breathing and the SpO2; rouse the patient if drowsy; recheck soon.",
        "Respiratory depression (monitored under REMS, CLINICAL.md); the rate is not in "
        "CLINICAL.md: below 10/min is sedation monitoring's usual line (a clinic setting)",
    ),
    Rule(
        "heart_rate_sustained_high",
        Level.URGENT,
        lambda c: (
            c.reading.heart_rate is not None
            and c.previous is not None
            and c.previous.heart_rate is not None
            and c.reading.heart_rate > c.thresholds.heart_rate_high
            and c.previous.heart_rate > c.thresholds.heart_rate_high
        ),
        lambda c: (
            f"Heart rate {c.reading.heart_rate}/min and "
            f"{c.previous.heart_rate if c.previous else 0}/min "
            f"before: above {c.thresholds.heart_rate_high} on two readings in a row."
        ),
        URGENT_ACTION,
        "CLINICAL.md, Default thresholds: heart rate > 120 sustained",
    ),
    Rule(
        "heart_rate_high",
        Level.CAUTION,
        lambda c: (
            c.reading.heart_rate is not None and c.reading.heart_rate > c.thresholds.heart_rate_high
        ),
        lambda c: (
            f"Heart rate {c.reading.heart_rate}/min is above {c.thresholds.heart_rate_high}/min."
        ),
        "Recheck; sustained above this level needs escalation.",
        "CLINICAL.md, Default thresholds: heart rate > 120",
    ),
    Rule(
        "heart_rate_low",
        Level.URGENT,
        lambda c: (
            c.reading.heart_rate is not None and c.reading.heart_rate < c.thresholds.heart_rate_low
        ),
        lambda c: (
            f"Heart rate {c.reading.heart_rate}/min is below {c.thresholds.heart_rate_low}/min."
        ),
        URGENT_ACTION,
        "CLINICAL.md, Default thresholds: heart rate < 50",
    ),
)

# A more severe rule of the same family makes the milder one redundant.
SUPERSEDES = {
    "bp_urgent": ("bp_caution", "bp_rise"),
    "spo2_urgent": ("spo2_caution",),
    "heart_rate_sustained_high": ("heart_rate_high",),
}


def evaluate(
    reading: VitalsReading,
    *,
    baseline: tuple[float, float] | None = None,
    previous: VitalsReading | None = None,
    thresholds: AlertThresholds | None = None,
    dosed: bool | None = None,
) -> list[Alert]:
    """Every rule the reading meets, most severe first; ``dosed``: whether the reading
    was taken after the first dose (the advice differs), None if not known."""
    context = Context(reading, baseline, previous, thresholds or AlertThresholds(), dosed)
    raised = [rule for rule in RULES if rule.applies(context)]
    hidden = {name for rule in raised for name in SUPERSEDES.get(rule.rule, ())}
    alerts = [
        Alert(
            rule=rule.rule,
            level=rule.level,
            reading=describe_vitals(reading.as_dict()),
            reason=rule.reason(context),
            action=rule.action if isinstance(rule.action, str) else rule.action(context),
            source=rule.source,
        )
        for rule in raised
        if rule.rule not in hidden
    ]
    return sorted(alerts, key=lambda a: a.level is not Level.URGENT)


def pre_dose_caution(
    readings: Sequence[VitalsReading], thresholds: AlertThresholds | None = None
) -> Alert | None:
    """The label's pre-dose caution for the latest pre-dose BP, if it applies."""
    with_bp = [r for r in readings if r.systolic is not None]
    if not with_bp:
        return None
    for alert in evaluate(with_bp[-1], thresholds=thresholds, dosed=False):
        if alert.rule in ("bp_caution", "bp_urgent"):
            return alert
    return None
