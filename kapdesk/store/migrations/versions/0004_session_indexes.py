"""Indexes for the patients page at ten clinic years: sessions by start (the most recently
seen patients) and by end (the sessions never ended), so neither reads the whole table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_sessions_started_at ON sessions (started_at)")
    op.execute("CREATE INDEX ix_sessions_ended_at ON sessions (ended_at)")
