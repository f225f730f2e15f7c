from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from kapdesk.clinical.entries import (
    MAX_TEXT_CHARS,
    Drug,
    Route,
    clean_tags,
    clean_text,
    instant_of_clock,
    validate_dose,
    validate_patient,
    validate_scale_score,
)
from kapdesk.clinical.vitals import ValidationError, validate_vitals

TODAY = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    "text",
    [
        "Calm, eyes closed.",
        "  leading and trailing spaces kept  ",
        "line one\nline two\r\n\ttabbed",
        "Patientin sagt: «Ich sehe Farben» — 😌",
        "مرحبا بالعالم",
        "漢字とかな",
        "e\u0301 (combining accent, not normalised)",
        "x" * MAX_TEXT_CHARS,
    ],
)
def test_free_text_is_kept_verbatim(text):
    assert clean_text(text) == text


def test_text_over_the_limit_or_empty_is_refused_with_a_sentence():
    with pytest.raises(ValidationError, match="over the 20,000 limit"):
        clean_text("x" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(ValidationError, match="empty"):
        clean_text("   ")


def test_tags_are_deduplicated_in_order():
    assert clean_tags(["calm", "tearful", "calm"]) == ("calm", "tearful")
    with pytest.raises(ValidationError):
        clean_tags("calm")


def test_an_intranasal_dose_with_devices():
    dose = validate_dose("esketamine", "intranasal", "56", "LOT-7", "2")
    assert (dose.drug, dose.route, dose.mg, dose.device_count) == (
        Drug.ESKETAMINE,
        Route.INTRANASAL,
        56.0,
        2,
    )


@pytest.mark.parametrize(("typed", "mg"), [("0,5", 0.5), ("12,5", 12.5), ("0,125", 0.125)])
def test_a_decimal_comma_is_read_as_a_point(typed, mg):
    assert validate_dose("ketamine", "im", typed, "LOT-7").mg == mg


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("1,000", "type 1000, or 1 if the comma was a decimal point"),
        ("12,500", "type 12500, or 12.5 if"),
        ("1,000.5", "has a comma and a point"),
    ],
)
def test_thousands_written_with_a_comma_are_never_read_as_a_fraction(typed, words):
    """Tamper QA: "1,000" was stored as a 1 mg dose, the comma read as a decimal point."""
    with pytest.raises(ValidationError, match=re.escape(words)):
        validate_dose("ketamine", "iv", typed, "LOT-7")


@pytest.mark.parametrize("typed", ["50_0", "5e1", "1e2", "nan", "Infinity", "0x32", "5 0"])
def test_only_digits_and_one_decimal_mark_make_a_dose(typed):
    """Tamper QA: "50_0" was stored as a 500 mg dose and "5e1" as 50 (Python's float())."""
    with pytest.raises(ValidationError, match="type digits only"):
        validate_dose("ketamine", "im", typed, "LOT-7")


@pytest.mark.parametrize("typed", ["1_20", "12e1", "nan"])
def test_only_digits_make_a_reading(typed):
    """Tamper QA: a systolic of "1_20" was stored as 120."""
    with pytest.raises(ValidationError, match="is not a number; type digits only"):
        validate_vitals({"systolic": typed, "diastolic": "80"})
    assert validate_vitals({"systolic": "１２０", "diastolic": "80"}).systolic == 120


def test_an_esketamine_dose_and_its_devices_must_agree():
    """QA: 56 mg with 3 devices was stored silently, and offered again next session."""
    with pytest.raises(ValidationError) as caught:
        validate_dose("esketamine", "intranasal", "56", "LOT-7", "3")
    assert caught.value.field == "device_count"
    assert str(caught.value) == (
        "56 mg is 2 device(s) of 28 mg, not 3: correct the dose or the device count."
    )
    with pytest.raises(ValidationError) as caught:
        validate_dose("esketamine", "intranasal", "50", "LOT-7", "2")
    assert str(caught.value).startswith("50 mg is not a whole number of 28 mg devices")
    assert validate_dose("esketamine", "intranasal", "84", "LOT-7", "3").device_count == 3
    assert validate_dose("esketamine", "intranasal", "50", "LOT-7").device_count is None


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("lsd", "iv", 10), "drug"),
        (("ketamine", "oral-spray", 10), "route"),
        (("ketamine", "iv", 0), "mg"),
        (("ketamine", "iv", 1001), "mg"),
        (("ketamine", "iv", "ten"), "mg"),
        (("esketamine", "intranasal", 56, None, 0), "device_count"),
        (("ketamine", "iv", 35, None, 2), "device_count"),
    ],
)
def test_bad_doses_name_the_field(args, field):
    with pytest.raises(ValidationError) as caught:
        validate_dose(*args)
    assert caught.value.field == field


