"""The patient's reflection survey in patient mode, by keys (issue 13): nothing of the record
on screen, no way out without the clinician, the answers stored and scored, and PHQ-9 item
9 above 0 in front of the clinician on their return until acknowledged."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit

from kapdesk.local.demo import DEMO_NAME, create_demo
from kapdesk.local.settings import Settings
from kapdesk.session.service import SessionService
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.patient_mode import PatientSurveyWindow
from kapdesk.ui.survey_flow import HandOverDialog, UrgentFindingDialog
from tests.conftest import PASSPHRASE


def key(which, modifiers=Qt.KeyboardModifier.NoModifier, widget=None):
    target = widget or QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard"
    QTest.keyClick(target, which, modifiers)
    QApplication.processEvents()


def type_text(text):
    QTest.keyClicks(QApplication.focusWidget(), text)
    QApplication.processEvents()


def visible_texts(root):
    texts = []
    for widget in [root, *root.findChildren(QLabel), *root.findChildren(QAbstractButton)]:
        if widget.isVisible():
            texts.append(widget.text() if hasattr(widget, "text") else "")
    return " ".join(texts)


def _running(qtbot, store, data_dir, clock):
    _finished, session = create_demo(store, clock.now_utc())
    window = MainWindow(store, Settings(data_dir), clock)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    window.resume_session(session)
    return window, session


@pytest.fixture
def running(qtbot, passphrase_store, data_dir, clock):
    """The demo's running session, in a record kept under a passphrase."""
    return _running(qtbot, passphrase_store, data_dir, clock)


@pytest.fixture
def running_keyring(qtbot, store, data_dir, clock):
    """The same, in a record whose key is in the (test) keyring: it has no passphrase."""
    return _running(qtbot, store, data_dir, clock)


