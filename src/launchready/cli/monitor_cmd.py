"""`launchready monitor ...`: the monitor's commands, as one Typer sub-app.

Each command is a function registered on the app :func:`build` returns; commands that need the
store open it with :func:`open_monitor_store` (the same URL rules as `monitor serve`: ``--store``,
then ``[monitor].store``, then ``.launchready/monitor.sqlite`` next to the config).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.monitor_probe_cmd import register_probe_command
from launchready.cli.options import CaBundleOpt, ConfigOpt, ConnectToOpt, NameserverOpt, RdapServerOpt, TimeoutOpt

if TYPE_CHECKING:
    # Types only: the CLI must start without loading SQLAlchemy or the config models.
    import socket

    from sqlalchemy import Engine
    from starlette.applications import Starlette

    from launchready.config.loader import LoadedConfig
    from launchready.config.sections.monitor import MonitorConfig, MonitorHeartbeat
    from launchready.core.net import NetSettings
    from launchready.monitor.service import MonitorService, MonitorSetup

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URL",
        help="sqlite:///PATH or postgresql://...; default: the store in the monitor table, else .launchready/monitor.sqlite.",
    ),
]
_ENV_REFERENCE = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
# healthchecks.io's recommended call: fail on HTTP errors, quiet, bounded, retried.
_CURL = "curl -fsS -m 10 --retry 5 -o /dev/null"


def monitor_config(loaded: LoadedConfig) -> MonitorConfig:
    if loaded.config.monitor is None:
        where = loaded.path or "launchready.toml (none found)"
        raise UsageError(f"no [monitor] table in {where}")
    return loaded.config.monitor


@contextmanager
def open_monitor_store(loaded: LoadedConfig, store: str | None) -> Iterator[Engine]:
    """The migrated store; one that cannot be opened is a MonitorStoreError (one line, exit 2)."""
    from launchready.monitor.store.engine import open_store, store_url

    configured = loaded.config.monitor.store if loaded.config.monitor else None
    engine = open_store(store_url(store, configured, loaded.base_dir))
    try:
        yield engine
    finally:
        engine.dispose()


def ping_base(monitor: MonitorConfig, base_url: str | None) -> str:
    if base_url:
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url {base_url}: expected an http(s) URL")
        return base_url.rstrip("/")
    host, _, port = monitor.listen.rpartition(":")
    if host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def ping_key_in_url(monitor: MonitorConfig) -> str | None:
    """The key as it goes in a URL; an ``${env:NAME}`` key stays a shell variable (``${NAME}``) so
    its value is never printed and the crontab reads it from its environment."""
    if monitor.ping_key is None:
        return None
    match = _ENV_REFERENCE.match(monitor.ping_key)
    if match:
        return "${" + match.group(1) + "}"
    return monitor.ping_key


def schedule_text(heartbeat: MonitorHeartbeat) -> str:
    from launchready.monitor.durations import format_duration

    if heartbeat.cron:
        return f"cron '{heartbeat.cron}' {heartbeat.tz}, grace {format_duration(heartbeat.grace)}"
    assert heartbeat.period is not None
    return f"every {format_duration(heartbeat.period)}, grace {format_duration(heartbeat.grace)}"


def crontab_schedule(period: float) -> str:
    """A crontab schedule matching ``period`` when there is an obvious one, else a placeholder."""
    minutes = period / 60
    if period == 86400:
        return "@daily"
    if period == 3600:
        return "@hourly"
    if minutes.is_integer() and 1 <= minutes < 60 and 60 % int(minutes) == 0:
        return "* * * * *" if minutes == 1 else f"*/{int(minutes)} * * * *"
    return "<schedule>"


def heartbeat_lines(monitor: MonitorConfig, uuids: dict[str, str], states: dict[str, str], base: str) -> Iterator[str]:
    key = ping_key_in_url(monitor)
    for index, heartbeat in enumerate(monitor.heartbeats):
        if index:
            yield ""
        uuid_url = f"{base}/ping/{uuids[heartbeat.name]}"
        yield f"{heartbeat.name}  ({schedule_text(heartbeat)}; state {states.get(heartbeat.name, 'new')})"
        yield f"  ping URL:  {uuid_url}"
        named_url = f"{base}/ping/{key}/{heartbeat.name}" if key else None
        if named_url:
            yield f"  by name:   {named_url}"
        when = heartbeat.cron or crontab_schedule(heartbeat.period or 0.0)
        comment = "" if heartbeat.cron or when != "<schedule>" else "   # your job's own schedule"
        yield f"  crontab:   {when} /path/to/job && {_CURL} {named_url or uuid_url}{comment}"
        if heartbeat.cron and heartbeat.tz != "UTC":
            yield f"             (the crontab must run in {heartbeat.tz}: CRON_TZ={heartbeat.tz} on cronie)"
    if key and key.startswith("${"):
        yield ""
        yield f"{key} is [monitor].ping_key's environment variable: set it in the crontab's environment."


def _read_password(from_stdin: bool) -> str:
    import getpass

    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise UsageError("the two passwords differ; nothing changed")
    if not password:
        raise UsageError("no password given; nothing changed")
    return password


def register_access_commands(app: typer.Typer) -> None:
    """`monitor user add` (dashboard users, argon2 hashes) and `monitor token add` (API tokens)."""
    user = typer.Typer(help="Dashboard users (argon2 password hashes).", no_args_is_help=True)
    token = typer.Typer(help="API tokens for /api/v1, /metrics and probes (stored as SHA-256).", no_args_is_help=True)

    @user.command("add")
    def user_add(
        name: Annotated[str, typer.Argument(help="User name to sign in with.")],
        config: ConfigOpt = None,
        store: StoreOpt = None,
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="Read the password from standard input.")
        ] = False,
    ) -> None:
        """Add a dashboard user, or set a new password for an existing one (prompts for it)."""
        from sqlalchemy.exc import SQLAlchemyError

        from launchready.monitor.store.engine import store_error
        from launchready.monitor.web.auth import add_user

        password = _read_password(password_stdin)
        with open_monitor_store(common.load(config), store) as engine:
            try:
                created = add_user(engine, name, password, time.time())
            except SQLAlchemyError as exc:
                raise store_error(exc, "add the user") from None
        print(f"{'added user' if created else 'changed the password of user'} {name.strip()}")

    @token.command("add")
    def token_add(
        name: Annotated[str, typer.Argument(help="What the token is for (e.g. ci, prometheus).")],
        config: ConfigOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Create an API token; it is printed once, as the last word, and only its hash is kept."""
        from sqlalchemy.exc import SQLAlchemyError

        from launchready.monitor.store.engine import store_error
        from launchready.monitor.web.auth import add_api_token

        with open_monitor_store(common.load(config), store) as engine:
            try:
                value = add_api_token(engine, name, time.time())
            except SQLAlchemyError as exc:
                raise store_error(exc, "add the token") from None
        print(f"API token {name.strip()} (shown once; send it as 'Authorization: Bearer <token>'): {value}")

    app.add_typer(user, name="user")
    app.add_typer(token, name="token")


