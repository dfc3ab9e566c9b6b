"""Can a declared sender pass DMARC at all? Aligned SPF or aligned DKIM, per provider (RFC 7489 3.1).

DMARC passes when SPF passes for an envelope (Return-Path) domain aligned with the From domain,
or a valid DKIM signature's d= is aligned with it. From DNS alone we can tell whether that is
*possible*: the provider table (``data/email/senders.json``, with its sources) says whose domain
each provider uses as envelope, which DKIM selectors it publishes and how (TXT or CNAME into its
own zone), and which Return-Path CNAME makes the envelope the customer's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from launchready.email.psl import organizational_domain

Envelope = Literal["own-domain", "provider"]


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    aliases: tuple[str, ...]
    envelope: Envelope
    default_envelope: str
    dkim_selectors: tuple[str, ...]
    dkim_pattern: str | None
    dkim_cname_suffixes: tuple[str, ...]
    return_path_labels: tuple[str, ...]
    return_path_cname_suffixes: tuple[str, ...]
    records: tuple[str, ...]
    setup: str
    sources: tuple[str, ...]

    def owns_selector(self, selector: str, cname_target: str | None) -> bool:
        """Whether a key at ``selector`` (reached through ``cname_target``, if an alias) is this provider's."""
        if cname_target is not None:
            # A key served from a provider's zone belongs to that provider, whatever the selector.
            return any(_under(cname_target, s) for s in self.dkim_cname_suffixes)
        if selector in self.dkim_selectors:
            return True
        return self.dkim_pattern is not None and re.match(self.dkim_pattern, selector) is not None

    @property
    def selectors_guessable(self) -> bool:
        """Its selectors have fixed names we can ask (Postmark's and SES's are per-customer tokens)."""
        return bool(self.dkim_selectors)


def _under(name: str, suffix: str) -> bool:
    name = name.lower().rstrip(".")
    return name == suffix or name.endswith("." + suffix)


@lru_cache(maxsize=1)
def providers() -> tuple[Provider, ...]:
    raw = resources.files("launchready").joinpath("data", "email", "senders.json").read_text("utf-8")
    out: list[Provider] = []
    for p in json.loads(raw)["providers"]:
        out.append(
            Provider(
                id=p["id"],
                name=p["name"],
                aliases=tuple(p["aliases"]),
                envelope=p["envelope"],
                default_envelope=p.get("default_envelope") or "",
                dkim_selectors=tuple(p["dkim_selectors"]),
                dkim_pattern=p.get("dkim_pattern"),
                dkim_cname_suffixes=tuple(p["dkim_cname_suffixes"]),
                return_path_labels=tuple(p["return_path_labels"]),
                return_path_cname_suffixes=tuple(p["return_path_cname_suffixes"]),
                records=tuple(p["records"]),
                setup=p["setup"],
                sources=tuple(p["sources"]),
            )
        )
    return tuple(out)


def provider_for(sender: str) -> Provider | None:
    """The provider a configured sender names (``postmark``), or None (an address, include:, unknown name)."""
    name = sender.strip().lower()
    for p in providers():
        if name in p.aliases:
            return p
    return None


@dataclass(frozen=True)
class DkimKeyFact:
    selector: str
    usable: bool  # a key record that parses, not revoked
    cname_target: str | None  # the alias target when the selector is a CNAME (provider-hosted key)


@dataclass(frozen=True)
class SenderFacts:
    """What DNS says about one declared sender's chances of DMARC alignment for the From domain."""

    sender: str  # as configured
    provider: Provider | None
    # Own-domain envelope (own servers, Google, Microsoft): does SPF pass for it? None: unknown.
    spf_pass: bool | None
    spf_detail: str
    keys: tuple[DkimKeyFact, ...]  # the selectors asked that have a key record
    return_paths: tuple[tuple[str, str], ...] = ()  # (name, CNAME target) of custom Return-Paths found
    declared_selectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlignmentVerdict:
    sender: str
    can_align: bool | None  # None: nothing to judge (an unknown include:, a DNS failure)
    conclusive: bool  # False when the provider's selectors cannot be guessed and none was declared
    evidence: tuple[str, ...]
    fix: str


def aligned(a: str, b: str, mode: str) -> bool:
    """RFC 7489 3.1: strict needs the same name, relaxed the same organizational domain."""
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    if mode == "s":
        return a == b
    return organizational_domain(a) == organizational_domain(b)


def judge_sender(domain: str, facts: SenderFacts, *, aspf: str = "r", adkim: str = "r") -> AlignmentVerdict:
    p = facts.provider
    name = p.name if p else facts.sender
    evidence: list[str] = []
    # DKIM keys published under <selector>._domainkey.<domain>: d=<domain>, aligned in either mode.
    own_keys = [k for k in facts.keys if k.usable and (p is None or p.owns_selector(k.selector, k.cname_target))]
    if p is not None and own_keys:
        k = own_keys[0]
        via = f" (CNAME to {k.cname_target})" if k.cname_target else ""
        return AlignmentVerdict(
            facts.sender,
            True,
            True,
            (f"{name}: DKIM key at {k.selector}._domainkey.{domain}{via}: d={domain} aligns",),
            "",
        )
    if p is None or p.envelope == "own-domain":
        if facts.spf_pass:
            return AlignmentVerdict(
                facts.sender, True, True, (f"{name}: envelope is @{domain} and {facts.spf_detail}",), ""
            )
        if facts.spf_pass is None or p is None:
            # Unknown, or an own server failing SPF: email.spf reports that (sender-not-authorized).
            return AlignmentVerdict(facts.sender, None, False, (f"{name}: {facts.spf_detail}",), "")
        evidence.append(f"{name}: envelope is @{domain} but SPF fails: {facts.spf_detail}")
    else:
        rp = [(n, t) for n, t in facts.return_paths if aligned(n, domain, aspf)]
        if rp:
            n, t = rp[0]
            return AlignmentVerdict(
                facts.sender, True, True, (f"{name}: custom Return-Path {n} (CNAME to {t}) aligns with {domain}",), ""
            )
        labels = ", ".join(f"{label}.{domain}" for label in p.return_path_labels)
        evidence.append(
            f"{name}: envelope (Return-Path) is {p.default_envelope}, not {domain}: SPF passes for {p.default_envelope}, "
            "which does not align" + (f" (no custom Return-Path CNAME at {labels})" if labels else "")
        )
        if facts.return_paths and aspf == "s":
            evidence.append(
                f"aspf=s: a Return-Path on a subdomain ({facts.return_paths[0][0]}) does not align strictly"
            )
    asked = sorted({*p.dkim_selectors, *facts.declared_selectors})
    evidence.append(
        f"{name}: no DKIM key of theirs for {domain} at "
        + (", ".join(f"{s}._domainkey" for s in asked) if asked else "any selector we can guess")
    )
    conclusive = p.selectors_guessable or any(p.owns_selector(s, None) for s in facts.declared_selectors)
    if not conclusive:
        evidence.append(
            f"{name}'s DKIM selectors are per-customer: list yours in launchready.toml [email] dkim_selectors to check it"
        )
    records = " and ".join(r.format(domain=domain) for r in p.records)
    fix = f"{p.setup.format(domain=domain)} Publish {records}."
    return AlignmentVerdict(facts.sender, False, conclusive, tuple(evidence), fix)
