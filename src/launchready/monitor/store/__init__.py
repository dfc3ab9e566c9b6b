"""The monitor's store: one schema (``schema.py``) over SQLite (WAL) or PostgreSQL (psycopg 3)."""
