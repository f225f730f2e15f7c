"""Who is at the keyboard (issue 14), by keys and with a fake clock: idle for the set time
locks; the lock screen keeps both clocks, the due check and an alert's severity on screen,
and no patient detail; a clinician's own PIN unlocks, another's hands over (logged with
both names), wrong ones wait longer and longer and are audited, and entries are signed
with whoever made them, in the store, the log and the report."""

from __future__ import annotations

import json

import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLabel, QLineEdit
from sqlalchemy import text

from kapdesk.local.demo import DEMO_NAME, create_demo
from kapdesk.local.settings import Settings
from kapdesk.ui.lock_screen import LockScreen
from kapdesk.ui.locking import HandOverToClinician
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.report import report_facts, write_pdf
from kapdesk.ui.session_log import entry_html
from tests.conftest import PASSPHRASE

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
ANA_PIN = "482916"
BEN_PIN = "730461"


def key(which, modifiers=Qt.KeyboardModifier.NoModifier, widget=None):
    target = widget or QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard"
    QTest.keyClick(target, which, modifiers)
    QApplication.processEvents()


def type_text(words):
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard"
    QTest.keyClicks(target, words)
    QApplication.processEvents()


def every_text(root):
    """All the words in a widget tree, shown or not: labels, buttons, fields, lists,
    tooltips, accessible names and the window title."""
    found = [root.windowTitle(), root.toolTip(), root.accessibleName()]
    for widget in root.findChildren(QLabel):
        found += [widget.text(), widget.toolTip(), widget.accessibleName()]
    for widget in root.findChildren(QAbstractButton):
        found += [widget.text(), widget.toolTip()]
    for widget in root.findChildren(QLineEdit):
        found += [widget.text(), widget.placeholderText()]
    for widget in root.findChildren(QComboBox):
        found += [widget.itemText(i) for i in range(widget.count())]
    return "\n".join(found)


def _clinic(qtbot, store, data_dir, clock):
    ana = store.create_account("Ana Ruiz", credentials="MD", role="prescriber", secret=ANA_PIN)
    store.sign_in(ana, "pin")
    ben = store.create_account("Ben Cole", credentials="RN", role="nurse", secret=BEN_PIN)
    _finished, session = create_demo(store, clock.now_utc())
    window = MainWindow(store, Settings(data_dir), clock)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    window.resume_session(session)
    return window, ana, ben


@pytest.fixture
def clinic(qtbot, store, data_dir, clock):
    """Two clinicians, Ana (signed in) and Ben, and the demo's running session on screen;
    the record key in the keyring."""
    return _clinic(qtbot, store, data_dir, clock)


@pytest.fixture
def clinic_with_passphrase(qtbot, passphrase_store, data_dir, clock):
    return _clinic(qtbot, passphrase_store, data_dir, clock)


def lock_now(qtbot, window) -> LockScreen:
    """Ctrl+Alt+L's act; then the keyboard is in the lock screen's PIN field."""
    window.lock.lock("key")
    screen = lock_screen()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is screen.panel.secret)
    return screen


def lock_screen() -> LockScreen:
    screens = [w for w in QApplication.topLevelWidgets() if isinstance(w, LockScreen)]
    assert len(screens) == 1
    return screens[0]


def test_idle_for_the_set_time_locks_and_the_lock_screen_keeps_the_patient_safe(
    qtbot, clinic, clock
):
    window, _ana, _ben = clinic
    window.settings.set("lock_after_minutes", 5)
    clock.advance(minutes=4)
    window.lock.check_idle()
    assert not window.lock.locked  # four minutes: still open
    QTest.keyClick(window.workspace.observation.line, Qt.Key.Key_A)  # someone at the keyboard
    clock.advance(minutes=4)
    window.lock.check_idle()
    assert not window.lock.locked  # the key press started the five minutes again
    clock.advance(minutes=1, seconds=1)
    # The lock's own timer finds it: fired here rather than waited for, so a busy machine
    # cannot make the test fail.
    assert window.lock._timer.isActive()
    window.lock._timer.timeout.emit()
    assert window.lock.locked
    screen = lock_screen()
    assert not window.isVisible()  # nothing of the record is on screen
    words = every_text(screen)
    assert DEMO_NAME not in words
    assert "DEMO" not in words
    # Both clocks, and they advance while locked.
    service = window.workspace.service
    first_start, first_dose = screen.since_start.time.text(), screen.since_dose.time.text()
    assert first_start != "--:--:--"
    assert first_dose != "--:--:--"
    clock.advance(minutes=2)
    assert screen._timer.isActive()
    screen._timer.timeout.emit()  # the lock screen's refresh, fired rather than waited for
    assert screen.since_start.time.text() != first_start
    assert screen.since_dose.time.text() != first_dose
    # The next due check, as the session screen words it.
    assert screen.check_label.text() == service.next_check()[0]
    assert screen.check_label.text()
    # The demo's alerts are not acknowledged: the severity and the finding show.
    pending = service.open_alerts()
    assert len(pending) == 8
    assert screen.alert_frame.isVisible()
    # The banner's alert (the most severe, the newest), never an older one (QA).
    assert screen.alert_label.text() == (
        f"! CAUTION alert not yet acknowledged (and 7 more): {pending[0].reason}"
    )
    with window.store.engine.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM audit_events WHERE action = 'lock'")).first()


