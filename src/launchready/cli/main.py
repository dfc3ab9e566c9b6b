"""The `launchready` command line. Commands stay thin: parse, call the engine, render, exit code."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from launchready import __version__
from launchready.cli import audit_cmd, catalog_cmd, demo_cmd, history_cmd, init_cmd, lab_cmd
from launchready.core.errors import UsageError

EXIT_USAGE = 2


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="launchready",
        help="Tells you, ranked by business impact, what will break your launch and how to fix it.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    def version_callback(value: bool) -> None:
        if value:
            print(f"launchready {__version__}")
            raise typer.Exit()

    @app.callback()
    def root(
        version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True, help="Print the version."),
    ) -> None:
        """launchready: audit, gate and watch a web product's launch."""

    audit_cmd.register(app)
    catalog_cmd.register(app)
    init_cmd.register(app)
    history_cmd.register(app)
    demo_cmd.register(app)
    app.add_typer(lab_cmd.build(), name="lab")
    return app


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    print(f"launchready: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    app = build_app()
    try:
        app(args=argv, prog_name="launchready")
    except UsageError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)
