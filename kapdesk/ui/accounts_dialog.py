"""Clinicians' accounts (issue 14): the first administrator at first start, and the list
where a clinician who manages accounts adds, resets or deactivates them (Ctrl+Shift+A).
Every change is a new version in the record, with its reason; nothing is deleted."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QStringListModel, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.accounts import MIN_PASSPHRASE_CHARS, MIN_PIN_DIGITS, ROLES, clean_account
from kapdesk.clinical.vitals import ValidationError
from kapdesk.store import RecordStore
from kapdesk.store.accounts import Account
from kapdesk.ui.fit import grow_to_fit
from kapdesk.ui.forms import FormDialog, open_form
from kapdesk.widgets.list_combo import ListCombo

SECRET_HINT = (
    f"A PIN of {MIN_PIN_DIGITS} or more digits (not a run like 123456, not one digit "
    f"repeated), or a passphrase of {MIN_PASSPHRASE_CHARS} or more characters. Kept only as "
    "an Argon2id hash: a forgotten one is reset by a clinician who manages accounts."
)


def secret_fields(
    form: FormDialog, label: str = "PIN or passphrase"
) -> tuple[QLineEdit, QLineEdit]:
    first, again = QLineEdit(), QLineEdit()
    for field, name in ((first, label), (again, f"{label} again")):
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setAccessibleName(name)
    form.form.addRow(f"&{label}", first)
    form.form.addRow("A&gain", again)
    return first, again


def typed_secret(first: QLineEdit, again: QLineEdit) -> str:
    if first.text() != again.text():
        # One left empty: said so, the keyboard to it (Xvfb QA: a PIN typed with one Tab
        # too many went into "Again", and "The two differ" left the tester asking where
        # the first had gone).
        if not first.text() or not again.text():
            empty = "secret" if not first.text() else "again"
            name = "first" if empty == "secret" else "“Again”"
            raise ValidationError(
                empty, f"The {name} field is empty: type the same PIN or passphrase in both."
            )
        raise ValidationError("secret", "The two differ: type the same PIN or passphrase twice.")
    return first.text()


class AccountForm(FormDialog):
    """A new clinician: name, credentials, role, whether they manage accounts, and their
    PIN or passphrase typed twice. ``first``: the record's first account (it manages the
    others; its holder is the one starting kapdesk)."""

    def __init__(self, parent: QWidget | None = None, *, first: bool = False) -> None:
        title = "Your clinician's account" if first else "Add a clinician"
        super().__init__(title, parent, ok_text="Create" if first else "Add")
        self.setMinimumWidth(720)  # wide rather than tall: whole on a 600 px screen
        if first:
            intro = QLabel(
                "No clinician has an account in this record yet. Create yours: what you "
                "enter is signed with it, kapdesk locks after a few idle minutes, and you "
                "will manage the others' accounts (Ctrl+Shift+A)."
            )
            intro.setWordWrap(True)
            outer = self.layout()
            assert isinstance(outer, QVBoxLayout)
            outer.insertWidget(1, intro)
        self.name = QLineEdit()
        self.name.setAccessibleName("Name")
        self.name.setPlaceholderText("as the log should show it: Ana Ruiz")
        self.credentials = QLineEdit()
        self.credentials.setAccessibleName("Credentials")
        self.credentials.setPlaceholderText("MD, RN, LMFT … (optional)")
        self.role = ListCombo()
        self.role.setAccessibleName("Role")
        self.roles = list(ROLES)
        self.role.addItems(list(ROLES.values()))
        self.role.setCurrentIndex(-1)  # nothing chosen for the clinician
        self.role.setPlaceholderText("Choose a role")
        self.manages = QCheckBox("Manages clinicians' accounts")
        self.manages.setChecked(first)
        self.manages.setEnabled(not first)
        self.form.addRow("&Name", self.name)
        self.form.addRow("&Credentials", self.credentials)
        self.form.addRow("&Role", self.role)
        self.form.addRow("", self.manages)
        self.secret, self.again = secret_fields(self)
        hint = QLabel(SECRET_HINT)
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.form.addRow(hint)
        self.first_field = self.name
        # A refusal takes the keyboard to what it is about (QA: after "the two differ" it
        # stayed on Create).
        self.field_widgets.update(
            name=self.name,
            credentials=self.credentials,
            role=self.role,
            secret=self.secret,
            again=self.again,
        )
        if first:  # at the first start, Esc stops kapdesk: the button says so
            cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
            cancel.setText("Quit (Esc)")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Its wrapped sentences whole (the hint was cut at the bottom): once laid out.
        QTimer.singleShot(0, lambda: grow_to_fit(self))

    def chosen_role(self) -> str:
        at = self.role.currentIndex()
        if at < 0:
            raise ValidationError("role", "Choose a role: " + ", ".join(ROLES.values()) + ".")
        return self.roles[at]

    def add_to(self, store: RecordStore) -> uuid.UUID:
        # What is wrong is said in the form's order: an empty name before a role not
        # chosen (Xvfb QA: the role was asked for first).
        at = self.role.currentIndex()
        clean_account(
            self.name.text(), self.credentials.text() or None, self.roles[at] if at >= 0 else None
        )
        return store.create_account(
            self.name.text(),
            credentials=self.credentials.text() or None,
            role=self.chosen_role(),
            secret=typed_secret(self.secret, self.again),
            manages_accounts=self.manages.isChecked(),
        )


class ChangeForm(FormDialog):
    """A new PIN or passphrase, deactivation or reactivation: each with its reason."""

    def __init__(self, account: Account, change: str, parent: QWidget | None = None) -> None:
        titles = {
            "secret": f"New PIN or passphrase for {account.signature}",
            "deactivate": f"Deactivate {account.signature}",
            "reactivate": f"Reactivate {account.signature}",
        }
        super().__init__(titles[change], parent)
        self.setMinimumWidth(560)
        self.account = account
        self.change = change
        self.secret: QLineEdit | None = None
        self.again: QLineEdit | None = None
        if change == "secret":
            self.secret, self.again = secret_fields(self, "New PIN or passphrase")
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText(
            "forgotten PIN, left the clinic …" if change != "reactivate" else "returned"
        )
        self.form.addRow("R&eason", self.reason)
        if change == "deactivate":
            note = QLabel(
                "Their entries stay theirs in every log and report; they can no longer "
                "unlock or sign in."
            )
            note.setObjectName("hint")
            note.setWordWrap(True)
            self.form.addRow(note)
        self.first_field = self.secret or self.reason
        self.field_widgets["reason"] = self.reason
        if self.secret is not None:
            self.field_widgets["secret"] = self.secret
            self.field_widgets["again"] = self.again

    def apply(self, store: RecordStore) -> uuid.UUID:
        changes: dict[str, object] = {}
        if self.change == "secret":
            assert self.secret is not None
            assert self.again is not None
            changes["secret"] = typed_secret(self.secret, self.again)
        else:
            changes["active"] = self.change == "reactivate"
        return store.change_account(self.account.clinician_id, reason=self.reason.text(), **changes)


class AccountsDialog(QDialog):
    """The accounts, with who is signed in; what the acting clinician may do, as buttons."""

    def __init__(self, store: RecordStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Clinicians' accounts")
        self.setMinimumSize(760, 420)  # four buttons whole in a row (QA: clipped at 640)
        layout = QVBoxLayout(self)
        heading = QLabel("Clinicians' accounts")
        heading.setObjectName("subtitle")
        layout.addWidget(heading)
        self.signed_in = QLabel()
        self.signed_in.setWordWrap(True)
        layout.addWidget(self.signed_in)
        self.model = QStringListModel()
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setAccessibleName("Accounts")
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.list, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add a clinician…")
        self.secret_button = QPushButton("New &PIN…")
        self.active_button = QPushButton("&Deactivate…")
        close = QPushButton("Close (Esc)")
        for button in (self.add_button, self.secret_button, self.active_button, close):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add)
        self.secret_button.clicked.connect(lambda: self.change("secret"))
        self.active_button.clicked.connect(self.toggle_active)
        close.clicked.connect(self.reject)
        self.accounts: list[Account] = []
        self.form: FormDialog | None = None
        self.refresh()
        self.list.selectionModel().currentChanged.connect(lambda *_: self._fit_buttons())

    def refresh(self, select: uuid.UUID | None = None) -> None:
        self.accounts = self.store.accounts()
        acting = self.store.acting_account
        self.model.setStringList(
            [
                f"{a.signature} — {a.role_label}"
                + ("" if a.active else " — deactivated")
                + ("  (signed in)" if acting and a.clinician_id == acting.clinician_id else "")
                for a in self.accounts
            ]
        )
        who = acting.signature if acting else "nobody with an account"
        manages = bool(acting and acting.manages_accounts)
        self.signed_in.setText(
            f"Signed in: {who}. "
            + (
                "You manage accounts: add, reset or deactivate below."
                if manages
                else "You can set a new PIN for yourself; a clinician who manages accounts "
                "does the rest (Ctrl+Shift+H hands over to them)."
            )
        )
        ids = [a.clinician_id for a in self.accounts]
        target = select if select in ids else acting.clinician_id if acting else None
        row = ids.index(target) if target in ids else 0
        self.list.setCurrentIndex(self.model.index(row, 0))
        self._fit_buttons()
        self.list.setFocus()

    def selected(self) -> Account | None:
        row = self.list.currentIndex().row()
        return self.accounts[row] if 0 <= row < len(self.accounts) else None

    def add(self) -> None:
        self.form = open_form(
            AccountForm(self),
            lambda form: form.add_to(self.store),
            saved=lambda new_id: self._done(new_id, "Account added."),
        )

    def change(self, what: str) -> None:
        account = self.selected()
        if account is None:
            return
        self.form = open_form(
            ChangeForm(account, what, self),
            lambda form: form.apply(self.store),
            saved=lambda _version: self._done(account.clinician_id, "Saved."),
        )

    def toggle_active(self) -> None:
        account = self.selected()
        if account is not None:
            self.change("deactivate" if account.active else "reactivate")

    def _done(self, clinician_id: uuid.UUID, sentence: str) -> None:
        self.refresh(clinician_id)
        self.message.setText(sentence)

    def _fit_buttons(self) -> None:
        acting = self.store.acting_account
        manages = bool(acting and acting.manages_accounts)
        account = self.selected()
        own = bool(account and acting and account.clinician_id == acting.clinician_id)
        self.add_button.setEnabled(manages)
        self.secret_button.setEnabled(bool(account) and (manages or own))
        self.active_button.setEnabled(manages and account is not None and not own)
        self.active_button.setText(
            "&Reactivate…" if account is not None and not account.active else "&Deactivate…"
        )
