"""`launchready env check --env production --from FILE`: the environment contract, names only."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import ConfigOpt
from launchready.core.severity import Severity

if TYPE_CHECKING:
    from launchready.secrets.contract import EnvSource, Issue
    from launchready.secrets.envfile import EnvFile


class EnvFormat(str, Enum):
    TERMINAL = "terminal"
    JSON = "json"
    MD = "md"


def _counted(issues: list[Issue]) -> int:
    """Problems of this environment (drift is about another one's extra variables)."""
    return sum(1 for i in issues if i.problem.value != "drift")


def _summary(environment: str, source: str, issues: list[Issue], required: int) -> str:
    if not _counted(issues):
        return f"{environment}: all {required} required variable(s) are set ({source})"
    return f"{environment}: {_counted(issues)} problem(s) in {required} required variable(s) ({source})"


def _json(environment: str, source: str, issues: list[Issue], required: int) -> str:
    data = {
        "environment": environment,
        "source": source,
        "required": required,
        "issues": [
            {
                "problem": i.problem.value,
                "name": i.name,
                "severity": i.severity.value,
                "flows": list(i.flows),
                "detail": i.detail,
            }
            for i in issues
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def _markdown(environment: str, source: str, issues: list[Issue], required: int, compared: list[str]) -> str:
    from launchready.report.markdown import write_markdown
    from launchready.report.model import Banner, Column, Document, Section, Span, Table

    bad = _counted(issues) > 0
    banner = Banner(
        label="Environment contract",
        headline="PROBLEMS" if bad else "OK",
        text=_summary(environment, source, issues, required),
        tone="bad" if bad else "good",
    )
    rows = tuple(
        (
            Span(i.severity.value.upper(), tone=i.severity.value),
            i.problem.value,
            Span(i.name, code=True),
            i.detail + (f" (needed by: {', '.join(i.flows)})" if i.flows else ""),
        )
        for i in issues
    )
    sections = (
        (
            Section(
                "Problems",
                (
                    Table(
                        (
                            Column("Severity", wrap=False),
                            Column("Problem", wrap=False),
                            Column("Variable"),
                            Column("Detail"),
                        ),
                        rows,
                    ),
                ),
                lead="Names only: no value is ever shown.",
            ),
        )
        if issues
        else ()
    )
    meta = (f"source: {source}", f"compared with: {', '.join(compared) or 'no other environment'}")
    document = Document(
        title=f"Environment contract: {environment}",
        heading=f"Environment contract: {environment}",
        sections=sections,
        meta=meta,
        banner=banner,
    )
    return write_markdown(document)


def _terminal(environment: str, source: str, issues: list[Issue], required: int) -> str:
    from launchready.report.controls import visible

    lines = [f"{i.severity.value.upper():<8} {i.problem.value:<11} {i.detail}" for i in issues]
    lines.append(_summary(environment, source, issues, required))
    # Names and file names come from the env files: their control characters are shown, not sent.
    return visible("\n".join(lines) + "\n")


def register(app: typer.Typer) -> None:
    env = typer.Typer(
        help="The environment contract: every variable each environment needs, set and real.", no_args_is_help=True
    )

    @env.command()
    def check(
        environment: Annotated[
            str, typer.Option("--env", help="The environment's name (production, staging, ...).")
        ] = "production",
        source: Annotated[
            str | None,
            typer.Option(
                "--from",
                metavar="FILE|-|env",
                help="A dotenv or KEY=VALUE export; '-' reads stdin, 'env' the current environment. Default: \\[secrets.env.sources].",
            ),
        ] = None,
        compare: Annotated[
            list[str] | None,
            typer.Option(
                "--compare",
                metavar="ENV=FILE",
                help="Another environment's variables, for drift and shared values (repeatable); when given, only "
                "these are compared (default: the other \\[secrets.env.sources]).",
            ),
        ] = None,
        repo: Annotated[
            Path | None,
            typer.Option("--repo", help="Where a relative .env.example is found (default: the config's directory)."),
        ] = None,
        fmt: Annotated[EnvFormat, typer.Option("--format", "-f", help="Output format.")] = EnvFormat.TERMINAL,
        as_json: Annotated[bool, typer.Option("--json", help="Deprecated: use --format json.", hidden=True)] = False,
        fail_on: Annotated[
            Severity, typer.Option("--fail-on", help="Exit 1 when an issue is at or above this severity.")
        ] = Severity.HIGH,
        config: ConfigOpt = None,
    ) -> None:
        """Report missing, empty, placeholder and test values, values shared across environments, names set
        twice and drift between environments. Never prints a value."""
        from launchready.secrets.contract import evaluate, read_source, requirements
        from launchready.secrets.settings import resolve

        if as_json:
            if fmt not in (EnvFormat.TERMINAL, EnvFormat.JSON):
                raise UsageError(f"--json and --format {fmt.value}: give one (--json is --format json)")
            print("launchready: warning: --json is deprecated; use --format json", file=sys.stderr)
            fmt = EnvFormat.JSON
        loaded = common.load(config)
        contract = loaded.config.secrets.env
        base = loaded.base_dir
        sources = {name: resolve(p, base) for name, p in contract.sources.items()}
        # Only the files this run asks for are read: a broken export it does not use cannot fail it.
        have: EnvSource
        if source is not None:
            have = read_source(source)
        elif environment in sources:
            have = read_source(sources[environment])
        else:
            raise UsageError(f"env check: no --from given and no [secrets.env.sources] entry for {environment!r}")
        others: dict[str, EnvFile] = {}
        if compare:
            for item in compare:
                name, sep, path = item.partition("=")
                if not sep or not name or not path:
                    raise UsageError(f"--compare {item!r}: expected ENV=FILE, e.g. staging=staging.env")
                others[name] = read_source(Path(path)).env
        else:
            others = {n: read_source(p).env for n, p in sources.items() if n != environment}
        needs = requirements(contract, environment, (repo or base).resolve())
        if not needs.names:
            raise UsageError(
                'env check: the contract is empty: set [secrets.env] example = ".env.example", required or flows in launchready.toml'
            )
        issues = evaluate(environment, have.env, needs, others, have.duplicates)
        name, required = have.env.name, len(needs.names)
        if fmt is EnvFormat.JSON:
            text = _json(environment, name, issues, required)
        elif fmt is EnvFormat.MD:
            text = _markdown(environment, name, issues, required, sorted(others))
        else:
            text = _terminal(environment, name, issues, required)
        sys.stdout.write(text)
        raise typer.Exit(1 if any(i.severity.at_least(fail_on) for i in issues) else 0)

    app.add_typer(env, name="env")