def test_patient_details():
    details = validate_patient(" Ada  Example ", "1984-03-09", " MRN-1 ", "71.5", today=TODAY)
    assert details.display_name == "Ada Example"  # blanks as single spaces (tamper QA)
    spaced = validate_patient("Ada\tEx\u00a0ample", None, "QA \t 77", None, today=TODAY)
    assert (spaced.display_name, spaced.record_number) == ("Ada Ex ample", "QA 77")
    assert details.date_of_birth == dt.date(1984, 3, 9)
    assert details.record_number == "MRN-1"
    assert details.weight_kg == 71.5


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"display_name": " "}, "text"),
        ({"display_name": "A", "date_of_birth": "09/03/1984"}, "date_of_birth"),
        ({"display_name": "A", "date_of_birth": "2027-01-01"}, "date_of_birth"),
        ({"display_name": "A", "weight_kg": 19}, "weight_kg"),
        ({"display_name": "A", "weight_kg": 401}, "weight_kg"),
    ],
)
def test_bad_patient_details_are_refused(kwargs, field):
    with pytest.raises(ValidationError) as caught:
        validate_patient(**kwargs, today=TODAY)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("\u200b\u200b\u200b", "shows nothing"),  # three zero-width spaces: a blank row
        ("\u2060\ufeff \u200d", "shows nothing"),
        ("Zyxwvut\u202eemanltR", "control character (U+202E)"),  # shown reversed
        ("Ada\x1b[31m Example", "control character (U+001B)"),
        ("Ada\x07Example", "control character (U+0007)"),
        ("Ada\nExample", "must be one line"),
        ("Ada\u2028Example", "must be one line"),
        ("Ada\ud800", "half a character (U+D800)"),  # from the command line: not storable
    ],
)
def test_a_name_that_would_not_show_as_typed_is_refused(name, words):
    """Tamper QA: names of zero-width spaces were saved as blank rows; a right-to-left
    override showed a name reversed; escape and bell characters and line breaks went in."""
    with pytest.raises(ValidationError, match=re.escape(words)):
        validate_patient(name, today=TODAY)


@pytest.mark.parametrize(
    "text",
    [
        "Resting.\n\tBreathing slow,\r\nsettled.",  # a note's lines and tabs
        "مريم الحسن",  # Arabic: the bidirectional algorithm places it, no override needed
        "\u200fמרים\u200f",  # right-to-left marks stay
        "👩\u200d⚕️ came in",  # a joined emoji
        "क्\u200dष",  # a joiner a script needs
    ],
)
def test_text_a_clinician_may_type_is_kept_as_typed(text):
    assert clean_text(text, "The note") == text


def test_scale_total_must_match_items():
    assert validate_scale_score("phq9", [1, 2, 0]).total == 3
    with pytest.raises(ValidationError, match="add up to 3"):
        validate_scale_score("phq9", [1, 2, 0], total=4)


def test_a_dose_above_the_usual_range_says_what_it_is():
    from kapdesk.clinical.entries import unusual_dose

    iv = validate_dose("ketamine", "iv", "680")
    assert unusual_dose(iv, 68, 0) == (
        "680 mg is 10.00 mg/kg at 68 kg, above the usual 0.5–1 mg/kg for an IV infusion."
    )
    assert unusual_dose(validate_dose("ketamine", "iv", "68"), 68, 0) is None  # 1 mg/kg
    assert unusual_dose(validate_dose("ketamine", "iv", "80"), None, 0) is None  # no weight
    nasal = validate_dose("esketamine", "intranasal", "28", device_count=1)
    assert unusual_dose(nasal, 70, 56) is None  # the third device: 84 mg
    assert unusual_dose(nasal, 70, 84) == (
        "28 mg with the 84 mg already given makes 112 mg of esketamine this session, above "
        "the usual 84 mg (3 devices)."
    )


