"""[owners]: a name (and a role) per account; anything that looks like a credential is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.config.errors import ConfigError
from launchready.config.loader import load_config
from launchready.config.sections.owners import Owner, looks_like_credential


def write(tmp_path: Path, owners: str) -> Path:
    path = tmp_path / "launchready.toml"
    path.write_text(f'domain = "example.com"\n\n[owners]\n{owners}', encoding="utf-8")
    return path


def test_both_forms_become_owners(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'registrar = { name = "Ana Lima", role = "CTO" }\n'
        'dns = "Ana Lima <ana@example.com>"\n'
        'on-call = "Ben, agency"\n',
    )
    owners = load_config(path).config.owners
    assert owners["registrar"] == Owner(name="Ana Lima", role="CTO")
    assert str(owners["registrar"]) == "Ana Lima (CTO)"
    assert str(owners["dns"]) == "Ana Lima <ana@example.com>"
    assert owners["on-call"] == "Ben, agency"


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ('payments = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n', ":5: owners.payments:"),
        ('errors = { name = "Dan", role = "password: hunter2" }\n', ":5: owners.errors: role:"),
        ('hosting = "AKIAIOSFODNN7EXAMPLE"\n', ":5: owners.hosting:"),
        ('monitoring = "https://ana:s3cret@grafana.example.com"\n', ":5: owners.monitoring:"),
        ('email = "Ana 8f14e45fceea167a5a36dedd4bea2543e4e2c1d5"\n', ":5: owners.email:"),
    ],
)
def test_a_credential_is_refused_with_file_and_line(tmp_path: Path, line: str, where: str) -> None:
    path = write(tmp_path, 'registrar = "Ana"\n' + line)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f"{path}{where}" in message and "looks like a credential" in message
    # The refused value is never echoed back.
    secret = line.split("=", 1)[1]
    assert "hunter2" not in message and "sk_live_" not in message and "AKIA" not in message and secret not in message


def test_names_roles_and_addresses_are_not_credentials() -> None:
    for value in ("Ana Lima", "Ana Lima <ana.lima@example.com>", "ops-team@example.co.uk", "Agency (Acme Web Ltd)"):
        assert not looks_like_credential(value), value


def test_an_empty_owner_and_an_unknown_field_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":4: owners\.registrar: expected a name"):
        load_config(write(tmp_path, 'registrar = "  "\n'))
    with pytest.raises(ConfigError, match=r":4: owners\.dns: name: expected a string, got 7"):
        load_config(write(tmp_path, "dns = { name = 7 }\n"))
    with pytest.raises(ConfigError, match=r":4: owners\.dns: missing key 'name'"):
        load_config(write(tmp_path, 'dns = { role = "CTO" }\n'))
    with pytest.raises(ConfigError, match=r":4: owners\.dns: unknown key 'password'"):
        load_config(write(tmp_path, 'dns = { name = "Ana", password = "x" }\n'))


def test_a_bad_rdap_server_flag_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "")
    code, _, err = run_cli(["audit", "-c", str(path), "--rdap-server", "ftp://rdap.example/", "-q"], capsys)
    assert code == 2
    assert err.strip().splitlines() == [
        "launchready: error: --rdap-server ftp://rdap.example/: expected an http(s) base URL such as "
        "https://rdap.example.net/"
    ]
