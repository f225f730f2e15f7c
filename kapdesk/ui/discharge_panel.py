"""Ending a session: the protocol's discharge criteria, each met or not and why; the
checklist to confirm; and, when something is unmet, an override with a reason.

It opens in the chart's place (ui/forms.py SidePanel), so the clocks, the log and both
entry lines stay in view and a reading can still be recorded while it is open. The
criteria scroll; the End and Keep going buttons stay put at the bottom. No mnemonics:
Alt+digit is the MOAA/S score and Alt+R the Record menu (issue 9).
"""

from __future__ import annotations

import html
import itertools

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent, QTextDocument
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.discharge import DischargeItem
from kapdesk.ui.forms import EnterButton, scroll_area, wrapping_label
from kapdesk.widgets.wrapping_check import WrappingCheck


class DischargePanel(QFrame):
    changed = Signal()
    END_TEXT = "End session (Enter)"
    SHORT_END_TEXT = "End (Enter)"

    def __init__(self, checklist: list[str]) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.setAccessibleName("End the session")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        inner = QWidget()
        body = QVBoxLayout(inner)
        body.setContentsMargins(0, 0, 0, 0)
        # The title scrolls with the criteria: on a 600 px screen every fixed line counts.
        self.title = QLabel("End the session: discharge criteria")
        self.title.setObjectName("subtitle")
        self.title.setWordWrap(True)
        body.addWidget(self.title)
        self.items = QLabel()
        # Always markup: a summary without tags was taken for plain text, and the escaped
        # apostrophe of "The patient's survey" showed as "&#x27;" (QA).
        self.items.setTextFormat(Qt.TextFormat.RichText)
        self.items.setWordWrap(True)
        self.items.setAccessibleName("Discharge criteria")
        body.addWidget(self.items)
        # What is ticked and typed to end: gone once the session has ended, when unticked
        # boxes and a greyed reason read as if still to do, or as placeholders (QA).
        self.entry_part = QWidget()
        entries = QVBoxLayout(self.entry_part)
        entries.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.entry_part)
        self.checks: dict[str, WrappingCheck] = {}
        for label in checklist:
            box = WrappingCheck(label)
            box.toggled.connect(lambda _checked: self.changed.emit())
            entries.addWidget(box)
            self.checks[label] = box
        # Labels above their fields, wrapping: a long label must not widen the panel past
        # a 1024 px screen (it was cut at the right, then scrolled to cut at the left).
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.ready_minutes = QLineEdit()
        self.ready_minutes.setAccessibleName("Ready to leave after, minutes")
        self.ready_minutes.setPlaceholderText("minutes, for the REMS form (optional)")
        self.override = QLineEdit()
        self.override.setAccessibleName("Reason to end with criteria unmet")
        self.override.setPlaceholderText("required only to end with criteria unmet")
        self.ready_label = wrapping_label(
            "If there were no minimum time, ready to leave after (minutes)", self.ready_minutes
        )
        form.addRow(self.ready_label, self.ready_minutes)
        form.addRow(
            wrapping_label("Reason to end with criteria unmet", self.override), self.override
        )
        entries.addLayout(form)
        body.addStretch(1)
        self.scroller = scroll_area(inner)
        # The keyboard starts here, at the top: the criteria are read before anything is
        # ticked (it opened on the first box, scrolled past the title and the first
        # criterion on a 600 px screen; issue 11 QA). Arrows and Page keys scroll, Tab
        # goes on to the checklist.
        self.scroller.setObjectName("criteria")
        self.scroller.setAccessibleName("Discharge criteria: arrows scroll, Tab to the checklist")
        self.scroller.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout.addWidget(self.scroller, 1)
        # A refusal sits above the buttons, never scrolled out of sight (issue 9 QA).
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        # The refusal ("type the reason for the override") goes as the reason is typed
        # (second QA pass: it stayed under the reason).
        self.override.textEdited.connect(lambda _text: self.error.hide())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.confirm = EnterButton(self.END_TEXT)
        self.confirm.setAccessibleName("End session")
        self.cancel = EnterButton("Keep going (Esc)")
        self.cancel.setAccessibleName("Keep going")
        buttons.addWidget(self.confirm)
        buttons.addWidget(self.cancel)
        layout.addLayout(buttons)
        # Tab walks the checklist, the two fields, then End: the order they are read in.
        chain = [self.scroller, *(c.box for c in self.checks.values())]
        chain += [self.ready_minutes, self.override]
        chain.append(self.confirm)
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def ask_ready_minutes(self, asked: bool) -> None:
        """The REMS form's "ready to leave" question, for an esketamine session only (Xvfb
        QA: it was asked at the end of IM and no-protocol sessions)."""
        self.ready_label.setVisible(asked)
        self.ready_minutes.setVisible(asked)
        if not asked:
            self.ready_minutes.clear()

    def first_field(self) -> QWidget:
        """Where the keyboard starts: the criteria, from their top."""
        return self.scroller

    def first_box(self) -> QWidget:
        """The first checklist item (one Tab on), else the End button."""
        return next((c.box for c in self.checks.values()), self.confirm)

    def focus_first(self) -> None:
        self.scroller.verticalScrollBar().setValue(0)
        self.scroller.setFocus()

    def focus_override(self) -> None:
        """The reason to end with criteria unmet, scrolled into view."""
        self.override.setFocus()
        self.scroller.ensureWidgetVisible(self.override)

    def focus_ready_minutes(self) -> None:
        """The "ready to leave" minutes refused: the keyboard there, in view (QA: it stayed
        in the reason, out of view at 1024x600, and what was typed went in unseen)."""
        self.ready_minutes.setFocus()
        self.ready_minutes.selectAll()
        self.scroller.ensureWidgetVisible(self.ready_minutes)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter anywhere in the panel (a ticked box, a field) presses End, as it says;
        # End refuses, in view, while something is unmet without a reason.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.confirm.isVisible():
            if not event.isAutoRepeat():
                self.confirm.click()
            return
        super().keyPressEvent(event)

    def confirmed_items(self) -> frozenset[str]:
        return frozenset(label for label, box in self.checks.items() if box.isChecked())

    def show_items(
        self, items: list[DischargeItem], open_alerts: int = 0, *, keep_error: bool = False
    ) -> None:
        """The criteria, and first any alert not yet acknowledged: a session ended with
        alerts open and the panel never said so (QA). ``keep_error``: the clock moved on,
        nothing was done; a refusal showing stays."""
        if not keep_error:
            self.error.hide()  # a refusal about the criteria as they were is stale now
        lines = []
        if open_alerts:
            plural = "s" if open_alerts > 1 else ""
            lines.append(
                f"<b>! {open_alerts} alert{plural} not acknowledged</b> — the banner shows "
                f"{'the first' if plural else 'it'}; Ctrl+K acknowledges. Ending now leaves "
                f"{'them' if plural else 'it'} open in the record.<br>"
            )
        for item in items:
            mark = "✔ met" if item.met else "✘ NOT MET"
            lines.append(f"<b>{mark}</b> — {html.escape(item.label)}: {html.escape(item.detail)}")
        unmet = sum(1 for item in items if not item.met)
        if not items:
            lines.append(
                "No discharge criteria are loaded for this session (no protocol, or one not "
                "found): whether the patient may leave is your clinical decision."
            )
        elif unmet:
            lines.append(f"<br>{unmet} not met: ending now needs an override reason.")
        else:
            lines.append(
                "<br>All criteria met. The patient's reflection survey can be handed over "
                "now or after the end (Ctrl+Shift+S)."
            )
        self.items.setText("<br>".join(lines))

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Where "End session (Enter)" and "Keep going (Esc)" would be cut (1024 px at 125 %
        # text) the End button says "End (Enter)": the panel's title says what ends.
        metrics = self.confirm.fontMetrics()
        room = event.size().width() - 60 - 2 * 40  # margins, and each button's padding
        full = metrics.horizontalAdvance(self.END_TEXT + self.cancel.text())
        text = self.END_TEXT if full <= room else self.SHORT_END_TEXT
        if self.confirm.text() != text:
            self.confirm.setText(text)
        super().resizeEvent(event)

    def show_summary(self, text: str) -> None:
        self.title.setText("Session ended")
        self.items.setText(html.escape(text))
        for widget in (*self.checks.values(), self.ready_minutes, self.override, self.confirm):
            widget.setEnabled(False)
        self.entry_part.hide()
        # From the top: it was left scrolled to the reason typed last, the heading and the
        # summary out of view at 1024x600 (QA).
        self.scroller.verticalScrollBar().setValue(0)
        self.confirm.hide()
        self.error.hide()
        self.cancel.setText("Back to patients (Esc)")
        self.cancel.setAccessibleName("Back to patients")

    def items_text(self) -> str:
        """The criteria as a person reads them: the markup rendered, entities and all."""
        document = QTextDocument()
        document.setHtml(self.items.text())
        return document.toPlainText()