def test_a_date_of_birth_written_as_asked_but_not_a_day_says_so():
    from kapdesk.clinical.entries import validate_patient

    with pytest.raises(ValidationError) as refused:
        validate_patient("A", "1990-13-40", today=dt.date(2026, 11, 26))
    assert refused.value.message == (
        "Date of birth 1990-13-40 is not a day of the calendar: check the month (01-12) and "
        "the day."
    )
    with pytest.raises(ValidationError) as refused:
        validate_patient("A", "9/3/1984", today=dt.date(2026, 11, 26))
    assert "must be written YYYY-MM-DD" in refused.value.message


def test_an_im_or_sublingual_dose_far_above_what_kap_gives_is_asked_about():
    """QA: 600 mg IM (60 meant) at 80 kg, 7.5 mg/kg, was stored without a word: only IV
    and intranasal esketamine were judged."""
    from kapdesk.clinical.entries import unusual_dose

    im = validate_dose("ketamine", "im", "600")
    assert unusual_dose(im, 80, 0) == (
        "600 mg is 7.50 mg/kg at 80 kg: above 2 mg/kg, more than KAP gives by IM injection."
    )
    assert unusual_dose(validate_dose("ketamine", "im", "60"), 80, 0) is None  # 0.75 mg/kg
    assert unusual_dose(validate_dose("ketamine", "im", "60"), 80, 100) is None  # 2 mg/kg
    assert unusual_dose(validate_dose("ketamine", "im", "60"), 80, 120) == (
        "60 mg with the 120 mg already given makes 180 mg, 2.25 mg/kg at 80 kg: above 2 mg/kg, "
        "more than KAP gives by IM injection."
    )
    assert unusual_dose(im, None, 0) == (
        "600 mg is above 150 mg, more than KAP gives by IM injection (no weight is recorded "
        "to judge it by)."
    )
    lozenge = validate_dose("ketamine", "sublingual", "300")
    assert unusual_dose(lozenge, 70, 0) is None  # 4.3 mg/kg: a usual lozenge dose
    assert unusual_dose(validate_dose("ketamine", "sublingual", "900"), 70, 0) is not None
    iv = validate_dose("ketamine", "iv", "680")
    assert "above 100 mg, more than KAP gives by IV infusion" in unusual_dose(iv, None, 0)


# A clock time typed for a reading taken earlier (instant_of_clock): the session's zone,
# its start and end, and the night a session runs past midnight.
LONDON = ZoneInfo("Europe/London")


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_a_clock_time_is_the_latest_such_time_of_the_session():
    now = _utc("2026-11-27 10:08:30")  # London is on UTC in November
    start = _utc("2026-11-27 09:00:37")
    at = instant_of_clock("10:05", now=now, zone=LONDON, earliest=start)
    assert at == _utc("2026-11-27 10:05:00")
    assert instant_of_clock("9.30", now=now, zone=LONDON, earliest=start) == _utc(
        "2026-11-27 09:30:00"
    )
    # The minute the session began is its first instant, not "before it began".
    assert instant_of_clock("09:00", now=now, zone=LONDON, earliest=start) == start
    # Summer time: the clinic's clock, not UTC.
    summer = instant_of_clock(
        "10:05",
        now=_utc("2026-07-01 09:10:00"),
        zone=LONDON,
        earliest=_utc("2026-07-01 08:00:00"),
    )
    assert summer == _utc("2026-07-01 09:05:00")
    # Past midnight: 23:55 is the evening before.
    late = instant_of_clock(
        "23:55",
        now=_utc("2026-11-28 00:05:00"),
        zone=LONDON,
        earliest=_utc("2026-11-27 21:00:00"),
    )
    assert late == _utc("2026-11-27 23:55:00")


