"""``[[monitor.alerts]]`` and ``[[monitor.maintenance]]``: secrets only as ${env:NAME} (errors name the
field and never repeat the value), default names, routing, one-off and weekly windows."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from launchready.config.messages import describe, format_key
from launchready.config.sections.monitor_alerts import AlertConfig, Alerts, MaintenanceWindow
from launchready.monitor.alerts.routing import AlertRouter


class _Monitor(BaseModel):
    """The shape the ``[monitor]`` model gives these tables (it lives in another module)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    alerts: Alerts = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()


def load(text: str) -> _Monitor:
    return _Monitor.model_validate(tomllib.loads(text)["monitor"])


def problems(text: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        load(text)
    out = []
    for error in caught.value.errors():
        path, message = describe(error)
        out.append(f"{format_key(path)}: {message}")
    return out


def test_alerts_parse_with_default_names_and_env_secrets() -> None:
    monitor = load(
        """
[[monitor.alerts]]
kind = "slack"
url = "${env:SLACK_URL}"
tags = ["web"]
reminder_every = 1800

[[monitor.alerts]]
kind = "webhook"
url = "https://hooks.example.com/launchready"
secret = "${env:HOOK_SECRET}"
checks = ["api"]

[[monitor.alerts]]
name = "oncall-mail"
kind = "email"
host = "smtp.example.com"
username = "alerts"
password = "${env:SMTP_PASSWORD}"
from = "monitor@example.com"
to = ["oncall@example.com"]
"""
    )
    names = [a.name for a in monitor.alerts]
    assert names == ["slack-1", "webhook-1", "oncall-mail"]
    mail = monitor.alerts[2]
    assert (mail.port, mail.starttls, mail.sender) == (587, True, "monitor@example.com")
    assert (
        AlertConfig.model_validate(
            {"kind": "email", "host": "smtp.example.com", "sender": "m@example.com", "to": ["o@example.com"]}
        ).sender
        == "m@example.com"
    )  # the [[smoke.notify]] spelling is accepted too
    # Unnamed entries get distinct names even where no Alerts-typed field named them.
    plain = [
        AlertConfig(kind="webhook", url="https://a.example.com/"),
        AlertConfig(kind="webhook", url="https://b.example.com/"),
    ]
    assert [a.name for a in AlertRouter(plain).alerts] == ["webhook-1", "webhook-2"]
    router = AlertRouter(monitor.alerts)
    assert router.providers_for("check", "api", ["web"], "up", "down") == ["slack-1", "webhook-1", "oncall-mail"]
    assert router.providers_for("check", "db", [], "up", "down") == ["oncall-mail"]
    assert router.providers_for("heartbeat", "api", [], "new", "up") == []  # never-seen -> up alerts nobody
    assert router.providers_for("check", "api", [], "down", "paused") == []


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            'kind = "webhook"\nurl = "https://h.example.com/x"\nsecret = "s3cr3t-literal-value"',
            "alerts[0].secret: expected a reference to an environment variable like '${env:NAME}', not the secret itself",
        ),
        (
            'kind = "email"\nhost = "smtp.example.com"\nfrom = "a@example.com"\nto = ["b@example.com"]\npassword = "hunter2-literal"',
            "alerts[0].password: expected a reference to an environment variable like '${env:NAME}', not the secret itself",
        ),
        (
            'kind = "slack"\nurl = "https://hooks.slack.com/services/T0/B0/literalslacktoken"',
            "alerts[0].url: expected ${env:NAME} for a Slack webhook: the URL itself is a secret",
        ),
        (
            'kind = "webhook"\nurl = "https://user:pa55word-literal@h.example.com/x"',
            "alerts[0].url: expected no password in the URL: put the whole URL in ${env:NAME}",
        ),
    ],
)
def test_literal_secrets_are_rejected_naming_the_field_without_repeating_it(table: str, expected: str) -> None:
    [message] = problems(f"[[monitor.alerts]]\n{table}\n")
    assert message == expected
    for literal in ("s3cr3t-literal-value", "hunter2-literal", "literalslacktoken", "pa55word-literal"):
        assert literal not in message


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('kind = "pager"', "alerts[0].kind: "),
        ('kind = "email"\nhost = "smtp.example.com"', "alerts[0]: expected host, from and to for an email alert"),
        (
            'kind = "webhook"\nurl = "https://h.example.com/x"\nto = ["a@example.com"]',
            "alerts[0]: to: only email alerts",
        ),
        ('kind = "webhook"\nurl = "ftp://h.example.com/x"', "alerts[0].url: expected an http(s) URL"),
        (
            'kind = "webhook"\nurl = "https://h.example.com/x"\nreminder_every = 0',
            "alerts[0].reminder_every: expected a number of at least 1",
        ),
        ('kind = "webhook"\nurl = "https://h.example.com/x"\nchannel = "#ops"', "alerts[0]: unknown key 'channel'"),
    ],
)
def test_bad_alert_tables_get_one_line_errors(table: str, expected: str) -> None:
    [message] = problems(f"[[monitor.alerts]]\n{table}\n")
    assert message.startswith(expected) and "\n" not in message


