"""A self-report response as the record keeps it (a session event's payload), and the
urgent alert an answer can call for: plain data, shared by the survey and the demo."""

from __future__ import annotations

from typing import Any

from kapdesk.clinical.self_report import Instrument, ScoreResult, Survey


def self_report_payload(
    survey: Survey, instrument: Instrument, result: ScoreResult
) -> dict[str, Any]:
    """The stored response: every answer given, the total (or why there is none), and a
    one-line summary the log and the report show."""
    return {
        "survey": survey.id,
        "instrument": instrument.id,
        "name": instrument.name,
        "scored": instrument.scored,
        "answers": dict(result.answers),
        "total": result.total,
        "band": result.band,
        "clusters": dict(result.clusters),
        "refused_reason": result.refused_reason,
        "urgent": result.urgent,
        "summary": summary(instrument, result),
    }


def summary(instrument: Instrument, result: ScoreResult) -> str:
    if instrument.scored:
        if result.total is None:
            return str(result.refused_reason)  # "GAD-7 is not scored: item 3 is unanswered…"
        text = f"{result.total}"
        if result.band:
            text += f" ({result.band})"
        if result.urgent:
            text += f"; item {instrument.urgent.item if instrument.urgent else ''} answered above 0"
        return text
    parts = []
    for question in instrument.questions:
        value = result.answers.get(question.id)
        if value is None:
            continue
        if question.kind == "text":
            parts.append(f"{question.text} “{value}”")
        else:
            chosen = next((c.text for c in question.choices if c.value == value), str(value))
            parts.append(f"{question.text} {chosen}")
    return "; ".join(parts) if parts else "no answers"


def urgent_alert_payload(instrument: Instrument, result: ScoreResult) -> dict[str, Any]:
    """PHQ-9 item 9 above 0 as an urgent alert (CLINICAL.md, "Scales": it needs the
    clinician's attention the same day, whatever the total)."""
    rule = instrument.urgent
    assert rule is not None
    question = instrument.question(rule.item)
    value = result.answers.get(rule.item)
    chosen = next((c.text for c in question.choices if c.value == value), str(value))
    return {
        "rule": f"{instrument.id}_item{rule.item}",
        "level": "urgent",
        "reading": f"{instrument.name} item {rule.item}: “{chosen}” ({value})",
        "reason": f"{instrument.name} item {rule.item} answered “{chosen}” in the patient's survey",
        "action": rule.message,
        "source": "the patient's survey",
    }
