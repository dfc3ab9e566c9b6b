"""``launchready edge refresh-ranges``: fetch the vendors' published address lists into data files.

Only the vendors' own published URLs are requested (never run by the tests, which use the shipped
files). Each file records its sources and the date it was fetched.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp


@dataclass(frozen=True)
class Source:
    vendor: str
    file: str
    urls: tuple[str, ...]
    # Turns the fetched bodies (one per URL) into prefixes.
    parse: Callable[[list[str]], list[str]]


def _lines(bodies: list[str]) -> list[str]:
    return [line.strip() for body in bodies for line in body.splitlines() if line.strip()]


def _fastly(bodies: list[str]) -> list[str]:
    data = json.loads(bodies[0])
    return [*data.get("addresses", []), *data.get("ipv6_addresses", [])]


def _cloudfront(bodies: list[str]) -> list[str]:
    data = json.loads(bodies[0])
    v4 = [p["ip_prefix"] for p in data.get("prefixes", []) if p.get("service") == "CLOUDFRONT"]
    v6 = [p["ipv6_prefix"] for p in data.get("ipv6_prefixes", []) if p.get("service") == "CLOUDFRONT"]
    return v4 + v6


SOURCES: tuple[Source, ...] = (
    Source(
        "Cloudflare",
        "ranges-cloudflare.json",
        ("https://www.cloudflare.com/ips-v4", "https://www.cloudflare.com/ips-v6"),
        _lines,
    ),
    Source("Fastly", "ranges-fastly.json", ("https://api.fastly.com/public-ip-list",), _fastly),
    Source(
        "Amazon CloudFront", "ranges-cloudfront.json", ("https://ip-ranges.amazonaws.com/ip-ranges.json",), _cloudfront
    ),
)


def validated(prefixes: list[str], vendor: str) -> list[str]:
    """Every prefix parsed (a vendor page that changed format must not write garbage)."""
    if not prefixes:
        raise ValueError(f"{vendor}: the published list was empty")
    return [str(ipaddress.ip_network(p.strip(), strict=False)) for p in prefixes]


def ranges_document(source: Source, prefixes: list[str], when: datetime) -> dict[str, object]:
    return {
        "vendor": source.vendor,
        "sources": list(source.urls),
        "retrieved": when.strftime("%Y-%m-%d"),
        "how": "fetched by `launchready edge refresh-ranges`",
        "prefixes": prefixes,
    }


async def refresh(directory: Path, timeout: float = 20.0) -> list[str]:
    """Fetch every source and rewrite its file in ``directory``; returns one line per vendor."""
    report: list[str] = []
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout, trust_env=False) as session:
        for source in SOURCES:
            bodies = []
            for url in source.urls:
                async with session.get(url) as response:
                    response.raise_for_status()
                    bodies.append(await response.text())
            prefixes = validated(source.parse(bodies), source.vendor)
            document = ranges_document(source, prefixes, datetime.now(UTC))
            (directory / source.file).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            report.append(f"{source.vendor}: {len(prefixes)} prefixes -> {directory / source.file}")
    return report
