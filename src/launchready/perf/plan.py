"""From the ``[perf]`` config to dialable endpoints, refusing every host the config does not declare.

The allow-list is the config itself: the domain, its subdomains, the environments' base_url
hosts and ``perf.allow_hosts``. Anything else is a usage error before a single packet is sent,
so nobody load-tests a third party (or a typo of their own domain) by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from launchready import __version__
from launchready.config.model import Config
from launchready.config.sections.perf import PerfEndpoint
from launchready.core.net import NetSettings
from launchready.core.protocols import DnsLookup
from launchready.perf.auth import Login, LoginSpec, login_spec
from launchready.perf.errors import PerfError
from launchready.perf.http1 import Endpoint, build_request
from launchready.probes.dial import dial_plan
from launchready.probes.dns import DnsProbe
from launchready.smoke.plan import SmokePlan

USER_AGENT = f"launchready-load/{__version__}"


@dataclass(frozen=True)
class PlannedEndpoint:
    name: str
    url: str
    method: str
    weight: int
    p95_ms: float
    error_rate: float
    login: LoginSpec | None = None  # a smoke flow logs in first; its session goes with every request


def declared_hosts(config: Config) -> frozenset[str]:
    hosts: set[str] = set(config.perf.allow_hosts)
    if config.domain:
        hosts.add(config.domain)
        for label in config.subdomains:
            hosts.add(
                label if label == config.domain or label.endswith("." + config.domain) else f"{label}.{config.domain}"
            )
    for env in config.environments.values():
        if env.base_url.host:
            hosts.add(env.base_url.host.lower().rstrip("."))
    return frozenset(hosts)


def require_declared(url: str, config: Config, *, what: str) -> None:
    """PerfError unless ``url`` is http(s) on a host the config declares."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise PerfError(f"{what}: {url!r} is not an http(s) URL")
    allowed = declared_hosts(config)
    if host not in allowed:
        known = ", ".join(sorted(allowed)) or "none"
        raise PerfError(
            f"{what}: refusing to load-test {host}: it is not declared in the config "
            f"(declared: {known}; add it to perf.allow_hosts if it is yours)"
        )


def base_url(config: Config) -> str | None:
    name = config.perf.environment
    if name is not None:
        env = config.environments.get(name)
        if env is None:
            raise PerfError(f"perf.environment: no environment named {name!r} in the config")
        return str(env.base_url).rstrip("/")
    for env in config.environments.values():
        return str(env.base_url).rstrip("/")
    return None


def endpoint_url(spec_path: str, config: Config, *, what: str) -> str:
    if spec_path.startswith("/"):
        base = base_url(config)
        if base is None:
            raise PerfError(f"{what}: path {spec_path!r} needs an [environments.NAME] base_url (or a full URL)")
        return base + spec_path
    return spec_path


def plan(config: Config, *, only: tuple[str, ...] = (), urls: tuple[str, ...] = ()) -> list[PlannedEndpoint]:
    """The endpoints to load: the config's (``only`` picks names) plus ad-hoc ``--url``s, all allow-listed."""
    budgets = config.budgets
    specs: list[PerfEndpoint] = list(config.perf.endpoints)
    known = {s.name for s in specs}
    missing = [n for n in only if n not in known]
    if missing:
        raise PerfError(
            f"--endpoint: no perf endpoint named {', '.join(missing)} (known: {', '.join(sorted(known)) or 'none'})"
        )
    if only:
        specs = [s for s in specs if s.name in only]
    elif urls:
        specs = []
    out: list[PlannedEndpoint] = []
    index_of = {s.name: i for i, s in enumerate(config.perf.endpoints)}
    smoke_plans: dict[str, SmokePlan] = {}
    for spec in specs:
        what = f"perf.endpoints[{index_of[spec.name]}] ({spec.name})"
        url = endpoint_url(spec.path, config, what=what)
        require_declared(url, config, what=what)
        out.append(
            PlannedEndpoint(
                spec.name,
                url,
                spec.method,
                spec.weight,
                spec.p95_ms if spec.p95_ms is not None else budgets.p95_ms,
                spec.error_rate if spec.error_rate is not None else budgets.error_rate,
                login_spec(config, spec, what=what, cache=smoke_plans),
            )
        )
    for url in urls:
        full = endpoint_url(url, config, what=f"--url {url}")
        require_declared(full, config, what=f"--url {url}")
        name = urlsplit(full).path or "/"
        # An ad-hoc URL logs in like the table says ([perf] login_flow), if it says so.
        adhoc = PerfEndpoint.model_construct(name=name, path=full)
        login = login_spec(config, adhoc, what=f"--url {url}", cache=smoke_plans)
        out.append(PlannedEndpoint(name, full, "GET", 1, budgets.p95_ms, budgets.error_rate, login))
    if not out:
        raise PerfError("no endpoints to load: declare [[perf.endpoints]] in launchready.toml or pass --url")
    return out


async def resolve(
    planned: list[PlannedEndpoint],
    net: NetSettings,
    logins: Mapping[str, Login] | None = None,
    *,
    dns: DnsLookup | None = None,
) -> list[Endpoint]:
    """Dial plans for every endpoint (--connect-to, else the run's DNS); PerfError when one has none.

    Endpoints with a login get its cookies (and auth_header) as extra request lines. ``dns`` is the
    run's resolver; without one (the load command) a resolver is opened for this call.
    """
    own: DnsProbe | None = None
    lookup: DnsLookup
    if dns is None:
        own = lookup = DnsProbe(net)
    else:
        lookup = dns
    try:
        out: list[Endpoint] = []
        for p in planned:
            parts = urlsplit(p.url)
            tls = parts.scheme == "https"
            host = (parts.hostname or "").lower().rstrip(".")
            port = parts.port or (443 if tls else 80)
            dial = await dial_plan(net, lookup, host, port)
            if not dial.endpoints:
                raise PerfError(f"{p.url}: cannot dial {host}: {dial.error}")
            path_qs = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            headers: tuple[tuple[str, str], ...] = ()
            auth: str | None = None
            if p.login is not None:
                login = (logins or {}).get(p.login.flow)
                if login is None:
                    raise PerfError(f"{p.name}: login flow '{p.login.flow}' has not run")
                headers, auth = login.headers_for(p.url, p.login.auth_header, what=p.name)
            request = build_request(p.method, host, port, tls, path_qs, USER_AGENT, headers)
            out.append(
                Endpoint(
                    p.name,
                    p.url,
                    host,
                    port,
                    tls,
                    p.method,
                    request,
                    dial.endpoints[0],
                    authenticated=p.login is not None,
                    auth=auth,
                )
            )
        return out
    finally:
        if own is not None:
            await own.close()
