"""SPF, DKIM, DMARC and ARC verdicts for one received message, over the run's DNS.

SPF is the project's own RFC 7208 evaluator (``probes/spf.py``). DKIM and ARC signatures are
verified by dkimpy; its DNS look-ups are answered from keys this module fetched beforehand
through the run's resolver (so ``--nameserver`` applies and a DNS timeout stays a temperror,
never a hang inside a synchronous library). DMARC (RFC 7489) is evaluated here with the
project's record parser and Public Suffix List. Result words are RFC 8601's.
"""

from __future__ import annotations

import asyncio
import binascii
import re
from dataclasses import dataclass, field

import dkim  # type: ignore[import-untyped]
from dkim.util import InvalidTagValueList, parse_tag_value  # type: ignore[import-untyped]

from launchready.email.alignment import aligned
from launchready.email.dmarc_record import DmarcRecord
from launchready.email.psl import organizational_domain
from launchready.mailtest.message import ParsedMessage, domain_of
from launchready.probes.spf import SpfResolver, check_host, idna_problem

# More signatures than this are not verified one by one: each costs a DNS query and an RSA
# operation, and a sender never needs more than a few (its own, its provider's, a list's).
MAX_SIGNATURES = 10
# RFC 8301 3.2: verifiers must not accept RSA keys under 1024 bits; 2048 is what senders should use.
MIN_RSA_BITS = 1024
GOOD_RSA_BITS = 2048
# dkimpy's header parser slows down sharply on megabytes of header; no real message has more than
# a few dozen kilobytes, so a larger header section is refused, not verified at length.
MAX_HEADER_BYTES = 1024 * 1024
AUTHSERV_ID = "launchready"
_SIG_HEADERS = ("dkim-signature", "arc-seal", "arc-message-signature")


@dataclass(frozen=True)
class SpfVerdict:
    result: str  # none, neutral, pass, fail, softfail, temperror, permerror
    domain: str  # the domain checked (MAIL FROM's, or HELO's for a null sender)
    mail_from: str
    helo: str
    client_ip: str | None
    reason: str | None = None


@dataclass(frozen=True)
class DkimVerdict:
    result: str  # pass, fail, neutral, temperror, permerror
    domain: str
    selector: str
    algorithm: str
    key_bits: int | None = None
    body_length: int | None = None  # the l= tag
    signed_headers: tuple[str, ...] = ()
    reason: str | None = None
    signature_b: str = ""  # the first characters of b=, RFC 8601's header.b


@dataclass(frozen=True)
class DmarcVerdict:
    result: str  # none, pass, fail, temperror, permerror
    from_domain: str
    record_domain: str | None = None
    policy: str | None = None  # the policy that applies to the From domain (p= or sp=)
    aligned_domain: str | None = None
    aligned_by: str | None = None  # "spf" or "dkim"
    aspf: str = "r"
    adkim: str = "r"
    reason: str | None = None


@dataclass(frozen=True)
class ArcVerdict:
    result: str  # none, pass, fail
    reason: str | None = None


@dataclass(frozen=True)
class AuthVerdict:
    spf: SpfVerdict
    dkim: tuple[DkimVerdict, ...]
    dmarc: DmarcVerdict
    arc: ArcVerdict
    signatures_skipped: int = 0
    key_lookups: dict[str, str] = field(default_factory=dict)  # key name -> DNS status

    def authentication_results(self) -> str:
        """The verdicts as one RFC 8601 Authentication-Results header field."""
        spf = f"spf={self.spf.result}"
        if self.spf.reason:
            spf += f" ({_comment(self.spf.reason)})"
        spf += f" smtp.mailfrom={self.spf.mail_from or '<>'}"
        if self.spf.helo:
            spf += f" smtp.helo={self.spf.helo}"
        items = [spf]
        if not self.dkim:
            items.append("dkim=none")
        for sig in self.dkim:
            text = f"dkim={sig.result}"
            if sig.reason:
                text += f" ({_comment(sig.reason)})"
            text += f" header.d={sig.domain} header.s={sig.selector}"
            if sig.signature_b:
                text += f" header.b={sig.signature_b}"
            items.append(text)
        dmarc = f"dmarc={self.dmarc.result}"
        if self.dmarc.policy:
            dmarc += f" (p={self.dmarc.policy})"
        elif self.dmarc.reason:
            dmarc += f" ({_comment(self.dmarc.reason)})"
        items.append(dmarc + f" header.from={self.dmarc.from_domain or '(none)'}")
        if self.arc.result != "none":
            items.append(f"arc={self.arc.result}")
        return f"Authentication-Results: {AUTHSERV_ID};\n " + ";\n ".join(items)


