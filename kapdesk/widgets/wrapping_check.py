"""A check box whose label wraps: a long screening question or discharge item fits a narrow
panel instead of widening it past the screen (a QCheckBox's text never wraps)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSizePolicy, QWidget

from kapdesk.widgets.wrapped_label import WrappedLabel


class WrappingCheck(QWidget):
    toggled = Signal(bool)

    def __init__(self, text: str) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.box = QCheckBox()
        self.box.setAccessibleName(text)
        self.label = WrappedLabel(text)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(120)
        self.label.installEventFilter(self)  # a click on the words ticks, as on a check box
        layout.addWidget(self.box, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        self.setFocusProxy(self.box)
        self.box.toggled.connect(self.toggled.emit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.label and event.type() == QEvent.Type.MouseButtonRelease:
            self.box.toggle()
            self.box.setFocus()
            return True
        return super().eventFilter(watched, event)

    def text(self) -> str:
        return self.label.text()

    def isChecked(self) -> bool:
        return self.box.isChecked()

    def setChecked(self, checked: bool) -> None:
        self.box.setChecked(checked)

    def toggle(self) -> None:
        self.box.toggle()
