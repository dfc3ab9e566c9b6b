"""Lab faults that make the dns.* checks fire (zone records in lab/zone.py, lab/mail_zone.py,
lab/takeover.py; the second name server in lab/nameservers.py; DNSSEC in lab/dnssec.py; the
registry's RDAP answer in lab/rdap.py)."""

from __future__ import annotations

from launchready.core.labfault import LabFault, each

LAB_FAULTS: tuple[LabFault, ...] = (
    LabFault(
        "apex-no-address",
        "the apex has no A/AAAA record (only www resolves)",
        each("dns.apex.no-address", "{domain}"),
    ),
    LabFault(
        "dangling-cname",
        "the declared shop. is a CNAME to a deleted Elastic Beanstalk environment",
        each("dns.cname.takeover-risk", "shop.{domain}"),
    ),
    LabFault(
        "cname-unclaimed-bucket",
        "the declared assets. is a CNAME to an S3 bucket name that no longer exists",
        each("dns.cname.takeover-risk", "assets.{domain}"),
    ),
    LabFault(
        "ns-serial-mismatch",
        "ns2 missed the last zone transfer and serves an older SOA serial",
        each("dns.ns.serial-mismatch", "{domain}"),
    ),
    LabFault("ns-down", "ns2 is listed in NS but never answers", each("dns.ns.not-answering", "ns2.{domain}")),
    LabFault(
        "subdomain-missing",
        "the config declares status. but DNS has no record for it",
        each("dns.hosts.declared-missing", "status.{domain}"),
    ),
    LabFault(
        "dnssec-unsigned",
        "the zone is not signed: no DNSKEY, and no DS at the parent",
        each("dns.dnssec.missing", "{domain}"),
    ),
    LabFault(
        "dnssec-ds-mismatch",
        "the parent still publishes the DS of a retired key the zone no longer has",
        each("dns.dnssec.ds-mismatch", "{domain}"),
    ),
    LabFault(
        "dnssec-rrsig-expired",
        "the signer stopped: every RRSIG in the zone expired two days ago",
        each("dns.dnssec.signature-expired", "{domain}"),
    ),
    LabFault(
        "registration-expiring",
        "the registry's RDAP answer says the registration expires 10 days from now",
        each("dns.registration.expires-soon", "{domain}"),
    ),
    LabFault(
        "registration-unlocked",
        "the registrar's transfer lock is off (no clientTransferProhibited in RDAP)",
        each("dns.registration.no-transfer-lock", "{domain}"),
    ),
    LabFault(
        "provider-unowned",
        "the SPF record includes a bulk-mail provider nobody in [owners] holds the account of",
        each("dns.owners.provider-unowned", "{domain} (email: bulkmail.test)"),
    ),
)
