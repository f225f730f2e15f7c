"""A finished session's screen made while its row is chosen in the session list, shown by
Enter (kapdesk/ui/review_ahead.py, issue 10): the same screen as one made on Enter, and
never a screen older than the record or the settings."""

from __future__ import annotations

import weakref

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kapdesk.ui import review_ahead
from tests.ui.test_review import demo_sessions


def key(widget, which):
    QTest.keyClick(widget, which)
    QApplication.processEvents()


def gone(widget) -> bool:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return not shiboken6.isValid(widget)


def choose(window, session) -> None:
    window.patients_page.choose_session(session)
    assert window.patients_page.chosen_session() == session


def rested(window):
    """The clinician stays on the row: what the timer does after PREPARE_AFTER_MS."""
    window.review_ahead.timer.timeout.emit()
    ready = window.review_ahead.ready
    return None if ready is None else ready[2]


def log_texts(workspace) -> list[str]:
    model = workspace.log_model
    return [model.entry_at(row).text for row in range(model.rowCount())]


def test_enter_shows_the_screen_made_while_the_row_was_chosen_and_it_is_the_same_screen(
    qtbot, store, data_dir, clock
):
    window, finished, _running = demo_sessions(qtbot, store, data_dir, clock)
    choose(window, finished)
    made = rested(window)
    assert made is not None
    assert not made.isVisible()  # made off screen: the patients page is still what shows
    assert window.pages.currentWidget() is window.patients_page

    key(window.patients_page.session_list, Qt.Key.Key_Return)
    assert window.workspace is made
    assert made.review
    assert made.service.id == finished
    assert made.isVisible()
    assert made.chart.bp_points()
    assert QApplication.focusWidget() is made.log_view  # as when made on Enter
    shown_ahead = made.grab().toImage()
    texts_ahead = log_texts(made)
    key(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert window.workspace is None

    # The same session made on Enter (nothing made ahead): the very same screen.
    window.review_ahead.discard()
    window.open_session(finished)
    QApplication.processEvents()
    made_on_enter = window.workspace
    assert made_on_enter is not None
    assert made_on_enter is not made
    assert log_texts(made_on_enter) == texts_ahead
    assert made_on_enter.grab().toImage() == shown_ahead


def test_a_correction_written_after_the_screen_was_made_is_on_the_screen_shown(
    qtbot, store, data_dir, clock
):
    window, finished, _running = demo_sessions(qtbot, store, data_dir, clock)
    choose(window, finished)
    made = rested(window)
    assert made is not None
    first = store.entries("observation", finished)[0]
    store.correct(
        "observation", first.id, {"text": "Settled, eyes closed"}, reason="wrong patient's note"
    )

    key(window.patients_page.session_list, Qt.Key.Key_Return)
    shown = window.workspace
    assert shown is not None
    assert shown is not made
    assert any("Settled, eyes closed" in text for text in log_texts(shown))
    assert not any("Settled, eyes closed" in text for text in log_texts(made))
    assert gone(made)


def test_a_setting_changed_after_the_screen_was_made_is_in_the_screen_shown(
    qtbot, store, data_dir, clock
):
    window, finished, _running = demo_sessions(qtbot, store, data_dir, clock)
    choose(window, finished)
    made = rested(window)
    assert made is not None
    assert not made.chart.mean_arterial_shown()
    window.settings.set("show_map", True)

    key(window.patients_page.session_list, Qt.Key.Key_Return)
    shown = window.workspace
    assert shown is not None
    assert shown is not made
    assert shown.chart.mean_arterial_shown()


def test_moving_to_another_row_or_away_from_the_list_throws_the_screen_away(
    qtbot, store, data_dir, clock
):
    window, finished, running = demo_sessions(qtbot, store, data_dir, clock)
    choose(window, finished)
    made = rested(window)
    assert made is not None
    choose(window, running)  # the other ended session
    assert window.review_ahead.ready is None
    assert gone(made)
    made = rested(window)
    assert made is not None
    assert made.service.id == running

    key(window.patients_page.session_list, Qt.Key.Key_Tab)  # the keyboard leaves the list
    assert rested(window) is made  # kept: Shift+Tab and Enter still open it at once
    window.review_ahead.discard()
    assert rested(window) is None  # nothing is made while the list is not in use


def test_a_running_session_or_one_with_many_readings_is_not_made_ahead(
    qtbot, store, data_dir, clock, monkeypatch
):
    window, finished, _running = demo_sessions(qtbot, store, data_dir, clock)
    patient = store.session(finished)["patient_id"]
    still_running = store.start_session(patient, protocol="SPRAVATO REMS", zone_name="UTC")
    window.show_sessions()
    window.patients_page.session_list.setFocus()
    choose(window, still_running)
    assert rested(window) is None  # resumed on Enter, never read only

    choose(window, finished)
    monkeypatch.setattr(review_ahead, "MOST_READINGS", store.readings_count(finished) - 1)
    assert rested(window) is None
    key(window.patients_page.session_list, Qt.Key.Key_Return)
    assert window.workspace is not None
    assert window.workspace.service.id == finished


def test_screens_made_while_browsing_are_freed_once_the_clinician_rests(
    qtbot, store, data_dir, clock
):
    """QA: memory grew row after row (169 -> 203 MB over 48 rows): each screen made froze
    what the one before had left for the collector."""
    window, finished, running = demo_sessions(qtbot, store, data_dir, clock)
    kept = []
    for _ in range(3):
        for session in (finished, running):
            choose(window, session)
            made = rested(window)
            assert made is not None
            kept.append(weakref.ref(made.service.state))
            del made
            QApplication.processEvents()  # its painting off screen, at the loop's next turn
    window.review_ahead.discard()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    window.review_ahead.tidy.timeout.emit()
    assert [ref() for ref in kept] == [None] * 6
    assert window.chart_pool is not None  # and a chart pair waits for the next screen


def test_a_chart_pair_waits_for_a_session_resumed_after_a_screen_was_made_ahead(
    qtbot, store, data_dir, clock
):
    """The screen made ahead takes the chart pair made for the next session screen; one
    resumed instead made its own then (~70 ms more, Esc from a read, Up, Enter)."""
    window, finished, _running = demo_sessions(qtbot, store, data_dir, clock)
    # The window's own warm-up has made the pair (and will not again by itself).
    qtbot.waitUntil(lambda: window.chart_pool is not None)
    choose(window, finished)
    made = rested(window)
    assert made is not None
    assert window.chart_pool.take(*pair_key(window)) is None  # the screen took it
    for _ in range(3):  # its painting, then the pair, at the loop's next turns
        QApplication.processEvents()
    assert window.chart_pool.take(*pair_key(window)) is not None


def pair_key(window):
    from kapdesk.local.settings import alert_thresholds
    from kapdesk.ui.theme import chart_colours

    return chart_colours(window.settings.get("theme")), alert_thresholds(window.settings)


def test_a_screen_that_cannot_be_made_ahead_is_left_to_enter(
    qtbot, store, data_dir, clock, monkeypatch
):
    """Unasked, in the background, a failure says nothing and makes nothing; Enter meets
    it as before."""
    from kapdesk.store.errors import StoreError

    window, finished, _running = demo_sessions(qtbot, store, data_dir, clock)
    choose(window, finished)

    def fails(*_args, **_kwargs):
        raise StoreError("This session's entries could not be read.")

    monkeypatch.setattr(window, "make_workspace", fails)
    assert rested(window) is None
    assert window.pages.count() == 1  # the patients page alone
