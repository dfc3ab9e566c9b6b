"""The lab's MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): records and the policy host mta-sts.DOMAIN.

Clean: an enforced policy naming the lab's MX, and a TLS-RPT record. Faults: mta-sts-bad-policy
(testing mode, an MX the domain does not use), tls-rpt-missing.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from launchready.lab.records import Record, txt_value

POLICY_ID = "20240601T000000"
POLICY_PATH = "/.well-known/mta-sts.txt"
# mta-sts-bad-policy: the policy still names the mail provider the domain used before.
OLD_MX = "mx.oldmail.test"


def mta_sts_host(domain: str) -> str:
    return f"mta-sts.{domain}"


def mta_sts_records(faults: frozenset[str], domain: str, address: str) -> list[Record]:
    rdtype = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    records = [
        Record("_mta-sts", "TXT", txt_value(f"v=STSv1; id={POLICY_ID}")),
        Record("mta-sts", rdtype, address),
    ]
    if "tls-rpt-missing" not in faults:
        records.append(Record("_smtp._tls", "TXT", txt_value(f"v=TLSRPTv1; rua=mailto:tls-reports@{domain}")))
    return records


def policy_text(faults: frozenset[str], domain: str) -> str:
    if "mta-sts-bad-policy" in faults:
        mode, mx = "testing", OLD_MX
    else:
        mode, mx = "enforce", f"mail.{domain}"
    return f"version: STSv1\r\nmode: {mode}\r\nmx: {mx}\r\nmax_age: 604800\r\n"


def mta_sts_app(domain: str, faults: frozenset[str]) -> web.Application:
    """The policy host's site: the policy file, nothing else."""

    async def policy(request: web.Request) -> web.StreamResponse:
        return web.Response(text=policy_text(faults, domain), content_type="text/plain")

    app = web.Application()
    app.add_routes([web.get(POLICY_PATH, policy)])
    return app
