"""The allow-list and the caps: only declared hosts, never above the config's rate and duration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from launchready.config.model import Config
from launchready.core.net import NetSettings
from launchready.perf.chromium import browser_args
from launchready.perf.errors import PerfError
from launchready.perf.http1 import Endpoint
from launchready.perf.plan import PlannedEndpoint, declared_hosts, plan, resolve
from launchready.perf.session import settings_for
from launchready.probes.dns import DnsProbe

BASE = {
    "domain": "example.com",
    "subdomains": ["api", "eu.app.example.com"],
    "environments": {"production": {"base_url": "https://app.example.com"}},
}


def config(**perf: object) -> Config:
    return Config.model_validate({**BASE, "perf": perf})


def test_declared_hosts_come_from_the_config() -> None:
    hosts = declared_hosts(config(allow_hosts=["Staging.Example.NET."]))
    assert hosts == {"example.com", "api.example.com", "eu.app.example.com", "app.example.com", "staging.example.net"}


def test_paths_use_the_environment_and_budgets_default_from_budgets() -> None:
    cfg = config(
        endpoints=[{"name": "feed", "path": "/feed", "p95_ms": 120.0}, {"name": "home", "path": "https://example.com/"}]
    )
    feed, home = plan(cfg)
    assert feed.url == "https://app.example.com/feed" and feed.p95_ms == 120 and feed.error_rate == 0.01
    assert home.url == "https://example.com/" and home.p95_ms == 300


@pytest.mark.parametrize(
    "endpoints, urls, message",
    [
        ([{"name": "x", "path": "https://example.org/"}], (), "refusing to load-test example.org"),
        ([{"name": "x", "path": "https://example.com.evil.test/"}], (), "refusing to load-test example.com.evil.test"),
        ([], ("https://api.example.net/",), "refusing to load-test api.example.net"),
        ([], ("ftp://example.com/",), r"is not an http\(s\) URL"),
        ([], (), "no endpoints to load"),
    ],
)
def test_undeclared_hosts_are_refused(endpoints: list[object], urls: tuple[str, ...], message: str) -> None:
    with pytest.raises(PerfError, match=message):
        plan(config(endpoints=endpoints), urls=urls)


def test_unknown_endpoint_name() -> None:
    with pytest.raises(PerfError, match="no perf endpoint named nope"):
        plan(config(endpoints=[{"name": "feed", "path": "/feed"}]), only=("nope",))


def test_caps_refuse_more_rate_or_time_than_configured() -> None:
    cfg = config(max_rate=100.0, max_duration_s=60.0)
    assert settings_for(cfg, rate=100.0, duration_s=50.0, warmup_s=5.0).rate == 100
    with pytest.raises(PerfError, match="above perf.max_rate 100"):
        settings_for(cfg, rate=101.0)
    with pytest.raises(PerfError, match="above perf.max_duration_s 60"):
        settings_for(cfg, duration_s=58.0, warmup_s=5.0)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="rate 600 is above max_rate 500"):
        config(rate=600.0)
    with pytest.raises(ValueError, match="containing"):
        config(growth={"seed": "seed --count 5"})
    with pytest.raises(ValueError, match="increasing"):
        config(growth={"sizes": [500, 100]})
    with pytest.raises(ValueError, match="unknown endpoint"):
        config(growth={"endpoints": ["feed"]})


def test_load_and_page_load_dial_through_the_runs_resolver(udp_dns_responder: Callable[..., Any]) -> None:
    """An audit hands its DNS probe over: names it already resolved are not asked again."""
    nameserver, responder = udp_dns_responder({"app.example.test": "127.0.0.1"})
    net = NetSettings(nameservers=(nameserver,), timeout=2.0)
    planned = [PlannedEndpoint("home", "https://app.example.test/", "GET", 1, 500.0, 0.01)]

    async def scenario() -> tuple[list[Endpoint], list[str], int, int]:
        run_dns = DnsProbe(net)
        try:
            await run_dns.addresses("app.example.test")
            asked = len(responder.queries)
            endpoints = await resolve(planned, net, dns=run_dns)
            args = await browser_args(net, "https://app.example.test/", proxy_port=1080, dns=run_dns)
            return endpoints, args, asked, len(responder.queries)
        finally:
            await run_dns.close()

    endpoints, args, asked_by_the_run, asked_in_all = asyncio.run(scenario())
    assert [e.dial for e in endpoints] == [("127.0.0.1", 443)]
    # Chromium resolves nothing itself: every connection goes through the run's proxy.
    assert args == [
        "--proxy-server=socks5://127.0.0.1:1080",
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ]
    assert asked_by_the_run == 2 and asked_in_all == asked_by_the_run  # A and AAAA, once each
