"""The encrypted, append-only clinical record. No Qt."""

from kapdesk.store.unused_imports import defer_asyncio

defer_asyncio()  # before SQLAlchemy's first import (store/unused_imports.py)

from kapdesk.store.errors import StoreError  # noqa: E402
from kapdesk.store.record import RecordStore  # noqa: E402

__all__ = ["RecordStore", "StoreError"]
