"""What an RDAP lookup of a domain saw: registrar, expiry, status codes, DNSSEC delegation.

Frozen facts the RDAP probe (``probes/rdap.py``) returns and checks judge. ``error`` set means
the lookup gave no usable answer (no server for the TLD, unreachable, not JSON, a redirect to
another host, a 404): the check then could not run; the other fields are empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RdapFacts:
    domain: str
    server: str | None  # the base URL asked ("https://rdap.verisign.com/com/v1/"), None when none is known
    url: str | None = None  # the URL of the answer that was read (after same-host redirects)
    error: str | None = None
    registrar: str | None = None
    registrar_iana_id: str | None = None
    expires: datetime | None = None
    registered: datetime | None = None
    statuses: tuple[str, ...] = ()  # RDAP status values, lower case ("client transfer prohibited")
    delegation_signed: bool | None = None  # secureDNS.delegationSigned; None when the server did not say
    nameservers: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    def has_status(self, epp_status: str) -> bool:
        """Whether an EPP status (``clientTransferProhibited``) is set. RDAP spells it in words
        ("client transfer prohibited", RFC 8056); some servers send the EPP name as is."""
        wanted = _squashed(epp_status)
        return any(_squashed(s) == wanted for s in self.statuses)


def _squashed(status: str) -> str:
    return "".join(ch for ch in status.lower() if ch.isalnum())
