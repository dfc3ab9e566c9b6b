"""The monitor's effective configuration: the ``[monitor]`` tables, or checks derived from the rest of the config."""

from launchready.monitor.config.setup import effective_monitor_config, prepare_smoke_plans
from launchready.monitor.config.zeroconf import DerivedCheck, derive_checks

__all__ = ["DerivedCheck", "derive_checks", "effective_monitor_config", "prepare_smoke_plans"]
