"""`launchready secrets scan` and `launchready secrets install-hook`."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import ConfigOpt, ReportOutputOpt
from launchready.core.severity import Severity

if TYPE_CHECKING:
    from launchready.secrets.model import ScanResult


class ScanFormat(str, Enum):
    TERMINAL = "terminal"
    JSON = "json"
    SARIF = "sarif"
    MD = "md"


def _exit_code(result: ScanResult, fail_on: Severity) -> int:
    return 1 if any(h.severity.at_least(fail_on) for h in result.new_hits) else 0


def register(app: typer.Typer) -> None:
    secrets = typer.Typer(
        help="Find secrets in the working tree, staged changes, git history or logs.", no_args_is_help=True
    )

    @secrets.command()
    def scan(
        path: Annotated[Path, typer.Argument(help="Directory, file or repository to scan.")] = Path("."),
        staged: Annotated[
            bool, typer.Option("--staged", help="Scan what `git commit` would add (for pre-commit).")
        ] = False,
        history: Annotated[bool, typer.Option("--history", help="Scan every commit of every ref.")] = False,
        logs: Annotated[
            str | None, typer.Option("--logs", metavar="FILE|-", help="Scan a log file, or stdin with '-'.")
        ] = None,
        fmt: Annotated[ScanFormat, typer.Option("--format", "-f", help="Output format.")] = ScanFormat.TERMINAL,
        output: ReportOutputOpt = None,
        fail_on: Annotated[
            Severity, typer.Option("--fail-on", help="Exit 1 when a new secret is at or above this severity.")
        ] = Severity.MEDIUM,
        baseline: Annotated[
            Path | None, typer.Option("--baseline", help="Accepted findings (default: the \\[secrets] baseline).")
        ] = None,
        update_baseline: Annotated[
            bool, typer.Option("--update-baseline", help="Accept every finding of this scan into the baseline.")
        ] = False,
        config: ConfigOpt = None,
    ) -> None:
        """Scan for secrets; exit 1 when a new one (not in the baseline) is found. Values are always masked."""
        from launchready.secrets.baseline import write_baseline
        from launchready.secrets.render import RENDERERS
        from launchready.secrets.scan import Mode, scan_logs, scan_repository
        from launchready.secrets.settings import baseline_path

        if sum((staged, history, logs is not None)) > 1:
            raise UsageError("secrets scan: choose one of --staged, --history, --logs")
        loaded = common.load(config)
        settings = loaded.config.secrets
        if logs is not None:
            result = scan_logs(logs, settings)
        else:
            mode = Mode.STAGED if staged else Mode.HISTORY if history else Mode.TREE
            result = scan_repository(path, mode, settings, baseline=baseline)
            if update_baseline:
                root = Path(result.root) if Path(result.root).is_dir() else Path(result.root).parent
                target = baseline or baseline_path(settings, root)
                count = write_baseline(target, result.hits)
                print(f"baseline: {count} finding(s) accepted in {target}", file=sys.stderr)
                result.hits = [h.with_(baselined=True) for h in result.hits]
        text = RENDERERS[fmt.value](result)
        if output is None:
            sys.stdout.write(text)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
        raise typer.Exit(_exit_code(result, fail_on))

    @secrets.command("install-hook")
    def install_hook_cmd(
        path: Annotated[Path, typer.Argument(help="The repository.")] = Path("."),
        force: Annotated[bool, typer.Option("--force", help="Replace an existing pre-commit hook.")] = False,
    ) -> None:
        """Install a git pre-commit hook that runs `launchready secrets scan --staged`."""
        from launchready.secrets.hook import install_hook

        hook = install_hook(path, force=force)
        print(f"installed {hook}: commits adding a secret are refused (bypass once with git commit --no-verify)")

    app.add_typer(secrets, name="secrets")
