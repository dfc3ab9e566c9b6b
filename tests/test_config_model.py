"""The config model's validators, and docs/configuration.md staying in step with it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel, ValidationError

from launchready.config.messages import allowed_keys, format_key, show_value
from launchready.config.model import Config, set_by_loader

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_defaults() -> None:
    config = Config()
    assert config.domain is None
    assert config.audit.fail_on.value == "blocker" and config.audit.discover is True
    assert config.budgets.p95_ms == 300 and config.budgets.error_rate == 0.01 and config.budgets.lcp_ms == 2000
    assert config.email.sends_mail and config.email.receives_mail


def test_normalisation() -> None:
    config = Config.model_validate(
        {
            "domain": "Example.COM.",
            "subdomains": ["App", "app", "EU.app"],
            "email": {
                "senders": ["Google", "INCLUDE:_spf.Google.com", "ip6:2001:DB8::/32", "google"],
                "dkim_selectors": ["S1", "s1"],
            },
        }
    )
    assert config.domain == "example.com"
    assert config.subdomains == ("app", "eu.app")
    assert config.email.senders == ("google", "include:_spf.google.com", "ip6:2001:db8::/32")
    assert config.email.dkim_selectors == ("s1",)


@pytest.mark.parametrize(
    "data",
    [
        {"domain": "localhost"},
        {"subdomains": ["-app"]},
        {"email": {"senders": ["ptr:foo.example"]}},
        {"email": {"senders": ["ip6:1.2.3.4"]}},
        {"email": {"dkim_selectors": ["a b"]}},
        {"audit": {"skip": ["Email SPF"]}},
        {"environments": {"p": {"base_url": "https://x.example", "health_path": "health"}}},
        {"redirects": [{"old": "/a", "new": "b"}]},
        {"owners": {"dns": "  "}},
        {"budgets": {"p95_ms": 0}},
        {"email": {"sends_mail": 1}},
    ],
)
def test_rejected(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Config.model_validate(data)


def test_sender_forms_the_spf_check_understands() -> None:
    senders = ["ip6:::1", "ip4:127.0.0.1", "a", "mx", "a:web.example.com", "mx:mail.example.com", "sendgrid"]
    assert Config.model_validate({"email": {"senders": senders}}).email.senders == tuple(senders)


def test_format_key_and_show_value() -> None:
    assert format_key(("environments", "production", "base_url")) == "environments.production.base_url"
    assert format_key(("redirects", 2, "status")) == "redirects[2].status"
    assert format_key(("owners", "on call")) == 'owners."on call"'
    assert show_value(True) == "true" and show_value("x") == "'x'" and show_value({}) == "a table"
    assert show_value("y" * 100).endswith("...'")


def test_allowed_keys_hide_loader_fields() -> None:
    assert "redirects_file" not in allowed_keys(())
    assert "subdomains" in allowed_keys(())
    assert set(allowed_keys(("redirects", 0))) == {"old", "new", "status"}
    assert allowed_keys(("environments", "production")) == ("base_url", "health_path")
    assert allowed_keys(("owners",)) == ()


def _documented_keys(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(name)
        for inner in (field.annotation, *get_args(field.annotation)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                names |= _documented_keys(inner)
    return names


def test_docs_cover_every_key() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for key in sorted(_documented_keys(Config)):
        assert re.search(rf"`{re.escape(key)}`|\[{re.escape(key)}[\].]", text), f"{key} is not in {DOCS.name}"


def test_docs_example_loads(tmp_path: Path) -> None:
    from launchready.config.loader import load_config

    text = DOCS.read_text(encoding="utf-8")
    example = text.split("## Example", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "launchready.toml"
    path.write_text(example, encoding="utf-8")
    config = load_config(path).config
    assert config.domain == "example.com" and len(config.redirects) == 2


def test_loader_fields_are_marked() -> None:
    assert set_by_loader(Config.model_fields["redirects_file"])
    assert not set_by_loader(Config.model_fields["redirects"])
