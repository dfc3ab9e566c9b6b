"""`launchready init DOMAIN`: a commented launchready.toml filled in from discovery."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import CaBundleOpt, ConnectToOpt, NameserverOpt, RdapServerOpt, TimeoutOpt
from launchready.engine.target import normalise_domain

if TYPE_CHECKING:
    from launchready.config.starter import StarterFacts
    from launchready.core.net import NetSettings


async def gather_facts(domain: str, net: NetSettings) -> StarterFacts:
    import asyncio

    from launchready.config.model import Config
    from launchready.config.starter import StarterFacts
    from launchready.engine.context import Probes
    from launchready.engine.discovery import discover, discover_dkim_selectors, spf_terms

    probes = Probes.open(net)
    try:
        site = await discover(domain, Config(), probes.dns)
        terms, selectors = await asyncio.gather(
            spf_terms(domain, probes.dns), discover_dkim_selectors(domain, probes.dns)
        )
    finally:
        await probes.close()
    return StarterFacts.from_site_map(site, spf_terms=terms, dkim_selectors=selectors)


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        domain: Annotated[str, typer.Argument(help="The apex domain, e.g. example.com.")],
        output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")] = Path("launchready.toml"),
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Write a commented launchready.toml for DOMAIN, with what DNS discovery found filled in."""
        import asyncio

        from launchready.config.starter import render_starter, write_starter

        target = normalise_domain(domain)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, rdap_server=rdap_server)
        if output.exists() and not force:
            # Fail before spending time on discovery; write_starter re-checks atomically.
            raise UsageError(f"{output}: already exists; use --force to overwrite it")
        facts = asyncio.run(gather_facts(target, net))
        # The CA bundle is written relative to the file when it sits beside it or below, else absolute.
        bundle: str | None = None
        if ca_bundle is not None:
            absolute = ca_bundle.resolve()
            try:
                bundle = str(absolute.relative_to(output.resolve().parent))
            except ValueError:
                bundle = str(absolute)
        text = render_starter(
            target,
            facts,
            nameservers=nameserver or (),
            ca_bundle=bundle,
            connect_to=connect_to or (),
            rdap_server=net.rdap_server,
        )
        path = write_starter(output, text, force=force)
        hosts = ", ".join(h.name for h in facts.hosts) or "none"
        command = "launchready audit" if output.resolve().parent == Path.cwd() else f"launchready audit --config {path}"
        print(
            f"wrote {path} (found: {hosts}); review the commented sections, then run: {command}",
            file=sys.stderr,
        )
