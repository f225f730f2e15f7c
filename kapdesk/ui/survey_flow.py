"""Handing the laptop to the patient for the reflection survey, and coming back (issue 13).

kapdesk's window is hidden while the patient has the survey, so nothing of the record is
on screen; it comes back only with the record's passphrase (or, for a record whose key is
in the keyring and so has none, a code the clinician chooses when handing over, held in
memory as a salted hash for that sitting only). An urgent answer (PHQ-9 item 9 above 0)
is stored as an alert as soon as it is given, and on the clinician's return it is put in
front of them until they acknowledge it.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from kapdesk.clinical.self_report import Answer, Instrument, score
from kapdesk.clinical.vitals import ValidationError
from kapdesk.session.survey import DEFAULT_SURVEY, SurveyFiles, SurveyRun
from kapdesk.ui.fit import grow_to_fit
from kapdesk.ui.forms import FormDialog, open_form
from kapdesk.ui.patient_mode import PatientSurveyWindow
from kapdesk.ui.unlock_panel import UnlockPanel
from kapdesk.widgets.list_combo import ListCombo

if TYPE_CHECKING:
    from kapdesk.session.service import SessionService
    from kapdesk.store import RecordStore
    from kapdesk.ui.main_window import MainWindow
    from kapdesk.ui.workspace import SessionWorkspace

MIN_CODE_CHARS = 6


class HandOverDialog(FormDialog):
    """Which survey, and (without a record passphrase) the code to come back with."""

    def __init__(
        self,
        files: SurveyFiles,
        needs_code: bool,
        before: str,
        parent: MainWindow,
        *,
        accounts: bool = False,
    ) -> None:
        super().__init__("Hand over for the patient's survey", parent, ok_text="Hand over")
        self.setMinimumWidth(640)
        # What the survey is filed with, and what is still going on in the session.
        facts = QLabel(before)
        facts.setWordWrap(True)
        facts.setAccessibleName("Before handing over")
        outer = self.layout()
        assert isinstance(outer, QVBoxLayout)
        outer.insertWidget(1, facts)  # above the form: a wrapped form row overlapped the next
        # Label beside field: wrapped above it, the label was drawn over the text before.
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.survey = ListCombo()
        self.survey.setAccessibleName("Survey")
        self.ids = sorted(files.surveys, key=lambda i: (i != DEFAULT_SURVEY, i))
        for survey_id in self.ids:
            survey = files.surveys[survey_id]
            names = ", ".join(files.instruments[i].name for i in survey.instruments)
            self.survey.addItem(f"{survey.name} ({names})")
        self.form.addRow("&Survey", self.survey)
        self.code: QLineEdit | None = None
        self.repeat: QLineEdit | None = None
        if needs_code:
            self.code, self.repeat = QLineEdit(), QLineEdit()
            for field, name in ((self.code, "Return code"), (self.repeat, "Return code again")):
                field.setEchoMode(QLineEdit.EchoMode.Password)
                field.setAccessibleName(name)
            self.form.addRow("Return &code", self.code)
            self.form.addRow("Code &again", self.repeat)
        how = (
            "your own PIN or passphrase (another clinician's hands over to them)"
            if accounts
            else "the code you choose here (at least 6 characters; it is forgotten once you "
            "are back)"
            if needs_code
            else "the record's passphrase"
        )
        hint = QLabel(
            "The screen will show only the survey, in large type, one question at a time; "
            "kapdesk's screen, its clocks and alerts are hidden until you are back. PHQ-9 "
            "and GAD-7 ask about the last two weeks: hand over once the effects have worn "
            f"off. To come back: “For the clinician” (or Ctrl+Alt+K), then {how}. Answers "
            "are saved as the patient goes."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        outer.insertWidget(3, hint)
        self.first_field = self.code if needs_code and len(self.ids) == 1 else self.survey

    def chosen(self) -> str:
        return self.ids[self.survey.currentIndex()]

    def return_code(self) -> str | None:
        if self.code is None or self.repeat is None:
            return None
        code = self.code.text()
        if len(code.strip()) < MIN_CODE_CHARS:
            raise ValidationError(
                "code", f"Choose a return code of at least {MIN_CODE_CHARS} characters."
            )
        if code != self.repeat.text():
            raise ValidationError("code", "The two codes differ; type the same code twice.")
        return code


def code_checker(code: str) -> Callable[[str], bool]:
    """A check of a typed code against ``code``, keeping only a salted scrypt hash."""
    salt = secrets.token_bytes(16)

    def digest(text: str) -> bytes:
        return hashlib.scrypt(text.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)

    expected = digest(code)
    return lambda typed: hmac.compare_digest(digest(typed), expected)


class UrgentFindingDialog(QDialog):
    """An urgent answer in the patient's survey, in front of the clinician on their return:
    it stays until acknowledged (Esc does not dismiss it)."""

    def __init__(self, reading: str, action: str, parent: MainWindow) -> None:
        super().__init__(parent)
        self.setWindowTitle("The patient's survey needs your attention")
        self.setObjectName("urgentFinding")
        layout = QVBoxLayout(self)
        heading = QLabel("!! URGENT: the patient's survey")
        heading.setObjectName("subtitle")
        layout.addWidget(heading)
        for text in (reading + ".", action):
            label = QLabel(text)
            label.setWordWrap(True)
            layout.addWidget(label)
        # Not the default, and the keyboard starts on the words: an Enter still held from
        # the passphrase must not acknowledge what was never read (QA).
        hint = QLabel("Tab to the button, then Enter or Space.")
        hint.setObjectName("hint")
        layout.addWidget(hint)
        self.acknowledge = QPushButton("I have read this: acknowledge")
        self.acknowledge.setAutoDefault(False)
        self.acknowledge.setDefault(False)
        self.acknowledge.clicked.connect(self.accept)
        layout.addWidget(self.acknowledge)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumWidth(560)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        focused = self.focusWidget()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and focused is self.acknowledge:
            self.acknowledge.click()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape):
            return  # not on the button: nothing
        super().keyPressEvent(event)

    def reject(self) -> None:
        """Esc and the window's close button: not without acknowledging."""


