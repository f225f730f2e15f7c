"""A session, or a patient's sessions, as a FHIR R4 Bundle (JSON) for the clinic's EHR
(issue 12).

Patient, an Encounter per session, vital signs as Observations in the vital-signs profile
(LOINC codes and UCUM units from CLINICAL.md, "Interoperability"; blood pressure as the
panel 85354-9 with systolic and diastolic components), MedicationAdministration for each
dose, an Observation for each sedation-scale score and each clinician's observation.

Values are as corrected: a corrected entry's status is "amended" and its note gives the
values first recorded and the reason, so the EHR sees what the record now says and that
it was changed. References inside the bundle are ``urn:uuid:`` full URLs; ids are the
record's own (a reading's further vital signs get ids derived from it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from kapdesk.clinical.entries import ROUTE_LABELS
from kapdesk.clinical.scales import SCALES
from kapdesk.session.entries import Stored, StoredDose, StoredObservation, StoredScore, StoredVitals
from kapdesk.session.service import SessionService
from kapdesk.session.wording import SYSTEM_TAG, describe

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
BP_PROFILE = "http://hl7.org/fhir/StructureDefinition/bp"
VITALS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
# CLINICAL.md, "Interoperability": (LOINC code, display, UCUM code) per vital sign.
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
VITALS: dict[str, tuple[str, str, str]] = {
    "systolic": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "diastolic": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "heart_rate": ("8867-4", "Heart rate", "/min"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    "temperature_c": ("8310-5", "Body temperature", "Cel"),
}
SPO2_ALSO = ("2708-6", "Oxygen saturation in Arterial blood")
UNIT_TEXT = {"mm[Hg]": "mmHg", "/min": "/min", "%": "%", "Cel": "°C"}
NAMESPACE = uuid.UUID("5b0c9a52-6f1e-4b55-9a39-2f6d0e1c4a77")  # derived ids, stable


def session_bundle(service: SessionService) -> dict[str, Any]:
    """One session: its patient, the encounter and everything recorded in it."""
    return _bundle(_patient(service), list(_session_resources(service)))


def patient_bundle(services: Iterable[SessionService]) -> dict[str, Any]:
    """A patient's sessions (each service one of the same patient's sessions)."""
    services = list(services)
    if not services:
        raise ValueError("a patient bundle needs at least one session")
    resources = [r for service in services for r in _session_resources(service)]
    return _bundle(_patient(services[0]), resources)


def _bundle(patient: dict[str, Any], resources: list[dict[str, Any]]) -> dict[str, Any]:
    entries = [patient, *resources]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": _instant(dt.datetime.now(dt.UTC)),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource} for resource in entries
        ],
    }


def _instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _ref(resource_id: object) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def _patient(service: SessionService) -> dict[str, Any]:
    state = service.state
    patient_id = state.row["patient_id"]
    current = service.store.entry("patient", patient_id).current
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient_id),
        "name": [{"text": current["display_name"]}],
    }
    if current.get("date_of_birth"):
        resource["birthDate"] = str(current["date_of_birth"])  # ISO date
    if current.get("record_number"):
        resource["identifier"] = [
            {"system": "urn:kapdesk:record-number", "value": current["record_number"]}
        ]
    return resource


def _session_resources(service: SessionService) -> Iterable[dict[str, Any]]:
    state = service.state
    encounter_id = str(service.id)
    patient = _ref(state.row["patient_id"])
    period: dict[str, str] = {"start": _instant(service.started_at)}
    if service.ended_at is not None:
        period["end"] = _instant(service.ended_at)
    yield {
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": "finished" if service.ended_at is not None else "in-progress",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "type": [{"text": f"Ketamine-assisted psychotherapy session ({service.protocol_name})"}],
        "subject": patient,
        "period": period,
    }
    context = {"subject": patient, "encounter": _ref(encounter_id)}
    for reading in state.readings():
        yield from _vitals(reading, context)
    # Those entered in error too, as FHIR has them: a system that took the dose from an
    # earlier export learns that it was never given.
    for dose in state.doses(entered_in_error=True):
        yield _dose(dose, patient, encounter_id, service.state.stops.get(dose.id))
    for score in state.scores():
        yield _score(service, score, context)
    for observation in sorted(state.observations(), key=lambda o: o.at):
        yield _observation(service, observation, context)


def _status_and_note(service: SessionService | None, entry: Stored) -> dict[str, Any]:
    if not entry.reasons:
        return {"status": "final"}
    note = "Corrected. Reason: " + " / then: ".join(entry.reasons)
    if service is not None and entry.original is not None:
        note += f". As first recorded: {describe(service.state, entry.id, entry.original)}"
    return {"status": "amended", "note": [{"text": note}]}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": UNIT_TEXT[unit], "system": UCUM, "code": unit}


def _vitals_category() -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}]


def _vitals(reading: StoredVitals, context: dict[str, Any]) -> Iterable[dict[str, Any]]:
    values = reading.reading
    common = {
        "category": _vitals_category(),
        "effectiveDateTime": _instant(reading.at),
        **context,
        **_status_and_note(None, reading),
    }
    if values.systolic is not None and values.diastolic is not None:
        yield {
            "resourceType": "Observation",
            "id": str(reading.id),
            "meta": {"profile": [BP_PROFILE]},
            "code": {
                "coding": [{"system": LOINC, "code": BP_PANEL[0], "display": BP_PANEL[1]}],
                "text": "Blood pressure",
            },
            **common,
            "component": [
                {
                    "code": {
                        "coding": [
                            {"system": LOINC, "code": VITALS[name][0], "display": VITALS[name][1]}
                        ]
                    },
                    "valueQuantity": _quantity(value, VITALS[name][2]),
                }
                for name, value in (("systolic", values.systolic), ("diastolic", values.diastolic))
            ],
        }
    for name in ("heart_rate", "respiratory_rate", "spo2", "temperature_c"):
        value = getattr(values, name)
        if value is None:
            continue
        code, display, unit = VITALS[name]
        coding = [{"system": LOINC, "code": code, "display": display}]
        if name == "spo2":
            coding.append({"system": LOINC, "code": SPO2_ALSO[0], "display": SPO2_ALSO[1]})
        yield {
            "resourceType": "Observation",
            "id": str(uuid.uuid5(NAMESPACE, f"{reading.id}/{name}")),
            "meta": {"profile": [VITALS_PROFILE]},
            "code": {"coding": coding, "text": display},
            **common,
            "valueQuantity": _quantity(value, unit),
        }


def _dose(
    dose: StoredDose,
    patient: dict[str, str],
    encounter_id: str,
    stopped: dt.datetime | None = None,
) -> dict[str, Any]:
    content = dose.content
    notes = [f"lot {content.lot_number}"] if content.lot_number else []
    if content.device_count:
        notes.append(f"{content.device_count} intranasal device(s)")
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": str(dose.id),
        "status": "entered-in-error" if content.entered_in_error else "completed",
        "medicationCodeableConcept": {"text": content.drug},
        "subject": patient,
        "context": _ref(encounter_id),
        # An IV infusion stopped: its start and end (QA: its length was lost).
        **(
            {"effectivePeriod": {"start": _instant(dose.at), "end": _instant(stopped)}}
            if stopped is not None
            else {"effectiveDateTime": _instant(dose.at)}
        ),
        "dosage": {
            "route": {"text": ROUTE_LABELS[content.route]},
            "dose": {"value": content.mg, "unit": "mg", "system": UCUM, "code": "mg"},
        },
    }
    if dose.reasons:
        notes.append("Corrected. Reason: " + " / then: ".join(dose.reasons))
    if notes:
        resource["note"] = [{"text": "; ".join(notes)}]
    return resource


def _score(service: SessionService, score: StoredScore, context: dict[str, Any]) -> dict[str, Any]:
    content = score.content
    scale = SCALES.get(content.scale_id)
    label = scale.name if scale is not None else "REMS check"
    return {
        "resourceType": "Observation",
        "id": str(score.id),
        "category": [{"coding": [{"system": CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": {"text": label},
        "effectiveDateTime": _instant(score.at),
        **context,
        **_status_and_note(service, score),
        "valueString" if scale is None else "valueInteger": (
            describe(service.state, score.id, content) if scale is None else content.answers[0]
        ),
    }


def _observation(
    service: SessionService, observation: StoredObservation, context: dict[str, Any]
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": str(observation.id),
        "category": [{"coding": [{"system": CATEGORY, "code": "exam", "display": "Exam"}]}],
        "code": {
            "text": "kapdesk note"
            if SYSTEM_TAG in observation.content.tags
            else "Clinician's observation"
        },
        "effectiveDateTime": _instant(observation.at),
        **context,
        **_status_and_note(service, observation),
        "valueString": describe(service.state, observation.id, observation.content),
    }
