"""The session workspace: one screen for the whole session, driven from the keyboard.

Slots are thin: each makes one call to the session service and shows its sentence
if it refuses; the sentence stays until the next act. What changed reaches the views as
the service's events (wired once, in ``_listen``). Forms and the end-of-session panel
open in the chart's place (``SidePanel``), so the clocks, the alert banner, the newest
entries and both entry lines stay in view (issue 9). The observation line takes the
focus whenever nothing else needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from kapdesk.clinical.elapsed import format_elapsed
from kapdesk.clinical.notation import leading_reading, pressure_within, reads_as_vitals
from kapdesk.clinical.vitals import UnusualReading, ValidationError
from kapdesk.local.memory import keep_collections_short
from kapdesk.session.alerting import StoredAlert, advice_now
from kapdesk.session.discharge import SessionSummary
from kapdesk.session.service import Outcome, SessionService
from kapdesk.session.wording import LogEntry
from kapdesk.store import StoreError
from kapdesk.ui.actions import ShortcutsFirst, session_actions
from kapdesk.ui.discharge_panel import DischargePanel
from kapdesk.ui.forms import FormDialog, SidePanel
from kapdesk.ui.session_forms import (
    CautionDialog,
    CorrectDialog,
    DoseDialog,
    EntryDialog,
    IntentionDialog,
    RemsCheckDialog,
    ScreeningDialog,
)
from kapdesk.ui.session_log import EntryDelegate, SessionLogModel, SessionLogView
from kapdesk.ui.workspace_acts import (
    ALERT_READ_S,
    HELD_PREFIX,
    EndActs,
    FormActs,
    ReportActs,
    held_in_vitals,
)
from kapdesk.widgets.alert_banner import AlertBanner
from kapdesk.widgets.bp_chart import DIM, BPChart, ChartColours, free_menus
from kapdesk.widgets.clock_display import MIN_CLOCK_PX
from kapdesk.widgets.observation_entry import ObservationEntry
from kapdesk.widgets.scale_strip import ScaleStrip
from kapdesk.widgets.session_header import SessionHeader
from kapdesk.widgets.vitals_entry import TAKEN_AT, VitalsEntry

Refused = (ValidationError, StoreError)
# Ctrl+I's second press records the infusion's stop within this long of the first.
STOP_CONFIRM_S = 10.0
STOP_QUESTION = (
    "Stop the IV infusion {what} now? Ctrl+I again within "
    f"{STOP_CONFIRM_S:g} seconds records it stopped; otherwise it stays running."
)
# Said in the question's place once its seconds are up: the question stood on, and a
# Ctrl+I a minute later only asked again, recording nothing (Xvfb QA).
STOP_LAPSED = "Not stopped: the IV infusion is still running. Ctrl+I twice stops it."
# Below these (the workspace's own size, in px) the screen is a small laptop's: the banner
# keeps its detail to the first thing to do and the log takes half the width.
SHORT_PX = 640
NARROW_PX = 1100


class ChartBox(QWidget):
    """The chart over the sedation strip; when the box is short (a banner open at 1024x600)
    the strip gives its rows to the chart, and the newest score of each scale goes on the
    chart's time axis line (QA: the scores were then in the log only)."""

    STRIP_NEEDS_PX = 280

    def __init__(self, chart: BPChart, strip: ScaleStrip) -> None:
        super().__init__()
        self.chart = chart
        self.strip = strip

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.strip.setVisible(event.size().height() >= self.STRIP_NEEDS_PX)
        self.show_scores()
        super().resizeEvent(event)

    def show_scores(self) -> None:
        if self.strip.isHidden():
            self.chart.set_axis_note(self.strip.newest(), self.strip.newest(short=True))
        else:
            self.chart.set_axis_note("")


