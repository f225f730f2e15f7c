"""The course as the course view reads it from the record (issue 13), on the demo course."""

from __future__ import annotations

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.course import summarise_course
from kapdesk.local.demo_course import BASELINES, DOSES_MG, GAD7, PHQ9, create_demo_course
from kapdesk.session.course import course_sessions, current_course_start


def _course(store, clock):
    sessions = create_demo_course(store, clock.now_utc())
    patient = store.session(sessions[0])["patient_id"]
    since = current_course_start(store.course_notes(patient))
    return patient, course_sessions(store, patient, since=since, weight_kg=80)


def test_each_session_of_the_course_at_a_glance(store, clock):
    _patient, course = _course(store, clock)
    assert [s.number for s in course] == list(range(1, 9))
    assert [s.scores["phq9"] for s in course] == list(PHQ9)
    assert [s.scores["gad7"] for s in course] == list(GAD7)
    assert "reflection" not in course[0].scores  # not a scale: no total to draw
    assert [s.phq9_item9 for s in course] == [1, 0, 0, 0, 0, 0, 0, 0]
    assert [s.dose_mg for s in course] == list(DOSES_MG)
    assert course[-1].dose_mg_per_kg == 0.75
    # The pre-dose baseline is the mean of the readings before the dose (as in a session).
    for session, (systolic, diastolic) in zip(course, BASELINES, strict=True):
        assert abs(session.pre_dose_systolic - systolic) <= 2
        assert abs(session.pre_dose_diastolic - diastolic) <= 1
        assert session.peak_systolic > session.pre_dose_systolic
    # Every alert was acknowledged; still counted: the course shows how each session went.
    assert course[0].alerts >= 1  # item 9, and the BP rise
    assert [s.overrides for s in course][-2:] == [1, 1]  # dosed past the pre-dose caution
    assert all(s.ended for s in course)


def test_the_course_flags_the_rising_baseline_and_response(store, clock):
    _patient, course = _course(store, clock)
    summary = summarise_course(course, AlertThresholds())
    assert summary.findings.trending_up
    assert "re-screen" in (summary.findings.trend_reason or "")
    marks = {m.number: m for m in summary.sessions}
    assert marks[8].scores["phq9"].remission
    assert marks[5].scores["phq9"].response  # 9 is under half of 19
    assert not marks[4].scores["phq9"].response  # 12 is not
    assert marks[7].pre_dose_above_caution


def test_a_new_course_starts_its_own_baseline(store, clock):
    patient, _course_before = _course(store, clock)
    clock.advance(days=1)
    store.add_course_note(patient, "course", "Course 2: maintenance.")
    since = current_course_start(store.course_notes(patient))
    assert course_sessions(store, patient, since=since) == []


def test_a_later_survey_never_hides_an_earlier_item_9_in_the_same_session(store, clock):
    patient, before = _course(store, clock)
    first = before[0].session_id
    later = {
        "instrument": "phq9",
        "name": "PHQ-9",
        "scored": True,
        "answers": {str(i): 0 for i in range(1, 10)},
        "total": 0,
        "summary": "0 (minimal)",
    }
    store.add_session_event(first, "self_report", later)
    since = current_course_start(store.course_notes(patient))
    [again, *_rest] = course_sessions(store, patient, since=since)
    assert again.scores["phq9"] == 19  # the worse: a repeat never makes it look better
    assert again.phq9_item9 == 1  # the earlier "Several days" still shows


def test_a_session_with_an_urgent_diastolic_says_it_beside_its_peak(store, clock):
    """QA: the course said "peak 192/84" of a session whose 185/112 (urgent by its
    diastolic) the session list and the end summary named."""
    from kapdesk.widgets.course_series import bp_text

    patient = store.add_patient("Course Diastolic", weight_kg=70)
    session = store.start_session(patient, protocol="IM injection", zone_name="UTC")
    for reading in ({"systolic": 185, "diastolic": 112}, {"systolic": 192, "diastolic": 84}):
        store.add_vitals(session, reading)
        clock.advance(minutes=5)
    [course] = course_sessions(store, patient)
    assert (course.peak_systolic, course.peak_diastolic) == (192, 84)
    assert course.highest_diastolic == (185, 112)
    assert bp_text(course).endswith("peak 192/84, highest diastolic 185/112")
