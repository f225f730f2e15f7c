"""A session's vitals readings as columns, oldest first by the time taken.

A six-hour session with a monitor sending a reading a second holds 21,600 readings.
Made into objects one by one (ids, instants, a VitalsReading each) they took most of
the second a long session needed to open, and memory that never came back (issue 10).
Here they stay as the record gives them: the values in lists, the instants as
microseconds since the epoch, the ids as text. The chart, the due checks and the
log's order read the columns; a StoredVitals is made only for the reading looked at
(a log row shown, the reading before a new one, a correction).

Two readings taken at the same instant keep the order they were recorded in, so the
one recorded later is the later reading.
"""

from __future__ import annotations

import bisect
import operator
import sys
import uuid
from array import array
from collections.abc import Iterable, Iterator, MutableSequence, Sequence
from typing import Any, overload

import numpy as np

from kapdesk.clinical.instants import from_micros, to_micros
from kapdesk.clinical.vitals import VITAL_RANGES, VitalsReading
from kapdesk.session.entries import StoredVitals, Vitals

# The six values in VitalsReading's order (a test of vitals.py holds VITAL_RANGES to it).
VALUE_NAMES = tuple(VITAL_RANGES)
# What each value counts as for the due checks ("bp" for both pressures).
ITEM_OF = {name: rng.item for name, rng in VITAL_RANGES.items()}


def parse_instants(texts: Sequence[str]) -> Any:
    """The record's fixed-width UTC texts ("2026-03-02T09:00:01.000000Z") as microseconds
    since the epoch, an int64 array: numpy reads 21,600 of them in a few milliseconds."""
    bare = np.array([text[:-1] for text in texts], dtype="datetime64[us]")
    return bare.astype(np.int64)


def _in_time_order(columns: list[Sequence[Any]]) -> tuple[list[Sequence[Any]], Any]:
    """``columns`` (READING_COLUMNS, in the order written) ordered by time taken, then
    time recorded, then the order written, as the record orders a session's entries;
    and the instants taken, in that order. Readings nearly always arrive in time order:
    then nothing moves."""
    taken, recorded = parse_instants(columns[1]), columns[10]
    steps = np.diff(taken)
    if not (steps < 0).any():
        # Readings of one instant (a monitor's and a typed one): in order if recorded in
        # order, which the record's fixed-width UTC texts tell as text.
        ties = np.flatnonzero(steps == 0).tolist()
        if all(recorded[i] <= recorded[i + 1] for i in ties):
            return columns, taken
    order = np.lexsort((parse_instants(recorded), taken))  # stable: ties keep the order written
    pick = operator.itemgetter(*order.tolist())
    return [pick(column) for column in columns], taken[order]


def _interned(texts: Sequence[str]) -> list[str]:
    """``texts`` as one interned string for each distinct text (a few: "monitor", who
    recorded), looked up once each rather than 21,600 times."""
    one = {text: sys.intern(text) for text in set(texts)}
    return list(map(one.__getitem__, texts))


def position_of(key: str, ids: Sequence[str], hashes: array[int]) -> int | None:
    """Where the id ``key`` is in ``ids``, whose hash() each ``hashes`` holds at the same
    place; None if it is not there. One pass of numpy over machine integers (~20 µs for
    a six-hour session's 21,600 readings), in place of a dict from id to place: the two
    such dicts (the readings', the log's) held ~2.7 MiB at six hours and kept memory
    over target (issue 10)."""
    if not ids:
        return None
    view = np.frombuffer(hashes, dtype=np.int64)
    try:
        found = np.flatnonzero(view == hash(key)).tolist()
    finally:
        del view  # the array may grow again only once nothing views it
    return next((index for index in found if ids[index] == key), None)


def _int64s(values: Any) -> array[int]:
    """A numpy int64 array as an array("q"), without a Python int for each value."""
    kept = array("q")
    kept.frombytes(np.ascontiguousarray(values, dtype=np.int64).tobytes())
    return kept


