"""Which checks a protocol asks for, when, and which are done, due or overdue.

Pure: everything comes from stored instants (first dose, infusion start and
stop) and the times of recorded readings and scores, with `now` passed in, so
it survives sleep and restart and tests drive it with a fake clock.
"""

from __future__ import annotations

import bisect
import datetime as dt
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kapdesk.clinical.instants import from_micros, to_micros
from kapdesk.clinical.protocols import CheckRule, Protocol
from kapdesk.clinical.scales import REMS_CHECK_ID, SCALES
from kapdesk.clinical.vitals import VitalsReading

# What a check's needs are called in a sentence (its vitals items and scales).
ITEM_WORDS = {
    "bp": "blood pressure",
    "hr": "heart rate",
    "spo2": "SpO2",
    "rr": "respiratory rate",
    "temp": "temperature",
    **{scale_id: scale.name for scale_id, scale in SCALES.items()},
    REMS_CHECK_ID: "REMS check",
}
EARLY = dt.timedelta(minutes=5)  # a reading up to 5 minutes early counts for the check
GRACE = dt.timedelta(minutes=5)  # a check is overdue 5 minutes after its time
RECHECK_EARLY = dt.timedelta(minutes=2)
SINGLE_WINDOW = dt.timedelta(minutes=30)  # how late a one-off check may still be met
HORIZON = dt.timedelta(hours=3)  # how far ahead upcoming checks are listed


