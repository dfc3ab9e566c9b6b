"""`launchready pageload URL`: one cold mobile page load in headless Chromium."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import CaBundleOpt, ConfigOpt, ConnectToOpt, NameserverOpt, RdapServerOpt, TimeoutOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def pageload(
        url: Annotated[str, typer.Argument(help="The page to load, e.g. https://example.com/.")],
        budget_ms: Annotated[
            float | None, typer.Option("--budget-ms", help="LCP budget (default budgets.lcp_ms).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the measurement as JSON.")] = False,
        config: ConfigOpt = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> int:
        """Load URL once in headless Chromium with Lighthouse's mobile profile; exit 1 when LCP is over budget."""
        import asyncio

        from launchready.checks.perf.pageload import describe, judge
        from launchready.core.errors import CouldNotRun
        from launchready.perf.chromium import INSTALL_HINT, find_chromium, measure_page

        if not url.lower().startswith(("http://", "https://")):
            raise UsageError(f"URL {url!r}: expected an http(s) URL")
        cfg = common.load(config).config
        budget = budget_ms if budget_ms is not None else cfg.budgets.lcp_ms
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, rdap_server=rdap_server)
        binary = find_chromium()
        if binary is None:
            raise UsageError(INSTALL_HINT)
        from launchready.report.controls import visible

        load = asyncio.run(measure_page(url, net, binary=binary, timeout_s=max(30.0, timeout * 3)))
        try:
            findings = judge([load], budget)
        except CouldNotRun as exc:
            print(f"launchready: page load not measured: {exc}", file=sys.stderr)
            return 1
        if as_json:
            data = asdict(load)
            data["budget_ms"] = budget
            data["findings"] = [f.model_dump(mode="json") for f in findings]
            print(json.dumps(data, indent=2))
        else:
            for line in describe(load):
                print(visible(line))  # URLs and element text come from the page
            verdict = "over" if findings else "within"
            print(f"LCP is {verdict} the {budget:g} ms budget.")
            for f in findings:
                print(f"{f.severity.value.upper()} {f.id}: {f.title}\n    fix: {f.remediation}")
        return 1 if findings else 0
