"""`kapdesk verify`: SQLite and SQLCipher integrity, the record's structure and append-only
guards, the audit chain, every record against the digest its latest audit event holds, the
write-ahead log, the anchor, and backups taken earlier.

``verify_folder`` opens the record read-only: it appends no event, folds no log into the
database and leaves every file as it found it (SQLite's derived -shm index aside).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

from kapdesk.store import migrate
from kapdesk.store.audit import EVENT_FIELDS, GENESIS_HASH, event_hash, row_digest
from kapdesk.store.engine import ANCHOR_META
from kapdesk.store.models import ENTITY_TABLES

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
