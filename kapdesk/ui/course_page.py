"""A patient's course of treatment (issue 13): PHQ-9 and GAD-7 over the sessions with
response and remission, the dose, the pre-dose baseline and peak BP, alerts and
overrides; the goals and the preparation and integration notes beside it.

Enter on a session opens it (read only once ended); Esc goes back to the patients.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.course import CourseSession, summarise_course
from kapdesk.clinical.self_report import Instrument
from kapdesk.session.course import course_sessions, current_course_start
from kapdesk.store import RecordStore
from kapdesk.store.course_record import COURSE_NOTE_KINDS
from kapdesk.store.views import EntryView
from kapdesk.ui.forms import FormDialog
from kapdesk.ui.patients_page import ID_ROLE, RowsModel
from kapdesk.widgets.chart_colours import DIM, ChartColours
from kapdesk.widgets.course_chart import CourseChart
from kapdesk.widgets.elided_label import ElidedLabel
from kapdesk.widgets.list_combo import ListCombo

CHART_MIN_PX = 400
SHORT_PAGE_PX = 640


def save_on_ctrl_enter(dialog: FormDialog) -> None:
    """Ctrl+Enter saves from any field of the form, as its button says (QA: not from the
    reason)."""
    for keys in ("Ctrl+Return", "Ctrl+Enter"):
        shortcut = QShortcut(QKeySequence(keys), dialog)
        shortcut.activated.connect(dialog._try_save)


# Esc's question in a note's form names the key its button names (Xvfb QA: "Enter saves
# it" under a button saying Ctrl+Enter, in a field where Enter makes a new line).
NOTE_DISCARD_QUESTION = (
    "What you wrote here is not saved yet. Ctrl+Enter saves it; Esc again throws it away."
)


class NoteDialog(FormDialog):
    """A course note: its kind, the session it is about (if one), and the text. Ctrl+Enter
    saves, since Enter makes a new line in a note."""

    DISCARD_QUESTION = NOTE_DISCARD_QUESTION

    def __init__(
        self,
        sessions: Sequence[CourseSession],
        about: uuid.UUID | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Add a course note", parent, ok_text="Save")
        self.kind = ListCombo()
        self.kind.setAccessibleName("Kind of note")
        self.kinds = list(COURSE_NOTE_KINDS)
        for kind in self.kinds:
            self.kind.addItem(COURSE_NOTE_KINDS[kind])
        self.kind.setCurrentIndex(self.kinds.index("integration"))
        self.form.addRow("&Kind", self.kind)
        self.session = ListCombo()
        self.session.setAccessibleName("About the session")
        self.session_ids: list[uuid.UUID | None] = [None]
        self.session.addItem("Not about one session")
        for session in reversed(sessions):
            day = session.started_at.astimezone(ZoneInfo(session.zone_name))
            self.session.addItem(f"Session {session.number}, {day:%a %d %b %Y}")
            self.session_ids.append(session.session_id)
        if about in self.session_ids:
            self.session.setCurrentIndex(self.session_ids.index(about))
        self.form.addRow("&Session", self.session)
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("Note")
        self.text.setPlaceholderText("The note (Ctrl+Enter saves)")
        self.text.setMinimumHeight(140)
        self.form.addRow("&Note", self.text)
        self.buttons.button(self.buttons.StandardButton.Ok).setText("Save (Ctrl+Enter)")
        self.first_field = self.text
        save_on_ctrl_enter(self)

    def values(self) -> tuple[str, uuid.UUID | None, str]:
        return (
            self.kinds[self.kind.currentIndex()],
            self.session_ids[self.session.currentIndex()],
            self.text.toPlainText(),
        )


class CorrectNoteDialog(FormDialog):
    """The corrected text (its lines kept) and the reason; Ctrl+Enter saves."""

    DISCARD_QUESTION = NOTE_DISCARD_QUESTION

    def __init__(self, note: EntryView, parent: QWidget | None = None) -> None:
        super().__init__("Correct a course note", parent, ok_text="Save")
        self.text = QPlainTextEdit(note.current["text"])
        self.text.setAccessibleName("Corrected note")
        self.text.setMinimumHeight(120)
        self.text.setTabChangesFocus(True)
        self.form.addRow("Corrected", self.text)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText("Why the note was wrong (required)")
        self.form.addRow("Reason", self.reason)
        self.buttons.button(self.buttons.StandardButton.Ok).setText("Save (Ctrl+Enter)")
        self.first_field = self.text
        # A refusal takes the keyboard to what it is about (QA: "the reason is empty" left
        # it in the note's text).
        self.field_widgets = {"text": self.text, "reason": self.reason}
        save_on_ctrl_enter(self)

    def corrected(self) -> str:
        return self.text.toPlainText()


def _when(at: dt.datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%a %d %b %Y %H:%M}"


def note_whole(note: EntryView, names: Mapping[uuid.UUID, str], zone: ZoneInfo) -> str:
    """A course note as it stands, then each correction (when, who, why, and what the
    note then said, but for the last: that is the note above), then the note as first
    written: the list shows two lines of each, and a corrected note's original was cut
    off with no way to read it (QA); a wording between two corrections was said nowhere."""
    current = note.current
    parts = [
        f"{_when(current['written_at'], zone)} · {COURSE_NOTE_KINDS[current['kind']]} · "
        f"{names.get(note.recorded_by, '?')}",
        str(current["text"]),
    ]
    last = len(note.corrections)
    for number, correction in enumerate(note.corrections, start=1):
        parts.append(
            f"Correction {number}, {_when(correction.recorded_at, zone)} by "
            f"{names.get(correction.recorded_by, '?')}. Reason: {correction.reason}"
        )
        if number < last and "text" in correction.changes:
            parts.append(f"It then read:\n{correction.changes['text']}")
    if note.corrections:
        parts.append(f"First written ({_when(note.recorded_at, zone)}):")
        parts.append(str(note.original["text"]))
    return "\n\n".join(parts)


class NoteReader(QDialog):
    """One course note, whole and read only; Enter or Esc closes it."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Course note")
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        self.text.setAccessibleName("The note, whole (Page Down scrolls)")
        self.text.setTabChangesFocus(True)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Close (Esc)")
        layout.addWidget(buttons)
        self.resize(760, 420)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.reject()
            return
        super().keyPressEvent(event)


