"""A line of the session screen's entry: what is typed into it is recorded."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


class EntryLine(QLineEdit):
    """A QLineEdit that does not type the letter of an Alt chord nothing took: Alt+A (a
    dialog's "Start anyway", already closed) put an "a" into the Observation line, and
    Enter then recorded it (Xvfb QA). AltGr's characters still type: Windows sends them as
    Ctrl+Alt, X11 without Alt; on macOS, Option is how accents are typed, so it is left be.
    """

    def keyPressEvent(self, event: QKeyEvent) -> None:
        modifiers = event.modifiers()
        if (
            sys.platform != "darwin"
            and modifiers & ALT
            and not modifiers & CTRL
            and event.text().isprintable()
            and event.text()
        ):
            event.ignore()
            return
        super().keyPressEvent(event)
