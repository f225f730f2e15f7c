"""The session log's words: each entry as one line a clinician reads at a glance."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kapdesk.clinical.elapsed import format_t_plus
from kapdesk.clinical.entries import ROUTE_LABELS, Route
from kapdesk.clinical.scales import REMS_CHECK_ID, REMS_QUESTIONS, SCALES
from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.session.entries import Dose, Observation, Score, Stored, Vitals
from kapdesk.session.state import SessionEvent, SessionState

SYSTEM_TAG = "kapdesk"  # notes kapdesk itself writes (resumption, clock jumps)


@dataclass(frozen=True, slots=True)
class LogEntry:
    kind: str  # an entry kind, or "event" for kapdesk's own lines
    id: uuid.UUID
    at: dt.datetime
    clock: str
    t_plus: str
    text: str
    original: str | None  # what the entry said before it was corrected
    reasons: tuple[str, ...]
    is_system: bool = False
    # Who entered it, and who made each correction, where the record has clinicians'
    # accounts (issue 14); empty for entries made under a login before accounts.
    by: str = ""
    corrected_by: tuple[str, ...] = ()


def correctors(entry: LogEntry) -> str:
    """ " by Ana Ruiz, MD" (and whoever else corrected it), or "" without accounts."""
    names = list(dict.fromkeys(name for name in entry.corrected_by if name))
    return f" by {' and '.join(names)}" if names else ""


def log_entry(state: SessionState, entry: Stored) -> LogEntry:
    text = describe(state, entry.id, entry.content)
    original = None
    if entry.original is not None:
        before = describe(state, entry.id, entry.original)
        if entry.original_at is not None and entry.original_at != entry.at:
            before = f"{state.local_clock(entry.original_at)} {before}"
        original = before if before != text else None
    tags = entry.content.tags if isinstance(entry.content, Observation) else ()
    return LogEntry(
        kind=entry.kind,
        id=entry.id,
        at=entry.at,
        clock=state.local_clock(entry.at),
        t_plus=format_t_plus(entry.at, state.first_dose_at),
        text=text,
        original=original,
        reasons=entry.reasons,
        is_system=SYSTEM_TAG in tags,
        by=state.signed_name(entry.recorded_by),
        corrected_by=tuple(state.signed_name(who) for who in entry.corrected_by),
    )


LATE_ALERT = dt.timedelta(minutes=1)
UNSIGNED_EVENTS = frozenset({"alert", "alert_cleared", "self_report", "handover"})


def event_instant(event: SessionEvent) -> dt.datetime:
    """Where an event stands in the log. An alert stands beside the reading it is about:
    one raised late (the reading corrected, or kapdesk stopped before it could raise it)
    is not set apart from its reading, and many raised at once (the demo) do not push
    the newest entries out of view. Its banner is what draws the eye."""
    if event.kind == "alert" and event.payload.get("taken_at"):
        taken = dt.datetime.fromisoformat(str(event.payload["taken_at"]))
        return min(event.at, taken)
    return event.at


def event_entry(state: SessionState, event: SessionEvent) -> LogEntry:
    if event.kind == "handover":
        text = describe_handover(state, event.payload)
    elif event.kind == "alert_ack":
        # Which alert: two acknowledgements read the same, each "Alert acknowledged" (QA).
        who = state.clinician_name(event.recorded_by)
        text = f"Alert acknowledged by {who}."
        try:
            alert = state.event(str(event.payload["alert_id"]))
        except KeyError:
            pass
        else:
            text = f"Alert acknowledged by {who}: {alert.payload['reason']}"
            if event.payload.get("with_dose_caution"):
                # Acknowledged as the pre-dose caution was weighed (service.py).
                text = (
                    f"Alert acknowledged by {who} with the pre-dose caution: "
                    f"{alert.payload['reason']}"
                )
            elif event.payload.get("after_end"):
                text = (
                    f"Alert acknowledged by {who} with the correction that raised it, made "
                    f"after the session ended: {alert.payload['reason']}"
                )
            elif event.payload.get("restates"):
                # Carried over from the alert the correction restated (alerting.reconcile).
                text = (
                    f"Alert acknowledged by {who} with the correction (the alert it restates "
                    f"had been acknowledged): {alert.payload['reason']}"
                )
    else:
        text = describe_event(event.kind, event.payload, state.clinician_name(event.recorded_by))
    if event.kind == "dose_above_usual":
        text += _dose_since(state, event.payload.get("dose_id"))
    at = event_instant(event)
    if event.kind == "alert":
        if event.at - at >= LATE_ALERT:
            text += f" (raised at {state.local_clock(event.at)})"
        text += _alert_outcome(state, str(event.id))
    # A clinician's own act (screening, an intention, a hand-over to the survey) is signed
    # like an entry, unless its words already name them; kapdesk's findings and the
    # patient's answers are not a clinician's entries.
    by = "" if event.kind in UNSIGNED_EVENTS else state.signed_name(event.recorded_by)
    return LogEntry(
        kind="event",
        id=event.id,
        at=at,
        clock=state.local_clock(at),
        t_plus=format_t_plus(at, state.first_dose_at),
        text=text,
        original=None,
        reasons=(),
        is_system=True,
        by="" if by and by in text else by,
    )


HANDOVER_WAYS = {
    "handover": "Ctrl+Shift+H",
    "unlock": "unlocking the lock screen with their own PIN",
    "survey": "coming back from the patient's survey with their own PIN",
}


def describe_handover(state: SessionState, payload: Mapping[str, Any]) -> str:
    giver = state.clinician_name(uuid.UUID(payload["from_clinician_id"]))
    taker = state.clinician_name(uuid.UUID(payload["to_clinician_id"]))
    way = str(payload.get("how"))
    how = HANDOVER_WAYS.get(way) or (
        "with the record's passphrase, not their own PIN"
        if way.endswith("record_passphrase")
        else "signing in"  # never a raw stored word in the log (QA)
    )
    return f"Hand-over: {giver} handed the session to {taker} ({how})."


def _alert_outcome(state: SessionState, alert_id: str) -> str:
    """What became of an alert, said on its own line so the log never reads as if a
    withdrawn finding stood (issue 9)."""
    for event in state.events_of("alert_cleared"):
        if event.payload.get("alert_id") == alert_id:
            return " — WITHDRAWN (the reading was corrected; see the later line)"
    ended = state.ended_at
    for event in state.events_of("alert_ack"):
        if event.payload.get("alert_id") == alert_id:
            # When, on the alert's own line: one acknowledged after the end read as if
            # acknowledged in time (QA).
            late = ", after the session ended" if ended is not None and event.at > ended else ""
            who = state.clinician_name(event.recorded_by)
            return f" — acknowledged by {who} at {state.local_clock(event.at)}{late}"
    # Once the session has ended the banner is gone: read back, an open alert's line read
    # as an acknowledged one's (QA). While it runs the banner says so, and the line stays
    # short enough for the log at 1024x600. Acknowledging it changes this line.
    return " — NOT ACKNOWLEDGED" if ended is not None else ""


def describe(state: SessionState, entry_id: uuid.UUID, content: object) -> str:
    if isinstance(content, Vitals):
        return content.reading.describe()
    if isinstance(content, Observation):
        tags = [t for t in content.tags if t != SYSTEM_TAG]
        prefix = f"[{', '.join(tags)}] " if tags else ""
        return f"{prefix}{content.text}".strip()
    if isinstance(content, Score):
        return describe_scale(content.scale_id, content.answers)
    assert isinstance(content, Dose)
    return describe_dose(content, state.weight_kg, state.stops.get(entry_id), state.local_clock)


def describe_dose(
    dose: Dose,
    weight_kg: float | None,
    stopped: dt.datetime | None,
    local_clock: Any,
) -> str:
    parts = [f"{dose.drug.capitalize()} {dose.mg:g} mg, {ROUTE_LABELS[dose.route]}"]
    if weight_kg:
        parts.append(f"{dose.mg / weight_kg:.2f} mg/kg")
    if dose.device_count:
        parts.append(f"{dose.device_count} device{'s' * (dose.device_count > 1)}")
    if dose.lot_number:
        parts.append(f"lot {dose.lot_number}")
    if dose.entered_in_error:
        # First, in words: struck-through text alone is easy to miss across the room.
        return "ENTERED IN ERROR, not given: " + " · ".join(parts)
    if dose.route is Route.IV:
        parts.append(f"stopped {local_clock(stopped)}" if stopped else "infusion running")
    return " · ".join(parts)


def describe_scale(scale_id: str, answers: Sequence[int]) -> str:
    if scale_id == REMS_CHECK_ID:
        parts = [
            f"{question.lower()} {'yes' if answer else 'no'}"
            for question, answer in zip(REMS_QUESTIONS, answers, strict=False)
        ]
        return "REMS check: " + ", ".join(parts)
    scale = SCALES.get(scale_id)
    if scale is None or not answers:
        return f"{scale_id}: {list(answers)}"
    return scale.label(answers[0])


def _dose_since(state: SessionState, dose_id: object) -> str:
    """What became of a dose recorded past a warning, if it was corrected since: read
    quickly, "past the warning: 360 mg ..." said 360 mg was given after it had been
    corrected to 36 (Xvfb QA)."""
    try:
        dose = state.entry("dose", str(dose_id))
    except (KeyError, ValueError):
        return ""
    if not dose.reasons:
        return ""
    assert isinstance(dose.content, Dose)
    now = describe_dose(dose.content, state.weight_kg, state.stops.get(dose.id), state.local_clock)
    return f" (the dose, corrected, now reads: {now})"


def describe_event(kind: str, payload: Mapping[str, Any], who: str) -> str:
    if kind == "alert":
        # The suggested action is in the banner and the stored event; the log says the finding.
        return f"{payload['level'].upper()} alert: {payload['reason']}"
    if kind == "alert_ack":
        return f"Alert acknowledged by {who}."
    if kind == "alert_cleared":
        return f"Alert withdrawn: {payload['reason']}"
    if kind == "dose_caution_ack":
        if payload.get("further_dose"):
            return f"Further dose despite {payload['reading']}, by {who}: {payload['reason']}"
        return f"Pre-dose caution acknowledged by {who}: {payload['reason']}"
    if kind == "dose_above_usual":
        return f"Recorded by {who} past the warning: {payload['warning']}"
    if kind == "screening":
        yes = [CONTRAINDICATIONS.get(k, k) for k, v in payload["contraindications"].items() if v]
        meds = [MEDICINES.get(k, k) for k, v in payload["medicines"].items() if v]
        text = "Screening: " + (
            ("contraindication or caution: " + ", ".join(yes)) if yes else "no contraindications"
        )
        # Said either way: "nothing ticked" records both (Xvfb QA: the log said only the
        # contraindications, the form's question both).
        text += ("; concomitant: " + ", ".join(meds)) if meds else "; no interacting medicines"
        if payload.get("decision"):
            text += f". Decision by {who}: {str(payload['decision']).rstrip('.')}"
        if payload.get("intention"):
            text += f". Intention: {str(payload['intention']).rstrip('.')}"
        return text + "."  # one full stop, whatever the clinician typed at the end
    if kind == "no_protocol":
        return (
            f"Started without a protocol (no scheduled checks, no discharge criteria); "
            f"reason given by {who}: {payload['reason']}"
        )
    if kind == "discharge":
        if payload.get("override_reason"):
            return (
                f"Session ended by {who} with criteria unmet ({', '.join(payload['unmet'])}): "
                f"{payload['override_reason']}"
            )
        note = f" Note: {payload['note']}" if payload.get("note") else ""
        if payload.get("criteria") == 0:
            return f"Session ended by {who}; it had no protocol, so no discharge criteria.{note}"
        return f"Discharge criteria met; session ended by {who}.{note}"
    if kind == "intention":
        return f"Intention (the patient's words): {payload['text']}"
    if kind == "survey_handover":
        return (
            f"Handed to the patient for their survey ({payload['survey']}) by {who}: "
            "kapdesk's screen hidden until the clinician returns."
        )
    if kind == "survey_return":
        return f"Back from the patient's survey ({who}), after {payload['minutes']} min."
    if kind == "self_report":
        # The summary was written with the answers (session/survey.py): the score and its
        # band, why it was not scored, or the reflection's answers in short.
        return f"Patient's survey, {survey_form(payload)}: {payload['summary']}"
    return kind


def survey_form(payload: Mapping[str, Any]) -> str:
    """A response's form, and where it stands in its sitting: an urgent answer is stored
    at once, and the form again once finished (session/survey.py)."""
    stage = payload.get("stage")
    if stage == "early":
        return f"{payload['name']} so far (stored at once for its urgent answer)"
    if stage == "again":
        return f"{payload['name']} as finished (replaces the one stored earlier)"
    return str(payload["name"])
