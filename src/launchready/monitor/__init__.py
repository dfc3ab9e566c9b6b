"""The monitor: uptime checks, heartbeats, alerts, deploy markers and a dashboard in one process.

Packages, as Gatus and healthchecks split them: ``config`` (the ``[monitor]`` tables),
``scheduler`` (runs checks on time and judges state flips), ``store`` (SQLAlchemy Core over
SQLite or PostgreSQL), ``alerts`` (the outbox worker that delivers flips through ``launchready.notify``
providers) and ``web`` (Starlette dashboard, ping and API endpoints).
"""
