"""Course-level findings: the baseline score, response, remission, and the pre-dose BP."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping

import pytest

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.course import (
    CourseSession,
    bp_baseline_flags,
    course_baseline,
    remission,
    response,
    summarise_course,
)

DEFAULTS = AlertThresholds()


def session(
    number: int,
    bp: tuple[int, int] | None = (120, 80),
    scores: Mapping[str, int | None] | None = None,
) -> CourseSession:
    return CourseSession(
        session_id=uuid.UUID(int=number),
        number=number,
        started_at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(weeks=number),
        zone_name="Europe/London",
        protocol="IM injection",
        ended=True,
        drug="ketamine",
        dose_mg=50.0,
        dose_mg_per_kg=0.7,
        pre_dose_systolic=bp[0] if bp else None,
        pre_dose_diastolic=bp[1] if bp else None,
        peak_systolic=None,
        peak_diastolic=None,
        alerts=0,
        urgent_alerts=0,
        overrides=0,
        scores=scores or {},
    )


def course_of(*baselines: tuple[int, int] | None) -> list[CourseSession]:
    return [session(number, bp) for number, bp in enumerate(baselines, start=1)]


def test_the_baseline_is_the_first_scored_total_in_the_course():
    sessions = [
        session(3, scores={"phq9": 12}),
        session(1, scores={"phq9": None}),  # incomplete, not scored
        session(2, scores={"phq9": 18, "gad7": 11}),
    ]
    assert course_baseline(sessions, "phq9") == 18
    assert course_baseline(sessions, "gad7") == 11
    assert course_baseline(sessions, "pcl5") is None


@pytest.mark.parametrize(
    ("baseline", "total", "responded"),
    [
        (20, 10, True),  # exactly half
        (20, 11, False),  # 45 %
        (15, 7, True),  # 53 %: odd baselines have no exact half
        (15, 8, False),  # 47 %
        (20, 0, True),
        (20, 22, False),  # worse
        (0, 0, False),  # nothing to halve
        (None, 5, False),
        (20, None, False),
    ],
)
def test_response_is_a_drop_of_half_or_more_from_the_course_baseline(baseline, total, responded):
    assert response(baseline, total) is responded


@pytest.mark.parametrize(
    ("instrument", "total", "remitted"),
    [
        ("phq9", 4, True),
        ("phq9", 5, False),
        ("phq9", 0, True),
        ("gad7", 4, True),
        ("gad7", 5, False),
        ("pcl5", 0, False),  # CLINICAL.md gives no remission rule for PCL-5
        ("phq9", None, False),
    ],
)
def test_remission_is_phq9_or_gad7_below_5(instrument, total, remitted):
    assert remission(instrument, total) is remitted


@pytest.mark.parametrize(
    ("bp", "flagged"),
    [
        ((140, 90), False),  # at the caution level is not above it
        ((141, 80), True),
        ((120, 91), True),
        ((186, 112), True),
    ],
)
def test_a_pre_dose_bp_above_caution_is_flagged_on_its_session(bp, flagged):
    findings = bp_baseline_flags([session(1, bp)], DEFAULTS)
    assert (uuid.UUID(int=1) in findings.above_caution) is flagged
    if flagged:
        assert findings.above_caution[uuid.UUID(int=1)] == (
            f"Pre-dose BP {bp[0]}/{bp[1]} was above the caution level 140/90."
        )


def test_a_clinic_caution_level_is_used():
    stricter = AlertThresholds(caution_systolic=130, caution_diastolic=85)
    findings = bp_baseline_flags([session(1, (132, 80))], stricter)
    assert "above the caution level 130/85" in findings.above_caution[uuid.UUID(int=1)]


def test_the_trend_needs_four_sessions_with_a_baseline():
    assert not bp_baseline_flags(course_of((110, 70), (130, 80), (150, 95)), DEFAULTS).trending_up
    missing = course_of((110, 70), None, (130, 80), (150, 95))
    assert not bp_baseline_flags(missing, DEFAULTS).trending_up


@pytest.mark.parametrize(
    ("baselines", "trending"),
    [
        # Four or five baselines: the last two against the first two.
        ([(120, 80), (120, 80), (130, 80), (130, 80)], True),  # +10 systolic exactly
        ([(120, 80), (120, 80), (130, 80), (129, 80)], False),  # +9.5
        ([(120, 80), (120, 80), (120, 85), (120, 85)], True),  # +5 diastolic exactly
        ([(120, 80), (120, 80), (120, 85), (120, 84)], False),  # +4.5
        ([(120, 80), (120, 80), (200, 120), (130, 80), (130, 80)], True),  # the middle waits
        # Six or more: the last three against the first three.
        ([(124, 78)] * 3 + [(134, 78)] * 3, True),  # +10 systolic exactly
        ([(124, 78)] * 3 + [(134, 78), (134, 78), (133, 78)], False),  # +9.7
        ([(124, 78)] * 3 + [(124, 83)] * 3, True),  # +5 diastolic exactly
        ([(124, 78)] * 3 + [(124, 83), (124, 83), (124, 82)], False),  # +4.7
        ([(150, 95)] * 3 + [(125, 80)] * 3, False),  # falling
    ],
)
def test_the_baseline_trend_at_its_boundaries(baselines, trending):
    findings = bp_baseline_flags(course_of(*baselines), DEFAULTS)
    assert findings.trending_up is trending
    assert (findings.trend_reason is not None) is trending


def test_the_trend_reason_is_a_sentence_the_clinician_can_act_on():
    course = course_of((122, 76), (124, 78), (126, 80), (138, 86), (142, 88), (146, 90))
    findings = bp_baseline_flags(course, DEFAULTS)
    assert findings.trend_reason == (
        "Pre-dose baseline has risen from a mean of 124/78 (sessions 1-3) to 142/88 "
        "(sessions 4-6): re-screen for hypertension before the next dose."
    )
    # Sessions 5 (142/88) and 6 (146/90) are above 140/90 on their systolic.
    assert list(findings.above_caution) == [uuid.UUID(int=5), uuid.UUID(int=6)]


def test_the_trend_names_the_sessions_that_had_a_baseline():
    course = course_of((120, 80), None, (120, 80), (132, 84), (132, 84))
    findings = bp_baseline_flags(course, DEFAULTS)
    assert findings.trend_reason is not None
    assert "(sessions 1 and 3) to 132/84 (sessions 4 and 5)" in findings.trend_reason


def test_the_course_summary_marks_each_session():
    sessions = [
        session(2, scores={"phq9": None, "gad7": 14}),
        session(1, (146, 88), scores={"phq9": 20}),
        session(3, scores={"phq9": 11, "gad7": 7}),
        session(4, scores={"phq9": 10, "gad7": 4}),
        session(5, scores={"phq9": 4}),
    ]
    summary = summarise_course(sessions, DEFAULTS)
    assert [s.number for s in summary.sessions] == [1, 2, 3, 4, 5]
    assert summary.baselines == {"gad7": 14, "phq9": 20}

    phq9 = [(s.scores["phq9"].response, s.scores["phq9"].remission) for s in summary.sessions]
    assert phq9 == [
        (False, False),  # the baseline itself
        (False, False),  # not scored
        (False, False),  # 20 -> 11 is 45 %
        (True, False),  # 20 -> 10 is exactly half
        (True, True),  # 4 is below 5
    ]
    assert summary.sessions[1].scores["phq9"].total is None
    gad7 = {s.number: s.scores["gad7"] for s in summary.sessions if "gad7" in s.scores}
    assert (gad7[3].response, gad7[4].response, gad7[4].remission) == (True, True, True)

    assert summary.sessions[0].pre_dose_above_caution is not None
    assert "146/88" in summary.sessions[0].pre_dose_above_caution
    assert all(s.pre_dose_above_caution is None for s in summary.sessions[1:])
    assert not summary.findings.trending_up


def test_an_empty_course_has_nothing_to_say():
    summary = summarise_course([], DEFAULTS)
    assert summary.sessions == ()
    assert summary.findings.trend_reason is None
    assert not summary.findings.above_caution


@pytest.mark.parametrize(
    ("baseline", "last", "flagged"),
    [
        ((145, 90), (138, 86), False),  # 152/94 rechecked at 138/86: the caution let it go
        ((130, 84), (146, 92), True),  # the last reading before the dose was above
    ],
)
def test_a_session_is_flagged_by_the_reading_its_dose_was_weighed_on(baseline, last, flagged):
    """QA: 152/94 then a recheck of 138/86 let the dose go ahead without a word, and the
    course view then said "Pre-dose BP 145/90 was above the caution level" (their mean).
    The flag follows the pre-dose caution: the last reading before the dose."""
    weighed = dataclasses.replace(session(1, baseline), last_pre_dose=last)
    findings = bp_baseline_flags([weighed], DEFAULTS)
    assert (uuid.UUID(int=1) in findings.above_caution) is flagged
    if flagged:
        assert findings.above_caution[uuid.UUID(int=1)].startswith(
            f"Last BP before the dose {last[0]}/{last[1]} was above"
        )
