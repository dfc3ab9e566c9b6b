"""Errors are translated at one boundary: library code raises its subsystem's root, the CLI alone
turns it into one line on stderr and an exit code (cli/errors.py)."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from cliutil import run_cli

import launchready
import launchready.cli.main
import launchready.core.errors
from launchready.cli.errors import EXIT_CODES, UsageError, exit_code
from launchready.config.errors import ConfigError
from launchready.core.net import NetFlagError
from launchready.deploy.errors import DeployError
from launchready.engine.errors import AuditError
from launchready.engine.target import TargetError
from launchready.history.errors import HistoryError
from launchready.intake.errors import IntakeError
from launchready.lab.errors import LabError
from launchready.mailtest.errors import MailtestError
from launchready.monitor.errors import MonitorError
from launchready.perf.errors import PerfError
from launchready.report.errors import ReportError
from launchready.secrets.errors import SecretsError
from launchready.smoke.errors import SmokeError

PACKAGE = Path(launchready.__file__).parent

SUBSYSTEM_ROOTS: list[type[Exception]] = [
    ConfigError,
    NetFlagError,
    TargetError,
    AuditError,
    SecretsError,
    SmokeError,
    PerfError,
    DeployError,
    HistoryError,
    LabError,
    MonitorError,
    IntakeError,
    ReportError,
    MailtestError,
]


def _library_modules() -> list[Path]:
    """Every module but the CLI and ``python -m launchready`` (which only calls the CLI)."""
    return sorted(
        p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts and p.name != "__main__.py"
    )


def test_usage_error_lives_only_in_the_cli() -> None:
    assert not hasattr(launchready.core.errors, "UsageError")
    offenders: list[str] = []
    for path in _library_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            named = (
                (isinstance(node, ast.Name) and node.id == "UsageError")
                or (isinstance(node, ast.Attribute) and node.attr == "UsageError")
                or (isinstance(node, ast.alias) and node.name.split(".")[-1] == "UsageError")
                or (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("launchready.cli"))
            )
            if named:
                offenders.append(f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', '?')}")
    assert offenders == [], "library code must raise its subsystem's error, not the CLI's: " + ", ".join(offenders)


def test_every_error_module_root_has_an_exit_code() -> None:
    """A subsystem's ``errors.py`` cannot add a root the CLI forgets: it would crash with a traceback."""
    found: list[type[Exception]] = []
    for path in sorted(PACKAGE.glob("*/errors.py")):
        package = path.parent.name
        if package in ("core", "cli"):
            continue  # core's are the runner's (could not run, not applicable); cli's is the table itself
        module = importlib.import_module(f"launchready.{package}.errors")
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Exception) and cls.__module__ == module.__name__
        ]
    assert len(found) >= 8
    for cls in found:
        assert exit_code(cls.__new__(cls)) == 2, cls  # by class: some take more than a message
    assert set(SUBSYSTEM_ROOTS) | {UsageError} == set(EXIT_CODES)


def _app_raising(exc: Exception) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """The launchready root, reduced to one command that fails as a library would."""

    @app.command()
    def fails() -> None:
        raise exc

    return app


@pytest.mark.parametrize("root", [*SUBSYSTEM_ROOTS, UsageError], ids=lambda cls: cls.__name__)
def test_each_subsystem_error_is_one_line_and_exit_2(
    root: type[Exception], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A value quoted from a file may carry a line break; the user still reads one line.
    error = root("smoke/signup.yaml:7: steps[2].expect: expected a mapping,\n  got 'oops'")
    monkeypatch.setattr(launchready.cli.main, "build_app", lambda: _app_raising(error))
    code, out, err = run_cli(["fails"], capsys)
    assert code == 2
    assert out == ""
    assert err == "launchready: error: smoke/signup.yaml:7: steps[2].expect: expected a mapping, got 'oops'\n"


def test_a_bug_is_not_disguised_as_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(launchready.cli.main, "build_app", lambda: _app_raising(KeyError("bug")))
    with pytest.raises(KeyError):
        run_cli(["fails"], capsys)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory with a minimal launchready.toml and no git repository."""
    (tmp_path / "launchready.toml").write_text(
        'domain = "example.com"\n[environments.production]\nbase_url = "https://example.com"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["smoke", "--env", "production"], "launchready: error: no smoke flows declared"),
        (["load"], "launchready: error: no endpoints to load"),
        (["deploy", "--env", "nope"], "launchready: error: --env nope: no [environments.nope]"),
        (["secrets", "scan", "--staged"], "launchready: error: .: not a git repository"),
        (["lab", "up", "--bind", "127.0.0.300"], "launchready: error: bind '127.0.0.300': the lab binds to an IP"),
        (
            ["dns", "map", "example.com", "--timeout", "0"],
            "launchready: error: --timeout 0.0: must be a positive number",
        ),
        (["history"], "launchready: error: history database"),
    ],
    ids=["smoke", "perf", "deploy", "secrets", "lab", "net-flags", "history"],
)
def test_library_errors_reach_the_user_as_one_line(
    args: list[str], expected: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".launchready").mkdir()
    (project / ".launchready" / "history.sqlite").write_bytes(b"not a database")
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(expected), err


def test_a_real_process_prints_no_traceback(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "launchready", "secrets", "scan", "--staged"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "launchready: error: .: not a git repository (no .git found here or above)\n"
