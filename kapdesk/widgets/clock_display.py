"""A large elapsed-time clock with its caption, legible from across the room."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

MIN_CLOCK_PX = 48  # issue 3: legible from two metres at 1366x768


class ClockDisplay(QWidget):
    def __init__(self, caption: str, clock_px: int = 64) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.caption = QLabel(caption)
        self.caption.setObjectName("clockCaption")
        self.time = QLabel("--:--:--")
        self.time.setObjectName("clock")
        # A widget's own style sheet wins over the application's, whose sizes are smaller.
        self.time.setStyleSheet(
            f"font-size: {max(MIN_CLOCK_PX, clock_px)}px; font-family: 'DejaVu Sans Mono', "
            "'Menlo', 'Consolas', monospace; font-weight: 600;"
        )
        self.time.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setAccessibleName(caption)
        layout.addWidget(self.caption)
        layout.addWidget(self.time)

    def set_time(self, text: str) -> None:
        if self.time.text() != text:
            self.time.setText(text)
