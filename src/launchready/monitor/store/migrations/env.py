"""Alembic environment for the monitor's store, run programmatically by ``store.engine.migrate``.

The caller passes an open connection in ``config.attributes["connection"]``; there is no
alembic.ini and no URL here, so the same migrations run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from launchready.monitor.store.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("the monitor's migrations run through launchready.monitor.store.engine.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
