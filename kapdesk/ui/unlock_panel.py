"""Who is coming back to the keyboard, and their proof: one panel for the lock screen, the
sign-in at start, a hand-over and the return from the patient's survey (issue 14).

A clinician chooses their name (the one signed in is chosen already) and types their own
PIN or passphrase. Another clinician's name and PIN is a hand-over. The record's
passphrase (a record that has one) always unlocks too, for the name chosen, and says so
in the audit trail. Each refusal is audited, never what was typed; after three in a row
PINs wait a growing delay (session/unlocking.py), while the record's passphrase is still
checked.
"""

from __future__ import annotations

import math
import uuid

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.accounts import secret_kind
from kapdesk.session.unlocking import UnlockAttempts
from kapdesk.store import RecordStore
from kapdesk.ui.fit import grow_to_fit
from kapdesk.widgets.list_combo import ListCombo

REFRESH_MS = 500


class UnlockPanel(QWidget):
    """``unlocked(clinician_id, how)``: how is "pin", "passphrase" (the clinician's own)
    or "record_passphrase"."""

    unlocked = Signal(object, str)

    def __init__(
        self,
        store: RecordStore,
        attempts: UnlockAttempts,
        *,
        where: str,
        current: uuid.UUID | None = None,
        exclude_current: bool = False,
    ) -> None:
        super().__init__()
        self.store = store
        self.attempts = attempts
        self.where = where
        self.current = current
        self.exclude_current = exclude_current
        self.ids: list[uuid.UUID] = []
        self._lead = ""  # what the last try met, said before the countdown
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.who = ListCombo()
        self.who.setAccessibleName("Clinician")
        form.addRow("&Clinician", self.who)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("PIN or passphrase")
        self.secret.returnPressed.connect(self.try_unlock)
        form.addRow("&PIN or passphrase", self.secret)
        layout.addLayout(form)
        self.message = QLabel()
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._count_down)
        self.reset(current)

    def reset(self, current: uuid.UUID | None) -> None:
        """The list as the record has it now, ``current`` chosen, the field empty."""
        self.current = current
        accounts = [
            a
            for a in self.store.accounts(active_only=True)
            if not (self.exclude_current and a.clinician_id == current)
        ]
        self.ids = [a.clinician_id for a in accounts]
        self.who.clear()
        for account in accounts:
            self.who.addItem(f"{account.signature} ({account.role_label})")
        if current in self.ids:
            self.who.setCurrentIndex(self.ids.index(current))
        self.secret.clear()
        self.hint.setText(self._hint())
        self._count_down()

    def focus(self) -> None:
        self.secret.setFocus(Qt.FocusReason.OtherFocusReason)

    def chosen(self) -> uuid.UUID | None:
        at = self.who.currentIndex()
        return self.ids[at] if 0 <= at < len(self.ids) else None

    def try_unlock(self) -> None:
        typed = self.secret.text()
        self.secret.clear()
        chosen = self.chosen()
        if chosen is None:
            self._say("No clinician's account is active; the record's passphrase is needed.")
            return
        if not typed:
            self._say("Nothing was typed: type your PIN or passphrase, then Enter.")
            return
        waiting = self.attempts.wait_left() > 0
        if not waiting and self.store.check_secret(chosen, typed):
            self._unlock(chosen, secret_kind(typed))
            return
        if self._passphrase_may_unlock(chosen) and self.store.confirms_passphrase(typed):
            self._unlock(chosen, "record_passphrase")
            return
        if (
            chosen != self.current
            and self._has_record_passphrase()
            and self.store.confirms_passphrase(typed)
        ):
            # The record's passphrase is shared: it brings back the clinician who was
            # signed in, never signs another in (QA: it handed over to a nurse's name).
            self._say(
                "The record's passphrase unlocks only for the clinician who was signed in. "
                "To take over, choose your name and type your own PIN or passphrase."
            )
            return
        if waiting:
            # No PIN is checked while the wait runs, so none is counted wrong (QA: the
            # right PIN typed early was called wrong and doubled the wait). Only the record's
            # passphrase was tried: a refused one is audited, and the wait stays as it was.
            if self._passphrase_may_unlock(chosen):
                self.store.note_unlock_refused(chosen, self.where)
            self._count_down(early=True)
            return
        self.attempts.refused()
        self.store.note_unlock_refused(chosen, self.where)
        self._count_down(refused=True)

    # ------------------------------------------------------------ internals

    def _unlock(self, chosen: uuid.UUID, how: str) -> None:
        self.attempts.succeeded()
        self._timer.stop()
        self.message.hide()
        self.unlocked.emit(chosen, how)

    def _has_record_passphrase(self) -> bool:
        return self.store.key_method == "passphrase"

    def _passphrase_may_unlock(self, chosen: uuid.UUID) -> bool:
        """The record's passphrase as the fallback: on the lock screen and the survey's
        return, for the clinician who was signed in; never to sign another clinician in
        (a hand-over) nor at the start, where it already opened the record."""
        return (
            self._has_record_passphrase()
            and self.where in ("lock", "survey")
            and chosen == self.current
        )

    def _hint(self) -> str:
        fallback = (
            " The record's passphrase also unlocks, for the clinician who was signed in."
            if self._has_record_passphrase() and self.where in ("lock", "survey")
            else ""
        )
        return (
            "Choose your name (arrow keys or Alt+C), type your own PIN or passphrase, "
            f"then Enter.{fallback}"
        )

    def _say(self, sentence: str) -> None:
        changed = self.message.text() != sentence or not self.message.isVisible()
        self.message.setText(sentence)
        self.message.show()
        window = self.window()
        if changed and isinstance(window, QDialog):
            # The sign-in and hand-over dialogs grow to keep the names and the sentence
            # whole (QA: a refusal squashed the list at 1024x600); the lock screen is full.
            QTimer.singleShot(0, lambda: grow_to_fit(window))

    def _count_down(self, refused: bool = False, early: bool = False) -> None:
        left = self.attempts.wait_left()
        if left <= 0:
            self._lead = ""
            self._timer.stop()
            if refused:
                self._say("That is not the chosen clinician's PIN or passphrase. Try again.")
            elif self.attempts.refusals and self.message.isVisible():
                self._say("Try again.")
            return
        passphrase = (
            " The record's passphrase is checked now." if self._has_record_passphrase() else ""
        )
        # What the last try met stays at the front while the seconds count down (the
        # countdown's own repaint must not take it away).
        if refused:
            self._lead = "That is not it. "
        elif early:
            self._lead = "Not checked yet: PINs are waiting. "
        lead = self._lead
        self._say(
            f"{lead}{self.attempts.refusals} tries refused in a row: the next PIN is checked "
            f"in {math.ceil(left)} s.{passphrase}"
        )
        if not self._timer.isActive():
            self._timer.start()
