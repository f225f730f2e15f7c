"""The injected clock. Elapsed time is always now minus a stored instant, never a tick count."""

from __future__ import annotations

import datetime as dt


class SystemClock:
    def now_utc(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FakeClock:
    """A clock tests move by hand instead of sleeping."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def now_utc(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        self._now += dt.timedelta(**delta)
        return self._now

    def set(self, instant: dt.datetime) -> None:
        self._now = instant
