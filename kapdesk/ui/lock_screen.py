"""The lock screen (issue 14): kapdesk's windows are hidden; what keeps the patient safe
stays readable from across the room, and nothing that identifies the patient is shown.

Both clocks, the next due check with its countdown, and an unacknowledged alert's severity
and finding; the session's timers and due checks go on underneath (the workspace is only
hidden). The unlock panel below takes the clinician's own PIN, or another clinician's (a
hand-over), or the record's passphrase.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kapdesk.session.unlocking import LockFacts, UnlockAttempts
from kapdesk.store import RecordStore
from kapdesk.ui.unlock_panel import UnlockPanel
from kapdesk.widgets.clock_display import MIN_CLOCK_PX, ClockDisplay
from kapdesk.widgets.session_header import CHECK_STYLES, UPCOMING_STYLE

REFRESH_MS = 500


class LockScreen(QWidget):
    def __init__(
        self,
        store: RecordStore,
        attempts: UnlockAttempts,
        facts: Callable[[], LockFacts | None],
        time_of_day: Callable[[], str],
        current: uuid.UUID | None,
        clock_px: int = MIN_CLOCK_PX,
    ) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("lockScreen")
        self.setWindowTitle("kapdesk — locked")  # the taskbar's words: no patient
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._facts = facts
        self._time_of_day = time_of_day
        self._released = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 24, 48, 24)
        top = QHBoxLayout()
        title = QLabel("kapdesk is locked")
        title.setObjectName("subtitle")
        top.addWidget(title, 1)
        self.time_label = QLabel()
        self.time_label.setObjectName("subtitle")
        self.time_label.setAccessibleName("Time of day")
        top.addWidget(self.time_label)
        outer.addLayout(top)

        self.session_box = QFrame()
        box = QVBoxLayout(self.session_box)
        box.setContentsMargins(0, 12, 0, 12)
        clocks = QHBoxLayout()
        self.since_start = ClockDisplay("Since the session started", clock_px)
        self.since_dose = ClockDisplay("Since the first dose", clock_px)
        clocks.addWidget(self.since_start)
        clocks.addSpacing(48)
        clocks.addWidget(self.since_dose)
        clocks.addStretch(1)
        box.addLayout(clocks)
        self.check_label = QLabel()
        self.check_label.setObjectName(UPCOMING_STYLE)
        self.check_label.setWordWrap(True)
        self.check_label.setAccessibleName("Next check")
        self.check_label.setStyleSheet("font-size: 26px;")  # across the room, like the clocks
        box.addWidget(self.check_label)
        self.alert_label = QLabel()
        self.alert_label.setWordWrap(True)
        self.alert_label.setObjectName("alertHeadline")
        self.alert_label.setAccessibleName("Alert not yet acknowledged")
        self.alert_frame = QFrame()
        alert_box = QVBoxLayout(self.alert_frame)
        alert_box.addWidget(self.alert_label)
        box.addWidget(self.alert_frame)
        outer.addWidget(self.session_box)
        self.no_session = QLabel("No session is running.")
        self.no_session.setObjectName("hint")
        outer.addWidget(self.no_session)
        outer.addStretch(1)

        self.panel = UnlockPanel(store, attempts, where="lock", current=current)
        self.panel.setMaximumWidth(720)
        outer.addWidget(self.panel)
        hint = QLabel(
            "Locked after the idle time set in Settings, or with Ctrl+Alt+L. Entries, timers "
            "and due checks go on while locked; nothing is lost."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        outer.addWidget(hint)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def refresh(self) -> None:
        self.time_label.setText(self._time_of_day())
        facts = self._facts()
        self.session_box.setVisible(facts is not None)
        self.no_session.setVisible(facts is None)
        if facts is None:
            return
        self.since_start.set_time(facts.since_start)
        self.since_dose.set_time(facts.since_first_dose)
        self.check_label.setText(facts.next_check)
        self._restyle(self.check_label, CHECK_STYLES.get(facts.check_state or "", UPCOMING_STYLE))
        self.alert_label.setText(("!! " if facts.alert_level == "urgent" else "! ") + facts.alert)
        self.alert_frame.setVisible(bool(facts.alert))
        level = "alertUrgent" if facts.alert_level == "urgent" else "alertCaution"
        self._restyle(self.alert_frame, level)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Once the window system has given it the keyboard: straight to the PIN field.
        QTimer.singleShot(0, self.panel.focus)

    def release(self) -> None:
        """Unlocked: the window may close now."""
        self._released = True
        self._timer.stop()
        self.close()

    # ------------------------------------------------------------- no way round

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            return  # nothing to go back to: the lock stays
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._released:
            self._timer.stop()
            super().closeEvent(event)
        else:
            event.ignore()  # Alt+F4: the lock stays

    def changeEvent(self, event: QEvent) -> None:
        """Minimised or left: back in front, full screen, as the patient's survey does."""
        super().changeEvent(event)
        if getattr(self, "_released", True):
            return
        minimised = bool(self.windowState() & Qt.WindowState.WindowMinimized)
        left = event.type() == QEvent.Type.ActivationChange and not self.isActiveWindow()
        if left or (event.type() == QEvent.Type.WindowStateChange and minimised):
            QTimer.singleShot(0, self._come_back)

    def _come_back(self) -> None:
        if not self._released and self.isVisible():
            self.setWindowState(Qt.WindowState.WindowFullScreen)
            self.raise_()
            self.activateWindow()

    @staticmethod
    def _restyle(widget: QWidget, name: str) -> None:
        if widget.objectName() != name:
            widget.setObjectName(name)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
