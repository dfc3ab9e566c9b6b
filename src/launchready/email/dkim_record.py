"""DKIM public-key records (RFC 6376 3.2 and 3.6.1, RFC 8301, RFC 8463): parsed, decoded and
sized, without raising. Tag names are case-sensitive here (RFC 6376 3.2), unlike DMARC's."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from launchready.email.tags import parse_tags, read_tag_list

_B64_CHARS = re.compile(r"[^A-Za-z0-9+/=]")


@dataclass(frozen=True)
class DkimKey:
    """What a selector's TXT record says; ``problem`` is set when receivers cannot use it."""

    raw: str
    tags: tuple[tuple[str, str], ...]
    key_type: str  # "rsa" (default) or "ed25519", as the k= tag says
    revoked: bool  # p= is empty: the key was withdrawn
    testing: bool  # t=y: receivers treat failures as if unsigned
    key_bits: int | None  # RSA modulus size, 256 for ed25519, None when undecodable
    problem: str | None  # malformed: what is wrong
    services: tuple[str, ...] = ("*",)  # s= service types; "*" (all) when absent
    hashes: tuple[str, ...] | None = None  # h= acceptable hash algorithms; None (all) when absent

    @property
    def for_email(self) -> bool:
        """RFC 6376 3.6.1: a key whose s= names neither ``email`` nor ``*`` must not verify mail."""
        return "email" in self.services or "*" in self.services

    @property
    def sha1_only(self) -> bool:
        """h= allows no hash a receiver may still use: RFC 8301 forbids rsa-sha1, unknown names are ignored."""
        return self.hashes is not None and "sha256" not in self.hashes

    @property
    def usable(self) -> bool:
        """Receivers can verify mail signatures with this key."""
        return self.problem is None and not self.revoked and self.for_email and not self.sha1_only

    def tag(self, name: str) -> str | None:
        for key, value in self.tags:
            if key == name:
                return value
        return None


def looks_like_dkim(text: str) -> bool:
    """A TXT record meant as a DKIM key: starts with v=DKIM1 or carries a p= tag."""
    tags = dict(parse_tags(text))
    return tags.get("v", "").upper() == "DKIM1" or "p" in tags


def parse_dkim_key(text: str) -> DkimKey:
    strict = read_tag_list(text)
    tags = strict.tags
    values = dict(reversed(tags))  # the first occurrence, as ``tag()`` reads it
    key_type = values.get("k", "rsa").lower() or "rsa"
    flags = {f.strip().lower() for f in values.get("t", "").split(":")}
    testing = "y" in flags
    services = tuple(s.strip().lower() for s in values["s"].split(":")) if "s" in values else ("*",)
    hashes = tuple(h.strip().lower() for h in values["h"].split(":")) if "h" in values else None

    def key(problem: str | None, *, revoked: bool = False, bits: int | None = None) -> DkimKey:
        return DkimKey(text, tags, key_type, revoked, testing, bits, problem, services, hashes)

    if strict.problem is not None:
        return key(strict.problem)
    version = values.get("v")
    if version is not None and tags[0][0] != "v":
        return key("v= must be the first tag")
    if version is not None and version != "DKIM1":
        return key(f"v={version} is not DKIM1")
    if "p" not in values:
        upper = sorted(n for n in values if n != n.lower() and n.lower() in ("v", "k", "p", "h", "s", "t", "n"))
        if upper:
            shown = ", ".join(f"{n}=" for n in upper)
            return key(
                f"no p= tag: tag names are case-sensitive, so {shown} are unknown tags (write them in lower case)"
            )
        return key("no p= tag (the public key)")
    p = _B64_CHARS.sub("", re.sub(r"\s+", "", values["p"]))
    if values["p"].strip() == "":
        return key(None, revoked=True)
    if p != re.sub(r"\s+", "", values["p"]):
        return key("p= contains characters outside base64")
    try:
        der = base64.b64decode(p + "=" * (-len(p) % 4), validate=True)
    except (binascii.Error, ValueError):
        return key("p= is not valid base64")
    if key_type == "ed25519":
        # RFC 8463: p= is the raw 32-byte key, not a SubjectPublicKeyInfo.
        if len(der) != 32:
            return key(f"an ed25519 key is 32 bytes, p= holds {len(der)}")
        return key(None, bits=256)
    if key_type != "rsa":
        return key(f"k={key_type} is not a key type receivers know (rsa, ed25519)")
    try:
        public: object = load_der_public_key(der)
    except (ValueError, TypeError):
        public = _pkcs1_rsa(der)
        if public is None:
            return key("p= does not decode to an RSA public key")
    if isinstance(public, ed25519.Ed25519PublicKey):
        return key("p= holds an ed25519 key but k= says rsa")
    if not isinstance(public, rsa.RSAPublicKey):
        return key(f"p= holds a {type(public).__name__}, not an RSA key")
    return key(None, bits=public.key_size)


def _pkcs1_rsa(der: bytes) -> rsa.RSAPublicKey | None:
    """Some publishers put a bare PKCS#1 RSAPublicKey in p=; receivers vary, we read it."""
    prefix = bytes.fromhex("300d06092a864886f70d0101010500")
    body = b"\x00" + der
    try:
        spki = _der_seq(prefix + b"\x03" + _der_len(len(body)) + body)
        loaded = load_der_public_key(spki)
    except (ValueError, TypeError):
        return None
    return loaded if isinstance(loaded, rsa.RSAPublicKey) else None


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_seq(content: bytes) -> bytes:
    return b"\x30" + _der_len(len(content)) + content
