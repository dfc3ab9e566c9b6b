"""The DNS map as Markdown lines: shared by `launchready dns map` and the report's DNS section."""

from __future__ import annotations

from launchready.core.dnsmap import DnsMap


def dns_map_markdown(dns_map: DnsMap) -> list[str]:
    """The map as a Markdown table (for `dns map` and the report's DNS section)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = [
        f"DNSSEC: {dns_map.dnssec}",
        "",
        "| Name | Type | TTL | Value | Role |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in dns_map.records:
        out.append(
            f"| {cell(r.name)} | {r.type} | {r.ttl if r.ttl is not None else ''} | `{cell(r.value)}` | {r.role} |"
        )
    if dns_map.unanswered:
        out += ["", "Not answered (the map is incomplete there):", ""]
        out += [f"- {cell(u)}" for u in dns_map.unanswered]
    if dns_map.omitted:
        out += ["", "Not listed (the map is bounded):", ""]
        out += [f"- {cell(o)}" for o in dns_map.omitted]
    return out