class Readings(Sequence[StoredVitals]):
    """The readings, kept sorted by (time taken, order recorded)."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._hashes = array("q")  # each id's hash(): where to look for it (position_of)
        # Instants and the order recorded as machine integers, not an int object each:
        # ~1.3 MiB less at six hours (issue 10).
        self._micros = array("q")
        self._order = array("q")
        self._values: tuple[list[Any], ...] = tuple([] for _ in VALUE_NAMES)
        self._source: list[str] = []
        self._by: list[str] = []
        self._corrected: dict[str, StoredVitals] = {}  # with their originals and reasons
        self._uuids: dict[str, uuid.UUID] = {}  # who recorded: few, made once each
        self._next_order = 0

    # ------------------------------------------------------------------ loading

    def load(self, columns: Sequence[Sequence[Any]], corrected: Iterable[StoredVitals]) -> None:
        """Columns as store.vitals_table reads them (READING_COLUMNS, each in the order
        written); the corrected readings as they stand now, which take their places."""
        if columns and len(columns[0]):
            columns, taken = _in_time_order(list(columns))
            ids = list(columns[0])
            start = self._next_order
            self._ids.extend(ids)
            self._hashes.extend(map(hash, ids))
            self._micros.extend(_int64s(taken))
            self._order.extend(_int64s(np.arange(start, start + len(ids))))
            for kept, values in zip(self._values, columns[2:8], strict=True):
                kept.extend(values)
            self._source.extend(_interned(columns[8]))
            self._by.extend(_interned(columns[9]))
            self._next_order += len(ids)
        for stored in corrected:
            self.put(stored)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> StoredVitals: ...

    @overload
    def __getitem__(self, index: slice) -> list[StoredVitals]: ...

    def __getitem__(self, index: int | slice) -> StoredVitals | list[StoredVitals]:
        if isinstance(index, slice):
            return [self._stored(i) for i in range(*index.indices(len(self._ids)))]
        if index < 0:
            index += len(self._ids)
        if not 0 <= index < len(self._ids):
            raise IndexError("no reading there")
        return self._stored(index)

    def __iter__(self) -> Iterator[StoredVitals]:
        return (self._stored(i) for i in range(len(self._ids)))

    def __contains__(self, value: object) -> bool:
        return isinstance(value, StoredVitals) and self.has(value.id)

    def has(self, entry_id: uuid.UUID | str) -> bool:
        """Whether a reading with this id is here."""
        return position_of(str(entry_id), self._ids, self._hashes) is not None

    def get(self, entry_id: uuid.UUID | str) -> StoredVitals:
        """The reading with this id (KeyError if none)."""
        return self._stored(self.index_of(entry_id))

    def index_of(self, entry_id: uuid.UUID | str) -> int:
        """Where the reading with this id is (KeyError if none)."""
        index = position_of(str(entry_id), self._ids, self._hashes)
        if index is None:
            raise KeyError(str(entry_id))
        return index

    def reading_at(self, index: int) -> VitalsReading:
        """The values of reading ``index``, without the rest of the entry."""
        return VitalsReading(*(column[index] for column in self._values))

    def column(self, name: str) -> list[Any]:
        """One value of every reading, in order (None where not taken)."""
        return self._values[VALUE_NAMES.index(name)]

    def micros(self) -> array[int]:
        """When each reading was taken, microseconds since the epoch, in order."""
        return self._micros

    def ids(self) -> list[str]:
        return self._ids

    def first_at_or_after(self, at: Any) -> int:
        """The index of the first reading taken at or after the instant ``at``."""
        return bisect.bisect_left(self._micros, to_micros(at))

    def recorders(self) -> set[uuid.UUID]:
        """Who recorded the readings."""
        return {self._uuid(by) for by in set(self._by)}

    def with_bp(self, stop: int | None = None) -> Iterator[int]:
        """The indices of the readings (before ``stop``) that hold a blood pressure, as
        VitalsReading.has_bp, oldest first."""
        return (i for i in range(len(self._ids) if stop is None else stop) if self._has_bp(i))

    def last_with_bp(self, before: int | None = None) -> int | None:
        """The index of the newest reading holding a BP (before index ``before``)."""
        end = len(self._ids) if before is None else before
        return next((i for i in range(end - 1, -1, -1) if self._has_bp(i)), None)

    def item_times(self) -> dict[str, array[int]]:
        """For the due checks: when each item ("bp", "hr", ...) was taken, once a reading
        (systolic and diastolic are both "bp", as in VitalsReading.items: counted twice,
        a corrected reading's old time stayed behind when one was removed)."""
        micros = np.array(self._micros, dtype=np.int64)  # a copy: a view would pin its size
        taken: dict[str, np.ndarray] = {}
        for name, column in zip(VALUE_NAMES, self._values, strict=True):
            absent = column.count(None)  # a value taken every time or never: no array
            if absent in (0, len(column)):
                present = np.full(len(column), absent == 0)
            else:
                present = ~np.isnan(np.asarray(column, dtype=float))  # None: NaN
            item = ITEM_OF[name]
            taken[item] = taken[item] | present if item in taken else present
        return {item: _int64s(micros[present]) for item, present in taken.items()}

    # ------------------------------------------------------------------ writing

    def put(self, stored: StoredVitals) -> StoredVitals | None:
        """A new reading, or a corrected one in its new place; returns what it replaced."""
        key = str(stored.id)
        previous = None
        index = position_of(key, self._ids, self._hashes)
        if index is not None:
            previous = self._stored(index)
            order = self._order[index]
            for column in self._columns():
                del column[index]
        else:
            order = self._next_order
            self._next_order += 1
        micros = to_micros(stored.at)
        index = bisect.bisect_right(self._micros, micros)
        while index > 0 and self._micros[index - 1] == micros and self._order[index - 1] > order:
            index -= 1  # a corrected reading goes back among its instant's by its order
        reading = stored.content.reading
        row = (
            key,
            hash(key),
            micros,
            order,
            *(getattr(reading, name) for name in VALUE_NAMES),
            sys.intern(stored.content.source),
            sys.intern(str(stored.recorded_by)),
        )
        at_end = index == len(self._ids)
        for column, value in zip(self._columns(), row, strict=True):
            if at_end:
                column.append(value)  # the newest reading: O(1)
            else:
                column.insert(index, value)
        if stored.original is not None:
            self._corrected[key] = stored
        self._uuids.setdefault(str(stored.recorded_by), stored.recorded_by)
        return previous

    # ------------------------------------------------------------------ inside

    def _columns(self) -> tuple[MutableSequence[Any], ...]:
        return (
            self._ids,
            self._hashes,
            self._micros,
            self._order,
            *self._values,
            self._source,
            self._by,
        )

    def _has_bp(self, index: int) -> bool:
        return self._values[0][index] is not None and self._values[1][index] is not None

    def _uuid(self, text: str) -> uuid.UUID:
        found = self._uuids.get(text)
        if found is None:
            found = self._uuids[text] = uuid.UUID(text)
        return found

    def _stored(self, index: int) -> StoredVitals:
        key = self._ids[index]
        corrected = self._corrected.get(key)
        if corrected is not None:
            return corrected
        return StoredVitals(
            kind="vitals",
            id=uuid.UUID(key),
            at=from_micros(self._micros[index]),
            content=Vitals(self.reading_at(index), self._source[index]),
            original=None,
            original_at=None,
            reasons=(),
            recorded_by=self._uuid(self._by[index]),
        )
