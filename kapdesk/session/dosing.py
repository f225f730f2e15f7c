"""Before the first dose: the screening, and the gate a dose must pass.

Every refusal here can be overridden with a reason, and the override is
recorded with who and when; the clinician decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapdesk.clinical.alerts import Alert, AlertThresholds, Level, pre_dose_caution
from kapdesk.clinical.elapsed import minute_up
from kapdesk.clinical.entries import (
    ESKETAMINE_MG_PER_DEVICE,
    Drug,
    Route,
    clean_text,
    route_in_sentence,
)
from kapdesk.clinical.protocols import Protocol
from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES, WHY_IT_MATTERS
from kapdesk.clinical.vitals import ValidationError
from kapdesk.session.alerting import StoredAlert, alerts, reading_now, recheck_opens
from kapdesk.session.entries import Dose
from kapdesk.session.state import SessionState

FURTHER_DOSE_GUIDANCE = (
    "Another dose is recorded only with the reason to give it now: type it, and the dose "
    "form opens."
)
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
        urgent = _urgent_since_last_dose(state)
        if urgent is None:
            return DoseGate(True, "")
        return DoseGate(False, f"{urgent.reason} {FURTHER_DOSE_GUIDANCE}", urgent)
    if screening(state) is None:
        return DoseGate(False, "Record the screening first (Ctrl+G).")
    readings = state.pre_dose_values()
    if not any(r.has_bp for r in readings):
        return DoseGate(False, "Record a pre-dose blood pressure first (Ctrl+B).")
    caution = pre_dose_caution(readings, thresholds) or _urgent_not_rechecked(state)
    if caution is not None and not state.events_of("dose_caution_ack"):
        return DoseGate(False, f"{caution.reason} {LABEL_GUIDANCE}", caution)
    return DoseGate(True, "")


def _urgent_since_last_dose(state: SessionState) -> Alert | None:
    """The newest URGENT finding on a reading taken since the last dose was given, unless
    a reason to dose again was recorded after it was raised. Xvfb QA: BP 205/125, SpO2 85 %
    and RR 6 standing, and Ctrl+D, Enter recorded a second 36 mg infusion without a word,
    the amount filled in."""
    doses = state.doses()
    if not doses:
        return None
    last_given = doses[-1].at
    found = [a for a in _urgent_standing(state) if (a.taken_at or a.at) >= last_given]
    if not found:
        return None
    urgent = max(found, key=lambda a: a.at)
    if any(ack.at >= urgent.at for ack in state.events_of("dose_caution_ack")):
        return None
    # Every urgent finding, not the newest alone (Xvfb QA: BP 205/125 went unnamed beside
    # SpO2 85 %), each sentence ending once.
    findings = "; ".join(dict.fromkeys(a.reason.rstrip(". ") for a in found))
    return _restated(
        urgent,
        f"URGENT since the last dose: {reading_now(state, urgent)}: {findings}.",
        "an urgent finding after a dose",
    )


def _urgent_not_rechecked(state: SessionState) -> Alert | None:
    """The newest urgent pre-dose reading, if the recheck it calls for (CLINICAL.md: two
    readings 5 minutes apart) has not been taken. Xvfb QA: 182/112, then 138/86 a minute
    later, and the first dose went in without a word while the header still said "Recheck
    after an urgent reading ... a reading from 21:05 counts"."""
    opens = recheck_opens(state)
    if opens is None:
        return None
    standing = _urgent_standing(state)
    if not standing:
        return None
    urgent = max(standing, key=lambda a: a.taken_at or a.at)  # the newest reading's
    counts = state.local_clock(minute_up(opens))
    return _restated(
        urgent,
        f"{urgent.reason} Its recheck, a reading from {counts}, is not taken yet.",
        "CLINICAL.md, urgent: two readings 5 minutes apart",
    )


def _urgent_standing(state: SessionState) -> list[StoredAlert]:
    return [a for a in alerts(state) if a.level is Level.URGENT and not a.withdrawn]


def _restated(urgent: StoredAlert, reason: str, source: str) -> Alert:
    """A stored URGENT alert as the dose gate's caution, in the gate's words."""
    return Alert(
        rule=urgent.rule,
        level=Level.URGENT,
        reading=urgent.reading,
        reason=reason,
        action=urgent.action,
        source=source,
    )


def caution_ack_payload(gate: DoseGate, reason: str, *, further: bool = False) -> dict[str, Any]:
    """What is stored when the clinician gives the reason to dose past ``gate``'s caution;
    ``further``: a dose after the first, past an urgent finding since the last."""
    if gate.caution is None:
        raise ValidationError("reason", "There is no pre-dose caution to acknowledge.")
    text = clean_text(reason, "The reason to dose", limit=2000)
    payload: dict[str, Any] = {"reason": text, "reading": gate.caution.reading}
    if further:
        payload["further_dose"] = True
    return payload


# What each route is given as in KAP practice (CLINICAL.md, "Who uses it, where"): SPRAVATO
# is esketamine in 28 mg nasal devices; IV, IM and sublingual (troche, lozenge) are ketamine.
ROUTE_DRUG = {
    Route.INTRANASAL: Drug.ESKETAMINE,
    Route.IV: Drug.KETAMINE,
    Route.IM: Drug.KETAMINE,
    Route.SUBLINGUAL: Drug.KETAMINE,
}


def device_count(drug: str, mg_text: str) -> int | None:
    """How many esketamine devices an amount is (56 mg: 2), or None when it is not
    esketamine or not a whole number of devices."""
    if drug != Drug.ESKETAMINE.value:
        return None
    try:
        mg = float(mg_text.replace(",", "."))
    except ValueError:
        return None
    count = mg / ESKETAMINE_MG_PER_DEVICE
    return int(count) if count >= 1 and count == int(count) else None


@dataclass(frozen=True)
class DoseDefaults:
    """What the dose form starts with, and where it came from (said in the form)."""

    drug: str
    route: str
    mg: float | None = None
    device_count: int | None = None
    protocol_route: str | None = None  # the route the session's protocol is for
    source: str = ""


def dose_defaults(protocol: Protocol | None, previous: list[Dose]) -> DoseDefaults:
    """The protocol's drug and route, then the amount of the patient's previous dose by that
    route (``previous`` newest first: this session's, then earlier sessions'). Without a
    protocol, the previous dose as it was; without either, nothing is assumed but ketamine."""
    route = _route(protocol)
    if route is None:
        if previous:
            last = previous[0]
            return DoseDefaults(
                last.drug,
                last.route.value,
                last.mg,
                last.device_count,
                None,
                "As the patient's previous dose. This session has no protocol: check the route.",
            )
        return DoseDefaults(
            Drug.KETAMINE.value,
            Route.IV.value,
            source="This session has no protocol: choose the drug and route.",
        )
    label = route_in_sentence(route)
    same_route = [d for d in previous if d.route is route]
    if same_route:
        last = same_route[0]
        return DoseDefaults(
            last.drug,
            route.value,
            last.mg,
            last.device_count,
            route.value,
            f"Drug, route and amount as the patient's previous {label} dose; change what differs.",
        )
    drug = ROUTE_DRUG[route]
    hint = f" ({ESKETAMINE_MG_PER_DEVICE} mg per device)" if route is Route.INTRANASAL else ""
    return DoseDefaults(
        drug.value,
        route.value,
        protocol_route=route.value,
        source=f"Drug and route from the protocol{hint}; type the amount.",
    )


def _route(protocol: Protocol | None) -> Route | None:
    if protocol is None:
        return None
    try:
        return Route(protocol.route)
    except ValueError:
        return None
