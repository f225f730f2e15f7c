"""The main window: the patients page, or the workspace of the session in progress."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
)

from kapdesk import __version__
from kapdesk.clinical.vitals import ValidationError
from kapdesk.local.memory import forget_module_sources, give_back_memory
from kapdesk.local.settings import Settings, alert_thresholds, local_zone_name
from kapdesk.session.protocols import clinic_protocols, default_protocol, start_session
from kapdesk.session.survey import clinic_surveys
from kapdesk.store import RecordStore
from kapdesk.store.errors import StoreError
from kapdesk.store.reads import PATIENTS_SHOWN
from kapdesk.ui.actions import SESSION_ONLY_KEYS, make_action
from kapdesk.ui.dialogs import NewSessionDialog, PatientDialog
from kapdesk.ui.forms import open_form
from kapdesk.ui.locking import LOCK_KEY, LockController
from kapdesk.ui.patients_page import PatientsPage
from kapdesk.ui.quit_question import not_acknowledged, quit_question
from kapdesk.ui.record_checks import IntegrityWatch, ProgressJob
from kapdesk.ui.review_ahead import ReviewAhead
from kapdesk.ui.settings_dialog import SettingsDialog
from kapdesk.ui.survey_flow import SurveyFlow
from kapdesk.ui.theme import apply_theme, chart_colours, scaled_px
from kapdesk.widgets.clock_display import MIN_CLOCK_PX

log = logging.getLogger(__name__)

SESSION_MENU, VIEW_MENU = "sessionMenu", "viewMenu"

if TYPE_CHECKING:
    # The session screen and the course view draw with pyqtgraph and numpy: imported when
    # first opened (or warmed up once the window has painted), not to paint the patients
    # page at start-up (issue 10).
    from kapdesk.session.service import SessionService
    from kapdesk.ui.chart_pool import ChartPool
    from kapdesk.ui.course_view import CourseView
    from kapdesk.ui.workspace import SessionWorkspace

if TYPE_CHECKING:
    from kapdesk.store.backup import BackupInfo
    from kapdesk.store.export_csv import ExportInfo
    from kapdesk.store.verify import VerifyReport

Clock = Callable[[], dt.datetime]
# Ctrl+= and Ctrl+- step through these text sizes (issue 9: 125 % must be reachable).
TEXT_LEVELS = (0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)


WARM_UP_AFTER_MS = 300


def warm_up() -> None:
    """Import the session screen and the course view (pyqtgraph, numpy) ahead of need."""
    import kapdesk.ui.course_view
    import kapdesk.ui.workspace  # noqa: F401

    forget_module_sources()


class ClockSource(Protocol):
    """The wall clock and the monotonic clock (kapdesk/local/clock.py, or a test's)."""

    def now_utc(self) -> dt.datetime: ...

    def monotonic(self) -> float: ...


# One short line: the status bar cuts a long one (Xvfb QA: "... Nothing w").
SESSION_KEY_ELSEWHERE = (
    " works in a session: open one first (Tab, Enter; a new one: Ctrl+Shift+N). Nothing done."
)
NO_PATIENT_FOR_NOTE = (
    "A course note is written in a patient's course view: choose the patient (Ctrl+F "
    "finds one), then Ctrl+Shift+O. Nothing was added."
)


class MainWindow(QMainWindow):
    def __init__(self, store: RecordStore, settings: Settings, clock: ClockSource) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self.clock = clock.now_utc
        self.monotonic = clock.monotonic
        self.setWindowTitle(f"kapdesk {__version__}")
        self.pages = QStackedWidget()
        self.patients_page = PatientsPage()
        self.pages.addWidget(self.patients_page)
        self.setCentralWidget(self.pages)
        self.workspace: SessionWorkspace | None = None
        self.course: CourseView | None = None
        # A past session opened from the course view: Esc goes back to the course (QA).
        self.course_after_review: tuple[uuid.UUID, uuid.UUID] | None = None
        self.course_from_session: uuid.UUID | None = None  # see show_course
        self._warmed = False
        self._closing = False
        self.chart_pool: ChartPool | None = None  # made with the first warm-up
        self.patient_dialog: PatientDialog | None = None
        self.patient_correction: QDialog | None = None
        self.accounts_dialog: QDialog | None = None
        self.session_dialog: NewSessionDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.quit_box: QMessageBox | None = None
        self.refusal_box: QMessageBox | None = None  # the last _refuse_while_running
        self.verify_box: QMessageBox | None = None  # what failed, when verification fails
        self._quit_confirmed = False
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.statusBar().addWidget(self.verdict, 1)
        # What the background page check found: stays until kapdesk is closed.
        self.integrity_alarm = QLabel()
        self.integrity_alarm.setObjectName("error")
        self.integrity_alarm.setWordWrap(True)
        self.integrity_alarm.hide()
        self.statusBar().insertWidget(0, self.integrity_alarm, 2)
        self.integrity_watch: IntegrityWatch | None = None
        self.record_job = ProgressJob(self)
        # Shown only while it has something to say: on a 600 px screen its empty line is
        # the height of one more log entry.
        self.statusBar().messageChanged.connect(lambda _text: self._fit_status_bar())
        loaded = clinic_protocols(store.folder)
        self.protocols = loaded.protocols
        self.protocol_problems = loaded.problems
        problems = []
        if loaded.problems:
            # Said where it is seen; the app goes on with the protocols that loaded.
            problems.append("Protocol files skipped: " + " ".join(loaded.problems))
        self.surveys = SurveyFlow(self, clinic_surveys(store.folder))
        if self.surveys.files.problems:
            problems.append("Survey files skipped: " + " ".join(self.surveys.files.problems))
        if settings.problem:
            problems.append(settings.problem)
        if store.older_log is not None:
            from kapdesk.store.opening import older_log_sentence

            problems.append(older_log_sentence(store.older_log))
        if store.clock_behind is not None:
            problems.append(store.clock_behind)
        for anchor_problem in (store.anchor_problem, store.anchor_mirror_problem):
            if anchor_problem is not None:
                problems.append(anchor_problem)
        if store.accepted_loss is not None:
            missing = store.accepted_loss.get("anchor", {}).get("missing_events")
            problems.append(
                "Opened as it is, with the loss recorded in the audit trail"
                + (f" ({missing} audit events missing)." if missing else ".")
            )
        self.show_verdict("  ".join(problems))

        record = self.menuBar().addMenu("&Record")
        record.addAction(make_action(self, "&Add a patient…", "Ctrl+N", self.add_patient))
        record.addAction(
            make_action(self, "&New session for the patient…", "Ctrl+Shift+N", self.new_session)
        )
        record.addAction(make_action(self, "&Find a patient", "Ctrl+F", self.find_patient))
        record.addAction(
            make_action(self, "&Course of treatment", "Ctrl+Shift+C", self.show_course)
        )
        record.addAction(
            make_action(self, "Add a course n&ote…", "Ctrl+Shift+O", self.add_course_note)
        )
        # On the patients page only (a session's Ctrl+E corrects its entries): not in the
        # menu, whose copy of the key would make Ctrl+E ambiguous on a session screen.
        make_action(
            self.patients_page, "Correct the patient's details…", "Ctrl+E", self.correct_patient
        )
        record.addAction(make_action(self, "&Verify the record", "Ctrl+Shift+V", self.run_verify))
        record.addAction(make_action(self, "&Back up the record…", "Ctrl+Shift+B", self.back_up))
        record.addAction(
            make_action(self, "E&xport the record as CSV…", "Ctrl+Shift+X", self.export_csv)
        )
        record.addAction(make_action(self, "Se&ttings…", "Ctrl+,", self.open_settings))
        record.addAction(make_action(self, "&Quit", "Ctrl+Q", self.close))
        # The Session and View menus are found by name when needed, never kept (see
        # _new_session_menu).
        self.menuBar().addMenu("&Session").setObjectName(SESSION_MENU)
        view = self.menuBar().addMenu("&View")
        view.setObjectName(VIEW_MENU)
        # No key of its own: Ctrl+Shift+L, one modifier from the lock's Ctrl+Alt+L, flooded
        # a dim room with the light theme at a slip (QA). Alt+V, D reaches it.
        view.addAction(make_action(self, "&Dark or light theme", "", self.toggle_theme))
        view.addAction(make_action(self, "&Larger text", "Ctrl+=", lambda: self.scale_text(1)))
        view.addAction(make_action(self, "&Smaller text", "Ctrl+-", lambda: self.scale_text(-1)))
        view.addAction(make_action(self, "&Normal text size", "Ctrl+0", lambda: self.scale_text(0)))
        view.addAction(
            make_action(
                self, "Show or hide &mean arterial pressure", "Ctrl+Shift+M", self.toggle_map
            )
        )

        # Who is at the keyboard (issue 14).
        self.lock = LockController(self)
        self.review_ahead = ReviewAhead(self)
        people = self.menuBar().addMenu("&Clinician")
        people.addAction(make_action(self, "&Lock now", LOCK_KEY, lambda: self.lock.lock("key")))
        people.addAction(
            make_action(
                self, "&Hand over to another clinician…", "Ctrl+Shift+H", self.lock.hand_over
            )
        )
        people.addAction(
            make_action(self, "Clinicians' &accounts…", "Ctrl+Shift+A", self.show_accounts)
        )
        # Each later Session menu is connected as it is made (_new_session_menu).
        for menu in (record, self.session_menu, view, people):
            menu.aboutToHide.connect(lambda: QTimer.singleShot(0, self._after_menu))

        self.patients_page.add_patient_requested.connect(self.add_patient)
        self.patients_page.new_session_requested.connect(self.new_session)
        self.patients_page.resume_requested.connect(self.resume_session)
        self.patients_page.open_session_requested.connect(self.open_session)
        self.patients_page.search_changed.connect(lambda _words: self.refresh_patients())
        self.patients_page.patient_list.selectionModel().currentChanged.connect(
            lambda *_: self.show_sessions()
        )
        self.refresh_patients()
        self.offer_unfinished()
        self.show_signed_in()

    def show_verdict(self, text: str) -> None:
        """A standing sentence in the status bar (skipped protocol files, verify's verdict)."""
        self.verdict.setText(text)
        self._fit_status_bar()

    def _fit_status_bar(self) -> None:
        bar = self.statusBar()
        alarm = self.integrity_alarm.text()
        bar.setVisible(bool(alarm or self.verdict.text() or bar.currentMessage()))

    def _after_menu(self) -> None:
        """A menu left with Esc leaves the menu bar holding the keyboard, and the next
        words typed vanish into it: give the keyboard back to the page (issue 9 QA)."""
        if QApplication.focusWidget() is not self.menuBar():
            return  # an act took the keyboard somewhere (a form, a dialog): leave it there
        if self.workspace is not None:
            self.workspace.refocus()
        else:
            self.patients_page.patient_list.setFocus()

    # ------------------------------------------------------------ who acts

    def show_signed_in(self) -> None:
        """The clinician signed in, in the title bar (never a patient's name there)."""
        acting = self.store.acting_account
        who = f" — {acting.signature}" if acting is not None else ""
        self.setWindowTitle(f"kapdesk {__version__}{who}")

    def show_accounts(self) -> None:
        from kapdesk.ui.accounts_dialog import AccountsDialog

        dialog = AccountsDialog(self.store, self)

        def closed() -> None:
            self.lock.accounts_changed()
            self.refocus()

        dialog.finished.connect(lambda _r: closed())
        self.accounts_dialog = dialog
        dialog.open()

    def say(self, sentence: str) -> None:
        """A sentence where the clinician is looking: the session's, or the status bar."""
        if self.workspace is not None:
            self.workspace.say(sentence)
        else:
            self.show_verdict(sentence)

    def refocus(self) -> None:
        if self.workspace is not None:
            self.workspace.refocus()
        elif self.course is None:
            self.patients_page.patient_list.setFocus()

    def clock_px(self) -> int:
        return scaled_px(MIN_CLOCK_PX, self.settings.get("font_scale"))

    def local_time_text(self) -> str:
        zone = ZoneInfo(self.settings.get("clinic_zone") or local_zone_name())
        return f"{self.clock().astimezone(zone):%H:%M}"

    # ------------------------------------------------------------ patients

    def refresh_patients(self, select: uuid.UUID | None = None) -> None:
        """The most recently seen patients, or those matching the search; never all of
        them (issue 10). ``select`` is listed and selected even if it is neither."""
        words = self.patients_page.search.text()
        # One more than is shown: whether a search found more than the list holds.
        views = self.store.find_patients(words, PATIENTS_SHOWN + 1)
        more = len(views) > PATIENTS_SHOWN
        views = views[:PATIENTS_SHOWN]
        if select is not None and all(view.id != select for view in views):
            views.insert(0, self.store.entry("patient", select))
        rows = []
        for view in views:
            details = view.current
            text = details["display_name"]
            if details["record_number"]:
                text += f"  ·  {details['record_number']}"
            rows.append((view.id, text))
        self.patients_page.show_patients(rows, self._list_note(words, len(rows), more))
        if select is not None:
            self.patients_page.select_patient(select)
        elif rows and self.patients_page.selected_patient() is None:
            self.patients_page.select_patient(rows[0][0])
        self.show_sessions()

    def _list_note(self, words: str, shown: int, more: bool = False) -> str:
        if words.strip():
            if more:  # never a silent cut: the patient may be past it (issue 10 QA)
                return (
                    f"More than {PATIENTS_SHOWN} patients match; the first {PATIENTS_SHOWN} "
                    "are listed. Type more of the name or record number."
                )
            return "" if shown else "No patient's name or record number holds that."
        total = self.store.patient_count()
        if total <= shown:
            return ""
        return f"The {shown} patients seen most recently, of {total}: type to find any."

    def show_sessions(self) -> None:
        patient = self.patients_page.selected_patient()
        rows = []
        details = ""
        if patient is not None:
            current = self.store.entry("patient", patient).current
            parts = [
                f"Born {current['date_of_birth']}" if current.get("date_of_birth") else "",
                f"record number {current['record_number']}" if current.get("record_number") else "",
                f"{current['weight_kg']:g} kg" if current.get("weight_kg") else "",
            ]
            details = " · ".join(p for p in parts if p) or "No date of birth, number or weight."
            details += " (Ctrl+E corrects them)"
            figures = self.store.session_figures(patient)
            for session in self.store.sessions(patient):
                zone = ZoneInfo(session["zone_name"])
                started = session["started_at"].astimezone(zone)
                found = figures.get(session["id"])
                parts = [f"{started:%Y-%m-%d %H:%M}  {session['protocol']}"]
                given: dict[str, float] = {}
                for drug, mg in found.doses if found else ():
                    given[drug] = given.get(drug, 0.0) + mg
                parts.append(
                    ", ".join(f"{drug} {mg:g} mg" for drug, mg in given.items()) or "no dose"
                )
                if found and found.highest_bp:
                    systolic, diastolic = found.highest_bp
                    parts.append(f"highest BP {systolic}/{diastolic or '–'}")
                    by_diastolic = found.highest_diastolic
                    if by_diastolic is not None:
                        # 150/112 is urgent by its diastolic (QA: unsaid beside 165/100)
                        parts.append(f"highest diastolic {by_diastolic[0]}/{by_diastolic[1]}")
                ended = session["ended_at"]
                # Ended with criteria unmet: said at a glance (Xvfb QA: only the log said so).
                how = " by override" if found and found.overridden else ""
                parts.append(
                    "in progress"
                    if ended is None
                    else f"ended {ended.astimezone(zone):%H:%M}{how} (Enter: read it)"
                )
                rows.append((session["id"], " · ".join(parts)))
        self.patients_page.sessions.set_rows(rows)
        self.patients_page.patient_details.setText(details)

    def find_patient(self) -> None:
        # From a running session the search box is on a hidden page: typing there was
        # lost (QA). Say so, in a box that takes the keyboard (_refuse_while_running).
        if self.workspace is not None and self.workspace.service.ended_at is None:
            self._refuse_while_running("finding another patient")
            return
        if self.course is not None:
            self.close_course()
        if not self._leave_ended_session():
            return
        self.patients_page.search.setFocus()
        self.patients_page.search.selectAll()

    def _leave_ended_session(self) -> bool:
        """True when the patients page is free: an ended session's screen is closed; a
        running one stays, and says why."""
        if self.workspace is not None and self.workspace.service.ended_at is not None:
            self.close_workspace()
        if self.workspace is not None:
            self._refuse_while_running("adding a patient or starting another session")
        return self.workspace is None

    def _refuse_while_running(self, what: str) -> None:
        """Said in a box that takes the keyboard until Enter or Esc, then back to the
        session: said in the session screen, with the keyboard left in its Observation
        line, the name the clinician went on to type (another patient's, looked for) was
        stored in this patient's log as an observation (QA)."""
        workspace = self.workspace
        assert workspace is not None
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("A session is running")
        box.setText(
            f"The session for {workspace.service.patient_name} is still running: {what} "
            "waits until it has ended (Ctrl+Shift+E ends it)."
        )
        box.setInformativeText("Nothing typed here is recorded. Enter or Esc: back to the session.")
        back = box.addButton("Back to the session", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(back)
        box.setEscapeButton(back)

        def answered() -> None:
            if self.workspace is workspace:
                workspace.refocus()

        box.finished.connect(lambda _result: answered())
        self.refusal_box = box
        box.open()

    def add_patient(self) -> None:
        if not self._leave_ended_session():
            return
        asked: list[object] = [None]  # the name and date of birth already asked about

        def save(d: PatientDialog) -> uuid.UUID:
            name, born = d.name.text(), d.date_of_birth.text() or None
            key = (name.strip().casefold(), born)
            question = self.store.same_patient_question(name, born)
            if question is not None and asked[0] != key:
                asked[0] = key
                raise ValidationError("name", question)
            return self.store.add_patient(
                name,
                date_of_birth=born,
                record_number=d.record_number.text() or None,
                weight_kg=d.weight.text() or None,
            )

        self.patient_dialog = open_form(
            PatientDialog(self),
            save,
            saved=lambda patient: self.refresh_patients(select=patient),
            closed=self.patients_page.patient_list.setFocus,
        )

    def correct_patient(self) -> None:
        """The selected patient's name, date of birth, record number or weight corrected,
        with a reason; the details first written stay in the record. QA: there was no way,
        and a weight typed wrong gave every dose's mg/kg from it for good."""
        from kapdesk.session.entries import PATIENT_LABELS, patient_editable
        from kapdesk.ui.session_forms import CorrectDialog

        patient = self.patients_page.selected_patient()
        if patient is None:
            self.show_verdict("Choose a patient first (Ctrl+F finds one), then Ctrl+E.")
            return
        current = self.store.entry("patient", patient).current
        dialog = CorrectDialog(
            f"The details of {current['display_name']}",
            patient_editable(current),
            PATIENT_LABELS,
            self,
        )
        dialog.setWindowTitle("Correct a patient's details")
        self.patient_correction = open_form(
            dialog,
            lambda d: self.store.correct("patient", patient, d.changes(), reason=d.reason.text()),
            saved=lambda _id: self._patient_corrected(patient),
            closed=self.patients_page.patient_list.setFocus,
        )

    def _patient_corrected(self, patient: uuid.UUID) -> None:
        self.refresh_patients(select=patient)
        self.statusBar().showMessage(
            "The patient's details are corrected; what was first written stays in the record.",
            8000,
        )

    # ------------------------------------------------------------ sessions

    def new_session(self, patient_id: uuid.UUID | None = None) -> None:
        if not self._leave_ended_session():
            return
        patient = patient_id or self.patients_page.selected_patient()
        if patient is None:
            return
        still_open = [s for s in self.store.sessions(patient) if s["ended_at"] is None]
        if still_open:
            # One session at a time for a patient: a second would not know the first's
            # doses, and its dosing gate would let a dose through (issue 10 QA).
            session = still_open[0]
            started = session["started_at"].astimezone(ZoneInfo(session["zone_name"]))
            showing = self.workspace is not None and self.workspace.service.id == session["id"]
            if not showing:
                self.resume_session(session["id"])
            if self.workspace is not None:
                self.workspace.say(
                    f"This patient's session from {started:%H:%M} was still open, so it "
                    "was resumed rather than a new one started. End it (Ctrl+Shift+E) "
                    "before starting another."
                )
            return
        zone = self.settings.get("clinic_zone") or local_zone_name()
        others = self._running_sessions()
        offered = default_protocol(
            self.protocols, self.store.sessions(patient), self.settings.get("default_protocol")
        )

        def start(dialog: NewSessionDialog) -> object:
            protocol, reason = dialog.choice()
            return start_session(
                self.store,
                patient,
                protocol=protocol,
                protocols=self.protocols,
                zone_name=zone,
                no_protocol_reason=reason,
            )

        self.session_dialog = open_form(
            NewSessionDialog(
                sorted(self.protocols),
                offered,
                self,
                patient=self.store.entry("patient", patient).current["display_name"],
                running=self._still_running(others),
                several=len(others) > 1,
            ),
            start,
            saved=lambda session: self.open_workspace(session, screen=True),
        )
        if others:
            # Esc: to "Resume it", as the dialog says; the patient list took the keyboard
            # back, and the next Enter opened this dialog again (second QA pass).
            self.session_dialog.rejected.connect(self.patients_page.focus_resumption)

    def _running_sessions(self, shown: uuid.UUID | None = None) -> list[dict[str, Any]]:
        """The sessions not ended, but the one ``shown``."""
        return [s for s in self.store.open_sessions() if s["id"] != shown]

    def _still_running(self, sessions: list[dict[str, Any]]) -> str:
        """``sessions`` named in a sentence ("" if none): each by name, a second one
        unnamed was the one dosed (second QA pass)."""
        if not sessions:
            return ""
        verb = "is" if len(sessions) == 1 else "are"
        return f"{self._sessions_named(sessions)} {verb} still running."

    def _alerts_left_open(self, sessions: list[dict[str, Any]]) -> str:
        """What of ``sessions``' alerts was never acknowledged, as sentences (second QA
        pass: the quit question named a session not on screen, not its urgent alert)."""
        # Here, not at the top: a session's state brings numpy, which the first window
        # does not need (~70 ms of start-up, issue 10).
        from kapdesk.session.alerting import open_alerts
        from kapdesk.session.state import SessionState

        said = []
        for session in sessions[:3]:
            try:
                pending = open_alerts(SessionState(self.store, session["id"]))
            except StoreError:
                continue  # the question is still asked; the session is named above
            if pending:
                patient = self.store.entry("patient", session["patient_id"])
                where = f"in {patient.current['display_name']}’s session"
                said.append(not_acknowledged(pending, where))
        return " ".join(said)

    def _sessions_named(self, sessions: list[dict[str, Any]]) -> str:
        """ "Ada’s session from 2026-03-02 09:00 and Ben’s session from …", three at most."""
        named = []
        for session in sessions[:3]:
            name = self.store.entry("patient", session["patient_id"]).current["display_name"]
            started = session["started_at"].astimezone(ZoneInfo(session["zone_name"]))
            named.append(f"{name}’s session from {started:%Y-%m-%d %H:%M}")
        if len(sessions) > 3:
            named.append(f"{len(sessions) - 3} more")
        return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"

    def offer_unfinished(self, *, take_focus: bool = True) -> None:
        """An unfinished session's notice; its Resume button takes the keyboard only when
        kapdesk starts: after a session screen closes, the keyboard stays with the patient
        just seen (QA: Esc from one patient's ended session, and a reflex Enter, resumed
        another patient's session)."""
        unfinished = self.store.open_sessions()
        if not unfinished:
            self.patients_page.offer_resumption(None)
            return
        session = unfinished[0]
        name = self.store.entry("patient", session["patient_id"]).current["display_name"]
        started = session["started_at"].astimezone(ZoneInfo(session["zone_name"]))
        # The start as a time of day, not "… ago": nothing repaints this page, and a
        # figure that stops counting would be wrong within a minute.
        # Every one named: a second one left unnamed was the one dosed (second QA pass).
        also = (
            f" Also never ended: {self._sessions_named(unfinished[1:])} (Enter on one in "
            "its patient's sessions resumes it)."
            if len(unfinished) > 1
            else ""
        )
        self.patients_page.offer_resumption(
            session["id"],
            f"A session for {name}, started {started:%Y-%m-%d %H:%M} "
            f"({session['zone_name']}), was never ended: kapdesk was closed or stopped "
            f"during it. Resuming continues its clock and log.{also}",
            take_focus=take_focus,
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """A session screen's chord on the patients page: what it is for, and how to get
        there (Xvfb QA: Ctrl+Shift+P with an ended session chosen did nothing, unsaid)."""
        chord = QKeySequence(event.keyCombination()).toString()
        if self.workspace is None and self.course is None and chord in SESSION_ONLY_KEYS:
            self.statusBar().showMessage(f"{chord}{SESSION_KEY_ELSEWHERE}")
            return
        super().keyPressEvent(event)

    def add_course_note(self) -> None:
        """A course note, in the course view; anywhere else, where to write one. QA: during
        a session Ctrl+Shift+O did nothing, and the note typed next went into the session's
        log as an observation, where it stays."""
        if self.course is not None:
            self.course.add_note()
            return
        where = (
            "Course notes are written in the course view (Ctrl+Shift+C), not in a session: "
            "nothing was added."
        )
        if self.workspace is not None:
            if self.workspace.service.ended_at is None:
                where += " The course view opens once this session has ended."
            self.workspace.say(where)
            return
        patient = self.patients_page.selected_patient()
        if patient is not None:
            # The patient chosen on the patients page: their course, the note begun (Xvfb
            # QA: "not in a session ... choose the patient first" was said with no session
            # open and a patient chosen, and stood on after the note was saved).
            if self.verdict.text() == NO_PATIENT_FOR_NOTE:
                self.show_verdict("")
            self.show_course(patient)
            if self.course is not None:
                self.course.add_note()
            return
        self.show_verdict(NO_PATIENT_FOR_NOTE)

    def show_course(self, patient_id: uuid.UUID | None = None) -> None:
        """The selected patient's (or ``patient_id``'s) course of treatment (issue 13)."""
        if self.course is not None:
            self.course.page.focus_chart()
            return
        patient = patient_id or self.patients_page.selected_patient()
        if self.workspace is not None:
            if self.workspace.service.ended_at is None:
                self.workspace.say(
                    "The course view opens from the patients page; this session is still "
                    "running. End it first (Ctrl+Shift+E), or open the course after."
                )
                return
            session_id = self.workspace.service.id
            patient = self.store.session(session_id)["patient_id"]
            self.close_workspace()
            # Esc from the course goes back to this session's screen (Xvfb QA: it went to
            # the patients page, the session read a moment ago gone).
            self.course_from_session = session_id
        if patient is None:
            self.show_verdict("Choose a patient first (Ctrl+F finds one), then Ctrl+Shift+C.")
            return
        from kapdesk.ui.course_view import CourseView

        self.course = CourseView(self, patient)

    def close_course(self) -> None:
        course = self.course
        if course is None:
            return
        self.course = None
        course.close()
        back, self.course_from_session = self.course_from_session, None
        if back is not None:
            self.open_session(back)
        else:
            self.patients_page.patient_list.setFocus()

    def open_session(self, session_id: uuid.UUID) -> None:
        """Enter on a session in the patients page: an ended one opens read only (issue
        12), one still running is resumed."""
        if not self._leave_ended_session():
            return
        if self.store.session(session_id)["ended_at"] is None:
            self.resume_session(session_id)
            return
        made = self.review_ahead.take(session_id)  # made while the row was chosen
        if made is None:
            self.open_workspace(session_id, review=True)
        else:
            self._show_workspace(made)

    def resume_session(self, session_id: uuid.UUID) -> None:
        service = self.session_service(session_id)
        service.note_resumption()
        self.open_workspace(session_id, service)

    def session_service(self, session_id: uuid.UUID) -> SessionService:
        from kapdesk.session.service import SessionService

        protocol = self.store.session(session_id)["protocol"]
        return SessionService(
            self.store,
            session_id,
            clock=self.clock,
            monotonic=self.monotonic,
            protocol=self.protocols.get(protocol),
            thresholds=alert_thresholds(self.settings),
        )

    def open_workspace(
        self,
        session_id: uuid.UUID,
        service: SessionService | None = None,
        *,
        screen: bool = False,
        review: bool = False,
    ) -> None:
        self.review_ahead.discard()
        if self.verdict.text() == NO_PATIENT_FOR_NOTE:
            self.show_verdict("")  # the patients page's: it stood through a session (QA)
        workspace = self.make_workspace(session_id, service, review=review)
        self.pages.addWidget(workspace)
        self._show_workspace(workspace)
        if screen and workspace.service.screening() is None and workspace.service.ended_at is None:
            workspace.open_screening()

    def make_workspace(
        self, session_id: uuid.UUID, service: SessionService | None = None, *, review: bool
    ) -> SessionWorkspace:
        from kapdesk.ui.workspace import SessionWorkspace

        service = service or self.session_service(session_id)
        colours = chart_colours(self.settings.get("theme"))
        quick_tags = self.settings.get("quick_tags")
        workspace = SessionWorkspace(
            service,
            charts=self.chart_pool.take(colours, service.thresholds) if self.chart_pool else None,
            entries=self.chart_pool.take_entries(quick_tags) if self.chart_pool else None,
            quick_tags=quick_tags,
            colours=colours,
            show_map=self.settings.get("show_map"),
            clock_px=scaled_px(MIN_CLOCK_PX, self.settings.get("font_scale")),
            sound_when_due=self.settings.get("sound_when_due"),
            review=review,
        )
        workspace.closed.connect(self.close_workspace)
        workspace.survey_requested.connect(lambda: self.surveys.offer(workspace))
        return workspace

    def _show_workspace(self, workspace: SessionWorkspace) -> None:
        """``workspace``, a page of the window already, on screen with its menu."""
        self.workspace = workspace
        if self.statusBar().currentMessage().endswith(SESSION_KEY_ELSEWHERE):
            self.statusBar().clearMessage()  # answered: a session's screen is open
        self.pages.setCurrentWidget(workspace)
        try:
            menu = self._new_session_menu()
            for action in workspace.actions_by_name.values():
                menu.addAction(action)
            scales = menu.addMenu("Sedation &scales")
            for action in workspace.scale_actions:
                scales.addAction(action)
        except RuntimeError as exc:
            # The screen is shown whatever the menu meets: its keys are its own actions.
            log.error("the session menu could not be filled (%s)", type(exc).__name__)
        if not workspace.review:
            workspace.focus_observation()

    def close_workspace(self) -> None:
        workspace = self.workspace
        if workspace is None:
            return
        self.workspace = None
        workspace.release()
        self.pages.setCurrentWidget(self.patients_page)
        self.pages.removeWidget(workspace)
        # After the screen is gone, and never in its way (_new_session_menu).
        try:
            self._new_session_menu()
        except RuntimeError as exc:
            log.error("the session menu could not be replaced (%s)", type(exc).__name__)
        # Once it is gone and nothing here still refers to it: a long session's readings
        # go with it.
        workspace.destroyed.connect(lambda: QTimer.singleShot(0, self.give_back_memory_now))
        workspace.deleteLater()
        QTimer.singleShot(WARM_UP_AFTER_MS, self.make_spare_charts)  # for the next one
        # The search is cleared: the patient just seen is listed whether or not it
        # matches, and a box saying "Jordan" over a list of others disagreed (QA).
        search = self.patients_page.search
        search.blockSignals(True)
        search.clear()
        search.blockSignals(False)
        self.refresh_patients(select=self.store.session(workspace.service.id)["patient_id"])
        if workspace.review:
            # Back on the session just read, in its patient's list: Down and Enter read
            # the next (QA: the keyboard went to the patients, no session chosen).
            self.patients_page.choose_session(workspace.service.id)
        else:
            self.patients_page.patient_list.setFocus()
        self.offer_unfinished(take_focus=False)
        back, self.course_after_review = self.course_after_review, None
        if back is not None and workspace.review:
            patient, session = back
            self.show_course(patient)
            if self.course is not None:
                self.course.page.chart.select_session(session)  # where the clinician was

    @property
    def session_menu(self) -> QMenu:
        """The Session menu in the menu bar now, found there afresh."""
        return self._menu(SESSION_MENU)

    def _menu(self, name: str) -> QMenu:
        found = self.menuBar().findChild(QMenu, name, Qt.FindChildOption.FindDirectChildrenOnly)
        if found is None:
            raise RuntimeError(f"no {name} in the menu bar")
        return found

    def _new_session_menu(self) -> QMenu:
        """A new, empty Session menu in the old one's place, which goes whole (its scales
        submenu with it). Both it and the View menu it goes before are found by name each
        time, never held: on a real display, after the patient's survey was handed over and
        back, closing the panel of its answers left Python's handles on the menu bar's
        menus dead though the menus were there (Xvfb QA, reproduced: "Internal C++ object
        (QMenu) already deleted"), and every session screen opened after met "an unexpected
        error" with a Session menu holding only "Sedation scales"."""
        old = self.session_menu
        old.setObjectName("")  # going: never found again before it is deleted
        menu = QMenu("&Session", self.menuBar())
        menu.setObjectName(SESSION_MENU)
        self.menuBar().insertMenu(self._menu(VIEW_MENU).menuAction(), menu)
        menu.aboutToHide.connect(lambda: QTimer.singleShot(0, self._after_menu))
        self.menuBar().removeAction(old.menuAction())
        old.deleteLater()
        return menu

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._warmed:
            # Once the patients page is on screen: the session screen's modules load
            # while the clinician reads it, so opening a session does not wait for them.
            self._warmed = True
            QTimer.singleShot(WARM_UP_AFTER_MS, self.make_spare_charts)

    def give_back_memory_now(self) -> None:
        if not self._closing:
            self.store.release_memory()
        give_back_memory()

    def make_spare_charts(self) -> None:
        """The session screen's modules, and a chart, a strip and the entry lines for the
        next session screen, made while the clinician reads the patients page (issue 10)."""
        if self.workspace is not None or self._closing:
            return  # a session screen is open: the next pair is made once it closes
        warm_up()
        from kapdesk.ui.chart_pool import ChartPool

        if self.chart_pool is None:
            self.chart_pool = ChartPool()
        self.chart_pool.fill(
            chart_colours(self.settings.get("theme")), alert_thresholds(self.settings)
        )
        self.chart_pool.fill_entries(self.settings.get("quick_tags"))

    def closeEvent(self, event: QCloseEvent) -> None:
        workspace = self.workspace
        running = workspace is not None and workspace.service.ended_at is None
        if (
            running or self.record_job.running or self._running_sessions()
        ) and not self._quit_confirmed:
            # Ctrl+Q or Alt+F4 mid-session or mid-backup: ask, naming what quitting leaves
            event.ignore()
            self.ask_quit()
            return
        if workspace is not None:
            workspace.release()  # its clock timer stops with the window
        self._closing = True
        self.review_ahead.discard()
        if self.chart_pool is not None:
            self.chart_pool.clear()
        self.lock.release()
        self.stop_background()
        super().closeEvent(event)

    def ask_quit(self) -> None:
        """A confirmation that names the running session; "Keep working" is the default."""
        workspace = self.workspace
        if self.quit_box is not None and self.quit_box.isVisible():
            return
        running = workspace is not None and workspace.service.ended_at is None
        service = workspace.service if workspace is not None and running else None
        # A session not on screen and never ended (QA: Ctrl+Q on the patients page quit
        # without a word while one was).
        others = self._running_sessions(shown=service.id if service is not None else None)
        elsewhere = " ".join(
            filter(None, (self._still_running(others), self._alerts_left_open(others)))
        )
        if service is None and not elsewhere and not self.record_job.running:
            return
        unsaved: list[tuple[str, str, bool]] = []
        if workspace is not None and service is not None:
            unsaved = [
                (name, entry.line.text().strip(), entry.error.isVisible())
                for name, entry in (
                    ("Observation", workspace.observation),
                    ("Vitals", workspace.vitals),
                )
                if entry.line.text().strip()
            ]
        box, leave = quit_question(
            self,
            service,
            self.record_job.title,
            unsaved,
            not_shown=elsewhere,
            not_shown_count=len(others),
        )

        # Where the keyboard was: Keep working goes back there (Xvfb QA: a reading being
        # typed in the Vitals line was left for the Observation line).
        came_from = QApplication.focusWidget()

        def answered() -> None:
            if box.clickedButton() is leave:
                self._quit_confirmed = True
                self.close()
            elif workspace is not None and self.workspace is workspace:
                if (
                    came_from is not None
                    and shiboken6.isValid(came_from)
                    and workspace.isAncestorOf(came_from)
                    and came_from.isVisible()
                    and came_from.isEnabled()
                ):
                    came_from.setFocus()
                else:
                    workspace.refocus()

        box.finished.connect(lambda _result: answered())
        self.quit_box = box
        box.open()

    # ---------------------------------------------------------- the record

    def watch_integrity(self, watch: IntegrityWatch) -> None:
        """Keep ``watch``'s failure in the window as a standing sentence (launch.py starts
        it; tests give their own)."""
        self.integrity_watch = watch
        watch.failed.connect(self.show_integrity_alarm)

    def show_integrity_alarm(self, sentence: str) -> None:
        self.integrity_alarm.setText(sentence)
        self.integrity_alarm.show()
        self._fit_status_bar()

    def run_verify(self) -> None:
        """Off the GUI thread, its progress in the status bar, never taking the keyboard
        (ui/record_checks.py); the verdict comes to the status bar as before."""
        if self._record_job_busy():
            return
        self.record_job.start("Verifying the record", self.store.verify, self._verified)

    def _record_job_busy(self) -> bool:
        """One verification or backup at a time: a second is refused before anything is
        asked, and the sentence stays until the next verdict (issue 10 QA: a backup
        refused after its file was chosen looked as if it had been written)."""
        under_way = self.record_job.title
        if under_way:
            self.show_verdict(
                f"{under_way} is under way (see its progress below); start this when it "
                "has finished. Nothing else was started."
            )
        return bool(under_way)

    def _verified(self, report: VerifyReport | None, error: Exception | None) -> None:
        if report is None:
            self.show_verdict(
                "Verification could not finish: the record could not be read. Keep the data "
                "folder as it is and run “kapdesk verify”."
            )
            return
        rendered = report.render()
        self.show_verdict(rendered.splitlines()[-1])
        self.verdict.setToolTip(rendered)
        if not report.ok:
            # What failed, readable from the keyboard: it was only in the verdict's
            # tooltip, out of reach without a mouse (tamper QA).
            box = QMessageBox(self)
            box.setIcon(QMessageBox.Icon.Critical)
            box.setWindowTitle("kapdesk: the record failed verification")
            box.setText(rendered.splitlines()[-1])
            failed = [line for line in rendered.splitlines() if line.startswith("[FAIL]")]
            box.setInformativeText("\n".join(failed))
            box.setDetailedText(rendered)
            self.verify_box = box
            box.open()

    def back_up(self) -> None:
        """Write a backup off the GUI thread, with its progress; the audit event is written
        here, on the GUI thread, by the store's one writer."""
        if self._record_job_busy():
            return
        default = Path.home() / f"kapdesk-{self.clock():%Y-%m-%d-%H%M}.kapbak"
        chosen, _filter = QFileDialog.getSaveFileName(
            self,
            "Back up the record",
            str(default),
            "kapdesk backups (*.kapbak)",
            # A backup never replaces a file (refused, with a sentence): the dialog's own
            # "Do you want to replace it?" offered what would not happen (tamper QA).
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if not chosen:
            return
        target = Path(chosen)
        if self._record_job_busy():  # one started while the file was being chosen
            return
        self.record_job.start(
            "Backing up the record",
            lambda progress, _stop: self.store.copy_for_backup(target, progress=progress),
            self._backed_up,
        )

    EXPORT_TITLE = "Exporting the record as CSV (Ctrl+Shift+X stops it)"

    def export_csv(self, *, folder: Path | None = None) -> None:
        """The whole record as CSV files in a new folder the clinician chooses, off the GUI
        thread with its progress; the same key stops it (issue 12). ``folder``: where,
        without asking (tests)."""
        if self.record_job.title == self.EXPORT_TITLE:
            self.record_job.stop()
            self.show_verdict("The export was stopped; the files it had begun were removed.")
            return
        if self._record_job_busy():
            return
        if folder is None:
            asked = QMessageBox.question(
                self,
                "Export the record as CSV",
                "The export is plain text: anyone who can open its files can read every "
                "patient's details in them. Choose a place only you control (an encrypted "
                "drive, not a shared or synced folder). A new folder is made there.",
                QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if asked != QMessageBox.StandardButton.Ok:
                return
            chosen = QFileDialog.getExistingDirectory(
                self, "Where to make the export folder", str(Path.home())
            )
            if not chosen:
                return
            folder = Path(chosen)
        target = folder / f"kapdesk-export-{self.clock():%Y-%m-%d-%H%M%S}"
        if self._record_job_busy():  # one started while the place was being chosen
            return
        try:
            self.store.note_export_begun(target)
        except StoreError as exc:
            self.show_verdict(str(exc))  # not in the trail: not begun
            return
        self.record_job.start(
            self.EXPORT_TITLE,
            lambda progress, _stop: self.store.write_csv(target, progress=progress),
            self._exported,
        )

    def _job_done(self, sentence: str, *, failed: bool) -> None:
        """A record job's verdict. On a session screen the last act's sentence above the
        entry lines goes ("REMS form saved" stood over a failed export's), and a failure
        takes its place, where the clinician looks: it was only in the status bar (QA)."""
        if self.workspace is not None:
            self.workspace.say(sentence if failed else "")
            if failed:
                self.show_verdict("")
                return
        self.show_verdict(sentence)

    def _exported(self, info: ExportInfo | None, error: Exception | None) -> None:
        if info is None:
            self._job_done(
                str(error)
                if isinstance(error, StoreError)
                else "The export could not be written; the files it had begun were removed.",
                failed=True,
            )
            return
        self.store.note_export(info)
        # Short: a long verdict wraps and takes the session screen's height (QA); the
        # whole path is in its tooltip.
        self._job_done(
            f"Exported {info.total:,} rows as plain-text CSV: {info.folder.name}.", failed=False
        )
        self.verdict.setToolTip(
            f"{info.folder}\nThe files are plain text: keep them where only you can, and "
            "delete them when no longer needed."
        )

    def _backed_up(self, info: BackupInfo | None, error: Exception | None) -> None:
        if info is None:
            self._job_done(
                str(error)
                if isinstance(error, StoreError)
                else "The backup could not be written; the record is unchanged.",
                failed=True,
            )
            return
        self.store.note_backup(info)
        self._job_done(f"Backup written: {info.path} ({info.size:,} bytes).", failed=False)

    def stop_background(self) -> None:
        """The page check and a verification under way end with the window."""
        if self.integrity_watch is not None:
            self.integrity_watch.stop()
        self.record_job.stop()

    def _busy_workspace(self) -> bool:
        """True (and said) when a redraw of the session screen would drop an open form or
        the end panel with what was typed or ticked in it."""
        workspace = self.workspace
        if workspace is None or workspace.service.ended_at is not None:
            return False
        if workspace.form is None and workspace.side.showing() is workspace.side.base:
            return False
        workspace.say("Close the open form or the end panel first (Esc): this redraws the screen.")
        return True

    def toggle_theme(self) -> None:
        if self._busy_workspace():
            return
        theme = "light" if self.settings.get("theme") == "dark" else "dark"
        self.settings.set("theme", theme)
        self._restyle()

    def toggle_map(self) -> None:
        shown = not self.settings.get("show_map")
        self.settings.set("show_map", shown)
        if self.workspace is not None:
            self.workspace.chart.show_mean_arterial(shown)

    def scale_text(self, step: int) -> None:
        """One step up or down TEXT_LEVELS (125 % is one of them), or 0: back to 100 %; the
        session screen is restyled in place, so an open form or the end panel keeps what it
        holds."""
        now = self.settings.get("font_scale")
        if step == 0:
            scale = 1.0  # Ctrl+0, as everywhere
        elif step > 0:
            scale = next((v for v in TEXT_LEVELS if v > now + 0.001), TEXT_LEVELS[-1])
        else:
            scale = next((v for v in reversed(TEXT_LEVELS) if v < now - 0.001), TEXT_LEVELS[0])
        self.settings.set("font_scale", scale)
        self._restyle(rebuild=False)
        if self.workspace is not None:
            self.workspace.header.set_clock_px(scaled_px(MIN_CLOCK_PX, scale))
        self.statusBar().showMessage(f"Text size {scale * 100:.0f} %", 4000)

    def open_settings(self) -> None:
        if self._busy_workspace():
            return
        self.settings_dialog = open_form(
            SettingsDialog(self.settings, self, protocols=sorted(self.protocols)),
            lambda d: self.settings.update(d.values()),
            saved=lambda _none: self._settings_changed(),
        )

    def _settings_changed(self) -> None:
        if self.settings.problem:
            self.show_verdict(self.settings.problem)
        else:
            self.statusBar().showMessage("Settings saved.", 8000)
        self._restyle(rebuild=True)

    def _restyle(self, *, rebuild: bool = True) -> None:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, self.settings.get("theme"), self.settings.get("font_scale"))
        self.review_ahead.discard()  # styled and sized for the old look
        if self.chart_pool is not None:
            self.chart_pool.clear_entries()  # likewise; the charts go by their colours
        if self.workspace is not None and rebuild:
            # The chart, the clocks and the alert rules take colours, sizes and thresholds
            # when they are made: rebuild the workspace over a new service.
            session_id = self.workspace.service.id
            old = self.workspace
            # The entry chosen in the log stays chosen (QA: a theme change moved the
            # choice to the newest entry, and Ctrl+E then corrected another).
            chosen = old.log_view.currentIndex()
            chosen_id = old.log_model.entry_at(chosen.row()).id if chosen.isValid() else None
            in_log = old.log_view.hasFocus()
            self.workspace = None
            old.release()
            self.pages.removeWidget(old)
            old.deleteLater()
            self.open_workspace(session_id, review=old.review)
            new = self.workspace
            if new is not None and chosen_id is not None:
                try:
                    row = new.log_model.row_of(chosen_id)
                except ValueError:
                    return
                new.log_model.reveal(row)
                index = new.log_model.index(row, 0)
                new.log_view.setCurrentIndex(index)
                new.log_view.scrollTo(index)
                if in_log:
                    new.log_view.setFocus()
