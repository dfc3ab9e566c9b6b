"""Authenticated load: a smoke flow logs in once, before the load, and its session goes with every request.

The login runs through the smoke runner (``smoke.plan.execute_session``): the same HTTP stack,
templates, mailbox and masking as `launchready smoke`, so a flow that passes there logs in here.
Its cookie jar gives each endpoint the cookies a browser would send to that URL (domain, path,
Secure rules), and an optional ``auth_header`` ("Authorization: Bearer ${token}") is rendered with
the flow's variables and captures. The values only ever go into the request bytes: reports show
cookie names and masked values (core/masking.py).

A login flow that fails stops the load (:class:`LoginFailed`): measuring a login page that
answers 200 instead of the dashboard would be a fast, green and meaningless report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from launchready.config.model import Config
from launchready.config.sections.perf import PerfEndpoint
from launchready.core.masking import mask_secret
from launchready.core.net import NetSettings
from launchready.core.protocols import DnsLookup
from launchready.perf.errors import PerfError
from launchready.secrets.errors import SecretsError
from launchready.smoke.errors import SmokeError
from launchready.smoke.loader import find_flow_files, load_flow_files
from launchready.smoke.plan import SmokePlan, execute_session, plan_smoke
from launchready.smoke.runner import FlowSession
from launchready.smoke.template import Scope, TemplateError, references


class LoginFailed(Exception):
    """The login flow did not pass: ``str()`` is the one line saying at which step and why (masked)."""


@dataclass(frozen=True)
class LoginSpec:
    """How one endpoint logs in: the flow, the optional header template, the smoke plan to run it."""

    flow: str
    auth_header: str | None
    smoke: SmokePlan
    key: str  # the config key that named the flow, for messages


@dataclass(frozen=True)
class Login:
    """A login flow's outcome, ready to authenticate requests."""

    flow: str
    session: FlowSession
    smoke: SmokePlan

    def headers_for(self, url: str, auth_header: str | None, *, what: str) -> tuple[tuple[tuple[str, str], ...], str]:
        """(header lines for ``url``, a masked description). PerfError when nothing would authenticate."""
        lines: list[tuple[str, str]] = []
        shown: list[str] = []
        cookies = self.session.cookies_for(url)
        if cookies:
            lines.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
            shown.append("cookies " + ", ".join(f"{k}={mask_secret(v)}" for k, v in cookies))
        if auth_header is not None:
            name, _, template = auth_header.partition(":")
            scope = Scope(variables=dict(self.session.variables), env=self.smoke.env)
            try:
                value = scope.text(template.strip())
            except TemplateError as exc:
                raise PerfError(f"{what} auth_header: {exc}") from None
            if not value.strip() or any(c in value for c in "\r\n\0"):
                raise PerfError(f"{what} auth_header: the rendered value is empty or has a line break")
            lines.append((name, value))
            shown.append(f"{name}: {mask_secret(value)}")
        if not lines:
            host = urlsplit(url).hostname or url
            raise PerfError(
                f"{what}: login flow '{self.flow}' left no cookie for {host} and there is no auth_header: "
                "nothing would authenticate the load (capture a token and set auth_header)"
            )
        return tuple(lines), f"login flow '{self.flow}': " + "; ".join(shown)


def _environment(config: Config) -> str:
    name = config.perf.environment or next(iter(config.environments), None)
    if name is None:
        raise PerfError("perf.login_flow: logging in needs an [environments.NAME] base_url for the flow")
    return name


def login_spec(config: Config, endpoint: PerfEndpoint, *, what: str, cache: dict[str, SmokePlan]) -> LoginSpec | None:
    """The endpoint's login (its own login_flow, else the table's, unless anonymous), checked before any request."""
    perf = config.perf
    if endpoint.anonymous:
        return None
    flow = endpoint.login_flow or perf.login_flow
    if flow is None:
        return None
    key = f"{what} login_flow" if endpoint.login_flow else "perf.login_flow"
    # The table's auth_header belongs to the table's flow; an endpoint with its own flow brings its own.
    header = endpoint.auth_header
    if header is None and (endpoint.login_flow is None or endpoint.login_flow == perf.login_flow):
        header = perf.auth_header
    smoke = cache.get(flow)
    if smoke is None:
        smoke = _smoke_plan(config, flow, key)
        cache[flow] = smoke
    if header is not None:
        _check_header(header, smoke, flow, f"{what} auth_header" if endpoint.auth_header else "perf.auth_header")
    return LoginSpec(flow, header, smoke, key)


def _smoke_plan(config: Config, flow: str, key: str) -> SmokePlan:
    if not config.smoke.files:
        raise PerfError(f'{key} = {flow!r}: no smoke flows declared (add [smoke] files = ["smoke/*.yaml"])')
    try:
        known = sorted(f.name for f in load_flow_files(find_flow_files(config.smoke.files)))
    except SmokeError as exc:
        raise PerfError(f"{key} = {flow!r}: {exc}") from None
    if flow not in known:
        raise PerfError(f"{key}: no smoke flow named {flow!r} (known: {', '.join(known) or 'none'})")
    try:
        return plan_smoke(config, _environment(config), flow_names=(flow,))
    except (PerfError, SmokeError, SecretsError) as exc:  # the environment, the plan, its env_file
        raise PerfError(f"{key} = {flow!r}: {exc}") from None


def _check_header(header: str, smoke: SmokePlan, flow_name: str, key: str) -> None:
    """Every ``${name}`` is a variable or capture of the flow, every ``${env:NAME}`` is set."""
    flow = next(f for f in smoke.flows if f.name == flow_name)
    names = {"base_url"} | {name for name, _, _ in flow.variables} | {c.name for s in flow.steps for c in s.captures}
    try:
        refs = list(references(header.partition(":")[2]))
    except TemplateError as exc:
        raise PerfError(f"{key}: {exc}") from None
    for ref in refs:
        if ref.kind == "env":
            if ref.name not in smoke.env:
                raise PerfError(f"{key}: ${{env:{ref.name}}} is not set in the environment")
            smoke.masker.add(smoke.env[ref.name])
        elif ref.kind == "var" and ref.name not in names:
            raise PerfError(
                f"{key}: ${{{ref.name}}} is not a variable or capture of flow '{flow_name}' (known: {', '.join(sorted(names))})"
            )


async def log_in(
    specs: Iterable[LoginSpec | None], net: NetSettings, *, dns: DnsLookup | None = None
) -> dict[str, Login]:
    """Run each distinct login flow once; LoginFailed (one line) when one does not pass."""
    logins: dict[str, Login] = {}
    for spec in specs:
        if spec is None or spec.flow in logins:
            continue
        session = await execute_session(spec.smoke, net, spec.flow, dns=dns)
        if not session.result.passed:
            raise LoginFailed(f"load not run: login flow '{spec.flow}' ({spec.key}) failed at {session.result.reason}")
        logins[spec.flow] = Login(spec.flow, session, spec.smoke)
    return logins
