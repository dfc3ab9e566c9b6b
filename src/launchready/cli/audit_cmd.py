"""`launchready audit DOMAIN`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import (
    CaBundleOpt,
    ConfigOpt,
    ConnectToOpt,
    FindingsFormat,
    NameserverOpt,
    QuietOpt,
    RdapServerOpt,
    ReportOutputOpt,
    TimeoutOpt,
)
from launchready.core.severity import Severity

if TYPE_CHECKING:
    from launchready.config.model import Config
    from launchready.core.net import NetSettings
    from launchready.core.registry import Registry
    from launchready.core.run import AuditRun
    from launchready.engine.runner import RunnerOptions

# The engine, the probes (aiohttp, dnspython, cryptography), the history store (SQLAlchemy) and the
# renderers (rich, Jinja2) are imported inside the functions: `launchready --version`, `--help` and
# every other command must not pay for them at start.


def exit_code(run: AuditRun, fail_on: Severity) -> int:
    return 1 if any(f.severity.at_least(fail_on) for f in run.findings if f.accepted is None) else 0


def check_selectors(registry: Registry, where: str, selectors: tuple[str, ...], *, exact: bool = False) -> None:
    """A selector that names no check is a usage error: a typo in CI must not run nothing and pass."""
    known = {c.id for c in registry.checks}
    for selector in selectors:
        if (selector in known) if exact else registry.matching(selector):
            continue
        hints = tuple(h for h in registry.suggest(selector) if not exact or h in known)
        hint = f"; did you mean {', '.join(hints)}?" if hints else "; `launchready checks` lists them"
        what = "is not a check id" if exact else "matches no check or finding id"
        raise UsageError(f"{where} {selector}: {what}{hint}")


# Said once per audit: both checks run the flows that send mail, each for its own reason.
FLOWS_TWICE_NOTE = (
    "launchready: note: [email] test = true: the smoke flows that send mail run twice, once for app.smoke "
    "(an email step waits its own timeout, as a member would) and once for the mail test (it waits up to "
    "[email] wait_s to time each message and judges its source); see docs/email.md"
)


def execute_audit(
    domain: str,
    config: Config,
    net: NetSettings,
    *,
    history_dir: Path | None,
    repo: Path | None = None,
    quiet: bool = False,
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
    options: RunnerOptions | None = None,
    config_source: str = "",
) -> AuditRun:
    """Run, compare with the previous audit and store; shared by `audit` and `demo`."""
    import asyncio

    from launchready.core.registry import load_registry
    from launchready.engine.audit import run_audit
    from launchready.engine.progress import make_progress
    from launchready.engine.runner import RunnerOptions
    from launchready.history.errors import HistoryError
    from launchready.history.store import HistoryStore

    everything = load_registry()
    check_selectors(everything, "--only", only)
    check_selectors(everything, "--skip", skip)
    source = f"{config_source}: " if config_source else ""
    check_selectors(everything, f"{source}[audit] only", tuple(config.audit.only))
    check_selectors(everything, f"{source}[audit] skip", tuple(config.audit.skip))
    check_selectors(everything, f"{source}[audit] not_applicable", tuple(config.audit.not_applicable), exact=True)
    registry = everything.select(only=only or tuple(config.audit.only), skip=skip + tuple(config.audit.skip))
    progress = make_progress(sys.stderr, quiet=quiet)
    mail_test = None
    options = options or RunnerOptions()
    if config.email.test and registry.matching("email.message"):
        from dataclasses import replace

        from launchready.mailtest.run import mail_test_seconds, mail_tester

        mail_test = mail_tester(config, net)
        # The mail test waits for mail by design: its check gets the time its flows and waits need.
        options = replace(
            options, check_timeouts={**options.check_timeouts, "email.message": mail_test_seconds(config)}
        )
        if not quiet and config.smoke.files and registry.matching("app.smoke"):
            print(FLOWS_TWICE_NOTE, file=sys.stderr)
    run = asyncio.run(
        run_audit(
            domain,
            config,
            net,
            registry,
            repo=repo,
            options=options,
            progress=progress,
            mail_test=mail_test,
        )
    )
    if history_dir is None:
        return run
    if not run.baseline:
        print(
            "launchready: warning: the apex could not be looked up (network errors): this run is not stored in history",
            file=sys.stderr,
        )
        return run
    try:
        store = HistoryStore(history_dir)
        try:
            run = run.model_copy(update={"delta": store.delta(run)})
            run = store.save(run)
        finally:
            store.close()
    except HistoryError as exc:
        # The audit itself succeeded; losing the comparison is worth a warning, not the report.
        print(f"launchready: warning: history not updated: {exc}", file=sys.stderr)
    return run


def write_report(run: AuditRun, fmt: FindingsFormat, output: Path | None, *, verbose: bool = False) -> None:
    from rich.console import Console

    from launchready.report.formats import ReportFormat, render
    from launchready.report.terminal import render_terminal

    if fmt is FindingsFormat.TERMINAL:
        if output is not None:
            with common.open_output(output) as fh:
                render_terminal(run, Console(file=fh, width=100, force_terminal=False), verbose=verbose)
        else:
            render_terminal(run, Console(), verbose=verbose)
        return
    text = render(run, ReportFormat(fmt.value))
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None


def register(app: typer.Typer) -> None:
    @app.command()
    def audit(
        domain: Annotated[
            str | None,
            typer.Argument(help="The apex domain, e.g. example.com (default: 'domain' in launchready.toml)."),
        ] = None,
        config: ConfigOpt = None,
        fmt: Annotated[FindingsFormat, typer.Option("--format", "-f", help="Report format.")] = FindingsFormat.TERMINAL,
        output: ReportOutputOpt = None,
        fail_on: Annotated[
            Severity | None,
            typer.Option(
                "--fail-on",
                help="Exit 1 when a finding is at or above this severity (default: blocker, or audit.fail_on).",
            ),
        ] = None,
        only: Annotated[
            list[str] | None, typer.Option("--only", help="Run only checks with this id or id prefix (repeatable).")
        ] = None,
        skip: Annotated[
            list[str] | None, typer.Option("--skip", help="Skip checks with this id or id prefix (repeatable).")
        ] = None,
        repo: Annotated[
            Path | None, typer.Option("--repo", help="Repository for repo checks (default: the current git checkout).")
        ] = None,
        no_history: Annotated[
            bool, typer.Option("--no-history", help="Do not compare with or store in .launchready/history.sqlite.")
        ] = False,
        no_git_history: Annotated[
            bool,
            typer.Option(
                "--no-git-history", help="Scan the repository's working tree for secrets, not its full git history."
            ),
        ] = False,
        concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Checks running at once.")] = 16,
        check_timeout: Annotated[
            float, typer.Option("--check-timeout", min=1, help="Seconds one check may take on one target.")
        ] = 60.0,
        verbose: Annotated[
            bool, typer.Option("--verbose", "-v", help="Show evidence for every finding and every check result.")
        ] = False,
        quiet: QuietOpt = False,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Audit DOMAIN: DNS, email authentication, HTTPS, headers, app health; ranked risks and a launch decision."""
        from launchready.engine.runner import RunnerOptions

        loaded = common.load(config)
        target = common.resolve_domain(domain, loaded)
        loaded = common.announce_config(loaded, target, explicit=config is not None, quiet=quiet)
        audit_config, audit_repo = common.audit_settings(loaded, repo, no_git_history)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, loaded, rdap_server=rdap_server)
        run = execute_audit(
            target,
            audit_config,
            net,
            history_dir=None if no_history else loaded.base_dir,
            repo=audit_repo,
            quiet=quiet,
            only=tuple(only or ()),
            skip=tuple(skip or ()),
            options=RunnerOptions(concurrency=concurrency, check_timeout=check_timeout),
            config_source=str(loaded.path) if loaded.path else "",
        )
        write_report(run, fmt, output, verbose=verbose)
        if output is not None and not quiet:
            print(f"report written to {output}", file=sys.stderr)
        raise typer.Exit(exit_code(run, fail_on or loaded.config.audit.fail_on))
