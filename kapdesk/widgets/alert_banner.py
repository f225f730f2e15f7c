"""The alert banner: the reading, the rule, and what to do, until someone acknowledges it.

The level is spelled out and marked by shape (a heavy frame and "!!" for urgent),
never by colour alone. Silent: no sound.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout


class AlertBanner(QFrame):
    acknowledge_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("alertCaution")
        self.setAccessibleName("Alert")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 2, 10, 2)
        text = QVBoxLayout()
        text.setSpacing(0)
        self.headline = QLabel()
        self.headline.setObjectName("alertHeadline")
        self.headline.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName("alertDetail")
        self.detail.setWordWrap(True)
        text.addWidget(self.headline)
        text.addWidget(self.detail)
        layout.addLayout(text, 1)
        self.acknowledge = QPushButton("Acknowledge\n(Ctrl+K)")  # narrow: the text keeps the width
        self.acknowledge.setAccessibleName("Acknowledge the alert")
        self.acknowledge.setToolTip("Record that you have seen this alert (Ctrl+K)")
        self.acknowledge.clicked.connect(self.acknowledge_requested.emit)
        # Ctrl+K from the keyboard; never in the Tab order: Shift+Tab from the Observation
        # line put it under the keyboard, and the space in a note typed next acknowledged
        # an URGENT alert in the clinician's name (Xvfb QA).
        self.acknowledge.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.acknowledge)
        self._detail = ""
        self._compact = False
        self.hide()

    def show_alert(self, level: str, reading: str, reason: str, action: str, more: int) -> None:
        urgent = level == "urgent"
        self.setObjectName("alertUrgent" if urgent else "alertCaution")
        self.style().unpolish(self)
        self.style().polish(self)
        mark = "!! URGENT" if urgent else "! CAUTION"
        extra = f"   (+{more} more)" if more else ""
        self.headline.setText(f"{mark}: {reason}{extra}")
        self._detail = f"{reading}. {action}"
        self._show_detail()
        self.setAccessibleDescription(f"{reason}. {self._detail}")
        self.show()

    def set_compact(self, compact: bool) -> None:
        """On a short screen the detail keeps the reading and the first thing to do; the
        rest (the emergency signs, the same for every urgent alert) is in the tooltip and
        read aloud, so the chart and the newest entries keep some room."""
        if compact != self._compact:
            self._compact = compact
            # What to do at the log's size where there is room (QA: 18 px, smaller than
            # the log, was hard to read from across the room); a little smaller here.
            self.detail.setObjectName("alertDetailCompact" if compact else "alertDetail")
            self.detail.style().unpolish(self.detail)
            self.detail.style().polish(self.detail)
            self._show_detail()

    def _show_detail(self) -> None:
        text = self._detail
        first, _, rest = text.partition(". ")
        second, _, rest = rest.partition(". ")
        if self._compact and rest:
            # The rest: the tooltip, a screen reader, a wide screen, and the alert read
            # whole from the log (QA: the emergency signs were reachable by no key). Said
            # by name when they are what is left out (second QA pass: "All of it" hid that
            # emergency care was in it).
            more = "Emergency signs" if rest.startswith("Emergency") else "All of it"
            text = f"{first}. {second} … {more}: Ctrl+Shift+K."
        self.detail.setText(text)
        self.detail.setToolTip(self._detail)

    def detail_text(self) -> str:
        """The whole detail, whether or not all of it fits on the screen."""
        return self._detail
