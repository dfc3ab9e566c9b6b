"""The lab's mail and DNS-record faults: SPF, DKIM, DMARC, MX and CNAME records.

Pure functions from the fault set to records, called by ``zone.py``'s builders; the bulk-mail
provider zone stands in for an email service's SPF include tree (what too-many-lookups needs).
"""

from __future__ import annotations

import ipaddress

from launchready.lab.records import Record, ZoneData, txt_value

DKIM_SELECTOR = "lab"
# A 1024-bit RSA public key (SubjectPublicKeyInfo): what dkim-weak-key publishes. Only the
# public half exists; nothing signs with it.
WEAK_DKIM_KEY_B64 = (
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCzcwLZ9PG+WjNcML5e8H/tiMyW8OMyA974v/Q/gLCfrbhcJA6Qw1t26qYLni4bQkyw"
    "rjBfh5IqpIOheiR4a0/d7/a5i4nZdqETegpYgGT2GWT8w2Rx6HOv/2wn31fS5ZP7ep85iD3IW7xB8pPL8g/yJS3/VOg0lN1TScSvVG"
    "d9fwIDAQAB"
)
# The mail provider's zone: its SPF include nests includes like real bulk senders do.
PROVIDER_DOMAIN = "bulkmail.test"
PROVIDER_INCLUDE = f"_spf.{PROVIDER_DOMAIN}"
# dangling-cname: a declared name left pointing at a deleted Elastic Beanstalk environment.
DANGLING_LABEL = "shop"
DANGLING_TARGET = "marketlab-shop.us-east-1.elasticbeanstalk.com."

# subdomain-missing: a declared name with no record at all.
MISSING_LABEL = "status"

MAIL_FAULTS = (
    "spf-missing", "spf-plus-all", "spf-multiple", "spf-too-many-lookups", "dmarc-missing",
    "dmarc-none-no-rua", "dkim-weak-key", "dkim-revoked", "dkim-missing-selector", "mx-cname",
    "dangling-cname", "dkim-not-for-email", "dkim-sha1-only", "dmarc-invalid-optional-tag",
    "dmarc-rua-https",
)  # fmt: skip


def spf_value(faults: frozenset[str], address: str) -> str | None:
    if "spf-missing" in faults:
        return None
    mechanism = "ip6" if ipaddress.ip_address(address).version == 6 else "ip4"
    qualifier = "+all" if "spf-plus-all" in faults else "-all"
    # provider-unowned: the bulk-mail provider is included, and nobody in [owners] holds its account.
    included = faults & {"spf-too-many-lookups", "provider-unowned"}
    include = f" include:{PROVIDER_INCLUDE}" if included else ""
    return f"v=spf1 {mechanism}:{address}{include} {qualifier}"


def dkim_value(faults: frozenset[str], public_key_b64: str) -> str | None:
    if "dkim-missing-selector" in faults:
        return None
    if "dkim-revoked" in faults:
        return "v=DKIM1; k=rsa; p="
    key = WEAK_DKIM_KEY_B64 if "dkim-weak-key" in faults else public_key_b64
    if "dkim-not-for-email" in faults:
        return f"v=DKIM1; k=rsa; s=tlsrpt; p={key}"
    if "dkim-sha1-only" in faults:
        return f"v=DKIM1; k=rsa; h=sha1; p={key}"
    return f"v=DKIM1; k=rsa; p={key}"


def dmarc_value(faults: frozenset[str], domain: str) -> str | None:
    if "dmarc-missing" in faults:
        return None
    if "dmarc-none-no-rua" in faults:
        return "v=DMARC1; p=none"
    if "dmarc-rua-https" in faults:
        return f"v=DMARC1; p=reject; rua=https://reports.{domain}/dmarc"
    if "dmarc-invalid-optional-tag" in faults:
        return f"v=DMARC1; p=reject; pct=101; rua=mailto:dmarc@{domain}"
    return f"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}"


