"""`kapdesk verify`: SQLite and SQLCipher integrity, the record's structure and append-only
guards, the audit chain, every record against the digest its latest audit event holds, the
write-ahead log, the anchor, and backups taken earlier.

``verify_folder`` opens the record read-only: it appends no event, folds no log into the
database and leaves every file as it found it (SQLite's derived -shm index aside).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from kapdesk.store import migrate, wal
from kapdesk.store.anchor import Anchors, compare_anchor
from kapdesk.store.audit import EVENT_FIELDS, GENESIS_HASH, event_hash, row_digest
from kapdesk.store.engine import ANCHOR_META, DATABASE_FILE, make_engine, read_only_companions
from kapdesk.store.errors import BackupError
from kapdesk.store.models import ENTITY_TABLES
from kapdesk.store.vault import PassphraseSource

KIND_LABELS = {
    "clinician": "clinician",
    "patient": "patient",
    "session": "session",
    "dose": "dose",
    "infusion_stop": "infusion stop",
    "vitals": "vitals reading",
    "observation": "observation",
    "scale_score": "scale score",
    "session_event": "session event",
    "correction": "correction",
    "meta": "record fact (kapdesk_meta)",
    "schema": "schema revision (alembic_version)",
}
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
        verdict = (
            "The record is intact."
            if self.ok
            else "The record FAILED verification. Do not discard this folder: keep a copy "
            "for inspection and restore from the latest good backup."
        )
        lines.append(verdict)
        return "\n".join(lines)


def verify_record(engine: Engine) -> VerifyReport:
    with engine.connect() as conn:
        present = {
            (row[0], row[1]): row[2]
            for row in conn.execute(text("SELECT type, name, sql FROM sqlite_master"))
        }
        tables = {name for kind, name in present if kind == "table"}
        return VerifyReport(
            [
                _sqlite_integrity(conn),
                _cipher_integrity(conn),
                _structure(conn, present, tables),
                *_audit_and_records(conn, tables),
            ]
        )


def _sqlite_integrity(conn: Connection) -> Check:
    rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
    check = Check("SQLite integrity check")
    if rows != ["ok"]:
        check.problems = [str(r) for r in rows]
        check.summary = "the database structure is damaged"
    else:
        check.summary = "ok"
    return check


def _cipher_integrity(conn: Connection) -> Check:
    rows = [r[0] for r in conn.exec_driver_sql("PRAGMA cipher_integrity_check").fetchall()]
    check = Check("SQLCipher page integrity")
    check.problems = [str(r) for r in rows]
    check.summary = "every page authenticates" if not rows else "pages fail authentication"
    return check


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


def _audit_and_records(conn: Connection, tables: set[str]) -> list[Check]:
    chain = Check("Audit chain")
    records = Check("Records against the audit trail")
    if "audit_events" not in tables:
        chain.problems.append("the audit_events table is missing: the audit trail was dropped")
        chain.summary = "no audit trail"
        records.summary = "cannot be compared without the audit trail"
        return [chain, records]
    latest_digest: dict[str, tuple[int, str, str]] = {}
    previous_hash, expected_seq, count = GENESIS_HASH, 1, 0
    columns = ", ".join(EVENT_FIELDS)
    result = conn.execute(text(f"SELECT {columns}, hash FROM audit_events ORDER BY seq"))
    for row in result.mappings():
        count += 1
        event: dict[str, Any] = dict(row)
        seq = event["seq"]
        label = f"event #{seq} ({event['action']} {event['entity_kind'] or 'record'})"
        if seq != expected_seq:
            chain.problems.append(
                f"events #{expected_seq}–#{seq - 1} are missing: audit history was deleted"
            )
        elif event["prev_hash"] != previous_hash:
            chain.problems.append(f"{label} does not follow the event before it")
        if event_hash(event) != event["hash"]:
            chain.problems.append(f"{label} was altered after it was written")
        if event["entity_id"] and event["record_digest"]:
            key = _entity_key(event["entity_kind"], event["entity_id"])
            latest_digest[key] = (seq, event["entity_kind"], event["record_digest"])
        previous_hash, expected_seq = event["hash"], seq + 1
    chain.summary = f"{count} events" + (", chain intact" if chain.ok else ", chain BROKEN")

    seen: set[str] = set()
    total = 0

    def compare(kind: str, key: str, shown_id: str, row: dict[str, Any]) -> None:
        nonlocal total
        total += 1
        seen.add(key)
        label = KIND_LABELS[kind]
        audited = latest_digest.get(key)
        if audited is None:
            records.problems.append(
                f"{label} {shown_id} has no audit event: it was added behind kapdesk's back"
            )
        elif audited[2] != row_digest(row):
            records.problems.append(
                f"{label} {shown_id} differs from what event #{audited[0]} recorded: "
                "it was altered behind kapdesk's back"
            )

    for kind, model in ENTITY_TABLES.items():
        if model.__tablename__ not in tables:
            continue  # named by the structure check
        for stored in conn.execute(text(f"SELECT * FROM {model.__tablename__}")).mappings():
            compare(kind, str(stored["id"]), str(stored["id"]), dict(stored))
    covered = any(kind in FACT_KINDS for _seq, kind, _digest in latest_digest.values())
    facts = _record_facts(conn, tables)
    if covered or any(name == ANCHOR_META for _kind, name, _row in facts):
        for kind, name, fact in facts:
            compare(kind, _entity_key(kind, name), name, fact)
    else:
        seen.update(_entity_key(kind, name) for kind, name, _row in facts)
    for key, (seq, kind, _digest) in sorted(latest_digest.items(), key=lambda i: i[1][0]):
        if key not in seen:
            shown = key.split(":", 1)[1] if kind in FACT_KINDS else key
            records.problems.append(
                f"{KIND_LABELS.get(kind, kind)} {shown} recorded in event #{seq} is "
                "missing: it was deleted"
            )
    records.summary = f"{total} record{'s' if total != 1 else ''}" + (
        ", all match" if records.ok else ""
    )
    if not covered and facts:
        records.summary += (
            "; the record's own facts are not yet under the audit trail (last opened by an "
            "older kapdesk; opening it in this version adds them)"
        )
    return [chain, records]


def _record_facts(conn: Connection, tables: set[str]) -> list[tuple[str, str, dict[str, Any]]]:
    facts: list[tuple[str, str, dict[str, Any]]] = []
    if "kapdesk_meta" in tables:
        for row in conn.execute(text("SELECT name, value FROM kapdesk_meta")).mappings():
            facts.append(("meta", str(row["name"]), dict(row)))
    if SCHEMA_ENTITY in tables:
        for row in conn.execute(text(f"SELECT version_num FROM {SCHEMA_ENTITY}")).mappings():
            facts.append(("schema", SCHEMA_ENTITY, dict(row)))
    return facts


def _tables(conn: Connection) -> set[str]:
    return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())


def _head(conn: Connection) -> int:
    return int(conn.execute(text("SELECT coalesce(max(seq), 0) FROM audit_events")).scalar_one())


def _hash_at(conn: Connection, seq: int) -> str | None:
    found = conn.execute(text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": seq}).scalar()
    return None if found is None else str(found)


def anchor_check(conn: Connection, anchors: Anchors) -> Check:
    """The record reaches at least as far as kapdesk last wrote it (store/anchor.py)."""
    check = Check("End of the record against its anchor")
    if not {"audit_events", "kapdesk_meta"} <= _tables(conn):
        check.problems.append("the audit trail is gone, so the record's end cannot be compared")
        check.summary = "cannot be compared"
        return check
    reading = anchors.read()
    anchor = reading.anchor
    anchored = bool(
        conn.execute(
            text("SELECT count(*) FROM kapdesk_meta WHERE name = :n"), {"n": ANCHOR_META}
        ).scalar_one()
    )
    head = _head(conn)
    problem, _missing = compare_anchor(
        anchor,
        damaged=reading.damaged,
        beside_missing=reading.beside_missing,
        head_seq=head,
        hash_at_anchor=_hash_at(conn, anchor.seq) if anchor else None,
        anchored=anchored,
    )
    if problem:
        check.problems.append(problem)
        check.summary = "the newest entries may be missing"
    elif anchor is None:
        check.summary = "no anchor yet (record last opened by an older kapdesk)"
    else:
        check.summary = f"the record reaches event #{head}; the anchor is at #{anchor.seq}"
    return check


def wal_check(state: wal.WalState) -> Check:
    check = Check("Write-ahead log")
    if state.damaged:
        where = (
            "its header"
            if state.header_damaged
            else f"frame {(state.first_invalid_frame or 0) + 1} of {state.frames}"
        )
        check.problems.append(
            f"the log is damaged at {where}, and at least {state.acknowledged_after_break} "
            "saved transactions follow the damage: opening the record for writing would "
            "drop them for good"
        )
        check.summary = "damaged"
    elif state.frames == 0:
        check.summary = "empty (every entry is in the database file)"
    elif state.header_damaged:
        check.summary = (
            "holds nothing SQLite would read (its header does not check out, and no "
            "saved transaction is behind it)"
        )
    elif state.first_invalid_frame is not None:
        check.summary = (
            f"{state.replayed_commits} transactions, then a write torn by a crash (the "
            "entry in flight was never reported saved)"
        )
    else:
        check.summary = f"{state.replayed_commits} transactions, intact"
    return check


def backup_check(conn: Connection, database_id: str, sources: Iterable[Path]) -> Check:
    """The record holds at least what each earlier backup of it held, and the same history."""
    from kapdesk.store.backup import read_manifest  # backup imports this package's engine

    check = Check("Backups taken earlier")
    if "audit_events" not in _tables(conn):
        check.summary = "cannot be compared without the audit trail"
        return check
    head = _head(conn)
    compared = other = 0
    unreadable: list[str] = []
    for source in sources:
        try:
            manifest = read_manifest(source)
        except BackupError:
            unreadable.append(source.name)  # a fault of that file, not of the record
            continue
        if manifest.get("database_id") != database_id:
            other += 1
            continue
        compared += 1
        events = int(manifest.get("audit_events", 0))
        taken = manifest.get("created_at", "an unknown time")
        if head < events:
            check.problems.append(
                f"the record holds {head} audit events, fewer than the {events} in the backup "
                f"{source.name} taken at {taken}: {events - head} events and the entries "
                "they record are missing"
            )
        elif manifest.get("head_hash") and _hash_at(conn, events) != manifest["head_hash"]:
            check.problems.append(
                f"audit event #{events} differs from the one in the backup {source.name} "
                f"taken at {taken}: the record's history was replaced"
            )
    check.summary = f"{compared} backup{'s' if compared != 1 else ''} of this record compared"
    if other:
        check.summary += f"; {other} of other records skipped"
    if unreadable:
        check.summary += f"; not readable as backups, skipped: {', '.join(unreadable)}"
    return check


def verify_folder(
    folder: Path,
    passphrase: PassphraseSource,
    backups: Iterable[Path] = (),
    *,
    mirror: Path | None = None,
) -> VerifyReport:
    """Verify the record in ``folder`` without writing to it; raises StoreError if it
    cannot be opened at all (no record, wrong key, damaged or newer database)."""
    from kapdesk.store.examine import examine
    from kapdesk.store.folder import check_folder, folder_error
    from kapdesk.store.lock import DataFolderLock
    from kapdesk.store.opening import unlock_existing

    check_folder(folder, create=False)
    lock = DataFolderLock(folder)
    try:
        lock.acquire()
    except OSError as exc:
        raise folder_error(folder, exc) from None
    try:
        vault, key = unlock_existing(folder, passphrase)
        anchors = Anchors(folder, key, vault.database_id, mirror)
        database = folder / DATABASE_FILE
        found = examine(folder, key, vault, anchors)
        with read_only_companions(database):
            engine = make_engine(database, key, read_only=True)
            try:
                report = verify_record(engine)
                with engine.connect() as conn:
                    report.checks.append(wal_check(found.wal))
                    report.checks.append(anchor_check(conn, anchors))
                    kept = sorted((folder / "backups").glob("*.kapbak"))
                    report.checks.append(backup_check(conn, vault.database_id, [*backups, *kept]))
            finally:
                engine.dispose()
        return report
    finally:
        lock.release()
