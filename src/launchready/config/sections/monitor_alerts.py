"""``[[monitor.alerts]]`` (who hears about state flips) and ``[[monitor.maintenance]]`` (when not).

The ``[monitor]`` model holds ``alerts: Alerts`` and ``maintenance: tuple[MaintenanceWindow, ...]``
from here. docs/configuration.md documents every key.

Secrets (a webhook's ``secret``, the SMTP ``password`` and the whole Slack URL, which is itself a
credential) are accepted only as ``${env:NAME}``: a literal value is an error naming the field, and
the message never repeats the value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from launchready.config.sections.smoke import ENV_REFERENCE
from launchready.config.strict import StrictModel

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_HTTP_URL = re.compile(r"^https?://[^/\s]+", re.I)
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:[^/@\s]+@", re.I)
_HOST = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.:-]+)$")

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _env_only(value: str | None) -> str | None:
    if value is not None and not ENV_REFERENCE.match(value):
        raise ValueError("expected a reference to an environment variable like '${env:NAME}', not the secret itself")
    return value


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not value.strip():
            raise ValueError("expected non-empty names, got ''")
    return tuple(dict.fromkeys(values))


class AlertConfig(StrictModel):
    """One ``[[monitor.alerts]]`` entry: a provider and which subjects it hears about."""

    # ``from`` is a Python keyword, so the field is ``sender`` with the TOML key ``from`` as its
    # alias; ``sender`` (the key ``[[smoke.notify]]`` uses) is accepted as well.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str | None = Field(default=None, description="Name in the outbox and the UI; default KIND-N (slack-1).")
    kind: Literal["slack", "webhook", "email"] = Field(description="slack, webhook or email.")
    url: str | None = Field(
        default=None, description="slack: ${env:NAME} holding the incoming-webhook URL; webhook: the URL to POST to."
    )
    secret: str | None = Field(default=None, description="webhook: HMAC-SHA256 signing secret as ${env:NAME}.")
    host: str | None = Field(default=None, description="email: the SMTP server's host name.")
    port: int = Field(default=587, ge=1, le=65535, strict=True, description="email: the SMTP port.")
    starttls: bool = Field(default=True, strict=True, description="email: upgrade with STARTTLS (required by default).")
    username: str | None = Field(default=None, description="email: SMTP user, or ${env:NAME}.")
    password: str | None = Field(default=None, description="email: SMTP password as ${env:NAME}.")
    sender: str | None = Field(default=None, alias="from", description="email: the From address.")
    to: tuple[str, ...] = Field(default=(), description="email: recipients.")
    checks: tuple[str, ...] = Field(default=(), description="Route only these checks/heartbeats (by name).")
    tags: tuple[str, ...] = Field(default=(), description="Route only checks carrying one of these tags.")
    recovery: bool = Field(default=True, strict=True, description="Also send a notice when the subject recovers.")
    reminder_every: float | None = Field(
        default=None, ge=1, strict=False, description="Seconds between reminders while down; default none."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"expected a name of letters, digits, '.', '_' or '-', got {value[:40]!r}")
        return value

    @field_validator("secret", "password")
    @classmethod
    def _secrets_from_env(cls, value: str | None) -> str | None:
        return _env_only(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or ENV_REFERENCE.match(value):
            return value
        if info.data.get("kind") == "slack":
            # The webhook URL is the credential: whoever reads the config could post.
            raise ValueError("expected ${env:NAME} for a Slack webhook: the URL itself is a secret")
        if _URL_PASSWORD.match(value):
            raise ValueError("expected no password in the URL: put the whole URL in ${env:NAME}")
        if not _HTTP_URL.match(value):
            raise ValueError(f"expected an http(s) URL or ${{env:NAME}}, got {value[:12]!r}…")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not _HOST.match(value):
            raise ValueError(f"expected a host name or IP address, got {value[:40]!r}")
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"expected an e-mail address, got {value[:40]!r}")
        return value

    @field_validator("to")
    @classmethod
    def _recipients(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _EMAIL.match(value):
                raise ValueError(f"expected e-mail addresses, got {value[:40]!r}")
        return values

    @field_validator("checks", "tags")
    @classmethod
    def _routing(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _names(values)

    @model_validator(mode="after")
    def _complete(self) -> AlertConfig:
        if self.kind == "slack":
            if self.url is None:
                raise ValueError('expected url = "${env:NAME}" holding the Slack incoming-webhook URL')
        if self.kind == "webhook" and self.url is None:
            raise ValueError('expected url = "https://..." for a webhook alert')
        if self.kind == "email" and (self.host is None or self.sender is None or not self.to):
            raise ValueError("expected host, from and to for an email alert")
        if self.kind != "email":
            stray = [f for f in ("host", "username", "password", "sender", "to") if f in self.model_fields_set]
            if stray:
                shown = ["from" if f == "sender" else f for f in stray]
                raise ValueError(f"{', '.join(shown)}: only email alerts take SMTP settings")
        if self.kind != "webhook" and self.secret is not None:
            raise ValueError("secret: only webhook alerts are signed")
        return self

    @property
    def routes_everything(self) -> bool:
        return not self.checks and not self.tags

    def routes(self, subject_name: str, tags: tuple[str, ...] | list[str] = ()) -> bool:
        """Whether this entry hears about ``subject_name`` (a check, heartbeat or SLO named after its check)."""
        if self.routes_everything:
            return True
        return subject_name in self.checks or any(tag in self.tags for tag in tags)


def _named_alerts(alerts: tuple[AlertConfig, ...]) -> tuple[AlertConfig, ...]:
    """Give unnamed entries ``KIND-N`` (N counts that kind, from 1) and reject duplicate names."""
    named: list[AlertConfig] = []
    counts: dict[str, int] = {}
    seen: set[str] = set()
    for alert in alerts:
        counts[alert.kind] = counts.get(alert.kind, 0) + 1
        name = alert.name or f"{alert.kind}-{counts[alert.kind]}"
        if name in seen:
            raise ValueError(f"expected unique alert names, got {name!r} twice (set name = ... on one of them)")
        seen.add(name)
        named.append(alert if alert.name else alert.model_copy(update={"name": name}))
    return tuple(named)


# The type of ``[monitor].alerts``: every entry named after validation.
Alerts = Annotated[tuple[AlertConfig, ...], AfterValidator(_named_alerts)]


def name_alerts(alerts: tuple[AlertConfig, ...] | list[AlertConfig]) -> tuple[AlertConfig, ...]:
    """Every entry named (``KIND-N`` for unnamed ones); idempotent. Raises ValueError on a duplicate."""
    return _named_alerts(tuple(alerts))


def alert_name(alert: AlertConfig) -> str:
    """The entry's name (set by :data:`Alerts` validation or :func:`name_alerts`)."""
    return alert.name or f"{alert.kind}-1"


