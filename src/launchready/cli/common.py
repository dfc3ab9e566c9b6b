"""Steps several commands share: loading config, validating the domain, building net settings."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from launchready.cli.errors import UsageError
from launchready.core.net import NetSettings, build_net_settings
from launchready.engine.target import normalise_domain

if TYPE_CHECKING:
    from launchready.config.loader import LoadedConfig
    from launchready.config.model import Config

# The config (pydantic models) is imported when a command loads it, not when the CLI starts.


def load(config_path: Path | None) -> LoadedConfig:
    from launchready.config.loader import load_config

    return load_config(config_path, start=Path.cwd())


def resolve_domain(argument: str | None, loaded: LoadedConfig) -> str:
    if argument:
        return normalise_domain(argument)
    if loaded.config.domain:
        return normalise_domain(loaded.config.domain)
    where = f" in {loaded.path}" if loaded.path else " (no launchready.toml found)"
    raise UsageError(f"no DOMAIN given and no 'domain' set{where}")


def net_settings(
    nameservers: list[str] | None, ca_bundle: Path | None, connect_to: list[str] | None, timeout: float
) -> NetSettings:
    return build_net_settings(nameservers, ca_bundle, connect_to, timeout)


@contextmanager
def open_output(output: Path) -> Iterator[TextIO]:
    """``--output FILE`` opened for a renderer that streams into it; a path that cannot be written
    (a missing folder, a directory, a full disk such as /dev/full) is a one-line usage error."""
    try:
        with output.open("w", encoding="utf-8") as fh:
            yield fh
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None


def find_repo(explicit: Path | None) -> Path | None:
    """--repo PATH, else the current directory when it is inside a git checkout."""
    if explicit is not None:
        if not explicit.is_dir():
            raise UsageError(f"--repo {explicit}: no such directory")
        return explicit.resolve()
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def audit_settings(loaded: LoadedConfig, repo: Path | None, no_git_history: bool) -> tuple[Config, Path | None]:
    """The config the audit runs with (paths resolved) and its repository: --repo, else [secrets] repo, else cwd's checkout."""
    from launchready.secrets.settings import with_resolved_paths, without_git_history

    config = with_resolved_paths(loaded.config, loaded.base_dir)
    if no_git_history:
        config = without_git_history(config)
    if repo is None and config.secrets.repo is not None:
        configured = Path(config.secrets.repo)
        if not configured.is_dir():
            where = loaded.path or "config"
            raise UsageError(f"{where}: secrets.repo: no such directory: {configured}")
        return config, configured.resolve()
    return config, find_repo(repo)
