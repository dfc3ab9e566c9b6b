"""SPF record syntax (RFC 7208 section 12): a record's terms, parsed once, with the exact error.

``parse_spf`` either returns every term or raises ``SpfSyntaxError``; RFC 7208 4.6 makes any
syntax error anywhere in the record a permerror before a single mechanism is evaluated.
Macro strings are validated here (``check_macro_string``) and expanded in ``spf_macro``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

SPF_VERSION = re.compile(r"^v=spf1(?: |$)", re.IGNORECASE)
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
# Terms that cost a DNS lookup toward the limit of 10 (RFC 7208 4.6.4).
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})

_MODIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$", re.DOTALL)
_MECHANISM = re.compile(r"^([+?~-]?)([A-Za-z0-9]+)(.*)$", re.DOTALL)
_MACRO_EXPAND = re.compile(r"%(?:\{([A-Za-z])(\d*)(r?)([.+,/_=-]*)\}|%|_|-)", re.IGNORECASE)
_MACRO_LETTERS = frozenset("slodiphv")
_EXP_ONLY_LETTERS = frozenset("crt")
_TOPLABEL = re.compile(r"^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$")
_CIDR4 = r"(?:/(0|[1-9][0-9]?))"
_CIDR6 = r"(?:/(0|[1-9][0-9]{0,2}))"
_DUAL_CIDR = re.compile(rf"^(.*?){_CIDR4}?(?:/{_CIDR6})?$", re.DOTALL)

QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


class SpfSyntaxError(ValueError):
    """The record (or one term of it) does not follow RFC 7208's grammar."""


@dataclass(frozen=True)
class Mechanism:
    qualifier: str  # one of + - ~ ?
    name: str  # lower-cased: all, include, a, mx, ptr, ip4, ip6, exists
    domain_spec: str | None = None  # macro-string, unexpanded
    cidr4: int | None = None
    cidr6: int | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    text: str = ""

    @property
    def result(self) -> str:
        return QUALIFIERS[self.qualifier]

    @property
    def costs_lookup(self) -> bool:
        return self.name in LOOKUP_MECHANISMS


@dataclass(frozen=True)
class Modifier:
    name: str  # lower-cased
    value: str
    text: str = ""


Term = Mechanism | Modifier


@dataclass(frozen=True)
class SpfRecord:
    text: str
    terms: tuple[Term, ...]

    @property
    def mechanisms(self) -> tuple[Mechanism, ...]:
        return tuple(t for t in self.terms if isinstance(t, Mechanism))

    def modifier(self, name: str) -> Modifier | None:
        for term in self.terms:
            if isinstance(term, Modifier) and term.name == name:
                return term
        return None

    @property
    def redirect(self) -> str | None:
        mod = self.modifier("redirect")
        return mod.value if mod is not None else None

    @property
    def exp(self) -> str | None:
        mod = self.modifier("exp")
        return mod.value if mod is not None else None

    @property
    def all_mechanism(self) -> Mechanism | None:
        for mech in self.mechanisms:
            if mech.name == "all":
                return mech
        return None


def is_spf_record(text: str) -> bool:
    """RFC 7208 4.5: an SPF record starts with ``v=spf1`` followed by a space or its end."""
    return bool(SPF_VERSION.match(text))


def check_macro_string(text: str, *, exp: bool = False) -> None:
    """Raise SpfSyntaxError unless ``text`` is a valid macro-string (explain-string when ``exp``)."""
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "%":
            m = _MACRO_EXPAND.match(text, pos)
            if m is None:
                raise SpfSyntaxError(f"invalid macro at {text[pos : pos + 6]!r}")
            letter = m[1]
            if letter is not None:
                low = letter.lower()
                if low not in _MACRO_LETTERS and not (exp and low in _EXP_ONLY_LETTERS):
                    raise SpfSyntaxError(f"unknown macro letter %{{{letter}}}")
                if m[2] and int(m[2]) == 0:
                    raise SpfSyntaxError("a macro's digit transformer must not be 0")
            pos = m.end()
            continue
        code = ord(ch)
        if not (0x21 <= code <= 0x7E or (exp and code == 0x20)):
            raise SpfSyntaxError(f"character {ch!r} is not allowed in a macro-string")
        pos += 1


def check_domain_spec(text: str) -> None:
    """A domain-spec is a macro-string ending in '.' toplabel ['.'] or in a macro expansion."""
    if not text:
        raise SpfSyntaxError("empty domain-spec")
    check_macro_string(text)
    if _ends_with_macro(text):
        return
    body = text[:-1] if text.endswith(".") else text
    if "." not in body:
        raise SpfSyntaxError(f"domain-spec {text!r} has no top-level label")
    top = body.rsplit(".", 1)[1]
    if not _TOPLABEL.match(top):
        raise SpfSyntaxError(f"domain-spec {text!r}: {top!r} is not a valid top-level label")


