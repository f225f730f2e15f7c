"""The session workspace: one screen for the whole session, driven from the keyboard.

Slots are thin: each makes one call to the session service and shows its sentence
if it refuses. What changed reaches the views as the service's events (wired once,
in ``_listen``): the log, chart, banner and header never need refreshing by hand.
The observation line takes the focus whenever nothing else needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListView,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.elapsed import format_elapsed
from kapdesk.clinical.vitals import ValidationError
from kapdesk.session.alerting import StoredAlert
from kapdesk.session.discharge import SessionSummary
from kapdesk.session.entries import editable, parse_changes
from kapdesk.session.service import SessionService
from kapdesk.session.wording import LogEntry
from kapdesk.store import StoreError
from kapdesk.ui.actions import session_actions
from kapdesk.ui.dialogs import (
    CautionDialog,
    CorrectDialog,
    DoseDialog,
    RemsCheckDialog,
    ScreeningDialog,
    open_form,
)
from kapdesk.ui.discharge_panel import DischargePanel
from kapdesk.ui.session_log import EntryDelegate, SessionLogModel
from kapdesk.widgets.alert_banner import AlertBanner
from kapdesk.widgets.bp_chart import DIM, BPChart, ChartColours
from kapdesk.widgets.observation_entry import ObservationEntry
from kapdesk.widgets.scale_strip import ScaleStrip
from kapdesk.widgets.session_header import SessionHeader
from kapdesk.widgets.vitals_entry import VitalsEntry

Refused = (ValidationError, StoreError)


class SessionWorkspace(QWidget):
    ended = Signal()
    closed = Signal()

    def __init__(
        self,
        service: SessionService,
        *,
        quick_tags: list[str],
        colours: ChartColours = DIM,
        show_map: bool = False,
        clock_px: int = 64,
        sound_when_due: bool = False,
    ) -> None:
        super().__init__()
        self.service = service
        self.sound_when_due = sound_when_due
        self._last_check_state: str | None = None
        self.summary: SessionSummary | None = None
        self.setObjectName("workspace")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 8, 16, 8)
        self.header = SessionHeader(service.patient_name, service.protocol_name, clock_px)
        outer.addWidget(self.header)
        self.banner = AlertBanner()
        self.banner.acknowledge_requested.connect(self.acknowledge_alert)
        outer.addWidget(self.banner)
        outer.addWidget(self._chart_and_log(colours, show_map), 1)
        checklist = list(service.protocol.discharge.checklist) if service.protocol else []
        self.discharge = DischargePanel(checklist)
        outer.addWidget(self.discharge)
        self.observation = ObservationEntry(quick_tags)
        self.vitals = VitalsEntry()
        outer.addWidget(self.observation)
        outer.addWidget(self.vitals)
        self.actions_by_name, self.scale_actions = session_actions(self)
        self.screening_dialog: ScreeningDialog | None = None
        self.caution_dialog: CautionDialog | None = None
        self.rems_dialog: RemsCheckDialog | None = None
        self.dose_dialog: DoseDialog | None = None
        self.correct_dialog: CorrectDialog | None = None

        self.observation.submitted.connect(self.store_observation)
        self.vitals.line_submitted.connect(self.store_vitals_line)
        self.vitals.fields_submitted.connect(self.store_vitals_fields)
        self.discharge.changed.connect(self._show_discharge_items)
        self.discharge.confirm.clicked.connect(self.confirm_end)
        self.discharge.cancel.clicked.connect(self.cancel_end)
        self._listen()
        self.timer = QTimer(self)
        self.timer.setInterval(500)  # repaints only; the time itself comes from stored instants
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self._draw_chart()
        self._show_alerts(service.open_alerts())
        self.tick()
        if service.ended_at is not None:
            self._show_ended()
        self.focus_observation()

    def _chart_and_log(self, colours: ChartColours, show_map: bool) -> QSplitter:
        self.chart = BPChart(colours, thresholds=self.service.thresholds)
        self.chart.show_mean_arterial(show_map)
        self.strip = ScaleStrip(self.chart, colours)
        chart_box = QWidget()
        chart_layout = QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.setSpacing(0)
        chart_layout.addWidget(self.chart, 1)
        chart_layout.addWidget(self.strip)
        self.log_model = SessionLogModel(self.service.log())
        self.log_view = QListView()
        self.log_view.setAccessibleName("Session log, newest first")
        self.log_view.setModel(self.log_model)
        self.log_view.setItemDelegate(EntryDelegate(self.log_view))
        self.log_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.log_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.log_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.log_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.log_view.setWordWrap(True)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(chart_box)
        splitter.addWidget(self.log_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([780, 540])
        self.chart.setMinimumWidth(420)
        self.chart.setMinimumHeight(150)  # readable at 1024x600; the log scrolls instead
        self.log_view.setMinimumWidth(320)
        return splitter

    def _listen(self) -> None:
        """The views follow the service: wired once, here."""
        events = self.service.events
        events.entry_added.connect(self._show)
        events.entry_changed.connect(self._replace)
        events.chart_changed.connect(lambda _none: self._draw_chart())
        events.alerts_changed.connect(self._show_alerts)
        events.session_changed.connect(lambda _none: self.tick())
        events.ended.connect(lambda _summary: self._show_ended())

    def release(self) -> None:
        """Stop the timer and stop listening: the workspace is closing."""
        self.timer.stop()
        self.service.events.disconnect_all()

    # ----------------------------------------------------------------- views

    def tick(self) -> None:
        service = self.service
        since = service.since_first_dose()
        self.header.set_clocks(
            format_elapsed(service.since_start()),
            "--:--:--" if since is None else format_elapsed(since),
        )
        if service.ended_at is not None:
            self.header.set_status(f"Session ended at {service.local_clock(service.ended_at)}")
            self.header.set_check("", None)
            return
        running = service.running_infusions()
        self.header.set_status("IV infusion running (Ctrl+I stops it)" if running else "")
        text, state = service.next_check()
        self.header.set_check(text, None if state is None else str(state))
        if str(state) == "due" and self._last_check_state != "due" and self.sound_when_due:
            QApplication.beep()  # only when the clinic turned it on; silent by default
        self._last_check_state = str(state)
        service.check_clock()

    def _draw_chart(self) -> None:
        data = self.service.chart()
        self.chart.set_readings(
            data.minutes,
            data.systolic,
            data.diastolic,
            data.heart_rate,
            data.mean_arterial,
            data.labels,
        )
        self.chart.set_doses(data.dose_minutes)
        self.chart.set_baseline(data.baseline)
        self.strip.set_scores(self.service.scale_points())

    def _show(self, entry: LogEntry) -> None:
        row = self.log_model.put(entry)
        self.log_view.scrollTo(self.log_model.index(row))

    def _replace(self, entry: LogEntry) -> None:
        self.log_model.put(entry)

    def _show_alerts(self, pending: list[StoredAlert]) -> None:
        if not pending:
            self.banner.hide()
            return
        first = pending[0]
        self.banner.show_alert(
            first.level.value, first.reading, first.reason, first.action, len(pending) - 1
        )

    def _say(self, sentence: str) -> None:
        self.header.set_status(sentence)

    # ----------------------------------------------------------------- slots

    def store_observation(self, text: str, tags: list[str]) -> None:
        try:
            self.service.record_observation(text, tags)
        except Refused as exc:
            self.observation.show_error(str(exc))
            return
        self.observation.accept_entry()

    def store_vitals_line(self, line: str) -> None:
        self._store_vitals(lambda: self.service.record_vitals_line(line))

    def store_vitals_fields(self, values: dict[str, str]) -> None:
        self._store_vitals(lambda: self.service.record_vitals(values))

    def _store_vitals(self, record: Callable[[], object]) -> None:
        try:
            record()
        except Refused as exc:
            self.vitals.show_error(str(exc))
            return
        self.vitals.accept_entry()
        self.focus_observation()

    def acknowledge_alert(self) -> None:
        try:
            self.service.acknowledge_alert()
        except Refused as exc:
            self._say(str(exc))
        self.focus_observation()

    def store_scale(self, scale_id: str, value: int) -> None:
        try:
            self.service.record_scale(scale_id, value)
        except Refused as exc:
            self._say(str(exc))

    def open_rems_check(self) -> None:
        self.rems_dialog = open_form(
            RemsCheckDialog(self),
            lambda d: self.service.record_rems_check(*(box.isChecked() for box in d.answers)),
            closed=self.focus_observation,
        )

    def open_screening(self) -> None:
        def save(dialog: ScreeningDialog) -> object:
            contraindications, medicines = dialog.answers()
            return self.service.record_screening(
                contraindications, medicines, dialog.intention.text(), dialog.decision.text()
            )

        self.screening_dialog = open_form(
            ScreeningDialog(self), save, closed=self.focus_observation
        )

    def focus_vitals(self) -> None:
        self.vitals.line.setFocus()
        self.vitals.line.selectAll()

    def focus_observation(self) -> None:
        self.observation.line.setFocus()

    def open_dose_dialog(self) -> None:
        gate = self.service.dose_gate()
        if not gate.allowed and gate.caution is not None:
            self.caution_dialog = open_form(
                CautionDialog(gate.message, self),
                lambda d: self.service.acknowledge_dose_caution(d.reason.text()),
                saved=lambda _entry: self.open_dose_dialog(),
            )
            return
        if not gate.allowed:
            self._say(gate.message)
            return
        self.dose_dialog = open_form(
            DoseDialog(self.service.weight_kg, self),
            lambda d: self.service.record_dose(**d.values()),
            closed=self.focus_observation,
        )

    def stop_infusion(self) -> None:
        try:
            self.service.stop_infusion()
        except Refused as exc:
            self._say(str(exc))

    def selected_entry(self) -> LogEntry | None:
        rows = self.log_view.selectionModel().selectedRows()
        if rows:
            return self.log_model.entry_at(rows[0].row())
        return None

    def open_correct(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            self._say("Select an entry in the log first (Tab, then arrows).")
            return
        if entry.is_system:
            self._say("kapdesk's own notes cannot be corrected.")
            return
        stored = self.service.entry(entry.kind, entry.id)
        self.correct_dialog = open_form(
            CorrectDialog(entry.text, editable(stored), self),
            lambda d: self.service.correct(
                entry.kind, entry.id, parse_changes(entry.kind, d.changes()), d.reason.text()
            ),
            closed=self.focus_observation,
        )

    # -------------------------------------------------------------- the end

    def ask_end(self) -> None:
        if self.service.ended_at is not None:
            return
        self._show_discharge_items()
        self.discharge.show()
        self.discharge.confirm.setFocus()

    def _show_discharge_items(self) -> None:
        self.discharge.show_items(self.service.discharge_items(self.discharge.confirmed_items()))

    def cancel_end(self) -> None:
        if self.service.ended_at is not None:
            self.closed.emit()
            return
        self.discharge.hide()
        self.focus_observation()

    def confirm_end(self) -> None:
        ready = self.discharge.ready_minutes.text().strip()
        try:
            minutes = int(ready) if ready else None
        except ValueError:
            self.discharge.show_error("“Ready after” must be a whole number of minutes.")
            return
        try:
            self.summary = self.service.end(
                self.discharge.confirmed_items(),
                override_reason=self.discharge.override.text(),
                ready_to_leave_minutes=minutes,
            )
        except Refused as exc:
            self.discharge.show_error(str(exc))

    def _show_ended(self) -> None:
        summary = self.summary = self.service.summary()
        highest = (
            f"{summary.highest_bp[0]}/{summary.highest_bp[1]} at {summary.highest_bp[2]}"
            if summary.highest_bp
            else "no blood pressure recorded"
        )
        self.discharge.show_summary(
            f"Duration {format_elapsed(summary.duration)} · {summary.doses} dose(s), "
            f"{summary.total_mg:g} mg in all · {summary.readings} vitals reading(s) · "
            f"highest BP {highest}."
        )
        self.discharge.show()
        self.discharge.cancel.setFocus()
        for name, action in self.actions_by_name.items():
            action.setEnabled(name == "correct")
        for action in self.scale_actions:
            action.setEnabled(False)
        self.observation.setEnabled(False)
        self.vitals.setEnabled(False)
        self.tick()
        self.ended.emit()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape and self.discharge.isVisible():
            self.discharge.cancel.click()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.focus_observation()
            return
        super().keyPressEvent(event)
