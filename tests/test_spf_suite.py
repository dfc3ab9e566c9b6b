"""The whole RFC 7208 test suite (openspf.org 2014.04) against our SPF evaluator over real DNS.

Each YAML document's zone data is served by a real DNS server on loopback (the lab's
DnsAuthority behind DnsServer); names marked TIMEOUT are never answered, so those cases wait out
a real resolver timeout. The suite is read from ../shared/testdata/email at test time (BSD-style
licence in rfc7208-tests.LICENSE beside it); the count passed is printed in the test output.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from launchready.core.net import Nameserver, NetSettings
from launchready.lab.dns_server import DnsServer
from launchready.lab.zonedata import SilentAuthority, root_zone
from launchready.probes.dns import DnsProbe
from launchready.probes.spf import check_host

SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "email" / "rfc7208-tests.yml"
TOTAL = 203
# Long enough that a loaded CI machine answers real queries in time; TIMEOUT cases wait it out.
DNS_TIMEOUT = 1.5

pytestmark = pytest.mark.skipif(not SUITE.is_file(), reason=f"RFC 7208 test suite not found at {SUITE}")


@dataclass(frozen=True)
class Case:
    document: str
    name: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    case: Case
    result: str
    explanation: str | None
    problem: str | None

    @property
    def expected(self) -> list[str]:
        want = self.case.spec["result"]
        return want if isinstance(want, list) else [want]

    @property
    def passed(self) -> bool:
        if self.result not in self.expected:
            return False
        want = self.case.spec.get("explanation")
        if want is None or self.result != "fail":
            return True
        return (self.explanation is None) if want == "DEFAULT" else self.explanation == want


def zone_records(
    zonedata: dict[str, list[Any]],
) -> tuple[dict[str, list[tuple[str, object]]], list[tuple[str, str | None]]]:
    """The YAML's records as (type, value) per name, and the (name, type) pairs that time out.

    As the suite's own drivers do: SPF-type records are served as TXT too unless the name has
    TXT entries of its own ("NONE" means none); TIMEOUT makes every type without records there
    time out.
    """
    records: dict[str, list[tuple[str, object]]] = {}
    silent: list[tuple[str, str | None]] = []
    for name, entries in zonedata.items():
        rrs: list[tuple[str, object]] = []
        has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        timeout = any(e == "TIMEOUT" for e in entries)
        for entry in entries:
            if entry == "TIMEOUT":
                continue
            for rdtype, value in entry.items():
                if value == "NONE":
                    continue
                rrs.append((rdtype, value))
                if rdtype == "SPF" and not has_txt:
                    rrs.append(("TXT", value))
        records[name] = rrs
        if timeout:
            present = {t for t, _ in rrs}
            if not present:
                silent.append((name, None))
            else:
                silent.extend((name, t) for t in ("A", "AAAA", "TXT", "MX", "PTR", "CNAME", "SPF") if t not in present)
    return records, silent


async def run_document(doc: dict[str, Any]) -> list[Outcome]:
    records, silent = zone_records(doc.get("zonedata") or {})
    server = DnsServer(SilentAuthority([root_zone(records)], silent))
    port = await server.start()
    try:
        net = NetSettings(nameservers=(Nameserver("127.0.0.1", port),), timeout=DNS_TIMEOUT)

        async def one(name: str, spec: dict[str, Any]) -> Outcome:
            probe = DnsProbe(net)
            try:
                result = await check_host(probe, spec["host"], spec["mailfrom"], helo=spec["helo"])
            finally:
                await probe.close()
            return Outcome(Case(doc["description"], name, spec), result.result, result.explanation, result.problem)

        return list(await asyncio.gather(*(one(n, s) for n, s in doc["tests"].items())))
    finally:
        await server.stop()


async def run_suite() -> list[Outcome]:
    docs = [d for d in yaml.safe_load_all(SUITE.read_text(encoding="utf-8")) if d]
    per_doc = await asyncio.gather(*(run_document(d) for d in docs))
    return [o for outcomes in per_doc for o in outcomes]


@pytest.fixture(scope="module")
def suite_outcomes(pytestconfig: pytest.Config) -> list[Outcome]:
    outcomes = asyncio.run(run_suite())
    passed = sum(o.passed for o in outcomes)
    line = f"RFC 7208 SPF test suite: {passed} of {len(outcomes)} passed"
    # Shown in every run's output, not only with -s/-rA: capture is lifted for this one line.
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)
    print(line)
    return outcomes


def test_whole_suite_passes(suite_outcomes: list[Outcome]) -> None:
    assert len(suite_outcomes) == TOTAL
    failed = [
        f"{o.case.document} / {o.case.name}: got {o.result} ({o.problem}; exp={o.explanation!r}), "
        f"expected {o.expected} exp={o.case.spec.get('explanation')!r}"
        for o in suite_outcomes
        if not o.passed
    ]
    assert not failed, f"{len(failed)} of {TOTAL} failed:\n" + "\n".join(failed)
