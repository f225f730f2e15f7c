"""The FHIR R4 export, validated with fhir.resources' R4B models and checked for what they
do not check: Observation status, the vital-signs category, LOINC code and UCUM unit."""

from __future__ import annotations

import copy
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from kapdesk.local.demo import create_demo
from kapdesk.session import fhir
from kapdesk.session.service import SessionService

STATUSES = {"registered", "preliminary", "final", "amended", "corrected", "cancelled"}
# CLINICAL.md, "Interoperability": LOINC code -> UCUM unit.
UNITS = {
    "8480-6": "mm[Hg]",
    "8462-4": "mm[Hg]",
    "8478-0": "mm[Hg]",
    "8867-4": "/min",
    "9279-1": "/min",
    "59408-5": "%",
    "8310-5": "Cel",
}


def check_vital_signs(bundle: dict) -> list[str]:
    """What R4B's models let through: every problem, as a sentence."""
    problems = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "Observation":
            continue
        if resource["status"] not in STATUSES:
            problems.append(f"{resource['id']}: status {resource['status']!r}")
        categories = {c["code"] for cat in resource.get("category", []) for c in cat["coding"]}
        if "vital-signs" not in categories:
            continue
        quantities = [resource] if "valueQuantity" in resource else resource.get("component", [])
        for part in quantities:
            codes = [c["code"] for c in part["code"]["coding"] if c["system"] == fhir.LOINC]
            unit = part["valueQuantity"]["code"]
            if codes[0] not in UNITS:
                problems.append(f"{resource['id']}: LOINC {codes[0]} is not a vital sign")
            elif UNITS[codes[0]] != unit:
                problems.append(f"{resource['id']}: {codes[0]} in {unit}, not {UNITS[codes[0]]}")
            if part["valueQuantity"]["system"] != fhir.UCUM:
                problems.append(f"{resource['id']}: unit system is not UCUM")
        if "component" in resource and resource["code"]["coding"][0]["code"] != "85354-9":
            problems.append(f"{resource['id']}: BP panel is not 85354-9")
    return problems


@pytest.fixture
def demo(store, clock):
    finished, running = create_demo(store, clock.now_utc())
    return [
        SessionService(store, s, clock=clock.now_utc, protocol=None) for s in (finished, running)
    ]


def test_the_demo_sessions_validate_as_r4_bundles(demo):
    for service in demo:
        bundle = fhir.session_bundle(service)
        parsed = Bundle.model_validate(json.loads(json.dumps(bundle)))
        kinds = {type(e.resource).__name__ for e in parsed.entry}
        assert kinds == {"Patient", "Encounter", "Observation", "MedicationAdministration"}
        assert check_vital_signs(bundle) == []
        readings = len(service.state.readings())
        panels = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"].get("meta", {}).get("profile") == [fhir.BP_PROFILE]
        ]
        assert len(panels) == readings  # every demo reading has a BP
        systolic = panels[0]["component"][0]
        assert systolic["code"]["coding"][0]["code"] == "8480-6"
        assert systolic["valueQuantity"]["code"] == "mm[Hg]"
    whole = fhir.patient_bundle(demo)
    Bundle.model_validate(whole)
    assert sum(1 for e in whole["entry"] if e["resource"]["resourceType"] == "Patient") == 1
    assert sum(1 for e in whole["entry"] if e["resource"]["resourceType"] == "Encounter") == 2


def test_a_wrong_loinc_code_or_unit_is_caught(demo):
    bundle = fhir.session_bundle(demo[0])
    wrong_code = copy.deepcopy(bundle)
    heart = next(
        e["resource"]
        for e in wrong_code["entry"]
        if e["resource"].get("code", {}).get("text") == "Heart rate"
    )
    heart["code"]["coding"][0]["code"] = "8310-5"  # body temperature's code on a heart rate
    assert any("8310-5 in /min" in p for p in check_vital_signs(wrong_code))
    wrong_unit = copy.deepcopy(bundle)
    panel = next(e["resource"] for e in wrong_unit["entry"] if "component" in e["resource"])
    panel["component"][0]["valueQuantity"]["code"] = "kPa"
    assert any("8480-6 in kPa" in p for p in check_vital_signs(wrong_unit))
    bad_status = copy.deepcopy(bundle)
    next(e for e in bad_status["entry"] if "component" in e["resource"])["resource"]["status"] = (
        "ok"
    )
    Bundle.model_validate(bad_status)  # R4B's models let it through ...
    assert any("status 'ok'" in p for p in check_vital_signs(bad_status))  # ... this does not


def test_a_corrected_reading_is_sent_as_corrected_and_says_so(store, clock):
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    reading = store.add_vitals(session, {"systolic": 190, "diastolic": 100, "heart_rate": 80})
    store.correct("vitals", reading, {"systolic": 139}, reason="misread the cuff")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    bundle = fhir.session_bundle(service)
    panel = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == str(reading))
    assert panel["status"] == "amended"
    assert panel["component"][0]["valueQuantity"]["value"] == 139
    assert "misread the cuff" in panel["note"][0]["text"]
    Bundle.model_validate(bundle)
    assert check_vital_signs(bundle) == []


def test_a_dose_entered_in_error_is_sent_as_entered_in_error(store, clock):
    """A system that took the dose from an earlier export learns it was never given."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    store.add_vitals(session, {"systolic": 128, "diastolic": 82})
    wrong = store.add_dose(session, drug="ketamine", route="im", mg=50)
    given = store.add_dose(session, drug="ketamine", route="im", mg=40)
    store.correct("dose", wrong, {"entered_in_error": True}, reason="not given")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    bundle = fhir.session_bundle(service)
    doses = {
        e["resource"]["id"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    }
    assert doses[str(wrong)]["status"] == "entered-in-error"
    assert "not given" in doses[str(wrong)]["note"][0]["text"]
    assert doses[str(given)]["status"] == "completed"
    Bundle.model_validate(bundle)


def test_a_stopped_infusion_keeps_its_length_in_the_fhir_and_csv_exports(store, clock, tmp_path):
    """QA: Ctrl+I logged "stopped 17:47" and the report showed it, but neither the CSV
    nor the FHIR export held the stop: the infusion's length was lost."""
    from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES

    patient = store.add_patient("Ada Example", weight_kg=70)
    session = store.start_session(patient, protocol="IV", zone_name="UTC")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    service.record_vitals_line("124/80 70 98")
    clock.advance(minutes=2)
    service.record_dose(drug="ketamine", route="iv", mg=35)
    clock.advance(minutes=40)
    service.stop_infusion()
    bundle = fhir.session_bundle(service)
    Bundle.model_validate(copy.deepcopy(bundle))
    [given] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    ]
    period = given["effectivePeriod"]
    assert (period["start"], period["end"]) == ("2026-03-02T09:02:00Z", "2026-03-02T09:42:00Z")
    store.export_csv(tmp_path / "export", session_id=session)
    text = (tmp_path / "export" / "infusion_stops.csv").read_text(encoding="utf-8")
    assert "2026-03-02T09:42:00" in text
