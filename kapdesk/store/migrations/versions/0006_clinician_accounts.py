"""Clinicians' accounts: name, credentials, role, whether they manage accounts, whether
active, and the Argon2id hash of their PIN or passphrase (issue 14). Each change is a new
version row; the newest row of a clinician is their account as it stands.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE clinician_accounts (
    id VARCHAR(36) NOT NULL,
    clinician_id VARCHAR(36) NOT NULL,
    version INTEGER NOT NULL,
    display_name VARCHAR(200) NOT NULL,
    credentials VARCHAR(60),
    role VARCHAR(20) NOT NULL,
    manages_accounts BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    secret_kind VARCHAR(20) NOT NULL,
    secret_hash VARCHAR(200) NOT NULL,
    reason TEXT NOT NULL,
    recorded_at VARCHAR(27) NOT NULL,
    recorded_by VARCHAR(36) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(clinician_id) REFERENCES clinicians (id),
    FOREIGN KEY(recorded_by) REFERENCES clinicians (id)
)
        """
    )
    op.execute(
        "CREATE INDEX ix_clinician_accounts_clinician_id ON clinician_accounts (clinician_id)"
    )
    # Each version of an account once: two changes made from stale copies cannot both land.
    op.execute(
        "CREATE UNIQUE INDEX ux_clinician_accounts_version ON clinician_accounts "
        "(clinician_id, version)"
    )
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER clinician_accounts_no_{event.lower()} BEFORE {event} ON "
            "clinician_accounts BEGIN SELECT RAISE(ABORT, 'kapdesk: clinician_accounts is "
            "append-only'); END"
        )


def downgrade() -> None:
    raise NotImplementedError("kapdesk never drops clinical data; restore a backup instead")