def test_a_clock_time_in_the_hour_the_clocks_go_back_is_the_latest_it_named():
    """Tamper QA: the session began at 01:30 summer time (00:30 UTC) on the night the
    clocks go back; at 01:20 winter time, "at 01:40" (summer time, forty minutes before)
    was refused as not come yet."""
    start = _utc("2026-10-25 00:30:00")  # 01:30 BST
    now = _utc("2026-10-25 01:20:00")  # 01:20 GMT
    assert instant_of_clock("01:40", now=now, zone=LONDON, earliest=start) == _utc(
        "2026-10-25 00:40:00"
    )
    # A time named twice: the later of the two that have come.
    assert instant_of_clock("01:10", now=now, zone=LONDON, earliest=start) == _utc(
        "2026-10-25 01:10:00"
    )
    # The hour the clocks skip names nothing today: 01:30 is yesterday's, before the session.
    with pytest.raises(ValidationError, match="before this session began"):
        instant_of_clock(
            "01:30",
            now=_utc("2026-03-29 01:45:00"),
            zone=LONDON,
            earliest=_utc("2026-03-29 00:50:00"),
        )


def test_a_clock_time_outside_the_session_is_refused_with_the_times_it_may_be():
    now = _utc("2026-11-27 10:08:30")
    start = _utc("2026-11-27 09:00:37")
    with pytest.raises(ValidationError, match="10:15 has not come yet \\(it is 10:08 now\\)"):
        instant_of_clock("10:15", now=now, zone=LONDON, earliest=start)
    with pytest.raises(
        ValidationError,
        match="08:45 is before this session began, at 09:00: give a time from 09:00 to 10:08",
    ):
        instant_of_clock("8:45", now=now, zone=LONDON, earliest=start)
    with pytest.raises(ValidationError, match="after this session ended, at 09:40"):
        instant_of_clock(
            "09:50", now=now, zone=LONDON, earliest=start, ended=_utc("2026-11-27 09:40:00")
        )
    # Two minutes ahead of the clock are its drift, as for any entry.
    assert instant_of_clock("10:10", now=now, zone=LONDON, earliest=start) == _utc(
        "2026-11-27 10:10:00"
    )
    for typed in ("25:00", "10:61", "1005", "ten", ""):
        with pytest.raises(ValidationError, match="is not a time of day"):
            instant_of_clock(typed, now=now, zone=LONDON, earliest=start)


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("Quibblestone Marrowfax", "QMX\u200b-991"),
        ("Quibblestone Marrowfax", "QMX-991\u00ad"),
        ("Quibblestone\u200b Marrowfax", "QMX-992"),
        ("Ann\u2060Lee", None),
        ("\u3164", None),
        ("\u2800", None),
        ("Ann\ufe0f Lee", None),
        ("Ann\U000e0041 Lee", None),
    ],
)
def test_a_patient_that_would_look_like_another_is_refused(name, number):
    """Tamper QA: "QMX\\u200b-991" went in beside "QMX-991", a second patient under a number
    reading as the first's, past the check that two never share one; a name of one
    U+3164 (Hangul filler) was a blank row."""
    with pytest.raises(ValidationError, match="invisible character"):
        validate_patient(name, None, number, None, today=dt.date(2026, 11, 28))


def test_a_joiner_a_script_writes_names_with_is_kept():
    persian = "\u0645\u062d\u200c\u0645\u062f"  # ZWNJ between two Arabic letters
    assert validate_patient(persian, today=dt.date(2026, 11, 28)).display_name == persian


def test_a_refused_record_number_or_lot_is_said_of_its_own_field():
    """Xvfb QA: a refused record number took the keyboard to the Name field, and the number
    retyped there replaced the patient's name."""
    with pytest.raises(ValidationError) as caught:
        validate_patient("Ada Example", None, "QA\u2060-101", None, today=dt.date(2026, 11, 28))
    assert caught.value.field == "record_number"
    with pytest.raises(ValidationError) as caught:
        validate_dose("esketamine", "intranasal", "56", "L\u200b7", "2")
    assert caught.value.field == "lot_number"
