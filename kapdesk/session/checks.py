"""The protocol's due checks for a session: what is done, due or overdue, and the header line."""

from __future__ import annotations

import datetime as dt

from kapdesk.clinical.elapsed import format_elapsed, minute_up
from kapdesk.clinical.protocols import DischargeRules, Protocol
from kapdesk.clinical.schedule import (
    CheckStatus,
    SessionTimes,
    State,
    check_statuses,
    missed_before_dose,
    next_check,
    unmet_needs,
)
from kapdesk.session.alerting import rechecks
from kapdesk.session.protocols import NO_PROTOCOL
from kapdesk.session.state import SessionState


def session_times(state: SessionState) -> SessionTimes:
    start, stop = state.infusion_times()
    return SessionTimes(state.started_at, state.first_dose_at, start, stop, state.ended_at)


# No protocol, or one not loaded: no scheduled checks, but the recheck an urgent reading
# calls for is kapdesk's own rule, and it is said (Xvfb QA: a no-protocol session's banner
# said "Recheck in 5 minutes" and the header never named it).
RECHECKS_ONLY = Protocol(name="", route="", checks=(), discharge=DischargeRules())


def statuses(state: SessionState, protocol: Protocol | None, now: dt.datetime) -> list[CheckStatus]:
    return check_statuses(
        protocol or RECHECKS_ONLY, session_times(state), state.recorded, now, rechecks(state)
    )


def next_check_text(
    state: SessionState, protocol: Protocol | None, now: dt.datetime
) -> tuple[str, State | None]:
    """The header line: what is due next and in how long, or what is overdue."""
    found = statuses(state, protocol, now)
    if protocol is None and next_check(found) is None:
        if state.protocol == NO_PROTOCOL:
            return ("No protocol: no scheduled checks; monitoring as you decide.", None)
        return (f"No monitoring protocol named “{state.protocol}” is loaded.", None)
    status = next_check(found)
    overdue = sum(1 for s in found if s.state is State.OVERDUE and not missed_before_dose(s))
    if status is None:
        return ("No checks pending.", None)
    label = status.occurrence.label
    due = status.occurrence.due_at
    if missed_before_dose(status):
        return (f"Missed before the dose: {label}", State.OVERDUE)
    if status.state in (State.DUE, State.OVERDUE):
        # Part of it done: what is still needed leads (Xvfb QA: after the reading, "BP
        # and SpO2 every 15 minutes" stayed due for its MOAA/S, and nothing said so; then
        # "OVERDUE ...: BP and SpO2 every 30 minutes (still needed: MOAA/S)" read, from
        # across the room, as if the BP just entered had not counted).
        missing = unmet_needs(status.occurrence, session_times(state), state.recorded)
        if missing and len(missing) < len(status.occurrence.needs):
            label = f"{', '.join(missing)} still needed for “{label}” (the rest is in)"
    if status.state is State.OVERDUE:
        late = "" if due is None else f" by {format_elapsed(now - due)}"
        more = f" ({overdue} overdue)" if overdue > 1 else ""
        return (f"OVERDUE{late}: {label}{more}", State.OVERDUE)
    if status.state is State.DUE:
        if due is not None and now < due:
            # Within the minutes before its time, when a reading already counts: "Due now"
            # read as late, minutes early (QA).
            return (f"Due at {state.local_clock(due)}, a reading now counts: {label}", State.DUE)
        return (f"Due now: {label}", State.DUE)
    assert due is not None
    counts = ""
    if status.occurrence.recheck:
        # A reading taken meanwhile is not the recheck, and nothing said so: the countdown
        # ran on past the readings entered after the urgent one (Xvfb QA).
        opens = state.local_clock(minute_up(due - status.occurrence.early))
        counts = f"; a reading from {opens} counts"
    return (f"Next: {label} in {format_elapsed(due - now)}{counts}", State.UPCOMING)
