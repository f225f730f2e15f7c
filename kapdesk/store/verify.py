"""`kapdesk verify`: SQLite and SQLCipher integrity, the append-only guards, the audit chain,
and every record against the digest its latest audit event holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

from kapdesk.store.audit import EVENT_FIELDS, GENESIS_HASH, event_hash, row_digest
from kapdesk.store.models import APPEND_ONLY_TABLES, ENTITY_TABLES

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
}
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
        return VerifyReport(
            [
                _sqlite_integrity(conn),
                _cipher_integrity(conn),
                _guards(conn),
                *_audit_and_records(conn),
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


def expected_guards() -> set[str]:
    """The triggers the migrations create; a missing one means someone dropped it."""
    names = {f"{table}_no_{op}" for table in APPEND_ONLY_TABLES for op in ("update", "delete")}
    return names | {"sessions_set_once", "sessions_no_delete"}


def _guards(conn: Connection) -> Check:
    present = {
        r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    }
    missing = sorted(expected_guards() - present)
    check = Check("Append-only guards")
    check.problems = [f"trigger {name} is missing: someone removed a guard" for name in missing]
    check.summary = (
        f"all {len(expected_guards())} in place" if not missing else f"{len(missing)} missing"
    )
    return check


def _audit_and_records(conn: Connection) -> list[Check]:
    chain = Check("Audit chain")
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
            latest_digest[event["entity_id"]] = (seq, event["entity_kind"], event["record_digest"])
        previous_hash, expected_seq = event["hash"], seq + 1
    chain.summary = f"{count} events" + (", chain intact" if chain.ok else ", chain BROKEN")

    records = Check("Records against the audit trail")
    seen: set[str] = set()
    total = 0
    for kind, model in ENTITY_TABLES.items():
        label = KIND_LABELS[kind]
        for row in conn.execute(text(f"SELECT * FROM {model.__tablename__}")).mappings():
            total += 1
            row_id = str(row["id"])
            seen.add(row_id)
            audited = latest_digest.get(row_id)
            if audited is None:
                records.problems.append(
                    f"{label} {row_id} has no audit event: it was added behind kapdesk's back"
                )
            elif audited[2] != row_digest(dict(row)):
                records.problems.append(
                    f"{label} {row_id} differs from what event #{audited[0]} recorded: "
                    "it was altered behind kapdesk's back"
                )
    for entity_id, (seq, kind, _digest) in sorted(latest_digest.items(), key=lambda i: i[1][0]):
        if entity_id not in seen:
            records.problems.append(
                f"{KIND_LABELS.get(kind, kind)} {entity_id} recorded in event #{seq} is "
                "missing: it was deleted"
            )
    records.summary = f"{total} record{'s' if total != 1 else ''}" + (
        ", all match" if records.ok else ""
    )
    return [chain, records]
