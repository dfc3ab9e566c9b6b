"""What the lab gives `launchready monitor`: a ``[monitor]`` table, a cron-like job that pings a
heartbeat, and the two monitor faults (``monitor/lab_faults.py``).

- The job (``lab-cron``) pings ``MONITOR_URL/ping/<uuid>`` every ``period`` seconds once the lab is
  given the monitor's URL (``launchready lab up --monitor-url``, ``Lab(monitor_url=...)``). With
  ``heartbeat-stops`` it pings :data:`PINGS_BEFORE_STOPPING` times, then never again.
- ``health-flaky`` makes the health route fail by the request count in :data:`FLAKY_HEALTH`: one
  failure alone (which must not page with ``failures_before_down = 2``), then two in a row (which
  must), over and over. Counting requests instead of drawing at random keeps the lab's tests exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid

import aiohttp

from launchready.monitor.durations import format_duration

HEARTBEAT_NAME = "lab-cron"
PINGS_BEFORE_STOPPING = 3
# True: the health route answers 200; False: 503. Repeats.
FLAKY_HEALTH: tuple[bool, ...] = (True, False, True, True, False, False, True, True)

log = logging.getLogger("launchready.lab")


class FlakyHealth:
    """Whether the next health request fails (``health-flaky``); shared by every host's route."""

    def __init__(self, faults: frozenset[str]) -> None:
        self._on = "health-flaky" in faults
        self._count = itertools.count()

    def fails_now(self) -> bool:
        if not self._on:
            return False
        return not FLAKY_HEALTH[next(self._count) % len(FLAKY_HEALTH)]


def monitor_toml(heartbeat_uuid: str, period: float) -> str:
    """The lab's ``[monitor]`` table: no checks (they are derived from the config) and the job's heartbeat."""
    return (
        "\n[monitor]\n"
        "# No [[monitor.checks]]: `monitor serve` derives them (health route, TLS, mail records).\n"
        "\n[[monitor.heartbeats]]\n"
        f'name = "{HEARTBEAT_NAME}"\n'
        f'period = "{format_duration(period)}"\n'
        f'grace = "{format_duration(period)}"\n'
        f'uuid = "{heartbeat_uuid}"\n'
    )


def new_heartbeat_uuid() -> str:
    return str(uuid.uuid4())


class HeartbeatJob:
    """The lab's cron job: does its (empty) work, then pings the monitor, every ``period`` seconds."""

    def __init__(self, monitor_url: str, heartbeat_uuid: str, period: float, faults: frozenset[str]) -> None:
        self.url = f"{monitor_url.rstrip('/')}/ping/{heartbeat_uuid}"
        self.period = period
        self.stops = "heartbeat-stops" in faults
        self.pinged = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="lab-cron")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=min(10.0, self.period))
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not (self.stops and self.pinged >= PINGS_BEFORE_STOPPING):
                try:
                    async with session.get(self.url) as response:
                        if response.status == 200:
                            self.pinged += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    # The monitor is not up yet (or was stopped): a cron job's curl fails the same way.
                    log.debug("lab-cron: ping failed: %s", exc)
                await asyncio.sleep(self.period)
