"""The `launchready` command line. Commands stay thin: parse, call the engine, render, exit code."""

from __future__ import annotations

import signal
import sys
import threading
import warnings
from typing import Any, NoReturn

import typer
import typer.main

from launchready import __version__
from launchready.cli import (
    audit_cmd,
    catalog_cmd,
    demo_cmd,
    deploy_cmd,
    dns_cmd,
    edge_cmd,
    email_cmd,
    email_test_cmd,
    env_cmd,
    errors_cmd,
    handover_cmd,
    history_cmd,
    init_cmd,
    lab_cmd,
    load_cmd,
    logs_cmd,
    monitor_cmd,
    pageload_cmd,
    secrets_cmd,
    smoke_cmd,
)
from launchready.cli.errors import EXIT_USAGE, KNOWN_ERRORS, exit_code, one_line


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="launchready",
        help="Tells you, ranked by business impact, what will break your launch and how to fix it.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode="markdown",
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    def version_callback(value: bool) -> None:
        if value:
            print(f"launchready {__version__}")
            raise typer.Exit()

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", callback=version_callback, is_eager=True, help="Print the version."
        ),
    ) -> None:
        """launchready: audit, gate and watch a web product's launch."""

    audit_cmd.register(app)
    catalog_cmd.register(app)
    init_cmd.register(app)
    history_cmd.register(app)
    demo_cmd.register(app)
    load_cmd.register(app)
    pageload_cmd.register(app)
    secrets_cmd.register(app)
    env_cmd.register(app)
    smoke_cmd.register(app)
    deploy_cmd.register(app)
    handover_cmd.register(app)
    app.add_typer(lab_cmd.build(), name="lab")
    app.add_typer(dns_cmd.build(), name="dns")
    app.add_typer(edge_cmd.build(), name="edge")
    email_app = email_cmd.build()
    email_test_cmd.register(email_app)
    app.add_typer(email_app, name="email")
    app.add_typer(monitor_cmd.build(), name="monitor")
    app.add_typer(errors_cmd.build(), name="errors")
    app.add_typer(logs_cmd.build(), name="logs")
    return app


def _plain_metavars(command: Any) -> None:
    """Show a value as a name (``--rate RATE``, ``--format terminal|json|html``), never as the
    Python type behind it (``<list[str]>``, ``<float>``); flags take no value and show none.

    Typer builds its click commands with a vendored click, so this goes by attributes."""
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") == "argument":
            # An argument's name is already its value name ("DOMAIN"); its type adds nothing.
            param.display_type_rich = _no_value
            continue
        if getattr(param, "is_flag", False):
            param.display_type_rich = _no_value
            continue
        if getattr(param, "metavar", None) is not None:
            continue
        described = getattr(param, "type_descriptor", None) or getattr(param, "type", None)
        choices = getattr(described, "choices", None)
        if choices:
            param.metavar = "|".join(str(getattr(c, "value", c)) for c in choices)
        else:
            param.metavar = (param.name or "value").upper()
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)
    make_help_option = command.get_help_option

    def help_option(ctx: Any) -> Any:
        option = make_help_option(ctx)
        if option is not None:
            option.display_type_rich = _no_value
        return option

    command.get_help_option = help_option


def _no_value(ctx: Any) -> None:
    return None


def build_command() -> Any:
    """The click command tree behind the Typer app, with plain option value names."""
    command = typer.main.get_command(build_app())
    _plain_metavars(command)
    return command


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    print(f"launchready: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def _usage_problem(exc: typer.TyperException) -> NoReturn:
    """Typer's own usage errors (bad option value, unknown option) as our one line, not a box."""
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "launchready"
    if type(exc).__name__ == "NoArgsIsHelpError":
        # The "error" is the help text itself: `launchready` or `launchready lab` alone.
        print(exc.format_message())
        raise SystemExit(getattr(exc, "exit_code", EXIT_USAGE))
    message = " ".join(exc.format_message().split())
    fail(f"{command}: {message} (see '{command} --help')", getattr(exc, "exit_code", EXIT_USAGE))


def _tolerant_streams() -> None:
    """Characters the terminal's encoding lacks (PYTHONIOENCODING=ascii, a C locale) print as escapes, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (getattr(stream, "encoding", None) or "").lower().replace("-", "") != "utf8":
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream already closed or detached: nothing to print to anyway
                pass


class _InterruptOnce:
    """The first Ctrl-C interrupts the run; later ones, while asyncio, worker threads and exit hooks
    wind down, are ignored, so they cannot print a traceback over the one-line message.

    asyncio.run installs its own SIGINT handler only over the default one, and that handler raises
    on the second Ctrl-C in the middle of its own shutdown; this one stands in its place.
    """

    def __init__(self) -> None:
        self.fired = False
        self._previous: Any = None

    def __enter__(self) -> _InterruptOnce:
        if threading.current_thread() is threading.main_thread() and (
            signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        import logging

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.fired = True
        # Tasks the interrupt cut short hold exceptions nobody will read: not worth a log line each;
        # nor are the coroutines it cut before they started ("was never awaited"), which Python
        # would otherwise report at exit, after the one line that says the run was interrupted.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        # Once interrupted, Ctrl-C stays ignored until the process is gone.
        if self._previous is not None and not self.fired:
            signal.signal(signal.SIGINT, self._previous)


def main(argv: list[str] | None = None) -> None:
    _tolerant_streams()
    command = build_command()
    interrupt = _InterruptOnce()
    try:
        with interrupt:
            # Not standalone: Typer would draw its errors as multi-line boxes; we print one line.
            code = command.main(args=argv, prog_name="launchready", standalone_mode=False)
    except KNOWN_ERRORS as exc:
        fail(one_line(exc), exit_code(exc) or EXIT_USAGE)
    except typer.TyperException as exc:
        _usage_problem(exc)
    except typer.Abort:
        fail("aborted", 1)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    if interrupt.fired:  # Typer turns the interrupt into exit code 130 without a word
        fail("interrupted", 130)
    raise SystemExit(code if isinstance(code, int) else 0)
