"""SPF evaluation (RFC 7208 check_host) and the static include tree, over the run's DNS.

Our own async evaluator rather than pyspf or checkdmarc (see ARCHITECTURE.md): it resolves
through any ``SpfResolver`` (the run's ``DnsProbe``, so ``--nameserver`` and the per-run cache
apply), counts DNS-querying terms across the whole include tree (limit 10, void limit 2,
RFC 7208 4.6.4), tells a DNS timeout (temperror) from a missing record (none), and never raises
for what the DNS returns: every problem is part of the result.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Protocol

import dns.exception
import dns.name

from launchready.core.dns import DnsAnswer, parse_mx
from launchready.email.spf_facts import LOOKUP_LIMIT as LOOKUP_LIMIT
from launchready.email.spf_facts import RECOMMENDED_MAX_LENGTH as RECOMMENDED_MAX_LENGTH
from launchready.email.spf_facts import VOID_LIMIT as VOID_LIMIT
from launchready.email.spf_facts import SenderVerdict as SenderVerdict
from launchready.email.spf_facts import SpfNode as SpfNode
from launchready.email.spf_macro import MacroContext, expand, expand_domain, uses_p_macro
from launchready.email.spf_syntax import (
    Mechanism,
    SpfRecord,
    SpfSyntaxError,
    check_macro_string,
    is_spf_record,
    parse_spf,
)

MX_LIMIT = 10
PTR_LIMIT = 10

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class SpfResolver(Protocol):
    async def query(self, name: str, rdtype: str) -> DnsAnswer: ...


class _TempError(Exception):
    pass


class _PermError(Exception):
    pass


@dataclass
class _Budget:
    lookups: int = 0
    void: int = 0

    def spend(self) -> None:
        self.lookups += 1
        if self.lookups > LOOKUP_LIMIT:
            raise _PermError(f"more than {LOOKUP_LIMIT} DNS-querying terms (RFC 7208 4.6.4)")

    def void_lookup(self) -> None:
        self.void += 1
        if self.void > VOID_LIMIT:
            raise _PermError(f"more than {VOID_LIMIT} lookups returned no records (RFC 7208 4.6.4)")


@dataclass(frozen=True)
class SpfResult:
    result: str  # pass, fail, softfail, neutral, none, temperror, permerror
    domain: str
    explanation: str | None = None  # for fail: the exp= text, else None (the default)
    matched: str | None = None  # the mechanism that matched
    problem: str | None = None  # why permerror / temperror
    lookups: int = 0
    void_lookups: int = 0


def idna_problem(name: str) -> str | None:
    """Why ``name`` has no DNS form (a U-label IDNA 2008 disallows, an A-label that decodes to
    nothing, bytes that were never text), or None when it can be asked of the DNS.

    Such a name is malformed, not unreachable: asking would fail the same way every time, so it
    must not read as a DNS error (a temperror, "try again later")."""
    try:
        for label in dns.name.from_text(name.lower()).labels:
            if label.startswith(b"xn--"):
                dns.name.IDNA_2008.decode(label)
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        return f"{name!r} is not a valid domain name ({exc})"
    return None


def valid_domain(name: str) -> bool:
    """RFC 7208 4.3: an FQDN whose labels are 1..63 octets (a trailing dot allowed), with a DNS form."""
    name = name[:-1] if name.endswith(".") else name
    if not name or "." not in name or len(name) > 253:
        return False
    return all(0 < len(label) <= 63 for label in name.split(".")) and idna_problem(name) is None


def _valid_query_name(name: str) -> bool:
    name = name[:-1] if name.endswith(".") else name
    return bool(name) and all(0 < len(label) <= 63 for label in name.split(".")) and idna_problem(name) is None


def split_sender(sender: str, helo: str) -> tuple[str, str]:
    """(sender with a local-part, domain); an empty MAIL FROM is postmaster@HELO (RFC 7208 2.4)."""
    if not sender:
        return f"postmaster@{helo}", helo
    local, at, domain = sender.rpartition("@")
    if not at:
        return f"postmaster@{sender}", sender
    return f"{local or 'postmaster'}@{domain}", domain


async def fetch_spf(resolver: SpfResolver, domain: str) -> tuple[str, list[str], DnsAnswer]:
    """("ok"|"none"|"multiple"|"temperror", the v=spf1 records, the raw TXT answer)."""
    answer = await resolver.query(domain, "TXT")
    if answer.failed:
        return "temperror", [], answer
    records = [r for r in answer.records if is_spf_record(r)]
    if not records:
        return "none", [], answer
    if len(records) > 1:
        return "multiple", records, answer
    return "ok", records, answer


@dataclass
class _Evaluation:
    resolver: SpfResolver
    ip: IPAddress
    sender: str
    helo: str
    budget: _Budget = field(default_factory=_Budget)
    validated_name: str | None = None

    def ctx(self, domain: str) -> MacroContext:
        return MacroContext(
            sender=self.sender,
            domain=domain,
            ip=self.ip,
            helo=self.helo,
            validated_name=self.validated_name or "unknown",
        )

    async def lookup(self, name: str, rdtype: str) -> tuple[str, ...]:
        """Records of ``name``; DNS failure raises _TempError; NXDOMAIN/NODATA count as void."""
        if not _valid_query_name(name):
            self.budget.void_lookup()
            return ()
        answer = await self.resolver.query(name, rdtype)
        if answer.failed:
            raise _TempError(f"{rdtype} {name}: {answer.status}")
        if not answer.records:
            self.budget.void_lookup()
        return answer.records

    async def addresses(self, name: str) -> list[IPAddress]:
        rdtype = "A" if self.ip.version == 4 else "AAAA"
        out: list[IPAddress] = []
        for text in await self.lookup(name, rdtype):
            try:
                out.append(ipaddress.ip_address(text))
            except ValueError:
                continue
        return out

    def in_cidr(self, address: IPAddress, mech: Mechanism) -> bool:
        if address.version != self.ip.version:
            return False
        prefix = mech.cidr4 if self.ip.version == 4 else mech.cidr6
        if prefix is None:
            return address == self.ip
        return self.ip in ipaddress.ip_network(f"{address}/{prefix}", strict=False)

    async def validated_names(self, domain: str | None) -> list[str]:
        """PTR names of the client whose forward lookup returns its address (RFC 7208 5.5)."""
        if self.ip.version == 4:
            rev = ".".join(reversed(str(self.ip).split("."))) + ".in-addr.arpa"
        else:
            rev = ".".join(reversed(self.ip.exploded.replace(":", ""))) + ".ip6.arpa"
        answer = await self.resolver.query(rev, "PTR")
        if not answer.ok:
            return []
        names = [r.rstrip(".").lower() for r in answer.records][:PTR_LIMIT]
        if domain is not None:
            # Names matching the target first: the RFC lets us stop at the first validated one.
            names.sort(key=lambda n: not (n == domain or n.endswith("." + domain)))
        out: list[str] = []
        rdtype = "A" if self.ip.version == 4 else "AAAA"
        for name in names:
            fwd = await self.resolver.query(name, rdtype)
            if not fwd.ok:
                continue
            if any(_same_ip(text, self.ip) for text in fwd.records):
                out.append(name)
        return out

    async def match(self, mech: Mechanism, domain: str) -> bool:
        if mech.name == "all":
            return True
        if mech.name in ("ip4", "ip6"):
            assert mech.network is not None
            return mech.network.version == self.ip.version and self.ip in mech.network
        self.budget.spend()
        target = expand_domain(mech.domain_spec, self.ctx(domain)) if mech.domain_spec else domain
        if mech.name == "a":
            return any(self.in_cidr(a, mech) for a in await self.addresses(target))
        if mech.name == "mx":
            records = await self.lookup(target, "MX")
            if len(records) > MX_LIMIT:
                raise _PermError(f"mx: {target} has more than {MX_LIMIT} MX records")
            for record in records:
                mx = parse_mx(record)
                if mx is None or mx.is_null:
                    continue
                if any(self.in_cidr(a, mech) for a in await self.addresses(mx.exchange)):
                    return True
            return False
        if mech.name == "ptr":
            target = target.lower().rstrip(".")
            for name in await self.validated_names(target):
                if name == target or name.endswith("." + target):
                    return True
            return False
        if mech.name == "exists":
            return bool(await self.lookup(target, "A"))
        if mech.name == "include":
            sub = await self.check_host(target, depth=1)
            if sub.result == "pass":
                return True
            if sub.result in ("fail", "softfail", "neutral"):
                return False
            if sub.result == "temperror":
                raise _TempError(sub.problem or f"include:{target}: temperror")
            raise _PermError(sub.problem or f"include:{target}: {sub.result}")
        raise _PermError(f"unknown mechanism {mech.name}")

    async def check_host(self, domain: str, *, depth: int = 0) -> SpfResult:
        def result(name: str, **kw: str | None) -> SpfResult:
            return SpfResult(name, domain, lookups=self.budget.lookups, void_lookups=self.budget.void, **kw)

        # RFC 7208 4.3: a malformed domain is "none" (no SPF can be found for it), not a DNS error.
        if not valid_domain(domain):
            return result("none", problem=idna_problem(domain) or f"{domain!r} is not a valid domain name")
        domain = domain.rstrip(".")
        status, records, answer = await fetch_spf(self.resolver, domain)
        if status == "temperror":
            return result("temperror", problem=f"TXT {domain}: {answer.status}")
        if status == "none":
            return result("none", problem=f"{domain} publishes no SPF record")
        if status == "multiple":
            return result("permerror", problem=f"{domain} publishes {len(records)} SPF records")
        try:
            record = parse_spf(records[0])
        except SpfSyntaxError as exc:
            return result("permerror", problem=f"{domain}: {exc}")
        try:
            return await self._evaluate(record, domain, depth)
        except _TempError as exc:
            return result("temperror", problem=str(exc))
        except _PermError as exc:
            return result("permerror", problem=str(exc))
        except SpfSyntaxError as exc:
            return result("permerror", problem=f"{domain}: {exc}")

    async def _evaluate(self, record: SpfRecord, domain: str, depth: int) -> SpfResult:
        if depth > 20:
            raise _PermError("include/redirect nesting too deep (a loop)")
        for mech in record.mechanisms:
            if await self.match(mech, domain):
                explanation = None
                if mech.result == "fail" and depth == 0:
                    explanation = await self.explain(record, domain)
                return SpfResult(
                    mech.result,
                    domain,
                    explanation=explanation,
                    matched=mech.text,
                    lookups=self.budget.lookups,
                    void_lookups=self.budget.void,
                )
        redirect = record.redirect
        if redirect is not None and record.all_mechanism is None:
            self.budget.spend()
            target = expand_domain(redirect, self.ctx(domain))
            sub = await self.check_host(target, depth=depth + 1 if depth else 0)
            if sub.result == "none":
                raise _PermError(f"redirect={target}: no SPF record there")
            if depth and sub.result in ("temperror", "permerror"):
                raise (_TempError if sub.result == "temperror" else _PermError)(sub.problem or sub.result)
            return sub
        return SpfResult("neutral", domain, lookups=self.budget.lookups, void_lookups=self.budget.void)

    async def explain(self, record: SpfRecord, domain: str) -> str | None:
        """The exp= text, or None for the default when anything about it fails (RFC 7208 6.2)."""
        spec = record.exp
        if spec is None:
            return None
        try:
            if uses_p_macro(spec) and self.validated_name is None:
                await self._fill_validated_name(domain)
            name = expand_domain(spec, self.ctx(domain))
            if not _valid_query_name(name):
                return None
            answer = await self.resolver.query(name, "TXT")
            if not answer.ok or len(answer.records) != 1:
                return None
            text = answer.records[0]
            if any(ord(c) > 0x7E for c in text):
                return None
            check_macro_string(text, exp=True)
            if uses_p_macro(text) and self.validated_name is None:
                await self._fill_validated_name(domain)
            return expand(text, self.ctx(domain), exp=True)
        except SpfSyntaxError:
            return None

    async def _fill_validated_name(self, domain: str) -> None:
        names = await self.validated_names(domain)
        self.validated_name = names[0] if names else "unknown"


def _same_ip(text: str, ip: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(text) == ip
    except ValueError:
        return False


def _client_ip(ip: str | IPAddress) -> IPAddress:
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


async def check_host(
    resolver: SpfResolver, ip: str | IPAddress, sender: str, *, helo: str = "", domain: str | None = None
) -> SpfResult:
    """RFC 7208 check_host() for the MAIL FROM ``sender`` (or HELO when empty) from ``ip``."""
    full_sender, sender_domain = split_sender(sender, helo)
    evaluation = _Evaluation(resolver, _client_ip(ip), full_sender, helo)
    target = domain if domain is not None else sender_domain
    if "@" in full_sender and not full_sender.rpartition("@")[2]:
        return SpfResult("none", target, problem="the sender has no domain")
    if evaluation.validated_name is None:
        # %{p} in the record itself is expanded lazily only through exp; for domain-specs the
        # name is looked up once up front when needed (rare: RFC 7208 discourages %{p}).
        status, records, _ = (await fetch_spf(resolver, target)) if valid_domain(target) else ("none", [], None)
        if status == "ok" and uses_p_macro(records[0]):
            await evaluation._fill_validated_name(target.rstrip(".").lower())
    return await evaluation.check_host(target)


# --- the static include tree: every record reachable through include: and redirect= -------------

_TREE_MAX_DEPTH = 12
_TREE_MAX_NODES = 60


@dataclass
class _TreeWalk:
    resolver: SpfResolver
    nodes: int = 0

    async def node(self, domain: str, via: str, stack: tuple[str, ...]) -> SpfNode:
        self.nodes += 1
        domain = domain.lower().rstrip(".")
        if domain in stack:
            return SpfNode(domain, via, "loop", problem=f"{domain} includes itself: " + " -> ".join((*stack, domain)))
        if len(stack) >= _TREE_MAX_DEPTH or self.nodes > _TREE_MAX_NODES:
            return SpfNode(domain, via, "truncated", problem="include tree too deep or too wide to follow")
        if not _valid_query_name(domain):
            return SpfNode(domain, via, "none", problem=f"{domain!r} is not a valid domain name")
        status, records, answer = await fetch_spf(self.resolver, domain)
        if status == "temperror":
            return SpfNode(domain, via, "temperror", problem=f"TXT {domain}: {answer.status}")
        if status == "none":
            return SpfNode(domain, via, "none", problem=f"{domain} publishes no SPF record")
        if status == "multiple":
            return SpfNode(
                domain, via, "multiple", record=records[0], problem=f"{domain} publishes {len(records)} SPF records"
            )
        try:
            record = parse_spf(records[0])
        except SpfSyntaxError as exc:
            return SpfNode(domain, via, "syntax", record=records[0], problem=str(exc))
        return await self._expand(record, domain, via, (*stack, domain))

    async def _expand(self, record: SpfRecord, domain: str, via: str, stack: tuple[str, ...]) -> SpfNode:
        lookups = void = 0
        uses_ptr = False
        macro_targets: list[str] = []
        follow: list[tuple[str, str]] = []
        for mech in record.mechanisms:
            if not mech.costs_lookup:
                continue
            lookups += 1
            target = mech.domain_spec or domain
            if "%" in target:
                if mech.name == "include":
                    macro_targets.append(f"include:{target}")
                continue
            if mech.name == "include":
                follow.append((f"include:{target}", target))
            elif mech.name == "ptr":
                uses_ptr = True
            elif mech.name in ("a", "exists"):
                if not await self._has_records(target, "A") and not await self._has_records(target, "AAAA"):
                    void += 1
            elif mech.name == "mx" and not await self._has_records(target, "MX"):
                void += 1
        redirect = record.redirect
        if redirect is not None and record.all_mechanism is None:
            lookups += 1
            if "%" in redirect:
                macro_targets.append(f"redirect={redirect}")
            else:
                follow.append((f"redirect={redirect}", redirect))
        children = [await self.node(target, how, stack) for how, target in follow]
        return SpfNode(
            domain,
            via,
            "ok",
            record=record.text,
            lookups=lookups,
            void=void,
            uses_ptr=uses_ptr,
            macro_targets=tuple(macro_targets),
            children=tuple(children),
        )

    async def _has_records(self, name: str, rdtype: str) -> bool:
        if not _valid_query_name(name):
            return False
        answer = await self.resolver.query(name, rdtype)
        # A DNS failure is not a void lookup: only "no such name" and "no such record" are.
        return answer.ok or answer.status not in ("nxdomain", "nodata")


async def spf_tree(resolver: SpfResolver, domain: str) -> SpfNode:
    """Follow every include: and redirect= from ``domain``'s SPF record (loops and depth bounded)."""
    return await _TreeWalk(resolver).node(domain, "", ())


