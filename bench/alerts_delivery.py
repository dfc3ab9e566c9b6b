"""Benchmark: alert delivery through the outbox worker, vs the same webhook POSTs sent directly.

Run by hand:  .venv/bin/python bench/alerts_delivery.py [--flips 300] [--store sqlite|postgresql]

Baseline (named, measured in the same run): the same number of signed webhook POSTs sent with
WebhookProvider.send, four at a time (the worker's default batch), with no store. The worker run
records the flips first, then drains them (claim with a lease, send, mark delivered), so the
ratio shows what the at-least-once bookkeeping costs per alert. Both go to one loopback aiohttp
receiver. Bounded: at most --flips requests per side, one run each.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from alertutil import Receiver, flip, postgres_engine, postgres_schema, sqlite_engine  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402

from launchready.config.sections.monitor_alerts import AlertConfig  # noqa: E402
from launchready.core.net import NetSettings  # noqa: E402
from launchready.monitor.alerts.message import AlertMessage  # noqa: E402
from launchready.monitor.alerts.providers import build_providers  # noqa: E402
from launchready.monitor.alerts.worker import AlertWorker  # noqa: E402
from launchready.monitor.store.schema import outbox  # noqa: E402
from launchready.notify.transport import Transport  # noqa: E402
from launchready.notify.webhook import WebhookProvider  # noqa: E402
from launchready.smoke.secrets import Masker  # noqa: E402

ENV = {"HOOK_SECRET": "bench-secret-0123456789"}


async def direct(url: str, count: int) -> float:
    transport = Transport(NetSettings(timeout=10))
    provider = WebhookProvider(
        "hook", url=url, secret="${env:HOOK_SECRET}", env=ENV, transport=transport, masker=Masker()
    )
    semaphore = asyncio.Semaphore(4)

    async def one(i: int) -> None:
        message = AlertMessage("check", f"c{i}", "down", "up", "bench", time.time(), f"check:bench{i}")
        async with semaphore:
            delivery = await provider.send(message.as_message())
            assert delivery.ok, delivery.error

    started = time.perf_counter()
    try:
        await asyncio.gather(*(one(i) for i in range(count)))
    finally:
        await transport.close()
    return time.perf_counter() - started


async def through_worker(engine: Engine, url: str, count: int) -> float:
    alert = AlertConfig.model_validate({"name": "hook", "kind": "webhook", "url": url, "secret": "${env:HOOK_SECRET}"})
    table = build_providers([alert], ENV, NetSettings(timeout=10))
    now = time.time()
    for i in range(count):
        flip(engine, f"c{i}", "up", "down", now, ["hook"])
    worker = AlertWorker(engine, table, poll_interval=0.01)
    started = time.perf_counter()
    task = asyncio.create_task(worker.run())
    try:
        while True:
            with engine.connect() as conn:
                done = conn.execute(select(func.count()).where(outbox.c.status == "delivered")).scalar_one()
            if done >= count:
                break
            await asyncio.sleep(0.01)
    finally:
        worker.stop()
        await task
        await table.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flips", type=int, default=300)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    count = max(1, min(args.flips, 5000))
    with Receiver().running() as receiver:
        baseline = asyncio.run(direct(receiver.url(), count))
        if args.store == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                engine = sqlite_engine(Path(tmp) / "bench.sqlite")
                measured = asyncio.run(through_worker(engine, receiver.url(), count))
                engine.dispose()
        else:
            with postgres_schema() as schema:
                engine = postgres_engine(schema, create=True)
                measured = asyncio.run(through_worker(engine, receiver.url(), count))
                engine.dispose()
    print(f"direct webhook POSTs (baseline): {count} in {baseline:.2f}s = {count / baseline:.0f}/s")
    print(f"through the outbox worker ({args.store}): {count} in {measured:.2f}s = {count / measured:.0f}/s")
    print(f"ratio worker/baseline time: {measured / baseline:.2f}x")


if __name__ == "__main__":
    main()
