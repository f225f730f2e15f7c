"""Forms: OK calls the service, a refusal stays in the form. During a session a form opens in
place of the chart (``SidePanel``), never over the clocks, the newest entries or an alert.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.vitals import ValidationError
from kapdesk.store import StoreError
from kapdesk.ui.fit import grow_to_fit
from kapdesk.widgets.enter_button import EnterButton
from kapdesk.widgets.wrapped_label import WrappedLabel

__all__ = ["EnterButton", "FormDialog", "SidePanel", "open_form", "scroll_area", "wrapping_label"]


# A warning must have been on screen this long (s) before a key confirms it: an alert on
# the banner before Ctrl+K acknowledges it, a dose above the usual range before Enter
# records it, Esc's question before Esc again throws a form away. A double press, or one
# as a new alert came up, acknowledged an alert nobody saw, and recorded a dose nobody was
# warned of (QA).
ALERT_READ_S = 1.0


def scroll_area(inner: QWidget) -> QScrollArea:
    """``inner`` scrolling up and down only, as wide as the area. The vertical bar is
    always there, so wrapped lines are laid out without it and never run under it."""
    area = QScrollArea()
    area.setWidget(inner)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
    return area


def wrapping_label(text: str, buddy: QWidget) -> QLabel:
    """A form row's label that wraps, so no label sets the form's width (a long one cut
    the settings and the end panel on a 1024 px screen)."""
    label = WrappedLabel(text)
    label.setBuddy(buddy)
    return label


# Widgets walked along the window's focus chain looking for a form's own (a session
# screen has a few hundred).
FOCUS_CHAIN_STEPS = 5_000


class FormDialog(QDialog):
    """A form whose OK calls ``save``; a refusal is shown here and the form stays open."""

    # The question Esc asks of what was entered, for the session screen to say above its
    # entry lines too (under a long form's rows it can be out of view); and its end, when
    # Enter answers it instead (a save, or a refusal: either is the next act).
    DISCARD_QUESTION = (
        "What you entered here is not saved yet. Enter saves it; Esc again throws it away."
    )
    asked_aloud = Signal(str)
    question_withdrawn = Signal()
    refused = Signal(str)  # a save refused, with the sentence said in the form

    def __init__(
        self,
        title: str,
        parent: QWidget | None = None,
        *,
        scrolling: bool = False,
        ok_text: str = "Save",
        subject: str | None = None,
    ) -> None:
        """``subject``: what the form is about (the entry a correction changes), under
        its heading and never scrolled out of view with its rows."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        outer = QVBoxLayout(self)
        # Wrapping: a title that names a patient is never cut (QA: "Start a session for
        # DEMO — Jordan Course (r" at 1024x600, text at 125 %).
        heading = WrappedLabel(title)
        heading.setObjectName("subtitle")
        outer.addWidget(heading)
        self.subject: QLabel | None = None
        if subject is not None:
            self.subject = WrappedLabel(subject)
            self.subject.setAccessibleName("About")
            outer.addWidget(self.subject)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.error = WrappedLabel()  # a refusal, whole (QA: cut mid-sentence at 1024x600)
        self.error.setObjectName("error")
        self.error.hide()
        # A long form's rows scroll inside a 600 px screen, the refusal under them, scrolled
        # into view when it comes; the buttons stay below, always in view. Outside the
        # rows, a refusal's lines made the form taller than a 1024x600 screen's room, and
        # the entry lines under it went off the screen (QA).
        self.area: QScrollArea | None = None
        if scrolling:
            inner = QWidget()
            rows = QVBoxLayout(inner)
            rows.setContentsMargins(0, 0, 0, 0)
            rows.addLayout(self.form)
            rows.addWidget(self.error)
            self.area = scroll_area(inner)
            outer.addWidget(self.area, 1)
        else:
            outer.addLayout(self.form)
            outer.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        # Said on the buttons: which key does what (no mnemonics; see session_forms.py).
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(f"{ok_text} (Enter)")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Cancel (Esc)")
        self.buttons.accepted.connect(self._try_save)
        self.buttons.rejected.connect(self.cancel)
        outer.addWidget(self.buttons)
        self.save: Callable[[], Any] = lambda: None
        self.result_value: Any = None
        self.first_field: QWidget | None = None  # where the keyboard starts
        # A refused value's field by its name in the sentence's ValidationError.field.
        self.field_widgets: dict[str, QWidget] = {}
        # When each sentence that Enter again answers was said (monotonic seconds), and
        # those answered (workspace_acts.FormActs._said_once).
        self.asked: dict[str, float] = {}
        self.answered: set[str] = set()
        self._watching = False
        # The values last refused with a warning that the same values entered again
        # overrule (a dose above the usual range), and when (monotonic s).
        self.warned: tuple[object, float] | None = None
        self.warning_said = ""  # the warning's sentence, as said above the entry lines
        self._placeholders: dict[QLineEdit, str] = {}  # fields saying a refusal, as they were
        # Whether anything was typed or ticked, and when Esc was last asked about it
        # (``cancel``); seconds from ``monotonic`` (the session's clock in the workspace).
        self.edited = False
        self._discard_asked: float | None = None
        self.monotonic: Callable[[], float] = time.monotonic

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._buttons_after_fields()
        if not self._watching:
            self._watching = True
            self._watch_edits()
        if self.isWindow() and self.area is None:
            # A window of its own grows to its wrapped lines (a heading naming a long
            # name was cut, then written over by the first field: QA at 1024x600).
            QTimer.singleShot(0, lambda: grow_to_fit(self) if self.isVisible() else None)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter saves from any field, as the Save button says. QDialog leaves Enter to
        its default button; in the session screen (a form in the chart's place, not a
        window) Tab across Save took that from it for good, and Enter then did nothing
        (QA). A button with the keyboard (Cancel) takes its own Enter before this."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if enter and plain and ok.isVisible() and ok.isEnabled():
            ok.click()
            return
        if event.key() == Qt.Key.Key_Escape and plain:
            self.cancel()
            return
        super().keyPressEvent(event)

    def cancel(self) -> None:
        """Esc, or Cancel: the form closes, unless something was typed or ticked in it.
        Then the first Esc says what a second would throw away, and the second (a moment
        later: a reflex double Esc is not an answer) throws it away. Esc on the screening
        form discarded a ticked contraindication and the decision typed, unasked (QA)."""
        now = self.monotonic()
        asked = self._discard_asked
        if not self.edited or (asked is not None and now - asked >= ALERT_READ_S):
            self.reject()
            return
        if asked is None:
            self._discard_asked = now
        sentence = self.DISCARD_QUESTION
        warning = self.error.text() if self.error.isVisible() else ""
        if warning and warning == self.warning_said and warning != sentence:
            # A warning stands ("Enter again records it"): said with the question, not
            # replaced by "Enter saves it", which hid that Enter would record the dose
            # past the warning (QA).
            sentence = f"{warning} Not recorded yet; Esc again throws it away."
        self.error.setText(sentence)
        self.error.show()
        self.warning_said = sentence
        self.asked_aloud.emit(sentence)
        # The keyboard to Save, in view: the question under a long form's rows was out of
        # view with the keyboard on its first field (Xvfb QA: Esc seemed to do nothing).
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setFocus()
        if self.area is not None:
            area = self.area
            QTimer.singleShot(0, lambda: area.ensureWidgetVisible(self.error))

    def _try_save(self) -> None:
        if self._discard_asked is not None:
            # Enter answered Esc's question: it goes, here and above the entry lines (Xvfb
            # QA: "not saved yet" stayed after the save, and took a refusal's room), and a
            # later Esc asks again.
            self._discard_asked = None
            if self.error.text() == self.DISCARD_QUESTION:
                self.error.hide()
            self.question_withdrawn.emit()
        try:
            self.result_value = self.save()
        except (ValidationError, StoreError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            self.refused.emit(str(exc))
            field = self.field_widgets.get(getattr(exc, "field", ""))
            if field is not None:
                self.focus(field)  # the keyboard to what the sentence is about
                if isinstance(field, QLineEdit):
                    # Selected, so what is typed replaces it (QA: "7" refused, then "3"
                    # typed made "73").
                    field.selectAll()
            if self.isWindow() and self.area is None:
                grow_to_fit(self)  # the whole sentence, not its first lines
            elif self.isWindow():
                self._grow_for_rows()
            if self.area is not None:
                # Once laid out, so its place is known; after a field a subclass gives
                # the keys to (the reason, just above it).
                QTimer.singleShot(0, self._show_refusal)
            return
        self.accept()

    def focusNextPrevChild(self, next: bool) -> bool:
        """Shown in place of the chart, Tab and Shift+Tab go round the form's own fields
        and buttons: they went on to the entry lines and the log behind it, then to a stop
        where nothing showed the keyboard and typing did nothing (QA). As a window of its
        own, as Qt does."""
        if self.isWindow():
            return super().focusNextPrevChild(next)
        chain: list[QWidget] = []
        widget = self.nextInFocusChain()
        # The window's focus chain is a ring; a form reparented into the side panel may
        # not be on it, so the walk is bounded (an unbounded one hung the app).
        for _step in range(FOCUS_CHAIN_STEPS):
            if widget is self or widget is None:
                break
            if (
                self.isAncestorOf(widget)
                and not isinstance(widget, QScrollArea)  # the form's scroller: no field
                and widget.isVisible()
                and widget.isEnabled()
                and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
                and widget.focusProxy() is None
            ):
                chain.append(widget)
            widget = widget.nextInFocusChain()
        if not chain:
            return super().focusNextPrevChild(next)
        current = QApplication.focusWidget()
        at = chain.index(current) if current in chain else -1 if next else 0
        chain[(at + (1 if next else -1)) % len(chain)].setFocus(
            Qt.FocusReason.TabFocusReason if next else Qt.FocusReason.BacktabFocusReason
        )
        return True

    def _buttons_after_fields(self) -> None:
        """Tab goes from the last field to Save, then Cancel. A subclass adds its fields
        after the buttons are made, so Tab left a form in the session screen from its
        last field for the alert banner and the entry lines (second QA pass)."""
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        fields = [
            widget
            for widget in (self.area.widget() if self.area else self).findChildren(QWidget)
            if widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and not self.buttons.isAncestorOf(widget)
            # Not a drop-down list's popup, a window of its own: Qt warned "must be in the
            # same window" on stderr, and the order after the last field was not set (QA).
            and widget.window() is ok.window()
        ]
        if fields:
            QWidget.setTabOrder(fields[-1], ok)
        QWidget.setTabOrder(ok, cancel)

    def _grow_for_rows(self) -> None:
        """A form of its own window taller by what its rows now need, as far as the screen
        has room: the refusal under the rows made them scroll in a window with room to
        spare (Xvfb QA, 1366x768: the patient's name went out of view above the fields)."""
        area, inner = self.area, self.area.widget() if self.area is not None else None
        if area is None or inner is None:
            return
        layout = inner.layout()
        width = area.viewport().width()
        if layout is not None and layout.hasHeightForWidth():
            wanted = layout.totalHeightForWidth(width)
        else:
            wanted = inner.sizeHint().height()
        short = wanted - area.viewport().height()
        screen = self.screen()
        if short <= 0 or screen is None:
            return
        room = screen.availableGeometry()
        frame = self.frameGeometry().height() - self.height()
        height = min(self.height() + short, room.height() - frame)
        if height <= self.height():
            return
        self.resize(self.width(), height)
        overhang = self.frameGeometry().bottom() - room.bottom()
        if overhang > 0:  # kept whole on the screen: up by what went under its edge
            self.move(self.x(), max(room.top(), self.y() - overhang))

    def _show_refusal(self) -> None:
        """The refusal in view under the rows, with the field the keyboard is in: both
        whole where there is room, else the field and the sentence's first lines under
        it (1024x600, text at 125 %, a banner open: the reason field went out of view
        above the sentence, and was typed into unseen, QA)."""
        if self.area is None or not self.error.isVisible():
            return
        room = self.area.viewport().height()
        inner = self.area.widget()
        focused = QApplication.focusWidget()
        if inner is None or not inner.isAncestorOf(self.error):
            # The sentence outside the rows (the settings keep theirs over the buttons):
            # only the field it is about brought into view.
            if focused is not None and inner is not None and inner.isAncestorOf(focused):
                self.area.ensureWidgetVisible(focused)
            return
        error_bottom = self.error.y() + self.error.height()
        if focused is not None and inner is not None and inner.isAncestorOf(focused):
            field_top = focused.mapTo(inner, QPoint(0, 0)).y()
            bar = self.area.verticalScrollBar()
            if error_bottom - field_top <= room:
                bar.setValue(error_bottom - room)
            else:
                bar.setValue(field_top)
                if isinstance(focused, QLineEdit) and not focused.text():
                    # No room for the sentence under it: the empty field says it.
                    self._placeholders.setdefault(focused, focused.placeholderText())
                    focused.setPlaceholderText(self.error.text())
        elif self.error.height() <= room:
            self.area.ensureWidgetVisible(self.error, 0, 0)
        else:
            self.area.verticalScrollBar().setValue(self.error.y())

    def _watch_edits(self) -> None:
        """A refusal goes once a field is changed: it no longer applies (QA: "The reason
        for the correction is empty" stayed under the reason typed)."""
        for line in self.findChildren(QLineEdit):
            line.textEdited.connect(self._edited)
        for text in self.findChildren(QPlainTextEdit):
            text.textChanged.connect(self._edited)
        for box in self.findChildren(QComboBox):
            box.activated.connect(self._edited)
        for button in self.findChildren(QAbstractButton):
            if button.isCheckable():
                button.clicked.connect(self._edited)

    def _edited(self, *_args: object) -> None:
        self.edited = True
        self._discard_asked = None  # typed on: a later Esc asks again
        if self.error.isVisible():
            self.error.hide()
        for field, placeholder in self._placeholders.items():
            field.setPlaceholderText(placeholder)
        self._placeholders.clear()

    def focus_first(self) -> None:
        if self.first_field is not None:
            self.focus(self.first_field)

    def focus(
        self, widget: QWidget, reason: Qt.FocusReason = Qt.FocusReason.OtherFocusReason
    ) -> None:
        """The keyboard to ``widget``, scrolled into view: never a focus out of sight."""
        widget.setFocus(reason)
        if self.area is not None and self.area.isAncestorOf(widget):
            self.area.ensureWidgetVisible(widget)


class SidePanel(QStackedWidget):
    """The chart's place in the session screen, lent to a form or a panel while it is open."""

    def __init__(self, base: QWidget) -> None:
        super().__init__()
        self.base = base
        self.addWidget(base)
        self._under: dict[FormDialog, QWidget] = {}

    def show_form(self, form: FormDialog) -> None:
        """``form`` (made with ``scrolling=True``: its rows scroll, its buttons stay put)."""
        form.setWindowFlags(Qt.WindowType.Widget)
        previous = self.currentWidget() or self.base
        # What shows when the form closes: never another form (one that opened this one,
        # the pre-dose caution before the dose, is gone by then), but what was under it.
        while isinstance(previous, FormDialog):
            previous = self._under.get(previous, self.base)
        self._under[form] = previous
        self.addWidget(form)
        self.setCurrentWidget(form)
        form.show()
        form.finished.connect(lambda _result: self._remove(form, previous))
        form.focus_first()
        self._quiet_carets()

    def _quiet_carets(self) -> None:
        """Every line edit but the one with the keyboard is told it has lost it. Switching
        pages as a dialog closed (the window not yet active again) gave the Observation
        line a focus-in it never lost: its caret blinked beside the form's on a real
        display, keys going to the form (QA, Xvfb). Harmless to a line that has no caret."""
        focus = QApplication.focusWidget()
        for line in self.window().findChildren(QLineEdit):
            if line is not focus:
                QApplication.sendEvent(
                    line, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.OtherFocusReason)
                )

    def show_panel(self, panel: QWidget) -> None:
        if self.indexOf(panel) < 0:
            self.addWidget(panel)
        self.setCurrentWidget(panel)

    def show_base(self) -> None:
        self.setCurrentWidget(self.base)

    def showing(self) -> QWidget:
        return self.currentWidget() or self.base

    def _remove(self, form: FormDialog, previous: QWidget) -> None:
        if self.currentWidget() is form:
            self.setCurrentWidget(previous if self.indexOf(previous) >= 0 else self.base)
        self._under.pop(form, None)
        self.removeWidget(form)
        form.deleteLater()


D = TypeVar("D", bound=FormDialog)


def open_form(
    dialog: D,
    save: Callable[[D], Any],
    *,
    saved: Callable[[Any], object] | None = None,
    closed: Callable[[], object] | None = None,
    host: SidePanel | None = None,
) -> D:
    """The one way a form is opened: ``save(dialog)`` runs on OK (a refusal stays in the
    form), ``saved`` gets its result, ``closed`` runs however the form closes. With a
    ``host``, in place of the chart; otherwise as a window of its own."""
    dialog.save = lambda: save(dialog)
    if saved is not None:
        dialog.accepted.connect(lambda: saved(dialog.result_value))
    if closed is not None:
        dialog.finished.connect(lambda _result: closed())
    if host is not None:
        host.show_form(dialog)
    else:
        dialog.open()
        dialog.focus_first()
    return dialog
