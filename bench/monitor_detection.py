"""Benchmark: detection and delivery, from a target dying to its down alert at a webhook receiver.

Run by hand:  .venv/bin/python bench/monitor_detection.py [--interval 2] [--outages 6]

`monitor serve`'s components (scheduler, alert worker, SLO evaluator; no web app) run in this
process against a loopback target and a loopback webhook receiver. The check runs every
``--interval`` seconds, a scaled-down ``interval = 60`` (the check's timeout is scaled the same
way: 10 s of 60 s), with the product's other defaults (``failures_before_down = 2``, flush 0.5 s,
worker poll 1 s). Each outage starts at a random moment of the interval; half of them refuse
connections (a crashed server), half accept and never answer (a hung one: the slow case, each
run waits out its timeout). For each, the time from the target dying to the alert arriving is
measured and printed against the bound computed by `delivery_bound_s` for the same settings,
and the bound for ``interval = 60`` is printed with it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp import web

from launchready.config.sections.monitor import MonitorCheck, MonitorConfig
from launchready.config.sections.monitor_alerts import AlertConfig
from launchready.core.net import NetSettings
from launchready.monitor.scheduler.scheduler import detection_bound_s
from launchready.monitor.service import MonitorService, MonitorSetup, ServeTuning, delivery_bound_s
from launchready.monitor.store.engine import open_store

NET_TIMEOUT_S = 10.0  # `monitor serve`'s --timeout default: one webhook send at worst


class Target:
    """``/health`` answering 200; ``die(hang)`` refuses connections or accepts and never answers."""

    def __init__(self) -> None:
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.hang = False

    async def up(self) -> None:
        async def health(_: web.Request) -> web.Response:
            while self.hang:
                await asyncio.sleep(0.05)
            return web.json_response({"status": "ok"})

        app = web.Application()
        app.router.add_get("/health", health)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self.runner = runner

    async def die(self, hang: bool) -> None:
        if hang:
            self.hang = True
            return
        runner, self.runner = self.runner, None
        if runner is not None:
            await runner.cleanup()

    async def revive(self) -> None:
        self.hang = False
        if self.runner is None:
            await self.up()


async def main(interval: float, outages: int, seed: int) -> None:
    rng = random.Random(seed)
    target = Target()
    await target.up()
    arrivals: asyncio.Queue[tuple[str, float]] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        payload = await request.json()
        await arrivals.put((str(payload["status"]), time.monotonic()))
        return web.Response(text="ok")

    hook = web.Application()
    hook.router.add_post("/hook", receive)
    hook_runner = web.AppRunner(hook, access_log=None)
    await hook_runner.setup()
    await web.TCPSite(hook_runner, "127.0.0.1", 0).start()
    hook_port = int(hook_runner.addresses[0][1])

    check = MonitorCheck(
        name="web", url=f"http://127.0.0.1:{target.port}/health", interval=interval, timeout=interval * 10 / 60
    )
    monitor = MonitorConfig(
        checks=(check,), alerts=(AlertConfig(kind="webhook", url=f"http://127.0.0.1:{hook_port}/hook"),)
    )
    tuning = ServeTuning()
    net = NetSettings(timeout=NET_TIMEOUT_S)
    with tempfile.TemporaryDirectory(prefix="launchready-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'monitor.sqlite'}"
        engine = open_store(url)
        setup = MonitorSetup(monitor, (), {}, url, engine)
        service = MonitorService(setup, net, os.environ, tuning=tuning)
        running = asyncio.create_task(service.run(handle_signals=False))
        measured: list[tuple[str, float]] = []
        try:
            for number in range(outages):
                while service.scheduler.states.get("web") is None or service.scheduler.states["web"].state != "up":
                    await asyncio.sleep(0.05)
                await asyncio.sleep(rng.uniform(0, interval))  # any moment of the interval
                hang = number % 2 == 1
                died = time.monotonic()
                await target.die(hang)
                while True:
                    status, at = await asyncio.wait_for(arrivals.get(), 600)
                    if status == "down":
                        break
                mode = "hung" if hang else "refused"
                measured.append((mode, at - died))
                print(f"outage {number + 1}: {mode:<7} alert after {at - died:6.2f}s", flush=True)
                await target.revive()
                while (await asyncio.wait_for(arrivals.get(), 600))[0] != "up":
                    pass
        finally:
            service.stop()
            await running
            engine.dispose()
            await hook_runner.cleanup()
            if target.runner is not None:
                await target.runner.cleanup()

    bound = delivery_bound_s(check, net.timeout, tuning)
    worst = max(seconds for _, seconds in measured)
    print()
    print(f"interval {interval:g}s (= 60s scaled by {interval / 60:.3f}), check timeout {check.run_timeout:g}s")
    print(f"  measured: median {statistics.median(s for _, s in measured):.2f}s, worst {worst:.2f}s")
    for mode in ("refused", "hung"):
        values = [s for m, s in measured if m == mode]
        if values:
            print(f"    {mode:<7} worst {max(values):.2f}s over {len(values)}")
    detect = detection_bound_s(check, tuning.flush_interval_s)
    print(
        f"  computed bound (delivery_bound_s): {bound:.2f}s = detection {detect:.2f}s + poll "
        f"{tuning.worker_poll_s:g}s + send {net.timeout:g}s -> worst measured / bound = {worst / bound:.2f}"
    )
    default = MonitorCheck(name="web", url="http://example.com/health")
    print(
        f"interval 60s with defaults: detection {detection_bound_s(default):.1f}s + worker poll "
        f"{tuning.worker_poll_s:g}s + one send (--timeout {NET_TIMEOUT_S:g}s) = "
        f"{delivery_bound_s(default, NET_TIMEOUT_S):.1f}s (promise: 180s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=2.0, help="Check interval in seconds (at least 1).")
    parser.add_argument("--outages", type=int, default=6, help="How many outages to measure (bounded: at most 50).")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(max(1.0, args.interval), max(1, min(50, args.outages)), args.seed))
