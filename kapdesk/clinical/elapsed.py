"""Elapsed time as the clocks show it. Always (now - stored instant), never a tick count."""

from __future__ import annotations

import datetime as dt


def format_elapsed(delta: dt.timedelta) -> str:
    """HH:MM:SS, with a minus sign before zero (T+ before the first dose)."""
    seconds = int(delta.total_seconds())
    sign = "−" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def format_t_plus(at: dt.datetime, first_dose_at: dt.datetime | None) -> str:
    """T+MM (whole minutes from the first dose), as written beside each log entry: the
    minutes the T+ clock showed then (it counts them whole). Rounded, an entry at 39:30
    read "T+40" beside the 40-minute check while the clock said 00:39:30 (QA)."""
    if first_dose_at is None:
        return "pre-dose"
    seconds = (at - first_dose_at).total_seconds()
    whole = int(abs(seconds) // 60)
    if seconds < 0 and not whole:
        # Less than a minute before the dose: "T−0" read as the time of the dose itself
        # (two Xvfb QA passes); it is still before it.
        return "pre-dose"
    return f"T−{whole}" if seconds < 0 else f"T+{whole}"


def minute_up(at: dt.datetime, origin: dt.datetime | None = None) -> dt.datetime:
    """``at``, or the next whole minute after it: of the clock, or counted from ``origin``
    (the first dose, for a T+). Where a reading counts from a moment with seconds,
    "from 23:26" said of 23:26:44 turned away the readings taken at 23:26 (Xvfb QA)."""
    start = origin if origin is not None else at.replace(second=0, microsecond=0)
    passed = at - start
    whole = dt.timedelta(minutes=1)
    if passed % whole:
        return start + (passed // whole + 1) * whole
    return at


def describe_gap(delta: dt.timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
