"""The alert worker: drains the outbox that ``record_flip`` fills, at least once per flip.

Each provider has its own lane (an asyncio task) that claims due ``pending`` rows for that
provider only, so a dead Slack or mail server delays its own rows and nobody else's, and never
the checks (the worker shares nothing with the scheduler but the store).

Claiming takes a lease: ``claimed_until`` is set to a unique instant in the future in one
statement that only matches rows nobody holds (a conditional UPDATE; on PostgreSQL the candidate
rows are first locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` so two nodes never even contend).
Every later write to the row requires the lease value to be unchanged, so a worker that lost its
lease (it stalled past it and another claimed the row) cannot overwrite the newer outcome.

At least once: the row is marked ``delivered`` only after the provider acknowledged it. A crash
(``kill -9``) between the two repeats that one delivery after the lease runs out; every delivery
carries the flip's ``idempotency_key`` so receivers drop the repeat. A delivered row is never
claimed again, so a restart repeats none that were acknowledged.

Failures are retried with exponential back-off and jitter up to a cap; after ``max_attempts`` (or
at once for a configuration problem no retry can fix) the row becomes ``dead`` with its last
error, still shown by the dashboard. Within one provider the flips of one subject go out in
order: a row waits while an earlier flip of the same subject is still pending for that provider
(so "up again" never overtakes the "down" that is being retried).

Rows for a provider this worker does not know (removed from the config) are left untouched.

Clock jumps: a row never tried is due whatever the clock says, and a lease or retry time further
ahead than the worker ever sets counts as expired, so a clock set back delays nothing; a clock
set forward only makes leases expire early (a repeat, with the same key).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, exists, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from launchready.core.masking import mask_credentials
from launchready.monitor.alerts.message import AlertMessage
from launchready.monitor.alerts.reminders import ReminderPass
from launchready.monitor.alerts.routing import ALERTING_STATES, AlertRouter, is_recovery, is_reminder
from launchready.monitor.store.schema import checks, outbox, transitions
from launchready.notify.base import Delivery, Provider
from launchready.notify.transport import MAX_RETRY_AFTER

log = logging.getLogger("launchready.monitor.alerts")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: ``base * 2**(attempt-1)`` capped, minus up to ``jitter`` of it at random."""

    base_seconds: float = 10.0
    cap_seconds: float = 900.0
    max_attempts: int = 10
    jitter: float = 0.5

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1 for the first)."""
        raw = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1))
        # Jitter spreads the retries of many rows that failed together (one outage) apart.
        return raw * (1.0 - self.jitter * rng.random())


@dataclass(frozen=True)
class ClaimedRow:
    outbox_id: int
    provider: str
    attempts: int
    lease: float
    transition_id: int
    subject_kind: str
    subject_name: str
    old_state: str
    new_state: str
    at: float
    reason: str | None
    idempotency_key: str
    tags: tuple[str, ...] = ()
    down_since: float | None = None

    def message(self) -> AlertMessage:
        return AlertMessage(
            kind=self.subject_kind,
            name=self.subject_name,
            status=self.new_state,
            previous_status=self.old_state,
            reason=self.reason,
            at=self.at,
            idempotency_key=self.idempotency_key,
            down_since=self.down_since,
        )


@dataclass
class WorkerStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    silenced: int = 0
    lost_leases: int = 0
    store_errors: int = 0
    last_store_error: str | None = None
    per_provider: dict[str, int] = field(default_factory=dict)


class AlertWorker:
    """Drains the outbox through ``providers`` (name -> provider, the ``[[monitor.alerts]]`` names).

    ``engine`` is the store's sync SQLAlchemy engine (SQLite or PostgreSQL); every store call runs
    in a thread (``asyncio.to_thread``). ``clock`` gives epoch seconds (tests pass a fake one).
    ``router`` supplies maintenance windows and reminders (none: every row is sent, no reminders).
    ``lease_seconds`` bounds how long a claimed row is held: a send is abandoned after half of it,
    and after a crash the row is sent again once it runs out, so keep it a few times ``--timeout``.
    Start with ``await worker.run()``; ``worker.stop()`` makes it return after in-flight sends end
    (at most ``stop_grace`` seconds; a send cut off is handed back to the outbox at once). ``wake()`` tells
    it a flip was just recorded, so it need not wait for the next poll.
    """

    def __init__(
        self,
        engine: Engine,
        providers: Mapping[str, Provider],
        *,
        clock: Callable[[], float] = time.time,
        router: AlertRouter | None = None,
        policy: RetryPolicy = RetryPolicy(),
        poll_interval: float = 1.0,
        lease_seconds: float = 90.0,
        batch_size: int = 4,
        reminder_interval: float = 30.0,
        stop_grace: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        if lease_seconds <= 0 or poll_interval <= 0 or batch_size < 1:
            raise ValueError("lease_seconds and poll_interval must be positive, batch_size at least 1")
        self.engine = engine
        self.providers = dict(providers)
        self.clock = clock
        self.router = router
        self.policy = policy
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        # A send never outlives its lease, so no second worker can claim a row still being sent.
        self.send_timeout = lease_seconds / 2
        self.batch_size = batch_size
        self.reminder_interval = reminder_interval
        self.stop_grace = stop_grace
        self.rng = rng or random.Random()
        self.stats = WorkerStats()
        self.reminders = ReminderPass(engine, router, clock) if router is not None and router.reminding() else None
        self._for_update = engine.dialect.name == "postgresql"
        self._longest_wait = max(policy.cap_seconds, MAX_RETRY_AFTER) + 1
        self._stopping: asyncio.Event | None = None
        self._wakes: dict[str, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False

    # -- public ---------------------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        if self._stop_requested:
            self._stopping.set()
        self._wakes = {name: asyncio.Event() for name in self.providers}
        tasks = [asyncio.create_task(self._lane(name), name=f"alerts-{name}") for name in self.providers]
        if self.reminders is not None:
            tasks.append(asyncio.create_task(self._remind_loop(), name="alerts-reminders"))
        try:
            await self._stopping.wait()
        finally:
            self._stopping.set()
            for wake in self._wakes.values():
                wake.set()
            if tasks:
                _, unfinished = await asyncio.wait(tasks, timeout=self.stop_grace)
                for task in unfinished:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            self._stop_requested = False
            self._loop = self._stopping = None

    def stop(self) -> None:
        """Ask ``run()`` to return; safe to call from a signal handler or another thread."""
        self._stop_requested = True
        loop, stopping = self._loop, self._stopping
        if loop is None or stopping is None:
            return  # run() has not started: it returns at once when it does
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            stopping.set()
        else:
            loop.call_soon_threadsafe(stopping.set)

    def wake(self) -> None:
        """A flip was recorded: claim now instead of at the next poll (call from the worker's loop)."""
        for event in self._wakes.values():
            event.set()

    async def run_once(self) -> int:
        """One claim-and-send round for every provider (and one reminder pass); rows handled."""
        if self.reminders is not None:
            await asyncio.to_thread(self.reminders.run_once)
        counts = await asyncio.gather(*(self._round(name) for name in self.providers))
        return sum(counts)

    # -- lanes ----------------------------------------------------------------------------------

    async def _lane(self, name: str) -> None:
        assert self._stopping is not None
        wake = self._wakes[name]
        while not self._stopping.is_set():
            wake.clear()  # before claiming: a flip recorded during this round wakes the next one
            try:
                handled = await self._round(name)
            except Exception:  # a bug must not silently end this provider's deliveries
                log.exception("alert lane %s failed; retrying after %gs", name, self.poll_interval)
                handled = 0
            if handled >= self.batch_size:
                continue  # more may be due: no pause between full batches
            try:
                await asyncio.wait_for(wake.wait(), self.poll_interval)
            except TimeoutError:
                pass

    async def _remind_loop(self) -> None:
        assert self._stopping is not None and self.reminders is not None
        while not self._stopping.is_set():
            try:
                created = await asyncio.to_thread(self.reminders.run_once)
            except SQLAlchemyError as exc:
                self._store_error("reminders", exc)
                created = 0
            if created:
                self.wake()
            try:
                await asyncio.wait_for(self._stopping.wait(), self.reminder_interval)
            except TimeoutError:
                pass

    async def _round(self, name: str) -> int:
        try:
            rows = await asyncio.to_thread(self._claim, name, self.clock())
        except SQLAlchemyError as exc:
            self._store_error(f"claiming for {name}", exc)
            return 0
        if rows:
            await asyncio.gather(*(self._deliver(self.providers[name], row) for row in rows))
        return len(rows)

    def _store_error(self, what: str, exc: BaseException) -> None:
        self.stats.store_errors += 1
        self.stats.last_store_error = mask_credentials(f"{what}: {type(exc).__name__}: {exc}".splitlines()[0])
        log.warning("alert store error: %s", self.stats.last_store_error)

    # -- store ----------------------------------------------------------------------------------

    def _claim(self, provider: str, now: float) -> list[ClaimedRow]:
        earlier = aliased(outbox)
        earlier_flip = aliased(transitions)
        # An earlier flip of the same subject still pending for this provider goes first.
        waits_for_earlier = exists(
            select(earlier.c.id)
            .select_from(earlier.join(earlier_flip, earlier.c.transition_id == earlier_flip.c.id))
            .where(
                earlier.c.provider == outbox.c.provider,
                earlier.c.status == "pending",
                earlier.c.transition_id < outbox.c.transition_id,
                earlier_flip.c.subject_kind == transitions.c.subject_kind,
                earlier_flip.c.subject_name == transitions.c.subject_name,
            )
        )
        # A lease or retry time further ahead than this worker ever sets means the clock jumped
        # back since it was written: treat it as expired/due rather than waiting out the jump.
        claimable = and_(
            outbox.c.status == "pending",
            or_(
                outbox.c.claimed_until.is_(None),
                outbox.c.claimed_until < now,
                outbox.c.claimed_until > now + self.lease_seconds + 1,
            ),
        )
        due = or_(
            outbox.c.attempts == 0,  # never tried: due whatever the clock says now
            outbox.c.next_attempt_at <= now,
            outbox.c.next_attempt_at > now + self._longest_wait,
        )
        candidates = (
            select(outbox.c.id)
            .select_from(outbox.join(transitions, outbox.c.transition_id == transitions.c.id))
            .where(outbox.c.provider == provider, due, claimable, ~waits_for_earlier)
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(self.batch_size)
        )
        if self._for_update:
            candidates = candidates.with_for_update(skip_locked=True, of=outbox)
        # A unique lease value doubles as the fencing token for every later write to the row.
        lease = now + self.lease_seconds + self.rng.random() / 1000
        with self.engine.begin() as conn:
            ids = list(conn.execute(candidates).scalars())
            if not ids:
                return []
            claimed = list(
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(ids), claimable)
                    .values(claimed_until=lease)
                    .returning(outbox.c.id)
                ).scalars()
            )
            if not claimed:
                return []
            details = conn.execute(
                select(
                    outbox.c.id,
                    outbox.c.attempts,
                    transitions.c.id.label("transition_id"),
                    transitions.c.subject_kind,
                    transitions.c.subject_name,
                    transitions.c.old_state,
                    transitions.c.new_state,
                    transitions.c.at,
                    transitions.c.reason,
                    transitions.c.idempotency_key,
                )
                .select_from(outbox.join(transitions, outbox.c.transition_id == transitions.c.id))
                .where(outbox.c.id.in_(claimed))
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
            ).all()
            names = {d.subject_name for d in details if d.subject_kind in ("check", "slo")}
            tags: dict[str, tuple[str, ...]] = {}
            if names:
                for check_name, check_tags in conn.execute(
                    select(checks.c.name, checks.c.tags).where(checks.c.name.in_(names))
                ):
                    tags[check_name] = tuple(str(t) for t in (check_tags or ()))
            rows: list[ClaimedRow] = []
            for d in details:
                down_since = None
                if is_recovery(d.old_state, d.new_state) or is_reminder(d.old_state, d.new_state):
                    down_since = conn.execute(
                        select(func.max(transitions.c.at)).where(
                            transitions.c.subject_kind == d.subject_kind,
                            transitions.c.subject_name == d.subject_name,
                            transitions.c.new_state.in_(ALERTING_STATES),
                            transitions.c.old_state != transitions.c.new_state,
                            transitions.c.id < d.transition_id,
                        )
                    ).scalar_one_or_none()
                rows.append(
                    ClaimedRow(
                        outbox_id=d.id,
                        provider=provider,
                        attempts=d.attempts,
                        lease=lease,
                        transition_id=d.transition_id,
                        subject_kind=d.subject_kind,
                        subject_name=d.subject_name,
                        old_state=d.old_state,
                        new_state=d.new_state,
                        at=d.at,
                        reason=d.reason,
                        idempotency_key=d.idempotency_key,
                        tags=tags.get(d.subject_name, ()) if d.subject_kind in ("check", "slo") else (),
                        down_since=down_since,
                    )
                )
            return rows

    def _finish(self, row: ClaimedRow, values: dict[str, object]) -> bool:
        """Write the row's outcome if the lease is still ours; False when it was lost."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.id == row.outbox_id, outbox.c.claimed_until == row.lease, outbox.c.status == "pending")
                .values(claimed_until=None, **values)
            )
            return bool(result.rowcount)

    def _release(self, row: ClaimedRow) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row.outbox_id, outbox.c.claimed_until == row.lease)
                    .values(claimed_until=None)
                )
        except SQLAlchemyError as exc:
            self._store_error(f"releasing outbox row {row.outbox_id}", exc)

    # -- delivery -------------------------------------------------------------------------------

    async def _deliver(self, provider: Provider, row: ClaimedRow) -> None:
        window = self.router.silenced_by(row.subject_name, row.tags, row.at) if self.router is not None else None
        if window is not None:
            why = f"silenced by maintenance window {window.name or '(unnamed)'}"
            await self._record(row, {"status": "silenced", "last_error": why}, "silenced")
            return
        try:
            async with asyncio.timeout(self.send_timeout):
                delivery = await provider.send(row.message().as_message())
        except asyncio.CancelledError:
            # Stopping: hand the row back now rather than after its lease (it may have been sent:
            # at least once, and the receiver drops the repeat by its key).
            self._release(row)
            raise
        except TimeoutError:
            delivery = Delivery(provider.target, False, f"no answer within {self.send_timeout:g}s")
        except Exception as exc:  # noqa: BLE001 - a provider bug must not stop the lane; it is retried
            delivery = Delivery(provider.target, False, mask_credentials(f"{type(exc).__name__}: {exc}"))
        now = self.clock()
        attempts = row.attempts + 1
        if delivery.ok:
            await self._record(
                row, {"status": "delivered", "attempts": attempts, "delivered_at": now, "last_error": None}, "delivered"
            )
            return
        error = (delivery.error or "failed")[:1000]
        if delivery.permanent or attempts >= self.policy.max_attempts:
            await self._record(row, {"status": "dead", "attempts": attempts, "last_error": error}, "dead")
            log.warning(
                "alert %s to %s gave up after %d attempt(s): %s", row.idempotency_key, row.provider, attempts, error
            )
            return
        wait = self.policy.delay(attempts, self.rng)
        if delivery.retry_after is not None:
            wait = max(wait, delivery.retry_after)  # the receiver asked (HTTP 429/503 Retry-After)
        retry_at = now + wait
        await self._record(row, {"attempts": attempts, "next_attempt_at": retry_at, "last_error": error}, "retried")

    async def _record(self, row: ClaimedRow, values: dict[str, object], outcome: str) -> None:
        try:
            kept = await asyncio.to_thread(self._finish, row, values)
        except SQLAlchemyError as exc:
            # The lease runs out and the row is sent again: at least once, never lost.
            self._store_error(f"recording {outcome} for outbox row {row.outbox_id}", exc)
            return
        if not kept:
            self.stats.lost_leases += 1
            log.warning("outbox row %d: lease lost before %s was recorded", row.outbox_id, outcome)
            return
        if outcome == "delivered":
            self.stats.delivered += 1
            self.stats.per_provider[row.provider] = self.stats.per_provider.get(row.provider, 0) + 1
        elif outcome == "retried":
            self.stats.retried += 1
        elif outcome == "dead":
            self.stats.dead += 1
        elif outcome == "silenced":
            self.stats.silenced += 1
