"""One entry point per source, shared by `launchready secrets scan` and the audit's repo checks."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from launchready.config.sections.secrets import SecretsConfig
from launchready.secrets.baseline import apply_baseline, read_accepted
from launchready.secrets.git import repo_root
from launchready.secrets.history import scan_history, scan_staged
from launchready.secrets.logs import scan_log_stream
from launchready.secrets.model import ScanResult
from launchready.secrets.settings import baseline_path, detector_for
from launchready.secrets.tree import scan_tree


class Mode(str, Enum):
    TREE = "tree"
    STAGED = "staged"
    HISTORY = "history"


def scan_repository(path: Path, mode: Mode, settings: SecretsConfig, *, baseline: Path | None = None) -> ScanResult:
    """Scan ``path`` (a directory, a file, or a repository for staged/history); baselined hits are marked."""
    root = path
    if mode is not Mode.TREE:
        root = repo_root(path)  # raises the one-line "not a git repository"
    detector = detector_for(settings, root)
    if mode is Mode.TREE:
        result = scan_tree(path, detector, max_bytes=settings.max_file_mb * 1024 * 1024)
    elif mode is Mode.STAGED:
        result = scan_staged(path, detector, root=root)
    else:
        result = scan_history(path, detector)
    base_dir = root if root.is_dir() else root.parent
    accepted = read_accepted(baseline if baseline is not None else baseline_path(settings, base_dir))
    result.hits = apply_baseline(result.hits, accepted)
    return result


def scan_logs(source: str, settings: SecretsConfig) -> ScanResult:
    """``-`` is stdin; anything else a log file (streamed, never read whole)."""
    import sys

    from launchready.core.limits import special_file
    from launchready.secrets.errors import SecretsError

    detector = detector_for(settings, None)
    if source == "-":
        return scan_log_stream(sys.stdin.buffer, "<stdin>", detector)
    path = Path(source)
    if path.is_dir():
        raise SecretsError(f"--logs {source}: is a directory, expected a log file or '-' for stdin")
    special = special_file(path)
    if special is not None:  # /dev/zero never ends and has no lines
        raise SecretsError(f"--logs {source}: {special}; pipe a device's output through '-' if it is a log")
    try:
        with path.open("rb") as fh:
            return scan_log_stream(fh, source, detector)
    except FileNotFoundError:
        raise SecretsError(f"--logs {source}: no such file") from None
    except OSError as exc:
        raise SecretsError(f"--logs {source}: cannot read: {exc.strerror or exc}") from None
