"""A small synchronous HTTP(S) client that reaches the lab the way ``--connect-to`` does.

It dials the lab's HTTPS/HTTP port on loopback while sending the real host name as SNI and
Host, verifies certificates against the lab CA, keeps cookies per host and never follows
redirects. Tests and scripted flows (sign up, log in, ...) drive the app with it.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from launchready.lab.lab import Lab


@dataclass(frozen=True)
class LabResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # names lower-cased, in the order received
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> tuple[str, ...]:
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key == wanted)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class _RoutedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``host`` (SNI, Host, certificate name) over a socket dialled to ``dial``."""

    def __init__(self, host: str, port: int, *, dial: tuple[str, int], context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(host, port, context=context, timeout=timeout)
        self._dial = dial
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection(self._dial, self.timeout)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


class _RoutedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, dial: tuple[str, int], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._dial = dial

    def connect(self) -> None:
        self.sock = socket.create_connection(self._dial, self.timeout)


class LabClient:
    """``LabClient.for_lab(lab).get("https://app.marketlab.test/health")``."""

    def __init__(
        self,
        *,
        address: str,
        https_port: int,
        http_port: int,
        ca_bundle: str | None,
        verify: bool = True,
        timeout: float = 10.0,
    ) -> None:
        self._address = address
        self._ports = {"https": https_port, "http": http_port}
        context = ssl.create_default_context(cafile=ca_bundle)
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self._context = context
        self._timeout = timeout
        self._jar: dict[str, dict[str, str]] = {}

    @classmethod
    def for_lab(cls, lab: Lab, *, verify: bool = True, timeout: float = 10.0) -> LabClient:
        """A client for a running :class:`launchready.lab.lab.Lab`."""
        return cls(
            address=lab.bind,
            https_port=lab.https_port,
            http_port=lab.http_port,
            ca_bundle=str(lab.ca_bundle),
            verify=verify,
            timeout=timeout,
        )

    def cookies(self, host: str) -> dict[str, str]:
        return dict(self._jar.get(host.lower(), {}))

    def _remember(self, host: str, response: LabResponse) -> None:
        jar = self._jar.setdefault(host.lower(), {})
        for header in response.header_all("set-cookie"):
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                if morsel["max-age"] in ("0",) or morsel.value == "":
                    jar.pop(name, None)
                else:
                    jar[name] = morsel.value

    def request(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> LabResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in self._ports or not parts.hostname:
            raise ValueError(f"{url!r}: expected an http(s) URL with a host")
        host = parts.hostname.lower()
        default_port = 443 if scheme == "https" else 80
        port = parts.port or default_port
        dial = (self._address, self._ports[scheme])
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = _RoutedHTTPSConnection(host, port, dial=dial, context=self._context, timeout=self._timeout)
        else:
            connection = _RoutedHTTPConnection(host, port, dial=dial, timeout=self._timeout)
        send_headers = dict(headers or {})
        if form is not None:
            body = urlencode(form).encode()
            send_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        cookies = self._jar.get(host, {})
        if cookies and scheme == "https":  # the lab's cookies are all Secure
            send_headers.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            connection.request(method, target, body=body, headers=send_headers)
            raw = connection.getresponse()
            response = LabResponse(
                status=raw.status,
                reason=raw.reason,
                headers=tuple((k.lower(), v) for k, v in raw.getheaders()),
                body=raw.read(),
            )
        finally:
            connection.close()
        self._remember(host, response)
        return response

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> LabResponse:
        return self.request("GET", url, headers=headers)

    def post(
        self,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> LabResponse:
        return self.request("POST", url, form=form, body=body, headers=headers)
