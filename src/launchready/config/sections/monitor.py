"""``[monitor]``, ``[[monitor.checks]]`` and ``[[monitor.heartbeats]]``: what `launchready monitor` watches.

Conditions, cron expressions, durations and time zones are all validated here, at load time, so a
typo is a ``file:line`` error before the monitor starts, never a check that silently never fires.
The pure parsers live with the monitor (``launchready.monitor.checks.conditions``,
``launchready.monitor.cron``, ``launchready.monitor.durations``) and import nothing from config.

``alerts`` (``[[monitor.alerts]]``) and ``maintenance`` (``[[monitor.maintenance]]``) are the
alert providers' own section (``config/sections/monitor_alerts.py``).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from launchready.config.sections.monitor_alerts import Alerts, MaintenanceWindow
from launchready.config.strict import StrictModel
from launchready.monitor.checks.conditions import ConditionError, parse_condition
from launchready.monitor.cron import CronError, parse_cron
from launchready.monitor.durations import parse_duration

CheckKind = Literal["http", "tcp", "dns", "tls", "smoke"]

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
_FLOW_NAME = r"^[A-Za-z_][A-Za-z0-9_-]*$"
_TAG = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
_DNS_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "CAA", "SRV", "PTR", "SOA")
_ENV_REFERENCE = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
# Which placeholders each kind of check can observe.
_PLACEHOLDERS_BY_KIND: dict[str, frozenset[str]] = {
    "http": frozenset({"STATUS", "RESPONSE_TIME", "BODY", "CERTIFICATE_EXPIRATION", "CONNECTED"}),
    "tcp": frozenset({"CONNECTED", "RESPONSE_TIME"}),
    "tls": frozenset({"CONNECTED", "RESPONSE_TIME", "CERTIFICATE_EXPIRATION"}),
    "dns": frozenset({"RESPONSE_TIME"}),
    "smoke": frozenset({"RESPONSE_TIME"}),
}


def _duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '5m' or a number of seconds, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"expected a duration of at least 0, got {value!r}")
        return float(value)
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"expected a duration like '5m' or a number of seconds, got {type(value).__name__}")


def _host_port(value: str, what: str) -> tuple[str, int]:
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or parts.path or parts.query:
        raise ValueError(f"expected {what}://HOST:PORT, got {what}://{value}")
    return parts.hostname, port


def check_kind(url: str) -> CheckKind:
    """The kind of check a ``url`` declares; ValueError (one line) when it is not one we know."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or not rest:
        raise ValueError(f"expected http(s)://, tcp://HOST:PORT, dns://NAME/TYPE or tls://HOST:PORT, got {url!r}")
    if scheme in ("http", "https"):
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"expected a host in {url!r}")
        try:
            parts.port  # noqa: B018 - raises for a port that is not a number
        except ValueError:
            raise ValueError(f"bad port in {url!r}") from None
        return "http"
    if scheme in ("tcp", "tls"):
        _host_port(rest, scheme)
        return "tcp" if scheme == "tcp" else "tls"
    if scheme == "dns":
        dns_name(url)
        return "dns"
    raise ValueError(f"unknown scheme {scheme!r}: expected http, https, tcp, dns or tls")


def dns_name(url: str) -> tuple[str, str]:
    """``dns://NAME/TYPE`` -> (name, TYPE)."""
    rest = url.partition("://")[2]
    name, slash, rdtype = rest.partition("/")
    rdtype = rdtype.upper()
    if not slash or not name or rdtype not in _DNS_TYPES:
        raise ValueError(f"expected dns://NAME/TYPE with TYPE one of {', '.join(_DNS_TYPES)}, got {url!r}")
    return name.lower().rstrip("."), rdtype


def host_port(url: str) -> tuple[str, int]:
    """``tcp://HOST:PORT`` / ``tls://HOST:PORT`` -> (host, port)."""
    scheme, _, rest = url.partition("://")
    return _host_port(rest, scheme.lower())


