"""The lock (issue 14): what stays on screen while kapdesk is locked, and the growing delay
after refused unlocks. No widgets: the lock screen (ui/lock_screen.py) shows these.

Locked, the screen keeps what keeps the patient safe, readable from across the room, and
nothing that identifies the patient: both clocks, the next due check and its countdown,
and the severity of an alert not yet acknowledged (its finding, never a name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kapdesk.clinical.elapsed import format_elapsed

if TYPE_CHECKING:
    from kapdesk.session.service import SessionService

# Refused unlocks before the first wait: a typing slip or two is not an attack.
FREE_TRIES = 3
LONGEST_WAIT_S = 60


def wait_after(refusals: int) -> int:
    """Seconds before the next PIN is checked: none for the first three refusals, then
    2, 4, 8 … up to a minute (a 6-digit PIN then takes about a year of guessing)."""
    return 0 if refusals <= FREE_TRIES else min(LONGEST_WAIT_S, 2 ** (refusals - FREE_TRIES))


class UnlockAttempts:
    """Refused unlocks in a row, and when the next PIN may be tried; counted on the
    monotonic clock (a changed wall clock does not shorten the wait)."""

    def __init__(self, monotonic: Callable[[], float], refusals: int = 0) -> None:
        self._monotonic = monotonic
        self.refusals = refusals
        self._next_try = monotonic() + wait_after(refusals)

    def wait_left(self) -> float:
        return max(0.0, self._next_try - self._monotonic())

    def refused(self) -> int:
        """One more refusal; the wait before the next try, in seconds."""
        self.refusals += 1
        wait = wait_after(self.refusals)
        self._next_try = self._monotonic() + wait
        return wait

    def succeeded(self) -> None:
        self.refusals = 0
        self._next_try = 0.0


@dataclass(frozen=True)
class LockFacts:
    """What the lock screen shows of the running session; no patient detail."""

    since_start: str
    since_first_dose: str
    next_check: str
    check_state: str | None
    alert: str  # "" when every alert is acknowledged
    alert_level: str | None


def lock_facts(service: SessionService | None) -> LockFacts | None:
    """The running session's clocks, due check and unacknowledged alert; None when no
    session is running (an ended one needs no watching)."""
    if service is None or service.ended_at is not None:
        return None
    since = service.since_first_dose()
    text, state = service.next_check()
    pending = service.open_alerts()  # the most severe first, the newest first within it
    shown = pending[0] if pending else None  # the banner's: never an older, milder one (QA)
    alert = ""
    if shown is not None:
        more = f" (and {len(pending) - 1} more)" if len(pending) > 1 else ""
        alert = f"{shown.level.upper()} alert not yet acknowledged{more}: {shown.reason}"
    return LockFacts(
        since_start=format_elapsed(service.since_start()),
        since_first_dose="--:--:--" if since is None else format_elapsed(since),
        next_check=text,
        check_state=None if state is None else str(state),
        alert=alert,
        alert_level=None if shown is None else str(shown.level),
    )
