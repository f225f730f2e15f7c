"""Before the first dose: the screening, and the gate a dose must pass.

Every refusal here can be overridden with a reason, and the override is
recorded with who and when; the clinician decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapdesk.clinical.alerts import Alert, AlertThresholds, pre_dose_caution
from kapdesk.clinical.entries import clean_text
from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES, WHY_IT_MATTERS
from kapdesk.clinical.vitals import ValidationError
from kapdesk.session.state import SessionState

LABEL_GUIDANCE = (
    "SPRAVATO label, as a general guide: if blood pressure is above 140 systolic or 90 "
    "diastolic before dosing, weigh benefit and risk and consider delaying the session."
)


@dataclass(frozen=True)
class DoseGate:
    allowed: bool
    message: str
    caution: Alert | None = None  # set when an acknowledgement with a reason unlocks dosing


def screening(state: SessionState) -> Mapping[str, Any] | None:
    found = state.events_of("screening")
    return found[-1].payload if found else None


def screening_payload(
    contraindications: Mapping[str, bool],
    medicines: Mapping[str, bool],
    intention: str,
    decision: str | None,
) -> dict[str, Any]:
    """The answers as stored; any "yes" needs an explicit decision with a reason."""
    if set(contraindications) != set(CONTRAINDICATIONS) or set(medicines) != set(MEDICINES):
        raise ValidationError("screening", "Answer every screening question, yes or no.")
    flagged = [CONTRAINDICATIONS[k] for k, yes in contraindications.items() if yes]
    reason = (decision or "").strip()
    if flagged and not reason:
        raise ValidationError(
            "decision",
            f"“{flagged[0]}” was answered yes. {WHY_IT_MATTERS} To proceed, record your "
            "decision and its reason.",
        )
    return {
        "contraindications": dict(contraindications),
        "medicines": dict(medicines),
        "intention": clean_text(intention, "The intention") if intention.strip() else "",
        "decision": clean_text(reason, "The decision", limit=2000) if reason else None,
    }


def dose_gate(state: SessionState, thresholds: AlertThresholds) -> DoseGate:
    """Whether the next dose may be recorded, and what must happen first if not."""
    if state.first_dose_at is not None:
        return DoseGate(True, "")
    if screening(state) is None:
        return DoseGate(False, "Record the screening first (Ctrl+G).")
    readings = [r.reading for r in state.pre_dose_readings()]
    if not any(r.has_bp for r in readings):
        return DoseGate(False, "Record a pre-dose blood pressure first (Ctrl+B).")
    caution = pre_dose_caution(readings, thresholds)
    if caution is not None and not state.events_of("dose_caution_ack"):
        return DoseGate(False, f"{caution.reason} {LABEL_GUIDANCE}", caution)
    return DoseGate(True, "")


def caution_ack_payload(gate: DoseGate, reason: str) -> dict[str, Any]:
    if gate.caution is None:
        raise ValidationError("reason", "There is no pre-dose caution to acknowledge.")
    text = clean_text(reason, "The reason to dose", limit=2000)
    return {"reason": text, "reading": gate.caution.reading}
