"""tls.certificate: every web host serves a trusted, current certificate issued for its name."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.core.tls import CertificateFacts, TlsFacts

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC5280 = "https://www.rfc-editor.org/rfc/rfc5280"
_RFC6125 = "https://www.rfc-editor.org/rfc/rfc6125"
_RFC8446 = "https://www.rfc-editor.org/rfc/rfc8446"
_MDN_TLS = "https://developer.mozilla.org/en-US/docs/Web/Security/Transport_Layer_Security"
_LE_RENEW = "https://letsencrypt.org/docs/integration-guide/"

# Let's Encrypt certificates live 90 days and ACME clients renew at 30 days left; below that,
# renewal has already failed at least once. Below two weeks there is little slack for a fix.
SOON_DAYS = 30
URGENT_DAYS = 14

_RENEW_HOW = (
    "Certbot: `sudo certbot renew --cert-name {host}` then `sudo systemctl reload nginx` (and check the "
    "timer: `systemctl list-timers | grep certbot`, `sudo certbot renew --dry-run`). Caddy renews by itself: "
    "read its log for ACME errors (ports 80/443 must reach Caddy and DNS must point at it). On a platform "
    "(Vercel, Netlify, Render, Fly.io, Heroku) or Cloudflare, re-verify {host} as a custom domain in the dashboard."
)

META = CheckMeta(
    id="tls.certificate",
    title="HTTPS certificate is trusted, current and issued for the host",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Opens a TLS connection to port 443 of every host under the domain that has an address and "
            "reads the certificate it presents: who issued it, which names it covers, and when it expires. "
            "It verifies the chain against the trust store (or --ca-bundle) like a browser does."
        ),
        why=(
            "A certificate problem is a full-page browser warning ('Your connection is not private') that "
            "almost every visitor reads as 'this site is a scam' and leaves. API clients and payment "
            "webhooks simply fail. Expiry is the classic launch-week outage: renewal silently broke weeks ago."
        ),
        fix=(
            "Serve a certificate from a public CA (Let's Encrypt via Certbot or Caddy, or your platform's "
            "managed certificate) that lists every host name in its Subject Alternative Names, install the full "
            "chain, and make sure automatic renewal works (run a renewal dry-run and watch its timer)."
        ),
    ),
    findings=(
        FindingSpec(
            id="tls.certificate.unreachable",
            title="Nothing answers HTTPS on port 443",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Make a server listen on 443 for this host (nginx `listen 443 ssl;` with its server_name, "
                "a Caddy site block, or a custom domain on your platform), open 443/tcp in the firewall or "
                "security group, or delete the DNS record if the host is not in use."
            ),
            references=(_RFC8446, _MDN_TLS),
        ),
        FindingSpec(
            id="tls.certificate.untrusted",
            title="Browsers do not trust the certificate",
            severity=Severity.BLOCKER,
            impact=Impact.TRUST,
            remediation=(
                "Serve a certificate from a public CA with its full chain: with Certbot point nginx at "
                "fullchain.pem (`ssl_certificate /etc/letsencrypt/live/<host>/fullchain.pem;`), not cert.pem; "
                "with Caddy or a platform, let it issue the certificate. Self-signed certificates are for local "
                "development only."
            ),
            references=(_RFC5280, _MDN_TLS),
        ),
        FindingSpec(
            id="tls.certificate.expired",
            title="The certificate has expired",
            severity=Severity.BLOCKER,
            impact=Impact.TRUST,
            remediation="Renew the certificate now and fix automatic renewal.",
            references=(_RFC5280, _LE_RENEW),
        ),
        FindingSpec(
            id="tls.certificate.expires-soon",
            title="The certificate expires soon",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation="Renew the certificate and find out why automatic renewal has not already done it.",
            references=(_RFC5280, _LE_RENEW),
        ),
        FindingSpec(
            id="tls.certificate.hostname-mismatch",
            title="The certificate is not issued for this host name",
            severity=Severity.BLOCKER,
            impact=Impact.TRUST,
            remediation="Issue a certificate whose Subject Alternative Names include this host.",
            references=(_RFC6125, _MDN_TLS),
        ),
    ),
    references=(_RFC5280, _RFC6125, _MDN_TLS),
    probes=("tls",),
)


def _age(days_left: float) -> str:
    if days_left >= 0:
        return f"days left: {int(days_left)}"
    ago = int(-days_left)
    return f"expired {ago} day(s) ago" if ago else "expired less than a day ago"


def _evidence(facts: TlsFacts, leaf: CertificateFacts, now: datetime) -> list[str]:
    days = (leaf.not_after - now).total_seconds() / 86400
    out = [
        f"subject: {leaf.subject}",
        f"names (SAN): {', '.join(leaf.san_dns) or '(none)'}",
        f"issuer: {leaf.issuer}" + (" (self-signed)" if leaf.self_signed else ""),
        f"valid: {leaf.not_before:%Y-%m-%d %H:%M} UTC to {leaf.not_after:%Y-%m-%d %H:%M} UTC",
        _age(days),
    ]
    if facts.verify_error:
        out.append(f"verification error: {facts.verify_error}")
    if facts.peer:
        out.append(f"server: {facts.peer}")
    return out


def _unreachable(host: str, facts: TlsFacts) -> list[Finding]:
    if facts.error_kind in ("refused", "timeout", "reset", "handshake"):
        what = {
            "refused": "connection refused",
            "timeout": "no answer (timeout)",
            "reset": "connection reset",
            "handshake": "the TLS handshake failed",
        }[facts.error_kind]
        return [
            META.finding(
                "unreachable",
                target=host,
                evidence=[f"{host}:{facts.port}: {what}", f"error: {facts.error or facts.error_kind}"],
            )
        ]
    # A DNS failure or an unexpected local error says nothing about the server.
    why = facts.error or facts.error_kind or "unknown"
    raise CouldNotRun(f"TLS handshake with {host}:{facts.port} failed: {why}")


def judge(host: str, facts: TlsFacts, now: datetime) -> list[Finding]:
    """Judge one host's TLS handshake facts at time ``now`` (timezone-aware UTC)."""
    if not facts.connected:
        return _unreachable(host, facts)
    leaf = facts.leaf
    if leaf is None:
        raise CouldNotRun(f"TLS handshake with {host}:{facts.port} completed but no certificate was observed")
    evidence = _evidence(facts, leaf, now)
    findings: list[Finding] = []
    explained = False  # whether a finding below accounts for a failed verification

    # The probe matches the SAN entries itself (RFC 6125), even when the chain failed to verify.
    if not facts.hostname_matches:
        explained = True
        findings.append(
            META.finding(
                "hostname-mismatch",
                target=host,
                evidence=evidence,
                remediation=(
                    f"Issue a certificate that covers {host}: `sudo certbot --nginx -d {host}` (one -d per name the "
                    f"server answers for), or give {host} its own Caddy site block, or add {host} as a custom domain "
                    f"on your platform. If the right certificate exists, check that the server block for {host} "
                    f"(nginx `server_name {host};`) uses it: the server picks the certificate by SNI."
                ),
            )
        )

    days_left = (leaf.not_after - now).total_seconds() / 86400
    if days_left <= 0:
        explained = True
        findings.append(
            META.finding(
                "expired",
                target=host,
                evidence=evidence,
                remediation="Renew now. " + _RENEW_HOW.format(host=host),
            )
        )
    elif days_left < SOON_DAYS:
        findings.append(
            META.finding(
                "expires-soon",
                target=host,
                evidence=evidence,
                severity=Severity.HIGH if days_left < URGENT_DAYS else Severity.MEDIUM,
                title=f"The certificate expires in {int(days_left)} day(s)",
                remediation=(
                    "Renew before it expires; automatic renewal should already have done it at 30 days left. "
                    + _RENEW_HOW.format(host=host)
                ),
            )
        )

    # A certificate that is not yet valid is refused like an untrusted one (usually a wrong clock),
    # and a self-signed or broken chain is a problem on top of any expiry or name mismatch.
    chain_problem = leaf.self_signed or leaf.not_before > now or _chain_error(facts.verify_error)
    if not facts.verified and (not explained or chain_problem):
        findings.append(
            META.finding(
                "untrusted",
                target=host,
                evidence=evidence,
                remediation=(
                    "Serve a certificate from a public CA with its full chain: with Certbot point nginx at "
                    f"`ssl_certificate /etc/letsencrypt/live/{host}/fullchain.pem;` (not cert.pem) and get it with "
                    f"`sudo certbot --nginx -d {host}`; with Caddy or a platform, remove the custom certificate and "
                    "let it issue one. Self-signed certificates are for local development only."
                ),
            )
        )
    return findings


def _chain_error(verify_error: str | None) -> bool:
    """True when the verification error is about the chain itself, not expiry or the host name."""
    if not verify_error:
        return False
    text = verify_error.lower()
    return not ("expired" in text or "mismatch" in text or "not valid for" in text)


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    facts = await ctx.tls.handshake(target, 443)
    return judge(target, facts, ctx.now)


CHECK = Check(meta=META, run=run)
