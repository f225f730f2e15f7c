"""The one module that owns the SQLCipher engine, its pragmas and the checks made before opening.

Opening is two steps. First a read-only connection checks the file: that the
key reads it, that it is a kapdesk record of this key file, its schema
revision and its structure. A read-only connection cannot
checkpoint a leftover write-ahead log into the database or delete it, so a
wrong key or a damaged file leaves the database and its log byte-for-byte as
they were (only SQLite's derived -shm index may be rebuilt). Only then is the
read-write engine made.

Opening reads a handful of pages, not the whole file: SQLCipher authenticates every
page it reads (HMAC-SHA512), so damage in what opening reads is refused with a
sentence, but a check of every page costs time in proportion to the record (3.6 s of
3.65 s at ten clinic years). That full check (``integrity_problems``) runs in
``kapdesk verify``, on every backup and restore, and in the app in the background
shortly after opening and every few hours, with a standing sentence if it fails.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import stat
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlcipher3
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.sqlite import pysqlite  # noqa: F401  (create_engine loads it anyway)
from sqlalchemy.pool import QueuePool

from kapdesk.store import migrate
from kapdesk.store.errors import DamagedDatabaseError, FolderUnusableError, NotADatabaseError

log = logging.getLogger(__name__)

DATABASE_FILE = "kapdesk.db"
PAGE_SIZE = 4096  # SQLCipher 4 default
SQLITE_PLAIN_HEADER = b"SQLite format 3\x00"
# The kapdesk_meta row saying the record keeps an anchor file and its facts are audited.
ANCHOR_META = "anchor"


def connect(path: Path, key: bytes, mode: str, *, without_log: bool = False) -> Any:
    """A raw SQLCipher connection keyed with the raw 256-bit key; mode is ro, rw or rwc.
    ``without_log``: the database file alone, read only, its write-ahead log unread
    (SQLite's ``immutable``): what it holds before the log is folded in."""
    uri = f"file:{quote(str(path))}?mode={mode}" + ("&immutable=1" if without_log else "")
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
    head_seq: int = 0  # the newest audit event (0: none yet)
    head_hash: str | None = None
    anchored: bool = False  # kapdesk_meta says the record keeps an anchor file
    facts_covered: bool = False  # the audit trail holds events for the record's own facts
    anchor_event_hash: str | None = None  # the hash of the event the anchor names, if present
    schema_problems: tuple[str, ...] = ()


def check_file_shape(path: Path) -> None:
    """Refuse files that cannot be a kapdesk record before SQLite touches them."""
    if path.is_symlink():
        # Followed, its write-ahead log would be written beside the link's target, outside
        # the owner-only data folder and out of sight of the checks on it (tamper QA).
        raise NotADatabaseError(
            f"{path.name} in {path.parent} is a link to another file, not the database "
            "itself. Put the database file itself in the data folder (or restore the record "
            "from a backup); nothing was changed."
        )
    if path.is_dir() or not stat.S_ISREG(path.stat().st_mode):
        kind = "a folder" if path.is_dir() else "not a plain file"
        raise NotADatabaseError(
            f"{path.name} in {path.parent} is {kind}, not a database file. Something other "
            "than kapdesk put it there: move it aside and restore the record from a backup; "
            "nothing was changed."
        )
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except PermissionError:
        # An unexpected error before (tamper QA: chmod 000).
        raise FolderUnusableError(
            f"{path.name} in {path.parent} cannot be read: this user has no permission to "
            "read it. Give the user who runs kapdesk read and write access to the data "
            "folder and its files (an administrator may need to), then start again; "
            "nothing was changed."
        ) from None
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


def preflight(
    path: Path,
    key: bytes,
    *,
    anchor_seq: int | None = None,
    full_check: bool = False,
    without_log: bool = False,
) -> Preflight:
    """Read-only checks of an existing database; raises a StoreError naming the problem.

    Also reads what opening compares with the anchor: the newest audit event, and the
    hash of event ``anchor_seq`` if the record holds it. ``full_check``: also read and
    check every page (a restore does; an ordinary open leaves it to the background check).
    ``without_log``: the database file as it is without its write-ahead log (connect).
    """
    check_file_shape(path)
    with read_only_companions(path):
        return _read_only_checks(path, key, anchor_seq, full_check, without_log)


def _read_only_checks(
    path: Path, key: bytes, anchor_seq: int | None, full_check: bool, without_log: bool
) -> Preflight:
    connection = connect(path, key, "ro", without_log=without_log)
    try:
        try:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlcipher3.DatabaseError:
            # The key itself was proven by the key file, so the file is at fault; the log
            # named only if there is one (QA: it was named beside a database alone).
            log_file = Path(f"{path}-wal")
            which = (
                f"it, or the write-ahead log {log_file.name} beside it,"
                if not without_log and log_file.exists() and log_file.stat().st_size
                else "it"
            )
            raise NotADatabaseError(
                f"{path.name} cannot be read with this record's key: {which} is damaged, cut "
                "short, or belongs to another record. Restore the record from a backup; "
                "nothing was changed."
            ) from None
        if full_check:
            problems = quick_check(connection)
            if problems:
                raise _damaged(path, "; ".join(problems[:3]))
        if not tables:
            return Preflight(revision=None, database_id=None, holds_data=False)
        if "kapdesk_meta" not in tables or "alembic_version" not in tables:
            raise NotADatabaseError(
                f"{path.name} opens with this key but is not a kapdesk record. Restore the "
                "record from a backup; nothing was changed."
            )
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        meta = dict(connection.execute("SELECT name, value FROM kapdesk_meta").fetchall())
        audited = "audit_events" in tables  # if dropped, the schema check names it
        newest = (
            audited
            and connection.execute(
                "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        )
        head, head_hash = newest or (0, None)
        facts_covered = bool(
            audited
            and connection.execute(
                "SELECT EXISTS (SELECT 1 FROM audit_events WHERE entity_kind = 'meta')"
            ).fetchone()[0]
        )
        anchored_hash = None
        if anchor_seq is not None and audited:
            found = connection.execute(
                "SELECT hash FROM audit_events WHERE seq = ?", (anchor_seq,)
            ).fetchone()
            anchored_hash = found[0] if found else None
        present = {
            (row[0], row[1]): row[2]
            for row in connection.execute("SELECT type, name, sql FROM sqlite_master")
        }
        return Preflight(
            revision=revision[0] if revision else None,
            database_id=meta.get("database_id"),
            holds_data=head > 0,
            head_seq=int(head),
            head_hash=head_hash,
            anchored=ANCHOR_META in meta,
            facts_covered=facts_covered,
            anchor_event_hash=anchored_hash,
            schema_problems=tuple(_schema_problems(present, revision[0] if revision else None)),
        )
    except sqlcipher3.DatabaseError as exc:
        raise _damaged(path, str(exc)) from None
    finally:
        connection.close()


def quick_check(connection: Any) -> list[str]:
    """SQLite's quick_check: every b-tree page read (and so authenticated by SQLCipher)."""
    try:
        result = connection.execute("PRAGMA quick_check").fetchall()
    except sqlcipher3.DatabaseError as exc:
        return [str(exc)]
    return [] if result == [("ok",)] else [str(row[0]) for row in result]


class IntegrityCheck:
    """The full page check of an open record, on its own read-only connection, for a
    background thread; ``interrupt`` (from any thread) stops it early.

    The connection reads a snapshot: entries saved meanwhile are not held up (WAL).
    """

    def __init__(self, path: Path, key: bytes) -> None:
        self._path, self._key = path, key
        self._connection: Any = None
        self._lock = threading.Lock()
        self._interrupted = False

    def run(self) -> list[str]:
        """Sentences naming what is damaged; empty when every page checks out."""
        with self._lock:
            if self._interrupted:
                return []
            self._connection = _configured(connect(self._path, self._key, "ro"), READ_ONLY_PRAGMAS)
        try:
            problems = quick_check(self._connection)
        finally:
            with self._lock:
                self._connection.close()
                self._connection = None
        if self._interrupted:
            return []
        if problems:
            log.error("background integrity check failed: %s", "; ".join(problems[:3]))
        return problems

    def interrupt(self) -> None:
        with self._lock:
            self._interrupted = True
            if self._connection is not None:
                self._connection.interrupt()


@contextlib.contextmanager
def read_only_companions(path: Path) -> Iterator[None]:
    """Leave the folder as found by read-only connections opened inside.

    A read-only open of a WAL database creates an empty log and index if none
    were there; remove only those (a log that was there, or that holds anything,
    is never touched).
    """
    companions = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    absent = [p for p in companions if not p.exists()]
    try:
        yield
    finally:
        for created in absent:
            if created.exists() and (created.name.endswith("-shm") or not created.stat().st_size):
                created.unlink()


def _schema_problems(present: dict[tuple[str, str], str | None], revision: str | None) -> list[str]:
    if revision is None or revision not in migrate.known_revisions():
        return []  # a newer kapdesk's schema, refused by its revision
    return migrate.schema_differences(present, revision)


def _damaged(path: Path, detail: str) -> DamagedDatabaseError:
    log.error("integrity problem in %s: %s", path.name, detail)
    return DamagedDatabaseError(
        f"{path.name} is damaged ({detail[:120]}). Do not write to it: restore the record "
        "from a backup, and keep this file for inspection; nothing was changed."
    )


CACHE_KIB = 2048
WRITE_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # FULL: a commit is on disk (WAL fsynced) before the caller hears "saved", and a
    # commit's frames are on disk before the next transaction writes any: the
    # write-ahead log check (store/wal.py) relies on that order.
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
    # Sorts and temporary tables in memory: SQLCipher encrypts the database and its logs,
    # not SQLite's temporary files. (The SQLCipher build defaults to memory too; this
    # says so where it cannot be changed by a build option.) kapdesk's queries are
    # shaped to use indexes instead of large sorts, so this stays small.
    "PRAGMA temp_store = MEMORY",
    # Decrypted pages kept per connection: 2 MiB (SQLCipher's build keeps 8). A six-hour
    # 1 Hz session's writes and its opening each filled 8, on two connections, a sixth
    # of the app's memory at the end of it (issue 10). What kapdesk reads again soon is
    # small (a session's newest entries, a page of patients); the rest is read once.
    f"PRAGMA cache_size = -{CACHE_KIB}",
)
READ_ONLY_PRAGMAS = (
    "PRAGMA query_only = ON",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA temp_store = MEMORY",
    f"PRAGMA cache_size = -{CACHE_KIB}",
)


def _configured(connection: Any, pragmas: tuple[str, ...]) -> Any:
    # The caller (SQLAlchemy, or the store's own BEGIN IMMEDIATE) issues BEGIN itself,
    # so the driver must not.
    connection.isolation_level = None
    for pragma in pragmas:
        connection.execute(pragma).fetchall()
    return connection


def connect_writer(path: Path, key: bytes) -> Any:
    """The store's own connection for entries, outside the engine's pool.

    Every save is one short transaction on it; taking a pooled connection and
    handing it back (with its reset) cost as much as the insert itself.
    """
    return _configured(connect(path, key, "rw"), WRITE_PRAGMAS)


# Names and record numbers folded lately: a search folds every patient's (issue 10: 2,001
# patients, the search 64 ms before accents were folded, 89 ms after, uncached).
FOLDS_KEPT = 16_384
# Letters with no decomposition that a clinician types without their mark.
_PLAIN_LETTERS = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ħ": "h",
        "ı": "i",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "þ": "th",
        "Þ": "th",
    }
)


