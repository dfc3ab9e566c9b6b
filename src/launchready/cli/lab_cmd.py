"""`launchready lab up|deploy|seed|faults`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from launchready.cli.errors import UsageError
from launchready.lab.errors import LabError
from launchready.lab.faults import faults, monitor_faults, parse_faults


def _faults(text: str | None) -> frozenset[str]:
    try:
        return parse_faults(text)
    except LabError as exc:
        raise UsageError(f"--faults: {exc}") from None


def _relay_to(value: str) -> tuple[str, int]:
    """``HOST:PORT`` of a receiver on loopback ([::1]:PORT for IPv6): the lab's mail holds one-time
    links and a made-up domain, so it is handed only to a process on this machine."""
    import ipaddress

    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) <= 65535:
        raise UsageError(f"--mail-relay-to {value!r}: expected HOST:PORT (e.g. 127.0.0.1:2525)")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(f"--mail-relay-to {value}: the lab only talks to loopback (127.0.0.0/8 or [::1])")
    return host, int(port)


def build() -> typer.Typer:
    lab = typer.Typer(
        help="The lab: a fragile marketplace MVP on loopback to try launchready against.", no_args_is_help=True
    )

    @lab.command()
    def up(
        faults: Annotated[
            str | None,
            typer.Option(
                "--faults", help="Comma-separated fault switches, 'all' or 'none' (see `launchready lab faults`)."
            ),
        ] = None,
        bind: Annotated[str, typer.Option("--bind", help="Loopback address to listen on.")] = "127.0.0.1",
        dns_port: Annotated[int, typer.Option("--dns-port", min=0, max=65535, help="0 picks a free port.")] = 0,
        https_port: Annotated[int, typer.Option("--https-port", min=0, max=65535)] = 0,
        http_port: Annotated[int, typer.Option("--http-port", min=0, max=65535)] = 0,
        smtp_port: Annotated[int, typer.Option("--smtp-port", min=0, max=65535)] = 0,
        workdir: Annotated[
            Path | None,
            typer.Option(
                "--workdir", help="Keep the lab's files (config, CA, database) here; default a temporary one."
            ),
        ] = None,
        monitor_url: Annotated[
            str,
            typer.Option(
                "--monitor-url", metavar="URL", help="Where the lab's cron job pings its heartbeat (`monitor serve`)."
            ),
        ] = "http://127.0.0.1:8787",
        error_dsn: Annotated[
            str | None,
            typer.Option(
                "--error-dsn",
                metavar="DSN",
                help="Where the lab's app reports its errors with sentry-sdk (`monitor project add` prints one).",
            ),
        ] = None,
        mail_relay_to: Annotated[
            str | None,
            typer.Option(
                "--mail-relay-to",
                metavar="HOST:PORT",
                help="The lab's relay forwards the app's mail here (e.g. `email receive --listen HOST:PORT`) "
                "instead of to the lab's own mailbox.",
            ),
        ] = None,
    ) -> None:
        """Run the lab in the foreground and print the flags that point other commands at it."""
        from launchready.lab.lab import run_lab_foreground

        if not (bind.startswith("127.") or bind == "::1"):
            raise UsageError(f"--bind {bind}: the lab only listens on loopback (127.0.0.0/8 or ::1)")
        if not monitor_url.startswith("http://127.") and not monitor_url.startswith("http://[::1]"):
            raise UsageError(f"--monitor-url {monitor_url}: the lab only talks to loopback (http://127.x.x.x:PORT)")
        relay_to = _relay_to(mail_relay_to) if mail_relay_to is not None else None
        run_lab_foreground(
            _faults(faults),
            workdir=workdir.resolve() if workdir is not None else None,
            monitor_url=monitor_url,
            error_dsn=error_dsn,
            bind=bind,
            dns_port=dns_port,
            https_port=https_port,
            http_port=http_port,
            smtp_port=smtp_port,
            mail_relay_to=relay_to,
            out=sys.stdout,
        )

    @lab.command("deploy")
    def deploy(
        version: Annotated[str, typer.Argument(help="The app's new version (its release becomes marketlab@VERSION).")],
        workdir: Annotated[
            Path, typer.Option("--workdir", help="The running lab's workdir (`lab up` prints it beside `config`).")
        ],
        no_marker: Annotated[
            bool, typer.Option("--no-marker", help="Do not record the deploy marker in the monitor's store.")
        ] = False,
    ) -> None:
        """Deploy a new release of the running lab's app, as a deploy tool would: marker first, then the release."""
        from launchready.lab.control import check_lab_running, check_version, request_deploy
        from launchready.lab.error_reporting import ENVIRONMENT

        workdir = workdir.resolve()
        check_version(version)
        check_lab_running(workdir)
        if not no_marker:
            from launchready.config.loader import load_config
            from launchready.config.sections.monitor import MonitorConfig
            from launchready.monitor.markers import record_deploy_marker

            # The store `monitor serve --config WORKDIR/launchready.toml` watches (the lab's [monitor]).
            loaded = load_config(workdir / "launchready.toml")
            line = record_deploy_marker(
                loaded.config.monitor or MonitorConfig(),
                loaded.base_dir,
                environment=ENVIRONMENT,
                version=version,
                who="launchready lab deploy",
            )
            print(line, file=sys.stderr if line.startswith("launchready: warning") else sys.stdout)
        release = request_deploy(workdir, version)
        print(f"deployed {release}: the lab's app runs it now")

    @lab.command("seed")
    def seed(
        members: Annotated[int, typer.Option("--members", min=0, help="Make exactly this many seeded members exist.")],
        db: Annotated[
            Path, typer.Option("--db", help="The lab's database (marketlab.sqlite3 in the workdir `lab up` prints).")
        ],
    ) -> None:
        """Seed the lab with N members (one post each): the growth test's seed hook."""
        from launchready.lab.perf_routes import seed_members

        if not db.is_file():
            raise UsageError(f"--db {db}: no such file (start the lab with `launchready lab up` first)")
        print(f"seeded members: {seed_members(db, members)}")

    @lab.command("faults")
    def list_faults() -> None:
        """List the lab's fault switches and the findings each one should trigger."""
        switches = faults()
        over_time = monitor_faults()
        width = max(len(name) for name in [f.name for f in switches] + [f.name for f in over_time])
        for fault in switches:
            print(f"{fault.name:<{width}}  {fault.description}  -> {', '.join(fault.triggers)}")
        for monitored in over_time:
            seen = ", ".join(f"{kind} {name} {state}" for kind, name, state in monitored.flips)
            print(f"{monitored.name:<{width}}  {monitored.description}  -> monitor: {seen}")

    return lab
