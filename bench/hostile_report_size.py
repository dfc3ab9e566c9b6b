"""How large the audit's reports of a hostile zone are (1,000 MX records, a 75 KB MTA-STS policy,
home pages of 10,000 links), for this tree and, with --base REF, for a git revision of it
(extracted to a temporary folder), printed with the ratios.

Run by hand:  .venv/bin/python bench/hostile_report_size.py [--base main]

Both trees audit the same zone and site (tests/hostile/hostile_zone.py, started once from this
tree) with the same config, repository and page-load checks skipped; only the reports differ.
Not a speed benchmark: it measures what the report carries (tests/hostile/test_report_size.py
asserts the bound).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile.hostile_zone import DOMAIN, hostile_zone  # noqa: E402

FORMATS = ("json", "md", "html")


def extract(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def sizes(src: Path, net_flags: list[str], work: Path) -> dict[str, int]:
    config = work / "launchready.toml"
    config.write_text(f'domain = "{DOMAIN}"\n[audit]\ndiscover = false\n[web]\ncrawl_rate = 200.0\n')
    env = {**os.environ, "PYTHONPATH": str(src)}
    out: dict[str, int] = {}
    for fmt in FORMATS:
        report = work / f"report.{fmt}"
        command = [
            sys.executable, "-m", "launchready", "audit", "-c", str(config), "-f", fmt, "-o", str(report), "-q",
            "--no-history", "--no-git-history", "--skip", "repo", "--skip", "perf.pageload", *net_flags,
        ]  # fmt: skip
        done = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, check=False)
        if done.returncode not in (0, 1) or not report.exists():
            raise SystemExit(f"{src}: audit -f {fmt} exited {done.returncode}: {done.stderr.strip()[-500:]}")
        out[fmt] = report.stat().st_size
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a git revision to compare with (e.g. main)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, hostile_zone() as zone:
        work = Path(tmp)
        trees = {"this tree": ROOT / "src"}
        if args.base:
            trees[args.base] = extract(args.base, work / "base")
        measured: dict[str, dict[str, int]] = {}
        for name, src in trees.items():
            folder = work / name.replace(" ", "-")
            folder.mkdir()
            measured[name] = sizes(src, zone.flags, folder)
            shown = ", ".join(f"{fmt} {measured[name][fmt]:,} bytes" for fmt in FORMATS)
            print(f"{name:>12}: {shown}")
        if args.base:
            ratios = ", ".join(f"{fmt} {measured['this tree'][fmt] / measured[args.base][fmt]:.3f}" for fmt in FORMATS)
            print(f"ratios this tree / {args.base}: {ratios}")


if __name__ == "__main__":
    main()
