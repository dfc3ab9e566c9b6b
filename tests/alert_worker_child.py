"""A stand-alone alert worker process for the kill -9 test: ``python alert_worker_child.py STORE_URL HOOK_URL [SCHEMA]``.

Runs until killed, delivering every outbox row for the provider ``hook`` to HOOK_URL with a short
lease, so a restart picks up what the killed process held within seconds.
"""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import create_engine

from launchready.config.sections.monitor_alerts import AlertConfig
from launchready.core.net import NetSettings
from launchready.monitor.alerts.providers import build_providers
from launchready.monitor.alerts.worker import AlertWorker, RetryPolicy


def main() -> None:
    store_url, hook_url = sys.argv[1], sys.argv[2]
    schema = sys.argv[3] if len(sys.argv) > 3 else None
    engine = create_engine(store_url, connect_args={"timeout": 30} if store_url.startswith("sqlite") else {})
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    table = build_providers([AlertConfig(name="hook", kind="webhook", url=hook_url)], {}, NetSettings(timeout=5))
    worker = AlertWorker(
        engine,
        table,
        poll_interval=0.02,
        lease_seconds=2.0,
        batch_size=4,
        policy=RetryPolicy(base_seconds=0.05, cap_seconds=0.2, max_attempts=50),
    )
    print("worker started", flush=True)
    asyncio.run(worker.run())


if __name__ == "__main__":
    main()