def test_the_pin_unlocks_and_what_was_typed_is_still_there(qtbot, clinic, clock):
    window, ana, _ben = clinic
    window.workspace.observation.line.setFocus()
    type_text("sitting up, ")
    key(Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    assert window.lock.locked
    screen = lock_screen()
    assert QApplication.focusWidget() is screen.panel.secret
    key(Qt.Key.Key_Escape)  # no way round the lock
    key(Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert window.lock.locked
    type_text(ANA_PIN)
    key(Qt.Key.Key_Return)
    assert not window.lock.locked
    assert window.isVisible()
    assert window.workspace.observation.line.text() == "sitting up, "
    assert window.store.clinician_id == ana
    # Unlocked by the same clinician: no hand-over line.
    assert not window.workspace.service.state.events_of("handover")


def wrong_pins(window, clock, count):
    """``count`` wrong PINs, each typed once the wait before it is over (as a person would)."""
    panel = lock_screen().panel
    for attempt in range(count):
        clock.advance(seconds=panel.attempts.wait_left())
        type_text(f"11223{attempt}")
        key(Qt.Key.Key_Return)
        assert window.lock.locked


def test_five_wrong_pins_wait_longer_and_longer_and_are_audited(qtbot, clinic, clock):
    window, ana, _ben = clinic
    panel = lock_now(qtbot, window).panel
    wrong_pins(window, clock, 3)
    assert panel.attempts.wait_left() == 0  # three slips: no wait yet
    wrong_pins(window, clock, 2)
    assert "5 tries refused in a row: the next PIN is checked in 4 s" in panel.message.text()
    # While the wait runs, even the right PIN is not checked.
    type_text(ANA_PIN)
    key(Qt.Key.Key_Return)
    assert window.lock.locked
    with window.store.engine.connect() as conn:
        refused = (
            conn.execute(text("SELECT details FROM audit_events WHERE action = 'unlock_refused'"))
            .scalars()
            .all()
        )
        everything = "\n".join(conn.execute(text("SELECT details FROM audit_events")).scalars())
    assert len(refused) == 5
    assert all(json.loads(d)["tried_clinician_id"] == str(ana) for d in refused)
    assert ANA_PIN not in everything  # never what was typed
    assert "112230" not in everything
    clock.advance(seconds=4)
    type_text(ANA_PIN)
    key(Qt.Key.Key_Return)
    assert not window.lock.locked
    assert panel.attempts.refusals == 0


def test_the_record_passphrase_unlocks_even_during_the_wait(qtbot, clinic_with_passphrase, clock):
    window, _ana, _ben = clinic_with_passphrase
    panel = lock_now(qtbot, window).panel
    assert "The record's passphrase also unlocks" in panel.hint.text()
    wrong_pins(window, clock, 6)
    wait = panel.attempts.wait_left()
    assert wait > 0
    # The right PIN typed before the wait is over is not checked, and not counted wrong
    # (QA: it doubled the wait).
    type_text(ANA_PIN)
    key(Qt.Key.Key_Return)
    assert window.lock.locked
    assert panel.attempts.refusals == 6
    assert panel.attempts.wait_left() == wait
    assert panel.message.text().startswith("Not checked yet: PINs are waiting.")
    type_text(PASSPHRASE)
    key(Qt.Key.Key_Return)
    assert not window.lock.locked
    with window.store.engine.connect() as conn:
        details = conn.execute(
            text("SELECT details FROM audit_events WHERE action = 'sign_in' ORDER BY seq DESC")
        ).scalar()
    assert json.loads(details)["how"] == "record_passphrase"


def test_another_clinicians_pin_on_the_lock_screen_hands_over(qtbot, clinic, clock):
    window, ana, ben = clinic
    screen = lock_now(qtbot, window)
    assert screen.panel.chosen() == ana  # the clinician signed in is chosen already
    key(Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)  # back to the names
    assert QApplication.focusWidget() is screen.panel.who
    down = screen.panel.ids.index(ben) > screen.panel.ids.index(ana)
    key(Qt.Key.Key_Down if down else Qt.Key.Key_Up)
    assert screen.panel.chosen() == ben
    key(Qt.Key.Key_Tab)
    type_text(BEN_PIN)
    key(Qt.Key.Key_Return)
    assert not window.lock.locked
    assert window.store.clinician_id == ben
    [line] = [e for e in window.workspace.service.log() if "Hand-over" in e.text]
    assert "Ana Ruiz, MD handed the session to Ben Cole, RN" in line.text
    assert "Ben Cole, RN" in window.windowTitle()


def test_hand_over_by_key_and_entries_signed_by_each_in_store_log_and_report(
    qtbot, clinic, clock, tmp_path
):
    window, ana, ben = clinic
    workspace = window.workspace
    workspace.observation.line.setFocus()
    type_text("calm, eyes closed")
    key(Qt.Key.Key_Return)
    key(Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, HandOverToClinician)]
    assert len(dialogs) == 1
    dialog = dialogs[0]
    assert dialog.panel.chosen() == ben  # the one other clinician
    assert QApplication.focusWidget() is dialog.panel.secret
    type_text("000000")
    key(Qt.Key.Key_Return)
    assert dialog.isVisible()  # refused: still open, and said why
    assert "not the chosen clinician's" in dialog.panel.message.text()
    type_text(BEN_PIN)
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert window.store.clinician_id == ben
    # The keyboard is back in the session, where it was.
    qtbot.waitUntil(lambda: QApplication.focusWidget() is workspace.observation.line)
    type_text("asked for water")
    key(Qt.Key.Key_Return)
    service = workspace.service
    by_text = {e.text: e for e in service.log()}
    first, second = by_text["calm, eyes closed"], by_text["asked for water"]
    # The store.
    assert service.state.entry("observation", first.id).recorded_by == ana
    assert service.state.entry("observation", second.id).recorded_by == ben
    # The log, as drawn.
    assert "Ana Ruiz, MD" in entry_html(first)
    assert "Ben Cole, RN" in entry_html(second)
    handover = next(e for e in service.log() if e.text.startswith("Hand-over"))
    assert "Ana Ruiz, MD handed the session to Ben Cole, RN" in handover.text
    # The report, as filed (the PDF read back).
    write_pdf(service, report_facts(service, "Ben Cole, RN"), tmp_path / "report.pdf")
    reader = pypdf.PdfReader(str(tmp_path / "report.pdf"))
    text_ = "\n".join(page.extract_text() for page in reader.pages)
    lines = [" ".join(line.split()) for line in text_.splitlines()]  # cells come tab-spaced
    # The log's table: each entry's "by" cell follows its words.
    assert lines[lines.index("calm, eyes closed") + 1] == "Ana Ruiz, MD"
    assert lines[lines.index("asked for water") + 1] == "Ben Cole, RN"


def test_a_record_without_accounts_does_not_lock(qtbot, window, clock):
    window.settings.set("lock_after_minutes", 1)
    clock.advance(minutes=30)
    window.lock.check_idle()
    assert not window.lock.locked
    key(Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier, window)
    assert not window.lock.locked
    assert "Locking needs clinicians' accounts" in window.verdict.text()


def test_the_patients_survey_returns_through_the_same_lock(qtbot, clinic, clock):
    """With accounts, the survey's "For the clinician" is the lock's panel: a wrong PIN is
    refused and audited as the lock's are, another clinician's PIN hands over, and the idle
    lock waits while the patient has the screen."""
    from kapdesk.ui.patient_mode import PatientSurveyWindow
    from kapdesk.ui.survey_flow import HandOverDialog

    window, _ana, ben = clinic
    window.workspace.refocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    key(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = window.surveys.dialog
    assert isinstance(dialog, HandOverDialog)
    assert dialog.code is None  # no return code: the clinicians' own PINs bring kapdesk back
    key(Qt.Key.Key_Return, widget=dialog.survey)
    patient = window.surveys.patient_window
    assert isinstance(patient, PatientSurveyWindow)
    qtbot.waitExposed(patient)
    clock.advance(minutes=30)  # the patient takes their time: no lock over their survey
    window.lock.check_idle()
    assert not window.lock.locked
    key(Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    panel = patient.panel
    assert panel is not None
    assert QApplication.focusWidget() is panel.secret
    type_text("271828")
    key(Qt.Key.Key_Return)
    assert patient.isVisible()
    assert "not the chosen clinician's" in panel.message.text()
    panel.who.setCurrentIndex(panel.ids.index(ben))
    panel.secret.setFocus()
    type_text(BEN_PIN)
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(window.isVisible)
    assert window.store.clinician_id == ben
    log = [e.text for e in window.workspace.service.log()]
    assert any(
        "Ana Ruiz, MD handed the session to Ben Cole, RN (coming back from the patient's survey"
        in line
        for line in log
    )
    with window.store.engine.connect() as conn:
        refused = conn.execute(
            text("SELECT details FROM audit_events WHERE action = 'unlock_refused'")
        ).scalar()
    assert json.loads(refused)["where"] == "survey"


def test_a_running_session_behind_the_patients_page_stays_watched_when_locked(qtbot, clinic, clock):
    """QA: locked from the patients page, the lock said no session was running while one
    had alerts and a check due."""
    window, _ana, _ben = clinic
    service = window.workspace.service
    window.close_workspace()  # as after a restart, before the session is resumed
    assert window.workspace is None
    screen = lock_now(qtbot, window)
    assert screen.session_box.isVisible()
    assert not screen.no_session.isVisible()
    assert screen.check_label.text() == service.next_check()[0]
    assert screen.alert_frame.isVisible()
    assert DEMO_NAME not in every_text(screen)


def test_an_open_menu_is_closed_by_the_lock_and_does_not_come_back(qtbot, clinic, clock):
    window, _ana, _ben = clinic
    menu = window.menuBar().actions()[0].menu()
    menu.popup(window.mapToGlobal(window.rect().center()))
    qtbot.waitUntil(menu.isVisible)
    screen = lock_now(qtbot, window)
    assert not menu.isVisible()
    type_text(ANA_PIN)
    key(Qt.Key.Key_Return, widget=screen.panel.secret)
    assert not window.lock.locked
    assert window.isVisible()
    assert not menu.isVisible()


def test_the_record_passphrase_never_signs_another_clinician_in(
    qtbot, clinic_with_passphrase, clock
):
    """QA: the shared record passphrase handed the session over to a nurse's name."""
    window, ana, ben = clinic_with_passphrase
    screen = lock_now(qtbot, window)
    screen.panel.who.setCurrentIndex(screen.panel.ids.index(ben))
    screen.panel.secret.setFocus()
    type_text(PASSPHRASE)
    key(Qt.Key.Key_Return)
    assert window.lock.locked
    assert "unlocks only for the clinician who was signed in" in screen.panel.message.text()
    assert window.store.clinician_id == ana
    screen.panel.who.setCurrentIndex(screen.panel.ids.index(ana))
    screen.panel.secret.setFocus()
    type_text(PASSPHRASE)
    key(Qt.Key.Key_Return)
    assert not window.lock.locked
    assert window.store.clinician_id == ana
    assert not window.workspace.service.state.events_of("handover")


def test_a_theme_change_keeps_the_entry_chosen_in_the_log(qtbot, clinic, clock):
    """QA: a theme change moved the choice to the newest entry, so a following Ctrl+E would
    have corrected another entry than the one chosen."""
    window, _ana, _ben = clinic
    workspace = window.workspace
    workspace.focus_log()
    for _ in range(3):
        key(Qt.Key.Key_Down, widget=workspace.log_view)
    chosen = workspace.log_model.entry_at(workspace.log_view.currentIndex().row()).id
    try:
        window.toggle_theme()  # View > Dark or light theme
        rebuilt = window.workspace
        assert rebuilt is not workspace  # the session screen was made again in the theme
        index = rebuilt.log_view.currentIndex()
        assert rebuilt.log_model.entry_at(index.row()).id == chosen
        assert QApplication.focusWidget() is rebuilt.log_view
    finally:
        window.toggle_theme()  # back to the dim theme
        QApplication.instance().setStyleSheet("")  # as the tests after expect
