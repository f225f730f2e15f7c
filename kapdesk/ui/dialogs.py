"""The record's forms outside a session: a new patient, a new session."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QWidget

from kapdesk.clinical.vitals import ValidationError
from kapdesk.session.protocols import NO_PROTOCOL
from kapdesk.ui.fit import grow_to_fit
from kapdesk.ui.forms import FormDialog
from kapdesk.widgets.list_combo import ListCombo


class PatientDialog(FormDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Add a patient", parent)
        self.name = QLineEdit()
        self.name.setAccessibleName("Name")
        self.date_of_birth = QLineEdit()
        self.date_of_birth.setPlaceholderText("YYYY-MM-DD")
        self.record_number = QLineEdit()
        self.record_number.setPlaceholderText("optional")
        self.weight = QLineEdit()
        self.weight.setPlaceholderText("for mg/kg")
        self.form.addRow("&Name", self.name)
        self.form.addRow("Date of &birth (optional)", self.date_of_birth)
        self.form.addRow("Clinic &record number (optional)", self.record_number)
        # The unit in the label, not only in the hint: typing hides the hint, and 154 meant
        # as pounds went in as kilograms, doubling every mg/kg limit (Xvfb QA).
        self.form.addRow("&Weight in kg (optional)", self.weight)
        self.first_field = self.name
        # QA: a refused date of birth left the keyboard in Weight.
        self.field_widgets = {
            "display_name": self.name,
            "text": self.name,  # an empty name is refused as text
            "date_of_birth": self.date_of_birth,
            "record_number": self.record_number,
            "weight_kg": self.weight,
        }


class NewSessionDialog(FormDialog):
    """The protocol is chosen from those loaded (type-ahead selects, one Enter starts);
    monitoring without one is a choice of its own, with its reason recorded."""

    def __init__(
        self,
        protocols: list[str],
        default: str | None,
        parent: QWidget | None = None,
        *,
        patient: str = "the patient",
        running: str = "",
        several: bool = False,
    ) -> None:
        """``running``: other patients' sessions still running, as a sentence (``several``:
        more than one): then starting this one needs "Start anyway" ticked (QA: Esc from a
        review, and two reflex Enters, started a second patient's session over a running
        one)."""
        super().__init__(f"Start a session for {patient}", parent, ok_text="Start")
        self.running: QCheckBox | None = None
        self.running_note: QLabel | None = None
        self._running_said = (
            "Other patients' sessions are still running. Tick “Start anyway” (Alt+A) to "
            "start this one beside them, or press Esc and resume one."
            if several
            else "Another patient's session is still running. Tick “Start anyway” (Alt+A) "
            "to start this one beside it, or press Esc and resume it."
        )
        if running:
            them, their = ("them", "their") if several else ("it", "its")
            self.running_note = warning = QLabel(
                f"{running} Starting this one leaves {them} running, {their} checks and "
                "alerts off the screen. Esc goes back to “Resume it”."
            )
            warning.setObjectName("error")
            warning.setWordWrap(True)
            self.form.addRow(warning)
            self.running = QCheckBox(f"Start &anyway, leaving {them} running")
            self.running.setAccessibleName(f"Start anyway, leaving {them} running")
            self.form.addRow(self.running)
            self.field_widgets["running"] = self.running
        self.protocol = ListCombo()  # not editable: no typed text can become a protocol
        self.protocol.setAccessibleName("Protocol")
        self.protocol.addItems([*protocols, NO_PROTOCOL])
        # Without the patient's last protocol or a clinic default, nothing is chosen for
        # the clinician: the first in the list is only first alphabetically (issue 9).
        self.protocol.setPlaceholderText("Choose a protocol: type its first letters")
        # The open list as wide as its longest name ("No protocol: clinician-defined …").
        self.protocol.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.protocol.setMaxVisibleItems(12)  # every protocol in view, none scrolled off
        self.protocol.setCurrentIndex(protocols.index(default) if default in protocols else -1)
        self.form.addRow("&Protocol", self.protocol)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Why no protocol")
        self.reason.setPlaceholderText("required")
        self.reason_label = QLabel("Reason")
        self.form.addRow(self.reason_label, self.reason)
        hint = QLabel(
            "Without a protocol kapdesk schedules no checks and has no discharge criteria: "
            "the monitoring is yours to define."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.no_protocol_hint = hint
        self.form.addRow(hint)
        self.protocol.currentTextChanged.connect(self._chosen)
        self._chosen()
        self.first_field = self.protocol

    def _chosen(self) -> None:
        none = self.protocol.currentText() == NO_PROTOCOL
        for widget in (self.reason, self.reason_label, self.no_protocol_hint):
            widget.setVisible(none)
        self.error.hide()  # a refusal about the last choice is not about this one
        # The focus stays in the list: the letters typed to choose ("no") must not run on
        # into the reason. Tab, or the refusal of an empty reason, takes it there.
        if self.isVisible():
            grow_to_fit(self)  # the explanation whole, not clipped at the old height

    def _try_save(self) -> None:
        super()._try_save()
        if self.error.isVisible() and self.reason.isVisible():
            self.focus(self.reason)  # the refusal is about the reason: go where it is typed

    def choice(self) -> tuple[str | None, str]:
        """The protocol's name (None for none), and the reason given for none."""
        if self.protocol.currentIndex() < 0:
            raise ValidationError(
                "protocol",
                "Choose this session's protocol from the list (type its first letters, or "
                f"use the arrow keys), or “{NO_PROTOCOL}” with a reason.",
            )
        if self.running is not None and not self.running.isChecked():
            raise ValidationError(
                "running",
                self._running_said,
            )
        name = self.protocol.currentText()
        return (None if name == NO_PROTOCOL else name), self.reason.text()