def test_duplicate_alert_names_are_rejected() -> None:
    [message] = problems(
        '[[monitor.alerts]]\nkind = "webhook"\nurl = "https://a.example.com/"\n'
        '[[monitor.alerts]]\nname = "webhook-1"\nkind = "webhook"\nurl = "https://b.example.com/"\n'
    )
    assert message == "alerts: expected unique alert names, got 'webhook-1' twice (set name = ... on one of them)"


def _at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_one_off_and_weekly_maintenance_windows() -> None:
    monitor = load(
        """
[[monitor.maintenance]]
name = "db upgrade"
start = 2026-12-01T02:00:00Z
end = 2026-12-01T03:00:00Z
tags = ["db"]

[[monitor.maintenance]]
name = "sunday backups"
days = ["sun"]
at = "23:30"
duration = 3600
tz = "Europe/Berlin"
"""
    )
    one_off, weekly = monitor.maintenance
    assert one_off.active(_at("2026-12-01T02:30:00+00:00")) and not one_off.active(_at("2026-12-01T03:00:00+00:00"))
    assert one_off.covers("postgres", ["db"]) and not one_off.covers("api", ["web"])
    # 2026-12-06 is a Sunday; 23:30 in Berlin (CET, +01:00) is 22:30 UTC; the hour runs past midnight.
    assert weekly.active(_at("2026-12-06T22:45:00+00:00"))
    assert weekly.active(_at("2026-12-07T00:15:00+01:00"))  # Monday 00:15 local, still inside
    assert not weekly.active(_at("2026-12-07T00:31:00+01:00"))
    assert not weekly.active(_at("2026-12-05T22:45:00+00:00"))  # Saturday
    router = AlertRouter((), monitor.maintenance)
    found = router.silenced_by("api", [], _at("2026-12-06T22:45:00+00:00"))
    assert found is not None and found.name == "sunday backups"
    assert router.silenced_by("api", [], datetime(2026, 12, 2, tzinfo=UTC).timestamp()) is None


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("start = 2026-12-01T02:00:00Z", "maintenance[0]: expected both start and end"),
        (
            "start = 2026-12-01T02:00:00\nend = 2026-12-01T03:00:00",
            "maintenance[0].start: expected a date-time with an offset",
        ),
        (
            "start = 2026-12-01T03:00:00Z\nend = 2026-12-01T02:00:00Z",
            "maintenance[0]: end: expected a time after start",
        ),
        ('at = "25:00"\nduration = 60', 'maintenance[0].at: expected a time of day like "02:30"'),
        ('at = "02:00"', "maintenance[0]: expected start and end, or at"),
        ('at = "02:00"\nduration = 60\ntz = "Mars/Olympus"', "maintenance[0].tz: expected an IANA time zone"),
        ('at = "02:00"\nduration = 60\ndays = ["funday"]', "maintenance[0].days[0]: "),
    ],
)
def test_bad_maintenance_windows_get_one_line_errors(table: str, expected: str) -> None:
    messages: Any = problems(f"[[monitor.maintenance]]\n{table}\n")
    assert messages[0].startswith(expected), messages
