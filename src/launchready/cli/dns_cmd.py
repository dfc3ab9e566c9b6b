"""`launchready dns map DOMAIN`: every record of the names a launch depends on, for the handover."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import CaBundleOpt, ConfigOpt, ConnectToOpt, NameserverOpt, RdapServerOpt, TimeoutOpt

if TYPE_CHECKING:
    from launchready.config.model import Config
    from launchready.core.dnsmap import DnsMap
    from launchready.core.net import NetSettings


class MapFormat(str, Enum):
    MD = "md"
    JSON = "json"


async def build_map(domain: str, config: Config, net: NetSettings) -> DnsMap:
    from launchready.engine.discovery import discover
    from launchready.probes.dns import DnsProbe
    from launchready.probes.dnsmap import collect_dns_map

    dns = DnsProbe(net)
    try:
        site = await discover(domain, config, dns)
        hosts = tuple((h.name, h.found_by) for h in site.hosts)
        return await collect_dns_map(
            dns, domain, hosts, dkim_selectors=tuple(config.email.dkim_selectors), not_asked=site.omitted_notes
        )
    finally:
        await dns.close()


def render_map(dns_map: DnsMap, fmt: MapFormat) -> str:
    from launchready.report.dns_map import dns_map_markdown

    if fmt is MapFormat.JSON:
        from launchready.report.controls import json_visible

        return json_visible(json.dumps(dns_map.model_dump(mode="json"), indent=2, ensure_ascii=False)) + "\n"
    return "\n".join([f"# DNS map of {dns_map.domain}", "", *dns_map_markdown(dns_map)]) + "\n"


def build() -> typer.Typer:
    app = typer.Typer(help="DNS records of the domain.", no_args_is_help=True)

    @app.command("map")
    def map_command(
        domain: Annotated[
            str | None, typer.Argument(help="The apex domain (default: 'domain' in launchready.toml).")
        ] = None,
        config: ConfigOpt = None,
        fmt: Annotated[
            MapFormat, typer.Option("--format", "-f", help="md (a table for the handover) or json.")
        ] = MapFormat.MD,
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Every record of the apex, www, declared and discovered subdomains, mail hosts and mail-policy names, with TTLs."""
        import asyncio

        loaded = common.load(config)
        target = common.resolve_domain(domain, loaded)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, rdap_server=rdap_server)
        text = render_map(asyncio.run(build_map(target, loaded.config, net)), fmt)
        if output is None:
            sys.stdout.write(text)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None

    return app