def mail_records(faults: frozenset[str], domain: str, address: str, dkim_public_key_b64: str) -> list[Record]:
    """MX, SPF, DMARC and DKIM of the lab domain with ``faults`` applied."""
    records: list[Record] = []
    if "mx-cname" in faults:
        # The MX names an alias: RFC 2181 10.3 forbids it and some senders refuse to deliver.
        records += [Record("@", "MX", f"10 smtp.{domain}."), Record("smtp", "CNAME", f"mail.{domain}.")]
    else:
        records.append(Record("@", "MX", f"10 mail.{domain}."))
    spf = spf_value(faults, address)
    if spf is not None:
        records.append(Record("@", "TXT", txt_value(spf)))
    if "spf-multiple" in faults:
        records.append(Record("@", "TXT", txt_value("v=spf1 include:sendgrid.net ~all")))
    dmarc = dmarc_value(faults, domain)
    if dmarc is not None:
        records.append(Record("_dmarc", "TXT", txt_value(dmarc)))
    dkim = dkim_value(faults, dkim_public_key_b64)
    if dkim is not None:
        records.append(Record(f"{DKIM_SELECTOR}._domainkey", "TXT", txt_value(dkim)))
    from launchready.lab.mta_sts import mta_sts_records  # MTA-STS and TLS-RPT (lab/mta_sts.py)

    return records + mta_sts_records(faults, domain, address)


def dns_fault_records(faults: frozenset[str]) -> list[Record]:
    """Records of the lab domain that only DNS-record faults add."""
    from launchready.lab.takeover import takeover_records

    records = takeover_records(faults)
    if "dangling-cname" in faults:
        records.append(Record(DANGLING_LABEL, "CNAME", DANGLING_TARGET))
    return records


def extra_subdomains(faults: frozenset[str]) -> tuple[str, ...]:
    """Names the lab's launchready.toml declares only while a fault needs them discovered.

    subdomain-missing declares status. although DNS has nothing for it.
    """
    from launchready.lab.takeover import takeover_subdomains

    names: tuple[str, ...] = (DANGLING_LABEL,) if "dangling-cname" in faults else ()
    names += (MISSING_LABEL,) if "subdomain-missing" in faults else ()
    return names + takeover_subdomains(faults)


def extra_senders(faults: frozenset[str]) -> tuple[str, ...]:
    """Senders the lab's launchready.toml declares only under a fault.

    dmarc-sender-unaligned: Postmark is declared, but neither a Postmark DKIM key
    (<date>pm._domainkey) nor the pm-bounces Return-Path CNAME is published, so its mail
    carries d=pm.mtasv.net and an envelope at pm.mtasv.net: nothing aligns with the domain.
    """
    return ("postmark",) if "dmarc-sender-unaligned" in faults else ()


def provider_zone(address: str, dkim_public_key_b64: str | None = None) -> ZoneData:
    """The bulk-mail provider: _spf includes four regional records, each with their own lookups.

    Clean labs never include it; with spf-too-many-lookups the lab's SPF costs 1 + 4 + 8 = 13
    lookups, over RFC 7208's limit of 10 although every record on its own looks modest.
    """
    mechanism = "ip6" if ipaddress.ip_address(address).version == 6 else "ip4"
    regions = ("us", "eu", "ap", "sa")
    records = [
        Record("@", "SOA", f"ns1.{PROVIDER_DOMAIN}. hostmaster.{PROVIDER_DOMAIN}. 1 3600 600 1209600 300"),
        Record("@", "NS", f"ns1.{PROVIDER_DOMAIN}."),
        Record("ns1", "A" if mechanism == "ip4" else "AAAA", address),
        Record(
            "_spf",
            "TXT",
            txt_value("v=spf1 " + " ".join(f"include:_spf-{r}.{PROVIDER_DOMAIN}" for r in regions) + " ~all"),
        ),
    ]
    for region in regions:
        records.append(
            Record(
                f"_spf-{region}", "TXT", txt_value(f"v=spf1 a:out-{region}.{PROVIDER_DOMAIN} mx:{PROVIDER_DOMAIN} ~all")
            )
        )
        records.append(Record(f"out-{region}", "A" if mechanism == "ip4" else "AAAA", address))
    records.append(Record("@", "MX", f"10 ns1.{PROVIDER_DOMAIN}."))
    # What the provider signs and sends with by default (email-from-unaligned): its own domain,
    # passing SPF and DKIM for itself, aligned with nobody's From.
    records.append(Record("@", "TXT", txt_value(f"v=spf1 {mechanism}:{address} -all")))
    if dkim_public_key_b64 is not None:
        records.append(
            Record(f"{DKIM_SELECTOR}._domainkey", "TXT", txt_value(f"v=DKIM1; k=rsa; p={dkim_public_key_b64}"))
        )
    return ZoneData(origin=PROVIDER_DOMAIN, records=tuple(records))
