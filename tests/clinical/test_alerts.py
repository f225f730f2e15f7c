"""Every alert rule at its boundaries (CLINICAL.md, Default thresholds)."""

from __future__ import annotations

import pytest

from kapdesk.clinical.alerts import (
    AlertThresholds,
    Level,
    evaluate,
    pre_dose_caution,
    threshold_problems,
)
from kapdesk.clinical.vitals import VitalsReading


def rules(reading, **kwargs):
    return [(a.rule, a.level) for a in evaluate(reading, **kwargs)]


U, C = Level.URGENT, Level.CAUTION


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (140, 90, []),  # caution is "> 140 or > 90": the values themselves are not
        (141, 90, [("bp_caution", C)]),
        (140, 91, [("bp_caution", C)]),
        (179, 109, [("bp_caution", C)]),
        (180, 100, [("bp_urgent", U)]),  # urgent is ">= 180 or >= 110"
        (170, 110, [("bp_urgent", U)]),
        (182, 104, [("bp_urgent", U)]),
        (120, 80, []),
        (90, 50, []),  # low is "< 90 or < 50" (QA: 78/42 raised nothing)
        (89, 60, [("bp_low", C)]),
        (110, 49, [("bp_low", C)]),
        (78, 42, [("bp_low", C)]),
        (110, 58, []),  # a healthy resting diastolic
    ],
)
def test_absolute_blood_pressure(systolic, diastolic, expected):
    assert rules(VitalsReading(systolic=systolic, diastolic=diastolic)) == expected


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (138, 86, []),  # +38/+4 over 100/82: under both margins
        (140, 82, [("bp_rise", C)]),  # +40 systolic
        (120, 107, [("bp_rise", C), ("bp_caution", C)]),  # +25 diastolic, and > 90
        (139, 106, [("bp_caution", C)]),  # +39/+24: just under both margins
    ],
)
def test_rise_over_the_pre_dose_baseline(systolic, diastolic, expected):
    reading = VitalsReading(systolic=systolic, diastolic=diastolic)
    assert rules(reading, baseline=(100, 82)) == expected


def test_urgent_supersedes_rise_and_caution():
    reading = VitalsReading(systolic=182, diastolic=104)
    assert rules(reading, baseline=(128, 82)) == [("bp_urgent", U)]


@pytest.mark.parametrize(
    ("spo2", "expected"),
    [
        (92, []),
        (91, [("spo2_caution", C)]),
        (90, [("spo2_caution", C)]),
        (89, [("spo2_urgent", U)]),
    ],
)
def test_oxygen_saturation(spo2, expected):
    assert rules(VitalsReading(spo2=spo2)) == expected


@pytest.mark.parametrize(
    ("heart_rate", "previous", "expected"),
    [
        (120, None, []),
        (121, None, [("heart_rate_high", C)]),
        (121, 119, [("heart_rate_high", C)]),
        (121, 125, [("heart_rate_sustained_high", U)]),
        (50, None, []),
        (49, None, [("heart_rate_low", U)]),
    ],
)
def test_heart_rate(heart_rate, previous, expected):
    earlier = None if previous is None else VitalsReading(heart_rate=previous)
    assert rules(VitalsReading(heart_rate=heart_rate), previous=earlier) == expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (14, []),
        (10, []),  # caution is "< 10", urgent "< 8"
        (9, [("respiratory_rate_caution", C)]),
        (8, [("respiratory_rate_caution", C)]),
        (7, [("respiratory_rate_urgent", U)]),
        (6, [("respiratory_rate_urgent", U)]),  # QA: 6/min raised nothing
    ],
)
def test_respiratory_rate(rate, expected):
    assert rules(VitalsReading(respiratory_rate=rate)) == expected


def test_slow_breathing_says_what_to_do_now():
    [alert] = evaluate(VitalsReading(respiratory_rate=6, spo2=95))
    assert alert.reason == "Respiratory rate 6/min is below 8/min."
    assert alert.action.startswith("Check the airway and breathing now")
    assert alert.needs_recheck
    assert (
        rules(
            VitalsReading(respiratory_rate=9),
            thresholds=AlertThresholds(respiratory_rate_caution=9),
        )
        == []
    )


def test_respiratory_rate_levels_must_be_in_order():
    assert threshold_problems({"respiratory_rate_caution": 8, "respiratory_rate_urgent": 8}) == [
        "The respiratory rate urgent level must be below the caution level."
    ]
    assert threshold_problems({"respiratory_rate_urgent": 11}) == [
        "Respiratory rate urgent below (/min) must be a whole number from 6 to 10."
    ]


def test_thresholds_are_clinic_settings():
    strict = AlertThresholds(caution_systolic=130, caution_diastolic=85)
    assert rules(VitalsReading(systolic=131, diastolic=80), thresholds=strict) == [
        ("bp_caution", C)
    ]


def test_an_urgent_alert_says_the_reading_the_rule_and_what_to_do():
    [alert] = evaluate(VitalsReading(systolic=182, diastolic=104, heart_rate=88))
    assert alert.reading == "BP 182/104  HR 88"
    assert alert.reason == "BP 182/104: systolic at or above 180 (urgent level)."
    assert alert.action.startswith("Recheck in 5 minutes and escalate per clinic protocol.")
    assert "chest pain" in alert.action
    assert "CLINICAL.md" in alert.source
    assert alert.needs_recheck


def test_pre_dose_caution_uses_the_latest_pre_dose_reading():
    readings = [
        VitalsReading(systolic=150, diastolic=95),
        VitalsReading(systolic=132, diastolic=84),
    ]
    assert pre_dose_caution(readings) is None
    readings.append(VitalsReading(systolic=146, diastolic=88))
    alert = pre_dose_caution(readings)
    assert alert is not None
    assert alert.rule == "bp_caution"


def test_the_alert_names_every_value_the_reading_holds():
    [alert] = evaluate(VitalsReading(spo2=88, respiratory_rate=14, temperature_c=36.4))
    assert alert.reading == "SpO2 88%  RR 14  T 36.4 °C"


def test_a_low_bp_alert_says_which_value_is_low_and_what_to_do():
    [both] = evaluate(VitalsReading(systolic=78, diastolic=42, heart_rate=58))
    assert both.reason == "BP 78/42 is below 90/50."
    assert "lie flat" in both.action
    [one] = evaluate(VitalsReading(systolic=96, diastolic=46))
    assert one.reason == "BP 96/46: diastolic below 50."
    stricter = AlertThresholds(low_systolic=100)
    assert [
        a.rule for a in evaluate(VitalsReading(systolic=98, diastolic=60), thresholds=stricter)
    ] == ["bp_low"]


def test_a_caution_says_only_the_advice_for_when_the_reading_was_taken():
    """Both halves in one line were cut at 1024x600 after the first ("Before dosing: weigh
    benefit and risk, consider delaying. During a session: ..."), and a glance at T+64
    read only the advice for before dosing (QA)."""
    reading = VitalsReading(systolic=164, diastolic=100)
    (before,) = evaluate(reading, dosed=False)
    (after,) = evaluate(reading, baseline=(150, 92), dosed=True)
    assert before.action == "Before dosing: weigh benefit and risk, consider delaying."
    assert after.action == "Keep checking as scheduled; recheck sooner if it keeps rising."
    assert pre_dose_caution([reading]).action == before.action
    (unknown,) = evaluate(reading)
    assert "Before dosing" in unknown.action
    assert "During a session" in unknown.action
