"""The one module that owns the SQLCipher engine, its pragmas and the checks made before opening.

Opening is two steps. First a read-only connection checks the file: that the
key reads it, that it is a kapdesk record of this key file, its schema
revision and a quick integrity check. A read-only connection cannot
checkpoint a leftover write-ahead log into the database or delete it, so a
wrong key or a damaged file leaves the database and its log byte-for-byte as
they were (only SQLite's derived -shm index may be rebuilt). Only then is the
read-write engine made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlcipher3
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from kapdesk.store.errors import DamagedDatabaseError, NotADatabaseError

log = logging.getLogger(__name__)

DATABASE_FILE = "kapdesk.db"
PAGE_SIZE = 4096  # SQLCipher 4 default
SQLITE_PLAIN_HEADER = b"SQLite format 3\x00"


def connect(path: Path, key: bytes, mode: str) -> Any:
    """A raw SQLCipher connection keyed with the raw 256-bit key; mode is ro, rw or rwc."""
    uri = f"file:{quote(str(path))}?mode={mode}"
    connection = sqlcipher3.connect(uri, uri=True, check_same_thread=False)
    # SQLCipher's own logging goes to stderr by default; kapdesk reports in sentences.
    connection.execute("PRAGMA cipher_log_level = NONE")
    # A raw key: no passphrase derivation inside SQLCipher, the key is already random.
    connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return connection


@dataclass(frozen=True)
class Preflight:
    revision: str | None
    database_id: str | None
    holds_data: bool


def check_file_shape(path: Path) -> None:
    """Refuse files that cannot be a kapdesk record before SQLite touches them."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(16)
    if head == SQLITE_PLAIN_HEADER:
        raise NotADatabaseError(
            f"{path.name} is an unencrypted SQLite file, not a kapdesk record. Move it aside "
            "and restore the record from a backup; nothing was changed."
        )
    if size == 0 or size % PAGE_SIZE != 0:
        raise DamagedDatabaseError(
            f"{path.name} is {size:,} bytes, not a whole number of database pages: it was "
            "truncated or damaged. Restore the record from a backup; nothing was changed."
        )


def preflight(path: Path, key: bytes) -> Preflight:
    """Read-only checks of an existing database; raises a StoreError naming the problem."""
    check_file_shape(path)
    companions = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    absent = [p for p in companions if not p.exists()]
    connection = connect(path, key, "ro")
    try:
        try:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlcipher3.DatabaseError:
            # The key itself was proven by the key file, so the file is at fault.
            raise NotADatabaseError(
                f"{path.name} cannot be read with this record's key: it is damaged, or it "
                "is not the database that belongs with this key file. Restore the record "
                "from a backup; nothing was changed."
            ) from None
        try:
            result = connection.execute("PRAGMA quick_check").fetchall()
        except sqlcipher3.DatabaseError as exc:
            raise _damaged(path, str(exc)) from None
        if result != [("ok",)]:
            raise _damaged(path, "; ".join(str(r[0]) for r in result[:3]))
        if not tables:
            return Preflight(revision=None, database_id=None, holds_data=False)
        if "kapdesk_meta" not in tables or "alembic_version" not in tables:
            raise NotADatabaseError(
                f"{path.name} opens with this key but is not a kapdesk record. Restore the "
                "record from a backup; nothing was changed."
            )
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        meta = connection.execute(
            "SELECT value FROM kapdesk_meta WHERE name = 'database_id'"
        ).fetchone()
        holds_data = connection.execute("SELECT EXISTS (SELECT 1 FROM audit_events)").fetchone()
        return Preflight(
            revision=revision[0] if revision else None,
            database_id=meta[0] if meta else None,
            holds_data=bool(holds_data[0]),
        )
    except sqlcipher3.DatabaseError as exc:
        raise _damaged(path, str(exc)) from None
    finally:
        connection.close()
        # A read-only open of a WAL database creates an empty log and index if
        # none were there; remove only those, so the folder is as we found it.
        for created in absent:
            if created.exists() and (created.name.endswith("-shm") or not created.stat().st_size):
                created.unlink()


def _damaged(path: Path, detail: str) -> DamagedDatabaseError:
    log.error("integrity problem in %s: %s", path.name, detail)
    return DamagedDatabaseError(
        f"{path.name} is damaged ({detail[:120]}). Do not write to it: restore the record "
        "from a backup, and keep this file for inspection; nothing was changed."
    )


def make_engine(path: Path, key: bytes, *, create: bool = False) -> Engine:
    """The read-write engine: WAL, synchronous=FULL, foreign keys on, parameters never logged."""
    mode = "rwc" if create else "rw"

    def creator() -> Any:
        connection = connect(path, key, mode)
        # SQLAlchemy issues BEGIN itself (below), so the driver must not.
        connection.isolation_level = None
        for pragma in (
            "PRAGMA journal_mode = WAL",
            # FULL: a commit is on disk (WAL fsynced) before the caller hears "saved".
            "PRAGMA synchronous = FULL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 5000",
        ):
            connection.execute(pragma).fetchall()
        return connection

    engine = create_engine(
        "sqlite+pysqlite://",
        creator=creator,
        # The dialect must know its driver is sqlcipher3, or driver errors pass
        # through unwrapped and the store's error handling never sees them.
        module=sqlcipher3,
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=2,
        hide_parameters=True,  # exception texts must never carry patient details
    )

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine
