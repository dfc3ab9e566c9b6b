"""Load the shipped edge data (data/edge/*.json) and recognise a CDN/WAF from headers or an address."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

DATA_DIR = "data/edge"


@dataclass(frozen=True)
class HeaderRule:
    header: str
    contains: str | None = None


@dataclass(frozen=True)
class Vendor:
    name: str
    rules: tuple[HeaderRule, ...]
    lab_only: bool = False


@dataclass(frozen=True)
class Ranges:
    vendor: str
    retrieved: str
    sources: tuple[str, ...]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def _read(name: str, directory: Path | None = None) -> str:
    if directory is not None:
        return (directory / name).read_text(encoding="utf-8")
    return resources.files("launchready").joinpath(f"{DATA_DIR}/{name}").read_text(encoding="utf-8")


def _names(directory: Path | None) -> list[str]:
    if directory is not None:
        return sorted(p.name for p in directory.glob("ranges-*.json"))
    root = resources.files("launchready").joinpath(DATA_DIR)
    return sorted(p.name for p in root.iterdir() if p.name.startswith("ranges-") and p.name.endswith(".json"))


def parse_vendors(text: str) -> tuple[Vendor, ...]:
    data = json.loads(text)
    return tuple(
        Vendor(
            name=v["name"],
            rules=tuple(HeaderRule(r["header"].lower(), r.get("contains")) for r in v["rules"]),
            lab_only=bool(v.get("lab_only", False)),
        )
        for v in data["vendors"]
    )


def parse_ranges(text: str) -> Ranges:
    data = json.loads(text)
    return Ranges(
        vendor=data["vendor"],
        retrieved=data["retrieved"],
        sources=tuple(data["sources"]),
        networks=tuple(ipaddress.ip_network(p, strict=False) for p in data["prefixes"]),
    )


@cache
def _all_vendors() -> tuple[Vendor, ...]:
    return parse_vendors(_read("vendors.json"))


def vendors(*, include_lab: bool = False) -> tuple[Vendor, ...]:
    """The shipped vendor signatures. Lab-only ones (the lab's emulated CDN header) are left out
    unless the caller opts in: a real site sending the lab's header is not behind a CDN."""
    return tuple(v for v in _all_vendors() if include_lab or not v.lab_only)


@cache
def ranges() -> tuple[Ranges, ...]:
    return tuple(parse_ranges(_read(name)) for name in _names(None))


def by_headers(headers: tuple[tuple[str, str], ...], known: tuple[Vendor, ...]) -> tuple[str, str] | None:
    """(vendor, the header that shows it) for the first vendor whose rule matches."""
    for vendor in known:
        for rule in vendor.rules:
            for name, value in headers:
                if name.lower() == rule.header and (rule.contains is None or rule.contains in value.lower()):
                    return vendor.name, f"{name}: {value}"
    return None


def by_address(address: str, known: tuple[Ranges, ...]) -> tuple[str, str] | None:
    """(vendor, "ADDR in PREFIX (source, date)") when the address is in a vendor's published ranges."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    for r in known:
        for network in r.networks:
            if ip.version == network.version and ip in network:
                return r.vendor, f"{address} in {network} ({r.vendor} list of {r.retrieved})"
    return None
