"""The growth test: the same load at several data sizes, seeded by the user's own command.

For each size n (smallest first) the seed hook runs with ``{n}`` replaced (split like a shell
would, but never run through one), then the same short constant-rate load measures each endpoint.
The judge (checks/perf/growth.py) compares p95 and response size from the smallest to the largest.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
from dataclasses import dataclass

from launchready.core.net import NetSettings
from launchready.core.protocols import DnsLookup
from launchready.perf.errors import PerfError
from launchready.perf.generator import LoadSettings
from launchready.perf.plan import PlannedEndpoint
from launchready.perf.session import log_in_for, measure

SEED_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class SizePoint:
    size: int
    p50_ms: float
    p95_ms: float
    mean_bytes: float
    ok: int
    errors: int


@dataclass(frozen=True)
class GrowthSeries:
    name: str
    url: str
    points: tuple[SizePoint, ...]


class SeedFailed(Exception):
    pass


def seed_argv(template: str, n: int) -> list[str]:
    try:
        return shlex.split(template.replace("{n}", str(n)))
    except ValueError as exc:
        raise PerfError(f"perf.growth.seed: cannot split {template!r}: {exc}") from None


async def run_seed(template: str, n: int) -> None:
    argv = seed_argv(template, n)
    try:
        done = await asyncio.to_thread(
            subprocess.run, argv, capture_output=True, text=True, timeout=SEED_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SeedFailed(f"seed command {' '.join(argv)!r} failed: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SeedFailed(f"seed command {' '.join(argv)!r} exited {done.returncode}: {tail[0][:200]}")


async def run_growth(
    planned: list[PlannedEndpoint],
    net: NetSettings,
    seed: str,
    sizes: tuple[int, ...],
    settings: LoadSettings,
    *,
    dns: DnsLookup | None = None,
) -> list[GrowthSeries]:
    """Each endpoint measured alone at each size (endpoints must not slow each other down)."""
    points: dict[str, list[SizePoint]] = {p.name: [] for p in planned}
    for n in sizes:
        await run_seed(seed, n)
        # Log in again after each seed: a seed may reset the data the session lives in.
        logins = await log_in_for(planned, net, dns=dns)
        for p in planned:
            result = await measure([p], net, settings, logins=logins, dns=dns)
            stats = result.endpoints[p.name]
            points[p.name].append(
                SizePoint(
                    n,
                    stats.latency.percentile(50) / 1000,
                    stats.latency.percentile(95) / 1000,
                    stats.mean_bytes,
                    stats.ok,
                    stats.errors,
                )
            )
    return [GrowthSeries(p.name, p.url, tuple(points[p.name])) for p in planned]
