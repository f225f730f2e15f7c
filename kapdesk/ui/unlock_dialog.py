"""The passphrase prompt: calm, one field (two when creating), the error said in the dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kapdesk.store.passphrases import MIN_PASSPHRASE_CHARS, passphrase_weakness
from kapdesk.store.vault import PassphraseRequest
from kapdesk.ui.fit import grow_to_fit


class UnlockDialog(QDialog):
    def __init__(self, request: PassphraseRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(
            "kapdesk: protect the new record" if request.creating else "kapdesk: unlock the record"
        )
        self.setMinimumWidth(640)
        self._creating = request.creating
        layout = QVBoxLayout(self)
        title = QLabel("Choose a passphrase" if request.creating else "Unlock the record")
        title.setObjectName("title")
        layout.addWidget(title)
        hint = QLabel(
            "This computer has no keyring, so the record is protected by a passphrase. "
            f"Use a sentence of four or more uncommon words (at least {MIN_PASSPHRASE_CHARS} "
            "characters). Without it the record cannot be opened: keep it safe."
            if request.creating
            else "Enter the passphrase that protects this clinic's record."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        self.passphrase.setPlaceholderText("Passphrase")
        layout.addWidget(self.passphrase)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setAccessibleName("Passphrase again")
        self.repeat.setPlaceholderText("The same passphrase again")
        self.repeat.setVisible(request.creating)
        layout.addWidget(self.repeat)
        self.error = QLabel(request.error or "")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setVisible(bool(request.error))
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Create" if request.creating else "Unlock")
        ok.setDefault(True)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)

    def _accept(self) -> None:
        if self._creating:
            weakness = passphrase_weakness(self.passphrase.text())
            if weakness is not None:
                self.repeat.clear()
                self._refuse(weakness, self.passphrase)
                return
            if self.passphrase.text() != self.repeat.text():
                self._refuse("The two entries differ; type the passphrase again.", self.repeat)
                return
        self.accept()

    def _refuse(self, sentence: str, field: QLineEdit) -> None:
        self.error.setText(sentence)
        self.error.setVisible(True)
        grow_to_fit(self)  # a long refusal must be read whole, not cut at the dialog's edge
        field.clear()
        field.setFocus()

    def value(self) -> str:
        return self.passphrase.text()


def ask_passphrase(request: PassphraseRequest) -> str | None:
    dialog = UnlockDialog(request)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.value()
