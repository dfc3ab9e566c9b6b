"""`launchready init`: the commented starter file loads as written and keeps what discovery found."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from launchready.config.loader import ConfigError, load_config
from launchready.config.model import Config, set_by_loader
from launchready.config.starter import FoundHost, StarterFacts, render_starter, write_starter
from launchready.engine.context import HostInfo, SiteMap
from launchready.probes.dns import DnsAnswer

FACTS = StarterFacts(
    hosts=(
        FoundHost("example.com", "apex", ("192.0.2.1",)),
        FoundHost("www.example.com", "www", ("192.0.2.1",), ("example.com",)),
        FoundHost("app.example.com", "common-name", ("192.0.2.2", "2001:db8::2", "192.0.2.3", "192.0.2.4")),
        FoundHost("members.example.com", "config", ("192.0.2.5",)),
        FoundHost("mail.example.com", "mx", ("192.0.2.9",)),
        FoundHost("cdn.other.net", "common-name", ("192.0.2.7",)),
    ),
    mx_hosts=("mail.example.com", "aspmx.l.google.com"),
    spf_terms=(
        "include:_spf.google.com",
        "+ip4:192.0.2.0/24",
        "mx",
        "-ip4:198.51.100.1",
        "redirect=x.example",
        "~all",
        "all",
    ),
    dkim_selectors=("google", "S1"),
)


def load_text(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "launchready.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path).config


def test_starter_loads_and_round_trips_discovered_values(tmp_path: Path) -> None:
    text = render_starter("Example.com.", FACTS)
    config = load_text(tmp_path, text)
    assert config.domain == "example.com"
    # Apex is implicit, MX hosts belong to [email], names outside the domain are not ours.
    assert config.subdomains == ("www", "app", "members")
    assert config.email.dkim_selectors == ("google", "s1")
    # Undiscoverable choices stay commented: the file changes nothing else from the defaults.
    assert config.environments == {} and config.owners == {} and config.redirects == ()
    assert config.email.senders == ()
    assert config.budgets == Config().budgets and config.audit == Config().audit


def test_starter_mentions_how_hosts_were_found(tmp_path: Path) -> None:
    text = render_starter("example.com", FACTS)
    assert re.search(r'"app",\s+# common name; 192\.0\.2\.2, 2001:db8::2, 192\.0\.2\.3 \(\+1 more\)', text)
    assert re.search(r'"www",\s+# www; alias of example.com; 192\.0\.2\.1', text)
    assert re.search(r'"members",\s+# from your config', text)
    assert "(MX): mail.example.com, aspmx.l.google.com" in text
    assert '# senders = ["include:_spf.google.com", "ip4:192.0.2.0/24", "mx"]' in text


def test_every_key_is_present_live_or_as_an_example() -> None:
    text = render_starter("example.com", StarterFacts())
    sections = {"environments", "email", "budgets", "audit", "owners", "perf", "web", "secrets", "smoke", "net"}
    for section in sorted(sections):
        assert re.search(rf"^\[{section}\]$", text, re.M), section
    assert re.search(r"^# \[\[redirects\]\]$", text, re.M)
    # [monitor] is opt-in (with it, deploys are recorded as markers): shown commented out.
    assert re.search(r"^# \[monitor\]$", text, re.M)
    for key in sorted(_field_names(Config) - sections - {"monitor"}):
        # Live ("key = "), commented ("# key = "), inside an inline-table example ("{ key = "), or a
        # sub-table's (commented) header ("# [smoke.deploy.production]", "# [[smoke.notify]]").
        assert re.search(rf"(^(# )?|{{ |, ){key} = |^(# )?\[\[?[a-z_]+\.{key}[\].]", text, re.M), key


def _field_names(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        if set_by_loader(field):
            continue
        names.add(name)
        for inner in (field.annotation, *get_args(field.annotation)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                names |= _field_names(inner)
    return names


def test_uncommenting_the_examples_gives_a_valid_full_config(tmp_path: Path) -> None:
    text = render_starter("example.com", FACTS)
    lines = []
    for line in text.splitlines():
        # Every example is "# key = value" or a table header; the CSV form is the alternative
        # to the [[redirects]] tables, so only one of the two can be switched on.
        if re.match(r"^# (\[\[?[a-z]|[a-z_-]+ = )", line) and not line.startswith("# redirects ="):
            line = line[2:]
        lines.append(line)
    config = load_text(tmp_path, "\n".join(lines))
    assert str(config.environments["production"].base_url) == "https://example.com/"
    assert config.environments["staging"].health_path == "/health"
    assert config.email.senders == ("include:_spf.google.com", "ip4:192.0.2.0/24", "mx")
    assert config.owners["on-call"].startswith("Ben")
    assert [(r.old, r.new, r.status) for r in config.redirects] == [("/pricing.html", "/pricing", 301)]
    assert config.budgets.p95_ms == 300


def test_csv_example_line_works_when_uncommented(tmp_path: Path) -> None:
    text = render_starter("example.com", StarterFacts()).replace(
        '# redirects = "redirects.csv"', 'redirects = "redirects.csv"'
    )
    (tmp_path / "redirects.csv").write_text("old,new\n/a,/b\n", encoding="utf-8")
    assert load_text(tmp_path, text).redirects[0].new == "/b"


def test_nothing_discovered(tmp_path: Path) -> None:
    text = render_starter("example.com", StarterFacts())
    config = load_text(tmp_path, text)
    assert config.subdomains == () and config.email.dkim_selectors == ()
    assert "No MX records found" in text


def test_hostile_discovered_values_cannot_break_the_file(tmp_path: Path) -> None:
    facts = StarterFacts(
        hosts=(
            FoundHost('evil"\n[audit]\nfail_on = "info".example.com', "common-name", ("1.2.3.4\nx = 1",)),
            FoundHost("ok.example.com", "common-name\n[owners]", ()),
        ),
        mx_hosts=("mx\n[budgets]\np95_ms = -1",),
        spf_terms=('include:a"b', "ip4:not-an-ip"),
        dkim_selectors=("bad selector", "s1\n"),
    )
    text = render_starter("example.com", facts)
    config = load_text(tmp_path, text)
    assert config.subdomains == ("ok",)
    assert config.email.dkim_selectors == ("s1",)
    assert config.audit == Config().audit and config.budgets == Config().budgets


def test_bad_domain_is_a_usage_error() -> None:
    with pytest.raises(ConfigError) as caught:
        render_starter("not a domain", StarterFacts())
    assert str(caught.value) == "expected a domain name like 'example.com', got 'not a domain'"


def test_facts_from_a_site_map(tmp_path: Path) -> None:
    def answer(name: str, rdtype: str, records: tuple[str, ...] = (), chain: tuple[str, ...] = ()) -> DnsAnswer:
        return DnsAnswer(name, rdtype, "ok" if records else "nxdomain", records, chain=chain or (name,))

    site = SiteMap(
        domain="example.com",
        hosts=(
            HostInfo("example.com", answer("example.com", "A", ("192.0.2.1",)), answer("example.com", "AAAA"), "apex"),
            HostInfo(
                "www.example.com",
                answer("www.example.com", "A", ("192.0.2.1",), ("www.example.com", "example.com")),
                answer("www.example.com", "AAAA"),
                "www",
            ),
            HostInfo("gone.example.com", answer("gone.example.com", "A"), answer("gone.example.com", "AAAA"), "config"),
        ),
        mx=answer("example.com", "MX", ("10 mx1.example.com.", "20 MX2.example.com.")),
    )
    facts = StarterFacts.from_site_map(site, spf_terms=["include:_spf.google.com"], dkim_selectors=["google"])
    assert [h.name for h in facts.hosts] == ["example.com", "www.example.com"]
    assert facts.hosts[1].cname_chain == ("example.com",)
    assert facts.mx_hosts == ("mx1.example.com", "mx2.example.com")
    config = load_text(tmp_path, render_starter("example.com", facts))
    assert config.subdomains == ("www",)
    assert config.email.dkim_selectors == ("google",)


# -- write_starter ---------------------------------------------------------------------------


def test_write_starter_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "launchready.toml"
    assert write_starter(path, "a = 1\n", force=False) == path
    assert path.read_text(encoding="utf-8") == "a = 1\n"


def test_write_starter_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "launchready.toml"
    path.write_text("mine\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        write_starter(path, "new\n", force=False)
    assert str(caught.value) == f"{path}: already exists; use --force to overwrite it"
    assert path.read_text(encoding="utf-8") == "mine\n"


def test_write_starter_force_overwrites_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "launchready.toml"
    path.write_text("mine\n", encoding="utf-8")
    write_starter(path, "new\n", force=True)
    assert path.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["launchready.toml"]


def test_write_starter_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such directory"):
        write_starter(tmp_path / "nope" / "launchready.toml", "x\n", force=True)


def test_network_flags_are_kept_under_net(tmp_path: Path) -> None:
    text = render_starter(
        "example.com",
        StarterFacts(),
        nameservers=("127.0.0.1:5353",),
        ca_bundle="lab-ca.pem",
        connect_to=(":443:127.0.0.1:8443",),
    )
    path = tmp_path / "launchready.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path).config
    assert config.net.nameservers == ("127.0.0.1:5353",)
    assert config.net.ca_bundle == "lab-ca.pem"
    assert config.net.connect_to == (":443:127.0.0.1:8443",)
