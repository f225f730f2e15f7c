"""The session screen's forms and its end, as parts of SessionWorkspace (ui/workspace.py).

Each form opens in the chart's place (``SidePanel``), one at a time, so the clocks, the
alert banner, the newest entries and both entry lines stay in view (issue 9). The end of
the session is a panel in the same place.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kapdesk.clinical.elapsed import format_elapsed
from kapdesk.clinical.entries import Drug, UnusualDose, validate_dose
from kapdesk.clinical.screening import CONTRAINDICATIONS
from kapdesk.clinical.vitals import ValidationError
from kapdesk.session import dosing
from kapdesk.session.entries import (
    CLOCK_TIME,
    TIME_LABELS,
    TIMED_KINDS,
    Dose,
    editable,
    field_labels,
    parse_changes,
)
from kapdesk.session.service import DOSE_IN_ERROR_KEPT, Outcome
from kapdesk.store import StoreError
from kapdesk.ui.forms import ALERT_READ_S, FormDialog, open_form
from kapdesk.ui.session_forms import (
    DOSE_IN_ERROR,
    CautionDialog,
    CorrectDialog,
    DoseDialog,
    EntryDialog,
    IntentionDialog,
    RemsCheckDialog,
    ScreeningDialog,
)
from kapdesk.ui.session_log import entry_html

if TYPE_CHECKING:
    from kapdesk.ui.workspace import SessionWorkspace

    Base = SessionWorkspace
else:
    Base = object

Refused = (ValidationError, StoreError)
F = TypeVar("F", bound=FormDialog)


class FormActs(Base):
    """Screening, the pre-dose caution, a dose, a correction, the REMS check."""

    def _open(
        self,
        form: F,
        save: Callable[[F], Any],
        *,
        saved: Callable[[Any], object] | None = None,
        closed: Callable[[], object] | None = None,
    ) -> F | None:
        """Open ``form`` in the chart's place; one at a time, so typed text is never lost
        to another form (a second key press says so instead). ``closed``: where the
        keyboard goes after (the open form or the observation line, unless given)."""
        if isinstance(self.form, EntryDialog):
            self.form.reject()  # only read: another act closes it
        if self.form is not None:
            form.deleteLater()
            self.say(f"Finish or cancel “{self.form.windowTitle()}” first (Esc cancels it).")
            self.form.focus_first()
            return None
        self.form = form
        form.monotonic = self.service.monotonic  # the session's clock for Esc's question
        form.asked_aloud.connect(self.say)
        form.question_withdrawn.connect(
            lambda: self.say("") if self.message_text() == form.DISCARD_QUESTION else None
        )
        # Refused for another reason ("70000 mg is outside 0-1000"), the form's earlier
        # warning goes from the line below: "700 mg ... Enter again records it" stood
        # beside the new refusal (Xvfb QA).
        form.refused.connect(
            lambda said: (
                self.say("")
                if form.warning_said
                and said != form.warning_said
                and self.message_text() == form.warning_said
                else None
            )
        )
        self.shortcuts_first.watch(form)
        # Released before ``saved`` runs, so a form may open the next one (caution → dose).
        form.accepted.connect(lambda: self._release(form))
        form.accepted.connect(lambda: self._withdraw_warning(form))
        form.rejected.connect(lambda: self._release(form))
        form.rejected.connect(lambda: self._cancelled(form))
        return open_form(form, save, saved=saved, closed=closed or self.refocus, host=self.side)

    def _release(self, form: FormDialog) -> None:
        if self.form is form:
            self.form = None

    def _withdraw_warning(self, form: FormDialog) -> None:
        """A form's warning said above the entry lines goes once the form is saved, before
        what the save says: "Nothing is ticked: this records sedation ... all absent" stood
        there four minutes after sedation was ticked and saved (Xvfb QA)."""
        if form.warning_said and self.message_text() == form.warning_said:
            self.say("")

    def _cancelled(self, form: FormDialog) -> None:
        """A form's warning said above the entry lines goes with the form: "Enter again
        records it" left after Esc read as if the dose had been recorded (second QA pass)."""
        if form.warning_said and self.message_text() == form.warning_said:
            self.say("Cancelled: nothing was recorded.")

    def open_rems_check(self) -> None:
        self._act()

        def save(dialog: RemsCheckDialog) -> object:
            answers = [box.isChecked() for box in dialog.answers]
            if not any(answers):
                self._nothing_present(dialog)
            elif not answers[2] and (slow := self.service.breathing_slow()):
                # Xvfb QA: "respiratory depression no" went in a minute after RR 6/min.
                self._said_once(
                    dialog,
                    "rems",
                    f"Respiratory depression is not ticked, but the latest reading says "
                    f"{slow}. Enter again records it absent; 3 ticks it.",
                )
            return self.service.record_rems_check(*answers)

        self.rems_dialog = self._open(RemsCheckDialog(self), save) or self.rems_dialog

    def _nothing_present(self, dialog: RemsCheckDialog) -> None:
        """A REMS check with nothing ticked records sedation, dissociation and respiratory
        depression all absent, and the discharge reads dissociation as resolved from it:
        said first, with the sedation score that disagrees (Xvfb QA: one stray Enter
        recorded "all absent" seconds after MOAA/S 4 and RASS -1)."""
        sedated = self.service.sedation_not_resolved()
        slow = self.service.breathing_slow()
        said = [*sedated, *([slow] if slow else [])]
        disagrees = f" The latest figures say otherwise: {'; '.join(said)}." if said else ""
        self._said_once(
            dialog,
            "rems",
            "Nothing is ticked: this records sedation, dissociation and respiratory "
            f"depression all absent.{disagrees} Enter again records that; 1, 2 or 3 ticks "
            "what is present.",
        )

    def open_screening(self) -> None:
        self._act()

        def save(dialog: ScreeningDialog) -> object:
            contraindications, medicines = dialog.answers()
            if not any(contraindications.values()) and not any(medicines.values()):
                self._nothing_ticked(dialog)
            try:
                return self.service.record_screening(
                    contraindications, medicines, dialog.intention.text(), dialog.decision.text()
                )
            except ValidationError as exc:
                if exc.field != "decision":
                    raise
                # In the form, why it matters is said just above the decision: the
                # service's sentence said it again, and ran out of view at 1024x600 (QA).
                ticked = next(k for k, yes in contraindications.items() if yes)
                raise ValidationError(
                    "decision",
                    f"“{CONTRAINDICATIONS[ticked]}” was answered yes: to proceed, type "
                    "your decision and its reason here, then Enter.",
                ) from None

        self.screening_dialog = (
            self._open(
                ScreeningDialog(self),
                save,
                saved=lambda _entry: self.header.set_intention(self.service.intention()),
            )
            or self.screening_dialog
        )

    def _nothing_ticked(self, dialog: ScreeningDialog) -> None:
        """A screening with nothing ticked records that no contraindication and no
        interacting medicine applies: said first. The double Enter that started a session
        recorded "no contraindications" on a form nobody had seen (QA)."""
        self._said_once(
            dialog,
            "screening",
            "Nothing is ticked: this records no contraindication and no interacting "
            "medicine. Enter again records that; Space ticks one that applies.",
        )

    def open_intention(self) -> None:
        self._act()
        self.intention_dialog = (
            self._open(
                IntentionDialog(self.service.intention(), self),
                lambda d: self.service.record_intention(d.intention.text()),
                saved=lambda _entry: self.header.set_intention(self.service.intention()),
            )
            or self.intention_dialog
        )

    def open_dose_dialog(self) -> None:
        """The dose form; past a caution, its reason first, kept to go in with the dose
        (never alone: the form closed after it left a caution weighed for no dose)."""
        self._dose_form()

    def _dose_form(self, caution_reason: str | None = None) -> None:
        """(A separate method: Ctrl+D's action passes its "checked" flag to its slot.) The
        reason given for this caution is kept, unstored, for the next Ctrl+D too: the dose
        form closed, it is not asked twice."""
        self._act()
        gate = self.service.dose_gate()
        caution = None if gate.allowed else gate.caution
        if caution is None:
            self._caution_given = None
            if not gate.allowed:
                self.say(gate.message)
                return
        else:
            if caution_reason is not None:
                self._caution_given = (caution.reading, caution_reason)
            if self._caution_given is None or self._caution_given[0] != caution.reading:
                further = self.service.first_dose_at is not None
                self.caution_dialog = (
                    self._open(
                        CautionDialog(gate.message, self, further=further),
                        lambda d: dosing.caution_ack_payload(gate, d.reason.text())["reason"],
                        saved=self._dose_form,
                    )
                    or self.caution_dialog
                )
                return
        self.dose_dialog = (
            self._open(
                DoseDialog(self.service.weight_kg, self.service.dose_defaults(), self),
                self._save_dose,
            )
            or self.dose_dialog
        )

    def _save_dose(self, form: DoseDialog) -> Any:
        """The dose typed; one above the usual range is refused once with the reason, and
        the same values entered again are recorded (QA: 680 mg for 68 mg went in at once).
        The sentence is also said above the entry lines: at 1024x600 the form's rows had no
        room for it."""
        values = form.values()
        # The dose itself first: a missing lot asked about before an empty Dose took the
        # keyboard to Lot, and the amount typed next went into it (QA).
        dose = validate_dose(**values)
        if values["drug"] == Drug.ESKETAMINE.value and not values["lot_number"]:
            self._no_lot(form, dose.mg)
        said = self.message_text()
        saved = self._warned_once(
            form,
            values,
            lambda confirmed: self.service.record_dose(
                **values,
                unusual_confirmed=confirmed,
                caution_reason=None if self._caution_given is None else self._caution_given[1],
            ),
        )
        if said and said == form.warning_said and self.message_text() == said:
            # Answered by typing the lot: "Enter again records the dose without it" stood
            # above the entry lines after the dose was recorded with one (Xvfb QA).
            self.say("")
        return saved

    def _no_lot(self, form: DoseDialog, mg: float) -> None:
        """An esketamine dose without its lot number: the REMS monitoring form asks for it
        (CLINICAL.md, SPRAVATO REMS), and one Enter on a form filled from the last dose
        recorded it without, unsaid (QA). Said once, with the keyboard on Lot, naming the
        amount: at 1024x600 the question scrolled the Dose field out of view (Xvfb QA)."""
        self._said_once(
            form,
            "lot_number",
            f"No lot number for this {mg:g} mg of esketamine: the REMS monitoring form asks "
            "for it. Type it here, or Enter again records the dose without it.",
        )

    def _said_once(self, form: FormDialog, field: str, sentence: str) -> None:
        """Refuse with ``sentence``; Enter again goes on once it has been on screen for
        ALERT_READ_S, so a reflex double Enter is not an answer to it. Answered, it is not
        asked again by this form (a dose warned of next, then entered again)."""
        if sentence in form.answered:
            return
        asked = form.asked.get(sentence)
        if asked is None or not (form.error.isVisible() and form.error.text() == sentence):
            form.asked[sentence] = self.service.monotonic()
        elif self.service.monotonic() - asked >= ALERT_READ_S:
            form.answered.add(sentence)
            if self.message_text() == sentence:
                self.say("")
            return
        # Also above the entry lines: at 1024x600 the screening form's sentence sat under
        # its last rows, out of view, the keyboard on the first question (QA).
        form.warning_said = sentence
        self.say(sentence)
        raise ValidationError(field, sentence)

    def _warned_once(self, form: FormDialog, values: object, save: Callable[[bool], Any]) -> Any:
        """``save(confirmed)``, where an UnusualDose is confirmed by entering the same values
        again: with its sentence still showing (no field changed since) and for at least
        ALERT_READ_S, so a double Enter, or Enter on a form filled with the last such dose,
        is not a confirmation (second QA pass)."""
        seen = form.warned
        fresh = seen is None or seen[0] != values or not form.error.isVisible()
        confirmed = not fresh and self.service.monotonic() - seen[1] >= ALERT_READ_S
        try:
            saved = save(confirmed)
        except UnusualDose as exc:
            if fresh:
                form.warned = (values, self.service.monotonic())
            form.warning_said = str(exc)
            self.say(str(exc))
            raise
        if confirmed:
            # The warning's "Enter again records it" stayed after it was recorded, and read
            # as if nothing had been saved (QA: a dose might be entered twice).
            self.say("Recorded past the warning; the log says so, with your name.")
        return saved

    def open_banner_alert(self) -> None:
        """Ctrl+Shift+K: the alert the banner shows, whole, from its line in the log. The
        banner said "Ctrl+L, Enter", which opened the newest entry: any entry written
        after the alert (QA)."""
        self._act()
        alert_id = self._banner_alert[0]
        if alert_id is None or not self.banner.isVisible():
            self.say("No alert is on the banner.")
            return
        row = self.log_model.row_of(alert_id)
        self.log_model.reveal(row)
        self.log_view.setFocus()
        self.log_view.setCurrentIndex(self.log_model.index(row, 0))
        self.log_view.scrollTo(self.log_model.index(row, 0))
        self.open_entry()

    def open_entry(self) -> None:
        """The entry chosen in the log, whole, in the chart's place (Enter in the log)."""
        self._act()
        entry = self.selected_entry()
        if entry is None:
            return
        words = entry_html(entry)
        alert = next((a for a in self.service.alerts() if a.id == entry.id), None)
        if alert is not None and alert.action:
            # What to do, whole: at 1024x600 the banner keeps two sentences of it and
            # points here (QA: the emergency signs were reachable by no key).
            words += "<br><br><b>What to do:</b> " + html.escape(alert.action)
        others = [a for a in self.service.open_alerts() if alert is not None and a.id != alert.id]
        if alert is not None and others:
            # The banner says "(+7 more)"; they were to be found only by scrolling the log
            # (Xvfb QA). Most severe first, as the banner takes them.
            words += "<br><br><b>Also not yet acknowledged:</b><br>" + "<br>".join(
                html.escape(f"{a.level.upper()}: {a.reading}: {a.reason}") for a in others
            )
        if entry.original is not None:
            # Every correction, with its time: the log shows the first wording and the
            # reasons, not what an entry corrected twice said in between (QA).
            said = self.service.corrections_of(entry.kind, entry.id)
            if said:
                words += "<br><br><b>Corrections:</b><br>" + "<br>".join(
                    html.escape(line) for line in said
                )
        dialog = EntryDialog(f"{entry.clock}  {entry.t_plus}", words, self)
        dialog.typed.connect(self._begin_observation)
        self.entry_dialog = (
            self._open(
                dialog,
                lambda _d: None,
                closed=self.log_view.setFocus,  # back to reading the log, where it was
            )
            or self.entry_dialog
        )

    def show_words(self, when: str, what: str, words_html: str) -> bool:
        """Words to read in the chart's place until Esc or Enter, as an entry whole: the
        patient's survey on the clinician's return. In the message line they went at the
        next key, "Not safe at all" with them (QA). False if a form holds that place."""
        dialog = EntryDialog(when, words_html, self, what=what)
        dialog.typed.connect(self._begin_observation)
        opened = self._open(dialog, lambda _d: None, closed=self.refocus)
        if opened is not None:
            self.entry_dialog = opened
        return opened is not None

    def open_correct(self) -> None:
        self._act()
        entry = self.selected_entry()
        if entry is None:
            self.say("Select an entry in the log first: Ctrl+L, then the arrow keys.")
            return
        # The entry corrected is the one in view (QA: after a text-size change the chosen
        # entry had moved out of the log's view, and Ctrl+E corrected it unseen).
        for chosen in self.log_view.selectionModel().selectedRows()[:1]:
            self.log_view.scrollTo(chosen)
        if entry.is_system:
            self.say("kapdesk's own lines cannot be corrected; select one of your entries.")
            return
        stored = self.service.entry(entry.kind, entry.id)
        if isinstance(stored.content, Dose) and stored.content.entered_in_error:
            self.say(DOSE_IN_ERROR_KEPT)
            return
        fields = editable(stored)
        labels = field_labels(stored)
        if entry.kind in TIMED_KINDS:
            # The time it was taken, last (QA: a reading typed late, or given the wrong
            # time, could not be put right). A dose's stays: the first one is T0.
            fields[CLOCK_TIME] = self.service.local_clock(stored.at)
            labels[CLOCK_TIME] = TIME_LABELS[entry.kind]
        self.correct_dialog = (
            self._open(
                CorrectDialog(
                    f"{entry.clock}  {entry.t_plus}  {entry.text}",
                    fields,
                    labels,
                    self,
                    in_error=DOSE_IN_ERROR if entry.kind == "dose" else None,
                ),
                lambda d: self._warned_once(
                    d,
                    (d.changes(), d.reason.text()),
                    lambda confirmed: self.service.correct(
                        entry.kind,
                        entry.id,
                        parse_changes(entry.kind, d.changes()),
                        d.reason.text(),
                        unusual_confirmed=confirmed,
                    ),
                ),
                # Saved: the selection goes, so a later Ctrl+E does not reopen this entry
                # (issue 10 QA); a baseline moved by it is said (Xvfb QA).
                saved=self._corrected,
            )
            or self.correct_dialog
        )

    def _corrected(self, outcome: object) -> None:
        self.log_view.clearSelection()
        if isinstance(outcome, Outcome) and outcome.notice:
            self.say(outcome.notice)


