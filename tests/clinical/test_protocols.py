"""The shipped protocols' schedules against fake times, and malformed protocol files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kapdesk.clinical.protocols import load_protocols, parse_protocol
from kapdesk.clinical.schedule import (
    Recorded,
    SessionTimes,
    State,
    check_statuses,
    next_check,
    occurrences,
)

SHIPPED = Path(__file__).resolve().parents[2] / "kapdesk" / "resources" / "protocols"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def protocols():
    result = load_protocols([SHIPPED])
    assert result.problems == []
    return result.protocols


def test_the_four_shipped_protocols_load(protocols):
    assert set(protocols) == {
        "SPRAVATO REMS",
        "IV infusion",
        "IM injection",
        "Sublingual / lozenge",
    }


def test_rems_schedule(protocols):
    rems = protocols["SPRAVATO REMS"]
    times = SessionTimes(started_at=at(-30), first_dose_at=T0)
    found = occurrences(rems, times, until=at(190))
    assert [o.due_at for o in found] == [None, at(40), at(70), at(100), at(130), at(160), at(190)]
    assert found[0].needs == {"bp", "spo2"}
    assert found[1].needs == {"bp", "spo2", "moaas", "rems"}
    assert rems.discharge.minimum_minutes == 120


def test_iv_schedule_follows_the_infusion(protocols):
    iv = protocols["IV infusion"]
    running = SessionTimes(started_at=at(-20), first_dose_at=T0, infusion_start=T0)
    assert [o.due_at for o in occurrences(iv, running, until=at(35))][1:] == [
        at(10),
        at(20),
        at(30),
    ]
    stopped = SessionTimes(
        started_at=at(-20), first_dose_at=T0, infusion_start=T0, infusion_stop=at(40)
    )
    due = [o.due_at for o in occurrences(iv, stopped, until=at(200))][1:]
    assert due == [at(10), at(20), at(30), at(40), at(55), at(70), at(85), at(100)]
    assert iv.discharge.minimum_minutes_after_infusion_stop == 60


def test_im_and_sublingual_schedules(protocols):
    times = SessionTimes(started_at=at(-10), first_dose_at=T0)
    im = [o.due_at for o in occurrences(protocols["IM injection"], times, until=at(45))]
    assert im == [None, at(15), at(30), at(45)]
    sub = [o.due_at for o in occurrences(protocols["Sublingual / lozenge"], times, until=at(60))]
    assert sub == [None, at(20), at(40), at(60)]


def test_checks_fall_due_turn_overdue_and_are_met_by_recording(protocols):
    rems = protocols["SPRAVATO REMS"]
    times = SessionTimes(started_at=at(-30), first_dose_at=T0)
    recorded = [Recorded(at(-10), frozenset({"bp", "spo2", "hr"}))]

    def state_at_40(now):
        [status] = [
            s for s in check_statuses(rems, times, recorded, now) if s.occurrence.due_at == at(40)
        ]
        return status.state

    assert state_at_40(at(30)) is State.UPCOMING
    assert state_at_40(at(35)) is State.DUE  # five minutes early counts
    assert state_at_40(at(45)) is State.DUE
    assert state_at_40(at(46)) is State.OVERDUE
    recorded.append(Recorded(at(42), frozenset({"bp", "spo2"})))
    assert state_at_40(at(50)) is State.OVERDUE  # sedation and dissociation still missing
    recorded.append(Recorded(at(44), frozenset({"moaas"})))
    recorded.append(Recorded(at(45), frozenset({"rems"})))
    assert state_at_40(at(50)) is State.DONE
    statuses = check_statuses(rems, times, recorded, at(50))
    assert statuses[0].state is State.DONE  # the pre-dose check, met at -10
    assert next_check(statuses).occurrence.due_at == at(70)


def test_an_urgent_recheck_is_a_due_check(protocols):
    rems = protocols["SPRAVATO REMS"]
    times = SessionTimes(started_at=at(-30), first_dose_at=T0)
    statuses = check_statuses(rems, times, [], at(51), rechecks=[at(45)])
    recheck = next(s for s in statuses if s.occurrence.recheck)
    assert recheck.occurrence.due_at == at(45)
    assert recheck.state is State.OVERDUE


MALFORMED = [
    ('name = "X"\nroute = "im"\n[[checks]\nlabel = "a"\n', "line 3: not valid TOML"),
    ('name = "X"\nroute = "im"\n', "needs at least one [[checks]] table"),
    (
        'name = "X"\nroute = "im"\n[[checks]]\nlabel = "a"\n'
        'vitals = ["bp", "pulse"]\nat_minutes = 5\n',
        "line 5: vitals may list only",
    ),
    (
        'name = "X"\nroute = "im"\n[[checks]]\nlabel = "a"\nvitals = ["bp"]\n',
        "line 4: check “a” needs exactly one of",
    ),
    ('route = "im"\n[[checks]]\nlabel = "a"\nvitals = ["bp"]\nat_minutes = 5\n', "name is missing"),
    # QA: nan broke every session of the protocol; a check every 0.00001 minutes froze
    # the app as its memory grew by gigabytes.
    (
        'name = "X"\nroute = "iv"\n[[checks]]\nlabel = "a"\nvitals = ["bp"]\n'
        "from_minutes = nan\nevery_minutes = 10\n",
        "from_minutes must be a number of minutes from 0 to 1440",
    ),
    (
        'name = "X"\nroute = "iv"\n[[checks]]\nlabel = "a"\nvitals = ["bp"]\n'
        "from_minutes = 0\nevery_minutes = 0.00001\n",
        "every_minutes needs from_minutes and must be 1 or more",
    ),
    (
        'name = "X"\nroute = "iv"\n[[checks]]\nlabel = "a"\nvitals = ["bp"]\nat_minutes = inf\n',
        "at_minutes must be a number of minutes",
    ),
    ('name = "X"\nroute = "iv"\nx = ' + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    (
        'name = "X"\nroute = "iv"\n[[checks]]\nlabel = "a"\nvitals = ["bp"]\nat_minutes = 0\n'
        "[discharge]\nbp_margin_over_baseline = 200\n",
        "bp_margin_over_baseline must be a number of mmHg from 0 to 40",
    ),
    (
        'name = "X"\nroute = "iv"\n[[checks]]\nlabel = "a"\nvitals = ["bp"]\nat_minutes = 0\n'
        "[discharge]\nbp_margin_over_baseline = nan\n",
        "bp_margin_over_baseline must be a number of mmHg",
    ),
]


@pytest.mark.parametrize(("text", "words"), MALFORMED)
def test_a_malformed_file_is_reported_with_its_name_and_line_and_skipped(tmp_path, text, words):
    (tmp_path / "clinic_custom.toml").write_text(text, encoding="utf-8")
    result = load_protocols([SHIPPED, tmp_path])
    [problem] = result.problems
    assert problem.startswith("clinic_custom.toml")
    assert words in problem
    assert len(result.protocols) == 4  # the good ones still load


def test_a_clinic_file_adds_a_protocol(tmp_path):
    (tmp_path / "ours.toml").write_text(
        'name = "Clinic IM"\nroute = "im"\n[[checks]]\nlabel = "BP every 10"\n'
        'vitals = ["bp"]\nfrom_minutes = 10\nevery_minutes = 10\n',
        encoding="utf-8",
    )
    result = load_protocols([SHIPPED, tmp_path])
    assert result.protocols["Clinic IM"].checks[0].every_minutes == 10


def test_parse_keeps_the_discharge_checklist():
    protocol = parse_protocol((SHIPPED / "spravato_rems.toml").read_text())
    assert "Escort or transport arranged" in protocol.discharge.checklist


def test_the_reading_that_calls_for_a_recheck_does_not_satisfy_it(protocols):
    rems = protocols["SPRAVATO REMS"]
    times = SessionTimes(started_at=at(-30), first_dose_at=T0)
    urgent = Recorded(at(46), frozenset({"bp", "spo2"}))
    statuses = check_statuses(rems, times, [urgent], at(49), rechecks=[at(51)])
    recheck = next(s for s in statuses if s.occurrence.recheck)
    assert recheck.state is State.DUE  # due from 49 (two minutes early), not done
    later = Recorded(at(50), frozenset({"bp"}))
    statuses = check_statuses(rems, times, [urgent, later], at(50), rechecks=[at(51)])
    assert next(s for s in statuses if s.occurrence.recheck).state is State.DONE


def test_recorded_times_find_the_first_item_in_a_window_and_forget_a_corrected_one():
    from kapdesk.clinical.schedule import RecordedTimes

    recorded = RecordedTimes(
        [Recorded(at(m), frozenset({"bp", "spo2"})) for m in (50, 10, 30)]
        + [Recorded(at(31), frozenset({"moaas"}))]
    )
    assert recorded.first_in("bp", at(20), at(60)) == at(30)
    assert recorded.first_in("bp", at(30), None) == at(30)  # the start is inside
    assert recorded.first_in("bp", at(31), at(50)) is None  # the end is not
    assert recorded.first_in("moaas", at(0), None) == at(31)
    assert recorded.first_in("rems", at(0), None) is None
    recorded.remove(at(30), frozenset({"bp"}))  # a correction moved that reading
    recorded.add(at(45), frozenset({"bp"}))
    assert recorded.first_in("bp", at(20), at(60)) == at(45)
    assert recorded.first_in("spo2", at(20), at(60)) == at(30)