class SurveyFlow:
    """The main window's hand-over: one at a time."""

    def __init__(self, window: MainWindow, files: SurveyFiles) -> None:
        self.window = window
        self.files = files
        self.dialog: HandOverDialog | None = None
        self.patient_window: PatientSurveyWindow | None = None
        self.urgent: UrgentFindingDialog | None = None

    def offer(self, workspace: SessionWorkspace) -> None:
        if not self.files.surveys:
            workspace.say(
                "No survey is loaded (see the status bar for the files skipped); nothing "
                "was handed over."
            )
            return
        store: RecordStore = workspace.service.store
        # With clinicians' accounts the return is the lock's (a clinician's own PIN);
        # without, the record's passphrase, or a code chosen now for a keyring record.
        accounts = store.has_accounts()
        needs_code = store.key_method != "passphrase" and not accounts
        before = hand_over_facts(workspace.service, workspace.ticked_checklist())

        def hand_over(dialog: HandOverDialog) -> object:
            code = dialog.return_code()
            check = code_checker(code) if code is not None else store.confirms_passphrase

            def confirm(typed: str) -> bool:
                if check(typed):
                    return True
                # Each refused try is in the audit trail (never what was typed).
                store.record_event(
                    "survey_return_refused", {"session_id": str(workspace.service.id)}
                )
                return False

            return self.start(workspace, dialog.chosen(), confirm, needs_code, accounts)

        self.dialog = open_form(
            HandOverDialog(self.files, needs_code, before, self.window, accounts=accounts),
            hand_over,
            closed=lambda: workspace.refocus() if self.patient_window is None else None,
        )
        # Its sentences whole, not cut at 1024x600 (QA): measured once laid out at its width.
        QTimer.singleShot(0, lambda: grow_to_fit(self.dialog) if self.dialog else None)

    def start(
        self,
        workspace: SessionWorkspace,
        survey_id: str,
        confirm: Callable[[str], bool],
        with_code: bool,
        accounts: bool = False,
    ) -> PatientSurveyWindow:
        survey = self.files.surveys[survey_id]
        run = SurveyRun(workspace.service, survey, self.files.instruments)
        workspace.service.note_survey("survey_handover", {"survey": survey.name})
        self._handed_at = workspace.service.now()
        lock = self.window.lock
        panel = None
        if accounts:
            secret = "your PIN or passphrase"
            panel = UnlockPanel(
                workspace.service.store,
                lock.attempts,
                where="survey",
                current=workspace.service.store.clinician_id,
            )
        else:
            secret = "the return code" if with_code else "the record's passphrase"
        patient_window = PatientSurveyWindow(run, confirm, secret, panel)
        self.patient_window = patient_window
        self._state = self.window.windowState()
        lock.paused = True  # the patient has the keyboard: not the clinician's idle time
        patient_window.returned_as.connect(lambda who, how: lock.sign_in(who, how, "survey"))
        patient_window.returned.connect(lambda: self._returned(workspace, run))
        self.window.hide()
        patient_window.showFullScreen()
        patient_window.activateWindow()
        patient_window.raise_()
        return patient_window

    def _returned(self, workspace: SessionWorkspace, run: SurveyRun) -> None:
        patient_window = self.patient_window
        self.patient_window = None
        if patient_window is not None:
            patient_window.deleteLater()
        self.window.lock.paused = False
        self.window.lock.last_input = self.window.monotonic()
        minutes = (workspace.service.now() - self._handed_at).total_seconds() / 60
        workspace.service.note_survey("survey_return", {"minutes": round(minutes)})
        self.window.setWindowState(self._state)
        self.window.show()
        self.window.activateWindow()
        self.window.raise_()
        if workspace.summary is not None and not workspace.review:
            workspace.show_end_summary()  # the survey is done: said so there too
        sentence = stored_sentence(run)
        if not workspace.show_words(
            workspace.service.local_clock(workspace.service.now()),
            "the patient's survey, as stored (Esc: back)",
            stored_html(run),
        ):
            workspace.say(sentence)
            workspace.refocus()
        pending = {a.id: a for a in workspace.service.open_alerts()}
        for alert_id in run.urgent_alerts:
            alert = pending.get(alert_id)
            if alert is None:
                continue
            dialog = UrgentFindingDialog(alert.reading, alert.action, self.window)
            self.urgent = dialog
            dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
            dialog.accepted.connect(
                lambda i=alert_id: self._acknowledged(workspace, i)  # type: ignore[misc]
            )
            dialog.open()
            dialog.setFocus()

    def _acknowledged(self, workspace: SessionWorkspace, alert_id: object) -> None:
        self.urgent = None
        workspace.acknowledge_alert_by_id(alert_id)
        self.window.activateWindow()
        workspace.refocus()


