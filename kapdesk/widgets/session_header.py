"""The top of the session screen: who and which protocol, the next due check, and the two
large clocks (since the start, since the first dose), legible from across the room."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from kapdesk.widgets.clock_display import ClockDisplay

# The style sheet's object names for the due-check line, by state.
CHECK_STYLES = {"overdue": "checkOverdue", "due": "checkDue"}
UPCOMING_STYLE = "checkUpcoming"


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


class SessionHeader(QWidget):
    def __init__(self, patient: str, protocol: str, clock_px: int = 64) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        who = QVBoxLayout()
        self.patient_label = ElidedLabel(patient)
        self.patient_label.setObjectName("patient")
        self.patient_label.setMinimumWidth(200)
        self.protocol_label = QLabel(f"Protocol: {protocol}")
        self.protocol_label.setObjectName("hint")
        self.check_label = QLabel()
        self.check_label.setObjectName(UPCOMING_STYLE)
        self.check_label.setWordWrap(True)
        self.check_label.setAccessibleName("Next check")
        self.status_label = QLabel()
        self.status_label.setObjectName("hint")
        self.status_label.setWordWrap(True)
        for label in (self.patient_label, self.protocol_label, self.check_label, self.status_label):
            who.addWidget(label)
        layout.addLayout(who, 1)
        self.session_clock = ClockDisplay("Session", clock_px)
        self.dose_clock = ClockDisplay("Since first dose (T+)", clock_px)
        layout.addWidget(self.session_clock)
        layout.addSpacing(32)
        layout.addWidget(self.dose_clock)

    def set_clocks(self, since_start: str, since_first_dose: str) -> None:
        self.session_clock.set_time(since_start)
        self.dose_clock.set_time(since_first_dose)

    def set_check(self, text: str, state: str | None) -> None:
        """The due-check line; state "overdue" or "due" frames it (not by colour alone)."""
        self.check_label.setText(text)
        name = CHECK_STYLES.get(state or "", UPCOMING_STYLE)
        if self.check_label.objectName() != name:
            self.check_label.setObjectName(name)
            self.check_label.style().unpolish(self.check_label)
            self.check_label.style().polish(self.check_label)

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    # What a person reads off the header; tests read the same.
    def check_text(self) -> str:
        return self.check_label.text()

    def check_state(self) -> str:
        return {v: k for k, v in CHECK_STYLES.items()}.get(
            self.check_label.objectName(), "upcoming"
        )

    def status_text(self) -> str:
        return self.status_label.text()

    def clock_texts(self) -> tuple[str, str]:
        return self.session_clock.time.text(), self.dose_clock.time.text()
