"""Alembic environment: always run by kapdesk over its own open, keyed connection."""

from alembic import context

from kapdesk.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
