"""Run one uptime check through the audit's probes and judge it: ok, latency, status, reason, evidence.

No second network stack: HTTP(S) goes through :class:`HttpProbe` (``--connect-to``, the run's DNS,
``--ca-bundle``), DNS through :class:`DnsProbe`, TLS through :class:`TlsProbe`, TCP dials the
endpoints :func:`dial_plan` gives (the same routing), and ``smoke`` checks run a flow with the
smoke runner.

Probes cache answers for the life of an audit; a monitor asks the same question forever, so a
:class:`ProbeSet` hands out fresh DNS and TLS probes per run and renews the long-lived HTTP probe
(its keep-alive connections and its DNS answers) every ``refresh_s``.

A run never raises: a timeout, a dead server or a bug in a probe is a failed result with a reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Literal

from launchready.config.sections.monitor import MonitorCheck, dns_name, host_port
from launchready.core.masking import mask_credentials
from launchready.core.net import NetSettings
from launchready.monitor.checks.conditions import Condition, Observation, evaluate, parse_conditions
from launchready.probes.dial import dial_plan
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpProbe
from launchready.probes.tls import TlsFacts, TlsProbe
from launchready.smoke.plan import SmokePlan, execute

log = logging.getLogger("launchready.monitor")

# A response body larger than this is cut: conditions look at the start of a health answer.
_MAX_BODY = 256 * 1024
_EVIDENCE_CHARS = 500
_DEFAULT_HTTP_CONDITIONS = ("[STATUS] < 400",)


@dataclass(frozen=True)
class CheckOutcome:
    """One run's result; ``evidence`` is masked and bounded, set on failures only."""

    ok: bool
    latency_ms: float | None
    status_code: int | None = None
    reason: str | None = None
    evidence: str | None = None


def _excerpt(text: str) -> str:
    return mask_credentials(" ".join(text.split()))[:_EVIDENCE_CHARS]


class ProbeSet:
    """The probes checks share; HTTP probes are per timeout (aiohttp's total timeout is per session)."""

    def __init__(self, net: NetSettings, *, refresh_s: float = 60.0, monotonic: Callable[[], float] = time.monotonic):
        self._net = net
        self._refresh_s = refresh_s
        self._monotonic = monotonic
        self._http: dict[float, tuple[HttpProbe, DnsProbe, float]] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    def net(self, timeout: float) -> NetSettings:
        return replace(self._net, timeout=timeout)

    def http(self, timeout: float) -> HttpProbe:
        now = self._monotonic()
        current = self._http.get(timeout)
        if current is not None and now - current[2] < self._refresh_s:
            return current[0]
        net = self.net(timeout)
        dns = DnsProbe(net)
        probe = HttpProbe(net, dns)
        self._http[timeout] = (probe, dns, now)
        if current is not None:
            # Requests already running on the old probe finish first (they time out by then).
            task = asyncio.ensure_future(self._retire(current[0], current[1], timeout + 1.0))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)
        return probe

    @staticmethod
    async def _retire(probe: HttpProbe, dns: DnsProbe, after: float) -> None:
        await asyncio.sleep(after)
        await probe.close()
        await dns.close()

    async def close(self) -> None:
        for task in list(self._retiring):
            task.cancel()
        for probe, dns, _ in self._http.values():
            await probe.close()
            await dns.close()
        self._http.clear()