def hand_over(qtbot, window):
    key(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = window.surveys.dialog
    assert isinstance(dialog, HandOverDialog)
    assert dialog.code is None  # a passphrase record: the passphrase brings kapdesk back
    assert dialog.chosen() == "after_session"
    key(Qt.Key.Key_Return, widget=dialog.survey)
    patient = window.surveys.patient_window
    assert isinstance(patient, PatientSurveyWindow)
    qtbot.waitExposed(patient)
    return patient


def answer_everything(patient, *, item9_down: int):
    """Reflection: the first answer each, a few words where asked; PHQ-9: "Several days"
    (one Right from the first) for every item, item 9 as given; GAD-7: "Not at all"
    throughout."""
    key(Qt.Key.Key_Return)  # Begin
    while patient.index < len(patient.run.steps):
        at = patient.index
        step = patient.run.steps[at]
        if step.question.kind == "text":
            type_text("I felt held, and I saw my mother's kitchen.")
            key(Qt.Key.Key_Return)
            assert patient.index == at + 1, f"Enter did not move on from {step.question.id}"
            continue
        key(Qt.Key.Key_Return)  # nothing chosen for the patient: Enter alone answers nothing
        assert patient.index == at, f"a bare Enter answered {step.question.id}"
        key(Qt.Key.Key_Down)  # to the answers: the first
        rights = 0
        if step.instrument.id == "phq9" and step.question.scored:
            rights = item9_down if step.question.id == "9" else 1
        for _ in range(rights):
            key(Qt.Key.Key_Right)
        key(Qt.Key.Key_Return)
        assert patient.index == at + 1, f"Enter did not answer {step.question.id}"


def test_a_survey_by_keys_is_stored_and_item_9_waits_for_the_clinician(
    qtbot, running, passphrase_store
):
    store = passphrase_store
    window, session = running
    patient = hand_over(qtbot, window)
    # The record is out of sight: kapdesk's window hidden, no patient detail on screen.
    assert not window.isVisible()
    assert patient.isFullScreen()
    assert DEMO_NAME not in visible_texts(patient)
    # No way out for the patient: Esc, closing, and kapdesk's own chords do nothing.
    key(Qt.Key.Key_Escape)
    patient.close()
    key(Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()
    assert patient.isVisible()
    assert not window.isVisible()

    answer_everything(patient, item9_down=1)
    assert "Thank you. You have finished." in patient.message.text()
    assert DEMO_NAME not in visible_texts(patient)
    # Stored as the patient went: before the clinician is back.
    reports = [e for e in store.session_events(session) if e["kind"] == "self_report"]
    by_instrument = {r["payload"]["instrument"]: r["payload"] for r in reports}
    assert set(by_instrument) == {"reflection", "phq9", "gad7"}
    assert by_instrument["phq9"]["total"] == 9
    assert by_instrument["phq9"]["band"] == "mild"
    assert by_instrument["gad7"]["total"] == 0
    assert by_instrument["reflection"]["answers"]["what_came_up"].startswith("I felt held")
    alerts = [e for e in store.session_events(session) if e["kind"] == "alert"]
    assert any(a["payload"]["rule"] == "phq9_item9" for a in alerts)

    # The clinician: a wrong passphrase keeps the survey up; the right one brings kapdesk back.
    patient.clinician_button.click()
    assert isinstance(QApplication.focusWidget(), QLineEdit)
    # The questions are over: the way back says where it leads (QA).
    assert patient.cancel_unlock.text() == "Back"
    type_text("not the passphrase")
    key(Qt.Key.Key_Return)
    assert "still open" in patient.unlock_error.text()
    with store.engine.connect() as conn:  # the refused try is audited, never its text
        refused = conn.exec_driver_sql(
            "SELECT details FROM audit_events WHERE action = 'survey_return_refused'"
        ).fetchall()
    assert len(refused) == 1
    assert "not the passphrase" not in refused[0][0]
    assert patient.isVisible()
    assert not window.isVisible()
    type_text(PASSPHRASE)
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.isVisible())
    urgent = window.surveys.urgent
    assert isinstance(urgent, UrgentFindingDialog)
    assert urgent.isVisible()
    shown = visible_texts(urgent)
    assert "PHQ-9 item 9" in shown
    assert "Several days" in shown
    key(Qt.Key.Key_Escape, widget=urgent)  # not dismissed without acknowledging
    assert urgent.isVisible()
    key(Qt.Key.Key_Return, widget=urgent)  # an Enter still held from the passphrase: nothing
    assert urgent.isVisible()
    key(Qt.Key.Key_Tab, widget=urgent)
    assert urgent.acknowledge.hasFocus()
    key(Qt.Key.Key_Return, widget=urgent.acknowledge)
    assert not urgent.isVisible()
    acks = [e for e in store.session_events(session) if e["kind"] == "alert_ack"]
    assert any(json.dumps(a["payload"]).find(str(alerts[-1]["id"])) >= 0 for a in acks), (
        "the item 9 alert is acknowledged by the clinician"
    )
    # What the survey stored stays in the chart's place until Esc: in the message line
    # it went at the next key (QA).
    shown = window.workspace.entry_dialog
    assert shown is not None
    assert shown.isVisible()
    assert "<b>PHQ-9</b>: 9 (mild)" in shown.words.text()
    # Every answer of the reflection, the patient's own words too (QA: three were said).
    assert "I felt held, and I saw my mother&#x27;s kitchen." in shown.words.text()
    assert shown.area.hasFocus()
    key(Qt.Key.Key_Escape)  # read: back to the session
    assert not shown.isVisible()
    assert window.workspace.observation.line.hasFocus()
    kinds = [e["kind"] for e in store.session_events(session)]
    # The time the screen was the patient's is in the log, from hand-over to return.
    assert kinds.index("survey_handover") < kinds.index("self_report")
    assert kinds.index("survey_return") > kinds.index("self_report")
    texts = [window.workspace.log_model.entry_at(r).text for r in range(5)]
    finished = "Patient's survey, PHQ-9 as finished (replaces the one stored earlier): 9 (mild)"
    assert any(t.startswith(finished) for t in texts), texts

    # The scores in the course view: the demo's finished session, then this one.
    window.close_workspace()
    window.patients_page.select_patient(store.session(session)["patient_id"])
    key(Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    chart = window.course.page.chart
    assert (2.0, 9.0) in chart.score_points("phq9")
    assert (2.0, 0.0) in chart.score_points("gad7")
    assert "item 9" in chart.session_text(session)


def test_the_clinician_coming_back_early_keeps_what_was_answered(qtbot, running, passphrase_store):
    store = passphrase_store
    window, session = running
    hand_over(qtbot, window)
    key(Qt.Key.Key_Return)  # Begin
    for _ in range(3):  # three reflection answers, then the clinician is called back
        key(Qt.Key.Key_Down)
        key(Qt.Key.Key_Right)
        key(Qt.Key.Key_Return)
    key(Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    assert isinstance(QApplication.focusWidget(), QLineEdit)
    type_text(PASSPHRASE)
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.isVisible())
    [reflection] = [e for e in store.session_events(session) if e["kind"] == "self_report"]
    answers = reflection["payload"]["answers"]
    assert answers == {"intensity": 1, "safety": 1, "support": 1}
    assert window.surveys.urgent is None


def test_a_keyring_record_comes_back_with_the_code_chosen_at_hand_over(qtbot, running_keyring):
    window, _session = running_keyring
    key(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = window.surveys.dialog
    assert dialog.code is not None
    dialog.code.setFocus()
    type_text("4411")
    key(Qt.Key.Key_Tab)
    type_text("4411")
    key(Qt.Key.Key_Return)
    assert "at least 6 characters" in dialog.error.text()
    assert window.surveys.patient_window is None
    dialog.code.setText("441122")
    dialog.repeat.setText("441122")
    key(Qt.Key.Key_Return, widget=dialog.repeat)
    patient = window.surveys.patient_window
    assert patient is not None
    patient.clinician_button.click()
    assert patient.cancel_unlock.text() == "Back to the questions"  # none answered yet
    type_text(PASSPHRASE)  # the record has no passphrase to give: only the code works
    key(Qt.Key.Key_Return)
    assert patient.isVisible()
    assert not window.isVisible()
    type_text("441122")
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.isVisible())


def test_finding_a_patient_during_a_running_session_says_why_then_back_to_it(qtbot, running):
    window, _session = running
    workspace = window.workspace
    workspace.focus_observation()
    key(Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert "still running" in window.refusal_box.text()
    key(Qt.Key.Key_Return)
    assert not window.refusal_box.isVisible()
    window.activateWindow()  # as the window manager does when the box closes
    qtbot.waitUntil(lambda: QApplication.focusWidget() is workspace.observation.line)


def test_refused_tries_wait_longer_and_longer():
    from kapdesk.session.unlocking import wait_after  # the lock's own delay (issue 14)

    assert [wait_after(n) for n in range(1, 10)] == [0, 0, 0, 2, 4, 8, 16, 32, 60]


def test_the_return_message_says_how_the_patient_is_now(qtbot, running, passphrase_store):
    window, _session = running
    patient = hand_over(qtbot, window)
    run = patient.run
    for step in run.steps:
        if step.question.id == "distress":
            run.answer(step, 4)
        elif step.question.id == "safety":
            run.answer(step, 0)
    patient.clinician_button.click()
    type_text(PASSPHRASE)
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.isVisible())
    said = window.workspace.entry_dialog.words.text()
    assert "How much distress" in said
    # How the patient is now, in bold.
    assert "<b>How safe did you feel during the session? “Not safe at all”</b>" in said
    key(Qt.Key.Key_Down)  # the arrows read it; it stays
    assert window.workspace.entry_dialog.isVisible()
    assert window.workspace.message_text() == ""  # said once, in the chart's place


def pcl5_begun(qtbot, store, clock, data_dir):
    """A PCL-5 survey on the patient's screen, begun: its first question shown."""
    from kapdesk.clinical.self_report import Survey
    from kapdesk.session.survey import SurveyRun, clinic_surveys

    patient = store.add_patient("Survey Patient")
    session = store.start_session(patient, protocol="IM injection", zone_name="Europe/London")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    files = clinic_surveys(data_dir)
    run = SurveyRun(service, Survey("pcl", "PCL-5", ("pcl5",)), files.instruments)
    window = PatientSurveyWindow(run, confirm=lambda _secret: True, secret_name="passphrase")
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    key(Qt.Key.Key_Return)  # Begin
    return window, run


def test_down_steps_to_the_next_answer_of_a_scale_laid_in_two_columns(
    qtbot, store, clock, data_dir
):
    """PCL-5's five answers sit in two columns; laid across the rows, Down went 0, 2, 4, and
    three Downs answered "Extremely" for a patient who meant "Quite a bit" (QA)."""
    window, run = pcl5_begun(qtbot, store, clock, data_dir)
    buttons = window.choice_buttons
    assert [b.text() for b in buttons][:2] == ["Not at all", "A little bit"]
    assert buttons[1].y() > buttons[0].y()  # the next answer is below, not beside
    assert buttons[1].x() == buttons[0].x()
    key(Qt.Key.Key_Down)  # to the answers: the first
    for _ in range(3):
        key(Qt.Key.Key_Down)
    assert QApplication.focusWidget() is buttons[3]  # "Quite a bit", the fourth
    key(Qt.Key.Key_Up)  # one step back along the scale, as Left
    key(Qt.Key.Key_Left)
    assert QApplication.focusWidget() is buttons[1]
    key(Qt.Key.Key_Right)
    key(Qt.Key.Key_Down)
    assert QApplication.focusWidget() is buttons[3]
    key(Qt.Key.Key_Return)
    assert run.answer_of(run.steps[0]) == 3
    window._release()  # as the clinician's return does: the patient cannot close it


def test_going_back_keeps_the_answer_given_unless_the_patient_changes_it(
    qtbot, store, clock, data_dir
):
    """Xvfb QA: back on a question answered "Mostly safe", Enter did nothing, so the
    patient pressed Down and Enter as before, and "Completely safe" was stored. The
    answer given has the keyboard when its question comes back: Enter keeps it."""
    window, run = pcl5_begun(qtbot, store, clock, data_dir)
    key(Qt.Key.Key_Down)  # the first answer
    key(Qt.Key.Key_Down)  # "A little bit"
    key(Qt.Key.Key_Return)
    assert (window.index, run.answer_of(run.steps[0])) == (1, 1)
    key(Qt.Key.Key_Backspace)  # back to the first question
    assert window.index == 0
    assert QApplication.focusWidget() is window.choice_buttons[1]  # the answer given
    assert "Enter keeps it" in window.hint.text()
    key(Qt.Key.Key_Return)
    assert (window.index, run.answer_of(run.steps[0])) == (1, 1)  # kept, and on
    key(Qt.Key.Key_Backspace)
    key(Qt.Key.Key_Down)  # from the answer given: the next one
    key(Qt.Key.Key_Return)
    assert (window.index, run.answer_of(run.steps[0])) == (1, 2)  # changed, as chosen
    window._release()  # as the clinician's return does: the patient cannot close it


def test_an_alert_acknowledged_on_return_after_the_end_leaves_the_summary(
    qtbot, running, passphrase_store, clock
):
    """Xvfb QA: after the end, the survey's item 9 alert acknowledged on return, the end
    summary still said "1 alert not acknowledged: Ctrl+K", and Ctrl+K said none waited."""
    window, _session = running
    service = window.workspace.service
    for alert in service.open_alerts():
        service.acknowledge_alert(alert.id)
    service.end(override_reason="Escort waiting; stable")
    clock.advance(minutes=5)
    patient = hand_over(qtbot, window)
    answer_everything(patient, item9_down=1)
    patient.clinician_button.click()
    type_text(PASSPHRASE)
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.isVisible())
    urgent = window.surveys.urgent
    panel = window.workspace.discharge
    assert "1 alert not acknowledged" in panel.items_text()  # the item 9 alert, waiting
    # Raised after the end: its own advice, not "the session ended before it was
    # acknowledged" (Xvfb QA).
    detail = window.workspace.banner.detail.text()
    assert "PHQ-9" in window.workspace.banner.headline.text()
    assert "ended before" not in detail
    key(Qt.Key.Key_Tab, widget=urgent)
    key(Qt.Key.Key_Return, widget=urgent.acknowledge)
    assert service.open_alerts() == []
    assert "not acknowledged" not in panel.items_text()
    key(Qt.Key.Key_Escape)  # the survey's words read: the end panel again
    assert window.workspace.side.showing() is panel
    assert "not acknowledged" not in panel.items_text()


def test_the_hand_over_counts_the_checklist_items_ticked_as_met(store, clock, data_dir):
    """QA: with three checklist items ticked in the end panel, the hand-over still said
    "5 discharge criteria not yet met"."""
    from kapdesk.session.protocols import clinic_protocols
    from kapdesk.session.service import SessionService
    from kapdesk.ui.survey_flow import hand_over_facts

    protocol = clinic_protocols(data_dir).protocols["IM injection"]
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM injection", zone_name="UTC")
    service = SessionService(store, session, clock=clock.now_utc, protocol=protocol)
    unticked = hand_over_facts(service)
    ticked = hand_over_facts(service, frozenset(protocol.discharge.checklist))
    count = int(unticked.split(" discharge criteria not yet met")[0].split()[-1])
    assert f"{count - 3} discharge criteria not yet met" in ticked
