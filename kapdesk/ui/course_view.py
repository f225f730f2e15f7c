"""The main window's course page: opened for one patient, its notes added and corrected
by keys, a session opened from it (issue 13)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kapdesk.local.settings import alert_thresholds, local_zone_name
from kapdesk.ui.actions import make_action
from kapdesk.ui.course_page import CorrectNoteDialog, CoursePage, NoteDialog
from kapdesk.ui.forms import open_form
from kapdesk.ui.theme import chart_colours, scaled_px

if TYPE_CHECKING:
    from kapdesk.ui.main_window import MainWindow

CHART_FONT_PX = 16


class CourseView:
    def __init__(self, window: MainWindow, patient_id: uuid.UUID) -> None:
        self.window = window
        settings = window.settings
        self.page = CoursePage(
            window.store,
            patient_id,
            instruments=window.surveys.files.instruments,
            thresholds=alert_thresholds(settings),
            zone=ZoneInfo(settings.get("clinic_zone") or local_zone_name()),
            colours=chart_colours(settings.get("theme")),
            font_px=scaled_px(CHART_FONT_PX, settings.get("font_scale")),
        )
        self.note_dialog: NoteDialog | None = None
        self.correct_dialog: CorrectNoteDialog | None = None
        # Ctrl+Shift+O is the main window's (add_course_note): it says where notes go when
        # the course view is not open, and comes here when it is.
        make_action(self.page, "&Correct the selected note…", "Ctrl+E", self.correct_note)
        self.page.closed.connect(window.close_course)
        self.page.session_opened.connect(self.open_session)
        window.pages.addWidget(self.page)
        window.pages.setCurrentWidget(self.page)
        self.page.focus_chart()

    def add_note(self) -> None:
        page = self.page
        store = self.window.store

        def save(dialog: NoteDialog) -> object:
            kind, session_id, text = dialog.values()
            return store.add_course_note(page.patient_id, kind, text, session_id=session_id)

        saved: list[object] = []
        self.note_dialog = open_form(
            NoteDialog(page.sessions, page.chart.selected_session(), self.window),
            save,
            saved=lambda note_id: (saved.append(note_id), self._note_saved(note_id)),
            # Saved: the keyboard on the new note, which the caption says Enter reads (QA:
            # it went to the chart, where Enter opened the session instead). Cancelled: back
            # to the chart, where the clinician was.
            closed=lambda: self._back(page.note_list.setFocus if saved else page.focus_chart),
        )

    def _note_saved(self, note_id: object) -> None:
        self.page.refresh()
        self.page.select_note(note_id)
        # Until the course is closed; the standing verdict (skipped files...) stays beneath.
        self.window.statusBar().showMessage(
            "Course note saved (selected in the list below the chart)."
        )

    def correct_note(self) -> None:
        note = self.page.selected_note()
        if note is None:
            self.window.show_verdict(
                "Choose a note in the list first (Tab reaches it), then Ctrl+E to correct it."
            )
            return
        store = self.window.store

        def save(dialog: CorrectNoteDialog) -> object:
            return store.correct(
                "course_note", note.id, {"text": dialog.corrected()}, reason=dialog.reason.text()
            )

        self.correct_dialog = open_form(
            CorrectNoteDialog(note, self.window),
            save,
            saved=lambda _id: (self.page.refresh(), self.page.select_note(note.id)),
            closed=lambda: self._back(self.page.note_list.setFocus),
        )

    def _back(self, focus: Callable[[], object]) -> None:
        """The keyboard back to the page once a form closes (its window active again)."""
        self.window.activateWindow()
        focus()

    def open_session(self, session_id: object) -> None:
        window = self.window
        patient = self.page.patient_id
        window.course_from_session = None  # another session is opened instead
        window.close_course()
        assert isinstance(session_id, uuid.UUID)
        window.open_session(session_id)
        if window.workspace is not None and window.workspace.review:
            window.course_after_review = (patient, session_id)
            window.workspace.header.set_status(
                window.workspace.header.status_text().replace(
                    "Esc: back to the patients.", "Esc: back to the course."
                )
            )

    def close(self) -> None:
        window = self.window
        window.statusBar().clearMessage()  # "Course note saved" was about this course
        window.pages.setCurrentWidget(window.patients_page)
        window.pages.removeWidget(self.page)
        self.page.deleteLater()
