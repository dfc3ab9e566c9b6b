"""The DNS map: every record published for the names a launch depends on, as data for reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DnsRecordRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: str
    ttl: int | None
    value: str
    role: str  # why the name is in the map: apex, www, subdomain, mail host, dmarc, dkim, ...


class DnsMap(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: str
    records: tuple[DnsRecordRow, ...] = ()
    # Questions the DNS did not answer (timeouts, SERVFAIL): the map is incomplete there.
    unanswered: tuple[str, ...] = ()
    # "signed" (DNSKEY published and a DS at the parent), "keys-without-ds", "unsigned", "unknown".
    dnssec: str = "unknown"
    # What the map leaves out to stay readable (a zone of a thousand MX records): one line each.
    omitted: tuple[str, ...] = ()
