"""`launchready edge refresh-ranges`: refresh the shipped CDN address lists from the vendors' URLs."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from launchready.cli.errors import UsageError


def _default_dir() -> Path:
    return Path(str(resources.files("launchready").joinpath("data/edge")))


def build() -> typer.Typer:
    edge = typer.Typer(
        help="CDN/WAF detection data (vendor signatures and published address ranges).", no_args_is_help=True
    )

    @edge.command("refresh-ranges")
    def refresh_ranges(
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Directory to write ranges-*.json into (default: the installed data)."),
        ] = None,
        timeout: Annotated[float, typer.Option("--timeout", min=1.0, help="Seconds per vendor list.")] = 20.0,
    ) -> None:
        """Fetch Cloudflare, Fastly and CloudFront's published address lists (their URLs only)."""
        import asyncio

        import aiohttp

        from launchready.edge.refresh import refresh

        directory = out or _default_dir()
        if not directory.is_dir():
            raise UsageError(f"--out {directory}: not a directory")
        try:
            lines = asyncio.run(refresh(directory, timeout))
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            print(f"launchready: error: refreshing the ranges failed: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None
        for line in lines:
            print(line)

    return edge
