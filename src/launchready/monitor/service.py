"""What `monitor serve` composes: the effective setup (checks, smoke plans, store) and a runner
that keeps several components (the scheduler, the alert worker, the web app) running until
SIGTERM/SIGINT or until one of them ends, then stops them all.

A component is anything with ``async run()`` that returns after ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine

from launchready.config.loader import LoadedConfig
from launchready.config.sections.monitor import MonitorCheck, MonitorConfig
from launchready.core.net import NetSettings
from launchready.monitor.config import DerivedCheck, effective_monitor_config, prepare_smoke_plans
from launchready.monitor.store.engine import open_store, shown, store_url
from launchready.smoke.plan import SmokePlan

log = logging.getLogger("launchready.monitor")


class Component(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class MonitorSetup:
    monitor: MonitorConfig  # with the checks that will run (declared, or derived)
    derived: tuple[DerivedCheck, ...]  # non-empty when the checks were derived (zero-config)
    smoke_plans: dict[str, SmokePlan]
    store_url: str
    engine: Engine

    def banner(self) -> list[str]:
        """What `monitor serve` says at start: the store, and each check (derived ones with why)."""
        lines = [f"store: {shown(self.store_url)}"]
        if self.derived:
            lines.append(f"no [[monitor.checks]] in the config: watching {len(self.derived)} derived from it:")
            lines.extend(f"  {item}" for item in self.derived)
        else:
            lines.append(f"watching {len(self.monitor.checks)} checks:")
            lines.extend(f"  {_describe(check)}" for check in self.monitor.checks)
        if self.monitor.heartbeats:
            lines.append(f"expecting pings from {len(self.monitor.heartbeats)} heartbeats")
        return lines


def _describe(check: MonitorCheck) -> str:
    paused = ", paused" if check.paused else ""
    return f"{check.name}: {check.target} (every {check.interval:g}s{paused})"


async def prepare_monitor(loaded: LoadedConfig, net: NetSettings, store: str | None = None) -> MonitorSetup:
    """Resolve the checks, validate smoke flows and open (and migrate) the store.

    Raises MonitorSetupError / MonitorStoreError with one line; nothing runs before all is valid.
    """
    monitor, derived = await effective_monitor_config(loaded.config, net)
    plans = prepare_smoke_plans(loaded.config, monitor.checks)
    url = store_url(store, monitor.store, loaded.base_dir)
    engine = await asyncio.to_thread(open_store, url)
    return MonitorSetup(monitor, tuple(derived), plans, url, engine)


async def run_until_stopped(components: Sequence[Component], *, handle_signals: bool = True) -> None:
    """Run every component; SIGTERM/SIGINT (or any component ending) stops them all, cleanly."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    installed: list[signal.Signals] = []
    if handle_signals:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stopping.set)
                installed.append(signum)
    tasks = [asyncio.create_task(component.run()) for component in components]
    waiter = asyncio.create_task(stopping.wait())
    try:
        done, _ = await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                log.error("a monitor component stopped: %s", task.exception())
    finally:
        for component in components:
            component.stop()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        waiter.cancel()
        for signum in installed:
            loop.remove_signal_handler(signum)
    failures = [r for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]
    if failures:
        raise failures[0]
