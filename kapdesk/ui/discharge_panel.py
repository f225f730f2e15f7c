"""Ending a session: the protocol's discharge criteria, each met or not and why; the
checklist to confirm; and, when something is unmet, an override with a reason."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from kapdesk.clinical.discharge import DischargeItem


class DischargePanel(QFrame):
    changed = Signal()

    def __init__(self, checklist: list[str]) -> None:
        super().__init__()
        self.setObjectName("panel")
        layout = QVBoxLayout(self)
        self.title = QLabel("End the session: discharge criteria")
        self.title.setObjectName("subtitle")
        layout.addWidget(self.title)
        self.items = QLabel()
        self.items.setWordWrap(True)
        layout.addWidget(self.items)
        self.checks: dict[str, QCheckBox] = {}
        row = QHBoxLayout()
        for index, label in enumerate(checklist, start=1):
            box = QCheckBox(f"&{index} {label}")
            box.toggled.connect(lambda _checked: self.changed.emit())
            row.addWidget(box)
            self.checks[label] = box
        row.addStretch(1)
        layout.addLayout(row)
        form = QFormLayout()
        self.ready_minutes = QLineEdit()
        self.ready_minutes.setAccessibleName("Ready to leave after, minutes")
        self.ready_minutes.setPlaceholderText(
            "Without a minimum, ready to leave after … minutes (REMS)"
        )
        self.override = QLineEdit()
        self.override.setAccessibleName("Reason to end with criteria unmet")
        self.override.setPlaceholderText("Required only to end with criteria unmet")
        form.addRow("&Ready after (min)", self.ready_minutes)
        form.addRow("&Override reason", self.override)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.confirm = QPushButton("&End session")
        self.cancel = QPushButton("Keep going (Esc)")
        buttons.addWidget(self.confirm)
        buttons.addWidget(self.cancel)
        layout.addLayout(buttons)
        self.override.returnPressed.connect(self.confirm.click)
        self.ready_minutes.returnPressed.connect(self.confirm.click)
        self.hide()

    def confirmed_items(self) -> frozenset[str]:
        return frozenset(label for label, box in self.checks.items() if box.isChecked())

    def show_items(self, items: list[DischargeItem]) -> None:
        lines = []
        for item in items:
            mark = "✔ met" if item.met else "✘ NOT MET"
            lines.append(f"<b>{mark}</b> — {html.escape(item.label)}: {html.escape(item.detail)}")
        unmet = sum(1 for item in items if not item.met)
        if not items:
            lines.append("This session's protocol has no discharge criteria loaded.")
        elif unmet:
            lines.append(f"<br>{unmet} not met: ending now needs an override reason.")
        else:
            lines.append("<br>All criteria met.")
        self.items.setText("<br>".join(lines))

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def show_summary(self, text: str) -> None:
        self.title.setText("Session ended")
        self.items.setText(html.escape(text))
        for widget in (*self.checks.values(), self.ready_minutes, self.override, self.confirm):
            widget.setEnabled(False)
        self.error.hide()
        self.cancel.setText("Back to patients (Esc)")