class CheckRunner:
    """Runs one configured check; build once per check, call :meth:`run` each interval."""

    def __init__(self, check: MonitorCheck, probes: ProbeSet, *, smoke_plan: SmokePlan | None = None) -> None:
        self.check = check
        self.kind: Literal["http", "tcp", "dns", "tls", "smoke"] = check.kind
        self.timeout = check.run_timeout
        self._probes = probes
        self._smoke_plan = smoke_plan
        written = check.conditions or (_DEFAULT_HTTP_CONDITIONS if self.kind == "http" else ())
        self.conditions: tuple[Condition, ...] = parse_conditions(written)
        self._needs_certificate = any(c.placeholder == "CERTIFICATE_EXPIRATION" for c in self.conditions)

    async def run(self, now: Callable[[], float] = time.time) -> CheckOutcome:
        started = time.perf_counter()
        try:
            # A margin over the probe's own timeout: the probe reports its timeout as a fact
            # with detail; this only catches what would otherwise hang.
            async with asyncio.timeout(self.timeout + 1.0):
                return await self._run(now)
        except TimeoutError:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            return CheckOutcome(False, elapsed, reason=f"no answer within {self.timeout:g}s")
        except Exception as exc:  # noqa: BLE001 - a check never takes the scheduler down
            log.exception("check %s crashed", self.check.name)
            return CheckOutcome(False, None, reason=_excerpt(f"check could not run: {type(exc).__name__}: {exc}"))

    async def _run(self, now: Callable[[], float]) -> CheckOutcome:
        if self.kind == "http":
            return await self._http(now)
        if self.kind == "tcp":
            return await self._tcp()
        if self.kind == "tls":
            return await self._tls(now)
        if self.kind == "dns":
            return await self._dns()
        return await self._smoke()

    def _judge(self, seen: Observation, latency: float | None, status: int | None, detail: str) -> CheckOutcome:
        failure = evaluate(self.conditions, seen)
        if failure is None:
            return CheckOutcome(True, latency, status)
        return CheckOutcome(False, latency, status, reason=_excerpt(failure), evidence=_excerpt(detail) or None)

    async def _http(self, now: Callable[[], float]) -> CheckOutcome:
        url = self.check.url or ""
        exchange = await self._probes.http(self.timeout).fetch(url, max_body=_MAX_BODY, use_cache=False)
        if exchange.error is not None:
            return CheckOutcome(
                False,
                exchange.elapsed_ms,
                exchange.status,
                reason=_excerpt(exchange.error),
                evidence=_excerpt(f"{exchange.method} {url} via {exchange.peer or '?'}: {exchange.error}"),
            )
        expires_in: float | None = None
        if self._needs_certificate and url.lower().startswith("https://"):
            facts = await self._handshake(exchange.url)
            expires_in = _expires_in(facts, now())
        seen = Observation(
            connected=True,
            status=exchange.status,
            response_time_ms=exchange.elapsed_ms,
            body=exchange.body,
            certificate_expires_in_s=expires_in,
        )
        detail = f"{exchange.method} {url} -> {exchange.status}: {exchange.body[:_EVIDENCE_CHARS].decode('utf-8', 'replace')}"
        return self._judge(seen, exchange.elapsed_ms, exchange.status, detail)

    async def _handshake(self, url: str) -> TlsFacts:
        from yarl import URL

        parsed = URL(url)
        net = self._probes.net(self.timeout)
        dns = DnsProbe(net)
        tls = TlsProbe(net, dns)
        try:
            return await tls.handshake(parsed.host or "", parsed.port or 443)
        finally:
            await tls.close()
            await dns.close()

    async def _tcp(self) -> CheckOutcome:
        host, port = host_port(self.check.url or "")
        net = self._probes.net(self.timeout)
        dns = DnsProbe(net)
        started = time.perf_counter()
        try:
            plan = await dial_plan(net, dns, host, port)
        finally:
            await dns.close()
        if not plan.endpoints:
            return CheckOutcome(False, None, reason=_excerpt(plan.error or f"{host} has no address"))
        errors: list[str] = []
        for address, dial_port in plan.endpoints:
            try:
                async with asyncio.timeout(self.timeout):
                    _, writer = await asyncio.open_connection(address, dial_port)
            except TimeoutError:
                errors.append(f"{address}:{dial_port}: no answer within {self.timeout:g}s")
                break
            except OSError as exc:
                errors.append(f"{address}:{dial_port}: {exc.strerror or exc}")
                continue
            latency = round((time.perf_counter() - started) * 1000, 1)
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
            return self._judge(Observation(connected=True, response_time_ms=latency), latency, None, "")
        latency = round((time.perf_counter() - started) * 1000, 1)
        reason = "cannot connect: " + "; ".join(errors)
        seen = Observation(connected=False, response_time_ms=latency)
        if any(c.placeholder == "CONNECTED" for c in self.conditions):
            # "[CONNECTED] == false" watches that a port stays closed.
            return self._judge(seen, latency, None, reason)
        return CheckOutcome(False, latency, reason=_excerpt(reason), evidence=_excerpt(reason))

    async def _tls(self, now: Callable[[], float]) -> CheckOutcome:
        host, port = host_port(self.check.url or "")
        started = time.perf_counter()
        net = self._probes.net(self.timeout)
        dns = DnsProbe(net)
        tls = TlsProbe(net, dns)
        try:
            facts = await tls.handshake(host, port)
        finally:
            await tls.close()
            await dns.close()
        latency = round((time.perf_counter() - started) * 1000, 1)
        if not facts.connected or facts.leaf is None:
            reason = facts.error or "no certificate received"
            return CheckOutcome(False, latency, reason=_excerpt(reason), evidence=_excerpt(reason))
        if not facts.verified:
            reason = f"certificate not trusted: {facts.verify_error or 'unknown reason'}"
            return CheckOutcome(False, latency, reason=_excerpt(reason), evidence=_excerpt(_cert_detail(facts)))
        expires_in = _expires_in(facts, now())
        conditions = self.conditions or parse_conditions(("[CERTIFICATE_EXPIRATION] > 0s",))
        seen = Observation(connected=True, response_time_ms=latency, certificate_expires_in_s=expires_in)
        failure = evaluate(conditions, seen)
        if failure is None:
            return CheckOutcome(True, latency)
        return CheckOutcome(False, latency, reason=_excerpt(failure), evidence=_excerpt(_cert_detail(facts)))

    async def _dns(self) -> CheckOutcome:
        name, rdtype = dns_name(self.check.url or "")
        dns = DnsProbe(self._probes.net(self.timeout))
        started = time.perf_counter()
        try:
            answer = await dns.query(name, rdtype)
        finally:
            await dns.close()
        latency = round((time.perf_counter() - started) * 1000, 1)
        served = tuple(answer.records)
        shown = f"{name} {rdtype}: {answer.status}" + (f" {list(served)}" if served else "")
        if answer.status != "ok":
            reason = f"{name} {rdtype}: {answer.status}" + (f" ({answer.error})" if answer.error else "")
            return CheckOutcome(False, latency, reason=_excerpt(reason), evidence=_excerpt(shown))
        missing = missing_records(rdtype, self.check.expect, served)
        if missing:
            reason = f"{name} {rdtype} no longer serves {missing[0]!r}"
            return CheckOutcome(False, latency, reason=_excerpt(reason), evidence=_excerpt(shown))
        return self._judge(Observation(connected=True, response_time_ms=latency), latency, None, shown)

    async def _smoke(self) -> CheckOutcome:
        plan = self._smoke_plan
        if plan is None:
            return CheckOutcome(False, None, reason=f"smoke flow {self.check.smoke!r} was not prepared")
        run = await execute(plan, self._probes.net(self.timeout))
        latency = run.duration_ms
        if run.passed:
            return self._judge(Observation(connected=True, response_time_ms=latency), latency, None, "")
        flow = run.failed[0]
        step = flow.failed_step
        return CheckOutcome(
            False,
            latency,
            step.status if step is not None else None,
            reason=_excerpt(flow.reason),
            evidence=_excerpt(step.response_excerpt or "") if step is not None and step.response_excerpt else None,
        )


