"""`launchready env check --env production --from FILE`: the environment contract, names only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import ConfigOpt
from launchready.core.severity import Severity

if TYPE_CHECKING:
    from launchready.secrets.contract import Issue
    from launchready.secrets.envfile import EnvFile


def _render(environment: str, source: str, issues: list[Issue], required: int, as_json: bool) -> str:
    if as_json:
        return (
            json.dumps(
                {
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
                },
                indent=2,
            )
            + "\n"
        )
    lines = [f"{i.severity.value.upper():<8} {i.problem.value:<11} {i.detail}" for i in issues]
    if not any(i.problem.value != "drift" for i in issues):
        lines.append(f"{environment}: all {required} required variable(s) are set ({source})")
    else:
        lines.append(
            f"{environment}: {sum(1 for i in issues if i.problem.value != 'drift')} problem(s) in {required} required variable(s) ({source})"
        )
    return "\n".join(lines) + "\n"


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
                help="Another environment's variables, for drift (repeatable); default: the other \\[secrets.env.sources].",
            ),
        ] = None,
        repo: Annotated[
            Path | None,
            typer.Option("--repo", help="Where a relative .env.example is found (default: the config's directory)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
        fail_on: Annotated[
            Severity, typer.Option("--fail-on", help="Exit 1 when an issue is at or above this severity.")
        ] = Severity.HIGH,
        config: ConfigOpt = None,
    ) -> None:
        """Report missing, empty and placeholder variables and drift between environments. Never prints a value."""
        from launchready.secrets.contract import evaluate, requirements
        from launchready.secrets.envfile import read_env_file, read_env_source
        from launchready.secrets.settings import resolve

        loaded = common.load(config)
        contract = loaded.config.secrets.env
        base = loaded.base_dir
        sources = {name: resolve(p, base) for name, p in contract.sources.items()}
        if source is not None:
            have = read_env_source(source)
        elif environment in sources:
            have = read_env_file(sources[environment])
        else:
            raise UsageError(f"env check: no --from given and no [secrets.env.sources] entry for {environment!r}")
        others: dict[str, EnvFile] = {n: read_env_file(p) for n, p in sources.items() if n != environment}
        for item in compare or ():
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise UsageError(f"--compare {item!r}: expected ENV=FILE, e.g. staging=staging.env")
            others[name] = read_env_file(Path(path))
        needs = requirements(contract, environment, (repo or base).resolve())
        if not needs.names:
            raise UsageError(
                'env check: the contract is empty: set [secrets.env] example = ".env.example", required or flows in launchready.toml'
            )
        issues = evaluate(environment, have, needs, others)
        sys.stdout.write(_render(environment, have.name, issues, len(needs.names), as_json))
        raise typer.Exit(1 if any(i.severity.at_least(fail_on) for i in issues) else 0)

    app.add_typer(env, name="env")
