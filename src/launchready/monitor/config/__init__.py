"""The monitor's effective configuration: the ``[monitor]`` tables, or checks derived from the rest of the config.

The names below are imported on first use: deriving checks (``zeroconf``) does not need the smoke
flows' planner that ``setup`` brings in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.core.lazy import lazy_exports

if TYPE_CHECKING:
    from launchready.monitor.config.setup import effective_monitor_config, prepare_smoke_plans
    from launchready.monitor.config.zeroconf import DerivedCheck, derive_checks

__all__ = ["DerivedCheck", "derive_checks", "effective_monitor_config", "prepare_smoke_plans"]

__getattr__ = lazy_exports(
    __name__,
    {
        "DerivedCheck": "launchready.monitor.config.zeroconf",
        "derive_checks": "launchready.monitor.config.zeroconf",
        "effective_monitor_config": "launchready.monitor.config.setup",
        "prepare_smoke_plans": "launchready.monitor.config.setup",
    },
)
