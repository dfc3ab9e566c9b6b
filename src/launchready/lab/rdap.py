"""The lab registry's RDAP server: the domain object of marketlab.test (RFC 9083), on a port of its own.

Served over plain HTTP on its own loopback port (``--rdap-server`` points at it), never on a lab
web host. Faults: ``registration-expiring`` (the registration ends 10 days from now) and
``registration-unlocked`` (no clientTransferProhibited). Any other name is a 404 with an RDAP
error object, as registries answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

LAB_REGISTRAR = "Loopback Registrar, Inc."
LAB_REGISTRAR_IANA_ID = "9999"
# Far enough ahead that the clean lab is never near its renewal.
_CLEAN_EXPIRY = timedelta(days=400)
# Half a day short of ten days: the audit's clock starts before the lookup and counts days up,
# so an expiry exactly ten days after the lab's clock could read "11 days".
_EXPIRING = timedelta(days=9, hours=12)


def lab_owners_toml(domain: str) -> str:
    """The [owners] the lab's launchready.toml declares: its registrar and DNS accounts are held."""
    return (
        "\n[owners]\n"
        f'registrar = {{ name = "Ana Lima <ana@{domain}>", role = "founder" }}\n'
        f'dns = {{ name = "Ana Lima <ana@{domain}>", role = "founder" }}\n'
    )


def domain_object(domain: str, faults: frozenset[str], now: datetime, *, signed: bool) -> dict[str, Any]:
    expires = now + (_EXPIRING if "registration-expiring" in faults else _CLEAN_EXPIRY)
    status = ["client delete prohibited", "client update prohibited"]
    if "registration-unlocked" not in faults:
        status.insert(0, "client transfer prohibited")
    return {
        "objectClassName": "domain",
        "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_0"],
        "handle": "LAB-" + domain.upper().replace(".", "-"),
        "ldhName": domain,
        "status": status,
        "events": [
            {"eventAction": "registration", "eventDate": "2024-03-01T12:00:00Z"},
            {"eventAction": "expiration", "eventDate": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
        ],
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": LAB_REGISTRAR_IANA_ID}],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", LAB_REGISTRAR]]],
            }
        ],
        "nameservers": [
            {"objectClassName": "nameserver", "ldhName": f"ns1.{domain}"},
            {"objectClassName": "nameserver", "ldhName": f"ns2.{domain}"},
        ],
        "secureDNS": {"delegationSigned": signed},
    }


def rdap_app(
    domain: str, faults: frozenset[str], clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> web.Application:
    signed = "dnssec-unsigned" not in faults

    async def lookup(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"].lower().rstrip(".")
        if name != domain:
            error = {"errorCode": 404, "title": "Not Found", "description": [f"{name} is not registered here"]}
            return web.json_response(error, status=404, content_type="application/rdap+json")
        body = domain_object(domain, faults, clock(), signed=signed)
        return web.json_response(body, content_type="application/rdap+json")

    app = web.Application()
    app.router.add_get("/domain/{name}", lookup)
    return app
