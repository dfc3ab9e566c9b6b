"""What a launchready.toml (or [tool.launchready] in pyproject.toml) may contain.

Every model forbids unknown keys so a typo is an error that names the key, not a silent no-op.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from launchready.core.severity import Severity

_HOST_LABEL = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Environment(_Strict):
    base_url: HttpUrl
    health_path: str = "/health"

    @field_validator("health_path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value


class EmailConfig(_Strict):
    # Who sends mail as the domain: provider names (google, postmark, sendgrid, amazonses, ...),
    # "include:DOMAIN", or "ip4:ADDR"/"ip6:ADDR".
    senders: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()
    sends_mail: bool = True
    receives_mail: bool = True


class Budgets(_Strict):
    p95_ms: float = Field(default=300, gt=0)
    error_rate: float = Field(default=0.01, ge=0, le=1)
    lcp_ms: float = Field(default=2000, gt=0)


class AuditSettings(_Strict):
    fail_on: Severity = Severity.BLOCKER
    # Check ids (or id prefixes) to skip or to run exclusively.
    skip: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    discover: bool = True  # probe the built-in list of common subdomains


class RedirectEntry(_Strict):
    old: str
    new: str
    status: int = Field(default=301, ge=300, le=399)


class Config(_Strict):
    domain: str | None = Field(default=None, pattern=_HOST_LABEL)
    # Extra subdomain labels (e.g. "app", "members") or full host names under the domain.
    subdomains: tuple[str, ...] = ()
    environments: dict[str, Environment] = {}
    email: EmailConfig = EmailConfig()
    budgets: Budgets = Budgets()
    audit: AuditSettings = AuditSettings()
    redirects: tuple[RedirectEntry, ...] = ()
    # Who owns what (dns, email, deploys, on-call...): free-form names or addresses for the handover.
    owners: dict[str, str] = {}

    @field_validator("subdomains")
    @classmethod
    def _labels(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        import re

        for value in values:
            if not re.match(_HOST_LABEL, value.lower()):
                raise ValueError(f"{value!r} is not a host name label")
        return tuple(v.lower() for v in values)
