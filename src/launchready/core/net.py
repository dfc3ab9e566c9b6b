"""Network settings shared by every command that touches the network.

``--nameserver HOST[:PORT]``, ``--ca-bundle FILE``, ``--connect-to HOST:PORT:ADDR:PORT`` (as
curl: an empty HOST or PORT matches any), ``--rdap-server URL`` (the RDAP base URL asked instead of
the one IANA's bootstrap names for the domain's TLD) and ``--timeout SECONDS``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path


class NetFlagError(Exception):
    """A network flag that cannot be used (--nameserver, --connect-to, --ca-bundle, --timeout).

    ``str(exc)`` is one line naming the flag and the value; the CLI prints it and exits with code 2.
    """


def format_peer(address: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets as URLs and curl write it."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


@dataclass(frozen=True)
class Nameserver:
    host: str
    port: int = 53

    def __str__(self) -> str:
        return format_peer(self.host, self.port)


@dataclass(frozen=True)
class ConnectTo:
    """Connect to ``to_host:to_port`` whenever ``host:port`` is requested (None matches any)."""

    host: str | None
    port: int | None
    to_host: str
    to_port: int

    def matches(self, host: str, port: int) -> bool:
        return (self.host is None or self.host == host.lower().rstrip(".")) and (self.port is None or self.port == port)


@dataclass(frozen=True)
class NetSettings:
    nameservers: tuple[Nameserver, ...] = ()
    ca_bundle: Path | None = None
    connect_to: tuple[ConnectTo, ...] = field(default=())
    timeout: float = 10.0
    # An RDAP base URL ("https://rdap.example/"): asked for every domain instead of the bootstrap's.
    rdap_server: str | None = None

    def route(self, host: str, port: int) -> tuple[str, int] | None:
        """The (address, port) to dial instead of resolving ``host``, or None to resolve it."""
        for rule in self.connect_to:
            if rule.matches(host, port):
                return rule.to_host, rule.to_port
        return None


def _split_host_port(text: str, what: str) -> tuple[str, str]:
    """Split ``host:port`` where host may be ``[v6]``; returns (host, port-or-empty)."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise NetFlagError(f"{what}: unclosed '[' in {text!r}")
        host, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise NetFlagError(f"{what}: expected ':' after ']' in {text!r}")
        return host, rest[1:]
    if text.count(":") > 1:
        # A bare IPv6 address without a port.
        return text, ""
    host, _, port = text.partition(":")
    return host, port


def _parse_port(text: str, what: str) -> int:
    # isascii: str.isdigit() also accepts digits such as "²" that int() rejects.
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise NetFlagError(f"{what}: port {text!r} is not a number from 1 to 65535")
    return int(text)


def parse_nameserver(text: str) -> Nameserver:
    """``HOST[:PORT]`` or ``[V6]:PORT``; the host must be an IP address (a resolver needs one)."""
    what = f"--nameserver {text}"
    host, port = _split_host_port(text.strip(), what)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise NetFlagError(f"{what}: {host!r} is not an IP address") from None
    return Nameserver(host, _parse_port(port, what) if port else 53)


def parse_connect_to(text: str) -> ConnectTo:
    """curl's ``HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT``; IPv6 hosts go in brackets."""
    what = f"--connect-to {text}"
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                raise NetFlagError(f"{what}: unclosed '['")
            parts.append(rest[1:end])
            rest = rest[end + 1 :]
            if rest.startswith(":"):
                rest = rest[1:]
                if not rest:
                    parts.append("")
            elif rest:
                raise NetFlagError(f"{what}: expected ':' after ']'")
        else:
            head, sep, rest = rest.partition(":")
            parts.append(head)
            if sep and not rest:
                parts.append("")
    if len(parts) != 4:
        raise NetFlagError(f"{what}: expected HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT")
    host, port, to_host, to_port = parts
    if not to_host:
        raise NetFlagError(f"{what}: CONNECT-TO-HOST must not be empty")
    return ConnectTo(
        host=host.lower().rstrip(".") or None,
        port=_parse_port(port, what) if port else None,
        to_host=to_host,
        to_port=_parse_port(to_port, what),
    )


def parse_rdap_server(text: str) -> str:
    """An http(s) base URL with a host; returned ending in "/" so "domain/NAME" appends to it."""
    from urllib.parse import urlsplit

    what = f"--rdap-server {text}"
    url = text.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise NetFlagError(f"{what}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetFlagError(f"{what}: expected an http(s) base URL such as https://rdap.example.net/")
    if parts.query or parts.fragment:
        raise NetFlagError(f"{what}: a base URL takes no query or fragment")
    del port
    return url if url.endswith("/") else url + "/"


def build_net_settings(
    nameservers: list[str] | None,
    ca_bundle: Path | None,
    connect_to: list[str] | None,
    timeout: float,
    environ: dict[str, str] | None = None,
    *,
    rdap_server: str | None = None,
) -> NetSettings:
    """Parse the shared network flags; SSL_CERT_FILE is the CA bundle when --ca-bundle is absent."""
    import os

    env = os.environ if environ is None else environ
    if ca_bundle is None and env.get("SSL_CERT_FILE"):
        ca_bundle = Path(env["SSL_CERT_FILE"])
    if ca_bundle is not None and not ca_bundle.is_file():
        raise NetFlagError(f"--ca-bundle {ca_bundle}: no such file")
    if not timeout > 0:
        raise NetFlagError(f"--timeout {timeout}: must be a positive number of seconds")
    return NetSettings(
        nameservers=tuple(parse_nameserver(n) for n in nameservers or ()),
        ca_bundle=ca_bundle,
        connect_to=tuple(parse_connect_to(c) for c in connect_to or ()),
        timeout=timeout,
        rdap_server=parse_rdap_server(rdap_server) if rdap_server is not None else None,
    )
