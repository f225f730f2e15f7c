"""The forms of a session: screening, the pre-dose caution, a dose, a correction, the REMS
check. They open in place of the chart (ui/forms.py SidePanel), so the clocks, the alert
banner and the newest entries stay in view. No mnemonics here: in the main window they
would clash with the menus' (Alt+R, Alt+S, Alt+V) and the sedation scales' (Alt+0..5)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.entries import ROUTE_LABELS, Drug, Route, route_in_sentence
from kapdesk.clinical.scales import REMS_QUESTIONS, SCALES
from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES, WHY_IT_MATTERS
from kapdesk.clinical.vitals import DECIMAL
from kapdesk.session.dosing import DoseDefaults, device_count
from kapdesk.session.entries import CLOCK_TIME, ENTERED_IN_ERROR
from kapdesk.ui.forms import FormDialog
from kapdesk.widgets.list_combo import ListCombo
from kapdesk.widgets.wrapped_label import WrappedLabel
from kapdesk.widgets.wrapping_check import WrappingCheck


class DoseDialog(FormDialog):
    def __init__(
        self, weight_kg: float | None, defaults: DoseDefaults, parent: QWidget | None = None
    ) -> None:
        super().__init__("Record a dose", parent, scrolling=True)
        self.weight_kg = weight_kg
        self.protocol_route = defaults.protocol_route
        self.drug = ListCombo()
        self.drug.setAccessibleName("Drug")
        for drug in Drug:
            self.drug.addItem(drug.value.capitalize(), drug.value)
        self.route = ListCombo()
        self.route.setAccessibleName("Route")
        for route, label in ROUTE_LABELS.items():
            self.route.addItem(label, route.value)
        self.mg = QLineEdit()
        self.mg.setAccessibleName("Dose in mg")
        self.per_kg = QLabel("")
        self.per_kg.setObjectName("hint")
        self.lot = QLineEdit()
        self.lot.setAccessibleName("Lot number")
        self.devices = QLineEdit()
        self.devices.setAccessibleName("Device count")
        self.route_note = WrappedLabel("")
        self.route_note.setObjectName("error")
        self.form.addRow("Drug", self.drug)
        self.form.addRow("Route", self.route)
        self.form.addRow("", self.route_note)
        self.form.addRow("Dose (mg)", self.mg)
        self.form.addRow("", self.per_kg)
        self.form.addRow("Lot number", self.lot)
        self.form.addRow("Devices (intranasal)", self.devices)
        self.origin = WrappedLabel(defaults.source)  # where the defaults came from
        self.origin.setObjectName("hint")
        self.form.addRow("", self.origin)
        self.drug.setCurrentIndex(self.drug.findData(defaults.drug))
        self.route.setCurrentIndex(self.route.findData(defaults.route))
        if defaults.mg is not None:
            self.mg.setText(f"{defaults.mg:g}")
        if defaults.device_count is not None:
            self.devices.setText(str(defaults.device_count))
        self.mg.textChanged.connect(self._show_per_kg)
        self.mg.textChanged.connect(self._count_devices)
        self._devices_typed = False
        self.devices.textEdited.connect(lambda _text: setattr(self, "_devices_typed", True))
        self.route.currentIndexChanged.connect(self._route_changed)
        self._route_changed()
        self._show_per_kg()
        self.first_field = self.mg
        self.mg.selectAll()
        # A refusal puts the keyboard on its field (QA: "Dose must be a number" left it
        # on Save, the Dose field scrolled out of view at 1024x600).
        self.field_widgets.update(
            drug=self.drug,
            route=self.route,
            mg=self.mg,
            lot_number=self.lot,
            device_count=self.devices,
        )

    def _route_changed(self) -> None:
        route = self.route.currentData()
        intranasal = route == Route.INTRANASAL.value
        self.devices.setEnabled(intranasal)
        self.form.setRowVisible(self.devices, intranasal)  # a device count is intranasal's
        if not intranasal:
            self.devices.clear()
        if self.protocol_route and route != self.protocol_route:
            label = route_in_sentence(Route(self.protocol_route))
            self.route_note.setText(f"This session's protocol is for {label}: check the route.")
            self.route_note.show()
        else:
            self.route_note.hide()

    def _count_devices(self) -> None:
        """The device count that the amount implies (session/dosing.py), unless typed."""
        if self._devices_typed or not self.devices.isEnabled():
            return
        count = device_count(self.drug.currentData(), self.mg.text())
        if count is not None:
            self.devices.setText(str(count))

    def _show_per_kg(self) -> None:
        typed = self.mg.text().strip()
        if not DECIMAL.fullmatch(typed):
            # Read as the dose is, or not at all: "50_0" showed 7.14 mg/kg beside its
            # refusal, read as 500 mg (Xvfb QA).
            self.per_kg.setText("")
            return
        mg = float(typed.replace(",", "."))
        if mg <= 0:
            self.per_kg.setText("")  # "-0.07 mg/kg" of a dose that cannot be (QA)
        elif self.weight_kg:
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


class EntryDialog(FormDialog):
    """One entry of the log, whole, in the chart's place (Enter in the log): an entry
    taller than the log could not be read to its end once the log scrolls by entry
    (issue 10 QA). Read only, with the keyboard on the words (framed): the arrows, Page
    Up and Down, Home and End scroll them; Enter or Esc closes; typing begins an
    observation, as in the log; another act closes it (ui/workspace_acts.py)."""

    typed = Signal(str)

    def __init__(
        self,
        when: str,
        words_html: str,
        parent: QWidget | None = None,
        what: str = "the entry in full",
    ) -> None:
        # The time in the heading and no field labels: at 1024x600 and 125 % text the
        # chart's place has room for a few lines, and they are the entry's.
        super().__init__(f"{when} — {what}", parent, scrolling=True, ok_text="Close")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).hide()
        self.words = QLabel(words_html)
        self.words.setTextFormat(Qt.TextFormat.RichText)
        self.words.setWordWrap(True)
        self.words.setAccessibleName("The entry")
        self.form.addRow(self.words)
        assert self.area is not None
        self.area.setObjectName("entry_in_full")
        self.area.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.area.setAccessibleName("The entry in full")
        self.first_field = self.area

    def keyPressEvent(self, event: QKeyEvent) -> None:
        assert self.area is not None
        scroll = self.area.verticalScrollBar()
        if event.key() in (Qt.Key.Key_Home, Qt.Key.Key_End):
            home = event.key() == Qt.Key.Key_Home
            scroll.setValue(scroll.minimum() if home else scroll.maximum())
            return
        text = event.text()
        plain = not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        if plain and text and text.isprintable():
            self.reject()
            self.typed.emit(text)  # not lost: the start of an observation
            return
        super().keyPressEvent(event)


# A dose's correction form offers this, with Space: a dose recorded that was never given.
DOSE_IN_ERROR = (
    "Entered in error: this dose was never given. It stays in the log, struck through, "
    "and leaves the totals, T0 and the dose checks."
)


class CorrectDialog(FormDialog):
    """New values for the fields of one entry, and the reason (required)."""

    def __init__(
        self,
        summary: str,
        fields: dict[str, str],
        labels: dict[str, str],
        parent: QWidget | None = None,
        *,
        in_error: str | None = None,
    ) -> None:
        """``in_error``: the words of a box that marks the entry entered in error (a dose
        never given) instead of changing its fields."""
        # The entry corrected stays in view above the fields, which scroll on a short
        # screen (QA: at 1024x600 it went out of view as the first field took the keys).
        super().__init__("Correct an entry", parent, scrolling=True, subject=summary)
        self.edits: dict[str, QLineEdit] = {}
        self.in_error: WrappingCheck | None = None
        for name, value in fields.items():
            if in_error is not None and self.edits and self.in_error is None:
                # Under the amount, one Tab from it: the box is about the whole dose (Xvfb
                # QA: Tab, Space from the amount typed the reason into the lot number).
                self.in_error = WrappingCheck(in_error)
                self.in_error.toggled.connect(self._in_error_toggled)
                self.in_error.box.installEventFilter(self)
                self.form.addRow(self.in_error)
            edit = QLineEdit(value)
            edit.setAccessibleName(labels[name])
            if name == "text":
                # An observation's words on a line of their own, the form's whole width, as
                # the reason's: beside "Tags (separated by commas)" at 1024x600 the box
                # showed a dozen letters of them (Xvfb QA).
                label = QLabel(labels[name])
                label.setBuddy(edit)
                self.form.addRow(label)
                self.form.addRow(edit)
            else:
                self.form.addRow(labels[name], edit)
            self.edits[name] = edit
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText("Why the entry was wrong (required)")
        # Its own line, the form's whole width: beside a long label on a narrow screen it
        # showed seven letters of the reason being typed (QA, 1024x600 at 125 %).
        reason_label = QLabel("Reason")
        reason_label.setBuddy(self.reason)
        self.form.addRow(reason_label)
        self.form.addRow(self.reason)
        self._initial = dict(fields)
        self.first_field = next(iter(self.edits.values()), self.reason)
        # A refusal takes the keyboard to what it is about: a time refused left it in the
        # reason, the time out of view at 1024x600 (Xvfb QA).
        self.field_widgets = {**self.edits, "reason": self.reason}
        if CLOCK_TIME in self.edits:
            self.field_widgets["time"] = self.edits[CLOCK_TIME]
        if "answers" in self.edits:
            # A level the scale does not have is refused by the scale's name ("MOAA/S has
            # no level 7"): the keyboard to the score, not left in the reason (QA).
            for scale_id in SCALES:
                self.field_widgets[scale_id] = self.edits["answers"]

    def focus_first(self) -> None:
        super().focus_first()
        if isinstance(self.first_field, QLineEdit):
            self.first_field.selectAll()

    def _try_save(self) -> None:
        super()._try_save()
        if self.error.isVisible() and not self.reason.text().strip():
            self.focus(self.reason)  # the refusal is about the reason: go where it is typed

    def _in_error_toggled(self, ticked: bool) -> None:
        """Ticked: the fields go grey (they are no longer what is changed), and the keyboard
        goes on to the reason, which is what is typed next (Xvfb QA: the reason typed on the
        box was lost, and each space in it ticked or unticked the box)."""
        for edit in self.edits.values():
            edit.setEnabled(not ticked)
        if ticked:
            self.focus(self.reason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Letters typed on the box go into the reason (its own Space still ticks it)."""
        if (
            self.in_error is not None
            and watched is self.in_error.box
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            text = event.text()
            plain = not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
            if plain and text and text.isprintable() and text != " ":
                self.focus(self.reason)
                self.reason.insert(text)
                return True
        return super().eventFilter(watched, event)

    def changes(self) -> dict[str, Any]:
        if self.in_error is not None and self.in_error.box.isChecked():
            return {ENTERED_IN_ERROR: True}  # alone: see store/views.py
        return {
            name: edit.text()
            for name, edit in self.edits.items()
            if edit.text() != self._initial[name]
        }


class ScreeningDialog(FormDialog):
    """Yes/no for each contraindication and medicine; a yes shows why it matters and asks
    for the decision and its reason."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Screening before dosing", parent, scrolling=True)
        guide = WrappedLabel("Tick each that applies (Space), Tab to the next; Enter saves.")
        guide.setObjectName("hint")
        self.form.addRow(guide)
        self.contraindications: dict[str, WrappingCheck] = {}
        for key, label in CONTRAINDICATIONS.items():
            box = WrappingCheck(label)
            box.toggled.connect(self._update)
            self.form.addRow(box)
            self.contraindications[key] = box
        heading = QLabel("Concomitant medicines")
        heading.setObjectName("subtitle")
        self.form.addRow(heading)
        self.medicines: dict[str, WrappingCheck] = {}
        for key, label in MEDICINES.items():
            box = WrappingCheck(label)
            self.form.addRow(box)
            self.medicines[key] = box
        self.intention = QLineEdit()
        self.intention.setAccessibleName("Intention")
        self.intention.setPlaceholderText("The patient's stated intention for this session")
        self.form.addRow("Intention", self.intention)
        self.why = WrappedLabel(WHY_IT_MATTERS)
        self.why.setObjectName("error")
        self.why.hide()
        self.decision = QLineEdit()
        self.decision.setAccessibleName("Decision and reason")
        self.decision.setPlaceholderText("Your decision to proceed, and why (required after a yes)")
        # The paragraph and the Decision row under the form's rows, in the rows' own
        # column: as a form row, the form placed the Decision row over the paragraph's
        # last line whenever it laid the rows out again (a yes ticked, a refusal under
        # them; Xvfb QA at 1366x768 and at 125 %).
        decision_row = QFormLayout()
        decision_row.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        decision_row.addRow("Decision", self.decision)
        assert self.area is not None
        rows = self.area.widget().layout()
        assert isinstance(rows, QVBoxLayout)
        below_form = rows.indexOf(self.error)
        rows.insertWidget(below_form, self.why)
        rows.insertLayout(below_form + 1, decision_row)
        # A yes without a decision is refused with the keyboard here, the sentence under
        # it: it stayed on the first question, the sentence below the rows, out of view at
        # 1024x600, and Enter seemed to do nothing (QA).
        self.field_widgets["decision"] = self.decision
        # The keyboard starts at the first question, so every one passes the eye on the
        # way to the intention (Space ticks a yes, Tab moves on, Enter saves).
        self.first_field = next(iter(self.contraindications.values()))

    def _update(self) -> None:
        self.why.setVisible(any(box.isChecked() for box in self.contraindications.values()))

    def answers(self) -> tuple[dict[str, bool], dict[str, bool]]:
        return (
            {key: box.isChecked() for key, box in self.contraindications.items()},
            {key: box.isChecked() for key, box in self.medicines.items()},
        )


class IntentionDialog(FormDialog):
    """The patient's intention for the session, in their words (issue 13)."""

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__("The patient's intention for this session", parent)
        self.intention = QLineEdit(current)
        self.intention.setAccessibleName("Intention")
        self.intention.setPlaceholderText("In the patient's own words")
        self.intention.selectAll()
        self.form.addRow("Intention", self.intention)
        hint = WrappedLabel("Shown on one quiet line at the top of the session and in the report.")
        hint.setObjectName("hint")
        self.form.addRow(hint)
        self.first_field = self.intention


class CautionDialog(FormDialog):
    """The label's pre-dose guidance, acknowledged with a reason before a dose can be given."""

    def __init__(
        self, message: str, parent: QWidget | None = None, *, further: bool = False
    ) -> None:
        title = (
            "An urgent finding since the last dose"
            if further
            else "Blood pressure above the pre-dose caution"
        )
        super().__init__(title, parent, scrolling=True)
        text = WrappedLabel(message)
        self.form.addRow(text)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason to dose")
        self.reason.setPlaceholderText("Why dosing goes ahead (required)")
        self.form.addRow("Reason", self.reason)
        self.first_field = self.reason


class RemsCheckDialog(FormDialog):
    """The REMS yes/no check of sedation, dissociation and respiratory depression.

    1, 2 and 3 tick the answers, as their labels show; Enter records the check.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("REMS check", parent, scrolling=True)
        self.answers: list[WrappingCheck] = []
        for index, question in enumerate(REMS_QUESTIONS, start=1):
            box = WrappingCheck(f"{index}  {question} present")
            box.box.setAccessibleName(f"{question} present")
            self.form.addRow(box)
            self.answers.append(box)
        hint = QLabel("Press 1, 2 or 3 to tick what is present now; Enter records the check.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.form.addRow(hint)
        self.first_field = self.answers[0]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        digit = {Qt.Key.Key_1: 0, Qt.Key.Key_2: 1, Qt.Key.Key_3: 2}.get(Qt.Key(event.key()))
        if digit is not None and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.answers[digit].toggle()
            self._edited()  # as a click on it: Esc then asks before throwing it away
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._try_save()  # from a check box, Enter records rather than toggles
            return
        super().keyPressEvent(event)
