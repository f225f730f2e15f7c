"""Patient mode (issue 13): the reflection survey full screen, for the patient's hands.

Large type on the calm dim theme, one question at a time, by keyboard, mouse or touch.
Nothing of the record shows (kapdesk's own window is hidden while this one is up), and
there is no way out for the patient: closing is refused, Esc does nothing, and only the
clinician's secret (the record's passphrase, or the code chosen when handing over)
brings kapdesk back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.self_report import Answer
from kapdesk.session.survey import Step, SurveyRun
from kapdesk.session.unlocking import wait_after
from kapdesk.ui.unlock_panel import UnlockPanel

# Its own sheet: the patient sees the calm dim theme and large type whatever the
# clinician's settings (a light theme at 3 a.m. is not calm).
PATIENT_SHEET = """
QWidget#patientMode { background: #161512; }
QWidget#patientMode QLabel { color: #e6dfcf; font-size: 26px; }
QWidget#patientMode QLabel#question { font-size: 34px; color: #f3ecdc; }
QWidget#patientMode QLabel#quiet { font-size: 22px; color: #a59f92; }
QWidget#patientMode QLabel#error { font-size: 24px; color: #ffb199; }
QWidget#patientMode QPushButton {
    font-size: 28px; color: #f3ecdc; background: #24221e; border: 2px solid #4a463e;
    border-radius: 10px; padding: 10px 22px; text-align: left;
}
QWidget#patientMode QPushButton:checked { background: #3d3522; border-color: #e0b550; }
QWidget#patientMode QPushButton:focus { border: 4px solid #e0b550; }
QWidget#patientMode QPushButton#nav { text-align: center; min-width: 160px; }
QWidget#patientMode QPushButton#clinician {
    font-size: 18px; color: #8d877a; background: transparent; border: 1px solid #34312b;
    padding: 6px 12px; text-align: center;
}
QWidget#patientMode QPushButton#clinician:focus { border: 4px solid #e0b550; color: #f3ecdc; }
QWidget#patientMode QScrollArea { background: #161512; border: none; }
QWidget#patientMode QWidget#surveyContent { background: #161512; }
QWidget#patientMode QPlainTextEdit, QWidget#patientMode QLineEdit {
    font-size: 28px; color: #f3ecdc; background: #201e1a; border: 2px solid #4a463e;
    border-radius: 8px; padding: 8px;
}
QWidget#patientMode QPlainTextEdit:focus, QWidget#patientMode QLineEdit:focus {
    border: 3px solid #e0b550;
}
"""
# Under this height (a 1024x600 laptop) the type steps down a size, so that every answer
# of the longest question is on screen at once: an answer scrolled out of sight is one
# the patient does not choose (QA: the most severe ones were below the edge).
COMPACT_BELOW_PX = 720
COMPACT_SIZES = {
    "34px": "27px",
    "28px": "22px",
    "26px": "21px",
    "24px": "20px",
    "22px": "18px",
    "padding: 10px 22px": "padding: 5px 16px",
}


def patient_sheet(compact: bool) -> str:
    sheet = PATIENT_SHEET
    if compact:
        for large, small in COMPACT_SIZES.items():
            sheet = sheet.replace(large, small)
    return sheet


MAX_ROWS = 4
# The clinician's way back from the keyboard, besides "For the clinician" (said at hand-over).
CLINICIAN_KEY = QKeySequence("Ctrl+Alt+K")


ARROWS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right)


class PatientSurveyWindow(QWidget):
    """The survey, one question at a time; ``returned`` once the clinician has unlocked."""

    returned = Signal()
    # Who came back, and how (issue 14): the clinician's id and "pin", "passphrase" or
    # "record_passphrase"; emitted before ``returned`` when the record has accounts.
    returned_as = Signal(object, str)

    def __init__(
        self,
        run: SurveyRun,
        confirm: Callable[[str], bool],
        secret_name: str,
        panel: UnlockPanel | None = None,
    ) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("patientMode")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._compact = False
        self.setStyleSheet(patient_sheet(False))
        self.setWindowTitle("Reflection")
        self.run = run
        self._confirm = confirm
        self._released = False
        self.failed_attempts = 0
        self.index = -1  # -1: the welcome page; len(steps): the thank-you page
        self.choice_buttons: list[QPushButton] = []

        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 16, 48, 20)
        top = QHBoxLayout()
        self.progress = QLabel()
        self.progress.setObjectName("quiet")
        top.addWidget(self.progress, 1)
        self.clinician_button = QPushButton("For the clinician")
        self.clinician_button.setObjectName("clinician")
        self.clinician_button.clicked.connect(self.ask_clinician)
        top.addWidget(self.clinician_button, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(top)

        self.pages = QStackedWidget()
        outer.addWidget(self.pages, 1)
        self.question_page = QWidget()
        page = QVBoxLayout(self.question_page)
        page.setContentsMargins(0, 0, 0, 0)
        # A long question and its answers scroll at 1024x600; they are never squeezed.
        content = QWidget()
        content.setObjectName("surveyContent")
        body = QVBoxLayout(content)
        body.setSpacing(12)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroller.setWidget(content)
        self.scroller.viewport().setObjectName("surveyContent")
        page.addWidget(self.scroller, 1)
        self.section = QLabel()
        self.section.setObjectName("quiet")
        self.section.setWordWrap(True)
        self.question = QLabel()
        self.question.setObjectName("question")
        self.question.setWordWrap(True)
        self.question.setAccessibleName("Question")
        body.addWidget(self.section)
        body.addWidget(self.question)
        self.choices_box = QWidget()
        # Nothing is chosen for the patient: the keyboard starts on the answers as a
        # whole, and an arrow key goes to one, so an Enter pressed twice never answers
        # a question that was not yet read (QA).
        self.choices_box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.choices_box.setAccessibleName("Answers: an arrow key goes to the first")
        self.choices_box.installEventFilter(self)
        self.choices = QGridLayout(self.choices_box)
        self.choices.setSpacing(10)
        body.addWidget(self.choices_box)
        self.text_answer = QPlainTextEdit()
        self.text_answer.setAccessibleName("Your answer")
        self.text_answer.setPlaceholderText("Type here if you wish; nothing to add: Skip.")
        self.text_answer.textChanged.connect(self._typing)
        self.text_answer.setTabChangesFocus(True)
        self.text_answer.setMinimumHeight(140)
        self.text_answer.installEventFilter(self)
        body.addWidget(self.text_answer, 1)
        body.addStretch(1)
        self.hint = QLabel()
        self.hint.setObjectName("quiet")
        self.hint.setWordWrap(True)
        page.addWidget(self.hint)
        nav = QHBoxLayout()
        self.back_button = QPushButton("Back")
        self.skip_button = QPushButton("Skip")
        self.next_button = QPushButton("Next")
        for button in (self.back_button, self.skip_button, self.next_button):
            button.setObjectName("nav")
        self.back_button.clicked.connect(self.go_back)
        self.skip_button.clicked.connect(self.skip)
        self.next_button.clicked.connect(self._next_from_text)
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.skip_button)
        nav.addWidget(self.next_button)
        page.addLayout(nav)
        # From a text answer, Tab goes on to Skip and Next before Back.
        QWidget.setTabOrder(self.text_answer, self.skip_button)
        QWidget.setTabOrder(self.skip_button, self.next_button)
        QWidget.setTabOrder(self.next_button, self.back_button)

        self.message_page = QWidget()
        message = QVBoxLayout(self.message_page)
        message.addStretch(1)
        self.message = QLabel()
        self.message.setObjectName("question")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        message.addWidget(self.message)
        self.begin_button = QPushButton("Begin")
        self.begin_button.setObjectName("nav")
        self.begin_button.clicked.connect(self.go_next)
        message.addWidget(self.begin_button, 0, Qt.AlignmentFlag.AlignCenter)
        message.addStretch(2)

        self.unlock_page = QWidget()
        unlock = QVBoxLayout(self.unlock_page)
        unlock.addStretch(1)
        ask = QLabel(f"For your clinician: enter {secret_name} to return to kapdesk.")
        ask.setWordWrap(True)
        unlock.addWidget(ask)
        self.panel = panel
        if panel is not None:
            # The record has clinicians' accounts: the lock screen's own panel (issue 14),
            # its delay and audit, and another clinician's PIN hands over.
            unlock.addWidget(panel)
            self.secret = panel.secret
            panel.unlocked.connect(self._unlocked_by)
        else:
            self.secret = QLineEdit()
            self.secret.setEchoMode(QLineEdit.EchoMode.Password)
            self.secret.setAccessibleName(secret_name)
            self.secret.returnPressed.connect(self.try_unlock)
            unlock.addWidget(self.secret)
        self.unlock_error = QLabel()
        self.unlock_error.setObjectName("error")
        self.unlock_error.setWordWrap(True)
        unlock.addWidget(self.unlock_error)
        buttons = QHBoxLayout()
        self.cancel_unlock = QPushButton("Back to the questions")
        self.cancel_unlock.setObjectName("nav")
        self.cancel_unlock.clicked.connect(self.show_current)
        buttons.addWidget(self.cancel_unlock)
        buttons.addStretch(1)
        unlock.addLayout(buttons)
        unlock.addStretch(2)
        for widget in (self.question_page, self.message_page, self.unlock_page):
            self.pages.addWidget(widget)
        self.show_current()

    # ------------------------------------------------------------- pages

    def show_current(self) -> None:
        steps = self.run.steps
        self.unlock_error.clear()
        self.secret.clear()
        if self.index < 0:
            self._show_message(
                "Thank you for taking a few minutes to reflect on your session.\n\n"
                "One question at a time. There are no right or wrong answers, and you can "
                "go back or skip any question you would rather not answer.",
                "Begin",
            )
            self.progress.setText("")
            return
        if self.index >= len(steps):
            self._show_message(
                "Thank you. You have finished.\n\nPlease let your clinician know.", None
            )
            self.progress.setText("")
            return
        step = steps[self.index]
        self.progress.setText(f"Question {self.index + 1} of {len(steps)}")
        instrument = step.instrument
        section = f"{instrument.title}\n{instrument.stem}"
        intention = self.run.service.intention()
        if step.question.id == "intention" and intention:
            section += f"\nYour intention for the session: “{intention}”"
        self.section.setText(section)
        self.question.setText(step.question.text)
        self._fill_choices(step)
        self.back_button.setEnabled(True)
        self.pages.setCurrentWidget(self.question_page)
        self.skip_button.show()
        if step.question.kind == "text":
            self.next_button.show()
            self.hint.setText("Enter goes on; Shift+Enter starts a new line; nothing to add: Skip.")
            self.text_answer.setFocus()
        else:
            self.next_button.hide()
            kept = self._kept_button()
            if kept is None:
                self.hint.setText("An arrow key goes to the answers, Enter chooses; or touch one.")
                self.choices_box.setFocus()
            else:
                # Back on a question answered before: the answer given has the keyboard,
                # so Enter keeps it. QA: Enter there did nothing, and the patient's next
                # Down and Enter stored another answer than the one they had chosen.
                self.hint.setText(
                    "Your answer is marked: Enter keeps it; an arrow key goes to another."
                )
                kept.setFocus()
        self.scroller.verticalScrollBar().setValue(0)

    def _kept_button(self) -> QPushButton | None:
        """The answer given to the question shown, if it was answered before."""
        if not 0 <= self.index < len(self.run.steps):
            return None
        chosen = self.run.answer_of(self.run.steps[self.index])
        if chosen is None:
            return None
        return next((b for b in self.choice_buttons if b.property("value") == chosen), None)

    def _show_message(self, text: str, button: str | None) -> None:
        self.message.setText(text)
        self.begin_button.setVisible(button is not None)
        self.pages.setCurrentWidget(self.message_page)
        if button is not None:
            self.begin_button.setText(button)
            self.begin_button.setFocus()
        else:
            self.message.setFocus()

    def _fill_choices(self, step: Step) -> None:
        for button in self.choice_buttons:
            self.choices.removeWidget(button)
            button.hide()  # at once: deleteLater alone left it painted under the next
            button.deleteLater()
        self.choice_buttons = []
        question = step.question
        is_text = question.kind == "text"
        self.choices_box.setVisible(not is_text)
        self.text_answer.setVisible(is_text)
        if is_text:
            answer = self.run.answer_of(step)
            self.text_answer.setPlainText(answer if isinstance(answer, str) else "")
            return
        chosen = self.run.answer_of(step)
        # At most four rows, in columns beyond that: 0-10 in eleven rows would not fit a
        # 600 px screen, nor five in one column under a two-line question.
        count = len(question.choices)
        columns = -(-count // MAX_ROWS)
        rows = -(-count // columns)
        for n, choice in enumerate(question.choices):
            button = QPushButton(choice.text)
            button.setCheckable(True)
            button.setChecked(choice.value == chosen)
            button.setProperty("value", choice.value)
            button.setAccessibleName(choice.text)
            button.clicked.connect(lambda _c=False, v=choice.value: self.choose(v))
            button.installEventFilter(self)
            # Down each column, then the next, as the scale runs: Down is the next answer
            # wherever it is. Laid across, a five-answer scale in two columns put "0 1" on
            # a row, and Down went 0, 2, 4: three Downs answered "Extremely" (QA).
            self.choices.addWidget(button, n % rows, n // rows)
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            self.choice_buttons.append(button)
        for column in range(4):  # columns of equal width, whatever their words
            self.choices.setColumnStretch(column, 1 if column < columns else 0)

    # ------------------------------------------------------------- moving

    def choose(self, value: Answer | None) -> None:
        step = self.run.steps[self.index]
        self.run.answer(step, value)
        self.go_next()

    def _typing(self) -> None:
        if self.text_answer.toPlainText().strip():
            self.hint.setText("Enter goes on; Shift+Enter starts a new line; nothing to add: Skip.")

    def skip(self) -> None:
        """The question left unanswered (a text typed and then skipped is not kept)."""
        self.choose(None)

    def _next_from_text(self) -> None:
        text = self.text_answer.toPlainText()
        if not text.strip():
            # An Enter on an empty box is most likely a second Enter: Skip says "nothing
            # to add" on purpose.
            self.hint.setText("Nothing typed: type your answer, or Tab to Skip and press Enter.")
            return
        step = self.run.steps[self.index]
        self.run.answer(step, text)
        self.go_next()

    def go_next(self) -> None:
        steps = self.run.steps
        if 0 <= self.index < len(steps):
            after = steps[self.index + 1] if self.index + 1 < len(steps) else None
            self.run.leaving(steps[self.index], after)
        self.index = min(self.index + 1, len(steps))
        self.show_current()

    def go_back(self) -> None:
        steps = self.run.steps
        if 0 <= self.index < len(steps) and steps[self.index].question.kind == "text":
            self.run.answer(steps[self.index], self.text_answer.toPlainText())
        self.index = max(self.index - 1, -1)
        self.show_current()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if watched is self.text_answer and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                return False  # a new line
            self._next_from_text()
            return True
        if watched is self.choices_box and self.choice_buttons:
            if key in ARROWS:
                chosen = self.run.answer_of(self.run.steps[self.index])
                target = next(
                    (b for b in self.choice_buttons if b.property("value") == chosen),
                    self.choice_buttons[0],
                )
                target.setFocus()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                kept = self._kept_button()
                if kept is not None:
                    kept.click()  # the answer given before, kept
                return True  # nothing chosen yet: an Enter answers nothing
        if watched in self.choice_buttons:
            at = self.choice_buttons.index(watched)  # type: ignore[arg-type]
            # Every arrow one step along the scale, Down and Right the next answer: in a
            # scale's columns (above) Down is the one below, and Right "one more" as ever.
            moves = {
                Qt.Key.Key_Right: 1,
                Qt.Key.Key_Left: -1,
                Qt.Key.Key_Down: 1,
                Qt.Key.Key_Up: -1,
            }
            if key in moves:
                target = at + moves[key]
                if 0 <= target < len(self.choice_buttons):  # no wrapping round the ends
                    self.choice_buttons[target].setFocus()
                    self.scroller.ensureWidgetVisible(self.choice_buttons[target])
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.choice_buttons[at].click()
                return True
            if key == Qt.Key.Key_Backspace:
                self.go_back()
                return True
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if QKeySequence(event.keyCombination()) == CLINICIAN_KEY:
            self.ask_clinician()
            return
        if event.key() == Qt.Key.Key_Escape:
            if self.pages.currentWidget() is self.unlock_page:
                self.show_current()
            return  # never a way out for the patient
        focused = self.focusWidget()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and isinstance(
            focused, QPushButton
        ):
            focused.click()  # outside a dialog a button takes only Space; people press Enter
            return
        unlocking = self.pages.currentWidget() is self.unlock_page
        if event.key() == Qt.Key.Key_Backspace and not unlocking:
            self.go_back()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------- leaving

    def ask_clinician(self) -> None:
        self.progress.setText("")
        if self.panel is not None:
            self.panel.reset(self.panel.current)  # accounts may have changed since
        # Where the button leads: once the last answer is in, the questions are over (QA:
        # "Back to the questions" after "You have finished").
        finished = self.index >= len(self.run.steps)
        self.cancel_unlock.setText("Back" if finished else "Back to the questions")
        self.pages.setCurrentWidget(self.unlock_page)
        self.secret.setFocus()

    def try_unlock(self) -> None:
        text = self.secret.text()
        self.secret.clear()
        if not text:
            self.unlock_error.setText("Nothing was entered; the survey is still open.")
            return
        if not self._confirm(text):
            self.failed_attempts += 1
            wait = wait_after(self.failed_attempts)
            self.unlock_error.setText(
                "That is not it; the survey is still open. "
                + (f"Wait {wait} s, then try again." if wait else "Try again, or go back.")
            )
            if wait:
                # Growing with each refusal: guessing at the keyboard takes hours.
                self.secret.setEnabled(False)
                QTimer.singleShot(wait * 1000, self._allow_again)
            return
        self._release()

    def _unlocked_by(self, clinician_id: object, how: str) -> None:
        self.returned_as.emit(clinician_id, how)
        self._release()

    def _release(self) -> None:
        self._released = True
        self.run.finish()
        self.returned.emit()
        self.close()

    def changeEvent(self, event: QEvent) -> None:
        """Minimised or left through the window manager (Alt+Space, another desktop): the
        survey comes back in front, full screen. The operating system's own escapes (a
        virtual terminal, the lock screen) are beyond an app: see the README."""
        super().changeEvent(event)
        if getattr(self, "_released", True):  # True: still being built
            return
        kind = event.type()
        minimised = bool(self.windowState() & Qt.WindowState.WindowMinimized)
        if kind == QEvent.Type.WindowStateChange and (minimised or not self.isFullScreen()):
            # Iconified, a window keeps its full-screen flag: restore it explicitly.
            QTimer.singleShot(0, self._full_screen_again)
        elif kind == QEvent.Type.ActivationChange and not self.isActiveWindow():
            QTimer.singleShot(0, self._come_back)

    def _full_screen_again(self) -> None:
        if not self._released:
            self.setWindowState(Qt.WindowState.WindowFullScreen)
            self.showFullScreen()
            self._come_back()

    def resizeEvent(self, event: QResizeEvent) -> None:
        compact = event.size().height() < COMPACT_BELOW_PX
        if compact != self._compact:
            self._compact = compact
            self.setStyleSheet(patient_sheet(compact))
        super().resizeEvent(event)

    def _come_back(self) -> None:
        if not self._released and self.isVisible():
            self.raise_()
            self.activateWindow()

    def _allow_again(self) -> None:
        self.secret.setEnabled(True)
        if self.pages.currentWidget() is self.unlock_page:
            self.unlock_error.setText("Try again.")
            self.secret.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._released:
            super().closeEvent(event)
        else:
            event.ignore()  # Alt+F4 and the like: the patient cannot leave this screen
