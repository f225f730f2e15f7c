"""Patients: a searchable list, their sessions newest first, and unfinished sessions to resume.

The list holds the most recently seen patients, or those matching the search: the search
runs in the record as it is typed (MainWindow asks the store), so the page never holds a
whole table of patients, however many years the record spans.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapdesk.widgets.enter_button import EnterButton
from kapdesk.widgets.wrapped_label import WrappedLabel

Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1


class RowsModel(QAbstractListModel):
    """A list of (id, text) rows: patients, or one patient's sessions."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[uuid.UUID, str]] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row_id, text = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == ID_ROLE:
            return row_id
        return None

    def set_rows(self, rows: list[tuple[uuid.UUID, str]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()


def _wrap_rows(view: QListView) -> None:
    """Long rows wrap at a narrow window (1024 px) instead of hiding behind a scroll bar."""
    view.setWordWrap(True)
    view.setTextElideMode(Qt.TextElideMode.ElideNone)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setSpacing(3)  # a wrapped row is told from the next one


class PatientsPage(QWidget):
    add_patient_requested = Signal()
    new_session_requested = Signal(object)  # patient id
    resume_requested = Signal(object)  # session id
    open_session_requested = Signal(object)  # session id: Enter on a session in the list
    search_changed = Signal(str)  # the words typed into the search line
    session_list_focused = Signal()  # the keyboard came to the session list

    def __init__(self) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 16, 32, 16)

        self.resume_panel = QFrame()
        self.resume_panel.setObjectName("panel")
        resume_row = QHBoxLayout(self.resume_panel)
        self.resume_text = QLabel()
        self.resume_text.setWordWrap(True)
        self.resume_button = EnterButton("Resume it", focused_text="Resume it (Enter)")
        resume_row.addWidget(self.resume_text, 1)
        resume_row.addWidget(self.resume_button)
        self.resume_panel.hide()
        outer.addWidget(self.resume_panel)
        self._resume_id: uuid.UUID | None = None

        title = QLabel("Patients")
        title.setObjectName("title")
        outer.addWidget(title)
        self.search = QLineEdit()
        self.search.setAccessibleName("Search patients")
        self.search.setPlaceholderText("Search by name or record number (Ctrl+F)")
        outer.addWidget(self.search)
        self.list_note = WrappedLabel()
        self.list_note.hide()  # shown when it has something to say
        outer.addWidget(self.list_note)
        columns = QHBoxLayout()
        self.patients = RowsModel()
        self.patient_list = QListView()
        self.patient_list.setAccessibleName("Patients")
        self.patient_list.setModel(self.patients)
        _wrap_rows(self.patient_list)
        left = QVBoxLayout()
        left.addWidget(self.patient_list, 1)
        self.add_button = QPushButton("&Add a patient (Ctrl+N)")
        left.addWidget(self.add_button)
        columns.addLayout(left, 1)
        right = QVBoxLayout()
        self.sessions_title = QLabel("Sessions")
        self.sessions_title.setObjectName("subtitle")
        self.sessions = RowsModel()
        self.session_list = QListView()
        self.session_list.setAccessibleName(
            "Sessions of the selected patient (Enter opens one; an ended one read only)"
        )
        self.session_list.setModel(self.sessions)
        _wrap_rows(self.session_list)
        self.new_session_button = QPushButton("&New session (Ctrl+Shift+N)")
        right.addWidget(self.sessions_title)
        # The selected patient's details, above their sessions (issue 12).
        # Whole, never squeezed (QA: cut at top and bottom at 1024x600, text at 125 %).
        self.patient_details = WrappedLabel()
        self.patient_details.setAccessibleName("The selected patient's details")
        right.addWidget(self.patient_details)
        right.addWidget(self.session_list, 1)
        right.addWidget(self.new_session_button)
        columns.addLayout(right, 1)
        outer.addLayout(columns, 1)

        self.search.textChanged.connect(self.search_changed.emit)
        self.search.returnPressed.connect(self._focus_first_match)
        self.search.installEventFilter(self)  # Down goes to the matches too (QA)
        # Typing on the lists or on "Resume it" goes to the search: with the keyboard on
        # "Resume it", a name typed went nowhere (QA).
        for typed_into in (self.patient_list, self.session_list, self.resume_button):
            typed_into.installEventFilter(self)
        self.add_button.clicked.connect(self.add_patient_requested.emit)
        self.new_session_button.clicked.connect(self._new_session)
        self.patient_list.activated.connect(lambda _index: self._new_session())
        # One Tab from a patient to their sessions, then the buttons (each has its key).
        QWidget.setTabOrder(self.search, self.patient_list)
        QWidget.setTabOrder(self.patient_list, self.session_list)
        QWidget.setTabOrder(self.session_list, self.add_button)
        QWidget.setTabOrder(self.add_button, self.new_session_button)
        self.session_list.activated.connect(
            lambda index: self.open_session_requested.emit(index.data(ID_ROLE))
        )
        self.resume_button.clicked.connect(self._resume)
        # The session Enter opens is the one shown chosen: Tab to the list made its first
        # row current unmarked, and Enter on it resumed a running session (QA).
        self.session_list.selectionModel().currentChanged.connect(self._mark_current_session)

    def selected_patient(self) -> uuid.UUID | None:
        index = self.patient_list.currentIndex()
        return index.data(ID_ROLE) if index.isValid() else None

    def chosen_session(self) -> uuid.UUID | None:
        """The session Enter on the session list opens."""
        index = self.session_list.currentIndex()
        return index.data(ID_ROLE) if index.isValid() else None

    def choose_session(self, session_id: uuid.UUID) -> None:
        """The keyboard to the session list, on ``session_id``'s row (if listed)."""
        self.session_list.setFocus()
        for row in range(self.sessions.rowCount()):
            index = self.sessions.index(row, 0)
            if index.data(ID_ROLE) == session_id:
                self.session_list.setCurrentIndex(index)
                return

    def select_patient(self, patient_id: uuid.UUID) -> None:
        for row in range(self.patients.rowCount()):
            index = self.patients.index(row, 0)
            if index.data(ID_ROLE) == patient_id:
                self.patient_list.setCurrentIndex(index)
                return

    def show_patients(self, rows: list[tuple[uuid.UUID, str]], note: str) -> None:
        self.patients.set_rows(rows)
        self.list_note.setText(note)
        self.list_note.setVisible(bool(note))  # an empty line took room from the lists

    @property
    def resumable(self) -> uuid.UUID | None:
        """The unfinished session offered for resumption, if any."""
        return self._resume_id

    def offer_resumption(
        self, session_id: uuid.UUID | None, text: str = "", *, take_focus: bool = True
    ) -> None:
        self._resume_id = session_id
        self.resume_text.setText(text)
        self.resume_panel.setVisible(session_id is not None)
        if session_id is not None and take_focus:
            self.resume_button.setFocus()

    def focus_resumption(self) -> None:
        """The keyboard to "Resume it", when it is offered."""
        if self._resume_id is not None and self.resume_panel.isVisible():
            self.resume_button.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.session_list and event.type() == QEvent.Type.FocusIn:
            self.session_list_focused.emit()
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
            and self.patients.rowCount()
        ):
            # From the search to the first match, as Enter does: Down did nothing, and
            # the Enter after it then only moved there (QA: "a second Enter is needed").
            self._focus_first_match()
            return True
        if (
            watched is not self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and _starts_a_search(event)
        ):
            self.search.setFocus()
            self.search.end(False)
            self.search.insert(event.text())
            return True
        return super().eventFilter(watched, event)

    def _mark_current_session(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.session_list.selectionModel().select(
                current, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def _focus_first_match(self) -> None:
        if self.patients.rowCount():
            self.patient_list.setCurrentIndex(self.patients.index(0, 0))
            self.patient_list.setFocus()

    def _new_session(self) -> None:
        patient = self.selected_patient()
        if patient is not None:
            self.new_session_requested.emit(patient)

    def _resume(self) -> None:
        if self._resume_id is not None:
            self.resume_requested.emit(self._resume_id)


def _starts_a_search(event: QKeyEvent) -> bool:
    """A letter or digit typed without Ctrl or Alt: the start of a name to search for
    (Space and Enter keep their meaning on a list or a button)."""
    plain = not event.modifiers() & (
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    )
    text = event.text()
    return plain and len(text) == 1 and text.isalnum()
