"""The audit chain: each event carries the SHA-256 of the one before and a digest of its record.

Any edit or removal of a past event breaks the chain at that event; any edit
of a record breaks the match between the record and the digest its latest
event holds. Digests are taken over the row exactly as stored, read back
through plain SQL, so the writer and the verifier see the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, text

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


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_digest(row: Mapping[str, Any]) -> str:
    """SHA-256 of a stored row, all columns, by name."""
    return hashlib.sha256(canonical_json(dict(row)).encode("utf-8")).hexdigest()


def event_hash(event: Mapping[str, Any]) -> str:
    payload = [event[name] for name in EVENT_FIELDS]
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def stored_row(connection: Connection, table: str, row_id: str) -> dict[str, Any] | None:
    """A row as SQLite holds it (text, numbers, nulls), without the ORM's conversions."""
    result = connection.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id})
    row = result.mappings().first()
    return None if row is None else dict(row)
