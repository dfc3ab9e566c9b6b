"""Read what a handover is made of: the audit history, the environment contract, the deploy records
and the monitor's config and store. Every part that cannot be read becomes a line in its section
("could not be read: ...") rather than an error: a handover is most needed when something is wrong.

Nothing read here keeps a secret value: variables are kept by name (the values are read only to
tell set from empty and to recognise a provider's key), the monitor store's password is dropped.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from launchready.config.model import Config
from launchready.config.sections.monitor import MonitorCheck, MonitorConfig
from launchready.config.sections.monitor_alerts import AlertConfig, alert_name
from launchready.config.sections.smoke import ENV_REFERENCE, NotifyTarget
from launchready.core.masking import mask_credentials
from launchready.core.net import NetSettings
from launchready.deploy.store import DeployRecord, DeployStore
from launchready.handover.facts import (
    AlertRoute,
    AuditHistory,
    DeployEnvironment,
    DeployView,
    EnvContractView,
    EnvPresence,
    HandoverFacts,
    LiveCheck,
    LiveHeartbeat,
    MonitorView,
    ProviderKey,
    WatchedCheck,
)
from launchready.history.delta import compute_delta
from launchready.history.errors import HistoryError
from launchready.history.store import HistoryStore
from launchready.secrets.contract import Requirements, read_source, requirements
from launchready.secrets.envfile import EnvFile, is_placeholder
from launchready.secrets.errors import SecretsError

# Deriving the monitor's checks asks the DNS a few questions; a dead resolver must not hold the document.
DERIVE_TIMEOUT_S = 20.0
# A record kept by the gate when a rollback ran (deploy/gate.py names the phase so).
_ROLLBACK_PHASE = "rollback command:"
_ROLLED_BACK_ON_REQUEST = "rolled-back-on-request"
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^@/\s]*@", re.I)


def gather(
    domain: str,
    config: Config,
    *,
    config_path: Path | None,
    base_dir: Path,
    repo_root: Path | None,
    net: NetSettings,
    now: datetime | None = None,
) -> HandoverFacts:
    return HandoverFacts(
        domain=domain,
        generated=now or datetime.now(UTC),
        config=config,
        config_path=str(config_path) if config_path else None,
        history=read_history(base_dir, domain),
        env=read_env_contract(config, repo_root or base_dir),
        deploy=read_deploys(config, base_dir),
        monitor=read_monitor(config, base_dir, net),
    )


# -- the audits ------------------------------------------------------------------------------------


def read_history(base_dir: Path, domain: str) -> AuditHistory:
    try:
        with HistoryStore(base_dir) as store:
            latest = store.previous(domain)
            if latest is None:
                return AuditHistory()
            first = store.first(domain)
            runs = store.count(domain)
    except HistoryError as exc:
        return AuditHistory(error=str(exc))
    since = compute_delta(first, latest) if first is not None and first.run_id != latest.run_id else None
    return AuditHistory(latest=latest, first=first, runs=runs, since_first=since)


# -- the environment contract ------------------------------------------------------------------------


def read_env_contract(config: Config, repo_root: Path) -> EnvContractView:
    contract = config.secrets.env
    if not (contract.example or contract.required or contract.flows or contract.sources):
        return EnvContractView(configured=False)
    environments = list(dict.fromkeys([*contract.sources, *contract.required])) or ["production"]
    needs: dict[str, Requirements] = {}
    try:
        for environment in environments:
            needs[environment] = requirements(contract, environment, repo_root)
    except SecretsError as exc:
        return EnvContractView(configured=True, error=str(exc))
    required: dict[str, str] = {}
    for environment in environments:
        for name, why in needs[environment].names.items():
            required.setdefault(name, why)
    presences: list[EnvPresence] = []
    keys: dict[tuple[str, str, str], list[str]] = {}
    for environment, source in contract.sources.items():
        try:
            have = read_source(Path(source)).env
        except (SecretsError, OSError, UnicodeDecodeError) as exc:
            presences.append(EnvPresence(environment, Path(source).name, error=str(exc)))
            continue
        presences.append(_presence(environment, Path(source).name, have, needs[environment], required))
        for variable, provider, rotate in provider_keys(have, environment):
            keys.setdefault((variable, provider, rotate), []).append(environment)
    return EnvContractView(
        configured=True,
        required=required,
        environments=tuple(presences),
        provider_keys=tuple(
            ProviderKey(variable, tuple(envs), provider, rotate)
            for (variable, provider, rotate), envs in sorted(keys.items())
        ),
    )


def _presence(
    environment: str, source: str, have: EnvFile, needs: Requirements, required: dict[str, str]
) -> EnvPresence:
    example = needs.example.values if needs.example else {}
    states: dict[str, str] = {}
    for name in required:
        value = have.values.get(name)
        if value is None:
            states[name] = "missing" if name in needs.names else "not required"
        elif not value.strip():
            states[name] = "empty"
        elif is_placeholder(value) or (example.get(name) and value == example[name]):
            states[name] = "placeholder"
        else:
            states[name] = "set"
    # A name standing alone on its line may be a pasted secret, not a name: never listed.
    extra = tuple(sorted(n for n in have.values if n not in required and n not in have.bare))
    return EnvPresence(environment, source, states, extra)


def provider_keys(have: EnvFile, environment: str) -> Iterable[tuple[str, str, str]]:
    """(variable, provider, rotation) for each value a provider rule of the secret scanner recognises."""
    from launchready.secrets.detector import Detector
    from launchready.secrets.rules import ROTATE_THEN_PURGE, Kind

    detector = Detector()
    for name, value in sorted(have.values.items()):
        if not value.strip() or is_placeholder(value) or name in have.bare:
            continue
        seen: set[str] = set()
        for match in detector.scan(f"{name}={value}\n", f"{environment}.env"):
            rule = match.rule
            if rule.kind not in (Kind.PROVIDER, Kind.TEST) or rule.id in seen:
                continue
            seen.add(rule.id)
            # Held in an environment, not committed: rotating is the whole procedure.
            yield name, rule.description, rule.rotate.removesuffix(ROTATE_THEN_PURGE)


# -- the deploy gate ---------------------------------------------------------------------------------


def read_deploys(config: Config, base_dir: Path) -> DeployView:
    error: str | None = None
    records: list[DeployRecord] = []
    store = DeployStore(base_dir)
    try:
        records = store.list(limit=1000)
    except HistoryError as exc:
        error = str(exc)
    finally:
        store.close()
    names = list(dict.fromkeys([*config.environments, *config.smoke.deploy, *(r.environment for r in records)]))
    environments = []
    for name in names:
        mine = [r for r in records if r.environment == name]  # newest first
        settings = config.smoke.deploy.get(name)
        env_config = config.environments.get(name)
        environments.append(
            DeployEnvironment(
                name=name,
                health_url=(str(env_config.base_url).rstrip("/") + env_config.health_path) if env_config else "",
                command=settings.command if settings else None,
                rollback=settings.rollback if settings else None,
                rollback_check=settings.rollback_check if settings else None,
                health_timeout=settings.health_timeout if settings else None,
                timeout=settings.timeout if settings else None,
                configured=settings is not None,
                last=next((r for r in mine if r.outcome != _ROLLED_BACK_ON_REQUEST), None),
                last_rollback=next(
                    (r for r in mine if any(line.startswith(_ROLLBACK_PHASE) for line in r.summary.splitlines())),
                    None,
                ),
                deploys=len(mine),
            )
        )
    return DeployView(
        environments=tuple(environments),
        notify=tuple(notify_destination(t) for t in config.smoke.notify),
        flow_files=tuple(Path(f).name for f in config.smoke.files),
        error=error,
    )


def _reference(value: str | None) -> str | None:
    if value is None:
        return None
    match = ENV_REFERENCE.match(value)
    return f"${{env:{match.group(1)}}}" if match else None


def _host_of(url: str) -> str:
    rest = url.partition("://")[2]
    return rest.split("/", 1)[0].rpartition("@")[2] or "?"


def notify_destination(target: NotifyTarget) -> str:
    """Where a deploy notification goes, without a secret: an env reference, a host or addresses."""
    if target.kind == "email":
        return f"email to {', '.join(target.to)} via {target.smtp}"
    reference = _reference(target.url)
    if reference is not None:
        return f"{target.kind}: URL in {reference}"
    if target.kind == "slack":
        # A Slack webhook URL is itself the credential.
        return "slack: URL written in the config (move it to ${env:NAME})"
    return f"{target.kind}: {_host_of(target.url or '')}"


# -- the monitor ---------------------------------------------------------------------------------------


def read_monitor(config: Config, base_dir: Path, net: NetSettings) -> MonitorView:
    monitor = config.monitor
    if monitor is None:
        return MonitorView(configured=False)
    derived = not monitor.checks
    checks = _watched(monitor.checks) if not derived else _derived(config, net)
    from launchready.monitor.store.engine import store_url

    url = store_url(None, monitor.store, base_dir)
    state, live_checks, live_heartbeats = _read_store(url, monitor)
    return MonitorView(
        configured=True,
        checks=checks,
        derived=derived,
        heartbeats=tuple((h.name, _schedule(h.period, h.grace, h.cron, h.tz)) for h in monitor.heartbeats),
        alerts=tuple(_route(a) for a in monitor.alerts),
        slo=monitor.slo,
        store=without_password(url),
        store_state=state,
        live_checks=live_checks,
        live_heartbeats=live_heartbeats,
    )


def without_password(url: str) -> str:
    """The URL with its user and password removed (not masked: a handover shows no part of a secret)."""
    return _URL_USERINFO.sub(lambda m: m["scheme"], url)


def _watched(checks: Sequence[MonitorCheck], why: Sequence[str] = ()) -> tuple[WatchedCheck, ...]:
    reasons = list(why) + [""] * (len(checks) - len(why))
    return tuple(
        WatchedCheck(c.name, c.kind, mask_credentials(c.target), c.interval, reason)
        for c, reason in zip(checks, reasons, strict=True)
    )


def _derived(config: Config, net: NetSettings) -> tuple[WatchedCheck, ...]:
    from launchready.monitor.config.zeroconf import derive_checks

    async def derive() -> list[tuple[MonitorCheck, str]]:
        found = await asyncio.wait_for(derive_checks(config, net), DERIVE_TIMEOUT_S)
        return [(d.check, d.why) for d in found]

    try:
        found = asyncio.run(derive())
    except (TimeoutError, OSError, ValueError):
        # The DNS did not answer in time, or served a name no check can be made of: none derived now.
        return ()
    return _watched([c for c, _ in found], [why for _, why in found])


def _span(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def _schedule(period: float | None, grace: float, cron: str | None, tz: str) -> str:
    when = f"cron {cron} ({tz})" if cron else f"every {_span(period)}"
    return f"{when}, grace {_span(grace)}"


def _route(alert: AlertConfig) -> AlertRoute:
    if alert.kind == "email":
        destination = f"{', '.join(alert.to)} via {alert.host}:{alert.port}"
    else:
        reference = _reference(alert.url)
        destination = f"URL in {reference}" if reference else _host_of(alert.url or "")
    if alert.routes_everything:
        routes = "every check, heartbeat and SLO"
    else:
        parts = [*(f"check {c}" for c in alert.checks), *(f"tag {t}" for t in alert.tags)]
        routes = ", ".join(parts)
    return AlertRoute(alert_name(alert), alert.kind, destination, routes, alert.recovery, alert.reminder_every)


def _moment(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def _read_store(url: str, monitor: MonitorConfig) -> tuple[str, tuple[LiveCheck, ...], tuple[LiveHeartbeat, ...]]:
    """Read the store without creating or migrating it: a handover never writes the monitor's data."""
    import time

    from sqlalchemy.exc import SQLAlchemyError

    from launchready.monitor.errors import MonitorError
    from launchready.monitor.store.engine import create_store_engine
    from launchready.monitor.web.queries import check_summaries, heartbeat_summaries

    if url.lower().startswith("sqlite:///"):
        path = Path(url.partition(":///")[2])
        if not path.is_file():
            return "no data yet: `launchready monitor serve` has not run with this store", (), ()
    try:
        engine = create_store_engine(url)
        try:
            with engine.connect() as conn:
                summaries = check_summaries(conn, time.time(), monitor.slo)
                beats = heartbeat_summaries(conn, durations_per_heartbeat=1)
        finally:
            engine.dispose()
    except (SQLAlchemyError, MonitorError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        line = " ".join(str(reason).split())[:200]
        return f"could not be read: {mask_credentials(line)}", (), ()
    checks = tuple(
        LiveCheck(
            s.name,
            s.state,
            _moment(s.state_since),
            s.window("30d").uptime if any(w.label == "30d" for w in s.windows) else None,
            s.budget_left,
            mask_credentials(s.last_reason) if s.last_reason else None,
        )
        for s in summaries
    )
    heartbeats = tuple(LiveHeartbeat(h.name, h.state, _moment(h.last_ping_at)) for h in beats)
    return "read", checks, heartbeats
