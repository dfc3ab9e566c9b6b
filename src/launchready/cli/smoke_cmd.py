"""`launchready smoke`: run the declared user flows against an environment."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import (
    CaBundleOpt,
    ConfigOpt,
    ConnectToOpt,
    NameserverOpt,
    QuietOpt,
    RdapServerOpt,
    ReportOutputOpt,
    TimeoutOpt,
)
from launchready.smoke.formats import SmokeFormat

if TYPE_CHECKING:
    from launchready.smoke.results import StepResult


def live_progress(quiet: bool) -> Callable[[str, StepResult], None] | None:
    """Each finished step on stderr as it happens (flows run in parallel, so lines carry the flow)."""
    if quiet:
        return None

    from launchready.smoke.report import step_line

    def on_step(flow: str, step: StepResult) -> None:
        print(step_line(step, prefix=f"[{flow}] "), file=sys.stderr, flush=True)

    return on_step


def register(app: typer.Typer) -> None:
    @app.command()
    def smoke(
        env: Annotated[
            str, typer.Option("--env", "-e", help="Environment from launchready.toml to run against.")
        ] = "production",
        flow: Annotated[list[str] | None, typer.Option("--flow", help="Run only this flow (repeatable).")] = None,
        fmt: Annotated[SmokeFormat, typer.Option("--format", "-f", help="Report format.")] = SmokeFormat.TERMINAL,
        output: ReportOutputOpt = None,
        config: ConfigOpt = None,
        quiet: QuietOpt = False,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Run the smoke flows (sign up, confirm email, log in, pay, ...) against an environment. Exit 1 if one fails."""
        import asyncio

        from launchready.smoke.plan import execute, plan_smoke
        from launchready.smoke.report import render_smoke

        loaded = common.load(config)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, rdap_server=rdap_server)
        plan = plan_smoke(loaded.config, env, flow_names=tuple(flow or ()))
        if not quiet:
            print(
                f"running {len(plan.flows)} flow(s) against {plan.masker.text(plan.base_url)} ...",
                file=sys.stderr,
                flush=True,
            )
        run = asyncio.run(execute(plan, net, on_step=live_progress(quiet)))
        text = render_smoke(run, fmt)
        if output is None:
            sys.stdout.write(text)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
        raise typer.Exit(0 if run.passed else 1)