def _comment(text: str) -> str:
    # RFC 5322 comments cannot hold unbalanced parentheses or backslashes.
    return re.sub(r"[()\\\r\n]", " ", text)[:200]


def _text(value: bytes | None) -> str:
    return value.decode("ascii", errors="replace") if value else ""


def header_bytes(raw: bytes) -> int:
    """The size of the header section: up to the first empty line (the whole message if none)."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return min(ends) if ends else len(raw)


@dataclass(frozen=True)
class _Signature:
    domain: str
    selector: str
    algorithm: str
    body_length: int | None
    signed_headers: tuple[str, ...]
    b: str
    problem: str | None  # unparseable tags: no verification possible


def _signatures(message: ParsedMessage, name: str) -> list[_Signature]:
    out: list[_Signature] = []
    for value in message.all(name):
        try:
            tags = parse_tag_value(value.encode("utf-8", errors="replace"))
        except InvalidTagValueList as exc:
            out.append(_Signature("", "", "", None, (), "", f"unparseable tag list: {exc}"))
            continue
        length = tags.get(b"l")
        body_length = int(length) if length is not None and length.isdigit() else None
        headers = tuple(h.strip().lower() for h in _text(tags.get(b"h")).split(":") if h.strip())
        missing = [t for t in ("d", "s", "b") if tags.get(t.encode()) is None]
        out.append(
            _Signature(
                domain=_text(tags.get(b"d")).lower().rstrip("."),
                selector=_text(tags.get(b"s")),
                algorithm=_text(tags.get(b"a")),
                body_length=body_length,
                signed_headers=headers,
                b=re.sub(r"\s", "", _text(tags.get(b"b")))[:8],
                problem=f"missing tag(s) {', '.join(missing)}" if missing else None,
            )
        )
    return out


async def _fetch_keys(resolver: SpfResolver, names: set[str]) -> dict[str, tuple[str, bytes | None]]:
    """key name -> (DNS status, the first TXT record's bytes)."""

    async def one(name: str) -> tuple[str, tuple[str, bytes | None]]:
        answer = await resolver.query(name, "TXT")
        # Several TXT records at a key name happen (a verification token beside the key): take the key.
        keys = [r for r in answer.records if "p=" in r] or list(answer.records)
        record = keys[0].encode("utf-8", errors="replace") if keys else None
        return name, (answer.status, record)

    return dict(await asyncio.gather(*(one(n) for n in sorted(names))))


def _key_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}".lower()