@functools.lru_cache(maxsize=FOLDS_KEPT)
def fold(value: str) -> str:
    """``value`` as a search compares it: case and accents ignored ("Zoë Łukasiewicz-Ngô"
    is found by "zoe", "lukas" and "ngo": QA, only "zo" found it)."""
    # Any run of spaces, tabs or other blanks as one space: "QA\t77" and "QA  77" went in
    # beside "QA 77", a second patient under a number that reads as the first's (tamper QA).
    if value.isascii():
        return " ".join(value.split()).casefold()  # most names: for every patient, per search
    plain = unicodedata.normalize("NFKD", value.translate(_PLAIN_LETTERS))
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).split()).casefold()


def _fold(value: object) -> str | None:
    return None if value is None else fold(str(value))


def make_engine(path: Path, key: bytes, *, create: bool = False, read_only: bool = False) -> Engine:
    """The read-write engine: WAL, synchronous=FULL, foreign keys on, parameters never logged.

    ``read_only``: for verify, a connection that cannot write, checkpoint or remove
    the write-ahead log (only SQLite's derived -shm index may be rebuilt).
    """
    mode = "ro" if read_only else "rwc" if create else "rw"
    pragmas = READ_ONLY_PRAGMAS if read_only else WRITE_PRAGMAS

    def creator() -> Any:
        connection = _configured(connect(path, key, mode), pragmas)
        # Case-insensitive search beyond ASCII (SQLite's LIKE folds A-Z only): Zoë, ZOË.
        connection.create_function("kapdesk_fold", 1, _fold, deterministic=True)
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
