"""Accepted findings: a JSON file of fingerprints (never values), so known secrets stop blocking and new ones do.

An entry accepts a secret at its place (the file it was accepted in; for staged changes, the very
line), never the value wherever it shows up: committing an accepted key to another file, or
pasting it on another line of a commit, is a new finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from launchready.core.limits import InputTooLarge, read_limited
from launchready.secrets.errors import SecretsError
from launchready.secrets.model import Hit, Source

BASELINE_VERSION = 1


def read_baseline(path: Path) -> frozenset[str]:
    """The accepted fingerprints; a missing file is an empty baseline, a broken one a SecretsError."""
    return frozenset(read_accepted(path))


def read_accepted(path: Path) -> dict[str, frozenset[str]]:
    """Accepted fingerprint -> the places (``path:line``) it was accepted at; empty: accepted anywhere
    (an entry written by hand without a location). A broken file is a SecretsError."""
    if not path.exists():
        return {}
    try:
        data = json.loads(read_limited(path).decode("utf-8"))
    except (OSError, UnicodeDecodeError, InputTooLarge) as exc:
        raise SecretsError(f"{path}: cannot read the secrets baseline: {exc}") from None
    except RecursionError:
        raise SecretsError(f"{path}: the secrets baseline is nested too deeply to be one") from None
    except json.JSONDecodeError as exc:
        raise SecretsError(f"{path}:{exc.lineno}: the secrets baseline is not valid JSON: {exc.msg}") from None
    entries = data.get("accepted") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries
    ):
        raise SecretsError(f'{path}: expected {{"accepted": [{{"fingerprint": ...}}, ...]}}')
    places: dict[str, set[str]] = {}
    for entry in entries:
        where = places.setdefault(entry["fingerprint"], set())
        if isinstance(entry.get("location"), str):
            where.add(entry["location"])
    return {fp: frozenset(where) for fp, where in places.items()}


def write_baseline(path: Path, hits: Iterable[Hit]) -> int:
    """Write every hit as accepted at its place (rule, masked value, location); returns how many."""
    entries: dict[tuple[str, str], dict[str, str]] = {}
    for hit in hits:
        entries.setdefault(
            (hit.fingerprint, hit.location),
            {"fingerprint": hit.fingerprint, "rule": hit.rule_id, "masked": hit.masked, "location": hit.location},
        )
    payload = {
        "version": BASELINE_VERSION,
        "accepted": sorted(entries.values(), key=lambda e: (e["location"], e["rule"])),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SecretsError(f"{path}: cannot write the secrets baseline: {exc.strerror or exc}") from None
    return len(entries)


def _path_of(location: str) -> str:
    return location.rpartition(":")[0] or location


def is_accepted(hit: Hit, accepted: dict[str, frozenset[str]]) -> bool:
    """Accepted at this place: the same line for staged changes (what a commit adds is new unless it is
    the accepted line itself), the same file otherwise (lines move as the file is edited)."""
    places = accepted.get(hit.fingerprint)
    if places is None:
        return False
    if not places:
        return True
    if hit.source is Source.STAGED:
        return hit.location in places
    paths = {_path_of(p) for p in places}
    return hit.path in paths or (hit.first_path is not None and hit.first_path in paths)


def apply_baseline(hits: list[Hit], accepted: dict[str, frozenset[str]] | frozenset[str]) -> list[Hit]:
    if not isinstance(accepted, dict):
        accepted = {fp: frozenset() for fp in accepted}
    return [h.with_(baselined=True) if is_accepted(h, accepted) else h for h in hits]
