"""From config to a ready scanner: allowlists merged, paths resolved against the right directory."""

from __future__ import annotations

from pathlib import Path

from launchready.config.model import Config
from launchready.config.sections.secrets import SecretsConfig
from launchready.secrets.allowlist import build_allowlist, repo_allowlist
from launchready.secrets.detector import Detector


def detector_for(secrets: SecretsConfig, root: Path | None) -> Detector:
    """The detector with the config's allowlist plus the repository's ``.launchready-allowlist``."""
    allowlist = build_allowlist(secrets.allow_paths, secrets.allow_regexes, secrets.allow_values, "[secrets]")
    if root is not None:
        allowlist = repo_allowlist(root if root.is_dir() else root.parent, allowlist)
    return Detector(allowlist)


def resolve(path: str, base: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate)


def baseline_path(secrets: SecretsConfig, root: Path) -> Path:
    return resolve(secrets.baseline, root)


def with_resolved_paths(config: Config, config_dir: Path) -> Config:
    """``repo`` and ``env.sources`` made absolute against the config file's directory."""
    secrets = config.secrets
    env = secrets.env.model_copy(
        update={"sources": {name: str(resolve(p, config_dir)) for name, p in secrets.env.sources.items()}}
    )
    update: dict[str, object] = {"env": env}
    if secrets.repo is not None:
        update["repo"] = str(resolve(secrets.repo, config_dir))
    return config.model_copy(update={"secrets": secrets.model_copy(update=update)})


def without_git_history(config: Config) -> Config:
    return config.model_copy(update={"secrets": config.secrets.model_copy(update={"history": False})})