def _expires_in(facts: TlsFacts, now: float) -> float | None:
    if facts.leaf is None:
        return None
    return facts.leaf.not_after.timestamp() - now


def _cert_detail(facts: TlsFacts) -> str:
    leaf = facts.leaf
    if leaf is None:
        return facts.error or ""
    expires = leaf.not_after.astimezone(UTC).isoformat()
    return f"{facts.host}:{facts.port} subject {leaf.subject}, issuer {leaf.issuer}, expires {expires}"


def _normal(rdtype: str, value: str) -> str:
    text = value.strip()
    if rdtype == "TXT":
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1]
        return text
    return " ".join(token.lower().rstrip(".") for token in text.split())


def missing_records(rdtype: str, expected: tuple[str, ...], served: tuple[str, ...]) -> list[str]:
    """Expected values the DNS no longer serves (names compared without case and trailing dot)."""
    have = {_normal(rdtype, value) for value in served}
    return [value for value in expected if _normal(rdtype, value) not in have]


def prepare_runners(
    checks: tuple[MonitorCheck, ...], probes: ProbeSet, smoke_plans: Mapping[str, SmokePlan]
) -> dict[str, CheckRunner]:
    return {c.name: CheckRunner(c, probes, smoke_plan=smoke_plans.get(c.name)) for c in checks}
