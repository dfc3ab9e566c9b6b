"""`launchready checks` and `launchready explain ID`: the catalogue, straight from check metadata."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli.errors import UsageError

if TYPE_CHECKING:
    from launchready.core.check import CheckMeta, FindingSpec
    from launchready.core.registry import Registry


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


def closest_id(registry: Registry, wanted: str) -> str:
    """The one id ``wanted`` abbreviates: a prefix of an id (``email.sp``) or a name in it
    (``spf``); a check wins over its own findings. Several or none: a usage error that lists
    the candidates or the nearest ids."""
    import difflib

    check_ids = [c.id for c in registry.checks]
    all_ids = [i for c in registry.checks for i in (c.id, *(s.id for s in c.meta.findings))]
    lowered = wanted.lower()
    candidates = [i for i in all_ids if i.startswith(lowered)]
    if not candidates:
        # A whole name in an id (``spf``: email.spf) before a name's start (email.message.spf-fail).
        candidates = [i for i in all_ids if lowered in i.split(".")]
    if not candidates:
        candidates = [i for i in all_ids if any(p.startswith(lowered) for p in i.split("."))]
    checks = [i for i in candidates if i in check_ids]
    if len(candidates) == 1:
        return candidates[0]
    if len(checks) == 1 and all(i == checks[0] or i.startswith(checks[0] + ".") for i in candidates):
        return checks[0]
    if candidates:
        shown = ", ".join((checks or candidates)[:8]) + (" ..." if len(checks or candidates) > 8 else "")
        raise UsageError(f"{wanted!r} matches several ids: {shown}; give one of them")
    close = difflib.get_close_matches(lowered, all_ids, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "`launchready checks` lists them"
    raise UsageError(f"unknown check or finding id {wanted!r}; {hint}")


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
        console = Console()
        if not console.is_terminal:
            # Piped: whole ids, one per line, tab-separated; nothing is cut to a guessed width.
            for check in registry.checks:
                print(f"{check.id}\t{check.meta.scope.value}\t{check.meta.title}")
                for spec in check.meta.findings:
                    print(f"  {spec.id}\t{spec.severity.value}\t{spec.title}")
            return
        table = Table(title=f"{len(registry.checks)} checks", show_lines=True)
        table.add_column("check", overflow="fold")
        table.add_column("runs on", no_wrap=True)
        table.add_column("finding ids (severity)", overflow="fold")  # folded when narrow, never cut
        for check in registry.checks:
            ids = "\n".join(f"{s.id} ({s.severity.value})" for s in check.meta.findings)
            table.add_row(f"[bold]{check.id}[/bold]\n{check.meta.title}", check.meta.scope.value, ids)
        console.print(table)
        console.print("Run [bold]launchready explain ID[/bold] for what a check or finding means and how to fix it.")

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
        wanted = some_id.strip()
        try:
            meta, spec = registry.find_spec(wanted)
        except KeyError:
            found = closest_id(registry, wanted)
            print(f"launchready: {wanted!r} is not an id; showing {found}", file=sys.stderr)
            meta, spec = registry.find_spec(found)
        text = explain_markdown(meta, spec)
        if raw or not Console().is_terminal:
            print(text, end="")
        else:
            Console().print(Markdown(text))
