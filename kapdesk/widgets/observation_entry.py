"""The observation line: type and Enter. Quick tags toggle with one key each (F2 upwards)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapdesk.widgets.entry_line import EntryLine
from kapdesk.widgets.flow_layout import flow_box

# F1 stays free for help; F2..F12 give eleven tags, the default list's length.
TAG_KEYS = [f"F{n}" for n in range(2, 13)]


class ObservationEntry(QWidget):
    submitted = Signal(str, list)  # text, tags

    def __init__(self, tags: Sequence[str], *, tags_below: bool = True) -> None:
        """``tags_below=False`` leaves ``tags_box`` for the caller to place (a full-width row
        under both entry lines, in the session screen)."""
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        label = QLabel("Observation")
        label.setObjectName("fieldLabel")
        self.line = EntryLine()
        self.line.setAccessibleName("Observation")
        self.line.setPlaceholderText("type, then Enter")
        label.setBuddy(self.line)
        row.addWidget(label)
        row.addWidget(self.line, 1)
        layout.addLayout(row)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        # A refusal goes once the line is changed: it no longer applies (QA: the vitals
        # line's stayed under an emptied line).
        self.line.textEdited.connect(self._edited)
        self.tags_box, tag_row = flow_box(spacing=4)
        self.tag_buttons: dict[str, QPushButton] = {}
        for tag, key in zip(tags, TAG_KEYS, strict=False):
            button = QPushButton(f"{key} {tag}")
            button.setObjectName("tag")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolTip(f"Tag “{tag}” ({key}); combine with text, then Enter")
            action = QAction(f"Tag “{tag}”", self)
            action.setShortcut(QKeySequence(key))
            action.setAutoRepeat(False)  # a held F-key toggles its tag once, not on and off
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _checked=False, b=button: b.toggle())
            self.addAction(action)
            button.toggled.connect(lambda _checked: self.line.setFocus())
            self.tag_buttons[tag] = button
            tag_row.addWidget(button)
        if tags_below:
            layout.addWidget(self.tags_box)
        self.line.returnPressed.connect(self._submit)
        self.line.installEventFilter(self)
        self._key_tags = {
            QKeySequence(key)[0].key(): button
            for key, button in zip(TAG_KEYS, self.tag_buttons.values(), strict=False)
        }

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The window shortcuts above consume a tag key before it reaches the line; this
        # catches it where no shortcut matched (e.g. while a closed dialog still holds
        # the activation), so a tag key in the observation line always toggles its tag.
        if watched is self.line and event.type() == QEvent.Type.KeyPress:
            button = self._key_tags.get(event.key())  # type: ignore[attr-defined]
            if button is not None and event.modifiers() == Qt.KeyboardModifier.NoModifier:  # type: ignore[attr-defined]
                if not event.isAutoRepeat():  # type: ignore[attr-defined]
                    button.toggle()
                return True
        return super().eventFilter(watched, event)

    def selected_tags(self) -> list[str]:
        return [tag for tag, button in self.tag_buttons.items() if button.isChecked()]

    def _submit(self) -> None:
        text, tags = self.line.text(), self.selected_tags()
        if not text.strip() and not tags:
            return  # an empty Enter is not an entry
        self.submitted.emit(text, tags)

    def accept_entry(self) -> None:
        """The entry was stored: clear for the next one."""
        self.line.clear()
        for button in self.tag_buttons.values():
            button.setChecked(False)
        self.error.hide()
        self.line.setFocus()

    def _edited(self, _text: str) -> None:
        if self.error.isVisible():
            self.error.hide()

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
