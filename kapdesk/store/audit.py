"""The audit chain: each event carries the SHA-256 of the one before and a digest of its record.

Any edit or removal of a past event breaks the chain at that event; any edit
of a record breaks the match between the record and the digest its latest
event holds. Digests are taken over the row exactly as stored, read back
through plain SQL, so the writer and the verifier see the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

GENESIS_HASH = "0" * 64

# Fields of an event covered by its hash, in a fixed order.
EVENT_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "action",
    "entity_kind",
    "entity_id",
    "record_digest",
    "details",
    "prev_hash",
)


# One encoder for every call: json.dumps with arguments builds a new one each time, a
# fifth of verify's time over a million events.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def row_digest(row: Mapping[str, Any]) -> str:
    """SHA-256 of a stored row, all columns, by name."""
    return hashlib.sha256(canonical_json(dict(row)).encode("utf-8")).hexdigest()


def event_hash(event: Mapping[str, Any]) -> str:
    payload = [event[name] for name in EVENT_FIELDS]
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def stored_form(table: Table, values: Mapping[str, Any], dialect: Dialect) -> dict[str, Any]:
    """The row as SQLite will hold it, from the values being inserted.

    The verifier reads rows back and must reach the same digest, which the tests
    check for every kind of entry.
    """
    out: dict[str, Any] = {}
    for name, convert in _converters(table):
        value = values[name]
        if convert is not None:
            value = None if value is None else convert(value, dialect)
        elif isinstance(value, bool):
            value = int(value)
        out[name] = value
    return out


@functools.cache
def _converters(table: Table) -> tuple[tuple[str, Any], ...]:
    """Each column's name and its type's bind conversion, if it has one of its own."""
    return tuple(
        (
            column.name,
            column.type.process_bind_param if isinstance(column.type, TypeDecorator) else None,
        )
        for column in table.columns
    )
