"""Vital signs in the clinician's paper notation (``132/84 76 97``), or field by field."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.vitals import VITAL_RANGES
from kapdesk.widgets.entry_line import EntryLine

FIELDS = tuple((name, rng.caption) for name, rng in VITAL_RANGES.items())
# The boxes' clock time, when a reading was taken before it is typed (empty: now); the
# line takes "at 10:05" (clinical/notation.split_clock_time).
TAKEN_AT = "taken_at"


class VitalsEntry(QWidget):
    line_submitted = Signal(str)
    fields_submitted = Signal(dict)

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        label = QLabel("Vitals")
        label.setObjectName("fieldLabel")
        self.line = EntryLine()
        self.line.setAccessibleName("Vitals")
        # "e.g.": bare, in the dark theme it was taken for a reading already there (QA).
        self.line.setPlaceholderText("e.g. 132/84 76 97")
        self.line.setToolTip(
            "132/84 76 97, then rr 14 and t 36.8 if taken; hr 72 alone; at 10:05 if taken "
            "before now"
        )
        label.setBuddy(self.line)
        self.toggle = QPushButton("&Fields")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Enter each value in its own field (Alt+F)")
        row.addWidget(label)
        row.addWidget(self.line, 1)
        row.addWidget(self.toggle)
        layout.addLayout(row)
        self.fields_box = QWidget()
        grid = QGridLayout(self.fields_box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.fields: dict[str, QLineEdit] = {}
        for column, (name, caption) in enumerate(FIELDS):
            edit = EntryLine()
            edit.setAccessibleName(caption)
            edit.setMaximumWidth(110)
            edit.returnPressed.connect(self._submit_fields)
            grid.addWidget(QLabel(caption), 0, column)
            grid.addWidget(edit, 1, column)
            self.fields[name] = edit
        self.time = EntryLine()
        self.time.setAccessibleName("Time taken")
        self.time.setPlaceholderText("now")
        self.time.setToolTip("The clock time the reading was taken, if before now: 10:05")
        self.time.setMaximumWidth(110)
        self.time.returnPressed.connect(self._submit_fields)
        self.time.textEdited.connect(self._edited)
        grid.addWidget(QLabel("Time"), 0, len(FIELDS))
        grid.addWidget(self.time, 1, len(FIELDS))
        self.fields_box.hide()
        layout.addWidget(self.fields_box)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        # A refusal goes once the line is changed: "Systolic pressure 1200 mmHg is outside
        # 50-300" stayed under an emptied line (QA).
        self.line.textEdited.connect(self._edited)
        for edit in self.fields.values():
            edit.textEdited.connect(self._edited)
        self.toggle.toggled.connect(self._show_fields)
        self.line.returnPressed.connect(self._submit_line)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Esc in the boxes closes the boxes (back to the line), nothing further out.
        if event.key() == Qt.Key.Key_Escape and self.fields_box.isVisible():
            self.toggle.setChecked(False)
            return
        super().keyPressEvent(event)

    def close_fields(self) -> None:
        """Back to the line, the keyboard left where it is: the session has ended, and
        the boxes stayed, clipped at the screen's foot under the end panel (Xvfb QA)."""
        self.toggle.blockSignals(True)
        self.toggle.setChecked(False)
        self.toggle.blockSignals(False)
        self.fields_box.hide()

    def _show_fields(self, visible: bool) -> None:
        if visible:
            # A whole time in view (at 1024x600 "14:57" showed as ":57"), in the font the
            # theme gave the box, known once it is styled.
            self.time.ensurePolished()
            margins = self.time.textMargins()
            self.time.setMinimumWidth(
                self.time.fontMetrics().horizontalAdvance("00:00 ")
                + margins.left()
                + margins.right()
                + 2 * self.time.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth)
                + 16  # the style sheets' padding (6 px a side) and a little room
            )
        if not visible:
            # A refusal of the boxes' values goes with them: it stood under the empty line
            # after Esc (Xvfb QA). What was typed in them stays, for when they open again.
            self.error.hide()
        self.fields_box.setVisible(visible)
        (self.fields["systolic"] if visible else self.line).setFocus()

    def _submit_line(self) -> None:
        if self.line.text().strip():
            self.line_submitted.emit(self.line.text())

    def _submit_fields(self) -> None:
        values = {name: edit.text() for name, edit in self.fields.items() if edit.text().strip()}
        if values:
            if self.time.text().strip():
                values[TAKEN_AT] = self.time.text()
            self.fields_submitted.emit(values)

    def accept_entry(self) -> None:
        self.line.clear()
        for edit in (*self.fields.values(), self.time):
            edit.clear()
        self.error.hide()

    def _edited(self, _text: str) -> None:
        if self.error.isVisible():
            self.error.hide()

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
