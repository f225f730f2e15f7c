"""`kapdesk verify`: SQLite and SQLCipher integrity, the record's structure and append-only
guards, the audit chain, every record against the digest its latest audit event holds, the
write-ahead log, the anchor, and backups taken earlier.

``verify_folder`` opens the record read-only: it appends no event, folds no log into the
database and leaves every file as it found it (SQLite's derived -shm index aside).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlcipher3
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from kapdesk.store import migrate
from kapdesk.store.audit import EVENT_FIELDS, GENESIS_HASH, event_hash, row_digest
from kapdesk.store.engine import ANCHOR_META
from kapdesk.store.errors import StoreError
from kapdesk.store.models import ENTITY_TABLES

KIND_LABELS = {
    "clinician": "clinician",
    "clinician_account": "clinician account",
    "patient": "patient",
    "session": "session",
    "dose": "dose",
    "infusion_stop": "infusion stop",
    "vitals": "vitals reading",
    "observation": "observation",
    "scale_score": "scale score",
    "session_event": "session event",
    "course_note": "course note",
    "correction": "correction",
    "meta": "record fact (kapdesk_meta)",
    "schema": "schema revision (alembic_version)",
}


def _label(kind: str) -> str:
    """A kind in words; a kind without one is still named, never a crash mid-verify."""
    return KIND_LABELS.get(kind, kind.replace("_", " "))


# The audit events of the record's own facts name them, not a UUID.
FACT_KINDS = ("meta", "schema")
SCHEMA_ENTITY = "alembic_version"
MAX_LISTED = 50


@dataclass
class Check:
    name: str
    problems: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class VerifyReport:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def render(self) -> str:
        lines = []
        for check in self.checks:
            mark = "ok  " if check.ok else "FAIL"
            lines.append(f"[{mark}] {check.name}: {check.summary}")
            for problem in check.problems[:MAX_LISTED]:
                lines.append(f"         - {problem}")
            if len(check.problems) > MAX_LISTED:
                lines.append(f"         - and {len(check.problems) - MAX_LISTED} more")
        failed = {check.name for check in self.checks if not check.ok}
        if not failed:
            verdict = "The record is intact."
        elif failed == {BACKUP_FILES}:
            # The record holds; a copy of it does not (tamper QA: "restore from the latest
            # good backup" was said of a record that was fine).
            verdict = (
                "The record itself is intact, but a backup file above would not restore: "
                "keep it aside and take a new backup now."
            )
        else:
            verdict = (
                "The record FAILED verification. Do not discard this folder: keep a copy "
                "for inspection and restore from the latest good backup."
            )
        lines.append(verdict)
        return "\n".join(lines)


BACKUP_FILES = "Backup files"  # those that would not restore (verify_folder.backup_check)

# (what is being checked, how far, out of how much): called now and then while verify runs.
Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 20_000  # events between two progress calls
# Rows read ahead of their audit event before the event is put aside to wait for its row.
READ_AHEAD = 2_000


def no_progress(_what: str, _done: int, _total: int) -> None:
    pass


class VerifyStopped(StoreError):
    """Verification was stopped (the window closed) before it finished."""


def verify_record(
    engine: Engine, progress: Progress = no_progress, stop: Callable[[], bool] | None = None
) -> VerifyReport:
    """Every check of the database itself, in memory that does not grow with the record
    (only with the number of sessions, and with what is found wrong).

    ``stop``: asked now and then (also inside SQLite's long checks); when it says True,
    verification ends with VerifyStopped and concludes nothing.
    """
    with engine.connect() as conn:
        if stop is None:
            return _verify(conn, progress)
        driver: Any = conn.connection.driver_connection
        driver.set_progress_handler(lambda: 1 if stop() else 0, 100_000)

        def checked(what: str, done: int, total: int) -> None:
            if stop():
                raise VerifyStopped("Verification was stopped before it finished.")
            progress(what, done, total)

        try:
            report = _verify(conn, checked)
            if stop():
                raise VerifyStopped("Verification was stopped before it finished.")
            return report
        finally:
            driver.set_progress_handler(None, 0)


def _verify(conn: Connection, progress: Progress) -> VerifyReport:
    present = {
        (row[0], row[1]): row[2]
        for row in conn.execute(text("SELECT type, name, sql FROM sqlite_master"))
    }
    tables = {name for kind, name in present if kind == "table"}
    progress("every page", 0, 2)
    sqlite_integrity = _sqlite_integrity(conn)
    progress("every page", 1, 2)
    cipher_integrity = _cipher_integrity(conn)
    progress("every page", 2, 2)
    checks = [sqlite_integrity, cipher_integrity]
    # After a damaged page SQLite may answer "malformed" to every query: each check
    # that cannot read says so, and the report is made, never an unexpected error (a
    # damaged record's every message pointed to verify, which crashed: tamper QA).
    try:
        checks.append(_structure(conn, present, tables))
    except (DBAPIError, sqlcipher3.Error) as exc:
        checks.append(unreadable_check("Structure and append-only guards", exc))
    try:
        checks.extend(_audit_and_records(conn, tables, progress))
    except (DBAPIError, sqlcipher3.Error) as exc:
        checks.append(unreadable_check("Audit chain and records", exc))
    return VerifyReport(checks)


def unreadable_check(name: str, exc: DBAPIError | sqlcipher3.Error) -> Check:
    """A check that could not read what it needed: the database is damaged."""
    return Check(
        name,
        [f"it could not be read ({_driver_message(exc)}): the database is damaged"],
        "not readable",
    )


def _driver_message(exc: DBAPIError | sqlcipher3.Error) -> str:
    if isinstance(exc, DBAPIError):
        return str(exc.orig)[:120] if exc.orig is not None else type(exc).__name__
    return str(exc)[:120]


def _sqlite_integrity(conn: Connection) -> Check:
    check = Check("SQLite integrity check")
    try:
        rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
    except DBAPIError as exc:
        rows = [_driver_message(exc)]
    if rows != ["ok"]:
        check.problems = _first_of([str(r) for r in rows])
        check.summary = "the database structure is damaged"
    else:
        check.summary = "ok"
    return check


def _cipher_integrity(conn: Connection) -> Check:
    check = Check("SQLCipher page integrity")
    try:
        rows = [r[0] for r in conn.exec_driver_sql("PRAGMA cipher_integrity_check").fetchall()]
    except DBAPIError as exc:
        rows = [_driver_message(exc)]
    check.problems = _first_of([str(r) for r in rows])
    check.summary = "every page authenticates" if not rows else "pages fail authentication"
    return check


SHOWN_PROBLEMS = 10


def _first_of(problems: list[str]) -> list[str]:
    """SQLite's own lines, the first SHOWN_PROBLEMS and a count of the rest: a damaged
    page printed a hundred "Tree 29 page ..." lines, burying the verdict (tamper QA)."""
    if len(problems) <= SHOWN_PROBLEMS:
        return problems
    rest = len(problems) - SHOWN_PROBLEMS
    return [*problems[:SHOWN_PROBLEMS], f"… and {rest} more of SQLite's lines like these"]


def _structure(
    conn: Connection, present: dict[tuple[str, str], str | None], tables: set[str]
) -> Check:
    """Every table, index and trigger, compared with the SQL the migrations create.

    Names alone are not enough: a do-nothing trigger under a guard's name, or a
    trigger that silently skips inserts, must be caught too.
    """
    check = Check("Structure and append-only guards")
    revision = None
    if SCHEMA_ENTITY in tables:
        revision = conn.execute(text(f"SELECT version_num FROM {SCHEMA_ENTITY}")).scalar()
    if revision not in migrate.known_revisions():
        check.problems.append(
            f"the schema revision {revision!r} is not one this kapdesk knows, so the "
            "structure cannot be compared"
        )
        check.summary = "unknown schema revision"
        return check
    assert revision is not None
    check.problems = migrate.schema_differences(present, revision)
    guards = sum(1 for kind, _name in migrate.expected_schema(revision) if kind == "trigger")
    check.summary = (
        f"schema {revision}, {len(tables)} tables and all {guards} guards as kapdesk created them"
        if check.ok
        else f"{len(check.problems)} difference{'s' if len(check.problems) != 1 else ''}"
    )
    return check


def _entity_key(kind: str | None, entity_id: str) -> str:
    return f"{kind}:{entity_id}" if kind in FACT_KINDS else entity_id


class _Records:
    """Each record against the digest its latest audit event holds, and what was added
    or deleted: the problems, in the order found."""

    def __init__(self) -> None:
        self.altered: list[str] = []
        self.added: list[str] = []
        self.deleted: list[tuple[int, str]] = []  # (event, sentence), listed by event
        self.total = 0

    def compare(self, kind: str, shown_id: str, digest: str, audited: tuple[int, str]) -> None:
        if audited[1] != digest:
            self.altered.append(
                f"{_label(kind)} {shown_id} differs from what event #{audited[0]} "
                "recorded: it was altered behind kapdesk's back"
            )

    def unaudited(self, kind: str, shown_id: str) -> None:
        self.added.append(
            f"{_label(kind)} {shown_id} has no audit event: it was added behind kapdesk's back"
        )

    def missing(self, kind: str, shown_id: str, seq: int) -> None:
        self.deleted.append(
            (
                seq,
                f"{_label(kind)} {shown_id} recorded in event #{seq} is missing: it was deleted",
            )
        )

    def problems(self) -> list[str]:
        return [*self.altered, *self.added, *(s for _seq, s in sorted(self.deleted))]


class _TableStream:
    """One append-only table's rows in the order written, paired with their create events.

    A row and its create event are written in one transaction, and nothing is ever
    deleted or reordered, so the table's rowid order is the order of its kind's create
    events in the audit trail: one pass over both, in step, pairs them up. A row read
    ahead of its event, or an event whose row has not come yet, waits in a small dict
    (they hold only what is out of step: what was added or deleted from outside).
    """

    def __init__(self, conn: Connection, kind: str, table: str | None, found: _Records) -> None:
        self.kind, self.found = kind, found
        self.names: list[str] = []
        self.rows: Iterator[tuple[Any, ...]] | None = None
        if table is not None:
            self.names, self.rows = _raw_rows(conn, f"SELECT * FROM {table} ORDER BY rowid")
        self.rows_waiting: dict[str, str] = {}
        self.events_waiting: dict[str, tuple[int, str]] = {}

    def _next_row(self) -> tuple[str, str] | None:
        row = None if self.rows is None else next(self.rows, None)
        if row is None:
            return None
        self.found.total += 1
        stored = dict(zip(self.names, row, strict=True))
        return str(stored["id"]), row_digest(stored)

    def event(self, entity_id: str, audited: tuple[int, str]) -> None:
        if entity_id in self.rows_waiting:
            self.found.compare(self.kind, entity_id, self.rows_waiting.pop(entity_id), audited)
            return
        for _ in range(READ_AHEAD):
            read = self._next_row()
            if read is None:
                break
            row_id, digest = read
            if row_id == entity_id:
                self.found.compare(self.kind, row_id, digest, audited)
                return
            self._row(row_id, digest)
        self.events_waiting[entity_id] = audited

    def _row(self, row_id: str, digest: str) -> None:
        waiting = self.events_waiting.pop(row_id, None)
        if waiting is None:
            self.rows_waiting[row_id] = digest
        else:
            self.found.compare(self.kind, row_id, digest, waiting)

    def finish(self) -> None:
        while (read := self._next_row()) is not None:
            self._row(*read)
        for row_id in self.rows_waiting:
            self.found.unaudited(self.kind, row_id)
        for entity_id, (seq, _digest) in self.events_waiting.items():
            self.found.missing(self.kind, entity_id, seq)


# Kinds whose rows change after they are created (a session's first dose and end, each
# set once): their latest digest is known only at the end of the audit trail, so they are
# compared from a dict (one entry a session) instead of in step.
CHANGING_KINDS = frozenset({"session"})


def _audit_and_records(conn: Connection, tables: set[str], progress: Progress) -> list[Check]:
    chain = Check("Audit chain")
    records = Check("Records against the audit trail")
    if "audit_events" not in tables:
        chain.problems.append("the audit_events table is missing: the audit trail was dropped")
        chain.summary = "no audit trail"
        records.summary = "cannot be compared without the audit trail"
        return [chain, records]
    found = _Records()
    streams = {
        kind: _TableStream(
            conn,
            kind,
            model.__tablename__ if model.__tablename__ in tables else None,
            found,
        )
        for kind, model in ENTITY_TABLES.items()
        if kind not in CHANGING_KINDS
    }
    # The latest digest of each record that changes, and of the record's own facts.
    latest: dict[str, tuple[int, str, str]] = {}
    later: dict[tuple[str, str], tuple[int, str]] = {}  # a non-create digest of another kind
    total = int(conn.exec_driver_sql("SELECT coalesce(max(seq), 0) FROM audit_events").scalar_one())
    previous_hash, expected_seq, count = GENESIS_HASH, 1, 0
    columns = ", ".join(EVENT_FIELDS)
    _names, events = _raw_rows(conn, f"SELECT {columns}, hash FROM audit_events ORDER BY seq")
    progress("audit trail", 0, total)
    for row in events:
        count += 1
        event = dict(zip(EVENT_FIELDS, row, strict=False))
        seq = event["seq"]
        if seq != expected_seq:
            gone = (
                f"event #{expected_seq} is"
                if seq - 1 == expected_seq
                else f"events #{expected_seq}–#{seq - 1} are"
            )
            chain.problems.append(f"{gone} missing: audit history was deleted")
        elif event["prev_hash"] != previous_hash:
            chain.problems.append(f"{_event_label(event)} does not follow the event before it")
        if event_hash(event) != row[-1]:
            chain.problems.append(f"{_event_label(event)} was altered after it was written")
        kind, entity_id, digest = event["entity_kind"], event["entity_id"], event["record_digest"]
        if entity_id and digest:
            stream = streams.get(kind)
            if stream is not None and event["action"] == "create":
                stream.event(entity_id, (seq, digest))
            elif stream is not None:
                later[(kind, entity_id)] = (seq, digest)
            else:
                latest[_entity_key(kind, entity_id)] = (seq, kind, digest)
        previous_hash, expected_seq = row[-1], seq + 1
        if count % PROGRESS_EVERY == 0:
            progress("audit trail", count, total)
    progress("audit trail", count, total)
    chain.summary = f"{count} events" + (", chain intact" if chain.ok else ", chain BROKEN")

    progress("records", 0, 1)
    for stream in streams.values():
        stream.finish()
    for (kind, entity_id), audited in sorted(later.items(), key=lambda item: item[1][0]):
        stored = _stored_row(conn, ENTITY_TABLES[kind].__tablename__, entity_id, tables)
        if stored is not None:
            found.compare(kind, entity_id, row_digest(stored), audited)
    seen: set[str] = set()

    def compare(kind: str, key: str, shown_id: str, row: dict[str, Any]) -> None:
        found.total += 1
        seen.add(key)
        audited = latest.get(key)
        if audited is None:
            found.unaudited(kind, shown_id)
        else:
            found.compare(kind, shown_id, row_digest(row), (audited[0], audited[2]))

    for kind in sorted(CHANGING_KINDS):
        table = ENTITY_TABLES[kind].__tablename__
        if table not in tables:
            continue  # named by the structure check
        for session in conn.execute(text(f"SELECT * FROM {table}")).mappings():
            compare(kind, str(session["id"]), str(session["id"]), dict(session))
    covered = any(kind in FACT_KINDS for _seq, kind, _digest in latest.values())
    facts = _record_facts(conn, tables)
    if covered or any(name == ANCHOR_META for _kind, name, _row in facts):
        for kind, name, fact in facts:
            compare(kind, _entity_key(kind, name), name, fact)
    else:
        seen.update(_entity_key(kind, name) for kind, name, _row in facts)
    for key, (seq, kind, _digest) in latest.items():
        if key not in seen:
            found.missing(kind, key.split(":", 1)[1] if kind in FACT_KINDS else key, seq)
    progress("records", 1, 1)
    records.problems = found.problems()
    total_records = found.total
    records.summary = f"{total_records} record{'s' if total_records != 1 else ''}" + (
        ", all match" if records.ok else ""
    )
    if not covered and facts:
        records.summary += (
            "; the record's own facts are not yet under the audit trail (last opened by an "
            "older kapdesk; opening it in this version adds them)"
        )
    return [chain, records]


def _raw_rows(conn: Connection, sql: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """Rows straight from the driver, a thousand at a fetch: over a million rows,
    SQLAlchemy's row objects cost as much as the digests."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(sql)
    names = [column[0] for column in cursor.description]

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            while batch := cursor.fetchmany(1000):
                yield from batch
        finally:
            cursor.close()

    return names, rows()


def _event_label(event: dict[str, Any]) -> str:
    return f"event #{event['seq']} ({event['action']} {event['entity_kind'] or 'record'})"


def _stored_row(
    conn: Connection, table: str, entity_id: str, tables: set[str]
) -> dict[str, Any] | None:
    if table not in tables:
        return None
    row = conn.execute(text(f"SELECT * FROM {table} WHERE id = :i"), {"i": entity_id})
    found = row.mappings().first()
    return None if found is None else dict(found)


def _record_facts(conn: Connection, tables: set[str]) -> list[tuple[str, str, dict[str, Any]]]:
    facts: list[tuple[str, str, dict[str, Any]]] = []
    if "kapdesk_meta" in tables:
        for row in conn.execute(text("SELECT name, value FROM kapdesk_meta")).mappings():
            facts.append(("meta", str(row["name"]), dict(row)))
    if SCHEMA_ENTITY in tables:
        for row in conn.execute(text(f"SELECT version_num FROM {SCHEMA_ENTITY}")).mappings():
            facts.append(("schema", SCHEMA_ENTITY, dict(row)))
    return facts
