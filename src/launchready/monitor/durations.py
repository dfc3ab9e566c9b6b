"""Durations as the monitor's config and conditions write them: ``90``, ``"90s"``, ``"5m"``, ``"336h"``, ``"1h30m"``.

A bare number is seconds. Units: ms, s, m, h, d (as Go's time.ParseDuration, which Gatus users
know, plus days). Pure: the config validates with it, the conditions compare with it.
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds in ``text``; ValueError with "expected a duration like '5m' or '336h', got ..." otherwise."""
    compact = text.strip().lower().replace(" ", "")
    expected = f"expected a duration like '90s', '5m' or '336h', got {text!r}"
    if not compact:
        raise ValueError(expected)
    try:
        return _non_negative(float(compact), expected)
    except ValueError:
        pass
    total = 0.0
    position = 0
    for match in _PART.finditer(compact):
        if match.start() != position:
            raise ValueError(expected)
        total += float(match.group(1)) * _SECONDS[match.group(2)]
        position = match.end()
    if position != len(compact):
        raise ValueError(expected)
    return total


def _non_negative(value: float, expected: str) -> float:
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(expected)
    return value


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of whole seconds ("2h", "90s", "1d"); fractional seconds as "1.5s"."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"
