"""`launchready monitor probe`: a regional probe pulling its checks from a monitor server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import CaBundleOpt, ConnectToOpt, NameserverOpt, TimeoutOpt


def register_probe_command(app: typer.Typer) -> None:
    @app.command("probe")
    def probe_command(
        server: Annotated[
            str, typer.Option("--server", metavar="URL", help="The monitor server's URL (its dashboard address).")
        ],
        region: Annotated[
            str, typer.Option("--region", metavar="NAME", help="This probe's region, as checks list it.")
        ],
        token: Annotated[
            str,
            typer.Option(
                "--token",
                metavar="TOKEN",
                envvar="LAUNCHREADY_PROBE_TOKEN",
                help="API token from `launchready monitor token add`; also read from LAUNCHREADY_PROBE_TOKEN.",
            ),
        ],
        spool: Annotated[
            Path | None,
            typer.Option(
                "--spool",
                metavar="FILE",
                help="Where results wait for the server; default .launchready/probe-REGION.sqlite.",
            ),
        ] = None,
        spool_limit: Annotated[
            int,
            typer.Option(
                "--spool-limit", min=1, help="Results kept while the server is away; the oldest are dropped past it."
            ),
        ] = 100_000,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Run the server's checks for REGION and push the results, spooling them while it is away."""
        import asyncio
        import logging
        import re

        from launchready.monitor.regional.agent import ProbeAgent, default_spool_path
        from launchready.monitor.regional.spool import Spool
        from launchready.monitor.service import run_until_stopped

        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", region):
            raise UsageError(f"--region {region}: letters, digits, _ or - (at most 64)")
        if not token.strip():
            raise UsageError("--token: empty; create one with `launchready monitor token add NAME`")
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout)
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
        queue = Spool(spool or default_spool_path(region), spool_limit)
        agent = ProbeAgent(server, region, token.strip(), net, queue)
        print(
            f"probe {region} -> {server} (spool {queue.path}, {len(queue)} results waiting)",
            file=sys.stderr,
            flush=True,
        )
        try:
            asyncio.run(run_until_stopped([agent]))
        finally:
            left = len(queue)
            queue.close()
        print(f"probe stopped; {left} results wait in the spool", file=sys.stderr)
