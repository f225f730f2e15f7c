"""A past session, read back from the patients page by keys, read only (issue 12)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kapdesk.local.demo import create_demo
from kapdesk.local.settings import Settings
from kapdesk.ui.main_window import MainWindow


def key(widget, which, modifiers=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(widget, which, modifiers)
    QApplication.processEvents()


def demo_sessions(qtbot, store, data_dir, clock):
    """The demo patient's two sessions, both ended (the patients page is free), one Tab
    from the patient: the keyboard on their session list."""
    finished, running = create_demo(store, clock.now_utc())
    store.end_session(running)
    window = MainWindow(store, Settings(data_dir), clock)
    qtbot.addWidget(window)
    window.resize(1366, 738)
    window.show()
    qtbot.waitExposed(window)
    page = window.patients_page
    page.patient_list.setFocus()
    page.patient_list.setCurrentIndex(page.patients.index(0, 0))
    key(page.patient_list, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is page.session_list
    return window, finished, running


def test_a_finished_session_opens_read_only_by_keys(qtbot, store, data_dir, clock):
    window, finished, running = demo_sessions(qtbot, store, data_dir, clock)
    page = window.patients_page
    sessions = page.session_list
    rows = [sessions.model().index(r, 0).data() for r in range(sessions.model().rowCount())]
    assert len(rows) == 2
    assert page.patient_details.text() == (
        "Born 1985-06-15 · record number DEMO-0001 · 70 kg (Ctrl+E corrects them)"
    )
    # Each at a glance: date, protocol, dose, highest BP, when it ended.
    assert all("SPRAVATO REMS · esketamine 56 mg · highest BP " in row for row in rows), rows
    assert all(" · ended " in row for row in rows), rows
    sessions.setCurrentIndex(sessions.model().index(1, 0))  # the older: the finished demo
    key(sessions, Qt.Key.Key_Return)

    workspace = window.workspace
    assert workspace is not None
    assert workspace.review
    assert workspace.service.id == finished
    header = workspace.header
    assert header.status_text().startswith("Ended — read only.")
    assert "SPRAVATO REMS" in header.status_text()
    assert header.session_clock.caption.full_text().startswith("Duration ")
    assert header.dose_clock.caption.full_text().startswith("From the first dose, ")
    assert header.clock_texts() == ("02:45:00", "02:15:00")  # the demo's span
    # The chart and the whole log, as recorded.
    assert workspace.chart.isVisible()
    assert workspace.chart.bp_points()
    texts = [workspace.log_model.entry_at(r).text for r in range(workspace.log_model.rowCount())]
    assert any(t.startswith("Esketamine 28 mg") for t in texts), texts[:5]
    # Nothing can be entered: no entry line, no key that writes, typing says why.
    assert not workspace.observation.isVisible()
    assert not workspace.vitals.isVisible()
    enabled = [name for name, a in workspace.actions_by_name.items() if a.isEnabled()]
    # Reading, filing and correcting, and handing over for the patient's survey (issue 13).
    assert enabled == ["log", "correct", "survey", "report", "print", "rems_form"]
    assert not any(a.isEnabled() for a in workspace.scale_actions)
    before = workspace.log_model.rowCount()
    focused = QApplication.focusWidget()
    assert focused is workspace.log_view
    key(focused, Qt.Key.Key_A)
    assert "read only" in workspace.message_text()
    # Each key that writes says so too (Xvfb QA: Ctrl+D did nothing, without a word).
    for chord in (
        (Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier),
    ):
        workspace.say("")
        key(focused, *chord)
        assert workspace.message_text().startswith("This session has ended and is open to read")
    workspace.say("")
    key(focused, Qt.Key.Key_Down)  # reading the log says nothing
    assert workspace.message_text() == ""
    assert workspace.log_model.rowCount() == before
    assert store.session(finished)["ended_at"] is not None
    # Esc: back to the patients, on the session just read (QA: the keyboard went to the
    # patient list, no session chosen); Up and Enter read the newer one.
    key(QApplication.focusWidget(), Qt.Key.Key_Escape)
    key(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert window.workspace is None
    assert window.pages.currentWidget() is page
    assert QApplication.focusWidget() is sessions
    assert page.chosen_session() == finished
    assert sessions.selectionModel().isSelected(sessions.currentIndex())  # shown chosen
    key(sessions, Qt.Key.Key_Up)
    key(sessions, Qt.Key.Key_Return)
    assert window.workspace is not None
    assert window.workspace.review
    assert window.workspace.service.id == running


def test_a_reviewed_session_counts_the_alerts_never_acknowledged(qtbot, window, store, clock):
    """QA: read only, the banner is hidden (it took the keyboard), and nothing on screen
    said that alerts had been left unacknowledged when the session ended."""
    from kapdesk.session.service import SessionService

    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    service.record_vitals_line("182/112 90 97")
    assert len(service.open_alerts()) == 1
    service.end(override_reason="test: ended at once")
    window.open_session(session)  # Enter on it in the patients page
    QApplication.processEvents()
    workspace = window.workspace
    assert workspace.review
    assert not workspace.banner.isVisible()
    assert (
        "1 alert never acknowledged: “NOT ACKNOWLEDGED” in the log."
        in workspace.header.status_text()
    )
    # ... where its line says so (QA: it read as an acknowledged alert's line).
    alert_id = service.open_alerts()[0].id
    line = workspace.log_model.entry_at(workspace.log_model.row_of(alert_id)).text
    assert line.endswith("— NOT ACKNOWLEDGED")


def test_a_session_key_on_the_patients_page_says_where_it_works(qtbot, store, data_dir, clock):
    """Xvfb QA: Ctrl+Shift+P with an ended session chosen did nothing, without a word."""
    from kapdesk.ui.actions import SESSION_ONLY_KEYS

    window, finished, _running = demo_sessions(qtbot, store, data_dir, clock)
    page = window.patients_page
    sessions = page.session_list
    sessions.setCurrentIndex(sessions.model().index(1, 0))
    key(
        sessions,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    said = window.statusBar().currentMessage()
    assert said == (
        "Ctrl+Shift+P works in a session: open one first (Tab, Enter; a new one: "
        "Ctrl+Shift+N). Nothing done."
    )
    # One line the status bar shows whole at 1024 px (Xvfb QA: "... Nothing w").
    assert window.statusBar().fontMetrics().horizontalAdvance(said) < 1000
    assert window.statusBar().isVisible()
    key(sessions, Qt.Key.Key_Return)  # opened: answered, the sentence goes
    assert window.workspace is not None
    assert window.workspace.service.id == finished
    assert window.statusBar().currentMessage() == ""
    # The list is the session screen's own chords, less Ctrl+E (a patient's correction here).
    chords = {a.shortcut().toString() for a in window.workspace.actions_by_name.values()}
    assert chords - {"Ctrl+E"} == SESSION_ONLY_KEYS


def test_an_entry_of_a_past_session_is_corrected_from_its_screen(qtbot, store, data_dir, clock):
    """Xvfb QA: a dose found the next day to have been charted in error could be marked so
    only on the screen left open at the end; opened again from the patients page, Ctrl+E
    said "read only", though corrections are kept open after the end."""
    window, finished, _running = demo_sessions(qtbot, store, data_dir, clock)
    sessions = window.patients_page.session_list
    sessions.setCurrentIndex(sessions.model().index(1, 0))
    key(sessions, Qt.Key.Key_Return)
    workspace = window.workspace
    assert workspace.review
    assert workspace.service.id == finished
    assert "Ctrl+E corrects the chosen entry" in workspace.header.status_text()
    first, second = workspace.service.state.doses()  # the demo's two 28 mg devices
    caption = workspace.header.dose_clock.caption.full_text()
    assert caption == f"From the first dose, {workspace.service.local_clock(first.at)}"
    log = workspace.log_view
    log.setCurrentIndex(workspace.log_model.index(workspace.log_model.row_of(first.id), 0))
    key(log, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    form = workspace.correct_dialog
    assert form is not None
    assert form.isVisible()
    key(form.edits["mg"], Qt.Key.Key_Tab)
    key(form.in_error.box, Qt.Key.Key_Space)
    qtbot.keyClicks(form.reason, "charted twice; one device given")
    with qtbot.waitSignal(form.accepted):
        key(form.reason, Qt.Key.Key_Return)
    assert [d.id for d in workspace.service.state.doses()] == [second.id]
    line = workspace.log_model.entry_at(workspace.log_model.row_of(first.id))
    assert line.text.startswith("ENTERED IN ERROR, not given: Esketamine 28 mg")
    # T0 moved to the dose given, in the header too.
    assert workspace.header.dose_clock.caption.full_text() == (
        f"From the first dose, {workspace.service.local_clock(second.at)}"
    )
    assert workspace.review  # still the past session's screen, nothing added
