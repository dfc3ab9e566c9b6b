"""One schedule over several processes, for rates one core cannot send.

Python runs one event loop per core, so ``--workers N`` starts N processes (spawned, so nothing
of the parent's event loop is inherited). Worker k sends the global schedule's requests k, k+N,
k+2N, ... from a start time they all share, with its share of the connections; the parent
merges their histograms bucket by bucket, so every percentile is exact over all requests (never
an average of per-process percentiles).
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing.connection import Connection

from launchready.core.net import NetSettings
from launchready.perf.generator import LoadResult, LoadSettings, run_load
from launchready.perf.http1 import Endpoint

# What one process sends comfortably against a fast server on loopback (bench/load measures the
# ceiling); above it the default is to use more processes.
RATE_PER_PROCESS = 20_000.0
# Spawning and importing takes a while on a busy machine; the schedule starts once all are ready.
_READY_TIMEOUT_S = 60.0
_START_DELAY_S = 0.2


class WorkerFailed(Exception):
    """A worker process died or raised: the run has no result."""


def default_workers(rate: float) -> int:
    """One process while one core can send the rate, else as many as the rate needs, up to all cores."""
    return max(1, min(os.cpu_count() or 1, math.ceil(rate / RATE_PER_PROCESS)))


def _work(
    conn: Connection,
    endpoints: Sequence[Endpoint],
    settings: LoadSettings,
    weights: Sequence[int] | None,
    net: NetSettings | None,
    share: tuple[int, int],
) -> None:
    from launchready.probes.tls import verifying_context

    try:
        context = verifying_context(net) if net is not None else None
        conn.send("ready")
        start_wall = conn.recv()
        result = asyncio.run(
            run_load(endpoints, settings, weights=weights, ssl_context=context, share=share, start_wall=start_wall)
        )
        conn.send(result)
    except Exception as exc:  # reported by the parent as WorkerFailed: nothing is lost silently
        conn.send(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def _receive(conn: Connection, timeout: float) -> object:
    if not conn.poll(timeout):
        raise WorkerFailed(f"a load worker sent nothing within {timeout:g} s")
    try:
        return conn.recv()
    except EOFError:
        raise WorkerFailed("a load worker exited without a result") from None


async def run_workers(
    endpoints: Sequence[Endpoint],
    settings: LoadSettings,
    *,
    weights: Sequence[int] | None = None,
    net: NetSettings | None = None,
) -> LoadResult:
    """``settings.workers`` processes share the schedule; ``net`` builds TLS contexts in each (None: no TLS)."""
    n = settings.workers
    local = replace(settings, connections=max(1, math.ceil(settings.connections / n)))
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    processes = []
    try:
        for k in range(n):
            parent, child = context.Pipe()
            process = context.Process(
                target=_work, args=(child, list(endpoints), local, weights, net, (k, n)), daemon=True
            )
            process.start()
            child.close()
            pipes.append(parent)
            processes.append(process)
        for pipe in pipes:
            ready = await asyncio.to_thread(_receive, pipe, _READY_TIMEOUT_S)
            if ready != "ready":
                raise WorkerFailed(f"a load worker failed to start: {ready}")
        start_wall = time.time() + _START_DELAY_S
        for pipe in pipes:
            pipe.send(start_wall)
        # The whole run, its drain and a margin: a worker still silent after that is stuck.
        budget = settings.warmup_s + settings.duration_s + (settings.drain_s or settings.timeout_s) + 30.0
        results: list[LoadResult] = []
        for pipe in pipes:
            got = await asyncio.to_thread(_receive, pipe, budget)
            if not isinstance(got, LoadResult):
                raise WorkerFailed(f"a load worker failed: {got}")
            results.append(got)
    finally:
        for pipe in pipes:
            pipe.close()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
    merged = results[0]
    for other in results[1:]:
        merged.merge(other)
    merged.settings = settings
    return merged
