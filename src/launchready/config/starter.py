"""The commented launchready.toml that ``launchready init DOMAIN`` writes from what discovery found.

Discovered facts (hosts that resolve, DKIM selectors) are written as live values; what DNS
cannot tell (environments, approved senders, budgets, owners, redirects) is written as commented
examples so the file loads as-is and every key is one uncomment away. Renderer and loader are
tested together: whatever this writes must load and give back the discovered values.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from launchready.config.errors import ConfigError
from launchready.config.model import Budgets, Config, DkimSelector, HostLabel, Sender

if TYPE_CHECKING:
    from launchready.engine.context import SiteMap

_HOW_FOUND = {
    "apex": "the apex",
    "www": "www",
    "config": "from your config",
    "common-name": "common name",
    "mx": "MX host",
}


@dataclass(frozen=True)
class FoundHost:
    """A name that answered in DNS, and how discovery came to ask for it."""

    name: str
    found_by: str  # "apex", "www", "config", "common-name", "mx"
    addresses: tuple[str, ...] = ()
    cname_chain: tuple[str, ...] = ()  # names the CNAME chain led through, after ``name``


@dataclass(frozen=True)
class StarterFacts:
    """What discovery saw for the domain; everything the starter file can fill in."""

    hosts: tuple[FoundHost, ...] = ()
    mx_hosts: tuple[str, ...] = ()
    # SPF mechanisms naming senders, as written in the record: "include:_spf.google.com", "ip4:192.0.2.1".
    spf_terms: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()

    @classmethod
    def from_site_map(
        cls, site: SiteMap, *, spf_terms: Iterable[str] = (), dkim_selectors: Iterable[str] = ()
    ) -> StarterFacts:
        """Facts from a discovery run; hosts that neither resolve nor alias anything are left out."""
        hosts = tuple(
            FoundHost(h.name, h.found_by, h.addresses, h.cname_chain)
            for h in site.hosts
            if h.has_address or h.cname_chain
        )
        return cls(
            hosts=hosts, mx_hosts=site.mx_hosts, spf_terms=tuple(spf_terms), dkim_selectors=tuple(dkim_selectors)
        )


def render_starter(domain: str, discovered: StarterFacts) -> str:
    """A commented launchready.toml for ``domain`` that loads cleanly with load_config."""
    domain = _valid_domain(domain)
    labels = _subdomain_labels(domain, discovered.hosts)
    selectors = _valid(DkimSelector, discovered.dkim_selectors)
    senders = _valid(Sender, _approving_terms(discovered.spf_terms))
    defaults = Budgets()

    out = _Writer()
    out.comment(f"launchready.toml for {domain}, written by `launchready init` from what DNS showed.")
    out.comment("Lines starting with '#' are notes or examples: uncomment and edit what applies.")
    out.comment("Every key is described in docs/configuration.md. Try it with: launchready audit")
    out.blank()
    out.comment("The apex domain audited when `launchready audit` is run without one.")
    out.line(f"domain = {_toml_str(domain)}")
    out.blank()
    out.comment('Names under the domain to audit besides the apex: labels ("app") or full names')
    out.comment(f'("app.{domain}"). Unless discover = false under [audit], the audit also tries')
    out.comment("common names (app, api, admin, ...); names listed here are always checked.")
    if labels:
        out.comment("Found by discovery:")
        out.line("subdomains = [")
        for label, host in labels:
            out.line(f"    {_toml_str(label)},  # {_describe_host(host)}")
        out.line("]")
    else:
        out.comment("Discovery found no names besides the apex.")
        out.line("subdomains = []")
    out.blank()
    out.comment("Old URLs that must keep redirecting after launch. Either [[redirects]] tables (see the")
    out.comment("end of this file) or a CSV file beside this one with columns old,new[,status]:")
    out.comment('redirects = "redirects.csv"')
    out.blank()

    out.comment("Deployed copies of the product that environment checks visit (health, smoke, load).")
    out.comment("DNS cannot tell these: uncomment and set the real URLs.")
    out.line("[environments]")
    out.comment(f'production = {{ base_url = "https://{domain}", health_path = "/health" }}')
    out.comment(f'staging = {{ base_url = "https://staging.{domain}" }}')
    out.blank()

    out.line("[email]")
    if discovered.mx_hosts:
        out.comment(f"Mail for {domain} is received by (MX): {', '.join(discovered.mx_hosts)}")
    else:
        out.comment(f"No MX records found: set receives_mail = false if {domain} should not receive mail.")
    out.comment("receives_mail = true  # (default) false: nothing receives mail here, no MX expected")
    out.comment("sends_mail = true     # (default) false: the domain never sends mail as itself")
    out.comment(f"Who may send mail as {domain}: provider names (google, postmark, sendgrid, amazonses, ...),")
    out.comment("include:DOMAIN, ip4:ADDR or ip6:ADDR. Only you know who is approved.")
    if senders:
        out.comment("Your SPF record authorises today (uncomment to approve exactly these):")
        out.comment(f"senders = {_toml_array(senders)}")
    else:
        out.comment("No SPF include/ip terms found. Example:")
        out.comment('senders = ["google", "postmark"]')
    out.comment("DKIM selectors to check besides the common ones (google, selector1, k1, ...).")
    if selectors:
        out.comment("Found by discovery:")
        out.line(f"dkim_selectors = {_toml_array(selectors)}")
    else:
        out.comment("None found. Example:")
        out.comment('dkim_selectors = ["s1"]')
    out.blank()

    out.comment("Performance budgets the load and page checks hold the product to (defaults shown).")
    out.line("[budgets]")
    out.comment(f"p95_ms = {_num(defaults.p95_ms)}       # 95th percentile response time, milliseconds")
    out.comment(f"error_rate = {_num(defaults.error_rate)}  # share of failed requests allowed, 0 to 1")
    out.comment(f"lcp_ms = {_num(defaults.lcp_ms)}      # Largest Contentful Paint, milliseconds")
    out.blank()

    out.comment("Load, growth and page-load tests (`launchready load`, `launchready pageload`); defaults shown.")
    out.comment("The load generator only targets hosts declared in this file.")
    out.line("[perf]")
    out.comment(
        'endpoints = [{ name = "feed", path = "/feed", method = "GET", weight = 1, p95_ms = 300, error_rate = 0.01, '
        'login_flow = "login" }, { name = "home", path = "/", anonymous = true }]'
    )
    out.comment(
        'login_flow = "login"        # smoke flow run once before the load; its session cookies go with every request'
    )
    out.comment('auth_header = "Authorization: Bearer ${token}"  # optional, from the login flow\'s captures')
    out.comment('environment = "production"  # whose base_url the endpoint paths use (default: the first)')
    out.comment("allow_hosts = []            # more hosts of yours the load may target")
    out.comment("rate = 20                   # requests per second")
    out.comment("duration_s = 30             # measured seconds, after warmup_s")
    out.comment("warmup_s = 5")
    out.comment("max_rate = 500              # caps no run may exceed")
    out.comment("max_duration_s = 300")
    out.comment("connections = 64")
    out.comment("in_audit = false            # also run a short load and growth test in `launchready audit`")
    out.comment('pageload = "auto"           # mobile page load in audits: auto (when Chromium is installed), on, off')
    out.comment('pageload_paths = ["/"]')
    out.comment("Growth test: the seed command runs at each size; p95 may grow at most max_factor.")
    out.comment(
        'growth = { seed = "python manage.py seed_members --count {n}", sizes = [100, 500], endpoints = ["feed"], '
        "max_factor = 1.5, rate = 10, duration_s = 5 }"
    )
    out.blank()

    out.comment("The same-site crawl behind the link, mixed-content, header and caching checks (defaults shown).")
    out.comment("It sends only GET, never leaves the domain and never submits forms.")
    out.line("[web]")
    out.comment('key_pages = ["/pricing", "/signup"]  # crawled besides the home page, on every host')
    out.comment("crawl_max_pages = 200  # requests per host")
    out.comment("crawl_depth = 3        # link levels from the start pages")
    out.comment("crawl_rate = 10.0      # requests per second, at most")
    out.comment(
        'admin_paths = ["/admin", "/admin/", "/wp-admin/", "/dashboard/admin"]  # must not open without sign-in'
    )
    out.blank()

    out.comment("How the audit runs (defaults shown).")
    out.line("[audit]")
    out.comment('fail_on = "blocker"  # exit 1 at or above: blocker, high, medium, low, info')
    out.comment("discover = true      # try the built-in list of common subdomain names")
    out.comment('skip = []            # check ids or id prefixes not to run, e.g. ["web.hsts"]')
    out.comment('only = []            # run only these, e.g. ["email", "dns"]; see `launchready checks`')
    out.blank()

    out.comment("Secrets in the repository and the environment contract (docs/secrets.md); defaults shown.")
    out.line("[secrets]")
    out.comment('repo = "."              # the repository the audit scans (default: --repo, else this checkout)')
    out.comment("history = true          # scan the full git history too (audit --no-git-history: tree only)")
    out.comment('allow_paths = []        # globs never reported, e.g. ["tests/fixtures/**"]')
    out.comment("allow_regexes = []      # values matching these are not secrets")
    out.comment("allow_values = []       # exact values that are not secrets")
    out.comment('baseline = ".launchready/secrets-baseline.json"  # accepted findings (secrets scan --update-baseline)')
    out.comment("max_file_mb = 8         # larger files are skipped with a note")
    out.comment(
        'env = { example = ".env.example", optional = [], required = { production = [] }, '
        'flows = { signup = ["DATABASE_URL"], email = ["POSTMARK_TOKEN"] }, sources = { production = "deploy/production.env" } }'
    )
    out.blank()

    out.comment("Smoke flows of real user journeys (docs/smoke.md): `launchready smoke`, `launchready deploy`.")
    out.line("[smoke]")
    out.comment('files = ["smoke/*.yaml"]  # flow files, relative to this file')
    out.comment('env_file = ".env.smoke"   # NAME=VALUE secrets for ${env:NAME}; the environment wins')
    out.comment("flow_timeout = 60         # seconds per flow")
    out.comment("concurrency = 4           # flows at once")
    out.comment("Where email steps read mail: Mailpit's API (kind, url) or IMAP (the other keys).")
    out.comment("[smoke.mailbox]")
    out.comment('kind = "imap"')
    out.comment('url = "http://127.0.0.1:8025"  # for kind = "mailpit"')
    out.comment(f'host = "imap.{domain}"')
    out.comment("port = 993")
    out.comment("tls = true")
    out.comment('username = "${env:SMOKE_IMAP_USER}"')
    out.comment('password = "${env:SMOKE_IMAP_PASSWORD}"')
    out.comment('folder = "INBOX"')
    out.comment("poll_seconds = 1")
    out.comment("Deploy and rollback commands per environment (run without a shell).")
    out.comment("[smoke.deploy.production]")
    out.comment('command = "./deploy.sh"')
    out.comment('rollback = "./rollback.sh"')
    out.comment('rollback_check = "./rollback.sh --dry-run"')
    out.comment("health_timeout = 120")
    out.comment("Who hears about deploys: slack, webhook (signed with secret) or email.")
    out.comment("[[smoke.notify]]")
    out.comment('kind = "email"')
    out.comment('url = "${env:SLACK_WEBHOOK_URL}"  # for slack and webhook')
    out.comment('secret = "${env:DEPLOY_HOOK_SECRET}"  # for webhook')
    out.comment(f'smtp = "smtp.{domain}:587"')
    out.comment(f'sender = "deploys@{domain}"')
    out.comment(f'to = ["team@{domain}"]')
    out.comment("starttls = true")
    out.comment('username = "${env:SMTP_USER}"')
    out.comment('password = "${env:SMTP_PASSWORD}"')
    out.blank()

    out.comment("After launch, `launchready monitor` watches the product (docs/configuration.md). Without")
    out.comment("checks it derives them: each environment's health route, TLS expiry, MX/SPF/DMARC records.")
    out.comment("[monitor]")
    out.comment('listen = "127.0.0.1:8787"     # dashboard, ping and API endpoints')
    out.comment('store = "sqlite:///.launchready/monitor.sqlite"  # or postgresql://user@host/db')
    out.comment('ping_key = "${env:MONITOR_PING_KEY}"  # for /ping/<ping_key>/<name> URLs')
    out.comment("metrics_public = false        # /metrics without an API token")
    out.comment("status_page = false           # a public page with check names and states")
    out.comment("slo = 0.995                   # availability objective")
    out.comment("alerts = []                   # or [[monitor.alerts]] tables: where state flips are sent")
    out.comment("[[monitor.checks]]")
    out.comment('name = "home"')
    out.comment(f'url = "https://{domain}/health"  # or tcp://HOST:PORT, dns://NAME/TYPE, tls://HOST:PORT')
    out.comment('interval = 60                 # seconds (or "30s", "5m")')
    out.comment("timeout = 10")
    out.comment('conditions = ["[STATUS] == 200", "[RESPONSE_TIME] < 300", "[BODY].status == ok"]')
    out.comment("failures_before_down = 2")
    out.comment("successes_before_up = 1")
    out.comment('tags = ["web"]')
    out.comment("paused = false")
    out.comment("[[monitor.checks]]")
    out.comment('name = "mx"')
    out.comment(f'url = "dns://{domain}/MX"')
    out.comment(f'expect = ["10 mx1.{domain}."]  # values that must stay served')
    out.comment("[[monitor.checks]]")
    out.comment('name = "signup"')
    out.comment('smoke = "signup"              # a smoke flow as a synthetic check')
    out.comment('environment = "production"')
    out.comment("Jobs that ping the monitor; `launchready monitor heartbeats` prints their crontab lines.")
    out.comment("[[monitor.heartbeats]]")
    out.comment('name = "backup"')
    out.comment('period = "1d"')
    out.comment('grace = "1h"')
    out.comment('uuid = "0f8fad5b-d9cb-469f-a165-70867728950e"  # optional: a fixed /ping/<uuid>')
    out.comment("[[monitor.heartbeats]]")
    out.comment('name = "nightly"')
    out.comment('cron = "30 2 * * *"')
    out.comment('tz = "Europe/Paris"')
    out.blank()

    out.comment("Who owns what, printed in the report so each fix reaches the right person.")
    out.line("[owners]")
    out.comment(f'dns = "Ana <ana@{domain}>"')
    out.comment(f'email = "Ana <ana@{domain}>"')
    out.comment(f'deploys = "Ben <ben@{domain}>"')
    out.comment(f'on-call = "Ben <ben@{domain}>"')
    out.blank()

    out.comment("Redirects, one table each (or the CSV form near the top of this file):")
    out.comment("[[redirects]]")
    out.comment('old = "/pricing.html"')
    out.comment('new = "/pricing"')
    out.comment("status = 301")
    return out.text()


def write_starter(path: Path, text: str, *, force: bool) -> Path:
    """Write ``text`` to ``path``; an existing file is kept unless ``force``.

    Raises ConfigError (exit code 2) when the file exists, or cannot be written.
    """
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a file name")
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: no such directory {str(path.parent)!r}")
    try:
        if not force:
            # "x" refuses atomically, so a file created after any check is not overwritten either.
            with path.open("x", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            return path
        # Replace in one step: an interrupted --force never leaves half a config behind.
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except FileExistsError:
        raise ConfigError(f"{path}: already exists; use --force to overwrite it") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path


class _Writer:
    def __init__(self) -> None:
        self._lines: list[str] = []

    def line(self, text: str) -> None:
        self._lines.append(_single_line(text))

    def comment(self, text: str) -> None:
        self._lines.append("# " + _single_line(text))

    def blank(self) -> None:
        self._lines.append("")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _single_line(text: str) -> str:
    # Discovered values end up in comments; a newline in one would turn the rest into TOML.
    return " ".join(text.splitlines())


def _valid_domain(domain: str) -> str:
    try:
        normalised = Config(domain=domain).domain
    except ValidationError:
        raise ConfigError(f"expected a domain name like 'example.com', got {domain!r}") from None
    assert normalised is not None
    return normalised


def _valid(kind: Any, values: Iterable[str]) -> tuple[str, ...]:
    """The values the model accepts, normalised, first occurrence kept."""
    adapter: TypeAdapter[str] = TypeAdapter(kind)
    out: dict[str, None] = {}
    for value in values:
        try:
            out[adapter.validate_python(value)] = None
        except ValidationError:
            continue  # the model would reject it, and the file must load
    return tuple(out)


def _approving_terms(terms: Iterable[str]) -> Iterator[str]:
    """SPF terms that let someone send: mechanisms with a pass qualifier, never 'all' or modifiers."""
    for term in terms:
        term = term.strip().removeprefix("+")
        if not term or term[0] in "-~?" or "=" in term or term.lower() == "all":
            continue
        yield term


def _subdomain_labels(domain: str, hosts: Iterable[FoundHost]) -> list[tuple[str, FoundHost]]:
    adapter: TypeAdapter[str] = TypeAdapter(HostLabel)
    suffix = "." + domain
    seen: set[str] = set()
    out: list[tuple[str, FoundHost]] = []
    for host in hosts:
        name = host.name.lower().rstrip(".")
        # MX hosts are listed under [email]; hosts outside the domain are not ours to audit.
        if host.found_by == "mx" or not name.endswith(suffix):
            continue
        try:
            label = adapter.validate_python(name[: -len(suffix)])
        except ValidationError:
            continue
        if label not in seen:
            seen.add(label)
            out.append((label, host))
    return out


def _describe_host(host: FoundHost) -> str:
    parts = [_HOW_FOUND.get(host.found_by, host.found_by)]
    if host.cname_chain:
        parts.append("alias of " + host.cname_chain[-1])
    if host.addresses:
        shown = ", ".join(host.addresses[:3])
        more = len(host.addresses) - 3
        parts.append(shown + (f" (+{more} more)" if more > 0 else ""))
    return "; ".join(parts)


def _toml_str(value: str) -> str:
    escaped = []
    for ch in value:
        if ch == "\\":
            escaped.append("\\\\")
        elif ch == '"':
            escaped.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            escaped.append(f"\\u{ord(ch):04x}")
        else:
            escaped.append(ch)
    return '"' + "".join(escaped) + '"'


def _toml_array(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