# --- declared senders: would their mail pass SPF for the domain? ---------------------------------


async def evaluate_sender(
    resolver: SpfResolver, domain: str, sender: str, mechanism: str, tree: SpfNode
) -> SenderVerdict:
    """Whether mail from ``sender`` passes SPF for ``domain``.

    Addresses (ip4:/ip6:, a, mx) are evaluated with check_host() from that address; providers
    (include:X) pass when X is reachable in the domain's include tree, since their sending
    addresses are theirs to change.
    """
    kind, _, value = mechanism.partition(":")
    kind = kind.lower()
    if kind == "include":
        if "<" in value:
            return SenderVerdict(sender, mechanism, None, f"unknown provider {sender!r}: name its SPF include")
        included = {n.domain for n in tree.walk() if n.via.startswith(("include:", "redirect="))}
        if value.lower() in included:
            return SenderVerdict(sender, mechanism, True, f"{mechanism} is in the SPF include tree")
        return SenderVerdict(sender, mechanism, False, f"{mechanism} is not in {domain}'s SPF record")
    addresses: list[str] = []
    if kind in ("ip4", "ip6"):
        network = ipaddress.ip_network(value, strict=False)
        addresses = [str(network.network_address)]
    elif kind in ("a", "mx"):
        host = value or domain
        names = [host]
        if kind == "mx":
            answer = await resolver.query(host, "MX")
            names = list(answer.mx_hosts)
        for name in names:
            a, aaaa = await resolver.query(name, "A"), await resolver.query(name, "AAAA")
            addresses.extend(a.records + aaaa.records)
        if not addresses:
            return SenderVerdict(sender, mechanism, None, f"{mechanism}: no addresses found to test")
    else:
        return SenderVerdict(sender, mechanism, None, f"cannot test {mechanism}")
    for address in addresses[:4]:
        result = await check_host(resolver, address, f"postmaster@{domain}", helo=domain)
        if result.result == "temperror":
            return SenderVerdict(sender, mechanism, None, f"SPF check from {address}: temperror ({result.problem})")
        if result.result != "pass":
            why = f"{result.result}" + (f" ({result.problem})" if result.problem else "")
            return SenderVerdict(sender, mechanism, False, f"mail from {address} gets SPF {why}")
    return SenderVerdict(sender, mechanism, True, f"mail from {', '.join(addresses[:4])} gets SPF pass")
