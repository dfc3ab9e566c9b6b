"""What `monitor serve` composes: the effective setup (checks, smoke plans, store), a runner
that keeps several components running until SIGTERM/SIGINT or until one of them ends, then
stops them all, and :class:`MonitorService`, which holds the components: the scheduler, the
alert worker (with reminders), the SLO evaluator and the web app served by uvicorn.

A component is anything with ``async run()`` that returns after ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from launchready.config.loader import LoadedConfig
from launchready.config.sections.monitor import MonitorCheck, MonitorConfig
from launchready.config.sections.monitor_alerts import alert_name
from launchready.core.masking import mask_credentials
from launchready.core.net import NetSettings
from launchready.monitor.alerts.providers import build_providers
from launchready.monitor.alerts.routing import AlertRouter
from launchready.monitor.alerts.slo import SloEvaluator
from launchready.monitor.alerts.worker import AlertWorker, RetryPolicy
from launchready.monitor.config import DerivedCheck, effective_monitor_config, prepare_smoke_plans
from launchready.monitor.errors import MonitorSetupError
from launchready.monitor.regional.cluster import (
    ALERT_WORKER_LOCK,
    SLO_LOCK,
    AdvisoryLocked,
    ProbeWatcher,
    SharedScheduler,
    needs_shared_scheduler,
)
from launchready.monitor.scheduler.scheduler import Scheduler, detection_bound_s
from launchready.monitor.store.engine import open_store, shown, store_url
from launchready.monitor.store.regions import probe_regions
from launchready.monitor.store.repository import FlipRecord
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


# -- `monitor serve`: every component in one loop ----------------------------------------------


SERVING_GC_THRESHOLD = 7000  # allocations between young-generation passes (CPython's default: 700)


def tune_garbage_collector() -> None:
    """Set the cyclic garbage collector up for a long-running server.

    Everything built before serving (modules, table metadata, compiled secret rules, templates:
    tens of thousands of objects) is frozen out of the collector's full passes, which would
    otherwise re-walk all of it every few hundred requests under a steady error intake (tens of
    milliseconds each, about a tenth of the server's CPU). And the young generation is collected
    every 7,000 net allocations instead of 700: a request's objects are freed by reference
    counting long before that, so the passes that would only have walked live in-flight events
    mostly never happen. Called once by ``monitor serve``, not by library code, since it
    changes the whole process.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(SERVING_GC_THRESHOLD, older, oldest)


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port); MonitorSetupError when it is not one."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise MonitorSetupError(f"--listen {value}: expected HOST:PORT such as 127.0.0.1:8787")
    return host, int(port)


def bind_listener(host: str, port: int) -> socket.socket:
    """The web app's listening socket, bound before anything runs: a port in use is one line at start
    (uvicorn would otherwise log it and exit the process from inside the event loop)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise MonitorSetupError(f"--listen {host}:{port}: cannot resolve {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise MonitorSetupError(f"--listen {host}:{port}: cannot listen: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def listener_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    return f"http://{shown_host}:{port}"


class WebServer:
    """The web app served by uvicorn in this loop, on a socket bound beforehand.

    uvicorn's own signal capture is turned off: :func:`run_until_stopped` owns SIGTERM/SIGINT and
    stops every component, the web server among them.
    """

    def __init__(self, app: Any, sock: socket.socket, *, graceful_s: float = 5.0) -> None:
        import uvicorn

        class _Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(graceful_s),
            proxy_headers=False,
        )
        self.server = _Server(config)
        self.sock = sock

    async def run(self) -> None:
        await self.server.serve(sockets=[self.sock])

    def stop(self) -> None:
        self.server.should_exit = True


class SloLoop:
    """The SLO evaluator on its interval; a recorded burn-rate flip wakes the alert worker."""

    def __init__(self, evaluator: SloEvaluator, worker: AlertWorker, interval: float) -> None:
        self.evaluator = evaluator
        self.worker = worker
        self.interval = interval
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                flips = await asyncio.to_thread(self.evaluator.run_once)
            except SQLAlchemyError as exc:
                log.warning("SLO evaluation skipped: %s", mask_credentials(str(exc).splitlines()[0]))
                flips = []
            if flips:
                self.worker.wake()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    def stop(self) -> None:
        self._stopping.set()


@dataclass(frozen=True)
class ServeTuning:
    """Timings `monitor serve` runs with; the defaults are the product's (a benchmark or an embedding caller may pass others)."""

    worker_poll_s: float = 1.0
    flush_interval_s: float = 0.5
    heartbeat_interval_s: float = 5.0
    slo_interval_s: float = 60.0
    prune_interval_s: float = 3600.0
    # An outbox row's lease; None: six times --timeout (at least 5 s). A send is abandoned after
    # half of it, and after a crash the row is sent again once it runs out.
    lease_s: float | None = None
    retry: RetryPolicy = RetryPolicy()

    def lease_for(self, net_timeout: float) -> float:
        return self.lease_s if self.lease_s is not None else max(5.0, 6.0 * net_timeout)


def delivery_bound_s(check: MonitorCheck, net_timeout: float, tuning: ServeTuning = ServeTuning()) -> float:
    """From a target dying to its down alert accepted by a receiver that answers, at worst.

    The scheduler's bound (the flip in the outbox) plus one worker poll (a flip wakes the worker
    at once after its write; the poll is the fallback) plus one send, which the transport gives
    up after ``net_timeout``. A receiver that fails adds the back-off it asked for.
    """
    return detection_bound_s(check, tuning.flush_interval_s) + tuning.worker_poll_s + net_timeout


