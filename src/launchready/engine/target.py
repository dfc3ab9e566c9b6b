"""The audit target as people type it, normalised to the A-label apex domain."""

from __future__ import annotations


class TargetError(Exception):
    """A DOMAIN that is not a domain name: ``str(exc)`` is one line quoting it; the CLI exits with code 2."""


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def normalise_domain(text: str) -> str:
    """Accept what people paste (URL, trailing dot, upper case, IDN) and return the A-label apex."""
    value = text.strip()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0].split("?", 1)[0].rstrip(".").lower()
    if _is_ip(value):
        raise TargetError(f"DOMAIN {text!r}: an IP address, not a domain name (audit the domain that points at it)")
    if ":" in value:
        raise TargetError(f"DOMAIN {text!r}: give a domain name without a port")
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        raise TargetError(f"DOMAIN {text!r}: not a valid domain name") from None
    if len(value) > 253:
        raise TargetError(f"DOMAIN {text[:40]!r}...: {len(value)} characters; a domain name has at most 253")
    labels = value.split(".")
    if labels[-1].isdigit():
        raise TargetError(f"DOMAIN {text!r}: not a valid domain name (a top-level domain is never all digits)")
    if len(labels) < 2 or not all(
        0 < len(label) <= 63
        and label.replace("-", "").isalnum()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    ):
        raise TargetError(f"DOMAIN {text!r}: not a valid domain name (expected e.g. example.com)")
    return value
