"""Multi-window, multi-burn-rate SLO alerts (Google SRE workbook, "Alerting on SLOs", recipe 6).

The burn rate over a window is the observed error ratio divided by the error budget
(``1 - slo``): 1.0 spends the budget exactly over the SLO period, 14.4 spends 2 % of a 30-day
budget in one hour. A check's SLO state turns ``burning`` (a page) when the burn rate is at least
14.4 over both the last hour and the last 5 minutes, or at least 6 over both the last 6 hours and
the last 30 minutes; the short window makes the alert reset soon after the errors stop. It turns
back to ``ok`` when neither pair is over its threshold.

:func:`evaluate_burn` is the pure rule over (window -> requests, failures) counts;
:class:`SloEvaluator` reads those counts per check from the ``results`` table and records flips
with ``subject_kind = "slo"`` (named after the check) through ``record_flip``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from launchready.core.masking import mask_credentials
from launchready.monitor.alerts.routing import AlertRouter
from launchready.monitor.store.flips import record_flip
from launchready.monitor.store.schema import checks, results, service_meta

log = logging.getLogger("launchready.monitor.alerts")

DEFAULT_SLO = 0.995
# 1 - 0.995 is not exactly 0.005 in binary floating point: without this slack an error ratio of
# exactly 14.4 budgets would compute as 14.39999... and not page.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class WindowCounts:
    requests: int
    failures: int


@dataclass(frozen=True)
class BurnRule:
    """Page when the burn rate over both ``long_s`` and ``short_s`` is at least ``factor``."""

    long_s: int
    short_s: int
    factor: float


PAGE_RULES: tuple[BurnRule, ...] = (BurnRule(3600, 300, 14.4), BurnRule(21600, 1800, 6.0))


@dataclass(frozen=True)
class BurnVerdict:
    burning: bool
    rates: Mapping[int, float]  # window seconds -> burn rate
    reason: str


def burn_rate(counts: WindowCounts, slo: float) -> float:
    """Error ratio over the error budget; 0 for a window without requests (no data, no page)."""
    if counts.requests <= 0:
        return 0.0
    return (counts.failures / counts.requests) / (1.0 - slo)


def _window(seconds: int) -> str:
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds // 60}m"


def evaluate_burn(
    counts: Mapping[int, WindowCounts], slo: float = DEFAULT_SLO, rules: tuple[BurnRule, ...] = PAGE_RULES
) -> BurnVerdict:
    """Whether the error budget of ``slo`` is burning, from counts per window (seconds)."""
    if not 0.0 < slo < 1.0:
        raise ValueError(f"slo must lie between 0 and 1, got {slo}")
    rates = {window: burn_rate(c, slo) for window, c in counts.items()}
    for rule in rules:
        long_rate = rates.get(rule.long_s, 0.0)
        short_rate = rates.get(rule.short_s, 0.0)
        if long_rate >= rule.factor - _TOLERANCE and short_rate >= rule.factor - _TOLERANCE:
            reason = (
                f"error budget of {slo:.1%} burning {long_rate:.1f}x over {_window(rule.long_s)} and "
                f"{short_rate:.1f}x over {_window(rule.short_s)} (pages at {rule.factor:g}x)"
            )
            return BurnVerdict(True, rates, reason)
    shown = ", ".join(f"{_window(w)} {rates[w]:.1f}x" for w in sorted(rates))
    return BurnVerdict(False, rates, f"burn rates below the paging thresholds ({shown})")


def _state_key(check_name: str) -> str:
    key = f"slo:{check_name}"
    # service_meta keys hold 100 characters; long check names are hashed.
    return key if len(key) <= 100 else "slo:#" + hashlib.sha256(check_name.encode()).hexdigest()


class SloEvaluator:
    """Evaluates every check with recent results and records ``slo`` flips (ok <-> burning).

    The current SLO state of each check lives in ``service_meta`` (key ``slo:<check>``) and is
    changed with a compare-and-swap UPDATE in the same transaction as ``record_flip``: two
    evaluators (two nodes) never record the same flip twice.
    """

    def __init__(
        self,
        engine: Engine,
        router: AlertRouter,
        *,
        slo: float = DEFAULT_SLO,
        clock: Callable[[], float] = time.time,
        rules: tuple[BurnRule, ...] = PAGE_RULES,
        interval: float = 60.0,
    ) -> None:
        self.engine = engine
        self.router = router
        self.slo = slo
        self.clock = clock
        self.rules = rules
        self.interval = interval
        self._stopping: asyncio.Event | None = None

    def counts(self, now: float) -> dict[str, dict[int, WindowCounts]]:
        """(check -> window -> counts) over every window the rules use, in one query."""
        windows = sorted({w for rule in self.rules for w in (rule.long_s, rule.short_s)})
        columns = []
        for window in windows:
            recent = results.c.at >= now - window
            columns.append(func.sum(case((recent, 1), else_=0)).label(f"n{window}"))
            columns.append(func.sum(case((recent & ~results.c.ok, 1), else_=0)).label(f"f{window}"))
        query = (
            select(results.c.check_name, *columns)
            .where(results.c.at >= now - max(windows), results.c.at <= now)
            .group_by(results.c.check_name)
        )
        out: dict[str, dict[int, WindowCounts]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                mapping = row._mapping
                out[row.check_name] = {
                    w: WindowCounts(int(mapping[f"n{w}"] or 0), int(mapping[f"f{w}"] or 0)) for w in windows
                }
        return out

    def _state(self, check_name: str) -> str:
        key = _state_key(check_name)
        with self.engine.connect() as conn:
            value = conn.execute(select(service_meta.c.value).where(service_meta.c.key == key)).scalar_one_or_none()
        if value is not None:
            return str(value)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(service_meta).values(key=key, value="ok"))
        except IntegrityError:
            pass  # another evaluator wrote it first
        return "ok"

    def run_once(self) -> list[tuple[str, str, str]]:
        """Evaluate now; returns the flips recorded as (check, old, new)."""
        now = self.clock()
        flips: list[tuple[str, str, str]] = []
        for check_name, counts in sorted(self.counts(now).items()):
            verdict = evaluate_burn(counts, self.slo, self.rules)
            new = "burning" if verdict.burning else "ok"
            old = self._state(check_name)
            if new == old:
                continue
            with self.engine.begin() as conn:
                swapped = conn.execute(
                    update(service_meta)
                    .where(service_meta.c.key == _state_key(check_name), service_meta.c.value == old)
                    .values(value=new)
                ).rowcount
                if not swapped:
                    continue  # another evaluator recorded this flip
                tags_value = conn.execute(select(checks.c.tags).where(checks.c.name == check_name)).scalar_one_or_none()
                tags = [str(t) for t in (tags_value or ())]
                record_flip(
                    conn,
                    subject_kind="slo",
                    subject_name=check_name,
                    old_state=old,
                    new_state=new,
                    at=now,
                    reason=verdict.reason,
                    providers=self.router.providers_for("slo", check_name, tags, old, new),
                )
            flips.append((check_name, old, new))
        return flips

    async def run(self) -> None:
        """Evaluate every ``interval`` seconds until :meth:`stop`; a store error waits for the next round."""
        self._stopping = asyncio.Event()
        while not self._stopping.is_set():
            try:
                await asyncio.to_thread(self.run_once)
            except SQLAlchemyError as exc:
                # The store is unavailable: say so; the next round tries again.
                log.warning("SLO evaluation skipped: %s", mask_credentials(str(exc).splitlines()[0]))
            try:
                await asyncio.wait_for(self._stopping.wait(), self.interval)
            except TimeoutError:
                pass

    def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
