"""`launchready deploy --env NAME -- <command>` and `launchready rollback [--check]`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from launchready.cli import common
from launchready.cli.options import CaBundleOpt, ConfigOpt, ConnectToOpt, NameserverOpt, RdapServerOpt, TimeoutOpt

EnvOpt = Annotated[str, typer.Option("--env", "-e", help="Environment from launchready.toml.")]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Break the environment's deploy lock held by a dead or stuck run."),
]
EXIT_LOCKED = 1


def _locked(exc: Exception) -> typer.Exit:
    """A run refused because another holds the environment: exit 1 (not a usage problem) with its message."""
    print(f"launchready: {exc}", file=sys.stderr)
    return typer.Exit(EXIT_LOCKED)


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
        force: ForceOpt = False,
        config: ConfigOpt = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Deploy, wait for health, run the smoke flows; roll back and re-check if they fail. Exit 1 unless it succeeded."""
        from launchready.deploy.gate import DeployGate, DeployLocked, split_command

        loaded = common.load(config)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, rdap_server=rdap_server)
        gate = DeployGate(loaded.config, env, net, base_dir=loaded.base_dir, out=sys.stderr, record=not no_record)
        argv = list(command or ())
        if not argv and gate.settings.command:
            argv = split_command(gate.settings.command)
        if dry_run:
            sys.stdout.write(gate.plan_text(argv))
            raise typer.Exit(0)
        try:
            result = gate.deploy(argv, force=force)
        except DeployLocked as exc:
            raise _locked(exc) from None
        sys.stdout.write(result.render())
        raise typer.Exit(result.exit_code)

    @app.command()
    def rollback(
        env: EnvOpt = "production",
        check: Annotated[
            bool,
            typer.Option("--check", help="Test the rollback path (and send a test notification) without rolling back."),
        ] = False,
        force: ForceOpt = False,
        config: ConfigOpt = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Run the declared rollback and verify it (health, smoke flows); --check tests the path first."""
        from launchready.deploy.gate import DeployGate, DeployLocked

        loaded = common.load(config)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, rdap_server=rdap_server)
        gate = DeployGate(loaded.config, env, net, base_dir=loaded.base_dir, out=sys.stderr, record=not check)
        try:
            result = gate.check_rollback() if check else gate.rollback(force=force)
        except DeployLocked as exc:
            raise _locked(exc) from None
        sys.stdout.write(result.render())
        raise typer.Exit(result.exit_code)