def build() -> typer.Typer:
    app = typer.Typer(
        help="Watch the product after launch: checks, heartbeats, alerts, dashboard.", no_args_is_help=True
    )
    register_access_commands(app)
    register_probe_command(app)
    # `monitor project add NAME` prints a DSN: the error intake is served by the same process.
    from launchready.cli import errors_cmd

    app.add_typer(errors_cmd.project_app(), name="project")

    @app.command("heartbeats")
    def heartbeats_command(
        config: ConfigOpt = None,
        store: StoreOpt = None,
        base_url: Annotated[
            str | None,
            typer.Option(
                "--base-url", metavar="URL", help="The monitor's URL as jobs reach it; default http://LISTEN."
            ),
        ] = None,
    ) -> None:
        """Each heartbeat in the config with its ping URLs and a curl line to paste into a crontab."""
        from launchready.monitor.scheduler.scheduler import heartbeat_specs
        from launchready.monitor.store.engine import store_error
        from launchready.monitor.store.repository import sync_heartbeats

        loaded = common.load(config)
        monitor = monitor_config(loaded)
        if not monitor.heartbeats:
            print(f"no [[monitor.heartbeats]] in {loaded.path}: nothing pings the monitor yet")
            return
        base = ping_base(monitor, base_url)

        with open_monitor_store(loaded, store) as engine:
            # Synced here too, so a new heartbeat has its UUID before `monitor serve` first runs.
            try:
                with engine.begin() as conn:
                    rows = sync_heartbeats(conn, heartbeat_specs(monitor), time.time())
            except Exception as exc:  # noqa: BLE001 - any driver failure is one line
                raise store_error(exc, "record the heartbeats") from None
        uuids = {row.name: row.uuid for row in rows}
        states = {row.name: row.state for row in rows}
        for line in heartbeat_lines(monitor, uuids, states, base):
            print(line)

    @app.command("serve")
    def serve_command(
        config: ConfigOpt = None,
        store: StoreOpt = None,
        listen: Annotated[
            str | None,
            typer.Option(
                "--listen",
                metavar="HOST:PORT",
                help="Where the dashboard, ping and API endpoints listen; default [monitor].listen (127.0.0.1:8787).",
            ),
        ] = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Run the checks, heartbeats, alerts and the dashboard in one process until SIGTERM or Ctrl-C."""
        import asyncio
        import logging
        import os

        from launchready.monitor.service import bind_listener, parse_listen, provider_problems

        loaded = common.load(config)
        monitor = monitor_config(loaded)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, rdap_server=rdap_server)
        host, port = parse_listen(listen or monitor.listen)
        # Alert providers are checked before anything runs: a typo is one line and exit code 2.
        problems = provider_problems(monitor, os.environ, net)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise UsageError(f"{loaded.path}: {problems[0]}{more}")
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
        # Alembic and the HTTP stack log their own details at INFO; the monitor's lines are enough.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        listener = bind_listener(host, port)
        try:
            asyncio.run(_serve(loaded, net, store, listener, os.environ))
        finally:
            listener.close()

    return app


def _web_app(setup: MonitorSetup) -> Callable[[MonitorService], Starlette]:
    from launchready.intake.settings import IntakeSettings
    from launchready.monitor.web import WebSettings, create_app

    monitor = setup.monitor
    settings = WebSettings(
        slo=monitor.slo,
        status_page=monitor.status_page,
        metrics_public=monitor.metrics_public,
        ping_key=_resolved_ping_key(monitor.ping_key),
    )

    def build(service: MonitorService) -> Starlette:
        from launchready.monitor.web.probe_api import ProbeApi

        # The regional probes' API; a flip from a probe's batch wakes the alert worker at once.
        probes = ProbeApi(setup.engine, setup.monitor, service.router.providers_for, on_flip=service.wake_worker)
        intake = IntakeSettings(
            alert_providers=service.routed_providers, public_url=service.url or IntakeSettings.public_url
        )
        return create_app(
            setup.engine,
            settings,
            routing=service.router.providers_for,
            intake=intake,
            on_error_group=service.wake_worker,
            extra_routes=probes.routes(),
        )

    return build


def _resolved_ping_key(value: str | None) -> str | None:
    """``[monitor].ping_key`` as the web app compares it: an ``${env:NAME}`` read from the environment."""
    import os

    if value is None:
        return None
    match = _ENV_REFERENCE.match(value)
    if match is None:
        return value
    resolved = os.environ.get(match.group(1))
    if not resolved:
        raise UsageError(f"[monitor].ping_key: environment variable {match.group(1)} is not set")
    return resolved


async def _serve(
    loaded: LoadedConfig, net: NetSettings, store: str | None, listener: socket.socket, env: Mapping[str, str]
) -> None:
    from launchready.monitor.regional.cluster import single_node_lock
    from launchready.monitor.service import MonitorService, listener_url, prepare_monitor, tune_garbage_collector

    setup = await prepare_monitor(loaded, net, store)
    try:
        # SQLite is single-node: a second `monitor serve` on the same file says so and stops.
        node_lock = single_node_lock(setup.store_url)
    except BaseException:
        setup.engine.dispose()
        raise
    try:
        service = MonitorService(setup, net, env, web_app=_web_app(setup), listener=listener)
        for line in setup.banner():
            print(line, file=sys.stderr)
        alerts = ", ".join(service.providers) or "none ([[monitor.alerts]] is empty: flips are recorded only)"
        print(f"alerts to: {alerts}", file=sys.stderr)
        print(f"dashboard, pings and API: {listener_url(listener)}", file=sys.stderr, flush=True)
        tune_garbage_collector()
        await service.run()
    finally:
        setup.engine.dispose()
        if node_lock is not None:
            node_lock.close()
    print("monitor stopped", file=sys.stderr)
