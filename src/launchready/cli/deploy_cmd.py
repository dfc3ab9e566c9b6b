"""`launchready deploy --env NAME -- <command>` and `launchready rollback [--check]`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from launchready.cli import common
from launchready.cli.options import CaBundleOpt, ConfigOpt, ConnectToOpt, NameserverOpt, TimeoutOpt

EnvOpt = Annotated[str, typer.Option("--env", "-e", help="Environment from launchready.toml.")]


def register(app: typer.Typer) -> None:
    @app.command(context_settings={"allow_interspersed_args": False})
    def deploy(
        command: Annotated[
            list[str] | None,
            typer.Argument(help="The deploy command, after `--` (default: [smoke.deploy.ENV] command)."),
        ] = None,
        env: EnvOpt = "production",
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Print the plan; run, record and send nothing.")
        ] = False,
        no_record: Annotated[
            bool, typer.Option("--no-record", help="Do not record the deploy in .launchready/history.sqlite.")
        ] = False,
        config: ConfigOpt = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Deploy, wait for health, run the smoke flows; roll back and re-check if they fail. Exit 1 unless it succeeded."""
        from launchready.deploy.gate import DeployGate, split_command

        loaded = common.load(config)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout)
        gate = DeployGate(loaded.config, env, net, base_dir=loaded.base_dir, out=sys.stderr, record=not no_record)
        argv = list(command or ())
        if not argv and gate.settings.command:
            argv = split_command(gate.settings.command)
        if dry_run:
            sys.stdout.write(gate.plan_text(argv))
            raise typer.Exit(0)
        result = gate.deploy(argv)
        sys.stdout.write(result.render())
        raise typer.Exit(0 if result.ok else 1)

    @app.command()
    def rollback(
        env: EnvOpt = "production",
        check: Annotated[bool, typer.Option("--check", help="Test the rollback path without rolling back.")] = False,
        config: ConfigOpt = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Run the declared rollback and verify it (health, smoke flows); --check tests the path first."""
        from launchready.deploy.gate import DeployGate

        loaded = common.load(config)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout)
        gate = DeployGate(loaded.config, env, net, base_dir=loaded.base_dir, out=sys.stderr, record=not check)
        result = gate.check_rollback() if check else gate.rollback()
        sys.stdout.write(result.render())
        raise typer.Exit(0 if result.ok else 1)
