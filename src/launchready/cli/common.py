"""Steps several commands share: loading config, validating the domain, building net settings."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from launchready.cli.errors import UsageError
from launchready.core.net import NetFlagError, NetSettings, build_net_settings
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
    nameservers: list[str] | None,
    ca_bundle: Path | None,
    connect_to: list[str] | None,
    timeout: float,
    loaded: LoadedConfig | None = None,
    *,
    rdap_server: str | None = None,
    allow_private: bool = False,
) -> NetSettings:
    """The network flags; with ``loaded``, its [net] table fills in each flag not given.

    ``allow_private``: the command's target is the user's own (a DSN they typed), not a name
    whose DNS answer someone else controls, so a private or loopback answer may be dialled.
    """
    if loaded is None or loaded.path is None:
        return build_net_settings(
            nameservers, ca_bundle, connect_to, timeout, rdap_server=rdap_server, allow_private=allow_private
        )
    net = loaded.config.net
    from_file = (
        not nameservers and bool(net.nameservers),
        ca_bundle is None and net.ca_bundle is not None,
        not connect_to and bool(net.connect_to),
        rdap_server is None and net.rdap_server is not None,
    )
    if not any(from_file):
        return build_net_settings(nameservers, ca_bundle, connect_to, timeout, rdap_server=rdap_server)
    try:
        return build_net_settings(
            nameservers or list(net.nameservers),
            ca_bundle if ca_bundle is not None or net.ca_bundle is None else loaded.base_dir / net.ca_bundle,
            connect_to or list(net.connect_to),
            timeout,
            rdap_server=rdap_server if rdap_server is not None else net.rdap_server,
        )
    except NetFlagError as exc:
        raise UsageError(f"{loaded.path}: [net] {exc}") from None


def announce_config(loaded: LoadedConfig, domain: str, *, explicit: bool, quiet: bool) -> LoadedConfig:
    """Say on stderr which config file is used; a found (not --config) file written for another
    domain is not applied: its subdomains and DKIM selectors would produce false findings."""
    import sys

    if loaded.path is None:
        return loaded
    written_for = loaded.config.domain
    if not explicit and written_for is not None and normalise_domain(written_for) != domain:
        from launchready.config.loader import LoadedConfig
        from launchready.config.model import Config

        print(
            f"launchready: config {loaded.path} is for {written_for}, not {domain}: not applied "
            "(use --config to apply it anyway)",
            file=sys.stderr,
        )
        return LoadedConfig(Config(), None, Path.cwd())
    if not quiet:
        print(f"config: {loaded.path}", file=sys.stderr)
    return loaded


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
