"""One line of text that ends in "…" when there is no room, and is never lost."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    """One line that ends in "…" when the window is too narrow; the whole text is in its
    tooltip and its accessible name, so a long name never pushes the chart off a small
    screen and is never lost."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._full = text
        self.setToolTip(text)
        self.setAccessibleName(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        metrics = self.fontMetrics()
        self.setText(metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, self.width()))
        super().resizeEvent(event)
