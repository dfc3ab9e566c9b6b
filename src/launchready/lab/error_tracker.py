"""The lab's hosted error tracker: a stand-in for a Sentry-style service the app's DSN points at.

Like the storage stand-in of ``lab/takeover.py``, it lives in a zone of its own
(``ingest.sentry.io`` served by the lab's DNS only) and on the lab's HTTPS port with a lab
certificate, so the audit's ``app.errors`` check reaches it exactly as it would reach the real
service: it accepts envelopes for its projects (``POST /api/<project>/envelope/`` with the key in
``X-Sentry-Auth``, ``?sentry_key=`` or the envelope header's DSN) and answers ``{"id": <event id>}``
as Sentry does; a wrong key gets 403 with ``X-Sentry-Error``. It only counts what it received.

Faults (``checks/app/lab_faults.py``): ``error-reporting-missing`` leaves SENTRY_DSN out of the
app's .env.example and deploy exports; ``error-dsn-dead`` points production's SENTRY_DSN at a
self-hosted tracker that was shut down (its name no longer resolves).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from dataclasses import dataclass, field

from aiohttp import web

from launchready.lab.records import Record, ZoneData

TRACKER_ZONE = "ingest.sentry.io"
TRACKER_HOST = f"o4711.{TRACKER_ZONE}"
# Projects by environment: each environment reports to a project (and key) of its own.
PROJECT_IDS = {"production": 4711, "staging": 4712}
# error-dsn-dead: the self-hosted tracker production still points at; the lab's DNS has no such name.
DEAD_TRACKER_HOST = "sentry.marketlab.test"
DSN_VARIABLE = "SENTRY_DSN"
NO_REPORTING = "error-reporting-missing"
DEAD_DSN = "error-dsn-dead"


@dataclass
class ErrorTracker:
    """The tracker's projects (id -> public key) and the event ids it accepted, per project."""

    keys: dict[int, str] = field(
        default_factory=lambda: {project: secrets.token_hex(16) for project in PROJECT_IDS.values()}
    )
    received: dict[int, list[str]] = field(default_factory=dict)

    def dsn(self, environment: str, faults: frozenset[str] = frozenset()) -> str | None:
        """The DSN the app's deploy export for ``environment`` holds (None: no error reporting)."""
        if NO_REPORTING in faults or environment not in PROJECT_IDS:
            return None
        project = PROJECT_IDS[environment]
        host = DEAD_TRACKER_HOST if environment == "production" and DEAD_DSN in faults else TRACKER_HOST
        return f"https://{self.keys[project]}@{host}/{project}"

    def app(self) -> web.Application:
        async def envelope(request: web.Request) -> web.StreamResponse:
            try:
                project = int(request.match_info["project"])
            except ValueError:
                return web.json_response({"detail": "bad project id"}, status=400)
            body = await request.read()
            header_line = body.split(b"\n", 1)[0]
            try:
                header = json.loads(header_line) if header_line.strip() else {}
            except ValueError:
                return web.json_response({"detail": "invalid envelope header"}, status=400)
            if not isinstance(header, dict):
                return web.json_response({"detail": "invalid envelope header"}, status=400)
            key = _presented_key(request, header)
            if self.keys.get(project) is None or key != self.keys[project]:
                return web.json_response(
                    {"detail": "invalid api key"}, status=403, headers={"X-Sentry-Error": "invalid api key"}
                )
            event_id = str(header.get("event_id") or secrets.token_hex(16))
            self.received.setdefault(project, []).append(event_id)
            return web.json_response({"id": event_id})

        application = web.Application()
        application.add_routes([web.post("/api/{project}/envelope/", envelope)])
        return application


def _presented_key(request: web.Request, header: dict[str, object]) -> str | None:
    auth = request.headers.get("X-Sentry-Auth", "")
    for part in auth.replace("Sentry ", "", 1).split(","):
        name, _, value = part.strip().partition("=")
        if name == "sentry_key" and value:
            return value
    if request.query.get("sentry_key"):
        return request.query["sentry_key"]
    dsn = header.get("dsn")
    if isinstance(dsn, str) and "://" in dsn and "@" in dsn:
        return dsn.split("://", 1)[1].split("@", 1)[0]
    return None


def tracker_zone(address: str) -> ZoneData:
    """The tracker's zone: its ingest host resolves to the lab's address."""
    rdtype = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    return ZoneData(
        origin=TRACKER_ZONE,
        records=(
            Record("@", "SOA", f"ns1.{TRACKER_ZONE}. hostmaster.{TRACKER_ZONE}. 1 3600 600 1209600 300"),
            Record("@", "NS", f"ns1.{TRACKER_ZONE}."),
            Record("ns1", rdtype, address),
            Record(TRACKER_HOST.removesuffix("." + TRACKER_ZONE), rdtype, address),
        ),
    )
