"""TLS probe: a real handshake with the standard ssl module; cryptography parses the certificate.

Trust: the system store *plus* ``--ca-bundle`` when given. A launch audit often mixes names served
by a public CA with names behind a private/lab CA, and adding the bundle must not make every
public certificate look untrusted. (With ``SSL_CERT_FILE`` set and no ``--ca-bundle``, OpenSSL's
"system store" already is that file.)

When verification fails the handshake is repeated with verification off, so the certificate is
still read and judged (expiry, names, key) even when the chain is bad. ``hostname_matches`` is our
own RFC 6125 matching against the SAN, for the same reason.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from launchready.core.net import NetSettings, format_peer
from launchready.core.protocols import DnsLookup
from launchready.core.tls import CertificateFacts as CertificateFacts
from launchready.core.tls import TlsErrorKind as TlsErrorKind
from launchready.core.tls import TlsFacts as TlsFacts
from launchready.probes.dial import dial_plan, is_ip
from launchready.probes.flight import single_flight

# Closing politely (close_notify) is worth a moment, not a run's timeout.
_CLOSE_GRACE = 1.0


# --- hostname matching (RFC 6125) ------------------------------------------------------------


def _dns_pattern_matches(pattern: str, host: str) -> bool:
    pattern = pattern.lower().rstrip(".")
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        # Partial wildcards ("f*.example.com") and wildcards outside the left-most label are not
        # honoured by browsers (CA/B Forum rules), so they never match here either.
        return False
    suffix = pattern[1:]  # ".example.com"
    if "*" in suffix or suffix.count(".") < 2:
        # "*.com" would cover a whole public suffix: refused, as browsers do.
        return False
    if not host.endswith(suffix):
        return False
    label = host[: -len(suffix)]
    # The wildcard stands for exactly one non-empty label, and never an IDN A-label.
    return bool(label) and "." not in label and not label.startswith("xn--")


def hostname_matches(host: str, san_dns: tuple[str, ...], san_ip: tuple[str, ...] = ()) -> bool:
    """Whether a certificate with these SAN entries is valid for ``host`` (the CN is not consulted)."""
    name = host.lower().rstrip(".")
    if is_ip(name):
        wanted = ipaddress.ip_address(name)
        return any(ipaddress.ip_address(ip) == wanted for ip in san_ip)
    return any(_dns_pattern_matches(p, name) for p in san_dns)


# --- certificate parsing ---------------------------------------------------------------------


def _first_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _key_facts(cert: x509.Certificate) -> tuple[str, int]:
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return "unknown", 0
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, 0


def _is_self_signed(cert: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def certificate_facts(der: bytes) -> CertificateFacts:
    """Parse a DER certificate; raises ValueError when it is not one."""
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        san_dns = tuple(san.get_values_for_type(x509.DNSName))
        san_ip = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        san_dns, san_ip = (), ()
    try:
        algorithm = cert.signature_hash_algorithm
        signature_hash = algorithm.name if algorithm is not None else None
    except UnsupportedAlgorithm:
        signature_hash = "unknown"
    key_type, key_bits = _key_facts(cert)
    return CertificateFacts(
        subject=cert.subject.rfc4514_string(),
        common_name=_first_attr(cert.subject, NameOID.COMMON_NAME),
        san_dns=san_dns,
        issuer=cert.issuer.rfc4514_string(),
        issuer_common_name=_first_attr(cert.issuer, NameOID.COMMON_NAME),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type,
        key_bits=key_bits,
        signature_hash=signature_hash,
        serial=format(cert.serial_number, "x"),
        sha256_fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        self_signed=_is_self_signed(cert),
        san_ip=san_ip,
    )


# --- contexts --------------------------------------------------------------------------------


def verifying_context(net: NetSettings) -> ssl.SSLContext:
    """The system store plus ``--ca-bundle``, hostname checked. Raises ssl.SSLError on a bad bundle."""
    ctx = ssl.create_default_context()
    if net.ca_bundle is not None:
        ctx.load_verify_locations(cafile=str(net.ca_bundle))
    return ctx


def _permissive_context(
    minimum: ssl.TLSVersion = ssl.TLSVersion.MINIMUM_SUPPORTED,
    maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
) -> ssl.SSLContext:
    """No verification, every protocol and key size OpenSSL can still do: for *reading* a server."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # Security level 0 lets the handshake reach weak keys, SHA-1 and TLS 1.0/1.1, which is
    # exactly what the audit must be able to see and report.
    ctx.set_ciphers("ALL:!aNULL:@SECLEVEL=0")
    with warnings.catch_warnings():
        # Python deprecates TLS 1.0/1.1; asking for them is how their acceptance gets reported.
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
    return ctx


