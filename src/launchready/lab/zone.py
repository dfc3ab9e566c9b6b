"""The lab's DNS data: a pure function from the fault set to the zones the lab serves.

Kept free of sockets and key generation so tests can check exactly which records each fault
removes or changes. A later issue that needs another zone (an email provider's SPF include,
a CDN's CNAME target) adds a builder to :func:`lab_zones`; one that needs another DNS fault
adds a condition to the builder of the records it breaks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from launchready.lab.faults import LAB_DOMAIN

# The record types live below every zone builder (mail_zone, takeover, ... import them too);
# ZoneData and txt_value stay importable from here.
from launchready.lab.records import Record, ZoneData, txt_value

__all__ = ["CAA_ISSUER", "DKIM_SELECTOR", "Record", "ZoneData", "lab_zone", "lab_zones", "txt_value"]

DKIM_SELECTOR = "lab"
# What the CAA record allows to issue: the lab CA's made-up identity.
CAA_ISSUER = "launchready-lab.test"

# Hosts with an address record: "@" is the apex; mail is the MX target; ns1/ns2 the NS targets.
ADDRESS_HOSTS: tuple[str, ...] = ("@", "www", "app", "admin", "api", "mail", "ns1", "ns2")

# Site-verification tokens real apexes accumulate. They make the apex TXT RRset bigger than a
# plain 512-byte UDP answer, which is exactly what makes resolvers retry over TCP (the lab's
# truncation path gets exercised by ordinary traffic, not a synthetic record).
_APEX_VERIFICATION_TXT: tuple[str, ...] = (
    "google-site-verification=lAbV3r1f1cAt10nT0k3nF0rM4rk3tL4bT35tD0m41n",
    "stripe-verification=5f1e7c0a9b2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f",
    "facebook-domain-verification=q8x2lab7market0test4verify9token",
    "atlassian-domain-verification=Lab/MarketLabTestAtlassianVerificationTokenValue0001",
    "apple-domain-verification=MarketLabAppleVerify01",
    "MS=ms48151623",
    "docusign=5a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    "globalsign-domain-verification=MarketLabGlobalSignVerification0123456789",
)


def spf_value(faults: frozenset[str], address: str) -> str | None:
    if "spf-missing" in faults:
        return None
    mechanism = "ip6" if ipaddress.ip_address(address).version == 6 else "ip4"
    qualifier = "+all" if "spf-plus-all" in faults else "-all"
    return f"v=spf1 {mechanism}:{address} {qualifier}"


def dkim_value(public_key_b64: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key_b64}"


def _soa_and_ns(domain: str) -> list[Record]:
    return [
        Record("@", "SOA", f"ns1.{domain}. hostmaster.{domain}. 2024060101 3600 600 1209600 300"),
        Record("@", "NS", f"ns1.{domain}.", ttl=3600),
        Record("@", "NS", f"ns2.{domain}.", ttl=3600),
    ]


def _address_records(faults: frozenset[str], address: str) -> list[Record]:
    rdtype = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    hosts = [h for h in ADDRESS_HOSTS if not (h == "@" and "apex-no-address" in faults)]
    if "exposed-origin" in faults:
        hosts.append("origin")  # the origin server under a name of its own, bypassing the edge
    from launchready.lab.hsts_lab import legacy_records  # HTTP-only legacy. under HSTS

    return [Record(host, rdtype, address) for host in hosts] + legacy_records(faults, address)


def _mail_records(faults: frozenset[str], domain: str, address: str, dkim_public_key_b64: str) -> list[Record]:
    from launchready.lab.mail_zone import dns_fault_records, mail_records  # mail faults live there

    return mail_records(faults, domain, address, dkim_public_key_b64) + dns_fault_records(faults)


def _policy_records(faults: frozenset[str] = frozenset()) -> list[Record]:
    # caa-forbids-issuer: CAA names another CA than the one that issued the live certificates.
    # caa-missing: no CAA record at all (the clean lab publishes one for its own CA).
    issuer = "letsencrypt.org" if "caa-forbids-issuer" in faults else CAA_ISSUER
    records = [] if "caa-missing" in faults else [Record("@", "CAA", f'0 issue "{issuer}"')]
    records += [Record("@", "TXT", txt_value(token)) for token in _APEX_VERIFICATION_TXT]
    return records


def lab_zone(
    faults: Iterable[str],
    *,
    address: str = "127.0.0.1",
    dkim_public_key_b64: str,
    domain: str = LAB_DOMAIN,
) -> ZoneData:
    """The lab domain's zone with ``faults`` applied (names must already be validated)."""
    active = frozenset(faults)
    records = (
        _soa_and_ns(domain)
        + _address_records(active, address)
        + _mail_records(active, domain, address, dkim_public_key_b64)
        + _policy_records(active)
    )
    return ZoneData(origin=domain, records=tuple(records))


def lab_zones(
    faults: Iterable[str],
    *,
    address: str = "127.0.0.1",
    dkim_public_key_b64: str,
) -> tuple[ZoneData, ...]:
    """Every zone the lab's DNS serves; any name outside them is answered NXDOMAIN."""
    from launchready.lab.error_tracker import tracker_zone  # the hosted error tracker the app's DSN names
    from launchready.lab.mail_zone import provider_zone  # the mail provider's SPF include zone
    from launchready.lab.takeover import hosting_zone  # a storage service for cname-unclaimed-bucket

    return (
        lab_zone(faults, address=address, dkim_public_key_b64=dkim_public_key_b64),
        provider_zone(address, dkim_public_key_b64),
        hosting_zone(address),
        tracker_zone(address),
    )
