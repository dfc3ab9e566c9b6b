"""`launchready monitor probe`: run the server's checks from another region and push the results.

- The assignment (which checks, how often) comes from ``GET /api/v1/probe/assignment``; it is
  fetched at start, again whenever a push answers with a different assignment digest, and at
  least every ``refresh_s``. The last one is kept in the spool, so a probe started while the
  server is down runs what it ran before.
- Checks run with the monitor's own :class:`CheckRunner` (the audit's probes and network flags),
  one loop per check on the monotonic clock, spread over the interval like the scheduler does.
- Every result goes to the spool first; the pusher sends the oldest ``batch_size`` results to
  ``POST /api/v1/probe/results`` and deletes them only once the server took them. A server that
  does not answer is retried with a capped back-off while the checks go on: results are
  replayed in order when it is back.
- Times are the probe's wall clock corrected by the offset measured against the server on each
  exchange (NTP-style: the server's time minus the midpoint of the request), so a probe with a
  wrong clock still writes results at the right place in the history.
- With nothing to send the probe still pushes an empty batch every ``keepalive_s`` (at most
  what the server asks in ``report_every_s``): the server takes silence as "region stopped
  reporting".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import ValidationError

from launchready.config.sections.monitor import MonitorCheck
from launchready.core.net import NetSettings
from launchready.monitor.checks.runner import CheckOutcome, CheckRunner, ProbeSet
from launchready.monitor.errors import MonitorSetupError
from launchready.monitor.regional.spool import Spool, SpoolError
from launchready.monitor.scheduler.scheduler import spread_offset

log = logging.getLogger("launchready.monitor.probe")

_SPREAD_MAX_S = 60.0
_BACKOFF_MAX_S = 5.0


class ServerUnavailable(Exception):
    """The server did not answer, or answered 5xx: keep spooling and retry."""


class ServerRefused(Exception):
    """The server refused the request (4xx): the token, the region or the batch is wrong."""


@dataclass
class ProbeStats:
    runs: int = 0
    pushed: int = 0
    pushes: int = 0
    failed_pushes: int = 0
    dropped: int = 0
    clock_offset_s: float = 0.0
    assignment: str | None = None
    checks: list[str] = field(default_factory=list)


def _ssl_context(net: NetSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if net.ca_bundle is not None:
        context.load_verify_locations(cafile=str(net.ca_bundle))
    return context


class ProbeAgent:
    def __init__(
        self,
        server: str,
        region: str,
        token: str,
        net: NetSettings,
        spool: Spool,
        *,
        batch_size: int = 500,
        push_interval_s: float = 2.0,
        keepalive_s: float = 15.0,
        refresh_s: float = 60.0,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if not server.startswith(("http://", "https://")):
            raise MonitorSetupError(f"--server {server}: expected the monitor's http(s) URL")
        self.server = server.rstrip("/")
        self.region = region
        self.token = token
        self.net = net
        self.spool = spool
        self.batch_size = batch_size
        self.push_interval_s = push_interval_s
        self.keepalive_s = keepalive_s
        self.refresh_s = refresh_s
        self.wall = wall
        self.stats = ProbeStats()
        self.offset_s = 0.0
        self.probes = ProbeSet(net)
        self._loops: dict[str, tuple[dict[str, Any], asyncio.Task[None]]] = {}
        self._stopping = asyncio.Event()
        self._results_ready = asyncio.Event()
        self._refetch = asyncio.Event()
        self._digest: str | None = None
        self._session: aiohttp.ClientSession | None = None
        self._unreachable_since: float | None = None
        self._last_push = 0.0

    def now(self) -> float:
        """The probe's wall clock corrected by the last offset measured against the server."""
        return self.wall() + self.offset_s

    def stop(self) -> None:
        self._stopping.set()

    # -- talking to the server ----------------------------------------------------------------

    async def _exchange(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self._session is not None
        sent = self.wall()
        try:
            async with self._session.request(
                method,
                f"{self.server}{path}",
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
            ) as response:
                payload: Any = await response.json(content_type=None) if response.content_length != 0 else {}
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ServerUnavailable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        received = self.wall()
        if status >= 500:
            raise ServerUnavailable(f"HTTP {status}")
        if status >= 400:
            error = payload.get("error") if isinstance(payload, dict) else None
            raise ServerRefused(f"HTTP {status}: {error or 'refused'}")
        if not isinstance(payload, dict):
            raise ServerUnavailable("the answer is not a JSON object")
        server_time = payload.get("server_time")
        if isinstance(server_time, int | float) and not isinstance(server_time, bool):
            self.offset_s = float(server_time) - (sent + received) / 2
            self.stats.clock_offset_s = self.offset_s
        return payload

    async def fetch_assignment(self) -> None:
        payload = await self._exchange("GET", f"/api/v1/probe/assignment?region={self.region}")
        checks = payload.get("checks")
        if not isinstance(checks, list):
            raise ServerUnavailable("the assignment has no checks list")
        self.spool.save_assignment(checks)
        report_every = payload.get("report_every_s")
        if isinstance(report_every, int | float) and not isinstance(report_every, bool) and report_every > 0:
            self.keepalive_s = min(self.keepalive_s, float(report_every))
        self._apply(checks, str(payload.get("assignment")))

    def _apply(self, checks: list[dict[str, Any]], digest: str | None) -> None:
        self._digest = digest
        self.stats.assignment = digest
        wanted: dict[str, tuple[dict[str, Any], MonitorCheck]] = {}
        for entry in checks:
            try:
                check = MonitorCheck.model_validate(entry)
            except ValidationError as exc:
                log.error("assigned check %s cannot run here: %s", entry.get("name"), exc.errors()[0]["msg"])
                continue
            wanted[check.name] = (entry, check)
        for name in list(self._loops):
            entry, task = self._loops[name]
            if name not in wanted or wanted[name][0] != entry:
                task.cancel()
                del self._loops[name]
        for name, (entry, check) in wanted.items():
            if name not in self._loops:
                task = asyncio.create_task(self._check_loop(check), name=f"probe-check:{name}")
                self._loops[name] = (entry, task)
        self.stats.checks = sorted(self._loops)
        log.info("region %s: running %d checks (%s)", self.region, len(self._loops), ", ".join(sorted(self._loops)))

    async def push_once(self) -> int:
        """Send the oldest batch (or an empty keepalive); returns how many results the server took."""
        last_id, results = self.spool.batch(self.batch_size)
        dropped = self.spool.dropped
        payload = await self._exchange(
            "POST",
            "/api/v1/probe/results",
            {"region": self.region, "results": results, "dropped": dropped, "clock_offset_s": self.offset_s},
        )
        if last_id:
            self.spool.remove_through(last_id)
        if dropped:
            self.spool.reported_dropped(dropped)
        self.stats.pushes += 1
        self.stats.pushed += len(results)
        self._last_push = time.monotonic()
        digest = payload.get("assignment")
        if digest is not None and digest != self._digest:
            self._refetch.set()
        return len(results)

    # -- loops --------------------------------------------------------------------------------

    async def _check_loop(self, check: MonitorCheck) -> None:
        runner = CheckRunner(check, self.probes)
        interval = check.interval
        start = time.monotonic() + spread_offset(f"{self.region}:{check.name}", min(interval, _SPREAD_MAX_S))
        k = 0
        while True:
            delay = start + k * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            outcome = await runner.run(self.now)
            self.record(check.name, outcome)
            k += 1
            now = time.monotonic()
            if start + k * interval < now:
                k = int((now - start) // interval) + 1

    def record(self, check_name: str, outcome: CheckOutcome) -> None:
        self.stats.runs += 1
        result = {
            "check": check_name,
            "at": self.now(),
            "ok": outcome.ok,
            "latency_ms": outcome.latency_ms,
            "status_code": outcome.status_code,
            "reason": outcome.reason,
            "evidence": outcome.evidence,
        }
        try:
            dropped = self.spool.add([result])
        except SpoolError as exc:
            log.error("%s; this result is lost", exc)
            return
        if dropped:
            self.stats.dropped += dropped
            log.warning("spool full (%d results): dropped the %d oldest", self.spool.limit, dropped)
        self._results_ready.set()

    async def _push_loop(self) -> None:
        backoff = self.push_interval_s
        while not self._stopping.is_set():
            try:
                if self._refetch.is_set():
                    self._refetch.clear()
                    await self.fetch_assignment()
                keepalive_due = time.monotonic() - self._last_push >= self.keepalive_s
                while len(self.spool) or keepalive_due:
                    await self.push_once()
                    keepalive_due = False
                if self._unreachable_since is not None:
                    log.warning(
                        "server %s answers again after %.0fs; spooled results replayed",
                        self.server,
                        time.monotonic() - self._unreachable_since,
                    )
                    self._unreachable_since = None
                backoff = self.push_interval_s
            except ServerUnavailable as exc:
                self.stats.failed_pushes += 1
                if self._unreachable_since is None:
                    self._unreachable_since = time.monotonic()
                    log.warning("server %s unreachable (%s): results are spooled", self.server, exc)
                backoff = min(_BACKOFF_MAX_S, backoff * 2)
            except ServerRefused as exc:
                self.stats.failed_pushes += 1
                log.error("server %s refused the probe: %s", self.server, exc)
                backoff = min(_BACKOFF_MAX_S, backoff * 2)
            self._results_ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._results_ready.wait(), backoff)
            if backoff > self.push_interval_s:
                # Back-off: wait out the rest of it even when results arrive meanwhile.
                await asyncio.sleep(max(0.0, backoff - self.push_interval_s))

    async def _refresh_loop(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.refresh_s)
            self._refetch.set()

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.net.timeout)
        connector = aiohttp.TCPConnector(ssl=_ssl_context(self.net))
        self._session = aiohttp.ClientSession(timeout=timeout, connector=connector)
        tasks: list[asyncio.Task[None]] = []
        try:
            try:
                await self.fetch_assignment()
            except (ServerUnavailable, ServerRefused) as exc:
                cached = self.spool.load_assignment()
                if cached is None:
                    log.warning("no assignment yet (%s): retrying", exc)
                    self._refetch.set()
                else:
                    log.warning("server unreachable (%s): running the last assignment (%d checks)", exc, len(cached))
                    self._apply(cached, None)
                    self._refetch.set()
            tasks = [
                asyncio.create_task(self._push_loop(), name="probe-push"),
                asyncio.create_task(self._refresh_loop(), name="probe-refresh"),
            ]
            await self._stopping.wait()
        finally:
            for task in [*tasks, *(task for _, task in self._loops.values())]:
                task.cancel()
            await asyncio.gather(*tasks, *(task for _, task in self._loops.values()), return_exceptions=True)
            self._loops.clear()
            # One last push of what is spooled, bounded by the timeout; the rest waits in the spool.
            with contextlib.suppress(ServerUnavailable, ServerRefused):
                if len(self.spool):
                    await self.push_once()
            await self._session.close()
            await self.probes.close()


def default_spool_path(region: str) -> Path:
    return Path(".launchready") / f"probe-{region}.sqlite"
