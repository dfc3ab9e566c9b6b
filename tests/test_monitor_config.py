"""[monitor] tables in launchready.toml: a full example loads; each mistake is one line with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from launchready.config.loader import ConfigError, load_config


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


FULL = """\
domain = "example.com"

[environments.production]
base_url = "https://example.com"

[monitor]
listen = "0.0.0.0:9000"
store = "postgresql://monitor@db/monitor"
ping_key = "${env:PING_KEY}"
metrics_public = true
status_page = true
slo = 0.999

[[monitor.checks]]
name = "home"
url = "https://example.com/health"
interval = "30s"
timeout = 5
conditions = ["[STATUS] == 200", "[BODY].status == ok", "[CERTIFICATE_EXPIRATION] > 336h"]
failures_before_down = 3
tags = ["web", "critical"]

[[monitor.checks]]
name = "db-port"
url = "tcp://db.example.com:5432"

[[monitor.checks]]
name = "mx"
url = "dns://example.com/MX"
expect = ["10 mx1.example.com."]

[[monitor.checks]]
name = "cert"
url = "tls://example.com:443"
conditions = ["[CERTIFICATE_EXPIRATION] > 14d"]

[[monitor.checks]]
name = "signup"
smoke = "signup"
interval = 300
paused = true

[[monitor.heartbeats]]
name = "backup"
period = "1d"
grace = "1h"

[[monitor.heartbeats]]
name = "nightly"
cron = "30 2 * * *"
tz = "Europe/Paris"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "launchready.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_full_monitor_config_loads(tmp_path: Path) -> None:
    monitor = load_config(write(tmp_path, FULL)).config.monitor
    assert monitor is not None
    assert (monitor.listen, monitor.slo, monitor.metrics_public) == ("0.0.0.0:9000", 0.999, True)
    kinds = {c.name: c.kind for c in monitor.checks}
    assert kinds == {"home": "http", "db-port": "tcp", "mx": "dns", "cert": "tls", "signup": "smoke"}
    home = monitor.checks[0]
    assert (home.interval, home.run_timeout, home.failures_before_down, home.successes_before_up) == (30.0, 5.0, 3, 1)
    assert monitor.checks[1].interval == 60.0 and monitor.checks[1].run_timeout == 10.0
    assert monitor.heartbeats[0].period == 86400.0 and monitor.heartbeats[0].grace == 3600.0
    assert monitor.heartbeats[1].cron == "30 2 * * *"


def test_no_monitor_table_is_none(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, 'domain = "example.com"\n')).config.monitor is None


def _with(check: str) -> str:
    return f'[monitor]\n\n[[monitor.checks]]\nname = "x"\n{check}\n'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            _with('url = "https://e.test/"\nconditions = ["[STATUS] = 200"]'),
            "launchready.toml:6: monitor.checks[0].conditions: check 'x': condition '[STATUS] = 200': expected "
            "'[PLACEHOLDER] OPERATOR VALUE'",
        ),
        (_with('url = "ftp://e.test/"'), "launchready.toml:5: monitor.checks[0].url: unknown scheme 'ftp'"),
        (_with('url = "tcp://e.test"'), "monitor.checks[0].url: expected tcp://HOST:PORT, got tcp://e.test"),
        (_with('url = "dns://e.test/XYZ"'), "monitor.checks[0].url: expected dns://NAME/TYPE with TYPE one of"),
        (
            _with('url = "https://e.test/"\ninterval = 0.5'),
            "launchready.toml:6: monitor.checks[0].interval: expected a",
        ),
        (_with('url = "https://e.test/"\ninterval = "soon"'), "monitor.checks[0].interval: expected a duration"),
        (_with('url = "https://e.test/"\nsmoke = "signup"'), "check 'x': expected exactly one of url or smoke"),
        (_with('url = "tcp://e.test:22"\nconditions = ["[STATUS] == 200"]'), "a tcp check cannot observe [STATUS]"),
        (_with('url = "https://e.test/"\nexpect = ["1.2.3.4"]'), "expect is for dns:// checks only"),
        (
            _with('url = "https://e.test/"\nfailures_before_down = 0'),
            "failures_before_down: expected a number of at least 1",
        ),
        (
            _with('url = "https://e.test/"\nintreval = 5'),
            "launchready.toml:6: monitor.checks[0]: unknown key 'intreval' (did you mean 'interval'?)",
        ),
        (
            '[monitor]\n[[monitor.checks]]\nname = "a"\nurl = "https://e.test/"\n[[monitor.checks]]\nname = "a"\n'
            'url = "https://e.test/"\n',
            "monitor: two checks are named 'a'",
        ),
        (
            '[monitor]\n[[monitor.heartbeats]]\nname = "n"\ncron = "0 3 * *"\n',
            "launchready.toml:2: monitor.heartbeats[0]: heartbeat 'n': cron '0 3 * *': expected 5 fields",
        ),
        ('[monitor]\n[[monitor.heartbeats]]\nname = "n"\n', "heartbeat 'n': expected exactly one of period or cron"),
        (
            '[monitor]\n[[monitor.heartbeats]]\nname = "n"\ncron = "@daily"\ntz = "Moon/Base"\n',
            "unknown time zone 'Moon/Base'",
        ),
        ('[monitor]\n[[monitor.heartbeats]]\nname = "n"\nperiod = 60\ntz = "Europe/Paris"\n', "tz goes with cron"),
        ('[monitor]\nlisten = "localhost"\n', "launchready.toml:2: monitor.listen: expected HOST:PORT"),
        ('[monitor]\nstore = "mysql://db/x"\n', "monitor.store: expected sqlite:///PATH or postgresql://"),
        ("[monitor]\nslo = 1.5\n", "monitor.slo: expected a number less than 1, got 1.5"),
        ('[monitor]\nping_key = "short"\n', "monitor.ping_key: expected 8 to 64 letters"),
    ],
)
def test_bad_monitor_config_is_one_line_with_file_and_line(tmp_path: Path, body: str, expected: str) -> None:
    message = error_of(write(tmp_path, body))
    assert expected in message, message
    assert message.startswith("launchready.toml:"), message
