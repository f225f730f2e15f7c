"""The course of treatment: one plain summary per dosing session, and the course-level
findings a clinician reads across them (response, remission, a rising BP baseline).

Plain data in, plain data out: the store fills CourseSession, the course view draws it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kapdesk.clinical.alerts import AlertThresholds


@dataclass(frozen=True)
class CourseSession:
    """One dosing session as the course view shows it."""

    session_id: uuid.UUID
    number: int  # 1-based position in the course, oldest first
    started_at: dt.datetime  # UTC
    zone_name: str
    protocol: str
    ended: bool
    drug: str | None  # e.g. "ketamine", "esketamine"; None when no dose was given
    dose_mg: float | None  # total given in the session
    dose_mg_per_kg: float | None  # None when the patient's weight is unknown
    pre_dose_systolic: int | None  # the pre-dose baseline reading
    pre_dose_diastolic: int | None
    peak_systolic: int | None  # the session's highest reading (ranked by systolic)
    peak_diastolic: int | None
    alerts: int  # alerts raised in the session
    urgent_alerts: int
    overrides: int  # clinician overrides (dosing cautions, discharge criteria)
    # Self-report totals recorded for this session, by instrument id ("phq9", "gad7",
    # "pcl5"); None where the latest response was incomplete and so not scored.
    scores: Mapping[str, int | None] = field(default_factory=dict)
    phq9_item9: int | None = None  # the latest PHQ-9's item 9 answer, if any
    # The reading with the highest diastolic, when it is higher than the peak's: 185/112
    # is urgent by its diastolic and went unsaid beside a peak of 192/84 (QA).
    highest_diastolic: tuple[int, int] | None = None
    # The last BP before the first dose: what the dose was weighed on (the pre-dose
    # caution, session/dosing.py), where the baseline above is the mean of them all.
    last_pre_dose: tuple[int, int] | None = None


# CLINICAL.md, "Scales": remission is PHQ-9 below 5 (GAD-7 below 5). Other instruments
# have no remission rule there, so none is marked.
REMISSION_BELOW: Mapping[str, int] = {"phq9": 5, "gad7": 5}

# The rising-baseline rule is kapdesk's own, not CLINICAL.md's: the mean pre-dose BP of
# the course's last three baselines against its first three (the last two against the
# first two while there are only four or five, so that no session counts on both sides),
# flagged at +10 systolic or +5 diastolic, once at least four sessions have a baseline.
# Uncontrolled hypertension is a contraindication (CLINICAL.md, "Blood pressure"), and a
# drift of this size over a course is the cue to re-screen before it reaches the caution
# level.
TREND_WINDOW = 3
TREND_MIN_SESSIONS = 4
TREND_RISE_SYSTOLIC = 10
TREND_RISE_DIASTOLIC = 5

BaselineBP = tuple[CourseSession, tuple[int, int]]  # a session and its pre-dose systolic/diastolic


@dataclass(frozen=True)
class BaselineFindings:
    """What the pre-dose blood pressures across the course say, as sentences."""

    # session id -> "Pre-dose BP 146/92 was above the caution level 140/90."
    above_caution: Mapping[uuid.UUID, str] = field(default_factory=dict)
    trending_up: bool = False
    trend_reason: str | None = None


@dataclass(frozen=True)
class ScoreMark:
    """One instrument's total in one session, against the course baseline."""

    total: int | None
    response: bool
    remission: bool


@dataclass(frozen=True)
class SessionMarks:
    session_id: uuid.UUID
    number: int
    scores: Mapping[str, ScoreMark]  # instrument id -> mark
    pre_dose_above_caution: str | None  # the sentence, when it applies


@dataclass(frozen=True)
class CourseSummary:
    sessions: tuple[SessionMarks, ...]  # in course order
    baselines: Mapping[str, int | None]  # instrument id -> the course baseline total
    findings: BaselineFindings


def course_baseline(sessions: Sequence[CourseSession], instrument_id: str) -> int | None:
    """The first scored total of the instrument in the course; None if it was never scored."""
    for session in _in_order(sessions):
        total = session.scores.get(instrument_id)
        if total is not None:
            return total
    return None


def response(baseline: int | None, total: int | None) -> bool:
    """A drop of 50 % or more from the course baseline (CLINICAL.md, "Scales")."""
    if not baseline or total is None:
        return False  # from a baseline of 0 there is nothing to halve
    return 2 * (baseline - total) >= baseline  # whole numbers: no rounding at exactly 50 %


def remission(instrument_id: str, total: int | None) -> bool:
    """PHQ-9 or GAD-7 below 5 (CLINICAL.md, "Scales"); False for other instruments."""
    below = REMISSION_BELOW.get(instrument_id)
    return below is not None and total is not None and total < below


