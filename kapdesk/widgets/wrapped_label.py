"""A label whose words wrap and are never cut: a layout may give a wrapping label less
height than its lines need (a form row measured before the theme's font, a row sized by
the field beside it), and its last line was cut (issue 10 QA: the settings at 1366x768
and 1024x600). Its minimum height follows its width, so no layout can squeeze it."""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget


class WrappedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        needed = self.heightForWidth(event.size().width())
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)  # lays the form out again, this row taller
