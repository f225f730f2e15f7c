"""A button that Enter presses as well as Space, as the screen promises ("(Enter)")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QPushButton


class EnterButton(QPushButton):
    """``focused_text``: the label while the button has the keyboard, when only then does
    Enter press it. "Resume it (Enter)" stood on the patients page with the keyboard on
    the patient list, where Enter starts a session for the chosen patient (QA)."""

    def __init__(self, text: str, *, focused_text: str | None = None) -> None:
        super().__init__(text)
        # Only a button given both labels changes its own: another's label is its owner's
        # to set (QA: the end panel's "Back to patients (Esc)" went back to "Keep going").
        self._texts = None if focused_text is None else (text, focused_text)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if self._texts is not None:
            self.setText(self._texts[1])

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if self._texts is not None:
            self.setText(self._texts[0])

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers()
            in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
            and self.isEnabled()
            and not event.isAutoRepeat()  # a held key must not press it again
        ):
            self.click()
            return
        super().keyPressEvent(event)