class State(StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"


@dataclass(frozen=True)
class SessionTimes:
    started_at: dt.datetime
    first_dose_at: dt.datetime | None = None
    infusion_start: dt.datetime | None = None
    infusion_stop: dt.datetime | None = None
    ended_at: dt.datetime | None = None


@dataclass(frozen=True)
class Recorded:
    """One entry as the schedule sees it: when, and which vitals or scales it holds."""

    at: dt.datetime
    items: frozenset[str]


class RecordedTimes:
    """When each vital sign or scale was recorded, each in time order: finding the first
    of them inside a check's window is a binary search, so a tick costs the same at six
    hours of 1 Hz readings as at the first (issue 10). Kept up to date entry by entry.

    The times are kept as microseconds since the epoch (clinical/instants.py): a
    six-hour session's are read in as columns, not made into datetimes one by one.
    """

    def __init__(self, recorded: Iterable[Recorded] = ()) -> None:
        # 8 bytes a time (array "q"), not a Python int each: a six-hour 1 Hz session
        # records blood pressure, heart rate and SpO2 21,600 times each.
        self._times: dict[str, array[int]] = {}
        for entry in recorded:
            self.add(entry.at, entry.items)

    def add(self, at: dt.datetime, items: Iterable[str]) -> None:
        micros = to_micros(at)
        for item in items:
            bisect.insort(self._times.setdefault(item, array("q")), micros)

    def extend(self, recorded: Iterable[tuple[dt.datetime, Iterable[str]]]) -> None:
        """Many at once: appended, then each list sorted once, nearly in order already."""
        added: dict[str, list[int]] = {}
        for at, items in recorded:
            micros = to_micros(at)
            for item in items:
                added.setdefault(item, []).append(micros)
        for item, times in added.items():
            self.extend_micros(item, times)

    def extend_micros(self, item: str, times: Iterable[int], *, in_order: bool = False) -> None:
        """The times ``item`` was recorded, as microseconds since the epoch, in any order
        (a session's readings read as columns); ``in_order``: oldest first already (a
        six-hour session's 21,600 are then kept as given, not sorted again)."""
        if in_order and not self._times.get(item):
            self._times[item] = times if isinstance(times, array) else array("q", times)
            return
        kept = self._times.setdefault(item, array("q"))
        kept.extend(times)
        self._times[item] = array("q", sorted(kept))

    def remove(self, at: dt.datetime, items: Iterable[str]) -> None:
        micros = to_micros(at)
        for item in items:
            times = self._times.get(item, array("q"))
            found = bisect.bisect_left(times, micros)
            if found < len(times) and times[found] == micros:
                del times[found]

    def first_in(
        self, item: str, start: dt.datetime, end: dt.datetime | None
    ) -> dt.datetime | None:
        """The first time ``item`` was recorded at or after ``start`` and before ``end``."""
        times = self._times.get(item, array("q"))
        found = bisect.bisect_left(times, to_micros(start))
        if found == len(times) or (end is not None and times[found] >= to_micros(end)):
            return None
        return from_micros(times[found])


@dataclass(frozen=True)
class Occurrence:
    label: str
    due_at: dt.datetime | None  # None: before the first dose
    needs: frozenset[str]
    window: dt.timedelta
    recheck: bool = False
    early: dt.timedelta = EARLY


@dataclass(frozen=True)
class CheckStatus:
    occurrence: Occurrence
    state: State
    done_at: dt.datetime | None = None


def vitals_items(reading: VitalsReading) -> frozenset[str]:
    return reading.items


def occurrences(
    protocol: Protocol,
    times: SessionTimes,
    until: dt.datetime,
    rechecks: Iterable[dt.datetime] = (),
) -> list[Occurrence]:
    found: list[Occurrence] = []
    for rule in protocol.checks:
        found.extend(_rule_occurrences(rule, times, until))
    for at in rechecks:
        found.append(
            Occurrence(
                "Recheck after an urgent reading",
                at,
                frozenset({"bp"}),
                SINGLE_WINDOW,
                recheck=True,
                # Opens after the reading that called for it (5 minutes before), so that
                # reading cannot count as its own recheck.
                early=RECHECK_EARLY,
            )
        )
    return sorted(found, key=lambda o: (o.due_at is not None, o.due_at or times.started_at))


def _rule_occurrences(rule: CheckRule, times: SessionTimes, until: dt.datetime) -> list[Occurrence]:
    needs = frozenset(rule.vitals) | frozenset(rule.scales)
    if rule.pre_dose:
        return [Occurrence(rule.label, None, needs, dt.timedelta(0))]
    anchor = {
        "first_dose": times.first_dose_at,
        "infusion_start": times.infusion_start,
        "infusion_stop": times.infusion_stop,
    }[rule.anchor]
    if anchor is None:
        return []
    if rule.at_minutes is not None:
        return [Occurrence(rule.label, anchor + _minutes(rule.at_minutes), needs, SINGLE_WINDOW)]
    assert rule.from_minutes is not None
    assert rule.every_minutes is not None
    every = _minutes(rule.every_minutes)
    stop_event = {
        None: None,
        "first_dose": times.first_dose_at,
        "infusion_start": times.infusion_start,
        "infusion_stop": times.infusion_stop,
    }[rule.until_event]
    found = []
    minute = rule.from_minutes
    while True:
        due = anchor + _minutes(minute)
        if rule.until_minutes is not None and minute > rule.until_minutes:
            break
        if stop_event is not None and due > stop_event:
            break
        if due > until:
            break
        found.append(Occurrence(rule.label, due, needs, every))
        minute += rule.every_minutes
    return found


def check_statuses(
    protocol: Protocol,
    times: SessionTimes,
    recorded: Sequence[Recorded] | RecordedTimes,
    now: dt.datetime,
    rechecks: Iterable[dt.datetime] = (),
) -> list[CheckStatus]:
    if not isinstance(recorded, RecordedTimes):
        recorded = RecordedTimes(recorded)
    end = times.ended_at or now
    statuses = []
    for occurrence in occurrences(protocol, times, end + HORIZON, rechecks):
        done_at = _satisfied(occurrence, times, recorded)
        if done_at is not None:
            state = State.DONE
        elif occurrence.due_at is None:
            state = State.DUE if times.first_dose_at is None else State.OVERDUE
        elif end < occurrence.due_at - occurrence.early:
            state = State.UPCOMING
        elif end <= occurrence.due_at + GRACE:
            state = State.DUE
        else:
            state = State.OVERDUE
        if times.ended_at is not None and state is State.UPCOMING:
            continue  # after the end, future checks no longer apply
        statuses.append(CheckStatus(occurrence, state, done_at))
    return statuses


def _satisfied(
    occurrence: Occurrence, times: SessionTimes, recorded: RecordedTimes
) -> dt.datetime | None:
    """When the last needed item was recorded inside the occurrence's window, if all were."""
    start, end = _window(occurrence, times)
    latest: dt.datetime | None = None
    for need in occurrence.needs:
        first = recorded.first_in(need, start, end)
        if first is None:
            return None
        latest = first if latest is None else max(latest, first)
    return latest


def _window(occurrence: Occurrence, times: SessionTimes) -> tuple[dt.datetime, dt.datetime | None]:
    """Where a recorded item counts for ``occurrence``: a pre-dose check's from two hours
    before the start until the first dose; any other's around its time."""
    if occurrence.due_at is None:
        return times.started_at - dt.timedelta(hours=2), times.first_dose_at
    return occurrence.due_at - occurrence.early, occurrence.due_at + occurrence.window


def unmet_needs(occurrence: Occurrence, times: SessionTimes, recorded: RecordedTimes) -> list[str]:
    """The items ``occurrence`` needs that were not recorded in its window, in a sentence's
    words ("SpO2"), sorted."""
    start, end = _window(occurrence, times)
    return [
        ITEM_WORDS.get(need, need)
        for need in sorted(occurrence.needs)
        if recorded.first_in(need, start, end) is None
    ]


def missed_before_dose(status: CheckStatus) -> bool:
    """A pre-dose check not met before the first dose: overdue for good, nothing done now
    can meet it."""
    return status.occurrence.due_at is None and status.state is State.OVERDUE


def next_check(statuses: Sequence[CheckStatus]) -> CheckStatus | None:
    """What to show in the header: the most pressing check not yet done. A pre-dose check
    missed comes last: it stood first for the rest of the session and hid every check
    that could still be met, the recheck after an urgent reading among them (Xvfb QA)."""
    for state in (State.OVERDUE, State.DUE, State.UPCOMING):
        for status in statuses:
            if status.state is state and not missed_before_dose(status):
                return status
    return next((s for s in statuses if missed_before_dose(s)), None)


def _minutes(value: float) -> dt.timedelta:
    return dt.timedelta(minutes=value)
