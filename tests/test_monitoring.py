"""The safety rules around a live session, with a fake clock: a REMS session from
screening to discharge at the service level (the GUI run is in tests/ui)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapdesk.clinical.alerts import Level
from kapdesk.clinical.protocols import load_protocols
from kapdesk.clinical.schedule import State
from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.clinical.vitals import ValidationError
from kapdesk.live_session import LiveSession
from kapdesk.monitoring import SessionMonitor
from kapdesk.store.errors import ImmutableError

PROTOCOLS = load_protocols([Path(__file__).resolve().parents[1] / "resources" / "protocols"])
NO = dict.fromkeys(CONTRAINDICATIONS, False)
NO_MEDS = dict.fromkeys(MEDICINES, False)


@pytest.fixture
def monitor(store, clock) -> SessionMonitor:
    patient = store.add_patient("Ada Example", weight_kg=70)
    session = store.start_session(patient, protocol="SPRAVATO REMS", zone_name="UTC")
    live = LiveSession(store, session, clock.now_utc)
    return SessionMonitor(live, PROTOCOLS.protocols["SPRAVATO REMS"])


def dose(monitor):
    return monitor.add_dose(
        drug="esketamine", route="intranasal", mg=56, device_count=2, lot_number="L1"
    )


def vitals(monitor, line):
    entry = monitor.live.add_vitals_line(line)
    return monitor.add_vitals(entry)


def test_screening_a_yes_needs_a_decision_with_a_reason(monitor):
    answers = {**NO, "uncontrolled_hypertension": True}
    with pytest.raises(ValidationError, match="To proceed, record your decision"):
        monitor.record_screening(answers, NO_MEDS, "to grieve")
    assert monitor.screening() is None
    entry = monitor.record_screening(
        answers,
        {**NO_MEDS, "benzodiazepines": True},
        "to grieve",
        "BP controlled on meds, GP letter",
    )
    assert "Uncontrolled hypertension" in entry.text
    assert "Benzodiazepines" in entry.text
    assert monitor.screening()["decision"] == "BP controlled on meds, GP letter"


def test_dosing_needs_screening_and_a_pre_dose_bp(monitor):
    assert monitor.dose_gate().message == "Record the screening first (Ctrl+G)."
    monitor.record_screening(NO, NO_MEDS, "")
    assert monitor.dose_gate().message == "Record a pre-dose blood pressure first (Ctrl+B)."
    with pytest.raises(ValidationError, match="pre-dose blood pressure"):
        dose(monitor)
    vitals(monitor, "128/82 72 98")
    assert monitor.dose_gate().allowed


def test_a_high_pre_dose_bp_needs_an_acknowledged_reason(monitor):
    monitor.record_screening(NO, NO_MEDS, "")
    vitals(monitor, "146/92 80 98")
    gate = monitor.dose_gate()
    assert not gate.allowed
    assert "weigh benefit and risk" in gate.message
    with pytest.raises(ValidationError, match="empty"):
        monitor.acknowledge_dose_caution("  ")
    monitor.acknowledge_dose_caution("Repeat 142/88 after rest; prescriber agrees")
    assert monitor.dose_gate().allowed
    dose(monitor)


def test_a_rems_session_from_screening_to_discharge(monitor, clock):
    monitor.record_screening(NO, NO_MEDS, "to meet the grief")
    clock.advance(minutes=10)
    vitals(monitor, "128/82 72 98")
    clock.advance(minutes=5)
    dose(monitor)
    text, state = monitor.next_check_text()
    assert (text, state) == (
        "Next: 40-minute BP, SpO2, sedation and dissociation in 00:40:00",
        State.UPCOMING,
    )
    clock.advance(minutes=36)
    assert monitor.next_check_text()[1] is State.DUE
    clock.advance(minutes=10)  # T+46: overdue
    assert monitor.next_check_text()[0].startswith("OVERDUE by 00:06:00: 40-minute")

    # The reading at 46 minutes is urgent: a banner-worthy alert and a recheck at +5.
    [alert_entry] = vitals(monitor, "182/104 88 97")
    assert alert_entry.text.startswith("URGENT alert: BP 182/104 is at or above")
    [alert] = monitor.open_alerts()
    assert alert.level is Level.URGENT
    monitor.add_scale("moaas", 4)
    monitor.add_rems_check(sedation=True, dissociation=True, respiratory=False)
    clock.advance(minutes=5)  # T+51: the recheck is due
    assert monitor.next_check_text() == ("Due now: Recheck after an urgent reading", State.DUE)
    clock.advance(minutes=6)  # T+57: and now overdue
    assert monitor.next_check_text()[0] == "OVERDUE by 00:06:00: Recheck after an urgent reading"
    vitals(monitor, "158/96 84 97")  # the recheck: no longer urgent, still above caution
    monitor.acknowledge(alert.id)
    [caution] = monitor.open_alerts()
    assert caution.level is Level.CAUTION
    assert caution.reading == "BP 158/96  HR 84  SpO2 97%"
    monitor.acknowledge(caution.id)
    assert monitor.open_alerts() == []
    assert monitor.alerts()[0].acknowledged_by == "dr.test"

    # Discharge blocked at 90 minutes.
    clock.advance(minutes=90 - 57)
    monitor.add_scale("moaas", 5)
    monitor.add_scale("rass", 0)
    monitor.add_rems_check(sedation=False, dissociation=False, respiratory=False)
    vitals(monitor, "134/84 74 98")
    checklist = frozenset(monitor.protocol.discharge.checklist)
    unmet = [i.label for i in monitor.discharge_items(checklist) if not i.met]
    assert unmet == ["At least 120 minutes since the first dose"]
    with pytest.raises(ValidationError, match="Not all discharge criteria are met"):
        monitor.end(checklist)

    # Allowed after 120 once criteria are met.
    clock.advance(minutes=30)
    assert all(i.met for i in monitor.discharge_items(checklist))
    summary = monitor.end(checklist, ready_to_leave_minutes=95)
    assert summary.highest_bp[:2] == (182, 104)
    [discharge] = [e for e in monitor.live.events if e["kind"] == "discharge"]
    rems = discharge["payload"]["rems"]
    assert rems["minutes_first_dose_to_end"] == 120
    assert rems["bp_pre_dose"] == "128/82"
    assert rems["bp_at_40_minutes"] == "182/104"
    assert rems["bp_before_end"] == "134/84"
    assert rems["vitals_acceptable_before_dosing"] is True
    assert rems["lot_numbers"] == ["L1"]
    assert discharge["payload"]["ready_to_leave_minutes"] == 95


def test_ending_early_needs_an_override_reason_which_is_recorded(monitor, clock):
    monitor.record_screening(NO, NO_MEDS, "")
    vitals(monitor, "128/82 72 98")
    dose(monitor)
    clock.advance(minutes=60)
    monitor.end(override_reason="Patient left against advice; escort present")
    [discharge] = [e for e in monitor.live.events if e["kind"] == "discharge"]
    assert discharge["payload"]["override_reason"] == "Patient left against advice; escort present"
    assert "At least 120 minutes since the first dose" in discharge["payload"]["unmet"]
    assert monitor.live.ended_at == clock.now_utc()


def test_ending_twice_is_refused_and_records_no_second_discharge(monitor, clock):
    monitor.record_screening(NO, NO_MEDS, "")
    monitor.end(override_reason="Session cancelled before dosing")
    with pytest.raises(ImmutableError, match="already ended"):
        monitor.end(override_reason="again")
    assert [e["kind"] for e in monitor.live.events].count("discharge") == 1
