"""What `monitor serve` composes: setup from a config (banner, store), and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from monitor_servers import serve_http
from netutil import closed_port
from sqlalchemy import func, select

from launchready.config.loader import load_config
from launchready.core.net import NetSettings
from launchready.monitor.errors import MonitorSetupError, MonitorStoreError
from launchready.monitor.scheduler import Scheduler
from launchready.monitor.service import prepare_monitor, run_until_stopped
from launchready.monitor.store.schema import results


def no_alerts(
    subject_kind: str, subject_name: str, tags: Sequence[str], old_state: str, new_state: str
) -> Sequence[str]:
    return ()


class SignalAfterRuns:
    """A component that sends this process SIGTERM once the scheduler has run its check twice."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.stopped = False

    async def run(self) -> None:
        deadline = time.monotonic() + 60
        while sum(self.scheduler.runs.values()) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
        while not self.stopped:
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self.stopped = True


def test_setup_then_sigterm_stops_everything_after_a_last_flush(tmp_path: Path) -> None:
    async def go() -> tuple[list[str], int, int]:
        async with serve_http() as port:
            path = tmp_path / "launchready.toml"
            path.write_text(
                f'[monitor]\n[[monitor.checks]]\nname = "web"\nurl = "http://127.0.0.1:{port}/health"\ninterval = 1\n',
                encoding="utf-8",
            )
            setup = await prepare_monitor(load_config(path), NetSettings(timeout=2.0))
            scheduler = Scheduler(setup.monitor, setup.engine, NetSettings(timeout=2.0), no_alerts)
            await run_until_stopped([scheduler, SignalAfterRuns(scheduler)])
            with setup.engine.connect() as conn:
                written = int(conn.execute(select(func.count()).select_from(results)).scalar() or 0)
            setup.engine.dispose()
            return setup.banner(), sum(scheduler.runs.values()), written

    banner, runs, written = asyncio.run(go())
    assert banner[0] == f"store: sqlite:///{(tmp_path / '.launchready' / 'monitor.sqlite').resolve()}"
    assert banner[1] == "watching 1 checks:" and len(banner) == 3
    assert banner[2].startswith("  web: http://127.0.0.1:") and banner[2].endswith("/health (every 1s)")
    assert runs >= 2 and written == runs  # the last results were flushed on the way out


def test_setup_refuses_unknown_smoke_flow_and_dead_store(tmp_path: Path) -> None:
    path = tmp_path / "launchready.toml"
    path.write_text('[monitor]\n[[monitor.checks]]\nname = "s"\nsmoke = "signup"\n', encoding="utf-8")
    with pytest.raises(MonitorSetupError, match="a smoke check needs an"):
        asyncio.run(prepare_monitor(load_config(path), NetSettings()))
    path.write_text('[monitor]\n[[monitor.checks]]\nname = "t"\nurl = "tcp://127.0.0.1:9"\n', encoding="utf-8")
    with pytest.raises(MonitorStoreError, match="cannot connect"):
        dead = f"postgresql://postgres@127.0.0.1:{closed_port()}/x"
        asyncio.run(prepare_monitor(load_config(path), NetSettings(), dead))


def test_serve_freezes_its_startup_heap_and_collects_the_young_generation_less_often() -> None:
    import gc

    from launchready.monitor.service import SERVING_GC_THRESHOLD, tune_garbage_collector

    built_before = {"routes": [object() for _ in range(10)]}  # stands for what the service built at startup
    thresholds = gc.get_threshold()
    try:
        tune_garbage_collector()
        assert gc.get_freeze_count() > 0
        assert not any(o is built_before for o in gc.get_objects())  # no collection pass walks it any more
        assert gc.get_threshold() == (SERVING_GC_THRESHOLD, *thresholds[1:])
    finally:  # the rest of the test session collects as usual
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    assert any(o is built_before for o in gc.get_objects())
