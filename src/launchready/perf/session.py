"""One load run end to end: plan -> login -> dial -> TLS context -> generator. Shared by the command and checks."""

from __future__ import annotations

from collections.abc import Mapping

from launchready.config.model import Config
from launchready.core.net import NetSettings
from launchready.core.protocols import DnsLookup
from launchready.perf.auth import Login, log_in
from launchready.perf.errors import PerfError
from launchready.perf.generator import LoadResult, LoadSettings, Progress, run_load
from launchready.perf.plan import PlannedEndpoint, resolve
from launchready.perf.workers import default_workers, run_workers
from launchready.probes.tls import verifying_context

# More processes than this is a typo, not a machine.
MAX_WORKERS = 256


def settings_for(
    config: Config,
    *,
    rate: float | None = None,
    duration_s: float | None = None,
    warmup_s: float | None = None,
    timeout_s: float = 10.0,
    workers: int | None = None,
) -> LoadSettings:
    """The run's settings from the config and flags, refusing anything above the config's caps."""
    perf = config.perf
    rate = perf.rate if rate is None else rate
    duration_s = perf.duration_s if duration_s is None else duration_s
    warmup_s = perf.warmup_s if warmup_s is None else warmup_s
    if not rate > 0:
        raise PerfError(f"--rate {rate:g}: must be a positive number of requests per second")
    if rate > perf.max_rate:
        raise PerfError(
            f"--rate {rate:g}: above perf.max_rate {perf.max_rate:g} (raise it in launchready.toml if you mean it)"
        )
    if not duration_s > 0 or warmup_s < 0:
        raise PerfError("--duration must be positive and --warmup not negative")
    if duration_s + warmup_s > perf.max_duration_s:
        raise PerfError(
            f"--duration {duration_s:g} + --warmup {warmup_s:g}: above perf.max_duration_s {perf.max_duration_s:g}"
        )
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise PerfError(f"--workers {workers}: must be between 1 and {MAX_WORKERS}")
    return LoadSettings(
        rate=rate,
        duration_s=duration_s,
        warmup_s=warmup_s,
        connections=perf.connections,
        timeout_s=timeout_s,
        workers=default_workers(rate) if workers is None else workers,
    )


async def log_in_for(
    planned: list[PlannedEndpoint], net: NetSettings, *, dns: DnsLookup | None = None
) -> dict[str, Login]:
    """Run the endpoints' login flows (each once); LoginFailed when one does not pass."""
    return await log_in((p.login for p in planned), net, dns=dns)


async def measure(
    planned: list[PlannedEndpoint],
    net: NetSettings,
    settings: LoadSettings,
    *,
    progress: Progress | None = None,
    logins: Mapping[str, Login] | None = None,
    dns: DnsLookup | None = None,
) -> LoadResult:
    """The login flows first (unless ``logins`` are given), outside the measured window, then the load.

    ``dns`` is the run's resolver (an audit passes its own, so answers come from its cache).
    """
    if logins is None:
        logins = await log_in_for(planned, net, dns=dns)
    endpoints = await resolve(planned, net, logins, dns=dns)
    weights = [p.weight for p in planned]
    if settings.workers > 1:
        # Each process builds its own TLS context (a context cannot cross processes).
        tls_net = net if any(e.tls for e in endpoints) else None
        return await run_workers(endpoints, settings, weights=weights, net=tls_net)
    context = verifying_context(net) if any(e.tls for e in endpoints) else None
    return await run_load(endpoints, settings, weights=weights, ssl_context=context, progress=progress)
