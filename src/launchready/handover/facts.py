"""What a handover is assembled from: the stored audits, the environment contract, the deploy gate
and the monitor, each read once by ``gather.py`` into these plain values.

Every value here is safe to print: variable names never values, deploy summaries as recorded
(already masked by the gate), the monitor's store URL with its password removed. ``document.py``
still withholds anything that looks like a masked secret, so not even a masked prefix is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from launchready.config.model import Config
from launchready.core.run import AuditRun, HistoryDelta
from launchready.deploy.store import DeployRecord


@dataclass(frozen=True)
class AuditHistory:
    """The latest stored audit of the domain and how it compares with the first one."""

    latest: AuditRun | None = None
    first: AuditRun | None = None
    runs: int = 0
    # First run vs latest run (history/delta.py): fixed only when the check ran again there.
    since_first: HistoryDelta | None = None
    error: str | None = None  # the store could not be read


@dataclass(frozen=True)
class EnvPresence:
    """One environment's variables, by name: ``set``, ``missing``, ``empty`` or ``placeholder``."""

    environment: str
    source: str
    states: Mapping[str, str] = field(default_factory=dict)
    extra: tuple[str, ...] = ()  # set there but not required anywhere
    error: str | None = None  # the source could not be read


@dataclass(frozen=True)
class ProviderKey:
    """A credential of a known provider held by a variable: how to rotate it, never the value."""

    variable: str
    environments: tuple[str, ...]
    provider: str  # the secret rule's description, e.g. "Stripe live secret key"
    rotate: str  # the secret rule's rotation procedure


@dataclass(frozen=True)
class EnvContractView:
    configured: bool
    required: Mapping[str, str] = field(default_factory=dict)  # name -> why it is required
    environments: tuple[EnvPresence, ...] = ()
    provider_keys: tuple[ProviderKey, ...] = ()
    error: str | None = None  # the contract itself (its .env.example) could not be read


@dataclass(frozen=True)
class DeployEnvironment:
    name: str
    health_url: str
    command: str | None = None
    rollback: str | None = None
    rollback_check: str | None = None
    health_timeout: float | None = None
    timeout: float | None = None
    configured: bool = False  # has a [smoke.deploy.NAME] table
    last: DeployRecord | None = None
    last_rollback: DeployRecord | None = None  # the last record in which a rollback ran
    deploys: int = 0


@dataclass(frozen=True)
class DeployView:
    environments: tuple[DeployEnvironment, ...] = ()
    notify: tuple[str, ...] = ()  # where each [[smoke.notify]] target sends, without secrets
    flow_files: tuple[str, ...] = ()
    error: str | None = None  # the deploy records could not be read


@dataclass(frozen=True)
class WatchedCheck:
    name: str
    kind: str
    target: str
    interval_s: float
    why: str = ""  # for a derived check: why it is watched


@dataclass(frozen=True)
class LiveCheck:
    name: str
    state: str
    since: datetime | None
    uptime_30d: float | None
    budget_left: float | None
    last_reason: str | None


@dataclass(frozen=True)
class LiveHeartbeat:
    name: str
    state: str
    last_ping: datetime | None


@dataclass(frozen=True)
class AlertRoute:
    name: str
    kind: str
    destination: str
    routes: str
    recovery: bool
    reminder_every_s: float | None


@dataclass(frozen=True)
class MonitorView:
    configured: bool
    checks: tuple[WatchedCheck, ...] = ()
    derived: bool = False  # no [[monitor.checks]]: these are what `monitor serve` derives
    heartbeats: tuple[tuple[str, str], ...] = ()  # (name, schedule)
    alerts: tuple[AlertRoute, ...] = ()
    slo: float = 0.995
    store: str = ""  # where the store is, password removed
    store_state: str = ""  # "read", "no data yet", or why it could not be read
    live_checks: tuple[LiveCheck, ...] = ()
    live_heartbeats: tuple[LiveHeartbeat, ...] = ()


@dataclass(frozen=True)
class HandoverFacts:
    domain: str
    generated: datetime
    config: Config
    config_path: str | None
    history: AuditHistory
    env: EnvContractView
    deploy: DeployView
    monitor: MonitorView
