"""A hostile zone and site on loopback, for a real audit: 1,000 MX records, a 75 KB MTA-STS
policy and home pages of 10,000 links that all 404.

DNS is the lab's authority (UDP and TCP: a thousand MX records only fit in a TCP answer) in a
thread of its own; HTTPS (certificates from a fresh lab CA) and plain HTTP (301 to HTTPS) are
threaded servers, so the synchronous CLI, a subprocess or a bench can audit it.
``bench/hostile_report_size.py`` measures the audit's report with it; the hostile tests assert
the bound.
"""

from __future__ import annotations

import ssl
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailzone import ZoneServer  # noqa: E402

from launchready.lab.ca import LabCA  # noqa: E402

DOMAIN = "shop.test"
MX_COUNT = 1000
LINKS_PER_PAGE = 10_000
POLICY = "version: STSv1\nmode: enforce\n" + "".join(f"mx: mx{n}.{DOMAIN}\n" for n in range(3200)) + "max_age: 86400\n"


def hostile_records() -> dict[str, list[tuple[str, object]]]:
    """1,000 MX hosts without an address, an MTA-STS record, the site on loopback."""
    return {
        DOMAIN: [
            ("A", "127.0.0.1"),
            *(("MX", (10, f"mx{n}.{DOMAIN}")) for n in range(MX_COUNT)),
            ("TXT", "v=spf1 -all"),
        ],
        f"www.{DOMAIN}": [("A", "127.0.0.1")],
        f"mta-sts.{DOMAIN}": [("A", "127.0.0.1")],
        f"_mta-sts.{DOMAIN}": [("TXT", "v=STSv1; id=20260101")],
        f"_dmarc.{DOMAIN}": [("TXT", "v=DMARC1; p=reject")],
    }


@dataclass
class RunningZone:
    """The audit's network flags that reach the zone and site, and the Host of every HTTP request."""

    flags: list[str]
    hosts_asked: list[str] = field(default_factory=list)
    zone: ZoneServer | None = None

    @property
    def dns_queries(self) -> int:
        """Queries the zone's DNS server has received so far."""
        return self.zone.queries if self.zone is not None else 0

    @property
    def names_asked(self) -> set[str]:
        """The names the zone's DNS server was asked about so far."""
        return self.zone.names_asked if self.zone is not None else set()


def _handler(plain: bool, asked: list[str]) -> type[BaseHTTPRequestHandler]:
    home = ("<html><body>" + "".join(f'<a href="/gone/{n}">{n}</a>' for n in range(LINKS_PER_PAGE))).encode()

    class HostileSite(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").split(":")[0]
            asked.append(host)
            if plain:
                self._send(301, b"", ("Location", f"https://{host}{self.path}"))
            elif self.path == "/.well-known/mta-sts.txt" and host == f"mta-sts.{DOMAIN}":
                self._send(200, POLICY.encode(), ("Content-Type", "text/plain"))
            elif self.path == "/":
                self._send(200, home, ("Content-Type", "text/html; charset=utf-8"))
            else:
                self._send(404, b"gone", ("Content-Type", "text/plain"))

        def do_HEAD(self) -> None:
            self.do_GET()

        def _send(self, status: int, body: bytes, *headers: tuple[str, str]) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return HostileSite


@contextmanager
def hostile_zone() -> Iterator[RunningZone]:
    """Starts the zone and the site; yields the audit's network flags that reach them."""
    with tempfile.TemporaryDirectory(prefix="launchready-hostile-") as tmp:
        ca = LabCA.create()
        cert, key = ca.issue((DOMAIN, f"www.{DOMAIN}", f"mta-sts.{DOMAIN}")).write(Path(tmp), "site")
        bundle = ca.write_bundle(Path(tmp) / "ca.pem")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        asked: list[str] = []
        secure = ThreadingHTTPServer(("127.0.0.1", 0), _handler(plain=False, asked=asked))
        secure.socket = context.wrap_socket(secure.socket, server_side=True)
        insecure = ThreadingHTTPServer(("127.0.0.1", 0), _handler(plain=True, asked=asked))
        servers = (secure, insecure)
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        zone = ZoneServer(hostile_records())
        try:
            flags = [
                "--nameserver", f"127.0.0.1:{zone.port}", "--ca-bundle", str(bundle), "--timeout", "5",
                "--connect-to", f":443:127.0.0.1:{secure.server_port}",
                "--connect-to", f":80:127.0.0.1:{insecure.server_port}",
            ]  # fmt: skip
            yield RunningZone(flags, asked, zone)
        finally:
            zone.stop()
            for server in servers:
                server.shutdown()
                server.server_close()
