"""The first schema: patients, sessions, clinical entries, corrections, audit chain.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

The DDL is frozen here as text so that later model changes never alter what
this revision creates; each later change gets its own revision.
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    """
CREATE TABLE audit_events (
    seq INTEGER NOT NULL,
    at VARCHAR(27) NOT NULL,
    actor_id VARCHAR(36),
    action VARCHAR(40) NOT NULL,
    entity_kind VARCHAR(40),
    entity_id VARCHAR(36),
    record_digest VARCHAR(64),
    details TEXT NOT NULL,
    prev_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL,
    PRIMARY KEY (seq)
)
    """,
    """
CREATE TABLE clinicians (
    id VARCHAR(36) NOT NULL,
    login_name VARCHAR(200) NOT NULL,
    display_name VARCHAR(200) NOT NULL,
    created_at VARCHAR(27) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (login_name)
)
    """,
    """
CREATE TABLE kapdesk_meta (
    name VARCHAR(40) NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name)
)
    """,
    """
CREATE TABLE corrections (
    id VARCHAR(36) NOT NULL,
    target_kind VARCHAR(40) NOT NULL,
    target_id VARCHAR(36) NOT NULL,
    changes TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
    """,
    """
CREATE INDEX ix_corrections_target_id ON corrections (target_id)
    """,
    """
CREATE TABLE patients (
    id VARCHAR(36) NOT NULL,
    display_name VARCHAR(200) NOT NULL,
    date_of_birth VARCHAR(10),
    record_number VARCHAR(60),
    weight_kg FLOAT,
    is_demo BOOLEAN NOT NULL,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
    """,
    """
CREATE TABLE sessions (
    id VARCHAR(36) NOT NULL,
    patient_id VARCHAR(36) NOT NULL,
    protocol VARCHAR(120) NOT NULL,
    zone_name VARCHAR(64) NOT NULL,
    started_at VARCHAR(27) NOT NULL,
    first_dose_at VARCHAR(27),
    ended_at VARCHAR(27),
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(patient_id) REFERENCES patients (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
    """,
    """
CREATE INDEX ix_sessions_patient_id ON sessions (patient_id)
    """,
    """
CREATE TABLE doses (
    id VARCHAR(36) NOT NULL,
    session_id VARCHAR(36) NOT NULL,
    given_at VARCHAR(27) NOT NULL,
    drug VARCHAR(20) NOT NULL,
    route VARCHAR(20) NOT NULL,
    mg FLOAT NOT NULL,
    lot_number VARCHAR(60),
    device_count INTEGER,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(session_id) REFERENCES sessions (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
    """,
    """
CREATE INDEX ix_doses_session_id ON doses (session_id)
    """,
    """
CREATE TABLE observations (
    id VARCHAR(36) NOT NULL,
    session_id VARCHAR(36) NOT NULL,
    observed_at VARCHAR(27) NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(session_id) REFERENCES sessions (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
    """,
    """
CREATE INDEX ix_observations_session_id ON observations (session_id)
    """,
    """
CREATE TABLE scale_scores (
    id VARCHAR(36) NOT NULL,
    session_id VARCHAR(36) NOT NULL,
    scored_at VARCHAR(27) NOT NULL,
    scale_id VARCHAR(40) NOT NULL,
    answers TEXT NOT NULL,
    total INTEGER NOT NULL,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(session_id) REFERENCES sessions (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
    """,
    """
CREATE INDEX ix_scale_scores_session_id ON scale_scores (session_id)
    """,
    """
CREATE TABLE vitals_readings (
    id VARCHAR(36) NOT NULL,
    session_id VARCHAR(36) NOT NULL,
    taken_at VARCHAR(27) NOT NULL,
    systolic INTEGER,
    diastolic INTEGER,
    heart_rate INTEGER,
    spo2 INTEGER,
    respiratory_rate INTEGER,
    temperature_c FLOAT,
    source VARCHAR(80) NOT NULL,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(session_id) REFERENCES sessions (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
    """,
    """
CREATE INDEX ix_vitals_readings_session_id ON vitals_readings (session_id)
    """,
)

# Rows that may never change once written (CLINICAL.md, record-keeping norms).
APPEND_ONLY = (
    "kapdesk_meta",
    "clinicians",
    "patients",
    "doses",
    "vitals_readings",
    "observations",
    "scale_scores",
    "corrections",
    "audit_events",
)

SESSION_FIXED_COLUMNS = (
    "id",
    "patient_id",
    "protocol",
    "zone_name",
    "started_at",
    "recorded_at",
    "recorded_by",
)


def guard_triggers() -> list[str]:
    statements = []
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'kapdesk: {table} is append-only'); END"
            )
    fixed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in SESSION_FIXED_COLUMNS)
    statements.append(
        "CREATE TRIGGER sessions_set_once BEFORE UPDATE ON sessions WHEN "
        f"{fixed} "
        "OR (OLD.first_dose_at IS NOT NULL AND NEW.first_dose_at IS NOT OLD.first_dose_at) "
        "OR (OLD.ended_at IS NOT NULL AND NEW.ended_at IS NOT OLD.ended_at) "
        "BEGIN SELECT RAISE(ABORT, "
        "'kapdesk: a session start, first dose and end are set once'); END"
    )
    statements.append(
        "CREATE TRIGGER sessions_no_delete BEFORE DELETE ON sessions "
        "BEGIN SELECT RAISE(ABORT, 'kapdesk: sessions is append-only'); END"
    )
    return statements


def upgrade() -> None:
    for statement in (*TABLES, *guard_triggers()):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("kapdesk never drops clinical data; restore a backup instead")
