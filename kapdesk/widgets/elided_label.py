"""One line of text that ends in "…" when there is no room, and is never lost."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    """One line that ends in "…" when the window is too narrow; the whole text is in its
    tooltip and its accessible name, so a long name never pushes the chart off a small
    screen and is never lost.

    ``min_scale`` below 1: first the type shrinks, down to that share of its size, so
    that the whole line shows; only then is it cut. For the patient's name, where a
    first name alone could put an entry in the wrong patient's record (issue 11 QA:
    "DEMO — Alex Sa…" at 1024 px).
    """

    def __init__(self, text: str, *, min_scale: float = 1.0) -> None:
        super().__init__(text)
        self._full = text
        self._min_scale = min_scale
        self._scale = 1.0
        self.setToolTip(text)
        self.setAccessibleName(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self.setAccessibleName(text)
        self._fit(self.width())

    def scale(self) -> float:
        """The share of its styled size the text is drawn at (1 unless shrunk to fit)."""
        return self._scale

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit(event.size().width())
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit(self.width())

    def _fit(self, width: int) -> None:
        self._scale = 1.0
        if self._min_scale < 1.0:
            needed = QFontMetrics(self.font()).horizontalAdvance(self._full)
            if needed > width > 0:
                self._scale = max(self._min_scale, width / needed)
        metrics = QFontMetrics(self._drawn_font())
        text = metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        if text != self.text():
            self.setText(text)
        self.update()

    def _drawn_font(self) -> QFont:
        font = QFont(self.font())
        if self._scale < 1.0:
            if font.pixelSize() > 0:
                font.setPixelSize(max(1, int(font.pixelSize() * self._scale)))
            else:
                font.setPointSizeF(font.pointSizeF() * self._scale)
        return font

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._scale >= 1.0:
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.setFont(self._drawn_font())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment()), self.text())
        painter.end()