def _verify_dkim(
    message: ParsedMessage, signatures: list[_Signature], keys: dict[str, tuple[str, bytes | None]]
) -> list[DkimVerdict]:
    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode("ascii", errors="replace") if isinstance(name, bytes) else name
        return keys.get(text.lower().rstrip("."), ("nxdomain", None))[1]

    verifier: dkim.DKIM | None = None
    verdicts: list[DkimVerdict] = []
    for index, sig in enumerate(signatures):

        def verdict(result: str, reason: str | None, bits: int | None = None, sig: _Signature = sig) -> DkimVerdict:
            return DkimVerdict(
                result,
                sig.domain,
                sig.selector,
                sig.algorithm,
                bits,
                sig.body_length,
                sig.signed_headers,
                reason,
                sig.b,
            )

        if sig.problem is not None:
            verdicts.append(verdict("permerror", sig.problem))
            continue
        if "from" not in sig.signed_headers:
            verdicts.append(verdict("permerror", "h= does not include From (RFC 6376 6.1.1)"))
            continue
        if header_bytes(message.raw) > MAX_HEADER_BYTES:
            verdicts.append(verdict("permerror", f"header section over {MAX_HEADER_BYTES} bytes: not verified"))
            continue
        status, record = keys.get(_key_name(sig.selector, sig.domain), ("error", None))
        if status in ("timeout", "servfail", "error"):
            verdicts.append(verdict("temperror", f"key lookup {_key_name(sig.selector, sig.domain)}: {status}"))
            continue
        if record is None:
            verdicts.append(verdict("permerror", f"no key at {_key_name(sig.selector, sig.domain)} ({status})"))
            continue
        try:
            # dkimpy turns an unusable key into a plain False; check it first so that reads as permerror.
            dkim.evaluate_pk(_key_name(sig.selector, sig.domain).encode(), record)
        except dkim.NaClNotFoundError:
            # Our limitation, not the sender's: say the signature was not judged (RFC 8601 neutral).
            verdicts.append(verdict("neutral", "Ed25519 verification needs PyNaCl, which is not installed"))
            continue
        except (dkim.DKIMException, binascii.Error, ValueError) as exc:
            verdicts.append(verdict("permerror", f"unusable key at {_key_name(sig.selector, sig.domain)}: {exc}"))
            continue
        try:
            if verifier is None:
                # minkey=0: the key size is judged below (RFC 8301), with a finding that says so.
                verifier = dkim.DKIM(message.raw, minkey=0)
            passed = verifier.verify(idx=index, dnsfunc=dnsfunc)
            bits = int(verifier.keysize) if verifier.keysize else None
        except dkim.DKIMException as exc:
            verdicts.append(verdict("permerror" if not isinstance(exc, dkim.ValidationError) else "fail", str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - a third-party parser on hostile input: a verdict, not a crash
            verdicts.append(verdict("permerror", f"{type(exc).__name__}: {exc}"))
            continue
        if passed and bits is not None and sig.algorithm.startswith("rsa") and bits < MIN_RSA_BITS:
            verdicts.append(verdict("fail", f"{bits}-bit RSA key: receivers reject keys under 1024 bits", bits))
        elif passed:
            verdicts.append(verdict("pass", None, bits))
        else:
            verdicts.append(
                verdict("fail", "signature did not verify (body or signed headers changed, or wrong key)", bits)
            )
    return verdicts


def _verify_arc(message: ParsedMessage, keys: dict[str, tuple[str, bytes | None]]) -> ArcVerdict:
    if not message.all("arc-seal"):
        return ArcVerdict("none")
    if header_bytes(message.raw) > MAX_HEADER_BYTES:
        return ArcVerdict("fail", f"header section over {MAX_HEADER_BYTES} bytes: not verified")

    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode("ascii", errors="replace") if isinstance(name, bytes) else name
        return keys.get(text.lower().rstrip("."), ("nxdomain", None))[1]

    try:
        cv, _, reason = dkim.arc_verify(message.raw, dnsfunc=dnsfunc, minkey=MIN_RSA_BITS)
    except Exception as exc:  # noqa: BLE001 - a third-party parser on hostile input: a verdict, not a crash
        return ArcVerdict("fail", f"{type(exc).__name__}: {exc}")
    result = _text(cv) or "none"
    return ArcVerdict(result if result in ("pass", "fail", "none") else "fail", reason or None)


async def _dmarc(
    resolver: SpfResolver, from_domain: str, spf: SpfVerdict, dkim_verdicts: list[DkimVerdict]
) -> DmarcVerdict:
    # RFC 7489 6.6.1: a From domain with no DNS form is a malformed From, not a DNS failure.
    problem = idna_problem(from_domain)
    if problem is not None:
        return DmarcVerdict("permerror", from_domain, reason=f"the From domain has no DNS form: {problem}")
    org = organizational_domain(from_domain)
    record: DmarcRecord | None = None
    record_domain = None
    for candidate in dict.fromkeys((from_domain, org)):
        answer = await resolver.query(f"_dmarc.{candidate}", "TXT")
        if answer.failed:
            return DmarcVerdict("temperror", from_domain, reason=f"_dmarc.{candidate} TXT: {answer.status}")
        found = [DmarcRecord.parse(r) for r in answer.records if r.strip().lower().startswith("v=dmarc1")]
        if len(found) > 1:
            return DmarcVerdict("permerror", from_domain, candidate, reason=f"_dmarc.{candidate} has several records")
        if found:
            record, record_domain = found[0], candidate
            break
    if record is None or record_domain is None:
        return DmarcVerdict("none", from_domain, reason="no DMARC record")
    if record.problem is not None:
        return DmarcVerdict("permerror", from_domain, record_domain, reason=record.problem)
    policy = record.policy if record_domain == from_domain else record.subdomain_policy
    aspf, adkim = record.alignment("aspf"), record.alignment("adkim")
    common = {
        "from_domain": from_domain,
        "record_domain": record_domain,
        "policy": policy,
        "aspf": aspf,
        "adkim": adkim,
    }
    if spf.result == "pass" and spf.domain and aligned(spf.domain, from_domain, aspf):
        return DmarcVerdict("pass", aligned_domain=spf.domain, aligned_by="spf", **common)  # type: ignore[arg-type]
    for sig in dkim_verdicts:
        if sig.result == "pass" and aligned(sig.domain, from_domain, adkim):
            return DmarcVerdict("pass", aligned_domain=sig.domain, aligned_by="dkim", **common)  # type: ignore[arg-type]
    why = []
    why.append(
        f"SPF {spf.result} for {spf.domain or '(no domain)'}"
        + (
            ""
            if spf.result != "pass"
            else f", not aligned with {from_domain} ({'strict' if aspf == 's' else 'relaxed'})"
        )
    )
    passing = [s.domain for s in dkim_verdicts if s.result == "pass"]
    why.append(
        f"DKIM passes only for {', '.join(passing)}, not aligned with {from_domain}"
        if passing
        else "no DKIM signature passes"
    )
    return DmarcVerdict("fail", reason="; ".join(why), **common)  # type: ignore[arg-type]


async def authenticate(
    resolver: SpfResolver,
    message: ParsedMessage,
    *,
    client_ip: str | None,
    helo: str = "",
    mail_from: str | None = None,
) -> AuthVerdict:
    """Every verdict for ``message``; ``mail_from`` defaults to its Return-Path."""
    if mail_from is None:
        return_path = message.addresses("return-path")
        mail_from = return_path[0] if return_path else ""
    if client_ip is None:
        sender_domain = domain_of(mail_from) or helo
        spf = SpfVerdict("none", sender_domain, mail_from, helo, None, "not evaluated: no connecting address given")
    elif not domain_of(mail_from) and not helo:
        spf = SpfVerdict("none", "", mail_from, helo, client_ip, "not evaluated: no envelope sender or HELO name")
    else:
        result = await check_host(resolver, client_ip, mail_from, helo=helo)
        reason = result.problem or (f"matched {result.matched}" if result.matched else None)
        spf = SpfVerdict(result.result, result.domain.lower().rstrip("."), mail_from, helo, client_ip, reason)

    dkim_sigs = _signatures(message, "dkim-signature")
    skipped = max(0, len(dkim_sigs) - MAX_SIGNATURES)
    dkim_sigs = dkim_sigs[:MAX_SIGNATURES]
    arc_sigs = [s for name in _SIG_HEADERS[1:] for s in _signatures(message, name)][: MAX_SIGNATURES * 2]
    names = {_key_name(s.selector, s.domain) for s in dkim_sigs + arc_sigs if s.problem is None and s.domain}
    keys = await _fetch_keys(resolver, names)
    # dkimpy is synchronous and CPU-bound (RSA); keep the event loop free for other messages.
    dkim_verdicts = await asyncio.to_thread(_verify_dkim, message, dkim_sigs, keys)
    arc = await asyncio.to_thread(_verify_arc, message, keys)

    from_addresses = message.addresses("from")
    from_domains = {domain_of(a) for a in from_addresses}
    if len(message.all("from")) != 1 or len(from_domains) != 1 or not next(iter(from_domains)):
        dmarc = DmarcVerdict(
            "permerror",
            ",".join(sorted(d for d in from_domains if d)),
            reason="DMARC needs exactly one From address with a domain (RFC 7489 6.6.1)",
        )
    else:
        dmarc = await _dmarc(resolver, next(iter(from_domains)), spf, dkim_verdicts)
    statuses = {name: status for name, (status, _) in keys.items()}
    return AuthVerdict(spf, tuple(dkim_verdicts), dmarc, arc, skipped, statuses)
