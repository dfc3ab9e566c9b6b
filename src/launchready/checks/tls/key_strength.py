"""tls.key-strength: the certificate's key and signature are strong enough for browsers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.core.tls import TlsFacts

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_BR = "https://cabforum.org/working-groups/server/baseline-requirements/requirements/"
_NIST = "https://csrc.nist.gov/pubs/sp/800/131/a/r2/final"
_MOZ_TLS = "https://wiki.mozilla.org/Security/Server_Side_TLS"

# CA/Browser Forum Baseline Requirements 6.1.5 / 7.1.3: RSA >= 2048, ECDSA P-256 or larger, SHA-2 signatures.
MIN_BITS = {"RSA": 2048, "DSA": 2048, "EC": 256}
WEAK_HASHES = frozenset({"md5", "sha1", "md2", "md4"})

META = CheckMeta(
    id="tls.key-strength",
    title="The certificate's key and signature are not weak",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Reads the certificate served on port 443 (even when untrusted) and checks its public key size "
            "(RSA and DSA at least 2048 bits, EC at least 256) and its signature hash (no MD5 or SHA-1), the "
            "CA/Browser Forum Baseline Requirements minimums."
        ),
        why=(
            "Browsers refuse 1024-bit RSA and SHA-1 signed certificates outright: visitors see a full-page error, "
            "and anyone who kept such a key can be impersonated more cheaply than the rest of the web."
        ),
        fix=(
            "Issue a new certificate with a new key: `sudo certbot renew --force-renewal --key-type ecdsa` "
            "(or `--rsa-key-size 2048`), or let the platform issue one; public CAs already sign with SHA-256."
        ),
    ),
    findings=(
        FindingSpec(
            id="tls.key-strength.weak-key",
            title="The certificate's key is too small",
            severity=Severity.HIGH,
            impact=Impact.TRUST,
            remediation="Reissue with a new ECDSA P-256 or RSA 2048+ key: `sudo certbot renew --force-renewal --key-type ecdsa`.",
            references=(_BR, _NIST),
        ),
        FindingSpec(
            id="tls.key-strength.weak-signature",
            title="The certificate is signed with a broken hash (SHA-1 or MD5)",
            severity=Severity.HIGH,
            impact=Impact.TRUST,
            remediation="Reissue the certificate from a public CA (all sign with SHA-256 or better).",
            references=(_BR, _MOZ_TLS),
        ),
    ),
    references=(_BR, _MOZ_TLS),
    probes=("tls",),
)


def judge(host: str, facts: TlsFacts) -> list[Finding]:
    leaf = facts.leaf
    if leaf is None:
        # No certificate to read: tls.certificate reports why.
        raise CouldNotRun(
            f"no certificate observed on {host}:{facts.port}: {facts.error or facts.error_kind or 'no handshake'}"
        )
    evidence = [
        f"key: {leaf.key_type} {leaf.key_bits} bits",
        f"signature hash: {leaf.signature_hash or '(intrinsic)'}",
        f"subject: {leaf.subject}",
    ]
    findings: list[Finding] = []
    minimum = MIN_BITS.get(leaf.key_type)
    if minimum is not None and leaf.key_bits < minimum:
        findings.append(
            META.finding("weak-key", target=host, evidence=[*evidence, f"minimum for {leaf.key_type}: {minimum} bits"])
        )
    if leaf.signature_hash and leaf.signature_hash.lower() in WEAK_HASHES and not leaf.self_signed:
        findings.append(META.finding("weak-signature", target=host, evidence=evidence))
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    return judge(target, await ctx.tls.handshake(target, 443))


CHECK = Check(meta=META, run=run)
