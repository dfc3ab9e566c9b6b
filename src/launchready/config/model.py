"""What a launchready.toml (or [tool.launchready] in pyproject.toml) may contain.

Every model forbids unknown keys so a typo is an error that names the key, not a silent no-op.
Scalars are strict (a TOML string where a number belongs is an error, never coerced), and every
validator message reads "expected X, got Y" because the loader prints it after "file:line: key:".
docs/configuration.md documents each key; keep the two in step.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, HttpUrl, field_validator
from pydantic.fields import FieldInfo

from launchready.config.sections.monitor import MonitorConfig
from launchready.config.sections.owners import OwnerEntry
from launchready.config.sections.perf import PerfConfig
from launchready.config.sections.secrets import SecretsConfig
from launchready.config.sections.smoke import SmokeSettings
from launchready.config.sections.web import WebConfig
from launchready.config.strict import StrictModel
from launchready.core.finding import FINDING_ID_PATTERN
from launchready.core.severity import Severity

_HOST_LABEL = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
# SPF include targets and DKIM selectors are DNS names that may carry underscores (_spf.google.com).
_DNS_NAME = r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$"
_PROVIDER = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# A check id or an id prefix: "email", "email.spf", "email.spf.too-many-lookups".
_CHECK_ID_PREFIX = r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$"


def _normalise_host(value: str) -> str:
    return value.strip().lower().rstrip(".")


def _host_label(value: str) -> str:
    host = _normalise_host(value)
    if not re.match(_HOST_LABEL, host):
        raise ValueError(f"expected a host name label like 'app' or 'app.example.com', got {value!r}")
    return host


def _dkim_selector(value: str) -> str:
    selector = _normalise_host(value)
    if not re.match(_DNS_NAME, selector):
        raise ValueError(f"expected a DKIM selector like 'google' or 's1', got {value!r}")
    return selector


def _sender(value: str) -> str:
    kind, sep, rest = value.strip().partition(":")
    kind = kind.lower()
    expected = "expected a provider name (google, postmark, ...), include:DOMAIN, ip4:ADDR, ip6:ADDR, a or mx"
    if not sep:
        if re.match(_PROVIDER, kind):
            return kind
        raise ValueError(f"{expected}, got {value!r}")
    if kind in ("include", "a", "mx") and re.match(_DNS_NAME, _normalise_host(rest)):
        return f"{kind}:{_normalise_host(rest)}"
    if kind in ("ip4", "ip6"):
        network = ipaddress.IPv4Network if kind == "ip4" else ipaddress.IPv6Network
        try:
            network(rest, strict=False)
        except ValueError:
            raise ValueError(
                f"expected an {'IPv4' if kind == 'ip4' else 'IPv6'} address or network, got {value!r}"
            ) from None
        return f"{kind}:{rest.lower()}"
    raise ValueError(f"{expected}, got {value!r}")


def _check_id_prefix(value: str) -> str:
    if not re.match(_CHECK_ID_PREFIX, value):
        raise ValueError(f"expected a check id or id prefix like 'email.spf', got {value!r}")
    return value


def _redirect_ref(value: str) -> str:
    if value.startswith("/") or re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
        return value
    raise ValueError(f"expected a path starting with '/' or an http(s) URL, got {value!r}")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a non-empty string, got ''")
    return value


HostLabel = Annotated[str, AfterValidator(_host_label)]
DkimSelector = Annotated[str, AfterValidator(_dkim_selector)]
Sender = Annotated[str, AfterValidator(_sender)]
CheckIdPrefix = Annotated[str, AfterValidator(_check_id_prefix)]
RedirectRef = Annotated[str, AfterValidator(_redirect_ref)]
NonBlank = Annotated[str, AfterValidator(_not_blank)]


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


# Marks fields the loader fills in; written in a file they are rejected like unknown keys.
_SET_BY_LOADER: dict[str, Any] = {"set_by_loader": True}


def set_by_loader(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get("set_by_loader") is True


class Environment(StrictModel):
    """A deployed copy of the product (production, staging, ...) that environment checks visit."""

    base_url: HttpUrl = Field(description="Where this environment is served, e.g. https://example.com.")
    health_path: str = Field(default="/health", description="Path that answers 200 when the app is healthy.")

    @field_validator("health_path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"expected a path starting with '/', got {value!r}")
        return value


class EmailConfig(StrictModel):
    # Who sends mail as the domain: provider names (google, postmark, sendgrid, amazonses, ...),
    # "include:DOMAIN", "ip4:ADDR"/"ip6:ADDR", or SPF's "a"/"mx" (optionally ":DOMAIN").
    senders: tuple[Sender, ...] = Field(default=(), description="Approved senders of mail as the domain.")
    dkim_selectors: tuple[DkimSelector, ...] = Field(
        default=(), description="DKIM selectors to check besides the common ones."
    )
    sends_mail: bool = Field(default=True, strict=True, description="The domain sends mail (SPF, DKIM, DMARC).")
    receives_mail: bool = Field(default=True, strict=True, description="The domain receives mail (MX).")
    test: bool = Field(
        default=False,
        strict=True,
        description="The audit runs the mail-triggering smoke flows and judges each message (`email test`).",
    )
    delivery_s: float = Field(
        default=60.0, gt=0, strict=True, description="Seconds a message may take from the request to the mailbox."
    )
    wait_s: float | None = Field(
        default=None,
        gt=0,
        strict=True,
        description="Seconds to wait for a message before it counts as not delivered (default: twice delivery_s).",
    )

    @property
    def mail_wait_s(self) -> float:
        return self.wait_s if self.wait_s is not None else 2 * self.delivery_s

    @field_validator("senders", "dkim_selectors")
    @classmethod
    def _dedupe(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(values)


class Budgets(StrictModel):
    p95_ms: float = Field(default=300.0, gt=0, strict=True, description="95th percentile response time, ms.")
    error_rate: float = Field(default=0.01, ge=0, le=1, strict=True, description="Share of failed requests, 0..1.")
    lcp_ms: float = Field(default=2000.0, gt=0, strict=True, description="Largest Contentful Paint, ms.")


class AcceptedFinding(StrictModel):
    """One finding accepted for now; after ``until`` it is reported as open again."""

    finding: str = Field(description="id@target, as reports print it (e.g. web.hsts.missing@www.example.com).")
    reason: NonBlank = Field(description="Why it is acceptable for now.")
    by: NonBlank = Field(description="Who accepted it.")
    until: date = Field(description="Last day the acceptance holds (YYYY-MM-DD).")

    @field_validator("finding")
    @classmethod
    def _fingerprint(cls, value: str) -> str:
        finding_id, at, target = value.partition("@")
        if not at or not target.strip() or not re.match(FINDING_ID_PATTERN, finding_id):
            raise ValueError(f"expected id@target like 'web.hsts.missing@www.example.com', got {value!r}")
        return value


class AuditSettings(StrictModel):
    fail_on: Severity = Field(
        default=Severity.BLOCKER, description="Exit 1 when a finding is at or above this severity."
    )
    # Check ids (or id prefixes) to skip or to run exclusively.
    skip: tuple[CheckIdPrefix, ...] = Field(default=(), description="Check ids or id prefixes not to run.")
    only: tuple[CheckIdPrefix, ...] = Field(default=(), description="Run only these check ids or id prefixes.")
    discover: bool = Field(default=True, strict=True, description="Probe the built-in list of common subdomains.")
    accept: tuple[AcceptedFinding, ...] = Field(
        default=(), description="Findings accepted for now ([[audit.accept]]): shown as accepted, not counted."
    )
    not_applicable: tuple[CheckIdPrefix, ...] = Field(
        default=(),
        description="Check ids that do not apply to this product (e.g. app.smoke for a site without sign-up): "
        "skipped without counting as not verified.",
    )


class RedirectEntry(StrictModel):
    old: RedirectRef = Field(description="Path (or URL) that must keep working after launch.")
    new: RedirectRef = Field(description="Where it must redirect to.")
    status: int = Field(default=301, ge=300, le=399, strict=True, description="Expected redirect status.")
    # Where the entry is written ("launchready.toml:14", "redirects.csv:3") so findings can point
    # at it. The loader fills it in; it is not a key users write.
    source: str | None = Field(default=None, description="file:line of the entry.", json_schema_extra=_SET_BY_LOADER)


class NetConfig(StrictModel):
    """The network flags kept in the file, so a plain `launchready audit` reaches what `init` reached.

    A flag given on the command line replaces the matching key (the file is the default)."""

    nameservers: tuple[str, ...] = Field(default=(), description="Like --nameserver: HOST or HOST:PORT, in order.")
    ca_bundle: str | None = Field(default=None, description="Like --ca-bundle: a PEM file (relative to this file).")
    connect_to: tuple[str, ...] = Field(default=(), description="Like --connect-to: HOST:PORT:ADDR:PORT routes.")
    rdap_server: str | None = Field(default=None, description="Like --rdap-server: the RDAP base URL to ask.")


class Config(StrictModel):
    domain: str | None = Field(default=None, description="The apex domain audited when none is given.")
    # Extra subdomain labels (e.g. "app", "members") or full host names under the domain.
    subdomains: tuple[HostLabel, ...] = Field(default=(), description="Extra names under the domain to audit.")
    environments: dict[str, Environment] = Field(default={}, description="Deployed environments by name.")
    email: EmailConfig = EmailConfig()
    budgets: Budgets = Budgets()
    perf: PerfConfig = PerfConfig()
    audit: AuditSettings = AuditSettings()
    net: NetConfig = Field(default=NetConfig(), description="Nameservers, CA bundle and routes, as the flags.")
    # In the file either [[redirects]] tables or the name of a CSV file; the loader turns the CSV
    # into entries, so here it is always the entries.
    redirects: tuple[RedirectEntry, ...] = Field(default=(), description="Old URLs that must redirect.")
    # The CSV file (absolute) the redirects were read from; set by the loader, not written by users.
    redirects_file: Path | None = Field(
        default=None, description="CSV the redirects came from.", json_schema_extra=_SET_BY_LOADER
    )
    # Who holds which account (registrar, dns, hosting, email, payments, errors, monitoring, or a
    # provider's name): a name, or a table with a name and a role. Never a credential.
    owners: dict[str, OwnerEntry] = Field(
        default={}, description="Who holds each account (a name and a role; never a credential)."
    )
    secrets: SecretsConfig = Field(
        default=SecretsConfig(), description="Repository secret scan and environment contract."
    )
    web: WebConfig = Field(default=WebConfig(), description="Crawl bounds, key pages, admin paths.")
    smoke: SmokeSettings = Field(default=SmokeSettings(), description="Smoke flows, deploy gate, notifications.")
    # None when the file has no [monitor] table (`launchready deploy` records markers only with one).
    monitor: MonitorConfig | None = Field(default=None, description="Uptime checks, heartbeats and alerts.")

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host = _normalise_host(value)
        if "." not in host or not re.match(_HOST_LABEL, host):
            raise ValueError(f"expected a domain name like 'example.com', got {value!r}")
        return host

    @field_validator("subdomains")
    @classmethod
    def _dedupe(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(values)
