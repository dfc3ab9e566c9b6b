"""`launchready email test`: run the flows that make the product send mail and judge every message."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.email_cmd import DeclaredHostOpt, DomainOpt, SpamOpt, StagingHostOpt
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
    import ssl

    from launchready.config.model import Config
    from launchready.core.net import NetSettings
    from launchready.core.run import AuditRun
    from launchready.mailtest.content import ContentPolicy
    from launchready.mailtest.extended import ExtendedOptions


CHECK_ID = "email.message"


def _test_config(config: Config, env: str) -> Config:
    """Only the check, only the environment asked for, and no guessing of host names."""
    from launchready.smoke.errors import SmokeError

    if env not in config.environments:
        known = ", ".join(sorted(config.environments)) or "none declared"
        raise SmokeError(f"--env {env}: no [environments.{env}] in launchready.toml (known: {known})")
    return config.model_copy(
        update={
            "environments": {env: config.environments[env]},
            "email": config.email.model_copy(update={"test": True}),
            "audit": config.audit.model_copy(update={"discover": False, "only": (), "skip": ()}),
        }
    )


def _require_mail_flows(config: Config, flows: tuple[str, ...]) -> None:
    from launchready.cli.errors import UsageError
    from launchready.mailtest.run import owns_email_step
    from launchready.smoke.plan import load_flows

    owners = [f.name for f in load_flows(config) if owns_email_step(f)]
    if not owners:
        raise UsageError(
            "no smoke flow waits for mail: add an email step after the request that sends it (docs/smoke.md)"
        )
    for name in flows:
        if name not in owners:
            raise UsageError(f"--flow {name}: not a flow with an email step of its own (those: {', '.join(owners)})")


async def run_email_test(
    config: Config,
    domain: str,
    net: NetSettings,
    policy: ContentPolicy,
    *,
    flows: tuple[str, ...],
    listen: tuple[str, int] | None,
    tls_context: ssl.SSLContext | None,
    quiet: bool,
    options: ExtendedOptions,
) -> AuditRun:
    from launchready.cli.errors import UsageError
    from launchready.core.registry import load_registry
    from launchready.engine.audit import run_audit
    from launchready.engine.progress import make_progress
    from launchready.engine.runner import RunnerOptions
    from launchready.mailtest.inbox import SmtpInbox
    from launchready.mailtest.run import MailTest, mail_test_seconds

    inbox = None
    if listen is not None:
        inbox = SmtpInbox(host=listen[0], port=listen[1], tls_context=tls_context)
        try:
            port = await inbox.start()
        except OSError as exc:
            raise UsageError(f"--listen {listen[0]}:{listen[1]}: cannot listen: {exc.strerror or exc}") from None
        if not quiet:
            print(f"receiving mail on {listen[0]}:{port}", file=sys.stderr, flush=True)
    try:
        tester = MailTest(config, net, policy, inbox=inbox, flow_names=flows, options=options)
        registry = load_registry().select(only=(CHECK_ID,), skip=())
        # The one check may take as long as its flows, waits and scoring need, not the audit's 60 s default.
        runner = RunnerOptions(check_timeouts={CHECK_ID: mail_test_seconds(config, options)})
        run = await run_audit(
            domain,
            config,
            net,
            registry,
            options=runner,
            mail_test=tester,
            progress=make_progress(sys.stderr, quiet=quiet),
        )
    finally:
        if inbox is not None:
            await inbox.stop()
    # The site map and DNS map are the audit's; this report is about the messages.
    return run.model_copy(update={"dns_map": None, "hosts": ()})


def register(app: typer.Typer) -> None:
    @app.command("test")
    def test_command(
        env: Annotated[
            str, typer.Option("--env", "-e", help="Environment from launchready.toml to run the flows against.")
        ] = "production",
        flow: Annotated[
            list[str] | None, typer.Option("--flow", help="Test only this flow's mail (repeatable).")
        ] = None,
        listen: Annotated[
            str | None,
            typer.Option(
                "--listen",
                metavar="HOST:PORT",
                help="Receive the mail here over SMTP for the run (SPF sees the sending address) instead of [smoke.mailbox].",
            ),
        ] = None,
        cert: Annotated[
            Path | None, typer.Option("--cert", metavar="FILE", help="Certificate chain (PEM) for STARTTLS.")
        ] = None,
        key: Annotated[Path | None, typer.Option("--key", metavar="FILE", help="Its private key (PEM).")] = None,
        domain: DomainOpt = None,
        declared_host: DeclaredHostOpt = None,
        staging_host: StagingHostOpt = None,
        spamassassin: SpamOpt = True,
        check_links: Annotated[
            bool,
            typer.Option(
                "--check-links",
                help="After the flows, ask every link and image (HEAD, then GET) and report those that do not answer.",
            ),
        ] = False,
        fmt: Annotated[FindingsFormat, typer.Option("--format", "-f", help="Report format.")] = FindingsFormat.TERMINAL,
        output: ReportOutputOpt = None,
        fail_on: Annotated[
            Severity, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity.")
        ] = Severity.HIGH,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the evidence of every finding.")] = False,
        config: ConfigOpt = None,
        quiet: QuietOpt = False,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Run the smoke flows that make the product send mail, time each message from its request to its
        arrival ([email] delivery_s) and judge it: SPF, DKIM, DMARC, ARC, links and parts, SpamAssassin's
        score, and for an IMAP mailbox the folder it landed in and the provider's verdicts. Exit 1 when a
        finding is high or worse (--fail-on) or the test could not run."""
        import asyncio
        from urllib.parse import urlsplit

        from launchready.cli.audit_cmd import write_report
        from launchready.cli.email_cmd import content_policy, extended_options, parse_listen, tls_context
        from launchready.core.finding import Status
        from launchready.mailtest.spam import spamassassin_path

        loaded = common.load(config)
        listen_at = parse_listen(listen) if listen is not None else None
        context = tls_context(cert, key)
        test_config = _test_config(loaded.config, env)
        flows = tuple(flow or ())
        _require_mail_flows(test_config, flows)
        policy = content_policy(loaded, domain or [], declared_host or [], staging_host or [], False)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, loaded, rdap_server=rdap_server)
        base_host = urlsplit(str(test_config.environments[env].base_url)).hostname or env
        target = test_config.domain or base_host
        options = extended_options(spamassassin, check_links)
        if spamassassin and spamassassin_path() is None:
            # Said once here; each message's facts say it too ("SpamAssassin: skipped: ...").
            print(
                "launchready: SpamAssassin is not installed: messages are not scored "
                "(Debian/Ubuntu: apt-get install spamassassin; --no-spamassassin to silence this)",
                file=sys.stderr,
            )
        run = asyncio.run(
            run_email_test(
                test_config,
                target,
                net,
                policy,
                flows=flows,
                listen=listen_at,
                tls_context=context,
                quiet=quiet,
                options=options,
            )
        )
        write_report(run, fmt, output, verbose=verbose)
        failed = any(f.severity.at_least(fail_on) for f in run.findings if f.accepted is None)
        could_not_run = [r for r in run.results if r.status is Status.ERROR]
        for result in could_not_run:
            print(f"launchready: email test could not run on {result.target}: {result.reason}", file=sys.stderr)
        raise typer.Exit(1 if failed or could_not_run else 0)
