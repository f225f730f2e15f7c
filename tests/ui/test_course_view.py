"""The course of treatment by keys (issue 13): the chart of the course, a session opened
from it, course notes added and corrected."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kapdesk.local.demo_course import COURSE_NAME, create_demo_course
from kapdesk.ui.course_page import CorrectNoteDialog, NoteDialog

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def key(which, modifiers=Qt.KeyboardModifier.NoModifier, widget=None):
    target = widget or QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard"
    QTest.keyClick(target, which, modifiers)
    QApplication.processEvents()


def _course_page(window, store, clock):
    sessions = create_demo_course(store, clock.now_utc())
    window.refresh_patients()
    window.patients_page.select_patient(store.session(sessions[0])["patient_id"])
    window.patients_page.patient_list.setFocus()
    key(Qt.Key.Key_C, CTRL_SHIFT)
    assert window.course is not None
    return window.course.page, sessions


def test_the_course_opens_by_keys_and_a_session_opens_from_it(window, store, clock):
    page, sessions = _course_page(window, store, clock)
    assert window.pages.currentWidget() is page
    assert COURSE_NAME in page.title.full_text()
    assert "8 session(s)" in page.title.full_text()
    chart = page.chart
    assert QApplication.focusWidget() is chart
    assert chart.selected_session() == sessions[-1]  # the latest, to start from
    assert "re-screen for hypertension" in chart.finding_text()
    assert [p[1] for p in chart.score_points("phq9")] == [19, 17, 15, 12, 9, 7, 5, 4]
    key(Qt.Key.Key_Left)
    assert chart.selected_session() == sessions[-2]
    assert "Session 7" in chart.readout_text()
    # The goals head the notes.
    first_note = page.notes.index(0, 0).data()
    assert "Goal" in first_note
    assert "Sleep through most nights." in first_note
    key(Qt.Key.Key_Return)
    assert window.course is None
    assert window.workspace is not None
    assert window.workspace.review
    assert window.workspace.service.id == sessions[-2]
    assert window.workspace.header.intention_label.full_text() == (
        "Intention: “To listen to what I need.”"
    )
    assert "Esc: back to the course." in window.workspace.header.status_text()
    # Esc from the session: back to the course it was opened from, at that session.
    key(Qt.Key.Key_Escape, widget=window.workspace)
    assert window.course is not None
    assert window.pages.currentWidget() is window.course.page
    assert window.course.page.chart.selected_session() == sessions[-2]


def test_esc_from_a_course_opened_on_a_session_goes_back_to_that_session(window, store, clock):
    """Xvfb QA: Ctrl+Shift+C on an ended session, then Esc, went to the patients page;
    the session read a moment ago was gone."""
    sessions = create_demo_course(store, clock.now_utc())
    window.refresh_patients()
    window.open_session(sessions[3])
    assert window.workspace is not None
    key(Qt.Key.Key_C, CTRL_SHIFT, widget=window.workspace)
    assert window.course is not None
    assert window.workspace is None
    key(Qt.Key.Key_Escape)
    assert window.course is None
    assert window.workspace is not None
    assert window.workspace.service.id == sessions[3]
    # From there, as before: Esc to the patients page, on that session.
    key(Qt.Key.Key_Escape, widget=window.workspace)
    assert window.workspace is None
    assert window.patients_page.chosen_session() == sessions[3]


def test_a_course_note_is_added_and_corrected_by_keys(window, store, clock):
    page, sessions = _course_page(window, store, clock)
    key(Qt.Key.Key_O, CTRL_SHIFT)
    dialog = window.course.note_dialog
    assert isinstance(dialog, NoteDialog)
    assert dialog.values()[0] == "integration"
    assert dialog.values()[1] == sessions[-1]  # about the session selected in the chart
    assert dialog.text.hasFocus()
    QTest.keyClicks(dialog.text, "Named the fear of falling.")
    key(Qt.Key.Key_Return, widget=dialog.text)  # a new line, not saved
    assert dialog.isVisible()
    QTest.keyClicks(dialog.text, "It eased.")
    # Esc asks first, naming the key the button names (Xvfb QA: "Enter saves it").
    key(Qt.Key.Key_Escape, widget=dialog.text)
    assert dialog.isVisible()
    assert "Ctrl+Enter saves it" in dialog.error.text()
    key(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier, widget=dialog.text)
    assert not dialog.isVisible()
    rows = [page.notes.index(r, 0).data() for r in range(page.notes.rowCount())]
    added = next(r for r in rows if "Named the fear" in r)
    assert page.selected_note().current["text"].startswith("Named the fear")  # in view
    assert "Integration note (session 8)" in added
    assert "Named the fear of falling.\nIt eased." in added
    # The keyboard on the new note, which Enter reads (QA: it went to the chart, where
    # Enter opened the session instead).
    assert window.focusWidget() is page.note_list

    page.note_list.setFocus()
    page.note_list.setCurrentIndex(page.notes.index(rows.index(added), 0))
    key(Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    correct = window.course.correct_dialog
    assert isinstance(correct, CorrectNoteDialog)
    correct.text.setPlainText("Named the fear of heights.\nIt eased.")
    correct.reason.setText("wrong word")
    correct.reason.setFocus()
    key(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier, widget=correct.reason)
    assert not correct.isVisible()
    [note] = [n for n in store.course_notes(page.patient_id) if "fear" in n.original["text"]]
    assert note.original["text"] == "Named the fear of falling.\nIt eased."
    assert note.current["text"] == "Named the fear of heights.\nIt eased."  # lines kept
    rows = [page.notes.index(r, 0).data() for r in range(page.notes.rowCount())]
    [shown] = [r for r in rows if "heights" in r]
    assert "(corrected by " in shown
    assert "wrong word" in shown
    assert "First written: Named the fear of falling." in shown
    # The list shows two lines of a note: Enter reads it whole, the first wording too
    # (QA: cut off, with no way to read it).
    page.note_list.setFocus()
    key(Qt.Key.Key_Return)
    reader = page.reader
    assert reader is not None
    assert reader.isVisible()
    whole = reader.text.toPlainText()
    assert whole.index("Named the fear of heights.\nIt eased.") < whole.index("Correction 1")
    assert "by dr.test. Reason: wrong word" in whole
    first = "First written (Mon 02 Mar 2026 09:00):\n\nNamed the fear of falling.\nIt eased."
    assert whole.endswith(first)
    assert "It then read" not in whole  # one correction: its wording is the note above
    assert reader.text.hasFocus()
    key(Qt.Key.Key_Return)
    assert not reader.isVisible()
    assert page.note_list.hasFocus()
    key(Qt.Key.Key_Escape, widget=page)
    assert window.course is None
    assert window.pages.currentWidget() is window.patients_page


def test_a_note_corrected_twice_reads_whole_with_the_wording_between():
    """QA: a note's wording between two corrections was said nowhere."""
    import datetime as dt
    import uuid
    from zoneinfo import ZoneInfo

    from kapdesk.store.views import CorrectionView, EntryView
    from kapdesk.ui.course_page import note_whole

    who = uuid.uuid4()
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def corrected(minutes, text, reason):
        return CorrectionView(
            uuid.uuid4(), {"text": text}, reason, at + dt.timedelta(minutes=minutes), who
        )

    first = {"kind": "integration", "written_at": at, "text": "tearful at the end"}
    note = EntryView(
        "course_note",
        uuid.uuid4(),
        first,
        {**first, "text": "calm at the end, after a cry"},
        (
            corrected(5, "calm at the end", "misread my notes"),
            corrected(9, "calm at the end, after a cry", "added"),
        ),
        at,
        who,
    )
    whole = note_whole(note, {who: "Ana Ruiz, MD"}, ZoneInfo("UTC"))
    assert whole.split("\n\n") == [
        "Mon 02 Mar 2026 09:00 · Integration note · Ana Ruiz, MD",
        "calm at the end, after a cry",
        "Correction 1, Mon 02 Mar 2026 09:05 by Ana Ruiz, MD. Reason: misread my notes",
        "It then read:\ncalm at the end",
        "Correction 2, Mon 02 Mar 2026 09:09 by Ana Ruiz, MD. Reason: added",
        "First written (Mon 02 Mar 2026 09:00):",
        "tearful at the end",
    ]


