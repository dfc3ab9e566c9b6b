"""Open the monitor's store: SQLite in WAL mode by default, PostgreSQL (psycopg 3) for a postgresql:// URL.

The schema is brought up to date with Alembic at start (:func:`migrate`), programmatically: no
alembic.ini, the migrations ship inside the package. Every failure to open or migrate is a
:class:`MonitorStoreError` naming the store with its password masked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from launchready.core.masking import mask_url_password
from launchready.monitor.errors import MonitorStoreError

DEFAULT_STORE_NAME = Path(".launchready") / "monitor.sqlite"
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# SQLite waits this long for another writer (the web process, a CLI command) before giving up.
_SQLITE_BUSY_S = 30


def default_store_url(base_dir: Path) -> str:
    """``.launchready/monitor.sqlite`` next to the config (``base_dir`` is the config's directory)."""
    return f"sqlite:///{(base_dir / DEFAULT_STORE_NAME).resolve()}"


def store_url(explicit: str | None, configured: str | None, base_dir: Path) -> str:
    """``--store`` wins over ``[monitor].store``, which wins over the default next to the config.

    A relative SQLite path is relative to the config's directory, as every path in the config is.
    """
    url = explicit or configured
    if url is None:
        return default_store_url(base_dir)
    scheme = url.partition("://")[0].lower()
    if scheme == "sqlite":
        path = url.partition(":///")[2]
        if path and path != ":memory:" and not Path(path).is_absolute():
            return f"sqlite:///{(base_dir / path).resolve()}"
    return url


def shown(url: str) -> str:
    return mask_url_password(url)


def _driver_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if scheme.lower() in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    if scheme.lower() in ("sqlite", "postgresql+psycopg"):
        return url
    raise MonitorStoreError(f"store {shown(url)}: expected sqlite:///PATH or postgresql://..., got {scheme!r}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: the dashboard reads while the scheduler writes; NORMAL is durable across a process
    # crash (kill -9) in WAL mode, losing at most the last commits on a power cut.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_S * 1000}")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` (not yet connected: a dead server shows at the first use)."""
    driver_url = _driver_url(url)
    try:
        parsed = make_url(driver_url)
    except ArgumentError as exc:
        raise MonitorStoreError(f"store {shown(url)}: not a database URL ({exc})") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise MonitorStoreError(
                    f"store {shown(url)}: cannot create its directory: {exc.strerror or exc}"
                ) from None
        engine = create_engine(parsed, connect_args={"timeout": _SQLITE_BUSY_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pool_pre_ping: a PostgreSQL restart must not turn the next write into an error.
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a fresh store gets every table)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(_MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise MonitorStoreError(f"store {shown(str(engine.url))}: cannot migrate: {_reason(exc)}") from None
    except OSError as exc:
        raise MonitorStoreError(f"store {shown(str(engine.url))}: cannot migrate: {exc.strerror or exc}") from None


def open_store(url: str) -> Engine:
    """Create the engine, check it answers and migrate it: what `monitor serve` and the CLI call."""
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        raise MonitorStoreError(f"store {shown(url)}: cannot connect: {_reason(exc)}") from None
    migrate(engine)
    return engine


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own message, one line, without SQLAlchemy's statement dump and links."""
    original = getattr(exc, "orig", None)
    message = str(original if original is not None else exc)
    return mask_url_password(" ".join(message.split()))[:300]


def store_error(exc: BaseException, doing: str) -> MonitorStoreError:
    """Wrap what the driver raised while ``doing`` something as one line."""
    if isinstance(exc, SQLAlchemyError):
        return MonitorStoreError(f"store refused to {doing}: {_reason(exc)}")
    if isinstance(exc, OSError):
        return MonitorStoreError(f"store refused to {doing}: {exc.strerror or exc}")
    return MonitorStoreError(f"store refused to {doing}: {type(exc).__name__}: {exc}")
