"""Lab faults that make the tls.* checks fire (certificates in lab/certs.py, CAA in lab/zone.py)."""

from __future__ import annotations

from launchready.core.labfault import LAB_WEB_HOSTS, LabFault, each

LAB_FAULTS: tuple[LabFault, ...] = (
    LabFault(
        "cert-expired",
        "admin. serves a certificate that expired 3 days ago",
        each("tls.certificate.expired", "admin.{domain}"),
    ),
    LabFault(
        "cert-expiring-soon",
        "app. serves a certificate that expires in 10 days",
        each("tls.certificate.expires-soon", "app.{domain}"),
    ),
    LabFault(
        "cert-wrong-host",
        "api. serves a certificate issued for another name",
        each("tls.certificate.hostname-mismatch", "api.{domain}"),
    ),
    LabFault(
        "cert-self-signed",
        "www. serves a self-signed certificate no browser trusts",
        each("tls.certificate.untrusted", "www.{domain}"),
    ),
    LabFault(
        "tls-legacy", "every host still accepts TLS 1.0 and 1.1", each("tls.protocols.legacy-accepted", *LAB_WEB_HOSTS)
    ),
    LabFault(
        "cert-weak-key",
        "api. serves a certificate with a 1024-bit RSA key",
        each("tls.key-strength.weak-key", "api.{domain}"),
    ),
    LabFault(
        "caa-forbids-issuer",
        "CAA allows only letsencrypt.org, but the live certificates come from the lab CA",
        each("tls.caa.issuer-not-permitted", *LAB_WEB_HOSTS),
    ),
    LabFault(
        "caa-missing",
        "the domain publishes no CAA record, so any CA may issue for it",
        each("tls.caa.missing", "{domain}"),
    ),
)
