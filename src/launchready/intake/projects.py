"""Projects and their DSN keys."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select

from launchready.intake.errors import ProjectError
from launchready.monitor.store.errors_schema import error_projects

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    public_key: str

    def dsn(self, base_url: str) -> str:
        """``http(s)://<public_key>@<host>/<project_id>`` for a service reachable at ``base_url``."""
        scheme, _, rest = base_url.rstrip("/").partition("://")
        if not rest:
            raise ProjectError(f"{base_url!r} is not a URL with a scheme (http:// or https://)")
        return f"{scheme}://{self.public_key}@{rest}/{self.id}"


def add_project(conn: Connection, name: str, now: float) -> Project:
    if not _NAME.match(name):
        raise ProjectError(f"project name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)")
    if conn.execute(select(error_projects.c.id).where(error_projects.c.name == name)).first() is not None:
        raise ProjectError(f"a project named {name!r} already exists")
    key = secrets.token_hex(16)
    project_id = conn.execute(
        insert(error_projects).values(name=name, public_key=key, created_at=now).returning(error_projects.c.id)
    ).scalar_one()
    return Project(int(project_id), name, key)


def list_projects(conn: Connection) -> list[Project]:
    rows = conn.execute(select(error_projects).order_by(error_projects.c.id)).all()
    return [Project(r.id, r.name, r.public_key) for r in rows]


def project_named(conn: Connection, name: str) -> Project:
    row = conn.execute(select(error_projects).where(error_projects.c.name == name)).first()
    if row is None:
        raise ProjectError(f"no project named {name!r} (add one with `launchready monitor project add NAME`)")
    return Project(row.id, row.name, row.public_key)


class ProjectKeys:
    """public key -> project, read from the store and remembered for ``ttl`` seconds."""

    def __init__(self, engine: Engine, ttl: float = 30.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._by_key: dict[str, Project] = {}
        self._loaded_at = float("-inf")

    def lookup(self, key: str, now: float) -> Project | None:
        if now - self._loaded_at > self._ttl or key not in self._by_key:
            if key not in self._by_key and now - self._loaded_at < 1.0:
                return None  # an unknown key does not get to make us re-read the table every request
            with self._engine.connect() as conn:
                self._by_key = {p.public_key: p for p in list_projects(conn)}
            self._loaded_at = now
        return self._by_key.get(key)
