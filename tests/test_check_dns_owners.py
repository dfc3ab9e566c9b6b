"""dns.owners: providers detected from MX, SPF includes and CNAMEs, each needing a named owner."""

from __future__ import annotations

from launchready.checks.dns.owners import DetectedProvider, detect_providers, judge
from launchready.config.sections.owners import Owner

DOMAIN = "example.com"


def providers() -> tuple[DetectedProvider, ...]:
    return detect_providers(
        DOMAIN,
        mx_hosts=("aspmx.l.google.com", "alt1.aspmx.l.google.com", "mail.example.com"),
        spf_includes=("_spf.google.com", "sendgrid.net"),
        cnames=(("app.example.com", "example-app.herokudns.com"), ("www.example.com", "example.com")),
    )


def test_detection_groups_by_provider_and_skips_the_domain_itself() -> None:
    found = {(p.kind, p.domain): p for p in providers()}
    assert set(found) == {("email", "google.com"), ("email", "sendgrid.net"), ("hosting", "herokudns.com")}
    google = found[("email", "google.com")]
    assert google.name == "Google Workspace" and google.key == "google"
    assert google.evidence == (
        "MX example.com: aspmx.l.google.com",
        "MX example.com: alt1.aspmx.l.google.com",
        "SPF example.com: include:_spf.google.com",
    )
    unknown = detect_providers(DOMAIN, spf_includes=("_spf.bulkmail.test",))
    assert [(p.key, p.name) for p in unknown] == [("bulkmail", "bulkmail.test")]


def test_one_finding_per_provider_without_an_owner() -> None:
    found = judge(DOMAIN, providers(), {})
    assert [f.id for f in found] == ["dns.owners.provider-unowned"] * 3
    assert [f.target for f in found] == [
        "example.com (email: google.com)",
        "example.com (email: sendgrid.net)",
        "example.com (hosting: herokudns.com)",
    ]
    assert "Heroku" in found[2].title and "`heroku = " in (found[2].remediation or "")


def test_an_owner_by_kind_or_by_provider_name_covers_it() -> None:
    assert judge(DOMAIN, providers(), {"email": "Ana", "hosting": Owner(name="Ben", role="agency")}) == []
    left = judge(DOMAIN, providers(), {"google": "Ana", "sendgrid.net": "Ana"})
    assert [f.target for f in left] == ["example.com (hosting: herokudns.com)"]


def test_no_provider_no_finding() -> None:
    assert judge(DOMAIN, detect_providers(DOMAIN, mx_hosts=("mx.example.com",)), {}) == []
