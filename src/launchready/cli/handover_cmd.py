"""`launchready handover [DOMAIN]`: one document from the stored audits, the env contract, the deploy
gate and the monitor (docs/handover.md)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import (
    CaBundleOpt,
    ConfigOpt,
    ConnectToOpt,
    NameserverOpt,
    QuietOpt,
    RdapServerOpt,
    TimeoutOpt,
)

if TYPE_CHECKING:
    from launchready.config.loader import LoadedConfig
    from launchready.config.model import Config


class HandoverFormat(str, Enum):
    MD = "md"
    HTML = "html"
    PDF = "pdf"


_BY_SUFFIX = {
    ".md": HandoverFormat.MD,
    ".markdown": HandoverFormat.MD,
    ".html": HandoverFormat.HTML,
    ".htm": HandoverFormat.HTML,
    ".pdf": HandoverFormat.PDF,
}


def output_format(fmt: HandoverFormat | None, output: Path | None) -> HandoverFormat:
    """--format, else the output file's extension, else Markdown; PDF only into a file."""
    if fmt is None and output is not None:
        fmt = _BY_SUFFIX.get(output.suffix.lower())
        if fmt is None:
            raise UsageError(
                f"--output {output}: cannot tell the format from {output.suffix or 'no extension'!r}: "
                "use .md, .html or .pdf, or give --format"
            )
    fmt = fmt or HandoverFormat.MD
    if fmt is HandoverFormat.PDF and output is None:
        raise UsageError("--format pdf writes a file: give -o handover.pdf")
    return fmt


def _settings(loaded: LoadedConfig, repo: Path | None) -> tuple[Config, Path | None]:
    """The config with its paths resolved and the repository of the contract's .env.example: --repo,
    else [secrets] repo, else the current checkout. A configured repository that is gone is not an
    error here (the audit would refuse it): the contract's section says what it could not read."""
    from launchready.secrets.settings import with_resolved_paths

    config = with_resolved_paths(loaded.config, loaded.base_dir)
    if repo is None and config.secrets.repo is not None and Path(config.secrets.repo).is_dir():
        return config, Path(config.secrets.repo).resolve()
    return config, common.find_repo(repo)


def register(app: typer.Typer) -> None:
    @app.command()
    def handover(
        domain: Annotated[
            str | None,
            typer.Argument(help="The apex domain (default: 'domain' in launchready.toml)."),
        ] = None,
        config: ConfigOpt = None,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Write here instead of stdout; .md, .html or .pdf picks the format."),
        ] = None,
        fmt: Annotated[
            HandoverFormat | None, typer.Option("--format", "-f", help="md (default), html or pdf (needs Chromium).")
        ] = None,
        repo: Annotated[
            Path | None,
            typer.Option("--repo", help="Repository whose .env.example the contract reads (default: as the audit)."),
        ] = None,
        quiet: QuietOpt = False,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Write the handover: what is configured, where secrets live (names only), how to deploy and roll
        back, what to watch, risks fixed/deferred/accepted and a ranked backlog."""
        from launchready.handover.document import build_handover
        from launchready.handover.gather import gather

        chosen = output_format(fmt, output)
        loaded = common.load(config)
        target = common.resolve_domain(domain, loaded)
        loaded = common.announce_config(loaded, target, explicit=config is not None, quiet=quiet)
        handover_config, handover_repo = _settings(loaded, repo)
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, loaded, rdap_server=rdap_server)
        facts = gather(
            target,
            handover_config,
            config_path=loaded.path,
            base_dir=loaded.base_dir,
            repo_root=handover_repo,
            net=net,
        )
        document = build_handover(facts)
        if chosen is HandoverFormat.PDF:
            from launchready.report.pdf import write_pdf

            assert output is not None  # output_format refuses PDF to stdout
            write_pdf(document, output)
        else:
            if chosen is HandoverFormat.HTML:
                from launchready.report.html import write_html

                text = write_html(document)
            else:
                from launchready.report.markdown import write_markdown

                text = write_markdown(document)
            if output is None:
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
            else:
                with common.open_output(output) as fh:
                    fh.write(text)
        if output is not None and not quiet:
            print(f"handover written to {output}", file=sys.stderr)
