"""Benchmark: how long the `launchready` command takes to start, against a bare Python start.

Run by hand:  .venv/bin/python bench/startup.py [--rounds 15]

Baseline (named, measured in the same run): `python -c pass` with the same interpreter, i.e. what
any Python command costs before importing anything of ours. Each command is a whole new process,
timed from spawn to exit; the commands are interleaved round by round so a busy machine slows them
all alike, and the median of the rounds is printed with its ratio to the baseline. The CPU time
(user + system, the process and the git commands it waits for) is printed too: on a shared machine
it moves less with the load than the wall time does. The secrets scan runs in a small temporary git
repository with two staged files (the pre-commit hook's case).

Every command runs without PYTHONDONTWRITEBYTECODE, so the warm-up round leaves the .pyc files a
user's installed copy has: with it set (some CI images and sandboxes do), every run would compile
the package's sources again and time that instead of the start.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# As on a user's machine: imports write and then read bytecode caches.
_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if done.returncode not in (0, 1):  # 1 = the scan found something, still a full run
        sys.exit(f"{' '.join(argv)} failed with exit {done.returncode}: {done.stderr.decode(errors='replace')}")
    return elapsed, cpu


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
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():
                wall, cpu = timed(argv, repo)
                walls[name].append(wall)
                cpus[name].append(cpu)
    baseline = statistics.median(walls["python -c pass (baseline)"])
    cpu_baseline = statistics.median(cpus["python -c pass (baseline)"])
    width = max(len(name) for name in commands)
    print(f"medians of {args.rounds} interleaved runs each ({sys.executable})")
    print(f"{'':<{width}}  {'wall':>9}  {'':>14}  {'CPU':>9}  {'':>14}")
    for name in commands:
        wall = statistics.median(walls[name])
        cpu = statistics.median(cpus[name])
        print(
            f"{name:<{width}}  {wall * 1000:6.1f} ms  {wall / baseline:5.1f}x baseline  "
            f"{cpu * 1000:6.1f} ms  {cpu / cpu_baseline:5.1f}x baseline"
        )


if __name__ == "__main__":
    main()
