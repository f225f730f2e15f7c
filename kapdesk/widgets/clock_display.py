"""A large elapsed-time clock with its caption, legible from across the room."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kapdesk.widgets.elided_label import ElidedLabel

# Issue 9: the digits themselves at least 48 px high at 1366x768 and 1024x600. DejaVu Sans
# Mono's digits are 0.76 of the font's pixel size, so 64 px gives 49 px digits.
MIN_DIGIT_PX = 48
MIN_CLOCK_PX = 64
CLOCK_FAMILIES = ["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"]


class ClockDisplay(QWidget):
    def __init__(self, caption: str, clock_px: int = MIN_CLOCK_PX) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # A long caption (a clinic's protocol name) ends in "…", never widening the header.
        self.caption = ElidedLabel(caption)
        self.caption.setObjectName("clockCaption")
        self.time = QLabel("--:--:--")
        self.time.setObjectName("clock")
        self.time.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setAccessibleName(caption)
        layout.addWidget(self.caption)
        layout.addWidget(self.time)
        self.set_font_px(clock_px)

    def set_font_px(self, px: int) -> None:
        """The digits' size; never below MIN_CLOCK_PX."""
        px = max(MIN_CLOCK_PX, px)
        # A widget's own style sheet wins over the application's, whose sizes are smaller.
        families = ", ".join(f"'{f}'" if " " in f else f for f in CLOCK_FAMILIES)
        self.time.setStyleSheet(f"font-size: {px}px; font-family: {families}; font-weight: 600;")
        self._px = px

    def font_px(self) -> int:
        return self._px

    def digit_height(self) -> int:
        """How tall the digits are drawn, in pixels: what a person across the room sees."""
        font = QFont(CLOCK_FAMILIES)
        font.setPixelSize(self._px)
        font.setWeight(QFont.Weight.DemiBold)
        return QFontMetrics(font).tightBoundingRect("0123456789").height()

    def set_caption(self, caption: str) -> None:
        self.caption.set_full_text(caption)
        self.setAccessibleName(caption)

    def set_time(self, text: str) -> None:
        if self.time.text() != text:
            self.time.setText(text)
