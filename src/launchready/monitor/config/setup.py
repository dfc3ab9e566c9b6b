"""From a loaded config to what the scheduler runs: the checks (declared or derived) and smoke plans."""

from __future__ import annotations

from collections.abc import Mapping

from launchready.config.model import Config
from launchready.config.sections.monitor import MonitorCheck, MonitorConfig
from launchready.core.net import NetSettings
from launchready.monitor.config.zeroconf import DerivedCheck, derive_checks
from launchready.monitor.errors import MonitorSetupError
from launchready.secrets.errors import SecretsError
from launchready.smoke.errors import SmokeError
from launchready.smoke.plan import SmokePlan, plan_smoke


async def effective_monitor_config(config: Config, net: NetSettings) -> tuple[MonitorConfig, list[DerivedCheck]]:
    """The ``[monitor]`` table with its checks; none declared: derived ones, listed for the start banner."""
    monitor = config.monitor or MonitorConfig()
    if monitor.checks:
        return monitor, []
    derived = await derive_checks(config, net)
    return monitor.model_copy(update={"checks": tuple(d.check for d in derived)}), derived


def prepare_smoke_plans(
    config: Config, checks: tuple[MonitorCheck, ...], environ: Mapping[str, str] | None = None
) -> dict[str, SmokePlan]:
    """One plan per smoke check, validated before the first run (flow files, env, mailbox)."""
    plans: dict[str, SmokePlan] = {}
    for check in checks:
        if check.smoke is None:
            continue
        environment = check.environment or next(iter(config.environments), None)
        if environment is None:
            raise MonitorSetupError(f"check {check.name!r}: a smoke check needs an [environments.NAME] to run against")
        try:
            plans[check.name] = plan_smoke(config, environment, flow_names=(check.smoke,), environ=environ)
        except (SmokeError, SecretsError) as exc:
            raise MonitorSetupError(f"check {check.name!r}: {exc}") from None
    return plans