# --- the handshake itself --------------------------------------------------------------------


class _Sink(asyncio.Protocol):
    """Reads nothing; only tells us when the connection is gone."""

    def __init__(self) -> None:
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass(frozen=True)
class _Session:
    peer: str
    protocol: str | None
    cipher: str | None
    leaf_der: bytes | None
    chain_length: int | None


def _chain_length(ssl_object: object) -> int | None:
    # Public from Python 3.13; before that the C object underneath has it.
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if getter is None:
        return None
    try:
        chain = getter()
    except (ssl.SSLError, ValueError, AttributeError):
        return None
    return len(chain) if chain is not None else None


async def _close(transport: asyncio.Transport, sink: _Sink) -> None:
    transport.close()
    try:
        await asyncio.wait_for(asyncio.shield(sink.closed), _CLOSE_GRACE)
    except TimeoutError:
        transport.abort()


async def _handshake_once(
    address: str, port: int, server_hostname: str | None, ctx: ssl.SSLContext, timeout: float
) -> _Session:
    """One TCP connect + TLS handshake, then a polite close. Raises on any failure."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        transport, sink = await loop.create_connection(
            _Sink,
            address,
            port,
            ssl=ctx,
            server_hostname=server_hostname,
            ssl_handshake_timeout=timeout,
            ssl_shutdown_timeout=_CLOSE_GRACE,
        )
    try:
        ssl_object = transport.get_extra_info("ssl_object")
        cipher = transport.get_extra_info("cipher")
        return _Session(
            peer=format_peer(address, port),
            protocol=ssl_object.version() if ssl_object is not None else None,
            cipher=cipher[0] if cipher else None,
            leaf_der=ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None,
            chain_length=_chain_length(ssl_object),
        )
    finally:
        await _close(transport, sink)


def _classify(exc: BaseException, timeout: float) -> tuple[TlsErrorKind, str]:
    if isinstance(exc, TimeoutError):
        return "timeout", f"no TLS handshake within {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(exc, (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "reset", f"connection closed during the handshake ({exc})"
    if isinstance(exc, ssl.SSLError):
        return "handshake", f"handshake failed: {exc.reason or exc}"
    if isinstance(exc, OSError):
        return "other", f"{type(exc).__name__}: {exc.strerror or exc}"
    return "other", f"{type(exc).__name__}: {exc}"


def _sni(host: str) -> str | None:
    # An IP literal is never sent as SNI (RFC 6066 3); the ssl module skips it too.
    return None if is_ip(host) else host


class TlsProbe:
    """Handshakes with each (host, port) once per run; concurrent askers share the same attempt."""

    def __init__(self, net: NetSettings, dns: DnsLookup) -> None:
        self._net = net
        self._dns = dns
        self._verifying: ssl.SSLContext | None = None
        self._handshakes: dict[tuple[str, int], asyncio.Task[TlsFacts]] = {}
        self._protocols: dict[tuple[str, int, ssl.TLSVersion], asyncio.Task[bool | None]] = {}

    async def handshake(self, host: str, port: int = 443) -> TlsFacts:
        key = (host.lower().rstrip("."), port)
        return await single_flight(self._handshakes, key, lambda: self._handshake(*key))

    async def accepts_protocol(self, host: str, port: int, version: ssl.TLSVersion) -> bool | None:
        """Whether the server completes a handshake at exactly ``version``; None when we cannot tell.

        "Cannot tell": no address, refused, timeout, a server that drops every handshake, or a
        version this machine's OpenSSL cannot offer.
        """
        key = (host.lower().rstrip("."), port, version)
        return await single_flight(self._protocols, key, lambda: self._accepts(*key))

    async def close(self) -> None:
        for task in (*self._handshakes.values(), *self._protocols.values()):
            if not task.done():
                task.cancel()

    def _verifying_context(self) -> ssl.SSLContext:
        if self._verifying is None:
            self._verifying = verifying_context(self._net)
        return self._verifying

    async def _handshake(self, host: str, port: int) -> TlsFacts:
        try:
            return await self._attempt(host, port)
        except (ValueError, UnicodeError) as exc:
            # e.g. a name the ssl module will not put in SNI: still a fact, not a crash.
            return TlsFacts(host, port, connected=False, error=f"{type(exc).__name__}: {exc}", error_kind="other")

    async def _attempt(self, host: str, port: int) -> TlsFacts:
        timeout = self._net.timeout
        plan = await dial_plan(self._net, self._dns, host, port)
        if not plan.endpoints:
            return TlsFacts(host, port, connected=False, error=plan.error, error_kind="dns")
        try:
            verifying = self._verifying_context()
        except (ssl.SSLError, OSError) as exc:
            error = f"cannot load --ca-bundle {self._net.ca_bundle}: {exc}"
            return TlsFacts(host, port, connected=False, error=error, error_kind="other")

        last: tuple[TlsErrorKind, str] = ("other", "no address to dial")
        last_peer: str | None = None
        for address, dial_port in plan.endpoints:
            last_peer = format_peer(address, dial_port)
            cert_error: str | None = None
            try:
                session = await _handshake_once(address, dial_port, _sni(host), verifying, timeout)
            except ssl.SSLCertVerificationError as exc:
                cert_error = str(exc.verify_message or exc.reason or exc)
                secure_error = cert_error
            except ssl.SSLEOFError as exc:
                last = _classify(exc, timeout)
                break
            except ssl.SSLError as exc:
                # Refused under secure defaults (old protocol, weak key, ...): a browser fails too,
                # but the certificate is still worth reading below.
                secure_error = f"handshake failed with secure client defaults: {exc.reason or exc}"
            except OSError as exc:  # includes TimeoutError
                last = _classify(exc, timeout)
                if isinstance(exc, (TimeoutError, ConnectionResetError)):
                    break  # the address answered (or hung): another one would not tell us more
                continue  # refused / unreachable: another address may be up
            else:
                return self._facts(host, port, session, verified=True, verify_error=None)

            try:
                session = await _handshake_once(address, dial_port, _sni(host), _permissive_context(), timeout)
            except OSError as exc:
                kind, message = _classify(exc, timeout)
                if cert_error is None:
                    message = f"{secure_error}; without verification: {message}"
                return TlsFacts(
                    host,
                    port,
                    connected=False,
                    peer=last_peer,
                    verify_error=cert_error,
                    error=message,
                    error_kind=kind,
                )
            return self._facts(host, port, session, verified=False, verify_error=secure_error)
        kind, message = last
        return TlsFacts(host, port, connected=False, peer=last_peer, error=message, error_kind=kind)

    @staticmethod
    def _facts(host: str, port: int, session: _Session, *, verified: bool, verify_error: str | None) -> TlsFacts:
        leaf: CertificateFacts | None = None
        error: str | None = None
        if session.leaf_der is not None:
            try:
                leaf = certificate_facts(session.leaf_der)
            except ValueError as exc:
                error = f"the server's certificate could not be parsed: {exc}"
        return TlsFacts(
            host=host,
            port=port,
            connected=True,
            peer=session.peer,
            protocol=session.protocol,
            cipher=session.cipher,
            verified=verified,
            verify_error=verify_error,
            hostname_matches=leaf is not None and hostname_matches(host, leaf.san_dns, leaf.san_ip),
            leaf=leaf,
            chain_length=session.chain_length,
            error=error,
            error_kind="other" if error else None,
        )

    async def _accepts(self, host: str, port: int, version: ssl.TLSVersion) -> bool | None:
        try:
            ctx = _permissive_context(version, version)
        except (ValueError, ssl.SSLError):
            return None
        plan = await dial_plan(self._net, self._dns, host, port)
        for address, dial_port in plan.endpoints:
            try:
                session = await _handshake_once(address, dial_port, _sni(host), ctx, self._net.timeout)
            except (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
                # Many servers (asyncio's among them) drop the connection instead of sending a
                # protocol_version alert. A drop means "not this version" only if an ordinary
                # handshake with the same server works.
                return False if (await self.handshake(host, port)).connected else None
            except ssl.SSLError as exc:
                # OpenSSL refuses to even offer a version it was built or configured without.
                if "NO_PROTOCOLS_AVAILABLE" in str(exc).upper():
                    return None
                return False
            except ConnectionRefusedError:
                continue
            except OSError:  # includes TimeoutError
                return None
            return session.protocol == _VERSION_NAMES.get(version, session.protocol)
        return None


_VERSION_NAMES: dict[ssl.TLSVersion, str] = {
    ssl.TLSVersion.TLSv1: "TLSv1",
    ssl.TLSVersion.TLSv1_1: "TLSv1.1",
    ssl.TLSVersion.TLSv1_2: "TLSv1.2",
    ssl.TLSVersion.TLSv1_3: "TLSv1.3",
}
