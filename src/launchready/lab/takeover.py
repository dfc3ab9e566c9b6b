"""The lab's unclaimed hosting name (cname-unclaimed-bucket): an alias that resolves, to a "no such bucket" page.

assets.DOMAIN is a CNAME to a bucket name under s3.amazonaws.com. Like the real S3, the lab's
stand-in resolves every bucket host name, and for one nobody owns answers 404 NoSuchBucket:
the page text is what dns.cname matches (can-i-take-over-xyz's AWS/S3 fingerprint).
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from launchready.lab.faults import LAB_DOMAIN
from launchready.lab.records import Record, ZoneData

UNCLAIMED_LABEL = "assets"
HOSTING_ZONE = "s3.amazonaws.com"
BUCKET = "marketlab-assets"
UNCLAIMED_TARGET = f"{BUCKET}.{HOSTING_ZONE}."

_NO_SUCH_BUCKET = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
    f"<BucketName>{BUCKET}</BucketName><RequestId>LAB0REQUEST0ID</RequestId></Error>"
)


def takeover_records(faults: frozenset[str]) -> list[Record]:
    return [Record(UNCLAIMED_LABEL, "CNAME", UNCLAIMED_TARGET)] if "cname-unclaimed-bucket" in faults else []


def takeover_subdomains(faults: frozenset[str]) -> tuple[str, ...]:
    return (UNCLAIMED_LABEL,) if "cname-unclaimed-bucket" in faults else ()


def hosting_zone(address: str) -> ZoneData:
    """The storage service's zone: the bucket host name resolves whether or not the bucket exists."""
    rdtype = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    return ZoneData(
        origin=HOSTING_ZONE,
        records=(
            Record("@", "SOA", f"ns1.{HOSTING_ZONE}. hostmaster.{HOSTING_ZONE}. 1 3600 600 1209600 300"),
            Record("@", "NS", f"ns1.{HOSTING_ZONE}."),
            Record("ns1", rdtype, address),
            Record(BUCKET, rdtype, address),
        ),
    )


def unclaimed_page(host: str, faults: frozenset[str], domain: str = LAB_DOMAIN) -> web.Response | None:
    """The provider's answer for the aliased name (plain HTTP), or None when the host is not it."""
    if "cname-unclaimed-bucket" not in faults or host not in (
        f"{UNCLAIMED_LABEL}.{domain}",
        UNCLAIMED_TARGET.rstrip("."),
    ):
        return None
    return web.Response(status=404, text=_NO_SUCH_BUCKET, content_type="application/xml")
