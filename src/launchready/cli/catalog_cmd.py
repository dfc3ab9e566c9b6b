"""`launchready checks` and `launchready explain ID`: the catalogue, straight from check metadata."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli.errors import UsageError

if TYPE_CHECKING:
    from launchready.core.check import CheckMeta, FindingSpec


def explain_markdown(meta: CheckMeta, spec: FindingSpec | None) -> str:
    lines: list[str] = []
    if spec is not None:
        lines += [
            f"# {spec.id}: {spec.title}",
            "",
            f"**Severity** {spec.severity.value} · **Impact** {spec.impact.value} · **Check** `{meta.id}`",
            "",
            "## Fix",
            spec.remediation,
            "",
        ]
    else:
        lines += [f"# {meta.id}: {meta.title}", "", f"**Runs on** {meta.scope.value}", ""]
    lines += [
        "## What it checks",
        meta.doc.what,
        "",
        "## Why it matters",
        meta.doc.why,
        "",
        "## How to fix",
        meta.doc.fix,
        "",
    ]
    if spec is None:
        lines += ["## Findings", ""]
        lines += [f"- `{s.id}` ({s.severity.value}, {s.impact.value}): {s.title}" for s in meta.findings]
        lines.append("")
    refs = (spec.references if spec and spec.references else ()) or meta.references
    lines += ["## References", *[f"- {r}" for r in refs]]
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    @app.command()
    def checks(
        as_json: Annotated[bool, typer.Option("--json", help="Print the catalogue as JSON.")] = False,
    ) -> None:
        """List every check and the findings it can report."""
        from rich.console import Console
        from rich.table import Table

        from launchready.core.registry import load_registry

        registry = load_registry()
        if as_json:
            print(json.dumps([c.meta.model_dump(mode="json") for c in registry.checks], indent=2))
            return
        table = Table(title=f"{len(registry.checks)} checks", show_lines=True)
        table.add_column("check")
        table.add_column("runs on")
        table.add_column("finding ids (severity)")
        for check in registry.checks:
            ids = "\n".join(f"{s.id} ({s.severity.value})" for s in check.meta.findings)
            table.add_row(f"[bold]{check.id}[/bold]\n{check.meta.title}", check.meta.scope.value, ids)
        Console().print(table)
        Console().print("Run [bold]launchready explain ID[/bold] for what a check or finding means and how to fix it.")

    @app.command()
    def explain(
        some_id: Annotated[
            str, typer.Argument(metavar="ID", help="A check id or a finding id, e.g. email.spf.missing.")
        ],
        raw: Annotated[bool, typer.Option("--raw", help="Print the Markdown source.")] = False,
    ) -> None:
        """Explain a check or finding: what it checks, why it matters, how to fix it."""
        from rich.console import Console
        from rich.markdown import Markdown

        from launchready.core.registry import load_registry

        registry = load_registry()
        try:
            meta, spec = registry.find_spec(some_id.strip())
        except KeyError:
            raise UsageError(f"unknown check or finding id {some_id!r}; `launchready checks` lists them") from None
        text = explain_markdown(meta, spec)
        if raw or not Console().is_terminal:
            print(text, end="")
        else:
            Console().print(Markdown(text))