class SessionWorkspace(FormActs, EndActs, ReportActs, QWidget):
    ended = Signal()
    closed = Signal()
    survey_requested = Signal()  # the main window hands the laptop to the patient

    def __init__(
        self,
        service: SessionService,
        *,
        quick_tags: list[str],
        colours: ChartColours = DIM,
        show_map: bool = False,
        clock_px: int = MIN_CLOCK_PX,
        sound_when_due: bool = False,
        review: bool = False,
        charts: tuple[BPChart, ScaleStrip] | None = None,
        entries: tuple[ObservationEntry, VitalsEntry] | None = None,
    ) -> None:
        """``charts``: a fresh chart and strip made ahead of need (ui/chart_pool.py);
        ``entries``: fresh entry lines with ``quick_tags``, likewise."""
        super().__init__()
        self._made_charts = charts
        self.service = service
        # A past session opened from the patients page: read only (ui/workspace_acts.py).
        self.review = review and service.ended_at is not None
        self.sound_when_due = sound_when_due
        self._last_check_state: str | None = None
        self._end_panel_minute = -1  # the minute the end panel's criteria were last said
        # The unusual reading last asked about: as typed, the sentence, when (_store_vitals).
        self._vitals_warned: tuple[object, str, float] | None = None
        self._stop_asked: float | None = None  # when Ctrl+I asked to stop the infusion
        self._pressure_asked: str | None = None  # the note asked about (store_observation)
        # The reason given to dose past a caution, by the caution's reading: it goes in with
        # the dose (open_dose_dialog).
        self._caution_given: tuple[str, str] | None = None
        self.summary: SessionSummary | None = None
        self.form: FormDialog | None = None  # the one form open in the chart's place
        self._return_focus: QWidget | None = None
        # The alert heading the banner, and when (monotonic s) it came there.
        self._banner_alert: tuple[object, float] = (None, 0.0)
        self.setObjectName("workspace")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 2, 12, 2)
        outer.setSpacing(3)
        self.header = SessionHeader(service.patient_name, service.protocol_label, clock_px)
        self.header.set_intention(service.intention())
        outer.addWidget(self.header)
        self.banner = AlertBanner()
        self.banner.acknowledge_requested.connect(self.acknowledge_alert)
        outer.addWidget(self.banner)
        self._discharge: DischargePanel | None = None  # made when first needed
        outer.addWidget(self._chart_and_log(colours, show_map), 1)
        self.message = QLabel()  # a refusal, until the next act (issue 9: not half a second)
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.message.hide()
        outer.addWidget(self.message)
        if entries is not None:
            self.observation, self.vitals = entries
        else:
            self.observation = ObservationEntry(quick_tags, tags_below=False)
            self.vitals = VitalsEntry()
        # Both entry lines on one row: on a 600 px screen two rows cost the log its newest
        # entries. The vitals line keeps room for a whole reading.
        entry_row = QHBoxLayout()
        # Top-aligned: a refusal under one line must not push the other out of line.
        entry_row.addWidget(self.observation, 3, Qt.AlignmentFlag.AlignTop)
        entry_row.addWidget(self.vitals, 2, Qt.AlignmentFlag.AlignTop)
        self.vitals.line.setMinimumWidth(250)
        outer.addLayout(entry_row)
        outer.addWidget(self.observation.tags_box)
        self.actions_by_name, self.scale_actions = session_actions(self)
        self.shortcuts_first = ShortcutsFirst(
            self, [*self.actions_by_name.values(), *self.scale_actions]
        )
        self.shortcuts_first.watch(self)
        # The forms last opened, for tests and the screenshot script to drive.
        self.screening_dialog: ScreeningDialog | None = None
        self.intention_dialog: IntentionDialog | None = None
        self.caution_dialog: CautionDialog | None = None
        self.rems_dialog: RemsCheckDialog | None = None
        self.dose_dialog: DoseDialog | None = None
        self.correct_dialog: CorrectDialog | None = None
        self.entry_dialog: EntryDialog | None = None

        self.observation.submitted.connect(self.store_observation)
        self.vitals.line_submitted.connect(self.store_vitals_line)
        self.vitals.fields_submitted.connect(self.store_vitals_fields)
        self.vitals.line.textChanged.connect(self._vitals_line_changed)
        self.observation.line.textChanged.connect(lambda _text: self.refresh_unrecorded())
        # Tab from the observation line reaches the log at once (it took five, issue 9).
        QWidget.setTabOrder(self.observation.line, self.log_view)
        QWidget.setTabOrder(self.log_view, self.vitals.line)
        QWidget.setTabOrder(self.vitals.line, self.vitals.toggle)
        self._listen()
        self.timer = QTimer(self)
        self.timer.setInterval(500)  # repaints only; the time itself comes from stored instants
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self._draw_chart()
        keep_collections_short()  # no full collection of the session's objects mid-session
        self._show_alerts(service.open_alerts())
        self.tick()
        if self.review:
            self._show_review()
        elif service.ended_at is not None:
            self._show_ended()
        else:
            self.focus_observation()

    @property
    def discharge(self) -> DischargePanel:
        """The end panel (criteria, checklist, then the summary), made when first needed:
        most openings of a session screen never show it (~7 ms, issue 10)."""
        if self._discharge is None:
            service = self.service
            checklist = list(service.protocol.discharge.checklist) if service.protocol else []
            panel = DischargePanel(checklist)
            panel.setParent(self)  # owned: closing the workspace deletes it (issue 10)
            panel.hide()
            panel.changed.connect(self._show_discharge_items)
            panel.confirm.clicked.connect(self.confirm_end)
            panel.cancel.clicked.connect(self.cancel_end)
            self._discharge = panel
        return self._discharge

    def ticked_checklist(self) -> frozenset[str]:
        """The discharge checklist's items ticked in the end panel (none if never shown)."""
        return frozenset() if self._discharge is None else self._discharge.confirmed_items()

    def end_panel_shown(self) -> bool:
        return self._discharge is not None and self.side.showing() is self._discharge

    def _chart_and_log(self, colours: ChartColours, show_map: bool) -> QSplitter:
        if self._made_charts is not None:
            self.chart, self.strip = self._made_charts
        else:
            self.chart = BPChart(colours, thresholds=self.service.thresholds)
            self.strip = ScaleStrip(self.chart, colours)
        self._made_charts = None
        self.chart.show_mean_arterial(show_map)
        self.chart.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab never stops where nothing shows
        self.strip.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        chart_box = self.chart_box = ChartBox(self.chart, self.strip)
        chart_layout = QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.setSpacing(0)
        chart_layout.addWidget(self.chart, 1)
        chart_layout.addWidget(self.strip)
        self.side = SidePanel(chart_box)
        self.log_model = SessionLogModel(self.service.log_rows(), self.service.describe)
        self.log_view = SessionLogView()
        self.log_view.typed.connect(self._begin_observation)
        self.log_view.read_whole.connect(self.open_entry)
        self.log_view.setModel(self.log_model)
        self.log_view.setItemDelegate(EntryDelegate(self.log_view))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.side)
        splitter.addWidget(self.log_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self.side.currentChanged.connect(lambda _index: self.fit_tag_row())
        self._split_once = False
        self.side.setMinimumWidth(420)
        # Short enough for 1024x600 with a banner open; the log beside it still shows the
        # newest entries (tests/ui/test_layout.py).
        self.chart.setMinimumHeight(90)
        self.log_view.setMinimumWidth(300)
        self.log_view.setMinimumHeight(90)
        return splitter

    def _split(self, width: int) -> None:
        """Share the width between chart and log once, at the workspace's first size. The
        log's share grows on a narrow screen: its lines wrap less. Done before the log is
        shown (the first resize comes before the children show, and the show event after),
        so the log measures its rows at their width once, not first at its minimum."""
        if not self._split_once:
            self._split_once = True
            width = max(width, 800)
            chart = 0.55 if width >= NARROW_PX else 0.5
            self.splitter.setSizes([int(width * chart), int(width * (1 - chart))])

    def showEvent(self, event: Any) -> None:
        self._split(self.width())
        super().showEvent(event)

    def fit_tag_row(self) -> None:
        """On a short screen (1024x600, text at 125 %) a form in the chart's place had one
        field's height (QA): the tag keys' row steps aside while anything is in the
        chart's place (a form, an entry read whole, the end panel) and comes back with
        the chart. The keys still toggle their tags, and both entry lines stay in view
        (issue 9)."""
        tucked = self.side.showing() is not self.side.base and self.height() < SHORT_PX
        # Nor where nothing can be entered: an ended or a read-only session (QA).
        usable = self.observation.isEnabled() and not self.review
        self.observation.tags_box.setVisible(usable and not tucked)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._split(event.size().width())
        short = event.size().height() < SHORT_PX
        self.banner.set_compact(short)
        # The intention's own line is a log entry's height at 1024x600: there it goes to
        # the patient's name's tooltip (and stays in the log and the report).
        self.header.set_intention_compact(short)
        super().resizeEvent(event)
        self.fit_tag_row()

    def _listen(self) -> None:
        """The views follow the service: wired once, here."""
        events = self.service.events
        events.entry_added.connect(self._show)
        events.entry_changed.connect(self._replace)
        events.log_restated.connect(lambda _none: self._first_dose_in())
        events.chart_changed.connect(lambda _none: self._chart_changed())
        events.alerts_changed.connect(self._show_alerts)
        events.session_changed.connect(lambda _none: self.tick())
        events.ended.connect(lambda _summary: self._show_ended())

    def _first_dose_in(self) -> None:
        """The first dose set T0: the log's times restated, and the banner's advice for a
        reading taken before it (it is past: _show_alerts)."""
        self.log_model.restate()
        self._show_alerts(self.service.open_alerts())

    def release(self) -> None:
        """Stop the timer and stop listening: the workspace is closing."""
        self.timer.stop()
        self.service.events.disconnect_all()
        for plot in (self.chart, self.strip):
            free_menus(plot)

    # ----------------------------------------------------------------- views

    def tick(self) -> None:
        service = self.service
        since = service.since_first_dose()
        self.header.set_clocks(
            format_elapsed(service.since_start()),
            "--:--:--" if since is None else format_elapsed(since),
        )
        if self.review:
            # A past session's header says what it was (_show_review); again after a
            # correction there, which may move T0.
            self.review_header()
            return
        if service.ended_at is not None:
            self.header.set_status(f"Session ended at {service.local_clock(service.ended_at)}")
            self.header.set_check("", None)
            return
        running = service.running_infusions()
        self.header.set_status("IV infusion running (Ctrl+I stops it)" if running else "")
        asked = self._stop_asked
        if asked is not None and service.monotonic() - asked > STOP_CONFIRM_S:
            self._stop_asked = None
            if self.message_text().startswith(STOP_QUESTION.split("{", 1)[0]):
                self.say(STOP_LAPSED)
        text, state = service.next_check()
        self.header.set_check(text, None if state is None else str(state))
        if self._discharge is not None and self.end_panel_shown():
            # The minutes since the first dose follow the clock while the panel is open
            # (Xvfb QA: "1 of 120 minutes" stayed at T+2): once a minute, not every tick.
            dosed = service.since_first_dose()
            since = service.since_start() if dosed is None else dosed
            minute = int(since.total_seconds() // 60)
            if minute != self._end_panel_minute:
                self._end_panel_minute = minute
                self._show_discharge_items(keep_error=True)
        if str(state) == "due" and self._last_check_state != "due" and self.sound_when_due:
            QApplication.beep()  # only when the clinic turned it on; silent by default
        self._last_check_state = str(state)
        service.check_clock()

    def _chart_changed(self) -> None:
        self._draw_chart()
        if self.summary is not None and not self.review:
            # A reading or a dose corrected after the end: the summary says the session as
            # it stands now (QA: it kept a highest BP corrected away).
            self.summary = self.service.summary()
            self.show_end_summary()

    def _draw_chart(self) -> None:
        data = self.service.chart()
        self.chart.set_readings(
            data.minutes,
            data.systolic,
            data.diastolic,
            data.heart_rate,
            data.mean_arterial,
            data.label,
        )
        self.chart.set_doses(data.dose_minutes)
        self.chart.set_time_axis(data.axis)
        self.chart.set_baseline(data.baseline)
        self.strip.set_scores(self.service.scale_points())
        self.chart_box.show_scores()

    def _show(self, entry: LogEntry) -> None:
        row = self.log_model.put(entry)
        self.log_model.reveal(row)
        if row == 0:
            self.log_view.scrollTo(self.log_model.index(row, 0))
        else:
            # Entered with an earlier time: the newest entries stay in view (Xvfb QA: the
            # log stayed at the late reading, the newest alert out of sight); the entry
            # line says where it went (_store_vitals).
            self.log_view.scrollToTop()
        chosen = self.log_view.currentIndex()
        if chosen.isValid() and not self.log_view.shows_row(chosen.row()):
            # The entry chosen in the log has gone out of view: Ctrl+E would have corrected
            # an entry the clinician can no longer see (issue 10 QA).
            self.log_view.clearSelection()
            self.log_view.setCurrentIndex(QModelIndex())
        self.log_model.trim(self.log_view.currentIndex().row())
        if self.end_panel_shown() and self.service.ended_at is None:
            self._show_discharge_items()  # a reading taken with the panel open counts at once

    def _replace(self, entry: LogEntry) -> None:
        try:
            shown = self.log_view.shows_row(self.log_model.row_of(entry.id))
        except ValueError:
            shown = True  # not in the log yet: put() inserts it
        self.log_model.put(entry, quietly=not shown)
        if not shown:
            self.log_view.scheduleDelayedItemsLayout()  # its height is measured when shown

    def _show_alerts(self, pending: list[StoredAlert]) -> None:
        """The most severe, then the newest, unacknowledged alert (service order)."""
        if self.service.ended_at is None:
            if self.end_panel_shown():
                self._show_discharge_items()  # it counts the alerts not yet acknowledged
        elif self.summary is not None and not self.review:
            # So does the end summary, under words shown in its place too (Xvfb QA: an
            # alert acknowledged from the survey's return still read "not acknowledged").
            self.show_end_summary()
        if not pending or self.review:
            self.banner.hide()
            return
        first = pending[0]
        if first.id != self._banner_alert[0]:
            self._banner_alert = (first.id, self.service.monotonic())
        # When the reading was taken: once a newer alert is acknowledged, an older one can
        # head the banner, and its figures must not be taken for the current BP (QA).
        taken = first.taken_at or first.at
        reading = f"Taken {self.service.local_clock(taken)}: {self.service.alert_reading(first)}"
        action = advice_now(self.service.state, first)
        self.banner.show_alert(first.level.value, reading, first.reason, action, len(pending) - 1)

    def say(self, sentence: str) -> None:
        """A refusal or a notice, shown above the entry lines until the next act; with
        none, that a reading waits unrecorded in the Vitals line, while it does (Xvfb QA:
        the next note typed, or the end panel opened, took that sentence away with the
        reading still there)."""
        sentence = sentence or self._held_reminder()
        if sentence != self.message.text():  # most acts clear nothing: no relayout
            self.message.setText(sentence)
        if self.message.isVisible() != bool(sentence):
            self.message.setVisible(bool(sentence))

    def message_text(self) -> str:
        return self.message.text() if self.message.isVisible() else ""

    def _act(self) -> None:
        """Each act clears the last act's sentences: the message, and a refusal under an
        entry line (a refused "88" stayed through the end of the session, issue 9 QA)."""
        self.say("")
        # Ctrl+I's question goes with what it asked: a note typed in between, then Ctrl+I,
        # stopped the infusion with no question on screen (Xvfb QA).
        self._stop_asked = None
        for entry in (self.observation, self.vitals):
            if entry.error.isVisible():
                entry.error.hide()

    # ----------------------------------------------------------------- slots

    def store_observation(self, text: str, tags: list[str]) -> None:
        self._act()
        if reads_as_vitals(text):
            # A reading typed into the observation line was stored as words: never
            # checked, charted or alerted on (QA: "120/80 76 120", an SpO2 of 120); with
            # a tag key on too (tamper QA: "[anxious] 186/114 98", no alert). The tags
            # stay on for the note.
            self.vitals.line.setText(text.strip())
            self.observation.line.clear()
            self.vitals.line.setFocus()
            # One line at 1024x600: with a refusal under the Vitals line too, two lines
            # here left the chart 50 px (second QA pass).
            self.say("That is a reading, not a note: it is in the Vitals line now; Enter there.")
            return
        split = leading_reading(text)
        if split is not None:
            # A reading with words after it ("186/114 98 headache") went in as a note: no
            # chart, no alert (Xvfb QA). The reading to its line, the words stay here.
            reading, words = split
            self.vitals.line.setText(reading)
            self.observation.line.setText(words)
            self.vitals.line.setFocus()
            self.say(
                f"“{reading}” is a reading: it is in the Vitals line now, Enter there; the "
                "words after it stay in the Observation line."
            )
            return
        pressure = pressure_within(text)
        limits = self.service.thresholds
        if (
            pressure is not None
            and (pressure[0] >= limits.caution_systolic or pressure[1] >= limits.caution_diastolic)
            and self._pressure_asked != text
        ):
            # Among words a blood pressure is not charted or checked against the alert
            # levels (tamper QA: "pt hypertensive 186/114, headache" raised nothing).
            # Asked once: a pressure the patient reports from home is a note.
            self._pressure_asked = text
            self.observation.show_error(
                f"A blood pressure ({pressure[0]}/{pressure[1]}) in a note is not charted or "
                "checked against the alert levels: type it in the Vitals line. Enter again "
                "keeps it as a note."
            )
            return
        try:
            self.service.record_observation(text, tags)
        except Refused as exc:
            self.observation.show_error(str(exc))
            return
        self._pressure_asked = None
        self.observation.accept_entry()

    def store_vitals_line(self, line: str) -> None:
        self._store_vitals(
            line,
            lambda confirmed: self.service.record_vitals_line(line, unusual_confirmed=confirmed),
        )

    def store_vitals_fields(self, values: dict[str, str]) -> None:
        reading = {name: text for name, text in values.items() if name != TAKEN_AT}
        self._store_vitals(
            tuple(sorted(values.items())),
            lambda confirmed: self.service.record_vitals_fields(
                reading, values.get(TAKEN_AT), unusual_confirmed=confirmed
            ),
        )

    def _store_vitals(self, typed: object, record: Callable[[bool], Outcome]) -> None:
        """``record(confirmed)``. A reading at the edge of the plausible (300/20 typed for
        130/80, QA) is asked about under the line; the same reading entered again, the
        sentence still there (nothing edited since) and on screen for ALERT_READ_S, is
        recorded: a reflex double Enter is not an answer to it."""
        warned = self._vitals_warned
        error = self.vitals.error
        asked = (
            warned is not None
            and warned[0] == typed
            and error.isVisible()
            and error.text() == warned[1]
        )
        confirmed = asked and self.service.monotonic() - warned[2] >= ALERT_READ_S
        self._act()
        try:
            outcome = record(confirmed)
        except UnusualReading as exc:
            if not asked:
                self._vitals_warned = (typed, str(exc), self.service.monotonic())
            self.vitals.show_error(str(exc))
            return
        except Refused as exc:
            self.vitals.show_error(str(exc))
            return
        self._vitals_warned = None
        self.vitals.accept_entry()
        said = [outcome.notice]  # the pre-dose baseline moved, if it did
        entry = outcome.entry
        if entry.at < self.log_model.entry_at(0).at:
            said.insert(0, f"Stored as taken at {entry.clock}, below the newer entries.")
        self.say(" ".join(filter(None, said)))
        back, self._return_focus = self._return_focus, None
        if back is not None and shiboken6.isValid(back) and back.isVisible() and back.isEnabled():
            back.setFocus()  # back to the form or panel the reading interrupted
        else:
            self.refocus()

    def acknowledge_alert_by_id(self, alert_id: object) -> None:
        """An alert acknowledged where it was put in front of the clinician (the patient's
        survey, issue 13), also in a session that has ended."""
        try:
            self.service.acknowledge_alert(alert_id)  # type: ignore[arg-type]
        except Refused as exc:
            self.say(str(exc))

    def acknowledge_alert(self) -> None:
        """Ctrl+K: the alert on the banner, once it has been there long enough to be read.
        Pressed twice, or as a new alert came up, it acknowledged an alert nobody saw (an
        urgent 182/112 behind an SpO2 85 %, QA): the banner's alert is acknowledged by its
        id, and one that came up under a second ago is not."""
        came_from = QApplication.focusWidget()
        self._act()
        shown, since = self._banner_alert
        pending = self.service.open_alerts() if not self.review else []
        if not pending or not self.banner.isVisible() or shown != pending[0].id:
            self.say("No alert is waiting to be acknowledged.")
        elif self.service.monotonic() - since < ALERT_READ_S:
            self.say(
                "A new alert has just come up on the banner: read it, then press Ctrl+K to "
                "acknowledge it."
            )
        else:
            try:
                self.service.acknowledge_alert(shown)
            except Refused as exc:
                self.say(str(exc))
        if came_from is not None and self.vitals.isAncestorOf(came_from):
            came_from.setFocus()  # a reading half typed stays where it is (second QA pass)
        else:
            self.refocus()

    def store_scale(self, scale_id: str, value: int) -> None:
        self._act()
        try:
            self.service.record_scale(scale_id, value)
        except Refused as exc:
            self.say(str(exc))

    def focus_vitals(self) -> None:
        # A reading taken in the middle of a form or the end panel: the keyboard goes back
        # to the field it came from once the reading is stored.
        came_from = QApplication.focusWidget()
        self._return_focus = came_from if self.side.isAncestorOf(came_from) else None
        self.vitals.line.setFocus()
        self.vitals.line.selectAll()

    def _begin_observation(self, text: str) -> None:
        """Text typed with the log focused goes to the observation line, not lost."""
        if self.review:
            self._say_read_only()
            return
        if not self.observation.isEnabled():
            # Ended just now: typing went into the greyed line, and Enter did nothing,
            # without a word (QA).
            self._say_ended()
            return
        self.log_view.clearSelection()
        self.focus_observation()
        self.observation.line.insert(text)

    def _say_read_only(self) -> None:
        self.say(
            "This session has ended and is open to read only: nothing can be entered "
            "here, but an entry that was wrong can be corrected (choose it, Ctrl+E). Esc "
            "goes back to the patients."
        )

    def _writes(self, event: Any) -> bool:
        """Whether ``event`` is the key of an act turned off here (one that writes)."""
        chord = QKeySequence(event.keyCombination()).toString()
        return any(
            not action.isEnabled() and action.shortcut().toString() == chord
            for action in (*self.actions_by_name.values(), *self.scale_actions)
        )

    def _say_ended(self) -> None:
        self.say(
            "This session has ended: nothing more can be entered. An entry that was "
            "wrong: choose it in the log and press Ctrl+E. Esc goes back to the patients."
        )

    def observation_key(self) -> None:
        """Ctrl+O; see _entry_key."""
        self._entry_key(self.observation, self.focus_observation)

    def vitals_key(self) -> None:
        """Ctrl+B; see _entry_key."""
        self._entry_key(self.vitals, self.focus_vitals)

    def _entry_key(self, entry: QWidget, go: Callable[[], None]) -> None:
        """The keyboard to an entry line; in a session that has just ended, a sentence
        saying why nothing can be entered (the key did nothing, and the text typed next
        went nowhere, QA)."""
        if entry.isEnabled() or self.review:
            go()
        else:
            self._say_ended()
            self.log_view.setFocus()

    def focus_observation(self) -> None:
        self.observation.line.setFocus()

    def go_to_log(self) -> None:
        """Ctrl+L, an act: the last act's sentence goes ("Select an entry in the log
        first: Ctrl+L, ..." stayed once the clinician had done just that, Xvfb QA)."""
        self._act()
        self.focus_log()

    def focus_log(self) -> None:
        """The log, at its newest entry, whatever was selected before."""
        self.log_view.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if self.log_model.rowCount():
            self.log_view.setCurrentIndex(self.log_model.index(0, 0))
            self.log_view.scrollToTop()

    def refocus(self) -> None:
        """Where the keyboard goes after an act: the open form, else the observation."""
        if self.review:
            self.log_view.setFocus()
        elif self.form is not None:
            self.form.focus_first()
        elif self.service.ended_at is not None:
            # The log, as at the end (_show_ended): the end summary takes no keys, and the
            # keyboard fell to the banner's button, where Enter did nothing (Xvfb QA).
            self.log_view.setFocus()
        elif self.end_panel_shown():
            self.discharge.focus_first()
        else:
            self.focus_observation()

    def stop_infusion(self) -> None:
        """Ctrl+I, twice: the first asks, the second within STOP_CONFIRM_S records the stop.
        A stop is not corrected afterwards, and one key beside Ctrl+U and Ctrl+O recorded
        it at a slip (Xvfb QA). Said once done: only the dose's line in the log changed,
        and the press seemed to do nothing (QA)."""
        asked = self._stop_asked  # any other act in between took the question back
        self._act()
        if not self.service.running_infusions():
            self.say("No IV infusion is running.")
            return
        now = self.service.monotonic()
        if asked is None or now - asked > STOP_CONFIRM_S:
            self._stop_asked = now
            self.say(self._stop_question())
            return
        try:
            entry = self.service.stop_infusion()
        except Refused as exc:
            self.say(str(exc))
            return
        still = self.service.running_infusions()
        more = ""
        if still:
            # Said: the header's "IV infusion running" read as if the stop had not taken,
            # and nothing named the one left (Xvfb QA, two infusions at once).
            more = (
                f" Still running: the infusion {self.service.infusion_words(still[-1])}"
                + (f" and {len(still) - 1} more" if len(still) > 1 else "")
                + "; Ctrl+I twice stops it."
            )
        self.say(f"IV infusion stopped. The dose's line in the log: {entry.text}.{more}")
        self.refresh_unrecorded()

    def _vitals_line_changed(self, _text: str) -> None:
        """The sentence that the Vitals line still holds a reading follows the line: emptied,
        it stood on through a lock and back (Xvfb QA)."""
        if self.message_text().startswith(HELD_PREFIX):
            self.say("")
        self.refresh_unrecorded()

    def _held_reminder(self) -> str:
        """A reading typed in the Vitals line and left there, the keyboard elsewhere."""
        line = getattr(self, "vitals", None)
        if line is None or getattr(self, "review", False) or line.line.hasFocus():
            return ""
        if getattr(self, "_discharge", None) is not None and self.end_panel_shown():
            return ""  # the end panel says it, where End is pressed (_unrecorded)
        held = line.line.text().strip()
        return held_in_vitals(held) if held else ""

    def _stop_question(self) -> str:
        """Which infusion Ctrl+I again stops (the newest), and any left running: with two
        running the question named neither, and the older was the one meant (Xvfb QA)."""
        running = [self.service.infusion_words(i) for i in self.service.running_infusions()]
        question = STOP_QUESTION.format(what=running[-1])
        if len(running) > 1:
            question += (
                " Still running after it: "
                + "; ".join(f"the infusion {words}" for words in running[:-1])
                + "."
            )
        return question

    def selected_entry(self) -> LogEntry | None:
        rows = self.log_view.selectionModel().selectedRows()
        if rows:
            return self.log_model.entry_at(rows[0].row())
        return None

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape and self.review:
            self.closed.emit()  # back to the patients
            return
        if self.review and self._writes(event):
            # Ctrl+D, Ctrl+B... on a past session: a key that did nothing, without a word
            # (Xvfb QA), where typing says this.
            self._say_read_only()
            return
        if event.key() == Qt.Key.Key_Escape and self.end_panel_shown():
            self.discharge.cancel.click()
            return
        if event.key() == Qt.Key.Key_Escape:
            self._act()
            held = self.vitals.line.text().strip()
            left_vitals = self.vitals.line.hasFocus() and held
            self.refocus()
            if left_vitals:
                # Xvfb QA: Esc from "140/9" left it there unrecorded, without a word.
                self.say("")  # the keyboard is elsewhere now: say() reminds of it
            return
        super().keyPressEvent(event)
