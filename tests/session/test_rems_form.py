"""The REMS Patient Monitoring Form's fields from the record: filled, or named as missing."""

from __future__ import annotations

import csv
import io

from kapdesk.local.demo import create_demo
from kapdesk.session.rems_form import FormField, rems_csv, rems_form
from kapdesk.session.service import SessionService


def test_the_demo_session_fills_the_form_and_names_what_kapdesk_does_not_record(store, clock):
    finished, _running = create_demo(store, clock.now_utc())
    service = SessionService(store, finished, clock=clock.now_utc, protocol=None)
    fields = {f.label: f for f in rems_form(service)}
    assert fields["Patient name"].value.startswith("DEMO")
    assert fields["Dose"].value == "56 mg"  # two 28 mg devices
    assert fields["Lot number(s)"].value
    assert int(fields["Minutes from the first device to the end"].value) >= 120
    assert "/" in fields["BP before administration"].value
    assert "/" in fields["BP at about 40 minutes"].value
    assert fields["Concomitant: MAOIs"].value == "no"
    assert fields["Sedation"].value.startswith(("yes", "no"))
    # Never a blank: what the record lacks is said, with what to do.
    assert fields["Sex"].value == ""
    assert "fill it in on the form" in fields["Sex"].missing
    assert fields["Serious adverse events"].missing
    assert all(f.value or f.missing for f in fields.values())
    rows = list(csv.reader(io.StringIO(rems_csv(list(fields.values())))))
    assert rows[0] == ["field", "value", "missing"]
    assert len(rows) == len(fields) + 1


def test_a_session_without_a_dose_or_a_rems_check_says_so(store, clock):
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="SPRAVATO REMS", zone_name="UTC")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    fields = {f.label: f for f in rems_form(service)}
    assert fields["Dose"].shown == "MISSING: no esketamine dose was recorded"
    assert "no REMS check (Ctrl+J)" in fields["Sedation"].missing
    assert "no screening" in fields["Concomitant: Benzodiazepines"].missing
    assert fields["BP at about 40 minutes"].missing


def test_a_running_session_is_not_said_to_have_ended(store, clock):
    _finished, running = create_demo(store, clock.now_utc())
    service = SessionService(store, running, clock=clock.now_utc, protocol=None)
    fields = {f.label: f for f in rems_form(service)}
    assert fields["Vitals acceptable before the session ended"].missing == (
        "the session has not ended"
    )
    assert fields["BP before the end"].missing.startswith("the session has not ended (latest")
    assert "has not ended" in fields["Ready to leave without the 2-hour minimum (minutes)"].missing


def test_sedation_and_dissociation_in_the_log_are_yes_on_the_form(store, clock):
    """QA: MOAA/S 3, RASS -3 and an observation tagged dissociated were in the log, and the
    form said "no during the session" from a REMS check with nothing ticked. The form says
    yes, and which entry showed it."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="SPRAVATO REMS", zone_name="UTC")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    at = service.state.local_clock(clock.now_utc())
    service.record_scale("moaas", 3)
    service.record_scale("rass", -3)
    service.record_observation("says the room is melting", tags=["dissociated"])
    clock.advance(minutes=30)
    service.record_rems_check(sedation=False, dissociation=False, respiratory=False)
    fields = {f.label: f for f in rems_form(service)}
    assert fields["Sedation"].value == (
        f"yes during the session (MOAA/S 3 at {at}); at the last check: no"
    )
    assert fields["Dissociation"].value == (
        f"yes during the session (observation tagged dissociated at {at}); at the last check: no"
    )
    assert fields["Respiratory depression"].value == "no during the session; at the last check: no"


def test_the_rems_csv_never_hands_a_spreadsheet_a_formula():
    """As the CSV export (tamper QA): a patient named =HYPERLINK(...) went out live."""
    rows = list(csv.reader(io.StringIO(rems_csv([FormField("Patient", "=1+1", "")]))))
    assert rows[1] == ["Patient", "'=1+1", ""]


def test_an_urgent_reading_not_rechecked_before_the_dose_is_not_acceptable(store, clock):
    """Xvfb QA: the form said "Vitals acceptable before administration: yes" with 182/112
    taken a minute before the dose (and 138/86 a minute after it)."""
    from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES

    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="SPRAVATO REMS", zone_name="UTC")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    service.record_vitals_line("182/112 88 97")
    clock.advance(minutes=1)
    service.record_vitals_line("138/86 72 98")
    service.acknowledge_dose_caution("settled on rest; the prescriber is here")
    clock.advance(minutes=1)
    service.record_dose(drug="esketamine", route="intranasal", mg=56, device_count=2)
    fields = {f.label: f for f in rems_form(service)}
    assert fields["Vitals acceptable before administration"].shown == "no"


def test_a_dose_without_its_lot_number_is_named_beside_the_lots_entered(store, clock):
    """Xvfb QA: the form said "LOT123", and nothing said the second 56 mg dose had none."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="SPRAVATO REMS", zone_name="UTC")
    store.add_vitals(session, {"systolic": 128, "diastolic": 82})
    store.add_dose(
        session, drug="esketamine", route="intranasal", mg=56, lot_number="LOT123", device_count=2
    )
    clock.advance(minutes=5)
    store.add_dose(session, drug="esketamine", route="intranasal", mg=28, device_count=1)
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    fields = {f.label: f for f in rems_form(service)}
    assert fields["Lot number(s)"].value == "LOT123; none entered with the dose at 09:05"
    assert "add it" in fields["Lot number(s)"].missing


def test_vitals_are_not_acceptable_at_the_end_with_a_recheck_due_or_one_reading(store, clock):
    """Xvfb QA: the form answered "yes" while the discharge check said the BP was not met,
    the recheck after an urgent 190/115 still due."""
    from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES

    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="SPRAVATO REMS", zone_name="UTC")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    service.record_vitals_line("128/82 72 98")
    service.record_dose(
        drug="esketamine", route="intranasal", mg=56, device_count=2, lot_number="L1"
    )

    def acceptable() -> str:
        return {f.label: f for f in rems_form(service)}[
            "Vitals acceptable before the session ended"
        ].value

    clock.advance(minutes=40)
    service.record_vitals_line("130/84 74 98")
    clock.advance(minutes=80)
    service.record_vitals_line("190/115 80 97")  # urgent: a recheck is due
    clock.advance(minutes=2)
    service.record_vitals_line("132/84 74 98")  # two minutes on: not the recheck
    service.end(override_reason="patient's ride arrived")
    assert acceptable() == "no"