class MonitorCheck(StrictModel):
    """One ``[[monitor.checks]]`` entry: a target measured every ``interval`` seconds."""

    name: str = Field(pattern=_NAME, description="Unique name, shown in alerts and on the dashboard.")
    url: str | None = Field(
        default=None, description="http(s)://..., tcp://HOST:PORT, dns://NAME/TYPE or tls://HOST:PORT."
    )
    smoke: str | None = Field(default=None, pattern=_FLOW_NAME, description="A smoke flow run as a synthetic check.")
    environment: str | None = Field(
        default=None, description="Environment whose base_url a smoke check runs against; default the first."
    )
    expect: tuple[str, ...] = Field(
        default=(), description="dns:// checks: the record values that must be served (all of them, in any order)."
    )
    interval: float = Field(default=60.0, ge=1, description="Seconds between runs, at least 1.")
    timeout: float | None = Field(
        default=None, gt=0, description="Seconds one run may take; default the smaller of 10 and interval."
    )
    conditions: tuple[str, ...] = Field(
        default=(), description='Gatus-style conditions, e.g. "[STATUS] == 200"; default "[STATUS] < 400" for http.'
    )
    failures_before_down: int = Field(default=2, ge=1, le=100, strict=True, description="Failed runs before down.")
    successes_before_up: int = Field(default=1, ge=1, le=100, strict=True, description="Passing runs before up.")
    tags: tuple[str, ...] = Field(default=(), description="Labels alerts can be routed by.")
    paused: bool = Field(default=False, strict=True, description="Declared but not run (state paused).")

    @field_validator("interval", "timeout", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        return None if value is None else _duration(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            check_kind(value)
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for tag in values:
            if not re.match(_TAG, tag):
                raise ValueError(f"expected a tag of letters, digits and _.:-, got {tag!r}")
        return tuple(dict.fromkeys(values))

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, values: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        name = info.data.get("name", "?")
        for text in values:
            try:
                parse_condition(text)
            except ConditionError as exc:
                raise ValueError(f"check {name!r}: {exc}") from None
        return values

    @model_validator(mode="after")
    def _target(self) -> MonitorCheck:
        if (self.url is None) == (self.smoke is None):
            raise ValueError(f"check {self.name!r}: expected exactly one of url or smoke")
        kind = self.kind
        if self.expect and kind != "dns":
            raise ValueError(f"check {self.name!r}: expect is for dns:// checks only")
        if self.environment is not None and kind != "smoke":
            raise ValueError(f"check {self.name!r}: environment is for smoke checks only")
        allowed = _PLACEHOLDERS_BY_KIND[kind]
        for text in self.conditions:
            placeholder = parse_condition(text).placeholder
            if placeholder not in allowed:
                raise ValueError(
                    f"check {self.name!r}: condition {text!r}: a {kind} check cannot observe [{placeholder}]"
                )
        return self

    @property
    def kind(self) -> CheckKind:
        return "smoke" if self.url is None else check_kind(self.url)

    @property
    def run_timeout(self) -> float:
        return self.timeout if self.timeout is not None else min(10.0, self.interval)

    @property
    def target(self) -> str:
        return self.url if self.url is not None else f"smoke:{self.smoke}"


class MonitorHeartbeat(StrictModel):
    """One ``[[monitor.heartbeats]]`` entry: a job that pings; late past period (or cron) + grace."""

    name: str = Field(pattern=_NAME, description="Unique name; also the ping URL's last part.")
    period: float | None = Field(default=None, gt=0, description="Expected seconds between pings (or '1h', '1d').")
    grace: float = Field(default=300.0, ge=0, description="Extra time before a late heartbeat is down.")
    cron: str | None = Field(default=None, description="When the job runs, as a five-field cron expression.")
    tz: str = Field(default="UTC", description="Time zone of the cron expression (IANA name).")
    uuid: str | None = Field(default=None, description="Fixed ping UUID; default one generated and kept in the store.")
    tags: tuple[str, ...] = Field(default=(), description="Labels alerts can be routed by.")

    @field_validator("period", "grace", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        return None if value is None else _duration(value)

    @field_validator("uuid")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError(f"expected a UUID like '0f8fad5b-d9cb-469f-a165-70867728950e', got {value!r}") from None

    @model_validator(mode="after")
    def _schedule(self) -> MonitorHeartbeat:
        if (self.period is None) == (self.cron is None):
            raise ValueError(f"heartbeat {self.name!r}: expected exactly one of period or cron")
        if self.cron is not None:
            try:
                parse_cron(self.cron, self.tz)
            except CronError as exc:
                raise ValueError(f"heartbeat {self.name!r}: {exc}") from None
        elif self.tz != "UTC":
            raise ValueError(f"heartbeat {self.name!r}: tz goes with cron, not with period")
        return self


def _listen(value: str) -> str:
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        valid_host = True
    except ValueError:
        valid_host = bool(re.match(r"^[A-Za-z0-9.-]+$", host))
    if not valid_host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT such as '127.0.0.1:8787', got {value!r}")
    return value


class MonitorConfig(StrictModel):
    listen: str = Field(default="127.0.0.1:8787", description="Where the dashboard and ping endpoints listen.")
    store: str | None = Field(
        default=None,
        description="sqlite:///PATH or postgresql://...; default .launchready/monitor.sqlite next to the config.",
    )
    ping_key: str | None = Field(
        default=None, description="Key in /ping/<ping_key>/<name> URLs, or ${env:NAME}; without it only UUID URLs."
    )
    metrics_public: bool = Field(default=False, strict=True, description="Serve /metrics without an API token.")
    status_page: bool = Field(default=False, strict=True, description="Serve a public status page (names, states).")
    slo: float = Field(default=0.995, gt=0, lt=1, description="Availability objective, 0..1.")
    checks: tuple[MonitorCheck, ...] = Field(default=(), description="What to check; none: derived from the config.")
    heartbeats: tuple[MonitorHeartbeat, ...] = Field(default=(), description="Jobs that ping the monitor.")
    alerts: Alerts = Field(default=(), description="Where state flips are sent.")
    maintenance: tuple[MaintenanceWindow, ...] = Field(default=(), description="When alerts are silenced.")

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        return _listen(value)

    @field_validator("store")
    @classmethod
    def _store(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = value.partition("://")[0].lower()
        if scheme not in ("sqlite", "postgresql", "postgresql+psycopg", "postgres"):
            raise ValueError(f"expected sqlite:///PATH or postgresql://..., got scheme {scheme!r}")
        return value

    @field_validator("ping_key")
    @classmethod
    def _ping_key(cls, value: str | None) -> str | None:
        if value is None or _ENV_REFERENCE.match(value):
            return value
        if not re.match(r"^[A-Za-z0-9_-]{8,64}$", value):
            raise ValueError("expected 8 to 64 letters, digits, _ or - (or ${env:NAME})")
        return value

    @model_validator(mode="after")
    def _unique(self) -> MonitorConfig:
        for what, names in (("check", [c.name for c in self.checks]), ("heartbeat", [h.name for h in self.heartbeats])):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"two {what}s are named {name!r}: names must be unique")
                seen.add(name)
        uuids = [h.uuid for h in self.heartbeats if h.uuid is not None]
        if len(uuids) != len(set(uuids)):
            raise ValueError("two heartbeats share one uuid")
        return self
