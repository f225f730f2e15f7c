"""Alembic environment: always run by kapdesk over its own open, keyed connection."""

from alembic import context

from kapdesk.store.models import Base

connection = context.config.attributes["connection"]
# SQLite's DDL is transactional, but alembic assumes it is not and commits after each
# revision: a failure in the last of several revisions would leave the record half
# upgraded. One transaction for the whole upgrade: it happens completely or not at all.
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
