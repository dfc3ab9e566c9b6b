"""`launchready email verify FILE.eml`: authentication and content verdicts for one saved message."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import CaBundleOpt, ConfigOpt, ConnectToOpt, NameserverOpt, RdapServerOpt, TimeoutOpt

if TYPE_CHECKING:
    import ssl

    from launchready.config.loader import LoadedConfig
    from launchready.core.net import NetSettings
    from launchready.mailtest.content import ContentPolicy
    from launchready.mailtest.extended import ExtendedJudgement, ExtendedOptions
    from launchready.mailtest.judge import Judgement
    from launchready.mailtest.mailbox import ImapAccount

# Larger files are not mail: refuse them before reading them into memory.
MAX_FILE_BYTES = 64 * 1024 * 1024


class VerifyFormat(str, Enum):
    TERMINAL = "terminal"
    JSON = "json"


# The content policy's options, shared by `verify` and `receive`.
DomainOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--domain", metavar="DOMAIN", help="The product's domain (repeatable; default: 'domain' in launchready.toml)."
    ),
]
DeclaredHostOpt = Annotated[
    list[str] | None,
    typer.Option("--declared-host", metavar="HOST", help="Another host links may point at (repeatable)."),
]
StagingHostOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--staging-host", metavar="HOST", help="A host links must not point at (repeatable; besides [environments])."
    ),
]
BulkOpt = Annotated[
    bool, typer.Option("--bulk", help="Not transactional (newsletters, digests): needs one-click unsubscribe.")
]
# The extra checks' options, shared by `verify`, `receive` and `test`.
SpamOpt = Annotated[
    bool,
    typer.Option(
        "--spamassassin/--no-spamassassin",
        help="Score with SpamAssassin, local rules only (skipped with a reason when it is not installed).",
    ),
]
CheckLinksOpt = Annotated[
    bool,
    typer.Option(
        "--check-links", help="Ask every link and image (HEAD, then GET) and report those that do not answer."
    ),
]


def extended_options(spamassassin: bool, check_links: bool) -> ExtendedOptions:
    from launchready.mailtest.extended import ExtendedOptions

    return ExtendedOptions(spamassassin=spamassassin, check_links=check_links)


def content_policy(
    loaded: LoadedConfig, domains: list[str], declared: list[str], staging: list[str], bulk: bool
) -> ContentPolicy:
    from launchready.mailtest.policy import config_policy

    return config_policy(loaded.config, domains, declared, staging, bulk)


async def verify_file(
    raw: bytes,
    name: str,
    net: NetSettings,
    policy: ContentPolicy,
    *,
    client_ip: str | None,
    helo: str,
    mail_from: str | None,
    options: ExtendedOptions | None = None,
) -> ExtendedJudgement:
    from launchready.mailtest.extended import ExtendedOptions, extend_judgements
    from launchready.mailtest.judge import judge_message
    from launchready.probes.dns import DnsProbe

    dns = DnsProbe(net)
    try:
        judgement = await judge_message(
            dns, raw, policy, name=name, client_ip=client_ip, helo=helo, mail_from=mail_from
        )
        options = options or ExtendedOptions(spamassassin=False)
        (extended,) = await extend_judgements([(judgement, raw, None)], net=net, dns=dns, options=options)
        return extended
    finally:
        await dns.close()


def render_terminal(judgement: Judgement | ExtendedJudgement) -> str:
    """The judgement as text; everything from the message (subject, headers, links) has its control
    characters shown rather than sent to the terminal."""
    from launchready.mailtest.extended import ExtendedJudgement
    from launchready.report.controls import visible

    judged = judgement.judgement if isinstance(judgement, ExtendedJudgement) else judgement
    lines = [*judged.shown_lines(), judged.auth.authentication_results()]
    if isinstance(judgement, ExtendedJudgement):
        lines.extend(judgement.summary_lines())
    lines.append("")
    if not judgement.findings:
        lines.append("No findings.")
    for f in judgement.findings:
        lines.append(f"[{f.severity.value}] {f.title} ({f.id})")
        lines.extend(f"    {e}" for e in f.evidence)
        lines.append(f"    fix: {f.remediation}")
    return visible("\n".join(lines) + "\n")


def show_judgement(judgement: Judgement | ExtendedJudgement, fmt: VerifyFormat) -> None:
    """One judged message on stdout (JSON, or text); exit 1 when a finding is high or worse.
    Text from the message (subject, addresses) has its control characters escaped either way."""
    from launchready.core.severity import Severity
    from launchready.report.controls import json_visible

    if fmt is VerifyFormat.JSON:
        sys.stdout.write(json_visible(json.dumps(judgement.to_json(), indent=2, ensure_ascii=False)) + "\n")
    else:
        sys.stdout.write(render_terminal(judgement))
    if any(f.severity.at_least(Severity.HIGH) for f in judgement.findings):
        raise typer.Exit(1)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(f"{path}: {size} bytes is larger than any mail ({MAX_FILE_BYTES} bytes at most)")
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _client_ip(value: str | None) -> str | None:
    import ipaddress

    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        raise UsageError(f"--client-ip {value!r}: not an IPv4 or IPv6 address") from None


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen {value!r}: expected HOST:PORT (e.g. 0.0.0.0:2525 or [::]:25)")
    return host, int(port)


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    import ssl

    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UsageError("--cert and --key go together: STARTTLS needs both the certificate and its key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"--cert {cert} / --key {key}: cannot load: {exc}") from None
    return context


async def receive(
    host: str,
    port: int,
    net: NetSettings,
    policy: ContentPolicy,
    context: ssl.SSLContext | None,
    fmt: VerifyFormat,
    count: int | None,
    options: ExtendedOptions | None = None,
) -> None:
    import asyncio

    from launchready.mailtest.extended import ExtendedOptions, ExtendingReceiver
    from launchready.report.controls import json_visible, visible

    def show(judgement: ExtendedJudgement) -> None:
        if fmt is VerifyFormat.JSON:
            sys.stdout.write(json_visible(json.dumps(judgement.to_json(), ensure_ascii=False)) + "\n")
        else:
            sys.stdout.write(f"--- {visible(judgement.subject)}\n" + render_terminal(judgement))
        sys.stdout.flush()

    options = options or ExtendedOptions(spamassassin=False)
    receiver = ExtendingReceiver(net, policy, show, options, host=host, port=port, tls_context=context)
    try:
        bound = await receiver.start()
    except OSError as exc:
        raise UsageError(f"--listen {host}:{port}: cannot listen: {exc.strerror or exc}") from None
    tls = "STARTTLS offered" if context is not None else "no STARTTLS (give --cert and --key)"
    print(f"listening on {host}:{bound} ({tls}); Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        if count is None:
            await asyncio.Event().wait()
        else:
            await receiver.wait_for(count)
    finally:
        await receiver.stop()


def imap_account(loaded: LoadedConfig) -> ImapAccount:
    """The ``[smoke.mailbox]`` IMAP account, its ``${env:NAME}`` references read from the environment."""
    import os

    from launchready.mailtest.mailbox import ImapAccount

    settings = loaded.config.smoke.mailbox if loaded.config.smoke is not None else None
    if settings is None or settings.kind != "imap":
        where = loaded.path or "launchready.toml"
        raise UsageError(
            f'--imap reads the mailbox in [smoke.mailbox] of {where}: add kind = "imap", host, username and password'
        )
    return ImapAccount.from_settings(settings, os.environ, "[smoke.mailbox]")


async def receive_imap(
    loaded: LoadedConfig,
    net: NetSettings,
    policy: ContentPolicy,
    criteria_fields: tuple[str | None, str | None, str | None],
    wait_s: float,
    options: ExtendedOptions,
) -> ExtendedJudgement | None:
    from launchready.mailtest.extended import judge_from_mailbox
    from launchready.mailtest.mailbox import Criteria, ImapMailbox

    account = imap_account(loaded)
    mailbox = ImapMailbox(account, net)
    to, subject, message_id = criteria_fields
    criteria = Criteria(to=to, subject=subject, message_id=message_id)
    print(
        f"waiting up to {wait_s:g} s for a message ({criteria.describe()}) in {account.host}, Inbox and Junk",
        file=sys.stderr,
        flush=True,
    )
    return await judge_from_mailbox(mailbox, criteria, policy, net=net, options=options, wait_s=wait_s)


def build() -> typer.Typer:
    app = typer.Typer(help="Judge the product's real mail: authentication and content.", no_args_is_help=True)

    @app.command("verify")
    def verify_command(
        file: Annotated[
            Path, typer.Argument(metavar="FILE.eml", help="The message as received (.eml, RFC 5322 with headers).")
        ],
        client_ip: Annotated[
            str | None,
            typer.Option(
                "--client-ip", metavar="ADDR", help="Address the message came from, for SPF (default: no SPF)."
            ),
        ] = None,
        helo: Annotated[
            str, typer.Option("--helo", metavar="NAME", help="The sending server's HELO name, for SPF.")
        ] = "",
        mail_from: Annotated[
            str | None,
            typer.Option("--mail-from", metavar="ADDR", help="The envelope sender (default: the Return-Path header)."),
        ] = None,
        domain: DomainOpt = None,
        declared_host: DeclaredHostOpt = None,
        staging_host: StagingHostOpt = None,
        bulk: BulkOpt = False,
        spamassassin: SpamOpt = True,
        check_links: CheckLinksOpt = False,
        fmt: Annotated[VerifyFormat, typer.Option("--format", "-f", help="terminal or json.")] = VerifyFormat.TERMINAL,
        config: ConfigOpt = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """SPF, DKIM, DMARC and ARC verdicts (as an RFC 8601 Authentication-Results line) and content
        findings for one saved message; offline except for DNS. Exits 1 when a finding is high or worse."""
        import asyncio

        raw = _read(file)
        ip = _client_ip(client_ip)
        loaded = common.load(config)
        policy = content_policy(loaded, domain or [], declared_host or [], staging_host or [], bulk)
        # --rdap-server is accepted so the flags `lab up` prints can be pasted as they are.
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, loaded, rdap_server=rdap_server)
        options = extended_options(spamassassin, check_links)
        judgement = asyncio.run(
            verify_file(raw, file.name, net, policy, client_ip=ip, helo=helo, mail_from=mail_from, options=options)
        )
        show_judgement(judgement, fmt)

    @app.command("receive")
    def receive_command(
        listen: Annotated[
            str | None, typer.Option("--listen", metavar="HOST:PORT", help="Where to accept SMTP.")
        ] = None,
        imap: Annotated[
            bool,
            typer.Option(
                "--imap", help="Instead of listening, wait for the message in the [smoke.mailbox] IMAP account."
            ),
        ] = False,
        to: Annotated[
            str | None, typer.Option("--to", metavar="ADDR", help="With --imap: the recipient of the message.")
        ] = None,
        subject: Annotated[
            str | None, typer.Option("--subject", metavar="TEXT", help="With --imap: part of its subject.")
        ] = None,
        message_id: Annotated[
            str | None, typer.Option("--message-id", metavar="ID", help="With --imap: its Message-ID.")
        ] = None,
        wait: Annotated[
            float, typer.Option("--wait", min=0, metavar="SECONDS", help="With --imap: how long to wait for it.")
        ] = 60.0,
        cert: Annotated[
            Path | None, typer.Option("--cert", metavar="FILE", help="Certificate chain (PEM) for STARTTLS.")
        ] = None,
        key: Annotated[Path | None, typer.Option("--key", metavar="FILE", help="Its private key (PEM).")] = None,
        count: Annotated[
            int | None, typer.Option("--count", min=1, metavar="N", help="Stop after judging this many messages.")
        ] = None,
        domain: DomainOpt = None,
        declared_host: DeclaredHostOpt = None,
        staging_host: StagingHostOpt = None,
        bulk: BulkOpt = False,
        spamassassin: SpamOpt = True,
        check_links: CheckLinksOpt = False,
        fmt: Annotated[
            VerifyFormat, typer.Option("--format", "-f", help="terminal, or json (one object per line).")
        ] = VerifyFormat.TERMINAL,
        config: ConfigOpt = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Receive mail over SMTP and judge each message as it arrives (SPF from the connecting address),
        or (--imap) wait for one message in a real mailbox and judge it, with the folder it landed in and
        the provider's own Authentication-Results. With --imap, exits 1 when a finding is high or worse
        or the message did not arrive."""
        import asyncio

        if imap == (listen is not None):
            raise UsageError("give either --listen HOST:PORT (an SMTP receiver) or --imap (a real mailbox)")
        if not imap and (to or subject or message_id):
            raise UsageError("--to, --subject and --message-id select a message in the mailbox: they go with --imap")
        if imap and not (to or subject or message_id):
            raise UsageError("--imap needs --to, --subject or --message-id to know which message is under test")
        loaded = common.load(config)
        policy = content_policy(loaded, domain or [], declared_host or [], staging_host or [], bulk)
        # --rdap-server is accepted so the flags `lab up` prints can be pasted as they are.
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, loaded, rdap_server=rdap_server)
        options = extended_options(spamassassin, check_links)
        if listen is not None:
            host, port = parse_listen(listen)
            context = tls_context(cert, key)
            asyncio.run(receive(host, port, net, policy, context, fmt, count, options))
            return
        judgement = asyncio.run(receive_imap(loaded, net, policy, (to, subject, message_id), wait, options))
        if judgement is None:
            print(f"no matching message arrived within {wait:g} s (Inbox and Junk searched)", file=sys.stderr)
            raise typer.Exit(1)
        show_judgement(judgement, fmt)

    return app
