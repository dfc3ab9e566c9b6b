"""The lab orchestrator: DNS, HTTPS, HTTP, SMTP and the marketplace in one background thread.

Everything listens on loopback, on ephemeral ports by default, so the lab needs no root and
several labs (parallel tests) never collide. Other commands reach ports 80/443 through
``--connect-to`` and the lab's DNS through ``--nameserver`` (see :meth:`Lab.cli_args`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import secrets
import shutil
import signal
import ssl
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Self, TextIO

from aiohttp import web

from launchready.core.errortracking import DsnError, parse_dsn
from launchready.core.net import ConnectTo, Nameserver, NetSettings, format_peer
from launchready.lab.app import AppSettings, Marketplace
from launchready.lab.assets import site_assets
from launchready.lab.ca import LabCA
from launchready.lab.certs import issue_host_certs, sni_context, write_host_certs
from launchready.lab.control import answer_requests, mark_running
from launchready.lab.dkim import DkimKey, generate_dkim_key
from launchready.lab.dns_server import DnsAuthority, DnsServer
from launchready.lab.dnssec import build_zones, generate_signing_key, parent_ds
from launchready.lab.error_reporting import FIRST_VERSION, NEW_ERROR_AFTER_DEPLOY, RELEASE_PREFIX, ErrorReporter
from launchready.lab.error_tracker import TRACKER_HOST, ErrorTracker
from launchready.lab.errors import LabError
from launchready.lab.faults import LAB_DOMAIN, fault_names
from launchready.lab.hosts import LabHosts
from launchready.lab.hsts_lab import legacy_subdomains
from launchready.lab.mail_faults import DEFAULT_INVITE_DELAY_S, DKIM_WRONG_KEY, hold_seconds, mailer_options
from launchready.lab.mail_zone import PROVIDER_DOMAIN, extra_senders, extra_subdomains
from launchready.lab.mailpit_api import mailpit_app
from launchready.lab.monitor_lab import HeartbeatJob, monitor_toml, new_heartbeat_uuid
from launchready.lab.mta_sts import mta_sts_app, mta_sts_host
from launchready.lab.nameservers import secondary_authority, start_secondary
from launchready.lab.pages import Pages
from launchready.lab.perf_routes import PerfLab, perf_toml, seed_members
from launchready.lab.rdap import lab_owners_toml, rdap_app
from launchready.lab.relay import SmtpRelay
from launchready.lab.repo import AppRepo, build_app_repo, secrets_toml
from launchready.lab.smoke_faults import lab_mailer
from launchready.lab.smoke_lab import smoke_toml, write_smoke_env
from launchready.lab.smtp import Mailbox, SmtpServer
from launchready.lab.store import Store
from launchready.lab.surface import surface_toml
from launchready.lab.web import admin_app, apex_app, http_front, https_front, www_app
from launchready.lab.zone import lab_zones

FIRST_RELEASE = RELEASE_PREFIX + FIRST_VERSION
# Closing keep-alive connections on stop should not make tests wait.
_HTTP_SHUTDOWN_SECONDS = 1.0


@dataclass(frozen=True)
class LabPorts:
    dns: int
    https: int
    http: int
    smtp: int
    ns2: int = 0  # the second name server (lab/nameservers.py)
    rdap: int = 0  # the registry's RDAP server (lab/rdap.py), plain HTTP
    relay: int = 0  # the outbound SMTP relay the app submits its mail to (lab/relay.py)


def _validated_faults(faults: Iterable[str]) -> frozenset[str]:
    names = frozenset(faults)
    unknown = sorted(names - set(fault_names()))
    if unknown:
        raise LabError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(fault_names())}")
    return names


class Lab:
    """``with Lab(faults=["no-hsts"]) as lab: ...`` runs the whole lab until the block ends."""

    def __init__(
        self,
        faults: Iterable[str] = (),
        *,
        workdir: Path | None = None,
        bind: str = "127.0.0.1",
        dns_port: int = 0,
        https_port: int = 0,
        http_port: int = 0,
        smtp_port: int = 0,
        monitor_url: str | None = None,
        heartbeat_period: float = 60.0,
        invite_delay_s: float = DEFAULT_INVITE_DELAY_S,
        mail_relay_to: tuple[str, int] | None = None,
        error_dsn: str | None = None,
    ) -> None:
        self.faults: frozenset[str] = _validated_faults(faults)
        # How long the relay holds invitations with the email-invite-delayed fault on.
        self.invite_delay_s = invite_delay_s
        # Where the relay forwards the app's mail (default: the lab's mailbox), e.g. `email test --listen`.
        self.mail_relay_to = mail_relay_to
        # Where the app reports its errors with sentry-sdk (a `monitor project add` DSN); None: nowhere.
        if error_dsn is not None:
            try:
                parse_dsn(error_dsn)
            except DsnError as exc:
                raise LabError(f"error DSN: {exc}") from None
        self.error_dsn = error_dsn
        self._errors: ErrorReporter | None = None
        # The cron-like job pings the monitor here (lab/monitor_lab.py); None: no job runs.
        self.monitor_url = monitor_url
        self.heartbeat_period = heartbeat_period
        self.heartbeat_uuid = new_heartbeat_uuid()
        try:
            self._ip_version = ipaddress.ip_address(bind).version
        except ValueError:
            raise LabError(f"bind {bind!r}: the lab binds to an IP address (e.g. 127.0.0.1 or ::1)") from None
        self.domain: str = LAB_DOMAIN
        self.hosts = LabHosts(LAB_DOMAIN)
        self.bind = bind
        self._requested = LabPorts(dns_port, https_port, http_port, smtp_port)
        self._workdir_arg = workdir
        self._workdir: Path | None = None
        self._owns_workdir = False
        self.mailbox = Mailbox()
        # The hosted error tracker the app's SENTRY_DSN names in its deploy exports (lab/error_tracker.py).
        self.error_tracker = ErrorTracker()
        # The payment provider's signing secret (what sign_webhook needs to call /webhooks/payments).
        self.webhook_secret = "whsec_" + secrets.token_urlsafe(24)
        self._ports: LabPorts | None = None
        self._app_repo: AppRepo | None = None
        self._mailbox_api_port: int | None = None
        self._ca_bundle: Path | None = None
        self._dkim: DkimKey | None = None
        self._staging_dkim: DkimKey | None = None
        self._ns2_authority: DnsAuthority | None = None
        self._store: Store | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._startup_error: BaseException | None = None
        self._ready: threading.Event | None = None

    # -- what is running where ----------------------------------------------------------

    def _running(self) -> LabPorts:
        if self._ports is None:
            raise RuntimeError("the lab is not running (call start() or use it as a context manager)")
        return self._ports

    @property
    def running(self) -> bool:
        return self._ports is not None

    @property
    def dns_port(self) -> int:
        return self._running().dns

    @property
    def https_port(self) -> int:
        return self._running().https

    @property
    def http_port(self) -> int:
        return self._running().http

    @property
    def smtp_port(self) -> int:
        return self._running().smtp

    @property
    def relay_port(self) -> int:
        """The outbound relay the app submits its mail to; it forwards to the mailbox (``smtp_port``)."""
        return self._running().relay

    @property
    def ns2_port(self) -> int:
        """The second name server (ns2.DOMAIN); ns1 is the main DNS server on ``dns_port``."""
        return self._running().ns2

    @property
    def rdap_url(self) -> str:
        """The base URL of the lab registry's RDAP server (what --rdap-server points at)."""
        return f"http://{format_peer(self.bind, self._running().rdap)}/"

    @property
    def mailbox_api_url(self) -> str:
        """The lab mailbox's Mailpit-style HTTP API (what [smoke.mailbox] url points at)."""
        self._running()
        assert self._mailbox_api_port is not None
        return f"http://{format_peer(self.bind, self._mailbox_api_port)}"

    @property
    def ca_bundle(self) -> Path:
        """The lab CA certificate (PEM): what ``--ca-bundle`` must point at."""
        self._running()
        assert self._ca_bundle is not None
        return self._ca_bundle

    @property
    def workdir(self) -> Path:
        self._running()
        assert self._workdir is not None
        return self._workdir

    @property
    def app_repo(self) -> AppRepo:
        """The app's git repository (lab/repo.py), built on first use: what [secrets] repo points at."""
        workdir = self.workdir
        if self._app_repo is None or not self._app_repo.root.exists():
            dsns = {env: self.error_tracker.dsn(env, self.faults) for env in ("production", "staging")}
            self._app_repo = build_app_repo(workdir, self.faults, dsns)
        return self._app_repo

    @property
    def dkim(self) -> DkimKey:
        """The DKIM key published at ``lab._domainkey`` (the app's mailer signs with it)."""
        self._running()
        assert self._dkim is not None
        return self._dkim

    @property
    def store(self) -> Store:
        """The marketplace's database (thread-safe), for tests and flows that inspect state."""
        self._running()
        assert self._store is not None
        return self._store

    def routes(self) -> tuple[ConnectTo, ...]:
        """Where the well-known ports of every lab host really listen (HTTPS, HTTP, SMTP)."""
        ports = self._running()
        return (
            # The NS check asks each name server on port 53: specific rules first.
            ConnectTo(f"ns1.{self.domain}", 53, self.bind, ports.dns),
            ConnectTo(f"ns2.{self.domain}", 53, self.bind, ports.ns2),
            ConnectTo(None, 443, self.bind, ports.https),
            ConnectTo(None, 80, self.bind, ports.http),
            ConnectTo(None, 25, self.bind, ports.smtp),
        )

    def net_settings(self, *, first: tuple[ConnectTo, ...] = (), timeout: float = 5.0) -> NetSettings:
        """What ``cli_args`` says, as settings; ``first`` routes win over the lab's (first match)."""
        ports = self._running()
        return NetSettings(
            nameservers=(Nameserver(self.bind, ports.dns),),
            ca_bundle=self.ca_bundle,
            connect_to=(*first, *self.routes()),
            timeout=timeout,
            rdap_server=self.rdap_url,
        )

    def cli_args(self) -> list[str]:
        """The flags that point launchready at this lab."""
        ports = self._running()
        args = ["--nameserver", format_peer(self.bind, ports.dns), "--ca-bundle", str(self.ca_bundle)]
        for route in self.routes():
            args += ["--connect-to", f"{route.host or ''}:{route.port}:{format_peer(route.to_host, route.to_port)}"]
        return [*args, "--rdap-server", self.rdap_url]

    def config_toml(self, *, mail_test: bool = False) -> str:
        """A launchready.toml describing the lab (what discovery alone cannot know).

        ``mail_test``: the audit also runs the mail test ([email] test), waiting a few seconds for
        each message rather than the default two minutes (the demo's lab loses one on purpose).
        """
        mail_test_keys = "test = true\nwait_s = 5.0\n" if mail_test else ""
        sender = f"ip{self._ip_version}:{self.bind}"
        return (
            "# launchready configuration for the lab (marketlab.test on loopback)\n"
            f'domain = "{self.domain}"\n'
            f"subdomains = {json.dumps(['app', 'admin', 'api', *extra_subdomains(self.faults), *legacy_subdomains(self.faults)])}\n"
            "\n"
            "[environments.production]\n"
            f'base_url = "https://{self.hosts.app}"\n'
            'health_path = "/health"\n'
            "\n"
            "[email]\n"
            f"senders = {json.dumps([sender, *extra_senders(self.faults)])}\n"
            'dkim_selectors = ["lab"]\n'
            + mail_test_keys
            + surface_toml()
            + smoke_toml(self.mailbox_api_url, self.workdir / "smoke.env")
            + secrets_toml(self.app_repo)
            + perf_toml()
            + monitor_toml(self.heartbeat_uuid, self.heartbeat_period)
            + lab_owners_toml(self.domain)
        )

    @property
    def release(self) -> str:
        """The release the app runs (``marketlab@1.0.0`` until the first :meth:`deploy`)."""
        self._running()
        assert self._errors is not None
        return self._errors.release

    @property
    def error_reporting(self) -> str:
        """Where the app's errors go, in words (for `lab up`'s summary)."""
        if self.error_dsn is None:
            return "nowhere (give the lab a DSN: --error-dsn)"
        if self._errors is not None and self._errors.unavailable:
            return self._errors.unavailable
        return f"sentry-sdk, release {self.release if self.running else FIRST_RELEASE} -> {parse_dsn(self.error_dsn).masked}"

    def deploy(self, version: str) -> str:
        """Deploy ``version`` of the app: its release changes (and with new-error-after-deploy, a bug ships).

        Returns the new release. Recording the deploy marker is the deploy tool's job (`launchready
        deploy`, or ``POST /api/v1/deploys`` on the monitor), as it is for a real app.
        """
        self._running()
        assert self._errors is not None
        return self._errors.deploy(version)

    @staticmethod
    def _close_errors(errors: ErrorReporter) -> None:
        errors.close()

    def seed_members(self, n: int) -> int:
        """Make exactly ``n`` seeded members exist (what `launchready lab seed --members N` does)."""
        return seed_members(self.workdir / "marketlab.sqlite3", n)

    def messages(self) -> list[EmailMessage]:
        """Every message the lab's SMTP server received, oldest first."""
        return [received.message for received in self.mailbox.messages()]

    def wait_for_message(self, to: str, timeout: float, *, subject: str | None = None) -> EmailMessage:
        """The oldest message to ``to`` (Subject containing ``subject``); TimeoutError if none came."""
        return self.mailbox.wait_for(to, timeout, subject=subject).message

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("the lab is already running")
        if self._workdir_arg is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="launchready-lab-"))
            self._owns_workdir = True
        else:
            self._workdir = self._workdir_arg
            self._workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._prepare_and_launch()
        except BaseException:
            # Also Ctrl-C during start-up: let the thread finish starting, then take it all down.
            if self._thread is not None and self._ready is not None:
                self._ready.wait()
            self.stop()
            raise
        return self

    def _prepare_and_launch(self) -> None:
        assert self._workdir is not None
        # Key and certificate generation is CPU work: done here, before the loop thread starts.
        ca = LabCA.create(common_name="launchready lab CA")
        self._ca_bundle = ca.write_bundle(self._workdir / "ca.pem")
        cert_files = write_host_certs(issue_host_certs(ca, self.hosts, self.faults), self._workdir / "certs")
        tls = sni_context(cert_files, default_host=self.hosts.apex, legacy_tls="tls-legacy" in self.faults)
        self._dkim = generate_dkim_key()
        # email-dkim-wrong-key: the app was deployed with the staging key; nobody published it.
        self._staging_dkim = generate_dkim_key() if DKIM_WRONG_KEY in self.faults else None
        write_smoke_env(self._workdir, self.webhook_secret)
        zone_data = lab_zones(self.faults, address=self.bind, dkim_public_key_b64=self._dkim.public_key_b64)
        # The lab domain's zone is signed (DNSSEC) unless dnssec-unsigned; ns2 serves it signed too.
        signing_key = generate_signing_key()
        zones = build_zones(zone_data, signing_key, self.faults)
        self._ns2_authority = secondary_authority(
            zone_data, self.faults, build=lambda data: build_zones(data, signing_key, self.faults)
        )
        parent = parent_ds(self.domain, signing_key, self.faults)
        ready = self._ready = threading.Event()
        self._startup_error = None
        thread = threading.Thread(
            target=self._thread_main,
            args=(DnsAuthority(zones, parent), tls, ready),
            name="launchready-lab",
            daemon=True,
        )
        thread.start()
        self._thread = thread
        ready.wait()
        if self._startup_error is not None:
            thread.join()
            self._thread = None
            self._ready = None
            error, self._startup_error = self._startup_error, None
            raise error

    def _thread_main(self, authority: DnsAuthority, tls: ssl.SSLContext | None, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(authority, tls, ready))
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()
                self._loop = None
                ready.set()  # in case start-up failed before signalling

    async def _serve(self, authority: DnsAuthority, tls: ssl.SSLContext | None, ready: threading.Event) -> None:
        assert self._workdir is not None
        self._stop_event = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            try:
                ports = await self._start_services(stack, authority, tls)
            except BaseException as exc:  # noqa: BLE001 - handed to start()'s caller
                self._startup_error = exc
                ready.set()
                return
            self._ports = ports
            ready.set()
            await self._stop_event.wait()
            self._ports = None

    async def _start_services(
        self, stack: contextlib.AsyncExitStack, authority: DnsAuthority, tls: ssl.SSLContext | None
    ) -> LabPorts:
        assert self._workdir is not None
        requested = self._requested
        dns_server = DnsServer(authority, host=self.bind, port=requested.dns)
        dns_port = await dns_server.start()
        stack.push_async_callback(dns_server.stop)
        assert self._ns2_authority is not None
        ns2_port = await start_secondary(stack, self._ns2_authority, self.bind)

        smtp_server = SmtpServer(self.mailbox, host=self.bind, port=requested.smtp, hostname=self.hosts.mail)
        smtp_port = await smtp_server.start()
        stack.push_async_callback(smtp_server.stop)

        store = Store(self._workdir / "marketlab.sqlite3")
        stack.callback(store.close)
        self._store = store
        mailbox_at = (self.bind, smtp_port)
        relay = SmtpRelay(
            host=self.bind,
            next_hop=lambda: self.mail_relay_to or mailbox_at,
            hostname=f"smtp.{self.domain}",
            hold=hold_seconds(self.faults, self.invite_delay_s),
        )
        relay_port = await relay.start()
        stack.push_async_callback(relay.stop)
        assert self._dkim is not None
        mailer = lab_mailer(
            self.faults,
            host=self.bind,
            port=relay_port,
            sender=f"Market Lab <no-reply@{self.domain}>",
            sender_domain=self.domain,
            **mailer_options(
                self.faults,
                domain=self.domain,
                provider_domain=PROVIDER_DOMAIN,
                key=self._dkim,
                staging_key=self._staging_dkim,
            ),
        )
        assets = site_assets()
        pages = Pages(self.hosts, assets)
        errors = self._errors = ErrorReporter(self.error_dsn, self.faults)
        stack.callback(self._close_errors, errors)
        marketplace = Marketplace(
            AppSettings(self.hosts, self.faults, self.webhook_secret), store, mailer, pages, assets, errors
        )
        sites = {
            self.hosts.apex: apex_app(self.hosts, pages, assets, self.faults),
            self.hosts.www: www_app(self.hosts),
            self.hosts.app: marketplace.app(),
            self.hosts.admin: admin_app(pages, assets, self.faults),
            self.hosts.api: marketplace.api(),
            mta_sts_host(self.domain): mta_sts_app(self.domain, self.faults),
            TRACKER_HOST: self.error_tracker.app(),
        }
        perf_lab = PerfLab(self.faults, self._workdir / "marketlab.sqlite3")
        stack.callback(perf_lab.close)
        perf_lab.install(
            api=sites[self.hosts.api],
            app=sites[self.hosts.app],
            static_sites=[sites[self.hosts.apex], sites[self.hosts.app]],
        )
        # Smoke flows in other processes read the lab's mail here (Mailpit's API, own port).
        self._mailbox_api_port = await self._serve_web(stack, mailpit_app(self.mailbox), 0, None)
        https_port = await self._serve_web(stack, https_front(self.hosts, self.faults, sites), requested.https, tls)
        http_port = await self._serve_web(stack, http_front(self.hosts, self.faults, pages), requested.http, None)
        if self.monitor_url is not None:
            job = HeartbeatJob(self.monitor_url, self.heartbeat_uuid, self.heartbeat_period, self.faults)
            job.start()
            stack.push_async_callback(job.stop)
        rdap_port = await self._serve_web(stack, rdap_app(self.domain, self.faults), 0, None)
        return LabPorts(
            dns=dns_port,
            https=https_port,
            http=http_port,
            smtp=smtp_port,
            ns2=ns2_port,
            rdap=rdap_port,
            relay=relay_port,
        )

    async def _serve_web(
        self, stack: contextlib.AsyncExitStack, app: web.Application, port: int, tls: ssl.SSLContext | None
    ) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_HTTP_SHUTDOWN_SECONDS)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, self.bind, port, ssl_context=tls)
        await site.start()
        return int(runner.addresses[0][1])

    def stop(self) -> None:
        """Stop every server and join the thread; safe to call twice or before start()."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            self._cleanup_workdir()
            return
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        thread.join()
        self._thread = None
        self._ready = None
        self._stop_event = None
        self._ports = None
        self._store = None
        self._cleanup_workdir()

    def _cleanup_workdir(self) -> None:
        if self._owns_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
            self._owns_workdir = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def monitor_serve_command(
    *,
    config: Path,
    ca_bundle: Path,
    bind: str,
    dns_port: int,
    https_port: int,
    http_port: int,
    smtp_port: int,
    listen: str | None = None,
) -> str:
    """The `launchready monitor serve` line that watches a lab (its config, DNS, CA and ports).

    The name servers' own port-53 routes are left out: the monitor asks the lab's DNS through
    ``--nameserver`` and never judges the name servers one by one.
    """
    args = [
        "launchready monitor serve",
        f"--config {config}",
        f"--nameserver {format_peer(bind, dns_port)}",
        f"--ca-bundle {ca_bundle}",
        f"--connect-to :443:{format_peer(bind, https_port)}",
        f"--connect-to :80:{format_peer(bind, http_port)}",
        f"--connect-to :25:{format_peer(bind, smtp_port)}",
    ]
    if listen:
        args.append(f"--listen {listen}")
    return " ".join(args)


def _listen_of(monitor_url: str | None) -> str | None:
    if monitor_url is None:
        return None
    return monitor_url.split("://", 1)[-1].split("/", 1)[0]


def lab_monitor_command(lab: Lab) -> str:
    return monitor_serve_command(
        config=lab.workdir / "launchready.toml",
        ca_bundle=lab.ca_bundle,
        bind=lab.bind,
        dns_port=lab.dns_port,
        https_port=lab.https_port,
        http_port=lab.http_port,
        smtp_port=lab.smtp_port,
        listen=_listen_of(lab.monitor_url),
    )


def describe(lab: Lab) -> str:
    """What runs where, and the exact flags to point launchready (and curl, dig) at the lab."""
    flags = " ".join(lab.cli_args())
    bind = lab.bind
    faults = ", ".join(sorted(lab.faults)) or "none"
    hosts = ", ".join(lab.hosts.web)
    https = format_peer(bind, lab.https_port)
    config = lab.workdir / "launchready.toml"
    if lab.mail_relay_to is None:
        forwards = "the mailbox above"
        mail_test = [
            "Test its mail (the flows that send it, delivery time, SPF/DKIM/DMARC, links):",
            f"  launchready email test {flags} --config {config}",
        ]
    else:
        receiver = format_peer(*lab.mail_relay_to)
        forwards = f"{receiver}, not the mailbox above"
        mail_test = [
            f"Its mail goes to {receiver}: receive and judge it there, then sign up on the app:",
            f"  launchready email receive --listen {receiver} {flags} --domain {lab.domain}",
            "or run its flows and judge what they send (the flows read the mail there too):",
            f"  launchready email test --listen {receiver} {flags} --config {config}",
        ]
    return "\n".join(
        [
            f"launchready lab: {lab.domain} on {bind} (faults: {faults})",
            f"  DNS    {format_peer(bind, lab.dns_port)}  UDP+TCP, authoritative for {lab.domain}",
            f"  DNS    {format_peer(bind, lab.ns2_port)}  ns2.{lab.domain}, the second name server (a copy of the zone)",
            f"  HTTPS  {https}  {hosts} (by SNI)",
            f"  HTTP   {format_peer(bind, lab.http_port)}  same hosts, plain",
            f"  RDAP   {lab.rdap_url}  the registry's RDAP server for {lab.domain}",
            f"  SMTP   {format_peer(bind, lab.smtp_port)}  receives the app's mail (saved under {lab.workdir / 'mail'})",
            f"  SMTP   {format_peer(bind, lab.relay_port)}  the relay the app submits to (DKIM-signed by the app); "
            f"it forwards to {forwards}",
            f"  CA     {lab.ca_bundle}",
            f"  errors {lab.error_reporting}",
            f"  config {lab.workdir / 'launchready.toml'}",
            "",
            "Audit it:",
            f"  launchready audit {lab.domain} {flags} --config {lab.workdir / 'launchready.toml'}",
            "",
            *mail_test,
            "",
            "Watch it over time (checks, the lab-cron heartbeat, alerts, dashboard):",
            f"  {lab_monitor_command(lab)}",
            "",
            "Deploy a new release of the app (records the deploy marker in the monitor's store; with "
            f"{NEW_ERROR_AFTER_DEPLOY} on, the release ships a new error):",
            f"  launchready lab deploy 1.1.0 --workdir {lab.workdir}",
            "",
            "Poke at it by hand:",
            f"  curl --cacert {lab.ca_bundle} --connect-to :443:{https} https://{lab.hosts.app}/health",
            f"  dig @{bind} -p {lab.dns_port} {lab.domain} TXT",
            "",
            "Press Ctrl-C to stop.",
        ]
    )


def _save_message(message: EmailMessage, directory: Path, number: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{number:03d}.eml"
    path.write_bytes(message.as_bytes())
    return path


@contextlib.contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """A service manager's SIGTERM stops the lab as cleanly as Ctrl-C (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_lab_foreground(
    faults: Iterable[str] = (),
    *,
    workdir: Path | None = None,
    bind: str = "127.0.0.1",
    dns_port: int = 0,
    https_port: int = 0,
    http_port: int = 0,
    smtp_port: int = 0,
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
    monitor_url: str | None = None,
    error_dsn: str | None = None,
    mail_relay_to: tuple[str, int] | None = None,
) -> int:
    """``launchready lab up``: run the lab until Ctrl-C (or ``stop`` is set), listing the mail it gets.

    ``mail_relay_to``: the relay forwards the app's mail there (a receiver the user runs) instead."""
    stop = stop if stop is not None else threading.Event()
    lab = Lab(
        faults,
        workdir=workdir,
        bind=bind,
        dns_port=dns_port,
        https_port=https_port,
        http_port=http_port,
        smtp_port=smtp_port,
        monitor_url=monitor_url,
        error_dsn=error_dsn,
        mail_relay_to=mail_relay_to,
    )
    with _stop_on_sigterm(stop), lab:
        running = mark_running(lab.workdir)
        try:
            (lab.workdir / "launchready.toml").write_text(lab.config_toml(), encoding="utf-8")
            print(describe(lab), file=out, flush=True)
            shown = 0
            while not stop.wait(0.5):
                # `launchready lab deploy VERSION --workdir ...` from another terminal (lab/control.py).
                for release in answer_requests(lab.workdir, lab.deploy):
                    print(f"deployed {release}: the app now runs this release", file=out, flush=True)
                messages = lab.messages()
                for message in messages[shown:]:
                    shown += 1
                    # The body holds one-time links (tokens): it goes to a file, not the terminal.
                    saved = _save_message(message, lab.workdir / "mail", shown)
                    print(f"mail to {message['To']}: {message['Subject']} -> {saved}", file=out, flush=True)
        except KeyboardInterrupt:
            pass
        finally:
            running.unlink(missing_ok=True)
        print("Stopping the lab.", file=out, flush=True)
    return 0
