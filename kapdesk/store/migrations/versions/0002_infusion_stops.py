"""IV infusions have a stop as well as a start: an append-only infusion_stops table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE infusion_stops (
    id VARCHAR(36) NOT NULL,
    session_id VARCHAR(36) NOT NULL,
    dose_id VARCHAR(36) NOT NULL,
    stopped_at VARCHAR(27) NOT NULL,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (dose_id),
    FOREIGN KEY(session_id) REFERENCES sessions (id),
    FOREIGN KEY(dose_id) REFERENCES doses (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
        """
    )
    op.execute("CREATE INDEX ix_infusion_stops_session_id ON infusion_stops (session_id)")
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER infusion_stops_no_{event.lower()} BEFORE {event} ON infusion_stops "
            "BEGIN SELECT RAISE(ABORT, 'kapdesk: infusion_stops is append-only'); END"
        )


def downgrade() -> None:
    raise NotImplementedError("kapdesk never drops clinical data; restore a backup instead")
