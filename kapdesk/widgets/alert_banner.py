"""The alert banner: the reading, the rule, and what to do, until someone acknowledges it.

The level is spelled out and marked by shape (a heavy frame and "!!" for urgent),
never by colour alone. Silent: no sound.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout


class AlertBanner(QFrame):
    acknowledge_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("alertCaution")
        self.setAccessibleName("Alert")
        layout = QHBoxLayout(self)
        text = QVBoxLayout()
        self.headline = QLabel()
        self.headline.setObjectName("alertHeadline")
        self.headline.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        text.addWidget(self.headline)
        text.addWidget(self.detail)
        layout.addLayout(text, 1)
        self.acknowledge = QPushButton("Acknowledge (Ctrl+K)")
        self.acknowledge.setToolTip("Record that you have seen this alert (Ctrl+K)")
        self.acknowledge.clicked.connect(self.acknowledge_requested.emit)
        layout.addWidget(self.acknowledge)
        self.hide()

    def show_alert(self, level: str, reading: str, reason: str, action: str, more: int) -> None:
        urgent = level == "urgent"
        self.setObjectName("alertUrgent" if urgent else "alertCaution")
        self.style().unpolish(self)
        self.style().polish(self)
        mark = "!! URGENT" if urgent else "! CAUTION"
        extra = f"   (+{more} more)" if more else ""
        self.headline.setText(f"{mark}: {reason}{extra}")
        self.detail.setText(f"{reading}. {action}")
        self.show()
