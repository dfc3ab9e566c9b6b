"""`launchready monitor ...`: set-up commands for the monitor's dashboard and API."""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from launchready.core.errors import UsageError

DEFAULT_STORE = ".launchready/monitor.sqlite"

StoreOption = Annotated[
    str,
    typer.Option("--store", help=f"Store URL (sqlite:///PATH or postgresql://...); default sqlite:///{DEFAULT_STORE}."),
]


def _store_url(store: str) -> str:
    if store:
        if store.startswith("postgresql://"):
            # psycopg 3 is the driver the project ships.
            return "postgresql+psycopg://" + store.removeprefix("postgresql://")
        return store
    Path(DEFAULT_STORE).parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_STORE}"


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise UsageError("the two passwords differ; nothing changed")
    if not password:
        raise UsageError("no password given; nothing changed")
    return password


def _engine(store: str) -> Engine:
    from launchready.monitor.web.interim_store import open_store_with_create_all

    try:
        return open_store_with_create_all(_store_url(store))
    except (SQLAlchemyError, ImportError) as exc:
        raise UsageError(_store_problem(store, exc)) from None


def _store_problem(store: str, exc: Exception) -> str:
    # The driver's own message, on one line, without SQLAlchemy's statement dump and help link.
    cause = getattr(exc, "orig", None) or exc
    first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return f"--store {store or DEFAULT_STORE}: cannot open the store: {first_line}"


def register(monitor: typer.Typer) -> None:
    """Add `user add` and `token add` to the `monitor` sub-app."""
    user = typer.Typer(help="Dashboard users (argon2 password hashes).", no_args_is_help=True)
    token = typer.Typer(help="API tokens for /api/v1, /metrics and probes (stored as SHA-256).", no_args_is_help=True)

    @user.command("add")
    def user_add(
        name: Annotated[str, typer.Argument(help="User name to sign in with.")],
        store: StoreOption = "",
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="Read the password from standard input.")
        ] = False,
    ) -> None:
        """Add a dashboard user, or set a new password for an existing one (prompts for it)."""
        from launchready.monitor.web.auth import add_user

        password = _read_password(password_stdin)
        engine = _engine(store)
        try:
            created = add_user(engine, name, password, time.time())
        except SQLAlchemyError as exc:
            raise UsageError(_store_problem(store, exc)) from None
        finally:
            engine.dispose()
        print(f"{'added user' if created else 'changed the password of user'} {name.strip()}")

    @token.command("add")
    def token_add(
        name: Annotated[str, typer.Argument(help="What the token is for (e.g. ci, prometheus).")],
        store: StoreOption = "",
    ) -> None:
        """Create an API token; it is printed once, as the last word, and only its hash is kept."""
        from launchready.monitor.web.auth import add_api_token

        engine = _engine(store)
        try:
            value = add_api_token(engine, name, time.time())
        except SQLAlchemyError as exc:
            raise UsageError(_store_problem(store, exc)) from None
        finally:
            engine.dispose()
        print(f"API token {name.strip()} (shown once; send it as 'Authorization: Bearer <token>'): {value}")

    monitor.add_typer(user, name="user")
    monitor.add_typer(token, name="token")


def build() -> typer.Typer:
    monitor = typer.Typer(
        help="Watch the product after launch: checks, heartbeats, alerts, dashboard.", no_args_is_help=True
    )
    register(monitor)
    return monitor
