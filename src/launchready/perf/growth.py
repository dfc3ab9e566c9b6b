"""The growth test: the same load at several data sizes, seeded by the user's own command.

For each size n (smallest first) the seed hook runs with ``{n}`` replaced (split like a shell
would, but never run through one), then the same short constant-rate load measures each endpoint.
The judge (checks/perf/growth.py) compares p95 and response size from the smallest to the largest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from launchready.core.masking import mask_credentials
from launchready.core.net import NetSettings
from launchready.core.protocols import DnsLookup
from launchready.perf.errors import PerfError
from launchready.perf.generator import LoadSettings
from launchready.perf.plan import PlannedEndpoint
from launchready.perf.session import log_in_for, measure

SEED_TIMEOUT_S = 300.0
# How often a running seed reports that it is still going (with its last output line).
PROGRESS_EVERY_S = 5.0
# A stopped seed's process group gets this long after SIGTERM before SIGKILL.
KILL_GRACE_S = 5.0
_TAIL_CHARS = 200

# Called with one line of progress ("seeding 500 members: 12 s, last output: ...", masked).
Progress = Callable[[str], None]


@dataclass(frozen=True)
class SizePoint:
    size: int
    p50_ms: float
    p95_ms: float
    mean_bytes: float
    ok: int
    errors: int
    # How the failed requests failed: (HTTP status or "no response", count), most frequent first.
    error_statuses: tuple[tuple[str, int], ...] = ()


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
        # The template may hold a password or token: masked like every command line shown.
        raise PerfError(f"perf.growth.seed: cannot split {mask_credentials(template)!r}: {exc}") from None


def shown(argv: list[str]) -> str:
    """The command line as printed: credentials masked (``postgres://app:<pw>@``, ``token=...``)."""
    return mask_credentials(shlex.join(argv))


async def run_seed(
    template: str,
    n: int,
    *,
    timeout: float = SEED_TIMEOUT_S,
    unit: str = "members",
    progress: Progress | None = None,
) -> None:
    """Run the seed for size ``n`` in a process group of its own; stop the group on timeout.

    Output is read line by line as it comes (for progress); only the last line is kept, masked.
    """
    argv = seed_argv(template, n)
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise SeedFailed(f"seed command {shown(argv)!r} failed: {exc.strerror or exc}") from None
    assert process.stdout is not None
    stdout = process.stdout
    last = ""
    if progress is not None:
        progress(f"seeding {n} {unit}: {shown(argv)}")

    async def read_lines() -> None:
        nonlocal last
        # Reads until the command (and whatever it left holding the pipe) closes it.
        while line := await stdout.readline():
            text = line.decode("utf-8", "replace").strip()
            if text:
                last = text

    async def report() -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            if progress is not None:
                tail = f", last output: {mask_credentials(last)[:_TAIL_CHARS]}" if last else ""
                progress(f"seeding {n} {unit}: {time.monotonic() - started:.0f} s{tail}")

    reader = asyncio.create_task(read_lines())
    reporter = asyncio.create_task(report())
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        await _stop_group(process)
        raise SeedFailed(
            f"seed command {shown(argv)!r} ran past perf.growth.seed_timeout ({timeout:g} s) and was stopped"
        ) from None
    finally:
        reporter.cancel()
        # The seed has exited: what is still in the pipe is read, but a background child holding
        # it open does not hold the growth test.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reader), 1.0)
        reader.cancel()
    if process.returncode != 0:
        tail = mask_credentials(last)[:_TAIL_CHARS] if last else "no output"
        raise SeedFailed(f"seed command {shown(argv)!r} exited {process.returncode}: {tail}")
    if progress is not None:
        progress(f"seeded {n} {unit} in {time.monotonic() - started:.0f} s")


async def _stop_group(process: asyncio.subprocess.Process) -> None:
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
        try:
            await asyncio.wait_for(process.wait(), KILL_GRACE_S)
            return
        except TimeoutError:
            continue


async def run_growth(
    planned: list[PlannedEndpoint],
    net: NetSettings,
    seed: str,
    sizes: tuple[int, ...],
    settings: LoadSettings,
    *,
    dns: DnsLookup | None = None,
    seed_timeout: float = SEED_TIMEOUT_S,
    unit: str = "members",
    progress: Progress | None = None,
) -> list[GrowthSeries]:
    """Each endpoint measured alone at each size (endpoints must not slow each other down)."""
    points: dict[str, list[SizePoint]] = {p.name: [] for p in planned}
    for n in sizes:
        await run_seed(seed, n, timeout=seed_timeout, unit=unit, progress=progress)
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
                    tuple(stats.error_statuses().items()),
                )
            )
    return [GrowthSeries(p.name, p.url, tuple(points[p.name])) for p in planned]
