"""The ``[perf]`` section: what `launchready load`, the growth test and the page-load check measure.

Endpoints are paths on an environment's base_url (or full URLs on a declared host). The load
generator only ever talks to hosts the config declares (see launchready.perf.plan), and its rate
and duration are capped here, so a typo cannot turn it into a load test of someone else.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from launchready.config.strict import StrictModel

# Smoke flow names (smoke/schema.py) and an HTTP header field name (RFC 9110 token).
_FLOW_NAME = r"^[A-Za-z_][A-Za-z0-9_-]*$"
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Headers the load client writes itself (or that would change how the response is framed).
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "user-agent", "accept-encoding"}
)


def _auth_header(value: str | None) -> str | None:
    """``"Name: value"`` with ``${var}`` from the login flow; one line, a header the client does not own."""
    if value is None:
        return None
    name, sep, rest = value.partition(":")
    if not sep or not _HEADER_NAME.match(name) or not rest.strip():
        raise ValueError(f'expected "Name: value" such as "Authorization: Bearer ${{token}}", got {value[:24]!r}')
    if "\r" in value or "\n" in value:
        raise ValueError("expected one header line, got a line break")
    if name.lower() in _RESERVED_HEADERS:
        raise ValueError(f"{name} is set by the load client itself")
    return value


def _path_or_url(value: str) -> str:
    if value.startswith("/") or value.lower().startswith(("http://", "https://")):
        return value
    raise ValueError(f"expected a path starting with '/' or an http(s) URL, got {value!r}")


class PerfEndpoint(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", description="Short name used in reports.")
    path: str = Field(description="Path on the environment's base_url, or a full URL on a declared host.")
    method: Literal["GET", "HEAD"] = Field(default="GET", description="Read endpoints only.")
    weight: int = Field(default=1, ge=1, le=100, strict=True, description="Share of the traffic.")
    p95_ms: float | None = Field(default=None, gt=0, strict=True, description="Overrides budgets.p95_ms.")
    error_rate: float | None = Field(default=None, ge=0, le=1, strict=True, description="Overrides budgets.error_rate.")
    login_flow: str | None = Field(
        default=None,
        pattern=_FLOW_NAME,
        description="Smoke flow run once before the load; its cookies go with every request.",
    )
    auth_header: str | None = Field(
        default=None, description="Header built from the login flow's captures, e.g. Authorization."
    )
    anonymous: bool = Field(default=False, strict=True, description="Load without the table's login_flow.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return _path_or_url(value)

    @field_validator("auth_header")
    @classmethod
    def _header(cls, value: str | None) -> str | None:
        return _auth_header(value)

    @model_validator(mode="after")
    def _auth(self) -> PerfEndpoint:
        if self.anonymous and (self.login_flow or self.auth_header):
            raise ValueError("anonymous = true cannot go with login_flow or auth_header")
        return self


class GrowthSettings(StrictModel):
    # Run with {n} replaced by each size, e.g. "python manage.py seed_members --count {n}".
    seed: str | None = Field(default=None, description="Command that seeds n members; must contain {n}.")
    sizes: tuple[int, ...] = Field(default=(100, 500), description="Data sizes to compare, smallest first.")
    endpoints: tuple[str, ...] = Field(default=(), description="Endpoint names to grow-test; default all.")
    max_factor: float = Field(default=1.5, gt=1, strict=True, description="Allowed p95 growth smallest->largest.")
    rate: float = Field(default=10.0, gt=0, strict=True, description="Requests per second at each size.")
    duration_s: float = Field(default=5.0, gt=0, strict=True, description="Measured seconds at each size.")
    seed_timeout: float = Field(
        default=300.0, gt=0, le=86400, description="Seconds one seed run may take before it is stopped."
    )
    unit: str = Field(
        default="members",
        min_length=1,
        max_length=40,
        description="What the sizes count, in reports: members, orders, posts...",
    )

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        if not value.strip() or "\n" in value:
            raise ValueError(f"expected a short word like 'members' or 'orders', got {value!r}")
        return value.strip()

    @field_validator("seed")
    @classmethod
    def _has_n(cls, value: str | None) -> str | None:
        if value is not None and "{n}" not in value:
            raise ValueError(f"expected a command containing {{n}}, got {value!r}")
        return value

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) < 2 or any(n < 1 for n in value) or list(value) != sorted(set(value)):
            raise ValueError(f"expected two or more increasing positive sizes, got {list(value)}")
        return value


class PerfConfig(StrictModel):
    environment: str | None = Field(
        default=None, description="Environment whose base_url endpoint paths use; default the first one."
    )
    endpoints: tuple[PerfEndpoint, ...] = Field(default=(), description="Read endpoints to load.")
    allow_hosts: tuple[str, ...] = Field(default=(), description="More hosts the load may target.")
    rate: float = Field(default=20.0, gt=0, strict=True, description="Requests per second (all endpoints).")
    duration_s: float = Field(default=30.0, gt=0, strict=True, description="Measured seconds.")
    warmup_s: float = Field(default=5.0, ge=0, strict=True, description="Seconds sent first and not measured.")
    max_rate: float = Field(default=500.0, gt=0, strict=True, description="Highest rate any run may use.")
    max_duration_s: float = Field(default=300.0, gt=0, strict=True, description="Longest run allowed.")
    connections: int = Field(default=64, ge=1, le=10000, strict=True, description="Connections per host at most.")
    in_audit: bool = Field(default=False, strict=True, description="Run a short load and growth test in audits.")
    pageload: Literal["auto", "on", "off"] = Field(
        default="auto", description="Page load in audits: auto = when Chromium is installed."
    )
    pageload_paths: tuple[str, ...] = Field(default=("/",), description="Pages whose mobile load is measured.")
    growth: GrowthSettings = GrowthSettings()
    login_flow: str | None = Field(
        default=None, pattern=_FLOW_NAME, description="Smoke flow every endpoint logs in with (unless anonymous)."
    )
    auth_header: str | None = Field(
        default=None, description="Header built from the login flow's captures, for every endpoint."
    )

    @field_validator("auth_header")
    @classmethod
    def _header(cls, value: str | None) -> str | None:
        return _auth_header(value)

    @field_validator("pageload_paths")
    @classmethod
    def _paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_path_or_url(v) for v in value)

    @field_validator("allow_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower().rstrip(".") for v in value)

    @model_validator(mode="after")
    def _consistent(self) -> PerfConfig:
        if self.rate > self.max_rate:
            raise ValueError(f"rate {self.rate:g} is above max_rate {self.max_rate:g}")
        if self.duration_s + self.warmup_s > self.max_duration_s:
            raise ValueError(f"duration_s + warmup_s is above max_duration_s {self.max_duration_s:g}")
        names = [e.name for e in self.endpoints]
        if len(names) != len(set(names)):
            raise ValueError("endpoint names must be unique")
        unknown = sorted(set(self.growth.endpoints) - set(names))
        if unknown:
            raise ValueError(f"growth.endpoints names unknown endpoint(s) {', '.join(unknown)}")
        if self.auth_header and not self.login_flow:
            raise ValueError("auth_header needs login_flow: the smoke flow whose captures it uses")
        for e in self.endpoints:
            if e.auth_header and not (e.login_flow or self.login_flow):
                raise ValueError(f"endpoint {e.name}: auth_header needs login_flow (here or in [perf])")
        return self
