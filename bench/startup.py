"""Benchmark: how long the `launchready` command takes to start, against a bare Python start.

Run by hand:  .venv/bin/python bench/startup.py [--rounds 15]

Baseline (named, measured in the same run): `python -c pass` with the same interpreter, i.e. what
any Python command costs before importing anything of ours. Each command is a whole new process,
timed from spawn to exit; the commands are interleaved round by round so a busy machine slows them
all alike, and the median of the rounds is printed with its ratio to the baseline. The secrets scan
runs in a small temporary git repository with one staged file (the pre-commit hook's case).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def launchready_command() -> str:
    """The console script installed next to this interpreter (the one a user's shell runs)."""
    script = Path(sys.executable).with_name("launchready")
    if not script.is_file():
        sys.exit(f"no launchready script next to {sys.executable}: install the project (pip install -e .)")
    return str(script)


def small_repository(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    (repo / "app.py").write_text('print("hello")\n', encoding="utf-8")
    (repo / "README.md").write_text("# demo\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True, env=env)
    return repo


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1 = the scan found something, still a full run
        sys.exit(f"{' '.join(argv)} failed with exit {done.returncode}: {done.stderr.decode(errors='replace')}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="Runs of each command (default 15).")
    args = parser.parse_args()
    script = launchready_command()
    with tempfile.TemporaryDirectory(prefix="launchready-startup-") as tmp:
        repo = small_repository(Path(tmp))
        commands = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "launchready --version": [script, "--version"],
            "launchready --help": [script, "--help"],
            "launchready secrets scan --staged": [script, "secrets", "scan", "--staged"],
        }
        for argv in commands.values():  # warm-up: the file system cache, .pyc files
            timed(argv, repo)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():
                samples[name].append(timed(argv, repo))
    baseline = statistics.median(samples["python -c pass (baseline)"])
    width = max(len(name) for name in commands)
    print(f"median wall time of {args.rounds} interleaved runs each ({sys.executable})")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<{width}}  {median * 1000:7.1f} ms  {median / baseline:5.1f}x baseline")


if __name__ == "__main__":
    main()
