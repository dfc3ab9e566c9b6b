"""The lab's fault switches: each one breaks the lab the way a real launch breaks.

Every audit check has at least one fault here that makes it fire, so its lab test sees it caught
and, with the fault off, sees it clean. ``launchready lab up --faults a,b`` and ``Lab(faults=...)``
take these names.
"""

from __future__ import annotations

from dataclasses import dataclass

LAB_DOMAIN = "marketlab.test"


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    # Finding ids this fault is meant to trigger (documentation and test cross-check).
    triggers: tuple[str, ...]


FAULTS: tuple[Fault, ...] = (
    Fault("apex-no-address", "the apex has no A/AAAA record (only www resolves)", ("dns.apex.no-address",)),
    Fault("cert-expired", "admin. serves a certificate that expired 3 days ago", ("tls.certificate.expired",)),
    Fault("cert-expiring-soon", "app. serves a certificate that expires in 10 days", ("tls.certificate.expires-soon",)),
    Fault("cert-wrong-host", "api. serves a certificate issued for another name", ("tls.certificate.hostname-mismatch",)),
    Fault("cert-self-signed", "www. serves a self-signed certificate no browser trusts", ("tls.certificate.untrusted",)),
    Fault("http-no-redirect", "plain HTTP on the apex serves the page instead of redirecting to HTTPS", ("web.https-redirect.missing",)),
    Fault("no-hsts", "HTTPS responses carry no Strict-Transport-Security header", ("web.hsts.missing",)),
    Fault("public-cache-private-page", "the member dashboard sets a session cookie and Cache-Control: public", ("web.private-cache.shared-cacheable",)),
    Fault("spf-missing", "the domain publishes no SPF record", ("email.spf.missing",)),
    Fault("spf-plus-all", "the SPF record ends in +all (anyone may send as the domain)", ("email.spf.permissive-all",)),
    Fault("dmarc-missing", "no DMARC record at _dmarc", ("email.dmarc.missing",)),
    Fault("health-down", "the production health route answers 503", ("app.health.down",)),
)

# What `launchready demo` switches on: the mix a real week-before-launch MVP tends to have.
DEMO_FAULTS: tuple[str, ...] = (
    "public-cache-private-page",
    "cert-expired",
    "http-no-redirect",
    "no-hsts",
    "dmarc-missing",
    "spf-plus-all",
)


def fault_names() -> tuple[str, ...]:
    return tuple(f.name for f in FAULTS)


def parse_faults(text: str | None) -> frozenset[str]:
    """Parse ``a,b,c`` (or ``all``/``none``); unknown names raise ValueError naming them."""
    if not text or text.strip() in ("", "none"):
        return frozenset()
    if text.strip() == "all":
        return frozenset(fault_names())
    names = {n.strip() for n in text.split(",") if n.strip()}
    unknown = sorted(names - set(fault_names()))
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(fault_names())}")
    return frozenset(names)