def bp_baseline_flags(
    sessions: Sequence[CourseSession], thresholds: AlertThresholds
) -> BaselineFindings:
    """Pre-dose baselines above the caution level, and whether the baseline is trending up."""
    baselines = _baselines(sessions)
    above: dict[uuid.UUID, str] = {}
    for session, baseline in baselines:
        # As the pre-dose caution (AlertThresholds, session/dosing.py): the last reading
        # before the dose, strictly above either number. Flagged by the mean of the
        # pre-dose readings, 152/94 then 138/86 read "145/90 was above the caution level"
        # on a session the caution had let go ahead without a word (QA).
        systolic, diastolic = session.last_pre_dose or baseline
        if systolic > thresholds.caution_systolic or diastolic > thresholds.caution_diastolic:
            # Named as the last before the dose: beside "BP pre-dose 146/92" (the mean),
            # "Pre-dose BP 148/93" read as a second, different pre-dose figure.
            which = "Last BP before the dose" if session.last_pre_dose else "Pre-dose BP"
            above[session.session_id] = (
                f"{which} {systolic}/{diastolic} was above the caution level "
                f"{thresholds.caution_systolic}/{thresholds.caution_diastolic}."
            )
    reason = _trend_reason(baselines)
    return BaselineFindings(above, reason is not None, reason)


def summarise_course(
    sessions: Sequence[CourseSession], thresholds: AlertThresholds
) -> CourseSummary:
    """Per-session response and remission marks per instrument, and the BP findings."""
    ordered = _in_order(sessions)
    instruments = sorted({i for s in ordered for i in s.scores})
    baselines = {i: course_baseline(ordered, i) for i in instruments}
    findings = bp_baseline_flags(ordered, thresholds)
    first_scored = {
        i: next((s.number for s in ordered if s.scores.get(i) is not None), None)
        for i in instruments
    }
    # Response and remission are findings of the course: none at its baseline itself (a
    # first score under 5 is where the course began, not a remission; QA).
    marks = tuple(
        SessionMarks(
            session_id=s.session_id,
            number=s.number,
            scores={
                i: ScoreMark(
                    total=s.scores[i],
                    response=response(baselines[i], s.scores[i]) and s.number != first_scored[i],
                    remission=remission(i, s.scores[i]) and s.number != first_scored[i],
                )
                for i in instruments
                if i in s.scores
            },
            pre_dose_above_caution=findings.above_caution.get(s.session_id),
        )
        for s in ordered
    )
    return CourseSummary(marks, baselines, findings)


def _in_order(sessions: Sequence[CourseSession]) -> list[CourseSession]:
    return sorted(sessions, key=lambda s: s.number)


def _baselines(sessions: Sequence[CourseSession]) -> list[BaselineBP]:
    """The sessions with a pre-dose reading, in course order, each with its systolic/diastolic."""
    # A BP reading is a pair; half of one is not a baseline.
    return [
        (s, (s.pre_dose_systolic, s.pre_dose_diastolic))
        for s in _in_order(sessions)
        if s.pre_dose_systolic is not None and s.pre_dose_diastolic is not None
    ]


def _trend_reason(baselines: Sequence[BaselineBP]) -> str | None:
    if len(baselines) < TREND_MIN_SESSIONS:
        return None
    window = min(TREND_WINDOW, len(baselines) // 2)
    first, last = baselines[:window], baselines[-window:]
    # Sums, not means, so that the boundary (+10 exactly) is not at the mercy of rounding.
    rise_systolic = _sum(last, 0) - _sum(first, 0)
    rise_diastolic = _sum(last, 1) - _sum(first, 1)
    if (
        rise_systolic < TREND_RISE_SYSTOLIC * window
        and rise_diastolic < TREND_RISE_DIASTOLIC * window
    ):
        return None
    return (
        f"Pre-dose baseline has risen from a mean of {_mean_bp(first)} ({_numbers(first)}) "
        f"to {_mean_bp(last)} ({_numbers(last)}): re-screen for hypertension before the "
        "next dose."
    )


def _sum(baselines: Sequence[BaselineBP], part: int) -> int:
    return sum(bp[part] for _, bp in baselines)


def _mean_bp(baselines: Sequence[BaselineBP]) -> str:
    # Half up (not Python's half-to-even), as a clinician would round by hand.
    systolic, diastolic = (int(_sum(baselines, p) / len(baselines) + 0.5) for p in (0, 1))
    return f"{systolic}/{diastolic}"


def _numbers(baselines: Sequence[BaselineBP]) -> str:
    numbers = [session.number for session, _ in baselines]
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"sessions {numbers[0]}-{numbers[-1]}"
    return "sessions " + ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"
