"""Session events: screening, alerts and their acknowledgement, dosing and discharge decisions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE session_events (
    id VARCHAR(36) NOT NULL,
    session_id VARCHAR(36) NOT NULL,
    kind VARCHAR(40) NOT NULL,
    at VARCHAR(27) NOT NULL,
    payload TEXT NOT NULL,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(session_id) REFERENCES sessions (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
        """
    )
    op.execute("CREATE INDEX ix_session_events_session_id ON session_events (session_id)")
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER session_events_no_{event.lower()} BEFORE {event} ON session_events "
            "BEGIN SELECT RAISE(ABORT, 'kapdesk: session_events is append-only'); END"
        )


def downgrade() -> None:
    raise NotImplementedError("kapdesk never drops clinical data; restore a backup instead")