class MaintenanceWindow(StrictModel):
    """``[[monitor.maintenance]]``: a time when flips are recorded but alerts are silenced.

    Either a one-off window (``start`` and ``end``, TOML date-times with an offset) or a weekly
    one (``days``, ``at`` as "HH:MM", ``duration`` seconds, in ``tz``). ``checks``/``tags``
    limit it to some subjects; none means everything.
    """

    name: str | None = Field(default=None, description="Shown in the UI next to silenced alerts.")
    start: datetime | None = Field(default=None, description="One-off window: start, with an offset.")
    end: datetime | None = Field(default=None, description="One-off window: end, with an offset.")
    days: tuple[Weekday, ...] = Field(default=(), description="Weekly window: days (mon .. sun); none = every day.")
    at: str | None = Field(default=None, description='Weekly window: local start time, "HH:MM".')
    duration: float | None = Field(default=None, gt=0, le=7 * 86400, strict=False, description="Weekly: seconds.")
    tz: str = Field(default="UTC", description="Weekly window: IANA time zone, e.g. Europe/Berlin.")
    checks: tuple[str, ...] = Field(default=(), description="Only these checks/heartbeats (by name).")
    tags: tuple[str, ...] = Field(default=(), description="Only checks carrying one of these tags.")

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expected a date-time with an offset, like 2026-12-01T02:00:00Z")
        return value

    @field_validator("at")
    @classmethod
    def _at(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = re.match(r"^([01]\d|2[0-3]):([0-5]\d)$", value)
        if match is None:
            raise ValueError(f'expected a time of day like "02:30", got {value[:12]!r}')
        return value

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone like 'Europe/Berlin', got {value[:40]!r}") from None
        return value

    @field_validator("checks", "tags")
    @classmethod
    def _scope(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _names(values)

    @model_validator(mode="after")
    def _one_form(self) -> MaintenanceWindow:
        one_off = self.start is not None or self.end is not None
        weekly = self.at is not None or self.duration is not None or bool(self.days)
        if one_off and weekly:
            raise ValueError("expected either start/end or days/at/duration, not both")
        if one_off:
            if self.start is None or self.end is None:
                raise ValueError("expected both start and end")
            if self.end <= self.start:
                raise ValueError("end: expected a time after start")
        elif self.at is None or self.duration is None:
            raise ValueError('expected start and end, or at = "HH:MM" and duration (seconds) for a weekly window')
        return self

    def covers(self, subject_name: str, tags: tuple[str, ...] | list[str] = ()) -> bool:
        if not self.checks and not self.tags:
            return True
        return subject_name in self.checks or any(tag in self.tags for tag in tags)

    def active(self, at: float) -> bool:
        """Whether the epoch time ``at`` falls inside the window."""
        if self.start is not None and self.end is not None:
            return self.start.timestamp() <= at < self.end.timestamp()
        assert self.at is not None and self.duration is not None
        zone = ZoneInfo(self.tz)
        local = datetime.fromtimestamp(at, UTC).astimezone(zone)
        hour, minute = (int(part) for part in self.at.split(":"))
        days = set(self.days or WEEKDAYS)
        # A window may have started on an earlier day and still be running (duration up to 7 days).
        for back in range(0, 8):
            day = local.date() - timedelta(days=back)
            if WEEKDAYS[day.weekday()] not in days:
                continue
            begins = datetime.combine(day, clock_time(hour, minute), tzinfo=zone).timestamp()
            if begins <= at < begins + self.duration:
                return True
        return False


def silencing_window(
    windows: tuple[MaintenanceWindow, ...] | list[MaintenanceWindow],
    subject_name: str,
    tags: tuple[str, ...] | list[str],
    at: float,
) -> MaintenanceWindow | None:
    """The first window that silences ``subject_name`` at ``at``, or None."""
    for window in windows:
        if window.covers(subject_name, tags) and window.active(at):
            return window
    return None
