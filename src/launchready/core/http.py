"""HTTP facts: one request and what came back, as the HTTP probe observed it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HttpErrorKind = Literal["timeout", "refused", "reset", "tls", "dns", "protocol", "too-large", "other"]
RedirectStop = Literal["loop", "max-hops", "bad-location", "private-address", "undeclared-host"]


@dataclass(frozen=True)
class HttpExchange:
    """One request and what came back (or why nothing did). Redirects are never followed here."""

    url: str
    method: str
    status: int | None = None
    # Lower-cased names, in the order received; repeated headers (Set-Cookie) appear repeatedly.
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""  # at most the probe's body limit
    body_size: int = 0  # bytes actually read (may be capped)
    body_truncated: bool = False
    elapsed_ms: float = 0.0
    peer: str | None = None  # "addr:port" actually dialled
    error: str | None = None
    error_kind: HttpErrorKind | None = None
    # Set by ``HttpProbe.follow`` on the last hop when it stopped on something other than a
    # final answer: the Location points back to a URL already visited, too many hops, an
    # unusable Location, a private address no flag declared (never dialled), or a host the
    # caller's DeclaredHosts does not hold (not followed).
    redirect_stop: RedirectStop | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_all(self, name: str) -> tuple[str, ...]:
        name = name.lower()
        return tuple(v for k, v in self.headers if k == name)

    @property
    def location(self) -> str | None:
        return self.header("location")

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308)
