"""Instants as whole microseconds since the Unix epoch, UTC: exact (a float timestamp is
not), cheap to keep in columns and to compare, and what numpy's datetime64[us] holds.

A long session keeps its readings' times this way (session/readings.py, issue 10); an
instant becomes a datetime again only when one reading is looked at.
"""

from __future__ import annotations

import datetime as dt

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)


def to_micros(at: dt.datetime) -> int:
    """A timezone-aware instant as microseconds since the epoch."""
    return (at - EPOCH) // MICROSECOND


def from_micros(micros: int) -> dt.datetime:
    """The UTC instant ``micros`` microseconds after the epoch."""
    return EPOCH + dt.timedelta(microseconds=micros)