HELD_PREFIX = "Not recorded: “"


def held_in_vitals(held: str) -> str:
    """Said on leaving the Vitals line with a reading in it (Xvfb QA: Esc from "140/9" left
    it there unrecorded, without a word)."""
    return f"{HELD_PREFIX}{held}” is still in the Vitals line; Enter there records it."


# How the end panel's word on what waits begins (EndActs._unrecorded), as said or refused.
UNRECORDED_STARTS = ("Not recorded:", "The IV infusion of", "Not ended. Not recorded:",
                     "Not ended. The IV infusion of")  # fmt: skip


class EndActs(Base):
    """The discharge criteria, the checklist and the override; then the summary."""

    def ask_end(self) -> None:
        self._act()
        if self.service.ended_at is not None:
            return
        if self.form is not None:
            self.say(f"Finish or cancel “{self.form.windowTitle()}” first (Esc cancels it).")
            self.form.focus_first()
            return
        service = self.service
        self.discharge.ask_ready_minutes(service.esketamine_session())
        self._show_discharge_items()
        self.side.show_panel(self.discharge)
        unrecorded = self._unrecorded()
        if unrecorded:
            self.discharge.show_error(unrecorded)
            self.say("")  # said in the panel, not twice
        self.discharge.focus_first()

    def _unrecorded(self) -> str:  # see UNRECORDED_STARTS
        """What is typed in an entry line and not recorded, as a short sentence ("" if
        nothing): ending greys the lines, and a reading or a note left there was lost with
        no word (Xvfb QA: 142/88 typed, Ctrl+Shift+E, ended; the REMS form's last BP was
        older). Short: at 1024x600 a long one pushed over the criteria above it."""
        waiting = []
        reading = self.vitals.line.text().strip()
        if reading:
            waiting.append(f"the Vitals line holds {reading}")
        tags = self.observation.selected_tags()
        if self.observation.line.text().strip():
            waiting.append("the Observation line holds a note")
        elif tags:  # the tag row is hidden while the panel is open: named
            waiting.append(f"the tags {', '.join(tags)} are chosen (F-keys untick them)")
        said = (
            f"Not recorded: {' and '.join(waiting)}. Enter it, or clear it, before ending."
            if waiting
            else ""
        )
        # Nor is a session ended over an infusion still running: its stop time is the
        # record of it (Xvfb QA: ended with 35 mg "infusion running" for good).
        running = self.service.running_infusions()
        if running:
            said += (
                f"{' ' if said else ''}The IV infusion {self.service.infusion_words(running[-1])}"
                " is still running: stop it (Ctrl+I twice) before ending."
            )
        return said

    def _show_discharge_items(self, *, keep_error: bool = False) -> None:
        self.discharge.show_items(
            self.service.discharge_items(self.discharge.confirmed_items()),
            open_alerts=len(self.service.open_alerts()),
            keep_error=keep_error,
        )
        if not keep_error:
            self.refresh_unrecorded()

    def refresh_unrecorded(self) -> None:
        """The end panel's word on what waits, as it is now: still said while anything
        does (Xvfb QA: the reading entered, the sentence went with the note still in its
        line), gone once nothing does."""
        if getattr(self, "_discharge", None) is None or not self.end_panel_shown():
            return
        if self.service.ended_at is not None:
            return
        unrecorded = self._unrecorded()
        said = self.discharge.error.text() if self.discharge.error.isVisible() else ""
        if unrecorded and not said.endswith(unrecorded):
            self.discharge.show_error(unrecorded)
        elif not unrecorded and said.startswith(UNRECORDED_STARTS):
            self.discharge.error.hide()

    def cancel_end(self) -> None:
        if self.service.ended_at is not None:
            self.closed.emit()
            return
        self.side.show_base()
        held = self.vitals.line.text().strip()
        if held:
            self.focus_vitals()  # where the reading waits: Enter records it (Xvfb QA)
            self.say(held_in_vitals(held))
        else:
            self.focus_observation()
            self.say("")

    def confirm_end(self) -> None:
        self._act()
        unrecorded = self._unrecorded()
        if unrecorded:
            self.discharge.show_error(f"Not ended. {unrecorded}")
            return
        try:
            self.summary = self.service.end(
                self.discharge.confirmed_items(),
                override_reason=self.discharge.override.text(),
                ready_to_leave_minutes=self.discharge.ready_minutes.text(),
            )
        except Refused as exc:
            if isinstance(exc, ValidationError) and exc.field == "discharge":
                # The unmet criteria are listed just above, marked: the refusal says what
                # to do, short enough to be read whole at 1024x600, and the keyboard goes
                # to the reason (it stayed on a check box, the field out of view; QA).
                items = self.service.discharge_items(self.discharge.confirmed_items())
                unmet = sum(1 for item in items if not item.met)
                self.discharge.show_error(
                    f"Not all discharge criteria are met ({unmet} marked ✘ NOT MET above). "
                    "To end anyway, type the reason for the override, then Enter."
                )
                self.discharge.focus_override()
            else:
                self.discharge.show_error(str(exc))
                if isinstance(exc, ValidationError) and exc.field == "ready_to_leave_minutes":
                    self.discharge.focus_ready_minutes()

    def show_end_summary(self) -> None:
        """What the ended session holds, and the alerts still open: the banner counts them
        too, but the summary is what is read at the end (QA). Said again as each is
        acknowledged."""
        summary = self.summary
        assert summary is not None
        highest = summary.highest_words() or "no blood pressure recorded"
        pending = len(self.service.open_alerts())
        still = f" {_alerts(pending)} not acknowledged: Ctrl+K." if pending else ""
        # Ended with criteria unmet: said here, where the end is read, with the reason
        # recorded (QA: the summary read as if every criterion had been met). Which ones
        # are in the log's discharge line and the report.
        unmet = (
            f"Ended by override, {len(summary.unmet)} of {summary.criteria} discharge "
            f"criteria not met (listed in the log); reason: {summary.override_reason}. "
            if summary.unmet
            else ""
        )
        # Offered as done once it is (QA: offered still after the patient had done it).
        surveys = self.service.state.events_of("survey_return")
        survey = (
            f"The patient's survey: done, back at {self.service.local_clock(surveys[-1].at)} "
            "(Ctrl+Shift+S for another)."
            if surveys
            else "The patient's survey: Ctrl+Shift+S."
        )
        self.discharge.show_summary(
            f"{unmet}Duration {format_elapsed(summary.duration)} · {summary.doses} dose(s), "
            f"{summary.total_mg:g} mg in all · {summary.readings} vitals reading(s) · "
            f"highest BP {highest}.{still} {survey}"
        )

    def _show_review(self) -> None:
        """A past session read only (issue 12): the chart, the sedation strip and the
        whole log as recorded, corrections and alerts included; the clocks give the
        session's span; no entry line, and no key that writes."""
        service = self.service
        ended = service.ended_at
        assert ended is not None
        self.timer.stop()
        # Reading and filing, and correcting an entry: an error found while writing up the
        # next day could not be put right anywhere (Xvfb QA; README: "nothing can be added
        # once it has ended; corrections still can").
        readable = {
            self.actions_by_name[name]
            for name in ("log", "correct", "report", "print", "rems_form", "survey")
        }
        for action in (*self.actions_by_name.values(), *self.scale_actions):
            action.setEnabled(action in readable)
        # Nothing to acknowledge here: the alerts and what became of them are in the log,
        # and a banner with its button took the keyboard in a read-only view (QA).
        for widget in (self.observation, self.vitals, self.observation.tags_box, self.banner):
            widget.hide()
        self.review_header()
        self.focus_log()

    def review_header(self) -> None:
        """A past session's span, T0 and what it holds, in the header: again after a
        correction (the first dose marked entered in error moves T0)."""
        service = self.service
        ended = service.ended_at
        assert ended is not None
        clock = service.local_clock
        started = service.started_at
        day = started.astimezone(service.state.zone)
        protocol = service.protocol_label
        self.header.session_clock.set_caption(f"Duration {clock(started)}–{clock(ended)}")
        self.header.session_clock.set_time(format_elapsed(ended - started))
        first = service.first_dose_at
        if first is None:
            self.header.dose_clock.set_caption("No dose was given")
            self.header.dose_clock.set_time("--:--:--")
        else:
            self.header.dose_clock.set_caption(f"From the first dose, {clock(first)}")
            self.header.dose_clock.set_time(format_elapsed(ended - first))
        self.header.set_check("", None)
        # With the banner hidden, the alerts left unacknowledged are counted here, so the
        # reader knows to look for them in the log (QA).
        pending = len(service.open_alerts())
        never = (
            f" {_alerts(pending)} never acknowledged: “NOT ACKNOWLEDGED” in the log."
            if pending
            else ""
        )
        self.header.set_status(
            f"Ended — read only. {protocol}, {day:%a %d %b %Y} "
            f"({service.state.row['zone_name']}).{never} Ctrl+E corrects the chosen entry; "
            "Esc: back to the patients."
        )

    def _show_ended(self) -> None:
        self.summary = self.service.summary()
        self.show_end_summary()
        self.side.show_panel(self.discharge)
        # Ctrl+K still acknowledges an alert left open (the banner offers it); Ctrl+O and
        # Ctrl+B say that nothing more can be entered.
        kept = ("correct", "log", "report", "print", "rems_form", "survey")
        kept += ("acknowledge", "alert_whole")
        for name, action in self.actions_by_name.items():
            action.setEnabled(name in (*kept, "observation", "vitals"))
        for action in self.scale_actions:
            action.setEnabled(False)
        self.vitals.close_fields()
        self.observation.setEnabled(False)
        self.vitals.setEnabled(False)
        # Greyed, they still read "type, then Enter" (QA: the ended session looked open).
        for line in (self.observation.line, self.vitals.line):
            line.setPlaceholderText("session ended")
        self.fit_tag_row()  # no tag keys' row where nothing can be entered
        self.tick()
        self._show_alerts(self.service.open_alerts())  # their advice is past (workspace.py)
        # The log, not the Back button: a stray Enter must not leave the session's record.
        self.focus_log()
        self.ended.emit()


