"""What the SPF evaluator (probes/spf.py) reports: the static include tree and one sender's verdict.

Plain data, no I/O: checks judge these without importing the evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass

# RFC 7208 4.6.4: at most 10 DNS-querying terms over the whole evaluation, at most 2 void lookups.
LOOKUP_LIMIT = 10
VOID_LIMIT = 2
# RFC 7208 3.4: a record that does not fit one 512-byte DNS answer risks truncation.
RECOMMENDED_MAX_LENGTH = 450


@dataclass(frozen=True)
class SpfNode:
    """One SPF record in the include tree and what it costs, independent of any sender's IP."""

    domain: str
    via: str  # "" for the domain itself, else "include:X" / "redirect=X"
    status: str  # ok, none, multiple, syntax, temperror, loop, truncated
    record: str | None = None
    problem: str | None = None
    lookups: int = 0  # DNS-querying terms of this record (redirect included)
    void: int = 0  # of those, lookups that returned no records
    uses_ptr: bool = False
    macro_targets: tuple[str, ...] = ()  # include/redirect targets with macros: not followed
    children: tuple[SpfNode, ...] = ()

    @property
    def total_lookups(self) -> int:
        return self.lookups + sum(c.total_lookups for c in self.children)

    @property
    def total_void(self) -> int:
        return self.void + sum(c.total_void for c in self.children)

    def walk(self) -> list[SpfNode]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out

    def lines(self, indent: str = "") -> list[str]:
        """The tree as text: one line per record with its own lookup count."""
        label = f"{self.via} -> {self.domain}" if self.via else self.domain
        if self.status == "ok":
            note = f"{self.lookups} lookup(s)" + (f", {self.void} void" if self.void else "")
        else:
            note = f"{self.status.upper()}" + (f": {self.problem}" if self.problem else "")
        out = [f"{indent}{label} [{note}]"]
        for child in self.children:
            out.extend(child.lines(indent + "  "))
        return out


@dataclass(frozen=True)
class SenderVerdict:
    sender: str  # as configured: "google", "include:x", "ip4:1.2.3.4"
    mechanism: str  # the SPF mechanism that authorises it
    authorized: bool | None  # None: could not tell (DNS failure, unknown provider)
    detail: str
