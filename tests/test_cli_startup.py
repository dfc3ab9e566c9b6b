"""The CLI starts without the heavy libraries: each command imports what it needs when it runs.

Structural, not timed (bench/startup.py measures the time): a fresh interpreter runs the CLI and
reports which heavy top-level packages ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from cliutil import run_cli

from launchready.cli.main import build_app

# What the audit, the stores, the renderers and the monitor bring in; none is needed to parse a
# command line, print the version or the help.
HEAVY = (
    "aiohttp",
    "aiosmtpd",
    "alembic",
    "argon2",
    "brotli",
    "cryptography",
    "dns",
    "dotenv",
    "jinja2",
    "prometheus_client",
    "psycopg",
    "pydantic",
    "rich",
    "sqlalchemy",
    "starlette",
    "uvicorn",
    "yaml",
)

_REPORT_HEAVY = """
import json, sys
from launchready.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = json.loads({heavy!r})
print(json.dumps(sorted(name for name in heavy if name in sys.modules)), file=sys.stderr)
"""


def heavy_imported_by(args: list[str], cwd: Path) -> list[str]:
    """Heavy packages imported by ``launchready ARGS`` in a fresh interpreter (the last stderr line)."""
    code = _REPORT_HEAVY.format(heavy=json.dumps(HEAVY))
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False, env=env
    )
    lines = done.stderr.strip().splitlines()
    assert lines, done
    imported: list[str] = json.loads(lines[-1])
    return imported


def test_importing_the_cli_and_building_its_commands_imports_nothing_heavy(tmp_path: Path) -> None:
    code = (
        "import json, sys, typer.main\n"
        "from launchready.cli.main import build_app\n"
        "typer.main.get_command(build_app())\n"
        f"print(json.dumps(sorted(n for n in {HEAVY!r} if n in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []


def test_version_imports_nothing_heavy(tmp_path: Path) -> None:
    assert heavy_imported_by(["--version"], tmp_path) == []


def test_the_pre_commit_scan_needs_only_the_config_model(tmp_path: Path) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=env)
    (tmp_path / "app.py").write_text('print("hello")\n', encoding="utf-8")
    subprocess.run(["git", "-C", str(tmp_path), "add", "app.py"], check=True, env=env)
    # pydantic validates launchready.toml (or builds the zero-config default); nothing else is needed.
    assert heavy_imported_by(["secrets", "scan", "--staged"], tmp_path) == ["pydantic"]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    group = typer.main.get_command(build_app())
    assert isinstance(group, typer.main.TyperGroup)
    names = group.list_commands(typer.Context(group))
    expected = {
        "audit",
        "checks",
        "explain",
        "init",
        "history",
        "demo",
        "load",
        "pageload",
        "secrets",
        "env",
        "smoke",
        "deploy",
        "rollback",
        "lab",
        "dns",
        "edge",
    }
    assert expected <= set(names)
    code, out, err = run_cli(["--help"], capsys)
    assert code == 0, err
    listed = {line.split()[1] for line in out.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    for name in names:
        assert name in listed, f"{name} missing from --help:\n{out}"
