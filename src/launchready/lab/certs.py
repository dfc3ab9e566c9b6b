"""Each web host's certificate (broken ones under the certificate faults) and the SNI context."""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from launchready.lab.ca import IssuedCert, LabCA
from launchready.lab.error_tracker import TRACKER_HOST
from launchready.lab.hosts import LabHosts

WRONG_HOST_NAME = "other.example.test"


@dataclass(frozen=True)
class HostCertFiles:
    cert: Path
    key: Path


def issue_host_certs(ca: LabCA, hosts: LabHosts, faults: frozenset[str]) -> dict[str, IssuedCert]:
    """One certificate per web host; EC keys because they are fast to make (lab start-up)."""
    now = datetime.now(UTC)
    certs: dict[str, IssuedCert] = {}
    # mta-sts.DOMAIN serves only the MTA-STS policy (lab/mta_sts.py), but over verified HTTPS; the
    # hosted error tracker's stand-in (lab/error_tracker.py) too.
    for host in (*hosts.web, f"mta-sts.{hosts.domain}", TRACKER_HOST):
        if host == hosts.admin and "cert-expired" in faults:
            certs[host] = ca.issue([host], not_after=now - timedelta(days=3))
        elif host == hosts.app and "cert-expiring-soon" in faults:
            certs[host] = ca.issue([host], not_after=now + timedelta(days=10))
        elif host == hosts.api and "cert-wrong-host" in faults:
            certs[host] = ca.issue([WRONG_HOST_NAME])
        elif host == hosts.api and "cert-weak-key" in faults:
            certs[host] = ca.issue([host], key="rsa1024")
        elif host == hosts.www and "cert-self-signed" in faults:
            certs[host] = ca.issue([host], self_signed=True)
        else:
            certs[host] = ca.issue([host])
    return certs


def write_host_certs(certs: Mapping[str, IssuedCert], directory: Path) -> dict[str, HostCertFiles]:
    files: dict[str, HostCertFiles] = {}
    for host, issued in certs.items():
        cert_path, key_path = issued.write(directory, host)
        files[host] = HostCertFiles(cert_path, key_path)
    return files


def _server_context(files: HostCertFiles, *, legacy_tls: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if legacy_tls:
        # tls-legacy: TLS 1.0 and 1.1 still accepted, as on a server configured years ago.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            # The deprecated protocol is the fault being emulated.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(files.cert, files.key)
    except ssl.SSLError:
        # A weak key (cert-weak-key) loads only at security level 0, as on old servers.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.load_cert_chain(files.cert, files.key)
    return context


def sni_context(files: Mapping[str, HostCertFiles], default_host: str, *, legacy_tls: bool = False) -> ssl.SSLContext:
    """A server context that switches to the requested host's certificate during the handshake.

    Clients that send no SNI, or a name the lab does not serve, get ``default_host``'s
    certificate (what most real servers do with their default virtual host).
    """
    per_host = {host: _server_context(paths, legacy_tls=legacy_tls) for host, paths in files.items()}
    default = _server_context(files[default_host], legacy_tls=legacy_tls)

    def choose(connection: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext) -> None:
        if server_name is not None:
            chosen = per_host.get(server_name.lower().rstrip("."))
            if chosen is not None:
                connection.context = chosen

    default.sni_callback = choose
    return default
