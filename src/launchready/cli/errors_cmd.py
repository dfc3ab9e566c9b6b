"""`launchready errors list|test|resolve|ignore` and `launchready monitor project add` (see project_app)."""

from __future__ import annotations

import json
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli.errors import UsageError
from launchready.cli.options import CaBundleOpt, ConnectToOpt, NameserverOpt, TimeoutOpt
from launchready.intake.errors import IntakeError

if TYPE_CHECKING:
    from sqlalchemy import Engine
# The intake's modules (SQLAlchemy, the grouping and scrubbing code) load inside each command, so
# the CLI starts without them.

# The monitor's address as SDKs see it, which DSNs are built on.
PublicUrlOpt = Annotated[str, typer.Option("--url", help="Where SDKs reach the monitor (its public URL).")]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URL",
        help="The monitor store: sqlite:///PATH or postgresql://... (default: .launchready/monitor.sqlite).",
    ),
]


class ListFormat(str, Enum):
    TEXT = "text"
    JSON = "json"


def open_engine(store: str | None) -> Engine:
    from launchready.intake.store import open_store

    try:
        return open_store(store, Path.cwd())
    except IntakeError as exc:
        raise UsageError(str(exc)) from None


def build() -> typer.Typer:
    errors = typer.Typer(help="Error groups received from Sentry SDKs and error-level logs.", no_args_is_help=True)

    @errors.command("list")
    def list_cmd(
        fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="text or json.")] = ListFormat.TEXT,
        sort: Annotated[str, typer.Option("--sort", help="last_seen, first_seen, count or users.")] = "last_seen",
        status: Annotated[str | None, typer.Option("--status", help="Only groups with this status.")] = None,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many groups.")] = 100,
        store: StoreOpt = None,
    ) -> None:
        """Print the error groups (id, title, count, status, first_seen, last_seen)."""
        from launchready.intake.api import list_groups

        if sort not in ("last_seen", "first_seen", "count", "users"):
            raise UsageError(f"--sort {sort}: use last_seen, first_seen, count or users")
        engine = open_engine(store)
        try:
            with engine.connect() as conn:
                groups = list_groups(conn, sort=sort, status=status, limit=limit)
        finally:
            engine.dispose()
        if fmt is ListFormat.JSON:
            print(json.dumps(groups, indent=2))
            return
        if not groups:
            print("no error groups")
            return
        for g in groups:
            print(f"{g['id']:>6}  {g['count']:>7}  {g['status']:<22} {g['last_seen']}  {g['title']}")

    @errors.command("test")
    def test_cmd(
        dsn: Annotated[str, typer.Option("--dsn", help="The DSN to send a test event to.")],
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        timeout: TimeoutOpt = 10.0,
        store: Annotated[
            str | None,
            typer.Option("--store", metavar="URL", help="Also look the event up in this monitor store (on its host)."),
        ] = None,
    ) -> None:
        """Send one test event to DSN (through the audit's network flags) and say whether it arrived."""
        from launchready.cli import common
        from launchready.intake.api import event_stored
        from launchready.intake.testevent import send_test_event

        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, allow_private=True)
        try:
            result = send_test_event(dsn, net)
        except IntakeError as exc:
            raise UsageError(str(exc)) from None
        if not result.arrived:
            print(f"not arrived: {result.detail}")
            raise typer.Exit(1)
        if store is None:
            print(f"arrived: test event {result.event_id} was accepted")
            return
        engine = open_engine(store)
        try:
            with engine.connect() as conn:
                stored = event_stored(conn, result.event_id)
        finally:
            engine.dispose()
        if not stored:
            print(f"not arrived: the service accepted test event {result.event_id} but it is not in {store}")
            raise typer.Exit(1)
        print(f"arrived: test event {result.event_id} was accepted and is in the store")

    def _status(group_id: int, action: str, store: str | None) -> None:
        from launchready.intake.ingest import set_group_status

        engine = open_engine(store)
        try:
            with engine.begin() as conn:
                found = set_group_status(conn, group_id, action, time.time())
        finally:
            engine.dispose()
        if not found:
            raise UsageError(f"no error group {group_id}")
        print(f"group {group_id}: {action.replace('_', ' ')}")

    @errors.command("resolve")
    def resolve_cmd(
        group_id: Annotated[int, typer.Argument(help="The group id (from `errors list`).")],
        next_release: Annotated[
            bool, typer.Option("--next-release", help="Resolved once a release other than the current one is seen.")
        ] = False,
        store: StoreOpt = None,
    ) -> None:
        """Mark a group resolved; if it comes back it is a regression and alerts."""
        _status(group_id, "resolve_next_release" if next_release else "resolve", store)

    @errors.command("ignore")
    def ignore_cmd(group_id: Annotated[int, typer.Argument(help="The group id.")], store: StoreOpt = None) -> None:
        """Keep counting a group but never alert on it."""
        _status(group_id, "ignore", store)

    return errors


def project_add(
    name: Annotated[str, typer.Argument(help="Project name (letters, digits, '.', '_', '-').")],
    url: PublicUrlOpt = "http://127.0.0.1:8787",
    store: StoreOpt = None,
) -> None:
    """Create an error-intake project and print its DSN (the last word of the output)."""
    from launchready.intake.projects import add_project

    engine = open_engine(store)
    try:
        with engine.begin() as conn:
            project = add_project(conn, name, time.time())
        dsn = project.dsn(url)
    except IntakeError as exc:
        raise UsageError(str(exc)) from None
    finally:
        engine.dispose()
    print(f"project {project.name} (id {project.id}); DSN for your SDK's init(dsn=...): {dsn}")


def project_list(
    url: PublicUrlOpt = "http://127.0.0.1:8787",
    store: StoreOpt = None,
) -> None:
    """List the error-intake projects with their DSNs."""
    from launchready.intake.projects import list_projects

    engine = open_engine(store)
    try:
        with engine.connect() as conn:
            projects = list_projects(conn)
        lines = [f"{p.id:>4}  {p.name:<24} {p.dsn(url)}" for p in projects]
    except IntakeError as exc:
        raise UsageError(str(exc)) from None
    finally:
        engine.dispose()
    print("\n".join(lines) if lines else "no projects (add one with `launchready monitor project add NAME`)")


def project_app() -> typer.Typer:
    """The `project` group the monitor command attaches: `launchready monitor project add NAME`."""
    project = typer.Typer(help="Error-intake projects (one DSN each).", no_args_is_help=True)
    project.command("add")(project_add)
    project.command("list")(project_list)
    return project
