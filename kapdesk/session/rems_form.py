"""The SPRAVATO REMS Patient Monitoring Form's fields, filled from the record (issue 12).

The fields are those CLINICAL.md lists for the form (due within 7 days of the session).
Each field has its value from the record, or says what is missing and why, never a
blank: kapdesk does not record some of them (sex, the certified setting, serious adverse
events as such), and a session may lack others (no reading near 40 minutes, no REMS
check, no "ready to leave" estimate). The clinician transcribes or completes the form;
kapdesk does not submit it anywhere.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapdesk.clinical.scales import REMS_CHECK_ID, REMS_QUESTIONS, SCALES
from kapdesk.clinical.screening import MEDICINES
from kapdesk.session.service import SessionService
from kapdesk.store.export_csv import spreadsheet_safe

REMS_MINIMUM_MINUTES = 120  # CLINICAL.md: total minutes from the first device >= 120


@dataclass(frozen=True)
class FormField:
    label: str
    value: str  # "" when missing
    missing: str = ""  # what is missing and what to do, when value is ""

    @property
    def shown(self) -> str:
        return self.value or f"MISSING: {self.missing}"


def rems_form(service: SessionService) -> list[FormField]:
    state = service.state
    patient = service.store.entry("patient", state.row["patient_id"]).current
    figures = service.rems_summary()
    screened = service.screening()
    fields: list[FormField] = [
        FormField("Patient name", str(patient["display_name"])),
        _field("Date of birth", patient.get("date_of_birth"), "not in kapdesk's record"),
        FormField("Sex", "", "kapdesk does not record sex: fill it in on the form"),
    ]
    medicines: Mapping[str, Any] = figures.get("concomitant_medicines") or {}
    for label in MEDICINES.values():
        if screened is None:
            fields.append(
                FormField(f"Concomitant: {label}", "", "no screening was recorded for the session")
            )
        else:
            fields.append(
                FormField(f"Concomitant: {label}", "yes" if medicines.get(label) else "no")
            )
    clinicians = sorted(
        {state.clinician_name(by) for by in state.recorders()}
        | {state.clinician_name(e.recorded_by) for e in state.events}
    )
    fields += [
        _field("Monitoring provider", ", ".join(clinicians), "no entry names a clinician"),
        FormField(
            "Monitoring setting",
            "",
            "the REMS-certified setting is not recorded in kapdesk: fill it in on the form",
        ),
        FormField(
            "Treatment date",
            f"{service.started_at.astimezone(state.zone):%Y-%m-%d} ({state.row['zone_name']})",
        ),
    ]
    esketamine = [d for d in state.doses() if d.content.drug == "esketamine"]
    total = sum(d.content.mg for d in esketamine)
    dose = (
        "" if not esketamine else f"{total:g} mg" if total in (56, 84) else f"other: {total:g} mg"
    )
    fields.append(_field("Dose", dose, "no esketamine dose was recorded"))
    lots = ", ".join(figures.get("lot_numbers") or [])
    unlotted = [d for d in esketamine if not d.content.lot_number]
    if lots and unlotted:
        # Xvfb QA: "LOT123" alone, the second 56 mg dose's missing lot said nowhere.
        at = ", ".join(state.local_clock(d.at) for d in unlotted)
        fields.append(
            FormField(
                "Lot number(s)",
                f"{lots}; none entered with the dose at {at}",
                "a dose has no lot number: add it (Ctrl+L, the dose, Ctrl+E)",
            )
        )
    else:
        fields.append(_field("Lot number(s)", lots, "no lot number was entered with the doses"))
    minutes = figures.get("minutes_first_dose_to_end")
    if minutes is None:
        fields.append(FormField("Minutes from the first device to the end", "", "no dose"))
    elif service.ended_at is None:
        fields.append(
            FormField(
                "Minutes from the first device to the end",
                "",
                f"the session has not ended ({minutes} minute{'' if minutes == 1 else 's'} so far)",
            )
        )
    else:
        under = f" (under the {REMS_MINIMUM_MINUTES}-minute minimum)" if minutes < 120 else ""
        fields.append(FormField("Minutes from the first device to the end", f"{minutes}{under}"))
    ended = service.ended_at is not None
    running = "the session has not ended"
    ready = _discharge(service).get("ready_to_leave_minutes")
    fields.append(
        _field(
            "Ready to leave without the 2-hour minimum (minutes)",
            "" if ready is None else str(ready),
            "not given when the session was ended (the end panel asks for it)"
            if ended
            else running,
        )
    )
    fields += [
        FormField(
            "Vitals acceptable before administration",
            "yes" if figures.get("vitals_acceptable_before_dosing") else "no",
        ),
        FormField(
            "Vitals acceptable before the session ended",
            ("yes" if figures.get("vitals_acceptable_before_end") else "no") if ended else "",
            "" if ended else running,
        ),
        _field("BP before administration", figures.get("bp_pre_dose"), "no pre-dose BP"),
        _field(
            "BP at about 40 minutes",
            figures.get("bp_at_40_minutes"),
            "no BP was taken near 40 minutes after the first device",
        ),
        _field(
            "BP before the end",
            figures.get("bp_before_end") if ended else "",
            "no BP was recorded"
            if ended
            else f"{running} (latest so far: {figures.get('bp_before_end') or 'none'})",
        ),
    ]
    checks = [s for s in state.scores() if s.content.scale_id == REMS_CHECK_ID]
    shown = _signs_in_the_record(service)
    for index, question in enumerate(REMS_QUESTIONS):
        sign = shown.get(question)
        if not checks:
            fields.append(
                FormField(
                    question,
                    f"yes during the session ({sign}); no REMS check was recorded" if sign else "",
                    "no REMS check (Ctrl+J) was recorded in the session",
                )
            )
            continue
        answers = [c.content.answers[index] for c in checks if len(c.content.answers) > index]
        seen = "yes" if any(answers) or sign else "no"
        why = f" ({sign})" if sign and not any(answers) else ""
        last = "yes" if answers and answers[-1] else "no"
        fields.append(
            FormField(question, f"{seen} during the session{why}; at the last check: {last}")
        )
    fields.append(
        FormField(
            "Serious adverse events",
            "",
            "kapdesk records observations and alerts, not adverse events as such: review "
            "the log and fill this in on the form",
        )
    )
    return fields


def _field(label: str, value: object, missing: str) -> FormField:
    text = "" if value in (None, "") else str(value)
    return FormField(label, text, "" if text else missing)


def _discharge(service: SessionService) -> Mapping[str, Any]:
    decisions = service.state.events_of("discharge")
    return decisions[-1].payload if decisions else {}


def rems_csv(fields: list[FormField]) -> str:
    """The form as CSV: field, value, and what is missing (empty when filled)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["field", "value", "missing"])
    for item in fields:
        writer.writerow([spreadsheet_safe(text) for text in (item.label, item.value, item.missing)])
    return out.getvalue()


def _signs_in_the_record(service: SessionService) -> dict[str, str]:
    """Sedation and dissociation the record shows outside the REMS checks, by question:
    a sedation score below its resolved level (MOAA/S under 5, RASS under 0) and an
    observation tagged "dissociated". QA: MOAA/S 3, RASS -3 and "[dissociated] says the
    room is melting" were in the log, and the form said "no during the session" from a
    REMS check with nothing ticked. The first sign of each, with its time, is named."""
    state = service.state
    signs: dict[str, str] = {}
    for score in state.scores():
        scale = SCALES.get(score.content.scale_id)
        # Below the level at which sedation counts as resolved (discharge's rule).
        if scale is not None and score.content.total < scale.resolved:
            total = score.content.total
            signs["Sedation"] = f"{scale.name} {total} at {state.local_clock(score.at)}"
            break
    for observation in state.observations():
        if "dissociated" in observation.content.tags:
            signs["Dissociation"] = (
                f"observation tagged dissociated at {state.local_clock(observation.at)}"
            )
            break
    return signs
