"""`launchready history`: the audits stored under .launchready/."""

from __future__ import annotations

from typing import Annotated

import typer

from launchready.cli import common
from launchready.cli.options import ConfigOpt
from launchready.engine.target import normalise_domain


def register(app: typer.Typer) -> None:
    @app.command()
    def history(
        target: Annotated[str | None, typer.Argument(help="Only runs for this domain.")] = None,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1_000_000, help="How many runs to show.")] = 20,
        config: ConfigOpt = None,
    ) -> None:
        """List stored audits with their decision and counts, newest first."""
        from rich.console import Console

        from launchready.history.render import render_history
        from launchready.history.store import HistoryStore

        loaded = common.load(config)
        domain = normalise_domain(target) if target else None
        store = HistoryStore(loaded.base_dir)  # a HistoryError reaches the user as its one line (cli/errors.py)
        try:
            runs = store.list_runs(domain, limit=limit)
        finally:
            store.close()
        render_history(runs, Console())
