"""From configuration to a run: which flows, against which base URL, with which secrets and mailbox.

Everything that can be wrong with the setup is found here (no flows declared, unknown
environment or flow, bad flow files, missing ``${env:NAME}``, email steps without a mailbox),
before any request is sent. ``execute`` then runs the plan on the project's HTTP stack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from launchready.config.model import Config
from launchready.config.sections.smoke import MailboxSettings
from launchready.core.net import DeclaredHosts, NetSettings, declared_hosts
from launchready.core.protocols import DnsLookup
from launchready.secrets.envfile import read_env_file
from launchready.smoke.errors import SmokeError
from launchready.smoke.http import FlowHttp
from launchready.smoke.loader import find_flow_files, load_flow_files, select_flows
from launchready.smoke.mail import ImapSource, MailCallback, MailpitSource, MailSource
from launchready.smoke.model import Flow
from launchready.smoke.results import SmokeRun
from launchready.smoke.runner import FlowSession, SmokeOptions, StepCallback, prepare, run_flow_session, run_flows
from launchready.smoke.secrets import Masker


@dataclass(frozen=True)
class SmokePlan:
    environment: str
    base_url: str
    flows: tuple[Flow, ...]
    env: Mapping[str, str]
    masker: Masker
    mailbox: MailboxSettings | None
    options: SmokeOptions
    # What a step that follows redirects may be sent to: the domain and the environments' hosts
    # (with --connect-to names, added when the plan runs: see redirect_hosts).
    domain: str | None = None
    environment_urls: tuple[str, ...] = ()

    def redirect_hosts(self, net: NetSettings) -> DeclaredHosts:
        return declared_hosts(net, self.domain, self.environment_urls)


def declares_flows(config: Config) -> bool:
    return bool(config.smoke.files)


def smoke_env(config: Config, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values ``${env:NAME}`` reads: the process environment wins over the env_file."""
    values: dict[str, str] = {}
    if config.smoke.env_file:
        values.update(read_env_file(Path(config.smoke.env_file)).values)
    values.update(os.environ if environ is None else environ)
    return values


def load_flows(config: Config) -> tuple[Flow, ...]:
    if not config.smoke.files:
        raise SmokeError('no smoke flows declared: add [smoke] files = ["smoke/*.yaml"] to launchready.toml')
    return load_flow_files(find_flow_files(config.smoke.files))


def plan_smoke(
    config: Config,
    environment: str,
    *,
    flow_names: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    mailbox_provided: bool = False,
    domain: str | None = None,
) -> SmokePlan:
    """``mailbox_provided``: the caller reads the mail itself (the mail test's SMTP receiver), so
    email steps need no [smoke.mailbox]. ``domain``: the audited domain when it is not the
    configuration's (an audit of another name)."""
    env_config = config.environments.get(environment)
    if env_config is None:
        known = ", ".join(sorted(config.environments)) or "none declared"
        raise SmokeError(f"--env {environment}: no [environments.{environment}] in launchready.toml (known: {known})")
    flows = select_flows(load_flows(config), flow_names)
    env = smoke_env(config, environ)
    masker = prepare(flows, env, has_mailbox=mailbox_provided or config.smoke.mailbox is not None)
    mailbox = config.smoke.mailbox
    if mailbox is not None and mailbox.kind == "imap" and mailbox.password:
        name = mailbox.password[len("${env:") : -1]
        if name not in env:
            raise SmokeError(f"[smoke.mailbox] password: ${{env:{name}}} is not set in the environment")
        masker.add(env[name])
    return SmokePlan(
        environment=environment,
        base_url=str(env_config.base_url).rstrip("/"),
        flows=flows,
        env=env,
        masker=masker,
        mailbox=mailbox,
        options=SmokeOptions(concurrency=config.smoke.concurrency, flow_timeout=config.smoke.flow_timeout),
        domain=domain or config.domain,
        environment_urls=tuple(str(e.base_url) for e in config.environments.values()),
    )


def _mail_source(plan: SmokePlan, net: NetSettings, http: FlowHttp, *, raw: bool = False) -> MailSource | None:
    box = plan.mailbox
    if box is None or not any(f.uses_email for f in plan.flows):
        return None
    if box.kind == "mailpit":
        return MailpitSource(str(box.url), http, box.poll_seconds, fetch_raw=raw)
    return ImapSource(box, net, plan.env, search_junk=raw)


async def execute(
    plan: SmokePlan,
    net: NetSettings,
    *,
    dns: DnsLookup | None = None,
    on_step: StepCallback | None = None,
    on_mail: MailCallback | None = None,
    mail: MailSource | None = None,
) -> SmokeRun:
    """Run the plan. ``on_mail`` hears every email step's wait, with the message as received (raw
    bytes included); ``mail`` replaces the configured mailbox (the mail test's own SMTP receiver)."""
    http = FlowHttp(net, dns, redirect_hosts=plan.redirect_hosts(net))
    own_mail = mail is None
    if mail is None:
        mail = _mail_source(plan, net, http, raw=on_mail is not None)
    try:
        return await run_flows(
            plan.flows,
            environment=plan.environment,
            base_url=plan.base_url,
            http=http,
            env=plan.env,
            masker=plan.masker,
            mail=mail,
            options=plan.options,
            on_step=on_step,
            on_mail=on_mail,
        )
    finally:
        if mail is not None and own_mail:
            await mail.close()
        await http.close()


async def execute_session(
    plan: SmokePlan, net: NetSettings, flow_name: str, *, dns: DnsLookup | None = None
) -> FlowSession:
    """Run one of the plan's flows and keep its variables and cookie jar (the load test's login).

    ``dns`` is the run's resolver when an audit runs the flow (the smoke runner opens one otherwise).
    """
    flow = next((f for f in plan.flows if f.name == flow_name), None)
    if flow is None:
        raise SmokeError(f"no smoke flow named {flow_name!r} in this plan")
    http = FlowHttp(net, dns, redirect_hosts=plan.redirect_hosts(net))
    mail = _mail_source(plan, net, http)
    try:
        return await run_flow_session(
            flow, base_url=plan.base_url, http=http, env=plan.env, masker=plan.masker, mail=mail, options=plan.options
        )
    finally:
        if mail is not None:
            await mail.close()
        await http.close()
