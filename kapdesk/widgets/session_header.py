"""The top of the session screen: who and which protocol, the next due check, and the two
large clocks (since the start, since the first dose), legible from across the room."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kapdesk.widgets.clock_display import MIN_CLOCK_PX, ClockDisplay
from kapdesk.widgets.elided_label import ElidedLabel

__all__ = ["ElidedLabel", "SessionHeader"]

# The style sheet's object names for the due-check line, by state.
CHECK_STYLES = {"overdue": "checkOverdue", "due": "checkDue"}
UPCOMING_STYLE = "checkUpcoming"
# Below this width the clocks keep their smallest legible size (a larger text setting
# would otherwise leave the name and the due check no room at 1024 px).
WIDE_HEADER_PX = 1200


class SessionHeader(QWidget):
    def __init__(self, patient: str, protocol: str, clock_px: int = MIN_CLOCK_PX) -> None:
        super().__init__()
        self._clock_px = clock_px
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        who = QVBoxLayout()
        who.setSpacing(2)
        self.patient_label = ElidedLabel(patient, min_scale=0.6)
        self.patient_label.setObjectName("patient")
        self.patient_label.setMinimumWidth(160)
        # The patient's intention, in their words: one quiet line (issue 13).
        self.intention_label = ElidedLabel("", min_scale=0.8)
        self.intention_label.setObjectName("hint")
        self.intention_label.setAccessibleName("Intention")
        self.intention_label.hide()
        self._intention_compact = False  # on a short screen: in the name's tooltip
        self.check_label = QLabel()
        self.check_label.setObjectName(UPCOMING_STYLE)
        self.check_label.setWordWrap(True)
        self.check_label.setAccessibleName("Next check")
        self.status_label = QLabel()
        self.status_label.setObjectName("hint")
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName("Session status")
        self.status_label.hide()
        for label in (
            self.patient_label,
            self.intention_label,
            self.check_label,
            self.status_label,
        ):
            who.addWidget(label)
        who.addStretch(1)
        layout.addLayout(who, 1)
        # The protocol names the session: it is the session clock's caption, which saves
        # the header a line on a 600 px screen.
        self.session_clock = ClockDisplay(f"Session · {protocol}", clock_px)
        self.protocol_label = self.session_clock.caption
        self.dose_clock = ClockDisplay("Since first dose (T+)", clock_px)
        layout.addWidget(self.session_clock, 0, Qt.AlignmentFlag.AlignTop)
        layout.addSpacing(24)
        layout.addWidget(self.dose_clock, 0, Qt.AlignmentFlag.AlignTop)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._size_clocks(event.size().width())
        super().resizeEvent(event)

    def set_clock_px(self, px: int) -> None:
        """The clocks' size at a wide window (a text-size change)."""
        self._clock_px = px
        self._size_clocks(self.width())

    def _size_clocks(self, width: int) -> None:
        px = self._clock_px if width >= WIDE_HEADER_PX else MIN_CLOCK_PX
        for clock in (self.session_clock, self.dose_clock):
            if clock.font_px() != max(MIN_CLOCK_PX, px):
                clock.set_font_px(px)

    def set_clocks(self, since_start: str, since_first_dose: str) -> None:
        self.session_clock.set_time(since_start)
        self.dose_clock.set_time(since_first_dose)

    def set_check(self, text: str, state: str | None) -> None:
        """The due-check line; state "overdue" or "due" frames it (not by colour alone)."""
        if self.check_label.text() != text:
            self.check_label.setText(text)
        self.check_label.setVisible(bool(text))
        name = CHECK_STYLES.get(state or "", UPCOMING_STYLE)
        if self.check_label.objectName() != name:
            self.check_label.setObjectName(name)
            self.check_label.style().unpolish(self.check_label)
            self.check_label.style().polish(self.check_label)

    def set_intention(self, text: str) -> None:
        """The session's intention as the patient put it; hidden when none was recorded."""
        shown = f"Intention: “{text}”" if text else ""
        self.intention_label.set_full_text(shown)
        self._show_intention()

    def set_intention_compact(self, compact: bool) -> None:
        """On a short screen the intention is in the patient's name's tooltip instead."""
        self._intention_compact = compact
        self._show_intention()

    def _show_intention(self) -> None:
        shown = self.intention_label.full_text()
        compact = self._intention_compact
        self.intention_label.setVisible(bool(shown) and not compact)
        name = self.patient_label.full_text()
        self.patient_label.setToolTip(f"{name}\n{shown}" if shown and compact else name)

    def set_status(self, text: str) -> None:
        """A standing fact of the session (an infusion running, the session ended)."""
        if self.status_label.text() != text:
            self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

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