def hand_over_facts(service: SessionService, ticked: frozenset[str] = frozenset()) -> str:
    """Which session the answers are filed with; for a running one, what the clinician
    leaves while the screen is the patient's; and an earlier survey in it (QA).
    ``ticked``: the checklist items ticked in the end panel, met (QA: "5 discharge criteria
    not yet met" counted three the clinician had ticked)."""
    zone = service.state.zone
    day = service.started_at.astimezone(zone)
    lines = []
    if service.ended_at is None:
        lines.append(f"Filed with the session running now (started {day:%H:%M}).")
        text, _state = service.next_check()
        if text:
            lines.append(f"While the patient has the screen: {text}.")
        pending = service.open_alerts()
        if pending:
            reason = pending[0].reason.rstrip(".")
            lines.append(f"{len(pending)} alert(s) not yet acknowledged, the first: {reason}.")
        unmet = [item.label for item in service.discharge_items(ticked) if not item.met]
        if unmet:
            lines.append(f"{len(unmet)} discharge criteria not yet met (Ctrl+Shift+E lists them).")
    else:
        ended = service.ended_at.astimezone(zone)
        days = (service.now().astimezone(zone).date() - day.date()).days
        when = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
        lines.append(
            f"Filed with the session of {day:%a %d %b %Y} ({when}), {day:%H:%M}–"
            f"{ended:%H:%M} ({service.protocol_name}): answers given now count as that "
            "session's."
        )
        patient = service.state.row["patient_id"]
        running = [s for s in service.store.open_sessions() if s["patient_id"] == patient]
        if running:
            started = running[0]["started_at"].astimezone(zone)
            lines.append(
                f"This patient has a session running now (started {started:%H:%M}): to "
                "file the answers with it, cancel and hand over from that session."
            )
    earlier = service.state.events_of("self_report")
    if earlier:
        at = service.local_clock(earlier[-1].at)
        lines.append(
            # The course counts a session's highest score (session/course.py): "the latest"
            # said a better repeat replaces a worse one (QA).
            f"This session already has the patient's survey from {at}: a new one is added "
            "beside it, and the course shows the session's highest score."
        )
    return "\n".join(lines)


