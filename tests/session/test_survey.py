"""One sitting of the patient's survey, below the window (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapdesk.session.service import SessionService
from kapdesk.session.survey import SurveyRun, clinic_surveys


@pytest.fixture
def ended(store, clock) -> SessionService:
    patient = store.add_patient("Survey Patient")
    session = store.start_session(patient, protocol="IM injection", zone_name="Europe/London")
    clock.advance(hours=2)
    store.end_session(session)
    clock.advance(minutes=20)
    return SessionService(store, session, clock=clock.now_utc, protocol=None)


def _run(service, data_dir):
    files = clinic_surveys(data_dir)
    assert files.problems == ()
    return SurveyRun(service, files.surveys["after_session"], files.instruments)


def _step(run, instrument, question):
    return next(s for s in run.steps if s.instrument.id == instrument and s.question.id == question)


def self_reports(service):
    return [e for e in service.store.session_events(service.id) if e["kind"] == "self_report"]


def test_after_the_end_each_form_is_stored_once_and_again_only_if_changed(ended, data_dir):
    run = _run(ended, data_dir)
    phq9 = [s for s in run.steps if s.instrument.id == "phq9"]
    for step in phq9:
        run.answer(step, 0 if step.question.scored else None)
    run.leaving(phq9[-1], None)
    run.leaving(phq9[-1], None)  # passing again unchanged stores nothing
    assert [r["payload"]["total"] for r in self_reports(ended)] == [0]
    run.answer(phq9[0], 2)  # the patient went back and changed an answer
    run.finish()
    totals = [r["payload"]["total"] for r in self_reports(ended)]
    assert totals == [0, 2]  # the first response stays; the latest counts
    assert ended.open_alerts() == []


def test_item_9_raises_one_alert_a_sitting_even_unscored(ended, data_dir):
    run = _run(ended, data_dir)
    run.answer(_step(run, "phq9", "9"), 2)
    run.finish()  # the clinician came back with only item 9 answered
    [response] = self_reports(ended)
    assert response["payload"]["total"] is None
    assert "not scored" in response["payload"]["summary"]
    assert response["payload"]["urgent"] is True
    [alert] = ended.open_alerts()
    assert alert.reading.startswith("PHQ-9 item 9: “More than half the days”")
    run.answer(_step(run, "phq9", "1"), 1)
    run.finish()
    assert len(ended.open_alerts()) == 1  # the same finding, not a second alert


def test_a_clinic_survey_file_that_names_a_missing_form_is_skipped_with_a_sentence(
    ended, data_dir: Path
):
    (data_dir / "surveys").mkdir()
    (data_dir / "surveys" / "long.toml").write_text(
        'name = "Long"\ninstruments = ["reflection", "madrs"]\n', encoding="utf-8"
    )
    files = clinic_surveys(data_dir)
    assert "long" not in files.surveys
    assert any("madrs" in p for p in files.problems)
    assert "after_session" in files.surveys


def test_item_9_is_stored_with_its_alert_the_moment_it_is_answered(ended, data_dir):
    run = _run(ended, data_dir)
    item9 = _step(run, "phq9", "9")
    run.answer(item9, 1)  # before the form is finished
    [alert] = ended.open_alerts()
    assert alert.reading.startswith("PHQ-9 item 9: “Several days”")
    run.answer(item9, 0)  # the patient changes it back
    run.finish()
    responses = [r["payload"]["answers"].get("9") for r in self_reports(ended)]
    assert responses == [1, 0]  # the first answer stays in the record
    assert len(ended.open_alerts()) == 1


def test_a_form_stored_at_its_urgent_answer_and_again_when_finished_says_which_is_which(
    ended, data_dir
):
    """QA: the log, the report and the export each held two "PHQ-9: 9 (mild); item 9
    answered above 0" six seconds apart, which read as two administrations."""
    run = _run(ended, data_dir)
    phq9 = [s for s in run.steps if s.instrument.id == "phq9"]
    for step in phq9:
        run.answer(step, 1)  # "Several days" each, item 9 too; then the difficulty
        run.leaving(step, None if step is phq9[-1] else phq9[phq9.index(step) + 1])
    stages = [r["payload"].get("stage") for r in self_reports(ended)]
    assert stages == ["early", "again"]
    said = [e.text for e in ended.log() if e.text.startswith("Patient's survey")]
    assert said[-1].startswith("Patient's survey, PHQ-9 so far (stored at once for its urgent")
    assert said[0].startswith("Patient's survey, PHQ-9 as finished (replaces the one stored")
