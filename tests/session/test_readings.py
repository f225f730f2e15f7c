"""A session's readings kept as columns (session/readings.py, issue 10): a session opened
again shows exactly what was seen live, corrections, late entries and readings of one
instant included; and opening a long session makes objects only for what is looked at."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.session import readings as readings_module
from kapdesk.session.protocols import clinic_protocols
from kapdesk.session.service import SessionService
from kapdesk.store import RecordStore


def open_service(store: RecordStore, session, clock, protocol=None) -> SessionService:
    return SessionService(
        store, session, clock=clock.now_utc, monotonic=clock.monotonic, protocol=protocol
    )


def seen(service: SessionService):
    """What the clinician can read of each reading, oldest first."""
    return [
        (r.id, r.at, r.reading, r.content.source, r.original, r.original_at, r.reasons)
        for r in service.state.readings()
    ]


def chart_arrays(service: SessionService):
    chart = service.chart()
    return [
        chart.minutes.tolist(),
        np.nan_to_num(chart.systolic, nan=-1).tolist(),
        np.nan_to_num(chart.diastolic, nan=-1).tolist(),
        np.nan_to_num(chart.heart_rate, nan=-1).tolist(),
        np.nan_to_num(chart.mean_arterial, nan=-1).tolist(),
        [chart.label(i) for i in range(len(chart))],
    ]


@pytest.fixture
def session(store: RecordStore):
    patient = store.add_patient("Ada Example", weight_kg=70)
    return store.start_session(patient, protocol="SPRAVATO REMS", zone_name="Europe/Berlin")


def test_a_reopened_session_shows_what_was_seen_live(store, session, clock, data_dir):
    protocol = clinic_protocols(data_dir).protocols["SPRAVATO REMS"]
    live = open_service(store, session, clock, protocol)
    live.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    live.record_vitals_line("150/96 80 97")  # pre-dose, with a second at the same instant
    same_instant = live.record_vitals_line("128/82 72 98").entry
    clock.advance(minutes=5)
    live.record_dose(drug="esketamine", route="intranasal", mg=56, device_count=2)
    for minute in range(1, 50):
        clock.advance(minutes=1)
        live.record_vitals({"heart_rate": 70 + minute % 5, "spo2": 97}, source="monitor")
        if minute % 10 == 0:
            live.record_vitals_line(f"{130 + minute}/{84 + minute // 10}")
    clock.advance(minutes=1)
    outlier = live.record_vitals_line("184/110").entry  # urgent: an alert stands for it
    late = store.add_vitals(
        session,
        {"systolic": 140, "diastolic": 90},
        taken_at=clock.now_utc() - dt.timedelta(minutes=30),
    )
    live.state.add_new("vitals", late)
    # Corrected: the values of one, the time of another (it moves), twice for a third.
    live.correct("vitals", outlier.id, {"systolic": 148, "diastolic": 92}, "cuff on the sleeve")
    live.correct(
        "vitals", same_instant.id, {"taken_at": same_instant.at + dt.timedelta(minutes=2)}, "late"
    )
    live.correct("vitals", late, {"heart_rate": 66}, "pulse added")
    live.correct("vitals", late, {"heart_rate": 68}, "pulse counted again")

    again = open_service(store, session, clock, protocol)
    assert seen(again) == seen(live)
    assert len(seen(again)) == 2 + 49 + 4 + 1 + 1
    assert [(e.id, e.text, e.t_plus, e.original, e.reasons) for e in again.log()] == [
        (e.id, e.text, e.t_plus, e.original, e.reasons) for e in live.log()
    ]
    assert chart_arrays(again) == chart_arrays(live)
    assert again.state.baseline() == live.state.baseline() == (139.0, 89.0)  # both pre-dose
    assert [(s.occurrence.label, s.state, s.done_at) for s in again.statuses()] == [
        (s.occurrence.label, s.state, s.done_at) for s in live.statuses()
    ]
    # The corrected reading stays readable as first entered, and sits at its new time.
    moved = again.state.entry("vitals", same_instant.id)
    assert moved.original_at == same_instant.at
    assert moved.at == same_instant.at + dt.timedelta(minutes=2)
    twice = again.state.entry("vitals", late)
    assert twice.reading.heart_rate == 68
    assert twice.original.reading.heart_rate is None
    assert twice.reasons == ("pulse added", "pulse counted again")
    # Each reading's neighbours, as the alert rules look at them.
    readings = again.state.readings()
    for before, after in itertools.pairwise(readings):
        assert again.state.reading_before(after).id == before.id
        assert again.state.reading_after(before).id == after.id
    assert (
        again.summary().highest_bp[:2] == live.summary().highest_bp[:2] == (170, 88)
    )  # 184/110 was corrected


def test_readings_of_one_instant_keep_the_order_they_were_recorded_in(store, session, clock):
    live = open_service(store, session, clock)
    ids = [live.record_vitals_line(f"{120 + i}/80").entry.id for i in range(5)]
    again = open_service(store, session, clock)
    for service in (live, again):
        assert [r.id for r in service.state.readings()] == ids
        assert service.state.readings()[-1].reading.systolic == 124  # the latest: last typed
        assert service.state.reading_before(service.state.readings()[-1]).id == ids[3]


def test_readings_entered_late_take_their_places_by_the_time_taken(store, session, clock):
    """The record gives the readings in the order written; a session opens with them in
    the order taken, then recorded, then written, as they were seen live."""
    live = open_service(store, session, clock)
    first = live.record_vitals_line("120/80").entry
    clock.advance(minutes=10)
    newest = live.record_vitals_line("130/85").entry
    between = first.at + dt.timedelta(minutes=5)
    late = store.add_vitals(session, {"systolic": 140, "diastolic": 90}, taken_at=between)
    tied = store.add_vitals(session, {"systolic": 150, "diastolic": 95}, taken_at=between)
    clock.advance(seconds=30)
    with_first = store.add_vitals(session, {"systolic": 122, "diastolic": 81}, taken_at=first.at)
    for entry_id in (late, tied, with_first):
        live.state.add_new("vitals", entry_id)
    again = open_service(store, session, clock)
    expected = [first.id, with_first, late, tied, newest.id]
    for service in (live, again):
        assert [r.id for r in service.state.readings()] == expected
    assert chart_arrays(again) == chart_arrays(live)


def test_opening_a_long_session_makes_no_object_per_reading(store, session, clock, monkeypatch):
    """Work counted, not timed: the readings stay columns until one is looked at."""
    for second in range(3000):
        clock.advance(seconds=1)
        store.add_vitals(
            session, {"systolic": 120 + second % 15, "diastolic": 80, "spo2": 97}, source="monitor"
        )
    made = []
    real = readings_module.Readings._stored

    def counting(self, index):
        made.append(index)
        return real(self, index)

    monkeypatch.setattr(readings_module.Readings, "_stored", counting)
    service = open_service(store, session, clock)
    chart = service.chart()
    assert len(chart) == 3000
    assert chart.systolic[-1] == 120 + 2999 % 15
    service.statuses()
    service.discharge_items()
    clock.advance(seconds=1)
    service.record_vitals_line("131/85")
    assert len(made) < 10  # the new reading and its neighbour, not 3,000


def test_a_reading_moved_by_a_correction_no_longer_counts_for_its_old_check(
    store, session, clock, data_dir
):
    """A session opened again, then a reading's time corrected: the due check it had met
    must be as a fresh opening sees it, not kept met by the reading's old time."""
    protocol = clinic_protocols(data_dir).protocols["SPRAVATO REMS"]
    live = open_service(store, session, clock, protocol)
    live.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    met = live.record_vitals_line("128/82 72 98").entry  # meets the pre-dose check
    clock.advance(minutes=5)
    live.record_dose(drug="esketamine", route="intranasal", mg=56, device_count=2)
    clock.advance(minutes=50)
    reopened = open_service(store, session, clock, protocol)

    def statuses(service):
        return [
            (s.occurrence.label, s.occurrence.due_at, s.state, s.done_at)
            for s in service.statuses()
        ]

    before = statuses(reopened)
    assert any(done_at == met.at for *_rest, done_at in before)
    reopened.correct(
        "vitals", met.id, {"taken_at": met.at + dt.timedelta(minutes=30)}, "after the dose"
    )
    after = statuses(reopened)
    assert after == statuses(open_service(store, session, clock, protocol))
    assert not any(done_at == met.at for *_rest, done_at in after)
    # The times the due checks look at: its BP is at its new time only (a check asking
    # for BP alone would otherwise still count it at the old one).
    second = dt.timedelta(seconds=1)
    recorded = reopened.state.recorded
    assert recorded.first_in("bp", met.at - second, met.at + second) is None
    moved = met.at + dt.timedelta(minutes=30)
    assert recorded.first_in("bp", moved - second, moved + second) == moved


def test_an_entry_is_found_by_its_id_alone_even_when_two_ids_share_a_hash():
    from array import array

    ids = ["a-1", "b-2", "c-3"]
    hashes = array("q", map(hash, ids))
    assert [readings_module.position_of(i, ids, hashes) for i in ids] == [0, 1, 2]
    assert readings_module.position_of("d-4", ids, hashes) is None
    hashes[0] = hashes[2]  # two ids of one hash (as two of 2**64 may): the id decides
    assert readings_module.position_of("c-3", ids, hashes) == 2
    assert readings_module.position_of("a-1", ids, hashes) is None  # stored under another
    assert readings_module.position_of("a-1", [], array("q")) is None
    hashes.append(1)  # nothing still views the array: it can grow