def provider_problems(monitor: MonitorConfig, env: Mapping[str, str], net: NetSettings) -> list[str]:
    """Every ``[[monitor.alerts]]`` configuration problem, one line each (none: all can send)."""
    table = build_providers(monitor.alerts, env, net)
    # Nothing was opened yet (the transport connects on first use): nothing to close.
    return table.problems()


class IntakePruner:
    """The error intake's retention (events 14 days, per-minute counts 90 days), at start and then
    every ``interval`` seconds, as the scheduler prunes the checks' results."""

    def __init__(self, engine: Engine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self._stopping = asyncio.Event()

    def _prune(self) -> None:
        from launchready.intake.retention import prune_intake

        with self.engine.begin() as conn:
            prune_intake(conn, time.time())

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.to_thread(self._prune)
            except SQLAlchemyError as exc:
                log.warning("error intake pruning skipped: %s", mask_credentials(str(exc).splitlines()[0]))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    def stop(self) -> None:
        self._stopping.set()


class _StopSwitch:
    """A component that ends when told to, which stops every other one (see run_until_stopped)."""

    def __init__(self) -> None:
        self._stop_requested = False
        self._event: asyncio.Event | None = None

    async def run(self) -> None:
        self._event = asyncio.Event()
        if self._stop_requested:
            self._event.set()
        await self._event.wait()

    def stop(self) -> None:
        self._stop_requested = True
        if self._event is not None:
            self._event.set()


class MonitorService:
    """The scheduler, the alert worker (with reminders), the SLO evaluator and the web app.

    Build it from a prepared setup, then ``await service.run()`` until SIGTERM/SIGINT; it stops
    every component, lets the scheduler write what it holds, hands claimed outbox rows back and
    closes the providers.
    """

    def __init__(
        self,
        setup: MonitorSetup,
        net: NetSettings,
        env: Mapping[str, str],
        *,
        web_app: Callable[[MonitorService], Any] | None = None,
        listener: socket.socket | None = None,
        tuning: ServeTuning = ServeTuning(),
    ) -> None:
        monitor = setup.monitor
        self.setup = setup
        self.tuning = tuning
        self.router = AlertRouter(monitor.alerts, monitor.maintenance)
        self.providers = build_providers(monitor.alerts, env, net)
        problems = self.providers.problems()
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise MonitorSetupError(problems[0] + more)
        self.worker = AlertWorker(
            setup.engine,
            self.providers,
            router=self.router,
            policy=tuning.retry,
            poll_interval=tuning.worker_poll_s,
            lease_seconds=tuning.lease_for(net.timeout),
        )
        # A shared store (PostgreSQL) or a check judged across regions: state in the store, slots claimed.
        scheduler_class = SharedScheduler if needs_shared_scheduler(monitor, setup.engine) else Scheduler
        self.scheduler = scheduler_class(
            monitor,
            setup.engine,
            net,
            self.router.providers_for,
            smoke_plans=setup.smoke_plans,
            flush_interval=tuning.flush_interval_s,
            heartbeat_interval=tuning.heartbeat_interval_s,
            on_flip=self._flipped,
        )
        self.slo = SloLoop(SloEvaluator(setup.engine, self.router, slo=monitor.slo), self.worker, tuning.slo_interval_s)
        self.web: WebServer | None = None
        self.url = listener_url(listener) if listener is not None else None
        if web_app is not None and listener is not None:
            self.web = WebServer(web_app(self), listener)
        self._writes: set[asyncio.Task[None]] = set()
        self._switch = _StopSwitch()
        self.intake_pruner = IntakePruner(setup.engine, tuning.prune_interval_s)

    def _flipped(self, flip: FlipRecord) -> None:
        # A check's flip reaches the store at the scheduler's next flush: write it now, then wake
        # the worker, so delivery starts at once instead of at the next flush plus poll.
        if flip.subject_kind != "check":
            self.worker.wake()  # heartbeat flips are written before they are announced
            return
        task = asyncio.get_running_loop().create_task(self._flush_then_wake())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _flush_then_wake(self) -> None:
        await self.scheduler.flush()
        self.worker.wake()

    def routed_providers(self, subject_kind: str, subject_name: str) -> list[str]:
        """Every provider routing ``subject_name`` (by name; no tags), for flips recorded outside
        the scheduler without their states at hand (the error intake's alerts and check-ins)."""
        return [alert_name(alert) for alert in self.router.alerts if alert.routes(subject_name, ())]

    def wake_worker(self, *_: object) -> None:
        """Deliver now: a flip was just written by someone else (a ping, the error intake)."""
        self.worker.wake()

    def stop(self) -> None:
        """Stop as SIGTERM would (for callers that run the service without its signal handlers)."""
        self._switch.stop()

    def components(self) -> list[Component]:
        # On PostgreSQL the alert worker and the SLO evaluator run on one node at a time.
        parts: list[Component] = [
            self.scheduler,
            AdvisoryLocked(self.worker, self.setup.engine, ALERT_WORKER_LOCK),
            AdvisoryLocked(self.slo, self.setup.engine, SLO_LOCK, what="SLO evaluator"),
            self.intake_pruner,
            self._switch,
        ]
        if probe_regions(self.setup.monitor):
            parts.append(
                ProbeWatcher(self.setup.monitor, self.setup.engine, self.router.providers_for, on_flip=self._flipped)
            )
        if self.web is not None:
            parts.append(self.web)
        return parts

    async def run(self, *, handle_signals: bool = True) -> None:
        try:
            await run_until_stopped(self.components(), handle_signals=handle_signals)
        finally:
            if self._writes:
                await asyncio.gather(*self._writes, return_exceptions=True)
            await self.providers.close()
