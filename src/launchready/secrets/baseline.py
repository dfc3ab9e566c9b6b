"""Accepted findings: a JSON file of fingerprints (never values), so known secrets stop blocking and new ones do."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from launchready.core.limits import InputTooLarge, read_limited
from launchready.secrets.errors import SecretsError
from launchready.secrets.model import Hit

BASELINE_VERSION = 1


def read_baseline(path: Path) -> frozenset[str]:
    """The accepted fingerprints; a missing file is an empty baseline, a broken one a SecretsError."""
    if not path.exists():
        return frozenset()
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
    return frozenset(e["fingerprint"] for e in entries)


def write_baseline(path: Path, hits: Iterable[Hit]) -> int:
    """Write every hit as accepted (rule, masked value, first location); returns how many."""
    entries: dict[str, dict[str, str]] = {}
    for hit in hits:
        entries.setdefault(
            hit.fingerprint,
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


def apply_baseline(hits: list[Hit], accepted: frozenset[str]) -> list[Hit]:
    return [h.with_(baselined=True) if h.fingerprint in accepted else h for h in hits]
