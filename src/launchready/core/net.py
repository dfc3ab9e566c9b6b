"""Network settings shared by every command that touches the network.

``--nameserver HOST[:PORT]``, ``--ca-bundle FILE``, ``--connect-to HOST:PORT:ADDR:PORT`` (as
curl: an empty HOST or PORT matches any), ``--rdap-server URL`` (the RDAP base URL asked instead of
the one IANA's bootstrap names for the domain's TLD) and ``--timeout SECONDS``.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


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
    # Lets DNS answers and redirects reach private, loopback and link-local addresses (an internal
    # audit); without it only the addresses the flags themselves name are reachable that way.
    allow_private: bool = False
    # An RDAP base URL ("https://rdap.example/"): asked for every domain instead of the bootstrap's.
    rdap_server: str | None = None

    def route(self, host: str, port: int) -> tuple[str, int] | None:
        """The (address, port) to dial instead of resolving ``host``, or None to resolve it."""
        for rule in self.connect_to:
            if rule.matches(host, port):
                return rule.to_host, rule.to_port
        return None

    def steering_refusal(self, address: str) -> str | None:
        """Why ``address`` must not be dialled when a DNS answer or a redirect (not a flag) names it.

        None when it may be: a public address, ``allow_private``, an address a --connect-to or
        --nameserver flag names, or an address in the same scope (loopback, private) as a
        --nameserver: a lab name server on loopback serves its lab on loopback. Link-local
        (cloud metadata at 169.254.169.254), multicast and unspecified addresses are reachable
        only when a flag names them exactly.
        """
        scope = non_public_scope(address)
        if scope is None or self.allow_private:
            return None
        declared = {ns.host for ns in self.nameservers} | {rule.to_host for rule in self.connect_to}
        if _canonical(address) in {_canonical(d) for d in declared}:
            return None
        if scope in ("loopback", "private") and any(non_public_scope(ns.host) == scope for ns in self.nameservers):
            return None
        return (
            f"{address} is a {scope} address that no --connect-to or --nameserver flag names: not dialled "
            f"(set {ALLOW_PRIVATE_ENV}=1 to audit an internal site)"
        )


def _host_name(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")


@dataclass(frozen=True)
class DeclaredHosts:
    """Where a followed redirect may lead: the hosts the user declared, never one a server chose.

    ``domains`` match themselves and every name under them (the audited domain, each environment's
    host); ``names`` match exactly (what a --connect-to rule names). A redirect elsewhere — an SSO
    page, a status page, a stranger's server — is recorded and not followed: its answer says
    nothing about the site, and following it would let the site send the tool anywhere.
    """

    domains: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def allows(self, host: str) -> bool:
        name = _canonical(_host_name(host))
        return name in self.names or any(name == d or name.endswith("." + d) for d in self.domains)

    def refusal(self, host: str) -> str | None:
        """Why a redirect to ``host`` may not be followed, or None when it may be."""
        if self.allows(host):
            return None
        declared = ", ".join([*(f"{d} and names under it" for d in self.domains), *self.names]) or "none"
        return (
            f"{_host_name(host)} is not a declared host (the audited domain, the environments' hosts, "
            f"--connect-to names; here: {declared})"
        )


def declared_hosts(net: NetSettings, domain: str | None, base_urls: Iterable[str] = ()) -> DeclaredHosts:
    """The hosts redirects may lead to for a run on ``domain`` with environments at ``base_urls``."""
    domains: list[str] = [_host_name(domain)] if domain else []
    names: list[str] = []
    for url in base_urls:
        try:
            host = urlsplit(url).hostname
        except ValueError:
            continue
        if host and not _is_address(host):
            # www.example.com's environment is example.com's too: sites redirect between the two.
            domains.append(_host_name(host).removeprefix("www."))
        elif host:
            names.append(_canonical(host))  # an address: itself, nothing "under" it
    # A domain under another one adds nothing (app.example.com under example.com): listed once.
    kept = tuple(d for d in dict.fromkeys(domains) if not any(d.endswith("." + other) for other in domains))
    names += [_host_name(rule.host) for rule in net.connect_to if rule.host is not None]
    return DeclaredHosts(
        kept, tuple(n for n in dict.fromkeys(names) if not any(n == d or n.endswith("." + d) for d in kept))
    )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address.lower().rstrip(".")


def non_public_scope(address: str) -> str | None:
    """The kind of non-public address ``address`` is (``loopback``, ``private``...), None if public or not an IP."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
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


ALLOW_PRIVATE_ENV = "LAUNCHREADY_ALLOW_PRIVATE"
MAX_TIMEOUT = 3600.0  # an hour per request: longer is a typo, and a deadline must stay a deadline


def _check_ca_bundle(flag: str, path: Path) -> None:
    """A CA bundle must be a readable file holding at least one PEM certificate (not, say, /etc/passwd)."""
    import ssl

    if not path.is_file():
        raise NetFlagError(f"{flag} {path}: no such file")
    try:
        context = ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise NetFlagError(f"{flag} {path}: not a PEM certificate bundle ({reason})") from None
    if not context.cert_store_stats()["x509"]:
        raise NetFlagError(f"{flag} {path}: holds no certificate")


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
    allow_private: bool = False,
    rdap_server: str | None = None,
) -> NetSettings:
    """Parse the shared network flags; SSL_CERT_FILE is the CA bundle when --ca-bundle is absent.

    ``LAUNCHREADY_ALLOW_PRIVATE=1`` in the environment sets ``allow_private`` (an internal audit:
    DNS answers and redirects may then reach private and loopback addresses).
    """
    import os

    env = os.environ if environ is None else environ
    allow_private = allow_private or env.get(ALLOW_PRIVATE_ENV, "").strip().lower() in ("1", "true", "yes")
    if ca_bundle is not None:
        _check_ca_bundle("--ca-bundle", ca_bundle)
    elif env.get("SSL_CERT_FILE"):
        # Set for every program in the shell, not for this run: only its existence is checked here
        # (a bundle that does not load is the TLS probe's "cannot load" fact, as before).
        ca_bundle = Path(env["SSL_CERT_FILE"])
        if not ca_bundle.is_file():
            raise NetFlagError(f"--ca-bundle {ca_bundle}: no such file")
    # inf and nan compare as numbers but are not a deadline: a hostile flag must not disarm the timeouts.
    if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise NetFlagError(f"--timeout {timeout}: must be a positive number of seconds, at most {MAX_TIMEOUT:g}")
    return NetSettings(
        nameservers=tuple(parse_nameserver(n) for n in nameservers or ()),
        ca_bundle=ca_bundle,
        connect_to=tuple(parse_connect_to(c) for c in connect_to or ()),
        timeout=timeout,
        allow_private=allow_private,
        rdap_server=parse_rdap_server(rdap_server) if rdap_server is not None else None,
    )
