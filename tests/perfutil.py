"""Helpers shared by the perf tests: a lab config that opts into load and growth tests."""

from __future__ import annotations

import re
import sys
import tomllib
from typing import Any

from launchready.config.model import Config
from launchready.lab.lab import Lab

API = "https://api.marketlab.test"
FEED_URL = f"{API}/v1/feed"
SEARCH_URL = f"{API}/v1/members/search?q=Mem"


def perf_table(lab: Lab, **changes: Any) -> dict[str, Any]:
    db = lab.workdir / "marketlab.sqlite3"
    table: dict[str, Any] = {
        "in_audit": True,
        "rate": 20.0,
        "duration_s": 2.0,
        "warmup_s": 0.5,
        "endpoints": [{"name": "feed", "path": FEED_URL}, {"name": "search", "path": SEARCH_URL}],
        "growth": {
            "seed": f"{sys.executable} -m launchready lab seed --db {db} --members {{n}}",
            "rate": 20.0,
            "duration_s": 1.0,
        },
    }
    table.update(changes)
    return table


def perf_config(lab: Lab, **changes: Any) -> Config:
    data = tomllib.loads(lab.config_toml())
    data.setdefault("audit", {})["discover"] = False
    data["perf"] = perf_table(lab, **changes)
    return Config.model_validate(data)


def lab_toml_without_perf(lab: Lab) -> str:
    """The lab's launchready.toml minus its own [perf] table, for tests that write their own."""
    return re.sub(r"\n\[perf\]\n(?:(?!\[).*\n)*", "\n", lab.config_toml())
