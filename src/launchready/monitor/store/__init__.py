"""The monitor's store: one schema (``schema.py``) over SQLite (WAL) or PostgreSQL (psycopg 3)."""

# The error intake's tables live on the same metadata; importing them here means every user of the
# schema (migrations, the schema test, create_all in tests) sees one complete set of tables.
from launchready.monitor.store import errors_schema as _errors_schema  # noqa: E402,F401