class CoursePage(QWidget):
    closed = Signal()
    session_opened = Signal(object)  # session id: Enter on a session in the chart

    def __init__(
        self,
        store: RecordStore,
        patient_id: uuid.UUID,
        *,
        instruments: Mapping[str, Instrument],
        thresholds: AlertThresholds,
        zone: ZoneInfo,
        colours: ChartColours = DIM,
        font_px: int = 16,
    ) -> None:
        super().__init__()
        self.zone = zone
        self.store = store
        self.patient_id = patient_id
        self.instruments = instruments
        self.thresholds = thresholds
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 6, 16, 6)
        outer.setSpacing(4)
        self.title = ElidedLabel("")
        self.title.setObjectName("subtitle")
        outer.addWidget(self.title)
        self.chart = CourseChart(colours, font_px)
        self.chart.setAccessibleName(
            "Course chart: Left and Right choose a session, Enter opens it"
        )
        self.chart.session_activated.connect(self.session_opened.emit)
        # Below this the three panels cannot be read; the notes give way first.
        self.chart.setMinimumHeight(CHART_MIN_PX)
        outer.addWidget(self.chart, 3)
        row = QHBoxLayout()
        self.notes_title = notes_title = QLabel(
            "Notes (Enter reads the selected whole; Ctrl+Shift+O adds one; Ctrl+E corrects "
            "it; Esc: back)"
        )
        notes_title.setObjectName("hint")
        notes_title.setWordWrap(True)
        row.addWidget(notes_title, 1)
        outer.addLayout(row)
        self.notes = RowsModel()
        self.note_list = QListView()
        self.note_list.setAccessibleName("Course notes, newest first")
        self.note_list.setModel(self.notes)
        self.note_list.setWordWrap(True)
        self.note_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.note_list.setSpacing(2)
        self.note_list.setMinimumHeight(72)
        self.note_list.activated.connect(lambda _index: self.read_note())
        self.reader: NoteReader | None = None
        outer.addWidget(self.note_list, 1)
        QWidget.setTabOrder(self.chart, self.note_list)
        self.sessions: list[CourseSession] = []
        self.note_views: dict[uuid.UUID, EntryView] = {}
        self.refresh()

    def refresh(self) -> None:
        patient = self.store.entry("patient", self.patient_id).current
        notes = self.store.course_notes(self.patient_id)
        since = current_course_start(notes)
        self.sessions = course_sessions(
            self.store, self.patient_id, since=since, weight_kg=patient["weight_kg"]
        )
        names = self.store.clinician_names()
        started = "" if since is None else f", since {since.astimezone(self.zone):%d %b %Y}"
        self.title.set_full_text(
            f"Course of treatment: {patient['display_name']}{started} · "
            f"{len(self.sessions)} session(s)"
        )
        summary = summarise_course(self.sessions, self.thresholds)
        self.chart.set_course(self.sessions, summary, self.instruments, self.thresholds)
        numbers = {s.session_id: s.number for s in self.sessions}
        self.note_views = {n.id: n for n in notes}
        # The current course's goals first, whatever their date: what the notes are read
        # against; then every note, newest first.
        goals = [
            n
            for n in notes
            if n.current["kind"] == "goal" and (since is None or n.current["written_at"] >= since)
        ]
        rows = []
        if not goals:
            rows.append((uuid.UUID(int=0), "No goals recorded for this course (Ctrl+Shift+O)."))
        for note in [*goals, *(n for n in reversed(notes) if n not in goals)]:
            current = note.current
            about = current.get("session_id")
            where = f" (session {numbers[about]})" if about in numbers else ""
            who = names.get(note.recorded_by, "?")
            text = (
                f"{_when(current['written_at'], self.zone)} · "
                f"{COURSE_NOTE_KINDS[current['kind']]}{where} · {who}\n{current['text']}"
            )
            if note.is_corrected:
                # The original stays readable beside the correction, with who and why.
                last = note.corrections[-1]
                text += (
                    f"\n(corrected by {names.get(last.recorded_by, '?')}: {last.reason}. "
                    f"First written: {note.original['text']})"
                )
            rows.append((note.id, text))
        self.notes.set_rows(rows)

    def select_note(self, note_id: object) -> None:
        """The note chosen in the list and scrolled into view (one just added)."""
        for row in range(self.notes.rowCount()):
            index = self.notes.index(row, 0)
            if index.data(ID_ROLE) == note_id:
                self.note_list.setCurrentIndex(index)
                self.note_list.scrollTo(index)
                return

    def selected_note(self) -> EntryView | None:
        index = self.note_list.currentIndex()
        if not index.isValid():
            return None
        return self.note_views.get(index.data(ID_ROLE))  # None for the "no goals" line

    def read_note(self) -> None:
        """The selected note whole, with its corrections and its first wording."""
        note = self.selected_note()
        if note is None:
            return
        self.reader = NoteReader(note_whole(note, self.store.clinician_names(), self.zone), self)
        self.reader.finished.connect(lambda _r: self._back_to_notes())
        self.reader.open()
        self.reader.text.setFocus()

    def _back_to_notes(self) -> None:
        self.window().activateWindow()  # a closed dialog leaves no window active
        self.note_list.setFocus()

    def focus_chart(self) -> None:
        self.chart.setFocus(Qt.FocusReason.OtherFocusReason)
        if self.chart.selected_session() is None and self.sessions:
            self.chart.select_session(self.sessions[-1].session_id)

    def resizeEvent(self, event: QResizeEvent) -> None:
        # On a short screen (1024x600 less a title bar) the chart's three panels need every
        # pixel: the notes keep two rows, and their keys move to the list's tooltip.
        short = event.size().height() < SHORT_PAGE_PX
        self.notes_title.setVisible(not short)
        self.note_list.setMaximumHeight(76 if short else 16_777_215)
        self.note_list.setToolTip(self.notes_title.text() if short else "")
        super().resizeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.closed.emit()
            return
        super().keyPressEvent(event)
