"""The session workspace: one screen for the whole session, driven from the keyboard.

Slots are thin: each calls the LiveSession service and shows its result or its
sentence. The observation line takes the focus whenever nothing else needs it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kapdesk.clinical.elapsed import format_elapsed
from kapdesk.clinical.scales import SCALES
from kapdesk.clinical.vitals import VITAL_RANGES, ValidationError
from kapdesk.live_session import LogEntry, SessionSummary
from kapdesk.monitoring import SessionMonitor
from kapdesk.store import StoreError
from kapdesk.ui.dialogs import (
    CautionDialog,
    CorrectDialog,
    DoseDialog,
    RemsCheckDialog,
    ScreeningDialog,
)
from kapdesk.ui.discharge_panel import DischargePanel
from kapdesk.ui.session_log import EntryDelegate, SessionLogModel
from kapdesk.widgets.alert_banner import AlertBanner
from kapdesk.widgets.bp_chart import DIM, BPChart, ChartColours
from kapdesk.widgets.clock_display import ClockDisplay
from kapdesk.widgets.observation_entry import ObservationEntry
from kapdesk.widgets.scale_strip import ScaleStrip
from kapdesk.widgets.vitals_entry import VitalsEntry


def make_action(parent: QWidget, text: str, shortcut: str, slot: Callable[[], Any]) -> QAction:
    """An action whose shortcut is shown in its menu entry and its tooltip."""
    action = QAction(text, parent)
    action.setShortcut(QKeySequence(shortcut))
    plain = text.replace("&", "").rstrip(".…")
    action.setToolTip(f"{plain} ({QKeySequence(shortcut).toString()})")
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(slot)
    parent.addAction(action)
    return action


class SessionWorkspace(QWidget):
    ended = Signal()
    closed = Signal()

    def __init__(
        self,
        monitor: SessionMonitor,
        *,
        quick_tags: list[str],
        colours: ChartColours = DIM,
        show_map: bool = False,
        clock_px: int = 64,
        sound_when_due: bool = False,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.sound_when_due = sound_when_due
        self._last_check_state: str | None = None
        self.session = session = monitor.live
        self.setObjectName("workspace")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 8, 16, 8)

        header = QHBoxLayout()
        who = QVBoxLayout()
        self.patient_label = QLabel(session.patient_name)
        self.patient_label.setObjectName("patient")
        self.patient_label.setWordWrap(True)
        self.patient_label.setMinimumWidth(200)
        self.protocol_label = QLabel(f"Protocol: {session.protocol}")
        self.protocol_label.setObjectName("hint")
        self.status_label = QLabel()
        self.status_label.setObjectName("hint")
        self.check_label = QLabel()
        self.check_label.setObjectName("checkUpcoming")
        self.check_label.setWordWrap(True)
        who.addWidget(self.patient_label)
        who.addWidget(self.protocol_label)
        who.addWidget(self.check_label)
        who.addWidget(self.status_label)
        header.addLayout(who, 1)
        self.session_clock = ClockDisplay("Session", clock_px)
        self.dose_clock = ClockDisplay("Since first dose (T+)", clock_px)
        header.addWidget(self.session_clock)
        header.addSpacing(32)
        header.addWidget(self.dose_clock)
        outer.addLayout(header)
        self.banner = AlertBanner()
        self.banner.acknowledge_requested.connect(self.acknowledge_alert)
        outer.addWidget(self.banner)

        self.chart = BPChart(colours)
        self.chart.show_mean_arterial(show_map)
        self.strip = ScaleStrip(self.chart, colours)
        chart_box = QWidget()
        chart_layout = QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.setSpacing(0)
        chart_layout.addWidget(self.chart, 1)
        chart_layout.addWidget(self.strip)
        self.log_model = SessionLogModel(session.log())
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
        self.log_view.setMinimumWidth(320)
        outer.addWidget(splitter, 1)

        checklist = list(monitor.protocol.discharge.checklist) if monitor.protocol else []
        self.discharge = DischargePanel(checklist)
        self.discharge.changed.connect(self._refresh_discharge)
        outer.addWidget(self.discharge)

        self.observation = ObservationEntry(quick_tags)
        self.vitals = VitalsEntry()
        outer.addWidget(self.observation)
        outer.addWidget(self.vitals)

        self.actions_by_name = {
            "dose": make_action(self, "Record a &dose…", "Ctrl+D", self.open_dose_dialog),
            "vitals": make_action(self, "Enter &vitals", "Ctrl+B", self.focus_vitals),
            "observation": make_action(
                self, "Write an &observation", "Ctrl+O", self.focus_observation
            ),
            "correct": make_action(
                self, "&Correct the selected entry…", "Ctrl+E", self.open_correct
            ),
            "stop_infusion": make_action(
                self, "&Stop the IV infusion", "Ctrl+I", self.stop_infusion
            ),
            "end": make_action(self, "&End the session…", "Ctrl+Shift+E", self.ask_end),
            "screening": make_action(self, "Sc&reening…", "Ctrl+G", self.open_screening),
            "acknowledge": make_action(
                self, "&Acknowledge the alert", "Ctrl+K", self.acknowledge_alert
            ),
            "rems": make_action(
                self,
                "REMS &check (sedation, dissociation, breathing)…",
                "Ctrl+J",
                self.open_rems_check,
            ),
        }
        self.scale_actions = [
            make_action(
                self,
                scale.label(level.value),
                level.shortcut,
                lambda _checked=False, s=scale.id, v=level.value: self.store_scale(s, v),
            )
            for scale in SCALES.values()
            for level in scale.levels
        ]
        self.screening_dialog: ScreeningDialog | None = None
        self.caution_dialog: CautionDialog | None = None
        self.rems_dialog: RemsCheckDialog | None = None
        self.dose_dialog: DoseDialog | None = None
        self.correct_dialog: CorrectDialog | None = None
        self.summary: SessionSummary | None = None

        self.observation.submitted.connect(self.store_observation)
        self.vitals.line_submitted.connect(self.store_vitals_line)
        self.vitals.fields_submitted.connect(self.store_vitals_fields)
        self.discharge.confirm.clicked.connect(self.confirm_end)
        self.discharge.cancel.clicked.connect(self.cancel_end)

        self.timer = QTimer(self)
        self.timer.setInterval(500)  # repaints only; the time itself comes from stored instants
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.refresh_chart()
        self.refresh_alerts()
        self.tick()
        self.focus_observation()

    # ----------------------------------------------------------- display

    def tick(self) -> None:
        session = self.session
        self.session_clock.set_time(format_elapsed(session.since_start()))
        since = session.since_first_dose()
        self.dose_clock.set_time("--:--:--" if since is None else format_elapsed(since))
        running = session.running_infusions()
        status = "IV infusion running (Ctrl+I stops it)" if running else ""
        if session.ended_at is not None:
            status = f"Session ended at {session.local_clock(session.ended_at)}"
        self.status_label.setText(status)
        text, state = self.monitor.next_check_text()
        name = {"overdue": "checkOverdue", "due": "checkDue"}.get(str(state), "checkUpcoming")
        if session.ended_at is not None:
            text, name = "", "checkUpcoming"
        self.check_label.setText(text)
        if str(state) == "due" and self._last_check_state != "due" and self.sound_when_due:
            QApplication.beep()  # only when the clinic turned it on; silent by default
        self._last_check_state = str(state)
        if self.check_label.objectName() != name:
            self.check_label.setObjectName(name)
            self.check_label.style().unpolish(self.check_label)
            self.check_label.style().polish(self.check_label)
        if session.ended_at is None:
            note = session.check_clock(dt.datetime.now(dt.UTC), time.monotonic())
            if note is not None:
                self.log_model.put(note)

    def refresh_chart(self) -> None:
        data = self.session.chart()
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
        self.strip.set_scores(self.monitor.scale_points())

    def _show(self, entry: LogEntry) -> None:
        row = self.log_model.put(entry)
        self.log_view.scrollTo(self.log_model.index(row))

    # ------------------------------------------------------------- slots

    def store_observation(self, text: str, tags: list[str]) -> None:
        try:
            entry = self.session.add_observation(text, tags)
        except (ValidationError, StoreError) as exc:
            self.observation.show_error(str(exc))
            return
        self.observation.accept_entry()
        self._show(entry)

    def store_vitals_line(self, line: str) -> None:
        self._store_vitals(lambda: self.session.add_vitals_line(line))

    def store_vitals_fields(self, values: dict[str, str]) -> None:
        self._store_vitals(lambda: self.session.add_vitals(values))

    def _store_vitals(self, store: Callable[[], LogEntry]) -> None:
        try:
            entry = store()
        except (ValidationError, StoreError) as exc:
            self.vitals.show_error(str(exc))
            return
        self.vitals.accept_entry()
        self._show(entry)
        for alert in self.monitor.add_vitals(entry):
            self._show(alert)
        self.refresh_chart()
        self.refresh_alerts()
        self.tick()
        self.focus_observation()

    def refresh_alerts(self) -> None:
        pending = self.monitor.open_alerts()
        if not pending:
            self.banner.hide()
            return
        first = pending[0]
        self.banner.show_alert(
            first.level.value, first.reading, first.reason, first.action, len(pending) - 1
        )

    def acknowledge_alert(self) -> None:
        pending = self.monitor.open_alerts()
        if not pending:
            return
        self._show(self.monitor.acknowledge(pending[0].id))
        self.refresh_alerts()
        self.focus_observation()

    def store_scale(self, scale_id: str, value: int) -> None:
        if self.session.ended_at is not None:
            return
        try:
            entry = self.monitor.add_scale(scale_id, value)
        except (ValidationError, StoreError) as exc:
            self.status_label.setText(str(exc))
            return
        self._show(entry)
        self.refresh_chart()
        self.tick()

    def open_rems_check(self) -> None:
        dialog = RemsCheckDialog(self)
        dialog.save = lambda: self.monitor.add_rems_check(
            *(box.isChecked() for box in dialog.answers)
        )
        dialog.accepted.connect(lambda: self._recorded(dialog.result_value))
        dialog.finished.connect(lambda _result: self.focus_observation())
        self.rems_dialog = dialog
        dialog.open()

    def _recorded(self, entry: LogEntry) -> None:
        self._show(entry)
        self.refresh_chart()
        self.tick()

    def open_screening(self) -> None:
        dialog = ScreeningDialog(self)

        def save() -> LogEntry:
            contraindications, medicines = dialog.answers()
            return self.monitor.record_screening(
                contraindications, medicines, dialog.intention.text(), dialog.decision.text()
            )

        dialog.save = save
        dialog.accepted.connect(lambda: self._recorded(dialog.result_value))
        dialog.finished.connect(lambda _result: self.focus_observation())
        self.screening_dialog = dialog
        dialog.open()

    def focus_vitals(self) -> None:
        self.vitals.line.setFocus()
        self.vitals.line.selectAll()

    def focus_observation(self) -> None:
        self.observation.line.setFocus()

    def open_dose_dialog(self) -> None:
        gate = self.monitor.dose_gate()
        if not gate.allowed and gate.caution is not None:
            caution = CautionDialog(gate.message, self)
            caution.save = lambda: self.monitor.acknowledge_dose_caution(caution.reason.text())
            caution.accepted.connect(
                lambda: (self._show(caution.result_value), self.open_dose_dialog())
            )
            self.caution_dialog = caution
            caution.open()
            return
        if not gate.allowed:
            self.status_label.setText(gate.message)
            return
        dialog = DoseDialog(self.session.weight_kg, self)
        dialog.save = lambda: self.monitor.add_dose(**dialog.values())
        dialog.accepted.connect(lambda: self._dose_recorded(dialog.result_value))
        dialog.finished.connect(lambda _result: self.focus_observation())
        self.dose_dialog = dialog
        dialog.open()

    def _dose_recorded(self, entry: LogEntry) -> None:
        self._show(entry)
        self.refresh_chart()
        self.tick()

    def stop_infusion(self) -> None:
        running = self.session.running_infusions()
        if not running:
            self.status_label.setText("No IV infusion is running.")
            return
        try:
            entry = self.session.stop_infusion(running[-1])
        except (ValidationError, StoreError) as exc:
            self.status_label.setText(str(exc))
            return
        self._show(entry)
        self.tick()

    def selected_entry(self) -> LogEntry | None:
        rows = self.log_view.selectionModel().selectedRows()
        if rows:
            return self.log_model.entry_at(rows[0].row())
        return None

    def open_correct(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            self.status_label.setText("Select an entry in the log first (Tab, then arrows).")
            return
        if entry.is_system:
            self.status_label.setText("kapdesk's own notes cannot be corrected.")
            return
        fields = _editable_fields(entry.kind, self.session.entry(entry.kind, entry.id).current)
        dialog = CorrectDialog(entry.text, fields, self)
        dialog.save = lambda: self.session.correct(
            entry.kind, entry.id, _changes(entry.kind, dialog.changes()), dialog.reason.text()
        )
        dialog.accepted.connect(lambda: self._corrected(dialog.result_value))
        dialog.finished.connect(lambda _result: self.focus_observation())
        self.correct_dialog = dialog
        dialog.open()

    def _corrected(self, entry: LogEntry) -> None:
        self._show(entry)
        if entry.kind == "vitals":
            self.refresh_chart()

    def ask_end(self) -> None:
        if self.session.ended_at is not None:
            return
        self._refresh_discharge()
        self.discharge.show()
        self.discharge.confirm.setFocus()

    def _refresh_discharge(self) -> None:
        self.discharge.show_items(self.monitor.discharge_items(self.discharge.confirmed_items()))

    def cancel_end(self) -> None:
        if self.session.ended_at is not None:
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
            summary = self.monitor.end(
                self.discharge.confirmed_items(),
                override_reason=self.discharge.override.text(),
                ready_to_leave_minutes=minutes,
            )
        except (ValidationError, StoreError) as exc:
            self.discharge.show_error(str(exc))
            return
        self.summary = summary
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
        self.discharge.cancel.setFocus()
        for name, action in self.actions_by_name.items():
            action.setEnabled(name == "correct")
        for action in self.scale_actions:
            action.setEnabled(False)
        self.observation.setEnabled(False)
        self.vitals.setEnabled(False)
        self.log_model.reset(self.session.log())
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


def _editable_fields(kind: str, current: dict[str, Any]) -> dict[str, str]:
    def text(value: Any) -> str:
        return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    if kind == "vitals":
        return {name: text(current[name]) for name in VITAL_RANGES}
    if kind == "observation":
        return {"text": current["text"], "tags": ", ".join(current["tags"])}
    if kind == "scale_score":
        return {"answers": ", ".join(str(a) for a in current["answers"])}
    return {name: text(current[name]) for name in ("mg", "lot_number", "device_count")}


def _changes(kind: str, changed: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(changed)
    if kind == "observation" and "tags" in out:
        out["tags"] = [t.strip() for t in out["tags"].split(",") if t.strip()]
    if kind == "dose":
        out = {k: (v or None) for k, v in out.items()}
    if kind == "scale_score" and "answers" in out:
        try:
            out["answers"] = [int(a) for a in out["answers"].split(",") if a.strip()]
        except ValueError:
            raise ValidationError("answers", "Answers must be whole numbers, e.g. 5.") from None
        out["total"] = None  # recomputed from the corrected answers
    return out
