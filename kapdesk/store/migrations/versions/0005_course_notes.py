"""Course notes: the goals set in preparation, preparation and integration notes, and the
start of a new course of treatment; each a dated entry of one patient, linked to a
session where it is about one (issue 13).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE course_notes (
    id VARCHAR(36) NOT NULL,
    patient_id VARCHAR(36) NOT NULL,
    session_id VARCHAR(36),
    kind VARCHAR(20) NOT NULL,
    written_at VARCHAR(27) NOT NULL,
    text TEXT NOT NULL,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(patient_id) REFERENCES patients (id),
    FOREIGN KEY(session_id) REFERENCES sessions (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
        """
    )
    op.execute("CREATE INDEX ix_course_notes_patient_id ON course_notes (patient_id)")
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER course_notes_no_{event.lower()} BEFORE {event} ON course_notes "
            "BEGIN SELECT RAISE(ABORT, 'kapdesk: course_notes is append-only'); END"
        )


def downgrade() -> None:
    raise NotImplementedError("kapdesk never drops clinical data; restore a backup instead")
