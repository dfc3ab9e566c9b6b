"""Monitor checks against real servers on loopback: HTTP(S), TCP, TLS, DNS (the lab), zero-config."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from monitor_servers import SECRET, serve_http
from netutil import closed_port

from launchready.config.loader import load_config
from launchready.config.sections.monitor import MonitorCheck
from launchready.core.net import ConnectTo, NetSettings
from launchready.lab.ca import LabCA
from launchready.lab.lab import Lab
from launchready.monitor.checks.runner import CheckOutcome, CheckRunner, ProbeSet, missing_records
from launchready.monitor.config import derive_checks, effective_monitor_config

HOST = "shop.monitor.test"


def _run(check: MonitorCheck, net: NetSettings) -> CheckOutcome:
    async def go() -> CheckOutcome:
        probes = ProbeSet(net)
        try:
            return await CheckRunner(check, probes).run()
        finally:
            await probes.close()

    return asyncio.run(go())


def _http(path: str, conditions: tuple[str, ...] = (), timeout: float | None = None) -> tuple[CheckOutcome, ...]:
    async def go() -> tuple[CheckOutcome, ...]:
        async with serve_http() as port:
            check = MonitorCheck(
                name="web", url=f"http://127.0.0.1:{port}{path}", conditions=conditions, timeout=timeout
            )
            probes = ProbeSet(NetSettings(timeout=5.0))
            try:
                runner = CheckRunner(check, probes)
                # Twice: a monitor asks the same question forever, never from a cache.
                return (await runner.run(), await runner.run())
            finally:
                await probes.close()

    return asyncio.run(go())


def test_http_check_passes_with_status_latency_and_json_conditions() -> None:
    conditions = ("[STATUS] == 200", "[RESPONSE_TIME] < 5s", "[BODY].status == ok", "[BODY].queue < 10")
    for outcome in _http("/health", conditions):
        assert outcome.ok, outcome
        assert outcome.status_code == 200 and outcome.latency_ms is not None and outcome.reason is None


def test_http_check_reason_is_the_first_failed_condition() -> None:
    outcome = _http("/degraded", ("[STATUS] == 200", "[BODY].status == ok"))[0]
    assert not outcome.ok
    assert outcome.reason == "[BODY].status == ok: got degraded"
    assert outcome.evidence is not None and '"status": "degraded"' in outcome.evidence


def test_http_failure_evidence_is_masked() -> None:
    outcome = _http("/broken")[0]
    assert (outcome.ok, outcome.status_code, outcome.reason) == (False, 503, "[STATUS] < 400: got 503")
    assert outcome.evidence is not None and "password=s3cr…(" in outcome.evidence
    assert SECRET not in outcome.evidence


def test_http_timeout_is_a_failed_result_not_a_crash() -> None:
    outcome = _http("/slow", timeout=0.5)[0]
    assert not outcome.ok
    assert outcome.reason is not None and "within 0.5s" in outcome.reason


def test_dead_http_server_is_refused() -> None:
    check = MonitorCheck(name="dead", url=f"http://127.0.0.1:{closed_port()}/")
    outcome = _run(check, NetSettings(timeout=3.0))
    assert (outcome.ok, outcome.reason) == (False, "connection refused")


def test_tcp_check_connects_or_says_why_not() -> None:
    async def go() -> tuple[CheckOutcome, CheckOutcome, CheckOutcome]:
        async with serve_http() as port:
            probes = ProbeSet(NetSettings(timeout=3.0))
            try:
                up = await CheckRunner(MonitorCheck(name="t", url=f"tcp://127.0.0.1:{port}"), probes).run()
                closed = closed_port()
                down = await CheckRunner(MonitorCheck(name="t", url=f"tcp://127.0.0.1:{closed}"), probes).run()
                stays_closed = await CheckRunner(
                    MonitorCheck(name="t", url=f"tcp://127.0.0.1:{closed}", conditions=("[CONNECTED] == false",)),
                    probes,
                ).run()
                return up, down, stays_closed
            finally:
                await probes.close()

    up, down, stays_closed = asyncio.run(go())
    assert up.ok and up.latency_ms is not None
    assert not down.ok and down.reason is not None and down.reason.startswith("cannot connect: 127.0.0.1:")
    assert stays_closed.ok


def _tls_context(ca: LabCA, tmp_path: Path, days: int) -> ssl.SSLContext:
    cert = ca.issue([HOST], not_after=datetime.now(UTC) + timedelta(days=days))
    cert_file, key_file = cert.write(tmp_path, "server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


def test_tls_and_https_certificate_expiration(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    context = _tls_context(lab_ca, tmp_path, days=10)

    async def go() -> dict[str, CheckOutcome]:
        async with serve_http(context) as port:
            routes = (ConnectTo(HOST, 443, "127.0.0.1", port),)
            trusted = ProbeSet(NetSettings(ca_bundle=lab_ca_bundle, connect_to=routes, timeout=5.0))
            untrusted = ProbeSet(NetSettings(connect_to=routes, timeout=5.0))
            checks = {
                "tls-ok": (
                    MonitorCheck(name="a", url=f"tls://{HOST}:443", conditions=("[CERTIFICATE_EXPIRATION] > 5d",)),
                    trusted,
                ),
                "tls-soon": (
                    MonitorCheck(name="b", url=f"tls://{HOST}:443", conditions=("[CERTIFICATE_EXPIRATION] > 14d",)),
                    trusted,
                ),
                "tls-untrusted": (MonitorCheck(name="c", url=f"tls://{HOST}:443"), untrusted),
                "https-soon": (
                    MonitorCheck(
                        name="d",
                        url=f"https://{HOST}/health",
                        conditions=("[STATUS] == 200", "[CERTIFICATE_EXPIRATION] > 336h"),
                    ),
                    trusted,
                ),
                "https-untrusted": (MonitorCheck(name="e", url=f"https://{HOST}/health"), untrusted),
            }
            try:
                return {key: await CheckRunner(check, probes).run() for key, (check, probes) in checks.items()}
            finally:
                await trusted.close()
                await untrusted.close()

    outcomes = asyncio.run(go())
    assert outcomes["tls-ok"].ok
    assert not outcomes["tls-soon"].ok
    assert outcomes["tls-soon"].reason is not None
    assert outcomes["tls-soon"].reason.startswith("[CERTIFICATE_EXPIRATION] > 14d: got ")
    assert outcomes["tls-soon"].evidence is not None and HOST in outcomes["tls-soon"].evidence
    assert not outcomes["tls-untrusted"].ok
    assert (outcomes["tls-untrusted"].reason or "").startswith("certificate not trusted")
    assert not outcomes["https-soon"].ok and outcomes["https-soon"].status_code == 200
    assert (outcomes["https-soon"].reason or "").startswith("[CERTIFICATE_EXPIRATION] > 336h: got ")
    assert not outcomes["https-untrusted"].ok
    assert "not trusted" in (outcomes["https-untrusted"].reason or "")


def test_missing_records_compares_names_without_case_and_final_dot() -> None:
    served = ("10 MX1.Example.com.", "20 mx2.example.com.")
    assert missing_records("MX", ("10 mx1.example.com", "20 mx2.example.com."), served) == []
    assert missing_records("MX", ("10 mx3.example.com.",), served) == ["10 mx3.example.com."]
    assert missing_records("TXT", ('"v=spf1 -all"',), ("v=spf1 -all",)) == []


def test_dns_record_check_against_the_lab(lab: Lab) -> None:
    net = lab.net_settings()
    mx = asyncio.run(_served(net, lab.domain))
    assert mx, "the lab publishes MX records"
    assert _run(MonitorCheck(name="mx", url=f"dns://{lab.domain}/MX", expect=mx), net).ok
    changed = _run(MonitorCheck(name="mx", url=f"dns://{lab.domain}/MX", expect=("10 mx.elsewhere.test.",)), net)
    assert not changed.ok
    assert changed.reason == f"{lab.domain} MX no longer serves '10 mx.elsewhere.test.'"
    gone = _run(MonitorCheck(name="nx", url=f"dns://nothing-here.{lab.domain}/A"), net)
    assert (gone.ok, gone.reason) == (False, f"nothing-here.{lab.domain} A: nxdomain")


async def _served(net: NetSettings, domain: str) -> tuple[str, ...]:
    from launchready.probes.dns import DnsProbe

    dns = DnsProbe(net)
    try:
        return (await dns.query(domain, "MX")).records
    finally:
        await dns.close()


def test_zero_config_derives_health_tls_and_email_records_from_the_lab(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "launchready.toml"
    path.write_text(lab.config_toml(), encoding="utf-8")
    config = load_config(path).config
    net = lab.net_settings()
    monitor, derived = asyncio.run(effective_monitor_config(config, net))
    names = [d.check.name for d in derived]
    assert names[0] == "production-health"
    assert f"tls-app.{lab.domain}" in names and f"tls-{lab.domain}" in names
    assert {"dns-mx", "dns-spf", "dns-dmarc"} <= set(names)
    assert [c.name for c in monitor.checks] == names
    assert all(str(d).startswith(f"{d.check.name}: ") for d in derived)
    # What was derived from the lab holds on the lab (with every fault off).
    for item in derived:
        outcome = _run(item.check, net)
        assert outcome.ok, (item.check.name, outcome)


def test_declared_checks_are_not_replaced(lab: Lab) -> None:
    declared = '[monitor]\n[[monitor.checks]]\nname = "only"\nurl = "tcp://127.0.0.1:1"\n'
    config = load_config(_write(declared)).config
    monitor, derived = asyncio.run(effective_monitor_config(config, lab.net_settings()))
    assert [c.name for c in monitor.checks] == ["only"] and derived == []
    assert asyncio.run(derive_checks(config, lab.net_settings())) == []


def _write(text: str) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "launchready.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_smoke_flow_as_a_synthetic_check(lab: Lab, tmp_path: Path) -> None:
    from launchready.monitor.config import prepare_smoke_plans
    from launchready.monitor.errors import MonitorSetupError

    path = tmp_path / "launchready.toml"
    path.write_text(lab.config_toml(), encoding="utf-8")
    config = load_config(path).config
    check = MonitorCheck(name="members-api", smoke="directory-api", timeout=30)
    plans = prepare_smoke_plans(config, (check,))
    assert set(plans) == {"members-api"}

    async def go() -> CheckOutcome:
        probes = ProbeSet(lab.net_settings())
        try:
            return await CheckRunner(check, probes, smoke_plan=plans["members-api"]).run()
        finally:
            await probes.close()

    outcome = asyncio.run(go())
    assert outcome.ok, outcome
    assert outcome.latency_ms is not None and outcome.latency_ms > 0

    # An unknown flow is refused before the monitor starts, in one line naming the check.
    with pytest.raises(MonitorSetupError) as caught:
        prepare_smoke_plans(config, (MonitorCheck(name="nope", smoke="no-such-flow"),))
    assert str(caught.value).startswith("check 'nope': ") and "no-such-flow" in str(caught.value)
    assert "\n" not in str(caught.value)
