"""The encrypted, append-only clinical record. No Qt."""

from kapdesk.store.errors import StoreError
from kapdesk.store.record import RecordStore

__all__ = ["RecordStore", "StoreError"]
