"""Facts about each declared sender's DMARC alignment: its SPF result, DKIM keys and Return-Path CNAMEs."""

from __future__ import annotations

import asyncio

from launchready.core.dns import DnsAnswer
from launchready.core.protocols import DnsLookup
from launchready.email.alignment import DkimKeyFact, SenderFacts, provider_for
from launchready.email.dkim_record import looks_like_dkim, parse_dkim_key
from launchready.email.spf_facts import SenderVerdict, SpfNode
from launchready.probes.spf import evaluate_sender, spf_tree


async def _key(dns: DnsLookup, domain: str, selector: str) -> DkimKeyFact | None:
    name = f"{selector}._domainkey.{domain}"
    txt, cname = await asyncio.gather(dns.txt(name), dns.query(name, "CNAME"))
    keys = [parse_dkim_key(r) for r in txt.records if looks_like_dkim(r)] if txt.ok else []
    if not keys:
        return None
    usable = any(k.usable for k in keys)
    target = cname.names[0] if cname.ok and cname.names else None
    return DkimKeyFact(selector, usable, target)


def _cname_target(answer: DnsAnswer) -> str | None:
    return answer.names[0] if answer.ok and answer.names else None


async def sender_facts(
    dns: DnsLookup,
    domain: str,
    senders: tuple[tuple[str, str], ...],
    declared_selectors: tuple[str, ...],
) -> tuple[SenderFacts, ...]:
    """``senders`` are (configured sender, SPF mechanism) pairs, as email.spf derives them."""
    providers = {s: provider_for(s) for s, _ in senders}
    selectors = list(
        dict.fromkeys((*declared_selectors, *(sel for p in providers.values() if p for sel in p.dkim_selectors)))
    )
    keys = [k for k in await asyncio.gather(*(_key(dns, domain, s) for s in selectors)) if k is not None]
    tree: SpfNode | None = None
    out: list[SenderFacts] = []
    for sender, mechanism in senders:
        p = providers[sender]
        spf_pass: bool | None = None
        detail = "not asked"
        if p is None or p.envelope == "own-domain":
            if tree is None:
                tree = await spf_tree(dns, domain)
            if tree.status == "ok":
                verdict = await evaluate_sender(dns, domain, sender, mechanism, tree)
                spf_pass, detail = verdict.authorized, verdict.detail
            else:
                detail = f"{domain}'s SPF record cannot be evaluated ({tree.status})"
        return_paths: list[tuple[str, str]] = []
        if p is not None:
            for label in p.return_path_labels:
                target = _cname_target(await dns.query(f"{label}.{domain}", "CNAME"))
                if target is not None and any(
                    target == s or target.endswith("." + s) for s in p.return_path_cname_suffixes
                ):
                    return_paths.append((f"{label}.{domain}", target))
        out.append(SenderFacts(sender, p, spf_pass, detail, tuple(keys), tuple(return_paths), declared_selectors))
    return tuple(out)


class MailAuthProbe:
    """SPF evaluation and sender-alignment facts over the run's DNS (``core.protocols.MailAuth``)."""

    def __init__(self, dns: DnsLookup) -> None:
        self._dns = dns

    async def spf_tree(self, domain: str) -> SpfNode:
        return await spf_tree(self._dns, domain)

    async def evaluate_sender(self, domain: str, sender: str, mechanism: str, tree: SpfNode) -> SenderVerdict:
        return await evaluate_sender(self._dns, domain, sender, mechanism, tree)

    async def sender_facts(
        self, domain: str, senders: tuple[tuple[str, str], ...], declared_selectors: tuple[str, ...]
    ) -> tuple[SenderFacts, ...]:
        return await sender_facts(self._dns, domain, senders, declared_selectors)
