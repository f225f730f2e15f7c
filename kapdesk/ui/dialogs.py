"""The workspace's dialogs. Each one validates through the service and shows the sentence
in itself; nothing is stored until the service accepts it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.entries import ROUTE_LABELS, Drug, Route
from kapdesk.clinical.scales import REMS_QUESTIONS
from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES, WHY_IT_MATTERS
from kapdesk.clinical.vitals import ValidationError
from kapdesk.store import StoreError
from kapdesk.ui.fit import grow_to_fit


class FormDialog(QDialog):
    """A form whose OK calls ``save``; a refusal is shown here and the dialog stays open."""

    def __init__(
        self, title: str, parent: QWidget | None = None, *, scrolling: bool = False
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        outer = QVBoxLayout(self)
        heading = QLabel(title)
        heading.setObjectName("title")
        outer.addWidget(heading)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        if scrolling:  # a long form scrolls inside a 600 px screen instead of running off it
            inner = QWidget()
            inner.setLayout(self.form)
            area = QScrollArea()
            area.setWidget(inner)
            area.setWidgetResizable(True)
            area.setFrameShape(QFrame.Shape.NoFrame)
            area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            outer.addWidget(area, 1)
        else:
            outer.addLayout(self.form)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        outer.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._try_save)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self.save: Callable[[], Any] = lambda: None
        self.result_value: Any = None

    def _try_save(self) -> None:
        try:
            self.result_value = self.save()
        except (ValidationError, StoreError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            grow_to_fit(self)  # the whole sentence, not its first lines
            return
        self.accept()


D = TypeVar("D", bound=FormDialog)


def open_form(
    dialog: D,
    save: Callable[[D], Any],
    *,
    saved: Callable[[Any], object] | None = None,
    closed: Callable[[], object] | None = None,
) -> D:
    """The one way a form is opened: ``save(dialog)`` runs on OK (a refusal stays in the
    form), ``saved`` gets its result, ``closed`` runs however the form closes."""
    dialog.save = lambda: save(dialog)
    if saved is not None:
        dialog.accepted.connect(lambda: saved(dialog.result_value))
    if closed is not None:
        dialog.finished.connect(lambda _result: closed())
    dialog.open()
    return dialog


class DoseDialog(FormDialog):
    def __init__(self, weight_kg: float | None, parent: QWidget | None = None) -> None:
        super().__init__("Record a dose", parent)
        self.weight_kg = weight_kg
        self.drug = QComboBox()
        for drug in Drug:
            self.drug.addItem(drug.value.capitalize(), drug.value)
        self.route = QComboBox()
        for route, label in ROUTE_LABELS.items():
            self.route.addItem(label, route.value)
        self.mg = QLineEdit()
        self.mg.setAccessibleName("Dose in mg")
        self.per_kg = QLabel("")
        self.per_kg.setObjectName("hint")
        self.lot = QLineEdit()
        self.devices = QLineEdit()
        self.devices.setAccessibleName("Device count")
        self.form.addRow("&Drug", self.drug)
        self.form.addRow("&Route", self.route)
        self.form.addRow("Dose (&mg)", self.mg)
        self.form.addRow("", self.per_kg)
        self.form.addRow("&Lot number", self.lot)
        self.form.addRow("De&vices (intranasal)", self.devices)
        self.mg.textChanged.connect(self._show_per_kg)
        self.route.currentIndexChanged.connect(self._route_changed)
        self._route_changed()
        self.mg.setFocus()

    def _route_changed(self) -> None:
        intranasal = self.route.currentData() == Route.INTRANASAL.value
        self.devices.setEnabled(intranasal)
        if not intranasal:
            self.devices.clear()

    def _show_per_kg(self) -> None:
        try:
            mg = float(self.mg.text().replace(",", "."))
        except ValueError:
            self.per_kg.setText("")
            return
        if self.weight_kg:
            self.per_kg.setText(f"{mg / self.weight_kg:.2f} mg/kg at {self.weight_kg:g} kg")
        else:
            self.per_kg.setText("No weight recorded: mg/kg not shown")

    def values(self) -> dict[str, Any]:
        return {
            "drug": self.drug.currentData(),
            "route": self.route.currentData(),
            "mg": self.mg.text(),
            "lot_number": self.lot.text() or None,
            "device_count": self.devices.text() or None,
        }


class CorrectDialog(FormDialog):
    """New values for the fields of one entry, and the reason (required)."""

    def __init__(self, summary: str, fields: dict[str, str], parent: QWidget | None = None):
        super().__init__("Correct an entry", parent)
        original = QLabel(summary)
        original.setWordWrap(True)
        self.form.addRow("Entry", original)
        self.edits: dict[str, QLineEdit] = {}
        for name, value in fields.items():
            edit = QLineEdit(value)
            edit.setAccessibleName(name)
            self.form.addRow(name.replace("_", " ").capitalize(), edit)
            self.edits[name] = edit
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText("Why the entry was wrong (required)")
        self.form.addRow("&Reason", self.reason)
        self._initial = dict(fields)
        first = next(iter(self.edits.values()), self.reason)
        first.setFocus()
        first.selectAll()

    def changes(self) -> dict[str, str]:
        return {
            name: edit.text()
            for name, edit in self.edits.items()
            if edit.text() != self._initial[name]
        }


class PatientDialog(FormDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Add a patient", parent)
        self.name = QLineEdit()
        self.name.setAccessibleName("Name")
        self.date_of_birth = QLineEdit()
        self.date_of_birth.setPlaceholderText("YYYY-MM-DD (optional)")
        self.record_number = QLineEdit()
        self.record_number.setPlaceholderText("optional")
        self.weight = QLineEdit()
        self.weight.setPlaceholderText("kg (optional; shows mg/kg)")
        self.form.addRow("&Name", self.name)
        self.form.addRow("Date of &birth", self.date_of_birth)
        self.form.addRow("Clinic &record number", self.record_number)
        self.form.addRow("&Weight (kg)", self.weight)
        self.name.setFocus()


class NewSessionDialog(FormDialog):
    def __init__(
        self,
        default_protocol: str | None,
        protocols: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Start a session", parent)
        self.protocol = QComboBox()
        self.protocol.setEditable(True)
        self.protocol.addItems(protocols)  # the loaded protocol files; a free name is allowed
        if default_protocol:
            self.protocol.setCurrentText(default_protocol)
        self.form.addRow("&Protocol", self.protocol)
        self.protocol.setFocus()


class ScreeningDialog(FormDialog):
    """Yes/no for each contraindication and medicine; a yes shows why it matters and asks
    for the decision and its reason."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Screening before dosing", parent)
        self.contraindications: dict[str, QCheckBox] = {}
        for key, label in CONTRAINDICATIONS.items():
            box = QCheckBox(label)
            box.toggled.connect(self._update)
            self.form.addRow(box)
            self.contraindications[key] = box
        heading = QLabel("Concomitant medicines")
        heading.setObjectName("subtitle")
        self.form.addRow(heading)
        self.medicines: dict[str, QCheckBox] = {}
        for key, label in MEDICINES.items():
            box = QCheckBox(label)
            self.form.addRow(box)
            self.medicines[key] = box
        self.intention = QLineEdit()
        self.intention.setAccessibleName("Intention")
        self.intention.setPlaceholderText("The patient's stated intention for this session")
        self.form.addRow("&Intention", self.intention)
        self.why = QLabel(WHY_IT_MATTERS)
        self.why.setObjectName("error")
        self.why.setWordWrap(True)
        self.why.hide()
        self.form.addRow(self.why)
        self.decision = QLineEdit()
        self.decision.setAccessibleName("Decision and reason")
        self.decision.setPlaceholderText("Your decision to proceed, and why (required after a yes)")
        self.form.addRow("&Decision", self.decision)
        self.intention.setFocus()

    def _update(self) -> None:
        self.why.setVisible(any(box.isChecked() for box in self.contraindications.values()))

    def answers(self) -> tuple[dict[str, bool], dict[str, bool]]:
        return (
            {key: box.isChecked() for key, box in self.contraindications.items()},
            {key: box.isChecked() for key, box in self.medicines.items()},
        )


class CautionDialog(FormDialog):
    """The label's pre-dose guidance, acknowledged with a reason before a dose can be given."""

    def __init__(self, message: str, parent: QWidget | None = None) -> None:
        super().__init__("Blood pressure above the pre-dose caution", parent)
        text = QLabel(message)
        text.setWordWrap(True)
        self.form.addRow(text)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason to dose")
        self.reason.setPlaceholderText("Why dosing goes ahead (required)")
        self.form.addRow("&Reason", self.reason)
        self.reason.setFocus()


class RemsCheckDialog(FormDialog):
    """The REMS yes/no check of sedation, dissociation and respiratory depression."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("REMS check", parent)
        self.answers: list[QCheckBox] = []
        for index, question in enumerate(REMS_QUESTIONS, start=1):
            box = QCheckBox(f"&{index} {question} present")
            self.form.addRow(box)
            self.answers.append(box)
        hint = QLabel("Tick what is present now; Enter records the check.")
        hint.setObjectName("hint")
        self.form.addRow(hint)
        self.answers[0].setFocus()