class ReportActs(Base):
    """The session's report: saved as a PDF where the clinician chooses, or printed; each
    an audit event (issue 12)."""

    def save_report(self, *, target: Path | None = None) -> None:
        """``target``: where, without asking (tests)."""
        target = target or self._choose_file(
            "Save the session report (a PDF: anyone who opens it can read it)",
            "report",
            "PDF (*.pdf)",
        )
        if target is not None:
            self._save_document(target, rems=False)

    def save_rems_form(self, *, target: Path | None = None) -> None:
        """The REMS Patient Monitoring Form's fields from the record, as a PDF to print or
        CSV, by the name chosen; what is missing is named, never left blank (issue 12).
        Refused, before a file is asked for, for a session that is not esketamine's (QA:
        an IV ketamine session's form gave its ketamine lot as the REMS lot)."""
        if not self.service.esketamine_session():
            self.say(f"{self.service.NOT_REMS} (Ctrl+Shift+P).")
            return
        target = target or self._choose_file(
            "Save the REMS monitoring form (PDF or CSV: anyone who opens it can read it)",
            "rems",
            "PDF (*.pdf);;CSV (*.csv)",
        )
        if target is not None:
            self._save_document(target, rems=True)

    def _choose_file(self, title: str, name: str, filters: str) -> Path | None:
        from PySide6.QtWidgets import QFileDialog

        day = self.service.started_at.astimezone(self.service.state.zone)
        default = Path.home() / f"kapdesk-{name}-{day:%Y-%m-%d-%H%M}.pdf"
        chosen, _filter = QFileDialog.getSaveFileName(
            self,
            title,
            str(default),
            filters,
            options=QFileDialog.Option.DontConfirmOverwrite,  # never replaced: refused later
        )
        return Path(chosen) if chosen else None

    def _save_document(self, target: Path, *, rems: bool) -> None:
        from kapdesk.ui.report import save_document

        what = "The form" if rems else "The report"
        try:
            saved = save_document(self.service, target, rems=rems)
        except OSError as exc:
            self.say(_not_written(what, target, exc))
            return
        if rems:
            self.say(
                f"REMS form saved: {target}; {len(saved.missing)} field(s) are not in the "
                "record and are named in it. It is not encrypted: file it safely."
            )
        else:
            self.say(
                f"Report saved: {target} ({_pages(saved.pages)}). It is not encrypted: file it "
                "safely."
            )

    def print_report(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        from kapdesk.ui.report import render, report_facts

        service = self.service
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print the session report")
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            self.refocus()
            return
        facts = report_facts(service, service.state.clinician_name(service.store.clinician_id))
        pages = render(service, facts, printer)
        service.store.record_event(
            "report",
            {"session_id": str(service.id), "format": "print", "printer": printer.printerName()},
        )
        self.say(f"Report sent to {printer.printerName() or 'the printer'} ({_pages(pages)}).")
        self.refocus()


def _not_written(what: str, target: Path, error: OSError) -> str:
    if isinstance(error, FileExistsError):
        return f"{target} already exists: choose a new name. Nothing was replaced or saved."
    reason = error.strerror or str(error)
    return f"{what} could not be written to {target} ({reason}); nothing was saved."


def _pages(count: int) -> str:
    return "1 page" if count == 1 else f"{count} pages"


def _alerts(count: int) -> str:
    return f"{count} alert{'s' if count != 1 else ''}"