def test_a_course_note_asked_for_during_a_session_says_where_notes_go(window, store, clock):
    """QA: Ctrl+Shift+O in a running session did nothing; the note typed next, and its
    Ctrl+Enter, went into the session's log as an observation, where it stays."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    window.open_workspace(session)
    workspace = window.workspace
    key(Qt.Key.Key_O, CTRL_SHIFT, widget=workspace.observation.line)
    assert window.course is None
    assert "Course notes are written in the course view (Ctrl+Shift+C)" in workspace.message_text()
    assert "opens once this session has ended" in workspace.message_text()


def test_a_note_correction_without_a_reason_takes_the_keyboard_to_the_reason(window, store, clock):
    """QA: "The reason for the correction is empty" left the keyboard in the note's text."""
    _page, _sessions = _course_page(window, store, clock)
    key(Qt.Key.Key_O, CTRL_SHIFT)
    dialog = window.course.note_dialog
    QTest.keyClicks(dialog.text, "A note to correct.")
    key(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier, widget=dialog.text)
    key(Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    correct = window.course.correct_dialog
    correct.text.setFocus()
    key(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier, widget=correct.text)
    assert "reason for the correction is empty" in correct.error.text()
    assert correct.focusWidget() is correct.reason
    correct.reject()


def test_a_course_note_from_the_patients_page_opens_the_chosen_patient_s_course(
    window, store, clock
):
    """Xvfb QA: Ctrl+Shift+O on the patients page, a patient chosen, said "not in a session
    ... choose the patient first", and the sentence stood on after a note was saved."""
    window.patients_page.patient_list.setFocus()  # no patient yet, none chosen
    key(Qt.Key.Key_O, CTRL_SHIFT, widget=window.patients_page.patient_list)
    assert window.course is None
    assert window.verdict.text().startswith("A course note is written in a patient's course")
    patient = create_demo_course(store, clock.now_utc())[0]
    patient = store.session(patient)["patient_id"]
    window.refresh_patients(select=patient)
    key(Qt.Key.Key_O, CTRL_SHIFT, widget=window.patients_page.patient_list)
    assert window.course is not None
    assert isinstance(window.course.note_dialog, NoteDialog)
    assert window.course.note_dialog.text.hasFocus()
    assert window.verdict.text() == ""
    window.course.note_dialog.reject()


def test_the_patients_page_s_note_sentence_goes_when_a_session_opens(window, store, clock):
    """Xvfb QA: it stood at the foot of the session screen through dozens of entries."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    window.patients_page.search.setText("zzzq")  # nobody chosen
    key(Qt.Key.Key_O, CTRL_SHIFT, widget=window.patients_page.search)
    assert window.verdict.text().startswith("A course note is written")
    window.open_workspace(session)
    assert window.verdict.text() == ""
