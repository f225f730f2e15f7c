"""The settings, as a form generated from their declarations (kapdesk/local/settings.py):
each control offers exactly what the declaration allows."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.alerts import THRESHOLD_BOUNDS, THRESHOLD_LABELS, AlertThresholds
from kapdesk.local.settings import (
    SETTINGS,
    Choice,
    Flag,
    Number,
    ProtocolName,
    Settings,
    Thresholds,
    Words,
    ZoneName,
)
from kapdesk.ui.forms import FormDialog, wrapping_label
from kapdesk.widgets.list_combo import ListCombo
from kapdesk.widgets.wrapping_check import WrappingCheck

DEFAULT_THRESHOLDS = dataclasses.asdict(AlertThresholds())


class SettingsDialog(FormDialog):
    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        protocols: list[str] | None = None,
    ) -> None:
        super().__init__("Settings", parent, scrolling=True)
        # A refusal over the buttons, always in view: at the foot of some twenty rows it
        # was out of sight, and the form seemed to ignore Enter (Xvfb QA). A window of its
        # own may grow for it; the session screen's forms keep theirs in their rows.
        outer = self.layout()
        assert isinstance(outer, QVBoxLayout)
        outer.insertWidget(outer.indexOf(self.buttons), self.error)
        self.setMinimumWidth(720)
        self.resize(760, 540)
        # Each label over its value: beside them, at text 125 % the labels took over half
        # the width and values were cut ("(none: ask each t", QA).
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self._read: dict[str, Any] = {}
        for setting in SETTINGS.values():
            value = settings.get(setting.key)
            constraint = setting.constraint
            if isinstance(constraint, Thresholds):
                self._thresholds(value)
                continue
            widget, read = _control(constraint, value, protocols or [])
            if isinstance(widget, QCheckBox):
                # The label beside its box, wrapping: a check box's own text never wraps
                # and widened the form past a 1024 px screen (issue 9 QA).
                check = WrappingCheck(setting.label)
                check.setChecked(widget.isChecked())
                widget, read = check, check.isChecked
                self.form.addRow(widget)
                focusable: QWidget = check.box
            else:
                widget.setAccessibleName(setting.label)
                self.form.addRow(wrapping_label(setting.label, widget), widget)
                focusable = widget
            if self.first_field is None:
                self.first_field = focusable  # the keyboard starts at the first setting
            self.field_widgets[setting.key] = focusable  # a refusal takes the keyboard there
            self._read[setting.key] = read
        self._opened_with = self.values()
        for box in self.findChildren(QAbstractSpinBox):
            box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not taken by the wheel
            box.installEventFilter(self)  # a value past its bounds is said (eventFilter)

    def _thresholds(self, overrides: dict[str, int]) -> None:
        heading = QLabel(
            "Alert thresholds: kapdesk's defaults, from its clinical reference. A clinic may "
            "change each, within bounds that keep a dangerous reading from passing without "
            "an alert."
        )
        heading.setObjectName("subtitle")
        heading.setWordWrap(True)
        self.form.addRow(heading)
        boxes: dict[str, QSpinBox] = {}
        for name, (low, high) in THRESHOLD_BOUNDS.items():
            box = QSpinBox()
            box.setRange(low, high)
            box.setValue(overrides.get(name, DEFAULT_THRESHOLDS[name]))
            box.setAccessibleName(THRESHOLD_LABELS[name])
            # The bounds in view: a value past them cannot be typed (Xvfb QA).
            label = f"{THRESHOLD_LABELS[name]}, {low}–{high}"
            self.form.addRow(wrapping_label(label, box), box)
            boxes[name] = box

        def read() -> dict[str, int]:
            # Only what differs from the defaults is kept, so a later change of a
            # default in CLINICAL.md still reaches a clinic that never changed it.
            return {
                name: box.value()
                for name, box in boxes.items()
                if box.value() != DEFAULT_THRESHOLDS[name]
            }

        self._read["alert_thresholds"] = read

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A number box holding what it cannot take (it stops a digit past its bounds: 260
        for at most 200 showed "26") went back to its old value on Enter, and the form
        closed as if saved (Xvfb QA). Enter is refused in words instead; leaving the box
        says what it went back to."""
        if isinstance(watched, QAbstractSpinBox) and event.type() == QEvent.Type.Wheel:
            # The wheel scrolls the settings, never a threshold under the pointer (Xvfb
            # QA: scrolling the form changed "Caution above, diastolic" from 90 to 75).
            if self.area is not None:
                QApplication.sendEvent(self.area.verticalScrollBar(), event)
            return True
        if isinstance(watched, QAbstractSpinBox) and not watched.hasAcceptableInput():
            kind = event.type()
            enter = kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
            if enter and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._out_of_bounds(watched, "nothing was saved. Enter a value in that range")
                return True
            if kind == QEvent.Type.FocusOut:
                self._out_of_bounds(watched, f"it is back to {_shown(watched)}")
        return super().eventFilter(watched, event)

    def _out_of_bounds(self, box: QAbstractSpinBox, then: str) -> None:
        low, high = _bounds(box)
        self.error.setText(
            f"{box.accessibleName() or 'A number'}: {box.text() or 'nothing'} is not between "
            f"{low} and {high}, so {then}; Esc keeps the settings as they were."
        )
        self.error.show()
        if self.area is not None:
            self.area.ensureWidgetVisible(box)

    def values(self) -> dict[str, Any]:
        return {key: read() for key, read in self._read.items()}

    def cancel(self) -> None:
        """Esc asks only if a setting differs from what the form opened with: a value
        refused and put back left it asking "not saved yet" of nothing (Xvfb QA)."""
        if self.edited and self.values() == self._opened_with:
            self.edited = False
        super().cancel()


