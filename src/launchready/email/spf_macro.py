"""SPF macro expansion (RFC 7208 section 7), pure: the caller supplies %{p} already looked up."""

from __future__ import annotations

import ipaddress
import re
import time
import urllib.parse
from dataclasses import dataclass

from launchready.email.spf_syntax import SpfSyntaxError

_MACRO = re.compile(r"%(?:\{([A-Za-z])(\d*)(r?)([.+,/_=-]*)\}|%|_|-)", re.IGNORECASE)
_MAX_DOMAIN = 253


@dataclass(frozen=True)
class MacroContext:
    sender: str  # local-part@domain (local-part "postmaster" when the sender had none)
    domain: str  # the <domain> of the current check_host()
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    helo: str
    receiver: str = "unknown"  # %{r}: the host doing the check
    validated_name: str = "unknown"  # %{p}

    @property
    def local_part(self) -> str:
        return self.sender.rpartition("@")[0] or "postmaster"

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]


def ip_dotted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """%{i}: dotted quad for IPv4, dot-separated nibbles for IPv6 (RFC 7208 7.3)."""
    if ip.version == 4:
        return str(ip)
    # Upper-case nibbles, as in RFC 7208 7.4's example (DNS matching ignores case anyway).
    return ".".join(ip.exploded.replace(":", "").upper())


def _value(letter: str, ctx: MacroContext) -> str:
    values = {
        "s": ctx.sender,
        "l": ctx.local_part,
        "o": ctx.sender_domain,
        "d": ctx.domain,
        "i": ip_dotted(ctx.ip),
        "p": ctx.validated_name,
        "v": "in-addr" if ctx.ip.version == 4 else "ip6",
        "h": ctx.helo,
        "c": str(ctx.ip),
        "r": ctx.receiver,
        "t": str(int(time.time())),
    }
    return values[letter]


def uses_p_macro(text: str) -> bool:
    return any(m[1] is not None and m[1].lower() == "p" for m in _MACRO.finditer(text))


def expand(text: str, ctx: MacroContext, *, exp: bool = False) -> str:
    """Expand every macro in ``text``; raises SpfSyntaxError for a letter not allowed here."""
    out: list[str] = []
    pos = 0
    for m in _MACRO.finditer(text):
        out.append(text[pos : m.start()])
        pos = m.end()
        token = m[0]
        if token == "%%":
            out.append("%")
            continue
        if token == "%_":
            out.append(" ")
            continue
        if token == "%-":
            out.append("%20")
            continue
        letter = m[1]
        low = letter.lower()
        if low in "crt" and not exp:
            raise SpfSyntaxError(f"%{{{letter}}} is only allowed in an explanation")
        if low not in "slodiphvcrt":
            raise SpfSyntaxError(f"unknown macro letter %{{{letter}}}")
        value = _value(low, ctx)
        delimiters = m[4] or "."
        parts = re.split("[" + re.escape(delimiters) + "]", value)
        if m[3]:
            parts.reverse()
        if m[2]:
            keep = int(m[2])
            if keep == 0:
                raise SpfSyntaxError("a macro's digit transformer must not be 0")
            parts = parts[-keep:]
        value = ".".join(parts)
        if letter.isupper():
            value = urllib.parse.quote(value, safe="-._~")
        out.append(value)
    out.append(text[pos:])
    return "".join(out)


def expand_domain(text: str, ctx: MacroContext) -> str:
    """Expand a domain-spec; over 253 characters, left-hand labels go until it fits (7.3)."""
    name = expand(text, ctx).rstrip(".")
    while len(name) > _MAX_DOMAIN and "." in name:
        name = name.split(".", 1)[1]
    return name
