"""The injected clock. Elapsed time is always now minus a stored instant, never a tick count.

A session also watches the monotonic clock beside the wall clock: when the two move
apart (the laptop slept, or its clock was changed), it says so in the log.
"""

from __future__ import annotations

import datetime as dt
import time


class SystemClock:
    def now_utc(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock tests move by hand instead of sleeping."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
        self._monotonic = 1000.0

    def now_utc(self) -> dt.datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, **delta: float) -> dt.datetime:
        """Time passes: both clocks move together."""
        step = dt.timedelta(**delta)
        self._now += step
        self._monotonic += step.total_seconds()
        return self._now

    def jump(self, **delta: float) -> dt.datetime:
        """The wall clock is changed (or the laptop slept): only the wall clock moves."""
        self._now += dt.timedelta(**delta)
        return self._now

    def set(self, instant: dt.datetime) -> None:
        self._now = instant
