"""tls.protocols: no host still accepts TLS 1.0 or TLS 1.1."""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC8996 = "https://www.rfc-editor.org/rfc/rfc8996"
_MOZ_TLS = "https://wiki.mozilla.org/Security/Server_Side_TLS"
_PCI = "https://blog.pcisecuritystandards.org/are-you-ready-for-30-june-2018-sayin-goodbye-to-ssl-early-tls"

LEGACY = (("TLS 1.0", ssl.TLSVersion.TLSv1), ("TLS 1.1", ssl.TLSVersion.TLSv1_1))

META = CheckMeta(
    id="tls.protocols",
    title="Old TLS versions (1.0, 1.1) are refused",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Tries a TLS handshake on port 443 of every web host offering only TLS 1.0, then only TLS 1.1. "
            "A completed handshake at either version is reported. When this machine's OpenSSL cannot offer "
            "a version at all, that version is not judged (shown as could not run if neither can be)."
        ),
        why=(
            "TLS 1.0 and 1.1 are formally deprecated (RFC 8996), fail PCI DSS (card payments), and are flagged by "
            "every security questionnaire a B2B customer sends; keeping them on only serves clients too old to "
            "matter while lowering the bar for downgrade attacks."
        ),
        fix=(
            "Allow only TLS 1.2 and 1.3: nginx `ssl_protocols TLSv1.2 TLSv1.3;`, Apache `SSLProtocol -all +TLSv1.2 "
            "+TLSv1.3`, Caddy and managed platforms already do; on Cloudflare set Minimum TLS Version to 1.2."
        ),
    ),
    findings=(
        FindingSpec(
            id="tls.protocols.legacy-accepted",
            title="The server still accepts TLS 1.0/1.1",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation="nginx: `ssl_protocols TLSv1.2 TLSv1.3;` then `sudo nginx -t && sudo systemctl reload nginx`.",
            references=(_RFC8996, _MOZ_TLS, _PCI),
        ),
    ),
    references=(_RFC8996, _MOZ_TLS),
    probes=("tls",),
)


def judge(host: str, accepted: dict[str, bool | None]) -> list[Finding]:
    """``accepted`` maps "TLS 1.0"/"TLS 1.1" to True (accepted), False (refused) or None (cannot tell)."""
    if accepted and all(v is None for v in accepted.values()):
        raise CouldNotRun(f"could not test old TLS versions on {host}:443 (not offered by this OpenSSL, or no answer)")
    old = [name for name, ok in accepted.items() if ok]
    if not old:
        return []
    evidence = [
        f"{name}: {'accepted' if ok else 'refused' if ok is False else 'not tested'}" for name, ok in accepted.items()
    ]
    return [
        META.finding(
            "legacy-accepted", target=host, evidence=evidence, title=f"{host} still accepts {' and '.join(old)}"
        )
    ]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    results = await asyncio.gather(*(ctx.tls.accepts_protocol(target, 443, v) for _, v in LEGACY))
    return judge(target, {name: ok for (name, _), ok in zip(LEGACY, results, strict=True)})


CHECK = Check(meta=META, run=run)
