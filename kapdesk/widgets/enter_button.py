"""A button that Enter presses as well as Space, as the screen promises ("(Enter)")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPushButton


class EnterButton(QPushButton):
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