def _shown(box: QAbstractSpinBox) -> str:
    """The value a box holds, as it shows it."""
    if isinstance(box, QSpinBox):
        return str(box.value())
    assert isinstance(box, QDoubleSpinBox)
    return f"{box.value():g}"


def _bounds(box: QAbstractSpinBox) -> tuple[str, str]:
    if isinstance(box, QSpinBox):
        return str(box.minimum()), str(box.maximum())
    assert isinstance(box, QDoubleSpinBox)
    return f"{box.minimum():g}", f"{box.maximum():g}"


def _control(constraint: object, value: Any, protocols: list[str]) -> tuple[QWidget, Any]:
    if isinstance(constraint, Choice):
        combo = ListCombo()
        combo.addItems(list(constraint.options))
        combo.setCurrentText(str(value))
        return combo, combo.currentText
    if isinstance(constraint, Number):
        spin = QDoubleSpinBox()
        spin.setRange(constraint.low, constraint.high)
        spin.setSingleStep(constraint.step)
        whole = float(constraint.step).is_integer()  # minutes are whole: "5", not "5.00"
        spin.setDecimals(0 if whole else 2)
        spin.setValue(float(value))
        return spin, (lambda: int(spin.value())) if whole else lambda: round(spin.value(), 2)
    if isinstance(constraint, Flag):
        box = QCheckBox()
        box.setChecked(bool(value))
        return box, box.isChecked
    if isinstance(constraint, Words):
        line = QLineEdit(", ".join(value))
        line.setPlaceholderText(f"up to {constraint.most}, separated by commas")
        return line, lambda: [w.strip() for w in line.text().split(",") if w.strip()]
    if isinstance(constraint, ProtocolName):
        # Chosen from the loaded protocols: a typed name could name none of them.
        names = sorted(protocols)
        protocol = ListCombo()
        protocol.addItem("(none: ask each time)", "")  # whole in a narrow field (QA)
        for name in names:
            protocol.addItem(name, name)
        if value and value not in names:
            protocol.addItem(f"{value} (not loaded)", value)
        protocol.setCurrentIndex(max(0, protocol.findData(value)))
        return protocol, protocol.currentData
    assert isinstance(constraint, ZoneName)
    zone = QLineEdit(str(value))
    zone.setPlaceholderText("e.g. Europe/London")  # its label says what empty means
    return zone, lambda: zone.text().strip()
