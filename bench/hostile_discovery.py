"""How long an audit of a hostile zone (1,000 MX records, a 75 KB MTA-STS policy, home pages of
10,000 links) takes and how many DNS queries it sends, for this tree and, with --base REF, for a
git revision of it (extracted to a temporary folder), printed with the ratios.

Run by hand:  .venv/bin/python bench/hostile_discovery.py --base main [--rounds 2]

Both trees audit the same zone and site (tests/hostile/hostile_zone.py, started once from this
tree) with the same config, repository and page-load checks skipped, in alternating rounds so a
change in machine load hits both. Queries are counted at the zone's DNS server (UDP and TCP, a
TCP retry after a truncated answer counts twice); the wall time is the audit subprocess's,
startup included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile.hostile_zone import DOMAIN, RunningZone, hostile_zone  # noqa: E402


def extract(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def audit_once(src: Path, zone: RunningZone, work: Path) -> tuple[float, int]:
    """(wall seconds, DNS queries) of one audit of the hostile zone with the tree at ``src``."""
    config = work / "launchready.toml"
    config.write_text(f'domain = "{DOMAIN}"\n[audit]\ndiscover = false\n[web]\ncrawl_rate = 200.0\n')
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [
        sys.executable, "-m", "launchready", "audit", "-c", str(config), "-f", "json", "-o", str(work / "report.json"),
        "-q", "--no-history", "--no-git-history", "--skip", "repo", "--skip", "perf.pageload", *zone.flags,
    ]  # fmt: skip
    asked_before = zone.dns_queries
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{src}: audit exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return wall, zone.dns_queries - asked_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a git revision to compare with (e.g. main)")
    parser.add_argument("--rounds", type=int, default=1, help="audits per tree (alternating; medians shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, hostile_zone() as zone:
        work = Path(tmp)
        trees = {"this tree": ROOT / "src"}
        if args.base:
            trees[args.base] = extract(args.base, work / "base")
        walls: dict[str, list[float]] = {name: [] for name in trees}
        queries: dict[str, list[int]] = {name: [] for name in trees}
        for round_number in range(args.rounds):
            for name, src in trees.items():
                folder = work / f"{name.replace(' ', '-')}-{round_number}"
                folder.mkdir()
                wall, asked = audit_once(src, zone, folder)
                walls[name].append(wall)
                queries[name].append(asked)
        for name in trees:
            wall, asked = statistics.median(walls[name]), statistics.median(queries[name])
            print(f"{name:>12}: wall {wall:.2f} s, {asked:,.0f} DNS queries (median of {args.rounds})")
        if args.base:
            mine, base = "this tree", args.base
            wall_ratio = statistics.median(walls[mine]) / statistics.median(walls[base])
            query_ratio = statistics.median(queries[mine]) / statistics.median(queries[base])
            print(f"ratios this tree / {base}: wall {wall_ratio:.3f}, DNS queries {query_ratio:.3f}")


if __name__ == "__main__":
    main()
