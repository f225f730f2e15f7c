"""Who is at the keyboard (issue 14): the idle lock, the lock key, the hand-over between
clinicians, and the sign-in at start.

Locking hides every kapdesk window (the main window and any form or dialog left open, with
what was typed in it) and puts the lock screen in front, full screen; unlocking shows them
again as they were. A session's timers and due checks run on underneath. Idle time is
counted on the injected monotonic clock from the last key, click or touch anywhere in
kapdesk, so a test's fake clock can make it pass.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from kapdesk.session.unlocking import UnlockAttempts, lock_facts
from kapdesk.store import RecordStore
from kapdesk.ui.lock_screen import LockScreen
from kapdesk.ui.unlock_panel import UnlockPanel

if TYPE_CHECKING:
    from kapdesk.session.service import SessionService
    from kapdesk.ui.main_window import MainWindow

# What counts as someone at the keyboard. Not mouse moves alone: a bumped table or a
# patient brushing the touchpad must not keep a record open.
INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)
CHECK_EVERY_MS = 1000
LOCK_KEY = "Ctrl+Alt+L"


class LockController(QObject):
    """The main window's lock. Active once the record has clinicians' accounts."""

    locked_changed = Signal(bool)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.store: RecordStore = window.store
        self.monotonic = window.monotonic
        self.attempts = UnlockAttempts(self.monotonic, self.store.unlock_refusals())
        self.last_input = self.monotonic()
        self.screen: LockScreen | None = None
        self.hidden: list[tuple[QWidget, Qt.WindowState]] = []
        self.focused: QWidget | None = None
        self.paused = False  # the patient has the screen (their survey): not idle
        self.enabled = self.store.has_accounts()
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self.check_idle)
        if self.enabled:  # a record without accounts has nobody to unlock it
            self._timer.start()

    @property
    def locked(self) -> bool:
        return self.screen is not None

    def idle_limit_s(self) -> float:
        return float(self.window.settings.get("lock_after_minutes")) * 60

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            self.last_input = self.monotonic()
        return False

    def check_idle(self) -> None:
        if self.locked or self.paused or not self.enabled:
            return
        if self.monotonic() - self.last_input >= self.idle_limit_s():
            self.lock("idle")

    def lock(self, why: str = "key") -> None:
        if self.locked:
            return
        if not self.enabled:
            self.window.say(
                "Locking needs clinicians' accounts, and this record has none yet: "
                "Ctrl+Shift+A adds them."
            )
            return
        self.store.record_event("lock", {"why": why})
        self.focused = QApplication.focusWidget()
        shown = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()]
        # An open menu or a tooltip is closed, not kept: shown again after the unlock, a
        # menu would pop up out of nowhere. Windows and dialogs come back as they were.
        passing = (Qt.WindowType.Popup, Qt.WindowType.ToolTip)
        for widget in shown:
            if widget.windowType() in passing:
                widget.close()
        self.hidden = [(w, w.windowState()) for w in shown if w.windowType() not in passing]
        for widget, _state in self.hidden:
            widget.hide()
        service = self._running_service()
        screen = LockScreen(
            self.store,
            self.attempts,
            facts=lambda: lock_facts(service),
            time_of_day=self._time_of_day,
            current=self.store.clinician_id,
            clock_px=self.window.clock_px(),
        )
        screen.panel.unlocked.connect(self._unlocked)
        self.screen = screen
        screen.showFullScreen()
        screen.raise_()
        screen.activateWindow()
        screen.panel.focus()
        self.locked_changed.emit(True)

    def _unlocked(self, clinician_id: uuid.UUID, how: str) -> None:
        screen = self.screen
        assert screen is not None
        self.sign_in(clinician_id, how, "unlock")
        self.screen = None
        screen.release()
        screen.deleteLater()
        for widget, state in self.hidden:
            widget.setWindowState(state)
            widget.show()
        self.hidden = []
        self.window.activateWindow()
        self.window.raise_()
        if self.focused is not None:
            self.focused.setFocus()
        self.focused = None
        self.last_input = self.monotonic()
        self.locked_changed.emit(False)

    def sign_in(self, clinician_id: uuid.UUID, how: str, where: str) -> None:
        """``clinician_id`` acts from now on; a change of clinician in a running session
        is a line in its log with both names."""
        before = self.store.clinician_id
        self.store.sign_in(clinician_id, how, {"where": where})
        workspace = self.window.workspace
        if workspace is not None and before != clinician_id:
            way = where if how != "record_passphrase" else f"{where}_record_passphrase"
            workspace.service.note_handover(before, clinician_id, way)
            acting = self.store.acting_account
            name = acting.signature if acting else "Another clinician"
            # A form left open by the one before is saved under the new name (QA): say so.
            workspace.say(
                f"{name} is signed in: what is entered from now on is theirs, a form left "
                "open included."
            )
        self.window.show_signed_in()

    def accounts_changed(self) -> None:
        self.enabled = self.store.has_accounts()
        if self.enabled and not self._timer.isActive():
            self.last_input = self.monotonic()
            self._timer.start()
        self.window.show_signed_in()

    def hand_over(self) -> None:
        """Ctrl+Shift+H: another clinician takes the keyboard, with their own PIN."""
        others = [
            a
            for a in self.store.accounts(active_only=True)
            if a.clinician_id != self.store.clinician_id
        ]
        if not others:
            self.window.say(
                "No other clinician has an active account to hand over to: one who manages "
                "accounts adds them (Ctrl+Shift+A)."
            )
            return
        dialog = HandOverToClinician(self.store, self.attempts, self.window)

        def taken_over(who: uuid.UUID, how: str) -> None:
            self.sign_in(who, how, "handover")
            dialog.accept()

        dialog.panel.unlocked.connect(taken_over)

        def closed() -> None:
            self.window.activateWindow()
            self.window.refocus()

        dialog.finished.connect(lambda _r: closed())
        dialog.open()
        dialog.panel.focus()

    def release(self) -> None:
        """The window is closing: no more idle checks, and no lock screen left behind."""
        self._timer.stop()
        if self.screen is not None:
            self.screen.release()
            self.screen.deleteLater()
            self.screen = None
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def _running_service(self) -> SessionService | None:
        """The session the lock screen watches: the one on screen if it runs, else one
        left running behind the patients page (QA: the lock said no session was running
        while one had an urgent alert and a recheck due)."""
        workspace = self.window.workspace
        if workspace is not None and workspace.service.ended_at is None:
            return workspace.service
        running = self.store.open_sessions()
        return self.window.session_service(running[0]["id"]) if running else None

    def _time_of_day(self) -> str:
        return self.window.local_time_text()


class PanelDialog(QDialog):
    """A heading, an optional sentence, the unlock panel and one button that leaves."""

    def __init__(
        self,
        title: str,
        heading: str,
        intro: str,
        panel: UnlockPanel,
        leave: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        head = QLabel(heading)
        head.setObjectName("subtitle")
        layout.addWidget(head)
        if intro:
            words = QLabel(intro)
            words.setWordWrap(True)
            layout.addWidget(words)
        self.panel = panel
        layout.addWidget(panel)
        button = QPushButton(leave)
        button.setAutoDefault(False)
        button.clicked.connect(self.reject)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignRight)


class HandOverToClinician(PanelDialog):
    """The incoming clinician chooses their name and types their own PIN; Enter hands over."""

    def __init__(self, store: RecordStore, attempts: UnlockAttempts, parent: QWidget) -> None:
        acting = store.acting_account
        super().__init__(
            "Hand over to another clinician",
            "Hand over to another clinician",
            f"Signed in now: {acting.signature if acting else 'nobody with an account'}. "
            "The clinician taking over chooses their name and types their own PIN; from then "
            "on entries are theirs, and the session's log says who handed over to whom.",
            UnlockPanel(
                store, attempts, where="handover", current=store.clinician_id, exclude_current=True
            ),
            "Cancel (Esc)",
            parent,
        )


class SignInDialog(PanelDialog):
    """At start, once the record is open: who is at the keyboard. Esc quits."""

    def __init__(self, store: RecordStore, attempts: UnlockAttempts, last: uuid.UUID | None):
        super().__init__(
            "kapdesk — sign in",
            "Who is at the keyboard?",
            "",
            UnlockPanel(store, attempts, where="sign_in", current=last),
            "Quit (Esc)",
        )
        self.signed: tuple[uuid.UUID, str] | None = None
        self.panel.unlocked.connect(self._signed)

    def _signed(self, clinician_id: uuid.UUID, how: str) -> None:
        self.signed = (clinician_id, how)
        self.accept()