# The reflection's answers the clinician reads on return, not only in the log: how the
# patient is now (QA: "a great deal" of distress was one italic log line among many).
SAID_ON_RETURN = ("distress", "safety", "support")


def reflection_words(instrument: Instrument, answers: Mapping[str, object]) -> str:
    said = []
    for question_id in SAID_ON_RETURN:
        value = answers.get(question_id)
        if value is None:
            continue
        question = instrument.question(question_id)
        chosen = next((c.text for c in question.choices if c.value == value), str(value))
        said.append(f"{question.text.rstrip('?')}: “{chosen}”")
    return "the reflection" + (f" ({'; '.join(said)})" if said else "")


def _score_words(instrument: Instrument, answers: Mapping[str, Answer | None]) -> str:
    """A form's score as said on return: "9 (mild)", or why it has none."""
    result = score(instrument, answers)
    if result.total is None:
        return f"not scored ({len(result.missing)} unanswered)"
    return f"{result.total} ({result.band})"


def stored_html(run: SurveyRun) -> str:
    """What the survey stored, whole, to read in the chart's place on the clinician's
    return: each form with its score, and each of the reflection's answers on its own
    line, how the patient is now (SAID_ON_RETURN) in bold first. The one-line sentence
    gave three of its answers (QA: intensity, tone and the patient's words missing). The
    scores first, a line each: at 1024x600 the reflection's answers fill the view."""
    scores, parts = [], []
    for instrument_id in run.survey.instruments:
        instrument = run.instruments[instrument_id]
        answers = run.stored.get(instrument_id)
        if answers is None:
            continue
        if instrument.scored:
            scored = html.escape(_score_words(instrument, answers))
            scores.append(f"<b>{html.escape(instrument.name)}</b>: {scored}")
            continue
        lines = []
        ordered = sorted(
            instrument.questions, key=lambda q: q.id not in SAID_ON_RETURN
        )  # stable: the rest in the form's order
        for question in ordered:
            value = answers.get(question.id)
            if value is None:
                continue
            chosen = next((c.text for c in question.choices if c.value == value), str(value))
            line = f"{html.escape(question.text)} “{html.escape(chosen)}”"
            lines.append(f"<b>{line}</b>" if question.id in SAID_ON_RETURN else line)
        parts.append(
            f"<b>{html.escape(instrument.name)}</b><br>"
            + ("<br>".join(lines) if lines else "nothing answered")
        )
    if not scores and not parts:
        return "Nothing was answered, so nothing was stored."
    blocks = (["<br>".join(scores)] if scores else []) + parts
    return "<br><br>".join(blocks)


def stored_sentence(run: SurveyRun) -> str:
    """What the survey stored, said once the clinician is back."""
    parts = []
    for instrument_id in run.survey.instruments:
        instrument = run.instruments[instrument_id]
        if instrument_id not in run.stored:
            continue
        if instrument.scored:
            parts.append(f"{instrument.name} {_score_words(instrument, run.stored[instrument_id])}")
        else:
            parts.append(reflection_words(instrument, run.stored[instrument_id]))
    if not parts:
        return "The patient's survey: nothing was answered, so nothing was stored."
    return "The patient's survey is stored in the log: " + ", ".join(parts) + "."