def _ends_with_macro(text: str) -> bool:
    for m in _MACRO_EXPAND.finditer(text):
        if m.end() == len(text) and m[0] not in ("%%", "%_", "%-"):
            return True
    return False


def _parse_dual_cidr(rest: str) -> tuple[str | None, int | None, int | None]:
    """Split ``[:domain-spec][/cidr4][//cidr6]`` into its parts (domain None when absent)."""
    m = _DUAL_CIDR.match(rest)
    assert m is not None  # the pattern accepts any string
    head, c4, c6 = m[1], m[2], m[3]
    if c4 is not None and int(c4) > 32:
        raise SpfSyntaxError(f"IPv4 prefix length /{c4} is over 32")
    if c6 is not None and int(c6) > 128:
        raise SpfSyntaxError(f"IPv6 prefix length //{c6} is over 128")
    if head == "":
        return None, _int(c4), _int(c6)
    if not head.startswith(":"):
        raise SpfSyntaxError(f"unexpected {head!r}")
    return head[1:], _int(c4), _int(c6)


def _int(text: str | None) -> int | None:
    return int(text) if text is not None else None


def _parse_ip(name: str, rest: str, text: str) -> Mechanism:
    if not rest.startswith(":"):
        raise SpfSyntaxError(f"{text!r}: {name} needs ':' and an address")
    address, slash, length = rest[1:].partition("/")
    limit, pattern = (32, _CIDR4) if name == "ip4" else (128, _CIDR6)
    prefix = limit
    if slash:
        if not re.fullmatch(pattern, "/" + length):
            raise SpfSyntaxError(f"{text!r}: invalid prefix length /{length}")
        prefix = int(length)
        if prefix > limit:
            raise SpfSyntaxError(f"{text!r}: prefix length /{prefix} is over {limit}")
    try:
        ip = ipaddress.IPv4Address(address) if name == "ip4" else ipaddress.IPv6Address(address)
    except ValueError:
        raise SpfSyntaxError(f"{text!r}: {address!r} is not an {'IPv4' if name == 'ip4' else 'IPv6'} address") from None
    network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    return Mechanism("+", name, network=network, text=text)


def parse_term(text: str) -> Term:
    mod = _MODIFIER.match(text)
    if mod is not None and text[0] not in "+-~?":
        name, value = mod[1].lower(), mod[2]
        if name in ("redirect",):
            check_domain_spec(value)
        elif name == "exp":
            check_domain_spec(value)
        else:
            check_macro_string(value)
        return Modifier(name, value, text=text)
    mech = _MECHANISM.match(text)
    if mech is None:
        raise SpfSyntaxError(f"{text!r} is neither a mechanism nor a modifier")
    qualifier, name, rest = mech[1] or "+", mech[2].lower(), mech[3]
    if name not in MECHANISMS:
        raise SpfSyntaxError(f"unknown mechanism {mech[2]!r} in {text!r}")
    if name == "all":
        if rest:
            raise SpfSyntaxError(f"'all' takes no argument: {text!r}")
        return Mechanism(qualifier, name, text=text)
    if name in ("ip4", "ip6"):
        parsed = _parse_ip(name, rest, text)
        return Mechanism(qualifier, name, network=parsed.network, text=text)
    if name in ("include", "exists"):
        if not rest.startswith(":") or len(rest) == 1:
            raise SpfSyntaxError(f"{name} needs ':' and a domain: {text!r}")
        check_domain_spec(rest[1:])
        return Mechanism(qualifier, name, domain_spec=rest[1:], text=text)
    if name == "ptr":
        if rest == "":
            return Mechanism(qualifier, name, text=text)
        if not rest.startswith(":"):
            raise SpfSyntaxError(f"unexpected {rest!r} in {text!r}")
        check_domain_spec(rest[1:])
        return Mechanism(qualifier, name, domain_spec=rest[1:], text=text)
    domain, c4, c6 = _parse_dual_cidr(rest)  # a, mx
    if domain is not None:
        check_domain_spec(domain)
    return Mechanism(qualifier, name, domain_spec=domain, cidr4=c4, cidr6=c6, text=text)


def parse_spf(text: str) -> SpfRecord:
    """Parse a whole record (its TXT strings already joined); raises SpfSyntaxError."""
    if not is_spf_record(text):
        raise SpfSyntaxError("the record does not start with 'v=spf1'")
    if any(ord(c) > 0x7E for c in text):
        raise SpfSyntaxError("the record contains non-ASCII characters")
    terms: list[Term] = []
    seen_modifiers: set[str] = set()
    for raw in text[6:].split(" "):
        if raw == "":
            continue
        term = parse_term(raw)
        if isinstance(term, Modifier) and term.name in ("redirect", "exp"):
            if term.name in seen_modifiers:
                raise SpfSyntaxError(f"the {term.name}= modifier appears more than once")
            seen_modifiers.add(term.name)
        terms.append(term)
    return SpfRecord(text=text, terms=tuple(terms))
